//! Four-eyes on the override of a block: the request waits for a second compliance officer,
//! who approves (the block is lifted) or rejects it (it stays); the officer who confirmed the
//! match and the requester are refused where the rules say, and with four-eyes off one officer
//! overrides as before.

use super::paths::{screening_answers, to_screening};
use super::*;
use crate::workflow::shipment::four_eyes::{FourEyes, OverrideRefusal, OverrideStep};

/// A principal with its own id and label, to tell people apart by id.
fn principal(id: &str, label: &str) -> Value {
    json!({ "id": format!("token:{id}"), "label": label, "source": "192.0.2.1" })
}

fn actor(name: &str) -> Actor {
    serde_json::from_value(person(name)).unwrap()
}

/// A shipment blocked on a potential match `confirmer` confirmed.
fn blocked_by(r: &mut Run, confirmer: &str) {
    to_screening(r);
    screening_answers(
        r,
        &[("p-supplier", json!({ "outcome": "potential_match" }))],
    );
    r.input(
        SCREENING_DECISION,
        json!({ "decision": "confirm", "actor": person(confirmer), "reason": "same directors" }),
    );
    assert_eq!(r.stage(), Stage::Blocked);
    assert_eq!(r.state.confirmed_by, Some(actor(confirmer)));
}

fn request(r: &mut Run, by: Value) {
    r.input(
        SCREENING_OVERRIDE,
        json!({ "actor": by, "reason": "licence GB-2026-17" }),
    );
}

fn answer(r: &mut Run, kind: &str, by: Value) {
    r.input(kind, json!({ "actor": by, "reason": "licence checked" }));
}

/// The audit entries of the last transition with `action`.
fn audited(r: &Run, action: &str) -> Vec<Value> {
    r.last
        .audit
        .iter()
        .filter(|a| a["action"] == action)
        .cloned()
        .collect()
}

#[test]
fn a_request_waits_for_a_second_officer_whose_approval_lifts_the_block() {
    let mut r = Run::new(IMPORT_KEY);
    blocked_by(&mut r, "ana");
    request(&mut r, person("bob"));
    assert_eq!(r.last_ignored(), None);
    assert_eq!(r.stage(), Stage::Blocked, "a request alone lifts nothing");
    assert!(r.sent(FILE_DECLARATION).is_empty());
    assert_eq!(r.open(), [ExceptionType::BlockedParty]);
    let pending = r.state.override_request.clone().expect("a pending request");
    assert_eq!(
        (pending.requested_by, pending.reason.as_str(), pending.at_ms),
        (actor("bob"), "licence GB-2026-17", r.now)
    );
    let requested = audited(&r, "override_requested");
    assert_eq!(requested.len(), 1, "{:?}", r.last.audit);
    assert_eq!(requested[0]["actor"], "bob (token:bob)");
    assert_eq!(requested[0]["detail"]["confirmed_by"], person("ana"));
    assert!(
        r.last
            .history
            .iter()
            .any(|h| h["event"] == "override_requested"
                && h["detail"]["requested_by"] == person("bob")),
        "the timeline shows the request: {:?}",
        r.last.history
    );
    assert_eq!(r.sent(POST_NOTE).len(), 1, "Odoo's chatter hears of it");

    answer(&mut r, OVERRIDE_APPROVE, person("cat"));
    assert_eq!(r.last_ignored(), None);
    assert_eq!(r.stage(), Stage::Filing);
    r.one(FILE_DECLARATION);
    assert!(r.open().is_empty(), "the block's exception is resolved");
    assert_eq!(r.state.override_request, None);
    let record = r.state.override_record.clone().expect("the override");
    assert_eq!(
        (
            record.requested_by.as_str(),
            record.approved_by.as_deref(),
            record.reason.as_str(),
            record.approval_reason.as_deref()
        ),
        (
            "bob (token:bob)",
            Some("cat (token:cat)"),
            "licence GB-2026-17",
            Some("licence checked")
        )
    );
    let lifted = audited(&r, "block_overridden");
    assert_eq!(lifted.len(), 1);
    assert_eq!(lifted[0]["actor"], "cat (token:cat)");
    assert_eq!(
        (
            &lifted[0]["detail"]["requested_by"],
            &lifted[0]["detail"]["approved_by"],
            &lifted[0]["detail"]["confirmed_by"]
        ),
        (&person("bob"), &person("cat"), &person("ana")),
        "the audit trail names every officer"
    );
}

