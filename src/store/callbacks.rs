//! What the callback route keeps: the payloads the hub could not use, in a capped node-wide
//! stream (`<prefix>:{sys}:callbacks:rejected`) for an operator to fix and resubmit, and the
//! signatures it accepted (`<prefix>:{sys}:callbacks:seen:<partner>:<signature>`), each for a
//! little longer than it could be replayed.

use std::time::Duration;

use redis::streams::StreamRangeReply;
use tradehub_actors::mailbox::{EntryId, MailboxResult};

use super::{Place, RedisMailbox};

/// How many rejected payloads the stream keeps (approximately).
const REJECTED_KEEP: usize = 10_000;

/// How much of a rejected payload is kept: enough to see what went wrong, while 10,000 of the
/// largest bodies the API takes cannot fill Redis.
pub const REJECTED_BODY_KEEP: usize = 64 * 1024;

/// One callback payload that could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedCallback {
    /// The partner (template) that called back.
    pub partner: String,
    /// Why it could not be used.
    pub reason: String,
    /// When it arrived, RFC 3339.
    pub received_at: String,
    /// The raw body as received, cut at [`REJECTED_BODY_KEEP`] bytes.
    pub body: Vec<u8>,
    /// The body's size as received.
    pub size: u64,
}

impl RejectedCallback {
    /// A payload `partner` sent, refused for `reason` when it arrived at `received_at`, with
    /// the first [`REJECTED_BODY_KEEP`] bytes of its `body`.
    pub fn new(partner: &str, reason: String, received_at: String, body: &[u8]) -> Self {
        Self {
            partner: partner.to_owned(),
            reason,
            received_at,
            body: body[..body.len().min(REJECTED_BODY_KEEP)].to_vec(),
            size: body.len() as u64,
        }
    }
}

/// Keeps a payload that could not be used; the oldest go once the stream holds about
/// 10,000, and retention drops those past `[retention] payloads`.
pub async fn keep_rejected(
    store: &RedisMailbox,
    rejected: &RejectedCallback,
) -> MailboxResult<EntryId> {
    let stream = store.keys().rejected_callbacks();
    let sealer = store.sealer();
    let reason = sealer.seal_text(&Place::field(&stream, "reason"), &rejected.reason);
    let body = sealer.seal_bytes(&Place::field(&stream, "body"), &rejected.body);
    let id: String = store
        .query(
            "XADD",
            redis::cmd("XADD")
                .arg(&stream)
                .arg("MAXLEN")
                .arg("~")
                .arg(REJECTED_KEEP)
                .arg("*")
                .arg("partner")
                .arg(rejected.partner.as_bytes())
                .arg("reason")
                .arg(reason.as_bytes())
                .arg("received_at")
                .arg(rejected.received_at.as_bytes())
                .arg("body")
                .arg(body.as_slice())
                .arg("size")
                .arg(rejected.size),
        )
        .await?;
    Ok(EntryId(id))
}

/// The payloads kept, oldest first; one that does not open is an error.
pub async fn rejected(store: &RedisMailbox) -> MailboxResult<Vec<RejectedCallback>> {
    let stream = store.keys().rejected_callbacks();
    let reply: StreamRangeReply = store
        .query(
            "XRANGE",
            redis::cmd("XRANGE").arg(&stream).arg("-").arg("+"),
        )
        .await?;
    let sealer = store.sealer();
    let (reason, body) = (
        Place::field(&stream, "reason"),
        Place::field(&stream, "body"),
    );
    reply
        .ids
        .iter()
        .map(|entry| -> MailboxResult<RejectedCallback> {
            let text = |field: &str| entry.get::<String>(field).unwrap_or_default();
            Ok(RejectedCallback {
                partner: text("partner"),
                reason: sealer.open_text(&reason, &text("reason"))?,
                received_at: text("received_at"),
                body: sealer
                    .open_bytes(&body, &entry.get::<Vec<u8>>("body").unwrap_or_default())?,
                size: entry.get("size").unwrap_or_default(),
            })
        })
        .collect()
}

/// Records that `partner` sent `signature`, for `ttl`, unless it is already recorded: `true` the
/// first time, `false` for a replay. One `SET NX PX`, so two concurrent deliveries of the same
/// signature cannot both be first.
pub async fn first_sighting(
    store: &RedisMailbox,
    partner: &str,
    signature: &str,
    ttl: Duration,
) -> MailboxResult<bool> {
    let set: Option<String> = store
        .query(
            "SET",
            redis::cmd("SET")
                .arg(store.keys().callback_signature(partner, signature))
                .arg(1)
                .arg("NX")
                .arg("PX")
                .arg(u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1)),
        )
        .await?;
    Ok(set.is_some())
}

/// Forgets a signature recorded by [`first_sighting`], so that the partner's retry of a callback
/// the hub could not take (Redis unavailable) is not refused as a replay.
pub async fn forget_sighting(
    store: &RedisMailbox,
    partner: &str,
    signature: &str,
) -> MailboxResult<()> {
    store
        .query(
            "DEL",
            redis::cmd("DEL").arg(store.keys().callback_signature(partner, signature)),
        )
        .await
}
