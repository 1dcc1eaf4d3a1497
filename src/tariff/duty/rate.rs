//! Duty rate expressions as tariffs print them: "12%", "3.5/100kg", "8% + 2.1/100kg",
//! "12% MIN 1.5/kg", "5% MAX 20/p/st", "free". Amounts are in the jurisdiction's currency.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;

use crate::model::Unit;

/// Why a rate expression could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("rate {text:?}: {reason}")]
pub struct RateError {
    text: String,
    reason: String,
}

/// An amount per a number of units, e.g. 3.5 per 100 kg.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PerUnit {
    pub amount: Decimal,
    pub per: Decimal,
    pub unit: Unit,
}

impl PerUnit {
    /// The charge for `quantity` units.
    pub fn charge(&self, quantity: Decimal) -> Decimal {
        self.amount * quantity / self.per
    }
}

impl fmt::Display for PerUnit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unit = unit_text(self.unit);
        if self.per == Decimal::ONE {
            write!(f, "{}/{unit}", self.amount)
        } else {
            write!(f, "{}/{}{unit}", self.amount, self.per)
        }
    }
}

/// A duty rate: ad valorem and/or specific parts, with optional bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// Percent of the customs value.
    pub ad_valorem_pct: Option<Decimal>,
    pub specific: Option<PerUnit>,
    /// The duty is at least this (e.g. "12% MIN 1.5/kg").
    pub min: Option<PerUnit>,
    /// The duty is at most this.
    pub max: Option<PerUnit>,
}

impl Rate {
    /// The units whose quantity this rate needs (specific part and bounds).
    pub fn units(&self) -> impl Iterator<Item = Unit> + '_ {
        [self.specific, self.min, self.max]
            .into_iter()
            .flatten()
            .map(|p| p.unit)
    }

    /// Whether the rate is zero whatever the goods.
    pub fn is_free(&self) -> bool {
        self.ad_valorem_pct.is_none_or(|p| p.is_zero())
            && self.specific.is_none()
            && self.min.is_none()
    }
}

pub(crate) fn unit_text(unit: Unit) -> &'static str {
    match unit {
        Unit::Kilogram => "kg",
        Unit::Gram => "g",
        Unit::Tonne => "t",
        Unit::Litre => "l",
        Unit::LitrePureAlcohol => "l alc. 100 %",
        Unit::Metre => "m",
        Unit::SquareMetre => "m2",
        Unit::CubicMetre => "m3",
        Unit::Piece => "p/st",
        Unit::Pair => "pa",
        Unit::Carat => "c/k",
        Unit::ThousandKilowattHours => "1000 kWh",
    }
}

fn parse_unit(text: &str) -> Option<Unit> {
    const UNITS: [Unit; 12] = [
        Unit::Kilogram,
        Unit::Gram,
        Unit::Tonne,
        Unit::Litre,
        Unit::LitrePureAlcohol,
        Unit::Metre,
        Unit::SquareMetre,
        Unit::CubicMetre,
        Unit::Piece,
        Unit::Pair,
        Unit::Carat,
        Unit::ThousandKilowattHours,
    ];
    UNITS.into_iter().find(|u| unit_text(*u) == text)
}

fn parse_per_unit(text: &str) -> Result<PerUnit, String> {
    let (amount, rest) = text
        .split_once('/')
        .ok_or_else(|| format!("{text:?} is not AMOUNT/UNIT"))?;
    let amount = Decimal::from_str_exact(amount.trim())
        .map_err(|_| format!("{amount:?} is not a decimal amount"))?;
    let rest = rest.trim();
    // "1000 kWh" is itself a unit; otherwise a leading number is the count ("100kg").
    let split = if parse_unit(rest).is_some() {
        0
    } else {
        rest.find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len())
    };
    let (per, unit) = rest.split_at(split);
    let per = if per.is_empty() {
        Decimal::ONE
    } else {
        Decimal::from_str_exact(per).map_err(|_| format!("{per:?} is not a number of units"))?
    };
    if per <= Decimal::ZERO {
        return Err("the number of units must be positive".into());
    }
    let unit = parse_unit(unit.trim()).ok_or_else(|| format!("unknown unit {unit:?}"))?;
    Ok(PerUnit { amount, per, unit })
}

impl FromStr for Rate {
    type Err = RateError;

    fn from_str(text: &str) -> Result<Self, RateError> {
        let fail = |reason: String| RateError {
            text: text.to_owned(),
            reason,
        };
        let mut rate = Rate {
            ad_valorem_pct: None,
            specific: None,
            min: None,
            max: None,
        };
        let t = text.trim();
        if t.eq_ignore_ascii_case("free") {
            return Ok(rate);
        }
        // Split off the bounds first: "BASE [MIN x/u] [MAX y/u]".
        let (base, bounds) = match t.find(" MIN ").into_iter().chain(t.find(" MAX ")).min() {
            Some(i) => (&t[..i], &t[i..]),
            None => (t, ""),
        };
        for part in base.split('+') {
            let part = part.trim();
            if let Some(pct) = part.strip_suffix('%').filter(|_| !part.contains('/')) {
                if rate.ad_valorem_pct.is_some() {
                    return Err(fail("two ad valorem parts".into()));
                }
                let pct = Decimal::from_str_exact(pct.trim())
                    .map_err(|_| fail(format!("{pct:?} is not a percentage")))?;
                rate.ad_valorem_pct = Some(pct);
            } else {
                if rate.specific.is_some() {
                    return Err(fail("two specific parts".into()));
                }
                rate.specific = Some(parse_per_unit(part).map_err(fail)?);
            }
        }
        let mut rest = bounds.trim();
        while !rest.is_empty() {
            let (word, tail) = rest
                .split_once(' ')
                .ok_or_else(|| fail(format!("dangling {rest:?}")))?;
            let end = tail
                .find(" MIN ")
                .into_iter()
                .chain(tail.find(" MAX "))
                .min()
                .unwrap_or(tail.len());
            let bound = parse_per_unit(&tail[..end]).map_err(fail)?;
            match word {
                "MIN" if rate.min.is_none() => rate.min = Some(bound),
                "MAX" if rate.max.is_none() => rate.max = Some(bound),
                _ => return Err(fail(format!("unexpected {word:?}"))),
            }
            rest = tail[end..].trim();
        }
        Ok(rate)
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if let Some(p) = self.ad_valorem_pct {
            parts.push(format!("{p}%"));
        }
        if let Some(s) = self.specific {
            parts.push(s.to_string());
        }
        if parts.is_empty() {
            parts.push("free".into());
        }
        write!(f, "{}", parts.join(" + "))?;
        if let Some(m) = self.min {
            write!(f, " MIN {m}")?;
        }
        if let Some(m) = self.max {
            write!(f, " MAX {m}")?;
        }
        Ok(())
    }
}

impl serde::Serialize for Rate {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}
