//! Pickings into canonical shipments. A page of pickings costs one `read` per model (pickings,
//! moves, products, partners, orders, order lines, invoices), never one call per line;
//! countries, Incoterms, units and the company are read once per reader and kept.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};
use tokio::sync::OnceCell;

use crate::model::Shipment;

use super::client::OdooClient;
use super::error::OdooError;
use super::value::Rec;

mod build;

use build::Context;

const PICKING_FIELDS: &[&str] = &[
    "name",
    "partner_id",
    "picking_type_code",
    "origin",
    "scheduled_date",
    "date_done",
    "state",
    "carrier_id",
    "carrier_tracking_ref",
    "move_ids",
    "sale_id",
    "purchase_id",
    "company_id",
];
const MOVE_FIELDS: &[&str] = &[
    "product_id",
    "product_uom_qty",
    "quantity",
    "product_uom",
    "sale_line_id",
    "purchase_line_id",
    "price_unit",
];
const PRODUCT_FIELDS: &[&str] = &[
    "default_code",
    "name",
    "hs_code",
    "country_of_origin",
    "weight",
    "list_price",
];
const PARTNER_FIELDS: &[&str] = &[
    "name",
    "is_company",
    "parent_id",
    "street",
    "street2",
    "city",
    "zip",
    "country_id",
    "vat",
];
const SALE_FIELDS: &[&str] = &[
    "name",
    "partner_id",
    "partner_shipping_id",
    "incoterm",
    "incoterm_location",
    "currency_id",
    "invoice_ids",
];
const PURCHASE_FIELDS: &[&str] = &[
    "name",
    "partner_id",
    "incoterm_id",
    "incoterm_location",
    "currency_id",
    "invoice_ids",
];
const INVOICE_FIELDS: &[&str] = &["name", "state", "move_type", "currency_id"];

/// Why one picking gave no shipment. The others of the page are unaffected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    /// An internal transfer or a dropship: nothing crosses a border from the hub's view.
    #[error(
        "picking {picking}: type {code:?} is neither an outgoing delivery nor an incoming receipt"
    )]
    NotCrossBorder { picking: u64, code: String },
    /// A record the picking points to could not be read (deleted, or hidden by record rules).
    #[error("picking {picking}: {model} {id} is missing or not readable")]
    Missing {
        picking: u64,
        model: &'static str,
        id: u64,
    },
    /// A value that cannot go into the canonical model.
    #[error("picking {picking}: {field}: {reason}")]
    Invalid {
        picking: u64,
        field: String,
        reason: String,
    },
}

/// The outcome for one picking.
#[derive(Debug, Clone, PartialEq)]
pub struct PickingRead {
    pub picking_id: u64,
    pub outcome: Result<Shipment, BuildError>,
}

#[derive(Debug, Default)]
struct RefData {
    countries: BTreeMap<u64, String>,
    incoterms: BTreeMap<u64, String>,
    units: BTreeMap<u64, String>,
    company_partner: Option<u64>,
    company_country: Option<String>,
}

/// Reads pickings and everything a shipment needs, in batches.
#[derive(Debug)]
pub struct ShipmentReader {
    client: OdooClient,
    refdata: OnceCell<RefData>,
}

fn by_id(records: Vec<Rec>) -> BTreeMap<u64, Rec> {
    records.into_iter().map(|r| (r.id(), r)).collect()
}

