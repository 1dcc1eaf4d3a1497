//! Products and their classification.

use serde::{Deserialize, Serialize};

use super::codes::{CountryCode, HsCode, Jurisdiction};
use super::date::Date;
use super::ids::ProductId;
use super::lenient::Lenient;
use super::money::{Mass, Unit};

/// One tariff classification of a product, valid in one jurisdiction over a period. Odoo keeps a
/// single `hs_code` string per product; the hub keeps one per jurisdiction, with dates, because
/// codes change with every HS edition and national tariff update.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Classification {
    pub jurisdiction: Jurisdiction,
    pub code: Lenient<HsCode>,
    /// First day the code applies; open when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_from: Option<Date>,
    /// Last day the code applies; open when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_to: Option<Date>,
}

impl Classification {
    /// Whether the classification applies on `date` (an unknown date matches every period).
    pub fn applies_on(&self, date: Option<Date>) -> bool {
        let Some(date) = date else { return true };
        self.valid_from.is_none_or(|from| from <= date) && self.valid_to.is_none_or(|to| date <= to)
    }
}

/// Export-control regimes a product can be listed under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExportControlRegime {
    /// EU dual-use regulation 2021/821, Annex I.
    EuDualUse,
    /// US Export Administration Regulations (an ECCN other than EAR99).
    UsEar,
    /// US International Traffic in Arms Regulations.
    UsItar,
    /// UK strategic export control lists.
    UkStrategic,
    /// Wassenaar munitions list or a national military list.
    Military,
}

/// A listing of the product under an export-control regime.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExportControl {
    pub regime: ExportControlRegime,
    /// The list entry, e.g. an ECCN "5A002" or an EU Annex I entry.
    pub classification: String,
}

/// A product as customs sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Product {
    pub id: ProductId,
    /// `product.product` id in Odoo.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub odoo_id: Option<u64>,
    pub description: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub classifications: Vec<Classification>,
    /// Country of origin (non-preferential).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<Lenient<CountryCode>>,
    /// Whether the product meets a preferential origin rule, so a preference may be claimed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub preference_eligible: bool,
    /// Supplementary unit the tariff asks for, when it asks for one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supplementary_unit: Option<Unit>,
    /// Net mass of one unit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub net_mass_kg: Option<Mass>,
    /// Gross mass of one unit, packed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gross_mass_kg: Option<Mass>,
    /// Export-control listings; empty when the product is not controlled.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub export_controls: Vec<ExportControl>,
}

impl Product {
    /// The classification to declare in `country` on `date`: that country's own code first, then
    /// the bare WCO code, then any classification in force on the date.
    pub fn classification_for(
        &self,
        country: Option<CountryCode>,
        date: Option<Date>,
    ) -> Option<&Classification> {
        let in_force = || self.classifications.iter().filter(|c| c.applies_on(date));
        country
            .and_then(|cc| in_force().find(|c| c.jurisdiction.covers(cc)))
            .or_else(|| in_force().find(|c| c.jurisdiction == Jurisdiction::Wco))
            .or_else(|| in_force().next())
    }
}
