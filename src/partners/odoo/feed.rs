//! Odoo's changes into the shipment saga: the `odoo-poller` loop (the `(write_date, id)` cursor
//! poll that guarantees completeness) and the webhook hint behind `POST /v1/ingest/odoo` (which
//! only makes a change arrive sooner). Both hand each change to [`picking_input`] and ingest the
//! result durably, keyed by the change's idempotency key, before the cursor or fingerprint moves:
//! a crash in between repeats a change and the ingest drops the repeat.

use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::watch;

use super::{Change, PollError, Poller, shipment_key};
use crate::partners::filing::ingest;
use crate::store::RedisMailbox;
use crate::workflow::shipment::inputs::{PICKING_CANCELLED, PICKING_CONFIRMED};

/// The saga input for one changed picking: `(saga key, kind, body)`. A draft picking is not a
/// shipment yet (`None`); a cancelled one cancels; any other state says "confirmed, maybe
/// changed", which starts the saga or makes it re-read the picking where that matters.
pub fn picking_input(change: &Change, db: &str) -> Option<(String, &'static str, Value)> {
    if change.model != "stock.picking" {
        return None;
    }
    let key = shipment_key(db, change.id);
    match change.record.text("state")? {
        "cancel" => Some((
            key,
            PICKING_CANCELLED,
            json!({ "picking_id": change.id, "reason": "cancelled in Odoo" }),
        )),
        "confirmed" | "waiting" | "assigned" | "done" => {
            Some((key, PICKING_CONFIRMED, json!({ "picking_id": change.id })))
        }
        _ => None,
    }
}

/// Pickings from one Odoo database into the saga.
pub struct OdooFeed {
    poller: Poller,
    mailbox: RedisMailbox,
    partitions: u16,
    db: String,
}

impl OdooFeed {
    /// A feed of `poller`'s changes into `mailbox`.
    pub fn new(poller: Poller, mailbox: RedisMailbox, partitions: u16, db: &str) -> Self {
        Self {
            poller,
            mailbox,
            partitions,
            db: db.to_owned(),
        }
    }

    async fn ingest(&self, change: &Change) -> Result<Option<String>, PollError> {
        let Some((key, kind, body)) = picking_input(change, &self.db) else {
            return Ok(None);
        };
        ingest(
            &self.mailbox,
            self.partitions,
            &key,
            kind,
            &change.idempotency_key(),
            body,
        )
        .await
        .map_err(|e| PollError::Ingest(e.to_string()))?;
        Ok(Some(key))
    }

    /// Poll until Odoo has nothing newer; returns how many changes were seen.
    pub async fn poll_once(&self) -> Result<usize, PollError> {
        self.poller
            .drain(|changes| async move {
                for change in &changes {
                    self.ingest(change).await?;
                }
                Ok::<(), PollError>(())
            })
            .await
    }

    /// A webhook payload: read the record back, ingest it when it changed; returns the saga key
    /// it went to (`None`: nothing new, or not a shipment).
    pub async fn hint(&self, body: &[u8]) -> Result<Option<String>, PollError> {
        let Some(change) = self.poller.hint(body).await? else {
            return Ok(None);
        };
        let key = self.ingest(&change).await?;
        self.poller.commit_hint(&change).await?;
        Ok(key)
    }

    /// Poll every `every` until `stop` turns true; a failed poll is logged and retried at the
    /// next tick (the cursor did not move).
    pub async fn run(&self, every: Duration, mut stop: watch::Receiver<bool>) {
        let mut ticker = tokio::time::interval(every);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = ticker.tick() => {}
                _ = stop.changed() => return,
            }
            match self.poll_once().await {
                Ok(0) => {}
                Ok(changes) => tracing::debug!(changes, "odoo poll"),
                Err(error) => tracing::warn!(%error, "odoo poll failed; retrying next tick"),
            }
        }
    }
}
