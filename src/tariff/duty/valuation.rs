//! Valuation: each line's value in the jurisdiction's currency, freight and insurance added to
//! or taken out of its customs value as the value basis and the Incoterm require, and the de
//! minimis relief the consignment's intrinsic value earns.

use rust_decimal::Decimal;

use super::allocate::{LineBasis, SplitMethod, allocate};
use super::tables::{FxRate, ValueBasis};
use super::{DutyError, Terms};
use crate::model::{Currency, Incoterm, Money, Shipment};

/// Converts amounts into the jurisdiction's currency.
struct Converter<'a> {
    terms: &'a Terms<'a>,
    /// The rates used, in the order first used; each is looked up once per computation.
    used: Vec<FxRate>,
}

impl Converter<'_> {
    /// `amount` in the jurisdiction's currency, rounded by its rule, and the rate used.
    fn convert(
        &mut self,
        amount: Decimal,
        from: Currency,
    ) -> Result<(Decimal, Decimal), DutyError> {
        let to = self.terms.jurisdiction.config.currency;
        let rate = if from == to {
            Decimal::ONE
        } else if let Some(known) = self.used.iter().find(|rate| rate.from == from) {
            known.rate
        } else {
            let fx_date = self.terms.fx_date;
            let fx = self
                .terms
                .book
                .fx
                .lookup(from, to, fx_date)
                .ok_or(DutyError::NoFxRate {
                    from,
                    to,
                    date: fx_date,
                })?;
            let rate = fx.rate;
            self.used.push(fx);
            rate
        };
        Ok((self.terms.rounding().apply(amount * rate), rate))
    }

    /// A freight or insurance cost in the jurisdiction's currency; none is zero.
    fn convert_cost(&mut self, cost: Option<Money>) -> Result<Decimal, DutyError> {
        cost.map_or(Ok(Decimal::ZERO), |cost| {
            self.convert(cost.amount(), cost.currency())
                .map(|(converted, _)| converted)
        })
    }
}

/// One line's value.
pub(super) struct LineValue {
    /// The invoice value as the line gives it.
    pub(super) value: Money,
    /// The exchange rate it was converted with.
    pub(super) fx_rate: Decimal,
    /// The invoice value in the jurisdiction's currency.
    pub(super) goods: Decimal,
    /// Freight allocated to the line (added on a CIF basis, deducted on FOB when the price has
    /// it).
    pub(super) freight_adjustment: Decimal,
    pub(super) insurance_adjustment: Decimal,
    pub(super) customs_value: Decimal,
}

/// The shipment's values in the jurisdiction's currency.
pub(super) struct Valuation {
    /// One per shipment line, in order.
    pub(super) lines: Vec<LineValue>,
    /// The intrinsic value of the consignment.
    pub(super) goods_total: Decimal,
    /// Freight the buyer pays on top of the price (zero when the price includes it).
    pub(super) freight_paid: Decimal,
    /// Insurance the buyer pays on top of the price (zero when the price includes it).
    pub(super) insurance_paid: Decimal,
    /// What each line weighs when a cost is split over the lines.
    pub(super) basis: Vec<LineBasis>,
    /// The exchange rates used.
    pub(super) fx_rates: Vec<FxRate>,
}

