//! Customs declarations and their canonical status.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::codes::{CountryCode, HsCode};
use super::ids::{Lrn, Mrn, PartyId, ShipmentId};
use super::money::{Mass, Money, Quantity};
use super::text::string_codec;
use super::{ModelError, SchemaVersion};

/// The customs system or channel a declaration is filed through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Regime {
    /// UK Customs Declaration Service (WCO DMS XML).
    UkCds,
    /// US Automated Commercial Environment (ABI).
    UsAce,
    /// An EU member state's export system (AES).
    EuExport,
    /// UN/EDIFACT CUSDEC sent to a customs broker.
    EdifactCusdec,
}

/// The hub's one status set for declarations; every regime's codes map onto it (the mapping table
/// itself lives with the workflow). Written in upper case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DeclarationStatus {
    Submitted,
    Received,
    /// Customs accepted it and gave an MRN or entry number.
    Accepted,
    Rejected,
    /// Customs asks a question.
    Query,
    DocsRequired,
    /// Physical or documentary check.
    Control,
    /// Do-not-load or another agency's hold.
    Hold,
    HoldRemoved,
    Released,
    /// Duties settled.
    Cleared,
    Amended,
    /// Cancelled or invalidated.
    Cancelled,
    /// Goods have left (exports).
    Exited,
    HandledExternally,
    Expired,
}

impl DeclarationStatus {
    /// Whether no further customs status is expected.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            Self::Rejected
                | Self::Cleared
                | Self::Cancelled
                | Self::Exited
                | Self::HandledExternally
                | Self::Expired
        )
    }
}

/// A customs procedure code (EUCDM 1/10): the requested and the previous procedure, 2 digits each,
/// e.g. "4000" release for free circulation, "1000" permanent export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ProcedureCode([u8; 4]);

impl FromStr for ProcedureCode {
    type Err = ModelError;

    fn from_str(s: &str) -> Result<Self, ModelError> {
        let b = s.as_bytes();
        if b.len() != 4 || !b.iter().all(u8::is_ascii_digit) {
            return Err(ModelError::ProcedureCode(s.to_owned()));
        }
        Ok(Self([b[0], b[1], b[2], b[3]]))
    }
}

impl fmt::Display for ProcedureCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(std::str::from_utf8(&self.0).map_err(|_| fmt::Error)?)
    }
}

string_codec!(ProcedureCode, "ProcedureCode", "a 4-digit procedure code", {
    "type": "string",
    "pattern": "^[0-9]{4}$"
});

/// A customs office: EU/UK customs office list reference ("GB000060") or a national port code
/// (US "2704").
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CustomsOffice(String);

impl FromStr for CustomsOffice {
    type Err = ModelError;

    fn from_str(s: &str) -> Result<Self, ModelError> {
        if !(4..=17).contains(&s.len())
            || !s
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        {
            return Err(ModelError::CustomsOffice(s.to_owned()));
        }
        Ok(Self(s.to_owned()))
    }
}

impl fmt::Display for CustomsOffice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

string_codec!(CustomsOffice, "CustomsOffice", "a customs office code", {
    "type": "string",
    "pattern": "^[A-Z0-9]{4,17}$"
});

/// One goods item of a declaration. Built by the hub from a validated shipment line, so its codes
/// are strict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeclarationItem {
    /// Item sequence number in the declaration, from 1.
    pub number: u32,
    /// The shipment lines the item consolidates.
    pub lines: Vec<u32>,
    pub description: String,
    pub hs_code: HsCode,
    pub origin: CountryCode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub procedure: Option<ProcedureCode>,
    /// Preference code claimed (EUCDM 4/17, e.g. "300"), when any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preference: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customs_value: Option<Money>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub net_mass_kg: Option<Mass>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gross_mass_kg: Option<Mass>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supplementary_quantity: Option<Quantity>,
}

/// One status the declaration went through, with the regime's own code kept for the audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusChange {
    pub status: DeclarationStatus,
    /// When customs (or the broker) reported it, RFC 3339.
    #[serde(with = "time::serde::rfc3339")]
    #[schemars(with = "String", extend("format" = "date-time"))]
    pub at: time::OffsetDateTime,
    /// The regime's code, e.g. "DMSROG" or "1C".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A customs declaration for a shipment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Declaration {
    pub schema_version: SchemaVersion,
    /// The declarant's reference; filing is idempotent by it.
    pub lrn: Lrn,
    /// Given by customs on acceptance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mrn: Option<Mrn>,
    pub shipment: ShipmentId,
    pub regime: Regime,
    /// Declaration type (EUCDM 1/1 and 1/2), e.g. "IMA", "EXD".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub declaration_type: Option<String>,
    pub procedure: ProcedureCode,
    /// Additional procedure codes (EUCDM 1/11), e.g. "000", "C07".
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub additional_procedures: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customs_office: Option<CustomsOffice>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub declarant: Option<PartyId>,
    pub items: Vec<DeclarationItem>,
    /// The latest status; absent while the declaration is a draft not yet sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<DeclarationStatus>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<StatusChange>,
}
