//! Duty, import taxes, fees and landed cost of an import, with the working shown.
//!
//! [`compute`] is pure decimal arithmetic over a shipment and a [`TariffBook`]: it reads no clock
//! and no files, so the same inputs always give the same result, and every amount in the result
//! says which inputs, rate, base and formula produced it (DOMAIN.md §8).

mod allocate;
mod rate;
mod tables;

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::fmt;
use std::sync::Arc;

use rust_decimal::Decimal;
use serde::Serialize;

use crate::model::{
    CountryCode, Currency, Date, Direction, DocumentKind, HsCode, Incoterm, Line, Shipment, Unit,
};

pub use allocate::{AllocationError, LineBasis, SplitMethod, allocate};
pub use rate::{PerUnit, Rate, RateError};
pub use tables::{
    DeMinimis, Fee, FxDate, FxRate, FxTable, Jurisdiction, JurisdictionConfig, Measure, RateRow,
    Rounding, RoundingMode, RoundingPer, TableError, TableVersion, TariffBook, ValueBasis,
    default_dir,
};

/// Why duty cannot be computed for a shipment. Each names the line or field to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DutyError {
    #[error("duty is computed for imports; this shipment is an {0}")]
    NotImport(&'static str),
    #[error("destination_country is missing or malformed")]
    NoDestination,
    #[error("no tariff jurisdiction covers imports into {0}")]
    NoJurisdiction(CountryCode),
    #[error("the shipment has no date, so no rate or exchange rate can be chosen")]
    NoDate,
    #[error("the shipment has no valid Incoterm; it decides which costs the price includes")]
    NoIncoterm,
    #[error("line {0}: no value")]
    NoValue(u32),
    #[error("line {0}: no valid HS code (on the line or the product)")]
    NoHsCode(u32),
    #[error("no exchange rate {from} -> {to} on or before {date}")]
    NoFxRate {
        from: Currency,
        to: Currency,
        date: Date,
    },
    #[error("line {line}: no MFN rate for {code} in {table}")]
    NoMfnRate {
        line: u32,
        code: HsCode,
        table: String,
    },
    #[error("line {line}: rate {rate} needs the quantity in {unit}, which the line does not give")]
    QuantityMissing {
        line: u32,
        rate: String,
        unit: &'static str,
    },
    #[error("{0}")]
    Allocation(#[from] AllocationError),
}

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

struct Ctx<'a> {
    j: &'a Jurisdiction,
    book: &'a TariffBook,
    fx_date: Date,
    /// The rates used, in the order first used; each is looked up once per computation.
    fx_used: Vec<FxRate>,
}

impl Ctx<'_> {
    fn convert(
        &mut self,
        amount: Decimal,
        from: Currency,
    ) -> Result<(Decimal, Decimal), DutyError> {
        let to = self.j.config.currency;
        let rate = if from == to {
            Decimal::ONE
        } else if let Some(known) = self.fx_used.iter().find(|r| r.from == from) {
            known.rate
        } else {
            let fx = self
                .book
                .fx
                .lookup(from, to, self.fx_date)
                .ok_or(DutyError::NoFxRate {
                    from,
                    to,
                    date: self.fx_date,
                })?;
            let rate = fx.rate;
            self.fx_used.push(fx);
            rate
        };
        Ok((self.j.config.rounding.apply(amount * rate), rate))
    }
}

/// The rate rows for one (code, origin): looked up once per computation, however many lines
/// share them.
struct Rows<'a> {
    mfn: &'a RateRow,
    preferential: Option<&'a RateRow>,
    additional: Vec<&'a RateRow>,
}

fn has_proof(s: &Shipment, line: &Line) -> bool {
    s.documents.iter().any(|d| {
        matches!(
            d.kind,
            DocumentKind::CertificateOfOrigin | DocumentKind::OriginStatement
        ) && d.covers_line(line.number)
    })
}

