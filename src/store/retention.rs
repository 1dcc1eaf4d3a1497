//! What retention reads and removes in Redis: audit entries older than a cut-off (the chain then
//! starts from a signed base), finished sagas (their state replaced by a compact one and their
//! timeline dropped) and the callback payloads kept for operators.
//!
//! Every removal is a script that checks first that what it removes is what was read and
//! exported: the audit base has not moved and the last entry is the one exported; the saga's
//! version is the one read and it is still finished; so two runs at once, or a saga that moved
//! meanwhile, never lose anything that was not exported. Values are exported as stored: sealed
//! ones stay sealed under their key id, and audit entries keep the bytes their MACs cover.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use redis::Script;
use redis::streams::{StreamId, StreamRangeReply};
use serde::Serialize;
use tradehub_actors::clock::Millis;
use tradehub_actors::mailbox::{MailboxError, MailboxResult, Partition};

use super::audit::{AuditEntry, Head, Signature};
use super::reply::int;
use super::{Place, RedisMailbox};

/// A finished saga as stored, before it is archived.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FinishedSaga {
    /// Its partition.
    pub partition: Partition,
    /// The saga key.
    pub key: String,
    /// Its version when read.
    pub ver: u64,
    /// When its last commit was, in milliseconds since the Unix epoch.
    pub updated_ms: Millis,
    /// Its state, opened.
    #[serde(skip)]
    pub state: String,
    /// Its state as stored (sealed when encryption is on).
    pub stored_state: String,
    /// Its timeline entries as stored, oldest first.
    pub history: Vec<String>,
}

/// One stream entry as stored: its id and fields, each value text, or `{"base64": …}` when it
/// is not UTF-8 (a payload kept in clear may be binary).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredEntry {
    /// The stream id.
    pub id: String,
    /// Its fields, in order.
    pub fields: Vec<(String, serde_json::Value)>,
}

impl StoredEntry {
    fn from_reply(entry: &StreamId) -> Self {
        let fields = entry
            .map
            .iter()
            .map(|(name, value)| {
                let bytes = redis::from_redis_value::<Vec<u8>>(value).unwrap_or_default();
                let value = match String::from_utf8(bytes) {
                    Ok(text) => serde_json::Value::String(text),
                    Err(e) => serde_json::json!({"base64": BASE64.encode(e.into_bytes())}),
                };
                (name.clone(), value)
            })
            .collect();
        Self {
            id: entry.id.clone(),
            fields,
        }
    }
}

impl RedisMailbox {
    /// The keys of the sagas whose state says they are finished, in SCAN order, in batches of
    /// `batch` keys; `visit` sees each batch's `(partition, key)` pairs.
    pub async fn saga_keys(
        &self,
        batch: usize,
        visit: &mut (dyn FnMut(Vec<(Partition, String)>) + Send),
    ) -> MailboxResult<()> {
        let prefix = self.keys().prefix();
        let pattern = format!("{}:{{s*}}:st:*", super::rotate::escape_glob(prefix));
        let mut cursor = 0u64;
        loop {
            let (next, keys): (u64, Vec<String>) = self
                .query(
                    "SCAN",
                    redis::cmd("SCAN")
                        .arg(cursor)
                        .arg("MATCH")
                        .arg(&pattern)
                        .arg("COUNT")
                        .arg(batch.max(1)),
                )
                .await?;
            visit(
                keys.iter()
                    .filter_map(|k| {
                        let rest = k.strip_prefix(prefix)?.strip_prefix(":{s")?;
                        let (partition, key) = rest.split_once("}:st:")?;
                        Some((partition.parse().ok()?, key.to_owned()))
                    })
                    .collect(),
            );
            cursor = next;
            if cursor == 0 {
                return Ok(());
            }
        }
    }

    /// The saga `key` of `partition` if it is finished and its last commit was before
    /// `before_ms`, with its state and timeline.
    pub async fn finished_saga(
        &self,
        partition: Partition,
        key: &str,
        before_ms: Millis,
    ) -> MailboxResult<Option<FinishedSaga>> {
        let hash = self.keys().state(partition, key);
        let (ver, state, updated, terminal): (
            Option<u64>,
            Option<String>,
            Option<u64>,
            Option<String>,
        ) = self
            .query(
                "HMGET",
                redis::cmd("HMGET")
                    .arg(&hash)
                    .arg("ver")
                    .arg("state")
                    .arg("updated")
                    .arg("terminal"),
            )
            .await?;
        let (Some(ver), Some(stored_state), Some(updated_ms)) = (ver, state, updated) else {
            return Ok(None);
        };
        if terminal.as_deref() != Some("1") || updated_ms >= before_ms {
            return Ok(None);
        }
        let state = self
            .sealer()
            .open_text(&Place::field(&hash, "state"), &stored_state)?;
        let history = self
            .xrange_all(&self.keys().history(partition, key))
            .await?
            .into_iter()
            .filter_map(|e| e.field("h").map(str::to_owned))
            .collect();
        Ok(Some(FinishedSaga {
            partition,
            key: key.to_owned(),
            ver,
            updated_ms,
            state,
            stored_state,
            history,
        }))
    }

