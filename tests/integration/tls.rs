//! The hub's own edges: the API over TLS (its certificate reloaded when the files change, client
//! certificates required or optional), `/metrics` on loopback or behind a token, and start-up
//! refusing plain `http://` to a partner that is not on loopback. Certificates are made per test.

use std::path::Path;
use std::time::{Duration, SystemTime};

use metrics_exporter_prometheus::PrometheusBuilder;
use tradehub::auth::Pepper;
use tradehub::config::{BrokerLink, HubConfig, Workflow};
use tradehub::secret::Secret;
use tradehub::service::run::{Hub, ServeOptions};
use tradehub::service::wiring::{Secrets, ShipmentWiring};
use tradehub::telemetry::{MetricsToken, metrics_server};
use tradehub::tls::{ClientAuth, TlsConfig};
use tradehub_testkit::certs::{Issued, TestCa};

use crate::common::redis::{RedisServer, unique_prefix};
use crate::common::repo;

/// A node of the echo workflow serving its API with `tls`, on a private Redis.
struct TlsHub {
    hub: Hub,
    _redis: RedisServer,
    _folder: tempfile::TempDir,
}

impl TlsHub {
    async fn start(tls: TlsConfig) -> Self {
        let redis = RedisServer::start();
        let mut config = HubConfig::default();
        config.redis.url = redis.url();
        config.redis.prefix = unique_prefix("tls");
        config.runtime.workflow = Workflow::Echo;
        config.runtime.partitions = 1;
        config.runtime.shutdown_grace = Duration::from_secs(1);
        config.http.listen = ([127, 0, 0, 1], 0).into();
        config.http.tls = Some(tls);
        let folder = tempfile::tempdir().expect("a folder for the anchors");
        config.audit.anchor_file = folder.path().join("anchors.jsonl");
        let secrets = Secrets {
            token_pepper: Some(
                Pepper::new("PEPPER", Secret::new("p".repeat(32))).expect("32 bytes"),
            ),
            audit_keys: Some(crate::auth::audit_keys()),
            ..Secrets::default()
        };
        let hub = Hub::start(config, ServeOptions { ephemeral: true }, secrets)
            .await
            .expect("the hub starts");
        Self {
            hub,
            _redis: redis,
            _folder: folder,
        }
    }

    fn url(&self, scheme: &str, path: &str) -> String {
        format!("{scheme}://{}{path}", self.hub.api_addr())
    }
}

/// A fresh client (no pooled connection) trusting `ca` only, presenting `identity` if given.
fn client(ca: &TestCa, identity: Option<&Issued>) -> reqwest::Client {
    let mut builder = reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(ca.pem().as_bytes()).expect("the CA"))
        .timeout(Duration::from_secs(10));
    if let Some(issued) = identity {
        let mut pem = std::fs::read(&issued.cert).expect("the certificate");
        pem.extend(std::fs::read(&issued.key).expect("the key"));
        builder = builder.identity(reqwest::Identity::from_pem(&pem).expect("an identity"));
    }
    builder.build().expect("a client")
}

async fn healthz(client: &reqwest::Client, url: &str) -> Result<u16, reqwest::Error> {
    client
        .get(url)
        .send()
        .await
        .map(|response| response.status().as_u16())
}

#[actix_web::test]
async fn the_api_answers_over_tls_and_refuses_plain_http() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let ca = TestCa::new("api CA");
    let api = ca.server(dir.path(), "api");
    let hub = TlsHub::start(TlsConfig::new(&api.cert, &api.key)).await;
    let https = hub.url("https", "/healthz");
    assert_eq!(healthz(&client(&ca, None), &https).await.ok(), Some(200));
    let plain = healthz(&reqwest::Client::new(), &hub.url("http", "/healthz")).await;
    assert!(plain.is_err(), "plain HTTP gets no answer: {plain:?}");
    let stranger = healthz(&client(&TestCa::new("another CA"), None), &https).await;
    assert!(
        stranger.is_err(),
        "a client not trusting the CA fails: {stranger:?}"
    );
    hub.hub.stop().await;
}

#[actix_web::test]
async fn a_replaced_certificate_is_served_to_new_connections() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let (old_ca, new_ca) = (TestCa::new("old CA"), TestCa::new("new CA"));
    let first = old_ca.server(dir.path(), "api");
    let hub = TlsHub::start(TlsConfig {
        reload_every: Duration::ZERO,
        ..TlsConfig::new(&first.cert, &first.key)
    })
    .await;
    let https = hub.url("https", "/healthz");
    assert_eq!(
        healthz(&client(&old_ca, None), &https).await.ok(),
        Some(200)
    );
    assert!(healthz(&client(&new_ca, None), &https).await.is_err());

    let renewed = new_ca.server(dir.path(), "api");
    let later = SystemTime::now() + Duration::from_secs(60);
    for path in [&renewed.cert, &renewed.key] {
        std::fs::File::options()
            .write(true)
            .open(path)
            .and_then(|f| f.set_modified(later))
            .expect("mark the file changed");
    }
    assert_eq!(
        healthz(&client(&new_ca, None), &https).await.ok(),
        Some(200)
    );
    assert!(
        healthz(&client(&old_ca, None), &https).await.is_err(),
        "the old certificate is no longer served"
    );
    hub.hub.stop().await;
}

