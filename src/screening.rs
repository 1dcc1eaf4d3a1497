//! Restricted-party screening: list loaders, name normalisation, a candidate index, a token-aware
//! scorer, screening results kept as evidence, and evaluation against labelled queries.
//!
//! The engine needs no runtime: [`Screener`] is built from loaded lists and answers queries
//! synchronously; the shipment saga reaches it through a `builtin` screening partner.
//!
//! Flow of one query: [`normalize`] turns the name into tokens, [`index`] proposes candidate names
//! from token, character-trigram and phonetic postings (never the whole list), [`score`] compares
//! each candidate with the query and explains the comparison, and [`decision`] turns hits into an
//! outcome that reviewers can clear or confirm.

pub mod config;
pub mod countries;
pub mod decision;
pub mod entity;
pub mod eval;
pub mod fetch;
pub mod index;
pub mod lists;
pub mod normalize;
pub mod score;
pub mod screener;

pub use config::ScreeningConfig;
pub use entity::{Entity, EntityType, ListVersion};
pub use lists::{ListFormat, ListSpec, ListStore, LoadError};
pub use screener::{Hit, Query, ScreenOutput, Screener};

/// Identifies the matching logic in every stored result, so that a result can be reproduced or
/// knowingly re-run when the logic changes. Bump it whenever scoring or normalisation changes.
pub const ALGORITHM_VERSION: &str = "tradehub-tjw-1";

#[cfg(test)]
mod tests;
