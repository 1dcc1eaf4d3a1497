use std::path::Path;
use std::sync::Arc;

use serde_json::{Value, json};
use tradehub_actors::clock::ManualClock;
use tradehub_testkit::idp::{EC, ED, Idp, RSA_A, RSA_B};

use super::*;

const NOW_S: u64 = 1_800_000_000;
const JWKS: &str = "jwks.json";

fn idp() -> Idp {
    Idp::new("https://idp.example.test/realms/trade", "tradehub-api")
}

fn config() -> OidcConfig {
    let idp = idp();
    OidcConfig {
        enabled: true,
        issuer: idp.issuer,
        audience: idp.audience,
        jwks_file: Some(JWKS.into()),
        ..OidcConfig::default()
    }
}

/// An identity provider's key set in a temporary folder, checked on a manual clock.
struct Provider {
    folder: tempfile::TempDir,
    clock: ManualClock,
}

impl Provider {
    fn new(kids: &[&str]) -> Self {
        let provider = Self {
            folder: tempfile::tempdir().expect("a temporary folder"),
            clock: ManualClock::new(NOW_S * 1000),
        };
        provider.publish(kids);
        provider
    }

    fn publish(&self, kids: &[&str]) {
        std::fs::write(self.folder.path().join(JWKS), idp().jwks(kids)).expect("JWKS written");
    }

    async fn oidc(&self, config: &OidcConfig) -> Oidc {
        Oidc::new(config, self.folder.path(), Arc::new(self.clock.clone()))
            .await
            .expect("the key set loads")
    }

    fn advance_s(&self, seconds: u64) {
        self.clock.advance(seconds * 1000);
    }
}

fn claims(roles: &[&str]) -> Value {
    idp().claims("ana", roles, NOW_S)
}

#[tokio::test]
async fn a_valid_jwt_becomes_its_subject_with_its_label_and_roles() {
    let provider = Provider::new(&[RSA_A, EC, ED]);
    let mut config = config();
    config.algorithms = vec![
        SigningAlgorithm::RS256,
        SigningAlgorithm::ES256,
        SigningAlgorithm::EdDSA,
    ];
    let oidc = provider.oidc(&config).await;
    for kid in [RSA_A, EC, ED] {
        let jwt = idp().sign(kid, &claims(&["viewer", "compliance_officer", "superuser"]));
        let verified = oidc.check(&jwt).await.expect(kid);
        assert_eq!(verified.id, "ana", "{kid}");
        assert_eq!(verified.label, "ana@example.test");
        assert_eq!(
            verified.roles.iter().collect::<Vec<_>>(),
            [Role::Viewer, Role::ComplianceOfficer],
            "unknown names are ignored"
        );
    }
    let mut unlabelled = claims(&[]);
    unlabelled.as_object_mut().expect("claims").remove("email");
    let verified = oidc
        .verify(&idp().sign(RSA_A, &unlabelled))
        .await
        .expect("valid");
    assert_eq!(verified.label, "ana", "the subject labels it");
    assert!(verified.roles.is_empty());
}

#[tokio::test]
async fn forged_foreign_and_stale_jwts_are_refused_each_for_its_reason() {
    let provider = Provider::new(&[RSA_A, EC]);
    let oidc = provider.oidc(&config()).await;
    let idp = idp();
    let with = |key: &str, value: Value| {
        let mut claims = claims(&["viewer"]);
        claims[key] = value;
        claims
    };
    let expired = with("exp", json!(NOW_S - 61));
    let cases = [
        (
            idp.sign(RSA_A, &with("iss", json!("https://evil.test"))),
            "InvalidIssuer",
        ),
        (
            idp.sign(RSA_A, &with("aud", json!("another-api"))),
            "InvalidAudience",
        ),
        (
            idp.sign_as(RSA_A, RSA_B, &claims(&["viewer"])),
            "InvalidSignature",
        ),
        (idp.sign(RSA_A, &expired), "expired"),
        (idp.sign(RSA_A, &with("nbf", json!(NOW_S + 61))), "nbf"),
        (idp.sign(RSA_A, &with("sub", Value::Null)), "sub"),
        (idp.unsigned(RSA_A, &claims(&["viewer"])), "cannot be read"),
        (idp.hmac_with_public_key(&claims(&["viewer"])), "HS256"),
        (idp.sign(EC, &claims(&["viewer"])), "ES256"),
        (idp.sign(RSA_B, &claims(&["viewer"])), "\"rsa-b\" is not in"),
        ("not.a.jwt".to_owned(), "cannot be read"),
    ];
    for (jwt, reason) in cases {
        let refused = oidc.check(&jwt).await.expect_err(reason).to_string();
        assert!(refused.contains(reason), "{reason}: {refused}");
        assert_eq!(oidc.verify(&jwt).await, Err(Denied::Invalid), "{reason}");
    }
    // Within the leeway, time has not run out.
    let skewed = with("exp", json!(NOW_S - 59));
    assert!(oidc.verify(&idp.sign(RSA_A, &skewed)).await.is_ok());
    provider.advance_s(3600 + 61);
    let late = oidc.check(&idp.sign(RSA_A, &claims(&["viewer"]))).await;
    assert_eq!(late, Err(Refused::Expired));
}

