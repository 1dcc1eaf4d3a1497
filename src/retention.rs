//! Retention (`[retention]`): what the hub keeps, for how long, and where it goes after.
//!
//! Each kind of data has its own duration. Data past it is first exported, as gzip-compressed
//! JSON lines written atomically under `export_dir/<kind>/`, and only then removed, each removal
//! checking that what it removes is what was exported:
//!
//! | kind | past its time | export |
//! |---|---|---|
//! | `audit` | entries trimmed from each partition's chain; the chain starts from a signed base | `audit/p<partition>-<first>-<last>.jsonl.gz`: the entries as stored, then a checkpoint line with the base left and its MAC |
//! | `finished` | a closed or cancelled shipment untouched that long: its state shrinks to a summary, its timeline goes | `sagas/<run>-<n>.jsonl.gz`: key, version, state and timeline as stored |
//! | `payloads` | callback payloads kept for operators | `callbacks/<first id>-<last id>.jsonl.gz` |
//! | `files` | files in the drop folders' done and failed subfolders | `files/<run>-<n>.jsonl.gz`: folder, name, size, time and content (base64) |
//!
//! Values are exported as Redis holds them: what encryption sealed stays sealed under its key
//! id (keep retired keys as long as the exports), and audit entries keep the bytes their MACs
//! cover, so an export verifies against the chain's base and anchors.

use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use flate2::Compression;
use flate2::write::GzEncoder;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tradehub_actors::clock::Millis;
use tradehub_actors::mailbox::{MailboxError, Partition};

use crate::partners::file_drop::{self, Inbox};
use crate::store::{FinishedSaga, RedisMailbox};

/// `[retention]`: how long each kind of data stays, and where it goes after.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct RetentionConfig {
    /// Where data past its time is exported before it is removed.
    pub export_dir: PathBuf,
    /// How often `serve` applies the policy; `0s`: only `tradehub retention run` does.
    #[serde(with = "humantime_serde")]
    pub interval: Duration,
    /// Audit entries older than this leave the chain.
    #[serde(with = "humantime_serde")]
    pub audit: Duration,
    /// Closed or cancelled shipments untouched this long shrink to a summary.
    #[serde(with = "humantime_serde")]
    pub finished: Duration,
    /// Callback payloads kept for operators go after this long.
    #[serde(with = "humantime_serde")]
    pub payloads: Duration,
    /// Files in the drop folders' done and failed subfolders go after this long.
    #[serde(with = "humantime_serde")]
    pub files: Duration,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        const DAY: u64 = 24 * 3600;
        Self {
            export_dir: PathBuf::from("var/archive"),
            interval: Duration::from_secs(3600),
            audit: Duration::from_secs(400 * DAY),
            finished: Duration::from_secs(30 * DAY),
            payloads: Duration::from_secs(30 * DAY),
            files: Duration::from_secs(90 * DAY),
        }
    }
}

/// A retention run that stopped.
#[derive(Debug, thiserror::Error)]
pub enum RetentionError {
    /// Redis could not be read or written; nothing past the last export was removed.
    #[error("retention: {0}")]
    Store(#[from] MailboxError),
    /// An export could not be written; what it held was not removed.
    #[error("retention: cannot write the export {path}: {source}")]
    Export {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RetentionReport {
    /// Audit entries trimmed, over every partition.
    pub audit_trimmed: u64,
    /// Finished sagas archived.
    pub sagas_archived: u64,
    /// Finished sagas exported but left as they were: they moved meanwhile, or are not
    /// archivable (a blocked shipment waits for an override).
    pub sagas_left: u64,
    /// Callback payloads dropped.
    pub payloads_trimmed: u64,
    /// Files removed from drop folders.
    pub files_removed: u64,
    /// The export files written.
    pub exports: Vec<PathBuf>,
}

/// What a finished saga's state becomes once archived: the compact state (JSON), or `None` when
/// this saga is not to be archived.
pub type Compactor =
    Arc<dyn Fn(&str, &ArchiveMark) -> Result<Option<String>, String> + Send + Sync>;

/// Where a saga's full record went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchiveMark {
    /// When it was archived, in milliseconds since the Unix epoch.
    pub at_ms: Millis,
    /// The export file holding its state and timeline as they were.
    pub export: String,
}

/// How many records one export file holds, and one Redis read fetches.
const BATCH: usize = 1000;

/// Applies a [`RetentionConfig`] to one hub's Redis and drop folders.
pub struct Retention {
    config: RetentionConfig,
    mailbox: RedisMailbox,
    partitions: Partition,
    folders: Vec<Inbox>,
    compact: Compactor,
}

impl std::fmt::Debug for Retention {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Retention")
            .field("config", &self.config)
            .field("partitions", &self.partitions)
            .field("folders", &self.folders)
            .finish_non_exhaustive()
    }
}

fn now_ms() -> Millis {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as Millis)
}

