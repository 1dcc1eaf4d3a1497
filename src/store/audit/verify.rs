//! Verification: every partition's chain (MACs, links, positions, head, base) and every anchor
//! (its MAC, and that each chain still holds the entry it anchored), with the anchors read from
//! both the file and the Redis stream, which must agree.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use tradehub_actors::clock::Millis;
use tradehub_actors::mailbox::{EntryId, MailboxError, Partition};

use super::anchor::{Anchor, read_anchor_file};
use super::chain::{ENTRY_DOMAIN, Head, as_fields, entry_fields};
use super::keys::Signature;
use crate::store::RedisMailbox;
use crate::store::reply::RawEntry;

/// Domain of a base's MAC.
const BASE_DOMAIN: &str = "tradehub-audit-base-v1";

/// One entry of the audit chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// Its id in the audit stream.
    pub id: EntryId,
    /// Position in the chain, from 1.
    pub seq: u64,
    /// The saga key whose commit wrote it.
    pub key: String,
    /// When it was signed, in milliseconds since the Unix epoch.
    pub at_ms: Millis,
    /// The audit record itself, as stored.
    pub data: String,
    /// MAC of the previous entry.
    pub prev: String,
    /// MAC of this entry.
    pub hash: String,
    /// Id of the key that made the MAC.
    pub kid: String,
}

/// Where and why an audit trail does not verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditBreak {
    /// The partition.
    pub partition: Partition,
    /// The stream id of the entry at fault, or `head`, `base`, or the anchor that disagrees.
    pub at: String,
    /// The chain position concerned.
    pub seq: u64,
    /// What is wrong.
    pub reason: String,
}

impl std::fmt::Display for AuditBreak {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "audit chain of partition {} broken at {} (position {}): {}",
            self.partition, self.at, self.seq, self.reason
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

/// How one partition's trail stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionCheck {
    /// The partition.
    pub partition: Partition,
    /// Entries in its stream.
    pub entries: u64,
    /// Its head.
    pub head: Head,
    /// The first thing that fails, if any.
    pub broken: Option<AuditBreak>,
}

/// The outcome of verifying every chain and every anchor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrailReport {
    /// Per partition.
    pub partitions: Vec<PartitionCheck>,
    /// Anchors whose MAC verified and whose heads were checked.
    pub anchors_checked: usize,
    /// Anchors that do not verify or are not in both the file and the stream.
    pub anchor_problems: Vec<String>,
}

impl TrailReport {
    /// Whether nothing failed.
    pub fn is_intact(&self) -> bool {
        self.anchor_problems.is_empty() && self.partitions.iter().all(|p| p.broken.is_none())
    }
}

/// A chain that verified: where it starts and what it holds.
struct Chain {
    base: Head,
    entries: Vec<AuditEntry>,
}

impl Chain {
    /// The MAC at position `seq`: `Ok(None)` when it was trimmed before the base, `Err` with
    /// the last position when the chain does not reach it.
    fn hash_at(&self, seq: u64) -> Result<Option<&str>, u64> {
        if seq < self.base.seq {
            return Ok(None);
        }
        if seq == self.base.seq {
            return Ok(Some(&self.base.hash));
        }
        let offset = usize::try_from(seq - self.base.seq - 1).unwrap_or(usize::MAX);
        self.entries
            .get(offset)
            .map(|e| Some(e.hash.as_str()))
            .ok_or(self.base.seq + self.entries.len() as u64)
    }
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
        kid: get("kid")?,
    })
}

/// The anchors read, with what could not be read added to `problems`.
fn split(read: Vec<Result<Anchor, String>>, problems: &mut Vec<String>) -> Vec<Anchor> {
    read.into_iter()
        .filter_map(|r| r.map_err(|p| problems.push(p)).ok())
        .collect()
}

fn base_fields(partition: Partition, head: &Head) -> [String; 3] {
    [
        partition.to_string(),
        head.seq.to_string(),
        head.hash.clone(),
    ]
}

impl RedisMailbox {
    /// The audit entries of a partition, oldest first.
    pub async fn audit_entries(&self, partition: Partition) -> Result<Vec<AuditEntry>, AuditError> {
        let raw = self.xrange_all(&self.inner.keys.audit(partition)).await?;
        Self::parse_audit(partition, &raw)
    }

