use std::sync::{Arc, LazyLock};

use serde_json::{Value, json};
use tradehub_actors::partner::{self, result_envelope};
use tradehub_actors::saga::{Command, Timer};

use super::inputs::*;
use super::*;
use crate::tariff::duty::{self, TariffBook};
use crate::workflow::exceptions::{ExceptionState, OwnerRole};

mod four_eyes;
mod paths;
mod recovery;
mod scripted;

const IMPORT: &str =
    include_str!("../../../tests/fixtures/shipments/valid_import_jp_gb_air_preference.json");
const EXPORT: &str = include_str!("../../../tests/fixtures/shipments/valid_export_de_us_sea.json");
pub(super) const IMPORT_KEY: &str = "WH-IN-00107";
pub(super) const EXPORT_KEY: &str = "WH-OUT-00042";
const PICKING: u64 = 107;

static BOOK: LazyLock<Arc<TariffBook>> = LazyLock::new(|| {
    Arc::new(TariffBook::load(&duty::default_dir()).expect("shipped tariff tables load"))
});

pub(super) fn saga_with(settings: SagaSettings) -> ShipmentSaga {
    ShipmentSaga::new(ShipmentDeps {
        routing: Arc::new(RoutingPolicy::shipped().expect("shipped routing parses")),
        reference: Reference::Bundled,
        rules: Arc::new(Rules::default()),
        tariff: Some(BOOK.clone()),
        settings: Arc::new(settings),
    })
}

pub(super) fn saga() -> ShipmentSaga {
    saga_with(SagaSettings::default())
}

/// The import fixture, as Odoo would return it for picking [`PICKING`].
pub(super) fn import_json() -> Value {
    let mut v: Value = serde_json::from_str(IMPORT).unwrap();
    v["odoo"]["picking"] = json!({"id": PICKING, "name": "WH/IN/00107"});
    v
}

pub(super) fn export_json() -> Value {
    serde_json::from_str(EXPORT).unwrap()
}

/// The import with line 10's HS code removed (no code on the line or the product).
pub(super) fn import_without_hs() -> Value {
    let mut v = import_json();
    let line = &mut v["lines"][0];
    line.as_object_mut().unwrap().remove("hs_code");
    line["product"]
        .as_object_mut()
        .unwrap()
        .remove("classifications");
    v
}

/// A saga, a state and a clock, with the last transition kept for inspection.
pub(super) struct Run {
    pub saga: ShipmentSaga,
    pub key: String,
    pub state: ShipmentState,
    pub now: Millis,
    pub last: Transition<ShipmentState>,
    n: u32,
}

impl Run {
    pub fn new(key: &str) -> Self {
        Self::with(saga(), key)
    }

    pub fn with(saga: ShipmentSaga, key: &str) -> Self {
        Self {
            saga,
            key: key.to_owned(),
            state: ShipmentState::default(),
            now: 1_800_000_000_000,
            last: Transition::to(ShipmentState::default()),
            n: 0,
        }
    }

    pub fn env(&mut self, kind: &str, body: Value) -> Envelope {
        self.n += 1;
        Envelope::new(format!("in-{}", self.n), self.key.clone(), kind, body)
    }

    /// Apply an envelope, checking determinism on the way.
    pub fn apply(&mut self, env: &Envelope) -> &Transition<ShipmentState> {
        self.now += 1_000;
        let t = self.saga.apply(&self.state, env, self.now);
        let again = self.saga.apply(&self.state, env, self.now);
        assert_eq!(t, again, "apply is not deterministic for {}", env.kind);
        assert!(
            !t.history.is_empty() && !t.audit.is_empty(),
            "every input leaves history and audit"
        );
        self.state = t.state.clone();
        self.last = t;
        &self.last
    }

    pub fn input(&mut self, kind: &str, body: Value) -> &Transition<ShipmentState> {
        let env = self.env(kind, body);
        self.apply(&env)
    }

    pub fn stage(&self) -> Stage {
        self.state.stage
    }

    /// The commands of the last transition of one kind.
    pub fn sent(&self, kind: &str) -> Vec<Command> {
        self.last
            .commands
            .iter()
            .filter(|c| c.envelope.kind == kind)
            .cloned()
            .collect()
    }

