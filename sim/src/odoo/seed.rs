//! The simulator's schema (the subset of Odoo's models the hub reads and writes) and its demo
//! data: a German manufacturer exporting to and importing from several countries.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Map, Value, json};

use super::db::{Db, FieldSpec, FieldType as T, SimError};

/// Odoo's built-in superuser and the admin user.
pub const ADMIN_UID: u64 = 2;

fn m2o<'a>(name: &'a str, comodel: &'a str) -> FieldSpec<'a> {
    (name, T::Many2one, Some(comodel), None)
}

fn o2m<'a>(name: &'a str, comodel: &'a str, inverse: &'a str) -> FieldSpec<'a> {
    (name, T::One2many, Some(comodel), Some(inverse))
}

fn plain(name: &str, ttype: T) -> FieldSpec<'_> {
    (name, ttype, None, None)
}

/// Declare every model the simulator serves.
pub fn schema(db: &mut Db) {
    db.define(
        "res.country",
        "name",
        &[plain("name", T::Char), plain("code", T::Char)],
    );
    db.define(
        "res.currency",
        "name",
        &[plain("name", T::Char), plain("symbol", T::Char)],
    );
    db.define(
        "account.incoterms",
        "name",
        &[plain("name", T::Char), plain("code", T::Char)],
    );
    db.define("uom.uom", "name", &[plain("name", T::Char)]);
    db.define(
        "res.partner",
        "name",
        &[
            plain("name", T::Char),
            plain("is_company", T::Boolean),
            m2o("parent_id", "res.partner"),
            o2m("child_ids", "res.partner", "parent_id"),
            plain("street", T::Char),
            plain("street2", T::Char),
            plain("city", T::Char),
            plain("zip", T::Char),
            m2o("country_id", "res.country"),
            plain("vat", T::Char),
            plain("email", T::Char),
            plain("active", T::Boolean),
        ],
    );
    db.define(
        "res.company",
        "name",
        &[
            plain("name", T::Char),
            m2o("partner_id", "res.partner"),
            m2o("currency_id", "res.currency"),
            m2o("country_id", "res.country"),
        ],
    );
    db.define(
        "res.users",
        "name",
        &[
            plain("name", T::Char),
            plain("login", T::Char),
            m2o("partner_id", "res.partner"),
            m2o("company_id", "res.company"),
            plain("active", T::Boolean),
        ],
    );
    db.define(
        "ir.model",
        "name",
        &[plain("name", T::Char), plain("model", T::Char)],
    );
    db.define(
        "ir.model.fields",
        "name",
        &[
            plain("name", T::Char),
            m2o("model_id", "ir.model"),
            plain("ttype", T::Selection),
            plain("field_description", T::Char),
            plain("relation", T::Char),
            plain("state", T::Selection),
        ],
    );
    db.define(
        "ir.module.module",
        "name",
        &[plain("name", T::Char), plain("state", T::Selection)],
    );
    db.define(
        "product.template",
        "name",
        &[
            plain("name", T::Char),
            plain("default_code", T::Char),
            plain("hs_code", T::Char),
            m2o("country_of_origin", "res.country"),
            plain("weight", T::Float),
            plain("list_price", T::Float),
            plain("type", T::Selection),
            m2o("uom_id", "uom.uom"),
        ],
    );
    db.define(
        "product.product",
        "display_name",
        &[
            m2o("product_tmpl_id", "product.template"),
            plain("default_code", T::Char),
            plain("active", T::Boolean),
        ],
    );
    if let Some(model) = db.models.get_mut("product.product") {
        model.inherits = Some(("product.template".to_owned(), "product_tmpl_id".to_owned()));
    }
    db.define("delivery.carrier", "name", &[plain("name", T::Char)]);
    db.define(
        "stock.picking.type",
        "name",
        &[plain("name", T::Char), plain("code", T::Selection)],
    );
    db.define(
        "sale.order",
        "name",
        &[
            plain("name", T::Char),
            m2o("partner_id", "res.partner"),
            m2o("partner_shipping_id", "res.partner"),
            m2o("incoterm", "account.incoterms"),
            plain("incoterm_location", T::Char),
            m2o("currency_id", "res.currency"),
            m2o("company_id", "res.company"),
            plain("date_order", T::Datetime),
            plain("state", T::Selection),
            o2m("order_line", "sale.order.line", "order_id"),
            ("invoice_ids", T::Many2many, Some("account.move"), None),
        ],
    );
    db.define(
        "sale.order.line",
        "name",
        &[
            plain("name", T::Text),
            m2o("order_id", "sale.order"),
            m2o("product_id", "product.product"),
            plain("product_uom_qty", T::Float),
            plain("price_unit", T::Float),
            plain("discount", T::Float),
        ],
    );
    db.define(
        "purchase.order",
        "name",
        &[
            plain("name", T::Char),
            m2o("partner_id", "res.partner"),
            m2o("incoterm_id", "account.incoterms"),
            plain("incoterm_location", T::Char),
            m2o("currency_id", "res.currency"),
            m2o("company_id", "res.company"),
            plain("date_order", T::Datetime),
            plain("state", T::Selection),
            o2m("order_line", "purchase.order.line", "order_id"),
            ("invoice_ids", T::Many2many, Some("account.move"), None),
        ],
    );
    db.define(
        "purchase.order.line",
        "name",
        &[
            plain("name", T::Text),
            m2o("order_id", "purchase.order"),
            m2o("product_id", "product.product"),
            plain("product_qty", T::Float),
            plain("price_unit", T::Float),
        ],
    );
    db.define(
        "account.move",
        "name",
        &[
            plain("name", T::Char),
            plain("move_type", T::Selection),
            plain("state", T::Selection),
            m2o("partner_id", "res.partner"),
            m2o("currency_id", "res.currency"),
            plain("amount_total", T::Monetary),
            plain("invoice_date", T::Date),
            plain("invoice_origin", T::Char),
            plain("ref", T::Char),
            o2m("invoice_line_ids", "account.move.line", "move_id"),
        ],
    );
    db.define(
        "account.move.line",
        "name",
        &[
            plain("name", T::Char),
            m2o("move_id", "account.move"),
            plain("quantity", T::Float),
            plain("price_unit", T::Float),
        ],
    );
    db.define(
        "stock.landed.cost",
        "name",
        &[
            plain("name", T::Char),
            plain("date", T::Date),
            plain("state", T::Selection),
            m2o("vendor_bill_id", "account.move"),
            ("picking_ids", T::Many2many, Some("stock.picking"), None),
            o2m("cost_lines", "stock.landed.cost.lines", "cost_id"),
        ],
    );
    db.define(
        "stock.landed.cost.lines",
        "name",
        &[
            plain("name", T::Char),
            m2o("cost_id", "stock.landed.cost"),
            plain("price_unit", T::Monetary),
            plain("split_method", T::Selection),
        ],
    );
    db.define(
        "stock.picking",
        "name",
        &[
            plain("name", T::Char),
            m2o("partner_id", "res.partner"),
            m2o("picking_type_id", "stock.picking.type"),
            plain("picking_type_code", T::Selection),
            plain("origin", T::Char),
            plain("scheduled_date", T::Datetime),
            plain("date_done", T::Datetime),
            plain("state", T::Selection),
            m2o("carrier_id", "delivery.carrier"),
            plain("carrier_tracking_ref", T::Char),
            o2m("move_ids", "stock.move", "picking_id"),
            m2o("sale_id", "sale.order"),
            m2o("purchase_id", "purchase.order"),
            m2o("company_id", "res.company"),
        ],
    );
    db.define(
        "stock.move",
        "name",
        &[
            plain("name", T::Char),
            m2o("picking_id", "stock.picking"),
            m2o("product_id", "product.product"),
            plain("product_uom_qty", T::Float),
            plain("quantity", T::Float),
            m2o("product_uom", "uom.uom"),
            m2o("sale_line_id", "sale.order.line"),
            m2o("purchase_line_id", "purchase.order.line"),
            plain("price_unit", T::Float),
            plain("state", T::Selection),
        ],
    );
    db.define(
        "mail.message",
        "body",
        &[
            plain("model", T::Char),
            plain("res_id", T::Integer),
            plain("body", T::Html),
            plain("message_type", T::Selection),
            plain("subtype_xmlid", T::Char),
            m2o("author_id", "res.partner"),
        ],
    );
    db.define(
        "mail.activity.type",
        "name",
        &[plain("name", T::Char), plain("xmlid", T::Char)],
    );
    db.define(
        "mail.activity",
        "summary",
        &[
            plain("res_model", T::Char),
            plain("res_id", T::Integer),
            m2o("activity_type_id", "mail.activity.type"),
            plain("summary", T::Char),
            plain("note", T::Html),
            m2o("user_id", "res.users"),
            plain("date_deadline", T::Date),
            plain("active", T::Boolean),
        ],
    );
    // Fields the hub looks records up by with `=`, once per shipment or per write-back: indexed
    // so that a search costs the same with ten or a hundred thousand shipments stored.
    for (model, field) in [
        ("mail.message", "res_id"),
        ("mail.activity", "res_id"),
        ("account.move", "invoice_origin"),
        ("stock.landed.cost", "vendor_bill_id"),
        ("stock.move", "picking_id"),
    ] {
        if let Err(e) = db.index(model, field) {
            tracing::error!(model, field, error = %e.message, "the simulator's schema has no such model");
        }
    }
}

