//! Property test: a scripted environment (Odoo, screening engine, broker, customs, carrier,
//! finance, and the people working exceptions) answers every command, and a stream of choices
//! decides the interleaving: which input is delivered next, which partner call fails or ends
//! unknown, which answers are duplicated, when timers fire, which old inputs are delivered
//! again, whether Odoo cancels. Whatever the choices, the saga ends in one terminal state and
//! stays there.

use std::collections::BTreeSet;

use proptest::prelude::*;

use super::*;

/// The choices; once used up, every choice is 0, which the environment reads as "the benign
/// thing", so every run ends.
struct Choices {
    bytes: Vec<u8>,
    at: usize,
}

impl Choices {
    fn pick(&mut self, n: usize) -> usize {
        let b = self.bytes.get(self.at).copied().unwrap_or(0);
        self.at += 1;
        usize::from(b) % n.max(1)
    }
}

struct World {
    run: Run,
    c: Choices,
    queue: Vec<Envelope>,
    timers: Vec<Timer>,
    delivered: Vec<Envelope>,
    /// LRNs whose filing reached the broker (it dedupes by LRN).
    landed: BTreeSet<String>,
    cancelled: BTreeSet<String>,
    data_fixed: bool,
    missing_hs: bool,
    released_script: bool,
    cancel_at: Option<usize>,
    n: u32,
}

const SCRIPTS: [&[&str]; 6] = [
    &["ACCEPTED", "RELEASED"],
    &["ACCEPTED", "HOLD", "HOLD_REMOVED", "RELEASED"],
    &["REJECTED"],
    &["ACCEPTED", "QUERY", "RELEASED"],
    &["RELEASED", "ACCEPTED"],
    &["ACCEPTED", "CONTROL", "DOCS_REQUIRED", "RELEASED"],
];

impl World {
    fn new(bytes: Vec<u8>) -> Self {
        let mut c = Choices { bytes, at: 0 };
        let missing_hs = c.pick(3) == 1;
        let cancel_at = match c.pick(4) {
            1 => Some(c.pick(40) + 1),
            _ => None,
        };
        Self {
            run: Run::new(IMPORT_KEY),
            c,
            queue: Vec::new(),
            timers: Vec::new(),
            delivered: Vec::new(),
            landed: BTreeSet::new(),
            cancelled: BTreeSet::new(),
            data_fixed: false,
            missing_hs,
            released_script: false,
            cancel_at,
            n: 0,
        }
    }

    fn external(&mut self, kind: &str, body: Value) -> Envelope {
        self.n += 1;
        Envelope::new(format!("ext-{}", self.n), IMPORT_KEY, kind, body)
    }

    fn enqueue(&mut self, kind: &str, body: Value) {
        let env = self.external(kind, body);
        self.queue.push(env);
    }

    fn result(&mut self, cmd: &Command, kind: &str, detail: Value) {
        let Value::Object(map) = detail else {
            unreachable!("detail is an object")
        };
        let env = result_envelope(&cmd.partner, &cmd.envelope, kind, map);
        if self.c.pick(8) == 7 {
            self.queue.push(env.clone());
        }
        self.queue.push(env);
    }

    /// Apply one input and turn its effects into future inputs.
    fn deliver(&mut self, env: Envelope) {
        self.run.apply(&env);
        self.delivered.push(env);
        let t = self.run.last.clone();
        self.timers.extend(t.timers);
        for cmd in t.commands {
            self.answer(&cmd);
        }
    }

