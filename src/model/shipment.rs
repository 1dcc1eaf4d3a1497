//! The shipment: what the saga carries from RECEIVED to CLOSED.

use serde::{Deserialize, Serialize};

use super::SchemaVersion;
use super::codes::{CountryCode, Currency, HsCode, Incoterm, UnLocode};
use super::date::Date;
use super::document::Document;
use super::ids::{PartyId, ShipmentId};
use super::lenient::Lenient;
use super::money::{Mass, Money, Quantity};
use super::party::{Party, PartyRole};
use super::product::Product;

/// Which way the goods cross the border, from the point of view of the hub's company.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Export,
    Import,
    Transit,
}

/// A record in Odoo the shipment came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OdooRef {
    pub id: u64,
    /// The record's display name, e.g. "WH/OUT/00042".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// The Odoo records behind a shipment. Odoo stays the system of record for all of them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OdooRefs {
    /// `stock.picking`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub picking: Option<OdooRef>,
    /// `sale.order`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sale_order: Option<OdooRef>,
    /// `purchase.order`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purchase_order: Option<OdooRef>,
    /// `account.move` (the customer or vendor invoice).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice: Option<OdooRef>,
}

impl OdooRefs {
    fn is_empty(&self) -> bool {
        self == &Self::default()
    }
}

/// The Incoterm and its named place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeliveryTerms {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<Lenient<Incoterm>>,
    /// The named place or port, e.g. "Hamburg" in "CIF Hamburg".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place_locode: Option<Lenient<UnLocode>>,
}

/// Modes of transport at the border (UN/ECE Recommendation 19).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TransportMode {
    Sea,
    Rail,
    Road,
    Air,
    Post,
    Multimodal,
    FixedInstallation,
    InlandWaterway,
}

/// A place in a transport leg.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Location {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locode: Option<Lenient<UnLocode>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// A container, trailer or ULD.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Equipment {
    /// Container number (ISO 6346 for sea containers), trailer plate or ULD id.
    pub id: String,
    /// ISO 6346 size-type code, e.g. "45G1".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_type: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub seals: Vec<String>,
}

/// How the goods travel.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Transport {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<TransportMode>,
    /// The carrier, as a party of the shipment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carrier: Option<PartyId>,
    /// Vessel name, flight or truck identification.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conveyance: Option<String>,
    /// Voyage or flight number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voyage: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub equipment: Vec<Equipment>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loading: Option<Location>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discharge: Option<Location>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub departure: Option<Date>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arrival: Option<Date>,
}

/// One line of goods.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Line {
    /// Line number as the source numbers it (stable across amendments).
    pub number: u32,
    pub product: Product,
    pub quantity: Quantity,
    /// Quantity in the tariff's supplementary unit, when the product has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supplementary_quantity: Option<Quantity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub net_mass_kg: Option<Mass>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gross_mass_kg: Option<Mass>,
    /// Invoice value of the line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Money>,
    /// Origin of these goods; the product's origin when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<Lenient<CountryCode>>,
    /// The code to declare; the product's classification for the customs country when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hs_code: Option<Lenient<HsCode>>,
    /// Whether a preferential tariff treatment is claimed for the line.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub preference_claimed: bool,
}

impl Line {
    /// The line's origin, else the product's.
    pub fn effective_origin(&self) -> Option<&Lenient<CountryCode>> {
        self.origin.as_ref().or(self.product.origin.as_ref())
    }
}

/// A shipment in the canonical model, version 1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Shipment {
    pub schema_version: SchemaVersion,
    pub id: ShipmentId,
    pub direction: Direction,
    /// The date the customs formalities refer to; classifications are checked against it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<Date>,
    #[serde(default, skip_serializing_if = "OdooRefs::is_empty")]
    pub odoo: OdooRefs,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dispatch_country: Option<Lenient<CountryCode>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination_country: Option<Lenient<CountryCode>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parties: Vec<Party>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lines: Vec<Line>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incoterm: Option<DeliveryTerms>,
    /// Invoice currency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<Lenient<Currency>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub freight: Option<Money>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insurance: Option<Money>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transport: Option<Transport>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub documents: Vec<Document>,
}

impl Shipment {
    /// The country whose customs the formalities are lodged with: the destination for imports and
    /// transit, the dispatch country for exports.
    pub fn customs_country(&self) -> Option<CountryCode> {
        let field = match self.direction {
            Direction::Export => &self.dispatch_country,
            Direction::Import | Direction::Transit => &self.destination_country,
        };
        field.as_ref().and_then(|c| c.valid().copied())
    }

    /// The parties holding `role`.
    pub fn parties_with(&self, role: PartyRole) -> impl Iterator<Item = &Party> {
        self.parties.iter().filter(move |p| p.roles.contains(&role))
    }
}