#[actix_web::test]
async fn client_certificates_required_or_optional() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let ca = TestCa::new("api CA");
    let api = ca.server(dir.path(), "api");
    let clients = TestCa::new("clients CA");
    let clients_file = clients.write(dir.path(), "clients.pem");
    let prometheus = clients.client(dir.path(), "prometheus");
    let outsider = TestCa::new("outsider CA").client(dir.path(), "outsider");
    for (policy, anonymous_admitted) in
        [(ClientAuth::Required, false), (ClientAuth::Optional, true)]
    {
        let hub = TlsHub::start(TlsConfig {
            client_ca: Some(clients_file.clone()),
            client_auth: policy,
            ..TlsConfig::new(&api.cert, &api.key)
        })
        .await;
        let https = hub.url("https", "/healthz");
        assert_eq!(
            healthz(&client(&ca, Some(&prometheus)), &https).await.ok(),
            Some(200),
            "{policy:?}: a client certificate from the CA is admitted"
        );
        let anonymous = healthz(&client(&ca, None), &https).await;
        assert_eq!(
            anonymous.is_ok(),
            anonymous_admitted,
            "{policy:?}: without a certificate: {anonymous:?}"
        );
        let foreign = healthz(&client(&ca, Some(&outsider)), &https).await;
        assert!(
            foreign.is_err(),
            "{policy:?}: a certificate from another CA fails: {foreign:?}"
        );
        hub.hub.stop().await;
    }
}

#[actix_web::test]
async fn metrics_bind_loopback_by_default_and_the_token_is_required_when_set() {
    let defaults = HubConfig::default();
    assert!(defaults.metrics.listen.ip().is_loopback());
    let mut open = defaults.clone();
    open.metrics.listen = ([0, 0, 0, 0], 9090).into();
    let refused = open
        .validate()
        .expect_err("open metrics are refused")
        .to_string();
    assert!(refused.contains("metrics.token_env"), "{refused}");
    open.metrics.token_env = Some("TRADEHUB_METRICS_TOKEN".to_owned());
    open.validate().expect("a token makes it acceptable");

    let secret = Secret::new("m".repeat(32));
    let token = MetricsToken::new("TRADEHUB_METRICS_TOKEN", &secret).expect("32 bytes");
    let handle = PrometheusBuilder::new().build_recorder().handle();
    let (server, addr) =
        metrics_server(([127, 0, 0, 1], 0).into(), handle, Some(token)).expect("bind");
    let running = server.handle();
    actix_web::rt::spawn(server);
    let url = format!("http://{addr}/metrics");
    let http = reqwest::Client::new();
    let status = |bearer: Option<String>| {
        let mut request = http.get(&url);
        if let Some(bearer) = bearer {
            request = request.bearer_auth(bearer);
        }
        async move { request.send().await.expect("an answer").status().as_u16() }
    };
    assert_eq!(status(None).await, 401);
    assert_eq!(status(Some("m".repeat(31))).await, 401);
    assert_eq!(status(Some(secret.expose().to_owned())).await, 200);
    running.stop(false).await;
}

/// A home holding the repository's configuration and data, but its own partner templates:
/// copies of the routed brokers', `rest-broker`'s with `prefix` put in front.
fn home_with_rest_broker(dir: &Path, prefix: &str) {
    let root = repo::root();
    std::fs::create_dir_all(dir.join("config/partners")).expect("the folders");
    std::os::unix::fs::symlink(root.join("data"), dir.join("data")).expect("link data/");
    for entry in std::fs::read_dir(root.join("config")).expect("config/") {
        let entry = entry.expect("an entry");
        if entry.file_name() != "partners" {
            std::os::unix::fs::symlink(entry.path(), dir.join("config").join(entry.file_name()))
                .expect("link the configuration");
        }
    }
    for name in ["rest-broker", "edifact-broker"] {
        let file = format!("config/partners/{name}.toml");
        let text = std::fs::read_to_string(root.join(&file)).expect("the template");
        let text = if name == "rest-broker" {
            format!("{prefix}{text}")
        } else {
            text
        };
        std::fs::write(dir.join(&file), text).expect("write the template");
    }
}

#[test]
fn plain_http_to_a_remote_partner_stops_the_start_unless_the_template_allows_it() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let mut config = HubConfig::default();
    config.runtime.home = repo::root().to_path_buf();
    config.brokers.insert(
        "rest-broker".to_owned(),
        BrokerLink {
            endpoint: Some("http://broker.example.com/api/v2".to_owned()),
            ..BrokerLink::default()
        },
    );
    let (outbox, inbox) = (dir.path().join("out"), dir.path().join("in"));
    config.brokers.insert(
        "edifact-broker".to_owned(),
        BrokerLink {
            outbox: Some(outbox),
            inbox: Some(inbox),
            ..BrokerLink::default()
        },
    );
    let secrets = Secrets {
        odoo_api_key: Some("key".to_owned()),
        ..Secrets::default()
    };
    let refused = ShipmentWiring::load(&config, &secrets)
        .map(|_| ())
        .expect_err("plain http to broker.example.com is refused")
        .to_string();
    assert!(
        refused.contains("rest-broker") && refused.contains("http://broker.example.com/api/v2"),
        "{refused}"
    );
    assert!(refused.contains("allow_insecure"), "{refused}");

    let home = tempfile::tempdir().expect("a temporary home");
    home_with_rest_broker(home.path(), "allow_insecure = true\n");
    config.runtime.home = home.path().to_path_buf();
    ShipmentWiring::load(&config, &secrets).expect("allow_insecure = true accepts it");

    config.odoo.url = "http://odoo.internal:8069".to_owned();
    let refused = ShipmentWiring::load(&config, &secrets)
        .map(|_| ())
        .expect_err("plain http to Odoo off loopback is refused")
        .to_string();
    assert!(refused.contains("odoo.internal"), "{refused}");
    config.odoo.allow_insecure = true;
    ShipmentWiring::load(&config, &secrets).expect("odoo.allow_insecure accepts it");
}
