//! The EDIFACT customs broker over a file drop (`edifact-broker` template): CUSDEC
//! out into an outbox folder, CUSRES and CONTRL in from an inbox folder.
//!
//! Sending writes the interchange to a temporary file with a random name and renames it to
//! `<LRN>.edi` (or `<LRN>.cancel.edi`) ([`write_atomically`]), so the broker never reads half
//! a file and a resend overwrites rather than duplicates. The acknowledgement of a send is
//! `{lrn, status: null}`: the broker's answers arrive later as files.
//!
//! The [`InboxWatcher`] polls the inbox: each file is parsed through the inbound
//! mapping, its LRN resolved (a CONTRL names only the interchange it acknowledges,
//! looked up in the [`Ledger`]; an LRN filed with another broker is refused), and ingested as `customs.status` with the file's
//! content hash as idempotency key. The folder is read through [`Inbox`] (no links followed,
//! a size cap, each file claimed in `processing/` while it is read). Processed files move to
//! `done/`; files that cannot be used, or that crashed the reader, move to `error/` with a
//! `<name>.reason` beside them. Nothing is deleted.
//! Each new CUSRES is answered with our CONTRL (checked against the template's
//! directory) in [`WatcherConfig::acknowledge_to`]; a CONTRL is never answered.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde_json::{Value, json};
use tradehub_actors::envelope::Envelope;
use tradehub_actors::partner::{CallError, Transport};

use super::config::Layout;
use super::file_drop::{Inbox, write_atomically};
use super::filing;
use crate::formats::CodecSettings;
use crate::store::RedisMailbox;
use crate::store::lrn_ledger::{Ledger, LedgerError};
use crate::workflow::shipment::commands::{BrokerCommand, FileDeclaration};

#[cfg(test)]
mod tests;

/// Where one EDIFACT broker's files go.
#[derive(Debug, Clone)]
pub struct EdifactFileConfig {
    /// Partner (template) name, e.g. `edifact-broker`.
    pub partner: String,
    /// Where templates and mappings live.
    pub layout: Layout,
    /// Folder the broker reads our CUSDECs from.
    pub outbox: PathBuf,
}

/// The sending side; cheap to clone.
#[derive(Debug, Clone)]
pub struct EdifactFileTransport {
    config: EdifactFileConfig,
    ledger: Ledger,
}

/// The file name a declaration is written under.
pub fn outbox_name(lrn: &str, cancel: bool) -> String {
    let safe: String = lrn
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if cancel {
        format!("{safe}.cancel.edi")
    } else {
        format!("{safe}.edi")
    }
}

/// A failure of the ledger or the outbox: worth another try.
fn retry(reason: String) -> CallError {
    CallError::Retry {
        after: None,
        reason,
    }
}

impl EdifactFileTransport {
    /// A transport for `config`, recording LRNs and interchange references in `ledger`.
    pub fn new(config: EdifactFileConfig, ledger: Ledger) -> Self {
        Self { config, ledger }
    }

    fn control_range(&self) -> Option<[u64; 2]> {
        filing::with_template(&self.config.layout, &self.config.partner, |p| {
            match &p.template.codec {
                CodecSettings::Edifact(e) => e.control_range,
                _ => None,
            }
        })
        .ok()
        .flatten()
    }

    async fn file(&self, key: &str, file: &FileDeclaration) -> Result<Value, CallError> {
        let document = filing::declaration_document(file, &filing::now_rfc3339());
        self.ledger
            .record_document(&self.config.partner, &file.lrn, &document)
            .await
            .map_err(|e| retry(e.to_string()))?;
        self.send(key, &file.lrn, &document, false).await
    }

    async fn cancel(&self, key: &str, lrn: &str) -> Result<Value, CallError> {
        // A cancellation repeats the declaration it withdraws, as filed.
        let document = self
            .ledger
            .last_document(&self.config.partner, lrn)
            .await
            .map_err(|e| retry(e.to_string()))?
            .ok_or_else(|| CallError::Permanent {
                reason: format!("no declaration {lrn} was sent to {}", self.config.partner),
            })?;
        self.send(key, lrn, &document, true).await
    }

