//! The finance inbox's dossiers: per declaration, a node-wide hash
//! (`<prefix>:{sys}:finance:<LRN>`) with the saga `key`, one JSON field per settlement document
//! (named by its slot) and the last `outcome`; and the set of LRNs still to settle
//! (`<prefix>:{sys}:finance:retry`): a document was kept for them, or their Odoo posting is to be
//! tried again.

use serde::Serialize;
use serde::de::DeserializeOwned;
use tradehub_actors::mailbox::{MailboxError, MailboxResult};

use super::{Place, RedisMailbox};

/// The dossier field holding the saga key.
const KEY: &str = "key";
/// The dossier field holding the last outcome.
const OUTCOME: &str = "outcome";

/// A dossier as kept: the saga key and the documents that could be read back.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredDossier<D> {
    /// The saga the declaration belongs to.
    pub key: String,
    /// The documents, in no particular order; unreadable ones are left out.
    pub documents: Vec<D>,
}

/// The dossiers and the retry set in one store. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Dossiers {
    store: RedisMailbox,
}

fn json<T: Serialize>(what: &str, value: &T) -> MailboxResult<String> {
    serde_json::to_string(value)
        .map_err(|e| MailboxError::Protocol(format!("{what} cannot be serialized: {e}")))
}

impl Dossiers {
    /// The dossiers in a mailbox's Redis, under its prefix.
    pub fn of(store: &RedisMailbox) -> Self {
        Self {
            store: store.clone(),
        }
    }

    /// Keeps `document` in the dossier of `lrn` under `slot` (replacing an earlier one), with the
    /// saga `key` the declaration belongs to, and marks `lrn` to settle, in one atomic step.
    pub async fn keep<D: Serialize>(
        &self,
        lrn: &str,
        key: &str,
        slot: &str,
        document: &D,
    ) -> MailboxResult<()> {
        let body = json(&format!("{slot} of {lrn}"), document)?;
        let keys = self.store.keys();
        let dossier = keys.finance_dossier(lrn);
        let body = self
            .store
            .sealer()
            .seal_text(&Place::field(&dossier, slot), &body);
        let mut pipe = redis::pipe();
        pipe.atomic()
            .cmd("HSET")
            .arg(&dossier)
            .arg(KEY)
            .arg(key)
            .arg(slot)
            .arg(body)
            .ignore()
            .cmd("SADD")
            .arg(keys.finance_retry())
            .arg(lrn)
            .ignore();
        self.store.query_pipe("HSET+SADD", &pipe).await
    }

    /// The dossier of `lrn`; `None` when nothing was kept for it. A document that does not
    /// open (altered, or sealed under a key no longer configured) is an error.
    pub async fn dossier<D: DeserializeOwned>(
        &self,
        lrn: &str,
    ) -> MailboxResult<Option<StoredDossier<D>>> {
        let hash = self.store.keys().finance_dossier(lrn);
        let fields: Vec<(String, String)> = self
            .store
            .query("HGETALL", redis::cmd("HGETALL").arg(&hash))
            .await?;
        let mut key = None;
        let mut documents = Vec::new();
        for (field, value) in fields {
            match field.as_str() {
                KEY => key = Some(value),
                OUTCOME => {}
                slot => {
                    let value = self
                        .store
                        .sealer()
                        .open_text(&Place::field(&hash, slot), &value)?;
                    documents.extend(serde_json::from_str(&value).ok());
                }
            }
        }
        Ok(key.map(|key| StoredDossier { key, documents }))
    }

    /// Records the last outcome of settling `lrn`.
    pub async fn record_outcome<O: Serialize>(&self, lrn: &str, outcome: &O) -> MailboxResult<()> {
        let body = json(&format!("outcome of {lrn}"), outcome)?;
        self.store
            .hset_sealed(&self.store.keys().finance_dossier(lrn), OUTCOME, &body)
            .await
    }

    /// The LRNs still to settle: a document was kept for them, or their posting is to be tried
    /// again.
    pub async fn to_settle(&self) -> MailboxResult<Vec<String>> {
        self.store
            .query(
                "SMEMBERS",
                redis::cmd("SMEMBERS").arg(self.store.keys().finance_retry()),
            )
            .await
    }

    /// Takes `lrn` off the set to settle (its saga was told, or its documents are incomplete).
    pub async fn settled(&self, lrn: &str) -> MailboxResult<()> {
        self.store
            .query(
                "SREM",
                redis::cmd("SREM")
                    .arg(self.store.keys().finance_retry())
                    .arg(lrn),
            )
            .await
    }
}
