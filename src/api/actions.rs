//! What people do to a shipment through the API, each ingested as a saga input once durable:
//!
//! | route | who | input |
//! |---|---|---|
//! | `POST /v1/shipments/{id}/screening/decision` | compliance officer | `screening.decision` `{party_id?, decision: clear\|confirm, reason}` |
//! | `POST /v1/shipments/{id}/screening/override` | compliance officer | `screening.override` `{reason}` |
//! | `POST /v1/shipments/{id}/exceptions/{exception}/resolve` | operator | `exception.resolve` `{action?, note?}` |
//!
//! Who acts is the authenticated caller ([`Caller`]): the input's `actor` is filled from the
//! token and the source address, and a body that names an actor itself (`actor`, `reviewer`,
//! `by`) is refused with 422 naming the field.
//!
//! Shipment ids may contain `/` (Odoo pickings are `odoo/<db>/picking/<id>`); the routes take
//! them as they are or percent-encoded. The body is checked against the saga's own input type,
//! so a request the saga could not use is refused here with 422 naming the field. The same
//! request repeated (same path and body, or the same `Idempotency-Key`) is ingested once.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::ApiState;
use super::problem::Problem;
use super::routes::Caller;
use crate::partners::filing::ingest;
use crate::workflow::shipment::inputs::{
    EXCEPTION_RESOLVE, Override, Resolution, ReviewDecision, SCREENING_DECISION, SCREENING_OVERRIDE,
};

/// Decode `body` as the saga's type `T`, refusing what the saga could not use.
fn checked<T: DeserializeOwned>(body: &Value, what: &str) -> Result<(), Problem> {
    serde_json::from_value::<T>(body.clone())
        .map(drop)
        .map_err(|e| Problem::invalid(format!("{what}: {e}")))
}

/// Ingest `body` as a `kind` input of `key`. The idempotency key is the caller's: one
/// caller's `Idempotency-Key` never answers for another's request.
async fn submit(
    state: &ApiState,
    request: &HttpRequest,
    caller: &Caller,
    key: &str,
    kind: &str,
    body: Value,
) -> Result<HttpResponse, Problem> {
    let idempotency = match request.headers().get("Idempotency-Key") {
        Some(v) => v
            .to_str()
            .map_err(|_| Problem::header("Idempotency-Key must be visible ASCII"))?
            .to_owned(),
        None => {
            hex::encode(&Sha256::digest(format!("{}\n{body}", request.path()).as_bytes())[..16])
        }
    };
    let id = format!("action:{kind}:{}:{idempotency}", caller.0.id);
    let (entry, duplicate) = ingest(&state.mailbox, state.partitions, key, kind, &id, body)
        .await
        .map_err(|e| Problem::unavailable(e.to_string()))?;
    Ok(HttpResponse::Accepted().json(json!({
        "shipment_id": key,
        "input": entry,
        "kind": kind,
        "duplicate": duplicate,
    })))
}

/// Body fields the API fills from the authenticated caller; a body naming one is refused.
const ACTOR_FIELDS: [&str; 3] = ["actor", "reviewer", "by"];

/// The JSON object in `body`, with the caller as its `actor`.
fn object(body: &[u8], caller: &Caller) -> Result<Value, Problem> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        Problem::invalid(format!(
            "body is not JSON: {e} (line {}, column {})",
            e.line(),
            e.column()
        ))
    })?;
    let Value::Object(mut map) = value else {
        return Err(Problem::invalid("body must be a JSON object"));
    };
    if let Some(field) = ACTOR_FIELDS.iter().find(|field| map.contains_key(**field)) {
        return Err(Problem::invalid(format!(
            "`{field}`: who acts is the authenticated caller, not a body field; leave it out"
        )));
    }
    map.insert("actor".to_owned(), json!(caller.0.actor()));
    Ok(Value::Object(map))
}

/// `POST /v1/shipments/{id}/screening/decision`.
pub(super) async fn decision(
    state: web::Data<ApiState>,
    request: HttpRequest,
    caller: Caller,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, Problem> {
    let body = object(&body, &caller)?;
    checked::<ReviewDecision>(&body, "screening decision")?;
    submit(&state, &request, &caller, &id, SCREENING_DECISION, body).await
}

/// `POST /v1/shipments/{id}/screening/override`.
pub(super) async fn override_block(
    state: web::Data<ApiState>,
    request: HttpRequest,
    caller: Caller,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, Problem> {
    let body = object(&body, &caller)?;
    checked::<Override>(&body, "override")?;
    submit(&state, &request, &caller, &id, SCREENING_OVERRIDE, body).await
}

/// `POST /v1/shipments/{id}/exceptions/{exception}/resolve`.
pub(super) async fn resolve(
    state: web::Data<ApiState>,
    request: HttpRequest,
    caller: Caller,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> Result<HttpResponse, Problem> {
    let (id, exception) = path.into_inner();
    let mut body = object(&body, &caller)?;
    if let Some(map) = body.as_object_mut() {
        map.insert("exception_id".to_owned(), json!(exception));
    }
    checked::<Resolution>(&body, "resolution")?;
    submit(&state, &request, &caller, &id, EXCEPTION_RESOLVE, body).await
}
