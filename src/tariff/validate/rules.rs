//! Validation rules that vary by company and trade lane, read from `config/validation.toml`.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::Severity;
use crate::model::{
    CountryCode, Direction, DocumentKind, Line, PartyRole, Shipment, TransportMode,
};

/// The rules shipped in `config/validation.toml`, used when no other file is given.
const DEFAULT_RULES: &str = include_str!("../../../config/validation.toml");

/// Why a rules file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{origin}: {source}")]
    Toml {
        origin: String,
        source: Box<toml::de::Error>,
    },
    #[error("{origin}: document rule {rule:?}: {reason}")]
    Invalid {
        origin: String,
        rule: String,
        reason: &'static str,
    },
}

/// Party roles a shipment must have, per direction.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequiredRoles {
    /// Roles every export needs (e.g. the exporter and the consignee).
    #[serde(default)]
    pub export: Vec<PartyRole>,
    /// Roles every import needs.
    #[serde(default)]
    pub import: Vec<PartyRole>,
    /// Roles every transit needs.
    #[serde(default)]
    pub transit: Vec<PartyRole>,
}

impl RequiredRoles {
    /// The roles required for a direction.
    pub fn for_direction(&self, d: Direction) -> &[PartyRole] {
        match d {
            Direction::Export => &self.export,
            Direction::Import => &self.import,
            Direction::Transit => &self.transit,
        }
    }
}

/// When a document rule applies. Every condition given must hold; an empty list or an absent flag
/// does not restrict.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    /// Shipment directions the rule applies to.
    #[serde(default)]
    pub direction: Vec<Direction>,
    /// Destination countries.
    #[serde(default)]
    pub destination: Vec<CountryCode>,
    /// Dispatch countries.
    #[serde(default)]
    pub dispatch: Vec<CountryCode>,
    /// Modes of transport.
    #[serde(default)]
    pub transport_mode: Vec<TransportMode>,
    /// Applies per line, to lines that claim (true) or do not claim (false) a preference.
    #[serde(default)]
    pub preference_claimed: Option<bool>,
    /// Applies per line, to lines whose product is (true) or is not (false) export-controlled.
    #[serde(default)]
    pub export_controlled: Option<bool>,
}

impl Condition {
    /// Whether the shipment-level conditions hold.
    pub fn matches_shipment(&self, s: &Shipment) -> bool {
        let country_in =
            |list: &[CountryCode], field: &Option<crate::model::Lenient<CountryCode>>| {
                list.is_empty()
                    || field
                        .as_ref()
                        .and_then(|c| c.valid())
                        .is_some_and(|c| list.contains(c))
            };
        (self.direction.is_empty() || self.direction.contains(&s.direction))
            && country_in(&self.destination, &s.destination_country)
            && country_in(&self.dispatch, &s.dispatch_country)
            && (self.transport_mode.is_empty()
                || s.transport
                    .as_ref()
                    .and_then(|t| t.mode)
                    .is_some_and(|m| self.transport_mode.contains(&m)))
    }

    /// Whether the rule is checked line by line (a line condition is set).
    pub fn is_per_line(&self) -> bool {
        self.preference_claimed.is_some() || self.export_controlled.is_some()
    }

    /// Whether the line conditions hold for `line`.
    pub fn matches_line(&self, line: &Line) -> bool {
        self.preference_claimed
            .is_none_or(|want| line.preference_claimed == want)
            && self
                .export_controlled
                .is_none_or(|want| line.product.export_controls.is_empty() != want)
    }
}

/// A document the shipment must carry when a condition holds.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentRule {
    /// Short name shown in the message, e.g. "proof of preferential origin".
    pub name: String,
    /// Any one of these kinds satisfies the rule.
    pub any_of: Vec<DocumentKind>,
    /// Severity of the problem when the document is missing.
    #[serde(default = "error")]
    pub severity: Severity,
    #[serde(default)]
    pub when: Condition,
}

fn error() -> Severity {
    Severity::Error
}

/// Configurable validation rules.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rules {
    #[serde(default)]
    pub required_roles: RequiredRoles,
    #[serde(default, rename = "document")]
    pub documents: Vec<DocumentRule>,
}

impl Default for Rules {
    /// The rules of the shipped `config/validation.toml`.
    fn default() -> Self {
        // The shipped file is compiled in and parsed by a unit test, so it cannot fail here.
        Self::from_toml(DEFAULT_RULES, "config/validation.toml")
            .unwrap_or_else(|e| panic!("shipped validation rules are invalid: {e}"))
    }
}

impl Rules {
    /// Rules with no requirements at all (every shipment-specific check still runs).
    pub fn none() -> Self {
        Self {
            required_roles: RequiredRoles::default(),
            documents: Vec::new(),
        }
    }

    /// Parses rules from TOML text; `origin` names the source in errors.
    pub fn from_toml(text: &str, origin: &str) -> Result<Self, RulesError> {
        let rules: Self = toml::from_str(text).map_err(|source| RulesError::Toml {
            origin: origin.to_owned(),
            source: Box::new(source),
        })?;
        for rule in &rules.documents {
            if rule.any_of.is_empty() {
                return Err(RulesError::Invalid {
                    origin: origin.to_owned(),
                    rule: rule.name.clone(),
                    reason: "any_of lists no document kind",
                });
            }
        }
        Ok(rules)
    }

    /// Reads rules from a TOML file.
    pub fn load(path: &Path) -> Result<Self, RulesError> {
        let text = std::fs::read_to_string(path).map_err(|source| RulesError::Io {
            path: path.to_owned(),
            source,
        })?;
        Self::from_toml(&text, &path.display().to_string())
    }
}
