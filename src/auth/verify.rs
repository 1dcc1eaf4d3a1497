//! Checking a presented token. A token read from Redis is kept for at most the cache's time to
//! live (a few seconds), so that a burst of requests does not read Redis for each, while a
//! revocation or an expiry takes effect within that time; the secret's HMAC is checked on every
//! request, cached or not, and a mismatch reads the token again (a rotated secret works at once).

use std::collections::HashMap;
use std::sync::Mutex;

use tradehub_actors::clock::Millis;

use super::AuthSettings;
use super::role::RoleSet;
use super::token::ApiToken;
use super::tokens::{TokenInfo, Tokens};
use crate::store::tokens::StoredToken;

/// Most tokens kept in the cache; past it, entries older than the time to live are dropped.
const CACHE_MAX: usize = 10_000;

/// A stored hash no secret has (a valid HMAC length), checked for unknown ids so that they take
/// as long as known ones.
const NO_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Why a presented token or JWT is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    /// Not a token, unknown, wrong secret, expired or revoked: the caller is told nothing more.
    #[error("invalid token")]
    Invalid,
    /// The token store (or the identity provider's key set) could not be read.
    #[error("credentials cannot be checked: {0}")]
    Unavailable(String),
}

/// A credential that passed: an API token, or an OIDC JWT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The token's id, or the JWT's subject.
    pub id: String,
    /// Its label.
    pub label: String,
    /// Its roles.
    pub roles: RoleSet,
}

struct Cached {
    token: StoredToken,
    read_ms: Millis,
    touched_ms: Millis,
}

/// Checks presented tokens against the store, through a short cache.
pub struct Verifier {
    tokens: Tokens,
    settings: AuthSettings,
    cache: Mutex<HashMap<String, Cached>>,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl Verifier {
    /// A verifier over `tokens`.
    pub fn new(tokens: Tokens, settings: AuthSettings) -> Self {
        Self {
            tokens,
            settings,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// Check `presented` (the whole `th_…` token).
    pub async fn verify(&self, presented: &str) -> Result<Verified, Denied> {
        let Some(token) = ApiToken::parse(presented) else {
            return Err(Denied::Invalid);
        };
        let now = self.tokens.now_ms();
        // A cached record whose hash does not match may predate a rotation: read it again.
        let cached = self
            .cached(token.id(), now)
            .filter(|(stored, _)| self.tokens.pepper().matches(&token, &stored.hash));
        let (stored, touched_ms) = match cached {
            Some(hit) => hit,
            None => {
                let read = self
                    .tokens
                    .store()
                    .get(token.id())
                    .await
                    .map_err(|e| Denied::Unavailable(format!("token store: {e}")))?;
                let Some(read) = read else {
                    self.tokens.pepper().matches(&token, NO_HASH);
                    return Err(Denied::Invalid);
                };
                let touched = read.last_used_ms.unwrap_or(0);
                self.remember(read.clone(), now, touched);
                (read, touched)
            }
        };
        let valid = self.tokens.pepper().matches(&token, &stored.hash)
            && stored.revoked_ms.is_none()
            && stored.expires_ms.is_none_or(|expires| now < expires);
        if !valid {
            return Err(Denied::Invalid);
        }
        if now.saturating_sub(touched_ms) >= self.settings.last_used_every.as_millis() as Millis {
            self.touched(token.id(), now);
            if let Err(error) = self.tokens.store().touch(token.id(), now).await {
                tracing::warn!(%error, token = token.id(), "cannot record the token's last use");
            }
        }
        Ok(Verified {
            id: stored.id.clone(),
            label: stored.label.clone(),
            roles: TokenInfo::role_set(&stored),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Cached>> {
        self.cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn fresh(&self, entry: &Cached, now: Millis) -> bool {
        now.saturating_sub(entry.read_ms) < self.settings.cache_ttl.as_millis() as Millis
    }

    fn cached(&self, id: &str, now: Millis) -> Option<(StoredToken, Millis)> {
        let cache = self.lock();
        let entry = cache.get(id)?;
        self.fresh(entry, now)
            .then(|| (entry.token.clone(), entry.touched_ms))
    }

    fn remember(&self, token: StoredToken, now: Millis, touched_ms: Millis) {
        let mut cache = self.lock();
        if cache.len() >= CACHE_MAX {
            cache.retain(|_, entry| self.fresh(entry, now));
            if cache.len() >= CACHE_MAX {
                cache.clear();
            }
        }
        cache.insert(
            token.id.clone(),
            Cached {
                token,
                read_ms: now,
                touched_ms,
            },
        );
    }

    fn touched(&self, id: &str, now: Millis) {
        if let Some(entry) = self.lock().get_mut(id) {
            entry.touched_ms = now;
        }
    }
}
