//! Goods lines: classification against the nomenclature, origin, quantities and values.

use rust_decimal::Decimal;

use super::{IssueCode, Validator, wire_name};
use crate::model::{Classification, CountryCode, HsCode, Lenient, Line};

impl Validator<'_> {
    pub(super) fn lines(&mut self) {
        let s = self.s;
        if s.lines.is_empty() {
            self.push(
                IssueCode::LinesMissing,
                "$.lines".into(),
                "the shipment has no lines".into(),
            );
            return;
        }
        let mut numbers: Vec<(u32, usize)> = s
            .lines
            .iter()
            .enumerate()
            .map(|(i, l)| (l.number, i))
            .collect();
        numbers.sort_unstable();
        for w in numbers.windows(2) {
            if w[0].0 == w[1].0 {
                self.push(
                    IssueCode::LineNumberDuplicate,
                    format!("$.lines[{}].number", w[1].1),
                    format!("line number {} is used by lines[{}] too", w[1].0, w[0].1),
                );
            }
        }
        let invoice_currency = s.currency.as_ref().and_then(|c| c.valid().copied());
        let customs_country = s.customs_country();
        for (i, line) in s.lines.iter().enumerate() {
            self.line_classification(i, line, customs_country);
            self.line_origin(i, line);
            self.line_quantities(i, line);
            match &line.value {
                None => self.push(
                    IssueCode::ValueMissing,
                    format!("$.lines[{i}].value"),
                    format!("line {} has no value", line.number),
                ),
                Some(m) => {
                    self.currency(m.currency(), &|| format!("$.lines[{i}].value.currency"));
                    if m.amount() <= Decimal::ZERO {
                        self.push(
                            IssueCode::ValueNotPositive,
                            format!("$.lines[{i}].value.amount"),
                            format!(
                                "line {} has value {m}; customs needs a positive value",
                                line.number
                            ),
                        );
                    }
                    if invoice_currency.is_some_and(|c| c != m.currency()) {
                        self.push(
                            IssueCode::CurrencyMismatch,
                            format!("$.lines[{i}].value.currency"),
                            format!(
                                "line {} is valued in {} but the invoice currency is {}",
                                line.number,
                                m.currency(),
                                invoice_currency.map(|c| c.to_string()).unwrap_or_default()
                            ),
                        );
                    }
                }
            }
            if line.preference_claimed && !line.product.preference_eligible {
                self.push(
                    IssueCode::PreferenceNotEligible,
                    format!("$.lines[{i}].preference_claimed"),
                    format!("line {} claims preference, but product {} is not marked preference-eligible", line.number, line.product.id),
                );
            }
        }
    }

    pub(super) fn line_classification(
        &mut self,
        i: usize,
        line: &Line,
        customs_country: Option<CountryCode>,
    ) {
        let date = self.s.date;
        let product = &line.product;
        for (j, c) in product.classifications.iter().enumerate() {
            if let (Some(from), Some(to)) = (c.valid_from, c.valid_to)
                && from > to
            {
                self.push(
                    IssueCode::ClassificationPeriodInvalid,
                    format!("$.lines[{i}].product.classifications[{j}]"),
                    format!("classification valid_from {from} is after valid_to {to}"),
                );
            }
            if c.applies_on(date) {
                self.hs_code(&c.code, &|| {
                    format!("$.lines[{i}].product.classifications[{j}].code")
                });
            }
        }
        let chosen: Option<&Classification> = product.classification_for(customs_country, date);
        match (&line.hs_code, chosen) {
            (Some(code), chosen) => {
                self.hs_code(code, &|| format!("$.lines[{i}].hs_code"));
                if let (Lenient::Valid(declared), Some(Lenient::Valid(classified))) =
                    (code, chosen.map(|c| &c.code))
                    && declared.subheading() != classified.subheading()
                {
                    self.push(
                        IssueCode::HsCodeMismatch,
                        format!("$.lines[{i}].hs_code"),
                        format!(
                            "line {} declares {declared} but product {} is classified {classified}",
                            line.number, product.id
                        ),
                    );
                }
            }
            (None, Some(_)) => {}
            (None, None) if !product.classifications.is_empty() => self.push(
                IssueCode::HsCodeNotInForce,
                format!("$.lines[{i}].product.classifications"),
                format!(
                    "product {} has no classification in force on {}",
                    product.id,
                    date.map(|d| d.to_string()).unwrap_or_default()
                ),
            ),
            (None, None) => self.push(
                IssueCode::HsCodeMissing,
                format!("$.lines[{i}].hs_code"),
                format!(
                    "line {} has no HS code and product {} has no classification",
                    line.number, product.id
                ),
            ),
        }
    }

    pub(super) fn hs_code(&mut self, code: &Lenient<HsCode>, path: &dyn Fn() -> String) {
        let edition = self.r.hs_edition();
        match code {
            Lenient::Valid(c) => {
                if !self.r.has_subheading(*c) {
                    let heading = c.heading();
                    let hint = if self.r.has_heading(heading) {
                        format!("; heading {heading:04} exists, pick one of its subheadings")
                    } else {
                        String::new()
                    };
                    self.push(
                        IssueCode::HsCodeUnknown,
                        path(),
                        format!(
                            "{c}: subheading {:06} is not in {edition}{hint}",
                            c.subheading()
                        ),
                    );
                }
            }
            Lenient::Invalid(raw) => {
                let digits: String = raw.chars().filter(|ch| !matches!(ch, '.' | ' ')).collect();
                let numeric = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
                let heading = numeric
                    && digits.len() == 4
                    && digits.parse().is_ok_and(|h| self.r.has_heading(h));
                let chapter = numeric
                    && digits.len() == 2
                    && digits.parse().is_ok_and(|c| self.r.has_chapter(c));
                if heading || chapter {
                    let level = if heading { "heading" } else { "chapter" };
                    self.push(
                        IssueCode::HsCodeNotDeclarable,
                        path(),
                        format!(
                            "{raw:?} is an {edition} {level}, not a declarable 6-digit subheading"
                        ),
                    );
                } else {
                    self.push(
                        IssueCode::HsCodeMalformed,
                        path(),
                        format!("HS code {raw:?} is not 6, 8 or 10 digits"),
                    );
                }
            }
        }
    }

    pub(super) fn line_origin(&mut self, i: usize, line: &Line) {
        match (&line.origin, &line.product.origin) {
            (Some(c), _) => self.country(c, &|| format!("$.lines[{i}].origin")),
            (None, Some(c)) => self.country(c, &|| format!("$.lines[{i}].product.origin")),
            (None, None) => self.push(
                IssueCode::OriginMissing,
                format!("$.lines[{i}].origin"),
                format!(
                    "line {} has no country of origin (neither on the line nor on product {})",
                    line.number, line.product.id
                ),
            ),
        }
    }

    pub(super) fn line_quantities(&mut self, i: usize, line: &Line) {
        if line.quantity.value() <= Decimal::ZERO {
            self.push(
                IssueCode::QuantityNotPositive,
                format!("$.lines[{i}].quantity.value"),
                format!("line {} has quantity zero", line.number),
            );
        }
        if let Some(unit) = line.product.supplementary_unit
            && line.quantity.unit() != unit
        {
            match &line.supplementary_quantity {
                None => self.push(
                    IssueCode::SupplementaryQuantityMissing,
                    format!("$.lines[{i}].supplementary_quantity"),
                    format!(
                        "product {} is declared with a supplementary unit {}, and line {} gives none",
                        line.product.id,
                        wire_name(unit),
                        line.number
                    ),
                ),
                Some(q) if q.unit() != unit => self.push(
                    IssueCode::SupplementaryUnitMismatch,
                    format!("$.lines[{i}].supplementary_quantity.unit"),
                    format!("supplementary quantity is in {} but the tariff asks for {}", wire_name(q.unit()), wire_name(unit)),
                ),
                Some(_) => {}
            }
        }
        let net = line.net_mass_kg.or_else(|| {
            let per_unit = line.product.net_mass_kg?;
            Some(per_unit).filter(|_| line.quantity.unit() == crate::model::Unit::Piece)
        });
        let Some(net) = net else {
            self.push(
                IssueCode::NetMassMissing,
                format!("$.lines[{i}].net_mass_kg"),
                format!(
                    "line {} has no net mass, and it cannot be derived from the product",
                    line.number
                ),
            );
            return;
        };
        if net.in_kg() <= Decimal::ZERO {
            self.push(
                IssueCode::MassNotPositive,
                format!("$.lines[{i}].net_mass_kg"),
                format!("line {} has net mass 0 kg", line.number),
            );
        }
        if let (Some(net), Some(gross)) = (line.net_mass_kg, line.gross_mass_kg)
            && net > gross
        {
            self.push(
                IssueCode::NetMassExceedsGross,
                format!("$.lines[{i}].net_mass_kg"),
                format!(
                    "line {}: net mass {net} kg is above gross mass {gross} kg",
                    line.number
                ),
            );
        }
    }
}
