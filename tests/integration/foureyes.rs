//! Four-eyes on sanctions overrides over real HTTP against the hub `serve` runs: a shipment whose
//! consignee is on the OFAC SDN list is blocked by one compliance officer; the same officer's
//! override is refused, another's waits as a pending approval that its requester cannot approve,
//! and a third officer approves (the shipment files) or rejects it (it stays BLOCKED). With
//! `[saga.four_eyes] override = false` one officer's override lifts the block as before.

use reqwest::Method;
use serde_json::{Value, json};
use tradehub::auth::Role;

use crate::auth::{Answer, TestHub, submission};

const OFFICER: [Role; 2] = [Role::ComplianceOfficer, Role::Viewer];

/// A shipment under `key` whose consignee is an SDN-listed bank, blocked on `confirmer`'s
/// confirmation of the potential match.
async fn blocked(hub: &TestHub, key: &str, confirmer: &str) {
    let (_, integrator) = hub.token("ERP bridge", &[Role::Integrator]).await;
    let mut shipment = submission(key);
    shipment["parties"][1]["name"] = json!("BANCO NACIONAL DE CUBA");
    shipment["parties"][1]
        .as_object_mut()
        .expect("the consignee")
        .remove("aliases");
    hub.submit(&integrator, shipment).await.is(202);
    let held = hub
        .shown_until(key, confirmer, |shown| {
            shown.body["state"]["stage"] == "ON_HOLD"
        })
        .await;
    assert!(
        held.body["state"]["screening"]["p-consignee"]["hits"]
            .as_array()
            .is_some_and(|hits| !hits.is_empty()),
        "the consignee is the potential match: {held:?}"
    );
    post(
        hub,
        key,
        "decision",
        confirmer,
        json!({ "decision": "confirm", "reason": "same bank, Havana" }),
    )
    .await
    .is(202);
    hub.shown_until(key, confirmer, |shown| {
        shown.body["state"]["stage"] == "BLOCKED"
    })
    .await;
}

/// `POST /v1/shipments/{key}/screening/{action}` with `token`.
async fn post(hub: &TestHub, key: &str, action: &str, token: &str, body: Value) -> Answer {
    let path = format!("/v1/shipments/{key}/screening/{action}");
    hub.call(Method::POST, &path, Some(token), Some(body)).await
}

/// Assert a refusal's status and that its detail says `why`.
fn refused(answer: Answer, status: u16, why: &str) {
    answer.is(status);
    assert!(
        answer.body["detail"]
            .as_str()
            .is_some_and(|detail| detail.contains(why)),
        "expected {why:?}: {answer:?}"
    );
}

/// Every audit entry of the hub, decoded.
async fn audit(hub: &TestHub) -> Vec<Value> {
    futures::future::join_all(
        (0..hub.config.runtime.partitions).map(|p| hub.mailbox.audit_entries(p)),
    )
    .await
    .into_iter()
    .flat_map(|entries| entries.expect("audit entries"))
    .filter_map(|entry| serde_json::from_str(&entry.data).ok())
    .collect()
}

fn event<'a>(shown: &'a Answer, name: &str) -> Option<&'a Value> {
    shown.body["timeline"]
        .as_array()
        .and_then(|timeline| timeline.iter().find(|entry| entry["event"] == name))
}

