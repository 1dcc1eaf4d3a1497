//! API tokens: one hash per token (`<prefix>:{sys}:token:<id>`) and the set of every id
//! (`<prefix>:{sys}:tokens`). Only the HMAC of a token's secret is stored, never the secret;
//! [`crate::auth`] computes and checks it. Fields: `hash` (hex), `roles` (comma-separated),
//! `label`, `created_ms`, and once set `expires_ms`, `last_used_ms`, `revoked_ms`.

use std::collections::HashMap;

use tradehub_actors::clock::Millis;
use tradehub_actors::mailbox::{MailboxError, MailboxResult};

use super::RedisMailbox;

/// One token as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredToken {
    /// The public part of the token.
    pub id: String,
    /// HMAC-SHA256 of the secret under the pepper, hex.
    pub hash: String,
    /// Role names.
    pub roles: Vec<String>,
    /// Who or what holds it.
    pub label: String,
    /// When it was created.
    pub created_ms: Millis,
    /// When it stops working, if ever.
    pub expires_ms: Option<Millis>,
    /// When it last authenticated a request (written at most every few seconds).
    pub last_used_ms: Option<Millis>,
    /// When it was revoked.
    pub revoked_ms: Option<Millis>,
}

/// The token store of a mailbox's Redis, under its prefix. Cheap to clone.
#[derive(Debug, Clone)]
pub struct TokenStore {
    store: RedisMailbox,
}

impl TokenStore {
    /// The tokens in `store`'s Redis.
    pub fn of(store: &RedisMailbox) -> Self {
        Self {
            store: store.clone(),
        }
    }

    /// Records a new token (its id and hash come from the caller).
    pub async fn create(&self, token: &StoredToken) -> MailboxResult<()> {
        let keys = self.store.keys();
        let mut fields = vec![
            ("hash", token.hash.clone()),
            ("roles", token.roles.join(",")),
            ("label", token.label.clone()),
            ("created_ms", token.created_ms.to_string()),
        ];
        if let Some(expires) = token.expires_ms {
            fields.push(("expires_ms", expires.to_string()));
        }
        let mut pipe = redis::pipe();
        pipe.atomic()
            .hset_multiple(keys.token(&token.id), &fields)
            .ignore()
            .sadd(keys.tokens(), &token.id)
            .ignore();
        self.store.query_pipe("MULTI/EXEC", &pipe).await
    }

    /// The token `id`, if there is one.
    pub async fn get(&self, id: &str) -> MailboxResult<Option<StoredToken>> {
        let fields: HashMap<String, String> = self
            .store
            .query(
                "HGETALL",
                redis::cmd("HGETALL").arg(self.store.keys().token(id)),
            )
            .await?;
        decode(id, fields)
    }

    /// Every token, in id order.
    pub async fn list(&self) -> MailboxResult<Vec<StoredToken>> {
        let mut ids: Vec<String> = self
            .store
            .query(
                "SMEMBERS",
                redis::cmd("SMEMBERS").arg(self.store.keys().tokens()),
            )
            .await?;
        ids.sort();
        let mut tokens = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(token) = self.get(&id).await? {
                tokens.push(token);
            }
        }
        Ok(tokens)
    }

    /// Marks token `id` revoked at `at`; `false` when there is no such token.
    pub async fn revoke(&self, id: &str, at: Millis) -> MailboxResult<bool> {
        self.set_if_exists(id, "revoked_ms", &at.to_string()).await
    }

    /// Replaces the hash of token `id` (a rotated secret); `false` when there is no such token.
    pub async fn replace_hash(&self, id: &str, hash: &str) -> MailboxResult<bool> {
        self.set_if_exists(id, "hash", hash).await
    }

    /// Records that token `id` authenticated a request at `at`.
    pub async fn touch(&self, id: &str, at: Millis) -> MailboxResult<bool> {
        self.set_if_exists(id, "last_used_ms", &at.to_string())
            .await
    }

    /// Sets `field` of token `id`'s hash only when the token exists: HSET alone would create a
    /// stray record for an unknown id. Tokens are never deleted, so checking first is enough.
    async fn set_if_exists(&self, id: &str, field: &str, value: &str) -> MailboxResult<bool> {
        let key = self.store.keys().token(id);
        let exists: bool = self
            .store
            .query("HEXISTS", redis::cmd("HEXISTS").arg(&key).arg("created_ms"))
            .await?;
        if !exists {
            return Ok(false);
        }
        self.store.hset(&key, field, value).await?;
        Ok(true)
    }
}

fn decode(id: &str, mut fields: HashMap<String, String>) -> MailboxResult<Option<StoredToken>> {
    if fields.is_empty() {
        return Ok(None);
    }
    let malformed = |field: &str| MailboxError::Protocol(format!("token {id}: field {field}"));
    let mut millis = |field: &str| -> MailboxResult<Option<Millis>> {
        fields
            .remove(field)
            .map(|v| v.parse().map_err(|_| malformed(field)))
            .transpose()
    };
    let created_ms = millis("created_ms")?.ok_or_else(|| malformed("created_ms"))?;
    let expires_ms = millis("expires_ms")?;
    let last_used_ms = millis("last_used_ms")?;
    let revoked_ms = millis("revoked_ms")?;
    let hash = fields.remove("hash").ok_or_else(|| malformed("hash"))?;
    let roles = fields
        .remove("roles")
        .unwrap_or_default()
        .split(',')
        .filter(|r| !r.is_empty())
        .map(str::to_owned)
        .collect();
    Ok(Some(StoredToken {
        id: id.to_owned(),
        hash,
        roles,
        label: fields.remove("label").unwrap_or_default(),
        created_ms,
        expires_ms,
        last_used_ms,
        revoked_ms,
    }))
}