    pub fn one(&self, kind: &str) -> Command {
        let found = self.sent(kind);
        assert_eq!(
            found.len(),
            1,
            "expected one {kind}, got {:?}",
            self.last.commands
        );
        found.into_iter().next().unwrap()
    }

    pub fn answer(
        &mut self,
        cmd: &Command,
        kind: &str,
        detail: Value,
    ) -> &Transition<ShipmentState> {
        let map = match detail {
            Value::Object(m) => m,
            _ => unreachable!("detail is an object"),
        };
        let env = result_envelope(&cmd.partner, &cmd.envelope, kind, map);
        self.apply(&env)
    }

    pub fn succeed(&mut self, cmd: &Command, result: Value) -> &Transition<ShipmentState> {
        self.answer(cmd, partner::SUCCEEDED, json!({ "result": result }))
    }

    /// The Odoo fields written in the last transition, if any.
    pub fn odoo_write(&self) -> Option<Value> {
        self.sent(WRITE_PICKING)
            .first()
            .map(|c| c.envelope.body["values"].clone())
    }

    pub fn open(&self) -> Vec<ExceptionType> {
        self.state.open_exceptions().map(|e| e.kind).collect()
    }

    pub fn exception(&self, kind: ExceptionType) -> Exception {
        self.state
            .exceptions
            .iter()
            .rev()
            .find(|e| e.kind == kind)
            .cloned()
            .unwrap_or_else(|| panic!("no {kind:?} exception"))
    }

    pub fn lrn(&self) -> String {
        self.state.declaration.as_ref().unwrap().lrn.clone()
    }

    pub fn status(&mut self, status: &str, extra: Value) -> &Transition<ShipmentState> {
        let mut body = json!({ "lrn": self.lrn(), "status": status });
        if let Value::Object(m) = extra {
            body.as_object_mut().unwrap().extend(m);
        }
        self.input(CUSTOMS_STATUS, body)
    }

    pub fn last_ignored(&self) -> Option<String> {
        let h = &self.last.history[0];
        (h["outcome"] == "ignored").then(|| h["reason"].as_str().unwrap_or_default().to_owned())
    }

    /// Drive a fresh shipment from confirmation to the filing, every party clear.
    pub fn drive_to_filing(&mut self, shipment: Value) {
        self.input(PICKING_CONFIRMED, json!({ "picking_id": PICKING }));
        let read = self.one(READ_SHIPMENT);
        self.succeed(&read, json!({ "shipment": shipment }));
        self.clear_all();
        assert_eq!(self.stage(), Stage::Filing);
    }

    pub fn clear_all(&mut self) {
        for cmd in self.sent(CHECK_PARTY) {
            self.succeed(&cmd, json!({ "outcome": "clear", "hits": [] }));
        }
    }

    /// From a filing to AWAITING_RELEASE.
    pub fn accept(&mut self) {
        let file = self.one(FILE_DECLARATION);
        self.succeed(&file, json!({ "lrn": self.lrn(), "status": "RECEIVED" }));
        self.status("ACCEPTED", json!({ "mrn": "26GB0000000000001" }));
        assert_eq!(self.stage(), Stage::AwaitingRelease);
    }

    pub fn fire(&mut self, timer: &Timer) -> &Transition<ShipmentState> {
        self.now = self.now.max(timer.due_ms);
        self.apply(&timer.envelope.clone())
    }
}

/// A person's principal as the API records it.
pub(super) fn person(name: &str) -> Value {
    json!({ "id": format!("token:{name}"), "label": name, "source": "192.0.2.1" })
}

pub(super) fn money(amount: &str, currency: &str) -> Value {
    json!({ "amount": amount, "currency": currency })
}

// ---- Happy path ------------------------------------------------------------------------------