    /// The first `limit` audit entries of a partition signed before `before_ms`, oldest first.
    pub(crate) async fn audit_entries_before(
        &self,
        partition: Partition,
        before_ms: Millis,
        limit: usize,
    ) -> Result<Vec<AuditEntry>, AuditError> {
        let value: redis::Value = self
            .query(
                "XRANGE",
                redis::cmd("XRANGE")
                    .arg(self.inner.keys.audit(partition))
                    .arg("-")
                    .arg(before_ms.saturating_sub(1))
                    .arg("COUNT")
                    .arg(limit.max(1)),
            )
            .await?;
        Self::parse_audit(partition, &crate::store::reply::entries(value)?)
    }

    fn parse_audit(partition: Partition, raw: &[RawEntry]) -> Result<Vec<AuditEntry>, AuditError> {
        raw.iter()
            .enumerate()
            .map(|(i, e)| {
                parse_entry(e).map_err(|reason| {
                    AuditError::Broken(AuditBreak {
                        partition,
                        at: e.id.clone(),
                        seq: i as u64 + 1,
                        reason,
                    })
                })
            })
            .collect()
    }

    /// The MAC retention stores with a partition's base (`kid` and `mac` beside `seq` and
    /// `hash`) when it trims the chain up to and including `last_trimmed`.
    pub fn sign_audit_base(&self, partition: Partition, last_trimmed: &Head) -> Signature {
        let fields = base_fields(partition, last_trimmed);
        self.inner
            .audit
            .keys()
            .sign(BASE_DOMAIN, &as_fields(&fields))
    }

    /// The base of a partition's chain (zero when nothing was trimmed), its MAC checked.
    async fn audit_base(&self, partition: Partition) -> Result<Head, AuditError> {
        let (seq, hash, kid, mac): (
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
        ) = self
            .query(
                "HMGET",
                redis::cmd("HMGET")
                    .arg(self.inner.keys.audit_base(partition))
                    .arg("seq")
                    .arg("hash")
                    .arg("kid")
                    .arg("mac"),
            )
            .await?;
        let broken = |seq: u64, reason: String| {
            AuditError::Broken(AuditBreak {
                partition,
                at: "base".to_owned(),
                seq,
                reason,
            })
        };
        let (Some(seq), Some(hash)) = (seq, hash) else {
            return Ok(Head::default());
        };
        let seq: u64 = seq
            .parse()
            .map_err(|_| broken(0, "the base's `seq` is not a number".to_owned()))?;
        let head = Head { seq, hash };
        let signature = Signature {
            kid: kid.unwrap_or_default(),
            mac: mac.unwrap_or_default(),
        };
        let fields = base_fields(partition, &head);
        self.inner
            .audit
            .keys()
            .verify(BASE_DOMAIN, &as_fields(&fields), &signature)
            .map_err(|reason| broken(seq, format!("the base is not authentic: {reason}")))?;
        Ok(head)
    }

    /// Check a partition's chain from its base to its head.
    async fn verified_chain(&self, partition: Partition) -> Result<Chain, AuditError> {
        let base = self.audit_base(partition).await?;
        let entries = self.audit_entries(partition).await?;
        let head = self.audit_head(partition).await?;
        let keys = self.inner.audit.keys();
        let broken = |at: &str, seq: u64, reason: String| {
            AuditError::Broken(AuditBreak {
                partition,
                at: at.to_owned(),
                seq,
                reason,
            })
        };
        let mut last = base.clone();
        for entry in &entries {
            let seq = last.seq + 1;
            if entry.seq != seq {
                return Err(broken(
                    &entry.id.0,
                    seq,
                    format!(
                        "entry says position {}: an entry is missing, inserted or out of order",
                        entry.seq
                    ),
                ));
            }
            if entry.prev != last.hash {
                return Err(broken(
                    &entry.id.0,
                    seq,
                    "its link does not name the previous entry's MAC".to_owned(),
                ));
            }
            let fields = entry_fields(
                partition,
                entry.seq,
                &entry.prev,
                entry.at_ms,
                &entry.key,
                &entry.data,
            );
            let signature = Signature {
                kid: entry.kid.clone(),
                mac: entry.hash.clone(),
            };
            keys.verify(ENTRY_DOMAIN, &as_fields(&fields), &signature)
                .map_err(|reason| {
                    broken(
                        &entry.id.0,
                        seq,
                        format!("{reason}: the entry was altered or written without the key"),
                    )
                })?;
            last = Head {
                seq,
                hash: entry.hash.clone(),
            };
        }
        if head != last {
            return Err(broken(
                "head",
                head.seq,
                format!(
                    "the head records position {} ending in {:?}, the chain ends at {}",
                    head.seq, head.hash, last.seq
                ),
            ));
        }
        Ok(Chain { base, entries })
    }

