//! Four-eyes on decisions about a block: who may request, approve and reject the override of a
//! BLOCKED shipment. One set of rules, asked by the API before it ingests a request (to answer it
//! at once) and by the saga when it applies one (the state may have changed in between).
//!
//! With [`FourEyes::block_override`] on (the default), a compliance officer's override is a
//! request ([`OverrideRequest`]) that a second officer approves or rejects:
//!
//! | who | request | approve | reject |
//! |---|---|---|---|
//! | the officer who confirmed the match | refused | refused | allowed |
//! | the officer who requested the override | — | refused | allowed (a withdrawal) |
//! | any other compliance officer | allowed, unless one is pending | allowed | allowed |
//!
//! Rejecting keeps the shipment blocked, so no one is kept from it. People are told apart by
//! their principal id (the token or subject), not by the label a token carries.

use serde::{Deserialize, Serialize};
use tradehub_actors::clock::Millis;

use super::inputs::Actor;
use super::{ShipmentState, Stage};

/// `[saga.four_eyes]`: which decisions need a second compliance officer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FourEyes {
    /// Whether overriding a confirmed block needs a second officer's approval (`override`);
    /// off, one officer's override lifts the block at once.
    #[serde(rename = "override")]
    pub block_override: bool,
}

impl Default for FourEyes {
    fn default() -> Self {
        Self {
            block_override: true,
        }
    }
}

/// An override of a block waiting for a second compliance officer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverrideRequest {
    /// The officer who asked for it.
    pub requested_by: Actor,
    /// Why, e.g. a licence reference.
    pub reason: String,
    /// When it was asked for.
    pub at_ms: Millis,
}

/// What a compliance officer does about the override of a block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OverrideStep {
    /// Override it (with four-eyes: ask for the override).
    Request,
    /// Approve the pending request.
    Approve,
    /// Reject the pending request.
    Reject,
}

/// Why an officer may not take an [`OverrideStep`] now. The `Display` form is the reason the
/// API answers with and the saga records.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OverrideRefusal {
    /// Only a BLOCKED shipment has a block to override.
    #[error("shipment is {}: only a BLOCKED shipment can be overridden", .0.as_str())]
    NotBlocked(Stage),
    /// One request at a time.
    #[error("an override requested by {0} is already waiting for approval")]
    AlreadyPending(String),
    /// Nothing to approve or reject.
    #[error("no override request is waiting for approval")]
    NothingPending,
    /// The officer who confirmed the match may not lift it.
    #[error(
        "{0} confirmed the match that blocked the shipment: a second compliance officer must decide its override"
    )]
    ConfirmedIt(String),
    /// The requester may not approve their own request.
    #[error("{0} requested this override: a second compliance officer must approve it")]
    OwnRequest(String),
}

impl OverrideRefusal {
    /// Whether the refusal is about who asks (the same officer twice) rather than about the
    /// shipment's state: the API answers the first 403 and the second 409.
    pub fn is_about_the_person(&self) -> bool {
        matches!(self, Self::ConfirmedIt(_) | Self::OwnRequest(_))
    }
}

impl ShipmentState {
    /// Whether `actor` may take `step` now under `rules`.
    pub fn may_override(
        &self,
        step: OverrideStep,
        actor: &Actor,
        rules: FourEyes,
    ) -> Result<(), OverrideRefusal> {
        if self.stage != Stage::Blocked {
            return Err(OverrideRefusal::NotBlocked(self.stage));
        }
        let confirmed_it = self
            .confirmed_by
            .as_ref()
            .filter(|confirmer| confirmer.id == actor.id)
            .map(|confirmer| OverrideRefusal::ConfirmedIt(confirmer.to_string()));
        match (step, &self.override_request) {
            (OverrideStep::Request, _) if !rules.block_override => Ok(()),
            (OverrideStep::Request, Some(pending)) => Err(OverrideRefusal::AlreadyPending(
                pending.requested_by.to_string(),
            )),
            (OverrideStep::Request, None) => confirmed_it.map_or(Ok(()), Err),
            (OverrideStep::Approve | OverrideStep::Reject, None) => {
                Err(OverrideRefusal::NothingPending)
            }
            (OverrideStep::Approve, Some(pending)) if pending.requested_by.id == actor.id => Err(
                OverrideRefusal::OwnRequest(pending.requested_by.to_string()),
            ),
            (OverrideStep::Approve, Some(_)) => confirmed_it.map_or(Ok(()), Err),
            (OverrideStep::Reject, Some(_)) => Ok(()),
        }
    }
}
