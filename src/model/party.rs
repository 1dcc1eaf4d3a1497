//! Parties: the organisations and people a shipment involves.

use serde::{Deserialize, Serialize};

use super::codes::CountryCode;
use super::ids::PartyId;
use super::lenient::Lenient;

/// Whether a party is an organisation or a natural person (screening treats them differently).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PartyKind {
    Organisation,
    Individual,
}

/// The part a party plays in a shipment. One party may hold several roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PartyRole {
    Seller,
    Buyer,
    Consignor,
    Consignee,
    ShipTo,
    Notify,
    EndUser,
    Declarant,
    Carrier,
    Supplier,
    Exporter,
    Importer,
}

/// Identifier schemes customs and screening care about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum IdentifierScheme {
    /// EU/UK Economic Operators Registration and Identification number.
    Eori,
    Vat,
    Duns,
    Lei,
    TaxId,
}

/// One registration number of a party.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Identifier {
    pub scheme: IdentifierScheme,
    pub value: String,
    /// The issuing country, where the scheme is national (VAT, tax id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<Lenient<CountryCode>>,
}

/// A postal address.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Address {
    /// Street lines, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub street: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    /// State, province or region (ISO 3166-2 subdivision code where known).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subdivision: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<Lenient<CountryCode>>,
}

/// A party to a shipment. Odoo owns partners; the hub keeps Odoo's id as an external reference and
/// never writes the partner back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Party {
    pub id: PartyId,
    /// `res.partner` id in Odoo, when the party came from there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub odoo_id: Option<u64>,
    pub kind: PartyKind,
    pub name: String,
    /// Other names the party is known by (trading names, transliterations); screened too.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<Address>,
    /// Country of registration or residence; the first address's country when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<Lenient<CountryCode>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub identifiers: Vec<Identifier>,
    /// Roles on the shipment this party appears in (empty outside a shipment).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<PartyRole>,
}

impl Party {
    /// The party's country: its own, else its first address's.
    pub fn effective_country(&self) -> Option<&Lenient<CountryCode>> {
        self.country
            .as_ref()
            .or_else(|| self.addresses.iter().find_map(|a| a.country.as_ref()))
    }
}
