//! Change detection. Odoo's webhooks are fire-and-forget (1 s timeout, no retry), so they are
//! only hints; completeness comes from polling each model with a `(write_date, id)` cursor.
//!
//! `write_date` is stored to the microsecond but read back to the second, and one transaction
//! gives all its rows the same value, so a second can hold any number of rows in an order the
//! reader cannot see. The cursor therefore names a whole second and the last id taken from it:
//! the poll first drains the rest of that second by id, then moves on to later seconds ordered by
//! `write_date, id`, and never stops a page in the middle of a second it has not drained by id.
//!
//! Both paths compare a fingerprint of the watched fields with the last one handed out for the
//! record (kept in the store, [`OdooCursor`]), so one change gives one input, a webhook followed by the
//! poll gives one input, and the hub's own writes to `x_trade_*` (not watched) give none. The
//! cursor and the fingerprints move together, in one transaction, only after the caller has
//! ingested the changes: a crash in between repeats changes, never loses them, and the caller's
//! ingest dedupes on [`Change::idempotency_key`].

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::client::OdooClient;
use super::error::OdooError;
use super::value::{OdooDateTime, Rec};
use crate::store::RedisMailbox;
use crate::store::odoo_cursor::OdooCursor;
use tradehub_actors::mailbox::MailboxError;

/// What the poller watches.
#[derive(Debug, Clone)]
pub struct PollerConfig {
    /// The model, e.g. `stock.picking`.
    pub model: String,
    /// Fields whose change is a change for the hub (never the hub's own `x_trade_*`).
    pub fields: Vec<String>,
    /// Extra domain terms (e.g. only outgoing and incoming pickings).
    pub domain: Vec<Value>,
    /// Records per page.
    pub page_size: usize,
    /// Rows younger than this are left for the next poll: a transaction that started earlier but
    /// commits later carries an older `write_date`, and would otherwise fall behind the cursor.
    pub settle: Duration,
}

impl PollerConfig {
    /// Pickings, watching what a shipment is built from.
    pub fn pickings() -> Self {
        Self {
            model: "stock.picking".to_owned(),
            fields: [
                "name",
                "state",
                "partner_id",
                "picking_type_code",
                "scheduled_date",
                "move_ids",
                "carrier_id",
                "carrier_tracking_ref",
                "sale_id",
                "purchase_id",
            ]
            .map(str::to_owned)
            .to_vec(),
            domain: vec![json!(["picking_type_code", "in", ["outgoing", "incoming"]])],
            page_size: 200,
            settle: Duration::from_secs(2),
        }
    }
}

/// Where the poll of one model stands: every row of seconds before `second` is taken, and in
/// `second` every row with an id up to `id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    #[serde(with = "datetime_text")]
    pub second: OdooDateTime,
    pub id: u64,
}

mod datetime_text {
    use serde::{Deserialize, Deserializer, Serializer};

    use super::OdooDateTime;

    pub fn serialize<S: Serializer>(value: &OdooDateTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&value.to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<OdooDateTime, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// How a change was noticed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeSource {
    Poll,
    Webhook,
}

/// One change of one record, to become one input of the hub.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub model: String,
    pub id: u64,
    pub write_date: Option<OdooDateTime>,
    /// SHA-256 of the watched fields' values.
    pub fingerprint: String,
    pub source: ChangeSource,
    /// The record as read (watched fields and `write_date`).
    pub record: Rec,
}

impl Change {
    /// The key the ingest dedupes on: the same content of the same record is the same input,
    /// however it was noticed.
    pub fn idempotency_key(&self) -> String {
        format!(
            "odoo:{}:{}:{}",
            self.model,
            self.id,
            &self.fingerprint[..16]
        )
    }
}

/// One poll's result; hand it back to [`Poller::commit`] once the changes are ingested.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub changes: Vec<Change>,
    /// Records read, changed or not.
    pub read: usize,
    /// Where the next poll starts.
    pub next: Option<Cursor>,
    /// A full page was read: poll again at once.
    pub more: bool,
}

