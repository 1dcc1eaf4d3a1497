//! `POST /v1/shipments` (submit a canonical shipment, `Idempotency-Key` required)
//! and `GET /v1/shipments/{id}` (state and timeline).
//!
//! A submission is answered 202 only once its input is durable in Redis; a
//! repeated `Idempotency-Key` writes nothing and gets the first answer.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde_json::json;
use tradehub_actors::envelope::{Envelope, partition_of};
use tradehub_actors::mailbox::{IngestOutcome, Mailbox};

use super::{ApiState, problem::Problem};
use crate::model::Shipment;

/// Input kind of a shipment submitted through the API.
pub const SUBMITTED: &str = "shipment.submitted";

/// Longest accepted `Idempotency-Key`.
const MAX_KEY_LEN: usize = 200;

#[post("/v1/shipments")]
async fn submit(
    state: web::Data<ApiState>,
    request: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, Problem> {
    let key = request
        .headers()
        .get("Idempotency-Key")
        .ok_or_else(|| Problem::header("Idempotency-Key is required: retries must be safe"))?
        .to_str()
        .map_err(|_| Problem::header("Idempotency-Key must be visible ASCII"))?
        .trim()
        .to_owned();
    if key.is_empty() || key.len() > MAX_KEY_LEN {
        return Err(Problem::header(format!(
            "Idempotency-Key must be 1 to {MAX_KEY_LEN} characters"
        )));
    }
    let shipment: Shipment = serde_json::from_slice(&body).map_err(|e| {
        Problem::invalid(format!(
            "body is not a canonical shipment: {e} (line {}, column {})",
            e.line(),
            e.column()
        ))
    })?;
    let id = shipment.id.to_string();
    let body = json!({ "shipment": shipment });
    let mut envelope = Envelope::new(format!("api:{key}"), id.clone(), SUBMITTED, body);
    envelope.traceparent = request
        .headers()
        .get("traceparent")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let partition = partition_of(&id, state.partitions);
    let outcome = state
        .mailbox
        .ingest(partition, &envelope, Some(&format!("api:{key}")))
        .await
        .map_err(|e| Problem::unavailable(e.to_string()))?;
    let (entry, duplicate) = match outcome {
        IngestOutcome::Accepted { entry_id } => (entry_id, false),
        IngestOutcome::Duplicate { entry_id } => (entry_id, true),
    };
    Ok(HttpResponse::Accepted()
        .insert_header(("Location", format!("/v1/shipments/{id}")))
        .json(json!({ "shipment_id": id, "input": entry.0, "duplicate": duplicate })))
}

#[get("/v1/shipments/{id:.+}")]
async fn show(state: web::Data<ApiState>, id: web::Path<String>) -> Result<HttpResponse, Problem> {
    let id = id.into_inner();
    let partition = partition_of(&id, state.partitions);
    let stored = state
        .mailbox
        .load(partition, &id)
        .await
        .map_err(|e| Problem::unavailable(e.to_string()))?;
    let Some(saga_state) = stored.state.clone() else {
        return Err(Problem::not_found(format!("no shipment {id}")));
    };
    let timeline = state
        .mailbox
        .history(partition, &id)
        .await
        .map_err(|e| Problem::unavailable(e.to_string()))?;
    let timeline: Vec<serde_json::Value> = timeline
        .iter()
        .map(|raw| serde_json::from_str(raw).unwrap_or_else(|_| json!(raw)))
        .collect();
    let saga_state: serde_json::Value =
        serde_json::from_str(&saga_state).unwrap_or_else(|_| json!(saga_state));
    Ok(HttpResponse::Ok().json(json!({
        "shipment_id": id,
        "version": stored.ver,
        "state": saga_state,
        "timeline": timeline,
    })))
}

/// Register the shipment routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(submit).service(show);
}