fn vals(pairs: &[(&str, Value)]) -> Map<String, Value> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect()
}

/// The ids the demo data and `create_pickings` need.
#[derive(Debug, Clone, Default)]
pub struct Refs {
    pub company: u64,
    pub export_type: u64,
    pub import_type: u64,
    pub customers: Vec<u64>,
    pub suppliers: Vec<u64>,
    pub products: Vec<u64>,
    pub incoterms: Vec<u64>,
    pub currencies: Vec<(String, u64)>,
    pub carriers: Vec<u64>,
    pub units: u64,
    pub picking_seq: u64,
    pub order_seq: u64,
}

const COUNTRIES: &[(&str, &str)] = &[
    ("DE", "Germany"),
    ("FR", "France"),
    ("IT", "Italy"),
    ("ES", "Spain"),
    ("NL", "Netherlands"),
    ("GB", "United Kingdom"),
    ("US", "United States"),
    ("CN", "China"),
    ("JP", "Japan"),
    ("CH", "Switzerland"),
    ("TR", "Türkiye"),
    ("IN", "India"),
    ("BR", "Brazil"),
    ("CU", "Cuba"),
    ("IR", "Iran"),
];

const INCOTERMS: &[(&str, &str)] = &[
    ("EXW", "EX WORKS"),
    ("FCA", "FREE CARRIER"),
    ("FAS", "FREE ALONGSIDE SHIP"),
    ("FOB", "FREE ON BOARD"),
    ("CFR", "COST AND FREIGHT"),
    ("CIF", "COST, INSURANCE AND FREIGHT"),
    ("CPT", "CARRIAGE PAID TO"),
    ("CIP", "CARRIAGE AND INSURANCE PAID TO"),
    ("DPU", "DELIVERED AT PLACE UNLOADED"),
    ("DAP", "DELIVERED AT PLACE"),
    ("DDP", "DELIVERED DUTY PAID"),
];

