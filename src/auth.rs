//! Who calls the API and what they may do: roles, API tokens, OIDC bearer tokens (JWTs), the
//! access each route declares, and the rate limits on token-authenticated routes.
//!
//! A token is `th_<id>_<secret>`: the id is public (listed, logged, recorded as the actor), the
//! secret is shown once when the token is created or rotated and stored only as
//! HMAC-SHA256(pepper, id:secret), the pepper coming from the environment. A request presents it
//! as `Authorization: Bearer th_…`; the [`Gate`] checks the source address's rate limit, the
//! token (revocation and expiry seen within [`AuthSettings::cache_ttl`]), the token's rate limit
//! and the role the route declares, in that order. The authenticated [`Principal`] is what the
//! API records as the actor of a decision, override, resolution or submission.
//!
//! People may present a JWT from the configured identity provider instead (`[auth.oidc]`, off by
//! default): any bearer value that is not a `th_…` token is checked as one (see [`Oidc`]), its
//! roles claim mapped to tradehub roles, and the principal is `oidc:<sub>`, rate-limited like a
//! token.
//!
//! Roles do not imply one another, `admin` included: a token holds the set of roles its holder
//! needs (a compliance officer who also reads shipments holds `compliance_officer` and
//! `viewer`), so that managing tokens never grants clearing a sanctions hit.
//!
//! # Layout
//!
//! | file | what |
//! |---|---|
//! | `role.rs` | [`Role`], [`RoleSet`] |
//! | `token.rs` | [`ApiToken`] (generate, parse, show once), [`Pepper`] and the secret's HMAC |
//! | `tokens.rs` | [`Tokens`]: create, list, revoke, rotate (the `tradehub token` commands) |
//! | `verify.rs` | [`Verifier`]: a presented token against the store, with a short cache |
//! | `oidc.rs`, `oidc/` | [`Oidc`]: JWTs against the provider's JWKS, claims to roles; [`OidcConfig`] |
//! | `limit.rs` | [`Limits`]: per-principal and per-address rate limits (governor) |
//! | `access.rs` | [`Access`] (what a route declares) and the [`Gate`] that enforces it |

mod access;
mod limit;
pub mod oidc;
mod role;
mod token;
mod tokens;
mod verify;

#[cfg(test)]
mod tests;

use std::net::IpAddr;
use std::time::Duration;

pub use access::{Access, Gate, Refusal};
pub use limit::{LimitSettings, Limits};
pub use oidc::{Oidc, OidcConfig};
pub use role::{Role, RoleSet, UnknownRole};
pub use token::{ApiToken, NoRandomness, Pepper, PepperError};
pub use tokens::{TokenError, TokenInfo, Tokens};
pub use verify::{Denied, Verified, Verifier};

use crate::workflow::shipment::inputs::Actor;

/// Who made a request: the token or JWT that authenticated it and the address it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// `token:<id>`, or `oidc:<sub>` for a JWT.
    pub id: String,
    /// The token's label (who or what holds it), or the JWT's label claim.
    pub label: String,
    /// What it may do.
    pub roles: RoleSet,
    /// The peer address of the connection.
    pub source: IpAddr,
}

impl Principal {
    /// The principal as the saga records it.
    pub fn actor(&self) -> Actor {
        Actor {
            id: self.id.clone(),
            label: self.label.clone(),
            source: self.source.to_string(),
        }
    }
}

/// How tokens are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthSettings {
    /// How long a token read from Redis is trusted before it is read again: a revoked or
    /// expired token keeps working at most this long.
    pub cache_ttl: Duration,
    /// A token's last-used time is written at most this often.
    pub last_used_every: Duration,
}