    fn answer(&mut self, cmd: &Command) {
        let body = &cmd.envelope.body;
        let lrn = body["lrn"].as_str().unwrap_or_default().to_owned();
        match self.c.pick(12) {
            9 => return self.result(cmd, partner::FAILED, json!({ "reason": "refused" })),
            10 => {
                if cmd.envelope.kind == FILE_DECLARATION && self.c.pick(2) == 1 {
                    self.land(&lrn);
                }
                if cmd.envelope.kind == CANCEL_DECLARATION && self.c.pick(2) == 1 {
                    self.cancelled.insert(lrn.clone());
                }
                return self.result(
                    cmd,
                    partner::OUTCOME_UNKNOWN,
                    json!({ "reason": "timeout" }),
                );
            }
            _ => {}
        }
        let result = match cmd.envelope.kind.as_str() {
            READ_SHIPMENT => {
                let shipment = if self.missing_hs && !self.data_fixed {
                    import_without_hs()
                } else {
                    import_json()
                };
                json!({ "shipment": shipment })
            }
            CHECK_PARTY => {
                let outcome = [
                    "clear",
                    "clear",
                    "clear",
                    "clear",
                    "potential_match",
                    "confirmed_match",
                ][self.c.pick(6)];
                json!({ "outcome": outcome, "hits": [] })
            }
            FILE_DECLARATION => {
                self.land(&lrn);
                json!({ "lrn": lrn, "status": "RECEIVED" })
            }
            QUERY_STATUS => {
                let status = if self.cancelled.contains(&lrn) {
                    json!("CANCELLED")
                } else if self.landed.contains(&lrn) {
                    json!("RECEIVED")
                } else {
                    Value::Null
                };
                json!({ "lrn": lrn, "status": status })
            }
            CANCEL_DECLARATION => {
                self.cancelled.insert(lrn.clone());
                json!({ "lrn": lrn, "status": "CANCELLED" })
            }
            // Odoo write-backs: answered now and then, to exercise untracked results.
            _ => {
                if self.c.pick(4) != 1 {
                    return;
                }
                json!(true)
            }
        };
        self.result(cmd, partner::SUCCEEDED, json!({ "result": result }));
    }

    /// The broker received a declaration: customs answers once per LRN.
    fn land(&mut self, lrn: &str) {
        if !self.landed.insert(lrn.to_owned()) {
            return;
        }
        let script = SCRIPTS[self.c.pick(SCRIPTS.len())];
        for status in script {
            let mut body = json!({ "lrn": lrn, "status": status });
            if *status == "ACCEPTED" {
                body["mrn"] = json!(format!("MRN-{lrn}"));
            }
            self.enqueue(CUSTOMS_STATUS, body);
        }
        if script.contains(&"RELEASED") && !self.released_script {
            self.released_script = true;
            for code in ["PICKED_UP", "DEPARTED", "DELIVERED"] {
                self.enqueue(
                    CARRIER_MILESTONE,
                    json!({ "code": code, "at": "2026-11-26T00:00:00Z" }),
                );
            }
            self.enqueue(ASSESSED_DUTY, json!({ "duty": money("0", "GBP") }));
            self.enqueue(
                BROKER_INVOICE,
                json!({ "invoice": "INV-1", "duty": money("0", "GBP") }),
            );
        }
    }

    /// The people: work the oldest open exception. Returns whether they did anything.
    fn human(&mut self) -> bool {
        // Newest first: an older exception may only be workable after a newer one (a
        // rejection waits for the refile, which waits for the screening review).
        let mut open: Vec<Exception> = self.run.state.open_exceptions().cloned().collect();
        open.reverse();
        for e in open {
            if self.work(&e) && self.run.last_ignored().is_none() {
                return true;
            }
        }
        false
    }

