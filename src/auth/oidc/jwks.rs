//! The identity provider's signing keys (its JWKS), read from a file or an address and cached.
//!
//! The set is read again when it is older than the refresh time (a failed refresh keeps the
//! keys it had, and is tried again after the minimum interval), and when a JWT names a `kid`
//! the set lacks, at most once per minimum interval, so that a rotation is picked up at once
//! and a stream of made-up `kid`s cannot hammer the provider. Only asymmetric signing keys with
//! a `kid` are kept: a symmetric (`oct`) key or an encryption key is dropped when read.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use jsonwebtoken::jwk::{AlgorithmParameters, Jwk, JwkSet, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};
use reqwest::Url;
use tradehub_actors::clock::{Clock, Millis};

/// Largest JWKS document read.
const MAX_BYTES: usize = 1024 * 1024;

/// How long one fetch of a JWKS address may take.
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);

/// Where the key set is read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JwksSource {
    /// A file.
    File(PathBuf),
    /// An address (`https://`, or `http://` to a loopback address).
    Url(Url),
}

impl std::fmt::Display for JwksSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::File(path) => write!(f, "{}", path.display()),
            Self::Url(url) => write!(f, "{url}"),
        }
    }
}

/// The key set could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("JWKS {at}: {reason}")]
pub struct JwksError {
    /// The file or address.
    pub at: String,
    /// Why.
    pub reason: String,
}

/// One signing key of the set.
#[derive(Clone)]
pub struct SigningKey {
    /// The key, for verifying.
    pub key: DecodingKey,
    /// The algorithm the JWK is restricted to, if it names one.
    pub algorithm: Option<Algorithm>,
}

/// How often the set is read again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refresh {
    /// The set is read again when older than this.
    pub every: Duration,
    /// Reads are at least this far apart.
    pub min_interval: Duration,
}

#[derive(Default)]
struct Loaded {
    keys: Arc<HashMap<String, SigningKey>>,
    fetched_ms: Millis,
    attempted_ms: Option<Millis>,
}

/// The cached key set.
pub struct KeySet {
    source: JwksSource,
    client: reqwest::Client,
    refresh: Refresh,
    clock: Arc<dyn Clock>,
    loaded: RwLock<Loaded>,
    fetching: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for KeySet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeySet")
            .field("source", &self.source)
            .field("refresh", &self.refresh)
            .finish_non_exhaustive()
    }
}

/// Why a key could not be had.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// The set, read again within the minimum interval, has no such key.
    Unknown,
    /// The set had to be read again to look for it, and could not be.
    Unreadable(JwksError),
}

impl KeySet {
    /// The set at `source`, read now: a set that cannot be read stops the start.
    pub async fn load(
        source: JwksSource,
        refresh: Refresh,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, JwksError> {
        let client = reqwest::Client::builder()
            .timeout(FETCH_TIMEOUT)
            .build()
            .map_err(|e| JwksError {
                at: source.to_string(),
                reason: e.to_string(),
            })?;
        let set = Self {
            source,
            client,
            refresh,
            clock,
            loaded: RwLock::new(Loaded::default()),
            fetching: tokio::sync::Mutex::new(()),
        };
        set.reload(0).await?;
        Ok(set)
    }

    /// The key `kid`, reading the set again first when it is due, or when it lacks the key and
    /// the last read is at least the minimum interval ago.
    pub async fn get(&self, kid: &str) -> Result<SigningKey, Lookup> {
        let age = self.clock.now_ms().saturating_sub(self.read().fetched_ms);
        let min = self.refresh.min_interval.as_millis() as Millis;
        if age >= self.refresh.every.as_millis() as Millis
            && let Err(error) = self.reload(min).await
        {
            tracing::warn!(%error, "cannot refresh the OIDC signing keys; keeping the ones read before");
        }
        if let Some(key) = self.read().keys.get(kid) {
            return Ok(key.clone());
        }
        self.reload(min).await.map_err(Lookup::Unreadable)?;
        self.read().keys.get(kid).cloned().ok_or(Lookup::Unknown)
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Loaded> {
        self.loaded
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Read the set again unless another read started less than `min_interval_ms` ago.
    async fn reload(&self, min_interval_ms: Millis) -> Result<(), JwksError> {
        let _one_at_a_time = self.fetching.lock().await;
        let now = self.clock.now_ms();
        let last = self.read().attempted_ms;
        if last.is_some_and(|at| now.saturating_sub(at) < min_interval_ms) {
            return Ok(());
        }
        self.loaded
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .attempted_ms = Some(now);
        let keys = self.fetch().await?;
        tracing::debug!(source = %self.source, keys = keys.len(), "read the OIDC signing keys");
        let mut loaded = self
            .loaded
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        loaded.keys = Arc::new(keys);
        loaded.fetched_ms = now;
        Ok(())
    }

    async fn fetch(&self) -> Result<HashMap<String, SigningKey>, JwksError> {
        let failed = |reason: String| JwksError {
            at: self.source.to_string(),
            reason,
        };
        let bytes = match &self.source {
            JwksSource::File(path) => tokio::fs::read(path)
                .await
                .map_err(|e| failed(e.to_string()))?,
            JwksSource::Url(url) => {
                let response = self
                    .client
                    .get(url.clone())
                    .send()
                    .await
                    .and_then(reqwest::Response::error_for_status)
                    .map_err(|e| failed(e.without_url().to_string()))?;
                if response.content_length().unwrap_or(0) > MAX_BYTES as u64 {
                    return Err(failed(format!("larger than {MAX_BYTES} bytes")));
                }
                response
                    .bytes()
                    .await
                    .map_err(|e| failed(e.without_url().to_string()))?
                    .to_vec()
            }
        };
        if bytes.len() > MAX_BYTES {
            return Err(failed(format!("larger than {MAX_BYTES} bytes")));
        }
        let set: JwkSet = serde_json::from_slice(&bytes)
            .map_err(|e| failed(format!("not a JWKS document: {e}")))?;
        Ok(set
            .keys
            .iter()
            .filter_map(|jwk| self.signing_key(jwk))
            .collect())
    }

    /// `jwk` as a signing key, or `None` (logged) when it is not one this API may use.
    fn signing_key(&self, jwk: &Jwk) -> Option<(String, SigningKey)> {
        let kid = jwk.common.key_id.clone()?;
        let skip = |why: &str| {
            tracing::debug!(source = %self.source, kid, "JWKS key skipped: {why}");
            None
        };
        if matches!(
            jwk.algorithm,
            AlgorithmParameters::OctetKey(_) | AlgorithmParameters::Other(_)
        ) {
            return skip("not an asymmetric key");
        }
        if jwk
            .common
            .public_key_use
            .as_ref()
            .is_some_and(|usage| *usage != PublicKeyUse::Signature)
        {
            return skip("not a signing key");
        }
        let algorithm = match jwk.common.key_algorithm.map(Algorithm::try_from) {
            None => None,
            Some(Ok(algorithm)) => Some(algorithm),
            Some(Err(_)) => return skip("its alg is no signing algorithm"),
        };
        match DecodingKey::from_jwk(jwk) {
            Ok(key) => Some((kid, SigningKey { key, algorithm })),
            Err(error) => skip(&error.to_string()),
        }
    }
}
