//! Identity and roles on the API, as an attacker would try them, over real HTTP against the hub
//! `serve` runs (in this process, on a private Redis), and the `tradehub token` commands and
//! `serve`'s refusal to start without a pepper, as processes.

use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};
use tradehub::api::routes;
use tradehub::auth::{Access, Pepper, Role, Tokens};
use tradehub::config::{BrokerLink, HubConfig, Workflow};
use tradehub::secret::Secret;
use tradehub::service::run::{Hub, ServeOptions};
use tradehub::service::wiring::Secrets;
use tradehub::store::{AuditKey, AuditKeys, RedisMailbox, StoreConfig};
use tradehub_actors::clock::SystemClock;

use crate::common::redis::{RedisServer, unique_prefix};
use crate::common::repo;

const PEPPER: &str = "an-integration-test-pepper-of-40-bytes!!";

/// The audit key the test hubs sign with, and the test's view verifies with.
pub(crate) fn audit_keys() -> AuditKeys {
    let key = AuditKey::new(
        "test",
        Secret::new("an-integration-test-audit-key-32-bytes+"),
        "test",
    )
    .expect("long enough");
    AuditKeys::new(key, Vec::new())
}

pub(crate) struct TestHub {
    hub: Option<Hub>,
    base: String,
    tokens: Tokens,
    pub(crate) mailbox: RedisMailbox,
    pub(crate) config: HubConfig,
    redis: RedisServer,
    _folders: tempfile::TempDir,
}

impl TestHub {
    /// The hub with the shipment workflow, its partners unreachable, `tune` applied to its
    /// configuration.
    pub(crate) async fn start(tune: impl FnOnce(&mut HubConfig)) -> Self {
        let redis = RedisServer::start();
        let folders = tempfile::tempdir().expect("a temporary folder");
        let mut config = HubConfig::default();
        config.redis.url = redis.url();
        config.redis.prefix = unique_prefix("auth");
        config.runtime.workflow = Workflow::Shipment;
        config.runtime.home = repo::root().to_path_buf();
        config.runtime.partitions = 2;
        config.runtime.node_id = "auth-test".to_owned();
        config.runtime.read_block = Duration::from_millis(50);
        config.runtime.timer_poll = Duration::from_millis(50);
        config.runtime.lease_renew = Duration::from_millis(500);
        config.runtime.shutdown_grace = Duration::from_secs(1);
        config.http.listen = ([127, 0, 0, 1], 0).into();
        config.odoo.url = "http://127.0.0.1:9".to_owned();
        config.odoo.poll_every = Duration::from_secs(3600);
        config.brokers.insert(
            "rest-broker".to_owned(),
            BrokerLink {
                endpoint: Some("http://127.0.0.1:9".to_owned()),
                ..BrokerLink::default()
            },
        );
        let (outbox, inbox) = (folders.path().join("out"), folders.path().join("in"));
        for dir in [&outbox, &inbox] {
            std::fs::create_dir_all(dir).expect("EDI folders");
        }
        config.brokers.insert(
            "edifact-broker".to_owned(),
            BrokerLink {
                outbox: Some(outbox),
                inbox: Some(inbox),
                ..BrokerLink::default()
            },
        );
        config.auth.cache_ttl = Duration::from_secs(1);
        config.audit.anchor_file = folders.path().join("anchors.jsonl");
        tune(&mut config);
        let pepper = Pepper::new("PEPPER", Secret::new(PEPPER)).expect("long enough");
        let secrets = Secrets {
            odoo_api_key: Some("key".to_owned()),
            odoo_webhook: Some("w".repeat(32)),
            callbacks: None,
            token_pepper: Some(pepper.clone()),
            audit_keys: Some(audit_keys()),
        };
        let hub = Hub::start(config.clone(), ServeOptions { ephemeral: true }, secrets)
            .await
            .expect("the hub starts");
        let mailbox = RedisMailbox::connect_audited(
            StoreConfig {
                url: redis.url(),
                prefix: config.redis.prefix.clone(),
                ..StoreConfig::default()
            },
            audit_keys(),
        )
        .await
        .expect("the test's view of Redis");
        Self {
            base: format!("http://{}", hub.api_addr()),
            hub: Some(hub),
            tokens: Tokens::new(&mailbox, pepper, Arc::new(SystemClock)),
            mailbox,
            config,
            redis,
            _folders: folders,
        }
    }

