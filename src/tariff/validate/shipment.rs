//! Shipment-level checks: date, countries, currency, incoterm, costs and locations.

use rust_decimal::Decimal;

use super::{IssueCode, Validator, wire_name};
use crate::model::{CountryCode, Currency, Direction, Lenient, Money, TransportMode, UnLocode};
use crate::tariff::reference::CurrencyStatus;

impl Validator<'_> {
    pub(super) fn shipment_level(&mut self) {
        let s = self.s;
        if s.date.is_none() {
            self.push(
                IssueCode::DateMissing,
                "$.date".into(),
                "no shipment date: classifications cannot be checked against the date they apply on".into(),
            );
        }
        let (own, counterpart) = match s.direction {
            Direction::Export => (
                ("dispatch_country", &s.dispatch_country),
                ("destination_country", &s.destination_country),
            ),
            Direction::Import | Direction::Transit => (
                ("destination_country", &s.destination_country),
                ("dispatch_country", &s.dispatch_country),
            ),
        };
        for ((field, value), missing) in [
            (own, IssueCode::CountryMissing),
            (counterpart, IssueCode::CounterpartCountryMissing),
        ] {
            match value {
                None => self.push(
                    missing,
                    format!("$.{field}"),
                    format!(
                        "{field} is missing for a shipment of direction {}",
                        wire_name(s.direction)
                    ),
                ),
                Some(c) => self.country(c, &|| format!("$.{field}")),
            }
        }
        match &s.currency {
            None => self.push(
                IssueCode::CurrencyMissing,
                "$.currency".into(),
                "invoice currency is missing".into(),
            ),
            Some(Lenient::Valid(c)) => self.currency(*c, &|| "$.currency".into()),
            Some(Lenient::Invalid(raw)) => self.push(
                IssueCode::CurrencyMalformed,
                "$.currency".into(),
                format!("currency {raw:?} is not an ISO 4217 code (three letters, e.g. EUR)"),
            ),
        }
        self.incoterm();
        for (field, cost) in [("freight", &s.freight), ("insurance", &s.insurance)] {
            if let Some(m) = cost {
                self.money(m, field, &|| format!("$.{field}"));
            }
        }
    }

    pub(super) fn incoterm(&mut self) {
        let s = self.s;
        let Some(terms) = &s.incoterm else {
            self.push(
                IssueCode::IncotermMissing,
                "$.incoterm".into(),
                "no Incoterm given".into(),
            );
            return;
        };
        match &terms.rule {
            None => self.push(
                IssueCode::IncotermMissing,
                "$.incoterm.rule".into(),
                "no Incoterm rule given".into(),
            ),
            Some(Lenient::Invalid(raw)) => {
                let why = raw.parse::<crate::model::Incoterm>().err().map_or_else(
                    || format!("Incoterm {raw:?} is not valid"),
                    |e| e.to_string(),
                );
                self.push(IssueCode::IncotermUnknown, "$.incoterm.rule".into(), why);
            }
            Some(Lenient::Valid(rule)) => {
                let rule = *rule;
                let mode = s.transport.as_ref().and_then(|t| t.mode);
                if rule.is_maritime_only()
                    && mode.is_some_and(|m| {
                        !matches!(m, TransportMode::Sea | TransportMode::InlandWaterway)
                    })
                {
                    self.push(
                        IssueCode::IncotermModeMismatch,
                        "$.incoterm.rule".into(),
                        format!(
                            "{rule} is meant for sea and inland waterway transport, but the mode is {}; FCA, CPT or CIP fit other modes",
                            wire_name(mode)
                        ),
                    );
                }
                if s.direction == Direction::Import
                    && !rule.seller_pays_main_carriage()
                    && s.freight.is_none()
                {
                    self.push(
                        IssueCode::FreightMissing,
                        "$.freight".into(),
                        format!("under {rule} the buyer pays main carriage; give the freight cost so a CIF customs value can be built"),
                    );
                }
            }
        }
        if terms.place.as_deref().is_none_or(|p| p.trim().is_empty()) {
            self.push(
                IssueCode::IncotermPlaceMissing,
                "$.incoterm.place".into(),
                "the Incoterm has no named place (e.g. \"FCA Hamburg\")".into(),
            );
        }
        if let Some(code) = &terms.place_locode {
            self.locode(code, &|| "$.incoterm.place_locode".into());
        }
    }

    pub(super) fn country(&mut self, value: &Lenient<CountryCode>, path: &dyn Fn() -> String) {
        match value {
            Lenient::Valid(c) => {
                if self.r.country_name(*c).is_none() {
                    self.push(
                        IssueCode::CountryUnknown,
                        path(),
                        format!("{c} is not an ISO 3166-1 country code"),
                    );
                }
            }
            Lenient::Invalid(raw) => self.push(
                IssueCode::CountryMalformed,
                path(),
                format!("country {raw:?} is not an ISO 3166-1 alpha-2 code (two letters, e.g. DE)"),
            ),
        }
    }

    pub(super) fn currency(&mut self, c: Currency, path: &dyn Fn() -> String) {
        match self.r.currency_status(c) {
            CurrencyStatus::Active { .. } => {}
            CurrencyStatus::Withdrawn => self.push(
                IssueCode::CurrencyWithdrawn,
                path(),
                format!("currency {c} has been withdrawn from ISO 4217"),
            ),
            CurrencyStatus::Unknown => {
                self.push(
                    IssueCode::CurrencyUnknown,
                    path(),
                    format!("{c} is not an ISO 4217 currency code"),
                );
            }
        }
    }

    pub(super) fn money(&mut self, m: &Money, what: &str, path: &dyn Fn() -> String) {
        self.currency(m.currency(), &|| format!("{}.currency", path()));
        if m.amount() < Decimal::ZERO {
            self.push(
                IssueCode::CostNegative,
                format!("{}.amount", path()),
                format!("{what} is negative ({m})"),
            );
        }
    }

    pub(super) fn locode(&mut self, value: &Lenient<UnLocode>, path: &dyn Fn() -> String) {
        match value {
            Lenient::Valid(code) => {
                if self.r.country_name(code.country()).is_none() {
                    self.push(
                        IssueCode::LocationMalformed,
                        path(),
                        format!(
                            "UN/LOCODE {code} starts with {}, which is not a country code",
                            code.country()
                        ),
                    );
                } else if !self.r.has_locode(*code) {
                    self.push(
                        IssueCode::LocationUnknown,
                        path(),
                        format!("UN/LOCODE {code} is not in the bundled list (2015 edition, incomplete); check it"),
                    );
                }
            }
            Lenient::Invalid(raw) => self.push(
                IssueCode::LocationMalformed,
                path(),
                format!("{raw:?} is not a UN/LOCODE (country + 3 letters or digits, e.g. DEHAM)"),
            ),
        }
    }
}