    /// Replace `saga`'s state with `compact` and drop its timeline, if it has not moved since it
    /// was read: `true` when archived.
    pub async fn archive_saga(&self, saga: &FinishedSaga, compact: &str) -> MailboxResult<bool> {
        let script = Script::new(include_str!("scripts/archive_saga.lua"));
        let hash = self.keys().state(saga.partition, &saga.key);
        let sealed = self
            .sealer()
            .seal_text(&Place::field(&hash, "state"), compact);
        let mut cmd = Self::evalsha(
            &script,
            &[hash, self.keys().history(saga.partition, &saga.key)],
        );
        cmd.arg(saga.ver).arg(sealed);
        let done = self.eval("archive saga", &script, &cmd).await?;
        Ok(int(&done) == Some(1))
    }

    /// The audit entries of `partition` signed before `before_ms`, oldest first, at most
    /// `limit`, with the chain's base `seq` as read before them.
    pub async fn audit_before(
        &self,
        partition: Partition,
        before_ms: Millis,
        limit: usize,
    ) -> MailboxResult<(u64, Vec<AuditEntry>)> {
        let base: Option<u64> = self
            .query(
                "HGET",
                redis::cmd("HGET")
                    .arg(self.keys().audit_base(partition))
                    .arg("seq"),
            )
            .await?;
        let old = self
            .audit_entries_before(partition, before_ms, limit)
            .await
            .map_err(|e| MailboxError::Protocol(e.to_string()))?;
        Ok((base.unwrap_or(0), old))
    }

    /// Trim `partition`'s audit chain up to and including `last`, leaving a base signed with
    /// `signature`, if the base is still `base_seq`: the number of entries trimmed, `None`
    /// when another run moved the base first.
    pub async fn trim_audit(
        &self,
        partition: Partition,
        base_seq: u64,
        last: &AuditEntry,
        signature: &Signature,
    ) -> MailboxResult<Option<u64>> {
        let script = Script::new(include_str!("scripts/trim_audit.lua"));
        let keys = self.keys();
        let mut cmd = Self::evalsha(
            &script,
            &[keys.audit(partition), keys.audit_base(partition)],
        );
        cmd.arg(base_seq)
            .arg(&last.id.0)
            .arg(last.seq)
            .arg(&last.hash)
            .arg(&signature.kid)
            .arg(&signature.mac);
        let done = self.eval("trim audit", &script, &cmd).await?;
        Ok(int(&done).and_then(|n| u64::try_from(n).ok()))
    }

    /// The MAC of the base that trimming `partition`'s chain up to `last` leaves.
    pub fn audit_base_signature(&self, partition: Partition, last: &AuditEntry) -> Signature {
        self.sign_audit_base(
            partition,
            &Head {
                seq: last.seq,
                hash: last.hash.clone(),
            },
        )
    }

    /// The callback payloads kept for operators that arrived before `before_ms`, oldest first,
    /// at most `limit`, as stored.
    pub async fn rejected_callbacks_before(
        &self,
        before_ms: Millis,
        limit: usize,
    ) -> MailboxResult<Vec<StoredEntry>> {
        let reply: StreamRangeReply = self
            .query(
                "XRANGE",
                redis::cmd("XRANGE")
                    .arg(self.keys().rejected_callbacks())
                    .arg("-")
                    .arg(before_ms.saturating_sub(1))
                    .arg("COUNT")
                    .arg(limit.max(1)),
            )
            .await?;
        Ok(reply.ids.iter().map(StoredEntry::from_reply).collect())
    }

    /// Drop the callback payloads kept up to and including `last_id`: how many went, `None`
    /// when another run dropped them first.
    pub async fn trim_rejected_callbacks(&self, last_id: &str) -> MailboxResult<Option<u64>> {
        let script = Script::new(include_str!("scripts/trim_before.lua"));
        let mut cmd = Self::evalsha(&script, &[self.keys().rejected_callbacks()]);
        cmd.arg(last_id);
        let done = self.eval("trim callbacks", &script, &cmd).await?;
        Ok(int(&done).and_then(|n| u64::try_from(n).ok()))
    }
}
