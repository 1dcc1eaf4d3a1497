//! The finance inbox, a batch job of the scheduler: it polls a folder for settlement
//! documents, keeps each one durably in Redis under its declaration, and reconciles every
//! declaration whose documents are complete.
//!
//! Layout: `<folder>/<broker>/` per broker (named as its partner template), read through
//! [`Inbox`]: no links followed, a size cap (`max_file_bytes`), each file claimed in
//! `<broker>/processing/` while it is read. A readable file moves to `<broker>/processed/`; an
//! unreadable one, one that crashed the reader, or one naming an LRN this hub did not file with
//! that broker, moves to `<broker>/failed/` with `<name>.reason` beside it. Nothing is deleted.
//!
//! The store keeps a dossier per declaration, with the saga key, one entry per document
//! (`assessment`, `invoice`, `declaration`) and the last outcome, and the set of LRNs still to
//! settle ([`crate::store::finance`]): one whose new document was kept (so that a hub killed after
//! moving the file and before settling settles it on its next poll), or whose Odoo posting must be
//! tried again. An LRN leaves it once its saga has been told, or while its documents are
//! incomplete (the next document puts it back).
//!
//! A complete declaration is reconciled against the estimate recomputed from the shipment as
//! declared (the broker's declaration copy, or the saga's state). A reconciled one is posted
//! to Odoo (draft vendor bill and landed cost, idempotently) and only then given to the saga;
//! the saga gets `finance.assessed_duty` (imports) and `finance.broker_invoice` carrying the
//! batch's verdict, so it closes, or raises DUTY_VARIANCE naming every reason. Inputs are
//! ingested with content-derived idempotency keys: a re-run feeds nothing twice.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use futures::StreamExt;
use serde_json::{Value, json};
use tradehub_actors::envelope::partition_of;
use tradehub_actors::mailbox::{Mailbox, MailboxError};

use super::batch::{self, Dossier, Outcome, Status};
use super::documents::{self, Settlement};
use super::post::{self, PostError};
use super::settings::{FinanceConfig, ReconcileSettings, SettingsError};
use crate::model::{Money, Shipment};
use crate::partners::config::Layout;
use crate::partners::file_drop::Inbox;
use crate::partners::filing;
use crate::partners::odoo::OdooClient;
use crate::store::RedisMailbox;
use crate::store::finance::Dossiers;
use crate::store::lrn_ledger::{Ledger, LedgerError};
use crate::tariff::duty::{TableError, TariffBook};
use crate::tariff::reconcile::InvoiceItemKind;
use crate::workflow::shipment::inputs::{ASSESSED_DUTY, BROKER_INVOICE, BatchVerdict};

