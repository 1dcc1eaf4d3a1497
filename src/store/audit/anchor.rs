//! Anchors: signed checkpoints of every partition's chain head (partition → seq, MAC), with the
//! node and the time, appended both to a JSON-lines file (opened for append, synced) and to a
//! stream in Redis. An anchor pins what the chains held: a chain that was deleted, cut short or
//! rebuilt afterwards no longer holds the anchored entry, and verification says so.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tradehub_actors::clock::Millis;
use tradehub_actors::mailbox::{MailboxError, Partition};

use super::chain::{Head, as_fields};
use super::keys::{AuditKeys, Signature};
use crate::store::RedisMailbox;

/// Domain of an anchor's MAC.
const ANCHOR_DOMAIN: &str = "tradehub-audit-anchor-v1";

/// One signed checkpoint of the chain heads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Anchor {
    /// The node that made it.
    pub node: String,
    /// When, in milliseconds since the Unix epoch.
    pub at_ms: Millis,
    /// The head of every partition's chain.
    pub heads: BTreeMap<Partition, Head>,
    /// The key that signed it.
    pub kid: String,
    /// HMAC-SHA256 of the above, hex.
    pub mac: String,
}

/// An anchor could not be written.
#[derive(Debug, thiserror::Error)]
pub enum AnchorError {
    /// The heads could not be read or the anchor not appended to Redis.
    #[error(transparent)]
    Store(#[from] MailboxError),
    /// The anchor file could not be appended to.
    #[error("anchor file {file}: {reason}")]
    File {
        /// The file.
        file: String,
        /// Why.
        reason: String,
    },
}

impl Anchor {
    /// The fields its MAC covers, after [`ANCHOR_DOMAIN`].
    fn signed_fields(node: &str, at_ms: Millis, heads: &BTreeMap<Partition, Head>) -> Vec<String> {
        let mut fields = vec![node.to_owned(), at_ms.to_string(), heads.len().to_string()];
        for (partition, head) in heads {
            fields.extend([
                partition.to_string(),
                head.seq.to_string(),
                head.hash.clone(),
            ]);
        }
        fields
    }

    /// Sign the heads as seen by `node` at `at_ms`.
    pub fn sign(
        keys: &AuditKeys,
        node: &str,
        at_ms: Millis,
        heads: BTreeMap<Partition, Head>,
    ) -> Self {
        let fields = Self::signed_fields(node, at_ms, &heads);
        let Signature { kid, mac } = keys.sign(ANCHOR_DOMAIN, &as_fields(&fields));
        Self {
            node: node.to_owned(),
            at_ms,
            heads,
            kid,
            mac,
        }
    }

    /// Check its MAC.
    pub fn verify(&self, keys: &AuditKeys) -> Result<(), String> {
        let signature = Signature {
            kid: self.kid.clone(),
            mac: self.mac.clone(),
        };
        let fields = Self::signed_fields(&self.node, self.at_ms, &self.heads);
        keys.verify(ANCHOR_DOMAIN, &as_fields(&fields), &signature)
    }

    /// How verification names it.
    pub fn label(&self) -> String {
        format!("anchor of {} at {}", self.node, self.at_ms)
    }
}

/// Append `line` and a newline to `path` (created with its folder if missing) and sync it.
fn append_line(path: &Path, line: &str) -> std::io::Result<()> {
    if let Some(folder) = path.parent() {
        std::fs::create_dir_all(folder)?;
    }
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)?;
    file.write_all(format!("{line}\n").as_bytes())?;
    file.sync_data()
}

/// The anchors in a JSON-lines file, each with its line number; a missing file holds none, a
/// line that is not an anchor is an `Err` naming it.
pub fn read_anchor_file(path: &Path) -> std::io::Result<Vec<Result<Anchor, String>>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    Ok(text
        .lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(i, line)| {
            serde_json::from_str(line)
                .map_err(|e| format!("{} line {}: not an anchor: {e}", path.display(), i + 1))
        })
        .collect())
}

impl RedisMailbox {
    /// The heads of the chains of partitions `0..partitions`.
    pub async fn audit_heads(
        &self,
        partitions: Partition,
    ) -> Result<BTreeMap<Partition, Head>, MailboxError> {
        let mut pipe = redis::pipe();
        for partition in 0..partitions {
            pipe.cmd("HMGET")
                .arg(self.inner.keys.audit_head(partition))
                .arg("seq")
                .arg("hash");
        }
        let heads: Vec<(Option<u64>, Option<String>)> = self.query_pipe("HMGET", &pipe).await?;
        Ok((0..partitions)
            .zip(heads)
            .map(|(partition, (seq, hash))| {
                let head = Head {
                    seq: seq.unwrap_or(0),
                    hash: hash.unwrap_or_default(),
                };
                (partition, head)
            })
            .collect())
    }

    /// Sign the chain heads of partitions `0..partitions` as `node`, and append the anchor to
    /// `file`, then to the anchors' stream in Redis.
    pub async fn anchor(
        &self,
        node: &str,
        partitions: Partition,
        file: &Path,
    ) -> Result<Anchor, AnchorError> {
        let heads = self.audit_heads(partitions).await?;
        let at_ms = self.server_time_ms().await?;
        let anchor = Anchor::sign(self.inner.audit.keys(), node, at_ms, heads);
        let line = serde_json::to_string(&anchor)
            .map_err(|e| MailboxError::Protocol(format!("encode an anchor: {e}")))?;
        let path: PathBuf = file.to_owned();
        let written = {
            let line = line.clone();
            tokio::task::spawn_blocking(move || append_line(&path, &line)).await
        };
        let file_error = |reason: String| AnchorError::File {
            file: file.display().to_string(),
            reason,
        };
        written
            .map_err(|e| file_error(e.to_string()))?
            .map_err(|e| file_error(e.to_string()))?;
        self.query::<String>(
            "XADD",
            redis::cmd("XADD")
                .arg(self.inner.keys.audit_anchors())
                .arg("*")
                .arg("a")
                .arg(line),
        )
        .await?;
        Ok(anchor)
    }

    /// The anchors in the Redis stream, oldest first, with their stream ids; an entry that is
    /// not an anchor is an `Err` naming it.
    pub async fn stream_anchors(&self) -> Result<Vec<Result<Anchor, String>>, MailboxError> {
        let entries = self.xrange_all(&self.inner.keys.audit_anchors()).await?;
        Ok(entries
            .iter()
            .map(|entry| {
                entry
                    .field("a")
                    .ok_or_else(|| format!("anchor stream entry {}: no field `a`", entry.id))
                    .and_then(|text| {
                        serde_json::from_str(text).map_err(|e| {
                            format!("anchor stream entry {}: not an anchor: {e}", entry.id)
                        })
                    })
            })
            .collect())
    }
}