/// The customers whose names appear on the OFAC SDN list (see [`CUSTOMERS`]): a compliance
/// officer reviewing a potential match on them confirms it.
pub const SDN_CUSTOMERS: [&str; 3] = [
    "ASCOTEC HOLDING GMBH",
    "IRASCO S.R.L.",
    "BANCO NACIONAL DE CUBA",
];

/// Customers: name, street, city, zip, country, VAT. Three of them carry names that appear on the
/// OFAC SDN list (snapshot of 2024-05-03 in the shared data: uids 11608, 11611 and 306), so the
/// screening step has something to find.
const CUSTOMERS: &[(&str, &str, &str, &str, &str, &str)] = &[
    (
        "Maison Lefèvre SARL",
        "12 Rue de la République",
        "Lyon",
        "69002",
        "FR",
        "FR40303265045",
    ),
    (
        "Officine Meccaniche Bianchi S.p.A.",
        "Via Torino 44",
        "Milano",
        "20123",
        "IT",
        "IT00743110157",
    ),
    (
        "Northwind Industrial Supply Inc.",
        "1200 Harbor Blvd",
        "Oakland",
        "94607",
        "US",
        "",
    ),
    (
        "Shenzhen Huaxin Precision Co., Ltd.",
        "88 Keyuan Road",
        "Shenzhen",
        "518057",
        "CN",
        "",
    ),
    (
        "Tanaka Kikai K.K.",
        "2-3-1 Marunouchi",
        "Tokyo",
        "100-0005",
        "JP",
        "",
    ),
    (
        "Brightwell Components Ltd",
        "14 Canal Street",
        "Manchester",
        "M1 3HE",
        "GB",
        "GB123456789",
    ),
    (
        "Anadolu Makina A.Ş.",
        "Organize Sanayi Bölgesi 5",
        "Bursa",
        "16140",
        "TR",
        "",
    ),
    (
        "ASCOTEC HOLDING GMBH",
        "Kaiserswerther Strasse 115",
        "Düsseldorf",
        "40474",
        "DE",
        "",
    ),
    (
        "IRASCO S.R.L.",
        "Via Sestri 21",
        "Genova",
        "16154",
        "IT",
        "",
    ),
    (
        "BANCO NACIONAL DE CUBA",
        "Aguiar 456",
        "La Habana",
        "10100",
        "CU",
        "",
    ),
];

