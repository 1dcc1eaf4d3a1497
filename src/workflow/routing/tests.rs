use super::*;

fn cc(s: &str) -> Option<CountryCode> {
    Some(s.parse().unwrap())
}

#[test]
fn shipped_table_parses_and_routes() {
    let p = RoutingPolicy::shipped().unwrap();
    let uk = p.route(cc("GB"), Direction::Import, Some(TransportMode::Air));
    assert_eq!(uk.partner, "edifact-broker");
    assert_eq!(uk.route, Some("UK imports through the EDIFACT broker"));
    let de_sea = p.route(cc("DE"), Direction::Export, Some(TransportMode::Sea));
    assert_eq!(de_sea.partner, "edifact-broker");
    let us = p.route(cc("US"), Direction::Export, Some(TransportMode::Sea));
    assert_eq!(us.partner, "rest-broker");
    assert_eq!(us.route, None);
    assert_eq!(us.version, p.version);
    let de_import = p.route(cc("DE"), Direction::Import, None);
    assert_eq!(de_import.partner, "edifact-broker");
    assert_eq!(
        de_import.route,
        Some("EU imports through the EDIFACT broker")
    );
    // A route conditioned on a mode never matches a shipment without one.
    let de_none = p.route(cc("DE"), Direction::Export, None);
    assert_eq!(de_none.partner, "rest-broker");
    // Nor does a destination-conditioned route match a shipment without a destination.
    assert_eq!(
        p.route(None, Direction::Import, None).partner,
        "rest-broker"
    );
}

#[test]
fn unknown_keys_are_refused_with_their_name() {
    let text = "version = \"1\"\ndefault_partner = \"b\"\n[[route]]\nname = \"x\"\npartner = \"b\"\ncountry = [\"GB\"]\n";
    let err = RoutingPolicy::from_toml(text, "t.toml").unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("t.toml") && msg.contains("country"), "{msg}");
}

#[test]
fn bad_values_are_refused() {
    let bad_country = "version = \"1\"\ndefault_partner = \"b\"\n[[route]]\nname = \"x\"\npartner = \"b\"\ndestination = [\"Germany\"]\n";
    assert!(RoutingPolicy::from_toml(bad_country, "t").is_err());
    let bad_mode = "version = \"1\"\ndefault_partner = \"b\"\n[[route]]\nname = \"x\"\npartner = \"b\"\nmode = [\"teleport\"]\n";
    assert!(RoutingPolicy::from_toml(bad_mode, "t").is_err());
    let bad_partner = "version = \"1\"\ndefault_partner = \"Broker One\"\n";
    let err = RoutingPolicy::from_toml(bad_partner, "t").unwrap_err();
    assert!(err.to_string().contains("default_partner"), "{err}");
    let no_default = "version = \"1\"\n";
    assert!(RoutingPolicy::from_toml(no_default, "t").is_err());
    let empty_version = "version = \" \"\ndefault_partner = \"b\"\n";
    assert!(RoutingPolicy::from_toml(empty_version, "t").is_err());
}

#[test]
fn first_matching_route_wins() {
    let text = r#"
version = "v"
default_partner = "d"
[[route]]
name = "first"
partner = "a"
direction = ["export"]
[[route]]
name = "second"
partner = "b"
direction = ["export"]
destination = ["US"]
"#;
    let p = RoutingPolicy::from_toml(text, "t").unwrap();
    assert_eq!(p.route(cc("US"), Direction::Export, None).partner, "a");
    assert_eq!(p.route(cc("US"), Direction::Import, None).partner, "d");
    assert_eq!(p.partners().collect::<Vec<_>>(), ["d", "a", "b"]);
}
