//! Partner callbacks as an attacker would try them, over real HTTP against the hub's API on a
//! private Redis: a replayed callback under a new callback id, a callback outside its time
//! window, bad and malformed signatures, the previous secret during a rotation, a broker
//! reporting another broker's LRN and a carrier reporting a booking the hub does not know for
//! it (both kept as unusable, no saga state created), bookings recorded through the API, and
//! `serve` refusing a short secret.

use serde_json::{Value, json};
use tradehub::api::callbacks::{CALLBACK_ID_HEADER, CallbackPartner, Callbacks};
use tradehub::auth::Role;
use tradehub::partners::config::Layout;
use tradehub::partners::signature::{sign, sign_each, unix_now};
use tradehub::secret::Secret;
use tradehub::store::lrn_ledger::Ledger;
use tradehub::store::{RedisMailbox, callbacks};
use tradehub::workflow::shipment::lrn_for;
use tradehub_actors::envelope::partition_of;
use tradehub_actors::mailbox::{Commit, CommitOutcome, Mailbox};
use tradehub_sim::carrier::{dcsa_event, x12_214};

use crate::brokers::{Hub, SECRET, book, inputs, mailbox, post, start_hub, start_hub_with};
use crate::common::redis::RedisServer;
use crate::common::repo;

const PARTITIONS: u16 = 4;
const BROKER: &str = "rest-broker";
const HEADER: &str = "X-Tradehub-Signature";
/// The secret a rotation retires.
const PREVIOUS: &str = "the-previous-callback-secret-of-44-bytes!!!";

fn url(hub: &Hub, partner: &str) -> String {
    format!("{}/v1/partners/{partner}/callbacks", hub.base)
}

/// A broker status about `lrn`, unique by `event`.
fn status(lrn: &str, event: &str) -> String {
    json!({ "event_id": event, "lrn": lrn, "status": "accepted" }).to_string()
}

fn signed(secret: &str, t: u64, body: &str) -> String {
    sign(secret.as_bytes(), t, body.as_bytes())
}

/// Files `key`'s first declaration with `broker` in the ledger; its LRN.
async fn filed(mailbox: &RedisMailbox, key: &str, broker: &str) -> String {
    let lrn = lrn_for(key, 1);
    Ledger::of(mailbox)
        .record_lrn(&lrn, key, broker)
        .await
        .expect("ledger");
    lrn
}

/// Nothing of saga `key` exists: no state and no input.
async fn no_saga_state(mailbox: &RedisMailbox, key: &str) {
    let stored = mailbox
        .load(partition_of(key, PARTITIONS), key)
        .await
        .expect("load");
    assert_eq!(stored.state, None, "{key} has no state");
    assert!(inputs(mailbox, key).await.is_empty(), "{key} has no input");
}

/// The reasons of the unusable callbacks kept for `partner`, with their bodies.
async fn kept(mailbox: &RedisMailbox, partner: &str) -> Vec<(String, String)> {
    callbacks::rejected(mailbox)
        .await
        .expect("rejected callbacks")
        .into_iter()
        .filter(|r| r.partner == partner)
        .map(|r| (r.reason, String::from_utf8_lossy(&r.body).into_owned()))
        .collect()
}

