//! The canonical trade data model, version 1.
//!
//! Every partner format maps to and from these types. Codes that are checked on construction
//! (`HsCode`, `CountryCode`, `Currency`, ...) only guarantee their *form*; whether a well-formed code
//! exists in a code list that changes over time (the HS edition, ISO 4217 withdrawals, UN/LOCODE) is
//! the validator's job in [`crate::tariff::validate`], because that answer depends on reference data
//! and on the date.
//!
//! Master data that people type into Odoo (HS codes, origins, currencies, Incoterms, locations) is held
//! as [`Lenient`] values in a shipment: a malformed code does not make the whole document unreadable,
//! it is kept verbatim and reported by the validator with its path, next to every other problem.

mod codes;
mod date;
mod declaration;
mod document;
mod ids;
mod lenient;
mod money;
mod party;
mod product;
mod schema;
mod shipment;
mod text;

pub use codes::{CountryCode, Currency, HsCode, Incoterm, Jurisdiction, UnLocode};
pub use date::Date;
pub use declaration::{
    CustomsOffice, Declaration, DeclarationItem, DeclarationStatus, ProcedureCode, Regime,
    StatusChange,
};
pub use document::{ContentHash, Document, DocumentKind};
pub use ids::{Lrn, Mrn, PartyId, ProductId, ShipmentId};
pub use lenient::Lenient;
pub use money::{Mass, Money, Quantity, Unit};
pub use party::{Address, Identifier, IdentifierScheme, Party, PartyKind, PartyRole};
pub use product::{Classification, ExportControl, ExportControlRegime, Product};
pub use schema::{SCHEMA_NAMES, schema_json};
pub use shipment::{
    DeliveryTerms, Direction, Equipment, Line, Location, OdooRef, OdooRefs, Shipment, Transport,
    TransportMode,
};

use serde::{Deserialize, Serialize};

/// Why a value could not be built: the field's form is wrong. The message names the value and the
/// expected form, so it can be shown to the person who typed it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelError {
    #[error(
        "HS code {0:?}: expected 6, 8 or 10 digits (dots and spaces between digit groups are allowed)"
    )]
    HsCode(String),
    #[error("country code {0:?}: expected an ISO 3166-1 alpha-2 code such as \"DE\"")]
    CountryCode(String),
    #[error("jurisdiction {0:?}: expected an ISO 3166-1 alpha-2 code or \"EU\"")]
    Jurisdiction(String),
    #[error("currency {0:?}: expected an ISO 4217 alphabetic code such as \"EUR\"")]
    Currency(String),
    #[error(
        "UN/LOCODE {0:?}: expected 2 letters of country and 3 letters or digits, such as \"DEHAM\""
    )]
    UnLocode(String),
    #[error(
        "Incoterm {0:?}: expected one of the 11 Incoterms 2020 rules (EXW, FCA, FAS, FOB, CFR, CIF, CPT, CIP, DPU, DAP, DDP)"
    )]
    Incoterm(String),
    #[error("Incoterm {0:?} was withdrawn in Incoterms 2020; {1} replaces it")]
    IncotermWithdrawn(String, &'static str),
    #[error("{what} {value:?}: {reason}")]
    Identifier {
        what: &'static str,
        value: String,
        reason: &'static str,
    },
    #[error("{what} {value:?}: expected a decimal number")]
    Decimal { what: &'static str, value: String },
    #[error("{what} must not be negative, got {value}")]
    Negative { what: &'static str, value: String },
    #[error("date {0:?}: expected YYYY-MM-DD")]
    Date(String),
    #[error("content hash {0:?}: expected \"sha256:\" followed by 64 lowercase hex digits")]
    ContentHash(String),
    #[error(
        "procedure code {0:?}: expected 4 digits (requested + previous procedure), optionally followed by a 3-character additional procedure code"
    )]
    ProcedureCode(String),
    #[error(
        "customs office {0:?}: expected 2 letters of country and 6 letters or digits, such as \"GB000060\""
    )]
    CustomsOffice(String),
}

/// The version of the canonical model a document was written in. Only "1" exists; when a "2"
/// appears, readers keep accepting "1" and upgrade it on load.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, schemars::JsonSchema,
)]
pub enum SchemaVersion {
    #[default]
    #[serde(rename = "1")]
    V1,
}

#[cfg(test)]
mod tests;