/// The line's quantity in `unit`: from the quantity, the supplementary quantity, or (for mass
/// units) the net mass.
fn quantity_in(line: &Line, unit: Unit) -> Option<Decimal> {
    let kg_factor = |u: Unit| match u {
        Unit::Kilogram => Some(Decimal::ONE),
        Unit::Gram => Some(Decimal::new(1, 3)),
        Unit::Tonne => Some(Decimal::from(1000)),
        _ => None,
    };
    let direct = [Some(line.quantity), line.supplementary_quantity]
        .into_iter()
        .flatten()
        .find(|q| q.unit() == unit)
        .map(|q| q.value());
    if direct.is_some() {
        return direct;
    }
    let per_kg = kg_factor(unit)?;
    let net_kg = line.net_mass_kg.map(|m| m.in_kg()).or_else(|| {
        let unit_mass = line.product.net_mass_kg?;
        (line.quantity.unit() == Unit::Piece).then(|| unit_mass.in_kg() * line.quantity.value())
    })?;
    Some(net_kg / per_kg)
}

fn unit_name(u: Unit) -> &'static str {
    rate::unit_text(u)
}

/// `pct` percent of `v`, by moving the decimal point rather than dividing.
fn percent(v: Decimal, pct: Decimal) -> Decimal {
    let mut fraction = pct;
    if fraction.set_scale(pct.scale() + 2).is_ok() {
        v * fraction
    } else {
        v * pct / Decimal::ONE_HUNDRED
    }
}

/// Applies a rate to a customs value and the line's quantities.
fn evaluate(rate: &Rate, cv: Decimal, line: &Line) -> Result<(Decimal, Formula), DutyError> {
    let q = |unit: Unit| {
        quantity_in(line, unit).ok_or_else(|| DutyError::QuantityMissing {
            line: line.number,
            rate: rate.to_string(),
            unit: unit_name(unit),
        })
    };
    let mut total = Decimal::ZERO;
    let ad_valorem = rate.ad_valorem_pct.map(|pct| {
        let v = percent(cv, pct);
        total += v;
        (pct, v)
    });
    let specific = match rate.specific {
        Some(per) => {
            let qty = q(per.unit)?;
            let v = per.charge(qty);
            total += v;
            Some((per, qty, v))
        }
        None => None,
    };
    let bound = |per: Option<PerUnit>| -> Result<Option<BoundUsed>, DutyError> {
        per.map(|per_unit| {
            let quantity = q(per_unit.unit)?;
            Ok(BoundUsed {
                per_unit,
                quantity,
                amount: per_unit.charge(quantity),
                applied: false,
            })
        })
        .transpose()
    };
    let mut min = bound(rate.min)?;
    let mut max = bound(rate.max)?;
    if let Some(b) = min.as_mut().filter(|b| b.amount > total) {
        total = b.amount;
        b.applied = true;
    }
    if let Some(b) = max.as_mut().filter(|b| b.amount < total) {
        total = b.amount;
        b.applied = true;
    }
    let formula = Formula::Duty {
        customs_value: cv,
        ad_valorem,
        specific,
        min,
        max,
        de_minimis: false,
    };
    Ok((total, formula))
}