#[test]
fn the_officer_who_confirmed_the_match_can_neither_request_nor_approve_its_override() {
    let mut r = Run::new(IMPORT_KEY);
    blocked_by(&mut r, "ana");
    // Another label on the same principal is the same person.
    request(&mut r, principal("ana", "Ana, second token label"));
    let reason = r.last_ignored().expect("refused");
    assert!(reason.contains("confirmed the match"), "{reason}");
    assert_eq!(r.state.override_request, None);

    request(&mut r, person("bob"));
    answer(&mut r, OVERRIDE_APPROVE, person("ana"));
    let reason = r.last_ignored().expect("refused");
    assert!(
        reason.contains("ana (token:ana) confirmed the match"),
        "{reason}"
    );
    assert_eq!(r.stage(), Stage::Blocked);
    assert!(
        r.state.override_request.is_some(),
        "a refused approval leaves the request pending"
    );
    assert!(r.last.commands.is_empty());
}

#[test]
fn the_requester_cannot_approve_their_own_request() {
    let mut r = Run::new(IMPORT_KEY);
    blocked_by(&mut r, "ana");
    request(&mut r, person("bob"));
    answer(
        &mut r,
        OVERRIDE_APPROVE,
        principal("bob", "Bob, another label"),
    );
    let reason = r.last_ignored().expect("refused");
    assert!(
        reason.contains("bob (token:bob) requested this override"),
        "{reason}"
    );
    assert_eq!(r.stage(), Stage::Blocked);
    assert_eq!(
        r.state.override_request.as_ref().map(|p| &p.requested_by),
        Some(&actor("bob"))
    );
    assert_eq!(r.state.override_record, None);
}

#[test]
fn a_second_request_while_one_is_pending_is_refused() {
    let mut r = Run::new(IMPORT_KEY);
    blocked_by(&mut r, "ana");
    request(&mut r, person("bob"));
    request(&mut r, person("cat"));
    let reason = r.last_ignored().expect("refused");
    assert!(reason.contains("already waiting"), "{reason}");
    assert_eq!(
        r.state.override_request.as_ref().map(|p| &p.requested_by),
        Some(&actor("bob")),
        "the first request stands"
    );
}

#[test]
fn a_rejection_keeps_the_block_and_clears_the_request() {
    let mut r = Run::new(IMPORT_KEY);
    blocked_by(&mut r, "ana");
    answer(&mut r, OVERRIDE_REJECT, person("cat"));
    assert!(r.last_ignored().unwrap().contains("no override request"));

    request(&mut r, person("bob"));
    r.input(
        OVERRIDE_REJECT,
        json!({ "actor": person("cat"), "reason": "the licence does not cover dual-use goods" }),
    );
    assert_eq!(r.last_ignored(), None);
    assert_eq!(r.stage(), Stage::Blocked);
    assert_eq!(r.state.override_request, None);
    assert_eq!(r.state.override_record, None);
    assert_eq!(r.open(), [ExceptionType::BlockedParty]);
    assert!(r.sent(FILE_DECLARATION).is_empty());
    let rejected = audited(&r, "override_rejected");
    assert_eq!(rejected.len(), 1);
    assert_eq!(
        (
            &rejected[0]["detail"]["requested_by"],
            &rejected[0]["detail"]["rejected_by"],
            rejected[0]["detail"]["reason"].as_str()
        ),
        (
            &person("bob"),
            &person("cat"),
            Some("the licence does not cover dual-use goods")
        )
    );

    answer(&mut r, OVERRIDE_APPROVE, person("dave"));
    assert!(
        r.last_ignored().unwrap().contains("no override request"),
        "nothing is left to approve"
    );
    request(&mut r, person("dave"));
    assert_eq!(r.last_ignored(), None, "a new request may follow");
    assert!(r.state.override_request.is_some());
}

#[test]
fn a_block_the_engine_confirmed_needs_two_officers_all_the_same() {
    let mut r = Run::new(IMPORT_KEY);
    to_screening(&mut r);
    screening_answers(
        &mut r,
        &[("p-supplier", json!({ "outcome": "confirmed_match" }))],
    );
    assert_eq!(r.stage(), Stage::Blocked);
    assert_eq!(r.state.confirmed_by, None);
    request(&mut r, person("bob"));
    answer(&mut r, OVERRIDE_APPROVE, person("bob"));
    assert!(r.last_ignored().is_some());
    answer(&mut r, OVERRIDE_APPROVE, person("cat"));
    assert_eq!(r.stage(), Stage::Filing);
}

