//! Master-data validation of a canonical shipment.
//!
//! [`validate`] is a pure function: it reads the shipment, the reference data and the rules, and
//! returns every problem it finds (not just the first), each with a JSON path, a stable code, a
//! severity and a message a person can act on. The saga calls it in VALIDATING; `tradehub validate`
//! calls it from the command line.

mod documents;
mod lines;
mod parties;
mod rules;
mod shipment;

use std::fmt;

use serde::Serialize;

use crate::model::Shipment;

use super::reference::ReferenceData;

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
}

/// The name a closed-set value has in JSON ("ship_to", "p/st"), for messages.
fn wire_name<T: Serialize>(v: T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests;