#[actix_web::test]
async fn a_second_officer_approves_the_override_and_the_shipment_files() {
    let hub = TestHub::start(|_| {}).await;
    let (_, ana) = hub.token("Ana", &OFFICER).await;
    let (_, bob) = hub.token("Bob", &OFFICER).await;
    let (_, cat) = hub.token("Cat", &OFFICER).await;
    let key = "SH-4EYES-APPROVE";
    blocked(&hub, key, &ana).await;
    let licence = json!({ "reason": "OFAC licence CU-2026-4 covers this payment" });

    refused(
        post(&hub, key, "override", &ana, licence.clone()).await,
        403,
        "confirmed the match",
    );
    post(&hub, key, "override", &bob, licence.clone())
        .await
        .is(202);
    let pending = hub
        .shown_until(key, &cat, |shown| {
            shown.body["state"]["override_request"]["requested_by"]["label"] == "Bob"
        })
        .await;
    assert_eq!(pending.body["state"]["stage"], "BLOCKED");
    assert_eq!(
        pending.body["state"]["override_request"]["reason"],
        licence["reason"]
    );
    refused(
        post(&hub, key, "override", &cat, licence.clone()).await,
        409,
        "already waiting for approval",
    );
    let checked = json!({ "reason": "licence checked with OFAC" });
    refused(
        post(&hub, key, "override/approve", &bob, checked.clone()).await,
        403,
        "requested this override",
    );
    refused(
        post(&hub, key, "override/approve", &ana, checked.clone()).await,
        403,
        "confirmed the match",
    );
    post(&hub, key, "override/approve", &cat, checked)
        .await
        .is(202);
    let filed = hub
        .shown_until(key, &cat, |shown| shown.body["state"]["stage"] == "FILING")
        .await;
    let state = &filed.body["state"];
    assert!(state["declaration"]["lrn"].is_string(), "{filed:?}");
    assert!(state["override_request"].is_null());
    let record = &state["override_record"];
    assert!(
        record["requested_by"]
            .as_str()
            .is_some_and(|who| who.starts_with("Bob (token:"))
            && record["approved_by"]
                .as_str()
                .is_some_and(|who| who.starts_with("Cat (token:")),
        "{record}"
    );
    let lifted = event(&filed, "block_overridden").expect("the timeline shows the lift");
    assert_eq!(
        (
            &lifted["detail"]["requested_by"]["label"],
            &lifted["detail"]["approved_by"]["label"],
            &lifted["detail"]["confirmed_by"]["label"],
        ),
        (&json!("Bob"), &json!("Cat"), &json!("Ana"))
    );
    let requested = event(&filed, "override_requested").expect("the timeline shows the request");
    assert_eq!(requested["detail"]["requested_by"]["label"], "Bob");

    let audit = audit(&hub).await;
    let entry = |action: &str, label: &str| {
        audit
            .iter()
            .any(|a| a["action"] == action && a["principal"]["label"] == label)
    };
    assert!(
        entry("screening.override", "Bob") && entry("screening.override.approve", "Cat"),
        "the audit trail records both officers' inputs: {audit:?}"
    );
    assert!(
        audit.iter().any(|a| a["action"] == "block_overridden"
            && a["detail"]["requested_by"]["label"] == "Bob"
            && a["detail"]["approved_by"]["label"] == "Cat"),
        "{audit:?}"
    );
    hub.stop().await;
}

#[actix_web::test]
async fn a_rejected_override_keeps_the_shipment_blocked() {
    let hub = TestHub::start(|_| {}).await;
    let (_, ana) = hub.token("Ana", &OFFICER).await;
    let (_, bob) = hub.token("Bob", &OFFICER).await;
    let (_, cat) = hub.token("Cat", &OFFICER).await;
    let key = "SH-4EYES-REJECT";
    blocked(&hub, key, &ana).await;
    refused(
        post(
            &hub,
            key,
            "override/approve",
            &cat,
            json!({ "reason": "ok" }),
        )
        .await,
        409,
        "no override request",
    );
    post(&hub, key, "override", &bob, json!({ "reason": "licence" }))
        .await
        .is(202);
    hub.shown_until(key, &cat, |shown| {
        shown.body["state"]["override_request"].is_object()
    })
    .await;
    post(
        &hub,
        key,
        "override/reject",
        &cat,
        json!({ "reason": "the licence expired in 2025" }),
    )
    .await
    .is(202);
    // The state is read before the timeline: wait for both to show the rejection.
    let shown = hub
        .shown_until(key, &cat, |shown| {
            event(shown, "override_rejected").is_some()
                && shown.body["state"]["override_request"].is_null()
        })
        .await;
    assert_eq!(shown.body["state"]["stage"], "BLOCKED");
    assert!(shown.body["state"]["override_record"].is_null());
    let rejected = event(&shown, "override_rejected").expect("shown");
    assert_eq!(
        (
            &rejected["detail"]["requested_by"]["label"],
            &rejected["detail"]["rejected_by"]["label"],
            &rejected["detail"]["reason"],
        ),
        (
            &json!("Bob"),
            &json!("Cat"),
            &json!("the licence expired in 2025")
        )
    );
    refused(
        post(
            &hub,
            key,
            "override/approve",
            &ana,
            json!({ "reason": "ok" }),
        )
        .await,
        409,
        "no override request",
    );
    hub.stop().await;
}

#[actix_web::test]
async fn with_four_eyes_off_one_officer_overrides_the_block() {
    let hub = TestHub::start(|config| config.saga.four_eyes.block_override = false).await;
    let (_, ana) = hub.token("Ana", &OFFICER).await;
    let key = "SH-4EYES-OFF";
    blocked(&hub, key, &ana).await;
    post(&hub, key, "override", &ana, json!({ "reason": "licence" }))
        .await
        .is(202);
    let filed = hub
        .shown_until(key, &ana, |shown| shown.body["state"]["stage"] == "FILING")
        .await;
    let record = &filed.body["state"]["override_record"];
    assert!(
        record["requested_by"]
            .as_str()
            .is_some_and(|who| who.starts_with("Ana (token:"))
            && record["approved_by"].is_null(),
        "{record}"
    );
    hub.stop().await;
}
