//! SCREENING, ON_HOLD and BLOCKED: one check per party, the verdict once every party has an
//! answer, a compliance officer's review of a potential match and the override of a block, with
//! a second officer's approval when four-eyes is on (the rules are in
//! [`crate::workflow::shipment::four_eyes`]).

use serde_json::{Value, json};

use crate::workflow::exceptions::ExceptionType;
use crate::workflow::shipment::commands::CheckParty;
use crate::workflow::shipment::four_eyes::{OverrideRefusal, OverrideRequest, OverrideStep};
use crate::workflow::shipment::inputs::{
    Actor, Decision, Override, ReviewDecision, ScreeningAnswer, ScreeningOutcome,
};
use crate::workflow::shipment::step::Step;
use crate::workflow::shipment::{OverrideRecord, PartyCheck, Pending, SCREENING, Stage};

impl Step<'_> {
    pub(super) fn screen(&mut self) {
        self.goto(Stage::Screening, "master data valid");
        let Some(shipment) = self.state.shipment.as_ref() else {
            return;
        };
        let direction = shipment.direction;
        let parties = shipment.parties.clone();
        for party in parties {
            let party_id = party.id.to_string();
            self.state.screening.insert(
                party_id.clone(),
                PartyCheck {
                    name: party.name.clone(),
                    outcome: None,
                    hits: Vec::new(),
                    list_version: None,
                    cleared_by: None,
                },
            );
            let check = CheckParty {
                shipment_id: self.input.key.clone(),
                direction,
                party,
            };
            self.send_pending(
                SCREENING,
                &format!("screen:{party_id}"),
                &check,
                Pending::Screen { party_id },
            );
        }
        self.screening_verdict();
    }

    /// Screen one party again (its check ended unknown, or a person retries it).
    pub(super) fn rescreen(&mut self, party_id: &str) {
        let check = self.state.shipment.as_ref().and_then(|shipment| {
            let party = shipment
                .parties
                .iter()
                .find(|party| party.id.as_str() == party_id)?;
            Some(CheckParty {
                shipment_id: self.input.key.clone(),
                direction: shipment.direction,
                party: party.clone(),
            })
        });
        let Some(check) = check else {
            return self.ignore(format!("party {party_id} is no longer on the shipment"));
        };
        self.send_pending(
            SCREENING,
            &format!("screen:{party_id}"),
            &check,
            Pending::Screen {
                party_id: party_id.to_owned(),
            },
        );
    }

    /// The engine answered for one party.
    pub(super) fn on_screened(&mut self, party_id: String, answer: ScreeningAnswer) {
        if self.state.stage != Stage::Screening {
            return self.ignore(format!("screening result in {}", self.state.stage.as_str()));
        }
        self.resolve_where(
            |exception| {
                exception.kind == ExceptionType::PartnerFailed
                    && exception.about
                        == Some(Pending::Screen {
                            party_id: party_id.clone(),
                        })
            },
            "screening answered",
        );
        self.audited(
            "screened",
            json!({ "party_id": party_id, "outcome": answer.outcome, "hits": answer.hits.len(), "list_version": answer.list_version }),
        );
        if let Some(check) = self.state.screening.get_mut(&party_id) {
            check.outcome = Some(answer.outcome);
            check.hits = answer.hits;
            check.list_version = answer.list_version;
        }
        self.screening_verdict();
    }

    /// Decide once every party has an answer (or at once on a confirmed match).
    fn screening_verdict(&mut self) {
        let checks = &self.state.screening;
        if let Some((party_id, check)) = checks
            .iter()
            .find(|(_, check)| check.outcome == Some(ScreeningOutcome::ConfirmedMatch))
        {
            let detail = format!("party {party_id} ({}) is a confirmed match", check.name);
            let data = json!({ "party_id": party_id, "hits": check.hits, "list_version": check.list_version });
            return self.block(detail, data, None);
        }
        if checks.values().any(|check| check.outcome.is_none()) {
            return;
        }
        let under_review: Vec<Value> = checks
            .iter()
            .filter(|(_, check)| {
                check.outcome == Some(ScreeningOutcome::PotentialMatch)
                    && check.cleared_by.is_none()
            })
            .map(|(party_id, check)| {
                json!({ "party_id": party_id, "name": check.name, "hits": check.hits })
            })
            .collect();
        if under_review.is_empty() {
            self.resolve_kind(ExceptionType::ScreeningReview, "every party cleared");
            return self.rate_and_file();
        }
        let detail = format!(
            "{} party(ies) potentially match a restricted-party list",
            under_review.len()
        );
        self.goto(Stage::OnHold, "potential screening match");
        self.open(
            ExceptionType::ScreeningReview,
            detail,
            json!({ "parties": under_review }),
            None,
        );
    }

    /// Block the shipment; `confirmed_by` is the officer who confirmed the match, if a person did.
    fn block(&mut self, detail: String, data: Value, confirmed_by: Option<Actor>) {
        self.state.confirmed_by = confirmed_by;
        self.state.override_request = None;
        self.drop_stale_lookups("superseded: the shipment is blocked");
        self.state.pending.clear();
        self.disarm_timers();
        self.resolve_kind(ExceptionType::ScreeningReview, "match confirmed");
        self.goto(Stage::Blocked, "confirmed restricted-party match");
        self.note(format!("Shipment blocked: {detail}."));
        self.open(ExceptionType::BlockedParty, detail, data, None);
    }

    pub(super) fn on_review(&mut self, review: ReviewDecision) {
        if self.state.stage != Stage::OnHold {
            return self.ignore(format!(
                "no screening review is pending in {}",
                self.state.stage.as_str()
            ));
        }
        let targets: Vec<String> = self
            .state
            .screening
            .iter()
            .filter(|(party_id, check)| {
                check.outcome == Some(ScreeningOutcome::PotentialMatch)
                    && check.cleared_by.is_none()
                    && review
                        .party_id
                        .as_ref()
                        .is_none_or(|reviewed| reviewed == *party_id)
            })
            .map(|(party_id, _)| party_id.clone())
            .collect();
        if targets.is_empty() {
            return self.ignore("no party awaiting review matches the decision");
        }
        self.audited(
            "screening_decision",
            json!({ "parties": targets, "decision": review.decision, "reason": review.reason }),
        );
        match review.decision {
            Decision::Confirm => {
                let detail = format!("confirmed by {}: {}", review.actor, review.reason);
                let hits: Vec<_> = targets
                    .iter()
                    .filter_map(|party_id| {
                        self.state
                            .screening
                            .get(party_id)
                            .map(|check| check.hits.clone())
                    })
                    .collect();
                let data = json!({ "parties": targets, "hits": hits });
                self.block(detail, data, Some(review.actor));
            }
            Decision::Clear => {
                for party_id in &targets {
                    if let Some(check) = self.state.screening.get_mut(party_id) {
                        check.cleared_by = Some(review.actor.to_string());
                    }
                }
                self.screening_verdict();
            }
        }
    }

    /// A compliance officer overrides the block, or asks for its override when four-eyes is on.
    pub(super) fn on_override(&mut self, request: Override) {
        let rules = self.saga.deps.settings.four_eyes;
        if let Err(refusal) = self
            .state
            .may_override(OverrideStep::Request, &request.actor, rules)
        {
            return self.ignore(refusal.to_string());
        }
        if !rules.block_override {
            let detail = json!({ "requested_by": request.actor, "reason": request.reason });
            let record = OverrideRecord {
                requested_by: request.actor.to_string(),
                approved_by: None,
                reason: request.reason,
                approval_reason: None,
                at_ms: self.now,
            };
            return self.lift_block(record, detail);
        }
        self.audited(
            "override_requested",
            json!({ "requested_by": request.actor, "reason": request.reason, "confirmed_by": self.state.confirmed_by }),
        );
        self.note(format!(
            "Override of the block requested by {}: {}. It waits for a second compliance officer.",
            request.actor, request.reason
        ));
        self.state.override_request = Some(OverrideRequest {
            requested_by: request.actor,
            reason: request.reason,
            at_ms: self.now,
        });
    }

    /// A second compliance officer approves the pending override request: the block is lifted.
    pub(super) fn on_override_approved(&mut self, approval: Override) {
        let Some(request) = self.pending_request(OverrideStep::Approve, &approval) else {
            return;
        };
        let detail = json!({
            "requested_by": request.requested_by,
            "approved_by": approval.actor,
            "confirmed_by": self.state.confirmed_by,
            "reason": request.reason,
            "approval_reason": approval.reason,
        });
        let record = OverrideRecord {
            requested_by: request.requested_by.to_string(),
            approved_by: Some(approval.actor.to_string()),
            reason: request.reason,
            approval_reason: Some(approval.reason),
            at_ms: self.now,
        };
        self.lift_block(record, detail);
    }

    /// A compliance officer rejects the pending override request: the shipment stays blocked.
    pub(super) fn on_override_rejected(&mut self, rejection: Override) {
        let Some(request) = self.pending_request(OverrideStep::Reject, &rejection) else {
            return;
        };
        self.audited(
            "override_rejected",
            json!({
                "requested_by": request.requested_by,
                "rejected_by": rejection.actor,
                "reason": rejection.reason,
                "request_reason": request.reason,
            }),
        );
        self.note(format!(
            "Override requested by {} rejected by {}: {}. The shipment stays blocked.",
            request.requested_by, rejection.actor, rejection.reason
        ));
    }

    /// Take the pending override request if `answer`'s officer may take `step` on it; otherwise
    /// ignore the input with the reason.
    fn pending_request(
        &mut self,
        step: OverrideStep,
        answer: &Override,
    ) -> Option<OverrideRequest> {
        let rules = self.saga.deps.settings.four_eyes;
        let allowed = self.state.may_override(step, &answer.actor, rules);
        match (allowed, self.state.override_request.take()) {
            (Ok(()), Some(request)) => Some(request),
            (Err(refusal), request) => {
                self.state.override_request = request;
                self.ignore(refusal.to_string());
                None
            }
            (Ok(()), None) => {
                self.ignore(OverrideRefusal::NothingPending.to_string());
                None
            }
        }
    }

    /// Lift the block as `record` says, and go on to the filing.
    fn lift_block(&mut self, record: OverrideRecord, detail: Value) {
        self.audited("block_overridden", detail);
        self.resolve_kind(
            ExceptionType::BlockedParty,
            &format!("overridden: {}", record.reason),
        );
        let approved = record
            .approved_by
            .as_ref()
            .map(|approver| format!(", approved by {approver}"))
            .unwrap_or_default();
        self.note(format!(
            "Block overridden by {}{approved}: {}.",
            record.requested_by, record.reason
        ));
        self.state.override_request = None;
        self.state.override_record = Some(record);
        self.rate_and_file();
    }
}