    pub(crate) async fn token(&self, label: &str, roles: &[Role]) -> (String, String) {
        let (info, token) = self
            .tokens
            .create(roles.iter().copied().collect(), label, None)
            .await
            .expect("a token");
        (info.id, token.reveal())
    }

    pub(crate) async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Answer {
        let mut request = reqwest::Client::new().request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request
                .header("Idempotency-Key", unique_prefix("k"))
                .json(&body);
        }
        let response = request.send().await.expect("the hub answers");
        let status = response.status().as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let (content_type, retry_after) = (header("content-type"), header("retry-after"));
        let correlation_id = header("x-correlation-id");
        let body = response.json().await.unwrap_or(Value::Null);
        Answer {
            status,
            content_type,
            retry_after,
            correlation_id,
            body,
        }
    }

    /// `POST /v1/shipments` with `token`.
    pub(crate) async fn submit(&self, token: &str, shipment: Value) -> Answer {
        let path = "/v1/shipments";
        self.call(Method::POST, path, Some(token), Some(shipment))
            .await
    }

    /// `GET /v1/shipments/{key}` with `token` until `shows` holds of the answer (20 s at most).
    pub(crate) async fn shown_until(
        &self,
        key: &str,
        token: &str,
        shows: impl Fn(&Answer) -> bool,
    ) -> Answer {
        let until = Instant::now() + Duration::from_secs(20);
        loop {
            let shown = self
                .call(
                    Method::GET,
                    &format!("/v1/shipments/{key}"),
                    Some(token),
                    None,
                )
                .await;
            if shows(&shown) {
                return shown;
            }
            assert!(Instant::now() < until, "never shown as expected: {shown:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub(crate) async fn stop(mut self) {
        if let Some(hub) = self.hub.take() {
            hub.stop().await;
        }
    }
}

#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    content_type: Option<String>,
    retry_after: Option<String>,
    correlation_id: Option<String>,
    pub(crate) body: Value,
}

impl Answer {
    /// Assert the status, and that an error is a problem document.
    pub(crate) fn is(&self, status: u16) -> &Self {
        assert_eq!(self.status, status, "{self:?}");
        if status >= 400 {
            assert_eq!(
                self.content_type.as_deref(),
                Some("application/problem+json"),
                "{self:?}"
            );
            let id = self.body["correlation_id"].as_str().unwrap_or_default();
            assert!(
                !id.is_empty() && self.correlation_id.as_deref() == Some(id),
                "a problem names the request's correlation id, as its header does: {self:?}"
            );
        }
        self
    }
}

/// A table path with its parameters filled in.
fn concrete(path: &str) -> String {
    path.replace("{id:.+}", "SH-AUTH-1")
        .replace("{exception}", "EX-1")
        .replace("{name}", "rest-broker")
}

pub(crate) fn submission(id: &str) -> Value {
    let text = std::fs::read_to_string(
        repo::root().join("tests/fixtures/shipments/valid_export_de_us_sea.json"),
    )
    .expect("the export fixture");
    let mut shipment: Value = serde_json::from_str(&text).expect("JSON");
    shipment["id"] = json!(id);
    shipment["odoo"]
        .as_object_mut()
        .expect("odoo references")
        .remove("picking");
    shipment
}

