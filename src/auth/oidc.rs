//! OIDC bearer tokens: a JWT from the configured identity provider, as the alternative to API
//! tokens for people.
//!
//! A JWT passes when its header names an allowed asymmetric algorithm and a `kid` of the
//! provider's key set (see [`jwks`]), the key is of that algorithm's kind, the signature holds,
//! `iss` and `aud` are the configured ones, `sub` is there, and `exp` (required) and `nbf`
//! (when present) hold within the leeway on the [`Clock`]. `alg: none` and the HMAC algorithms
//! cannot be configured, so a token signed with a public key as an HMAC secret fails like any
//! other forgery. The roles claim is mapped to tradehub roles; the principal is `oidc:<sub>`.
//!
//! # Layout
//!
//! | file | what |
//! |---|---|
//! | `config.rs` | [`OidcConfig`] (`[auth.oidc]`), [`SigningAlgorithm`] |
//! | `jwks.rs` | [`KeySet`]: the provider's keys, cached, refreshed and re-read on an unknown `kid` |

mod config;
mod jwks;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use jsonwebtoken::{Algorithm, Validation};
use serde_json::{Map, Value};
use tradehub_actors::clock::{Clock, SystemClock};

pub use config::{OidcConfig, OidcConfigProblem, SigningAlgorithm, jwks_url};
pub use jwks::{JwksError, JwksSource, KeySet, Lookup, Refresh, SigningKey};

use super::role::{Role, RoleSet};
use super::verify::{Denied, Verified};

/// Checks presented JWTs and maps their claims to a principal.
pub struct Oidc {
    keys: KeySet,
    validation: Validation,
    leeway_s: f64,
    roles_claim: String,
    label_claim: String,
    role_map: BTreeMap<String, Vec<Role>>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Oidc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Oidc")
            .field("keys", &self.keys)
            .field("issuer", &self.validation.iss)
            .finish_non_exhaustive()
    }
}

/// Why a JWT was refused; said in the log, never to the caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
enum Refused {
    #[error("not a JWT, or its header cannot be read")]
    Malformed,
    #[error("algorithm {0:?} is not allowed")]
    Algorithm(Algorithm),
    #[error("the header names no kid")]
    NoKid,
    #[error("kid {0:?} is not in the key set")]
    UnknownKid(String),
    #[error("key {0:?} is not for algorithm {1:?}")]
    WrongKey(String, Algorithm),
    #[error("{0}")]
    Invalid(String),
    #[error("expired")]
    Expired,
    #[error("not valid yet (nbf)")]
    Early,
    #[error("no sub")]
    NoSubject,
    #[error("{0}")]
    Unreadable(JwksError),
}

impl Oidc {
    /// The checker `config` describes, its key set read now (a `jwks_file` relative to `home`);
    /// `None` when OIDC is disabled.
    pub async fn start(config: &OidcConfig, home: &Path) -> Result<Option<Self>, JwksError> {
        if !config.enabled {
            return Ok(None);
        }
        Self::new(config, home, Arc::new(SystemClock))
            .await
            .map(Some)
    }

