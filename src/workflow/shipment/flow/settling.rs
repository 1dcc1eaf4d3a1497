//! SETTLING → RECONCILED → CLOSED: duty assessed by customs and the broker's invoice are
//! checked against each other and the estimate, or the reconciliation batch's verdict is taken.

use rust_decimal::Decimal;
use serde_json::json;

use crate::model::{Direction, Money};
use crate::workflow::exceptions::ExceptionType;
use crate::workflow::shipment::inputs::{AssessedDuty, BatchVerdict, BrokerInvoice};
use crate::workflow::shipment::step::Step;
use crate::workflow::shipment::{Estimate, Stage};

impl Step<'_> {
    pub(super) fn on_assessed(&mut self, assessed: AssessedDuty) {
        if self.state.assessed.as_ref() == Some(&assessed) {
            return self.ignore("duplicate assessed duty");
        }
        self.audited(
            "duty_assessed",
            json!({ "duty": assessed.duty, "reference": assessed.reference }),
        );
        self.state.assessed = Some(assessed);
        self.try_reconcile();
    }

    pub(super) fn on_invoice(&mut self, invoice: BrokerInvoice) {
        if self.state.invoice.as_ref() == Some(&invoice) {
            return self.ignore("duplicate broker invoice");
        }
        self.audited(
            "broker_invoice",
            json!({ "invoice": invoice.invoice, "duty": invoice.duty, "fees": invoice.fees, "reconciliation": invoice.reconciliation }),
        );
        self.state.invoice = Some(invoice);
        self.try_reconcile();
    }

    /// Whether `amount` agrees with `reference` within the configured tolerance, and if not,
    /// by how much it differs.
    fn within(&self, amount: Money, reference: Money) -> Result<(), String> {
        if amount.currency() != reference.currency() {
            return Err(format!(
                "{amount} and {reference} are in different currencies"
            ));
        }
        let settings = &self.saga.deps.settings;
        let diff = (amount.amount() - reference.amount()).abs();
        let tolerance = settings
            .variance_abs
            .max(reference.amount().abs() * settings.variance_pct / Decimal::ONE_HUNDRED);
        if diff > tolerance {
            Err(format!(
                "{amount} differs from {reference} by {diff} (tolerance {tolerance})"
            ))
        } else {
            Ok(())
        }
    }

    pub(super) fn try_reconcile(&mut self) {
        if self.state.stage != Stage::Settling {
            return;
        }
        let verdict = self
            .state
            .invoice
            .as_ref()
            .and_then(|invoice| invoice.reconciliation.clone());
        if let Some(verdict) = verdict.filter(|verdict| verdict.reconciled)
            && self.state.has_open(ExceptionType::DutyVariance)
        {
            self.resolve_kind(
                ExceptionType::DutyVariance,
                "a corrected invoice reconciles",
            );
            return self.settle_on(&verdict);
        }
        if self.state.has_open(ExceptionType::DutyVariance) {
            return;
        }
        let import = self
            .state
            .shipment
            .as_ref()
            .is_some_and(|shipment| shipment.direction == Direction::Import);
        let Some(invoice) = self.state.invoice.as_ref() else {
            return;
        };
        if let Some(verdict) = invoice.reconciliation.clone() {
            return self.settle_on(&verdict);
        }
        let invoice_duty = invoice.duty;
        let assessed = self.state.assessed.as_ref().map(|assessed| assessed.duty);
        if import && assessed.is_none() {
            return;
        }
        let mut problems = Vec::new();
        if let Some(assessed) = assessed {
            if let Err(problem) = self.within(invoice_duty, assessed) {
                problems.push(format!("broker invoice vs assessed: {problem}"));
            }
            if let Some(Estimate::Computed {
                currency,
                total_duty,
                ..
            }) = &self.state.estimate
            {
                let estimate = Money::new(*total_duty, *currency);
                if let Err(problem) = self.within(estimate, assessed) {
                    problems.push(format!("estimate vs assessed: {problem}"));
                }
            }
        }
        if problems.is_empty() {
            self.reconciled("duty agrees within tolerance");
        } else {
            let detail = problems.join("; ");
            self.open(
                ExceptionType::DutyVariance,
                detail,
                json!({ "assessed": assessed, "invoice": self.state.invoice, "estimate": self.state.estimate }),
                None,
            );
        }
    }

    /// Settles on the reconciliation batch's verdict: close, or raise DUTY_VARIANCE naming
    /// every reason the batch found.
    fn settle_on(&mut self, verdict: &BatchVerdict) {
        if verdict.reconciled {
            return self.reconciled(
                "the reconciliation batch found estimate, assessment and invoice in agreement",
            );
        }
        let detail = if verdict.reasons.is_empty() {
            "the reconciliation batch found a variance but named no reason".to_owned()
        } else {
            verdict.reasons.join("; ")
        };
        self.open(
            ExceptionType::DutyVariance,
            detail,
            json!({ "reasons": verdict.reasons, "assessed": self.state.assessed, "invoice": self.state.invoice, "estimate": self.state.estimate }),
            None,
        );
    }

    pub(super) fn reconciled(&mut self, why: &str) {
        self.goto(Stage::Reconciled, why);
        self.goto(Stage::Closed, "settled");
        self.note("Shipment closed: customs cleared, delivered and settled.".to_owned());
    }
}
