//! Amounts: money, quantities and masses, all in decimal arithmetic and written as decimal strings
//! in JSON so that no float ever touches them.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::ModelError;
use super::codes::Currency;
use super::text::string_codec;

pub(crate) fn decimal_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "string",
        "description": "decimal number written as a string, e.g. \"1234.50\"",
        "pattern": "^-?[0-9]+(\\.[0-9]+)?$"
    })
}

fn non_negative_decimal_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "string",
        "description": "non-negative decimal number written as a string",
        "pattern": "^[0-9]+(\\.[0-9]+)?$"
    })
}

/// An amount of money in one currency. Negative amounts are allowed (credits, refunds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Money {
    #[serde(with = "rust_decimal::serde::str")]
    #[schemars(schema_with = "decimal_schema")]
    amount: Decimal,
    currency: Currency,
}

impl Money {
    /// An amount in a currency.
    pub fn new(amount: Decimal, currency: Currency) -> Self {
        Self { amount, currency }
    }

    /// The amount.
    pub fn amount(&self) -> Decimal {
        self.amount
    }

    /// The currency.
    pub fn currency(&self) -> Currency {
        self.currency
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount, self.currency)
    }
}

/// Units of measure for quantities, written as in the EU Combined Nomenclature's supplementary
/// units (so that a supplementary unit can be compared with a line's unit directly).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
pub enum Unit {
    #[serde(rename = "kg")]
    Kilogram,
    #[serde(rename = "g")]
    Gram,
    #[serde(rename = "t")]
    Tonne,
    #[serde(rename = "l")]
    Litre,
    #[serde(rename = "l alc. 100 %")]
    LitrePureAlcohol,
    #[serde(rename = "m")]
    Metre,
    #[serde(rename = "m2")]
    SquareMetre,
    #[serde(rename = "m3")]
    CubicMetre,
    #[serde(rename = "p/st")]
    Piece,
    #[serde(rename = "pa")]
    Pair,
    #[serde(rename = "c/k")]
    Carat,
    #[serde(rename = "1000 kWh")]
    ThousandKilowattHours,
}

#[derive(Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Quantity")]
struct QuantityRepr {
    #[serde(with = "rust_decimal::serde::str")]
    #[schemars(schema_with = "non_negative_decimal_schema")]
    value: Decimal,
    unit: Unit,
}

/// A non-negative quantity in a unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "QuantityRepr", into = "QuantityRepr")]
pub struct Quantity {
    value: Decimal,
    unit: Unit,
}

impl Quantity {
    /// A quantity; refuses negative values.
    pub fn new(value: Decimal, unit: Unit) -> Result<Self, ModelError> {
        if value.is_sign_negative() && !value.is_zero() {
            return Err(ModelError::Negative {
                what: "quantity",
                value: value.to_string(),
            });
        }
        Ok(Self { value, unit })
    }

    /// The number of units.
    pub fn value(&self) -> Decimal {
        self.value
    }

    /// The unit.
    pub fn unit(&self) -> Unit {
        self.unit
    }
}

impl TryFrom<QuantityRepr> for Quantity {
    type Error = ModelError;

    fn try_from(r: QuantityRepr) -> Result<Self, ModelError> {
        Self::new(r.value, r.unit)
    }
}

impl From<Quantity> for QuantityRepr {
    fn from(q: Quantity) -> Self {
        Self {
            value: q.value,
            unit: q.unit,
        }
    }
}

impl schemars::JsonSchema for Quantity {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Quantity".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        QuantityRepr::json_schema(generator)
    }
}

/// A mass in kilograms, never negative.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Mass(Decimal);

impl Mass {
    /// A mass in kilograms; refuses negative values.
    pub fn kg(value: Decimal) -> Result<Self, ModelError> {
        if value.is_sign_negative() && !value.is_zero() {
            return Err(ModelError::Negative {
                what: "mass",
                value: value.to_string(),
            });
        }
        Ok(Self(value))
    }

    /// The mass in kilograms.
    pub fn in_kg(self) -> Decimal {
        self.0
    }
}

impl FromStr for Mass {
    type Err = ModelError;

    fn from_str(s: &str) -> Result<Self, ModelError> {
        let value = Decimal::from_str_exact(s).map_err(|_| ModelError::Decimal {
            what: "mass",
            value: s.to_owned(),
        })?;
        Self::kg(value)
    }
}

impl fmt::Display for Mass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

string_codec!(Mass, "Mass", "a decimal number of kilograms", {
    "type": "string",
    "description": "mass in kilograms, non-negative decimal written as a string",
    "pattern": "^[0-9]+(\\.[0-9]+)?$"
});