#[test]
fn with_four_eyes_off_one_officer_overrides_at_once() {
    let settings = SagaSettings {
        four_eyes: FourEyes {
            block_override: false,
        },
        ..SagaSettings::default()
    };
    let mut r = Run::with(saga_with(settings), IMPORT_KEY);
    blocked_by(&mut r, "ana");
    request(&mut r, person("ana"));
    assert_eq!(r.last_ignored(), None);
    assert_eq!(r.stage(), Stage::Filing);
    r.one(FILE_DECLARATION);
    assert_eq!(r.state.override_request, None);
    let record = r.state.override_record.clone().expect("the override");
    assert_eq!(
        (record.requested_by.as_str(), record.approved_by),
        ("ana (token:ana)", None)
    );
    assert_eq!(
        audited(&r, "block_overridden")[0]["detail"]["requested_by"],
        person("ana")
    );
}

#[test]
fn override_steps_outside_a_block_are_ignored() {
    let mut r = Run::new(IMPORT_KEY);
    r.drive_to_filing(import_json());
    for kind in [SCREENING_OVERRIDE, OVERRIDE_APPROVE, OVERRIDE_REJECT] {
        answer(&mut r, kind, person("bob"));
        let reason = r.last_ignored().expect("ignored");
        assert!(
            reason.contains("only a BLOCKED shipment"),
            "{kind}: {reason}"
        );
        assert_eq!(r.stage(), Stage::Filing);
    }
}

/// A state, a step, who takes it, the rules, and the answer.
type Case<'a> = (
    &'a ShipmentState,
    OverrideStep,
    &'a str,
    FourEyes,
    Result<(), OverrideRefusal>,
);

/// The rules alone, as the API asks them: every step by every officer, on a block with and
/// without a pending request, with four-eyes on and off.
#[test]
fn the_rules_table() {
    use OverrideRefusal::*;
    use OverrideStep::*;
    let on = FourEyes::default();
    let off = FourEyes {
        block_override: false,
    };
    let blocked = ShipmentState {
        stage: Stage::Blocked,
        confirmed_by: Some(actor("ana")),
        ..ShipmentState::default()
    };
    let pending = ShipmentState {
        override_request: Some(four_eyes::OverrideRequest {
            requested_by: actor("bob"),
            reason: "licence".into(),
            at_ms: 1,
        }),
        ..blocked.clone()
    };
    let confirmed = || ConfirmedIt("ana (token:ana)".into());
    let cases: [Case; 13] = [
        (&blocked, Request, "ana", on, Err(confirmed())),
        (&blocked, Request, "bob", on, Ok(())),
        (&blocked, Request, "ana", off, Ok(())),
        (&blocked, Approve, "cat", on, Err(NothingPending)),
        (&blocked, Reject, "cat", on, Err(NothingPending)),
        (
            &pending,
            Request,
            "cat",
            on,
            Err(AlreadyPending("bob (token:bob)".into())),
        ),
        (
            &pending,
            Approve,
            "bob",
            on,
            Err(OwnRequest("bob (token:bob)".into())),
        ),
        (&pending, Approve, "ana", on, Err(confirmed())),
        (&pending, Approve, "cat", on, Ok(())),
        (&pending, Reject, "bob", on, Ok(())),
        (&pending, Reject, "ana", on, Ok(())),
        (&pending, Reject, "cat", on, Ok(())),
        (
            &ShipmentState::default(),
            Request,
            "bob",
            on,
            Err(NotBlocked(Stage::Received)),
        ),
    ];
    for (state, step, who, rules, expected) in cases {
        assert_eq!(
            state.may_override(step, &actor(who), rules),
            expected,
            "{step:?} by {who}, override four-eyes {}",
            rules.block_override
        );
    }
    assert!(confirmed().is_about_the_person() && OwnRequest(String::new()).is_about_the_person());
    assert!(
        !NothingPending.is_about_the_person() && !NotBlocked(Stage::Filing).is_about_the_person()
    );
}

#[test]
fn a_pending_request_survives_a_round_trip_and_old_records_still_read() {
    let mut r = Run::new(IMPORT_KEY);
    blocked_by(&mut r, "ana");
    request(&mut r, person("bob"));
    let text = serde_json::to_string(&r.state).unwrap();
    assert_eq!(
        serde_json::from_str::<ShipmentState>(&text).unwrap(),
        r.state
    );
    let old: OverrideRecord =
        serde_json::from_value(json!({ "reviewer": "head", "reason": "licence", "at_ms": 5 }))
            .unwrap();
    assert_eq!((old.requested_by.as_str(), old.approved_by), ("head", None));
}

#[test]
fn four_eyes_settings_read_from_toml() {
    let default: SagaSettings = toml::from_str("").unwrap();
    assert!(default.four_eyes.block_override, "on by default");
    let off: SagaSettings = toml::from_str("[four_eyes]\noverride = false\n").unwrap();
    assert!(!off.four_eyes.block_override);
    assert!(toml::from_str::<SagaSettings>("[four_eyes]\nclear = true\n").is_err());
}