/// Computes duty, import taxes, fees and landed cost of an import shipment.
pub fn compute(s: &Shipment, book: &TariffBook) -> Result<DutyResult, DutyError> {
    match s.direction {
        Direction::Import => {}
        Direction::Export => return Err(DutyError::NotImport("export")),
        Direction::Transit => return Err(DutyError::NotImport("transit")),
    }
    let country = s
        .destination_country
        .as_ref()
        .and_then(|c| c.valid().copied())
        .ok_or(DutyError::NoDestination)?;
    let j = book
        .for_country(country)
        .ok_or(DutyError::NoJurisdiction(country))?;
    let date = s.date.ok_or(DutyError::NoDate)?;
    let incoterm = s
        .incoterm
        .as_ref()
        .and_then(|t| t.rule.as_ref())
        .and_then(|r| r.valid().copied())
        .ok_or(DutyError::NoIncoterm)?;
    let fx_date = match j.config.fx_date {
        FxDate::Shipment => date,
        FxDate::Departure => s
            .transport
            .as_ref()
            .and_then(|t| t.departure)
            .unwrap_or(date),
    };
    let rounding = j.config.rounding;
    let per_line = rounding.per == RoundingPer::Line;
    let charge_round = |v: Decimal| if per_line { rounding.apply(v) } else { v };
    let mut ctx = Ctx {
        j,
        book,
        fx_date,
        fx_used: Vec::new(),
    };
    let mut notes = Vec::new();

    // Goods values in the jurisdiction's currency.
    let mut converted = Vec::with_capacity(s.lines.len());
    for line in &s.lines {
        let value = line.value.ok_or(DutyError::NoValue(line.number))?;
        let (goods, fx) = ctx.convert(value.amount(), value.currency())?;
        converted.push((value, goods, fx));
    }
    let goods_total: Decimal = converted.iter().map(|c| c.1).sum();

    // Freight and insurance: which the price already holds, and how they enter the value.
    let freight_in_price = incoterm.seller_pays_main_carriage();
    let insurance_in_price = incoterm.seller_insures()
        || matches!(incoterm, Incoterm::Dap | Incoterm::Dpu | Incoterm::Ddp);
    let mut cost = |m: Option<crate::model::Money>| -> Result<Decimal, DutyError> {
        m.map_or(Ok(Decimal::ZERO), |m| {
            ctx.convert(m.amount(), m.currency()).map(|c| c.0)
        })
    };
    let freight = cost(s.freight)?;
    let insurance = cost(s.insurance)?;
    let (freight_sign, insurance_sign) = match j.config.value_basis {
        ValueBasis::Cif => (
            if freight_in_price { 0 } else { 1 },
            if insurance_in_price { 0 } else { 1 },
        ),
        ValueBasis::Fob => (
            if freight_in_price { -1 } else { 0 },
            if insurance_in_price { -1 } else { 0 },
        ),
    };
    if j.config.value_basis == ValueBasis::Cif
        && matches!(incoterm, Incoterm::Dap | Incoterm::Dpu | Incoterm::Ddp)
    {
        notes.push(format!(
            "{incoterm}: the price includes transport beyond the border, which should be deducted from a CIF value; it is not, for lack of a split"
        ));
    }
    let basis: Vec<LineBasis> = s
        .lines
        .iter()
        .zip(&converted)
        .map(|(l, c)| LineBasis {
            quantity: l.quantity.value(),
            cost: c.1,
            weight: l
                .gross_mass_kg
                .or(l.net_mass_kg)
                .map_or(Decimal::ZERO, |m| m.in_kg()),
            volume: Decimal::ZERO,
        })
        .collect();
    let scale = rounding.scale;
    let split = |total: Decimal| -> Result<Vec<Decimal>, DutyError> {
        if total.is_zero() || basis.is_empty() {
            return Ok(vec![Decimal::ZERO; basis.len()]);
        }
        Ok(allocate(
            total,
            SplitMethod::ByCurrentCostPrice,
            &basis,
            scale,
        )?)
    };
    let freight_parts = split(freight)?;
    let insurance_parts = split(insurance)?;

    // De minimis on the intrinsic value of the consignment.
    let de_minimis = j.de_minimis_on(date);
    let duty_relief = de_minimis
        .and_then(|d| d.duty)
        .is_some_and(|t| goods_total <= t);
    let tax_relief = de_minimis
        .and_then(|d| d.tax)
        .is_some_and(|t| goods_total <= t);
    if duty_relief {
        notes.push(format!(
            "de minimis: intrinsic value {goods_total} {} is at or below the duty threshold {}; no duty",
            j.config.currency,
            de_minimis.and_then(|d| d.duty).unwrap_or_default()
        ));
    }
    if tax_relief {
        notes.push(format!(
            "de minimis: intrinsic value {goods_total} {} is at or below the import-tax threshold {}; no import tax at the border",
            j.config.currency,
            de_minimis.and_then(|d| d.tax).unwrap_or_default()
        ));
    }
    let vat_pct = j.vat_pct.get(&country).copied();
    let table = j.config.rates.as_str();

    let mut lines = Vec::with_capacity(s.lines.len());
    let mut rows_of: HashMap<(HsCode, Option<CountryCode>), Rows<'_>> = HashMap::new();
    for (i, line) in s.lines.iter().enumerate() {
        let (value, goods, fx) = converted[i];
        let code = line
            .hs_code
            .as_ref()
            .and_then(|c| c.valid().copied())
            .or_else(|| {
                line.product
                    .classification_for(Some(country), Some(date))
                    .and_then(|c| c.code.valid().copied())
            })
            .ok_or(DutyError::NoHsCode(line.number))?;
        let origin = line.effective_origin().and_then(|o| o.valid().copied());
        let freight_adj = freight_parts[i] * Decimal::from(freight_sign);
        let insurance_adj = insurance_parts[i] * Decimal::from(insurance_sign);
        let cv = goods + freight_adj + insurance_adj;

        let rows = match rows_of.entry((code, origin)) {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(e) => e.insert(Rows {
                mfn: j.best(Measure::Mfn, code, origin, date).ok_or_else(|| {
                    DutyError::NoMfnRate {
                        line: line.number,
                        code,
                        table: table.to_owned(),
                    }
                })?,
                preferential: j.best(Measure::Preferential, code, origin, date),
                additional: j
                    .matching(Measure::Additional, code, origin, date)
                    .collect(),
            }),
        };
        let (mfn, pref) = (rows.mfn, rows.preferential);
        let (applied, kind, preference) = match pref {
            Some(p) if line.preference_claimed && (!p.proof_required || has_proof(s, line)) => (
                p,
                ChargeKind::Preferential,
                PreferenceOutcome::Granted {
                    name: p.description.clone(),
                },
            ),
            Some(p) if line.preference_claimed => (
                mfn,
                ChargeKind::Mfn,
                PreferenceOutcome::NoProof { instead_of: p.rate },
            ),
            Some(p) => (
                mfn,
                ChargeKind::Mfn,
                PreferenceOutcome::NotClaimed { available: p.rate },
            ),
            None if line.preference_claimed => (mfn, ChargeKind::Mfn, PreferenceOutcome::NoRate),
            None => (mfn, ChargeKind::Mfn, PreferenceOutcome::None),
        };
        let mut duties = Vec::with_capacity(1 + rows.additional.len());
        let additional = rows.additional.iter().map(|r| (*r, ChargeKind::Additional));
        for (row, kind) in std::iter::once((applied, kind)).chain(additional) {
            let (mut exact, mut formula) = evaluate(&row.rate, cv, line)?;
            if duty_relief {
                exact = Decimal::ZERO;
                if let Formula::Duty { de_minimis, .. } = &mut formula {
                    *de_minimis = true;
                }
            }
            duties.push(Charge {
                kind,
                name: (!row.description.is_empty()).then(|| row.description.clone()),
                rate: ChargeRate::Duty(row.rate),
                base: cv,
                formula,
                exact,
                amount: charge_round(exact),
                source: Some(Source {
                    table: row.table.clone(),
                    line: row.line,
                }),
            });
        }
        let duty: Decimal = duties.iter().map(|d| d.amount).sum();
        let mut taxes = Vec::new();
        if let Some(pct) = vat_pct {
            let duty_exact: Decimal = duties.iter().map(|d| d.exact).sum();
            let duty_in_base = if per_line { duty } else { duty_exact };
            let base = cv + duty_in_base;
            let exact = if tax_relief {
                Decimal::ZERO
            } else {
                percent(base, pct)
            };
            taxes.push(Charge {
                kind: ChargeKind::ImportVat,
                name: None,
                rate: ChargeRate::Percent(pct),
                base,
                formula: Formula::Vat {
                    pct,
                    customs_value: cv,
                    duty: duty_in_base,
                    exact,
                    de_minimis: tax_relief,
                },
                exact,
                amount: charge_round(exact),
                source: None,
            });
        }
        let tax: Decimal = taxes.iter().map(|t| t.amount).sum();
        lines.push(LineWorking {
            line: line.number,
            hs_code: code,
            origin,
            value: value.amount(),
            value_currency: value.currency(),
            fx_rate: fx,
            goods_value: goods,
            freight_adjustment: freight_adj,
            insurance_adjustment: insurance_adj,
            customs_value: cv,
            preference,
            duties,
            taxes,
            duty,
            tax,
        });
    }

    let customs_value: Decimal = lines.iter().map(|l| l.customs_value).sum();
    let total = |f: &dyn Fn(&LineWorking) -> Decimal, exact: &dyn Fn(&LineWorking) -> Decimal| {
        if per_line {
            lines.iter().map(f).sum()
        } else {
            rounding.apply(lines.iter().map(exact).sum())
        }
    };
    let total_duty = total(&|l| l.duty, &|l| l.duties.iter().map(|d| d.exact).sum());
    let total_taxes = total(&|l| l.tax, &|l| l.taxes.iter().map(|t| t.exact).sum());
    let recoverable_taxes = if j.config.vat_recoverable {
        total_taxes
    } else {
        Decimal::ZERO
    };

    let mode = s.transport.as_ref().and_then(|t| t.mode);
    let mut fees = Vec::new();
    for fee in &j.config.fees {
        let in_force = fee.valid_from <= date && fee.valid_to.is_none_or(|t| date <= t);
        let mode_ok = fee.modes.is_empty() || mode.is_some_and(|m| fee.modes.contains(&m));
        if !in_force || !mode_ok {
            continue;
        }
        let raw = percent(customs_value, fee.rate_pct);
        let min_applied = fee.min.filter(|m| raw < *m);
        let max_applied = fee.max.filter(|m| raw > *m);
        let exact = min_applied.or(max_applied).unwrap_or(raw);
        fees.push(Charge {
            kind: ChargeKind::Fee,
            name: Some(fee.name.as_str().into()),
            rate: ChargeRate::Percent(fee.rate_pct),
            base: customs_value,
            formula: Formula::Fee {
                pct: fee.rate_pct,
                base: customs_value,
                raw,
                min_applied,
                max_applied,
            },
            exact,
            amount: rounding.apply(exact),
            source: None,
        });
    }
    let total_fees: Decimal = fees.iter().map(|f| f.amount).sum();
    let freight_paid = if freight_in_price {
        Decimal::ZERO
    } else {
        freight
    };
    let insurance_paid = if insurance_in_price {
        Decimal::ZERO
    } else {
        insurance
    };
    let landed_cost = goods_total
        + freight_paid
        + insurance_paid
        + total_duty
        + (total_taxes - recoverable_taxes)
        + total_fees;

    let numbers: Vec<u32> = lines.iter().map(|l| l.line).collect();
    let mut landed_cost_lines = Vec::new();
    let mut add = |name: String, amount: Decimal, method: SplitMethod| -> Result<(), DutyError> {
        if amount.is_zero() {
            return Ok(());
        }
        let parts = allocate(amount, method, &basis, scale)?;
        landed_cost_lines.push(LandedCostLine {
            name,
            amount,
            split_method: method,
            allocation: numbers.iter().copied().zip(parts).collect(),
        });
        Ok(())
    };
    add("Freight".into(), freight_paid, SplitMethod::ByWeight).or_else(|_| {
        add(
            "Freight".into(),
            freight_paid,
            SplitMethod::ByCurrentCostPrice,
        )
    })?;
    add(
        "Insurance".into(),
        insurance_paid,
        SplitMethod::ByCurrentCostPrice,
    )?;
    add(
        "Customs duty".into(),
        total_duty,
        SplitMethod::ByCurrentCostPrice,
    )?;
    add(
        "Non-recoverable import taxes".into(),
        total_taxes - recoverable_taxes,
        SplitMethod::ByCurrentCostPrice,
    )?;
    add(
        "Customs fees".into(),
        total_fees,
        SplitMethod::ByCurrentCostPrice,
    )?;

    let mut tables = vec![book.config_version.clone(), j.table.clone()];
    tables.extend(book.fx.version.clone());
    Ok(DutyResult {
        jurisdiction: j.config.id.clone(),
        currency: j.config.currency,
        date,
        fx_date,
        incoterm,
        value_basis: j.config.value_basis,
        rounding,
        tables,
        fx_rates: ctx.fx_used,
        goods_value: goods_total,
        freight: freight_paid,
        insurance: insurance_paid,
        customs_value,
        total_duty,
        total_taxes,
        recoverable_taxes,
        total_fees,
        fees,
        landed_cost,
        lines,
        landed_cost_lines,
        notes,
    })
}

#[cfg(test)]
mod tests;
