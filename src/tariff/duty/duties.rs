//! Duty: the rate rows for each line's code and origin, the preference the line earns, and each
//! duty rate applied to the line's customs value and quantities.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use rust_decimal::Decimal;

use super::rate::{self, PerUnit, Rate};
use super::tables::{Measure, RateRow};
use super::working::{
    BoundUsed, Charge, ChargeKind, ChargeRate, Formula, PreferenceOutcome, Source,
};
use super::{DutyError, Terms, percent};
use crate::model::{CountryCode, DocumentKind, HsCode, Line, Shipment, Unit};

/// The rate rows for one (code, origin).
struct Rows<'a> {
    mfn: &'a RateRow,
    preferential: Option<&'a RateRow>,
    additional: Vec<&'a RateRow>,
}

/// The rate rows of one computation: looked up once per (code, origin), however many lines
/// share them.
#[derive(Default)]
pub(super) struct RateRows<'a> {
    by_code: HashMap<(HsCode, Option<CountryCode>), Rows<'a>>,
}

impl<'a> RateRows<'a> {
    fn of(
        &mut self,
        terms: &Terms<'a>,
        code: HsCode,
        origin: Option<CountryCode>,
        line: u32,
    ) -> Result<&Rows<'a>, DutyError> {
        let jurisdiction = terms.jurisdiction;
        let date = terms.date;
        Ok(match self.by_code.entry((code, origin)) {
            Entry::Occupied(known) => known.into_mut(),
            Entry::Vacant(vacant) => vacant.insert(Rows {
                mfn: jurisdiction
                    .best(Measure::Mfn, code, origin, date)
                    .ok_or_else(|| DutyError::NoMfnRate {
                        line,
                        code,
                        table: jurisdiction.config.rates.clone(),
                    })?,
                preferential: jurisdiction.best(Measure::Preferential, code, origin, date),
                additional: jurisdiction
                    .matching(Measure::Additional, code, origin, date)
                    .collect(),
            }),
        })
    }
}

/// The duties of one line.
pub(super) struct LineDuty {
    pub(super) hs_code: HsCode,
    pub(super) origin: Option<CountryCode>,
    pub(super) preference: PreferenceOutcome,
    /// The MFN or preferential duty first, then any additional duties.
    pub(super) duties: Vec<Charge>,
    /// Their sum as charged.
    pub(super) duty: Decimal,
}

/// The duties of `line` on its customs value; `relief` (de minimis) makes each zero.
pub(super) fn line_duty<'a>(
    shipment: &Shipment,
    line: &Line,
    customs_value: Decimal,
    terms: &Terms<'a>,
    rate_rows: &mut RateRows<'a>,
    relief: bool,
) -> Result<LineDuty, DutyError> {
    let code = line
        .hs_code
        .as_ref()
        .and_then(|code| code.valid().copied())
        .or_else(|| {
            line.product
                .classification_for(Some(terms.country), Some(terms.date))
                .and_then(|classification| classification.code.valid().copied())
        })
        .ok_or(DutyError::NoHsCode(line.number))?;
    let origin = line
        .effective_origin()
        .and_then(|origin| origin.valid().copied());
    let rows = rate_rows.of(terms, code, origin, line.number)?;
    let mfn = rows.mfn;
    let (applied, kind, preference) = match rows.preferential {
        Some(preferential)
            if line.preference_claimed
                && (!preferential.proof_required || has_proof(shipment, line)) =>
        {
            (
                preferential,
                ChargeKind::Preferential,
                PreferenceOutcome::Granted {
                    name: preferential.description.clone(),
                },
            )
        }
        Some(preferential) if line.preference_claimed => (
            mfn,
            ChargeKind::Mfn,
            PreferenceOutcome::NoProof {
                instead_of: preferential.rate,
            },
        ),
        Some(preferential) => (
            mfn,
            ChargeKind::Mfn,
            PreferenceOutcome::NotClaimed {
                available: preferential.rate,
            },
        ),
        None if line.preference_claimed => (mfn, ChargeKind::Mfn, PreferenceOutcome::NoRate),
        None => (mfn, ChargeKind::Mfn, PreferenceOutcome::None),
    };
    let mut duties = Vec::with_capacity(1 + rows.additional.len());
    let additional = rows
        .additional
        .iter()
        .map(|row| (*row, ChargeKind::Additional));
    for (row, kind) in std::iter::once((applied, kind)).chain(additional) {
        let (mut exact, mut formula) = evaluate(&row.rate, customs_value, line)?;
        if relief {
            exact = Decimal::ZERO;
            if let Formula::Duty { de_minimis, .. } = &mut formula {
                *de_minimis = true;
            }
        }
        duties.push(Charge {
            kind,
            name: (!row.description.is_empty()).then(|| row.description.clone()),
            rate: ChargeRate::Duty(row.rate),
            base: customs_value,
            formula,
            exact,
            amount: terms.charged(exact),
            source: Some(Source {
                table: row.table.clone(),
                line: row.line,
            }),
        });
    }
    let duty = duties.iter().map(|charge| charge.amount).sum();
    Ok(LineDuty {
        hs_code: code,
        origin,
        preference,
        duties,
        duty,
    })
}

