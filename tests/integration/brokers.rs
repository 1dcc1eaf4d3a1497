//! Customs brokers and carriers over real HTTP, real folders and a private Redis:
//! the REST broker transport against the REST broker simulator, signed callbacks,
//! the EDIFACT file drop round trip, carrier milestones, and the people's decisions that reach
//! the saga through the same API.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tradehub::api::callbacks::{CALLBACK_ID_HEADER, CallbackPartner, Callbacks};
use tradehub::api::{self, ApiState};
use tradehub::auth::Role;
use tradehub::partners::config::Layout;
use tradehub::partners::edifact_file::{
    EdifactFileConfig, EdifactFileTransport, InboxWatcher, WatcherConfig,
};
use tradehub::partners::file_drop::DEFAULT_MAX_FILE_BYTES;
use tradehub::partners::rest_broker::{RestBrokerConfig, RestBrokerTransport};
use tradehub::partners::signature::{sign, unix_now};
use tradehub::secret::Secret;
use tradehub::service::readiness::Readiness;
use tradehub::store::lrn_ledger::Ledger;
use tradehub::store::{RedisMailbox, StoreConfig, callbacks};
use tradehub::workflow::shipment::four_eyes::FourEyes;
use tradehub::workflow::shipment::{ShipmentState, Stage, lrn_for};
use tradehub_actors::envelope::{Envelope, partition_of};
use tradehub_actors::mailbox::{Commit, CommitOutcome, Mailbox, StreamName};
use tradehub_actors::partner::{CallError, Transport};
use tradehub_sim::broker::{BrokerSimConfig, CallbackTarget, Faults, RestBrokerSim, Scenario};
use tradehub_sim::broker_edifact::{EdifactBrokerSim, EdifactSimConfig};
use tradehub_sim::carrier::{
    CarrierEndpoint, CarrierFormat, CarrierSim, CarrierSimConfig, dcsa_event, x12_214,
};

use crate::common::redis::{RedisServer, unique_prefix};

const PARTITIONS: u16 = 4;
/// Upper bound of every wait on a condition.
const PATIENCE: Duration = Duration::from_secs(15);
pub(crate) const SECRET: &str = "a-test-callback-secret-of-40-bytes-long!";

fn layout() -> Layout {
    Layout::new(crate::common::repo::root())
}

pub(crate) async fn mailbox(server: &RedisServer) -> RedisMailbox {
    RedisMailbox::connect(StoreConfig::with_url(server.url()).prefix(unique_prefix("b")))
        .await
        .expect("connect to the test redis-server")
}

pub(crate) fn loopback() -> SocketAddr {
    "127.0.0.1:0".parse().expect("address")
}

/// The body of a `customs.file` command for shipment `key`.
fn file_command(key: &str, version: u32) -> Envelope {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/fixtures/shipments/valid_export_de_us_sea.json"
    );
    let mut shipment: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("shipment fixture"))
            .expect("json");
    shipment["id"] = json!(key);
    let lrn = lrn_for(key, version);
    Envelope::new(
        format!("{key}:file:{lrn}"),
        key,
        "customs.file",
        json!({ "lrn": lrn, "version": version, "previous_lrn": null, "shipment": shipment, "estimate": null, "route": null }),
    )
}

fn command(key: &str, kind: &str, lrn: &str) -> Envelope {
    Envelope::new(
        format!("{key}:{kind}:{lrn}"),
        key,
        kind,
        json!({ "lrn": lrn, "mrn": null, "reason": "test" }),
    )
}

/// Every input ingested for `key`, oldest first.
pub(crate) async fn inputs(mailbox: &RedisMailbox, key: &str) -> Vec<Envelope> {
    let entries = mailbox
        .entries(partition_of(key, PARTITIONS), &StreamName::Inbox)
        .await
        .expect("inbox entries");
    entries
        .iter()
        .filter_map(|(_, raw)| serde_json::from_str::<Envelope>(raw).ok())
        .filter(|e| e.key == key)
        .collect()
}

async fn statuses(mailbox: &RedisMailbox, key: &str) -> Vec<String> {
    inputs(mailbox, key)
        .await
        .iter()
        .filter(|e| e.kind == "customs.status")
        .filter_map(|e| e.body["status"].as_str().map(str::to_owned))
        .collect()
}

/// A shipment key whose first declaration plays `scenario` under `seed`.
fn key_playing(seed: u64, scenario: Scenario, tag: &str) -> String {
    (0..10_000)
        .map(|i| format!("WH/OUT/{tag}{i:05}"))
        .find(|k| Scenario::for_shipment(seed, k) == scenario)
        .expect("some key plays every scenario")
}

pub(crate) struct Hub {
    pub(crate) base: String,
    pub(crate) handle: actix_web::dev::ServerHandle,
}

