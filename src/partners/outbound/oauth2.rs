//! OAuth2 client credentials (RFC 6749 §4.4): the access token is fetched from the partner's
//! token endpoint with the client id and secret in HTTP basic, kept until shortly before it
//! expires, and fetched again then, or at once when the partner refuses it (401).

use std::sync::Arc;

use reqwest::header::HeaderValue;
use serde::Deserialize;
use tokio::sync::Mutex;
use tradehub_actors::clock::{Clock, Millis};

use crate::secret::Secret;

/// A token is replaced this long before it expires (half its life when it lives under twice this).
const REFRESH_MARGIN_MS: Millis = 30_000;

/// A token could not be had; says why without the secret.
#[derive(Debug, thiserror::Error)]
#[error("access token from {url}: {reason}")]
pub struct TokenError {
    /// The token endpoint, without credentials or query.
    pub url: String,
    /// Why.
    pub reason: String,
}

struct Cached {
    /// `Bearer <access token>`, hidden from debug output.
    token: HeaderValue,
    /// When to fetch a new one; `None`: the endpoint gave no lifetime, kept until refused.
    refresh_at: Option<Millis>,
}

/// What the token endpoint answers.
#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    token_type: String,
    expires_in: Option<u64>,
}

/// The token endpoint's error answer (RFC 6749 §5.2); safe to show.
#[derive(Deserialize)]
struct TokenRefusal {
    error: String,
    error_description: Option<String>,
}

/// One partner's client credentials and its cached access token.
pub struct TokenCache {
    token_url: String,
    shown_url: String,
    client_id: String,
    client_secret: Secret,
    scope: Option<String>,
    clock: Arc<dyn Clock>,
    cached: Mutex<Option<Cached>>,
}

impl std::fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenCache")
            .field("token_url", &self.shown_url)
            .field("client_id", &self.client_id)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

impl TokenCache {
    /// A cache that fetches from `token_url` (shown in errors as `shown_url`) as `client_id`.
    pub fn new(
        token_url: String,
        shown_url: String,
        client_id: String,
        client_secret: Secret,
        scope: Option<String>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            token_url,
            shown_url,
            client_id,
            client_secret,
            scope,
            clock,
            cached: Mutex::new(None),
        }
    }

    /// `Bearer <access token>`: the cached one until its refresh time, a new one after.
    pub async fn token(&self, http: &reqwest::Client) -> Result<HeaderValue, TokenError> {
        let mut cached = self.cached.lock().await;
        let now = self.clock.now_ms();
        if let Some(c) = cached.as_ref()
            && c.refresh_at.is_none_or(|at| now < at)
        {
            return Ok(c.token.clone());
        }
        let fresh = self.fetch(http).await?;
        let token = fresh.token.clone();
        *cached = Some(fresh);
        Ok(token)
    }

    /// A new token after the partner refused `rejected`, unless a concurrent call has already
    /// replaced it.
    pub async fn refresh(
        &self,
        http: &reqwest::Client,
        rejected: &HeaderValue,
    ) -> Result<HeaderValue, TokenError> {
        let mut cached = self.cached.lock().await;
        if let Some(c) = cached.as_ref()
            && c.token != *rejected
        {
            return Ok(c.token.clone());
        }
        let fresh = self.fetch(http).await?;
        let token = fresh.token.clone();
        *cached = Some(fresh);
        Ok(token)
    }

    async fn fetch(&self, http: &reqwest::Client) -> Result<Cached, TokenError> {
        let error = |reason: String| TokenError {
            url: self.shown_url.clone(),
            reason,
        };
        let mut form = vec![("grant_type", "client_credentials")];
        if let Some(scope) = &self.scope {
            form.push(("scope", scope));
        }
        let asked_at = self.clock.now_ms();
        let response = http
            .post(&self.token_url)
            .basic_auth(&self.client_id, Some(self.client_secret.expose()))
            .form(&form)
            .send()
            .await
            .map_err(|e| error(format!("unreachable: {}", e.without_url())))?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| error(format!("answer broke off: {}", e.without_url())))?;
        if !status.is_success() {
            let why = serde_json::from_slice::<TokenRefusal>(&bytes)
                .map(|r| match r.error_description {
                    Some(description) => format!("{}: {description}", r.error),
                    None => r.error,
                })
                .unwrap_or_else(|_| "no OAuth2 error in the answer".to_owned());
            return Err(error(format!("refused ({status}): {why}")));
        }
        let answer: TokenAnswer = serde_json::from_slice(&bytes)
            .map_err(|e| error(format!("not an OAuth2 token answer: {e}")))?;
        if !answer.token_type.eq_ignore_ascii_case("bearer") {
            return Err(error(format!(
                "token type {} is not bearer",
                answer.token_type
            )));
        }
        let refresh_at = answer.expires_in.map(|seconds| {
            let life = seconds.saturating_mul(1000);
            asked_at + life - REFRESH_MARGIN_MS.min(life / 2)
        });
        let token = super::sensitive(format!("Bearer {}", answer.access_token))
            .map_err(|_| error("the access token cannot go in an HTTP header".to_owned()))?;
        Ok(Cached { token, refresh_at })
    }
}