const SUPPLIERS: &[(&str, &str, &str, &str, &str, &str)] = &[
    (
        "Ningbo Eastport Bearings Co., Ltd.",
        "66 Jiangnan Road",
        "Ningbo",
        "315040",
        "CN",
        "",
    ),
    (
        "Pune Castings Pvt. Ltd.",
        "Plot 12, MIDC Bhosari",
        "Pune",
        "411026",
        "IN",
        "",
    ),
    (
        "Swiss Micro Drives AG",
        "Industriestrasse 9",
        "Biel",
        "2504",
        "CH",
        "CHE-105.829.940",
    ),
    (
        "Metalúrgica Paulista Ltda.",
        "Av. Industrial 1500",
        "Santo André",
        "09080-500",
        "BR",
        "",
    ),
];

/// Products: code, name, HS code (empty = missing), origin (empty = missing), weight kg, price.
const PRODUCTS: &[(&str, &str, &str, &str, &str, &str)] = &[
    (
        "RW-PMP-100",
        "Centrifugal pump 100 l/min",
        "841370",
        "DE",
        "18.5",
        "1240.00",
    ),
    (
        "RW-VLV-025",
        "Ball valve DN25 stainless",
        "848180",
        "DE",
        "1.2",
        "86.50",
    ),
    (
        "RW-GBX-300",
        "Helical gearbox 3 kW",
        "848340",
        "DE",
        "42.0",
        "2150.00",
    ),
    (
        "RW-BRG-6204",
        "Deep groove ball bearing 6204",
        "848210",
        "CN",
        "0.11",
        "4.20",
    ),
    (
        "RW-MTR-075",
        "Induction motor 0.75 kW",
        "850152",
        "DE",
        "9.8",
        "310.00",
    ),
    (
        "RW-SNS-010",
        "Pressure sensor 0-10 bar",
        "902620",
        "CH",
        "0.25",
        "145.00",
    ),
    (
        "RW-CTL-PLC",
        "Pump controller with PLC",
        "853710",
        "DE",
        "2.4",
        "690.00",
    ),
    (
        "RW-CST-HSG",
        "Cast iron pump housing",
        "732510",
        "IN",
        "23.0",
        "180.00",
    ),
    (
        "RW-KIT-SEAL",
        "Mechanical seal kit",
        "",
        "DE",
        "0.4",
        "39.90",
    ),
    (
        "RW-SPR-MIX",
        "Spare parts assortment",
        "",
        "",
        "3.0",
        "120.00",
    ),
    (
        "RW-FLT-200",
        "Filter cartridge 200 µm",
        "842199",
        "",
        "0.6",
        "22.00",
    ),
    (
        "RW-DRV-INV",
        "Frequency inverter 4 kW",
        "850440",
        "CN",
        "3.1",
        "420.00",
    ),
];

