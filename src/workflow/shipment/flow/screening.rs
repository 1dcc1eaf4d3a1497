//! SCREENING, ON_HOLD and BLOCKED: one check per party, the verdict once every party has an
//! answer, a compliance officer's review of a potential match and the override of a block.

use serde_json::{Value, json};

use crate::workflow::exceptions::ExceptionType;
use crate::workflow::shipment::commands::CheckParty;
use crate::workflow::shipment::inputs::{
    Decision, Override, ReviewDecision, ScreeningAnswer, ScreeningOutcome,
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
            return self.block(detail, data);
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

    fn block(&mut self, detail: String, data: Value) {
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
                self.block(detail, json!({ "parties": targets, "hits": hits }));
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

    pub(super) fn on_override(&mut self, request: Override) {
        if self.state.stage != Stage::Blocked {
            return self.ignore("only a BLOCKED shipment can be overridden");
        }
        self.state.override_record = Some(OverrideRecord {
            reviewer: request.actor.to_string(),
            reason: request.reason.clone(),
            at_ms: self.now,
        });
        self.audited("block_overridden", json!({ "reason": request.reason }));
        self.resolve_kind(
            ExceptionType::BlockedParty,
            &format!("overridden: {}", request.reason),
        );
        self.note(format!(
            "Block overridden by {}: {}.",
            request.actor, request.reason
        ));
        self.rate_and_file();
    }
}
