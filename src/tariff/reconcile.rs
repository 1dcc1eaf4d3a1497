//! Three-way reconciliation of duty: our estimate, what customs assessed, and what the broker
//! invoiced. A pure function the scheduler runs in batches once the assessment and
//! the broker invoice are in; a clean result carries the posting for Odoo, a dirty one every
//! reason for a DUTY_VARIANCE exception.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::duty::{ChargeKind, DutyResult, ValueBasis};
use crate::model::{Currency, Date, HsCode, Quantity, Shipment};

/// Where an assessment came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AssessmentSource {
    /// EDIFACT CUSRES TAX/MOA.
    Cusres,
    /// UK CDS DMSTAX notification.
    Dmstax,
    /// US ACE entry summary.
    AceEntrySummary,
    /// A broker's statement of what customs assessed.
    BrokerStatement,
}

/// The exchange rate customs used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssessedFx {
    pub from: Currency,
    #[serde(with = "rust_decimal::serde::str")]
    pub rate: Decimal,
    pub date: Date,
}

/// One assessed item, keyed by our shipment line number. What the customs document does not
/// say (a DMSTAX names no commodity code, a CUSRES no preference) is `None` and not compared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssessedLine {
    pub line: u32,
    #[serde(default)]
    pub hs_code: Option<HsCode>,
    #[serde(default)]
    pub preference: Option<bool>,
    #[serde(default)]
    pub quantity: Option<Quantity>,
    #[serde(default, with = "rust_decimal::serde::str_option")]
    pub customs_value: Option<Decimal>,
    #[serde(with = "rust_decimal::serde::str")]
    pub duty: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub tax: Decimal,
}

/// What customs assessed for a declaration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assessment {
    pub source: AssessmentSource,
    pub currency: Currency,
    #[serde(default)]
    pub value_basis: Option<ValueBasis>,
    #[serde(default)]
    pub fx: Vec<AssessedFx>,
    /// Per item, when the document has items; empty when it gives declaration totals only.
    pub lines: Vec<AssessedLine>,
    /// Declaration totals; used when `lines` is empty.
    #[serde(default)]
    pub totals: Option<AssessedTotals>,
}

/// Duty and tax customs assessed for the whole declaration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssessedTotals {
    #[serde(with = "rust_decimal::serde::str")]
    pub duty: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub tax: Decimal,
}

impl Assessment {
    /// Total duty and tax assessed: the items' sums, or the declaration totals without items.
    pub fn total(&self) -> AssessedTotals {
        match (self.lines.is_empty(), self.totals) {
            (true, Some(t)) => t,
            _ => AssessedTotals {
                duty: self.lines.iter().map(|l| l.duty).sum(),
                tax: self.lines.iter().map(|l| l.tax).sum(),
            },
        }
    }
}

/// What a broker invoice line is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvoiceItemKind {
    /// Duty advanced to customs (a disbursement).
    Duty,
    /// Import tax advanced to customs (a disbursement).
    Tax,
    /// The broker's own fee.
    Fee,
}

/// One line of a broker invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceItem {
    pub kind: InvoiceItemKind,
    /// Fee code from the partner's fee table (fees only).
    #[serde(default)]
    pub code: Option<String>,
    pub description: String,
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
}

/// A broker's invoice for one declaration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrokerInvoice {
    pub broker: String,
    pub number: String,
    pub currency: Currency,
    pub items: Vec<InvoiceItem>,
}

impl BrokerInvoice {
    /// The sum of the invoice's items of `kind`.
    pub fn total_of(&self, kind: InvoiceItemKind) -> Decimal {
        self.items
            .iter()
            .filter(|i| i.kind == kind)
            .map(|i| i.amount)
            .sum()
    }
}

/// A fee the broker may charge, from the partner's agreed fee table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgreedFee {
    pub code: String,
    /// A fixed amount per declaration.
    #[serde(default, with = "rust_decimal::serde::str_option")]
    pub fixed: Option<Decimal>,
    /// A percentage of the disbursements (duty + tax advanced), e.g. a disbursement fee.
    #[serde(default, with = "rust_decimal::serde::str_option")]
    pub pct_of_disbursements: Option<Decimal>,
    #[serde(default, with = "rust_decimal::serde::str_option")]
    pub min: Option<Decimal>,
}

