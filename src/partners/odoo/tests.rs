use serde_json::json;
use tradehub_actors::partner::CallError;

use super::error::snippet;
use super::{ErrorClass, OdooConfig, OdooDateTime, OdooError, OdooTransport, Rec, classify};
use crate::secret::Secret;

#[test]
fn false_means_empty_and_many2one_is_a_pair() {
    let rec = Rec::new(json!({"id": 7, "name": false, "partner_id": [3, "Acme"], "move_ids": [1, 2], "weight": 86.5, "bare": 4, "hold": false})).expect("record");
    assert_eq!(rec.text("name"), None);
    assert_eq!(rec.m2o("partner_id"), Some(3));
    assert_eq!(rec.m2o_name("partner_id"), Some("Acme"));
    assert_eq!(rec.m2o("bare"), Some(4));
    assert_eq!(rec.ids("move_ids"), [1, 2]);
    assert_eq!(
        rec.decimal("weight").map(|d| d.to_string()),
        Some("86.5".to_owned())
    );
    assert!(!rec.flag("hold"));
    assert!(Rec::new(json!({"name": "no id"})).is_none());
}

#[test]
fn datetimes_keep_microseconds_but_print_seconds() {
    let dt: OdooDateTime = "2026-11-27 13:45:10.25".parse().expect("parse");
    assert_eq!(dt.to_string(), "2026-11-27 13:45:10");
    assert!(dt > dt.truncated());
    assert_eq!(
        dt.truncated().plus_seconds(1).to_string(),
        "2026-11-27 13:45:11"
    );
    assert!("2026-11-27T13:45:10Z".parse::<OdooDateTime>().is_err());
    assert!(
        "2026-11-27 13:45:10.1234567"
            .parse::<OdooDateTime>()
            .is_err()
    );
}

#[test]
fn exception_classes_map_to_retry_permanent_or_auth() {
    assert_eq!(
        classify("odoo.exceptions.AccessDenied", ""),
        ErrorClass::Auth
    );
    assert_eq!(
        classify("odoo.exceptions.ValidationError", ""),
        ErrorClass::Permanent
    );
    assert_eq!(
        classify("odoo.exceptions.MissingError", ""),
        ErrorClass::Permanent
    );
    assert_eq!(
        classify("odoo.exceptions.AccessError", ""),
        ErrorClass::Permanent
    );
    assert_eq!(
        classify(
            "psycopg2.errors.SerializationFailure",
            "could not serialize"
        ),
        ErrorClass::Retry
    );
    assert_eq!(
        classify(
            "psycopg2.OperationalError",
            "FATAL: database \"x\" does not exist"
        ),
        ErrorClass::Permanent
    );
}

#[test]
fn lost_answers_to_non_idempotent_calls_are_outcome_unknown() {
    let timeout = OdooError::Timeout {
        what: "stock.picking.message_post".to_owned(),
        timeout: std::time::Duration::from_secs(1),
    };
    assert!(matches!(
        timeout.clone().into_call_error(false),
        CallError::OutcomeUnknown { .. }
    ));
    assert!(matches!(
        timeout.into_call_error(true),
        CallError::Retry { .. }
    ));
    let limited = OdooError::Http {
        what: "x".to_owned(),
        status: 429,
        retry_after: Some(std::time::Duration::from_secs(7)),
        snippet: String::new(),
    };
    assert_eq!(
        limited.into_call_error(false),
        CallError::Retry {
            after: Some(std::time::Duration::from_secs(7)),
            reason: "Odoo answered x with HTTP 429: ".to_owned()
        }
    );
    let refused = OdooError::Server {
        what: "x".to_owned(),
        name: "odoo.exceptions.ValidationError".to_owned(),
        message: "bad HS".to_owned(),
        class: ErrorClass::Permanent,
    };
    match refused.into_call_error(true) {
        CallError::Permanent { reason } => assert!(reason.contains("bad HS"), "{reason}"),
        other => panic!("expected permanent, got {other:?}"),
    }
}

#[test]
fn config_is_checked_and_the_key_never_printed() {
    let config = OdooConfig::new(
        "ftp://odoo",
        "demo",
        "admin",
        Secret::new("k3y"),
        OdooTransport::OdooJson2,
    );
    assert!(matches!(config.validate(), Err(OdooError::Config(_))));
    assert!(!format!("{config:?}").contains("k3y"));
    assert_eq!(
        snippet(b"<html>\n  <body>502</body></html>"),
        "<html> <body>502</body></html>"
    );
}

#[test]
fn partner_settings_name_the_transport_and_reference_the_key() {
    let text = r#"
        url = "https://erp.example.com"
        db = "prod"
        login = "hub"
        transport = "odoo_jsonrpc"
        api_key_env = "ODOO_KEY"
        timeout = "10s"
    "#;
    let settings: super::OdooSettings = toml::from_str(text).expect("settings");
    assert_eq!(settings.transport, OdooTransport::OdooJsonrpc);
    let config = settings
        .resolve(|name| (name == "ODOO_KEY").then(|| "k".to_owned()))
        .expect("resolve");
    assert_eq!(
        (
            config.timeout.as_secs(),
            config.attempts,
            config.api_key.expose()
        ),
        (10, 3, "k")
    );
    assert!(
        matches!(settings.resolve(|_| None), Err(OdooError::Config(m)) if m.contains("ODOO_KEY"))
    );
    assert!(
        toml::from_str::<super::OdooSettings>(&text.replace("odoo_jsonrpc", "xmlrpc")).is_err()
    );
    assert!(toml::from_str::<super::OdooSettings>(&format!("{text}\npassword = \"x\"")).is_err());
}