#[test]
fn happy_path_import_from_confirmation_to_closed() {
    let mut r = Run::new(IMPORT_KEY);
    r.input(PICKING_CONFIRMED, json!({ "picking_id": PICKING }));
    assert_eq!(r.stage(), Stage::Enriching);
    let read = r.one(READ_SHIPMENT);
    assert_eq!(read.partner, ODOO);
    assert_eq!(read.envelope.body["picking_id"], PICKING);
    assert!(
        read.envelope.id.starts_with("in-1:"),
        "ids derive from the input id"
    );
    assert_eq!(r.odoo_write().unwrap()["x_trade_status"], "ENRICHING");

    r.succeed(&read, json!({ "shipment": import_json() }));
    assert_eq!(r.stage(), Stage::Screening);
    let checks = r.sent(CHECK_PARTY);
    assert_eq!(checks.len(), 2, "every party is screened");
    assert!(checks.iter().all(|c| c.partner == SCREENING));
    assert_eq!(r.state.screening.len(), 2);

    r.succeed(&checks[0], json!({ "outcome": "clear" }));
    assert_eq!(r.stage(), Stage::Screening, "waits for every party");
    r.succeed(&checks[1], json!({ "outcome": "clear" }));
    assert_eq!(r.stage(), Stage::Filing);
    let file = r.one(FILE_DECLARATION);
    assert_eq!(
        file.partner, "edifact-broker",
        "UK imports are routed to the EDIFACT broker"
    );
    let lrn = r.lrn();
    assert_eq!(lrn, lrn_for(IMPORT_KEY, 1));
    assert!(lrn.len() <= 22 && lrn.parse::<crate::model::Lrn>().is_ok());
    assert_eq!(file.envelope.body["lrn"], lrn.as_str());
    assert_eq!(file.envelope.body["shipment"]["id"], IMPORT_KEY);
    assert!(r.state.ack_token.is_some(), "ack timer armed");
    assert_eq!(r.last.timers.len(), 1);
    assert_eq!(
        r.last.timers[0].due_ms,
        r.now + SagaSettings::default().ack_timeout_ms
    );
    // RATING ran its estimate with the real tariff engine.
    let expected = duty::compute(
        &serde_json::from_value::<Shipment>(import_json()).unwrap(),
        &BOOK,
    );
    match (&r.state.estimate, expected) {
        (Some(Estimate::Computed { total_duty, .. }), Ok(d)) => {
            assert_eq!(*total_duty, d.total_duty)
        }
        (Some(Estimate::NotMade { reason }), Err(e)) => assert_eq!(*reason, e.to_string()),
        (got, want) => panic!("estimate {got:?} does not follow the engine {want:?}"),
    }

    r.accept();
    assert_eq!(
        r.state.declaration.as_ref().unwrap().mrn.as_deref(),
        Some("26GB0000000000001")
    );
    assert_eq!(r.odoo_write().unwrap()["x_trade_mrn"], "26GB0000000000001");
    assert!(r.state.clearance_token.is_some());

    r.status("RELEASED", json!({ "source_code": "DMSROG" }));
    assert_eq!(r.stage(), Stage::Released);
    let w = r.odoo_write().unwrap();
    assert_eq!(w["x_trade_status"], "RELEASED");
    assert_eq!(w["x_trade_hold"], false);
    assert_eq!(w["x_trade_hold_reason"], "");
    assert_eq!(r.sent(POST_NOTE).len(), 1, "chatter note on release");
    assert!(r.state.clearance_token.is_none());

    r.input(
        CARRIER_MILESTONE,
        json!({ "code": "DEPARTED", "at": "2026-11-25T10:00:00Z" }),
    );
    assert_eq!(r.stage(), Stage::InTransit);
    r.input(
        CARRIER_MILESTONE,
        json!({ "code": "DELIVERED", "at": "2026-11-26T10:00:00Z" }),
    );
    assert_eq!(r.stage(), Stage::Settling);

    let duty = match &r.state.estimate {
        Some(Estimate::Computed {
            total_duty,
            currency,
            ..
        }) => money(&total_duty.to_string(), currency.as_str()),
        _ => money("0", "GBP"),
    };
    r.input(
        ASSESSED_DUTY,
        json!({ "duty": duty, "reference": "DMSTAX-1" }),
    );
    assert_eq!(r.stage(), Stage::Settling, "waits for the broker invoice");
    r.input(
        BROKER_INVOICE,
        json!({ "invoice": "BR-1", "duty": duty, "fees": money("45", "GBP") }),
    );
    assert_eq!(r.stage(), Stage::Closed);
    assert!(r.saga.is_terminal(&r.state));
    assert_eq!(r.odoo_write().unwrap()["x_trade_status"], "CLOSED");
    assert!(r.open().is_empty());
    let stages: Vec<&str> = r
        .last
        .history
        .iter()
        .filter(|h| h["event"] == "stage")
        .map(|h| h["detail"]["to"].as_str().unwrap())
        .collect();
    assert_eq!(stages, ["RECONCILED", "CLOSED"]);

    // Terminal: nothing moves it, and the input is recorded as ignored.
    r.status("QUERY", json!({}));
    assert_eq!(r.stage(), Stage::Closed);
    assert!(r.last.commands.is_empty());
    assert!(r.last_ignored().unwrap().contains("CLOSED"));
}

