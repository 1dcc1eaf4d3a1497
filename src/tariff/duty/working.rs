//! What [`super::compute`] returns: every amount with the rate, base and formula behind it and
//! the table line the rate came from, so that a person can check the result by hand.

use std::fmt;
use std::sync::Arc;

use rust_decimal::Decimal;
use serde::Serialize;

use super::allocate::SplitMethod;
use super::rate::{self, PerUnit, Rate};
use super::tables::{FxRate, Rounding, TableVersion, ValueBasis};
use crate::model::{CountryCode, Currency, Date, HsCode, Incoterm};

/// What a charge is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChargeKind {
    /// Most-favoured-nation duty.
    Mfn,
    /// Preferential duty (claimed, with proof where the table asks for it).
    Preferential,
    /// Anti-dumping, countervailing or Section 301-style duty on top.
    Additional,
    ImportVat,
    /// A per-entry fee (MPF, HMF).
    Fee,
}

impl fmt::Display for ChargeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Mfn => "MFN duty",
            Self::Preferential => "preferential duty",
            Self::Additional => "additional duty",
            Self::ImportVat => "import VAT",
            Self::Fee => "fee",
        })
    }
}

/// The rate a charge was computed with: a duty rate as printed, or a percentage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChargeRate {
    Duty(Rate),
    Percent(Decimal),
}

impl fmt::Display for ChargeRate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Duty(r) => r.fmt(f),
            Self::Percent(p) => write!(f, "{p}%"),
        }
    }
}

/// A bound (MIN or MAX) of a duty and whether it decided the amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BoundUsed {
    pub per_unit: PerUnit,
    pub quantity: Decimal,
    pub amount: Decimal,
    pub applied: bool,
}

/// How an amount was reached. Kept as numbers and written out as text only when the result is
/// shown, because formatting every formula would cost more than computing it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Formula {
    Duty {
        customs_value: Decimal,
        ad_valorem: Option<(Decimal, Decimal)>,
        specific: Option<(PerUnit, Decimal, Decimal)>,
        min: Option<BoundUsed>,
        max: Option<BoundUsed>,
        de_minimis: bool,
    },
    Vat {
        pct: Decimal,
        customs_value: Decimal,
        duty: Decimal,
        exact: Decimal,
        de_minimis: bool,
    },
    Fee {
        pct: Decimal,
        base: Decimal,
        raw: Decimal,
        min_applied: Option<Decimal>,
        max_applied: Option<Decimal>,
    },
}

impl fmt::Display for Formula {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Duty {
                customs_value,
                ad_valorem,
                specific,
                min,
                max,
                de_minimis,
            } => {
                let mut first = true;
                if let Some((pct, v)) = ad_valorem {
                    write!(f, "{pct}% x {customs_value} = {v}")?;
                    first = false;
                }
                if let Some((per, q, v)) = specific {
                    if !first {
                        f.write_str(" + ")?;
                    }
                    write!(f, "{per} x {q} {} = {v}", rate::unit_text(per.unit))?;
                    first = false;
                }
                if first {
                    f.write_str("free = 0")?;
                }
                for (word, bound) in [("MIN", min), ("MAX", max)] {
                    if let Some(b) = bound {
                        write!(
                            f,
                            "; {word} {} x {} {} = {}",
                            b.per_unit,
                            b.quantity,
                            rate::unit_text(b.per_unit.unit),
                            b.amount
                        )?;
                        if b.applied {
                            f.write_str(" (applies)")?;
                        }
                    }
                }
                if de_minimis {
                    f.write_str("; de minimis relief: 0")?;
                }
                Ok(())
            }
            Self::Vat {
                pct,
                customs_value,
                duty,
                exact,
                de_minimis,
            } => {
                if de_minimis {
                    f.write_str("de minimis relief: 0")
                } else {
                    write!(
                        f,
                        "{pct}% x ({customs_value} customs value + {duty} duty) = {exact}"
                    )
                }
            }
            Self::Fee {
                pct,
                base,
                raw,
                min_applied,
                max_applied,
            } => {
                write!(f, "{pct}% x {base} = {raw}")?;
                if let Some(m) = min_applied {
                    write!(f, "; below the minimum, {m}")?;
                }
                if let Some(m) = max_applied {
                    write!(f, "; above the maximum, {m}")?;
                }
                Ok(())
            }
        }
    }
}

