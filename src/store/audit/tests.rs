use std::collections::BTreeMap;

use super::anchor::read_anchor_file;
use super::*;
use crate::secret::Secret;

const SECRET: &str = "a-unit-test-audit-key-of-41-bytes-length!";

fn key(id: &str, secret: &str) -> AuditKey {
    AuditKey::new(id, Secret::new(secret), "test").expect("a usable key")
}

fn keys() -> AuditKeys {
    AuditKeys::new(key("k1", SECRET), Vec::new())
}

#[test]
fn a_key_is_long_enough_has_a_plain_id_and_never_shows() {
    let short = AuditKey::new("k1", Secret::new("short-value"), "TRADEHUB_AUDIT_KEY");
    let shown = short.expect_err("too short").to_string();
    assert!(
        shown.contains("TRADEHUB_AUDIT_KEY") && shown.contains("at least 32"),
        "{shown}"
    );
    assert!(!shown.contains("short-value"), "{shown}");
    for id in ["", "k 1", "k:1", &"k".repeat(65)] {
        assert!(
            AuditKey::new(id, Secret::new(SECRET), "test").is_err(),
            "{id:?}"
        );
    }
    let debug = format!("{:?}", keys());
    assert!(!debug.contains(SECRET), "{debug}");
}

#[test]
fn a_mac_holds_only_for_its_fields_its_domain_and_a_configured_key() {
    let keys = keys();
    let signature = keys.sign("entry", &["1", "", "ab"]);
    assert_eq!(signature.kid, "k1");
    assert!(keys.verify("entry", &["1", "", "ab"], &signature).is_ok());
    // Length prefixes: moving a byte between fields changes the MAC.
    assert!(keys.verify("entry", &["1", "a", "b"], &signature).is_err());
    assert!(keys.verify("anchor", &["1", "", "ab"], &signature).is_err());
    let other = AuditKeys::new(key("k1", &SECRET.replace('a', "b")), Vec::new());
    assert!(other.verify("entry", &["1", "", "ab"], &signature).is_err());
    let rotated = AuditKeys::new(
        key("k2", &SECRET.replace('a', "c")),
        vec![key("k1", SECRET)],
    );
    assert!(
        rotated
            .verify("entry", &["1", "", "ab"], &signature)
            .is_ok()
    );
    assert_eq!(rotated.sign("entry", &[]).kid, "k2");
    let not_hex = Signature {
        kid: "k1".to_owned(),
        mac: "zz".to_owned(),
    };
    assert!(keys.verify("entry", &["1", "", "ab"], &not_hex).is_err());
}

#[test]
fn ephemeral_keys_are_random() {
    let (a, b) = (AuditKeys::ephemeral(), AuditKeys::ephemeral());
    let signature = a.sign("entry", &["x"]);
    assert!(a.verify("entry", &["x"], &signature).is_ok());
    assert!(b.verify("entry", &["x"], &signature).is_err());
}

#[test]
fn an_anchor_verifies_until_a_head_changes() {
    let heads = BTreeMap::from([
        (0, Head::default()),
        (
            1,
            Head {
                seq: 4,
                hash: "ab".to_owned(),
            },
        ),
    ]);
    let anchor = Anchor::sign(&keys(), "node-a", 1_700_000_000_000, heads);
    assert!(anchor.verify(&keys()).is_ok());
    let text = serde_json::to_string(&anchor).expect("JSON");
    let back: Anchor = serde_json::from_str(&text).expect("read back");
    assert_eq!(back, anchor);
    let mut moved = anchor.clone();
    moved.heads.insert(
        1,
        Head {
            seq: 3,
            hash: "ab".to_owned(),
        },
    );
    assert!(moved.verify(&keys()).is_err());
    let mut renamed = anchor;
    renamed.node = "node-b".to_owned();
    assert!(renamed.verify(&keys()).is_err());
}

#[test]
fn the_anchor_file_reads_as_anchors_and_names_a_bad_line() {
    let folder = tempfile::tempdir().expect("a folder");
    let path = folder.path().join("anchors.jsonl");
    assert!(read_anchor_file(&path).expect("a missing file").is_empty());
    let anchor = Anchor::sign(&keys(), "node-a", 1, BTreeMap::new());
    let line = serde_json::to_string(&anchor).expect("JSON");
    std::fs::write(&path, format!("{line}\nnot json\n\n")).expect("written");
    let read = read_anchor_file(&path).expect("read");
    assert_eq!(read.len(), 2);
    assert_eq!(read[0].as_ref().ok(), Some(&anchor));
    assert!(
        read[1].as_ref().is_err_and(|e| e.contains("line 2")),
        "{read:?}"
    );
}

#[test]
fn keys_come_from_a_file_or_the_environment_they_name() {
    let folder = tempfile::tempdir().expect("a folder");
    std::fs::write(folder.path().join("audit.key"), format!("{SECRET}\n")).expect("written");
    let config = AuditConfig {
        key_file: Some("audit.key".into()),
        ..AuditConfig::default()
    };
    let from_file = config.keys(folder.path()).expect("read from the file");
    let signature = from_file.sign("entry", &["x"]);
    assert!(
        keys().verify("entry", &["x"], &signature).is_ok(),
        "whitespace trimmed"
    );

    let config = AuditConfig {
        key_env: "TRADEHUB_AUDIT_UNIT_TEST_UNSET_VARIABLE".to_owned(),
        ..AuditConfig::default()
    };
    let missing = config.keys(folder.path()).expect_err("unset").to_string();
    assert!(
        missing.contains("TRADEHUB_AUDIT_UNIT_TEST_UNSET_VARIABLE"),
        "{missing}"
    );
    let config = AuditConfig {
        key_file: Some("absent.key".into()),
        ..AuditConfig::default()
    };
    assert!(matches!(
        config.keys(folder.path()),
        Err(AuditKeyError::Unreadable { .. })
    ));
}
