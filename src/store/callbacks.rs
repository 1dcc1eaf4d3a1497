//! Callback payloads the hub could not use, kept in a capped node-wide stream
//! (`<prefix>:{sys}:callbacks:rejected`) for an operator to fix and resubmit.

use redis::streams::StreamRangeReply;
use tradehub_actors::mailbox::{EntryId, MailboxResult};

use super::RedisMailbox;

/// How many rejected payloads the stream keeps (approximately).
const REJECTED_KEEP: usize = 10_000;

/// One callback payload that could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedCallback {
    /// The partner (template) that called back.
    pub partner: String,
    /// Why it could not be used.
    pub reason: String,
    /// When it arrived, RFC 3339.
    pub received_at: String,
    /// The raw body, as received.
    pub body: Vec<u8>,
}

/// Keeps a payload that could not be used; the oldest go once the stream holds about
/// 10,000.
pub async fn keep_rejected(
    store: &RedisMailbox,
    rejected: &RejectedCallback,
) -> MailboxResult<EntryId> {
    let id: String = store
        .query(
            "XADD",
            redis::cmd("XADD")
                .arg(store.keys().rejected_callbacks())
                .arg("MAXLEN")
                .arg("~")
                .arg(REJECTED_KEEP)
                .arg("*")
                .arg("partner")
                .arg(rejected.partner.as_bytes())
                .arg("reason")
                .arg(rejected.reason.as_bytes())
                .arg("received_at")
                .arg(rejected.received_at.as_bytes())
                .arg("body")
                .arg(rejected.body.as_slice()),
        )
        .await?;
    Ok(EntryId(id))
}

/// The payloads kept, oldest first.
pub async fn rejected(store: &RedisMailbox) -> MailboxResult<Vec<RejectedCallback>> {
    let reply: StreamRangeReply = store
        .query(
            "XRANGE",
            redis::cmd("XRANGE")
                .arg(store.keys().rejected_callbacks())
                .arg("-")
                .arg("+"),
        )
        .await?;
    Ok(reply
        .ids
        .iter()
        .map(|entry| {
            let text = |field: &str| entry.get::<String>(field).unwrap_or_default();
            RejectedCallback {
                partner: text("partner"),
                reason: text("reason"),
                received_at: text("received_at"),
                body: entry.get::<Vec<u8>>("body").unwrap_or_default(),
            }
        })
        .collect())
}
