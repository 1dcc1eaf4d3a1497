//! Routing policy: which broker or gateway files a declaration (`config/routing.toml`).
//!
//! Routes are tried in file order; the first whose conditions all hold wins, else the default
//! partner. The table is parsed and checked once at start and shared by the saga in an `Arc`, so
//! routing in a transition is a short scan without allocation.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::model::{CountryCode, Direction, TransportMode};

/// The routing table shipped with the project.
pub const SHIPPED_ROUTING: &str = include_str!("../../config/routing.toml");

/// Why a routing table cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum RoutingError {
    /// The file cannot be read.
    #[error("cannot read routing policy {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The TOML does not parse, or has an unknown key or a bad value (the message has the line).
    #[error("routing policy {origin}: {source}")]
    Toml {
        /// Where the text came from.
        origin: String,
        /// The parser's message, with line and column.
        source: Box<toml::de::Error>,
    },
    /// A value is well formed TOML but unusable.
    #[error("routing policy {origin}: {what}: {reason}")]
    Invalid {
        /// Where the text came from.
        origin: String,
        /// Which value (`default_partner`, `route "name".partner`).
        what: String,
        /// What is wrong with it.
        reason: &'static str,
    },
}

/// One route: conditions and the partner that files when they all hold.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Route {
    /// Shown in the history and in errors.
    pub name: String,
    /// Partner connection receiving `customs.file`.
    pub partner: String,
    /// Destination countries (empty: any).
    #[serde(default)]
    pub destination: Vec<CountryCode>,
    /// Directions (empty: any).
    #[serde(default)]
    pub direction: Vec<Direction>,
    /// Transport modes (empty: any).
    #[serde(default)]
    pub mode: Vec<TransportMode>,
}

impl Route {
    fn matches(
        &self,
        destination: Option<CountryCode>,
        direction: Direction,
        mode: Option<TransportMode>,
    ) -> bool {
        let country_ok = self.destination.is_empty()
            || destination.is_some_and(|c| self.destination.contains(&c));
        let direction_ok = self.direction.is_empty() || self.direction.contains(&direction);
        let mode_ok = self.mode.is_empty() || mode.is_some_and(|m| self.mode.contains(&m));
        country_ok && direction_ok && mode_ok
    }
}

/// The outcome of routing one declaration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision<'a> {
    /// The partner that files.
    pub partner: &'a str,
    /// The route that matched; `None` for the default.
    pub route: Option<&'a str>,
    /// The table's version.
    pub version: &'a str,
}

/// The routing table.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoutingPolicy {
    /// Names this revision of the table.
    pub version: String,
    /// Used when no route matches.
    pub default_partner: String,
    /// Routes in order of precedence.
    #[serde(default, rename = "route")]
    pub routes: Vec<Route>,
}

fn check_partner(origin: &str, what: String, name: &str) -> Result<(), RoutingError> {
    let reason = if name.is_empty() {
        Some("must not be empty")
    } else if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_'))
    {
        Some("a partner name may only hold lower-case ASCII letters, digits, - and _")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(RoutingError::Invalid {
            origin: origin.to_owned(),
            what,
            reason,
        }),
        None => Ok(()),
    }
}

impl RoutingPolicy {
    /// Parses and checks a table; `origin` names the source in errors.
    pub fn from_toml(text: &str, origin: &str) -> Result<Self, RoutingError> {
        let policy: Self = toml::from_str(text).map_err(|source| RoutingError::Toml {
            origin: origin.to_owned(),
            source: Box::new(source),
        })?;
        if policy.version.trim().is_empty() {
            return Err(RoutingError::Invalid {
                origin: origin.to_owned(),
                what: "version".into(),
                reason: "must not be empty",
            });
        }
        check_partner(origin, "default_partner".into(), &policy.default_partner)?;
        for route in &policy.routes {
            check_partner(
                origin,
                format!("route {:?}.partner", route.name),
                &route.partner,
            )?;
        }
        Ok(policy)
    }

    /// Reads and checks a table from a file.
    pub fn load(path: &Path) -> Result<Self, RoutingError> {
        let text = std::fs::read_to_string(path).map_err(|source| RoutingError::Io {
            path: path.to_owned(),
            source,
        })?;
        Self::from_toml(&text, &path.display().to_string())
    }

    /// The table shipped in `config/routing.toml`, compiled in.
    pub fn shipped() -> Result<Self, RoutingError> {
        Self::from_toml(SHIPPED_ROUTING, "config/routing.toml")
    }

    /// Every partner the table can route to, default first (for config checks).
    pub fn partners(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.default_partner.as_str())
            .chain(self.routes.iter().map(|r| r.partner.as_str()))
    }

    /// Chooses the partner for a declaration.
    pub fn route(
        &self,
        destination: Option<CountryCode>,
        direction: Direction,
        mode: Option<TransportMode>,
    ) -> Decision<'_> {
        let found = self
            .routes
            .iter()
            .find(|r| r.matches(destination, direction, mode));
        Decision {
            partner: found.map_or(self.default_partner.as_str(), |r| r.partner.as_str()),
            route: found.map(|r| r.name.as_str()),
            version: &self.version,
        }
    }
}

#[cfg(test)]
mod tests;
