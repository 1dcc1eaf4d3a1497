//! CANCELLING → CANCELLED: an Odoo cancellation withdraws a filed declaration first; before
//! filing, or once withdrawn, the shipment is cancelled and its hold released.

use crate::workflow::shipment::commands::CancelDeclaration;
use crate::workflow::shipment::step::Step;
use crate::workflow::shipment::{Pending, Stage};

use super::statuses::settled_by_release;

impl Step<'_> {
    pub(super) fn on_cancelled(&mut self, picking_id: u64, reason: Option<String>) {
        if self
            .state
            .picking_id
            .is_some_and(|picking| picking != picking_id)
        {
            return self.ignore(format!(
                "cancellation of picking {picking_id}, not this shipment's"
            ));
        }
        let reason = reason.unwrap_or_else(|| "cancelled in Odoo".to_owned());
        match self.state.stage {
            Stage::Delivered | Stage::Settling | Stage::Reconciled => self.ignore(format!(
                "goods already delivered ({}); a cancellation cannot be honoured",
                self.state.stage.as_str()
            )),
            Stage::Cancelling => self.ignore("already cancelling"),
            Stage::Closed | Stage::Cancelled => self.ignore(format!(
                "the shipment is already {}; a cancellation changes nothing",
                self.state.stage.as_str()
            )),
            Stage::Filing
            | Stage::OutcomeUnknown
            | Stage::AwaitingRelease
            | Stage::Released
            | Stage::InTransit => {
                self.disarm_timers();
                self.state
                    .pending
                    .retain(|_, pending| matches!(pending, Pending::Cancel { .. }));
                self.resolve_where(
                    |exception| settled_by_release(exception.kind),
                    "shipment cancelled",
                );
                self.goto(Stage::Cancelling, "cancelled in Odoo after filing");
                self.send_cancel(&reason);
            }
            Stage::Received
            | Stage::Enriching
            | Stage::Validating
            | Stage::Screening
            | Stage::OnHold
            | Stage::Rating
            | Stage::Rejected
            | Stage::Blocked => {
                self.goto(Stage::Cancelling, "cancelled in Odoo before filing");
                self.finish_cancel("nothing was filed with customs");
            }
        }
    }

    /// Ask the broker to withdraw the current declaration.
    pub(super) fn send_cancel(&mut self, reason: &str) {
        let Some(declaration) = self.state.declaration.clone() else {
            return;
        };
        self.state
            .pending
            .retain(|_, pending| !matches!(pending, Pending::Cancel { .. }));
        let cancel = CancelDeclaration {
            lrn: declaration.lrn.clone(),
            mrn: declaration.mrn,
            reason: reason.to_owned(),
        };
        self.send_pending(
            &declaration.partner,
            &format!("cancel:{}", declaration.lrn),
            &cancel,
            Pending::Cancel {
                lrn: declaration.lrn,
            },
        );
    }

    /// The compensations are done: clear the hold in Odoo, close every exception.
    pub(super) fn finish_cancel(&mut self, why: &str) {
        self.disarm_timers();
        self.state.pending.clear();
        self.resolve_where(|_| true, "shipment cancelled");
        self.goto(Stage::Cancelled, why);
        self.note(format!("Shipment cancelled: {why}; trade hold released."));
    }
}
