//! Duty, import taxes, fees and landed cost of an import, with the working shown.
//!
//! [`compute`] is pure decimal arithmetic over a shipment and a [`TariffBook`]: it reads no clock
//! and no files, so the same inputs always give the same result, and every amount in the result
//! says which inputs, rate, base and formula produced it (DOMAIN.md §8).

mod allocate;
mod rate;
mod tables;

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

/// One computed charge with its working.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Charge {
    /// e.g. "MFN duty", "preferential duty", "additional duty", "import VAT", "MPF".
    pub kind: String,
    /// The rate as printed in the table, e.g. "12% MIN 1.5/kg".
    pub rate: String,
    pub base: Decimal,
    /// The quantity used by a specific part, with its unit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quantity: Option<String>,
    pub formula: String,
    /// Before rounding.
    pub exact: Decimal,
    /// As charged (rounded by the jurisdiction's rule when it rounds per line).
    pub amount: Decimal,
    /// Where the rate came from ("config/tariffs/rates/eu.csv line 7").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
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
    pub preference: String,
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
    fx_used: Vec<FxRate>,
}

impl Ctx<'_> {
    fn convert(
        &mut self,
        amount: Decimal,
        from: Currency,
    ) -> Result<(Decimal, Decimal), DutyError> {
        let to = self.j.config.currency;
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
        if from != to && !self.fx_used.contains(&fx) {
            self.fx_used.push(fx);
        }
        Ok((self.j.config.rounding.apply(amount * rate), rate))
    }
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

/// Applies a rate to a customs value and the line's quantities.
fn evaluate(
    rate: &Rate,
    cv: Decimal,
    line: &Line,
) -> Result<(Decimal, String, Option<String>), DutyError> {
    let q = |unit: Unit| {
        quantity_in(line, unit).ok_or(DutyError::QuantityMissing {
            line: line.number,
            rate: rate.to_string(),
            unit: unit_name(unit),
        })
    };
    let mut parts = Vec::new();
    let mut quantity_text = None;
    let mut total = Decimal::ZERO;
    if let Some(pct) = rate.ad_valorem_pct {
        let v = cv * pct / Decimal::ONE_HUNDRED;
        parts.push(format!("{pct}% x {cv} = {v}"));
        total += v;
    }
    if let Some(spec) = rate.specific {
        let qty = q(spec.unit)?;
        let v = spec.charge(qty);
        parts.push(format!("{spec} x {qty} {} = {v}", unit_name(spec.unit)));
        quantity_text = Some(format!("{qty} {}", unit_name(spec.unit)));
        total += v;
    }
    if parts.is_empty() {
        parts.push("free = 0".into());
    }
    let mut formula = parts.join(" + ");
    if let Some(min) = rate.min {
        let qty = q(min.unit)?;
        let floor = min.charge(qty);
        formula.push_str(&format!(
            "; MIN {min} x {qty} {} = {floor}",
            unit_name(min.unit)
        ));
        if floor > total {
            total = floor;
            formula.push_str(" (applies)");
        }
    }
    if let Some(max) = rate.max {
        let qty = q(max.unit)?;
        let ceiling = max.charge(qty);
        formula.push_str(&format!(
            "; MAX {max} x {qty} {} = {ceiling}",
            unit_name(max.unit)
        ));
        if ceiling < total {
            total = ceiling;
            formula.push_str(" (applies)");
        }
    }
    Ok((total, formula, quantity_text))
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
        let code_text = code.to_string();
        let origin = line.effective_origin().and_then(|o| o.valid().copied());
        let freight_adj = freight_parts[i] * Decimal::from(freight_sign);
        let insurance_adj = insurance_parts[i] * Decimal::from(insurance_sign);
        let cv = goods + freight_adj + insurance_adj;

        let mfn = *j
            .matching(Measure::Mfn, &code_text, origin, date)
            .first()
            .ok_or_else(|| DutyError::NoMfnRate {
                line: line.number,
                code,
                table: table.to_owned(),
            })?;
        let pref = j
            .matching(Measure::Preferential, &code_text, origin, date)
            .into_iter()
            .next();
        let (applied, kind, preference) = match pref {
            Some(p) if line.preference_claimed && (!p.proof_required || has_proof(s, line)) => (
                p,
                "preferential duty",
                format!("claimed with proof: {}", p.description),
            ),
            Some(p) if line.preference_claimed => (
                mfn,
                "MFN duty",
                format!(
                    "claimed without proof of origin: MFN applies instead of {}",
                    p.rate
                ),
            ),
            Some(p) => (
                mfn,
                "MFN duty",
                format!("not claimed (eligible rate {} available)", p.rate),
            ),
            None if line.preference_claimed => (
                mfn,
                "MFN duty",
                "claimed, but the table has no preferential rate for this origin".into(),
            ),
            None => (mfn, "MFN duty", "none".into()),
        };
        let mut duties = Vec::new();
        let additional = j.matching(Measure::Additional, &code_text, origin, date);
        for (row, kind) in std::iter::once((applied, kind))
            .chain(additional.into_iter().map(|r| (r, "additional duty")))
        {
            let (exact, mut formula, quantity) = evaluate(&row.rate, cv, line)?;
            let exact = if duty_relief {
                formula.push_str("; de minimis relief: 0");
                Decimal::ZERO
            } else {
                exact
            };
            duties.push(Charge {
                kind: if row.description.is_empty() {
                    kind.to_owned()
                } else {
                    format!("{kind}: {}", row.description)
                },
                rate: row.rate.to_string(),
                base: cv,
                quantity,
                formula,
                exact,
                amount: charge_round(exact),
                source: Some(format!("{table} line {}", row.line)),
            });
        }
        let duty: Decimal = duties.iter().map(|d| d.amount).sum();
        let mut taxes = Vec::new();
        if let Some(pct) = vat_pct {
            let duty_exact: Decimal = duties.iter().map(|d| d.exact).sum();
            let base = cv + if per_line { duty } else { duty_exact };
            let exact = if tax_relief {
                Decimal::ZERO
            } else {
                base * pct / Decimal::ONE_HUNDRED
            };
            taxes.push(Charge {
                kind: "import VAT".into(),
                rate: format!("{pct}%"),
                base,
                quantity: None,
                formula: if tax_relief {
                    "de minimis relief: 0".into()
                } else {
                    format!(
                        "{pct}% x ({cv} customs value + {} duty) = {exact}",
                        base - cv
                    )
                },
                exact,
                amount: charge_round(exact),
                source: Some(format!(
                    "jurisdictions.toml {} vat_pct {country}",
                    j.config.id
                )),
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
        let raw = customs_value * fee.rate_pct / Decimal::ONE_HUNDRED;
        let mut exact = raw;
        let mut formula = format!("{}% x {customs_value} = {raw}", fee.rate_pct);
        if let Some(min) = fee.min.filter(|m| exact < *m) {
            exact = min;
            formula.push_str(&format!("; below the minimum, {min}"));
        }
        if let Some(max) = fee.max.filter(|m| exact > *m) {
            exact = max;
            formula.push_str(&format!("; above the maximum, {max}"));
        }
        fees.push(Charge {
            kind: fee.name.clone(),
            rate: format!("{}%", fee.rate_pct),
            base: customs_value,
            quantity: None,
            formula,
            exact,
            amount: rounding.apply(exact),
            source: Some(format!(
                "jurisdictions.toml {} fee {}",
                j.config.id, fee.name
            )),
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
