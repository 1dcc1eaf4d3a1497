//! Fees: per-entry charges (MPF, HMF) as a percentage of the shipment's customs value, within
//! their bounds, for the transport modes and dates they apply to.

use rust_decimal::Decimal;

use super::working::{Charge, ChargeKind, ChargeRate, Formula};
use super::{Terms, percent};
use crate::model::TransportMode;

/// The fees in force on the shipment's date for its transport mode.
pub(super) fn fees(
    terms: &Terms<'_>,
    customs_value: Decimal,
    mode: Option<TransportMode>,
) -> Vec<Charge> {
    let date = terms.date;
    let mut fees = Vec::new();
    for fee in &terms.jurisdiction.config.fees {
        let in_force = fee.valid_from <= date && fee.valid_to.is_none_or(|until| date <= until);
        let mode_applies =
            fee.modes.is_empty() || mode.is_some_and(|mode| fee.modes.contains(&mode));
        if !in_force || !mode_applies {
            continue;
        }
        let raw = percent(customs_value, fee.rate_pct);
        let min_applied = fee.min.filter(|min| raw < *min);
        let max_applied = fee.max.filter(|max| raw > *max);
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
            amount: terms.rounding().apply(exact),
            source: None,
        });
    }
    fees
}
