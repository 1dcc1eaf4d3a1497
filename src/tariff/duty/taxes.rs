//! Import taxes: VAT on each line's customs value plus its duty.

use rust_decimal::Decimal;

use super::duties::LineDuty;
use super::working::{Charge, ChargeKind, ChargeRate, Formula};
use super::{Terms, percent};

/// The import taxes of one line; `relief` (de minimis) makes them zero.
pub(super) fn line_taxes(
    terms: &Terms<'_>,
    customs_value: Decimal,
    duty: &LineDuty,
    relief: bool,
) -> Vec<Charge> {
    let mut taxes = Vec::new();
    if let Some(pct) = terms.vat_pct {
        let duty_exact: Decimal = duty.duties.iter().map(|charge| charge.exact).sum();
        // Rounded duty goes into the base only where each line is charged rounded.
        let duty_in_base = if terms.per_line() {
            duty.duty
        } else {
            duty_exact
        };
        let base = customs_value + duty_in_base;
        let exact = if relief {
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
                customs_value,
                duty: duty_in_base,
                exact,
                de_minimis: relief,
            },
            exact,
            amount: terms.charged(exact),
            source: None,
        });
    }
    taxes
}
