//! Table tests of the early side roads: validation, screening, rejected filings and customs statuses.

use super::*;

pub(super) fn screening_answers(r: &mut Run, outcomes: &[(&str, Value)]) {
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

pub(super) fn to_screening(r: &mut Run) {
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
    assert_eq!(r.stage(), Stage::Blocked, "the override waits for approval");
    r.input(
        OVERRIDE_APPROVE,
        json!({ "actor": person("deputy"), "reason": "licence checked" }),
    );
    assert_eq!(r.stage(), Stage::Filing);
    assert_eq!(
        r.state
            .override_record
            .as_ref()
            .map(|o| (o.requested_by.as_str(), o.approved_by.as_deref())),
        Some((
            "head-of-compliance (token:head-of-compliance)",
            Some("deputy (token:deputy)")
        )),
        "the override names the authenticated principals"
    );
    assert_eq!(
        r.last.audit[0]["principal"],
        person("deputy"),
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
fn a_signed_callbacks_status_is_audited_with_the_partner_and_its_address() {
    let mut r = Run::new(IMPORT_KEY);
    r.drive_to_filing(import_json());
    r.accept();
    let caller =
        json!({ "id": "partner:rest-broker", "label": "rest-broker", "source": "203.0.113.7" });
    r.status("RELEASED", json!({ "caller": caller }));
    assert_eq!(r.stage(), Stage::Released);
    assert_eq!(r.last.audit[0]["principal"], caller);
    assert_eq!(
        r.last.audit[0]["actor"],
        "rest-broker (partner:rest-broker)"
    );
    r.status("RELEASED", json!({}));
    assert!(
        r.last.audit[0].get("principal").is_none(),
        "a file drop's status has no caller"
    );
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
