//! The handlers: what each input does in each stage, one file per stage of the saga.
//!
//! | file | inputs and stages |
//! |---|---|
//! | `flow/intake.rs` | Odoo hints and direct submission: RECEIVED → ENRICHING → VALIDATING |
//! | `flow/screening.rs` | SCREENING, ON_HOLD, BLOCKED: checks, reviews, overrides and their approval |
//! | `flow/filing.rs` | RATING → FILING: the estimate, the declaration, queries to the broker |
//! | `flow/results.rs` | partner results, routed to the stage that waits for them |
//! | `flow/statuses.rs` | declaration statuses: AWAITING_RELEASE, REJECTED, RELEASED |
//! | `flow/transit.rs` | carrier milestones: IN_TRANSIT → DELIVERED |
//! | `flow/settling.rs` | SETTLING → RECONCILED → CLOSED |
//! | `flow/cancel.rs` | Odoo cancellations: CANCELLING → CANCELLED |
//! | `flow/timers.rs` | the ack timeout, the clearance SLA and exception SLAs |
//! | `flow/resolve.rs` | people resolving exceptions, by action |

mod cancel;
mod filing;
mod intake;
mod resolve;
mod results;
mod screening;
mod settling;
mod statuses;
mod timers;
mod transit;

use serde_json::Value;

use super::inputs::Input;
use super::step::Step;

impl Step<'_> {
    pub(super) fn handle(&mut self, input: Input) {
        match input {
            Input::PickingConfirmed(hint) => self.on_confirmed(hint.picking_id),
            Input::PickingChanged(hint) => self.on_changed(hint.picking_id),
            Input::PickingCancelled(cancelled) => {
                self.on_cancelled(cancelled.picking_id, cancelled.reason)
            }
            Input::Submitted(submitted) => self.on_submitted(submitted.shipment),
            Input::Partner(outcome, result) => self.on_partner(outcome, result),
            Input::Review(decision) => self.on_review(decision),
            Input::Override(request) => self.on_override(request),
            Input::OverrideApproved(approval) => self.on_override_approved(approval),
            Input::OverrideRejected(rejection) => self.on_override_rejected(rejection),
            Input::Status(report) => self.on_status(report),
            Input::Milestone(milestone) => self.on_milestone(milestone),
            Input::Timer(timer) => self.on_timer(timer),
            Input::Assessed(assessed) => self.on_assessed(assessed),
            Input::Invoice(invoice) => self.on_invoice(invoice),
            Input::Resolve(resolution) => self.on_resolve(resolution),
        }
    }
}

/// Decoding of partner result bodies without cloning them.
trait FromResult: Sized {
    fn deserialize_from(value: &Value) -> Result<Self, serde_json::Error>;
}

impl<T: for<'de> serde::Deserialize<'de>> FromResult for T {
    fn deserialize_from(value: &Value) -> Result<Self, serde_json::Error> {
        T::deserialize(value)
    }
}