#[test]
fn export_records_that_no_estimate_was_made_and_settles_on_the_invoice() {
    let mut r = Run::new(EXPORT_KEY);
    r.drive_to_filing(export_json());
    assert_eq!(
        r.one(FILE_DECLARATION).partner,
        "rest-broker",
        "default route"
    );
    assert_eq!(
        r.state.estimate,
        Some(Estimate::NotMade {
            reason: "duty is estimated for imports only".into()
        })
    );
    r.accept();
    r.input(CARRIER_MILESTONE, json!({ "code": "DELIVERED" }));
    assert_eq!(
        r.stage(),
        Stage::AwaitingRelease,
        "a milestone alone does not release"
    );
    r.status("RELEASED", json!({}));
    assert_eq!(
        r.stage(),
        Stage::Settling,
        "an earlier delivery is applied at release"
    );
    r.input(
        BROKER_INVOICE,
        json!({ "invoice": "BR-9", "duty": money("0", "EUR") }),
    );
    assert_eq!(r.stage(), Stage::Closed);
}

#[test]
fn import_without_a_tariff_book_records_why() {
    let mut s = saga();
    s.deps.tariff = None;
    let mut r = Run::with(s, IMPORT_KEY);
    r.drive_to_filing(import_json());
    assert_eq!(
        r.state.estimate,
        Some(Estimate::NotMade {
            reason: "no tariff book is configured".into()
        })
    );
}

// ---- Inputs that do not fit ------------------------------------------------------------------

#[test]
fn unknown_and_malformed_inputs_are_ignored_with_their_reason() {
    let mut r = Run::new(IMPORT_KEY);
    r.input("odoo.picking.exploded", json!({}));
    assert!(r.last_ignored().unwrap().contains("unknown input kind"));
    r.input(PICKING_CONFIRMED, json!({ "picking": 3 }));
    let reason = r.last_ignored().unwrap();
    assert!(
        reason.contains("malformed") && reason.contains("picking_id"),
        "{reason}"
    );
    let mut env = r.env(PICKING_CONFIRMED, json!({ "picking_id": 1 }));
    env.schema_version = 9;
    r.apply(&env);
    assert!(r.last_ignored().unwrap().contains("schema version 9"));
    r.input(
        CUSTOMS_STATUS,
        json!({ "lrn": "X", "status": "TELEPORTED" }),
    );
    assert!(r.last_ignored().is_some());
    assert_eq!(r.stage(), Stage::Received);
    assert_eq!(r.state.ignored, 4);
    assert!(r.last.commands.is_empty());
}

#[test]
fn a_submitted_shipment_skips_enrichment_and_must_match_the_key() {
    let mut r = Run::new(IMPORT_KEY);
    r.input(
        SHIPMENT_SUBMITTED,
        json!({ "shipment": export_json(), "actor": person("ian") }),
    );
    assert!(r.last_ignored().unwrap().contains("differs from the key"));
    r.input(
        SHIPMENT_SUBMITTED,
        json!({ "shipment": import_json(), "actor": person("ian") }),
    );
    assert_eq!(r.stage(), Stage::Screening);
    assert_eq!(
        r.state.picking_id,
        Some(PICKING),
        "picking taken from the shipment"
    );
}

