use std::io::Write;

use serde_json::json;
use tradehub_actors::envelope::Envelope;

use super::keyring::decode_key;
use super::{EncryptionConfig, KeySource, KeyringError, Place, SealError, Sealer};
use crate::secret::Secret;

const K1: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
const K2: &str = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=";
const PARTY: &str = "Rosoboronexport OAO";

fn sealer(current: &str) -> Sealer {
    Sealer::from_keys(
        current,
        &[("k1", &Secret::new(K1)), ("k2", &Secret::new(K2))],
    )
    .unwrap()
}

fn state_place() -> Place {
    Place::field("th:{s3}:st:SH-1", "state")
}

#[test]
fn a_sealed_value_opens_and_shows_nothing_of_its_content() {
    let sealer = sealer("k1");
    let plain = format!("{{\"consignee\":\"{PARTY}\"}}");
    let sealed = sealer.seal_text(&state_place(), &plain);
    assert!(sealed.starts_with("enc:v1:k1:"), "{sealed}");
    assert!(!sealed.contains("Rosoboronexport"), "{sealed}");
    assert_ne!(
        sealed,
        sealer.seal_text(&state_place(), &plain),
        "every value gets its own nonce"
    );
    assert_eq!(sealer.open_text(&state_place(), &sealed).unwrap(), plain);
}

#[test]
fn a_tampered_value_is_refused_naming_the_record_not_the_content() {
    let sealer = sealer("k1");
    let sealed = sealer.seal_text(&state_place(), PARTY);
    let mut bytes = sealed.into_bytes();
    let last = bytes.len() - 3;
    bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(bytes).unwrap();
    let error = sealer.open_text(&state_place(), &tampered).unwrap_err();
    assert!(matches!(error, SealError::Forged { .. }), "{error:?}");
    let message = error.to_string();
    assert!(message.contains("th:{s3}:st:SH-1 field state"), "{message}");
    assert!(!message.contains("Rosoboronexport"), "{message}");
    let cut = sealer
        .open_text(&state_place(), "enc:v1:k1:short")
        .unwrap_err();
    assert!(matches!(cut, SealError::Malformed { .. }), "{cut:?}");
}

#[test]
fn a_value_moved_to_another_record_or_field_does_not_open() {
    let sealer = sealer("k1");
    let sealed = sealer.seal_text(&state_place(), PARTY);
    for place in [
        Place::field("th:{s3}:st:SH-2", "state"),
        Place::field("th:{s3}:st:SH-1", "updated"),
        Place::audit("th:{s3}:st:SH-1", "state"),
    ] {
        let error = sealer.open_text(&place, &sealed).unwrap_err();
        assert!(matches!(error, SealError::Forged { .. }), "{error:?}");
    }
}

#[test]
fn older_keys_still_open_and_unknown_ones_are_named() {
    let old = sealer("k1").seal_text(&state_place(), PARTY);
    let rotated = sealer("k2");
    assert_eq!(rotated.open_text(&state_place(), &old).unwrap(), PARTY);
    assert!(rotated.is_stale(&old));
    assert!(!rotated.is_stale(&rotated.seal_text(&state_place(), PARTY)));
    assert_eq!(Sealer::kid_of(&old).as_deref(), Some("k1"));
    let only_k2 = Sealer::from_keys("k2", &[("k2", &Secret::new(K2))]).unwrap();
    let error = only_k2.open_text(&state_place(), &old).unwrap_err();
    assert_eq!(
        error,
        SealError::UnknownKey {
            place: "th:{s3}:st:SH-1 field state".to_owned(),
            kid: "k1".to_owned()
        }
    );
    let off = Sealer::off().open_text(&state_place(), &old).unwrap_err();
    assert!(matches!(off, SealError::UnknownKey { .. }), "{off:?}");
}

#[test]
fn off_and_legacy_values_pass_through() {
    let off = Sealer::off();
    assert_eq!(off.seal_text(&state_place(), PARTY), PARTY);
    assert_eq!(off.seal_bytes(&state_place(), b"\xff\x00"), b"\xff\x00");
    let on = sealer("k2");
    assert_eq!(on.open_text(&state_place(), PARTY).unwrap(), PARTY);
    assert_eq!(on.open_bytes(&state_place(), b"\xff").unwrap(), b"\xff");
    let sealed = on.seal_bytes(&state_place(), b"\xff\x00raw");
    assert_eq!(
        on.open_bytes(&state_place(), &sealed).unwrap(),
        b"\xff\x00raw"
    );
}