/// Where a rate came from: a table file and its line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub table: Arc<str>,
    pub line: u64,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} line {}", self.table, self.line)
    }
}

macro_rules! serialize_as_text {
    ($($ty:ty),*) => {$(
        impl Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
    )*};
}

serialize_as_text!(ChargeRate, Formula, Source, PreferenceOutcome);

fn serialize_name<S: serde::Serializer>(name: &Option<Arc<str>>, s: S) -> Result<S::Ok, S::Error> {
    match name {
        Some(n) => s.serialize_str(n),
        None => s.serialize_none(),
    }
}

/// One computed charge with its working.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Charge {
    pub kind: ChargeKind,
    /// The table row's description or the fee's name.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "serialize_name"
    )]
    pub name: Option<Arc<str>>,
    pub rate: ChargeRate,
    pub base: Decimal,
    pub formula: Formula,
    /// Before rounding.
    pub exact: Decimal,
    /// As charged (rounded by the jurisdiction's rule when it rounds per line).
    pub amount: Decimal,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<Source>,
}

/// What happened to a line's preference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PreferenceOutcome {
    /// No claim and no preferential rate for the origin.
    None,
    /// Not claimed although a preferential rate exists.
    NotClaimed { available: Rate },
    /// Claimed and granted.
    Granted { name: Arc<str> },
    /// Claimed without the proof the table asks for: MFN applies.
    NoProof { instead_of: Rate },
    /// Claimed, but the table has no preferential rate for the origin.
    NoRate,
}

impl fmt::Display for PreferenceOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::None => f.write_str("none"),
            Self::NotClaimed { available } => {
                write!(f, "not claimed (eligible rate {available} available)")
            }
            Self::Granted { name } => write!(f, "claimed with proof: {name}"),
            Self::NoProof { instead_of } => {
                write!(
                    f,
                    "claimed without proof of origin: MFN applies instead of {instead_of}"
                )
            }
            Self::NoRate => {
                f.write_str("claimed, but the table has no preferential rate for this origin")
            }
        }
    }
}

/// The working of one line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineWorking {
    pub line: u32,
    pub hs_code: HsCode,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<CountryCode>,
    pub value: Decimal,
    pub value_currency: Currency,
    pub fx_rate: Decimal,
    /// Invoice value in the jurisdiction's currency.
    pub goods_value: Decimal,
    /// Freight allocated to the line (added on a CIF basis, deducted on FOB when the price has it).
    pub freight_adjustment: Decimal,
    pub insurance_adjustment: Decimal,
    pub customs_value: Decimal,
    pub preference: PreferenceOutcome,
    pub duties: Vec<Charge>,
    pub taxes: Vec<Charge>,
    pub duty: Decimal,
    pub tax: Decimal,
}

/// A landed-cost line ready for Odoo's `stock.landed.cost`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LandedCostLine {
    pub name: String,
    pub amount: Decimal,
    pub split_method: SplitMethod,
    /// The split our own allocation gives, per shipment line number.
    pub allocation: Vec<(u32, Decimal)>,
}

/// Duty, taxes, fees and landed cost of an import, with the working.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DutyResult {
    pub jurisdiction: String,
    pub currency: Currency,
    pub date: Date,
    pub fx_date: Date,
    pub incoterm: Incoterm,
    pub value_basis: ValueBasis,
    pub rounding: Rounding,
    pub tables: Vec<TableVersion>,
    pub fx_rates: Vec<FxRate>,
    pub goods_value: Decimal,
    /// Freight and insurance the buyer pays on top of the price (zero when the price includes them).
    pub freight: Decimal,
    pub insurance: Decimal,
    pub customs_value: Decimal,
    pub total_duty: Decimal,
    pub total_taxes: Decimal,
    /// Part of `total_taxes` recovered as input VAT: a receivable, not landed cost.
    pub recoverable_taxes: Decimal,
    pub total_fees: Decimal,
    pub fees: Vec<Charge>,
    pub landed_cost: Decimal,
    pub lines: Vec<LineWorking>,
    pub landed_cost_lines: Vec<LandedCostLine>,
    pub notes: Vec<String>,
}