#[test]
fn duplicate_and_superseded_partner_results_are_ignored() {
    let mut r = Run::new(IMPORT_KEY);
    r.input(PICKING_CONFIRMED, json!({ "picking_id": PICKING }));
    let first = r.one(READ_SHIPMENT);
    // The poller cannot tell a new confirmation from a change: a repeat reads the picking again.
    r.input(PICKING_CONFIRMED, json!({ "picking_id": PICKING }));
    let second = r.one(READ_SHIPMENT);
    r.input(PICKING_CONFIRMED, json!({ "picking_id": PICKING + 1 }));
    assert!(r.last_ignored().unwrap().contains("not this shipment's"));
    assert_ne!(first.envelope.id, second.envelope.id);
    r.succeed(&first, json!({ "shipment": import_json() }));
    assert!(
        r.last_ignored().unwrap().contains("no command"),
        "superseded read"
    );
    assert_eq!(r.stage(), Stage::Enriching);
    r.succeed(&second, json!({ "shipment": import_json() }));
    assert_eq!(r.stage(), Stage::Screening);
    r.succeed(&second, json!({ "shipment": import_json() }));
    assert!(r.last_ignored().is_some(), "duplicate result");
    assert_eq!(r.stage(), Stage::Screening);
}

#[test]
fn reapplying_an_input_reissues_the_same_command_ids() {
    let saga = saga();
    let env = Envelope::new(
        "odoo-7",
        IMPORT_KEY,
        PICKING_CONFIRMED,
        json!({ "picking_id": 7 }),
    );
    let a = saga.apply(&ShipmentState::default(), &env, 5);
    let b = saga.apply(&ShipmentState::default(), &env, 5);
    assert_eq!(a, b);
    let ids: Vec<_> = a.commands.iter().map(|c| c.envelope.id.clone()).collect();
    assert!(ids.iter().all(|id| id.starts_with("odoo-7:")), "{ids:?}");
    let other = Envelope::new(
        "odoo-8",
        IMPORT_KEY,
        PICKING_CONFIRMED,
        json!({ "picking_id": 7 }),
    );
    let c = saga.apply(&ShipmentState::default(), &other, 5);
    assert_ne!(a.commands[0].envelope.id, c.commands[0].envelope.id);
}

#[test]
fn state_survives_a_serialisation_round_trip() {
    let mut r = Run::new(IMPORT_KEY);
    r.drive_to_filing(import_json());
    r.accept();
    r.status("HOLD", json!({ "reasons": ["agency hold"] }));
    let text = serde_json::to_string(&r.state).unwrap();
    let back: ShipmentState = serde_json::from_str(&text).unwrap();
    assert_eq!(back, r.state);
}

#[test]
fn exception_types_have_owners_and_slas() {
    for kind in ExceptionType::ALL {
        assert!(kind.default_sla_ms() > 0);
        let text = serde_json::to_value(kind).unwrap();
        assert_eq!(text, kind.as_str());
    }
    assert_eq!(ExceptionType::DutyVariance.owner(), OwnerRole::Finance);
    assert_eq!(
        ExceptionType::ScreeningReview.owner(),
        OwnerRole::ComplianceOfficer
    );
    assert_eq!(ExceptionType::MissingData.owner(), OwnerRole::Operator);
    let mut settings = SagaSettings::default();
    settings
        .exception_sla_ms
        .insert(ExceptionType::MissingData, 5);
    assert_eq!(settings.sla_ms(ExceptionType::MissingData), 5);
    assert_eq!(
        settings.sla_ms(ExceptionType::CustomsHold),
        ExceptionType::CustomsHold.default_sla_ms()
    );
    let _ = ExceptionState::Open;
}

#[test]
fn settings_refuse_unknown_keys() {
    let ok: SagaSettings =
        toml::from_str("ack_timeout_ms = 5\n[exception_sla_ms]\nMISSING_DATA = 7\n").unwrap();
    assert_eq!(ok.ack_timeout_ms, 5);
    assert_eq!(ok.sla_ms(ExceptionType::MissingData), 7);
    assert!(toml::from_str::<SagaSettings>("ack_timeout = 5\n").is_err());
}
