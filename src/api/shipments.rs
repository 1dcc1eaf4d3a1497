//! `POST /v1/shipments` (submit a canonical shipment, `Idempotency-Key` required)
//! and `GET /v1/shipments/{id}` (state and timeline).
//!
//! A submission is answered 202 only once its input is durable in Redis; the same caller's
//! repeated `Idempotency-Key` writes nothing and gets the first answer. A submission cannot
//! touch Odoo's data: an id under `odoo/` is refused (403), as is a shipment naming an Odoo
//! picking (422), and a shipment past intake is not replaced (409).

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;
use tradehub_actors::envelope::{Envelope, partition_of};
use tradehub_actors::mailbox::{EntryId, IngestOutcome, Mailbox, MailboxError};

use super::routes::Caller;
use super::{ApiState, problem::Problem};
use crate::model::Shipment;
use crate::workflow::shipment::Stage;

/// Input kind of a shipment submitted through the API.
pub const SUBMITTED: &str = "shipment.submitted";

/// Longest accepted `Idempotency-Key`.
const MAX_KEY_LEN: usize = 200;

/// Where the keys of Odoo's pickings live; only the Odoo feed creates shipments there.
const ODOO_NAMESPACE: &str = "odoo/";

/// Refuse a submission that would overwrite what Odoo or the saga owns.
async fn may_submit(state: &ApiState, shipment: &Shipment) -> Result<(), Problem> {
    let id = shipment.id.as_str();
    if id.starts_with(ODOO_NAMESPACE) {
        return Err(Problem::forbidden(format!(
            "shipment ids under {ODOO_NAMESPACE} belong to Odoo's pickings; submit under an id of your own"
        )));
    }
    if shipment.odoo.picking.is_some() {
        return Err(Problem::invalid(
            "`odoo.picking`: a submitted shipment cannot name an Odoo picking",
        ));
    }
    let stored = state
        .mailbox
        .load(partition_of(id, state.partitions), id)
        .await
        .map_err(|e| Problem::unavailable(e.to_string()))?;
    let Some(raw) = stored.state else {
        return Ok(());
    };
    let stage = serde_json::from_str::<serde_json::Value>(&raw)
        .ok()
        .and_then(|saga| serde_json::from_value::<Stage>(saga["stage"].clone()).ok());
    match stage {
        Some(stage) if stage.accepts_submission() => Ok(()),
        Some(stage) => Err(Problem::conflict(format!(
            "shipment {id} is {} and past intake: a submission no longer replaces it",
            stage.as_str()
        ))),
        None => Err(Problem::conflict(format!(
            "shipment {id} exists and its stage cannot be read: a submission does not replace it"
        ))),
    }
}

/// `POST /v1/shipments`.
pub(super) async fn submit(
    state: web::Data<ApiState>,
    request: HttpRequest,
    caller: Caller,
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
    let partition = partition_of(&id, state.partitions);
    let dedupe = format!("api:{}:{key}", caller.0.id);
    let unavailable = |e: MailboxError| Problem::unavailable(e.to_string());
    // A retry of an accepted submission gets the first answer, even once the shipment has
    // moved past intake.
    if let Some(entry) = state
        .mailbox
        .ingested(partition, &dedupe)
        .await
        .map_err(unavailable)?
    {
        return Ok(accepted(&id, &entry, true));
    }
    may_submit(&state, &shipment).await?;
    let body = json!({ "shipment": shipment, "actor": caller.0.actor() });
    let mut envelope = Envelope::new(dedupe.clone(), id.clone(), SUBMITTED, body);
    envelope.traceparent = request
        .headers()
        .get("traceparent")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let outcome = state
        .mailbox
        .ingest(partition, &envelope, Some(&dedupe))
        .await
        .map_err(unavailable)?;
    Ok(match outcome {
        IngestOutcome::Accepted { entry_id } => accepted(&id, &entry_id, false),
        IngestOutcome::Duplicate { entry_id } => accepted(&id, &entry_id, true),
    })
}

fn accepted(id: &str, entry: &EntryId, duplicate: bool) -> HttpResponse {
    HttpResponse::Accepted()
        .insert_header(("Location", format!("/v1/shipments/{id}")))
        .json(json!({ "shipment_id": id, "input": entry.0, "duplicate": duplicate }))
}

/// `GET /v1/shipments/{id}`.
pub(super) async fn show(
    state: web::Data<ApiState>,
    id: web::Path<String>,
) -> Result<HttpResponse, Problem> {
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
