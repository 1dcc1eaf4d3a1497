//! OIDC bearer tokens over real HTTP against the hub `serve` runs: JWTs from the testkit's
//! identity provider (test-only keys), its key set in a file or served from a local listener.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::Method;
use serde_json::{Value, json};
use tradehub::auth::Role;
use tradehub::auth::oidc::OidcConfig;
use tradehub_testkit::idp::{EC, Idp, RSA_A, RSA_B};

use crate::auth::{TestHub, submission};

fn idp() -> Idp {
    Idp::new("https://idp.example.test/realms/trade", "tradehub-api")
}

fn now_s() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs()
}

/// A JWT of `sub` holding `roles`, signed with `kid`.
fn jwt(kid: &str, sub: &str, roles: &[&str]) -> String {
    idp().sign(kid, &idp().claims(sub, roles, now_s()))
}

/// `[auth.oidc]` for the test provider, its keys where `at` says.
fn oidc(at: impl FnOnce(&mut OidcConfig)) -> OidcConfig {
    let idp = idp();
    let mut config = OidcConfig {
        enabled: true,
        issuer: idp.issuer,
        audience: idp.audience,
        jwks_min_refetch: Duration::ZERO,
        ..OidcConfig::default()
    };
    at(&mut config);
    config
}

/// A key set in a file of a temporary folder.
struct JwksFile(tempfile::TempDir);

impl JwksFile {
    fn new(kids: &[&str]) -> Self {
        let file = Self(tempfile::tempdir().expect("a temporary folder"));
        file.publish(kids);
        file
    }

    fn path(&self) -> std::path::PathBuf {
        self.0.path().join("jwks.json")
    }

    fn publish(&self, kids: &[&str]) {
        std::fs::write(self.path(), idp().jwks(kids)).expect("JWKS written");
    }
}

async fn hub_reading(file: &JwksFile) -> TestHub {
    let path = file.path();
    TestHub::start(|config| config.auth.oidc = oidc(|c| c.jwks_file = Some(path))).await
}

#[actix_web::test]
async fn a_valid_jwt_reads_a_shipment_and_forged_foreign_or_stale_ones_are_401() {
    let keys = JwksFile::new(&[RSA_A]);
    let hub = hub_reading(&keys).await;
    let (_, integrator) = hub.token("ERP bridge", &[Role::Integrator]).await;
    let key = "SH-OIDC-READ";
    hub.submit(&integrator, submission(key)).await.is(202);
    let viewer = jwt(RSA_A, "vera", &["viewer"]);
    let shown = hub
        .shown_until(key, &viewer, |shown| shown.status == 200)
        .await;
    assert_eq!(shown.body["shipment_id"], key, "{shown:?}");

    let idp = idp();
    let with = |name: &str, value: Value| {
        let mut claims = idp.claims("vera", &["viewer"], now_s());
        claims[name] = value;
        claims
    };
    let claims = idp.claims("vera", &["viewer"], now_s());
    let path = format!("/v1/shipments/{key}");
    for (what, forged) in [
        (
            "wrong issuer",
            idp.sign(RSA_A, &with("iss", json!("https://evil.test"))),
        ),
        (
            "wrong audience",
            idp.sign(RSA_A, &with("aud", json!("another-api"))),
        ),
        ("bad signature", idp.sign_as(RSA_A, RSA_B, &claims)),
        (
            "expired",
            idp.sign(RSA_A, &with("exp", json!(now_s() - 120))),
        ),
        ("alg none", idp.unsigned(RSA_A, &claims)),
        (
            "HS256 keyed with the public key",
            idp.hmac_with_public_key(&claims),
        ),
        ("unknown kid", idp.sign(RSA_B, &claims)),
        ("algorithm not allowed", idp.sign(EC, &claims)),
    ] {
        let answer = hub.call(Method::GET, &path, Some(&forged), None).await;
        assert_eq!(answer.status, 401, "{what}: {answer:?}");
        answer.is(401);
    }

    let operator = jwt(RSA_A, "olga", &["operator"]);
    hub.call(Method::GET, &path, Some(&operator), None)
        .await
        .is(403);
    let nobody = jwt(RSA_A, "nina", &["offline_access"]);
    let answer = hub.call(Method::GET, &path, Some(&nobody), None).await;
    answer.is(403);
    assert!(
        answer.body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("viewer")),
        "{answer:?}"
    );
    hub.stop().await;
}

#[actix_web::test]
async fn a_key_rotation_in_the_jwks_file_takes_effect_at_the_next_unknown_kid() {
    let keys = JwksFile::new(&[RSA_A]);
    let hub = hub_reading(&keys).await;
    let path = "/v1/shipments/SH-OIDC-ROTATE";
    let (old, new) = (
        jwt(RSA_A, "vera", &["viewer"]),
        jwt(RSA_B, "vera", &["viewer"]),
    );
    // 404: authenticated, and there is no such shipment.
    hub.call(Method::GET, path, Some(&old), None).await.is(404);
    hub.call(Method::GET, path, Some(&new), None).await.is(401);
    keys.publish(&[RSA_A, RSA_B]);
    hub.call(Method::GET, path, Some(&new), None).await.is(404);
    keys.publish(&[RSA_B]);
    hub.call(Method::GET, path, Some(&old), None).await.is(404);
    hub.stop().await;
}

