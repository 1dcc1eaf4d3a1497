//! The handlers: what each input does in each stage.

use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::inputs::{
    AssessedDuty, BatchVerdict, BrokerAnswer, BrokerInvoice, CallOutcome, Decision, Input,
    MilestoneReport, Override, PartnerResult, ReadAnswer, Resolution, ResolveAction,
    ReviewDecision, ScreeningAnswer, ScreeningOutcome, StatusReport, TimerFired,
};
use super::step::Step;
use super::{
    CANCEL_DECLARATION, CHECK_PARTY, Estimate, FILE_DECLARATION, Filing, MilestoneSeen,
    OverrideRecord, PartyCheck, Pending, QUERY_STATUS, READ_SHIPMENT, SCREENING, Stage, lrn_for,
};
use crate::model::{DeclarationStatus, Direction, Money, Shipment};
use crate::tariff::{duty, validate};
use crate::workflow::exceptions::ExceptionType;

/// Stages in which the broker may still send statuses about the current declaration.
fn expects_status(stage: Stage) -> bool {
    matches!(
        stage,
        Stage::Filing
            | Stage::OutcomeUnknown
            | Stage::AwaitingRelease
            | Stage::Released
            | Stage::InTransit
            | Stage::Settling
            | Stage::Cancelling
    )
}

/// Customs exceptions that a release settles.
fn settled_by_release(kind: ExceptionType) -> bool {
    matches!(
        kind,
        ExceptionType::CustomsQuery
            | ExceptionType::DocsRequired
            | ExceptionType::CustomsControl
            | ExceptionType::CustomsHold
            | ExceptionType::AckTimeout
            | ExceptionType::ClearanceSlaBreach
            | ExceptionType::OutcomeUnknown
    )
}