#[actix_web::test]
async fn every_role_route_refuses_a_caller_without_a_valid_token_and_unknown_paths_are_404() {
    let hub = TestHub::start(|_| {}).await;
    let (_, viewer) = hub.token("viewer", &[Role::Viewer]).await;
    let forged = format!("{}{}", &viewer[..viewer.len() - 4], "0000");
    let table = routes::table();
    assert!(table.iter().any(|r| matches!(r.access, Access::Role(_))));
    for route in &table {
        let path = concrete(route.path);
        let method = Method::from_bytes(route.method.as_str().as_bytes()).expect("a method");
        let body = (method == Method::POST).then(|| json!({}));
        match route.access {
            Access::Role(_) => {
                for token in [None, Some("th_nonsense"), Some(forged.as_str())] {
                    let answer = hub.call(method.clone(), &path, token, body.clone()).await;
                    answer.is(401);
                    assert_eq!(
                        answer.body["detail"],
                        "a valid API token is required (Authorization: Bearer th_…)",
                        "no hint about the token: {answer:?}"
                    );
                }
            }
            Access::Public => {
                let answer = hub.call(method.clone(), &path, None, None).await;
                assert!([200, 503].contains(&answer.status), "{path}: {answer:?}");
            }
            Access::PartnerSignature | Access::WebhookSecret => {
                // Their own secret or signature is checked: no token helps, none is asked for.
                let answer = hub
                    .call(method.clone(), &path, Some(&viewer), body.clone())
                    .await;
                // 401 (wrong secret or signature) or 404 (no such partner here): their own check.
                assert!([401, 404].contains(&answer.status), "{answer:?}");
                answer.is(answer.status);
                assert!(
                    !answer.body["detail"]
                        .as_str()
                        .unwrap_or_default()
                        .contains("API token"),
                    "{answer:?}"
                );
            }
        }
    }
    for (method, path) in [
        (Method::GET, "/v1/tokens"),
        (Method::GET, "/admin"),
        (Method::PUT, "/v1/shipments"),
        (Method::DELETE, "/v1/shipments/SH-AUTH-1"),
        (Method::GET, "/v1/shipments"),
    ] {
        hub.call(method, path, Some(&viewer), None).await.is(404);
    }
    hub.stop().await;
}

#[actix_web::test]
async fn a_token_without_the_routes_role_is_403_and_admin_implies_no_other_role() {
    let hub = TestHub::start(|_| {}).await;
    let (_, viewer) = hub.token("viewer", &[Role::Viewer]).await;
    let (_, admin) = hub.token("admin", &[Role::Admin]).await;
    let (_, officer) = hub
        .token("officer", &[Role::ComplianceOfficer, Role::Viewer])
        .await;
    let decision = "/v1/shipments/SH-AUTH-2/screening/decision";
    let body = json!({ "decision": "clear", "reason": "not the listed party" });
    for token in [&viewer, &admin] {
        let answer = hub
            .call(Method::POST, decision, Some(token), Some(body.clone()))
            .await;
        answer.is(403);
        assert!(
            answer.body["detail"]
                .as_str()
                .is_some_and(|d| d.contains("compliance_officer")),
            "{answer:?}"
        );
    }
    hub.call(Method::GET, "/v1/shipments/SH-AUTH-2", Some(&admin), None)
        .await
        .is(403);
    // Allowed, and refused for what it names: no such shipment.
    hub.call(Method::POST, decision, Some(&officer), Some(body))
        .await
        .is(404);
    hub.call(
        Method::POST,
        "/v1/shipments/SH-AUTH-2/exceptions/EX-1/resolve",
        Some(&officer),
        Some(json!({})),
    )
    .await
    .is(403);
    hub.stop().await;
}