#[tokio::test]
async fn a_key_of_another_kind_than_the_headers_algorithm_is_refused() {
    let provider = Provider::new(&[RSA_A, EC]);
    let mut config = config();
    config.algorithms = vec![SigningAlgorithm::RS256, SigningAlgorithm::ES256];
    let oidc = provider.oidc(&config).await;
    let confused = idp().sign_as(RSA_A, EC, &claims(&["viewer"]));
    assert_eq!(
        oidc.check(&confused).await,
        Err(Refused::WrongKey(RSA_A.to_owned(), Algorithm::ES256))
    );
}

#[tokio::test]
async fn roles_come_from_a_dotted_path_a_namespaced_claim_or_a_string_through_the_map() {
    let provider = Provider::new(&[RSA_A]);
    let mut config = config();
    config.roles_claim = "realm_access.roles".to_owned();
    let oidc = provider.oidc(&config).await;
    let mut nested = claims(&[]);
    nested["realm_access"] = json!({ "roles": ["operator", "offline_access"] });
    let roles = |verified: Verified| verified.roles.iter().collect::<Vec<_>>();
    let verified = oidc.verify(&idp().sign(RSA_A, &nested)).await;
    assert_eq!(roles(verified.expect("valid")), [Role::Operator]);

    config.roles_claim = "https://tradehub.example/roles".to_owned();
    config.role_map = [
        (
            "trade-compliance".to_owned(),
            vec![Role::ComplianceOfficer, Role::Viewer],
        ),
        ("trade-ops".to_owned(), vec![Role::Operator]),
    ]
    .into();
    let oidc = provider.oidc(&config).await;
    let mut namespaced = claims(&[]);
    namespaced["https://tradehub.example/roles"] = json!("trade-compliance admin other");
    let verified = oidc.verify(&idp().sign(RSA_A, &namespaced)).await;
    assert_eq!(
        roles(verified.expect("valid")),
        [Role::Viewer, Role::ComplianceOfficer],
        "with a map, only mapped names count: `admin` grants nothing"
    );
}

#[tokio::test]
async fn a_rotated_key_set_is_read_again_on_an_unknown_kid_at_most_once_per_interval() {
    let provider = Provider::new(&[RSA_A]);
    let oidc = provider.oidc(&config()).await;
    let idp = idp();
    let (a, b) = (
        idp.sign(RSA_A, &claims(&["viewer"])),
        idp.sign(RSA_B, &claims(&["viewer"])),
    );
    assert!(oidc.verify(&a).await.is_ok());
    provider.publish(&[RSA_A, RSA_B]);
    assert_eq!(
        oidc.check(&b).await,
        Err(Refused::UnknownKid(RSA_B.to_owned())),
        "read less than jwks_min_refetch ago: not read again"
    );
    provider.advance_s(10);
    assert!(oidc.verify(&b).await.is_ok(), "the new key is read");

    provider.publish(&[RSA_B]);
    provider.advance_s(10);
    assert!(
        oidc.verify(&a).await.is_ok(),
        "a removed key works until the refresh"
    );
    provider.advance_s(600);
    assert_eq!(
        oidc.check(&a).await,
        Err(Refused::UnknownKid(RSA_A.to_owned())),
        "the refresh dropped it"
    );

    std::fs::remove_file(provider.folder.path().join(JWKS)).expect("removed");
    provider.advance_s(10);
    let unreadable = oidc.verify(&a).await;
    assert!(
        matches!(&unreadable, Err(Denied::Unavailable(reason)) if reason.contains(JWKS)),
        "{unreadable:?}"
    );
    provider.advance_s(600);
    assert!(
        oidc.verify(&b).await.is_ok(),
        "a failed refresh keeps the keys read before"
    );
}