    /// Verify the audit chain of a partition; returns how many entries its stream holds.
    pub async fn verify_audit(&self, partition: Partition) -> Result<u64, AuditError> {
        Ok(self.verified_chain(partition).await?.entries.len() as u64)
    }

    /// Verify the chains of partitions `0..partitions` and every anchor, read from
    /// `anchor_file` and from the Redis stream.
    pub async fn verify_trail(
        &self,
        partitions: Partition,
        anchor_file: &Path,
    ) -> Result<TrailReport, MailboxError> {
        let mut checks = Vec::new();
        let mut chains = BTreeMap::new();
        for partition in 0..partitions {
            let (entries, head, broken) = match self.verified_chain(partition).await {
                Ok(chain) => {
                    let head = chain.entries.last().map_or(chain.base.clone(), |e| Head {
                        seq: e.seq,
                        hash: e.hash.clone(),
                    });
                    let entries = chain.entries.len() as u64;
                    chains.insert(partition, chain);
                    (entries, head, None)
                }
                Err(AuditError::Broken(at)) => (0, Head::default(), Some(at)),
                Err(AuditError::Store(error)) => return Err(error),
            };
            checks.push(PartitionCheck {
                partition,
                entries,
                head,
                broken,
            });
        }
        let (anchors, anchor_problems) = self.gather_anchors(anchor_file).await?;
        let mut report = TrailReport {
            partitions: checks,
            anchors_checked: anchors.len(),
            anchor_problems,
        };
        for anchor in &anchors {
            for (&partition, anchored) in &anchor.heads {
                let Some(check) = report.partitions.get_mut(usize::from(partition)) else {
                    report.anchor_problems.push(format!(
                        "{} names partition {partition}, which this configuration does not have",
                        anchor.label()
                    ));
                    continue;
                };
                let Some(chain) = chains.get(&partition) else {
                    continue;
                };
                if check.broken.is_some() {
                    continue;
                }
                let reason = match chain.hash_at(anchored.seq) {
                    Ok(None) => continue,
                    Ok(Some(hash)) if hash == anchored.hash => continue,
                    Ok(Some(_)) => "the chain holds another entry there than the one anchored: \
                                    it was rebuilt"
                        .to_owned(),
                    Err(end) => format!(
                        "the chain ends at position {end}, short of the anchored one: entries, \
                         the stream or its head were deleted"
                    ),
                };
                check.broken = Some(AuditBreak {
                    partition,
                    at: anchor.label(),
                    seq: anchored.seq,
                    reason,
                });
            }
        }
        Ok(report)
    }

    /// The anchors of the file and the stream whose MAC verifies, oldest first, and what is
    /// wrong with the others or with the two sources' agreement.
    async fn gather_anchors(
        &self,
        anchor_file: &Path,
    ) -> Result<(Vec<Anchor>, Vec<String>), MailboxError> {
        let mut problems = Vec::new();
        let from_file = match read_anchor_file(anchor_file) {
            Ok(read) => split(read, &mut problems),
            Err(e) => {
                problems.push(format!("anchor file {}: {e}", anchor_file.display()));
                Vec::new()
            }
        };
        let from_stream = split(self.stream_anchors().await?, &mut problems);
        let macs = |anchors: &[Anchor]| -> BTreeSet<String> {
            anchors.iter().map(|a| a.mac.clone()).collect()
        };
        let (in_file, in_stream) = (macs(&from_file), macs(&from_stream));
        let file_nodes: BTreeSet<&str> = from_file.iter().map(|a| a.node.as_str()).collect();
        for anchor in &from_file {
            if !in_stream.contains(&anchor.mac) {
                problems.push(format!(
                    "{} is in {} but not in the Redis stream",
                    anchor.label(),
                    anchor_file.display()
                ));
            }
        }
        for anchor in &from_stream {
            if !in_file.contains(&anchor.mac) && file_nodes.contains(anchor.node.as_str()) {
                problems.push(format!(
                    "{} is in the Redis stream but not in {}",
                    anchor.label(),
                    anchor_file.display()
                ));
            }
        }
        let mut anchors: Vec<Anchor> = from_file;
        anchors.extend(
            from_stream
                .into_iter()
                .filter(|a| !in_file.contains(&a.mac)),
        );
        let keys = self.inner.audit.keys();
        anchors.retain(|anchor| match anchor.verify(keys) {
            Ok(()) => true,
            Err(reason) => {
                problems.push(format!("{}: {reason}", anchor.label()));
                false
            }
        });
        anchors.sort_by_key(|a| a.at_ms);
        Ok((anchors, problems))
    }
}