pub(crate) fn callbacks() -> Callbacks {
    let secret = Secret::new(SECRET);
    let mut callbacks = Callbacks::new(layout());
    for name in ["rest-broker", "carrier-dcsa", "carrier-x12"] {
        callbacks = callbacks
            .with(CallbackPartner::with_secret(&layout(), name, secret.clone()).expect(name));
    }
    callbacks
}

pub(crate) fn start_hub(mailbox: &RedisMailbox) -> Hub {
    start_hub_with(mailbox, callbacks())
}

/// The hub's API on `mailbox`, taking the callbacks of `callbacks`.
pub(crate) fn start_hub_with(mailbox: &RedisMailbox, callbacks: Callbacks) -> Hub {
    let state = ApiState {
        mailbox: mailbox.clone(),
        partitions: PARTITIONS,
        callbacks,
        odoo: None,
        gate: crate::common::gate::serving(mailbox),
        four_eyes: FourEyes::default(),
    };
    let (server, addr) =
        api::server(loopback(), Arc::new(Readiness::default()), state).expect("bind the API");
    let handle = server.handle();
    tokio::spawn(server);
    Hub {
        base: format!("http://{addr}"),
        handle,
    }
}

pub(crate) async fn post(url: &str, body: &str, headers: &[(&str, String)]) -> (u16, Value) {
    let mut request = reqwest::Client::new().post(url).body(body.to_owned());
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    let response = request.send().await.expect("hub answers");
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    if status >= 400 {
        assert_eq!(content_type, "application/problem+json", "{body}");
    }
    (status, body)
}

/// Records that `carrier` carries shipment `key` under `reference`.
pub(crate) async fn book(mailbox: &RedisMailbox, carrier: &str, reference: &str, key: &str) {
    let owner = Ledger::of(mailbox)
        .record_reference(carrier, reference, key)
        .await
        .expect("ledger");
    assert_eq!(owner, key, "{carrier} {reference} was free");
}

async fn wait_for<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + PATIENCE;
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn rest_transport(
    sim: &RestBrokerSim,
    mailbox: &RedisMailbox,
    timeout: Duration,
) -> RestBrokerTransport {
    let mut config = RestBrokerConfig::new("rest-broker", layout(), &sim.endpoint());
    config.timeout = timeout;
    RestBrokerTransport::new(config, Ledger::of(mailbox)).expect("HTTP client")
}