fn detail(problem: &Value) -> &str {
    problem["detail"].as_str().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replayed_callback_is_refused_even_under_a_new_callback_id() {
    let redis = RedisServer::start();
    let mailbox = mailbox(&redis).await;
    let hub = start_hub(&mailbox);
    let key = "WH/OUT/REPLAY1";
    let lrn = filed(&mailbox, key, BROKER).await;
    let body = status(&lrn, "evt-replay");
    let signature = signed(SECRET, unix_now(), &body);
    let with_id = |id: &str| {
        vec![
            (HEADER, signature.clone()),
            (CALLBACK_ID_HEADER, id.to_owned()),
        ]
    };

    let (code, first) = post(&url(&hub, BROKER), &body, &with_id("cb-1")).await;
    assert_eq!(code, 202, "{first}");
    for id in ["cb-1", "cb-2-new-id"] {
        let (code, problem) = post(&url(&hub, BROKER), &body, &with_id(id)).await;
        assert_eq!(code, 409, "{id}: {problem}");
        assert_eq!(problem["type"], "urn:tradehub:problem:replayed-callback");
        assert!(detail(&problem).contains("accepted before"), "{problem}");
    }
    // Without a callback id too: the signature, not the id, is what was seen.
    let (code, _) = post(&url(&hub, BROKER), &body, &[(HEADER, signature.clone())]).await;
    assert_eq!(code, 409);
    assert_eq!(
        inputs(&mailbox, key).await.len(),
        1,
        "only the first went in"
    );
    hub.handle.stop(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_callback_outside_its_time_window_is_refused() {
    let redis = RedisServer::start();
    let mailbox = mailbox(&redis).await;
    let hub = start_hub(&mailbox);
    let key = "WH/OUT/WINDOW1";
    let lrn = filed(&mailbox, key, BROKER).await;
    let body = status(&lrn, "evt-window");
    let now = unix_now();
    for (t, direction) in [(now - 301 - 5, "before"), (now + 301 + 5, "after")] {
        let (code, problem) = post(
            &url(&hub, BROKER),
            &body,
            &[(HEADER, signed(SECRET, t, &body))],
        )
        .await;
        assert_eq!(code, 401, "{problem}");
        assert_eq!(problem["type"], "urn:tradehub:problem:bad-signature");
        assert!(
            detail(&problem).contains(&format!("t={t}"))
                && detail(&problem).contains(direction)
                && detail(&problem).contains("300 s"),
            "{problem}"
        );
    }
    assert!(inputs(&mailbox, key).await.is_empty());
    // A tighter window is the configuration's to choose.
    hub.handle.stop(true).await;
    let tight = crate::brokers::callbacks().with_tolerance(std::time::Duration::from_secs(30));
    let hub = start_hub_with(&mailbox, tight);
    let (code, problem) = post(
        &url(&hub, BROKER),
        &body,
        &[(HEADER, signed(SECRET, now - 120, &body))],
    )
    .await;
    assert_eq!(code, 401, "{problem}");
    assert!(detail(&problem).contains("30 s"), "{problem}");
    hub.handle.stop(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_and_malformed_signatures_are_refused_without_echoing_a_secret() {
    let redis = RedisServer::start();
    let mailbox = mailbox(&redis).await;
    let hub = start_hub(&mailbox);
    let key = "WH/OUT/BADSIG1";
    let lrn = filed(&mailbox, key, BROKER).await;
    let body = status(&lrn, "evt-bad");
    let now = unix_now();
    let right = signed(SECRET, now, &body);
    let v1 = right.split("v1=").nth(1).expect("v1").to_owned();
    for (what, header, says) in [
        ("none", None, "is missing"),
        (
            "another secret",
            Some(signed("another-secret-that-is-32-bytes-long", now, &body)),
            "does not match",
        ),
        (
            "another time",
            Some(format!("t={},v1={v1}", now - 1)),
            "does not match",
        ),
        ("no time", Some(format!("v1={v1}")), "no t="),
        ("no signature", Some(format!("t={now}")), "no v1="),
        ("the old scheme", Some(v1.clone()), "malformed"),
        (
            "not hex",
            Some(format!("t={now},v1={}", "zz".repeat(32))),
            "64 hex digits",
        ),
    ] {
        let headers: Vec<(&str, String)> = header.map(|h| (HEADER, h)).into_iter().collect();
        let (code, problem) = post(&url(&hub, BROKER), &body, &headers).await;
        assert_eq!(code, 401, "{what}: {problem}");
        assert_eq!(
            problem["type"], "urn:tradehub:problem:bad-signature",
            "{what}"
        );
        let text = problem.to_string();
        assert!(detail(&problem).contains(HEADER), "{what}: {text}");
        assert!(detail(&problem).contains(says), "{what}: {text}");
        assert!(
            !text.contains(SECRET) && !text.contains(&v1),
            "{what}: no secret or expected signature in {text}"
        );
    }
    assert!(inputs(&mailbox, key).await.is_empty());
    let (code, answer) = post(&url(&hub, BROKER), &body, &[(HEADER, right)]).await;
    assert_eq!(code, 202, "the refusals were the signature's: {answer}");
    hub.handle.stop(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn during_a_rotation_either_secret_is_accepted() {
    let redis = RedisServer::start();
    let mailbox = mailbox(&redis).await;
    let layout = Layout::new(repo::root());
    let broker = CallbackPartner::with_secret(&layout, BROKER, Secret::new(SECRET))
        .expect("broker")
        .with_previous(Secret::new(PREVIOUS))
        .expect("previous");
    let hub = start_hub_with(&mailbox, Callbacks::new(layout).with(broker));
    let key = "WH/OUT/ROTATE1";
    let lrn = filed(&mailbox, key, BROKER).await;
    let now = unix_now();

    let old = status(&lrn, "evt-old");
    let (code, answer) = post(
        &url(&hub, BROKER),
        &old,
        &[(HEADER, signed(PREVIOUS, now, &old))],
    )
    .await;
    assert_eq!(code, 202, "signed with the previous secret: {answer}");
    let both = status(&lrn, "evt-both");
    let header = sign_each(
        &[SECRET.as_bytes(), PREVIOUS.as_bytes()],
        now,
        both.as_bytes(),
    );
    let (code, answer) = post(&url(&hub, BROKER), &both, &[(HEADER, header)]).await;
    assert_eq!(code, 202, "signed with both: {answer}");
    // Stripping the new secret's v1 off a seen callback does not make it new.
    let (code, _) = post(
        &url(&hub, BROKER),
        &both,
        &[(HEADER, signed(PREVIOUS, now, &both))],
    )
    .await;
    assert_eq!(code, 409);
    let stranger = status(&lrn, "evt-stranger");
    let (code, _) = post(
        &url(&hub, BROKER),
        &stranger,
        &[(
            HEADER,
            signed("a-third-secret-nobody-gave-the-hub!", now, &stranger),
        )],
    )
    .await;
    assert_eq!(code, 401);
    assert_eq!(inputs(&mailbox, key).await.len(), 2);
    hub.handle.stop(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_reporting_another_brokers_lrn_is_kept_as_unusable_and_creates_nothing() {
    let redis = RedisServer::start();
    let mailbox = mailbox(&redis).await;
    let hub = start_hub(&mailbox);
    let key = "WH/OUT/FOREIGN1";
    let theirs = filed(&mailbox, key, "edifact-broker").await;
    let nobodys = lrn_for("WH/OUT/NEVERFILED", 1);
    for lrn in [&theirs, &nobodys] {
        let body = status(lrn, "evt-foreign");
        let (code, problem) = post(
            &url(&hub, BROKER),
            &body,
            &[(HEADER, signed(SECRET, unix_now(), &body))],
        )
        .await;
        assert_eq!(code, 422, "{problem}");
        assert_eq!(
            detail(&problem),
            format!("{BROKER}: LRN {lrn} was not filed with {BROKER} through this hub"),
            "one answer for another broker's LRN and an unknown one"
        );
    }
    no_saga_state(&mailbox, key).await;
    no_saga_state(&mailbox, "WH/OUT/NEVERFILED").await;
    let kept = kept(&mailbox, BROKER).await;
    assert_eq!(kept.len(), 2);
    assert!(
        kept[0].0.contains(&theirs) && kept[0].1.contains(&theirs),
        "{kept:?}"
    );
    hub.handle.stop(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_carrier_callback_for_a_booking_it_does_not_hold_is_kept_as_unusable_and_creates_nothing()
{
    let redis = RedisServer::start();
    let mailbox = mailbox(&redis).await;
    let hub = start_hub(&mailbox);
    let dcsa = "carrier-dcsa";
    // Unknown to the hub, and known only for the other carrier.
    let unknown = "WH/OUT/NOBOOKING";
    let foreign = "WH/OUT/X12ONLY";
    book(&mailbox, "carrier-x12", foreign, foreign).await;
    for key in [unknown, foreign] {
        let body = dcsa_event(key, 1, "LOAD").to_string();
        let (code, problem) = post(
            &url(&hub, dcsa),
            &body,
            &[("Notification-Signature", signed(SECRET, unix_now(), &body))],
        )
        .await;
        assert_eq!(code, 422, "{key}: {problem}");
        assert!(
            detail(&problem).contains("no booking this hub knows for carrier-dcsa"),
            "{problem}"
        );
        no_saga_state(&mailbox, key).await;
    }
    let kept = kept(&mailbox, dcsa).await;
    assert_eq!(kept.len(), 2);
    assert!(
        kept.iter().all(|(reason, _)| reason.contains("no booking")),
        "{kept:?}"
    );
    assert!(
        kept[1].1.contains(foreign),
        "the raw body is kept: {kept:?}"
    );
    hub.handle.stop(true).await;
}

/// Gives `key` a saga state, as the saga's first commit would.
async fn exists(mailbox: &RedisMailbox, key: &str) {
    let outcome = mailbox
        .commit(&Commit {
            partition: partition_of(key, PARTITIONS),
            key: key.to_owned(),
            expected_ver: 0,
            state: json!({ "stage": "RELEASED" }).to_string(),
            terminal: false,
            history: Vec::new(),
            audit: Vec::new(),
            commands: Vec::new(),
            timers: Vec::new(),
            ack: None,
        })
        .await
        .expect("commit");
    assert!(
        matches!(outcome, CommitOutcome::Committed { .. }),
        "{outcome:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_booking_recorded_through_the_api_opens_that_carriers_callbacks_only() {
    let redis = RedisServer::start();
    let mailbox = mailbox(&redis).await;
    let hub = start_hub(&mailbox);
    let (key, other) = ("WH/OUT/BOOKED1", "WH/OUT/BOOKED2");
    exists(&mailbox, key).await;
    exists(&mailbox, other).await;
    let integrator = crate::common::gate::bearer(&mailbox, Role::Integrator, "tms").await;
    let viewer = crate::common::gate::bearer(&mailbox, Role::Viewer, "viewer").await;
    let booking = |key: &str, body: Value, token: &str| {
        let url = format!("{}/v1/shipments/{key}/bookings", hub.base);
        let token = token.to_owned();
        async move {
            let auth = [("Authorization", token)];
            post(&url, &body.to_string(), &auth).await
        }
    };
    let ours = json!({ "carrier": "carrier-dcsa", "reference": "BKG-778" });
    assert_eq!(booking(key, ours.clone(), &viewer).await.0, 403);
    for (path, body, code, says) in [
        ("WH/OUT/NOSUCH", ours.clone(), 404, "no shipment"),
        (
            key,
            json!({ "carrier": "rest-broker", "reference": "B" }),
            422,
            "`carrier`",
        ),
        (
            key,
            json!({ "carrier": "carrier-dcsa", "reference": " " }),
            422,
            "`reference`",
        ),
        (key, json!({ "carrier": "carrier-dcsa" }), 422, "reference"),
    ] {
        let (status, problem) = booking(path, body, &integrator).await;
        assert_eq!(status, code, "{problem}");
        assert!(detail(&problem).contains(says), "{problem}");
    }
    for _ in 0..2 {
        let (status, answer) = booking(key, ours.clone(), &integrator).await;
        assert_eq!(status, 201, "the same booking again is the same: {answer}");
    }
    let (status, problem) = booking(other, ours.clone(), &integrator).await;
    assert_eq!(status, 409, "{problem}");

    let event = json!({
        "eventID": "e-778", "eventType": "TRANSPORT", "eventClassifierCode": "ACT",
        "eventDateTime": "2026-12-02T10:00:00Z", "transportEventTypeCode": "DEPA",
        "documentReferences": [{ "documentReferenceType": "BKG", "documentReferenceValue": "BKG-778" }],
    })
    .to_string();
    // The other carrier naming the same reference speaks about a booking it does not hold.
    let x12 = x12_214("BKG-778", 2, "X6", 5);
    let (status, problem) = post(
        &url(&hub, "carrier-x12"),
        &x12,
        &[("X-Tradehub-Signature", signed(SECRET, unix_now(), &x12))],
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    assert!(detail(&problem).contains("no booking"), "{problem}");
    let (status, answer) = post(
        &url(&hub, "carrier-dcsa"),
        &event,
        &[("Notification-Signature", signed(SECRET, unix_now(), &event))],
    )
    .await;
    assert_eq!(status, 202, "{answer}");
    assert_eq!(answer["shipment_id"], key);
    assert_eq!(inputs(&mailbox, key).await.len(), 1);
    assert!(inputs(&mailbox, other).await.is_empty());
    hub.handle.stop(true).await;
}

#[test]
fn serve_refuses_to_start_with_a_short_callback_secret() {
    let root = repo::root().display().to_string();
    for variable in [
        "TRADEHUB_CARRIER_DCSA_SECRET",
        "TRADEHUB_REST_BROKER_HMAC_SECRET_PREVIOUS",
    ] {
        let mut env = vec![
            ("REDIS_URL", "redis://127.0.0.1:9"),
            (
                "TRADEHUB_TOKEN_PEPPER",
                "a-pepper-for-this-test-of-36-bytes!!",
            ),
            ("TRADEHUB_RUNTIME__HOME", root.as_str()),
            ("TRADEHUB_METRICS__LISTEN", "127.0.0.1:0"),
            ("TRADEHUB_REST_BROKER_HMAC_SECRET", SECRET),
        ];
        env.push((variable, "short-value-17byt"));
        let (code, out, err) = crate::auth::tradehub(&["serve", "--ephemeral"], &env);
        assert_ne!(code, 0, "{out}{err}");
        let said = format!("{out}{err}");
        assert!(said.contains(variable), "names the variable: {said}");
        assert!(said.contains("at least 32"), "{said}");
        assert!(
            !said.contains("short-value-17byt"),
            "never the value: {said}"
        );
        assert!(!said.contains(SECRET), "nor another secret: {said}");
        assert!(
            !said.to_lowercase().contains("redis at"),
            "it stops before Redis: {said}"
        );
    }
}

/// The attack of issue 16: signed callbacks of 2.4 MB with 240,000 sibling keys, several at once.
/// With a parser quadratic in the number of keys they held both API workers for most of a minute
/// and `/healthz` timed out; parsed in linear time, off the workers, they are answered and the
/// probe answers meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wide_callbacks_leave_the_api_answering_its_probe() {
    let redis = RedisServer::start();
    let mailbox = mailbox(&redis).await;
    let hub = start_hub(&mailbox);
    let mut wide = serde_json::Map::new();
    for i in 0..240_000 {
        wide.insert(format!("k{i}"), json!(i));
    }
    let body = Value::Object(wide).to_string();
    assert!(body.len() > 2_000_000 && body.len() < 4 * 1024 * 1024);
    let posts: Vec<_> = (0..3)
        .map(|i| {
            let (url, body) = (url(&hub, BROKER), body.clone());
            tokio::spawn(async move {
                let headers = [(HEADER, signed(SECRET, unix_now() - i, &body))];
                post(&url, &body, &headers).await.0
            })
        })
        .collect();
    let probe = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(5))
        .build()
        .expect("a client");
    for _ in 0..5 {
        let answer = probe
            .get(format!("{}/healthz", hub.base))
            .send()
            .await
            .expect("/healthz answers within 5 s while the callbacks are read");
        assert_eq!(answer.status().as_u16(), 200);
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    for post in posts {
        let code = post.await.expect("joined");
        assert_eq!(
            code, 422,
            "a payload without an LRN is unusable, not an error"
        );
    }
    let kept = kept(&mailbox, BROKER).await;
    assert_eq!(kept.len(), 3);
    assert!(
        kept.iter()
            .all(|(_, body)| body.len() == callbacks::REJECTED_BODY_KEEP),
        "each kept payload is cut at 64 KiB"
    );
    hub.handle.stop(true).await;
}
