//! The simulated ORM's public methods, shared by both transports: a call arrives as a model, a
//! method, record ids and named parameters, however the transport spelled them.

use serde_json::{Map, Value, json};

use super::db::{Db, FieldType, SimError};

/// One method call on a model, with positional arguments already named.
#[derive(Debug, Clone)]
pub struct Call {
    pub model: String,
    pub method: String,
    pub ids: Vec<u64>,
    pub params: Map<String, Value>,
}

/// What a call returned and which records it changed (for the outgoing webhook).
#[derive(Debug, Default)]
pub struct Outcome {
    pub result: Value,
    pub changed: Vec<(String, Vec<u64>)>,
}

/// Methods called on records: the first positional argument of `execute_kw` is their ids.
const RECORD_METHODS: &[&str] = &[
    "read",
    "write",
    "unlink",
    "message_post",
    "activity_schedule",
    "action_feedback",
];

/// The names of positional arguments after the ids, per method.
fn positional_names(method: &str) -> &'static [&'static str] {
    match method {
        "search" => &["domain", "offset", "limit", "order"],
        "search_read" => &["domain", "fields", "offset", "limit", "order"],
        "search_count" => &["domain", "limit"],
        "create" => &["vals_list"],
        "fields_get" => &["allfields", "attributes"],
        "read" => &["fields", "load"],
        "write" => &["vals"],
        "activity_schedule" => &["act_type_xmlid", "date_deadline", "summary", "note"],
        "action_feedback" => &["feedback"],
        _ => &[],
    }
}

impl Call {
    /// From `execute_kw(db, uid, password, model, method, args, kwargs)`'s model..kwargs.
    pub fn from_execute_kw(
        model: &str,
        method: &str,
        args: &[Value],
        kwargs: Map<String, Value>,
    ) -> Result<Self, SimError> {
        let mut args = args.iter();
        let ids = if RECORD_METHODS.contains(&method) {
            match args.next() {
                Some(v) => ids_of(v)?,
                None => {
                    return Err(SimError::new(
                        "builtins.TypeError",
                        format!("{method}() missing 1 required positional argument: 'self'"),
                    ));
                }
            }
        } else {
            Vec::new()
        };
        let mut params = kwargs;
        for (name, value) in positional_names(method).iter().zip(args) {
            params.insert((*name).to_owned(), value.clone());
        }
        Ok(Self {
            model: model.to_owned(),
            method: method.to_owned(),
            ids,
            params,
        })
    }
}

fn ids_of(value: &Value) -> Result<Vec<u64>, SimError> {
    match value {
        Value::Number(n) => n
            .as_u64()
            .map(|id| vec![id])
            .ok_or_else(|| SimError::value(format!("Invalid id {n}"))),
        Value::Array(items) => items
            .iter()
            .map(|v| {
                v.as_u64()
                    .ok_or_else(|| SimError::value(format!("Invalid id {v}")))
            })
            .collect(),
        other => Err(SimError::value(format!("Invalid ids {other}"))),
    }
}

fn usize_param(params: &Map<String, Value>, name: &str) -> Result<Option<usize>, SimError> {
    match params.get(name) {
        None | Some(Value::Null | Value::Bool(false)) => Ok(None),
        Some(Value::Number(n)) => n
            .as_u64()
            .and_then(|n| usize::try_from(n).ok())
            .map(Some)
            .ok_or_else(|| SimError::value(format!("Invalid {name} {n}"))),
        Some(other) => Err(SimError::value(format!("Invalid {name} {other}"))),
    }
}

fn fields_param(params: &Map<String, Value>) -> Result<Option<Vec<String>>, SimError> {
    match params.get("fields") {
        None | Some(Value::Null | Value::Bool(false)) => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| SimError::value(format!("Invalid field name {v}")))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(other) => Err(SimError::value(format!("Invalid fields {other}"))),
    }
}

fn domain_param(params: &Map<String, Value>) -> Value {
    params.get("domain").cloned().unwrap_or_else(|| json!([]))
}