impl Step<'_> {
    pub(super) fn handle(&mut self, input: Input) {
        match input {
            Input::PickingConfirmed(hint) => self.on_confirmed(hint.picking_id),
            Input::PickingChanged(hint) => self.on_changed(hint.picking_id),
            Input::PickingCancelled(c) => self.on_cancelled(c.picking_id, c.reason),
            Input::Submitted(sub) => self.on_submitted(sub.shipment),
            Input::Partner(outcome, result) => self.on_partner(outcome, result),
            Input::Review(decision) => self.on_review(decision),
            Input::Override(o) => self.on_override(o),
            Input::Status(report) => self.on_status(report),
            Input::Milestone(m) => self.on_milestone(m),
            Input::Timer(t) => self.on_timer(t),
            Input::Assessed(a) => self.on_assessed(a),
            Input::Invoice(i) => self.on_invoice(i),
            Input::Resolve(r) => self.on_resolve(r),
        }
    }

    // ---- Odoo hints and direct submission -------------------------------------------------

    /// The picking is confirmed: the first hint starts the saga; later ones say "confirmed,
    /// perhaps changed" (the poller cannot tell the two apart) and count as a change.
    fn on_confirmed(&mut self, picking_id: u64) {
        if self.s.stage != Stage::Received {
            return self.on_changed(picking_id);
        }
        self.s.picking_id = Some(picking_id);
        self.enrich("picking confirmed in Odoo");
    }

    fn on_changed(&mut self, picking_id: u64) {
        if self.s.picking_id != Some(picking_id) {
            return self.ignore(format!(
                "change hint for picking {picking_id}, not this shipment's"
            ));
        }
        match self.s.stage {
            Stage::Enriching | Stage::Validating | Stage::Screening | Stage::Rejected => {
                self.enrich("picking changed in Odoo")
            }
            other => self.ignore(format!(
                "change noted; no effect in {} (data is re-read only before filing or after a rejection)",
                other.as_str()
            )),
        }
    }

    fn on_submitted(&mut self, shipment: Shipment) {
        if shipment.id.as_str() != self.input.key {
            return self.ignore(format!(
                "shipment id {} differs from the key {}",
                shipment.id, self.input.key
            ));
        }
        match self.s.stage {
            Stage::Received | Stage::Validating | Stage::Screening | Stage::Rejected => {
                if self.s.picking_id.is_none() {
                    self.s.picking_id = shipment.odoo.picking.as_ref().map(|p| p.id);
                }
                self.take_shipment(shipment);
            }
            other => self.ignore(format!(
                "a submitted shipment has no effect in {}",
                other.as_str()
            )),
        }
    }

    /// Read the picking from Odoo (again), superseding any read in flight.
    ///
    /// Only the first read moves the stage to ENRICHING. A re-read keeps the stage, so that
    /// the hub's own write-back (which bumps the picking's `write_date` and comes back as a
    /// change hint) does not flip `x_trade_status` and cause yet another write and hint.
    fn enrich(&mut self, why: &str) {
        self.s.pending.retain(|_, p| *p != Pending::Read);
        let body = json!({ "shipment_id": self.input.key, "picking_id": self.s.picking_id });
        self.send_pending(super::ODOO, READ_SHIPMENT, "read", body, Pending::Read);
        if self.s.stage == Stage::Received {
            self.goto(Stage::Enriching, why);
        } else {
            self.event("read_again", json!({ "why": why }));
        }
    }

    fn take_shipment(&mut self, shipment: Shipment) {
        self.s
            .pending
            .retain(|_, p| !matches!(p, Pending::Screen { .. }));
        self.resolve_where(
            |e| {
                e.kind == ExceptionType::PartnerFailed
                    && matches!(&e.about, Some(Pending::Screen { .. }))
            },
            "superseded: the shipment is screened again",
        );
        self.s.screening.clear();
        self.s.shipment = Some(shipment);
        self.goto(Stage::Validating, "shipment data read");
        self.validate();
    }

    fn validate(&mut self) {
        let Some(shipment) = self.s.shipment.as_ref() else {
            return;
        };
        let deps = &self.saga.deps;
        let report = validate(shipment, deps.reference.get(), &deps.rules);
        if report.valid {
            self.event(
                "validated",
                json!({ "valid": true, "warnings": report.issues, "nomenclature": report.nomenclature }),
            );
            self.resolve_kind(ExceptionType::MissingData, "validation passed");
            self.screen();
            return;
        }
        let errors: Vec<_> = report
            .issues
            .iter()
            .filter(|i| i.severity == crate::tariff::Severity::Error)
            .collect();
        let detail = errors
            .iter()
            .map(|i| format!("{} {}", i.path, i.code))
            .collect::<Vec<_>>()
            .join(", ");
        let data = json!({ "issues": report.issues, "nomenclature": report.nomenclature });
        self.goto(Stage::Validating, "master data invalid");
        self.open(ExceptionType::MissingData, detail, data, None);
    }

    // ---- Screening ------------------------------------------------------------------------

    fn screen(&mut self) {
        self.goto(Stage::Screening, "master data valid");
        let Some(shipment) = self.s.shipment.as_ref() else {
            return;
        };
        let direction = shipment.direction;
        let parties = shipment.parties.clone();
        for party in parties {
            let id = party.id.to_string();
            self.s.screening.insert(
                id.clone(),
                PartyCheck {
                    name: party.name.clone(),
                    outcome: None,
                    hits: Vec::new(),
                    list_version: None,
                    cleared_by: None,
                },
            );
            let body = json!({
                "shipment_id": self.input.key,
                "direction": direction,
                "party": party,
            });
            self.send_pending(
                SCREENING,
                CHECK_PARTY,
                &format!("screen:{id}"),
                body,
                Pending::Screen { party_id: id },
            );
        }
        self.screening_verdict();
    }

    /// Decide once every party has an answer (or at once on a confirmed match).
    fn screening_verdict(&mut self) {
        let checks = &self.s.screening;
        if let Some((id, c)) = checks
            .iter()
            .find(|(_, c)| c.outcome == Some(ScreeningOutcome::ConfirmedMatch))
        {
            let detail = format!("party {id} ({}) is a confirmed match", c.name);
            let data = json!({ "party_id": id, "hits": c.hits, "list_version": c.list_version });
            return self.block(detail, data);
        }
        if checks.values().any(|c| c.outcome.is_none()) {
            return;
        }
        let under_review: Vec<Value> = checks
            .iter()
            .filter(|(_, c)| {
                c.outcome == Some(ScreeningOutcome::PotentialMatch) && c.cleared_by.is_none()
            })
            .map(|(id, c)| json!({ "party_id": id, "name": c.name, "hits": c.hits }))
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
        self.s.pending.clear();
        self.disarm_timers();
        self.resolve_kind(ExceptionType::ScreeningReview, "match confirmed");
        self.goto(Stage::Blocked, "confirmed restricted-party match");
        self.note(format!("Shipment blocked: {detail}."));
        self.open(ExceptionType::BlockedParty, detail, data, None);
    }

    fn on_review(&mut self, r: ReviewDecision) {
        if self.s.stage != Stage::OnHold {
            return self.ignore(format!(
                "no screening review is pending in {}",
                self.s.stage.as_str()
            ));
        }
        let targets: Vec<String> = self
            .s
            .screening
            .iter()
            .filter(|(id, c)| {
                c.outcome == Some(ScreeningOutcome::PotentialMatch)
                    && c.cleared_by.is_none()
                    && r.party_id.as_ref().is_none_or(|p| p == *id)
            })
            .map(|(id, _)| id.clone())
            .collect();
        if targets.is_empty() {
            return self.ignore("no party awaiting review matches the decision");
        }
        self.audited(
            "screening_decision",
            json!({ "parties": targets, "decision": r.decision, "reason": r.reason }),
        );
        match r.decision {
            Decision::Confirm => {
                let detail = format!("confirmed by {}: {}", r.reviewer, r.reason);
                let hits: Vec<_> = targets
                    .iter()
                    .filter_map(|id| self.s.screening.get(id).map(|c| c.hits.clone()))
                    .collect();
                self.block(detail, json!({ "parties": targets, "hits": hits }));
            }
            Decision::Clear => {
                for id in &targets {
                    if let Some(c) = self.s.screening.get_mut(id) {
                        c.cleared_by = Some(r.reviewer.clone());
                    }
                }
                self.screening_verdict();
            }
        }
    }

    fn on_override(&mut self, o: Override) {
        if self.s.stage != Stage::Blocked {
            return self.ignore("only a BLOCKED shipment can be overridden");
        }
        self.s.override_record = Some(OverrideRecord {
            reviewer: o.reviewer.clone(),
            reason: o.reason.clone(),
            at_ms: self.now,
        });
        self.audited("block_overridden", json!({ "reason": o.reason }));
        self.resolve_kind(
            ExceptionType::BlockedParty,
            &format!("overridden: {}", o.reason),
        );
        self.note(format!("Block overridden by {}: {}.", o.reviewer, o.reason));
        self.rate_and_file();
    }

    // ---- Rating and filing ----------------------------------------------------------------

    /// Failed reads and screenings that no longer matter once the saga moved past them.
    fn drop_stale_lookups(&mut self, how: &str) {
        self.s.pending.retain(|_, p| *p != Pending::Read);
        self.resolve_where(
            |e| {
                e.kind == ExceptionType::PartnerFailed
                    && matches!(&e.about, Some(Pending::Read | Pending::Screen { .. }))
            },
            how,
        );
    }

    fn rate_and_file(&mut self) {
        self.drop_stale_lookups("superseded: screening is complete");
        self.goto(Stage::Rating, "screening passed");
        self.estimate();
        self.file_new_version();
    }

    fn estimate(&mut self) {
        let Some(shipment) = self.s.shipment.as_ref() else {
            return;
        };
        let (estimate, working) = match (&self.saga.deps.tariff, shipment.direction) {
            (_, Direction::Export | Direction::Transit) => (
                Estimate::NotMade {
                    reason: "duty is estimated for imports only".into(),
                },
                Value::Null,
            ),
            (None, Direction::Import) => (
                Estimate::NotMade {
                    reason: "no tariff book is configured".into(),
                },
                Value::Null,
            ),
            (Some(book), Direction::Import) => match duty::compute(shipment, book) {
                Ok(r) => (
                    Estimate::Computed {
                        jurisdiction: r.jurisdiction.clone(),
                        currency: r.currency,
                        customs_value: r.customs_value,
                        total_duty: r.total_duty,
                        total_taxes: r.total_taxes,
                        total_fees: r.total_fees,
                        landed_cost: r.landed_cost,
                    },
                    serde_json::to_value(&r).unwrap_or(Value::Null),
                ),
                Err(e) => (
                    Estimate::NotMade {
                        reason: e.to_string(),
                    },
                    Value::Null,
                ),
            },
        };
        self.event(
            "duty_estimate",
            json!({ "estimate": estimate, "working": working }),
        );
        self.s.estimate = Some(estimate);
    }

    /// File the next version of the declaration (the first, or an amendment after a rejection).
    fn file_new_version(&mut self) {
        let Some(shipment) = self.s.shipment.as_ref() else {
            return;
        };
        let previous = self.s.declaration.as_ref().map(|d| d.lrn.clone());
        let version = self.s.declaration.as_ref().map_or(1, |d| d.version + 1);
        let lrn = lrn_for(&self.input.key, version);
        let destination = shipment
            .destination_country
            .as_ref()
            .and_then(|c| c.valid().copied());
        let mode = shipment.transport.as_ref().and_then(|t| t.mode);
        let decision = self
            .saga
            .deps
            .routing
            .route(destination, shipment.direction, mode);
        self.s.declaration = Some(Filing {
            lrn: lrn.clone(),
            version,
            partner: decision.partner.to_owned(),
            route: decision.route.map(str::to_owned),
            routing_version: decision.version.to_owned(),
            acked: false,
            mrn: None,
            status: None,
        });
        self.audited(
            "routed",
            json!({
                "lrn": lrn,
                "version": version,
                "previous_lrn": previous,
                "partner": decision.partner,
                "route": decision.route,
                "routing_version": decision.version,
            }),
        );
        self.goto(Stage::Filing, "declaration filed");
        self.send_file();
        if let Some(previous) = previous {
            self.resolve_kind(
                ExceptionType::RejectedDeclaration,
                &format!("amended: {previous} refiled as {lrn}"),
            );
        }
    }

    /// Send the current declaration (again, with the same LRN: the broker dedupes on it).
    fn send_file(&mut self) {
        let (Some(d), Some(shipment)) = (self.s.declaration.clone(), self.s.shipment.as_ref())
        else {
            return;
        };
        let previous = (d.version > 1).then(|| lrn_for(&self.input.key, d.version - 1));
        let body = json!({
            "lrn": d.lrn,
            "version": d.version,
            "previous_lrn": previous,
            "shipment": shipment,
            "estimate": self.s.estimate,
            "route": d.route,
        });
        self.s
            .pending
            .retain(|_, p| !matches!(p, Pending::File { .. } | Pending::Query { .. }));
        self.send_pending(
            &d.partner,
            FILE_DECLARATION,
            &format!("file:{}", d.lrn),
            body,
            Pending::File { lrn: d.lrn.clone() },
        );
        self.arm_ack();
    }

    fn query(&mut self, lrn: &str) {
        let Some(partner) = self.s.declaration.as_ref().map(|d| d.partner.clone()) else {
            return;
        };
        self.s
            .pending
            .retain(|_, p| !matches!(p, Pending::Query { .. }));
        self.send_pending(
            &partner,
            QUERY_STATUS,
            &format!("query:{lrn}"),
            json!({ "lrn": lrn }),
            Pending::Query {
                lrn: lrn.to_owned(),
            },
        );
    }

    fn send_cancel(&mut self, reason: &str) {
        let Some(d) = self.s.declaration.clone() else {
            return;
        };
        self.s
            .pending
            .retain(|_, p| !matches!(p, Pending::Cancel { .. }));
        self.send_pending(
            &d.partner,
            CANCEL_DECLARATION,
            &format!("cancel:{}", d.lrn),
            json!({ "lrn": d.lrn, "mrn": d.mrn, "reason": reason }),
            Pending::Cancel { lrn: d.lrn },
        );
    }

    // ---- Partner results ------------------------------------------------------------------

    fn on_partner(&mut self, outcome: CallOutcome, r: PartnerResult) {
        let Some(pending) = self.s.pending.remove(&r.command_id) else {
            return self.untracked_result(outcome, &r);
        };
        let reason = r.reason.clone().unwrap_or_default();
        match (pending, outcome) {
            (Pending::Read, CallOutcome::Succeeded) => {
                match ReadAnswer::deserialize_from(&r.result) {
                    Ok(answer) => self.on_read(answer.shipment),
                    Err(e) => self.partner_failed(
                        Pending::Read,
                        format!("Odoo returned an unreadable shipment: {e}"),
                    ),
                }
            }
            (Pending::Screen { party_id }, CallOutcome::Succeeded) => {
                match ScreeningAnswer::deserialize_from(&r.result) {
                    Ok(answer) => self.on_screened(party_id, answer),
                    Err(e) => self.partner_failed(
                        Pending::Screen { party_id },
                        format!("unreadable screening result: {e}"),
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
            (p @ (Pending::Read | Pending::Screen { .. }), CallOutcome::Failed) => {
                self.partner_failed(p, reason)
            }
            (Pending::File { lrn }, CallOutcome::Succeeded) => self.on_filed(lrn, &r.result),
            (Pending::File { lrn }, CallOutcome::Failed) => {
                self.s.ack_token = None;
                self.partner_failed(Pending::File { lrn }, reason);
            }
            (Pending::File { lrn }, CallOutcome::Unknown) => {
                self.s.ack_token = None;
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
                let answer = BrokerAnswer::deserialize_from(&r.result).ok();
                let status = answer.and_then(|a| a.status);
                if status.is_none_or(|s| s == DeclarationStatus::Cancelled) {
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
                match BrokerAnswer::deserialize_from(&r.result) {
                    Ok(answer) => self.on_query_answer(lrn, answer),
                    Err(e) => self.event(
                        "query_unreadable",
                        json!({ "lrn": lrn, "error": e.to_string() }),
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
    fn untracked_result(&mut self, outcome: CallOutcome, r: &PartnerResult) {
        match (r.command_kind.as_str(), outcome) {
            (super::WRITE_PICKING, CallOutcome::Succeeded) => {
                self.event("odoo_written", json!({ "command": r.command_id }))
            }
            (super::WRITE_PICKING, CallOutcome::Failed) => {
                let seen = self
                    .s
                    .exceptions
                    .iter()
                    .any(|e| e.data["command_id"] == r.command_id.as_str());
                if seen {
                    return self.ignore("duplicate failure of a write-back");
                }
                let reason = r.reason.clone().unwrap_or_default();
                self.open(
                    ExceptionType::PartnerFailed,
                    format!("Odoo refused the status write-back: {reason}"),
                    json!({ "command_id": r.command_id }),
                    Some(Pending::WriteBack),
                );
            }
            (
                super::WRITE_PICKING
                | super::POST_NOTE
                | super::SCHEDULE_ACTIVITY
                | super::CLOSE_ACTIVITY,
                _,
            ) => self.event(
                "odoo_writeback_result",
                json!({ "command": r.command_id, "kind": r.command_kind, "outcome": format!("{outcome:?}"), "reason": r.reason }),
            ),
            _ => self.ignore(format!(
                "no command {} is awaited (a duplicate or superseded result)",
                r.command_id
            )),
        }
    }

    fn partner_failed(&mut self, about: Pending, reason: String) {
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

    fn on_read(&mut self, shipment: Shipment) {
        if !matches!(
            self.s.stage,
            Stage::Enriching | Stage::Validating | Stage::Screening | Stage::Rejected
        ) {
            return self.ignore(format!(
                "shipment data read in {}: too late to change the filing",
                self.s.stage.as_str()
            ));
        }
        if shipment.id.as_str() != self.input.key {
            return self.partner_failed(
                Pending::Read,
                format!(
                    "Odoo returned shipment {} for key {}",
                    shipment.id, self.input.key
                ),
            );
        }
        self.resolve_where(
            |e| e.kind == ExceptionType::PartnerFailed && e.about == Some(Pending::Read),
            "read succeeded",
        );
        self.take_shipment(shipment);
    }

    fn rescreen(&mut self, party_id: &str) {
        let party = self
            .s
            .shipment
            .as_ref()
            .and_then(|s| s.parties.iter().find(|p| p.id.as_str() == party_id))
            .cloned();
        let Some(party) = party else {
            return self.ignore(format!("party {party_id} is no longer on the shipment"));
        };
        let direction = self.s.shipment.as_ref().map(|s| s.direction);
        let body = json!({ "shipment_id": self.input.key, "direction": direction, "party": party });
        self.send_pending(
            SCREENING,
            CHECK_PARTY,
            &format!("screen:{party_id}"),
            body,
            Pending::Screen {
                party_id: party_id.to_owned(),
            },
        );
    }

    fn on_screened(&mut self, party_id: String, answer: ScreeningAnswer) {
        if self.s.stage != Stage::Screening {
            return self.ignore(format!("screening result in {}", self.s.stage.as_str()));
        }
        self.resolve_where(
            |e| {
                e.kind == ExceptionType::PartnerFailed
                    && e.about
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
        if let Some(check) = self.s.screening.get_mut(&party_id) {
            check.outcome = Some(answer.outcome);
            check.hits = answer.hits;
            check.list_version = answer.list_version;
        }
        self.screening_verdict();
    }

    fn on_filed(&mut self, lrn: String, result: &Value) {
        self.resolve_where(
            |e| {
                e.kind == ExceptionType::PartnerFailed
                    && matches!(&e.about, Some(Pending::File { .. }))
            },
            "filing acknowledged",
        );
        let answer = BrokerAnswer::deserialize_from(result).unwrap_or(BrokerAnswer {
            lrn: None,
            status: None,
            mrn: None,
            reasons: Vec::new(),
        });
        let status = answer.status.unwrap_or(DeclarationStatus::Submitted);
        self.apply_status(StatusReport {
            lrn,
            status,
            mrn: answer.mrn,
            reasons: answer.reasons,
            source_code: None,
        });
    }

    fn on_query_answer(&mut self, lrn: String, answer: BrokerAnswer) {
        let current = self.s.declaration.as_ref().map(|d| d.lrn.clone());
        if current.as_deref() != Some(lrn.as_str()) {
            return self.ignore(format!(
                "query answer for {lrn}, not the current declaration"
            ));
        }
        match answer.status {
            Some(status) => self.apply_status(StatusReport {
                lrn,
                status,
                mrn: answer.mrn,
                reasons: answer.reasons,
                source_code: None,
            }),
            None => match self.s.stage {
                Stage::Cancelling => {
                    self.finish_cancel("the broker holds no declaration to withdraw")
                }
                Stage::OutcomeUnknown | Stage::Filing => {
                    let how = format!("the broker has no declaration {lrn}: filed again");
                    self.resolve_where(
                        |e| {
                            matches!(
                                e.kind,
                                ExceptionType::OutcomeUnknown | ExceptionType::AckTimeout
                            ) && matches!(&e.about, Some(Pending::File { .. }) | None)
                        },
                        &how,
                    );
                    self.goto(Stage::Filing, "declaration unknown to the broker");
                    self.send_file();
                }
                other => self.event(
                    "query_answer",
                    json!({ "lrn": lrn, "status": null, "stage": other.as_str() }),
                ),
            },
        }
    }

    // ---- Declaration statuses -------------------------------------------------------------

    fn on_status(&mut self, report: StatusReport) {
        self.apply_status(report);
    }

    fn apply_status(&mut self, r: StatusReport) {
        let Some(current) = self.s.declaration.as_ref() else {
            return self.ignore("no declaration has been filed");
        };
        if current.lrn != r.lrn {
            return self.ignore(format!(
                "status for {}, but the current declaration is {}",
                r.lrn, current.lrn
            ));
        }
        if !expects_status(self.s.stage) {
            return self.ignore(format!(
                "status {:?} has no effect in {}",
                r.status,
                self.s.stage.as_str()
            ));
        }
        if self.s.stage == Stage::Cancelling {
            return self.status_while_cancelling(r);
        }
        // Customs or the broker talks about this LRN, so the filing landed: its own result and
        // any query about it no longer matter (a late "outcome unknown" must not send the
        // shipment back).
        self.s
            .pending
            .retain(|_, p| !matches!(p, Pending::File { .. } | Pending::Query { .. }));
        if self.s.stage == Stage::OutcomeUnknown {
            self.resolve_where(
                |e| {
                    e.kind == ExceptionType::OutcomeUnknown
                        && matches!(&e.about, Some(Pending::File { .. }))
                },
                "the broker holds the declaration",
            );
            self.goto(Stage::Filing, "the filing landed");
        }
        let status = r.status;
        let before_release = matches!(self.s.stage, Stage::Filing | Stage::AwaitingRelease);
        // After release only the statuses that can follow a release are recorded; anything
        // else is a late message and must not roll the declaration back.
        let late = !before_release
            && !matches!(
                status,
                DeclarationStatus::Released
                    | DeclarationStatus::Cleared
                    | DeclarationStatus::Exited
                    | DeclarationStatus::HandledExternally
                    | DeclarationStatus::Amended
            );
        if let Some(d) = self.s.declaration.as_mut() {
            d.acked = true;
            if let Some(mrn) = r.mrn.clone()
                && d.mrn.is_none()
            {
                d.mrn = Some(mrn);
            }
            let mere_ack = matches!(
                status,
                DeclarationStatus::Submitted | DeclarationStatus::Received
            ) && d.status.is_some();
            if !late && !mere_ack {
                d.status = Some(status);
            }
        }
        self.audited(
            "declaration_status",
            json!({ "lrn": r.lrn, "status": status, "late": late, "mrn": r.mrn, "reasons": r.reasons, "source_code": r.source_code }),
        );
        if self.s.stage == Stage::Filing {
            self.s.ack_token = None;
            self.resolve_where(
                |e| {
                    e.kind == ExceptionType::AckTimeout
                        || (e.kind == ExceptionType::PartnerFailed
                            && matches!(&e.about, Some(Pending::File { .. })))
                },
                "the broker acknowledged",
            );
        }
        match status {
            DeclarationStatus::Submitted
            | DeclarationStatus::Received
            | DeclarationStatus::Amended
            | DeclarationStatus::Cleared
            | DeclarationStatus::Exited
            | DeclarationStatus::HandledExternally => {}
            DeclarationStatus::Accepted => {
                if self.s.stage == Stage::Filing {
                    self.await_release("declaration accepted");
                }
            }
            DeclarationStatus::Query
            | DeclarationStatus::DocsRequired
            | DeclarationStatus::Control
            | DeclarationStatus::Hold => {
                if !before_release {
                    return self.event("late_status", json!({ "status": status }));
                }
                if self.s.stage == Stage::Filing {
                    self.await_release("customs is handling the declaration");
                }
                let kind = match status {
                    DeclarationStatus::Query => ExceptionType::CustomsQuery,
                    DeclarationStatus::DocsRequired => ExceptionType::DocsRequired,
                    DeclarationStatus::Control => ExceptionType::CustomsControl,
                    _ => ExceptionType::CustomsHold,
                };
                let detail = if r.reasons.is_empty() {
                    format!("customs reports {status:?} on {}", r.lrn)
                } else {
                    r.reasons.join("; ")
                };
                self.open(kind, detail, json!({ "reasons": r.reasons }), None);
            }
            DeclarationStatus::HoldRemoved => {
                self.resolve_kind(ExceptionType::CustomsHold, "hold removed by customs")
            }
            DeclarationStatus::Released => {
                if before_release {
                    self.release();
                }
            }
            DeclarationStatus::Rejected
            | DeclarationStatus::Cancelled
            | DeclarationStatus::Expired => {
                if before_release {
                    self.reject(&r);
                } else {
                    self.event("late_status", json!({ "status": status }));
                }
            }
        }
    }

    fn await_release(&mut self, why: &str) {
        self.goto(Stage::AwaitingRelease, why);
        self.arm_clearance();
    }

    fn reject(&mut self, r: &StatusReport) {
        self.disarm_timers();
        self.s
            .pending
            .retain(|_, p| !matches!(p, Pending::File { .. } | Pending::Query { .. }));
        let why = match r.status {
            DeclarationStatus::Cancelled => "invalidated by customs",
            DeclarationStatus::Expired => "expired",
            _ => "rejected",
        };
        let detail = if r.reasons.is_empty() {
            format!("{} {why}", r.lrn)
        } else {
            format!("{} {why}: {}", r.lrn, r.reasons.join("; "))
        };
        self.resolve_where(
            |e| settled_by_release(e.kind),
            "superseded by the rejection",
        );
        self.goto(Stage::Rejected, why);
        self.note(format!(
            "Customs declaration {detail}. Amend in Odoo to refile."
        ));
        self.open(
            ExceptionType::RejectedDeclaration,
            detail,
            json!({ "lrn": r.lrn, "reasons": r.reasons, "source_code": r.source_code }),
            None,
        );
    }

    fn release(&mut self) {
        self.disarm_timers();
        self.resolve_where(|e| settled_by_release(e.kind), "goods released");
        self.goto(Stage::Released, "customs released the goods");
        let mrn = self
            .s
            .declaration
            .as_ref()
            .and_then(|d| d.mrn.clone())
            .unwrap_or_else(|| "-".to_owned());
        self.note(format!(
            "Customs released the goods (MRN {mrn}); dispatch may proceed."
        ));
        self.progress();
    }

    fn status_while_cancelling(&mut self, r: StatusReport) {
        self.audited(
            "declaration_status",
            json!({ "lrn": r.lrn, "status": r.status, "while": "cancelling" }),
        );
        if r.status == DeclarationStatus::Cancelled {
            return self.finish_cancel("customs cancelled the declaration");
        }
        let unknown_cancel = self.s.exceptions.iter().any(|e| {
            e.is_open()
                && e.kind == ExceptionType::OutcomeUnknown
                && matches!(&e.about, Some(Pending::Cancel { .. }))
        });
        if unknown_cancel {
            // The broker still reports the declaration alive: the cancel did not land.
            self.resolve_where(
                |e| {
                    e.kind == ExceptionType::OutcomeUnknown
                        && matches!(&e.about, Some(Pending::Cancel { .. }))
                },
                "the cancellation did not land: sent again",
            );
            self.send_cancel("cancelled in Odoo");
        }
    }

    // ---- Carrier milestones ---------------------------------------------------------------

    fn on_milestone(&mut self, m: MilestoneReport) {
        let seen = MilestoneSeen {
            code: m.code,
            at: m.at,
            location: m.location,
        };
        if self.s.milestones.contains(&seen) {
            return self.ignore("duplicate milestone");
        }
        self.event(
            "milestone",
            json!({ "code": seen.code, "at": seen.at, "location": seen.location, "carrier": m.carrier }),
        );
        self.s.milestones.insert(seen);
        self.progress();
    }

    /// Move along the journey as far as the milestones seen allow. Only forward: a late or
    /// earlier milestone never moves the stage back.
    fn progress(&mut self) {
        if !matches!(self.s.stage, Stage::Released | Stage::InTransit) {
            return;
        }
        let Some(furthest) = self.s.furthest_milestone() else {
            return;
        };
        self.goto(Stage::InTransit, "carrier reports progress");
        if furthest == super::inputs::Milestone::Delivered {
            self.goto(Stage::Delivered, "delivered");
            self.goto(
                Stage::Settling,
                "waiting for assessed duty and the broker's invoice",
            );
            self.try_reconcile();
        }
    }

    // ---- Settling -------------------------------------------------------------------------

    fn on_assessed(&mut self, a: AssessedDuty) {
        if self.s.assessed.as_ref() == Some(&a) {
            return self.ignore("duplicate assessed duty");
        }
        self.audited(
            "duty_assessed",
            json!({ "duty": a.duty, "reference": a.reference }),
        );
        self.s.assessed = Some(a);
        self.try_reconcile();
    }

    fn on_invoice(&mut self, i: BrokerInvoice) {
        if self.s.invoice.as_ref() == Some(&i) {
            return self.ignore("duplicate broker invoice");
        }
        self.audited(
            "broker_invoice",
            json!({ "invoice": i.invoice, "duty": i.duty, "fees": i.fees, "reconciliation": i.reconciliation }),
        );
        self.s.invoice = Some(i);
        self.try_reconcile();
    }

    fn within(&self, a: Money, b: Money) -> Result<(), String> {
        if a.currency() != b.currency() {
            return Err(format!("{a} and {b} are in different currencies"));
        }
        let settings = &self.saga.deps.settings;
        let diff = (a.amount() - b.amount()).abs();
        let tolerance = settings
            .variance_abs
            .max(b.amount().abs() * settings.variance_pct / Decimal::ONE_HUNDRED);
        if diff > tolerance {
            Err(format!(
                "{a} differs from {b} by {diff} (tolerance {tolerance})"
            ))
        } else {
            Ok(())
        }
    }

    fn try_reconcile(&mut self) {
        if self.s.stage != Stage::Settling {
            return;
        }
        let verdict = self
            .s
            .invoice
            .as_ref()
            .and_then(|i| i.reconciliation.clone());
        if let Some(verdict) = verdict.filter(|v| v.reconciled)
            && self.s.has_open(ExceptionType::DutyVariance)
        {
            self.resolve_kind(
                ExceptionType::DutyVariance,
                "a corrected invoice reconciles",
            );
            return self.settle_on(&verdict);
        }
        if self.s.has_open(ExceptionType::DutyVariance) {
            return;
        }
        let import = self
            .s
            .shipment
            .as_ref()
            .is_some_and(|s| s.direction == Direction::Import);
        let Some(invoice) = self.s.invoice.as_ref() else {
            return;
        };
        if let Some(verdict) = invoice.reconciliation.clone() {
            return self.settle_on(&verdict);
        }
        let invoice_duty = invoice.duty;
        let assessed = self.s.assessed.as_ref().map(|a| a.duty);
        if import && assessed.is_none() {
            return;
        }
        let mut problems = Vec::new();
        if let Some(assessed) = assessed {
            if let Err(p) = self.within(invoice_duty, assessed) {
                problems.push(format!("broker invoice vs assessed: {p}"));
            }
            if let Some(Estimate::Computed {
                currency,
                total_duty,
                ..
            }) = &self.s.estimate
            {
                let estimate = Money::new(*total_duty, *currency);
                if let Err(p) = self.within(estimate, assessed) {
                    problems.push(format!("estimate vs assessed: {p}"));
                }
            }
        }
        if problems.is_empty() {
            self.reconciled("duty agrees within tolerance");
        } else {
            let detail = problems.join("; ");
            self.open(
                ExceptionType::DutyVariance,
                detail,
                json!({ "assessed": assessed, "invoice": self.s.invoice, "estimate": self.s.estimate }),
                None,
            );
        }
    }

    /// Settles on the reconciliation batch's verdict: close, or raise DUTY_VARIANCE naming
    /// every reason the batch found.
    fn settle_on(&mut self, verdict: &BatchVerdict) {
        if verdict.reconciled {
            return self.reconciled(
                "the reconciliation batch found estimate, assessment and invoice in agreement",
            );
        }
        let detail = if verdict.reasons.is_empty() {
            "the reconciliation batch found a variance but named no reason".to_owned()
        } else {
            verdict.reasons.join("; ")
        };
        self.open(
            ExceptionType::DutyVariance,
            detail,
            json!({ "reasons": verdict.reasons, "assessed": self.s.assessed, "invoice": self.s.invoice, "estimate": self.s.estimate }),
            None,
        );
    }

    fn reconciled(&mut self, why: &str) {
        self.goto(Stage::Reconciled, why);
        self.goto(Stage::Closed, "settled");
        self.note("Shipment closed: customs cleared, delivered and settled.".to_owned());
    }

    // ---- Cancellation ---------------------------------------------------------------------

    fn on_cancelled(&mut self, picking_id: u64, reason: Option<String>) {
        if self.s.picking_id.is_some_and(|p| p != picking_id) {
            return self.ignore(format!(
                "cancellation of picking {picking_id}, not this shipment's"
            ));
        }
        let reason = reason.unwrap_or_else(|| "cancelled in Odoo".to_owned());
        match self.s.stage {
            Stage::Delivered | Stage::Settling | Stage::Reconciled => self.ignore(format!(
                "goods already delivered ({}); a cancellation cannot be honoured",
                self.s.stage.as_str()
            )),
            Stage::Cancelling => self.ignore("already cancelling"),
            Stage::Closed | Stage::Cancelled => self.ignore(format!(
                "the shipment is already {}; a cancellation changes nothing",
                self.s.stage.as_str()
            )),
            Stage::Filing
            | Stage::OutcomeUnknown
            | Stage::AwaitingRelease
            | Stage::Released
            | Stage::InTransit => {
                self.disarm_timers();
                self.s
                    .pending
                    .retain(|_, p| matches!(p, Pending::Cancel { .. }));
                self.resolve_where(|e| settled_by_release(e.kind), "shipment cancelled");
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

    /// The compensations are done: clear the hold in Odoo, close every exception.
    fn finish_cancel(&mut self, why: &str) {
        self.disarm_timers();
        self.s.pending.clear();
        self.resolve_where(|_| true, "shipment cancelled");
        self.goto(Stage::Cancelled, why);
        self.note(format!("Shipment cancelled: {why}; trade hold released."));
    }

    // ---- Timers ---------------------------------------------------------------------------

    fn on_timer(&mut self, t: TimerFired) {
        match t {
            TimerFired::AckTimeout { token } => {
                let lrn = self.s.declaration.as_ref().map(|d| d.lrn.clone());
                match lrn {
                    Some(lrn)
                        if self.s.ack_token == Some(token) && self.s.stage == Stage::Filing =>
                    {
                        self.s.ack_token = None;
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
            TimerFired::ClearanceSla { token } => {
                if self.s.clearance_token == Some(token) && self.s.stage == Stage::AwaitingRelease {
                    self.s.clearance_token = None;
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
            TimerFired::ExceptionSla { exception_id } => {
                let Some(e) = self
                    .s
                    .exceptions
                    .iter_mut()
                    .find(|e| e.id == exception_id && e.is_open() && !e.breached)
                else {
                    return self.ignore("exception already resolved or escalated");
                };
                e.breached = true;
                let (kind, owner) = (e.kind, e.owner);
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
    }

    // ---- People resolving exceptions ------------------------------------------------------

    fn on_resolve(&mut self, r: Resolution) {
        let Some(e) = self.s.exceptions.iter().find(|e| e.id == r.exception_id) else {
            return self.ignore(format!("no exception {}", r.exception_id));
        };
        if !e.is_open() {
            return self.ignore(format!("exception {} is already resolved", r.exception_id));
        }
        let (kind, about) = (e.kind, e.about.clone());
        let note = r.note.clone().unwrap_or_else(|| format!("{:?}", r.action));
        let id = r.exception_id.clone();
        let only_this = |e: &crate::workflow::exceptions::Exception| e.id == id;
        let not_applicable = |step: &mut Self| {
            step.ignore(format!(
                "action {:?} does not apply to {} in {}",
                r.action,
                kind.as_str(),
                step.s.stage.as_str()
            ))
        };
        self.audited(
            "resolution_requested",
            json!({ "id": r.exception_id, "action": r.action, "note": r.note }),
        );
        match (kind, about, r.action) {
            (ExceptionType::ScreeningReview, ..) => {
                self.ignore("decide screening reviews through screening.decision")
            }
            (ExceptionType::BlockedParty, ..) => {
                self.ignore("a block is lifted only by screening.override")
            }
            (ExceptionType::MissingData, _, _) => {
                // Re-check now; the exception closes only when the data is valid.
                if self.s.picking_id.is_some() {
                    self.enrich("operator reports the data fixed");
                } else {
                    self.validate();
                }
            }
            (
                ExceptionType::RejectedDeclaration,
                _,
                ResolveAction::Refile | ResolveAction::Retry | ResolveAction::Resolve,
            ) if self.s.stage == Stage::Rejected => {
                self.rate_and_file();
            }
            (ExceptionType::DutyVariance, _, ResolveAction::Accept | ResolveAction::Resolve)
                if self.s.stage == Stage::Settling =>
            {
                self.resolve_where(only_this, &note);
                self.reconciled("variance accepted by finance");
            }
            (
                ExceptionType::OutcomeUnknown,
                Some(Pending::File { .. }),
                ResolveAction::Refile | ResolveAction::Retry,
            )
            | (
                ExceptionType::PartnerFailed,
                Some(Pending::File { .. }),
                ResolveAction::Refile | ResolveAction::Retry | ResolveAction::Resolve,
            ) if matches!(self.s.stage, Stage::Filing | Stage::OutcomeUnknown) => {
                self.resolve_where(only_this, &note);
                self.goto(Stage::Filing, "filed again by an operator");
                self.send_file();
            }
            (
                ExceptionType::OutcomeUnknown,
                Some(Pending::File { .. }),
                ResolveAction::Accept | ResolveAction::Resolve,
            ) if self.s.stage == Stage::OutcomeUnknown => {
                self.resolve_where(only_this, &note);
                if let Some(d) = self.s.declaration.as_mut() {
                    d.acked = true;
                }
                self.goto(Stage::Filing, "operator confirms the filing landed");
                // Statuses should follow; if none does, the ack timer asks the broker again.
                self.arm_ack();
            }
            // Same LRN: the broker dedupes, so asking again by refiling is safe and re-arms
            // the timer.
            (ExceptionType::AckTimeout, _, _) if self.s.stage == Stage::Filing => {
                self.resolve_where(only_this, &note);
                self.send_file();
            }
            (
                ExceptionType::OutcomeUnknown | ExceptionType::PartnerFailed,
                Some(Pending::Cancel { .. }),
                ResolveAction::Retry,
            ) if self.s.stage == Stage::Cancelling => {
                self.resolve_where(only_this, &note);
                self.send_cancel("cancelled in Odoo");
            }
            (
                ExceptionType::OutcomeUnknown | ExceptionType::PartnerFailed,
                Some(Pending::Cancel { .. }),
                ResolveAction::ForceCancel | ResolveAction::Accept | ResolveAction::Resolve,
            ) if self.s.stage == Stage::Cancelling => {
                self.finish_cancel(&format!("cancelled by {}: {note}", r.by));
            }
            (ExceptionType::PartnerFailed, Some(Pending::Read), _)
                if matches!(
                    self.s.stage,
                    Stage::Enriching | Stage::Validating | Stage::Screening | Stage::Rejected
                ) =>
            {
                self.resolve_where(only_this, &note);
                self.enrich("retried by an operator");
            }
            (ExceptionType::PartnerFailed, Some(Pending::Screen { party_id }), _)
                if self.s.stage == Stage::Screening =>
            {
                self.resolve_where(only_this, &note);
                self.rescreen(&party_id);
            }
            (ExceptionType::PartnerFailed, Some(Pending::WriteBack), _) => {
                self.resolve_where(only_this, &note);
                self.force_write();
            }
            (
                ExceptionType::CustomsQuery
                | ExceptionType::DocsRequired
                | ExceptionType::CustomsControl
                | ExceptionType::CustomsHold
                | ExceptionType::AckTimeout
                | ExceptionType::ClearanceSlaBreach
                | ExceptionType::PartnerFailed
                | ExceptionType::OutcomeUnknown,
                _,
                ResolveAction::Resolve,
            ) => self.resolve_where(only_this, &note),
            // The saga moved on since the failure: nothing is left to retry.
            (ExceptionType::PartnerFailed | ExceptionType::OutcomeUnknown, _, _)
                if matches!(
                    self.s.stage,
                    Stage::Released | Stage::InTransit | Stage::Settling
                ) =>
            {
                self.resolve_where(only_this, &format!("{note} (no longer applies)"))
            }
            _ => not_applicable(self),
        }
    }
}

/// Decoding of partner result bodies without cloning them.
trait FromResult: Sized {
    fn deserialize_from(v: &Value) -> Result<Self, serde_json::Error>;
}

impl<T: for<'de> serde::Deserialize<'de>> FromResult for T {
    fn deserialize_from(v: &Value) -> Result<Self, serde_json::Error> {
        T::deserialize(v)
    }
}