fn cutoff(now: Millis, keep: Duration) -> Millis {
    now.saturating_sub(keep.as_millis() as Millis)
}

impl Retention {
    /// Retention over `partitions` partitions of `mailbox` and the drop `folders`, archiving
    /// finished sagas with `compact`.
    pub fn new(
        config: RetentionConfig,
        mailbox: RedisMailbox,
        partitions: Partition,
        folders: Vec<Inbox>,
        compact: Compactor,
    ) -> Self {
        Self {
            config,
            mailbox,
            partitions,
            folders,
            compact,
        }
    }

    /// Applies the policy once, as of now.
    pub async fn run(&self) -> Result<RetentionReport, RetentionError> {
        self.run_at(now_ms()).await
    }

    /// Applies the policy once, as of `now` (milliseconds since the Unix epoch).
    pub async fn run_at(&self, now: Millis) -> Result<RetentionReport, RetentionError> {
        let mut report = RetentionReport::default();
        self.audit(cutoff(now, self.config.audit), &mut report)
            .await?;
        self.sagas(now, cutoff(now, self.config.finished), &mut report)
            .await?;
        self.payloads(cutoff(now, self.config.payloads), &mut report)
            .await?;
        self.files(now, cutoff(now, self.config.files), &mut report)
            .await?;
        Ok(report)
    }

    /// Writes `lines` gzip-compressed to `export_dir/<kind>/<name>`, durably.
    async fn export(
        &self,
        kind: &str,
        name: String,
        lines: Vec<Value>,
        report: &mut RetentionReport,
    ) -> Result<PathBuf, RetentionError> {
        let dir = self.config.export_dir.join(kind);
        let path = dir.join(&name);
        let written = tokio::task::spawn_blocking(move || -> std::io::Result<PathBuf> {
            let mut gz = GzEncoder::new(Vec::new(), Compression::default());
            for line in &lines {
                serde_json::to_writer(&mut gz, line)?;
                gz.write_all(b"\n")?;
            }
            file_drop::write_atomically(&dir, &name, &gz.finish()?)
        })
        .await
        .unwrap_or_else(|e| Err(std::io::Error::other(e.to_string())))
        .map_err(|source| RetentionError::Export {
            path: path.clone(),
            source,
        })?;
        report.exports.push(written.clone());
        Ok(written)
    }

    async fn audit(
        &self,
        before: Millis,
        report: &mut RetentionReport,
    ) -> Result<(), RetentionError> {
        for partition in 0..self.partitions {
            self.audit_partition(partition, before, report).await?;
        }
        Ok(())
    }

    async fn audit_partition(
        &self,
        partition: Partition,
        before: Millis,
        report: &mut RetentionReport,
    ) -> Result<(), RetentionError> {
        loop {
            let (base, entries) = self.mailbox.audit_before(partition, before, BATCH).await?;
            let (Some(first), Some(last)) = (entries.first(), entries.last()) else {
                return Ok(());
            };
            let signature = self.mailbox.audit_base_signature(partition, last);
            let name = format!("p{partition}-{}-{}.jsonl.gz", first.seq, last.seq);
            let mut lines: Vec<Value> = entries
                .iter()
                .map(|e| {
                    json!({
                        "partition": partition, "id": e.id.0, "seq": e.seq, "prev": e.prev,
                        "at": e.at_ms, "key": e.key, "data": e.data, "hash": e.hash, "kid": e.kid,
                    })
                })
                .collect();
            lines.push(json!({"checkpoint": {
                "partition": partition, "base_before": base,
                "base": {"seq": last.seq, "hash": last.hash},
                "kid": signature.kid, "mac": signature.mac,
            }}));
            self.export("audit", name, lines, report).await?;
            match self
                .mailbox
                .trim_audit(partition, base, last, &signature)
                .await?
            {
                Some(trimmed) => report.audit_trimmed += trimmed,
                // Another run moved the base first; it exported what it trimmed.
                None => return Ok(()),
            }
            if entries.len() < BATCH {
                return Ok(());
            }
        }
    }