/// Run `call` as user `uid` at instant `now` (microseconds; one instant per transaction).
pub fn execute(db: &mut Db, uid: u64, call: &Call, now: i64) -> Result<Outcome, SimError> {
    let Call {
        model,
        method,
        ids,
        params,
    } = call;
    if method.starts_with('_') {
        return Err(SimError::new(
            "odoo.exceptions.AccessError",
            format!("Private methods (such as '{model}.{method}') cannot be called remotely."),
        ));
    }
    db.model(model)?;
    let result = match method.as_str() {
        "search" => {
            let found = db.search(
                model,
                &domain_param(params),
                params.get("order").and_then(Value::as_str),
                usize_param(params, "offset")?.unwrap_or(0),
                usize_param(params, "limit")?,
            )?;
            json!(found)
        }
        "search_count" => {
            let found = db.search(
                model,
                &domain_param(params),
                None,
                0,
                usize_param(params, "limit")?,
            )?;
            json!(found.len())
        }
        "search_read" => {
            let found = db.search(
                model,
                &domain_param(params),
                params.get("order").and_then(Value::as_str),
                usize_param(params, "offset")?.unwrap_or(0),
                usize_param(params, "limit")?,
            )?;
            json!(db.read(model, &found, fields_param(params)?.as_deref(), true)?)
        }
        "read" => {
            let names = !matches!(params.get("load"), Some(Value::Null | Value::Bool(false)))
                && params.get("load").and_then(Value::as_str) != Some("");
            json!(db.read(model, ids, fields_param(params)?.as_deref(), names)?)
        }
        "fields_get" => {
            let all = db.fields_get(model)?;
            let attributes: Option<Vec<String>> =
                params.get("attributes").and_then(Value::as_array).map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                });
            let wanted: Option<Vec<String>> =
                params.get("allfields").and_then(Value::as_array).map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                });
            let mut out = Map::new();
            for (name, desc) in all {
                if wanted.as_ref().is_some_and(|w| !w.contains(&name)) {
                    continue;
                }
                let desc = match (&attributes, desc) {
                    (Some(attrs), Value::Object(d)) => {
                        Value::Object(d.into_iter().filter(|(k, _)| attrs.contains(k)).collect())
                    }
                    (_, d) => d,
                };
                out.insert(name, desc);
            }
            Value::Object(out)
        }
        "create" => return create(db, model, params, now),
        "write" => {
            let vals = params
                .get("vals")
                .and_then(Value::as_object)
                .ok_or_else(|| {
                    SimError::new(
                        "builtins.TypeError",
                        "write() missing 1 required positional argument: 'vals'".to_owned(),
                    )
                })?;
            db.write(model, ids, vals, now)?;
            return Ok(Outcome {
                result: json!(true),
                changed: vec![(model.clone(), ids.clone())],
            });
        }
        "unlink" => {
            db.unlink(model, ids)?;
            json!(true)
        }
        "message_post" => json!(message_post(db, model, ids, params, uid, now)?),
        "activity_schedule" => json!(activity_schedule(db, model, ids, params, uid, now)?),
        "action_feedback" if model == "mail.activity" => {
            let mut messages = Vec::new();
            for id in ids {
                let rows = db.read(
                    model,
                    &[*id],
                    Some(&[
                        "res_model".to_owned(),
                        "res_id".to_owned(),
                        "summary".to_owned(),
                    ]),
                    false,
                )?;
                let row = &rows[0];
                let body = format!(
                    "Activity done: {}. {}",
                    row.get("summary")
                        .and_then(Value::as_str)
                        .unwrap_or_default(),
                    params
                        .get("feedback")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                );
                let target_model = row
                    .get("res_model")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                let target = row
                    .get("res_id")
                    .and_then(Value::as_u64)
                    .unwrap_or_default();
                let mut vals = Map::new();
                vals.insert("body".to_owned(), json!(body));
                messages.push(message_post(db, &target_model, &[target], &vals, uid, now)?);
                let mut done = Map::new();
                done.insert("active".to_owned(), json!(false));
                db.write(model, &[*id], &done, now)?;
            }
            json!(messages.first())
        }
        "context_get" if model == "res.users" => {
            json!({"lang": "en_US", "tz": "Europe/Berlin", "uid": uid})
        }
        "check_access_rights" => json!(true),
        _ => {
            return Err(SimError::new(
                "builtins.AttributeError",
                format!("The method '{method}' does not exist on the model '{model}'"),
            ));
        }
    };
    Ok(Outcome {
        result,
        changed: Vec::new(),
    })
}

fn create(
    db: &mut Db,
    model: &str,
    params: &Map<String, Value>,
    now: i64,
) -> Result<Outcome, SimError> {
    let (list, single) = match params.get("vals_list").or_else(|| params.get("vals")) {
        Some(Value::Object(one)) => (vec![one.clone()], true),
        Some(Value::Array(many)) => (
            many.iter()
                .map(|v| {
                    v.as_object()
                        .cloned()
                        .ok_or_else(|| SimError::value(format!("Invalid values {v}")))
                })
                .collect::<Result<Vec<_>, _>>()?,
            false,
        ),
        _ => {
            return Err(SimError::new(
                "builtins.TypeError",
                "create() missing 1 required positional argument: 'vals_list'".to_owned(),
            ));
        }
    };
    let mut ids = Vec::new();
    for vals in &list {
        if model == "ir.model.fields" {
            custom_field(db, vals)?;
        }
        ids.push(db.create(model, vals, now)?);
    }
    Ok(Outcome {
        result: if single { json!(ids[0]) } else { json!(ids) },
        changed: vec![(model.to_owned(), ids)],
    })
}