    /// Writes `document` as a CUSDEC for `lrn` (a cancellation when `cancel`) into the outbox.
    async fn send(
        &self,
        key: &str,
        lrn: &str,
        document: &Value,
        cancel: bool,
    ) -> Result<Value, CallError> {
        let reference = self
            .ledger
            .next_control_ref(&self.config.partner, self.control_range())
            .await
            .map_err(|e| retry(e.to_string()))?;
        let now = time::OffsetDateTime::now_utc();
        let ctx = BTreeMap::from([
            ("control_ref".to_owned(), reference.to_string()),
            (
                "date".to_owned(),
                format!(
                    "{:04}{:02}{:02}",
                    now.year(),
                    u8::from(now.month()),
                    now.day()
                ),
            ),
            (
                "time".to_owned(),
                format!("{:02}{:02}", now.hour(), now.minute()),
            ),
        ]);
        let mut bytes =
            filing::outbound_bytes(&self.config.layout, &self.config.partner, document, &ctx)
                .map_err(|e| CallError::Poison {
                    reason: format!("{}: CUSDEC for {lrn}: {e}", self.config.partner),
                })?;
        if cancel {
            // BGM message function 1 = cancellation (UN/EDIFACT 1225).
            let text = String::from_utf8_lossy(&bytes)
                .replace(&format!("BGM+830+{lrn}+9'"), &format!("BGM+830+{lrn}+1'"));
            bytes = text.into_bytes();
        }
        self.ledger
            .record_lrn(lrn, key, &self.config.partner)
            .await
            .map_err(|e| retry(e.to_string()))?;
        self.ledger
            .record_interchange(&self.config.partner, &reference.to_string(), lrn)
            .await
            .map_err(|e| retry(e.to_string()))?;
        let outbox = self.config.outbox.clone();
        let name = outbox_name(lrn, cancel);
        tokio::task::spawn_blocking(move || write_atomically(&outbox, &name, &bytes))
            .await
            .map_err(|e| retry(format!("file writer: {e}")))?
            .map_err(|e| retry(format!("outbox {}: {e}", self.config.outbox.display())))?;
        let sent = json!({ "lrn": lrn, "status": "SUBMITTED", "mrn": null, "reasons": [] });
        if !cancel {
            let _ = self
                .ledger
                .record_status(&self.config.partner, lrn, &sent)
                .await;
        }
        Ok(json!({ "lrn": lrn, "status": null, "mrn": null, "reasons": [] }))
    }

    async fn query(&self, lrn: &str) -> Result<Value, CallError> {
        let last = self
            .ledger
            .last_status(&self.config.partner, lrn)
            .await
            .map_err(|e| CallError::Retry {
                after: None,
                reason: e.to_string(),
            })?;
        Ok(last
            .unwrap_or_else(|| json!({ "lrn": lrn, "status": null, "mrn": null, "reasons": [] })))
    }
}

impl Transport for EdifactFileTransport {
    async fn call(&self, command: &Envelope) -> Result<Value, CallError> {
        let decoded = BrokerCommand::from_envelope(command).map_err(|error| CallError::Poison {
            reason: error.to_string(),
        })?;
        match decoded {
            BrokerCommand::File(file) => self.file(&command.key, &file).await,
            BrokerCommand::Cancel(cancel) => self.cancel(&command.key, &cancel.lrn).await,
            BrokerCommand::Query(query) => self.query(&query.lrn).await,
        }
    }
}

/// How the inbox is watched.
#[derive(Debug, Clone)]
pub struct WatcherConfig {
    /// Partner (template) name.
    pub partner: String,
    /// Where templates and mappings live.
    pub layout: Layout,
    /// Folder the broker drops CUSRES and CONTRL into.
    pub inbox: PathBuf,
    /// Time between polls.
    pub poll: Duration,
    /// Partition count, to place keys.
    pub partitions: u16,
    /// Folder our CONTRLs for received CUSRES go to (usually the outbox); none: not sent.
    pub acknowledge_to: Option<PathBuf>,
    /// Larger files are set aside unread (the template's `transport.max_file_bytes`).
    pub max_file_bytes: u64,
}

impl WatcherConfig {
    /// The inbox folder: interchanges read move to `done/`, those set aside to `error/`.
    pub fn folder(&self) -> Inbox {
        inbox_folder(self.inbox.clone(), self.max_file_bytes)
    }
}

/// A broker's inbox folder `dir` with its cap: interchanges read move to `done/`, those set
/// aside to `error/`.
pub fn inbox_folder(dir: PathBuf, max_file_bytes: u64) -> Inbox {
    Inbox::new(dir, "done", "error", max_file_bytes)
}

/// What one poll did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PollReport {
    /// Files ingested (new inputs).
    pub ingested: usize,
    /// Files whose input was already durable (a repeat).
    pub duplicates: usize,
    /// Files moved to `error/` (refused unread, unusable, or left by a reader that crashed).
    pub rejected: usize,
}

/// Polls a broker's inbox folder and ingests what it finds.
#[derive(Debug, Clone)]
pub struct InboxWatcher {
    config: WatcherConfig,
    inbox: Inbox,
    mailbox: RedisMailbox,
    ledger: Ledger,
}

impl InboxWatcher {
    /// A watcher ingesting into `mailbox`.
    pub fn new(config: WatcherConfig, mailbox: RedisMailbox) -> Self {
        let ledger = Ledger::of(&mailbox);
        let inbox = config.folder();
        Self {
            config,
            inbox,
            mailbox,
            ledger,
        }
    }

    /// Handles every file in the inbox once, oldest name first (see [`Inbox::drain`]). An
    /// error means the store was unavailable; the files stay in the inbox for the next poll.
    pub async fn poll_once(&self) -> Result<PollReport, filing::IngestError> {
        let drained = self
            .inbox
            .drain(
                |n| !n.ends_with(".tmp"),
                usize::MAX,
                |_, bytes| async move { self.handle(&bytes).await },
            )
            .await?;
        let duplicates = drained.kept.iter().filter(|d| **d).count();
        Ok(PollReport {
            ingested: drained.kept.len() - duplicates,
            duplicates,
            rejected: drained.failed,
        })
    }