impl AgreedFee {
    fn expected(&self, disbursements: Decimal) -> Decimal {
        let pct = self.pct_of_disbursements.map_or(Decimal::ZERO, |p| {
            (disbursements * p / Decimal::ONE_HUNDRED).round_dp(2)
        });
        let v = self.fixed.unwrap_or_default() + pct;
        self.min.map_or(v, |m| v.max(m))
    }
}

/// How far two amounts may differ. A difference is a variance only when it exceeds both the
/// absolute and the relative allowance, so that cents on small amounts and rounding on large
/// ones do not raise exceptions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tolerance {
    #[serde(with = "rust_decimal::serde::str")]
    pub absolute: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub percent: Decimal,
}

impl Tolerance {
    fn exceeded(&self, ours: Decimal, theirs: Decimal) -> bool {
        let diff = (ours - theirs).abs();
        diff > self.absolute && diff > ours.abs() * self.percent / Decimal::ONE_HUNDRED
    }
}

/// Kinds of variance, each a reason named in the DUTY_VARIANCE exception.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum VarianceKind {
    Currency,
    ValueBasis,
    FxRate,
    FxDate,
    LineMissing,
    UnexpectedLine,
    HsCode,
    Preference,
    Quantity,
    CustomsValue,
    Duty,
    Tax,
    Disbursement,
    Fee,
}

/// One reason why the three do not agree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Variance {
    pub kind: VarianceKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    pub ours: String,
    pub theirs: String,
    pub message: String,
}

/// What to post to Odoo when everything agrees.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Posting {
    /// Draft vendor bill lines for the broker: duty and tax advanced, fees.
    pub vendor_bill: Vec<InvoiceItem>,
    /// Duty, fees and non-recoverable tax capitalised as landed cost.
    pub landed_cost: Decimal,
    /// The parts of `landed_cost`: duty, fees, non-recoverable tax.
    pub landed_cost_parts: LandedCostParts,
    /// Import VAT to the recoverable VAT account.
    pub recoverable_vat: Decimal,
}

/// What the landed cost is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LandedCostParts {
    pub duty: Decimal,
    pub fees: Decimal,
    pub non_recoverable_tax: Decimal,
}

/// The outcome for one declaration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reconciliation {
    pub shipment: String,
    pub reconciled: bool,
    pub variances: Vec<Variance>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub posting: Option<Posting>,
}

/// One declaration to reconcile.
pub struct ReconcileInput<'a> {
    pub shipment: &'a Shipment,
    pub estimate: &'a DutyResult,
    pub assessed: &'a Assessment,
    pub invoice: &'a BrokerInvoice,
    pub fees: &'a [AgreedFee],
}

/// The reasons found so far.
#[derive(Default)]
struct Findings(Vec<Variance>);

impl Findings {
    fn push(
        &mut self,
        kind: VarianceKind,
        line: Option<u32>,
        ours: String,
        theirs: String,
        message: String,
    ) {
        self.0.push(Variance {
            kind,
            line,
            ours,
            theirs,
            message,
        });
    }
}

/// Compares our estimate, the assessment and the broker invoice of one declaration.
pub fn reconcile(input: &ReconcileInput<'_>, tolerance: Tolerance) -> Reconciliation {
    let ReconcileInput {
        shipment,
        estimate,
        assessed,
        invoice,
        fees,
    } = *input;
    let mut v = Findings::default();
    for (what, theirs) in [
        ("assessment", assessed.currency),
        ("broker invoice", invoice.currency),
    ] {
        if theirs != estimate.currency {
            v.push(
                VarianceKind::Currency,
                None,
                estimate.currency.to_string(),
                theirs.to_string(),
                format!(
                    "the {what} is in {theirs}, our estimate in {}",
                    estimate.currency
                ),
            );
        }
    }
    if let Some(basis) = assessed.value_basis
        && basis != estimate.value_basis
    {
        v.push(
            VarianceKind::ValueBasis,
            None,
            format!("{:?}", estimate.value_basis),
            format!("{basis:?}"),
            "customs valued on another basis (CIF vs FOB)".into(),
        );
    }
    compare_fx(&mut v, estimate, assessed);
    if assessed.lines.is_empty() {
        let totals = assessed.total();
        for (kind, mine, theirs) in [
            (VarianceKind::Duty, estimate.total_duty, totals.duty),
            (VarianceKind::Tax, estimate.total_taxes, totals.tax),
        ] {
            if tolerance.exceeded(mine, theirs) {
                v.push(
                    kind,
                    None,
                    mine.to_string(),
                    theirs.to_string(),
                    format!(
                        "declaration total {kind:?} differs by {} beyond tolerance",
                        theirs - mine
                    ),
                );
            }
        }
    } else {
        compare_lines(&mut v, shipment, estimate, assessed, tolerance);
    }
    check_invoice(&mut v, invoice, assessed.total(), fees);
    let capitalise = if estimate.recoverable_taxes.is_zero() {
        Capitalise::AllButNothing
    } else {
        Capitalise::AllButVat
    };
    finish(shipment.id.to_string(), v, invoice, capitalise)
}

