//! Duty, import taxes, fees and landed cost of an import, with the working shown.
//!
//! [`compute`] is pure decimal arithmetic over a shipment and a [`TariffBook`]: it reads no clock
//! and no files, so the same inputs always give the same result, and every amount in the result
//! says which inputs, rate, base and formula produced it.
//!
//! | file | phase |
//! |---|---|
//! | `duty/valuation.rs` | line values in the tariff's currency, freight and insurance, de minimis |
//! | `duty/duties.rs` | rate rows, preference, each duty rate applied to a line |
//! | `duty/taxes.rs` | import VAT per line |
//! | `duty/fees.rs` | per-entry fees |
//! | `duty/landed_cost.rs` | landed cost and its Odoo landed-cost lines |
//! | `duty/working.rs` | the result and its working |

mod allocate;
mod duties;
mod fees;
mod landed_cost;
mod rate;
mod tables;
mod taxes;
mod valuation;
mod working;

use rust_decimal::Decimal;

use crate::model::{CountryCode, Currency, Date, Direction, HsCode, Incoterm, Shipment};

pub use allocate::{AllocationError, LineBasis, SplitMethod, allocate};
pub use rate::{PerUnit, Rate, RateError};
pub use tables::{
    DeMinimis, Fee, FxDate, FxRate, FxTable, Jurisdiction, JurisdictionConfig, Measure, RateRow,
    Rounding, RoundingMode, RoundingPer, TableError, TableVersion, TariffBook, ValueBasis,
    default_dir,
};
pub use working::{
    BoundUsed, Charge, ChargeKind, ChargeRate, DutyResult, Formula, LandedCostLine, LineWorking,
    PreferenceOutcome, Source,
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

/// Where and when the goods are imported, and on which terms: what every phase reads.
struct Terms<'a> {
    book: &'a TariffBook,
    jurisdiction: &'a Jurisdiction,
    country: CountryCode,
    date: Date,
    /// The date whose exchange rates apply.
    fx_date: Date,
    incoterm: Incoterm,
    /// Import VAT of the destination country, if it has one.
    vat_pct: Option<Decimal>,
}

impl<'a> Terms<'a> {
    fn of(shipment: &Shipment, book: &'a TariffBook) -> Result<Self, DutyError> {
        match shipment.direction {
            Direction::Import => {}
            Direction::Export => return Err(DutyError::NotImport("export")),
            Direction::Transit => return Err(DutyError::NotImport("transit")),
        }
        let country = shipment
            .destination_country
            .as_ref()
            .and_then(|country| country.valid().copied())
            .ok_or(DutyError::NoDestination)?;
        let jurisdiction = book
            .for_country(country)
            .ok_or(DutyError::NoJurisdiction(country))?;
        let date = shipment.date.ok_or(DutyError::NoDate)?;
        let incoterm = shipment
            .incoterm
            .as_ref()
            .and_then(|terms| terms.rule.as_ref())
            .and_then(|rule| rule.valid().copied())
            .ok_or(DutyError::NoIncoterm)?;
        let fx_date = match jurisdiction.config.fx_date {
            FxDate::Shipment => date,
            FxDate::Departure => shipment
                .transport
                .as_ref()
                .and_then(|transport| transport.departure)
                .unwrap_or(date),
        };
        Ok(Self {
            book,
            jurisdiction,
            country,
            date,
            fx_date,
            incoterm,
            vat_pct: jurisdiction.vat_pct.get(&country).copied(),
        })
    }

    fn rounding(&self) -> Rounding {
        self.jurisdiction.config.rounding
    }

    /// Whether each line's charges are rounded (else only the totals are).
    fn per_line(&self) -> bool {
        self.rounding().per == RoundingPer::Line
    }

    /// A line's charge as charged.
    fn charged(&self, exact: Decimal) -> Decimal {
        if self.per_line() {
            self.rounding().apply(exact)
        } else {
            exact
        }
    }

