//! `POST /v1/shipments/{id}/bookings`: the hub learns that a carrier carries a shipment under
//! a reference (booking, bill of lading, container), from whoever booked the transport (a TMS,
//! Odoo's delivery module, the warehouse). Only then may that carrier's callbacks speak about
//! the shipment: a carrier callback naming a reference the hub does not know for that carrier
//! is refused ([`super::callbacks`]).
//!
//! The body is `{"carrier": "<partner>", "reference": "<booking>"}`; a carrier booking under the
//! hub's own shipment id names that id as the reference. The shipment must exist (404) and the
//! carrier must take callbacks here (422). A carrier's reference belongs to one shipment: the
//! same booking again is answered as before, the reference booked for another shipment is 409.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::json;
use tradehub_actors::envelope::partition_of;
use tradehub_actors::mailbox::Mailbox;

use super::ApiState;
use super::callbacks::CallbackKind;
use super::problem::Problem;
use super::routes::Caller;
use crate::store::lrn_ledger::Ledger;

/// Longest accepted reference.
const MAX_REFERENCE_LEN: usize = 200;

/// A booking as posted.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Booking {
    /// The carrier's partner (template) name.
    carrier: String,
    /// The carrier's reference for the shipment.
    reference: String,
}

/// `POST /v1/shipments/{id}/bookings`.
pub(super) async fn record(
    state: web::Data<ApiState>,
    id: web::Path<String>,
    caller: Caller,
    body: web::Bytes,
) -> Result<HttpResponse, Problem> {
    let id = id.into_inner();
    let booking: Booking = serde_json::from_slice(&body).map_err(|e| {
        Problem::invalid(format!(
            "body is not a booking {{\"carrier\", \"reference\"}}: {e} (line {}, column {})",
            e.line(),
            e.column()
        ))
    })?;
    let reference = booking.reference.trim();
    if reference.is_empty()
        || reference.len() > MAX_REFERENCE_LEN
        || reference.chars().any(char::is_control)
    {
        return Err(Problem::invalid(format!(
            "`reference`: must be 1 to {MAX_REFERENCE_LEN} characters without control characters"
        )));
    }
    let carrier = booking.carrier.as_str();
    if state
        .callbacks
        .partner(carrier)
        .is_none_or(|p| p.kind != CallbackKind::Carrier)
    {
        return Err(Problem::invalid(format!(
            "`carrier`: {carrier} is not a carrier whose callbacks this hub takes"
        )));
    }
    let unavailable = |e: String| Problem::unavailable(e);
    let stored = state
        .mailbox
        .load(partition_of(&id, state.partitions), &id)
        .await
        .map_err(|e| unavailable(e.to_string()))?;
    if stored.state.is_none() {
        return Err(Problem::not_found(format!("no shipment {id}")));
    }
    let owner = Ledger::of(&state.mailbox)
        .record_reference(carrier, reference, &id)
        .await
        .map_err(|e| unavailable(e.to_string()))?;
    if owner != id {
        return Err(Problem::conflict(format!(
            "{carrier}'s reference {reference} is booked for another shipment"
        )));
    }
    tracing::info!(shipment = %id, carrier, reference, actor = %caller.0.id, "booking recorded");
    Ok(HttpResponse::Created().json(json!({
        "shipment_id": id,
        "carrier": carrier,
        "reference": reference,
    })))
}