#[actix_web::test]
async fn expired_revoked_and_rotated_tokens_stop_working_within_the_cache_time() {
    let hub = TestHub::start(|_| {}).await;
    let path = "/v1/shipments/SH-AUTH-3";
    let (_, expiring) = {
        let (info, token) = hub
            .tokens
            .create(
                [Role::Viewer].into_iter().collect(),
                "short-lived",
                Some(Duration::from_millis(300)),
            )
            .await
            .expect("a token");
        (info.id, token.reveal())
    };
    // 404: authenticated, and there is no such shipment.
    hub.call(Method::GET, path, Some(&expiring), None)
        .await
        .is(404);
    let within = hub.config.auth.cache_ttl + Duration::from_secs(2);
    let refused_within = async |token: &str| {
        let since = Instant::now();
        loop {
            let answer = hub.call(Method::GET, path, Some(token), None).await;
            if answer.status == 401 {
                answer.is(401);
                return since.elapsed();
            }
            answer.is(404);
            assert!(since.elapsed() < within, "{token:.20}… still works");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    refused_within(&expiring).await;

    let (id, revoked) = hub.token("to revoke", &[Role::Viewer]).await;
    hub.call(Method::GET, path, Some(&revoked), None)
        .await
        .is(404);
    hub.tokens.revoke(&id).await.expect("revoked");
    let took = refused_within(&revoked).await;
    assert!(took <= within, "{took:?}");
    assert!(
        hub.tokens.rotate(&id).await.is_err(),
        "a revoked token is not rotated back to life"
    );

    let (id, old) = hub.token("to rotate", &[Role::Viewer]).await;
    hub.call(Method::GET, path, Some(&old), None).await.is(404);
    let new = hub.tokens.rotate(&id).await.expect("rotated").reveal();
    assert_ne!(new, old);
    hub.call(Method::GET, path, Some(&new), None).await.is(404);
    refused_within(&old).await;
    let listed = hub.tokens.list().await.expect("listed");
    let rotated = listed.iter().find(|t| t.id == id).expect("listed");
    assert!(rotated.last_used_ms.is_some(), "{rotated:?}");
    hub.stop().await;
}

#[actix_web::test]
async fn the_actor_is_the_token_never_a_body_field() {
    let hub = TestHub::start(|_| {}).await;
    let (officer_id, officer) = hub
        .token("Ana, compliance", &[Role::ComplianceOfficer, Role::Viewer])
        .await;
    let (_, integrator) = hub.token("ERP bridge", &[Role::Integrator]).await;
    let (_, operator) = hub.token("Olga, operator", &[Role::Operator]).await;
    let key = "SH-AUTH-ACTOR";
    hub.submit(&integrator, submission(key)).await.is(202);
    hub.shown_until(key, &officer, |shown| shown.status == 200)
        .await;
    let decision = format!("/v1/shipments/{key}/screening/decision");
    for (field, path, token) in [
        ("reviewer", decision.as_str(), &officer),
        ("actor", decision.as_str(), &officer),
        (
            "by",
            &format!("/v1/shipments/{key}/exceptions/EX-1/resolve"),
            &operator,
        ),
    ] {
        let mut body = json!({ "decision": "confirm", "reason": "r" });
        body[field] = json!("head-of-compliance");
        let answer = hub.call(Method::POST, path, Some(token), Some(body)).await;
        answer.is(422);
        assert!(
            answer.body["detail"]
                .as_str()
                .is_some_and(|d| d.contains(&format!("`{field}`"))),
            "{answer:?}"
        );
    }
    hub.call(
        Method::POST,
        &decision,
        Some(&officer),
        Some(json!({ "decision": "clear", "reason": "different entity" })),
    )
    .await
    .is(202);
    let principal = json!({
        "id": format!("token:{officer_id}"),
        "label": "Ana, compliance",
        "source": "127.0.0.1",
    });
    let timeline_has = |shown: &Answer, kind: &str, principal: &Value| {
        shown.body["timeline"].as_array().is_some_and(|t| {
            t.iter()
                .any(|e| e["kind"] == kind && e["principal"] == *principal)
        })
    };
    let shown = hub
        .shown_until(key, &officer, |shown| {
            timeline_has(shown, "screening.decision", &principal)
        })
        .await;
    assert!(
        shown.body["timeline"].as_array().is_some_and(|t| t
            .iter()
            .any(|e| e["kind"] == "shipment.submitted" && e["principal"]["label"] == "ERP bridge")),
        "the submission records its integrator: {shown:?}"
    );
    let audit: Vec<Value> = futures::future::join_all(
        (0..hub.config.runtime.partitions).map(|p| hub.mailbox.audit_entries(p)),
    )
    .await
    .into_iter()
    .flat_map(|entries| entries.expect("audit entries"))
    .filter_map(|entry| serde_json::from_str(&entry.data).ok())
    .collect();
    assert!(
        audit
            .iter()
            .any(|a| a["action"] == "screening.decision" && a["principal"] == principal),
        "the audit trail records the principal: {audit:?}"
    );
    hub.stop().await;
}

#[actix_web::test]
async fn submissions_cannot_touch_odoos_data_or_replace_a_shipment_past_intake() {
    let hub = TestHub::start(|_| {}).await;
    let (_, integrator) = hub.token("ERP bridge", &[Role::Integrator]).await;
    let (_, viewer) = hub.token("viewer", &[Role::Viewer]).await;
    let key = "SH-AUTH-SUBMIT";
    hub.submit(&viewer, submission(key)).await.is(403);
    let odoo = hub
        .submit(&integrator, submission("odoo/odoo/picking/42"))
        .await;
    odoo.is(403);
    let mut naming_a_picking = submission(key);
    naming_a_picking["odoo"]["picking"] = json!({ "id": 42, "name": "WH/OUT/00042" });
    let answer = hub.submit(&integrator, naming_a_picking).await;
    answer.is(422);
    assert!(
        answer.body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("odoo.picking")),
        "{answer:?}"
    );
    hub.submit(&integrator, submission(key)).await.is(202);
    let (_, reader) = hub.token("reader", &[Role::Viewer]).await;
    hub.shown_until(key, &reader, |shown| {
        let stage = shown.body["state"]["stage"].as_str().unwrap_or_default();
        !["", "RECEIVED", "VALIDATING", "REJECTED"].contains(&stage)
    })
    .await;
    let mut swapped = submission(key);
    swapped["destination_country"] = json!("CU");
    let answer = hub.submit(&integrator, swapped).await;
    answer.is(409);
    assert!(
        answer.body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("past intake")),
        "{answer:?}"
    );
    hub.stop().await;
}