/// Whether a proof of origin covers the line.
fn has_proof(shipment: &Shipment, line: &Line) -> bool {
    shipment.documents.iter().any(|document| {
        matches!(
            document.kind,
            DocumentKind::CertificateOfOrigin | DocumentKind::OriginStatement
        ) && document.covers_line(line.number)
    })
}

/// The line's quantity in `unit`: from the quantity, the supplementary quantity, or (for mass
/// units) the net mass.
fn quantity_in(line: &Line, unit: Unit) -> Option<Decimal> {
    let kg_factor = |unit: Unit| match unit {
        Unit::Kilogram => Some(Decimal::ONE),
        Unit::Gram => Some(Decimal::new(1, 3)),
        Unit::Tonne => Some(Decimal::from(1000)),
        _ => None,
    };
    let direct = [Some(line.quantity), line.supplementary_quantity]
        .into_iter()
        .flatten()
        .find(|quantity| quantity.unit() == unit)
        .map(|quantity| quantity.value());
    if direct.is_some() {
        return direct;
    }
    let per_kg = kg_factor(unit)?;
    let net_kg = line.net_mass_kg.map(|mass| mass.in_kg()).or_else(|| {
        let unit_mass = line.product.net_mass_kg?;
        (line.quantity.unit() == Unit::Piece).then(|| unit_mass.in_kg() * line.quantity.value())
    })?;
    Some(net_kg / per_kg)
}

/// Applies a rate to a customs value and the line's quantities.
fn evaluate(
    rate: &Rate,
    customs_value: Decimal,
    line: &Line,
) -> Result<(Decimal, Formula), DutyError> {
    let quantity = |unit: Unit| {
        quantity_in(line, unit).ok_or_else(|| DutyError::QuantityMissing {
            line: line.number,
            rate: rate.to_string(),
            unit: rate::unit_text(unit),
        })
    };
    let mut total = Decimal::ZERO;
    let ad_valorem = rate.ad_valorem_pct.map(|pct| {
        let amount = percent(customs_value, pct);
        total += amount;
        (pct, amount)
    });
    let specific = match rate.specific {
        Some(per_unit) => {
            let units = quantity(per_unit.unit)?;
            let amount = per_unit.charge(units);
            total += amount;
            Some((per_unit, units, amount))
        }
        None => None,
    };
    let bound = |per: Option<PerUnit>| -> Result<Option<BoundUsed>, DutyError> {
        per.map(|per_unit| {
            let units = quantity(per_unit.unit)?;
            Ok(BoundUsed {
                per_unit,
                quantity: units,
                amount: per_unit.charge(units),
                applied: false,
            })
        })
        .transpose()
    };
    let mut min = bound(rate.min)?;
    let mut max = bound(rate.max)?;
    if let Some(floor) = min.as_mut().filter(|floor| floor.amount > total) {
        total = floor.amount;
        floor.applied = true;
    }
    if let Some(ceiling) = max.as_mut().filter(|ceiling| ceiling.amount < total) {
        total = ceiling.amount;
        ceiling.applied = true;
    }
    let formula = Formula::Duty {
        customs_value,
        ad_valorem,
        specific,
        min,
        max,
        de_minimis: false,
    };
    Ok((total, formula))
}
