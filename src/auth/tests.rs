use std::net::{IpAddr, Ipv4Addr};
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::FakeRelativeClock;

use super::*;
use crate::secret::Secret;

fn pepper() -> Pepper {
    Pepper::new("P", Secret::new("0123456789abcdef0123456789abcdef")).expect("32 bytes")
}

#[test]
fn roles_parse_by_name_and_no_role_implies_another() {
    for role in Role::ALL {
        assert_eq!(role.as_str().parse::<Role>(), Ok(role));
    }
    assert!("superuser".parse::<Role>().is_err());
    let admin: RoleSet = [Role::Admin].into_iter().collect();
    for role in [
        Role::Viewer,
        Role::Operator,
        Role::ComplianceOfficer,
        Role::Integrator,
    ] {
        assert!(!admin.grants(role), "admin must not imply {role}");
    }
    let officer: RoleSet = [Role::ComplianceOfficer, Role::Viewer]
        .into_iter()
        .collect();
    assert!(officer.grants(Role::ComplianceOfficer) && officer.grants(Role::Viewer));
    assert!(!officer.grants(Role::Operator));
    assert_eq!(
        officer.iter().collect::<Vec<_>>(),
        [Role::Viewer, Role::ComplianceOfficer]
    );
    assert!(RoleSet::default().is_empty());
}

#[test]
fn a_token_round_trips_through_its_text_and_only_its_shape_parses() {
    let token = ApiToken::generate().expect("randomness");
    let shown = token.reveal();
    assert!(shown.starts_with(&format!("th_{}_", token.id())), "{shown}");
    assert_eq!(shown.len(), 3 + 16 + 1 + 64);
    let parsed = ApiToken::parse(&shown).expect("parses");
    assert_eq!(parsed.id(), token.id());
    assert_eq!(parsed.reveal(), shown);
    assert!(ApiToken::is_id(token.id()));
    for bad in [
        "",
        "th_",
        &shown[..shown.len() - 1],
        &shown.replace("th_", "tx_"),
        &shown.to_uppercase(),
        &format!("{shown}0"),
        &format!("th_{}", token.id()),
    ] {
        assert!(ApiToken::parse(bad).is_none(), "{bad:?} parsed");
    }
    let other = ApiToken::generate().expect("randomness");
    assert_ne!(other.id(), token.id());
    assert!(
        !format!("{token:?}").contains(&shown[20..]),
        "Debug shows the secret"
    );
}

#[test]
fn only_the_token_that_was_hashed_matches_its_hash() {
    let pepper = pepper();
    let token = ApiToken::generate().expect("randomness");
    let stored = pepper.hash(&token);
    assert_eq!(stored.len(), 64);
    assert!(
        !stored.contains(&token.reveal()[20..]),
        "the hash is not the secret"
    );
    assert!(pepper.matches(&token, &stored));
    let rotated = ApiToken::generate_for(token.id().to_owned()).expect("randomness");
    assert!(
        !pepper.matches(&rotated, &stored),
        "a rotated secret differs"
    );
    let other_pepper =
        Pepper::new("P", Secret::new("fedcba9876543210fedcba9876543210")).expect("32 bytes");
    assert!(
        !other_pepper.matches(&token, &stored),
        "the pepper keys the hash"
    );
    assert!(!pepper.matches(&token, "not hex"));
    assert!(!pepper.matches(&token, &stored[..62]));
}

#[test]
fn a_pepper_shorter_than_32_bytes_is_refused() {
    let short = Pepper::new("TRADEHUB_TOKEN_PEPPER", Secret::new("x".repeat(31)));
    let error = short.expect_err("31 bytes").to_string();
    assert!(
        error.contains("TRADEHUB_TOKEN_PEPPER") && error.contains("31"),
        "{error}"
    );
    assert!(!error.contains("xxxx"), "the value is never shown: {error}");
    assert!(Pepper::new("P", Secret::new("x".repeat(32))).is_ok());
}

fn settings(per_token: u32, per_address: u32, burst: u32) -> LimitSettings {
    let n = |v| NonZeroU32::new(v).expect("not zero");
    LimitSettings {
        per_token: n(per_token),
        token_burst: n(burst),
        per_address: n(per_address),
        address_burst: n(burst),
    }
}

#[test]
fn each_token_has_its_own_bucket_and_refills_with_time() {
    let clock = FakeRelativeClock::default();
    let limits = Limits::with_clock(settings(2, 1000, 2), clock.clone());
    assert!(limits.token("a").is_ok());
    assert!(limits.token("a").is_ok());
    let wait = limits.token("a").expect_err("burst of 2 spent");
    assert!(
        wait > Duration::ZERO && wait <= Duration::from_millis(500),
        "{wait:?}"
    );
    assert!(limits.token("b").is_ok(), "another token is not limited");
    clock.advance(wait);
    assert!(limits.token("a").is_ok(), "refilled after the wait");
}

#[test]
fn each_address_has_its_own_bucket() {
    let clock = FakeRelativeClock::default();
    let limits = Limits::with_clock(settings(1000, 1, 1), clock.clone());
    let one = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
    let two = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2));
    assert!(limits.address(one).is_ok());
    let wait = limits.address(one).expect_err("burst of 1 spent");
    assert!(wait <= Duration::from_secs(1), "{wait:?}");
    assert!(limits.address(two).is_ok());
    clock.advance(Duration::from_secs(1));
    assert!(limits.address(one).is_ok());
}

#[test]
fn the_principal_becomes_the_actor_with_its_source_address() {
    let principal = Principal {
        id: "token:0123456789abcdef".into(),
        label: "Ana".into(),
        roles: [Role::ComplianceOfficer].into_iter().collect(),
        source: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 9)),
    };
    let actor = principal.actor();
    assert_eq!(actor.id, "token:0123456789abcdef");
    assert_eq!(actor.label, "Ana");
    assert_eq!(actor.source, "192.0.2.9");
}
