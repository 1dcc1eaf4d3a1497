//! What the hub writes into Odoo: only its own `x_trade_*` fields, chatter notes and to-dos.
//! Every write states the target value (never a toggle) and is skipped when Odoo already holds
//! it, so repeating a write-back changes nothing — not even `write_date`, which would otherwise
//! come back to the hub as a change.

use serde::Serialize;
use serde_json::{Map, Value, json};

use super::client::{OdooClient, ServerVersion};
use super::error::OdooError;

/// The hub's fields on `stock.picking`: name, type, label.
pub const HUB_FIELDS: [(&str, &str, &str); 5] = [
    ("x_trade_status", "char", "Trade status"),
    ("x_trade_hold", "boolean", "Trade hold"),
    ("x_trade_hold_reason", "text", "Trade hold reason"),
    ("x_trade_mrn", "char", "Customs MRN"),
    ("x_trade_url", "char", "Trade hub link"),
];

const PICKING: &str = "stock.picking";

/// The hub's view of a picking, as written back.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct TradeStatus {
    /// The canonical status, e.g. `ON_HOLD`, `RELEASED`.
    pub status: String,
    pub hold: bool,
    pub hold_reason: Option<String>,
    pub mrn: Option<String>,
    /// Link to the shipment in the hub's console.
    pub url: Option<String>,
}

impl TradeStatus {
    fn values(&self) -> Map<String, Value> {
        let text = |v: &Option<String>| v.as_ref().map_or(Value::Bool(false), |s| json!(s));
        [
            ("x_trade_status", json!(self.status)),
            ("x_trade_hold", json!(self.hold)),
            ("x_trade_hold_reason", text(&self.hold_reason)),
            ("x_trade_mrn", text(&self.mrn)),
            ("x_trade_url", text(&self.url)),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }
}

/// Odoo reads an empty text as `false` and may send back stored text unchanged: compare like that.
fn same(current: Option<&Value>, wanted: &Value) -> bool {
    let empty = |v: &Value| matches!(v, Value::Bool(false) | Value::Null) || v.as_str() == Some("");
    match current {
        None => false,
        Some(c) => c == wanted || (empty(c) && empty(wanted) && !wanted.is_boolean_true()),
    }
}

trait BoolTrue {
    fn is_boolean_true(&self) -> bool;
}

impl BoolTrue for Value {
    fn is_boolean_true(&self) -> bool {
        self.as_bool() == Some(true)
    }
}

fn marker(key: &str) -> String {
    format!("tradehub ref {key}")
}

impl OdooClient {
    /// Write the hub's status onto a picking. Returns whether anything had to change.
    pub async fn write_trade_status(
        &self,
        picking: u64,
        status: &TradeStatus,
    ) -> Result<bool, OdooError> {
        let names: Vec<&str> = HUB_FIELDS.iter().map(|(n, _, _)| *n).collect();
        let current = self.read(PICKING, &[picking], &names).await?;
        let current = current
            .first()
            .map(|r| r.fields().clone())
            .unwrap_or_default();
        let changed: Map<String, Value> = status
            .values()
            .into_iter()
            .filter(|(k, v)| !same(current.get(k), v))
            .collect();
        if changed.is_empty() {
            return Ok(false);
        }
        self.write(PICKING, &[picking], changed).await?;
        Ok(true)
    }

    /// Post a note on a record's chatter, once per `key`. Returns the new message id, or `None`
    /// when a note with this key is already there.
    pub async fn post_note(
        &self,
        model: &str,
        id: u64,
        key: &str,
        body: &str,
    ) -> Result<Option<u64>, OdooError> {
        let tag = marker(key);
        let existing = self
            .search_count(
                "mail.message",
                json!([
                    ["model", "=", model],
                    ["res_id", "=", id],
                    ["body", "ilike", tag]
                ]),
            )
            .await?;
        if existing > 0 {
            return Ok(None);
        }
        let mut params = Map::new();
        params.insert(
            "body".to_owned(),
            json!(format!(
                "<p>{}</p><p><small>{tag}</small></p>",
                escape(body)
            )),
        );
        params.insert("message_type".to_owned(), json!("comment"));
        params.insert("subtype_xmlid".to_owned(), json!("mail.mt_note"));
        // Not retried blindly: the search above makes a later repeat safe.
        let value = self
            .call(model, "message_post", &[id], params, false)
            .await?;
        Ok(value.as_u64())
    }