fn quiet_broker() -> BrokerSimConfig {
    // No status step happens during the test: the broker only acknowledges.
    BrokerSimConfig {
        step_delay: Duration::from_secs(3600),
        ..BrokerSimConfig::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_broker_files_once_per_lrn_and_answers_queries_and_cancels() {
    let redis = RedisServer::start();
    let mailbox = mailbox(&redis).await;
    let sim = RestBrokerSim::start(loopback(), &quiet_broker()).expect("broker sim");
    let transport = rest_transport(&sim, &mailbox, Duration::from_secs(5));
    let filing = file_command("WH/OUT/REST1", 1);
    let lrn = filing.body["lrn"].as_str().expect("lrn").to_owned();

    let first = transport.call(&filing).await.expect("filed");
    assert_eq!(
        first,
        json!({ "lrn": lrn, "status": "RECEIVED", "mrn": null, "reasons": [] })
    );
    let again = transport.call(&filing).await.expect("filed again");
    assert_eq!(again, first);
    let counters = sim.counters();
    assert_eq!((counters.filing_requests, counters.distinct_lrns), (2, 1));
    assert_eq!(sim.declaration(&lrn).expect("held").filings, 2);
    let ledger = Ledger::of(&mailbox);
    assert_eq!(
        ledger.lrn_key(&lrn).await.expect("ledger").as_deref(),
        Some("WH/OUT/REST1")
    );

    let query = transport
        .call(&command("WH/OUT/REST1", "customs.query_status", &lrn))
        .await
        .expect("query");
    assert_eq!(query["status"], "RECEIVED");
    let unknown = transport
        .call(&command(
            "X",
            "customs.query_status",
            "THNOSUCHLRN000000001",
        ))
        .await
        .expect("query");
    assert_eq!(unknown["status"], Value::Null);

    let cancelled = transport
        .call(&command("WH/OUT/REST1", "customs.cancel", &lrn))
        .await
        .expect("cancel");
    assert_eq!(cancelled["status"], "CANCELLED");
    assert_eq!(sim.counters().cancellations, 1);
    match transport
        .call(&command("X", "customs.cancel", "THNOSUCHLRN000000001"))
        .await
    {
        Err(CallError::Permanent { reason }) => {
            assert!(reason.contains("no declaration"), "{reason}")
        }
        other => panic!("cancel of an unknown LRN: {other:?}"),
    }
    match transport.call(&command("X", "customs.amend", &lrn)).await {
        Err(CallError::Poison { reason }) => assert!(reason.contains("customs.amend"), "{reason}"),
        other => panic!("unknown command: {other:?}"),
    }
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_broker_failures_map_onto_the_retry_taxonomy() {
    let redis = RedisServer::start();
    let mailbox = mailbox(&redis).await;
    let sim = RestBrokerSim::start(loopback(), &quiet_broker()).expect("broker sim");
    // The client waits long enough that only the injected hang can time it out on a
    // loaded machine.
    let transport = rest_transport(&sim, &mailbox, Duration::from_millis(1500));
    let filing = file_command("WH/OUT/FAULTS", 1);
    let lrn = filing.body["lrn"].as_str().expect("lrn").to_owned();

    sim.set_faults(Faults {
        rate_limit_rate: 1.0,
        retry_after_secs: 3,
        ..Faults::default()
    });
    match transport.call(&filing).await {
        Err(CallError::Retry { after, .. }) => assert_eq!(after, Some(Duration::from_secs(3))),
        other => panic!("429: {other:?}"),
    }
    sim.set_faults(Faults {
        error_rate: 1.0,
        ..Faults::default()
    });
    match transport.call(&filing).await {
        Err(CallError::Retry {
            after: None,
            reason,
        }) => assert!(reason.contains("503"), "{reason}"),
        other => panic!("503: {other:?}"),
    }
    assert_eq!(
        sim.counters().distinct_lrns,
        0,
        "refused requests file nothing"
    );

    sim.set_faults(Faults {
        timeout_rate: 1.0,
        hang: Some(Duration::from_secs(4)),
        ..Faults::default()
    });
    match transport.call(&filing).await {
        Err(CallError::OutcomeUnknown { reason }) => assert!(reason.contains(&lrn), "{reason}"),
        other => panic!("timeout after sending: {other:?}"),
    }
    assert_eq!(
        sim.counters().distinct_lrns,
        1,
        "the timed-out filing did reach the broker"
    );
    match transport
        .call(&command("WH/OUT/FAULTS", "customs.query_status", &lrn))
        .await
    {
        Err(CallError::Retry { .. }) => {}
        other => panic!("a query that timed out is safe to retry: {other:?}"),
    }

    sim.set_faults(Faults::default());
    let answer = transport
        .call(&command("WH/OUT/FAULTS", "customs.query_status", &lrn))
        .await
        .expect("query");
    assert_eq!(answer["status"], "RECEIVED");

    sim.stop().await;
    let gone = rest_transport(&sim, &mailbox, Duration::from_millis(1500));
    match gone.call(&filing).await {
        Err(CallError::Retry { reason, .. }) => assert!(reason.contains("unreachable"), "{reason}"),
        other => panic!("connection refused: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_broker_callbacks_reach_the_saga_inbox_through_the_hub() {
    let redis = RedisServer::start();
    let mailbox = mailbox(&redis).await;
    let hub = start_hub(&mailbox);
    let config = BrokerSimConfig {
        step_delay: Duration::from_millis(20),
        ..BrokerSimConfig::default()
    };
    let sim = RestBrokerSim::start(loopback(), &config).expect("broker sim");
    sim.set_callback(CallbackTarget {
        url: format!("{}/v1/partners/rest-broker/callbacks", hub.base),
        header: "X-Tradehub-Signature".into(),
        secret: Secret::new(SECRET),
    });
    let transport = rest_transport(&sim, &mailbox, Duration::from_secs(5));
    let key = key_playing(config.seed, Scenario::HoldReleased, "HOLD");
    let filing = file_command(&key, 1);
    let lrn = filing.body["lrn"].as_str().expect("lrn").to_owned();
    assert_eq!(sim.expected_outcome(&lrn), Scenario::HoldReleased);
    transport.call(&filing).await.expect("filed");

    let expected: Vec<String> = Scenario::HoldReleased
        .steps()
        .iter()
        .map(|s| {
            serde_json::to_value(s)
                .expect("status")
                .as_str()
                .expect("text")
                .to_owned()
        })
        .collect();
    wait_for("every status of the scenario", || async {
        statuses(&mailbox, &key).await.len() >= expected.len()
    })
    .await;
    assert_eq!(statuses(&mailbox, &key).await, expected);
    let accepted = inputs(&mailbox, &key)
        .await
        .into_iter()
        .find(|e| e.body["status"] == "ACCEPTED")
        .expect("accepted");
    assert_eq!(accepted.body["lrn"], json!(lrn));
    assert_eq!(
        accepted.body["mrn"],
        json!(sim.declaration(&lrn).expect("held").mrn)
    );
    let sent = expected.len() as u64;
    wait_for("the broker to count its callbacks", || async {
        sim.counters().callbacks_sent == sent
    })
    .await;
    sim.stop().await;
    hub.handle.stop(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callbacks_are_verified_deduplicated_and_kept_when_unusable() {
    let redis = RedisServer::start();
    let mailbox = mailbox(&redis).await;
    let hub = start_hub(&mailbox);
    let url = format!("{}/v1/partners/rest-broker/callbacks", hub.base);
    let key = "WH/OUT/CB1";
    let lrn = lrn_for(key, 1);
    Ledger::of(&mailbox)
        .record_lrn(&lrn, key, "rest-broker")
        .await
        .expect("ledger");
    let body = json!({ "event_id": "evt1", "lrn": lrn, "status": "accepted", "customs_reference": "26GBMRN1", "occurred_at": "2026-11-27T11:00:04Z" }).to_string();
    // Each delivery is signed when it is sent: a retry one second later is a new request.
    let now = unix_now();
    let signed_at = |body: &str, t: u64| sign(SECRET.as_bytes(), t, body.as_bytes());
    let signed = |body: &str| signed_at(body, now);

    let (status, problem) = post(&url, &body, &[]).await;
    assert_eq!(status, 401, "missing signature: {problem}");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("X-Tradehub-Signature")
    );
    let (status, _) = post(
        &url,
        &body,
        &[(
            "X-Tradehub-Signature",
            sign(b"a-wrong-secret-of-at-least-32-bytes", now, body.as_bytes()),
        )],
    )
    .await;
    assert_eq!(status, 401, "bad signature");
    let tampered = body.replace("accepted", "released");
    let (status, _) = post(&url, &tampered, &[("X-Tradehub-Signature", signed(&body))]).await;
    assert_eq!(status, 401, "signature of another body");
    assert!(
        inputs(&mailbox, key).await.is_empty(),
        "nothing unsigned is ingested"
    );

    let headers = [
        ("X-Tradehub-Signature", signed(&body)),
        (CALLBACK_ID_HEADER, "evt1".to_owned()),
    ];
    let (status, first) = post(&url, &body, &headers).await;
    assert_eq!(status, 202, "{first}");
    assert_eq!(
        (first["shipment_id"].as_str(), first["duplicate"].as_bool()),
        (Some(key), Some(false))
    );
    let retry = [
        ("X-Tradehub-Signature", signed_at(&body, now + 1)),
        (CALLBACK_ID_HEADER, "evt1".to_owned()),
    ];
    let (status, again) = post(&url, &body, &retry).await;
    assert_eq!(status, 202);
    assert_eq!(
        again["inputs"], first["inputs"],
        "a duplicate gets the first answer"
    );
    assert_eq!(again["duplicate"], true);
    let ingested = inputs(&mailbox, key).await;
    assert_eq!(ingested.len(), 1);
    assert_eq!(ingested[0].kind, "customs.status");
    assert_eq!(ingested[0].body["status"], "ACCEPTED");
    assert_eq!(ingested[0].body["mrn"], "26GBMRN1");

    // No callback id: the body's hash is the key.
    let released = json!({ "event_id": "evt2", "lrn": lrn, "status": "released" }).to_string();
    for t in [now, now + 1] {
        let (status, _) = post(
            &url,
            &released,
            &[("X-Tradehub-Signature", signed_at(&released, t))],
        )
        .await;
        assert_eq!(status, 202);
    }
    assert_eq!(statuses(&mailbox, key).await, vec!["ACCEPTED", "RELEASED"]);

    let unmappable = json!({ "event_id": "evt3", "lrn": lrn, "status": "teleported" }).to_string();
    let (status, problem) = post(
        &url,
        &unmappable,
        &[("X-Tradehub-Signature", signed(&unmappable))],
    )
    .await;
    assert_eq!(status, 422);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("teleported"),
        "{problem}"
    );
    let stranger =
        json!({ "event_id": "evt4", "lrn": "THUNKNOWN00000000001", "status": "accepted" })
            .to_string();
    let (status, problem) = post(
        &url,
        &stranger,
        &[("X-Tradehub-Signature", signed(&stranger))],
    )
    .await;
    assert_eq!(status, 422);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("THUNKNOWN00000000001"),
        "{problem}"
    );
    let kept = callbacks::rejected(&mailbox)
        .await
        .expect("rejected callbacks");
    let bodies: Vec<String> = kept
        .into_iter()
        .filter_map(|r| String::from_utf8(r.body).ok())
        .collect();
    assert_eq!(
        bodies,
        vec![unmappable, stranger],
        "the raw payloads are kept for an operator"
    );
    assert_eq!(statuses(&mailbox, key).await.len(), 2);

    let (status, _) = post(
        &format!("{}/v1/partners/nobody/callbacks", hub.base),
        "{}",
        &[],
    )
    .await;
    assert_eq!(status, 404);
    hub.handle.stop(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn carrier_milestones_arrive_as_dcsa_json_and_x12_214() {
    let redis = RedisServer::start();
    let mailbox = mailbox(&redis).await;
    let hub = start_hub(&mailbox);
    let endpoint = |partner: &str, header: &str| CarrierEndpoint {
        url: format!("{}/v1/partners/{partner}/callbacks", hub.base),
        header: header.into(),
        secret: Secret::new(SECRET),
    };
    let sim = CarrierSim::new(CarrierSimConfig {
        dcsa: endpoint("carrier-dcsa", "Notification-Signature"),
        x12: endpoint("carrier-x12", "X-Tradehub-Signature"),
        seed: 1,
        step_delay: Duration::from_millis(1),
        faults: Faults::default(),
    })
    .expect("carrier sim");
    for (key, format, carrier) in [
        ("WH/OUT/SEA1", CarrierFormat::Dcsa, "carrier-dcsa"),
        ("WH/OUT/TRUCK1", CarrierFormat::X12, "carrier-x12"),
    ] {
        // Booked under the hub's shipment id, as the simulated carrier reports it.
        book(&mailbox, carrier, key, key).await;
        for step in 0..format.journey().len() {
            assert_eq!(
                sim.post_step(key, format, step).await.expect("posted"),
                202,
                "{format:?} step {step}"
            );
        }
        let milestones: Vec<Value> = inputs(&mailbox, key)
            .await
            .iter()
            .inspect(|e| assert_eq!(e.kind, "carrier.milestone"))
            .map(|e| e.body["code"].clone())
            .collect();
        let mut seen: Vec<Value> = Vec::new();
        for m in milestones.iter() {
            if !seen.contains(m) {
                seen.push(m.clone());
            }
        }
        let expected: Vec<Value> = format
            .expected_milestones()
            .iter()
            .map(|m| json!(m))
            .collect();
        assert_eq!(seen, expected, "{format:?}");
        assert_eq!(
            milestones.len(),
            format.journey().len(),
            "{format:?}: one input per event"
        );

        // The same event again, signed anew later, is the same milestone: nothing new.
        let before = inputs(&mailbox, key).await.len();
        let (body, header) = match format {
            CarrierFormat::Dcsa => (
                dcsa_event(key, 0, format.journey()[0]).to_string(),
                "Notification-Signature",
            ),
            CarrierFormat::X12 => (
                x12_214(key, 0, format.journey()[0], 99),
                "X-Tradehub-Signature",
            ),
        };
        let later = sign(SECRET.as_bytes(), unix_now() + 60, body.as_bytes());
        let url = format!("{}/v1/partners/{carrier}/callbacks", hub.base);
        let (status, answer) = post(&url, &body, &[(header, later)]).await;
        assert_eq!(status, 202, "{format:?}: {answer}");
        assert_eq!(inputs(&mailbox, key).await.len(), before, "{format:?}");
    }
    assert_eq!(sim.counters().posted, 12);

    // A booking known only by its carrier reference resolves through the ledger.
    book(&mailbox, "carrier-dcsa", "CONU7654321", "WH/OUT/BOXED").await;
    let event = json!({
        "eventID": "e-boxed", "eventType": "EQUIPMENT", "eventClassifierCode": "ACT",
        "eventDateTime": "2026-12-02T10:00:00Z", "equipmentEventTypeCode": "LOAD",
        "equipmentReference": "CONU7654321", "eventLocation": { "UNLocationCode": "DEHAM" }
    })
    .to_string();
    let url = format!("{}/v1/partners/carrier-dcsa/callbacks", hub.base);
    let (status, answer) = post(
        &url,
        &event,
        &[(
            "Notification-Signature",
            sign(SECRET.as_bytes(), unix_now(), event.as_bytes()),
        )],
    )
    .await;
    assert_eq!(status, 202, "{answer}");
    assert_eq!(answer["shipment_id"], "WH/OUT/BOXED");
    assert_eq!(
        inputs(&mailbox, "WH/OUT/BOXED").await[0].body["code"],
        "DEPARTED"
    );
    hub.handle.stop(true).await;
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .filter(|e| e.path().is_file())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edifact_file_drop_round_trip() {
    let redis = RedisServer::start();
    let mailbox = mailbox(&redis).await;
    let folders = tempfile::tempdir().expect("tempdir");
    let outbox = folders.path().join("out");
    let inbox = folders.path().join("in");
    let transport = EdifactFileTransport::new(
        EdifactFileConfig {
            partner: "edifact-broker".into(),
            layout: layout(),
            outbox: outbox.clone(),
        },
        Ledger::of(&mailbox),
    );
    let seed = 5;
    let key = key_playing(seed, Scenario::ControlReleased, "EDI");
    let filing = file_command(&key, 1);
    let lrn = filing.body["lrn"].as_str().expect("lrn").to_owned();

    // Sent twice before the broker looks: one file, overwritten.
    for _ in 0..2 {
        let ack = transport.call(&filing).await.expect("written");
        assert_eq!(
            ack,
            json!({ "lrn": lrn, "status": null, "mrn": null, "reasons": [] })
        );
    }
    assert_eq!(files_in(&outbox), vec![format!("{lrn}.edi")]);
    let cusdec = std::fs::read_to_string(outbox.join(format!("{lrn}.edi"))).expect("cusdec");
    assert!(
        cusdec.contains("UNH+1+CUSDEC:D:96B:UN'") && cusdec.contains(&format!("BGM+830+{lrn}+9'")),
        "{cusdec}"
    );

    let sim = EdifactBrokerSim::start(EdifactSimConfig {
        outbox: outbox.clone(),
        inbox: inbox.clone(),
        poll: Duration::from_millis(20),
        broker: BrokerSimConfig {
            seed,
            step_delay: Duration::from_millis(20),
            faults: Faults::default(),
            finance_drop: None,
        },
    });
    assert_eq!(sim.expected_outcome(&lrn), Scenario::ControlReleased);
    let watcher = InboxWatcher::new(
        WatcherConfig {
            partner: "edifact-broker".into(),
            layout: layout(),
            inbox: inbox.clone(),
            poll: Duration::from_millis(20),
            partitions: PARTITIONS,
            acknowledge_to: Some(outbox.clone()),
            max_file_bytes: DEFAULT_MAX_FILE_BYTES,
        },
        mailbox.clone(),
    );
    std::fs::create_dir_all(&inbox).expect("inbox");
    std::fs::write(inbox.join("0_noise.edi"), b"this is not EDIFACT").expect("noise");
    let expected = ["RECEIVED", "ACCEPTED", "CONTROL", "RELEASED"];
    wait_for("the CONTRL and every CUSRES", || async {
        watcher.poll_once().await.expect("poll");
        statuses(&mailbox, &key).await.len() >= expected.len()
    })
    .await;
    assert_eq!(statuses(&mailbox, &key).await, expected);
    let accepted = inputs(&mailbox, &key)
        .await
        .into_iter()
        .find(|e| e.body["status"] == "ACCEPTED")
        .expect("accepted");
    assert_eq!(
        accepted.body["mrn"],
        json!(sim.declaration(&lrn).expect("held").mrn)
    );
    assert_eq!(accepted.body["source_code"], "ACC");
    let counters = sim.counters();
    assert_eq!((counters.filing_requests, counters.distinct_lrns), (1, 1));

    // Nothing is lost: processed files in done/, the unusable one in error/ with its reason.
    assert!(files_in(&inbox).is_empty(), "{:?}", files_in(&inbox));
    assert_eq!(files_in(&inbox.join("done")).len(), expected.len());
    assert_eq!(
        files_in(&inbox.join("error")),
        vec!["0_noise.edi".to_owned(), "0_noise.edi.reason".to_owned()]
    );
    let reason = std::fs::read_to_string(inbox.join("error/0_noise.edi.reason")).expect("reason");
    assert!(reason.contains("does not map"), "{reason}");

    // A file dropped again (restored from done/) is a duplicate, not a second status.
    let done = files_in(&inbox.join("done"));
    std::fs::copy(
        inbox.join("done").join(&done[1]),
        inbox.join("zz_again.edi"),
    )
    .expect("copy");
    let report = watcher.poll_once().await.expect("poll");
    assert_eq!((report.ingested, report.duplicates), (0, 1));
    assert_eq!(statuses(&mailbox, &key).await.len(), expected.len());

    // Every CUSRES got our CONTRL in the outbox (the broker takes it like any file).
    let contrls = || {
        files_in(&outbox.join("taken"))
            .into_iter()
            .chain(files_in(&outbox))
            .filter(|n| n.starts_with("CONTRL_"))
            .collect::<Vec<_>>()
    };
    wait_for("our CONTRLs", || {
        let n = contrls().len();
        async move { n == expected.len() - 1 }
    })
    .await;
    let ours = files_in(&outbox.join("taken"))
        .into_iter()
        .chain(files_in(&outbox))
        .find(|n| n.starts_with("CONTRL_"))
        .expect("a CONTRL");
    let ours = std::fs::read_to_string(outbox.join("taken").join(&ours))
        .or_else(|_| std::fs::read_to_string(outbox.join(&ours)))
        .expect("read");
    assert!(
        ours.contains("UNH+1+CONTRL:") && ours.contains("UCI+"),
        "{ours}"
    );

    // A query over the file drop answers the last status the broker reported.
    let last = transport
        .call(&command(&key, "customs.query_status", &lrn))
        .await
        .expect("query");
    assert_eq!(last["status"], "RELEASED");

    // Cancel after release: the CUSDEC goes out as a cancellation; the broker refuses
    // silently (released goods), so no CANCELLED arrives.
    transport
        .call(&command(&key, "customs.cancel", &lrn))
        .await
        .expect("written");
    let cancel_file = format!("{lrn}.cancel.edi");
    wait_for("the broker to take the cancellation", || {
        let taken = outbox.join("taken").join(&cancel_file);
        async move { taken.exists() }
    })
    .await;
    assert!(
        std::fs::read_to_string(outbox.join("taken").join(&cancel_file))
            .expect("cancel")
            .contains(&format!("BGM+830+{lrn}+1'"))
    );
    sim.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_callbacks_are_recovered_by_a_status_query() {
    let redis = RedisServer::start();
    let mailbox = mailbox(&redis).await;
    let hub = start_hub(&mailbox);
    let config = BrokerSimConfig {
        step_delay: Duration::from_millis(10),
        faults: Faults {
            drop_callback_rate: 1.0,
            ..Faults::default()
        },
        ..BrokerSimConfig::default()
    };
    let sim = RestBrokerSim::start(loopback(), &config).expect("broker sim");
    sim.set_callback(CallbackTarget {
        url: format!("{}/v1/partners/rest-broker/callbacks", hub.base),
        header: "X-Tradehub-Signature".into(),
        secret: Secret::new(SECRET),
    });
    let transport = rest_transport(&sim, &mailbox, Duration::from_secs(5));
    let key = key_playing(config.seed, Scenario::Rejected, "DROP");
    let filing = file_command(&key, 1);
    let lrn = filing.body["lrn"].as_str().expect("lrn").to_owned();
    transport.call(&filing).await.expect("filed");
    wait_for("customs to decide", || async {
        sim.declaration(&lrn)
            .is_some_and(|d| d.status == Scenario::Rejected.final_status())
    })
    .await;
    assert_eq!(sim.counters().callbacks_dropped, 1);
    assert!(
        statuses(&mailbox, &key).await.is_empty(),
        "the callback was dropped"
    );
    let answer = transport
        .call(&command(&key, "customs.query_status", &lrn))
        .await
        .expect("query");
    assert_eq!(answer["status"], "REJECTED");
    assert_eq!(
        answer["reasons"].as_array().map(Vec::len),
        Some(1),
        "{answer}"
    );
    assert!(
        answer["reasons"][0]
            .as_str()
            .unwrap_or_default()
            .contains("commodity_code"),
        "{answer}"
    );
    sim.stop().await;
    hub.handle.stop(true).await;
}

#[test]
fn sim_command_line_refuses_an_edifact_broker_without_folders() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_tradehub"))
        .args(["sim", "broker", "--kind", "edifact"])
        .output()
        .expect("run tradehub");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--outbox"), "{stderr}");
}

#[test]
fn sim_command_line_needs_the_callback_secret() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_tradehub"))
        .args([
            "sim",
            "broker",
            "--listen",
            "127.0.0.1:0",
            "--secret-env",
            "TRADEHUB_TEST_SURELY_UNSET_9A",
        ])
        .output()
        .expect("run tradehub");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("TRADEHUB_TEST_SURELY_UNSET_9A"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn carrier_callbacks_with_bad_signatures_are_refused_and_ingest_nothing() {
    let redis = RedisServer::start();
    let mailbox = mailbox(&redis).await;
    let hub = start_hub(&mailbox);
    for (partner, header, key, body) in [
        (
            "carrier-dcsa",
            "Notification-Signature",
            "WH/OUT/SIGDCSA",
            dcsa_event("WH/OUT/SIGDCSA", 1, "LOAD").to_string(),
        ),
        (
            "carrier-x12",
            "X-Tradehub-Signature",
            "WH/OUT/SIGX12",
            x12_214("WH/OUT/SIGX12", 0, "X3", 7),
        ),
    ] {
        book(&mailbox, partner, key, key).await;
        let url = format!("{}/v1/partners/{partner}/callbacks", hub.base);
        let now = unix_now();
        let signed = |body: &str| sign(SECRET.as_bytes(), now, body.as_bytes());
        let other = body.replace(key, "WH/OUT/OTHER");
        for (what, signature) in [
            ("no signature", None),
            (
                "another secret",
                Some(sign(
                    b"not-the-secret-but-also-32-bytes-long",
                    now,
                    body.as_bytes(),
                )),
            ),
            ("another body's", Some(signed(&other))),
            ("not hex", Some(format!("t={now},v1={}", "zz".repeat(32)))),
            ("the old body-only scheme", Some("ab".repeat(32))),
        ] {
            let headers: Vec<(&str, String)> = signature.map(|s| (header, s)).into_iter().collect();
            let (status, problem) = post(&url, &body, &headers).await;
            assert_eq!(status, 401, "{partner}, {what}: {problem}");
        }
        assert!(
            inputs(&mailbox, key).await.is_empty(),
            "{partner}: nothing unsigned is ingested"
        );
        // The same body, rightly signed, is a milestone: the refusals were the signature's.
        let (status, answer) = post(&url, &body, &[(header, signed(&body))]).await;
        assert_eq!(status, 202, "{partner}: {answer}");
        assert_eq!(answer["shipment_id"], key, "{partner}");
        let ingested = inputs(&mailbox, key).await;
        assert_eq!(ingested.len(), 1, "{partner}");
        assert_eq!(ingested[0].kind, "carrier.milestone");
    }
    hub.handle.stop(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn screening_overrides_and_exception_resolutions_reach_the_saga_once() {
    let redis = RedisServer::start();
    let mailbox = mailbox(&redis).await;
    let hub = start_hub(&mailbox);
    let key = "odoo/demo/picking/42";
    let base = format!("{}/v1/shipments/{key}", hub.base);
    let override_url = format!("{base}/screening/override");
    let body = json!({ "reason": "licence GB-123 covers this party" });
    let officer = vec![(
        "Authorization",
        crate::common::gate::bearer(&mailbox, Role::ComplianceOfficer, "c.officer").await,
    )];
    let (status, unknown) = post(&override_url, &body.to_string(), &officer).await;
    assert_eq!(
        status, 404,
        "no action on a shipment the hub does not know: {unknown}"
    );
    assert!(
        inputs(&mailbox, key).await.is_empty(),
        "a refused action leaves nothing behind"
    );
    // The saga is not running here: the shipment is put where a screening match left it.
    let blocked = ShipmentState {
        stage: Stage::Blocked,
        ..ShipmentState::default()
    };
    let seeded = mailbox
        .commit(&Commit {
            partition: partition_of(key, PARTITIONS),
            key: key.to_owned(),
            expected_ver: 0,
            state: serde_json::to_string(&blocked).expect("a state"),
            terminal: true,
            history: Vec::new(),
            audit: Vec::new(),
            commands: Vec::new(),
            timers: Vec::new(),
            ack: None,
        })
        .await
        .expect("seeded");
    assert_eq!(seeded, CommitOutcome::Committed { ver: 1 });

    let operator = vec![(
        "Authorization",
        crate::common::gate::bearer(&mailbox, Role::Operator, "ops.anna").await,
    )];

    let (status, first) = post(&override_url, &body.to_string(), &officer).await;
    assert_eq!(status, 202, "{first}");
    assert_eq!(
        (
            first["shipment_id"].as_str(),
            first["kind"].as_str(),
            first["duplicate"].as_bool()
        ),
        (Some(key), Some("screening.override"), Some(false))
    );
    let (status, again) = post(&override_url, &body.to_string(), &officer).await;
    assert_eq!(status, 202);
    assert_eq!(
        again["duplicate"], true,
        "the same request is ingested once"
    );
    let (status, problem) = post(&override_url, &json!({}).to_string(), &officer).await;
    assert_eq!(status, 422, "an override without its reason: {problem}");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("reason"),
        "{problem}"
    );
    let (status, _) = post(&override_url, &body.to_string(), &operator).await;
    assert_eq!(status, 403, "an operator cannot override a screening block");

    let resolve_url = format!("{base}/exceptions/EX-7/resolve");
    let body = json!({ "action": "retry", "note": "Odoo is back" });
    let (status, resolved) = post(&resolve_url, &body.to_string(), &operator).await;
    assert_eq!(status, 202, "{resolved}");
    assert_eq!(resolved["kind"], "exception.resolve");
    let named = json!({ "by": "someone.else", "action": "retry" }).to_string();
    let (status, problem) = post(&resolve_url, &named, &operator).await;
    assert_eq!(status, 422, "a body naming its own actor: {problem}");
    let (status, _) = post(&resolve_url, "[1, 2]", &operator).await;
    assert_eq!(status, 422, "a body that is not an object");

    let ingested = inputs(&mailbox, key).await;
    let kinds: Vec<&str> = ingested.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, vec!["screening.override", "exception.resolve"]);
    assert_eq!(ingested[0].body["actor"]["label"], "c.officer");
    assert_eq!(
        ingested[0].body["reason"],
        "licence GB-123 covers this party"
    );
    assert_eq!(
        (
            ingested[1].body["exception_id"].as_str(),
            ingested[1].body["actor"]["label"].as_str(),
            ingested[1].body["action"].as_str()
        ),
        (Some("EX-7"), Some("ops.anna"), Some("retry")),
        "the exception id comes from the path, the actor from the token"
    );
    hub.handle.stop(true).await;
}