/// Values the shipment's lines; a note explains a value that cannot be made exact.
pub(super) fn value(
    shipment: &Shipment,
    terms: &Terms<'_>,
    notes: &mut Vec<String>,
) -> Result<Valuation, DutyError> {
    let mut converter = Converter {
        terms,
        used: Vec::new(),
    };
    let mut converted = Vec::with_capacity(shipment.lines.len());
    for line in &shipment.lines {
        let value = line.value.ok_or(DutyError::NoValue(line.number))?;
        let (goods, fx_rate) = converter.convert(value.amount(), value.currency())?;
        converted.push((value, goods, fx_rate));
    }
    let goods_total: Decimal = converted.iter().map(|(_, goods, _)| *goods).sum();

    // Which of freight and insurance the price already holds, and how they enter the value.
    let incoterm = terms.incoterm;
    let delivered = matches!(incoterm, Incoterm::Dap | Incoterm::Dpu | Incoterm::Ddp);
    let freight_in_price = incoterm.seller_pays_main_carriage();
    let insurance_in_price = incoterm.seller_insures() || delivered;
    let freight = converter.convert_cost(shipment.freight)?;
    let insurance = converter.convert_cost(shipment.insurance)?;
    let value_basis = terms.jurisdiction.config.value_basis;
    let (freight_sign, insurance_sign) = match value_basis {
        ValueBasis::Cif => (
            if freight_in_price { 0 } else { 1 },
            if insurance_in_price { 0 } else { 1 },
        ),
        ValueBasis::Fob => (
            if freight_in_price { -1 } else { 0 },
            if insurance_in_price { -1 } else { 0 },
        ),
    };
    if value_basis == ValueBasis::Cif && delivered {
        notes.push(format!(
            "{incoterm}: the price includes transport beyond the border, which should be deducted from a CIF value; it is not, for lack of a split"
        ));
    }
    let basis: Vec<LineBasis> = shipment
        .lines
        .iter()
        .zip(&converted)
        .map(|(line, (_, goods, _))| LineBasis {
            quantity: line.quantity.value(),
            cost: *goods,
            weight: line
                .gross_mass_kg
                .or(line.net_mass_kg)
                .map_or(Decimal::ZERO, |mass| mass.in_kg()),
            volume: Decimal::ZERO,
        })
        .collect();
    let scale = terms.rounding().scale;
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
    let lines = converted
        .into_iter()
        .zip(freight_parts)
        .zip(insurance_parts)
        .map(
            |(((value, goods, fx_rate), freight_part), insurance_part)| {
                let freight_adjustment = freight_part * Decimal::from(freight_sign);
                let insurance_adjustment = insurance_part * Decimal::from(insurance_sign);
                LineValue {
                    value,
                    fx_rate,
                    goods,
                    freight_adjustment,
                    insurance_adjustment,
                    customs_value: goods + freight_adjustment + insurance_adjustment,
                }
            },
        )
        .collect();
    Ok(Valuation {
        lines,
        goods_total,
        freight_paid: if freight_in_price {
            Decimal::ZERO
        } else {
            freight
        },
        insurance_paid: if insurance_in_price {
            Decimal::ZERO
        } else {
            insurance
        },
        basis,
        fx_rates: converter.used,
    })
}

/// Which de minimis relief the consignment earns.
#[derive(Debug, Clone, Copy)]
pub(super) struct Relief {
    /// No duty.
    pub(super) duty: bool,
    /// No import tax at the border.
    pub(super) tax: bool,
}

/// De minimis on the intrinsic value of the consignment; a note names each relief granted.
pub(super) fn relief(terms: &Terms<'_>, goods_total: Decimal, notes: &mut Vec<String>) -> Relief {
    let de_minimis = terms.jurisdiction.de_minimis_on(terms.date);
    let duty_threshold = de_minimis.and_then(|thresholds| thresholds.duty);
    let tax_threshold = de_minimis.and_then(|thresholds| thresholds.tax);
    let relief = Relief {
        duty: duty_threshold.is_some_and(|threshold| goods_total <= threshold),
        tax: tax_threshold.is_some_and(|threshold| goods_total <= threshold),
    };
    let currency = terms.jurisdiction.config.currency;
    if relief.duty {
        notes.push(format!(
            "de minimis: intrinsic value {goods_total} {currency} is at or below the duty threshold {}; no duty",
            duty_threshold.unwrap_or_default()
        ));
    }
    if relief.tax {
        notes.push(format!(
            "de minimis: intrinsic value {goods_total} {currency} is at or below the import-tax threshold {}; no import tax at the border",
            tax_threshold.unwrap_or_default()
        ));
    }
    relief
}
