use serde_json::json;

use super::*;

const SECRET: &str = "0123456789abcdef0123456789abcdef";

#[test]
fn partners_come_from_their_templates() {
    let layout = Layout::new(env!("CARGO_MANIFEST_DIR"));
    let secret = || Secret::new(SECRET);
    let broker = CallbackPartner::with_secret(&layout, "rest-broker", secret()).expect("broker");
    assert_eq!(broker.kind, CallbackKind::Broker);
    assert_eq!(broker.header, "X-Tradehub-Signature");
    assert_eq!(broker.secret_count(), 1);
    let carrier = CallbackPartner::with_secret(&layout, "carrier-dcsa", secret()).expect("carrier");
    assert_eq!(carrier.kind, CallbackKind::Carrier);
    assert_eq!(carrier.header, "Notification-Signature");
    assert!(matches!(
        CallbackPartner::with_secret(&layout, "broker-invoice-csv", secret()),
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
fn a_secret_shorter_than_32_bytes_is_refused_without_showing_it() {
    let layout = Layout::new(env!("CARGO_MANIFEST_DIR"));
    let short = "x".repeat(MIN_SECRET_LEN - 1);
    let err = CallbackPartner::with_secret(&layout, "rest-broker", Secret::new(short.clone()))
        .expect_err("short");
    let text = err.to_string();
    assert!(
        text.contains("rest-broker") && text.contains("32"),
        "{text}"
    );
    assert!(!text.contains(&short), "{text}");
    let partner = CallbackPartner::with_secret(&layout, "rest-broker", Secret::new(SECRET))
        .expect("32 bytes are enough");
    assert!(matches!(
        partner.clone().with_previous(Secret::new(short)),
        Err(CallbackConfigError::ShortSecret { .. })
    ));
    let rotating = partner
        .with_previous(Secret::new(SECRET.to_uppercase()))
        .expect("previous");
    assert_eq!(rotating.secret_count(), 2);
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

fn template(secret_env: &str, previous_env: &str) -> String {
    format!(
        "kind = \"customs_broker\"\ndescription = \"d\"\n[transport]\nkind = \"http_json\"\nendpoint = \"http://x\"\n\
         [auth]\nkind = \"hmac\"\nheader = \"X-Sig\"\nsecret_env = \"{secret_env}\"\n\
         previous_secret_env = \"{previous_env}\"\n[codec]\nkind = \"json\"\n[mappings]\n"
    )
}

#[test]
#[expect(
    clippy::result_large_err,
    reason = "figment::Jail's closure must return figment's own error type"
)]
fn from_env_takes_signed_partners_whose_secret_is_set_and_refuses_short_ones() {
    figment::Jail::expect_with(|jail| {
        let dir = jail.directory().to_owned();
        let partners = dir.join("config/partners");
        std::fs::create_dir_all(&partners).expect("mkdir");
        jail.set_env("TH_TEST_CB_SET", SECRET);
        jail.set_env("TH_TEST_CB_OLD", SECRET.to_uppercase());
        std::fs::write(
            partners.join("set.toml"),
            template("TH_TEST_CB_SET", "TH_TEST_CB_OLD"),
        )
        .expect("write");
        std::fs::write(
            partners.join("unset.toml"),
            template("TH_TEST_CB_UNSET", "TH_TEST_CB_UNSET_TOO"),
        )
        .expect("write");
        let callbacks = Callbacks::from_env(Layout::new(&dir)).expect("long secrets");
        assert_eq!(callbacks.names(), vec!["set".to_owned()]);
        let set = callbacks.partner("set").expect("set");
        assert_eq!(set.header, "X-Sig");
        assert_eq!(set.secret_count(), 2, "the previous secret is taken too");
        assert!(
            Callbacks::from_env(Layout::new(dir.join("nowhere")))
                .expect("no templates")
                .names()
                .is_empty()
        );

        for (current, previous, variable) in [
            ("tiny-value", SECRET, "TH_TEST_CB_SET"),
            (SECRET, "tiny-value", "TH_TEST_CB_OLD"),
        ] {
            jail.set_env("TH_TEST_CB_SET", current);
            jail.set_env("TH_TEST_CB_OLD", previous);
            let err = Callbacks::from_env(Layout::new(&dir)).expect_err("a short secret");
            let text = err.to_string();
            assert!(
                text.contains("partner set") && text.contains(variable),
                "{text}"
            );
            assert!(
                !text.contains("tiny-value"),
                "the value is not shown: {text}"
            );
        }
        Ok(())
    });
}

#[test]
fn a_seen_signature_is_remembered_over_the_whole_window() {
    let callbacks = Callbacks::default().with_tolerance(Duration::from_secs(300));
    assert_eq!(callbacks.replay_ttl(), Duration::from_secs(660));
}
