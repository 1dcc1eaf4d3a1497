//! Token management: what `tradehub token create|list|revoke|rotate` do, and what the demo and
//! the tests use to hand out tokens.

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tradehub_actors::clock::{Clock, Millis};
use tradehub_actors::mailbox::MailboxError;

use super::role::{Role, RoleSet};
use super::token::{ApiToken, NoRandomness, Pepper};
use crate::store::RedisMailbox;
use crate::store::tokens::{StoredToken, TokenStore};

/// A token operation failed.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// Redis could not be used.
    #[error("token store: {0}")]
    Store(#[from] MailboxError),
    /// No token has that id.
    #[error("no token {0}")]
    NotFound(String),
    /// The token is revoked; it stays so.
    #[error("token {0} is revoked; create a new one")]
    Revoked(String),
    /// A token must hold at least one role.
    #[error("a token needs at least one role (--role)")]
    NoRole,
    /// No randomness for the secret.
    #[error(transparent)]
    Random(#[from] NoRandomness),
}

/// What can be shown of a token: everything but its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenInfo {
    /// The public part of the token.
    pub id: String,
    /// Who or what holds it.
    pub label: String,
    /// What it may do.
    pub roles: Vec<Role>,
    /// When it was created (ms since the Unix epoch).
    pub created_ms: Millis,
    /// When it stops working, if ever.
    pub expires_ms: Option<Millis>,
    /// When it last authenticated a request (to within a few seconds).
    pub last_used_ms: Option<Millis>,
    /// When it was revoked.
    pub revoked_ms: Option<Millis>,
}

impl TokenInfo {
    /// The stored token's roles; a role name this version does not know grants nothing.
    pub fn role_set(stored: &StoredToken) -> RoleSet {
        stored.roles.iter().filter_map(|r| r.parse().ok()).collect()
    }

    fn of(stored: &StoredToken) -> Self {
        Self {
            id: stored.id.clone(),
            label: stored.label.clone(),
            roles: Self::role_set(stored).iter().collect(),
            created_ms: stored.created_ms,
            expires_ms: stored.expires_ms,
            last_used_ms: stored.last_used_ms,
            revoked_ms: stored.revoked_ms,
        }
    }
}

/// The tokens of one Redis, hashed with one pepper. Cheap to clone.
#[derive(Clone)]
pub struct Tokens {
    store: TokenStore,
    pepper: Pepper,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokens").finish_non_exhaustive()
    }
}

impl Tokens {
    /// The tokens in `store`'s Redis; `clock` dates creation, use, expiry and revocation.
    pub fn new(store: &RedisMailbox, pepper: Pepper, clock: Arc<dyn Clock>) -> Self {
        Self {
            store: TokenStore::of(store),
            pepper,
            clock,
        }
    }

    pub(super) fn now_ms(&self) -> Millis {
        self.clock.now_ms()
    }

    pub(super) fn store(&self) -> &TokenStore {
        &self.store
    }

    pub(super) fn pepper(&self) -> &Pepper {
        &self.pepper
    }

    /// Creates a token holding `roles`, labelled `label`, expiring after `expires_in` if given.
    /// The returned token is the only copy of its secret.
    pub async fn create(
        &self,
        roles: RoleSet,
        label: &str,
        expires_in: Option<Duration>,
    ) -> Result<(TokenInfo, ApiToken), TokenError> {
        if roles.is_empty() {
            return Err(TokenError::NoRole);
        }
        let token = ApiToken::generate()?;
        let now = self.now_ms();
        let stored = StoredToken {
            id: token.id().to_owned(),
            hash: self.pepper.hash(&token),
            roles: roles.iter().map(|r| r.as_str().to_owned()).collect(),
            label: label.to_owned(),
            created_ms: now,
            expires_ms: expires_in.map(|d| now.saturating_add(d.as_millis() as Millis)),
            last_used_ms: None,
            revoked_ms: None,
        };
        self.store.create(&stored).await?;
        Ok((TokenInfo::of(&stored), token))
    }

    /// Every token, without secrets.
    pub async fn list(&self) -> Result<Vec<TokenInfo>, TokenError> {
        Ok(self.store.list().await?.iter().map(TokenInfo::of).collect())
    }

    /// Revokes token `id`; it fails at once on this node's next check past the cache.
    pub async fn revoke(&self, id: &str) -> Result<(), TokenError> {
        if self.store.revoke(id, self.now_ms()).await? {
            Ok(())
        } else {
            Err(TokenError::NotFound(id.to_owned()))
        }
    }

    /// Gives token `id` a new secret, keeping its id, roles, label and expiry; the old secret
    /// stops working. A revoked token cannot be rotated back to life.
    pub async fn rotate(&self, id: &str) -> Result<ApiToken, TokenError> {
        let stored = self
            .store
            .get(id)
            .await?
            .ok_or_else(|| TokenError::NotFound(id.to_owned()))?;
        if stored.revoked_ms.is_some() {
            return Err(TokenError::Revoked(id.to_owned()));
        }
        let token = ApiToken::generate_for(stored.id)?;
        if self
            .store
            .replace_hash(id, &self.pepper.hash(&token))
            .await?
        {
            Ok(token)
        } else {
            Err(TokenError::NotFound(id.to_owned()))
        }
    }
}
