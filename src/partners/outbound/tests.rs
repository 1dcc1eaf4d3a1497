use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use serde_json::json;
use tradehub_actors::clock::{ManualClock, SystemClock};
use tradehub_testkit::certs::TestCa;

use super::*;
use crate::tls::{ClientAuth, TlsConfig};

/// One request as the test partner saw it.
#[derive(Debug, Clone)]
struct Seen {
    path: String,
    authorization: Option<String>,
    signature: Option<String>,
    body: String,
}

/// The test partner: `/token` issues `tok-1`, `tok-2`, … (120 s each); every other path answers
/// 200, or 401 to a bearer token in `refused`.
#[derive(Default)]
struct PartnerState {
    seen: Mutex<Vec<Seen>>,
    issued: AtomicU32,
    refused: Mutex<Vec<String>>,
}

impl PartnerState {
    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("not poisoned").clone()
    }

    fn at(&self, path: &str) -> Vec<Seen> {
        self.seen().into_iter().filter(|s| s.path == path).collect()
    }

    fn refuse(&self, token: &str) {
        self.refused
            .lock()
            .expect("not poisoned")
            .push(format!("Bearer {token}"));
    }
}

async fn partner(
    request: HttpRequest,
    body: web::Bytes,
    state: web::Data<PartnerState>,
) -> HttpResponse {
    let header = |name: &str| {
        request
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let seen = Seen {
        path: request.path().to_owned(),
        authorization: header("authorization"),
        signature: header("x-hub-signature"),
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    state.seen.lock().expect("not poisoned").push(seen.clone());
    if seen.path == "/token" {
        let n = state.issued.fetch_add(1, Ordering::SeqCst) + 1;
        return HttpResponse::Ok().json(json!({
            "access_token": format!("tok-{n}"),
            "token_type": "Bearer",
            "expires_in": 120,
        }));
    }
    let refused = state.refused.lock().expect("not poisoned");
    if seen.authorization.is_some_and(|a| refused.contains(&a)) {
        return HttpResponse::Unauthorized().finish();
    }
    HttpResponse::Ok().body("ok")
}

struct TestPartner {
    base: String,
    state: web::Data<PartnerState>,
    handle: ServerHandle,
}

impl TestPartner {
    /// Plain HTTP on loopback, or HTTPS with `tls`.
    fn start(tls: Option<rustls::ServerConfig>) -> Self {
        let state = web::Data::new(PartnerState::default());
        let shared = state.clone();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(shared.clone())
                .default_service(web::to(partner))
        })
        .workers(1)
        .disable_signals();
        let loopback = ("127.0.0.1", 0);
        let (server, scheme) = match tls {
            Some(tls) => (server.bind_rustls_0_23(loopback, tls), "https"),
            None => (server.bind(loopback), "http"),
        };
        let server = server.expect("bind the test partner");
        let addr = server.addrs()[0];
        let server = server.run();
        let handle = server.handle();
        actix_web::rt::spawn(server);
        Self {
            base: format!("{scheme}://{addr}"),
            state,
            handle,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

fn secrets(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<Secret> {
    let pairs: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    move |var| {
        pairs
            .iter()
            .find(|(k, _)| k == var)
            .map(|(_, v)| Secret::new(v))
    }
}

fn client(auth: &OutboundAuth, pairs: &[(&str, &str)], clock: Arc<dyn Clock>) -> PartnerClient {
    Outbound::load(
        "acme",
        auth,
        None,
        false,
        Path::new("."),
        secrets(pairs),
        clock,
    )
    .expect("the outbound settings load")
    .client(Duration::from_secs(2), Duration::from_secs(5))
    .expect("a client")
}

async fn post(client: &PartnerClient, url: &str, body: &str) -> StatusCode {
    client
        .send(
            client
                .request(reqwest::Method::POST, url)
                .body(body.to_owned()),
        )
        .await
        .expect("the partner answers")
        .status()
}

#[test]
fn plain_http_is_refused_off_loopback_without_allow_insecure() {
    for url in [
        "https://broker.example.com/api",
        "http://127.0.0.1:8069",
        "http://127.4.5.6/api",
        "http://[::1]:9000/x",
        "http://localhost:8080",
        "http://LOCALHOST/",
    ] {
        assert!(
            check_endpoint("acme", "endpoint", url, false).is_ok(),
            "{url} is accepted"
        );
    }
    let refused = check_endpoint(
        "acme",
        "endpoint",
        "http://hub:pa55word@broker.example.com:8080/api?key=s3cret",
        false,
    )
    .expect_err("plain http to a remote host is refused");
    let shown = refused.to_string();
    assert!(
        matches!(refused, OutboundError::Insecure { .. }),
        "{refused:?}"
    );
    assert!(shown.contains("acme"), "{shown}");
    assert!(
        shown.contains("http://broker.example.com:8080/api"),
        "{shown}"
    );
    assert!(
        !shown.contains("pa55word") && !shown.contains("s3cret") && !shown.contains("hub:"),
        "{shown}"
    );
    assert!(check_endpoint("acme", "endpoint", "http://10.0.0.8/api", true).is_ok());
    assert!(matches!(
        check_endpoint("acme", "endpoint", "ftp://broker.example.com/", true),
        Err(OutboundError::Url { .. })
    ));
}

#[test]
fn the_signature_is_hmac_over_time_dot_body() {
    assert_eq!(
        sign::signature(
            b"whsec-0123456789abcdef0123456789ab",
            1_700_000_000,
            br#"{"lrn":"LRN-1"}"#
        ),
        "t=1700000000,v1=ba7726275ae96415f312e613e9343ae7f502ac1585c13fc76a276dcc90b624b3"
    );
}

#[test]
fn a_missing_secret_names_the_partner_and_the_variable() {
    let error = Outbound::load(
        "acme",
        &OutboundAuth::Bearer {
            token_env: "ACME_TOKEN".to_owned(),
        },
        None,
        false,
        Path::new("."),
        secrets(&[]),
        Arc::new(SystemClock),
    )
    .expect_err("refused");
    assert_eq!(
        error.to_string(),
        "partner acme: outbound_auth needs environment variable ACME_TOKEN, which is not set"
    );
}

#[actix_web::test]
async fn bearer_basic_and_hmac_put_their_headers_on_each_request() {
    let server = TestPartner::start(None);
    let bearer = client(
        &OutboundAuth::Bearer {
            token_env: "T".to_owned(),
        },
        &[("T", "static-token-1")],
        Arc::new(SystemClock),
    );
    assert_eq!(post(&bearer, &server.url("/bearer"), "{}").await, 200);
    let basic = client(
        &OutboundAuth::Basic {
            user: "hub".to_owned(),
            password_env: "P".to_owned(),
        },
        &[("P", "pa:ss w0rd")],
        Arc::new(SystemClock),
    );
    assert_eq!(post(&basic, &server.url("/basic"), "{}").await, 200);
    let hmac = client(
        &OutboundAuth::Hmac {
            header: "X-Hub-Signature".to_owned(),
            secret_env: "S".to_owned(),
        },
        &[("S", "whsec-0123456789abcdef0123456789ab")],
        Arc::new(ManualClock::new(1_700_000_000_250)),
    );
    assert_eq!(
        post(&hmac, &server.url("/hmac"), r#"{"lrn":"LRN-1"}"#).await,
        200
    );

    let state = &server.state;
    assert_eq!(
        state.at("/bearer")[0].authorization.as_deref(),
        Some("Bearer static-token-1")
    );
    assert_eq!(
        state.at("/basic")[0].authorization.as_deref(),
        Some("Basic aHViOnBhOnNzIHcwcmQ=")
    );
    let signed = &state.at("/hmac")[0];
    assert_eq!(signed.authorization, None);
    assert_eq!(signed.body, r#"{"lrn":"LRN-1"}"#);
    assert_eq!(
        signed.signature.as_deref(),
        Some("t=1700000000,v1=ba7726275ae96415f312e613e9343ae7f502ac1585c13fc76a276dcc90b624b3")
    );
    server.handle.stop(false).await;
}

#[actix_web::test]
async fn oauth2_tokens_are_cached_refreshed_before_expiry_and_after_a_401() {
    let server = TestPartner::start(None);
    let clock = ManualClock::new(1_700_000_000_000);
    let oauth = client(
        &OutboundAuth::Oauth2ClientCredentials {
            token_url: server.url("/token"),
            client_id: "hub-client".to_owned(),
            client_secret_env: "CS".to_owned(),
            scope: Some("declarations:write".to_owned()),
        },
        &[("CS", "client-secret-1")],
        Arc::new(clock.clone()),
    );
    let api = server.url("/api");
    let state = &server.state;
    for _ in 0..3 {
        assert_eq!(post(&oauth, &api, "{}").await, 200);
    }
    let asked = state.at("/token");
    assert_eq!(asked.len(), 1, "one token for three requests: {asked:?}");
    assert_eq!(
        asked[0].authorization.as_deref(),
        Some("Basic aHViLWNsaWVudDpjbGllbnQtc2VjcmV0LTE="),
        "client id and secret in HTTP basic"
    );
    assert_eq!(
        asked[0].body,
        "grant_type=client_credentials&scope=declarations%3Awrite"
    );
    assert!(
        state
            .at("/api")
            .iter()
            .all(|s| s.authorization.as_deref() == Some("Bearer tok-1"))
    );

    // 120 s tokens are replaced 30 s before they expire.
    clock.advance(89_999);
    assert_eq!(post(&oauth, &api, "{}").await, 200);
    assert_eq!(state.at("/token").len(), 1);
    clock.advance(1);
    assert_eq!(post(&oauth, &api, "{}").await, 200);
    assert_eq!(state.at("/token").len(), 2);
    assert_eq!(
        state
            .at("/api")
            .last()
            .and_then(|s| s.authorization.clone()),
        Some("Bearer tok-2".to_owned())
    );

    // The partner refuses tok-2: one new token, one resend.
    state.refuse("tok-2");
    assert_eq!(post(&oauth, &api, "{}").await, 200);
    assert_eq!(state.at("/token").len(), 3);
    let tail: Vec<Option<String>> = state
        .at("/api")
        .iter()
        .rev()
        .take(2)
        .map(|s| s.authorization.clone())
        .collect();
    assert_eq!(
        tail,
        [
            Some("Bearer tok-3".to_owned()),
            Some("Bearer tok-2".to_owned())
        ]
    );

    // A partner that refuses the new token too gets its 401 back, after one refresh only.
    state.refuse("tok-3");
    state.refuse("tok-4");
    assert_eq!(post(&oauth, &api, "{}").await, 401);
    assert_eq!(state.at("/token").len(), 4);
    server.handle.stop(false).await;
}

#[actix_web::test]
async fn mtls_presents_the_client_certificate_the_partner_requires() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let ca = TestCa::new("partner test CA");
    let ca_file = ca.write(dir.path(), "ca.pem");
    let server_cert = ca.server(dir.path(), "partner");
    ca.client(dir.path(), "hub");
    let tls = TlsConfig {
        client_ca: Some(ca_file.clone()),
        client_auth: ClientAuth::Required,
        ..TlsConfig::new(&server_cert.cert, &server_cert.key)
    }
    .server_config(dir.path(), Arc::new(SystemClock))
    .expect("the partner's TLS");
    let server = TestPartner::start(Some(tls));
    let load = |tls: &OutboundTls| {
        Outbound::load(
            "acme",
            &OutboundAuth::None,
            Some(tls),
            false,
            dir.path(),
            secrets(&[]),
            Arc::new(SystemClock),
        )
        .expect("the outbound settings load")
        .client(Duration::from_secs(2), Duration::from_secs(5))
        .expect("a client")
    };
    let with_identity = load(&OutboundTls {
        client_cert: Some("hub.pem".into()),
        client_key: Some("hub.key".into()),
        ca: Some("ca.pem".into()),
    });
    assert_eq!(post(&with_identity, &server.url("/mtls"), "{}").await, 200);
    assert_eq!(server.state.at("/mtls").len(), 1);

    let without = load(&OutboundTls {
        ca: Some("ca.pem".into()),
        ..OutboundTls::default()
    });
    let refused = without
        .send(without.request(reqwest::Method::POST, &server.url("/mtls")))
        .await;
    assert!(
        matches!(refused, Err(SendError::Http(_))),
        "no client certificate, no exchange: {refused:?}"
    );
    assert_eq!(server.state.at("/mtls").len(), 1);

    let half = Outbound::load(
        "acme",
        &OutboundAuth::None,
        Some(&OutboundTls {
            client_cert: Some("hub.pem".into()),
            ..OutboundTls::default()
        }),
        false,
        dir.path(),
        secrets(&[]),
        Arc::new(SystemClock),
    )
    .expect_err("a certificate without its key");
    assert!(half.to_string().contains("client_key"), "{half}");
    server.handle.stop(false).await;
}
