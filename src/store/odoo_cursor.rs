//! Where the Odoo poll of one model stands: the cursor (`<prefix>:{sys}:odoo:cursor:<db>:<model>`,
//! JSON) and the fingerprint last handed out per record (`<prefix>:{sys}:odoo:seen:<db>:<model>`,
//! a hash of record id → fingerprint). Both move together, in one transaction.

use serde::Serialize;
use serde::de::DeserializeOwned;
use tradehub_actors::mailbox::{MailboxError, MailboxResult};

use super::RedisMailbox;

/// The cursor and fingerprints of one model of one Odoo database. Cheap to clone.
#[derive(Debug, Clone)]
pub struct OdooCursor {
    store: RedisMailbox,
    cursor_key: String,
    seen_key: String,
}

impl OdooCursor {
    /// The cursor of `model` in database `db`, in a mailbox's Redis under its prefix.
    pub fn new(store: &RedisMailbox, db: &str, model: &str) -> Self {
        Self {
            cursor_key: store.keys().odoo_cursor(db, model),
            seen_key: store.keys().odoo_seen(db, model),
            store: store.clone(),
        }
    }

    /// The stored cursor (`None` before the first commit).
    pub async fn cursor<C: DeserializeOwned>(&self) -> MailboxResult<Option<C>> {
        let text: Option<String> = self
            .store
            .query("GET", redis::cmd("GET").arg(&self.cursor_key))
            .await?;
        text.map(|t| {
            serde_json::from_str(&t)
                .map_err(|e| MailboxError::Protocol(format!("cursor at {}: {e}", self.cursor_key)))
        })
        .transpose()
    }

    /// The fingerprint last handed out for each of `ids`, in the same order.
    pub async fn fingerprints(&self, ids: &[u64]) -> MailboxResult<Vec<Option<String>>> {
        self.store
            .query("HMGET", redis::cmd("HMGET").arg(&self.seen_key).arg(ids))
            .await
    }

    /// Records the fingerprints handed out (`(record id, fingerprint)`) and, when given, the
    /// new cursor, atomically.
    pub async fn commit<C: Serialize>(
        &self,
        seen: &[(u64, &str)],
        next: Option<&C>,
    ) -> MailboxResult<()> {
        let mut pipe = redis::pipe();
        pipe.atomic();
        for (id, fingerprint) in seen {
            pipe.hset(&self.seen_key, id, fingerprint).ignore();
        }
        if let Some(next) = next {
            let text = serde_json::to_string(next).map_err(|e| {
                MailboxError::Protocol(format!("cursor at {}: {e}", self.cursor_key))
            })?;
            pipe.set(&self.cursor_key, text).ignore();
        }
        self.store.query_pipe("MULTI/EXEC", &pipe).await
    }

    /// Records one fingerprint handed out, leaving the cursor where it is.
    pub async fn record_seen(&self, id: u64, fingerprint: &str) -> MailboxResult<()> {
        self.store
            .hset(&self.seen_key, &id.to_string(), fingerprint)
            .await
    }
}