#[actix_web::test]
async fn a_burst_over_the_limits_gets_429_with_retry_after_per_token_and_per_address() {
    let hub = TestHub::start(|config| {
        config.auth.token_rate_per_sec = 1;
        config.auth.token_burst = 3;
        config.auth.address_rate_per_sec = 1;
        config.auth.address_burst = 6;
    })
    .await;
    let (_, first) = hub.token("first", &[Role::Viewer]).await;
    let (_, second) = hub.token("second", &[Role::Viewer]).await;
    let path = "/v1/shipments/SH-AUTH-LIMIT";
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(hub.call(Method::GET, path, Some(&first), None).await);
    }
    for answer in &statuses[..3] {
        answer.is(404);
    }
    let limited = statuses[3].is(429);
    let wait: u64 = limited
        .retry_after
        .as_deref()
        .and_then(|s| s.parse().ok())
        .expect("Retry-After in seconds");
    assert!((1..=2).contains(&wait), "{limited:?}");
    // The address has spent 4 of its 6: the second token gets 2, then the address is limited,
    // with a token or without (guessing is throttled too).
    hub.call(Method::GET, path, Some(&second), None)
        .await
        .is(404);
    hub.call(Method::GET, path, Some(&second), None)
        .await
        .is(404);
    hub.call(Method::GET, path, Some(&second), None)
        .await
        .is(429);
    hub.call(Method::GET, path, None, None).await.is(429);
    hub.call(Method::GET, "/healthz", None, None).await.is(200);
    hub.stop().await;
}

#[actix_web::test]
async fn an_error_answer_names_a_correlation_id_and_nothing_internal() {
    let mut hub = TestHub::start(|config| {
        config.auth.cache_ttl = Duration::from_secs(60);
        config.redis.reconnect_retries = 1;
        config.redis.response_timeout_ms = 1_000;
    })
    .await;
    let (_, viewer) = hub.token("viewer", &[Role::Viewer]).await;
    let path = "/v1/shipments/SH-CORRELATED";
    let missing = hub.call(Method::GET, path, Some(&viewer), None).await;
    missing.is(404);
    let id = missing.body["correlation_id"].as_str().expect("an id");
    assert!(
        id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()),
        "{missing:?}"
    );
    // The token is cached now; the store goes away under the API.
    hub.redis.kill();
    let failed = hub.call(Method::GET, path, Some(&viewer), None).await;
    failed.is(503);
    assert_ne!(
        failed.body["correlation_id"],
        missing.body["correlation_id"]
    );
    let shown = failed.body.to_string().to_lowercase();
    let socket = hub.config.redis.url.to_lowercase();
    for internal in [
        socket.as_str(),
        "redis",
        "/tmp",
        ".sock",
        "os error",
        "connection",
        "refused",
        "broken pipe",
        ".rs:",
        "127.0.0.1",
    ] {
        assert!(
            !shown.contains(internal),
            "{internal:?} reached the client: {shown}"
        );
    }
    assert_eq!(
        failed.body["type"], "urn:tradehub:problem:store-unavailable",
        "{failed:?}"
    );
    hub.stop().await;
}

