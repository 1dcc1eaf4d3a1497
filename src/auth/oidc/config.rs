//! `[auth.oidc]`: which identity provider's JWTs the API accepts, and how their claims become a
//! principal.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use reqwest::Url;
use serde::{Deserialize, Serialize};

use crate::auth::role::Role;

/// A JWS algorithm the API may accept: only asymmetric ones, so that neither `none` nor an
/// HMAC keyed with a public key can be configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SigningAlgorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    RS256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    RS384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    RS512,
    /// RSASSA-PSS with SHA-256.
    PS256,
    /// RSASSA-PSS with SHA-384.
    PS384,
    /// RSASSA-PSS with SHA-512.
    PS512,
    /// ECDSA on P-256 with SHA-256.
    ES256,
    /// ECDSA on P-384 with SHA-384.
    ES384,
    /// Ed25519.
    EdDSA,
}

impl SigningAlgorithm {
    /// The algorithm as `jsonwebtoken` names it.
    pub fn jwt(self) -> jsonwebtoken::Algorithm {
        use jsonwebtoken::Algorithm as A;
        match self {
            Self::RS256 => A::RS256,
            Self::RS384 => A::RS384,
            Self::RS512 => A::RS512,
            Self::PS256 => A::PS256,
            Self::PS384 => A::PS384,
            Self::PS512 => A::PS512,
            Self::ES256 => A::ES256,
            Self::ES384 => A::ES384,
            Self::EdDSA => A::EdDSA,
        }
    }
}

/// `[auth.oidc]`: OIDC bearer tokens (JWTs) as the alternative to API tokens for people.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct OidcConfig {
    /// Accept JWTs at all; off, only API tokens authenticate.
    pub enabled: bool,
    /// The `iss` every accepted JWT carries (the identity provider's issuer URL).
    pub issuer: String,
    /// The `aud` an accepted JWT carries (alone or among others): this API's client id.
    pub audience: String,
    /// A file holding the provider's JWKS, relative to `runtime.home`; re-read like a URL.
    pub jwks_file: Option<PathBuf>,
    /// The provider's JWKS address (`https://`, or `http://` to a loopback address).
    pub jwks_url: Option<String>,
    /// The algorithms accepted in a JWT's header (asymmetric only).
    pub algorithms: Vec<SigningAlgorithm>,
    /// Clock skew tolerated on `exp` and `nbf`.
    #[serde(with = "humantime_serde")]
    pub leeway: Duration,
    /// The key set is read again after this long, so that removed keys stop working.
    #[serde(with = "humantime_serde")]
    pub jwks_refresh: Duration,
    /// A JWT naming an unknown `kid` makes the key set be read again, at most this often.
    #[serde(with = "humantime_serde")]
    pub jwks_min_refetch: Duration,
    /// The claim holding the caller's roles or groups (an array of names, or one string of
    /// names separated by spaces); a dotted path such as `realm_access.roles` reaches into
    /// objects.
    pub roles_claim: String,
    /// The claim whose text labels the principal (`sub` when the JWT lacks it).
    pub label_claim: String,
    /// The identity provider's role or group names and the tradehub roles each grants; empty,
    /// the claim holds tradehub role names. Names it does not list are ignored.
    pub role_map: BTreeMap<String, Vec<Role>>,
}

impl Default for OidcConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            issuer: String::new(),
            audience: String::new(),
            jwks_file: None,
            jwks_url: None,
            algorithms: vec![SigningAlgorithm::RS256],
            leeway: Duration::from_secs(60),
            jwks_refresh: Duration::from_secs(600),
            jwks_min_refetch: Duration::from_secs(10),
            roles_claim: "roles".to_owned(),
            label_claim: "email".to_owned(),
            role_map: BTreeMap::new(),
        }
    }
}

/// A setting of `[auth.oidc]` that breaks a rule: the dotted key and what is wrong.
pub type OidcConfigProblem = (&'static str, String);

impl OidcConfig {
    /// Longest accepted `leeway`.
    pub const LEEWAY_MAX: Duration = Duration::from_secs(300);

    /// Check the rules serde cannot express; nothing is checked while disabled.
    pub fn check(&self) -> Result<(), OidcConfigProblem> {
        let problem = |key, what: &str| Err((key, what.to_owned()));
        if !self.enabled {
            return Ok(());
        }
        if self.issuer.trim().is_empty() {
            return problem(
                "auth.oidc.issuer",
                "must name the identity provider's issuer",
            );
        }
        if self.audience.trim().is_empty() {
            return problem("auth.oidc.audience", "must name the audience JWTs are for");
        }
        match (&self.jwks_file, &self.jwks_url) {
            (Some(_), Some(_)) => {
                return problem(
                    "auth.oidc.jwks_file",
                    "and auth.oidc.jwks_url: set only one",
                );
            }
            (None, None) => {
                return problem(
                    "auth.oidc.jwks_url",
                    "or auth.oidc.jwks_file must say where the signing keys are",
                );
            }
            (None, Some(url)) => {
                jwks_url(url).map_err(|what| ("auth.oidc.jwks_url", what))?;
            }
            (Some(_), None) => {}
        }
        if self.algorithms.is_empty() {
            return problem("auth.oidc.algorithms", "must name at least one algorithm");
        }
        if self.leeway > Self::LEEWAY_MAX {
            return problem("auth.oidc.leeway", "must be at most 5m");
        }
        if self.jwks_refresh.is_zero() {
            return problem("auth.oidc.jwks_refresh", "must be longer than zero");
        }
        if self.jwks_min_refetch > self.jwks_refresh {
            return problem(
                "auth.oidc.jwks_min_refetch",
                "must not be longer than auth.oidc.jwks_refresh",
            );
        }
        for (key, claim) in [
            ("auth.oidc.roles_claim", &self.roles_claim),
            ("auth.oidc.label_claim", &self.label_claim),
        ] {
            if claim.is_empty() || claim.split('.').any(str::is_empty) {
                return problem(key, "must name a claim (dotted names must not be empty)");
            }
        }
        if let Some((name, _)) = self.role_map.iter().find(|(_, roles)| roles.is_empty()) {
            return Err((
                "auth.oidc.role_map",
                format!("maps {name:?} to no role: list its roles or leave it out"),
            ));
        }
        Ok(())
    }
}

/// The JWKS address, if it may be used: `https://`, or `http://` to a loopback address.
pub fn jwks_url(text: &str) -> Result<Url, String> {
    let url = Url::parse(text).map_err(|e| format!("is not a URL ({e})"))?;
    let host = url.host_str().unwrap_or_default();
    let loopback = host == "localhost"
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    match url.scheme() {
        "https" => Ok(url),
        "http" if loopback => Ok(url),
        "http" => Err("must be https:// (plain http:// only to a loopback address)".to_owned()),
        other => Err(format!("has scheme {other}: expected https://")),
    }
}
