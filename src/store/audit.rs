//! The hash-chained audit stream of a partition, and its verification.
//!
//! The commit script appends each audit entry with `seq`, `prev` (the hash of the
//! entry before it, empty for the first), `at`, `key`, `data` and `hash`, and keeps
//! the chain head (`seq`, `hash` of the last entry) in `…:audit:head`. `hash` is
//! the SHA-1 (the hash Redis scripts can compute) of the length-prefixed fields, so
//! removing, reordering, inserting or editing an entry, or cutting the tail off,
//! breaks the chain.

use tradehub_actors::clock::Millis;
use tradehub_actors::mailbox::{EntryId, MailboxError, Partition};

use super::RedisMailbox;
use super::reply::RawEntry;

/// One entry of the audit chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// Its id in the audit stream.
    pub id: EntryId,
    /// Position in the chain, from 1.
    pub seq: u64,
    /// The saga key whose commit wrote it.
    pub key: String,
    /// Server time of the commit, in milliseconds since the Unix epoch.
    pub at_ms: Millis,
    /// The audit record itself (JSON from the saga).
    pub data: String,
    /// Hash of the previous entry.
    pub prev: String,
    /// Hash of this entry.
    pub hash: String,
}

/// Where and why an audit chain does not verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditBreak {
    /// The entry id where the chain breaks, or `head` when the head disagrees.
    pub at: String,
    /// The chain position expected there.
    pub seq: u64,
    /// What is wrong.
    pub reason: String,
}

impl std::fmt::Display for AuditBreak {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "audit chain broken at {} (position {}): {}",
            self.at, self.seq, self.reason
        )
    }
}

/// Why an audit chain could not be verified.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// The chain was read and does not verify.
    #[error("{0}")]
    Broken(AuditBreak),
    /// The chain could not be read.
    #[error(transparent)]
    Store(#[from] MailboxError),
}

fn field(out: &mut String, value: &str) {
    out.push_str(&value.len().to_string());
    out.push(':');
    out.push_str(value);
}

/// The hash of an entry as the commit script computes it.
pub(crate) fn entry_hash(seq: u64, prev: &str, at_ms: Millis, key: &str, data: &str) -> String {
    let mut text = String::with_capacity(prev.len() + key.len() + data.len() + 64);
    field(&mut text, &seq.to_string());
    field(&mut text, prev);
    field(&mut text, &at_ms.to_string());
    field(&mut text, key);
    field(&mut text, data);
    sha1_smol::Sha1::from(text.as_bytes()).digest().to_string()
}

fn parse_entry(entry: &RawEntry) -> Result<AuditEntry, String> {
    let get = |name: &str| {
        entry
            .field(name)
            .map(str::to_owned)
            .ok_or_else(|| format!("missing field `{name}`"))
    };
    let number = |name: &str| -> Result<u64, String> {
        get(name)?
            .parse()
            .map_err(|_| format!("field `{name}` is not a number"))
    };
    Ok(AuditEntry {
        id: entry.entry_id(),
        seq: number("seq")?,
        key: get("key")?,
        at_ms: number("at")?,
        data: get("data")?,
        prev: get("prev")?,
        hash: get("hash")?,
    })
}

impl RedisMailbox {
    /// The audit entries of a partition, oldest first.
    pub async fn audit_entries(&self, partition: Partition) -> Result<Vec<AuditEntry>, AuditError> {
        let raw = self.xrange_all(&self.inner.keys.audit(partition)).await?;
        raw.iter()
            .enumerate()
            .map(|(i, e)| {
                parse_entry(e).map_err(|reason| {
                    AuditError::Broken(AuditBreak {
                        at: e.id.clone(),
                        seq: i as u64 + 1,
                        reason,
                    })
                })
            })
            .collect()
    }

    /// Verify the audit chain of a partition; returns how many entries it holds.
    pub async fn verify_audit(&self, partition: Partition) -> Result<u64, AuditError> {
        let entries = self.audit_entries(partition).await?;
        let (head_seq, head_hash): (Option<u64>, Option<String>) = self
            .query(
                "HMGET",
                redis::cmd("HMGET")
                    .arg(self.inner.keys.audit_head(partition))
                    .arg("seq")
                    .arg("hash"),
            )
            .await?;
        let broken = |at: &str, seq: u64, reason: String| {
            AuditError::Broken(AuditBreak {
                at: at.to_owned(),
                seq,
                reason,
            })
        };
        let mut prev = String::new();
        let mut seq = 0;
        for entry in &entries {
            seq += 1;
            if entry.seq != seq {
                return Err(broken(
                    &entry.id.0,
                    seq,
                    format!(
                        "entry says position {}, an entry is missing or out of order",
                        entry.seq
                    ),
                ));
            }
            if entry.prev != prev {
                return Err(broken(
                    &entry.id.0,
                    seq,
                    "link to the previous entry does not match its hash".to_owned(),
                ));
            }
            let hash = entry_hash(entry.seq, &entry.prev, entry.at_ms, &entry.key, &entry.data);
            if hash != entry.hash {
                return Err(broken(
                    &entry.id.0,
                    seq,
                    "content does not match its hash (the entry was altered)".to_owned(),
                ));
            }
            prev = hash;
        }
        let head = (head_seq.unwrap_or(0), head_hash.unwrap_or_default());
        if head != (seq, prev) {
            return Err(broken(
                "head",
                head.0,
                format!(
                    "the chain head records {} entries ending in {:?}, the stream holds {seq}",
                    head.0, head.1
                ),
            ));
        }
        Ok(seq)
    }
}
