//! Table tests of the later side roads: milestones, cancellations, timeouts, partner failures
//! and settlement.

use super::*;

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