#[test]
fn an_envelope_keeps_its_routing_in_clear_and_its_body_sealed() {
    let sealer = sealer("k1");
    let envelope = Envelope::new(
        "cmd-7",
        "SH-1",
        "screening.request",
        json!({ "party": PARTY }),
    );
    let raw = sealer.seal_envelope(&envelope).unwrap();
    assert!(!raw.contains("Rosoboronexport"), "{raw}");
    let stored: serde_json::Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(stored["id"], "cmd-7");
    assert_eq!(stored["key"], "SH-1");
    assert_eq!(stored["kind"], "screening.request");
    assert_eq!(Sealer::kid_of(&raw).as_deref(), Some("k1"));
    assert_eq!(sealer.open_envelope(&raw).unwrap(), envelope);
    assert!(sealer.show_envelope(&raw).contains("Rosoboronexport"));
    // The body bound to another message does not open.
    let moved = raw.replace("\"cmd-7\"", "\"cmd-8\"");
    let error = sealer.open_envelope(&moved).unwrap_err();
    assert!(error.contains("envelope cmd-8 of SH-1"), "{error}");
    assert!(!error.contains("Rosoboronexport"), "{error}");
    assert_eq!(sealer.show_envelope(&moved), moved);
    // Clear envelopes (written before encryption) still decode.
    let clear = Sealer::off().seal_envelope(&envelope).unwrap();
    assert_eq!(sealer.open_envelope(&clear).unwrap(), envelope);
    assert_eq!(Sealer::kid_of(&clear), None);
}

#[test]
fn keys_decode_from_hex_or_base64_and_nothing_else() {
    assert_eq!(decode_key(K1).unwrap()[31], 0x1f);
    assert_eq!(decode_key(K2).unwrap()[0], 0x20);
    assert_eq!(decode_key(K2.trim_end_matches('=')).unwrap()[0], 0x20);
    assert!(decode_key(&K1[2..]).is_none());
    assert!(decode_key("c2hvcnQ=").is_none());
    assert!(decode_key("not a key at all").is_none());
}

fn config(
    current: Option<&str>,
    keys: &[(&str, Option<&str>, Option<&std::path::Path>)],
) -> EncryptionConfig {
    EncryptionConfig {
        current: current.map(str::to_owned),
        keys: keys
            .iter()
            .map(|(id, env, file)| KeySource {
                id: (*id).to_owned(),
                env: env.map(str::to_owned),
                file: file.map(std::path::Path::to_path_buf),
            })
            .collect(),
    }
}

#[test]
fn unusable_keyrings_are_refused_with_a_clear_reason() {
    assert_eq!(config(None, &[]).sealer().unwrap(), Sealer::off());
    let cases = [
        (
            config(
                Some("k1"),
                &[("k1", Some("A"), None), ("k1", Some("B"), None)],
            ),
            KeyringError::Duplicate("k1".into()),
        ),
        (
            config(None, &[("k1", Some("A"), None)]),
            KeyringError::NoCurrent,
        ),
        (
            config(Some("k9"), &[("k1", Some("A"), None)]),
            KeyringError::UnknownCurrent("k9".into()),
        ),
        (
            config(Some("a:b"), &[("a:b", Some("A"), None)]),
            KeyringError::Id("a:b".into()),
        ),
        (
            config(Some("k1"), &[("k1", None, None)]),
            KeyringError::Source("k1".into()),
        ),
        (
            config(
                Some("k1"),
                &[("k1", Some("TRADEHUB_TEST_KEY_NEVER_SET"), None)],
            ),
            KeyringError::Unset {
                id: "k1".into(),
                var: "TRADEHUB_TEST_KEY_NEVER_SET".into(),
            },
        ),
    ];
    for (config, expected) in cases {
        assert_eq!(config.sealer().unwrap_err(), expected);
    }
}

#[test]
fn keys_are_read_from_files_and_a_malformed_one_is_never_shown() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("k1");
    writeln!(std::fs::File::create(&good).unwrap(), "{K1}").unwrap();
    let bad = dir.path().join("bad");
    let leaked = "s3cr3t-but-not-32-bytes";
    std::fs::write(&bad, leaked).unwrap();
    let sealer = config(Some("k1"), &[("k1", None, Some(&good))])
        .sealer()
        .unwrap();
    assert_eq!(sealer.current_id(), Some("k1"));
    let shown = format!("{sealer:?}");
    assert!(!shown.contains(K1) && shown.contains("k1"), "{shown}");
    let error = config(Some("k1"), &[("k1", None, Some(&bad))])
        .sealer()
        .unwrap_err();
    assert!(matches!(error, KeyringError::Malformed { .. }), "{error:?}");
    let message = error.to_string();
    assert!(!message.contains(leaked), "{message}");
    assert!(message.contains(&bad.display().to_string()), "{message}");
    let missing = config(Some("k1"), &[("k1", None, Some(&dir.path().join("none")))])
        .sealer()
        .unwrap_err();
    assert!(
        matches!(missing, KeyringError::Unreadable { .. }),
        "{missing:?}"
    );
    let given = Sealer::from_keys("k1", &[("k1", &Secret::new(leaked))]).unwrap_err();
    assert!(!given.to_string().contains(leaked), "{given}");
}
