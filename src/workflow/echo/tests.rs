use super::*;

fn input(id: &str, kind: &str) -> Envelope {
    Envelope::new(id, "k1", kind, serde_json::Value::Null)
}

#[test]
fn ping_counts_and_commands_an_echo_with_a_derived_id() {
    let t = EchoSaga.apply(&EchoState::default(), &input("m1", PING), 7);
    assert_eq!(t.state.pings, 1);
    assert_eq!(t.commands.len(), 1);
    assert_eq!(t.commands[0].partner, ECHO_PARTNER);
    assert_eq!(t.commands[0].envelope.id, "m1:echo");
    assert_eq!(t.commands[0].envelope.key, "k1");
    assert_eq!(t.history.len(), 1);
    assert_eq!(t.audit.len(), 1);
    assert_eq!(t.audit[0]["input"], "m1");
}

#[test]
fn apply_is_deterministic() {
    let state = EchoState {
        pings: 3,
        ..EchoState::default()
    };
    let a = EchoSaga.apply(&state, &input("m9", PING), 100);
    let b = EchoSaga.apply(&state, &input("m9", PING), 100);
    assert_eq!(a, b);
}

#[test]
fn results_count_and_finish_is_terminal() {
    let t = EchoSaga.apply(&EchoState::default(), &input("r1", PARTNER_SUCCEEDED), 1);
    assert_eq!(t.state.echoes, 1);
    assert!(t.commands.is_empty());
    assert!(!EchoSaga.is_terminal(&t.state));
    let t = EchoSaga.apply(&t.state, &input("f", FINISH), 2);
    assert!(EchoSaga.is_terminal(&t.state));
}

#[test]
fn unknown_kinds_are_counted_not_lost() {
    let t = EchoSaga.apply(&EchoState::default(), &input("x", "odd.kind"), 1);
    assert_eq!(t.state.ignored, 1);
    assert_eq!(t.state.pings, 0);
}
