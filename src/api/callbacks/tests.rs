use serde_json::json;

use super::*;

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
        CallbackPartner::from_template(&layout, "edifact-broker"),
        Err(CallbackConfigError::NoHmac(_))
    ));
    assert!(matches!(
        CallbackPartner::from_template(&layout, "carrier-x12"),
        Err(CallbackConfigError::MissingSecret(var)) if var == "TRADEHUB_CARRIER_X12_SECRET"
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

#[test]
fn from_env_takes_signed_partners_whose_secret_is_set() {
    let dir = tempfile::tempdir().expect("tempdir");
    let partners = dir.path().join("config/partners");
    std::fs::create_dir_all(&partners).expect("mkdir");
    let template = |secret_env: &str| {
        format!(
            "kind = \"customs_broker\"\ndescription = \"d\"\n[transport]\nkind = \"http_json\"\nendpoint = \"http://x\"\n\
             [auth]\nkind = \"hmac\"\nheader = \"X-Sig\"\nsecret_env = \"{secret_env}\"\n[codec]\nkind = \"json\"\n[mappings]\n"
        )
    };
    // PATH is set wherever tests run; the other variable is not.
    std::fs::write(partners.join("set.toml"), template("PATH")).expect("write");
    std::fs::write(
        partners.join("unset.toml"),
        template("TRADEHUB_TEST_SURELY_UNSET_1F2E"),
    )
    .expect("write");
    let callbacks = Callbacks::from_env(Layout::new(dir.path()));
    assert_eq!(callbacks.names(), vec!["set".to_owned()]);
    assert_eq!(
        callbacks.partner("set").map(|p| p.header.as_str()),
        Some("X-Sig")
    );
    assert!(
        Callbacks::from_env(Layout::new(dir.path().join("nowhere")))
            .names()
            .is_empty()
    );
}