    /// Ingests one file: `Ok(Ok(duplicate))`, or `Ok(Err(reason))` when it cannot be used.
    async fn handle(&self, bytes: &[u8]) -> Result<Result<bool, String>, filing::IngestError> {
        let partner = &self.config.partner;
        let canonical =
            match filing::inbound_json_off_worker(&self.config.layout, partner, bytes).await {
                Ok(c) => c,
                Err(e) => return Ok(Err(format!("does not map: {e}"))),
            };
        let lrn = match canonical.get("lrn").and_then(Value::as_str) {
            Some(lrn) => Some(lrn.to_owned()),
            None => match canonical
                .get("acknowledged_interchange")
                .and_then(Value::as_str)
            {
                Some(reference) => self
                    .ledger
                    .interchange_lrn(partner, reference)
                    .await
                    .map_err(|e| store_error(partner, e))?,
                None => None,
            },
        };
        let Some(lrn) = lrn else {
            return Ok(Err(
                "names no LRN and no interchange sent by this hub".into()
            ));
        };
        let Some(filed) = self
            .ledger
            .filing(&lrn)
            .await
            .map_err(|e| store_error(partner, e))?
        else {
            return Ok(Err(format!("LRN {lrn} was not filed through this hub")));
        };
        if filed.partner != *partner {
            return Ok(Err(format!("LRN {lrn} was not filed with {partner}")));
        }
        let key = filed.key;
        let report = filing::status_report(&canonical, &lrn);
        let id = format!("file:{partner}:{}", filing::content_hash(bytes));
        let (_, duplicate) = filing::ingest(
            &self.mailbox,
            self.config.partitions,
            &key,
            filing::STATUS_KIND,
            &id,
            report.clone(),
        )
        .await?;
        // A CONTRL receipt must not hide a CUSRES status already known, nor a file
        // seen before the status that followed it.
        let cusres = canonical.get("message").and_then(Value::as_str) == Some("CUSRES");
        if !duplicate && (cusres || report["status"] == json!("REJECTED")) {
            let _ = self.ledger.record_status(partner, &lrn, &report).await;
        }
        if cusres && !duplicate {
            self.acknowledge(bytes).await;
        }
        Ok(Ok(duplicate))
    }

    /// Writes our CONTRL for a received interchange; a failure is logged, never fatal
    /// (the status is already durable, and the broker resends what it misses).
    async fn acknowledge(&self, bytes: &[u8]) {
        let Some(dir) = &self.config.acknowledge_to else {
            return;
        };
        let partner = &self.config.partner;
        let range =
            filing::with_template(&self.config.layout, partner, |p| match &p.template.codec {
                CodecSettings::Edifact(e) => e.control_range,
                _ => None,
            })
            .ok()
            .flatten();
        let reference = match self.ledger.next_control_ref(partner, range).await {
            Ok(r) => r.to_string(),
            Err(e) => {
                tracing::warn!(partner = %partner, error = %e, "no control reference for our CONTRL");
                return;
            }
        };
        let now = time::OffsetDateTime::now_utc();
        let ctx = BTreeMap::from([
            ("control_ref".to_owned(), reference.clone()),
            (
                "date".to_owned(),
                format!(
                    "{:04}{:02}{:02}",
                    now.year(),
                    u8::from(now.month()),
                    now.day()
                ),
            ),
            (
                "time".to_owned(),
                format!("{:02}{:02}", now.hour(), now.minute()),
            ),
        ]);
        let contrl =
            filing::with_template(&self.config.layout, partner, |p| p.acknowledge(bytes, &ctx));
        match contrl {
            Ok(Ok(contrl)) => {
                let dir = dir.clone();
                let name = format!("CONTRL_{reference}.edi");
                let written =
                    tokio::task::spawn_blocking(move || write_atomically(&dir, &name, &contrl))
                        .await
                        .map_err(std::io::Error::other)
                        .and_then(|r| r);
                if let Err(e) = written {
                    tracing::warn!(partner = %partner, error = %e, "our CONTRL could not be written");
                }
            }
            Ok(Err(e)) | Err(e) => {
                tracing::warn!(partner = %partner, error = %e, "no CONTRL for a received CUSRES");
            }
        }
    }

    /// Polls until `stop` resolves.
    pub async fn run(self, stop: impl std::future::Future<Output = ()>) {
        tokio::pin!(stop);
        loop {
            if let Err(e) = self.poll_once().await {
                tracing::warn!(partner = %self.config.partner, error = %e, "inbox poll failed; files stay for the next poll");
            }
            tokio::select! {
                () = &mut stop => return,
                () = tokio::time::sleep(self.config.poll) => {}
            }
        }
    }
}

fn store_error(partner: &str, e: LedgerError) -> filing::IngestError {
    filing::IngestError {
        id: format!("file:{partner}"),
        key: String::new(),
        source: tradehub_actors::mailbox::MailboxError::Unavailable(e.to_string()),
    }
}
