use super::Tally;
use crate::demo::Outcome;

fn outcome(expected: &str, hub: &str, odoo: &str, latency_ms: Option<u64>) -> Outcome {
    Outcome {
        shipment_id: format!("s-{expected}-{hub}-{odoo}"),
        expected: expected.to_owned(),
        hub_stage: Some(hub.to_owned()),
        odoo_status: Some(odoo.to_owned()),
        exceptions: Vec::new(),
        open_exceptions: Vec::new(),
        odoo_writebacks: 0,
        declarations: 0,
        latency_ms,
    }
}

#[test]
fn a_blocked_shipment_is_a_terminal_outcome_not_a_full_lifecycle() {
    let tally = Tally::of(&[
        outcome("CLOSED", "CLOSED", "CLOSED", Some(900)),
        outcome("BLOCKED", "BLOCKED", "BLOCKED", Some(200)),
    ]);
    assert_eq!(
        tally,
        Tally {
            shipments: 2,
            terminal: 2,
            as_expected: 2,
            closed: 1,
        }
    );
    assert_eq!(tally.unexpected(), 0);
}

#[test]
fn a_terminal_status_other_than_the_expected_one_does_not_count() {
    // Expected to close, stopped BLOCKED: terminal, but neither as expected nor a lifecycle.
    let tally = Tally::of(&[
        outcome("CLOSED", "BLOCKED", "BLOCKED", Some(300)),
        outcome("CLOSED", "CLOSED", "CLOSED", Some(900)),
    ]);
    assert_eq!(tally.terminal, 2);
    assert_eq!(tally.as_expected, 1);
    assert_eq!(tally.closed, 1);
    assert_eq!(tally.unexpected(), 1);
}

#[test]
fn the_hub_and_odoo_must_both_show_the_expected_end() {
    let tally = Tally::of(&[
        // The hub closed it but the write-back never reached Odoo.
        outcome("CLOSED", "CLOSED", "RELEASED", None),
        // Odoo shows CLOSED but the hub's own state disagrees.
        outcome("CLOSED", "SETTLING", "CLOSED", Some(800)),
    ]);
    assert_eq!(tally.terminal, 1);
    assert_eq!(tally.as_expected, 0);
    assert_eq!(tally.closed, 0);
    assert_eq!(tally.unexpected(), 2);
}
