//! Partner results: each is matched with the command the saga waits for and handed to the
//! stage that sent it; results nobody waits for are Odoo write-backs, duplicates or superseded.

use serde_json::{Value, json};

use crate::model::DeclarationStatus;
use crate::workflow::exceptions::ExceptionType;
use crate::workflow::shipment::inputs::{
    BrokerAnswer, CallOutcome, PartnerResult, ReadAnswer, ScreeningAnswer,
};
use crate::workflow::shipment::step::Step;
use crate::workflow::shipment::{
    CLOSE_ACTIVITY, POST_NOTE, Pending, SCHEDULE_ACTIVITY, Stage, WRITE_PICKING,
};

use super::FromResult;

impl Step<'_> {
    pub(super) fn on_partner(&mut self, outcome: CallOutcome, result: PartnerResult) {
        let Some(pending) = self.state.pending.remove(&result.command_id) else {
            return self.untracked_result(outcome, &result);
        };
        let reason = result.reason.clone().unwrap_or_default();
        match (pending, outcome) {
            (Pending::Read, CallOutcome::Succeeded) => {
                match ReadAnswer::deserialize_from(&result.result) {
                    Ok(answer) => self.on_read(answer.shipment),
                    Err(error) => self.partner_failed(
                        Pending::Read,
                        format!("Odoo returned an unreadable shipment: {error}"),
                    ),
                }
            }
            (Pending::Screen { party_id }, CallOutcome::Succeeded) => {
                match ScreeningAnswer::deserialize_from(&result.result) {
                    Ok(answer) => self.on_screened(party_id, answer),
                    Err(error) => self.partner_failed(
                        Pending::Screen { party_id },
                        format!("unreadable screening result: {error}"),
                    ),
                }
            }
            // Reads have no side effect, so an unknown outcome is simply asked again.
            (Pending::Read, CallOutcome::Unknown) => {
                self.event("read_outcome_unknown", json!({ "reason": reason }));
                self.enrich("Odoo read outcome unknown");
            }
            (Pending::Screen { party_id }, CallOutcome::Unknown) => {
                self.event(
                    "screening_outcome_unknown",
                    json!({ "party_id": party_id, "reason": reason }),
                );
                self.rescreen(&party_id);
            }
            (pending @ (Pending::Read | Pending::Screen { .. }), CallOutcome::Failed) => {
                self.partner_failed(pending, reason)
            }
            (Pending::File { lrn }, CallOutcome::Succeeded) => self.on_filed(lrn, &result.result),
            (Pending::File { lrn }, CallOutcome::Failed) => {
                self.state.ack_token = None;
                self.partner_failed(Pending::File { lrn }, reason);
            }
            (Pending::File { lrn }, CallOutcome::Unknown) => {
                self.state.ack_token = None;
                self.goto(Stage::OutcomeUnknown, "filing outcome unknown");
                self.open(
                    ExceptionType::OutcomeUnknown,
                    format!("filing of {lrn} may or may not have reached the broker: {reason}"),
                    Value::Null,
                    Some(Pending::File { lrn: lrn.clone() }),
                );
                self.query(&lrn);
            }
            (Pending::Cancel { .. }, CallOutcome::Succeeded) => {
                let answer = BrokerAnswer::deserialize_from(&result.result).ok();
                let status = answer.and_then(|answer| answer.status);
                if status.is_none_or(|status| status == DeclarationStatus::Cancelled) {
                    self.finish_cancel("the broker withdrew the declaration");
                } else {
                    self.event("cancel_requested", json!({ "status": status }));
                }
            }
            (Pending::Cancel { lrn }, CallOutcome::Failed) => {
                self.partner_failed(Pending::Cancel { lrn }, reason)
            }
            (Pending::Cancel { lrn }, CallOutcome::Unknown) => {
                self.open(
                    ExceptionType::OutcomeUnknown,
                    format!(
                        "cancellation of {lrn} may or may not have reached the broker: {reason}"
                    ),
                    Value::Null,
                    Some(Pending::Cancel { lrn: lrn.clone() }),
                );
                self.query(&lrn);
            }
            (Pending::Query { lrn }, CallOutcome::Succeeded) => {
                match BrokerAnswer::deserialize_from(&result.result) {
                    Ok(answer) => self.on_query_answer(lrn, answer),
                    Err(error) => self.event(
                        "query_unreadable",
                        json!({ "lrn": lrn, "error": error.to_string() }),
                    ),
                }
            }
            (Pending::Query { lrn }, CallOutcome::Failed | CallOutcome::Unknown) => {
                // The exception that asked stays open for a person.
                self.event("query_failed", json!({ "lrn": lrn, "reason": reason }));
            }
            (Pending::WriteBack, _) => self.ignore("write-backs are not awaited"),
        }
    }

    /// Results of commands the saga does not wait for: Odoo write-backs, or superseded and
    /// duplicate results.
    fn untracked_result(&mut self, outcome: CallOutcome, result: &PartnerResult) {
        match (result.command_kind.as_str(), outcome) {
            (WRITE_PICKING, CallOutcome::Succeeded) => {
                self.event("odoo_written", json!({ "command": result.command_id }))
            }
            (WRITE_PICKING, CallOutcome::Failed) => {
                let seen = self
                    .state
                    .exceptions
                    .iter()
                    .any(|exception| exception.data["command_id"] == result.command_id.as_str());
                if seen {
                    return self.ignore("duplicate failure of a write-back");
                }
                let reason = result.reason.clone().unwrap_or_default();
                self.open(
                    ExceptionType::PartnerFailed,
                    format!("Odoo refused the status write-back: {reason}"),
                    json!({ "command_id": result.command_id }),
                    Some(Pending::WriteBack),
                );
            }
            (WRITE_PICKING | POST_NOTE | SCHEDULE_ACTIVITY | CLOSE_ACTIVITY, _) => self.event(
                "odoo_writeback_result",
                json!({ "command": result.command_id, "kind": result.command_kind, "outcome": format!("{outcome:?}"), "reason": result.reason }),
            ),
            _ => self.ignore(format!(
                "no command {} is awaited (a duplicate or superseded result)",
                result.command_id
            )),
        }
    }

    /// A command the saga waited for failed for good: a person takes over.
    pub(super) fn partner_failed(&mut self, about: Pending, reason: String) {
        let what = match &about {
            Pending::Read => "reading the picking from Odoo".to_owned(),
            Pending::Screen { party_id } => format!("screening party {party_id}"),
            Pending::File { lrn } => format!("filing {lrn}"),
            Pending::Cancel { lrn } => format!("cancelling {lrn}"),
            Pending::Query { lrn } => format!("querying {lrn}"),
            Pending::WriteBack => "writing the status to Odoo".to_owned(),
        };
        self.open(
            ExceptionType::PartnerFailed,
            format!("{what} failed: {reason}"),
            Value::Null,
            Some(about),
        );
    }
}