#[actix_web::test]
async fn a_key_rotation_at_the_jwks_url_takes_effect_at_the_next_unknown_kid() {
    let published = Arc::new(Mutex::new(idp().jwks(&[RSA_A])));
    let served = actix_web::web::Data::from(published.clone());
    let server = actix_web::HttpServer::new(move || {
        actix_web::App::new().app_data(served.clone()).route(
            "/certs",
            actix_web::web::get().to(|set: actix_web::web::Data<Mutex<String>>| async move {
                let body = set.lock().expect("the key set").clone();
                actix_web::HttpResponse::Ok()
                    .content_type("application/json")
                    .body(body)
            }),
        )
    })
    .workers(1)
    .disable_signals()
    .bind(("127.0.0.1", 0))
    .expect("a listener");
    let url = format!("http://{}/certs", server.addrs()[0]);
    let server = server.run();
    let handle = server.handle();
    actix_web::rt::spawn(server);

    let hub = TestHub::start(|config| config.auth.oidc = oidc(|c| c.jwks_url = Some(url))).await;
    let path = "/v1/shipments/SH-OIDC-URL";
    let (old, new) = (
        jwt(RSA_A, "vera", &["viewer"]),
        jwt(RSA_B, "vera", &["viewer"]),
    );
    hub.call(Method::GET, path, Some(&old), None).await.is(404);
    hub.call(Method::GET, path, Some(&new), None).await.is(401);
    *published.lock().expect("the key set") = idp().jwks(&[RSA_B]);
    hub.call(Method::GET, path, Some(&new), None).await.is(404);
    hub.stop().await;
    handle.stop(true).await;
}

#[actix_web::test]
async fn the_actor_of_a_screening_decision_made_with_a_jwt_is_its_subject() {
    let keys = JwksFile::new(&[RSA_A]);
    let hub = hub_reading(&keys).await;
    let (_, integrator) = hub.token("ERP bridge", &[Role::Integrator]).await;
    let key = "SH-OIDC-ACTOR";
    hub.submit(&integrator, submission(key)).await.is(202);
    let officer = jwt(RSA_A, "ana", &["compliance_officer", "viewer"]);
    hub.shown_until(key, &officer, |shown| shown.status == 200)
        .await;
    hub.call(
        Method::POST,
        &format!("/v1/shipments/{key}/screening/decision"),
        Some(&officer),
        Some(json!({ "decision": "clear", "reason": "different entity" })),
    )
    .await
    .is(202);
    let principal = json!({
        "id": "oidc:ana",
        "label": "ana@example.test",
        "source": "127.0.0.1",
    });
    hub.shown_until(key, &officer, |shown| {
        shown.body["timeline"].as_array().is_some_and(|t| {
            t.iter()
                .any(|e| e["kind"] == "screening.decision" && e["principal"] == principal)
        })
    })
    .await;
    let mut audited = false;
    for partition in 0..hub.config.runtime.partitions {
        let entries = hub.mailbox.audit_entries(partition).await.expect("audit");
        audited |= entries.iter().any(|entry| {
            serde_json::from_str::<Value>(&entry.data)
                .is_ok_and(|a| a["action"] == "screening.decision" && a["principal"] == principal)
        });
    }
    assert!(audited, "the audit trail records the JWT's subject");
    hub.stop().await;
}

#[actix_web::test]
async fn a_jwt_subject_has_its_own_rate_limit_whichever_jwt_it_presents() {
    let keys = JwksFile::new(&[RSA_A]);
    let path = keys.path();
    let hub = TestHub::start(|config| {
        config.auth.oidc = oidc(|c| c.jwks_file = Some(path));
        config.auth.token_rate_per_sec = 1;
        config.auth.token_burst = 2;
    })
    .await;
    let shipment = "/v1/shipments/SH-OIDC-LIMIT";
    let rita = jwt(RSA_A, "rita", &["viewer"]);
    let rita_again = jwt(RSA_A, "rita", &["viewer", "operator"]);
    let sam = jwt(RSA_A, "sam", &["viewer"]);
    // A burst of 2 for rita, whichever of her JWTs she shows; sam has his own.
    for (jwt, status) in [
        (&rita, 404),
        (&rita, 404),
        (&rita, 429),
        (&rita_again, 429),
        (&sam, 404),
    ] {
        hub.call(Method::GET, shipment, Some(jwt), None)
            .await
            .is(status);
    }
    hub.stop().await;
}