    /// Act on one exception; false when this person leaves it for now.
    fn work(&mut self, e: &Exception) -> bool {
        let stage = self.run.state.stage;
        let resolve = |action: &str| json!({ "exception_id": e.id, "actor": person("human"), "action": action });
        let (kind, body) = match e.kind {
            ExceptionType::ScreeningReview => {
                let decision = if self.c.pick(3) == 2 {
                    "confirm"
                } else {
                    "clear"
                };
                (
                    SCREENING_DECISION,
                    json!({ "decision": decision, "actor": person("cat"), "reason": "reviewed" }),
                )
            }
            ExceptionType::BlockedParty => {
                if self.c.pick(4) != 0 {
                    return false;
                }
                // Four-eyes: the head of compliance asks, a deputy decides the request.
                match (&self.run.state.override_request, self.c.pick(3)) {
                    (None, _) => (
                        SCREENING_OVERRIDE,
                        json!({ "actor": person("head"), "reason": "licence" }),
                    ),
                    (Some(_), 0) => (
                        OVERRIDE_REJECT,
                        json!({ "actor": person("deputy"), "reason": "licence expired" }),
                    ),
                    (Some(_), _) => (
                        OVERRIDE_APPROVE,
                        json!({ "actor": person("deputy"), "reason": "licence checked" }),
                    ),
                }
            }
            ExceptionType::MissingData => {
                self.data_fixed = true;
                (PICKING_CHANGED, json!({ "picking_id": PICKING }))
            }
            ExceptionType::RejectedDeclaration => {
                if self.c.pick(2) == 0 {
                    (PICKING_CHANGED, json!({ "picking_id": PICKING }))
                } else {
                    (EXCEPTION_RESOLVE, resolve("refile"))
                }
            }
            ExceptionType::OutcomeUnknown => match &e.about {
                Some(Pending::File { lrn }) => {
                    let truth = if self.landed.contains(lrn) {
                        "accept"
                    } else {
                        "refile"
                    };
                    (EXCEPTION_RESOLVE, resolve(truth))
                }
                _ => (EXCEPTION_RESOLVE, resolve("force_cancel")),
            },
            ExceptionType::PartnerFailed | ExceptionType::AckTimeout => {
                (EXCEPTION_RESOLVE, resolve("retry"))
            }
            ExceptionType::DutyVariance => (EXCEPTION_RESOLVE, resolve("accept")),
            ExceptionType::CustomsQuery
            | ExceptionType::DocsRequired
            | ExceptionType::CustomsControl
            | ExceptionType::CustomsHold
            | ExceptionType::ClearanceSlaBreach => {
                // Customs answers these itself; a person only closes them now and then.
                if self.c.pick(3) != 0 || stage != Stage::AwaitingRelease {
                    return false;
                }
                (EXCEPTION_RESOLVE, resolve("resolve"))
            }
        };
        let env = self.external(kind, body);
        self.deliver(env);
        true
    }

    fn fire_timer(&mut self) -> bool {
        if self.timers.is_empty() {
            return false;
        }
        let t = self.timers.remove(self.c.pick(self.timers.len()));
        self.run.now = self.run.now.max(t.due_ms);
        self.deliver(t.envelope);
        true
    }

    fn noise(&mut self) {
        match self.c.pick(4) {
            0 => self.enqueue("odoo.picking.unknown", json!({})),
            1 => self.enqueue(
                CUSTOMS_STATUS,
                json!({ "lrn": "OLD-LRN", "status": "RELEASED" }),
            ),
            2 => self.enqueue(
                CARRIER_MILESTONE,
                json!({ "code": "ARRIVED", "at": "2026-11-25T00:00:00Z" }),
            ),
            _ => self.enqueue(CUSTOMS_STATUS, json!({ "lrn": 5 })),
        }
    }

    fn step(&mut self, i: usize) -> bool {
        if self.cancel_at == Some(i) {
            self.enqueue(PICKING_CANCELLED, json!({ "picking_id": PICKING }));
        }
        match self.c.pick(12) {
            0..=6 if !self.queue.is_empty() => {
                let env = self.queue.remove(self.c.pick(self.queue.len()));
                self.deliver(env);
                return true;
            }
            7 if self.fire_timer() => return true,
            8 if !self.delivered.is_empty() => {
                let env = self.delivered[self.c.pick(self.delivered.len())].clone();
                self.deliver(env);
                return true;
            }
            9 if self.human() => return true,
            10 => {
                self.noise();
                return true;
            }
            _ => {}
        }
        if !self.queue.is_empty() {
            let env = self.queue.remove(0);
            self.deliver(env);
            return true;
        }
        self.human() || self.fire_timer()
    }
}