    /// A total over the lines: the sum of what each line is charged, or the rounded sum of the
    /// exact amounts where only totals are rounded.
    fn total(
        &self,
        lines: &[LineWorking],
        charged: impl Fn(&LineWorking) -> Decimal,
        exact: impl Fn(&LineWorking) -> Decimal,
    ) -> Decimal {
        if self.per_line() {
            lines.iter().map(charged).sum()
        } else {
            self.rounding().apply(lines.iter().map(exact).sum())
        }
    }
}

/// `pct` percent of `amount`, by moving the decimal point rather than dividing.
fn percent(amount: Decimal, pct: Decimal) -> Decimal {
    let mut fraction = pct;
    if fraction.set_scale(pct.scale() + 2).is_ok() {
        amount * fraction
    } else {
        amount * pct / Decimal::ONE_HUNDRED
    }
}

/// Computes duty, import taxes, fees and landed cost of an import shipment.
pub fn compute(shipment: &Shipment, book: &TariffBook) -> Result<DutyResult, DutyError> {
    let terms = Terms::of(shipment, book)?;
    let mut notes = Vec::new();
    let valuation = valuation::value(shipment, &terms, &mut notes)?;
    let relief = valuation::relief(&terms, valuation.goods_total, &mut notes);

    let mut rate_rows = duties::RateRows::default();
    let mut lines = Vec::with_capacity(shipment.lines.len());
    for (line, value) in shipment.lines.iter().zip(&valuation.lines) {
        let duty = duties::line_duty(
            shipment,
            line,
            value.customs_value,
            &terms,
            &mut rate_rows,
            relief.duty,
        )?;
        let taxes = taxes::line_taxes(&terms, value.customs_value, &duty, relief.tax);
        let tax = taxes.iter().map(|charge| charge.amount).sum();
        lines.push(LineWorking {
            line: line.number,
            hs_code: duty.hs_code,
            origin: duty.origin,
            value: value.value.amount(),
            value_currency: value.value.currency(),
            fx_rate: value.fx_rate,
            goods_value: value.goods,
            freight_adjustment: value.freight_adjustment,
            insurance_adjustment: value.insurance_adjustment,
            customs_value: value.customs_value,
            preference: duty.preference,
            duties: duty.duties,
            taxes,
            duty: duty.duty,
            tax,
        });
    }

    let customs_value: Decimal = lines.iter().map(|line| line.customs_value).sum();
    let total_duty = terms.total(
        &lines,
        |line| line.duty,
        |line| line.duties.iter().map(|charge| charge.exact).sum(),
    );
    let total_taxes = terms.total(
        &lines,
        |line| line.tax,
        |line| line.taxes.iter().map(|charge| charge.exact).sum(),
    );
    let config = &terms.jurisdiction.config;
    let recoverable_taxes = if config.vat_recoverable {
        total_taxes
    } else {
        Decimal::ZERO
    };
    let mode = shipment
        .transport
        .as_ref()
        .and_then(|transport| transport.mode);
    let fees = fees::fees(&terms, customs_value, mode);
    let total_fees: Decimal = fees.iter().map(|fee| fee.amount).sum();

    let numbers: Vec<u32> = lines.iter().map(|line| line.line).collect();
    let (landed_cost, landed_cost_lines) = landed_cost::landed_cost(
        &landed_cost::Costs {
            goods: valuation.goods_total,
            freight: valuation.freight_paid,
            insurance: valuation.insurance_paid,
            duty: total_duty,
            taxes: total_taxes - recoverable_taxes,
            fees: total_fees,
        },
        &numbers,
        &valuation.basis,
        terms.rounding().scale,
    )?;

    let mut tables = vec![
        book.config_version.clone(),
        terms.jurisdiction.table.clone(),
    ];
    tables.extend(book.fx.version.clone());
    Ok(DutyResult {
        jurisdiction: config.id.clone(),
        currency: config.currency,
        date: terms.date,
        fx_date: terms.fx_date,
        incoterm: terms.incoterm,
        value_basis: config.value_basis,
        rounding: terms.rounding(),
        tables,
        fx_rates: valuation.fx_rates,
        goods_value: valuation.goods_total,
        freight: valuation.freight_paid,
        insurance: valuation.insurance_paid,
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