fn collect(records: &BTreeMap<u64, Rec>, field: &str) -> Vec<u64> {
    records
        .values()
        .filter_map(|r| r.m2o(field))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

impl ShipmentReader {
    pub fn new(client: OdooClient) -> Self {
        Self {
            client,
            refdata: OnceCell::new(),
        }
    }

    pub fn client(&self) -> &OdooClient {
        &self.client
    }

    async fn refdata(&self) -> Result<&RefData, OdooError> {
        self.refdata
            .get_or_try_init(|| async {
                let c = &self.client;
                let codes = |rows: Vec<Rec>, field: &str| {
                    rows.iter()
                        .filter_map(|r| r.text(field).map(|t| (r.id(), t.to_owned())))
                        .collect::<BTreeMap<_, _>>()
                };
                let countries = codes(
                    c.search_read("res.country", json!([]), &["code"], None, 0, None)
                        .await?,
                    "code",
                );
                let incoterms = codes(
                    c.search_read("account.incoterms", json!([]), &["code"], None, 0, None)
                        .await?,
                    "code",
                );
                let units = codes(
                    c.search_read("uom.uom", json!([]), &["name"], None, 0, None)
                        .await?,
                    "name",
                );
                let company = c
                    .search_read(
                        "res.company",
                        json!([]),
                        &["partner_id", "country_id"],
                        Some("id"),
                        0,
                        Some(1),
                    )
                    .await?;
                let company = company.first();
                Ok(RefData {
                    company_partner: company.and_then(|r| r.m2o("partner_id")),
                    company_country: company
                        .and_then(|r| r.m2o("country_id"))
                        .and_then(|id| countries.get(&id).cloned()),
                    countries,
                    incoterms,
                    units,
                })
            })
            .await
    }

    /// Shipments for pickings matching `domain`, one page.
    pub async fn read_page(
        &self,
        domain: Value,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<PickingRead>, OdooError> {
        let pickings = self
            .client
            .search_read(
                "stock.picking",
                domain,
                PICKING_FIELDS,
                Some("id"),
                offset,
                Some(limit),
            )
            .await?;
        self.build(pickings).await
    }

    /// Shipments for these pickings (one batch of reads for all of them).
    pub async fn read(&self, picking_ids: &[u64]) -> Result<Vec<PickingRead>, OdooError> {
        let pickings = self
            .client
            .read("stock.picking", picking_ids, PICKING_FIELDS)
            .await?;
        self.build(pickings).await
    }

    async fn build(&self, pickings: Vec<Rec>) -> Result<Vec<PickingRead>, OdooError> {
        let refs = self.refdata().await?;
        let c = &self.client;
        let pickings = by_id(pickings);
        let move_ids: Vec<u64> = pickings.values().flat_map(|p| p.ids("move_ids")).collect();
        let moves = by_id(c.read("stock.move", &move_ids, MOVE_FIELDS).await?);
        let sales = by_id(
            c.read("sale.order", &collect(&pickings, "sale_id"), SALE_FIELDS)
                .await?,
        );
        let purchases = by_id(
            c.read(
                "purchase.order",
                &collect(&pickings, "purchase_id"),
                PURCHASE_FIELDS,
            )
            .await?,
        );
        let products = by_id(
            c.read(
                "product.product",
                &collect(&moves, "product_id"),
                PRODUCT_FIELDS,
            )
            .await?,
        );
        let sale_lines = by_id(
            c.read(
                "sale.order.line",
                &collect(&moves, "sale_line_id"),
                &["price_unit", "discount"],
            )
            .await?,
        );
        let purchase_lines = by_id(
            c.read(
                "purchase.order.line",
                &collect(&moves, "purchase_line_id"),
                &["price_unit"],
            )
            .await?,
        );
        let invoice_ids: BTreeSet<u64> = sales
            .values()
            .chain(purchases.values())
            .flat_map(|o| o.ids("invoice_ids"))
            .collect();
        let invoices = by_id(
            c.read(
                "account.move",
                &invoice_ids.into_iter().collect::<Vec<_>>(),
                INVOICE_FIELDS,
            )
            .await?,
        );
        let mut partner_ids: BTreeSet<u64> = collect(&pickings, "partner_id").into_iter().collect();
        partner_ids.extend(collect(&sales, "partner_id"));
        partner_ids.extend(collect(&sales, "partner_shipping_id"));
        partner_ids.extend(collect(&purchases, "partner_id"));
        partner_ids.extend(refs.company_partner);
        let mut partners = by_id(
            c.read(
                "res.partner",
                &partner_ids.iter().copied().collect::<Vec<_>>(),
                PARTNER_FIELDS,
            )
            .await?,
        );
        // Contacts are screened with the company they belong to: read the parents not yet loaded.
        let parents: Vec<u64> = collect(&partners, "parent_id")
            .into_iter()
            .filter(|id| !partners.contains_key(id))
            .collect();
        partners.extend(by_id(
            c.read("res.partner", &parents, PARTNER_FIELDS).await?,
        ));
        let ctx = Context {
            refs,
            db: &c.config().db,
            moves: &moves,
            products: &products,
            partners: &partners,
            sales: &sales,
            purchases: &purchases,
            sale_lines: &sale_lines,
            purchase_lines: &purchase_lines,
            invoices: &invoices,
        };
        Ok(pickings
            .values()
            .map(|p| PickingRead {
                picking_id: p.id(),
                outcome: ctx.shipment(p),
            })
            .collect())
    }
}

/// The shipment id (saga key) of picking `picking` in database `db`.
pub fn shipment_key(db: &str, picking: u64) -> String {
    format!("odoo/{db}/picking/{picking}")
}