fn country(db: &Db, code: &str) -> Value {
    db.search(
        "res.country",
        &json!([["code", "=", code]]),
        None,
        0,
        Some(1),
    )
    .ok()
    .and_then(|ids| ids.first().copied())
    .map_or(Value::Bool(false), |id| json!(id))
}

fn text(value: &str) -> Value {
    if value.is_empty() {
        Value::Bool(false)
    } else {
        json!(value)
    }
}

fn number(value: &str) -> Value {
    value.parse::<f64>().map_or(json!(0), |v| json!(v))
}

/// Fill the reference data, the company, partners and products; then `pickings` export and
/// import pickings with their orders.
pub fn demo(db: &mut Db, seed: u64, pickings: usize, now: i64) -> Result<Refs, SimError> {
    let mut refs = Refs::default();
    for (code, name) in COUNTRIES {
        db.create(
            "res.country",
            &vals(&[("code", json!(code)), ("name", json!(name))]),
            now,
        )?;
    }
    for (code, symbol) in [
        ("EUR", "€"),
        ("USD", "$"),
        ("GBP", "£"),
        ("CNY", "¥"),
        ("JPY", "¥"),
        ("CHF", "CHF"),
    ] {
        let id = db.create(
            "res.currency",
            &vals(&[("name", json!(code)), ("symbol", json!(symbol))]),
            now,
        )?;
        refs.currencies.push((code.to_owned(), id));
    }
    for (code, name) in INCOTERMS {
        refs.incoterms.push(db.create(
            "account.incoterms",
            &vals(&[("code", json!(code)), ("name", json!(name))]),
            now,
        )?);
    }
    refs.units = db.create("uom.uom", &vals(&[("name", json!("Units"))]), now)?;
    db.create("uom.uom", &vals(&[("name", json!("kg"))]), now)?;
    for module in [
        "base",
        "mail",
        "product",
        "stock",
        "sale",
        "sale_management",
        "purchase",
        "account",
        "delivery",
        "stock_delivery",
    ] {
        db.create(
            "ir.module.module",
            &vals(&[("name", json!(module)), ("state", json!("installed"))]),
            now,
        )?;
    }
    for model in db.models.keys().cloned().collect::<Vec<_>>() {
        db.create(
            "ir.model",
            &vals(&[("model", json!(model)), ("name", json!(model))]),
            now,
        )?;
    }
    db.create(
        "mail.activity.type",
        &vals(&[
            ("name", json!("Email")),
            ("xmlid", json!("mail.mail_activity_data_email")),
        ]),
        now,
    )?;
    db.create(
        "mail.activity.type",
        &vals(&[
            ("name", json!("To-Do")),
            ("xmlid", json!("mail.mail_activity_data_todo")),
        ]),
        now,
    )?;
    let eur = refs.currencies[0].1;
    let company_partner = db.create(
        "res.partner",
        &vals(&[
            ("name", json!("Rheinwerk Maschinenbau GmbH")),
            ("is_company", json!(true)),
            ("street", json!("Hafenstraße 17")),
            ("city", json!("Duisburg")),
            ("zip", json!("47119")),
            ("country_id", country(db, "DE")),
            ("vat", json!("DE811128135")),
        ]),
        now,
    )?;
    refs.company = db.create(
        "res.company",
        &vals(&[
            ("name", json!("Rheinwerk Maschinenbau GmbH")),
            ("partner_id", json!(company_partner)),
            ("currency_id", json!(eur)),
            ("country_id", country(db, "DE")),
        ]),
        now,
    )?;
    let admin_partner = db.create(
        "res.partner",
        &vals(&[
            ("name", json!("Mitchell Admin")),
            ("parent_id", json!(company_partner)),
        ]),
        now,
    )?;
    db.create(
        "res.users",
        &vals(&[
            ("name", json!("OdooBot")),
            ("login", json!("__system__")),
            ("active", json!(false)),
        ]),
        now,
    )?;
    db.create(
        "res.users",
        &vals(&[
            ("name", json!("Mitchell Admin")),
            ("login", json!("admin")),
            ("partner_id", json!(admin_partner)),
            ("company_id", json!(refs.company)),
        ]),
        now,
    )?;
    for (list, out) in [
        (CUSTOMERS, &mut refs.customers),
        (SUPPLIERS, &mut refs.suppliers),
    ] {
        for (name, street, city, zip, cc, vat) in list {
            let id = db.create(
                "res.partner",
                &vals(&[
                    ("name", json!(name)),
                    ("is_company", json!(true)),
                    ("street", json!(street)),
                    ("city", json!(city)),
                    ("zip", json!(zip)),
                    ("country_id", country(db, cc)),
                    ("vat", text(vat)),
                ]),
                now,
            )?;
            // A delivery contact under the company, as sales teams set them up.
            let contact = db.create(
                "res.partner",
                &vals(&[
                    ("name", json!("Receiving dock")),
                    ("parent_id", json!(id)),
                    ("street", json!(street)),
                    ("city", json!(city)),
                    ("zip", json!(zip)),
                    ("country_id", country(db, cc)),
                ]),
                now,
            )?;
            out.push(id);
            out.push(contact);
        }
    }
    for (code, name, hs, origin, weight, price) in PRODUCTS {
        let tmpl = db.create(
            "product.template",
            &vals(&[
                ("name", json!(name)),
                ("default_code", json!(code)),
                ("hs_code", text(hs)),
                (
                    "country_of_origin",
                    if origin.is_empty() {
                        Value::Bool(false)
                    } else {
                        country(db, origin)
                    },
                ),
                ("weight", number(weight)),
                ("list_price", number(price)),
                ("type", json!("consu")),
                ("uom_id", json!(refs.units)),
            ]),
            now,
        )?;
        refs.products.push(db.create(
            "product.product",
            &vals(&[
                ("product_tmpl_id", json!(tmpl)),
                ("default_code", json!(code)),
            ]),
            now,
        )?);
    }
    for name in [
        "DHL Express",
        "Kuehne+Nagel Sea Freight",
        "DB Schenker Road",
    ] {
        refs.carriers
            .push(db.create("delivery.carrier", &vals(&[("name", json!(name))]), now)?);
    }
    refs.export_type = db.create(
        "stock.picking.type",
        &vals(&[
            ("name", json!("Delivery Orders")),
            ("code", json!("outgoing")),
        ]),
        now,
    )?;
    refs.import_type = db.create(
        "stock.picking.type",
        &vals(&[("name", json!("Receipts")), ("code", json!("incoming"))]),
        now,
    )?;
    let mut rng = StdRng::seed_from_u64(seed);
    let imports = pickings / 4;
    for i in 0..pickings {
        let lines = rng.random_range(1..=6);
        if i < imports {
            create_import(db, &mut refs, &mut rng, lines, now)?;
        } else {
            create_export(db, &mut refs, &mut rng, lines, now)?;
        }
    }
    // Created last so that every other record keeps its id.
    for name in BROKER_PARTNERS {
        db.create(
            "res.partner",
            &vals(&[("name", json!(name)), ("is_company", json!(true))]),
            now,
        )?;
    }
    Ok(refs)
}

