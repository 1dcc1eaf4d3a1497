use serde_json::json;

use super::*;

#[test]
fn secret_debug_is_redacted() {
    let secret = Secret::new("hunter2");
    let shown = format!("{secret:?}");
    assert!(!shown.contains("hunter2"), "{shown}");
    assert_eq!(secret.expose(), b"hunter2");
}

#[test]
fn partners_come_from_their_templates() {
    let layout = Layout::new(env!("CARGO_MANIFEST_DIR"));
    let broker =
        CallbackPartner::with_secret(&layout, "rest-broker", Secret::new("s")).expect("broker");
    assert_eq!(broker.kind, CallbackKind::Broker);
    assert_eq!(broker.header, "X-Tradehub-Signature");
    let carrier =
        CallbackPartner::with_secret(&layout, "carrier-dcsa", Secret::new("s")).expect("carrier");
    assert_eq!(carrier.kind, CallbackKind::Carrier);
    assert_eq!(carrier.header, "Notification-Signature");
    assert!(matches!(
        CallbackPartner::with_secret(&layout, "broker-invoice-csv", Secret::new("s")),
        Err(CallbackConfigError::Kind(_))
    ));
    assert!(matches!(
        CallbackPartner::from_template(&layout, "carrier-x12"),
        Err(CallbackConfigError::NoHmac(_))
    ));
}

#[test]
fn carrier_references_put_the_shipment_first() {
    let canonical = json!({
        "references": { "carrier_reference": "C9", "shipment_id": "S1" },
        "events": [{ "references": { "BKG": "S1", "TRD": "T7" }, "equipment": "CONU1" }],
    });
    let refs = carrier_references(&canonical);
    assert_eq!(refs.first().map(String::as_str), Some("S1"));
    assert!(
        refs.contains(&"C9".to_owned())
            && refs.contains(&"T7".to_owned())
            && refs.contains(&"CONU1".to_owned())
    );
    assert_eq!(refs.iter().filter(|r| *r == "S1").count(), 1);
}