    /// Open a to-do for an exception, once per `key`; returns the activity id (existing or new).
    pub async fn open_activity(
        &self,
        model: &str,
        id: u64,
        key: &str,
        summary: &str,
        note: &str,
        user_id: Option<u64>,
    ) -> Result<u64, OdooError> {
        if let Some(existing) = self.find_activity(model, id, key).await? {
            return Ok(existing);
        }
        let mut params = Map::new();
        params.insert(
            "act_type_xmlid".to_owned(),
            json!("mail.mail_activity_data_todo"),
        );
        params.insert("summary".to_owned(), json!(summary));
        params.insert(
            "note".to_owned(),
            json!(format!(
                "<p>{}</p><p><small>{}</small></p>",
                escape(note),
                marker(key)
            )),
        );
        if let Some(user) = user_id {
            params.insert("user_id".to_owned(), json!(user));
        }
        let value = self
            .call(model, "activity_schedule", &[id], params, false)
            .await?;
        value
            .as_u64()
            .or_else(|| value.get(0).and_then(Value::as_u64))
            .ok_or_else(|| OdooError::Protocol {
                what: format!("{model}.activity_schedule"),
                reason: format!("no activity id in {value}"),
            })
    }

    /// Mark the to-do of `key` done. Returns whether one was open.
    pub async fn close_activity(
        &self,
        model: &str,
        id: u64,
        key: &str,
        feedback: &str,
    ) -> Result<bool, OdooError> {
        let Some(activity) = self.find_activity(model, id, key).await? else {
            return Ok(false);
        };
        let mut params = Map::new();
        params.insert("feedback".to_owned(), json!(feedback));
        self.call(
            "mail.activity",
            "action_feedback",
            &[activity],
            params,
            false,
        )
        .await?;
        Ok(true)
    }

