//! Table tests of the exception paths: each drives a shipment through one side road.

use super::*;

fn screening_answers(r: &mut Run, outcomes: &[(&str, Value)]) {
    for cmd in r.sent(CHECK_PARTY) {
        let party = cmd.envelope.body["party"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let answer = outcomes
            .iter()
            .find(|(p, _)| *p == party)
            .map(|(_, a)| a.clone())
            .unwrap_or_else(|| json!({ "outcome": "clear" }));
        r.succeed(&cmd, answer);
    }
}

fn to_screening(r: &mut Run) {
    r.input(PICKING_CONFIRMED, json!({ "picking_id": PICKING }));
    let read = r.one(READ_SHIPMENT);
    r.succeed(&read, json!({ "shipment": import_json() }));
    assert_eq!(r.stage(), Stage::Screening);
}

#[test]
fn missing_hs_code_waits_for_the_fix_in_odoo_then_revalidates() {
    let mut r = Run::new(IMPORT_KEY);
    r.input(PICKING_CONFIRMED, json!({ "picking_id": PICKING }));
    let read = r.one(READ_SHIPMENT);
    r.succeed(&read, json!({ "shipment": import_without_hs() }));
    assert_eq!(r.stage(), Stage::Validating);
    assert_eq!(r.open(), [ExceptionType::MissingData]);
    let e = r.exception(ExceptionType::MissingData);
    assert!(e.detail.contains("HS_CODE_MISSING"), "{}", e.detail);
    assert!(e.detail.contains("$.lines[0]"), "{}", e.detail);
    assert_eq!(e.owner, OwnerRole::Operator);
    let w = r.odoo_write().unwrap();
    assert_eq!(w["x_trade_hold"], true);
    assert!(
        w["x_trade_hold_reason"]
            .as_str()
            .unwrap()
            .starts_with("MISSING_DATA")
    );
    let activity = r.one(SCHEDULE_ACTIVITY);
    assert_eq!(activity.envelope.body["exception_type"], "MISSING_DATA");
    assert_eq!(activity.envelope.body["owner_role"], "operator");
    assert!(
        r.sent(CHECK_PARTY).is_empty(),
        "nothing screened before the data is valid"
    );
    assert_eq!(r.last.timers.len(), 1, "exception SLA timer");

    // The operator fixes something else first: still invalid, the same exception stays open.
    r.input(PICKING_CHANGED, json!({ "picking_id": PICKING }));
    assert_eq!(r.stage(), Stage::Validating);
    assert!(r.odoo_write().is_none(), "a re-read writes nothing to Odoo");
    let read = r.one(READ_SHIPMENT);
    r.succeed(&read, json!({ "shipment": import_without_hs() }));
    assert_eq!(r.stage(), Stage::Validating);
    assert_eq!(
        r.state.exceptions.len(),
        1,
        "no second exception for the same problem"
    );
    assert!(r.sent(SCHEDULE_ACTIVITY).is_empty());
    assert!(
        r.odoo_write().is_none(),
        "no write-back when nothing visible changed"
    );
    assert!(r.state.pending.is_empty());

    // The HS code is corrected in Odoo.
    r.input(PICKING_CHANGED, json!({ "picking_id": PICKING }));
    let read = r.one(READ_SHIPMENT);
    r.succeed(&read, json!({ "shipment": import_json() }));
    assert_eq!(r.stage(), Stage::Screening);
    assert!(r.open().is_empty());
    assert!(matches!(
        r.exception(ExceptionType::MissingData).state,
        ExceptionState::Resolved { ref how, .. } if how == "validation passed"
    ));
    assert_eq!(
        r.one(CLOSE_ACTIVITY).envelope.body["exception_id"],
        "missing_data-1"
    );
    assert_eq!(r.sent(CHECK_PARTY).len(), 2);
}

#[test]
fn potential_match_cleared_by_a_reviewer_continues_to_filing() {
    let mut r = Run::new(IMPORT_KEY);
    to_screening(&mut r);
    let hit = json!({ "list": "UK-OFSI", "entry": "Kanto Seimitsu", "score": 0.91 });
    screening_answers(
        &mut r,
        &[(
            "p-supplier",
            json!({ "outcome": "potential_match", "hits": [hit] }),
        )],
    );
    assert_eq!(r.stage(), Stage::OnHold);
    let e = r.exception(ExceptionType::ScreeningReview);
    assert_eq!(e.owner, OwnerRole::ComplianceOfficer);
    assert_eq!(e.data["parties"][0]["party_id"], "p-supplier");
    assert_eq!(r.odoo_write().unwrap()["x_trade_status"], "ON_HOLD");

    // A decision about a party not under review changes nothing.
    r.input(
        SCREENING_DECISION,
        json!({ "party_id": "p-importer", "decision": "clear", "actor": person("ana"), "reason": "x" }),
    );
    assert!(r.last_ignored().is_some());
    // Resolving the review through the generic route is refused.
    r.input(
        EXCEPTION_RESOLVE,
        json!({ "exception_id": e.id, "actor": person("ana") }),
    );
    assert!(r.last_ignored().unwrap().contains("screening.decision"));

    r.input(
        SCREENING_DECISION,
        json!({ "party_id": "p-supplier", "decision": "clear", "actor": person("ana"), "reason": "different entity, JP registry checked" }),
    );
    assert_eq!(r.stage(), Stage::Filing);
    assert!(r.open().is_empty());
    assert_eq!(
        r.state.screening["p-supplier"].cleared_by.as_deref(),
        Some("ana (token:ana)")
    );
    assert!(
        r.last
            .audit
            .iter()
            .any(|a| a["actor"] == "ana (token:ana)" && a["action"] == "screening_decision")
    );
    r.one(FILE_DECLARATION);
}

#[test]
fn potential_match_confirmed_blocks_and_only_an_override_moves_it() {
    let mut r = Run::new(IMPORT_KEY);
    to_screening(&mut r);
    screening_answers(
        &mut r,
        &[("p-supplier", json!({ "outcome": "potential_match" }))],
    );
    r.input(
        SCREENING_DECISION,
        json!({ "decision": "confirm", "actor": person("ana"), "reason": "same address and directors" }),
    );
    assert_eq!(r.stage(), Stage::Blocked);
    assert!(r.saga.is_terminal(&r.state));
    assert_eq!(r.open(), [ExceptionType::BlockedParty]);
    assert_eq!(r.odoo_write().unwrap()["x_trade_status"], "BLOCKED");
    assert_eq!(r.sent(POST_NOTE).len(), 1);

    r.input(CUSTOMS_STATUS, json!({ "lrn": "X", "status": "RELEASED" }));
    assert!(r.last_ignored().unwrap().contains("BLOCKED"));
    r.input(PICKING_CANCELLED, json!({ "picking_id": PICKING }));
    assert_eq!(
        r.stage(),
        Stage::Blocked,
        "terminal: a cancellation does not move it"
    );

    r.input(
        SCREENING_OVERRIDE,
        json!({ "actor": person("head-of-compliance"), "reason": "licence GB-2026-17" }),
    );
    assert_eq!(r.stage(), Stage::Filing);
    assert_eq!(
        r.state
            .override_record
            .as_ref()
            .map(|o| o.reviewer.as_str()),
        Some("head-of-compliance (token:head-of-compliance)"),
        "the override names the authenticated principal"
    );
    assert_eq!(
        r.last.audit[0]["principal"],
        person("head-of-compliance"),
        "the input's audit entry records the principal whole, source address included"
    );
    assert!(r.open().is_empty());
    r.one(FILE_DECLARATION);
}

#[test]
fn confirmed_match_from_the_engine_blocks_at_once() {
    let mut r = Run::new(IMPORT_KEY);
    to_screening(&mut r);
    let first = r.sent(CHECK_PARTY)[0].clone();
    let second = r.sent(CHECK_PARTY)[1].clone();
    r.succeed(
        &first,
        json!({ "outcome": "confirmed_match", "hits": [{ "list": "OFAC SDN" }] }),
    );
    assert_eq!(r.stage(), Stage::Blocked);
    assert!(r.state.pending.is_empty());
    r.succeed(&second, json!({ "outcome": "clear" }));
    assert!(r.last_ignored().is_some(), "a late answer after the block");
    assert_eq!(r.stage(), Stage::Blocked);
}

#[test]
fn rejected_declaration_is_amended_in_odoo_and_refiled_with_a_new_lrn() {
    let mut r = Run::new(IMPORT_KEY);
    r.drive_to_filing(import_json());
    let first_lrn = r.lrn();
    r.accept();
    r.status(
        "REJECTED",
        json!({ "reasons": ["CDS12056: invalid commodity code"], "source_code": "DMSREJ" }),
    );
    assert_eq!(r.stage(), Stage::Rejected);
    let e = r.exception(ExceptionType::RejectedDeclaration);
    assert!(e.detail.contains("CDS12056"));
    assert!(r.state.clearance_token.is_none(), "clearance SLA disarmed");
    assert_eq!(r.odoo_write().unwrap()["x_trade_hold"], true);

    r.input(PICKING_CHANGED, json!({ "picking_id": PICKING }));
    assert_eq!(r.stage(), Stage::Rejected, "a re-read keeps the stage");
    assert!(r.odoo_write().is_none());
    let read = r.one(READ_SHIPMENT);
    r.succeed(&read, json!({ "shipment": import_json() }));
    r.clear_all();
    assert_eq!(r.stage(), Stage::Filing);
    let file = r.one(FILE_DECLARATION);
    let second_lrn = r.lrn();
    assert_ne!(first_lrn, second_lrn);
    assert_eq!(second_lrn, lrn_for(IMPORT_KEY, 2));
    assert_eq!(file.envelope.body["previous_lrn"], first_lrn.as_str());
    assert_eq!(file.envelope.body["version"], 2);
    assert!(!r.state.has_open(ExceptionType::RejectedDeclaration));

    // A late status about the rejected version does not touch the new one.
    r.input(
        CUSTOMS_STATUS,
        json!({ "lrn": first_lrn, "status": "ACCEPTED" }),
    );
    assert!(r.last_ignored().unwrap().contains(&second_lrn));
    assert_eq!(r.stage(), Stage::Filing);
}

#[test]
fn rejected_declaration_refiled_by_an_operator() {
    let mut r = Run::new(IMPORT_KEY);
    r.drive_to_filing(import_json());
    r.status("REJECTED", json!({}));
    let e = r.exception(ExceptionType::RejectedDeclaration);
    r.input(
        EXCEPTION_RESOLVE,
        json!({ "exception_id": e.id, "actor": person("olga"), "action": "refile" }),
    );
    assert_eq!(r.stage(), Stage::Filing);
    assert_eq!(r.lrn(), lrn_for(IMPORT_KEY, 2));
    assert!(!r.state.has_open(ExceptionType::RejectedDeclaration));
}

#[test]
fn customs_statuses_open_typed_exceptions_that_release_settles() {
    let cases = [
        ("QUERY", ExceptionType::CustomsQuery, OwnerRole::Operator),
        (
            "DOCS_REQUIRED",
            ExceptionType::DocsRequired,
            OwnerRole::Operator,
        ),
        (
            "CONTROL",
            ExceptionType::CustomsControl,
            OwnerRole::Operator,
        ),
        (
            "HOLD",
            ExceptionType::CustomsHold,
            OwnerRole::ComplianceOfficer,
        ),
    ];
    for (status, kind, owner) in cases {
        let mut r = Run::new(IMPORT_KEY);
        r.drive_to_filing(import_json());
        r.accept();
        r.status(status, json!({ "reasons": ["see message"] }));
        assert_eq!(r.stage(), Stage::AwaitingRelease, "{status}");
        assert_eq!(r.open(), [kind], "{status}");
        assert_eq!(r.exception(kind).owner, owner);
        assert_eq!(r.last.timers.len(), 1, "{status}: SLA timer");
        // The same status again is a no-op.
        r.status(status, json!({ "reasons": ["see message"] }));
        assert_eq!(r.state.exceptions.len(), 1, "{status}");
        r.status("RELEASED", json!({}));
        assert_eq!(r.stage(), Stage::Released, "{status}");
        assert!(r.open().is_empty(), "{status}");
    }
}

#[test]
fn hold_then_hold_removed_then_release() {
    let mut r = Run::new(IMPORT_KEY);
    r.drive_to_filing(import_json());
    r.accept();
    r.status("HOLD", json!({ "reasons": ["PGA hold: FDA"] }));
    assert!(
        r.odoo_write().unwrap()["x_trade_hold_reason"]
            .as_str()
            .unwrap()
            .contains("PGA hold")
    );
    r.status("HOLD_REMOVED", json!({}));
    assert!(r.open().is_empty());
    assert_eq!(r.stage(), Stage::AwaitingRelease);
    r.status("RELEASED", json!({}));
    assert_eq!(r.stage(), Stage::Released);
    assert_eq!(r.odoo_write().unwrap()["x_trade_hold"], false);
}

#[test]
fn statuses_are_order_independent_and_never_roll_back() {
    let mut r = Run::new(IMPORT_KEY);
    r.drive_to_filing(import_json());
    let file = r.one(FILE_DECLARATION);
    // RELEASED before ACCEPTED (ACE 1C style): straight to RELEASED.
    r.status("RELEASED", json!({}));
    assert_eq!(r.stage(), Stage::Released);
    r.status("ACCEPTED", json!({ "mrn": "MRN-LATE" }));
    assert_eq!(r.stage(), Stage::Released);
    assert_eq!(
        r.state.declaration.as_ref().unwrap().mrn.as_deref(),
        Some("MRN-LATE")
    );
    assert_eq!(
        r.state.declaration.as_ref().unwrap().status,
        Some(DeclarationStatus::Released)
    );
    r.status("QUERY", json!({}));
    assert!(
        r.open().is_empty(),
        "a late query after release opens nothing"
    );
    r.status("REJECTED", json!({}));
    assert_eq!(r.stage(), Stage::Released);
    r.status("RELEASED", json!({}));
    assert!(
        r.last.commands.is_empty(),
        "a duplicate release sends nothing"
    );
    // A status proves the filing landed: its own result is no longer awaited, and a late
    // "outcome unknown" for it cannot send the shipment back.
    assert!(
        !r.state
            .pending
            .values()
            .any(|p| matches!(p, Pending::File { .. }))
    );
    r.answer(
        &file,
        partner::OUTCOME_UNKNOWN,
        json!({ "reason": "timeout" }),
    );
    assert!(r.last_ignored().is_some());
    assert_eq!(r.stage(), Stage::Released);
    assert!(r.open().is_empty());
}

#[test]
fn milestones_are_idempotent_and_order_independent() {
    let mut r = Run::new(IMPORT_KEY);
    r.drive_to_filing(import_json());
    r.accept();
    let arrived = json!({ "code": "ARRIVED", "at": "2026-11-25T18:00:00Z", "location": "GBLHR" });
    r.input(CARRIER_MILESTONE, arrived.clone());
    assert_eq!(
        r.stage(),
        Stage::AwaitingRelease,
        "imports arrive before release"
    );
    r.input(CARRIER_MILESTONE, arrived.clone());
    assert_eq!(r.last_ignored().as_deref(), Some("duplicate milestone"));
    r.status("RELEASED", json!({}));
    assert_eq!(
        r.stage(),
        Stage::InTransit,
        "earlier milestones apply at release"
    );
    r.input(
        CARRIER_MILESTONE,
        json!({ "code": "DELIVERED", "at": "2026-11-26T09:00:00Z" }),
    );
    assert_eq!(r.stage(), Stage::Settling);
    r.input(
        CARRIER_MILESTONE,
        json!({ "code": "PICKED_UP", "at": "2026-11-24T09:00:00Z" }),
    );
    assert_eq!(
        r.stage(),
        Stage::Settling,
        "a late milestone never rolls back"
    );
    assert_eq!(r.state.furthest_milestone(), Some(Milestone::Delivered));
    r.input(CARRIER_MILESTONE, json!({ "code": "DELAYED" }));
    assert_eq!(r.stage(), Stage::Settling);
    assert_eq!(r.state.milestones.len(), 3 + 1);
}

#[test]
fn cancellation_after_filing_withdraws_the_declaration() {
    let mut r = Run::new(IMPORT_KEY);
    r.drive_to_filing(import_json());
    r.accept();
    r.status("HOLD", json!({}));
    r.input(
        PICKING_CANCELLED,
        json!({ "picking_id": PICKING, "reason": "customer cancelled" }),
    );
    assert_eq!(r.stage(), Stage::Cancelling);
    let cancel = r.one(CANCEL_DECLARATION);
    assert_eq!(cancel.partner, "edifact-broker");
    assert_eq!(cancel.envelope.body["lrn"], r.lrn().as_str());
    assert_eq!(cancel.envelope.body["mrn"], "26GB0000000000001");
    assert!(
        r.open().is_empty(),
        "customs exceptions closed by the cancellation"
    );
    assert!(r.state.clearance_token.is_none());
    r.input(PICKING_CANCELLED, json!({ "picking_id": PICKING }));
    assert_eq!(r.last_ignored().as_deref(), Some("already cancelling"));

    r.succeed(&cancel, json!({ "lrn": r.lrn(), "status": "CANCELLED" }));
    assert_eq!(r.stage(), Stage::Cancelled);
    let w = r.odoo_write().unwrap();
    assert_eq!(w["x_trade_status"], "CANCELLED");
    assert_eq!(w["x_trade_hold"], false, "hold released");
    assert!(r.saga.is_terminal(&r.state));
}

#[test]
fn cancellation_whose_broker_call_fails_can_be_retried_or_forced() {
    let mut r = Run::new(IMPORT_KEY);
    r.drive_to_filing(import_json());
    r.input(PICKING_CANCELLED, json!({ "picking_id": PICKING }));
    let cancel = r.one(CANCEL_DECLARATION);
    r.answer(&cancel, partner::FAILED, json!({ "reason": "HTTP 409" }));
    assert_eq!(r.stage(), Stage::Cancelling);
    let e = r.exception(ExceptionType::PartnerFailed);
    r.input(
        EXCEPTION_RESOLVE,
        json!({ "exception_id": e.id, "actor": person("olga"), "action": "retry" }),
    );
    let again = r.one(CANCEL_DECLARATION);
    r.answer(
        &again,
        partner::OUTCOME_UNKNOWN,
        json!({ "reason": "timeout" }),
    );
    assert!(r.state.has_open(ExceptionType::OutcomeUnknown));
    let query = r.one(QUERY_STATUS);
    r.succeed(&query, json!({ "lrn": r.lrn(), "status": "ACCEPTED" }));
    let third = r.one(CANCEL_DECLARATION);
    assert_eq!(r.stage(), Stage::Cancelling);
    r.answer(&third, partner::FAILED, json!({ "reason": "HTTP 409" }));
    let e = r.exception(ExceptionType::PartnerFailed);
    r.input(
        EXCEPTION_RESOLVE,
        json!({ "exception_id": e.id, "actor": person("olga"), "action": "force_cancel" }),
    );
    assert_eq!(r.stage(), Stage::Cancelled);
    assert!(r.open().is_empty());
}

#[test]
fn cancellation_before_filing_needs_no_compensation_at_the_broker() {
    for stage_setup in 0..3 {
        let mut r = Run::new(IMPORT_KEY);
        r.input(PICKING_CONFIRMED, json!({ "picking_id": PICKING }));
        if stage_setup >= 1 {
            let read = r.one(READ_SHIPMENT);
            r.succeed(&read, json!({ "shipment": import_without_hs() }));
            assert_eq!(r.stage(), Stage::Validating);
        }
        if stage_setup == 2 {
            r.input(PICKING_CHANGED, json!({ "picking_id": PICKING }));
        }
        r.input(PICKING_CANCELLED, json!({ "picking_id": PICKING }));
        assert_eq!(r.stage(), Stage::Cancelled, "case {stage_setup}");
        assert!(r.sent(CANCEL_DECLARATION).is_empty());
        assert!(r.open().is_empty());
        assert!(r.state.pending.is_empty());
        assert_eq!(r.odoo_write().unwrap()["x_trade_hold"], false);
    }
}

#[test]
fn cancellation_after_delivery_is_refused() {
    let mut r = Run::new(IMPORT_KEY);
    r.drive_to_filing(import_json());
    r.status("RELEASED", json!({}));
    r.input(CARRIER_MILESTONE, json!({ "code": "DELIVERED" }));
    r.input(PICKING_CANCELLED, json!({ "picking_id": PICKING }));
    assert!(r.last_ignored().unwrap().contains("delivered"));
    assert_eq!(r.stage(), Stage::Settling);
}

#[test]
fn ack_timeout_queries_the_broker_and_a_late_ack_resolves_it() {
    let mut r = Run::new(IMPORT_KEY);
    r.drive_to_filing(import_json());
    let file = r.one(FILE_DECLARATION);
    let ack_timer = r.last.timers[0].clone();
    r.fire(&ack_timer);
    assert_eq!(r.open(), [ExceptionType::AckTimeout]);
    let query = r.one(QUERY_STATUS);
    assert_eq!(query.partner, "edifact-broker");
    // Firing the same timer again (a redelivery) is stale now.
    r.fire(&ack_timer);
    assert_eq!(r.last_ignored().as_deref(), Some("stale ack timer"));
    r.succeed(&file, json!({ "lrn": r.lrn() }));
    assert!(r.open().is_empty());
    assert_eq!(r.stage(), Stage::Filing);
    assert!(r.state.pending.is_empty(), "the ack makes the query moot");
    r.succeed(&query, json!({ "lrn": r.lrn(), "status": "RECEIVED" }));
    assert!(r.last_ignored().is_some());
    r.status("ACCEPTED", json!({ "mrn": "M1" }));
    assert_eq!(r.stage(), Stage::AwaitingRelease);
}

#[test]
fn ack_timeout_resolved_by_the_query_answer() {
    let mut r = Run::new(IMPORT_KEY);
    r.drive_to_filing(import_json());
    let ack_timer = r.last.timers[0].clone();
    r.fire(&ack_timer);
    let query = r.one(QUERY_STATUS);
    r.succeed(
        &query,
        json!({ "lrn": r.lrn(), "status": "ACCEPTED", "mrn": "M1" }),
    );
    assert_eq!(r.stage(), Stage::AwaitingRelease);
    assert!(r.open().is_empty());
    assert_eq!(
        r.state.declaration.as_ref().unwrap().mrn.as_deref(),
        Some("M1")
    );
}

#[test]
fn ack_timeout_with_a_broker_that_never_saw_the_filing_refiles_the_same_lrn() {
    let mut r = Run::new(IMPORT_KEY);
    r.drive_to_filing(import_json());
    let lrn = r.lrn();
    let ack_timer = r.last.timers[0].clone();
    r.fire(&ack_timer);
    let query = r.one(QUERY_STATUS);
    r.succeed(&query, json!({ "lrn": lrn, "status": null }));
    let refile = r.one(FILE_DECLARATION);
    assert_eq!(
        refile.envelope.body["lrn"],
        lrn.as_str(),
        "same LRN: the broker dedupes"
    );
    assert!(r.open().is_empty());
    assert!(r.state.ack_token.is_some());
}

#[test]
fn an_ack_timer_after_the_ack_is_stale() {
    let mut r = Run::new(IMPORT_KEY);
    r.drive_to_filing(import_json());
    let ack_timer = r.last.timers[0].clone();
    r.accept();
    r.fire(&ack_timer);
    assert_eq!(r.last_ignored().as_deref(), Some("stale ack timer"));
    assert!(r.open().is_empty());
}

#[test]
fn clearance_sla_breach_and_exception_sla_escalation() {
    let mut r = Run::new(IMPORT_KEY);
    r.drive_to_filing(import_json());
    let file = r.one(FILE_DECLARATION);
    r.succeed(&file, json!({ "lrn": r.lrn() }));
    r.status("ACCEPTED", json!({ "mrn": "M" }));
    let clearance = r.last.timers[0].clone();
    assert_eq!(
        clearance.due_ms,
        r.now + SagaSettings::default().clearance_sla_ms
    );
    r.fire(&clearance);
    assert_eq!(r.open(), [ExceptionType::ClearanceSlaBreach]);
    assert_eq!(r.sent(POST_NOTE).len(), 0);
    let sla = r
        .last
        .timers
        .iter()
        .find(|t| t.envelope.body["timer"] == "exception_sla")
        .unwrap()
        .clone();
    r.fire(&sla);
    assert!(r.exception(ExceptionType::ClearanceSlaBreach).breached);
    assert_eq!(r.sent(POST_NOTE).len(), 1, "escalation note");
    assert!(
        r.last
            .audit
            .iter()
            .any(|a| a["action"] == "exception_sla_breached")
    );
    r.fire(&sla);
    assert!(r.last_ignored().is_some(), "escalated once");
    r.status("RELEASED", json!({}));
    assert!(r.open().is_empty());
    r.fire(&clearance);
    assert_eq!(r.last_ignored().as_deref(), Some("stale clearance timer"));
}

#[test]
fn filing_with_an_unknown_outcome_asks_the_broker_before_refiling() {
    let mut r = Run::new(IMPORT_KEY);
    r.drive_to_filing(import_json());
    let lrn = r.lrn();
    let file = r.one(FILE_DECLARATION);
    r.answer(
        &file,
        partner::OUTCOME_UNKNOWN,
        json!({ "reason": "no answer within 30s" }),
    );
    assert_eq!(r.stage(), Stage::OutcomeUnknown);
    assert_eq!(r.open(), [ExceptionType::OutcomeUnknown]);
    assert!(r.sent(FILE_DECLARATION).is_empty(), "never silently resent");
    let query = r.one(QUERY_STATUS);
    assert_eq!(r.odoo_write().unwrap()["x_trade_status"], "OUTCOME_UNKNOWN");

    // The broker does not know the LRN: the filing did not land, so it is filed again.
    r.succeed(&query, json!({ "lrn": lrn, "status": null }));
    assert_eq!(r.stage(), Stage::Filing);
    assert!(r.open().is_empty());
    let refile = r.one(FILE_DECLARATION);
    assert_eq!(refile.envelope.body["lrn"], lrn.as_str());
}

#[test]
fn unknown_filing_outcome_resolved_by_a_status_or_an_operator() {
    // A status for the LRN proves the filing landed.
    let mut r = Run::new(IMPORT_KEY);
    r.drive_to_filing(import_json());
    let file = r.one(FILE_DECLARATION);
    r.answer(
        &file,
        partner::OUTCOME_UNKNOWN,
        json!({ "reason": "timeout" }),
    );
    r.status("ACCEPTED", json!({ "mrn": "M2" }));
    assert_eq!(r.stage(), Stage::AwaitingRelease);
    assert!(r.open().is_empty());

    // The query fails; an operator confirms the filing reached the broker.
    let mut r = Run::new(IMPORT_KEY);
    r.drive_to_filing(import_json());
    let file = r.one(FILE_DECLARATION);
    r.answer(
        &file,
        partner::OUTCOME_UNKNOWN,
        json!({ "reason": "timeout" }),
    );
    let query = r.one(QUERY_STATUS);
    r.answer(&query, partner::FAILED, json!({ "reason": "HTTP 500" }));
    assert_eq!(r.stage(), Stage::OutcomeUnknown);
    let e = r.exception(ExceptionType::OutcomeUnknown);
    r.input(
        EXCEPTION_RESOLVE,
        json!({ "exception_id": e.id, "actor": person("olga"), "action": "accept" }),
    );
    assert_eq!(r.stage(), Stage::Filing);
    assert!(r.state.ack_token.is_some());
    assert!(r.sent(FILE_DECLARATION).is_empty());
}

#[test]
fn partner_failures_open_partner_failed_and_a_retry_reissues() {
    let mut r = Run::new(IMPORT_KEY);
    r.input(PICKING_CONFIRMED, json!({ "picking_id": PICKING }));
    let read = r.one(READ_SHIPMENT);
    r.answer(
        &read,
        partner::FAILED,
        json!({ "reason": "Odoo access denied" }),
    );
    assert_eq!(r.stage(), Stage::Enriching);
    let e = r.exception(ExceptionType::PartnerFailed);
    assert!(e.detail.contains("access denied"));
    r.input(
        EXCEPTION_RESOLVE,
        json!({ "exception_id": e.id, "actor": person("olga"), "action": "retry" }),
    );
    let read = r.one(READ_SHIPMENT);
    r.succeed(&read, json!({ "shipment": import_json() }));
    assert_eq!(r.stage(), Stage::Screening);

    // An unreadable answer counts as a failure, not a panic.
    let checks = r.sent(CHECK_PARTY);
    r.succeed(&checks[0], json!({ "outcome": "maybe" }));
    assert!(r.state.has_open(ExceptionType::PartnerFailed));
    // An unknown screening outcome is simply asked again (no side effect).
    r.answer(
        &checks[1],
        partner::OUTCOME_UNKNOWN,
        json!({ "reason": "timeout" }),
    );
    let again = r.one(CHECK_PARTY);
    r.succeed(&again, json!({ "outcome": "clear" }));
    let e = r.exception(ExceptionType::PartnerFailed);
    r.input(
        EXCEPTION_RESOLVE,
        json!({ "exception_id": e.id, "actor": person("olga"), "action": "retry" }),
    );
    let retried = r.one(CHECK_PARTY);
    r.succeed(&retried, json!({ "outcome": "clear" }));
    assert_eq!(r.stage(), Stage::Filing);
    assert!(r.open().is_empty());
}

#[test]
fn a_refused_odoo_write_back_is_an_exception_and_a_retry_rewrites() {
    let mut r = Run::new(IMPORT_KEY);
    r.input(PICKING_CONFIRMED, json!({ "picking_id": PICKING }));
    let write = r.one(WRITE_PICKING);
    r.answer(
        &write,
        partner::FAILED,
        json!({ "reason": "field x_trade_status missing" }),
    );
    let e = r.exception(ExceptionType::PartnerFailed);
    assert!(e.detail.contains("x_trade_status"));
    assert!(
        r.odoo_write().is_none(),
        "a failed write-back does not cause another write"
    );
    r.answer(
        &write,
        partner::FAILED,
        json!({ "reason": "field x_trade_status missing" }),
    );
    assert_eq!(
        r.last_ignored().as_deref(),
        Some("duplicate failure of a write-back")
    );
    r.succeed(&write, json!(true));
    assert!(
        r.last_ignored().is_none(),
        "a write-back result is expected, not a stray"
    );
    r.input(
        EXCEPTION_RESOLVE,
        json!({ "exception_id": e.id, "actor": person("olga"), "action": "retry" }),
    );
    assert_eq!(r.odoo_write().unwrap()["x_trade_status"], "ENRICHING");
}

#[test]
fn duty_variance_goes_to_finance_and_closes_once_accepted() {
    let mut r = Run::new(IMPORT_KEY);
    r.drive_to_filing(import_json());
    r.status("RELEASED", json!({}));
    r.input(CARRIER_MILESTONE, json!({ "code": "DELIVERED" }));
    r.input(ASSESSED_DUTY, json!({ "duty": money("100.00", "GBP") }));
    r.input(
        BROKER_INVOICE,
        json!({ "invoice": "BR-2", "duty": money("180.00", "GBP") }),
    );
    assert_eq!(r.stage(), Stage::Settling);
    let e = r.exception(ExceptionType::DutyVariance);
    assert_eq!(e.owner, OwnerRole::Finance);
    assert!(
        e.detail.contains("broker invoice vs assessed"),
        "{}",
        e.detail
    );
    r.input(
        EXCEPTION_RESOLVE,
        json!({ "exception_id": e.id, "actor": person("fin"), "action": "retry" }),
    );
    assert!(
        r.last_ignored().is_some(),
        "retry does not apply to a variance"
    );
    r.input(EXCEPTION_RESOLVE, json!({ "exception_id": e.id, "actor": person("fin"), "action": "accept", "note": "broker credit note follows" }));
    assert_eq!(r.stage(), Stage::Closed);
}

#[test]
fn settlement_inputs_that_arrive_early_are_kept_for_settling() {
    let mut r = Run::new(EXPORT_KEY);
    r.drive_to_filing(export_json());
    r.input(
        BROKER_INVOICE,
        json!({ "invoice": "BR-3", "duty": money("0", "EUR") }),
    );
    assert_eq!(r.stage(), Stage::Filing);
    r.input(
        BROKER_INVOICE,
        json!({ "invoice": "BR-3", "duty": money("0", "EUR") }),
    );
    assert_eq!(
        r.last_ignored().as_deref(),
        Some("duplicate broker invoice")
    );
    r.status("RELEASED", json!({}));
    r.input(CARRIER_MILESTONE, json!({ "code": "DELIVERED" }));
    assert_eq!(r.stage(), Stage::Closed);
}

#[test]
fn resolving_an_unknown_or_closed_exception_is_ignored() {
    let mut r = Run::new(IMPORT_KEY);
    r.input(
        EXCEPTION_RESOLVE,
        json!({ "exception_id": "nope-1", "actor": person("olga") }),
    );
    assert!(r.last_ignored().unwrap().contains("no exception"));
    r.input(PICKING_CONFIRMED, json!({ "picking_id": PICKING }));
    let read = r.one(READ_SHIPMENT);
    r.succeed(&read, json!({ "shipment": import_without_hs() }));
    let id = r.exception(ExceptionType::MissingData).id;
    r.input(
        EXCEPTION_RESOLVE,
        json!({ "exception_id": id, "actor": person("olga") }),
    );
    assert_eq!(r.stage(), Stage::Validating, "re-read to re-check");
    let read = r.one(READ_SHIPMENT);
    r.succeed(&read, json!({ "shipment": import_json() }));
    r.input(
        EXCEPTION_RESOLVE,
        json!({ "exception_id": id, "actor": person("olga") }),
    );
    assert!(r.last_ignored().unwrap().contains("already resolved"));
}

#[test]
fn batch_verdict_names_every_reason_and_a_corrected_invoice_closes() {
    let mut r = Run::new(IMPORT_KEY);
    r.drive_to_filing(import_json());
    r.status("RELEASED", json!({}));
    r.input(CARRIER_MILESTONE, json!({ "code": "DELIVERED" }));
    r.input(ASSESSED_DUTY, json!({ "duty": money("100.00", "GBP") }));
    r.input(
        BROKER_INVOICE,
        json!({ "invoice": "BR-4", "duty": money("100.00", "GBP"),
                "reconciliation": { "reconciled": false,
                                    "reasons": ["DUTY: line 10 differs", "FEE: Storage is not agreed"] } }),
    );
    assert_eq!(r.stage(), Stage::Settling);
    let e = r.exception(ExceptionType::DutyVariance);
    assert!(
        e.detail.contains("DUTY: line 10 differs")
            && e.detail.contains("FEE: Storage is not agreed"),
        "{}",
        e.detail
    );
    r.input(
        BROKER_INVOICE,
        json!({ "invoice": "BR-4a", "duty": money("100.00", "GBP"),
                "reconciliation": { "reconciled": true, "vendor_bill": 7 } }),
    );
    assert_eq!(r.stage(), Stage::Closed);
}

#[test]
fn batch_verdict_decides_over_the_inline_totals_check() {
    let mut r = Run::new(IMPORT_KEY);
    r.drive_to_filing(import_json());
    // Both arrive before delivery: kept until SETTLING.
    r.input(ASSESSED_DUTY, json!({ "duty": money("100.00", "GBP") }));
    r.input(
        BROKER_INVOICE,
        json!({ "invoice": "BR-5", "duty": money("180.00", "GBP"),
                "reconciliation": { "reconciled": true, "vendor_bill": 8, "landed_cost": 3 } }),
    );
    r.status("RELEASED", json!({}));
    r.input(CARRIER_MILESTONE, json!({ "code": "DELIVERED" }));
    assert_eq!(
        r.stage(),
        Stage::Closed,
        "the inline check alone would have raised a variance (180 vs 100)"
    );
}