/// The customs brokers the demo company works with, as vendors (`config/reconcile.toml`
/// names them as the brokers' Odoo partners).
pub const BROKER_PARTNERS: [&str; 2] = ["Thames Customs Brokers Ltd", "Hanse Zollagentur GmbH"];

/// Pick an element; the lists are never empty once seeded.
fn pick(rng: &mut StdRng, list: &[u64]) -> u64 {
    list[rng.random_range(0..list.len())]
}

/// A confirmed sale order with `lines` lines and its outgoing picking, all in one transaction
/// (so they share one `write_date`, as rows written together in Odoo do).
pub fn create_export(
    db: &mut Db,
    refs: &mut Refs,
    rng: &mut StdRng,
    lines: usize,
    now: i64,
) -> Result<u64, SimError> {
    refs.order_seq += 1;
    refs.picking_seq += 1;
    let customer_index = rng.random_range(0..refs.customers.len() / 2) * 2;
    let customer = refs.customers[customer_index];
    let ship_to = if rng.random_bool(0.5) {
        refs.customers[customer_index + 1]
    } else {
        customer
    };
    let (currency_code, currency) = refs.currencies[rng.random_range(0..3)].clone();
    let incoterm = pick(rng, &refs.incoterms);
    let order = db.create(
        "sale.order",
        &vals(&[
            ("name", json!(format!("S{:05}", refs.order_seq))),
            ("partner_id", json!(customer)),
            ("partner_shipping_id", json!(ship_to)),
            ("incoterm", json!(incoterm)),
            (
                "incoterm_location",
                json!(if currency_code == "USD" {
                    "Oakland"
                } else {
                    "Duisburg"
                }),
            ),
            ("currency_id", json!(currency)),
            ("company_id", json!(refs.company)),
            ("date_order", json!(super::db::format_micros(now))),
            ("state", json!("sale")),
        ]),
        now,
    )?;
    let picking = db.create(
        "stock.picking",
        &vals(&[
            ("name", json!(format!("WH/OUT/{:05}", refs.picking_seq))),
            ("partner_id", json!(ship_to)),
            ("picking_type_id", json!(refs.export_type)),
            ("picking_type_code", json!("outgoing")),
            ("origin", json!(format!("S{:05}", refs.order_seq))),
            (
                "scheduled_date",
                json!(super::db::format_micros(now + 3 * 86_400_000_000)),
            ),
            ("state", json!("assigned")),
            ("carrier_id", json!(pick(rng, &refs.carriers))),
            ("sale_id", json!(order)),
            ("company_id", json!(refs.company)),
        ]),
        now,
    )?;
    for _ in 0..lines {
        let product = pick(rng, &refs.products);
        let qty = rng.random_range(1..=40);
        let price = db.read(
            "product.product",
            &[product],
            Some(&["list_price".to_owned()]),
            false,
        )?[0]
            .get("list_price")
            .cloned()
            .unwrap_or(json!(0));
        let line = db.create(
            "sale.order.line",
            &vals(&[
                ("order_id", json!(order)),
                ("product_id", json!(product)),
                ("product_uom_qty", json!(qty)),
                ("price_unit", price),
                ("discount", json!(if rng.random_bool(0.2) { 5 } else { 0 })),
            ]),
            now,
        )?;
        db.create(
            "stock.move",
            &vals(&[
                ("name", json!("move")),
                ("picking_id", json!(picking)),
                ("product_id", json!(product)),
                ("product_uom_qty", json!(qty)),
                ("quantity", json!(qty)),
                ("product_uom", json!(refs.units)),
                ("sale_line_id", json!(line)),
                ("state", json!("assigned")),
            ]),
            now,
        )?;
    }
    if rng.random_bool(0.4) {
        let invoice = db.create(
            "account.move",
            &vals(&[
                ("name", json!(format!("INV/2026/{:05}", refs.order_seq))),
                ("move_type", json!("out_invoice")),
                ("state", json!("posted")),
                ("partner_id", json!(customer)),
                ("currency_id", json!(currency)),
                ("invoice_origin", json!(format!("S{:05}", refs.order_seq))),
                ("invoice_date", json!(&super::db::format_micros(now)[..10])),
            ]),
            now,
        )?;
        db.write(
            "sale.order",
            &[order],
            &vals(&[("invoice_ids", json!([invoice]))]),
            now,
        )?;
    }
    Ok(picking)
}

