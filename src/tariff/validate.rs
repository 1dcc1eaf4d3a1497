//! Master-data validation of a canonical shipment.
//!
//! [`validate`] is a pure function: it reads the shipment, the reference data and the rules, and
//! returns every problem it finds (not just the first), each with a JSON path, a stable code, a
//! severity and a message a person can act on. The saga calls it in VALIDATING; `tradehub validate`
//! calls it from the command line.

mod rules;

use std::fmt;

use rust_decimal::Decimal;
use serde::Serialize;

use crate::model::{
    Classification, CountryCode, Currency, Direction, HsCode, IdentifierScheme, Lenient, Line,
    Money, Party, Shipment, TransportMode, UnLocode,
};

use super::reference::{CurrencyStatus, ReferenceData};

pub use rules::{Condition, DocumentRule, RequiredRoles, Rules, RulesError};

/// How serious a problem is. Errors make a shipment invalid; warnings are reported but do not stop
/// the saga.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Error,
    Warning,
}

macro_rules! issue_codes {
    ($($(#[$doc:meta])* $variant:ident = $text:literal, $sev:ident;)*) => {
        /// Stable codes of validation problems. The text form (e.g. `HS_CODE_UNKNOWN`) is part of
        /// the API: exceptions, dashboards and partner mappings key on it.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, schemars::JsonSchema)]
        pub enum IssueCode {
            $($(#[$doc])* #[serde(rename = $text)] $variant,)*
        }

        impl IssueCode {
            /// Every code, in declaration order.
            pub const ALL: &[IssueCode] = &[$(IssueCode::$variant,)*];

            /// The stable text form.
            pub fn as_str(self) -> &'static str {
                match self { $(IssueCode::$variant => $text,)* }
            }

            /// The severity the validator gives this problem.
            pub fn severity(self) -> Severity {
                match self { $(IssueCode::$variant => Severity::$sev,)* }
            }
        }
    };
}

issue_codes! {
    /// No date, so classifications cannot be checked for validity on it.
    DateMissing = "DATE_MISSING", Warning;
    LinesMissing = "LINES_MISSING", Error;
    LineNumberDuplicate = "LINE_NUMBER_DUPLICATE", Error;
    HsCodeMissing = "HS_CODE_MISSING", Error;
    /// Not 6, 8 or 10 digits.
    HsCodeMalformed = "HS_CODE_MALFORMED", Error;
    /// Well formed, but its six digits are not a subheading of the nomenclature.
    HsCodeUnknown = "HS_CODE_UNKNOWN", Error;
    /// A chapter or heading, not a declarable subheading.
    HsCodeNotDeclarable = "HS_CODE_NOT_DECLARABLE", Error;
    /// The product has classifications, but none in force on the shipment date.
    HsCodeNotInForce = "HS_CODE_NOT_IN_FORCE", Error;
    /// The line declares a different subheading than the product's classification.
    HsCodeMismatch = "HS_CODE_MISMATCH", Warning;
    ClassificationPeriodInvalid = "CLASSIFICATION_PERIOD_INVALID", Error;
    OriginMissing = "ORIGIN_MISSING", Error;
    CountryMissing = "COUNTRY_MISSING", Error;
    /// The counterpart country (destination of an export, dispatch of an import) is missing.
    CounterpartCountryMissing = "COUNTERPART_COUNTRY_MISSING", Warning;
    CountryMalformed = "COUNTRY_MALFORMED", Error;
    CountryUnknown = "COUNTRY_UNKNOWN", Error;
    ValueMissing = "VALUE_MISSING", Error;
    ValueNotPositive = "VALUE_NOT_POSITIVE", Error;
    CostNegative = "COST_NEGATIVE", Error;
    /// The Incoterm leaves main carriage to the buyer and no freight cost is given, so a CIF
    /// customs value cannot be built.
    FreightMissing = "FREIGHT_MISSING", Warning;
    CurrencyMissing = "CURRENCY_MISSING", Error;
    CurrencyMalformed = "CURRENCY_MALFORMED", Error;
    CurrencyUnknown = "CURRENCY_UNKNOWN", Error;
    CurrencyWithdrawn = "CURRENCY_WITHDRAWN", Error;
    /// A line value in another currency than the invoice.
    CurrencyMismatch = "CURRENCY_MISMATCH", Warning;
    IncotermMissing = "INCOTERM_MISSING", Error;
    IncotermUnknown = "INCOTERM_UNKNOWN", Error;
    IncotermPlaceMissing = "INCOTERM_PLACE_MISSING", Error;
    /// A sea-only rule (FAS, FOB, CFR, CIF) with another mode of transport.
    IncotermModeMismatch = "INCOTERM_MODE_MISMATCH", Warning;
    LocationMalformed = "LOCATION_MALFORMED", Error;
    /// Not in the bundled UN/LOCODE list, which is incomplete; hence a warning.
    LocationUnknown = "LOCATION_UNKNOWN", Warning;
    QuantityNotPositive = "QUANTITY_NOT_POSITIVE", Error;
    SupplementaryQuantityMissing = "SUPPLEMENTARY_QUANTITY_MISSING", Error;
    SupplementaryUnitMismatch = "SUPPLEMENTARY_UNIT_MISMATCH", Error;
    NetMassMissing = "NET_MASS_MISSING", Error;
    MassNotPositive = "MASS_NOT_POSITIVE", Error;
    NetMassExceedsGross = "NET_MASS_EXCEEDS_GROSS", Error;
    PreferenceNotEligible = "PREFERENCE_NOT_ELIGIBLE", Error;
    PartyNameMissing = "PARTY_NAME_MISSING", Error;
    PartyAddressMissing = "PARTY_ADDRESS_MISSING", Error;
    PartyCountryMissing = "PARTY_COUNTRY_MISSING", Error;
    PartyIdDuplicate = "PARTY_ID_DUPLICATE", Error;
    PartyRoleMissing = "PARTY_ROLE_MISSING", Error;
    PartyReferenceUnknown = "PARTY_REFERENCE_UNKNOWN", Error;
    IdentifierMalformed = "IDENTIFIER_MALFORMED", Error;
    TransportMissing = "TRANSPORT_MISSING", Warning;
    TransportDatesInverted = "TRANSPORT_DATES_INVERTED", Error;
    /// A sea container number that fails the ISO 6346 check digit.
    EquipmentIdInvalid = "EQUIPMENT_ID_INVALID", Warning;
    DocumentNumberMissing = "DOCUMENT_NUMBER_MISSING", Error;
    DocumentLineUnknown = "DOCUMENT_LINE_UNKNOWN", Error;
    /// A document the rules require is missing (severity set by the rule).
    DocumentMissing = "DOCUMENT_MISSING", Error;
}

impl fmt::Display for IssueCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One problem found in a shipment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Issue {
    /// Where, as a JSON path into the shipment document (`$.lines[3].hs_code`).
    pub path: String,
    pub code: IssueCode,
    pub severity: Severity,
    pub message: String,
}

/// The outcome of validating one shipment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Report {
    /// True when no issue has severity `error`.
    pub valid: bool,
    pub issues: Vec<Issue>,
    /// The HS edition codes were checked against (kept with every result).
    pub nomenclature: &'static str,
}

impl Report {
    /// Issues with a given code.
    pub fn with_code(&self, code: IssueCode) -> impl Iterator<Item = &Issue> {
        self.issues.iter().filter(move |i| i.code == code)
    }

    /// Number of issues of a severity.
    pub fn count(&self, severity: Severity) -> usize {
        self.issues
            .iter()
            .filter(|i| i.severity == severity)
            .count()
    }
}

/// Validates a shipment's master data and returns every problem found.
pub fn validate(shipment: &Shipment, reference: &ReferenceData, rules: &Rules) -> Report {
    let mut v = Validator {
        s: shipment,
        r: reference,
        issues: Vec::new(),
    };
    v.shipment_level();
    v.parties(rules);
    v.lines();
    v.transport();
    v.documents(rules);
    let valid = !v.issues.iter().any(|i| i.severity == Severity::Error);
    Report {
        valid,
        issues: v.issues,
        nomenclature: reference.hs_edition(),
    }
}

struct Validator<'a> {
    s: &'a Shipment,
    r: &'a ReferenceData,
    issues: Vec<Issue>,
}

impl Validator<'_> {
    fn push(&mut self, code: IssueCode, path: String, message: String) {
        self.push_with(code, code.severity(), path, message);
    }

    fn push_with(&mut self, code: IssueCode, severity: Severity, path: String, message: String) {
        self.issues.push(Issue {
            path,
            code,
            severity,
            message,
        });
    }

    fn shipment_level(&mut self) {
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

    fn incoterm(&mut self) {
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

    fn country(&mut self, value: &Lenient<CountryCode>, path: &dyn Fn() -> String) {
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

    fn currency(&mut self, c: Currency, path: &dyn Fn() -> String) {
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

    fn money(&mut self, m: &Money, what: &str, path: &dyn Fn() -> String) {
        self.currency(m.currency(), &|| format!("{}.currency", path()));
        if m.amount() < Decimal::ZERO {
            self.push(
                IssueCode::CostNegative,
                format!("{}.amount", path()),
                format!("{what} is negative ({m})"),
            );
        }
    }

    fn locode(&mut self, value: &Lenient<UnLocode>, path: &dyn Fn() -> String) {
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

    fn parties(&mut self, rules: &Rules) {
        let s = self.s;
        for (i, p) in s.parties.iter().enumerate() {
            self.party(i, p);
            if s.parties[..i].iter().any(|q| q.id == p.id) {
                self.push(
                    IssueCode::PartyIdDuplicate,
                    format!("$.parties[{i}].id"),
                    format!("party id {} is used by more than one party", p.id),
                );
            }
        }
        for role in rules.required_roles.for_direction(s.direction) {
            if s.parties_with(*role).next().is_none() {
                self.push(
                    IssueCode::PartyRoleMissing,
                    "$.parties".into(),
                    format!(
                        "no party has the role {} (required for {} shipments)",
                        wire_name(role),
                        wire_name(s.direction)
                    ),
                );
            }
        }
    }

    fn party(&mut self, i: usize, p: &Party) {
        if p.name.trim().is_empty() {
            self.push(
                IssueCode::PartyNameMissing,
                format!("$.parties[{i}].name"),
                format!("party {} has no name", p.id),
            );
        }
        if p.addresses.is_empty() {
            self.push(
                IssueCode::PartyAddressMissing,
                format!("$.parties[{i}].addresses"),
                format!("party {} ({}) has no address", p.id, p.name),
            );
        }
        for (a, addr) in p.addresses.iter().enumerate() {
            if let Some(c) = &addr.country {
                self.country(c, &|| format!("$.parties[{i}].addresses[{a}].country"));
            }
        }
        match (&p.country, p.effective_country()) {
            (Some(c), _) => self.country(c, &|| format!("$.parties[{i}].country")),
            (None, None) => self.push(
                IssueCode::PartyCountryMissing,
                format!("$.parties[{i}].country"),
                format!(
                    "party {} has no country, neither its own nor in an address",
                    p.id
                ),
            ),
            (None, Some(_)) => {}
        }
        for (k, id) in p.identifiers.iter().enumerate() {
            let problem = match id.scheme {
                IdentifierScheme::Eori => eori_problem(&id.value),
                IdentifierScheme::Lei => lei_problem(&id.value),
                _ => None,
            };
            if let Some(problem) = problem {
                self.push(
                    IssueCode::IdentifierMalformed,
                    format!("$.parties[{i}].identifiers[{k}].value"),
                    format!(
                        "{} {:?}: {problem}",
                        wire_name(id.scheme).to_uppercase(),
                        id.value
                    ),
                );
            }
            if let Some(c) = &id.country {
                self.country(c, &|| format!("$.parties[{i}].identifiers[{k}].country"));
            }
        }
    }

    fn lines(&mut self) {
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

    fn line_classification(&mut self, i: usize, line: &Line, customs_country: Option<CountryCode>) {
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

    fn hs_code(&mut self, code: &Lenient<HsCode>, path: &dyn Fn() -> String) {
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

    fn line_origin(&mut self, i: usize, line: &Line) {
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

    fn line_quantities(&mut self, i: usize, line: &Line) {
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

    fn transport(&mut self) {
        let s = self.s;
        let Some(t) = &s.transport else {
            self.push(
                IssueCode::TransportMissing,
                "$.transport".into(),
                "no transport details: mode-dependent document rules cannot apply".into(),
            );
            return;
        };
        if let Some(carrier) = &t.carrier
            && !s.parties.iter().any(|p| &p.id == carrier)
        {
            self.push(
                IssueCode::PartyReferenceUnknown,
                "$.transport.carrier".into(),
                format!("carrier {carrier} is not one of the shipment's parties"),
            );
        }
        for (field, loc) in [("loading", &t.loading), ("discharge", &t.discharge)] {
            if let Some(code) = loc.as_ref().and_then(|l| l.locode.as_ref()) {
                self.locode(code, &|| format!("$.transport.{field}.locode"));
            }
        }
        if let (Some(dep), Some(arr)) = (t.departure, t.arrival)
            && dep > arr
        {
            self.push(
                IssueCode::TransportDatesInverted,
                "$.transport.arrival".into(),
                format!("arrival {arr} is before departure {dep}"),
            );
        }
        if t.mode == Some(TransportMode::Sea) {
            for (k, e) in t.equipment.iter().enumerate() {
                if let Some(problem) = container_problem(&e.id) {
                    self.push(
                        IssueCode::EquipmentIdInvalid,
                        format!("$.transport.equipment[{k}].id"),
                        format!("container {:?}: {problem}", e.id),
                    );
                }
            }
        }
    }

    fn documents(&mut self, rules: &Rules) {
        let s = self.s;
        for (k, d) in s.documents.iter().enumerate() {
            if d.number.trim().is_empty() {
                self.push(
                    IssueCode::DocumentNumberMissing,
                    format!("$.documents[{k}].number"),
                    format!("{} has no number", kind_text(d.kind)),
                );
            }
            for n in &d.lines {
                if !s.lines.iter().any(|l| l.number == *n) {
                    self.push(
                        IssueCode::DocumentLineUnknown,
                        format!("$.documents[{k}].lines"),
                        format!(
                            "{} {:?} refers to line {n}, which the shipment does not have",
                            kind_text(d.kind),
                            d.number
                        ),
                    );
                }
            }
        }
        for rule in &rules.documents {
            if !rule.when.matches_shipment(s) {
                continue;
            }
            let satisfied = |line: Option<u32>| {
                s.documents
                    .iter()
                    .any(|d| rule.any_of.contains(&d.kind) && line.is_none_or(|n| d.covers_line(n)))
            };
            if rule.when.is_per_line() {
                for (i, line) in s.lines.iter().enumerate() {
                    if rule.when.matches_line(line) && !satisfied(Some(line.number)) {
                        self.push_with(
                            IssueCode::DocumentMissing,
                            rule.severity,
                            format!("$.lines[{i}]"),
                            format!(
                                "{}: line {} needs {} covering it",
                                rule.name,
                                line.number,
                                kinds_text(&rule.any_of)
                            ),
                        );
                    }
                }
            } else if !satisfied(None) {
                self.push_with(
                    IssueCode::DocumentMissing,
                    rule.severity,
                    "$.documents".into(),
                    format!(
                        "{}: the shipment needs {}",
                        rule.name,
                        kinds_text(&rule.any_of)
                    ),
                );
            }
        }
    }
}

/// The name a closed-set value has in JSON ("ship_to", "p/st"), for messages.
fn wire_name<T: Serialize>(v: T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn kind_text(kind: crate::model::DocumentKind) -> String {
    wire_name(kind).replace('_', " ")
}

fn kinds_text(kinds: &[crate::model::DocumentKind]) -> String {
    let names: Vec<String> = kinds.iter().map(|k| kind_text(*k)).collect();
    match names.as_slice() {
        [one] if one.starts_with(['a', 'e', 'i', 'o', 'u']) => format!("an {one}"),
        [one] => format!("a {one}"),
        _ => format!("one of: {}", names.join(", ")),
    }
}

/// EORI: a 2-letter country prefix and up to 15 letters or digits.
fn eori_problem(v: &str) -> Option<&'static str> {
    let b = v.as_bytes();
    if b.len() < 3 || b.len() > 17 {
        return Some("expected 2 letters of country and up to 15 letters or digits");
    }
    if !b[..2].iter().all(u8::is_ascii_uppercase) || !b[2..].iter().all(u8::is_ascii_alphanumeric) {
        return Some("expected 2 upper-case letters of country, then letters or digits");
    }
    None
}

/// LEI (ISO 17442): 20 characters whose ISO 7064 MOD 97-10 check holds.
fn lei_problem(v: &str) -> Option<&'static str> {
    if v.len() != 20
        || !v
            .bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
    {
        return Some("expected 20 upper-case letters or digits");
    }
    let rem = v.bytes().fold(0u32, |acc, b| {
        let n = if b.is_ascii_digit() {
            u32::from(b - b'0')
        } else {
            u32::from(b - b'A') + 10
        };
        if n >= 10 {
            (acc * 100 + n) % 97
        } else {
            (acc * 10 + n) % 97
        }
    });
    (rem != 1).then_some("check digits do not match (ISO 17442)")
}

/// ISO 6346 container number: owner code (3 letters), category (U, J or Z), 6-digit serial and a
/// check digit.
fn container_problem(id: &str) -> Option<&'static str> {
    let b = id.as_bytes();
    let shaped = b.len() == 11
        && b[..3].iter().all(u8::is_ascii_uppercase)
        && matches!(b[3], b'U' | b'J' | b'Z')
        && b[4..].iter().all(u8::is_ascii_digit);
    if !shaped {
        return Some("expected ISO 6346 form: 3 letters, U/J/Z, 7 digits (e.g. CSQU3054383)");
    }
    let value = |c: u8| -> u32 {
        if c.is_ascii_digit() {
            return u32::from(c - b'0');
        }
        // Letters count from 10 (A) upwards but skip 11, 22 and 33.
        let v = 10 + u32::from(c - b'A');
        v + (v - 1) / 10
    };
    let sum: u32 = b[..10]
        .iter()
        .enumerate()
        .map(|(i, &c)| value(c) << i)
        .sum();
    let check = (sum % 11) % 10;
    (check != u32::from(b[10] - b'0')).then_some("check digit does not match (ISO 6346)")
}

#[cfg(test)]
mod tests;
