use super::*;

fn layout() -> Layout {
    Layout::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn every_shipped_template_loads_and_compiles() {
    let names = layout().partner_names().expect("config/partners");
    for expected in [
        "edifact-broker",
        "uk-cds",
        "rest-broker",
        "carrier-x12",
        "carrier-iftsta",
        "carrier-dcsa",
        "broker-invoice-csv",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} missing from {names:?}"
        );
    }
    let mut cache = MappingCache::new();
    for name in &names {
        let partner =
            Partner::load(&layout(), name, &mut cache).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(
            !partner.template.fixtures.is_empty(),
            "{name} has no fixtures"
        );
    }
}

#[test]
fn unknown_fields_and_unknown_partners_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("config/partners")).expect("mkdir");
    std::fs::write(
        dir.path().join("config/partners/bad.toml"),
        "kind = \"carrier\"\ndescription = \"x\"\ncolour = \"red\"\n[transport]\nkind = \"http_json\"\nendpoint = \"https://x\"\n[codec]\nkind = \"json\"\n[mappings]\n",
    )
    .expect("write");
    let layout = Layout::new(dir.path());
    let err = layout.template("bad").expect_err("unknown field");
    assert!(err.to_string().contains("colour"), "{err}");
    assert!(err.to_string().contains("line 3"), "{err}");
    assert!(matches!(
        layout.template("nope"),
        Err(PartnerError::Unknown(_))
    ));
}

#[test]
fn inbound_status_must_be_canonical() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("config/partners")).expect("mkdir");
    std::fs::create_dir_all(dir.path().join("config/mappings")).expect("mkdir");
    std::fs::write(dir.path().join("config/mappings/in.jq"), "{status: .s}").expect("write");
    std::fs::write(
        dir.path().join("config/partners/p.toml"),
        "kind = \"customs_broker\"\ndescription = \"x\"\n[transport]\nkind = \"http_json\"\nendpoint = \"https://x\"\n[codec]\nkind = \"json\"\n[mappings]\ninbound = \"in.jq\"\n",
    )
    .expect("write");
    let layout = Layout::new(dir.path());
    let mut cache = MappingCache::new();
    let partner = Partner::load(&layout, "p", &mut cache).expect("loads");
    let ctx = BTreeMap::new();
    assert!(partner.inbound(br#"{"s": "RELEASED"}"#, &ctx).is_ok());
    let err = partner
        .inbound(br#"{"s": "released"}"#, &ctx)
        .expect_err("not canonical");
    assert!(err.to_string().contains("\"released\""), "{err}");
    assert!(matches!(
        partner.outbound(&serde_json::json!({}), &ctx),
        Err(PartnerError::NoMapping { .. })
    ));
}

#[test]
fn outbound_edifact_is_validated_and_control_references_stay_in_range() {
    let mut cache = MappingCache::new();
    let partner = Partner::load(&layout(), "edifact-broker", &mut cache).expect("loads");
    let declaration: serde_json::Value = serde_json::from_slice(
        &std::fs::read(
            layout()
                .fixtures_dir("edifact-broker")
                .join("outbound/declaration.json"),
        )
        .expect("fixture"),
    )
    .expect("json");
    let ctx = |reference: &str| {
        BTreeMap::from([
            ("control_ref".to_owned(), reference.to_owned()),
            ("date".to_owned(), "20261127".to_owned()),
            ("time".to_owned(), "1015".to_owned()),
        ])
    };
    assert!(partner.outbound(&declaration, &ctx("42")).is_ok());
    let err = partner
        .outbound(&declaration, &ctx("0"))
        .expect_err("below the range");
    assert!(
        matches!(err, PartnerError::ControlReference { .. }),
        "{err}"
    );

    // A goods description longer than FTX allows (70) must not leave the hub.
    let mut long = declaration.clone();
    long["lines"][0]["description"] = serde_json::Value::String("x".repeat(71));
    let err = partner
        .outbound(&long, &ctx("43"))
        .expect_err("too long for D96B");
    let PartnerError::Invalid(problems) = &err else {
        panic!("expected validation problems: {err}")
    };
    assert!(
        problems
            .iter()
            .any(|p| p.contains("FTX") && p.contains("[code 39]")),
        "{problems:?}"
    );
}