/// A confirmed purchase order and its incoming receipt.
pub fn create_import(
    db: &mut Db,
    refs: &mut Refs,
    rng: &mut StdRng,
    lines: usize,
    now: i64,
) -> Result<u64, SimError> {
    refs.order_seq += 1;
    refs.picking_seq += 1;
    let supplier = refs.suppliers[rng.random_range(0..refs.suppliers.len() / 2) * 2];
    let (_, currency) = refs.currencies[rng.random_range(0..refs.currencies.len())].clone();
    let order = db.create(
        "purchase.order",
        &vals(&[
            ("name", json!(format!("P{:05}", refs.order_seq))),
            ("partner_id", json!(supplier)),
            ("incoterm_id", json!(pick(rng, &refs.incoterms))),
            ("incoterm_location", json!("Rotterdam")),
            ("currency_id", json!(currency)),
            ("company_id", json!(refs.company)),
            ("date_order", json!(super::db::format_micros(now))),
            ("state", json!("purchase")),
        ]),
        now,
    )?;
    let picking = db.create(
        "stock.picking",
        &vals(&[
            ("name", json!(format!("WH/IN/{:05}", refs.picking_seq))),
            ("partner_id", json!(supplier)),
            ("picking_type_id", json!(refs.import_type)),
            ("picking_type_code", json!("incoming")),
            ("origin", json!(format!("P{:05}", refs.order_seq))),
            (
                "scheduled_date",
                json!(super::db::format_micros(now + 14 * 86_400_000_000)),
            ),
            ("state", json!("assigned")),
            ("purchase_id", json!(order)),
            ("company_id", json!(refs.company)),
        ]),
        now,
    )?;
    for _ in 0..lines {
        let product = pick(rng, &refs.products);
        let qty = rng.random_range(10..=500);
        let price = db.read(
            "product.product",
            &[product],
            Some(&["list_price".to_owned()]),
            false,
        )?[0]
            .get("list_price")
            .and_then(Value::as_f64)
            .unwrap_or(0.0)
            * 0.4;
        let line = db.create(
            "purchase.order.line",
            &vals(&[
                ("order_id", json!(order)),
                ("product_id", json!(product)),
                ("product_qty", json!(qty)),
                ("price_unit", json!((price * 100.0).round() / 100.0)),
            ]),
            now,
        )?;
        db.create(
            "stock.move",
            &vals(&[
                ("name", json!("move")),
                ("picking_id", json!(picking)),
                ("product_id", json!(product)),
                ("product_uom_qty", json!(qty)),
                ("quantity", json!(0)),
                ("product_uom", json!(refs.units)),
                ("purchase_line_id", json!(line)),
                ("state", json!("assigned")),
            ]),
            now,
        )?;
    }
    Ok(picking)
}
