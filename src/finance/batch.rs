//! The reconciliation of one declaration from what is known about it: pure, no I/O. The inbox
//! and `tradehub reconcile` gather a [`Dossier`] per LRN and call [`settle`].

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::documents::Settlement;
use super::settings::ReconcileSettings;
use crate::model::{Currency, Direction, Shipment};
use crate::tariff::duty::{self, TariffBook};
use crate::tariff::reconcile::{
    self, Assessment, BrokerInvoice, InvoiceItemKind, ReconcileInput, Reconciliation,
};

/// Everything known about one declaration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Dossier {
    /// The declaration.
    pub lrn: String,
    /// The MRN, once a document named it.
    #[serde(default)]
    pub mrn: Option<String>,
    /// What customs assessed, and the document it came from.
    #[serde(default)]
    pub assessment: Option<(String, Assessment)>,
    /// The broker's invoice.
    #[serde(default)]
    pub invoice: Option<BrokerInvoice>,
    /// The shipment as declared (from the saga or the broker's declaration copy).
    #[serde(default)]
    pub shipment: Option<Box<Shipment>>,
}

impl Dossier {
    /// An empty dossier for `lrn`.
    pub fn new(lrn: &str) -> Self {
        Self {
            lrn: lrn.to_owned(),
            ..Self::default()
        }
    }

    /// Adds what a document says; a later document of the same kind replaces the earlier one
    /// (a corrected invoice).
    pub fn add(&mut self, settlement: Settlement) {
        match settlement {
            Settlement::Assessment {
                mrn,
                reference,
                assessment,
                ..
            } => {
                self.mrn = mrn.or(self.mrn.take());
                self.assessment = Some((reference, assessment));
            }
            Settlement::Invoice { mrn, invoice, .. } => {
                self.mrn = self.mrn.take().or(mrn);
                self.invoice = Some(invoice);
            }
            Settlement::Declaration { shipment, .. } => self.shipment = Some(shipment),
        }
    }
}

/// Where a declaration stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// A document is still missing.
    Waiting,
    /// Estimate, assessment and invoice agree within tolerance.
    Reconciled,
    /// They do not; every reason is named.
    Variance,
}

/// The three sets of amounts side by side, in the declaration's currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Comparison {
    pub currency: Option<Currency>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub estimate_duty: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub estimate_tax: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assessed_duty: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assessed_tax: Option<Decimal>,
    pub invoiced_duty: Decimal,
    pub invoiced_tax: Decimal,
    pub invoiced_fees: Decimal,
}

/// The batch's finding for one declaration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Outcome {
    pub lrn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shipment: Option<String>,
    pub status: Status,
    /// What is still missing (`declaration`, `assessment`, `invoice`), when waiting.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comparison: Option<Comparison>,
    /// Every variance, one sentence each.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<String>,
    /// The full comparison, with the posting when reconciled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reconciliation: Option<Reconciliation>,
}

/// Reconciles one declaration once the documents it needs are in: an import needs the
/// declaration, the assessment and the invoice; an export or transit the declaration and the
/// invoice (customs assesses nothing).
pub fn settle(d: &Dossier, book: &TariffBook, settings: &ReconcileSettings) -> Outcome {
    let waiting = |missing: Vec<&'static str>| Outcome {
        lrn: d.lrn.clone(),
        shipment: d.shipment.as_ref().map(|s| s.id.to_string()),
        status: Status::Waiting,
        missing,
        comparison: None,
        reasons: Vec::new(),
        reconciliation: None,
    };
    let import = d
        .shipment
        .as_ref()
        .map(|s| s.direction == Direction::Import);
    let mut missing = Vec::new();
    if d.shipment.is_none() {
        missing.push("declaration");
    }
    if import != Some(false) && d.assessment.is_none() {
        missing.push("assessment");
    }
    if d.invoice.is_none() {
        missing.push("invoice");
    }
    let (Some(shipment), Some(invoice), true) = (&d.shipment, &d.invoice, missing.is_empty())
    else {
        return waiting(missing);
    };
    let fees = settings.fees(&invoice.broker);
    let mut comparison = Comparison {
        currency: Some(invoice.currency),
        estimate_duty: None,
        estimate_tax: None,
        assessed_duty: None,
        assessed_tax: None,
        invoiced_duty: invoice.total_of(InvoiceItemKind::Duty),
        invoiced_tax: invoice.total_of(InvoiceItemKind::Tax),
        invoiced_fees: invoice.total_of(InvoiceItemKind::Fee),
    };
    let mut reasons = Vec::new();
    if !settings.brokers.contains_key(&invoice.broker) {
        reasons.push(format!(
            "broker {} has no terms in the reconciliation settings (no agreed fees, no Odoo partner)",
            invoice.broker
        ));
    }
    let reconciliation = match (&d.assessment, shipment.direction) {
        (Some((_, assessed)), Direction::Import) => {
            comparison.assessed_duty = Some(assessed.total().duty);
            comparison.assessed_tax = Some(assessed.total().tax);
            match duty::compute(shipment, book) {
                Ok(estimate) => {
                    comparison.estimate_duty = Some(estimate.total_duty);
                    comparison.estimate_tax = Some(estimate.total_taxes);
                    Some(reconcile::reconcile(
                        &ReconcileInput {
                            shipment,
                            estimate: &estimate,
                            assessed,
                            invoice,
                            fees,
                        },
                        settings.tolerance,
                    ))
                }
                Err(e) => {
                    reasons.push(format!("our estimate cannot be made: {e}"));
                    None
                }
            }
        }
        _ => Some(reconcile::reconcile_invoice_only(
            &shipment.id.to_string(),
            invoice,
            fees,
        )),
    };
    if let Some(r) = &reconciliation {
        reasons.extend(r.variances.iter().map(|v| {
            let kind = serde_json::to_value(v.kind)
                .ok()
                .and_then(|k| k.as_str().map(str::to_owned))
                .unwrap_or_default();
            format!(
                "{kind}: {} (ours {}, theirs {})",
                v.message, v.ours, v.theirs
            )
        }));
    }
    let status = if reasons.is_empty() {
        Status::Reconciled
    } else {
        Status::Variance
    };
    Outcome {
        lrn: d.lrn.clone(),
        shipment: Some(shipment.id.to_string()),
        status,
        missing: Vec::new(),
        comparison: Some(comparison),
        reasons,
        reconciliation,
    }
}
