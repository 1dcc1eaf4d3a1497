//! What a route declares about who may call it, and the gate that enforces a role.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use tradehub_actors::clock::SystemClock;

use super::Principal;
use super::limit::Limits;
use super::oidc::Oidc;
use super::role::Role;
use super::token::Pepper;
use super::tokens::Tokens;
use super::verify::{Denied, Verified, Verifier};
use crate::config::AuthConfig;
use crate::store::RedisMailbox;

/// Who may call a route. Every route of the API declares one; there is no default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone: the probes.
    Public,
    /// A partner's callback, authenticated by the partner's HMAC signature over the body.
    PartnerSignature,
    /// Odoo's webhook, authenticated by its shared secret.
    WebhookSecret,
    /// An API token or an OIDC JWT holding this role.
    Role(Role),
}

/// Why a request is turned away.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// No token, or not a valid one (which of the two, or why, is not said).
    #[error("a valid API token is required (Authorization: Bearer th_…)")]
    Unauthenticated,
    /// A valid token without the route's role.
    #[error("this route needs the {0} role, which the token does not hold")]
    Forbidden(Role),
    /// Over the rate limit; retry after the duration.
    #[error("too many requests; retry in {0:?}")]
    Limited(Duration),
    /// The token store, or the identity provider's key set, could not be read.
    #[error("{0}")]
    Unavailable(String),
}

struct Inner {
    verifier: Verifier,
    oidc: Option<Oidc>,
    limits: Limits,
}

/// Authenticates and authorises requests to role routes. Cheap to clone.
#[derive(Clone)]
pub struct Gate(Arc<Inner>);

impl std::fmt::Debug for Gate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gate").finish_non_exhaustive()
    }
}

impl Gate {
    /// A gate checking tokens with `verifier` under `limits`, and JWTs with `oidc` when given.
    pub fn new(verifier: Verifier, oidc: Option<Oidc>, limits: Limits) -> Self {
        Self(Arc::new(Inner {
            verifier,
            oidc,
            limits,
        }))
    }

    /// The gate of a node: the tokens in `store`'s Redis hashed with `pepper`, checked and
    /// limited as `config` says, on the system's clock; API tokens only.
    pub fn serving(store: &RedisMailbox, pepper: Pepper, config: &AuthConfig) -> Self {
        Self::serving_with(store, pepper, config, None)
    }

    /// [`Gate::serving`], also accepting the JWTs `oidc` checks when given.
    pub fn serving_with(
        store: &RedisMailbox,
        pepper: Pepper,
        config: &AuthConfig,
        oidc: Option<Oidc>,
    ) -> Self {
        Self::new(
            Verifier::new(
                Tokens::new(store, pepper, Arc::new(SystemClock)),
                config.settings(),
            ),
            oidc,
            Limits::new(config.limits()),
        )
    }

    /// Admit a request from `source` presenting `authorization` (the header's value) to a
    /// route that needs `role`: the address's rate limit, the credential (a `th_…` API token,
    /// or any other bearer value as a JWT when OIDC is on), the principal's rate limit, then
    /// the role.
    pub async fn admit(
        &self,
        role: Role,
        authorization: Option<&str>,
        source: IpAddr,
    ) -> Result<Principal, Refusal> {
        self.0.limits.address(source).map_err(Refusal::Limited)?;
        let presented = authorization
            .and_then(|value| value.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or(Refusal::Unauthenticated)?;
        let (scheme, verified) = match &self.0.oidc {
            Some(oidc) if !presented.starts_with("th_") => ("oidc", oidc.verify(presented).await),
            _ => ("token", self.0.verifier.verify(presented).await),
        };
        let Verified { id, label, roles } = verified.map_err(|denied| match denied {
            Denied::Invalid => Refusal::Unauthenticated,
            Denied::Unavailable(reason) => Refusal::Unavailable(reason),
        })?;
        let id = format!("{scheme}:{id}");
        self.0.limits.token(&id).map_err(Refusal::Limited)?;
        if !roles.grants(role) {
            return Err(Refusal::Forbidden(role));
        }
        Ok(Principal {
            id,
            label,
            roles,
            source,
        })
    }
}