/// Checks the broker invoice of a declaration customs assesses nothing for (an export): it may
/// hold agreed fees only, no duty or tax advanced.
pub fn reconcile_invoice_only(
    shipment: &str,
    invoice: &BrokerInvoice,
    fees: &[AgreedFee],
) -> Reconciliation {
    let mut v = Findings::default();
    let nothing = AssessedTotals {
        duty: Decimal::ZERO,
        tax: Decimal::ZERO,
    };
    check_invoice(&mut v, invoice, nothing, fees);
    finish(shipment.to_owned(), v, invoice, Capitalise::Nothing)
}

fn compare_fx(v: &mut Findings, estimate: &DutyResult, assessed: &Assessment) {
    for fx in &assessed.fx {
        match estimate.fx_rates.iter().find(|r| r.from == fx.from) {
            None => v.push(
                VarianceKind::FxRate,
                None,
                "none".into(),
                format!("{} {} on {}", fx.from, fx.rate, fx.date),
                format!("customs converted {} but our estimate did not", fx.from),
            ),
            Some(ours) => {
                if ours.rate != fx.rate {
                    v.push(
                        VarianceKind::FxRate,
                        None,
                        ours.rate.to_string(),
                        fx.rate.to_string(),
                        format!("{} rate differs", fx.from),
                    );
                }
                if ours.date != fx.date {
                    v.push(
                        VarianceKind::FxDate,
                        None,
                        ours.date.to_string(),
                        fx.date.to_string(),
                        format!("{} rate taken from another date", fx.from),
                    );
                }
            }
        }
    }
}

fn compare_lines(
    v: &mut Findings,
    shipment: &Shipment,
    estimate: &DutyResult,
    assessed: &Assessment,
    tolerance: Tolerance,
) {
    for ours in &estimate.lines {
        let n = ours.line;
        let Some(theirs) = assessed.lines.iter().find(|l| l.line == n) else {
            v.push(
                VarianceKind::LineMissing,
                Some(n),
                "declared".into(),
                "absent".into(),
                format!("line {n} is not in the assessment"),
            );
            continue;
        };
        if let Some(code) = theirs.hs_code
            && code != ours.hs_code
        {
            v.push(
                VarianceKind::HsCode,
                Some(n),
                ours.hs_code.to_string(),
                code.to_string(),
                format!("line {n} was reclassified"),
            );
        }
        let ours_pref = ours
            .duties
            .first()
            .is_some_and(|d| d.kind == ChargeKind::Preferential);
        if let Some(pref) = theirs.preference
            && pref != ours_pref
        {
            v.push(
                VarianceKind::Preference,
                Some(n),
                ours_pref.to_string(),
                pref.to_string(),
                if ours_pref {
                    format!("line {n}: preference denied; expect the MFN difference")
                } else {
                    format!("line {n}: preference granted that we did not apply")
                },
            );
        }
        if let Some(q) = theirs.quantity {
            let line = shipment.lines.iter().find(|l| l.number == n);
            let mine = line.and_then(|l| {
                [Some(l.quantity), l.supplementary_quantity]
                    .into_iter()
                    .flatten()
                    .find(|x| x.unit() == q.unit())
            });
            if mine.is_none_or(|m| m.value() != q.value()) {
                v.push(
                    VarianceKind::Quantity,
                    Some(n),
                    mine.map_or("none".into(), |m| m.value().to_string()),
                    q.value().to_string(),
                    format!("line {n}: quantity in the supplementary unit differs"),
                );
            }
        }
        for (kind, mine, theirs_amount) in [
            (
                VarianceKind::CustomsValue,
                ours.customs_value,
                theirs.customs_value,
            ),
            (VarianceKind::Duty, ours.duty, Some(theirs.duty)),
            (VarianceKind::Tax, ours.tax, Some(theirs.tax)),
        ] {
            if let Some(theirs_amount) = theirs_amount
                && tolerance.exceeded(mine, theirs_amount)
            {
                v.push(
                    kind,
                    Some(n),
                    mine.to_string(),
                    theirs_amount.to_string(),
                    format!(
                        "line {n}: {kind:?} differs by {} beyond tolerance",
                        theirs_amount - mine
                    ),
                );
            }
        }
    }
    for theirs in &assessed.lines {
        if !estimate.lines.iter().any(|l| l.line == theirs.line) {
            v.push(
                VarianceKind::UnexpectedLine,
                Some(theirs.line),
                "absent".into(),
                "assessed".into(),
                format!(
                    "the assessment has line {} that we did not declare",
                    theirs.line
                ),
            );
        }
    }
}