/// Run `tradehub` in an empty folder (so no `config/hub.toml` is read) with `env`.
pub(crate) fn tradehub(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let folder = tempfile::tempdir().expect("a temporary folder");
    let output = Command::new(env!("CARGO_BIN_EXE_tradehub"))
        .args(args)
        .current_dir(folder.path())
        .env_remove("TRADEHUB_TOKEN_PEPPER")
        .env_remove("REDIS_URL")
        .envs(env.iter().copied())
        .output()
        .expect("tradehub runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn serve_refuses_to_start_without_a_pepper_or_with_a_short_one() {
    for pepper in [None, Some("only-twenty-two-bytes")] {
        let mut env = vec![("REDIS_URL", "redis://127.0.0.1:9")];
        if let Some(pepper) = pepper {
            env.push(("TRADEHUB_TOKEN_PEPPER", pepper));
        }
        let (code, out, err) = tradehub(&["serve", "--ephemeral"], &env);
        assert_ne!(code, 0, "{out}{err}");
        let said = format!("{out}{err}");
        assert!(said.contains("TRADEHUB_TOKEN_PEPPER"), "{said}");
        if let Some(pepper) = pepper {
            assert!(said.contains("at least 32"), "{said}");
            assert!(!said.contains(pepper), "the pepper is never shown: {said}");
        }
        assert!(!said.contains("redis"), "it stops before Redis: {said}");
    }
}

#[test]
fn serve_refuses_an_odoo_webhook_secret_shorter_than_32_characters() {
    let short = "a-webhook-secret-31-characters!";
    assert_eq!(short.len(), 31);
    let (code, out, err) = tradehub(
        &["serve", "--ephemeral"],
        &[
            ("REDIS_URL", "redis://127.0.0.1:9"),
            ("TRADEHUB_TOKEN_PEPPER", PEPPER),
            ("TRADEHUB_ODOO_WEBHOOK_SECRET", short),
        ],
    );
    assert_ne!(code, 0, "{out}{err}");
    let said = format!("{out}{err}");
    assert!(said.contains("TRADEHUB_ODOO_WEBHOOK_SECRET"), "{said}");
    assert!(said.contains("at least 32"), "{said}");
    assert!(!said.contains(short), "the secret is never shown: {said}");
}

#[actix_web::test]
async fn the_token_commands_show_a_secret_once_and_list_revoke_and_rotate() {
    let hub = TestHub::start(|_| {}).await;
    let env = [
        ("REDIS_URL", hub.config.redis.url.as_str()),
        ("TRADEHUB_REDIS__PREFIX", hub.config.redis.prefix.as_str()),
        ("TRADEHUB_TOKEN_PEPPER", PEPPER),
    ];
    let (code, out, err) = tradehub(
        &[
            "token",
            "create",
            "--role",
            "viewer",
            "--role",
            "operator",
            "--label",
            "cli",
            "--expires",
            "1h",
            "--json",
        ],
        &env,
    );
    assert_eq!(code, 0, "{out}{err}");
    let created: Value = serde_json::from_str(&out).expect("one JSON document");
    let token = created["token"].as_str().expect("the token").to_owned();
    let id = created["id"].as_str().expect("the id").to_owned();
    assert!(token.starts_with(&format!("th_{id}_")), "{created}");
    assert_eq!(created["roles"], json!(["viewer", "operator"]));
    hub.call(Method::GET, "/v1/shipments/SH-CLI", Some(&token), None)
        .await
        .is(404);

    let (code, out, err) = tradehub(&["token", "list", "--json"], &env);
    assert_eq!(code, 0, "{out}{err}");
    assert!(!out.contains(&token[20..]), "list shows no secret: {out}");
    let listed: Value = serde_json::from_str(&out).expect("one JSON document");
    assert!(
        listed["tokens"].as_array().is_some_and(|t| t
            .iter()
            .any(|t| t["id"] == id.as_str() && t["label"] == "cli")),
        "{listed}"
    );

    let (code, out, err) = tradehub(&["token", "rotate", &id, "--json"], &env);
    assert_eq!(code, 0, "{out}{err}");
    let rotated: Value = serde_json::from_str(&out).expect("one JSON document");
    let new = rotated["token"].as_str().expect("the new token").to_owned();
    assert!(new.starts_with(&format!("th_{id}_")) && new != token);
    hub.call(Method::GET, "/v1/shipments/SH-CLI", Some(&new), None)
        .await
        .is(404);

    let (code, out, err) = tradehub(&["token", "revoke", &id], &env);
    assert_eq!(code, 0, "{out}{err}");
    let (code, _, err) = tradehub(&["token", "revoke", "0000000000000000"], &env);
    assert_eq!(code, 2, "an unknown id is bad input: {err}");
    let (code, _, err) = tradehub(&["token", "list"], &[("REDIS_URL", env[0].1)]);
    assert_eq!(code, 2, "no pepper, no token commands: {err}");
    assert!(err.contains("TRADEHUB_TOKEN_PEPPER"), "{err}");
    hub.stop().await;
}