/// Why a poll or a hint failed.
#[derive(Debug, thiserror::Error)]
pub enum PollError {
    #[error(transparent)]
    Odoo(#[from] OdooError),
    /// The cursor or the fingerprints could not be read or written.
    #[error("Redis: {0}")]
    Store(#[from] MailboxError),
    /// A webhook body that is not an Odoo automation payload.
    #[error("webhook payload: {0}")]
    Hint(String),
    /// The changes could not be made durable; the cursor stays where it was.
    #[error("ingest: {0}")]
    Ingest(String),
}

/// The poller of one model.
pub struct Poller {
    client: OdooClient,
    store: OdooCursor,
    config: PollerConfig,
    read_fields: Vec<String>,
}

impl Poller {
    /// A poller keeping its cursor and fingerprints in `store`, per database and model.
    pub fn new(client: OdooClient, store: &RedisMailbox, config: PollerConfig) -> Self {
        let mut read_fields = config.fields.clone();
        read_fields.push("write_date".to_owned());
        Self {
            store: OdooCursor::new(store, &client.config().db, &config.model),
            client,
            config,
            read_fields,
        }
    }

    /// The stored cursor (`None` before the first commit: the poll starts from the beginning).
    pub async fn cursor(&self) -> Result<Option<Cursor>, PollError> {
        Ok(self.store.cursor().await?)
    }

    fn fingerprint(&self, rec: &Rec) -> String {
        let mut hasher = Sha256::new();
        for field in &self.config.fields {
            hasher.update(field.as_bytes());
            hasher.update(b"=");
            hasher.update(
                rec.fields()
                    .get(field)
                    .unwrap_or(&Value::Bool(false))
                    .to_string()
                    .as_bytes(),
            );
            hasher.update(b"\n");
        }
        hex::encode(hasher.finalize())
    }

    fn domain(&self, terms: &[Value]) -> Value {
        let mut domain: Vec<Value> = self.config.domain.clone();
        domain.extend(terms.iter().cloned());
        if !self.config.settle.is_zero() {
            let horizon = time::OffsetDateTime::now_utc() - self.config.settle;
            domain.push(json!([
                "write_date",
                "<",
                OdooDateTime::from_utc(horizon).to_string()
            ]));
        }
        Value::Array(domain)
    }

    /// Read the next page of changed records. Nothing is stored until [`Poller::commit`].
    pub async fn poll(&self) -> Result<Page, PollError> {
        let cursor = self.cursor().await?;
        let limit = self.config.page_size;
        let fields: Vec<&str> = self.read_fields.iter().map(String::as_str).collect();
        let model = &self.config.model;
        let mut rows: Vec<Rec> = Vec::new();
        let mut next = cursor;
        if let Some(c) = cursor {
            let second = c.second.to_string();
            let following = c.second.plus_seconds(1).to_string();
            let rest = self
                .client
                .search_read(
                    model,
                    self.domain(&[
                        json!(["write_date", ">=", second]),
                        json!(["write_date", "<", following]),
                        json!(["id", ">", c.id]),
                    ]),
                    &fields,
                    Some("id"),
                    0,
                    Some(limit),
                )
                .await?;
            if let Some(last) = rest.last() {
                next = Some(Cursor {
                    second: c.second,
                    id: last.id(),
                });
            }
            let full = rest.len() == limit;
            rows.extend(rest);
            if full {
                return self.finish(rows, next, true).await;
            }
        }
        let remaining = limit - rows.len();
        let later: Vec<Value> = cursor
            .map(|c| {
                vec![json!([
                    "write_date",
                    ">=",
                    c.second.plus_seconds(1).to_string()
                ])]
            })
            .unwrap_or_default();
        let mut fresh = self
            .client
            .search_read(
                model,
                self.domain(&later),
                &fields,
                Some("write_date, id"),
                0,
                Some(remaining),
            )
            .await?;
        let full = fresh.len() == remaining;
        let second_of = |r: &Rec| r.datetime("write_date").map(OdooDateTime::truncated);
        if let Some(last_second) = fresh.last().and_then(second_of) {
            if full {
                // The page may end inside `last_second`, whose rows arrive in micro-second order,
                // not id order: leave that second whole to the next poll's drain by id.
                fresh.retain(|r| second_of(r) != Some(last_second));
                next = Some(Cursor {
                    second: last_second,
                    id: 0,
                });
            } else {
                let id = fresh
                    .iter()
                    .filter(|r| second_of(r) == Some(last_second))
                    .map(Rec::id)
                    .max()
                    .unwrap_or(0);
                next = Some(Cursor {
                    second: last_second,
                    id,
                });
            }
        }
        rows.extend(fresh);
        self.finish(rows, next, full).await
    }

    async fn finish(
        &self,
        rows: Vec<Rec>,
        next: Option<Cursor>,
        more: bool,
    ) -> Result<Page, PollError> {
        let read = rows.len();
        let changes = self.unseen(rows, ChangeSource::Poll).await?;
        Ok(Page {
            changes,
            read,
            next,
            more,
        })
    }

    async fn unseen(&self, rows: Vec<Rec>, source: ChangeSource) -> Result<Vec<Change>, PollError> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<u64> = rows.iter().map(Rec::id).collect();
        let seen = self.store.fingerprints(&ids).await?;
        Ok(rows
            .into_iter()
            .zip(seen)
            .filter_map(|(record, seen)| {
                let fingerprint = self.fingerprint(&record);
                (seen.as_deref() != Some(fingerprint.as_str())).then(|| Change {
                    model: self.config.model.clone(),
                    id: record.id(),
                    write_date: record.datetime("write_date"),
                    fingerprint,
                    source,
                    record,
                })
            })
            .collect())
    }

    /// Record a page as handled: its fingerprints and the new cursor, atomically.
    pub async fn commit(&self, page: &Page) -> Result<(), PollError> {
        let seen: Vec<(u64, &str)> = page
            .changes
            .iter()
            .map(|c| (c.id, c.fingerprint.as_str()))
            .collect();
        Ok(self.store.commit(&seen, page.next.as_ref()).await?)
    }

    /// Poll until a page is not full, handing each page's changes to `ingest` before committing it.
    pub async fn drain<F, Fut, E>(&self, mut ingest: F) -> Result<usize, PollError>
    where
        F: FnMut(Vec<Change>) -> Fut,
        Fut: Future<Output = Result<(), E>>,
        PollError: From<E>,
    {
        let mut total = 0;
        loop {
            let page = self.poll().await?;
            total += page.changes.len();
            ingest(page.changes.clone()).await?;
            self.commit(&page).await?;
            if !page.more {
                return Ok(total);
            }
        }
    }

    /// A webhook payload (`_model`, `_id`, `_action` and fields) as a hint. The record is read
    /// back from Odoo — the payload is unauthenticated and may be stale — and compared with what
    /// was already handed out. `None`: another model, or nothing new.
    pub async fn hint(&self, body: &[u8]) -> Result<Option<Change>, PollError> {
        let payload: Map<String, Value> = serde_json::from_slice(body)
            .map_err(|e| PollError::Hint(format!("not a JSON object: {e}")))?;
        let model = payload
            .get("_model")
            .and_then(Value::as_str)
            .ok_or_else(|| PollError::Hint("no _model".to_owned()))?;
        let id = match payload.get("_id") {
            Some(Value::Number(n)) => n.as_u64(),
            Some(Value::String(s)) => s.parse().ok(),
            _ => None,
        }
        .ok_or_else(|| PollError::Hint("no integer _id".to_owned()))?;
        if model != self.config.model {
            return Ok(None);
        }
        let fields: Vec<&str> = self.read_fields.iter().map(String::as_str).collect();
        let rows = match self.client.read(model, &[id], &fields).await {
            Ok(rows) => rows,
            Err(OdooError::Server { name, .. }) if name == "odoo.exceptions.MissingError" => {
                return Ok(None);
            }
            Err(e) => return Err(e.into()),
        };
        Ok(self.unseen(rows, ChangeSource::Webhook).await?.pop())
    }

    /// Record a hinted change as handled (the cursor does not move: the poll may still pass
    /// over the record, and will find nothing new in it).
    pub async fn commit_hint(&self, change: &Change) -> Result<(), PollError> {
        Ok(self
            .store
            .record_seen(change.id, &change.fingerprint)
            .await?)
    }
}
