//! Three-way reconciliation of duty: our estimate, what customs assessed, and what the broker
//! invoiced (DOMAIN.md §8). A pure function the scheduler runs in batches once the assessment and
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

/// One assessed item, keyed by our shipment line number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssessedLine {
    pub line: u32,
    pub hs_code: HsCode,
    pub preference: bool,
    #[serde(default)]
    pub quantity: Option<Quantity>,
    #[serde(with = "rust_decimal::serde::str")]
    pub customs_value: Decimal,
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
    pub lines: Vec<AssessedLine>,
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
    /// Draft vendor bill lines for the broker: (description, amount).
    pub vendor_bill: Vec<(String, Decimal)>,
    /// Duty (and fees) capitalised as landed cost.
    pub landed_cost: Decimal,
    /// Import VAT to the recoverable VAT account.
    pub recoverable_vat: Decimal,
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

/// Compares our estimate, the assessment and the broker invoice of one declaration.
pub fn reconcile(input: &ReconcileInput<'_>, tolerance: Tolerance) -> Reconciliation {
    let ReconcileInput {
        shipment,
        estimate,
        assessed,
        invoice,
        fees,
    } = *input;
    let mut v = Vec::new();
    let mut push = |kind, line, ours: String, theirs: String, message: String| {
        v.push(Variance {
            kind,
            line,
            ours,
            theirs,
            message,
        });
    };
    for (what, theirs) in [
        ("assessment", assessed.currency),
        ("broker invoice", invoice.currency),
    ] {
        if theirs != estimate.currency {
            push(
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
        push(
            VarianceKind::ValueBasis,
            None,
            format!("{:?}", estimate.value_basis),
            format!("{basis:?}"),
            "customs valued on another basis (CIF vs FOB)".into(),
        );
    }
    for fx in &assessed.fx {
        match estimate.fx_rates.iter().find(|r| r.from == fx.from) {
            None => push(
                VarianceKind::FxRate,
                None,
                "none".into(),
                format!("{} {} on {}", fx.from, fx.rate, fx.date),
                format!("customs converted {} but our estimate did not", fx.from),
            ),
            Some(ours) => {
                if ours.rate != fx.rate {
                    push(
                        VarianceKind::FxRate,
                        None,
                        ours.rate.to_string(),
                        fx.rate.to_string(),
                        format!("{} rate differs", fx.from),
                    );
                }
                if ours.date != fx.date {
                    push(
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
    for ours in &estimate.lines {
        let n = ours.line;
        let Some(theirs) = assessed.lines.iter().find(|l| l.line == n) else {
            push(
                VarianceKind::LineMissing,
                Some(n),
                "declared".into(),
                "absent".into(),
                format!("line {n} is not in the assessment"),
            );
            continue;
        };
        if theirs.hs_code != ours.hs_code {
            push(
                VarianceKind::HsCode,
                Some(n),
                ours.hs_code.to_string(),
                theirs.hs_code.to_string(),
                format!("line {n} was reclassified"),
            );
        }
        let ours_pref = ours
            .duties
            .first()
            .is_some_and(|d| d.kind == ChargeKind::Preferential);
        if ours_pref != theirs.preference {
            push(
                VarianceKind::Preference,
                Some(n),
                ours_pref.to_string(),
                theirs.preference.to_string(),
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
                push(
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
            (VarianceKind::Duty, ours.duty, theirs.duty),
            (VarianceKind::Tax, ours.tax, theirs.tax),
        ] {
            if tolerance.exceeded(mine, theirs_amount) {
                push(
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
            push(
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
    let assessed_duty: Decimal = assessed.lines.iter().map(|l| l.duty).sum();
    let assessed_tax: Decimal = assessed.lines.iter().map(|l| l.tax).sum();
    let sum_of = |k: InvoiceItemKind| -> Decimal {
        invoice
            .items
            .iter()
            .filter(|i| i.kind == k)
            .map(|i| i.amount)
            .sum()
    };
    let (billed_duty, billed_tax) = (sum_of(InvoiceItemKind::Duty), sum_of(InvoiceItemKind::Tax));
    for (what, billed, due) in [
        ("duty", billed_duty, assessed_duty),
        ("tax", billed_tax, assessed_tax),
    ] {
        if billed != due {
            push(
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
            None => push(
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
                    push(
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
    let reconciled = v.is_empty();
    let posting = reconciled.then(|| {
        let fee_total: Decimal = invoice
            .items
            .iter()
            .filter(|i| i.kind == InvoiceItemKind::Fee)
            .map(|i| i.amount)
            .sum();
        let recoverable_vat = if estimate.recoverable_taxes.is_zero() {
            Decimal::ZERO
        } else {
            billed_tax
        };
        Posting {
            vendor_bill: invoice
                .items
                .iter()
                .map(|i| (i.description.clone(), i.amount))
                .collect(),
            landed_cost: billed_duty + fee_total + (billed_tax - recoverable_vat),
            recoverable_vat,
        }
    });
    Reconciliation {
        shipment: shipment.id.to_string(),
        reconciled,
        variances: v,
        posting,
    }
}

/// Reconciles a batch (the scheduler's nightly run), one result per declaration.
pub fn reconcile_batch(inputs: &[ReconcileInput<'_>], tolerance: Tolerance) -> Vec<Reconciliation> {
    inputs.iter().map(|i| reconcile(i, tolerance)).collect()
}

#[cfg(test)]
mod tests;