fn check_invariants(s: &ShipmentState) {
    match s.stage {
        Stage::Closed | Stage::Cancelled => {
            // Only a failed write-back may still wait for a person once the shipment is done.
            assert!(
                s.open_exceptions()
                    .all(|e| e.about == Some(Pending::WriteBack)),
                "{:?} with open exceptions: {:?}",
                s.stage,
                s.exceptions
            );
            assert!(s.ack_token.is_none() && s.clearance_token.is_none());
        }
        Stage::Blocked => assert!(s.has_open(ExceptionType::BlockedParty)),
        _ => {}
    }
    if s.stage == Stage::Cancelled {
        assert!(s.pending.is_empty());
    }
    // Exception ids are unique.
    let ids: BTreeSet<&str> = s.exceptions.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids.len(), s.exceptions.len());
}

fn run_world(bytes: Vec<u8>) -> Stage {
    let mut w = World::new(bytes);
    let start = w.external(PICKING_CONFIRMED, json!({ "picking_id": PICKING }));
    w.deliver(start);
    let mut i = 0;
    while !w.run.saga.is_terminal(&w.run.state) {
        i += 1;
        assert!(
            i < 5_000,
            "no terminal state after 5,000 steps: {:?}, exceptions {:#?}, pending {:?}, queue {:?}, last {:#?}",
            w.run.state.stage,
            w.run.state.exceptions,
            w.run.state.pending,
            w.queue.iter().map(|e| &e.kind).collect::<Vec<_>>(),
            w.run.last.history,
        );
        let moved = w.step(i);
        check_invariants(&w.run.state);
        if !moved {
            // Nothing left to deliver, no person can act, no timer: the saga waits for
            // something that can never come.
            panic!("stuck in {:?}: {:#?}", w.run.state.stage, w.run.state);
        }
    }
    let end = w.run.state.stage;
    // Everything still in flight, every timer and a redelivery of every input: nothing moves a
    // terminal shipment, and no partner but Odoo hears from it again.
    let mut rest: Vec<Envelope> = std::mem::take(&mut w.queue);
    rest.extend(w.timers.drain(..).map(|t| t.envelope));
    rest.extend(w.delivered.iter().cloned());
    for env in rest {
        w.run.apply(&env);
        assert_eq!(
            w.run.state.stage, end,
            "{} moved a terminal shipment",
            env.kind
        );
        // Only Odoo bookkeeping may follow (a failed final write-back reaching a person).
        assert!(
            w.run.last.commands.iter().all(|c| c.partner == ODOO),
            "{} sent {:?} after the end",
            env.kind,
            w.run.last.commands
        );
        assert!(
            w.run
                .last
                .timers
                .iter()
                .all(|t| t.envelope.body["timer"] == "exception_sla")
        );
    }
    check_invariants(&w.run.state);
    end
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn random_interleavings_end_in_one_terminal_state(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let end = run_world(bytes);
        prop_assert!(matches!(end, Stage::Closed | Stage::Cancelled | Stage::Blocked));
    }
}

#[test]
fn the_benign_script_closes_and_a_few_fixed_scripts_reach_each_terminal_state() {
    assert_eq!(run_world(Vec::new()), Stage::Closed);
    // Odoo cancels at step 0 (choice 1 for the cancel, 0 for its step).
    assert_eq!(run_world(vec![0, 1, 0]), Stage::Cancelled);
    let mut seen = BTreeSet::new();
    for seed in 0u32..400 {
        let bytes: Vec<u8> = (0..300u32)
            .map(|i| {
                (seed
                    .wrapping_mul(2_654_435_761)
                    .wrapping_add(i.wrapping_mul(40_503))
                    >> 7) as u8
            })
            .collect();
        seen.insert(run_world(bytes));
        if seen.len() == 3 {
            break;
        }
    }
    assert_eq!(seen.len(), 3, "every terminal state is reachable: {seen:?}");
}