    /// The checker `config` describes on `clock`, its key set read now. `config` is assumed
    /// checked ([`OidcConfig::check`]).
    pub async fn new(
        config: &OidcConfig,
        home: &Path,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, JwksError> {
        let source = match (&config.jwks_file, &config.jwks_url) {
            (Some(file), _) => JwksSource::File(home.join(file)),
            (None, url) => {
                let url = url.as_deref().unwrap_or_default();
                JwksSource::Url(jwks_url(url).map_err(|reason| JwksError {
                    at: url.to_owned(),
                    reason,
                })?)
            }
        };
        let refresh = Refresh {
            every: config.jwks_refresh,
            min_interval: config.jwks_min_refetch,
        };
        let keys = KeySet::load(source, refresh, clock.clone()).await?;
        let algorithms: Vec<Algorithm> = config.algorithms.iter().map(|a| a.jwt()).collect();
        let mut validation = Validation::new(algorithms[0]);
        validation.algorithms = algorithms;
        validation.set_issuer(&[&config.issuer]);
        validation.set_audience(&[&config.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        // Time is checked against the clock port below.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        Ok(Self {
            keys,
            validation,
            leeway_s: config.leeway.as_secs_f64(),
            roles_claim: config.roles_claim.clone(),
            label_claim: config.label_claim.clone(),
            role_map: config.role_map.clone(),
            clock,
        })
    }

    /// Check `jwt`: the result's id is the JWT's `sub`.
    pub async fn verify(&self, jwt: &str) -> Result<Verified, Denied> {
        self.check(jwt).await.map_err(|refused| match refused {
            Refused::Unreadable(error) => {
                Denied::Unavailable(format!("OIDC signing keys: {error}"))
            }
            refused => {
                tracing::debug!(reason = %refused, "bearer JWT refused");
                Denied::Invalid
            }
        })
    }

    async fn check(&self, jwt: &str) -> Result<Verified, Refused> {
        let header = jsonwebtoken::decode_header(jwt).map_err(|_| Refused::Malformed)?;
        if !self.validation.algorithms.contains(&header.alg) {
            return Err(Refused::Algorithm(header.alg));
        }
        let kid = header.kid.ok_or(Refused::NoKid)?;
        let key = self.keys.get(&kid).await.map_err(|lookup| match lookup {
            Lookup::Unknown => Refused::UnknownKid(kid.clone()),
            Lookup::Unreadable(error) => Refused::Unreadable(error),
        })?;
        if key.key.family() != header.alg.family()
            || key.algorithm.is_some_and(|alg| alg != header.alg)
        {
            return Err(Refused::WrongKey(kid, header.alg));
        }
        // jsonwebtoken wants every listed algorithm to fit the key: list the header's alone.
        let validation = Validation {
            algorithms: vec![header.alg],
            ..self.validation.clone()
        };
        let claims = jsonwebtoken::decode::<Map<String, Value>>(jwt, &key.key, &validation)
            .map_err(|e| Refused::Invalid(e.to_string()))?
            .claims;
        let now_s = self.clock.now_ms() as f64 / 1000.0;
        let time = |name: &str| claims.get(name).and_then(Value::as_f64);
        if time("exp").is_none_or(|exp| now_s > exp + self.leeway_s) {
            return Err(Refused::Expired);
        }
        if time("nbf").is_some_and(|nbf| nbf > now_s + self.leeway_s) {
            return Err(Refused::Early);
        }
        let subject = claims
            .get("sub")
            .and_then(Value::as_str)
            .filter(|sub| !sub.is_empty())
            .ok_or(Refused::NoSubject)?;
        let label = claim(&claims, &self.label_claim)
            .and_then(Value::as_str)
            .unwrap_or(subject);
        Ok(Verified {
            id: subject.to_owned(),
            label: label.to_owned(),
            roles: self.roles(claim(&claims, &self.roles_claim)),
        })
    }

    /// The tradehub roles the names in `value` grant (unknown names are ignored).
    fn roles(&self, value: Option<&Value>) -> RoleSet {
        let names: Vec<&str> = match value {
            Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
            Some(Value::String(text)) => text.split_whitespace().collect(),
            _ => Vec::new(),
        };
        if self.role_map.is_empty() {
            return names.iter().filter_map(|name| name.parse().ok()).collect();
        }
        names
            .iter()
            .filter_map(|name| self.role_map.get(*name))
            .flatten()
            .copied()
            .collect()
    }
}

/// The claim `path` names: a top-level claim of that exact name (names may hold dots, as
/// namespaced claims do), else the dotted path through nested objects.
fn claim<'a>(claims: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    claims.get(path).or_else(|| {
        let (first, rest) = path.split_once('.')?;
        rest.split('.')
            .try_fold(claims.get(first)?, |value, name| value.get(name))
    })
}
