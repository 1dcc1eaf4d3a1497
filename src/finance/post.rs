//! Posting a reconciled declaration to Odoo: a draft vendor bill from the broker (duty and VAT
//! advanced, fees) and a `stock.landed.cost` on the receipt, split by the configured method.
//!
//! Idempotent by the LRN: the bill is looked up by (`move_type` in_invoice, the broker,
//! `invoice_origin` = LRN) and the landed cost by its `vendor_bill_id` before anything is
//! created, and each is created with its lines in one call, so a re-run finds what an earlier
//! run posted and never posts twice.

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde_json::{Map, Value, json};

use crate::model::Shipment;
use crate::partners::odoo::{OdooClient, OdooError};
use crate::tariff::duty::SplitMethod;
use crate::tariff::reconcile::{BrokerInvoice, InvoiceItemKind, Posting};

/// Posting failed.
#[derive(Debug, thiserror::Error)]
pub enum PostError {
    /// The broker is not a partner in Odoo.
    #[error(
        "Odoo has no res.partner named {name:?} (the Odoo partner of broker {broker} in the reconciliation settings)"
    )]
    NoPartner {
        /// The broker.
        broker: String,
        /// The partner name looked for.
        name: String,
    },
    /// Odoo refused or did not answer.
    #[error("posting the settlement of {lrn} to Odoo: {source}")]
    Odoo {
        /// The declaration.
        lrn: String,
        /// The client's error (retryable or not).
        source: OdooError,
    },
}

/// What is in Odoo for a declaration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Posted {
    /// The draft vendor bill (`account.move`).
    pub vendor_bill: u64,
    /// The landed cost, when there was landed cost to post and a receipt to post it on.
    pub landed_cost: Option<u64>,
    /// False when an earlier run had posted it already.
    pub created: bool,
}

fn amount(v: Decimal) -> Value {
    json!(v.to_f64().unwrap_or_default())
}

fn obj(pairs: Vec<(&str, Value)>) -> Map<String, Value> {
    pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

/// Posts the settlement of `lrn`; see the module docs.
pub async fn post(
    odoo: &OdooClient,
    lrn: &str,
    odoo_partner: &str,
    shipment: &Shipment,
    invoice: &BrokerInvoice,
    posting: &Posting,
    split: SplitMethod,
) -> Result<Posted, PostError> {
    let odoo_err = |source| PostError::Odoo {
        lrn: lrn.to_owned(),
        source,
    };
    let partner = odoo
        .search(
            "res.partner",
            json!([["name", "=", odoo_partner]]),
            None,
            Some(1),
        )
        .await
        .map_err(odoo_err)?
        .first()
        .copied()
        .ok_or_else(|| PostError::NoPartner {
            broker: invoice.broker.clone(),
            name: odoo_partner.to_owned(),
        })?;
    let existing = odoo
        .search(
            "account.move",
            json!([
                ["move_type", "=", "in_invoice"],
                ["partner_id", "=", partner],
                ["invoice_origin", "=", lrn]
            ]),
            None,
            Some(1),
        )
        .await
        .map_err(odoo_err)?;
    let (bill, mut created) = match existing.first() {
        Some(id) => (*id, false),
        None => {
            let currency = odoo
                .search(
                    "res.currency",
                    json!([["name", "=", invoice.currency.as_str()]]),
                    None,
                    Some(1),
                )
                .await
                .map_err(odoo_err)?;
            let lines: Vec<Value> = posting
                .vendor_bill
                .iter()
                .map(|item| {
                    let name = match item.kind {
                        InvoiceItemKind::Duty => format!("{lrn}: {} (customs duty)", item.description),
                        InvoiceItemKind::Tax => format!("{lrn}: {} (import VAT)", item.description),
                        InvoiceItemKind::Fee => format!("{lrn}: {} (broker fee)", item.description),
                    };
                    json!([0, 0, {"name": name, "quantity": 1.0, "price_unit": amount(item.amount)}])
                })
                .collect();
            let mut vals = obj(vec![
                ("move_type", json!("in_invoice")),
                ("partner_id", json!(partner)),
                ("ref", json!(invoice.number)),
                ("invoice_origin", json!(lrn)),
                ("invoice_line_ids", Value::Array(lines)),
            ]);
            if let Some(c) = currency.first() {
                vals.insert("currency_id".to_owned(), json!(c));
            }
            let id = odoo.create("account.move", vals).await.map_err(odoo_err)?;
            (id, true)
        }
    };
    let picking = shipment.odoo.picking.as_ref().map(|p| p.id);
    let landed_cost = match picking {
        Some(picking) if !posting.landed_cost.is_zero() => {
            let found = odoo
                .search(
                    "stock.landed.cost",
                    json!([["vendor_bill_id", "=", bill]]),
                    None,
                    Some(1),
                )
                .await
                .map_err(odoo_err)?;
            match found.first() {
                Some(id) => Some(*id),
                None => {
                    let method = serde_json::to_value(split).unwrap_or(json!("equal"));
                    let parts = posting.landed_cost_parts;
                    let cost_lines: Vec<Value> = [
                        ("Customs duty", parts.duty),
                        ("Customs broker fees", parts.fees),
                        ("Non-recoverable import taxes", parts.non_recoverable_tax),
                    ]
                    .into_iter()
                    .filter(|(_, v)| !v.is_zero())
                    .map(|(name, v)| {
                        json!([0, 0, {"name": format!("{lrn}: {name}"), "price_unit": amount(v), "split_method": method}])
                    })
                    .collect();
                    let vals = obj(vec![
                        ("vendor_bill_id", json!(bill)),
                        ("picking_ids", json!([[6, 0, [picking]]])),
                        ("cost_lines", Value::Array(cost_lines)),
                    ]);
                    created = true;
                    Some(
                        odoo.create("stock.landed.cost", vals)
                            .await
                            .map_err(odoo_err)?,
                    )
                }
            }
        }
        _ => None,
    };
    Ok(Posted {
        vendor_bill: bill,
        landed_cost,
        created,
    })
}
