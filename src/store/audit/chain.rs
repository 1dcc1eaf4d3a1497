//! Appending to a partition's audit chain on commit. Redis scripts cannot compute an HMAC, so
//! the MACs are made here: under a per-partition lock that caches the chain head, the commit's
//! audit entries are signed as the successors of that head and handed to the commit script with
//! it; the script appends them only if the head in Redis is still the one they were signed
//! after, and otherwise answers "head moved" so that the head is read again and the entries
//! re-signed. No commit is lost and the chain never forks, even when two writers race (a lease
//! moving between nodes); commits without audit entries never take the lock.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use tradehub_actors::clock::Millis;
use tradehub_actors::mailbox::{Commit, CommitOutcome, MailboxError, MailboxResult, Partition};

use super::keys::{AuditKeys, Signature};
use crate::store::RedisMailbox;

/// Domain of an entry's MAC, so that it can never pass for an anchor's or a base's.
pub(crate) const ENTRY_DOMAIN: &str = "tradehub-audit-entry-v1";

/// How often a commit re-signs after the head moved under it before giving up (the input
/// stays pending and is applied again later).
const ATTEMPTS: u64 = 32;

/// The last entry of a chain: its position and MAC (`0` and empty for an empty chain).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Head {
    /// Its position, from 1.
    pub seq: u64,
    /// Its MAC.
    pub hash: String,
}

/// The audit part of one commit: the head the entries were signed after, and the entries.
#[derive(Debug)]
pub(crate) struct SignedAudit {
    /// The head the script must still find.
    pub after: Head,
    /// The time every entry records.
    pub at_ms: Millis,
    /// The key that signed them.
    pub kid: String,
    /// `(data, MAC)` per entry, in chain order.
    pub entries: Vec<(String, String)>,
}

impl SignedAudit {
    /// The head once the entries are appended.
    fn head(&self) -> Head {
        match self.entries.last() {
            Some((_, hash)) => Head {
                seq: self.after.seq + self.entries.len() as u64,
                hash: hash.clone(),
            },
            None => self.after.clone(),
        }
    }
}

/// What one run of the commit script did.
pub(crate) enum Attempt {
    /// It ran to an outcome of the port.
    Done(CommitOutcome),
    /// The audit head was not the one the entries were signed after; nothing was written.
    HeadMoved,
}

/// The fields an entry's MAC covers, after [`ENTRY_DOMAIN`].
pub(crate) fn entry_fields(
    partition: Partition,
    seq: u64,
    prev: &str,
    at_ms: Millis,
    key: &str,
    data: &str,
) -> [String; 6] {
    [
        partition.to_string(),
        seq.to_string(),
        prev.to_owned(),
        at_ms.to_string(),
        key.to_owned(),
        data.to_owned(),
    ]
}

/// `texts` as the field list the keys sign.
pub(crate) fn as_fields(texts: &[String]) -> Vec<&str> {
    texts.iter().map(String::as_str).collect()
}

/// Sign `data` as the successors of `after`.
fn sign(
    keys: &AuditKeys,
    partition: Partition,
    after: Head,
    at_ms: Millis,
    key: &str,
    data: &[String],
) -> SignedAudit {
    let mut prev = after.hash.clone();
    let mut entries = Vec::with_capacity(data.len());
    for (i, data) in data.iter().enumerate() {
        let seq = after.seq + i as u64 + 1;
        let fields = entry_fields(partition, seq, &prev, at_ms, key, data);
        let Signature { mac, .. } = keys.sign(ENTRY_DOMAIN, &as_fields(&fields));
        prev.clone_from(&mac);
        entries.push((data.clone(), mac));
    }
    SignedAudit {
        after,
        at_ms,
        kid: keys.current_id().to_owned(),
        entries,
    }
}

/// The audit keys and, per partition, a lock around the cached chain head.
pub(crate) struct AuditChains {
    keys: AuditKeys,
    heads: Mutex<HashMap<Partition, Arc<tokio::sync::Mutex<Option<Head>>>>>,
}

impl AuditChains {
    pub(crate) fn new(keys: AuditKeys) -> Self {
        Self {
            keys,
            heads: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn keys(&self) -> &AuditKeys {
        &self.keys
    }

    fn head_slot(&self, partition: Partition) -> Arc<tokio::sync::Mutex<Option<Head>>> {
        self.heads
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry(partition)
            .or_default()
            .clone()
    }
}

fn now_ms() -> Millis {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as Millis)
}

impl RedisMailbox {
    /// The head of a partition's audit chain as Redis holds it.
    pub(crate) async fn audit_head(&self, partition: Partition) -> MailboxResult<Head> {
        let (seq, hash): (Option<u64>, Option<String>) = self
            .query(
                "HMGET",
                redis::cmd("HMGET")
                    .arg(self.inner.keys.audit_head(partition))
                    .arg("seq")
                    .arg("hash"),
            )
            .await?;
        Ok(Head {
            seq: seq.unwrap_or(0),
            hash: hash.unwrap_or_default(),
        })
    }

    /// Commit a transition that carries audit entries: sign them after the cached head and
    /// commit, signing again after a fresh read of the head when another writer moved it.
    pub(crate) async fn commit_audited(&self, commit: &Commit) -> MailboxResult<CommitOutcome> {
        let chains = &self.inner.audit;
        let slot = chains.head_slot(commit.partition);
        let mut cached = slot.lock().await;
        for attempt in 0..ATTEMPTS {
            // Taken out, so that an error (when the script may or may not have run) leaves
            // nothing cached and the next commit reads the head afresh.
            let after = match cached.take() {
                Some(head) => head,
                None => self.audit_head(commit.partition).await?,
            };
            let signed = sign(
                chains.keys(),
                commit.partition,
                after,
                now_ms(),
                &commit.key,
                &commit.audit,
            );
            match self.run_commit(commit, Some(&signed)).await? {
                Attempt::Done(outcome) => {
                    *cached = Some(match outcome {
                        CommitOutcome::Committed { .. } => signed.head(),
                        _ => signed.after,
                    });
                    return Ok(outcome);
                }
                Attempt::HeadMoved => {
                    tracing::debug!(
                        partition = commit.partition,
                        "audit chain head moved under this writer; signing again"
                    );
                    // A random pause, longer with each try, so that two writers racing for
                    // one chain do not keep moving the head under each other.
                    let pause = rand::random_range(0..=attempt + 1);
                    tokio::time::sleep(std::time::Duration::from_millis(pause)).await;
                }
            }
        }
        Err(MailboxError::Unavailable(format!(
            "the audit chain head of partition {} moved {ATTEMPTS} times during one commit",
            commit.partition
        )))
    }
}
