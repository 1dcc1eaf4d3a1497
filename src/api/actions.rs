//! What people do to a shipment through the API, each ingested as a saga input once durable:
//!
//! | route | who | input |
//! |---|---|---|
//! | `POST /v1/shipments/{id}/screening/decision` | compliance officer | `screening.decision` `{party_id?, decision: clear\|confirm, reason}` |
//! | `POST /v1/shipments/{id}/screening/override` | compliance officer | `screening.override` `{reason}` |
//! | `POST /v1/shipments/{id}/screening/override/approve` | compliance officer | `screening.override.approve` `{reason}` |
//! | `POST /v1/shipments/{id}/screening/override/reject` | compliance officer | `screening.override.reject` `{reason}` |
//! | `POST /v1/shipments/{id}/exceptions/{exception}/resolve` | operator | `exception.resolve` `{action?, note?}` |
//!
//! Who acts is the authenticated caller ([`Caller`]): the input's `actor` is filled from the
//! token and the source address, and a body that names an actor itself (`actor`, `reviewer`,
//! `by`) is refused with 422 naming the field.
//!
//! Four-eyes (`[saga.four_eyes] override`, on by default): an override is a request that a
//! second compliance officer approves or rejects. The override routes read the shipment's
//! current state first and refuse at once what the saga would refuse ([`ShipmentState::may_override`]):
//! 403 when the caller is the wrong person (the officer who confirmed the match, or the requester
//! approving their own request), 409 when the shipment is not BLOCKED, a request is already
//! pending or none is; the saga applies the same rules again, since the state may change in
//! between. An action on a shipment the hub has no state for is refused with 404, so a made-up
//! id leaves nothing behind.
//!
//! Shipment ids may contain `/` (Odoo pickings are `odoo/<db>/picking/<id>`); the routes take
//! them as they are or percent-encoded. The body is checked against the saga's own input type,
//! so a request the saga could not use is refused here with 422 naming the field. The same
//! request repeated (same path and body, or the same `Idempotency-Key`) is ingested once.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tradehub_actors::envelope::partition_of;
use tradehub_actors::mailbox::{Mailbox, MailboxError};

use super::ApiState;
use super::problem::Problem;
use super::routes::Caller;
use crate::partners::filing::ingest;
use crate::workflow::shipment::ShipmentState;
use crate::workflow::shipment::four_eyes::OverrideStep;
use crate::workflow::shipment::inputs::{
    EXCEPTION_RESOLVE, OVERRIDE_APPROVE, OVERRIDE_REJECT, Override, Resolution, ReviewDecision,
    SCREENING_DECISION, SCREENING_OVERRIDE,
};

/// Decode `body` as the saga's type `T`, refusing what the saga could not use.
fn checked<T: DeserializeOwned>(body: &Value, what: &str) -> Result<(), Problem> {
    serde_json::from_value::<T>(body.clone())
        .map(drop)
        .map_err(|e| Problem::invalid(format!("{what}: {e}")))
}

/// The input id of `body` as a `kind` input: the same request repeated (same path and body,
/// or the same `Idempotency-Key`) gets the same id. The idempotency key is the caller's: one
/// caller's `Idempotency-Key` never answers for another's request.
fn input_id(
    request: &HttpRequest,
    caller: &Caller,
    kind: &str,
    body: &Value,
) -> Result<String, Problem> {
    let idempotency = match request.headers().get("Idempotency-Key") {
        Some(v) => v
            .to_str()
            .map_err(|_| Problem::header("Idempotency-Key must be visible ASCII"))?
            .to_owned(),
        None => {
            hex::encode(&Sha256::digest(format!("{}\n{body}", request.path()).as_bytes())[..16])
        }
    };
    Ok(format!("action:{kind}:{}:{idempotency}", caller.0.id))
}

/// Ingest `body` as a `kind` input of `key`.
async fn submit(
    state: &ApiState,
    request: &HttpRequest,
    caller: &Caller,
    key: &str,
    kind: &str,
    body: Value,
) -> Result<HttpResponse, Problem> {
    let id = input_id(request, caller, kind, &body)?;
    known(state, key).await?;
    ingest_as(state, key, kind, &id, body).await
}

/// The stored state of shipment `key`; 404 when the hub has none, so that an action on a
/// made-up id is refused before it can leave anything behind.
async fn known(state: &ApiState, key: &str) -> Result<String, Problem> {
    state
        .mailbox
        .load(partition_of(key, state.partitions), key)
        .await
        .map_err(|e| Problem::unavailable(e.to_string()))?
        .state
        .ok_or_else(|| Problem::not_found(format!("no shipment {key}")))
}

/// Ingest `body` as input `id` of kind `kind` of `key`, answering 202 once it is durable.
async fn ingest_as(
    state: &ApiState,
    key: &str,
    kind: &str,
    id: &str,
    body: Value,
) -> Result<HttpResponse, Problem> {
    let (entry, duplicate) = ingest(&state.mailbox, state.partitions, key, kind, id, body)
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

/// Ingest `body` as the override step `step` of shipment `key`, unless the shipment's current
/// state refuses it. A repeat of a request already ingested gets the first answer, whatever the
/// state has become since.
async fn override_step(
    state: &ApiState,
    request: &HttpRequest,
    caller: &Caller,
    key: &str,
    step: OverrideStep,
    body: &[u8],
) -> Result<HttpResponse, Problem> {
    let (kind, what) = match step {
        OverrideStep::Request => (SCREENING_OVERRIDE, "override"),
        OverrideStep::Approve => (OVERRIDE_APPROVE, "override approval"),
        OverrideStep::Reject => (OVERRIDE_REJECT, "override rejection"),
    };
    let body = object(body, caller)?;
    checked::<Override>(&body, what)?;
    let id = input_id(request, caller, kind, &body)?;
    let unavailable = |e: MailboxError| Problem::unavailable(e.to_string());
    let partition = partition_of(key, state.partitions);
    if state
        .mailbox
        .ingested(partition, &id)
        .await
        .map_err(unavailable)?
        .is_none()
    {
        let raw = known(state, key).await?;
        let shipment: ShipmentState = serde_json::from_str(&raw).map_err(|_| {
            Problem::conflict(format!(
                "shipment {key}: its state cannot be read, so the {what} cannot be checked"
            ))
        })?;
        shipment
            .may_override(step, &caller.0.actor(), state.four_eyes)
            .map_err(|refusal| {
                let detail = format!("shipment {key}: {refusal}");
                if refusal.is_about_the_person() {
                    Problem::forbidden(detail)
                } else {
                    Problem::conflict(detail)
                }
            })?;
    }
    ingest_as(state, key, kind, &id, body).await
}

/// `POST /v1/shipments/{id}/screening/override`.
pub(super) async fn override_block(
    state: web::Data<ApiState>,
    request: HttpRequest,
    caller: Caller,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, Problem> {
    override_step(&state, &request, &caller, &id, OverrideStep::Request, &body).await
}

/// `POST /v1/shipments/{id}/screening/override/approve`.
pub(super) async fn approve_override(
    state: web::Data<ApiState>,
    request: HttpRequest,
    caller: Caller,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, Problem> {
    override_step(&state, &request, &caller, &id, OverrideStep::Approve, &body).await
}

/// `POST /v1/shipments/{id}/screening/override/reject`.
pub(super) async fn reject_override(
    state: web::Data<ApiState>,
    request: HttpRequest,
    caller: Caller,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, Problem> {
    override_step(&state, &request, &caller, &id, OverrideStep::Reject, &body).await
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
