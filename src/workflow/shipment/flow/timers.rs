//! The saga's timers: the broker's ack timeout, the clearance SLA and each exception's SLA. A
//! timer whose token no longer matches was disarmed and is ignored as stale.

use serde_json::{Value, json};

use crate::workflow::exceptions::ExceptionType;
use crate::workflow::shipment::Stage;
use crate::workflow::shipment::inputs::TimerFired;
use crate::workflow::shipment::step::Step;

impl Step<'_> {
    pub(super) fn on_timer(&mut self, timer: TimerFired) {
        match timer {
            TimerFired::AckTimeout { token } => self.on_ack_timeout(token),
            TimerFired::ClearanceSla { token } => self.on_clearance_sla(token),
            TimerFired::ExceptionSla { exception_id } => self.on_exception_sla(exception_id),
        }
    }

    fn on_ack_timeout(&mut self, token: u64) {
        let lrn = self
            .state
            .declaration
            .as_ref()
            .map(|declaration| declaration.lrn.clone());
        match lrn {
            Some(lrn)
                if self.state.ack_token == Some(token) && self.state.stage == Stage::Filing =>
            {
                self.state.ack_token = None;
                self.open(
                    ExceptionType::AckTimeout,
                    format!("the broker did not acknowledge {lrn} in time"),
                    Value::Null,
                    None,
                );
                self.query(&lrn);
            }
            _ => self.ignore("stale ack timer"),
        }
    }

    fn on_clearance_sla(&mut self, token: u64) {
        if self.state.clearance_token == Some(token) && self.state.stage == Stage::AwaitingRelease {
            self.state.clearance_token = None;
            self.open(
                ExceptionType::ClearanceSlaBreach,
                "customs has not released the goods within the clearance SLA".into(),
                Value::Null,
                None,
            );
        } else {
            self.ignore("stale clearance timer");
        }
    }

    fn on_exception_sla(&mut self, exception_id: String) {
        let Some(exception) = self.state.exceptions.iter_mut().find(|exception| {
            exception.id == exception_id && exception.is_open() && !exception.breached
        }) else {
            return self.ignore("exception already resolved or escalated");
        };
        exception.breached = true;
        let (kind, owner) = (exception.kind, exception.owner);
        self.audited(
            "exception_sla_breached",
            json!({ "id": exception_id, "type": kind, "owner": owner }),
        );
        self.note(format!(
            "{} ({exception_id}) is past its SLA; escalate to the {owner:?} on duty.",
            kind.as_str()
        ));
    }
}