    async fn find_activity(
        &self,
        model: &str,
        id: u64,
        key: &str,
    ) -> Result<Option<u64>, OdooError> {
        let found = self
            .search(
                "mail.activity",
                json!([
                    ["res_model", "=", model],
                    ["res_id", "=", id],
                    ["note", "ilike", marker(key)]
                ]),
                None,
                Some(1),
            )
            .await?;
        Ok(found.first().copied())
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// What `tradehub odoo setup` did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SetupReport {
    pub created: Vec<String>,
    pub present: Vec<String>,
}

/// Create the hub's fields on `stock.picking` through `ir.model.fields` where missing.
pub async fn setup(client: &OdooClient) -> Result<SetupReport, OdooError> {
    let fields = client.fields_get(PICKING).await?;
    let mut report = SetupReport::default();
    let missing: Vec<_> = HUB_FIELDS
        .iter()
        .filter(|(name, _, _)| !fields.contains_key(*name))
        .collect();
    report.present = HUB_FIELDS
        .iter()
        .filter(|(name, _, _)| fields.contains_key(*name))
        .map(|(n, _, _)| (*n).to_owned())
        .collect();
    if missing.is_empty() {
        return Ok(report);
    }
    let model_id = client
        .search("ir.model", json!([["model", "=", PICKING]]), None, Some(1))
        .await?
        .first()
        .copied()
        .ok_or_else(|| OdooError::Protocol {
            what: "ir.model.search".to_owned(),
            reason: format!("model {PICKING} not found"),
        })?;
    for (name, ttype, label) in missing {
        let vals: Map<String, Value> = [
            ("name", json!(name)),
            ("model_id", json!(model_id)),
            ("ttype", json!(ttype)),
            ("field_description", json!(label)),
            ("state", json!("manual")),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        client.create("ir.model.fields", vals).await?;
        report.created.push((*name).to_owned());
    }
    Ok(report)
}

/// One field the hub needs, and whether it is there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldCheck {
    pub model: String,
    pub field: String,
    pub present: bool,
    /// Whether the hub can work without it (the `x_trade_*` fields: `odoo setup` creates them).
    pub fixable_by_setup: bool,
}

/// What `tradehub odoo check` found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckReport {
    pub version: ServerVersion,
    pub uid: u64,
    pub user: String,
    pub modules: Vec<(String, bool)>,
    pub fields: Vec<FieldCheck>,
    /// The hub can work with this Odoo as it is.
    pub usable: bool,
}

const NEEDED_MODULES: &[&str] = &["stock", "sale", "purchase", "account", "mail"];

const NEEDED_FIELDS: &[(&str, &[&str])] = &[
    (
        "stock.picking",
        &[
            "partner_id",
            "picking_type_code",
            "move_ids",
            "scheduled_date",
            "origin",
            "state",
            "carrier_id",
            "carrier_tracking_ref",
            "sale_id",
            "purchase_id",
        ],
    ),
    (
        "stock.move",
        &[
            "product_id",
            "product_uom_qty",
            "product_uom",
            "sale_line_id",
            "purchase_line_id",
        ],
    ),
    (
        "product.product",
        &[
            "hs_code",
            "country_of_origin",
            "weight",
            "list_price",
            "default_code",
        ],
    ),
    (
        "res.partner",
        &["country_id", "vat", "parent_id", "street", "city", "zip"],
    ),
    (
        "sale.order",
        &[
            "incoterm",
            "currency_id",
            "partner_shipping_id",
            "invoice_ids",
        ],
    ),
    (
        "purchase.order",
        &["incoterm_id", "currency_id", "invoice_ids"],
    ),
];

/// Version, user, modules and fields: can the hub work with this Odoo?
pub async fn check(client: &OdooClient) -> Result<CheckReport, OdooError> {
    let version = client.version().await?;
    let uid = client.uid().await?;
    let user = client.read("res.users", &[uid], &["login", "name"]).await?;
    let user = user
        .first()
        .and_then(|u| u.text("login").map(str::to_owned))
        .unwrap_or_default();
    let installed = client
        .search_read(
            "ir.module.module",
            json!([["name", "in", NEEDED_MODULES], ["state", "=", "installed"]]),
            &["name"],
            None,
            0,
            None,
        )
        .await?;
    let modules: Vec<(String, bool)> = NEEDED_MODULES
        .iter()
        .map(|m| {
            (
                (*m).to_owned(),
                installed.iter().any(|r| r.text("name") == Some(m)),
            )
        })
        .collect();
    let mut fields = Vec::new();
    for (model, names) in NEEDED_FIELDS {
        let have = match client.fields_get(model).await {
            Ok(map) => map,
            Err(OdooError::Server { .. }) => Map::new(),
            Err(e) => return Err(e),
        };
        fields.extend(names.iter().map(|f| FieldCheck {
            model: (*model).to_owned(),
            field: (*f).to_owned(),
            present: have.contains_key(*f),
            fixable_by_setup: false,
        }));
        if *model == PICKING {
            fields.extend(HUB_FIELDS.iter().map(|(f, _, _)| FieldCheck {
                model: PICKING.to_owned(),
                field: (*f).to_owned(),
                present: have.contains_key(*f),
                fixable_by_setup: true,
            }));
        }
    }
    let usable = modules.iter().all(|(_, ok)| *ok) && fields.iter().all(|f| f.present);
    Ok(CheckReport {
        version,
        uid,
        user,
        modules,
        fields,
        usable,
    })
}