#[tokio::test]
async fn symmetric_and_kidless_keys_of_a_jwks_are_not_used() {
    let provider = Provider::new(&[RSA_A]);
    let mut set: Value = serde_json::from_str(&idp().jwks(&[RSA_A])).expect("JSON");
    let keys = set["keys"].as_array_mut().expect("keys");
    let n = keys[0]["n"].clone();
    let mut kidless = keys[0].clone();
    kidless.as_object_mut().expect("a JWK").remove("kid");
    keys.push(kidless);
    keys.push(json!({ "kty": "oct", "kid": "shared", "k": "c2VjcmV0LXNlY3JldC1zZWNyZXQ" }));
    keys.push(json!({ "kty": "RSA", "kid": "enc", "use": "enc", "n": n, "e": "AQAB" }));
    std::fs::write(provider.folder.path().join(JWKS), set.to_string()).expect("written");
    let oidc = provider.oidc(&config()).await;
    assert!(oidc.keys.get(RSA_A).await.is_ok());
    for kid in ["shared", "enc"] {
        assert!(
            matches!(oidc.keys.get(kid).await, Err(Lookup::Unknown)),
            "{kid}"
        );
    }
}

#[tokio::test]
async fn a_key_set_that_cannot_be_read_stops_the_start_naming_it() {
    let folder = tempfile::tempdir().expect("a temporary folder");
    let error = Oidc::start(&config(), folder.path())
        .await
        .expect_err("no file");
    assert!(error.to_string().contains(JWKS), "{error}");
    std::fs::write(folder.path().join(JWKS), "{\"keys\": 3}").expect("written");
    let error = Oidc::start(&config(), folder.path())
        .await
        .expect_err("not a JWKS");
    assert!(error.to_string().contains("not a JWKS"), "{error}");
    let disabled = OidcConfig::default();
    assert!(
        Oidc::start(&disabled, Path::new("/nonexistent"))
            .await
            .expect("disabled")
            .is_none()
    );
}

#[test]
fn the_configuration_is_checked_only_when_enabled_and_names_the_key_at_fault() {
    assert_eq!(OidcConfig::default().check(), Ok(()));
    assert_eq!(config().check(), Ok(()));
    let key_of = |change: &dyn Fn(&mut OidcConfig)| {
        let mut config = config();
        change(&mut config);
        config.check().expect_err("refused").0
    };
    assert_eq!(key_of(&|c| c.issuer.clear()), "auth.oidc.issuer");
    assert_eq!(key_of(&|c| c.audience.clear()), "auth.oidc.audience");
    assert_eq!(key_of(&|c| c.jwks_file = None), "auth.oidc.jwks_url");
    assert_eq!(
        key_of(&|c| c.jwks_url = Some("https://idp.test/certs".into())),
        "auth.oidc.jwks_file"
    );
    let url = |url: &str| {
        let url = url.to_owned();
        move |c: &mut OidcConfig| {
            c.jwks_file = None;
            c.jwks_url = Some(url.clone());
        }
    };
    assert_eq!(key_of(&url("http://idp.test/certs")), "auth.oidc.jwks_url");
    assert_eq!(key_of(&url("ftp://idp.test/certs")), "auth.oidc.jwks_url");
    for fine in [
        "https://idp.test/certs",
        "http://127.0.0.1:8080/certs",
        "http://[::1]/certs",
        "http://localhost/certs",
    ] {
        let mut config = config();
        url(fine)(&mut config);
        assert_eq!(config.check(), Ok(()), "{fine}");
    }
    assert_eq!(key_of(&|c| c.algorithms.clear()), "auth.oidc.algorithms");
    assert_eq!(
        key_of(&|c| c.leeway = std::time::Duration::from_secs(301)),
        "auth.oidc.leeway"
    );
    assert_eq!(
        key_of(&|c| c.jwks_min_refetch = c.jwks_refresh * 2),
        "auth.oidc.jwks_min_refetch"
    );
    assert_eq!(
        key_of(&|c| c.roles_claim = "realm_access.".into()),
        "auth.oidc.roles_claim"
    );
    assert_eq!(key_of(&|c| c.label_claim.clear()), "auth.oidc.label_claim");
    assert_eq!(
        key_of(&|c| c.role_map = [("ops".to_owned(), vec![])].into()),
        "auth.oidc.role_map"
    );
}

#[test]
fn symmetric_algorithms_none_and_unknown_roles_cannot_be_configured() {
    for algorithm in ["HS256", "none"] {
        let error = toml::from_str::<OidcConfig>(&format!("algorithms = [{algorithm:?}]"))
            .expect_err(algorithm)
            .to_string();
        assert!(error.contains(algorithm), "{error}");
    }
    let error = toml::from_str::<OidcConfig>("[role_map]\nops = [\"superuser\"]")
        .expect_err("no such role")
        .to_string();
    assert!(error.contains("superuser"), "{error}");
    let parsed: OidcConfig =
        toml::from_str("algorithms = [\"ES256\", \"EdDSA\"]\n[role_map]\nops = [\"operator\"]")
            .expect("parses");
    assert_eq!(
        parsed.algorithms,
        [SigningAlgorithm::ES256, SigningAlgorithm::EdDSA]
    );
    assert_eq!(parsed.role_map["ops"], [Role::Operator]);
}
