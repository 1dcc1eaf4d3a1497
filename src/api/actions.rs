//! What people do to a shipment through the API, each ingested as a saga input once durable:
//!
//! | route | who | input |
//! |---|---|---|
//! | `POST /v1/shipments/{id}/screening/decision` | compliance officer | `screening.decision` `{party_id?, decision: clear\|confirm, reviewer, reason}` |
//! | `POST /v1/shipments/{id}/screening/override` | compliance officer | `screening.override` `{reviewer, reason}` |
//! | `POST /v1/shipments/{id}/exceptions/{exception}/resolve` | operator | `exception.resolve` `{by, action?, note?}` |
//!
//! Shipment ids may contain `/` (Odoo pickings are `odoo/<db>/picking/<id>`); the routes take
//! them as they are or percent-encoded. The body is checked against the saga's own input type,
//! so a request the saga could not use is refused here with 422 naming the field. The same
//! request repeated (same path and body, or the same `Idempotency-Key`) is ingested once.

use actix_web::{HttpRequest, HttpResponse, post, web};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::ApiState;
use super::problem::Problem;
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

async fn submit(
    state: &ApiState,
    request: &HttpRequest,
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
    let id = format!("action:{kind}:{idempotency}");
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

fn object(body: &[u8]) -> Result<Value, Problem> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        Problem::invalid(format!(
            "body is not JSON: {e} (line {}, column {})",
            e.line(),
            e.column()
        ))
    })?;
    if value.is_object() {
        Ok(value)
    } else {
        Err(Problem::invalid("body must be a JSON object"))
    }
}

#[post("/v1/shipments/{id:.+}/screening/decision")]
async fn decision(
    state: web::Data<ApiState>,
    request: HttpRequest,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, Problem> {
    let body = object(&body)?;
    checked::<ReviewDecision>(&body, "screening decision")?;
    submit(&state, &request, &id, SCREENING_DECISION, body).await
}

#[post("/v1/shipments/{id:.+}/screening/override")]
async fn override_block(
    state: web::Data<ApiState>,
    request: HttpRequest,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, Problem> {
    let body = object(&body)?;
    checked::<Override>(&body, "override")?;
    submit(&state, &request, &id, SCREENING_OVERRIDE, body).await
}

#[post("/v1/shipments/{id:.+}/exceptions/{exception}/resolve")]
async fn resolve(
    state: web::Data<ApiState>,
    request: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> Result<HttpResponse, Problem> {
    let (id, exception) = path.into_inner();
    let mut body = object(&body)?;
    if let Some(map) = body.as_object_mut() {
        map.insert("exception_id".to_owned(), json!(exception));
    }
    checked::<Resolution>(&body, "resolution")?;
    submit(&state, &request, &id, EXCEPTION_RESOLVE, body).await
}

/// Register the action routes (before the shipment routes: their paths are longer).
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(decision)
        .service(override_block)
        .service(resolve);
}