/// The inbox could not be built.
#[derive(Debug, thiserror::Error)]
pub enum InboxError {
    /// The reconciliation settings.
    #[error("reconciliation settings: {0}")]
    Settings(#[from] SettingsError),
    /// The tariff tables.
    #[error("tariff tables for the reconciliation estimate: {0}")]
    Tariffs(#[from] TableError),
}

/// A poll could not finish; files and declarations left stay for the next poll.
#[derive(Debug, thiserror::Error)]
pub enum PollError {
    /// The dossiers could not be read or written.
    #[error("finance inbox in Redis: {0}")]
    Store(#[from] MailboxError),
    /// The saga's inbox refused an input.
    #[error("finance inbox: {0}")]
    Ingest(#[from] filing::IngestError),
    /// The LRN ledger.
    #[error("finance inbox: {0}")]
    Ledger(#[from] LedgerError),
}

/// What one poll did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct InboxReport {
    /// Files read and kept.
    pub processed: usize,
    /// Files moved to `failed/`.
    pub failed: usize,
    /// Declarations still missing a document.
    pub waiting: usize,
    /// Declarations reconciled (and posted when Odoo is configured).
    pub reconciled: usize,
    /// Declarations with a variance.
    pub variances: usize,
    /// Declarations whose Odoo posting failed (retried on the next poll).
    pub post_failures: usize,
    /// Files were left for the next poll (at most [`FILES_PER_POLL`] per broker are read).
    pub more: bool,
}

/// Declarations settled at once in one poll.
const SETTLE_AT_ONCE: usize = 16;

/// Files read from one broker's folder in one poll, so that a large drop is settled as it is
/// read rather than after the last file.
pub const FILES_PER_POLL: usize = 500;

/// The finance inbox; see the module docs.
#[derive(Debug, Clone)]
pub struct FinanceInbox {
    config: FinanceConfig,
    settings: Arc<ReconcileSettings>,
    book: Arc<TariffBook>,
    layout: Layout,
    mailbox: RedisMailbox,
    ledger: Ledger,
    dossiers: Dossiers,
    partitions: u16,
    odoo: Option<OdooClient>,
}

impl FinanceInbox {
    /// An inbox reading `config.settings` and the tariff tables in `config.tariffs` (paths
    /// relative to `layout.root` unless absolute), posting to `odoo` when given.
    pub fn new(
        config: FinanceConfig,
        layout: Layout,
        mailbox: RedisMailbox,
        partitions: u16,
        odoo: Option<OdooClient>,
    ) -> Result<Self, InboxError> {
        let settings = ReconcileSettings::load(&layout.root.join(&config.settings))?;
        let book = TariffBook::load(&layout.root.join(&config.tariffs))?;
        Ok(Self::with_parts(
            config,
            Arc::new(settings),
            Arc::new(book),
            layout,
            mailbox,
            partitions,
            odoo,
        ))
    }

    /// An inbox from settings and tables already loaded (shared with the saga).
    pub fn with_parts(
        config: FinanceConfig,
        settings: Arc<ReconcileSettings>,
        book: Arc<TariffBook>,
        layout: Layout,
        mailbox: RedisMailbox,
        partitions: u16,
        odoo: Option<OdooClient>,
    ) -> Self {
        Self {
            config,
            settings,
            book,
            layout,
            ledger: Ledger::of(&mailbox),
            dossiers: Dossiers::of(&mailbox),
            mailbox,
            partitions,
            odoo,
        }
    }

    /// Reads every new file once, then reconciles the declarations they completed and those
    /// whose posting is to be retried.
    pub async fn poll_once(&self) -> Result<InboxReport, PollError> {
        let mut report = InboxReport::default();
        let mut touched = BTreeSet::new();
        for (broker, inbox) in folders(&self.config) {
            let broker = broker.as_str();
            let drained = inbox
                .drain(is_document, FILES_PER_POLL, |name, bytes| async move {
                    self.keep(&name, &bytes, broker).await
                })
                .await?;
            report.processed += drained.kept.len();
            report.failed += drained.failed;
            report.more |= drained.more;
            touched.extend(drained.kept.into_iter().flatten());
        }
        touched.extend(self.dossiers.to_settle().await?);
        // Declarations are independent (each posting is looked up before it is made), so
        // several settle at once: a broker's batch of thousands of invoices does not wait on
        // one Odoo round trip after another.
        let mut settled = futures::stream::iter(touched)
            .map(|lrn| async move {
                let mut delta = InboxReport::default();
                self.settle(&lrn, &mut delta).await.map(|()| delta)
            })
            .buffer_unordered(SETTLE_AT_ONCE);
        while let Some(delta) = settled.next().await {
            let delta = delta?;
            report.waiting += delta.waiting;
            report.reconciled += delta.reconciled;
            report.variances += delta.variances;
            report.post_failures += delta.post_failures;
        }
        Ok(report)
    }

    /// Reads a file and keeps its documents; `Err` is why the file is set aside.
    async fn keep(
        &self,
        name: &str,
        bytes: &[u8],
        broker: &str,
    ) -> Result<Result<Vec<String>, String>, PollError> {
        let settlements = match documents::read_off_worker(name, bytes, broker, &self.layout).await
        {
            Ok(s) => s,
            Err(e) => return Ok(Err(e.to_string())),
        };
        let mut keyed = Vec::with_capacity(settlements.len());
        for s in settlements {
            let Some(filing) = self.ledger.filing(s.lrn()).await? else {
                return Ok(Err(format!(
                    "{name}: LRN {} was not filed through this hub",
                    s.lrn()
                )));
            };
            if filing.partner != broker {
                tracing::warn!(broker, lrn = s.lrn(), filed_with = %filing.partner, file = name, "a settlement document arrived in another broker's folder; not applied");
                return Ok(Err(format!(
                    "{name}: LRN {} was filed with {}, not with {broker} whose folder it came from; not applied",
                    s.lrn(),
                    filing.partner
                )));
            }
            keyed.push((filing.key, s));
        }
        let mut lrns = Vec::with_capacity(keyed.len());
        for (key, s) in keyed {
            // Marked to settle with the document, before its file moves away: the file is the
            // only other trace of this work.
            self.dossiers.keep(s.lrn(), &key, s.slot(), &s).await?;
            lrns.push(s.lrn().to_owned());
        }
        Ok(Ok(lrns))
    }

    /// The dossier of `lrn` as kept in the store, with its saga key.
    async fn dossier(&self, lrn: &str) -> Result<Option<(String, Dossier)>, PollError> {
        let Some(stored) = self.dossiers.dossier::<Settlement>(lrn).await? else {
            return Ok(None);
        };
        let key = stored.key;
        let mut dossier = Dossier::new(lrn);
        for s in stored.documents {
            dossier.add(s);
        }
        if dossier.shipment.is_none() {
            dossier.shipment = saga_shipment(&self.mailbox, self.partitions, &key)
                .await?
                .map(Box::new);
        }
        Ok(Some((key, dossier)))
    }

    async fn settle(&self, lrn: &str, report: &mut InboxReport) -> Result<(), PollError> {
        let Some((key, dossier)) = self.dossier(lrn).await? else {
            return Ok(());
        };
        let outcome = batch::settle(&dossier, &self.book, &self.settings);
        self.dossiers.record_outcome(lrn, &outcome).await?;
        let verdict = match outcome.status {
            Status::Waiting => {
                report.waiting += 1;
                self.dossiers.settled(lrn).await?;
                return Ok(());
            }
            Status::Variance => {
                report.variances += 1;
                BatchVerdict {
                    reconciled: false,
                    reasons: outcome.reasons.clone(),
                    vendor_bill: None,
                    landed_cost: None,
                }
            }
            Status::Reconciled => match self.post(&dossier, &outcome).await {
                Ok(posted) => {
                    report.reconciled += 1;
                    BatchVerdict {
                        reconciled: true,
                        reasons: Vec::new(),
                        vendor_bill: posted.map(|p| p.vendor_bill),
                        landed_cost: posted.and_then(|p| p.landed_cost),
                    }
                }
                Err(e) => {
                    tracing::warn!(lrn, error = %e, "reconciled, but the Odoo posting failed; retried on the next poll");
                    // Still marked to settle: the next poll tries the posting again.
                    report.post_failures += 1;
                    return Ok(());
                }
            },
        };
        // Told first, unmarked after: a hub killed in between tells again, which the content-
        // derived input ids make harmless.
        self.feed(&key, &dossier, verdict).await?;
        Ok(self.dossiers.settled(lrn).await?)
    }

    async fn post(
        &self,
        dossier: &Dossier,
        outcome: &Outcome,
    ) -> Result<Option<post::Posted>, PostError> {
        let (Some(odoo), Some(shipment), Some(invoice), Some(posting)) = (
            &self.odoo,
            &dossier.shipment,
            &dossier.invoice,
            outcome
                .reconciliation
                .as_ref()
                .and_then(|r| r.posting.as_ref()),
        ) else {
            return Ok(None);
        };
        let partner = self
            .settings
            .brokers
            .get(&invoice.broker)
            .map(|t| t.odoo_partner.as_str())
            .unwrap_or(invoice.broker.as_str());
        post::post(
            odoo,
            &dossier.lrn,
            partner,
            shipment,
            invoice,
            posting,
            self.settings.split_method,
        )
        .await
        .map(Some)
    }

    /// Gives the saga the assessment and the invoice with the batch's verdict.
    async fn feed(&self, key: &str, d: &Dossier, verdict: BatchVerdict) -> Result<(), PollError> {
        let Some(invoice) = &d.invoice else {
            return Ok(());
        };
        if let Some((reference, assessed)) = &d.assessment {
            let body = json!({
                "duty": Money::new(assessed.total().duty, assessed.currency),
                "reference": reference,
            });
            self.tell(key, ASSESSED_DUTY, &d.lrn, "assessed", body)
                .await?;
        }
        let body = json!({
            "invoice": invoice.number,
            "duty": Money::new(invoice.total_of(InvoiceItemKind::Duty), invoice.currency),
            "fees": Money::new(invoice.total_of(InvoiceItemKind::Fee), invoice.currency),
            "reconciliation": verdict,
        });
        self.tell(key, BROKER_INVOICE, &d.lrn, "invoice", body)
            .await
    }

    /// Ingest `body` as a `kind` input of saga `key`, once per content (the id hashes it).
    async fn tell(
        &self,
        key: &str,
        kind: &str,
        lrn: &str,
        what: &str,
        body: Value,
    ) -> Result<(), PollError> {
        let id = format!(
            "finance:{lrn}:{what}:{}",
            filing::content_hash(body.to_string().as_bytes())
        );
        filing::ingest(&self.mailbox, self.partitions, key, kind, &id, body).await?;
        Ok(())
    }

    /// Polls until `stop` resolves.
    pub async fn run(self, stop: impl std::future::Future<Output = ()>) {
        tokio::pin!(stop);
        loop {
            let mut more = false;
            match self.poll_once().await {
                Ok(r) if r != InboxReport::default() => {
                    more = r.more;
                    tracing::info!(
                        processed = r.processed,
                        failed = r.failed,
                        reconciled = r.reconciled,
                        variances = r.variances,
                        waiting = r.waiting,
                        post_failures = r.post_failures,
                        "finance inbox polled"
                    );
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "finance inbox poll failed; files stay for the next poll");
                }
            }
            let pause = if more {
                std::time::Duration::ZERO
            } else {
                self.config.poll
            };
            tokio::select! {
                () = &mut stop => return,
                () = tokio::time::sleep(pause) => {}
            }
        }
    }
}

/// The shipment in the saga state of `key`, when the saga has one.
pub async fn saga_shipment(
    mailbox: &RedisMailbox,
    partitions: u16,
    key: &str,
) -> Result<Option<Shipment>, filing::IngestError> {
    let stored = mailbox
        .load(partition_of(key, partitions), key)
        .await
        .map_err(|source| filing::IngestError {
            id: format!("load {key}"),
            key: key.to_owned(),
            source,
        })?;
    Ok(stored
        .state
        .and_then(|s| serde_json::from_str::<Value>(&s).ok())
        .and_then(|v| v.get("shipment").cloned())
        .and_then(|s| serde_json::from_value(s).ok()))
}

/// The drop folder of each broker under `config.folder`, by broker name: documents read move
/// to `processed/`, those set aside to `failed/`.
pub fn folders(config: &FinanceConfig) -> Vec<(String, Inbox)> {
    broker_dirs(&config.folder)
        .into_iter()
        .map(|(broker, dir)| {
            let inbox = Inbox::new(dir, "processed", "failed", config.max_file_bytes);
            (broker, inbox)
        })
        .collect()
}

/// `(broker, folder)` for each broker subfolder (a real folder, not a link), by name.
pub fn broker_dirs(root: &Path) -> Vec<(String, PathBuf)> {
    let mut dirs: Vec<(String, PathBuf)> = std::fs::read_dir(root)
        .into_iter()
        .flatten()
        .flatten()
        // A link is not a broker folder: it could lead anywhere.
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.path())
        .filter_map(|p| {
            let name = p.file_name()?.to_str()?.to_owned();
            (!name.starts_with('.')).then_some((name, p))
        })
        .collect();
    dirs.sort();
    dirs
}

/// Whether a file name in a broker's folder is a document (temporary and `.reason` files are
/// not).
pub fn is_document(name: &str) -> bool {
    !name.ends_with(".tmp") && !name.ends_with(".reason")
}