/// The invoice must advance exactly what customs assessed and charge only agreed fees.
fn check_invoice(
    v: &mut Findings,
    invoice: &BrokerInvoice,
    due: AssessedTotals,
    fees: &[AgreedFee],
) {
    let billed_duty = invoice.total_of(InvoiceItemKind::Duty);
    let billed_tax = invoice.total_of(InvoiceItemKind::Tax);
    for (what, billed, due) in [
        ("duty", billed_duty, due.duty),
        ("tax", billed_tax, due.tax),
    ] {
        if billed != due {
            v.push(
                VarianceKind::Disbursement,
                None,
                due.to_string(),
                billed.to_string(),
                format!("the broker advanced {billed} {what}, customs assessed {due}"),
            );
        }
    }
    let disbursements = billed_duty + billed_tax;
    for item in invoice
        .items
        .iter()
        .filter(|i| i.kind == InvoiceItemKind::Fee)
    {
        let agreed = item
            .code
            .as_deref()
            .and_then(|c| fees.iter().find(|f| f.code == c));
        match agreed {
            None => v.push(
                VarianceKind::Fee,
                None,
                "not agreed".into(),
                item.amount.to_string(),
                format!(
                    "fee {:?} ({}) is not in the agreed fee table",
                    item.code.as_deref().unwrap_or(""),
                    item.description
                ),
            ),
            Some(f) => {
                let expected = f.expected(disbursements);
                if item.amount != expected {
                    v.push(
                        VarianceKind::Fee,
                        None,
                        expected.to_string(),
                        item.amount.to_string(),
                        format!(
                            "fee {} charged {} instead of the agreed {expected}",
                            f.code, item.amount
                        ),
                    );
                }
            }
        }
    }
}

/// What of an invoice becomes landed cost of the goods.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Capitalise {
    /// Duty, fees and tax (import VAT not recoverable).
    AllButNothing,
    /// Duty and fees; the import VAT is recovered.
    AllButVat,
    /// Nothing: an export's fees are a cost of the sale, not of stock.
    Nothing,
}

fn finish(
    shipment: String,
    v: Findings,
    invoice: &BrokerInvoice,
    capitalise: Capitalise,
) -> Reconciliation {
    let reconciled = v.0.is_empty();
    let posting = reconciled.then(|| {
        let billed_duty = invoice.total_of(InvoiceItemKind::Duty);
        let billed_tax = invoice.total_of(InvoiceItemKind::Tax);
        let fee_total = invoice.total_of(InvoiceItemKind::Fee);
        let recoverable_vat = if capitalise == Capitalise::AllButVat {
            billed_tax
        } else {
            Decimal::ZERO
        };
        let parts = if capitalise == Capitalise::Nothing {
            LandedCostParts {
                duty: Decimal::ZERO,
                fees: Decimal::ZERO,
                non_recoverable_tax: Decimal::ZERO,
            }
        } else {
            LandedCostParts {
                duty: billed_duty,
                fees: fee_total,
                non_recoverable_tax: billed_tax - recoverable_vat,
            }
        };
        Posting {
            vendor_bill: invoice.items.clone(),
            landed_cost: parts.duty + parts.fees + parts.non_recoverable_tax,
            landed_cost_parts: parts,
            recoverable_vat,
        }
    });
    Reconciliation {
        shipment,
        reconciled,
        variances: v.0,
        posting,
    }
}

/// Reconciles a batch (the scheduler's nightly run), one result per declaration.
pub fn reconcile_batch(inputs: &[ReconcileInput<'_>], tolerance: Tolerance) -> Vec<Reconciliation> {
    inputs.iter().map(|i| reconcile(i, tolerance)).collect()
}

#[cfg(test)]
mod tests;
