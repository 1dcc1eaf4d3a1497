//! Documents that travel with a shipment. The hub stores the file elsewhere and keeps its hash, so
//! the document record proves which file was sent.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::ModelError;
use super::date::Date;
use super::text::string_codec;

/// Kinds of trade documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    CommercialInvoice,
    ProformaInvoice,
    PackingList,
    CertificateOfOrigin,
    /// An origin declaration made out by the exporter on the invoice (preference proof under many
    /// agreements, instead of a certificate).
    OriginStatement,
    ExportLicence,
    ImportLicence,
    BillOfLading,
    SeaWaybill,
    AirWaybill,
    RoadConsignmentNote,
    RailConsignmentNote,
    BrokerCommunication,
}

/// A SHA-256 digest of a stored file, written "sha256:<64 hex digits>".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ContentHash([u8; 32]);

impl ContentHash {
    /// The digest bytes.
    pub fn bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Wraps a digest.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }
}

impl FromStr for ContentHash {
    type Err = ModelError;

    fn from_str(s: &str) -> Result<Self, ModelError> {
        let err = || ModelError::ContentHash(s.to_owned());
        let hex_part = s.strip_prefix("sha256:").ok_or_else(err)?;
        if hex_part.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(err());
        }
        let mut out = [0u8; 32];
        hex::decode_to_slice(hex_part, &mut out).map_err(|_| err())?;
        Ok(Self(out))
    }
}

impl fmt::Display for ContentHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256:{}", hex::encode(self.0))
    }
}

string_codec!(ContentHash, "ContentHash", "\"sha256:\" and 64 hex digits", {
    "type": "string",
    "pattern": "^sha256:[0-9a-f]{64}$"
});

/// A document attached to a shipment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Document {
    pub kind: DocumentKind,
    pub number: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<Date>,
    /// Who issued it (a chamber of commerce, a licensing authority, the carrier, the seller).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_hash: Option<ContentHash>,
    /// Where the stored file is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    /// Line numbers the document covers; empty means the whole shipment.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lines: Vec<u32>,
}

impl Document {
    /// Whether the document covers line `number`.
    pub fn covers_line(&self, number: u32) -> bool {
        self.lines.is_empty() || self.lines.contains(&number)
    }
}
