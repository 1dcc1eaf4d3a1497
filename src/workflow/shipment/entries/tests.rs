use serde_json::json;

use super::*;

#[test]
fn history_entries_keep_their_shape() {
    let input = HistoryEntry::Input {
        at_ms: 1_800_000_001_000,
        input: "in-1",
        kind: "odoo.picking.confirmed",
        attempt: 1,
        outcome: Outcome::Applied,
        reason: None,
        principal: None,
        from: Stage::Received,
        to: Stage::Enriching,
    };
    assert_eq!(
        serde_json::to_value(&input).expect("serialises"),
        json!({
            "at_ms": 1_800_000_001_000u64,
            "input": "in-1",
            "kind": "odoo.picking.confirmed",
            "attempt": 1,
            "outcome": "applied",
            "reason": null,
            "from": "RECEIVED",
            "to": "ENRICHING",
        })
    );
    let ignored = HistoryEntry::Input {
        at_ms: 1,
        input: "in-2",
        kind: "customs.status",
        attempt: 2,
        outcome: Outcome::Ignored,
        reason: Some("no declaration has been filed".into()),
        principal: None,
        from: Stage::OutcomeUnknown,
        to: Stage::OutcomeUnknown,
    };
    assert_eq!(
        serde_json::to_value(&ignored).expect("serialises"),
        json!({
            "at_ms": 1, "input": "in-2", "kind": "customs.status", "attempt": 2,
            "outcome": "ignored", "reason": "no declaration has been filed",
            "from": "OUTCOME_UNKNOWN", "to": "OUTCOME_UNKNOWN",
        })
    );
    let event = HistoryEntry::Event {
        at_ms: 2,
        input: "in-1",
        event: "stage",
        detail: json!({ "from": "RECEIVED", "to": "ENRICHING", "why": "picking confirmed in Odoo" }),
    };
    assert_eq!(
        serde_json::to_value(&event).expect("serialises"),
        json!({
            "at_ms": 2,
            "input": "in-1",
            "event": "stage",
            "detail": { "from": "RECEIVED", "to": "ENRICHING", "why": "picking confirmed in Odoo" },
        })
    );
}

#[test]
fn audit_entries_keep_their_shape() {
    let input = AuditEntry::Input {
        at_ms: 3,
        actor: "odoo".into(),
        principal: None,
        action: "odoo.picking.confirmed",
        key: "WH-IN-00107",
        input: "in-1",
        outcome: Outcome::Applied,
        from: Stage::Received,
        to: Stage::AwaitingRelease,
    };
    assert_eq!(
        serde_json::to_value(&input).expect("serialises"),
        json!({
            "at_ms": 3,
            "actor": "odoo",
            "action": "odoo.picking.confirmed",
            "key": "WH-IN-00107",
            "input": "in-1",
            "outcome": "applied",
            "from": "RECEIVED",
            "to": "AWAITING_RELEASE",
        })
    );
    let action = AuditEntry::Action {
        at_ms: 4,
        actor: "ana".into(),
        action: "screening_decision",
        key: "WH-IN-00107",
        input: "in-7",
        detail: json!({ "parties": ["p1"], "decision": "clear", "reason": "not the listed bank" }),
    };
    assert_eq!(
        serde_json::to_value(&action).expect("serialises"),
        json!({
            "at_ms": 4,
            "actor": "ana",
            "action": "screening_decision",
            "key": "WH-IN-00107",
            "input": "in-7",
            "detail": { "parties": ["p1"], "decision": "clear", "reason": "not the listed bank" },
        })
    );
}

#[test]
fn a_persons_input_records_the_principal_whole() {
    let ana = crate::workflow::shipment::inputs::Actor {
        id: "token:0123456789abcdef".into(),
        label: "Ana (compliance)".into(),
        source: "192.0.2.7".into(),
    };
    let input = AuditEntry::Input {
        at_ms: 5,
        actor: ana.to_string(),
        principal: Some(&ana),
        action: "screening.decision",
        key: "WH-IN-00107",
        input: "in-9",
        outcome: Outcome::Applied,
        from: Stage::OnHold,
        to: Stage::Rating,
    };
    let shown = serde_json::to_value(&input).expect("serialises");
    assert_eq!(shown["actor"], "Ana (compliance) (token:0123456789abcdef)");
    assert_eq!(
        shown["principal"],
        json!({ "id": "token:0123456789abcdef", "label": "Ana (compliance)", "source": "192.0.2.7" })
    );
}