    async fn sagas(
        &self,
        now: Millis,
        before: Millis,
        report: &mut RetentionReport,
    ) -> Result<(), RetentionError> {
        let mut keys = Vec::new();
        self.mailbox
            .saga_keys(BATCH, &mut |batch| keys.extend(batch))
            .await?;
        for (n, chunk) in keys.chunks(BATCH).enumerate() {
            let mut finished: Vec<FinishedSaga> = Vec::new();
            for (partition, key) in chunk {
                if let Some(saga) = self.mailbox.finished_saga(*partition, key, before).await? {
                    finished.push(saga);
                }
            }
            if finished.is_empty() {
                continue;
            }
            let name = format!("{now}-{n}.jsonl.gz");
            let lines = finished
                .iter()
                .map(|s| {
                    json!({
                        "partition": s.partition, "key": s.key, "ver": s.ver,
                        "updated": s.updated_ms, "state": s.stored_state, "history": s.history,
                    })
                })
                .collect();
            let path = self.export("sagas", name, lines, report).await?;
            let mark = ArchiveMark {
                at_ms: now,
                export: path.display().to_string(),
            };
            for saga in &finished {
                let archived = match (self.compact)(&saga.state, &mark) {
                    Ok(Some(compact)) => self.mailbox.archive_saga(saga, &compact).await?,
                    Ok(None) => false,
                    Err(reason) => {
                        tracing::warn!(key = %saga.key, %reason, "finished saga not archived: its state does not read");
                        false
                    }
                };
                if archived {
                    report.sagas_archived += 1;
                } else {
                    report.sagas_left += 1;
                }
            }
        }
        Ok(())
    }

    async fn payloads(
        &self,
        before: Millis,
        report: &mut RetentionReport,
    ) -> Result<(), RetentionError> {
        loop {
            let entries = self
                .mailbox
                .rejected_callbacks_before(before, BATCH)
                .await?;
            let (Some(first), Some(last)) = (entries.first(), entries.last()) else {
                return Ok(());
            };
            let name = format!("{}-{}.jsonl.gz", first.id, last.id);
            let last_id = last.id.clone();
            let full = entries.len() == BATCH;
            let lines = entries
                .into_iter()
                .map(|e| json!({"id": e.id, "fields": e.fields.into_iter().collect::<serde_json::Map<_, _>>()}))
                .collect();
            self.export("callbacks", name, lines, report).await?;
            match self.mailbox.trim_rejected_callbacks(&last_id).await? {
                Some(trimmed) => report.payloads_trimmed += trimmed,
                None => return Ok(()),
            }
            if !full {
                return Ok(());
            }
        }
    }

    async fn files(
        &self,
        now: Millis,
        before: Millis,
        report: &mut RetentionReport,
    ) -> Result<(), RetentionError> {
        let before = UNIX_EPOCH + Duration::from_millis(before);
        for (n, inbox) in self.folders.iter().enumerate() {
            let scan = inbox.clone();
            let expired = tokio::task::spawn_blocking(move || scan.expired(before))
                .await
                .unwrap_or_default();
            if expired.is_empty() {
                continue;
            }
            let lines = expired
                .iter()
                .map(|f| {
                    json!({
                        "folder": f.folder.display().to_string(), "name": f.name,
                        "size": f.size, "modified_ms": f.modified_ms,
                        "content": f.content.as_ref().map(|c| BASE64.encode(c)),
                    })
                })
                .collect();
            self.export("files", format!("{now}-{n}.jsonl.gz"), lines, report)
                .await?;
            for file in &expired {
                match std::fs::remove_file(file.folder.join(&file.name)) {
                    Ok(()) => report.files_removed += 1,
                    Err(e) => {
                        tracing::warn!(folder = %file.folder.display(), file = %file.name, error = %e, "expired file not removed");
                    }
                }
            }
        }
        Ok(())
    }
}
