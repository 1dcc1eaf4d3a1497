//! The LRN ledger: what turns a partner's reference back into a saga key, and what a broker
//! transport remembers between a filing and its answers.
//!
//! Each LRN is recorded with the broker it was filed with, and each carrier's shipment
//! references (bookings) under that carrier, so that a partner's callback can only speak about
//! what the hub sent that partner.
//!
//! Every hash is node-wide (`<prefix>:{sys}:…`, see [`Keys`](super::Keys)): a callback or a file
//! names only the LRN or a shipment reference, not the partition it belongs to.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tradehub_actors::mailbox::MailboxError;

use super::RedisMailbox;

/// A ledger read or write failed.
#[derive(Debug, thiserror::Error)]
#[error("LRN ledger in Redis: {0}")]
pub struct LedgerError(#[from] pub MailboxError);

/// A declaration filed through this hub: the saga it belongs to and the broker it was filed with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Filing {
    /// The saga key.
    pub key: String,
    /// The broker (partner template) the declaration was filed with.
    pub partner: String,
}

/// LRN → filing, a carrier's shipment reference → saga key, EDI interchange references, and each
/// partner's last status and document per LRN. Cheap to clone.
#[derive(Clone)]
pub struct Ledger {
    store: RedisMailbox,
}

impl std::fmt::Debug for Ledger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ledger")
            .field("prefix", &self.store.keys().prefix())
            .finish_non_exhaustive()
    }
}

impl Ledger {
    /// The ledger in a mailbox's Redis, under its prefix.
    pub fn of(store: &RedisMailbox) -> Self {
        Self {
            store: store.clone(),
        }
    }

    /// Records that declaration `lrn` of saga `key` is filed with broker `partner`. Idempotent.
    pub async fn record_lrn(&self, lrn: &str, key: &str, partner: &str) -> Result<(), LedgerError> {
        let filing = Filing {
            key: key.to_owned(),
            partner: partner.to_owned(),
        };
        let json = serde_json::to_string(&filing)
            .map_err(|e| MailboxError::Protocol(format!("LRN ledger entry of {lrn}: {e}")))?;
        Ok(self
            .store
            .hset_sealed(&self.store.keys().lrns(), lrn, &json)
            .await?)
    }

    /// The filing of declaration `lrn`, when it was filed through this hub.
    pub async fn filing(&self, lrn: &str) -> Result<Option<Filing>, LedgerError> {
        let Some(raw) = self
            .store
            .hget_opened(&self.store.keys().lrns(), lrn)
            .await?
        else {
            return Ok(None);
        };
        serde_json::from_str(&raw).map(Some).map_err(|e| {
            LedgerError(MailboxError::Protocol(format!(
                "LRN ledger entry of {lrn} is not a filing: {e}"
            )))
        })
    }

    /// The saga key of declaration `lrn`, when it was filed through this hub.
    pub async fn lrn_key(&self, lrn: &str) -> Result<Option<String>, LedgerError> {
        Ok(self.filing(lrn).await?.map(|filing| filing.key))
    }

    /// Records that `carrier` carries saga `key` under shipment reference `reference` (a
    /// booking, bill of lading or container), unless the carrier's reference already belongs to
    /// a saga: the first record stands. Returns the saga key the reference belongs to.
    pub async fn record_reference(
        &self,
        carrier: &str,
        reference: &str,
        key: &str,
    ) -> Result<String, LedgerError> {
        let hash = self.store.keys().shipment_references(carrier);
        let set: bool = self
            .store
            .query(
                "HSETNX",
                redis::cmd("HSETNX").arg(&hash).arg(reference).arg(key),
            )
            .await?;
        if set {
            return Ok(key.to_owned());
        }
        // References are never removed, so the one that stands is there to read.
        Ok(self
            .store
            .hget(&hash, reference)
            .await?
            .unwrap_or_else(|| key.to_owned()))
    }

    /// The saga key `carrier`'s shipment reference belongs to, when the hub knows it for that
    /// carrier.
    pub async fn reference_key(
        &self,
        carrier: &str,
        reference: &str,
    ) -> Result<Option<String>, LedgerError> {
        let hash = self.store.keys().shipment_references(carrier);
        Ok(self.store.hget(&hash, reference).await?)
    }

    /// The next interchange control reference for `partner`, wrapped into `range`.
    pub async fn next_control_ref(
        &self,
        partner: &str,
        range: Option<[u64; 2]>,
    ) -> Result<u64, LedgerError> {
        let counter = self.store.keys().edi_control(partner);
        let n: u64 = self
            .store
            .query("INCRBY", redis::cmd("INCRBY").arg(counter).arg(1))
            .await?;
        let [low, high] = range.unwrap_or([1, 99_999_999]);
        let span = high.saturating_sub(low).saturating_add(1).max(1);
        Ok(low + (n - 1) % span)
    }

    /// Records that interchange `reference` sent to `partner` carried declaration `lrn`
    /// (a CONTRL names only the interchange it acknowledges).
    pub async fn record_interchange(
        &self,
        partner: &str,
        reference: &str,
        lrn: &str,
    ) -> Result<(), LedgerError> {
        let hash = self.store.keys().edi_interchanges(partner);
        Ok(self.store.hset(&hash, reference, lrn).await?)
    }

    /// The LRN interchange `reference` to `partner` carried.
    pub async fn interchange_lrn(
        &self,
        partner: &str,
        reference: &str,
    ) -> Result<Option<String>, LedgerError> {
        let hash = self.store.keys().edi_interchanges(partner);
        Ok(self.store.hget(&hash, reference).await?)
    }

    /// Remembers the last canonical status `partner` reported for `lrn` (answers status
    /// queries over transports that cannot be asked synchronously).
    pub async fn record_status(
        &self,
        partner: &str,
        lrn: &str,
        answer: &Value,
    ) -> Result<(), LedgerError> {
        let hash = self.store.keys().partner_statuses(partner);
        Ok(self
            .store
            .hset_sealed(&hash, lrn, &answer.to_string())
            .await?)
    }

    /// The last status recorded with [`Ledger::record_status`].
    pub async fn last_status(
        &self,
        partner: &str,
        lrn: &str,
    ) -> Result<Option<Value>, LedgerError> {
        self.json(&self.store.keys().partner_statuses(partner), lrn)
            .await
    }

    /// Keeps the declaration document sent to `partner` under `lrn` (a cancellation
    /// over EDIFACT repeats it).
    pub async fn record_document(
        &self,
        partner: &str,
        lrn: &str,
        document: &Value,
    ) -> Result<(), LedgerError> {
        let hash = self.store.keys().partner_documents(partner);
        Ok(self
            .store
            .hset_sealed(&hash, lrn, &document.to_string())
            .await?)
    }

    /// The document recorded with [`Ledger::record_document`].
    pub async fn last_document(
        &self,
        partner: &str,
        lrn: &str,
    ) -> Result<Option<Value>, LedgerError> {
        self.json(&self.store.keys().partner_documents(partner), lrn)
            .await
    }

    /// The JSON stored under `lrn` in `hash`, when there is a readable one; one that does not
    /// open is an error.
    async fn json(&self, hash: &str, lrn: &str) -> Result<Option<Value>, LedgerError> {
        let raw = self.store.hget_opened(hash, lrn).await?;
        Ok(raw.and_then(|r| serde_json::from_str(&r).ok()))
    }
}