/// Creating an `ir.model.fields` record adds the field to its model, as in Odoo.
fn custom_field(db: &mut Db, vals: &Map<String, Value>) -> Result<(), SimError> {
    let model_id = vals
        .get("model_id")
        .and_then(Value::as_u64)
        .ok_or_else(|| {
            SimError::validation(
                "Missing required value for the field 'Model' (model_id)".to_owned(),
            )
        })?;
    let rows = db.read("ir.model", &[model_id], Some(&["model".to_owned()]), false)?;
    let target = rows[0]
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let name = vals.get("name").and_then(Value::as_str).unwrap_or_default();
    let ttype = vals
        .get("ttype")
        .and_then(Value::as_str)
        .and_then(FieldType::parse)
        .ok_or_else(|| SimError::validation(format!("Invalid field type for {name}")))?;
    let string = vals
        .get("field_description")
        .and_then(Value::as_str)
        .unwrap_or(name);
    let relation = vals
        .get("relation")
        .and_then(Value::as_str)
        .map(str::to_owned);
    db.add_field(&target, name, ttype, string, relation)
}

fn message_post(
    db: &mut Db,
    model: &str,
    ids: &[u64],
    params: &Map<String, Value>,
    uid: u64,
    now: i64,
) -> Result<u64, SimError> {
    let [id] = ids else {
        return Err(SimError::value(format!(
            "Expected singleton: {model}{ids:?}"
        )));
    };
    db.read(model, &[*id], Some(&["id".to_owned()]), false)?;
    let mut vals = Map::new();
    vals.insert("model".to_owned(), json!(model));
    vals.insert("res_id".to_owned(), json!(id));
    vals.insert(
        "body".to_owned(),
        params.get("body").cloned().unwrap_or(json!("")),
    );
    vals.insert(
        "message_type".to_owned(),
        params
            .get("message_type")
            .cloned()
            .unwrap_or(json!("comment")),
    );
    vals.insert(
        "subtype_xmlid".to_owned(),
        params
            .get("subtype_xmlid")
            .cloned()
            .unwrap_or(json!("mail.mt_note")),
    );
    vals.insert("author_id".to_owned(), json!(author_partner(db, uid)));
    db.create("mail.message", &vals, now)
}

fn author_partner(db: &Db, uid: u64) -> Value {
    db.read("res.users", &[uid], Some(&["partner_id".to_owned()]), false)
        .ok()
        .and_then(|rows| rows.first().and_then(|r| r.get("partner_id").cloned()))
        .unwrap_or(Value::Bool(false))
}

fn activity_schedule(
    db: &mut Db,
    model: &str,
    ids: &[u64],
    params: &Map<String, Value>,
    uid: u64,
    now: i64,
) -> Result<Vec<u64>, SimError> {
    db.read(model, ids, Some(&["id".to_owned()]), false)?;
    let xmlid = params
        .get("act_type_xmlid")
        .and_then(Value::as_str)
        .unwrap_or("mail.mail_activity_data_todo");
    let types = db.search(
        "mail.activity.type",
        &json!([["xmlid", "=", xmlid]]),
        None,
        0,
        Some(1),
    )?;
    let Some(type_id) = types.first() else {
        return Err(SimError::value(format!(
            "External ID not found in the system: {xmlid}"
        )));
    };
    let deadline = match params.get("date_deadline") {
        Some(Value::String(d)) => d.clone(),
        _ => super::db::format_micros(now)[..10].to_owned(),
    };
    let mut created = Vec::new();
    for id in ids {
        let mut vals = Map::new();
        vals.insert("res_model".to_owned(), json!(model));
        vals.insert("res_id".to_owned(), json!(id));
        vals.insert("activity_type_id".to_owned(), json!(type_id));
        vals.insert(
            "summary".to_owned(),
            params.get("summary").cloned().unwrap_or(Value::Bool(false)),
        );
        vals.insert(
            "note".to_owned(),
            params.get("note").cloned().unwrap_or(Value::Bool(false)),
        );
        vals.insert(
            "user_id".to_owned(),
            params.get("user_id").cloned().unwrap_or(json!(uid)),
        );
        vals.insert("date_deadline".to_owned(), json!(deadline));
        created.push(db.create("mail.activity", &vals, now)?);
    }
    Ok(created)
}
