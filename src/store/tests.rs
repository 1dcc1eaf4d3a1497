use redis::Value;
use tradehub_actors::envelope::Envelope;
use tradehub_actors::mailbox::{EntryId, StreamName};

use super::keys::{KeyError, Keys, parse_stream_suffix, stream_suffix};
use super::persistence::PersistenceInfo;
use super::reply::{self, RawEntry};
use super::scripts::Scripts;
use super::sealer::Sealer;

fn bulk(s: &str) -> Value {
    Value::BulkString(s.as_bytes().to_vec())
}

/// The hash-tag part Redis Cluster hashes: between the first `{` and the next `}`.
fn hash_tag(key: &str) -> &str {
    let open = key.find('{').expect("key has a hash tag");
    let close = key[open..].find('}').expect("hash tag is closed") + open;
    &key[open + 1..close]
}

#[test]
fn partition_keys_follow_the_design_layout() {
    let keys = Keys::new("th").unwrap();
    assert_eq!(keys.inbox(3), "th:{s3}:in");
    assert_eq!(
        keys.stream(3, &StreamName::Commands("broker-uk".into()))
            .unwrap(),
        "th:{s3}:cmd:broker-uk"
    );
    assert_eq!(keys.state(3, "SH-1"), "th:{s3}:st:SH-1");
    assert_eq!(keys.history(3, "SH-1"), "th:{s3}:hist:SH-1");
    assert_eq!(keys.timers(3), "th:{s3}:timers");
    assert_eq!(keys.dedupe(3, "k"), "th:{s3}:dedupe:k");
    assert_eq!(keys.dlq(3), "th:{s3}:dlq");
    assert_eq!(keys.audit(3), "th:{s3}:audit");
    assert_eq!(keys.lease(3), "th:{s3}:lease");
    assert_eq!(keys.nodes(), "th:{sys}:nodes");
    assert_eq!(keys.token("0a1b"), "th:{sys}:token:0a1b");
    assert_eq!(keys.tokens(), "th:{sys}:tokens");
}

#[test]
fn every_key_of_a_partition_hashes_to_one_slot() {
    let keys = Keys::new("custom").unwrap();
    // Keys and partner names with braces must not move the hash tag.
    let all = [
        keys.inbox(11),
        keys.stream(11, &StreamName::Commands("a{b}".into()))
            .unwrap(),
        keys.state(11, "{x}"),
        keys.history(11, "}y{"),
        keys.timers(11),
        keys.timer_seq(11),
        keys.dedupe(11, "{z"),
        keys.dlq(11),
        keys.audit(11),
        keys.audit_head(11),
        keys.lease(11),
    ];
    for key in &all {
        assert!(key.starts_with("custom:"), "{key}");
        assert_eq!(hash_tag(key), "s11", "{key}");
    }
    assert_eq!(hash_tag(&keys.sys("nodes")), "sys");
}

#[test]
fn prefixes_that_would_break_the_layout_are_refused() {
    for bad in ["", "a:b", "{th}", "t h", "x\n"] {
        assert_eq!(
            Keys::new(bad),
            Err(KeyError::Prefix(bad.to_owned())),
            "{bad:?}"
        );
    }
    assert_eq!(
        Keys::new("tradehub-test_1").unwrap().prefix(),
        "tradehub-test_1"
    );
}

#[test]
fn stream_suffixes_round_trip() {
    for stream in [StreamName::Inbox, StreamName::Commands("odoo:main".into())] {
        let suffix = stream_suffix(&stream).unwrap();
        assert_eq!(parse_stream_suffix(&suffix).unwrap(), stream);
    }
    assert!(matches!(
        stream_suffix(&StreamName::Commands("bad\nname".into())),
        Err(KeyError::Partner(_))
    ));
    assert!(matches!(
        stream_suffix(&StreamName::Commands(String::new())),
        Err(KeyError::Partner(_))
    ));
    for bad in ["", "cmd:", "inbox", "dlq"] {
        assert!(
            matches!(parse_stream_suffix(bad), Err(KeyError::Stream(_))),
            "{bad:?}"
        );
    }
}

#[test]
fn scripts_have_distinct_hashes() {
    let scripts = Scripts::new();
    let mut hashes: Vec<&str> = scripts.all().iter().map(|s| s.get_hash()).collect();
    hashes.sort_unstable();
    hashes.dedup();
    assert_eq!(hashes.len(), scripts.all().len());
}

#[test]
fn read_replies_decode_in_both_protocol_shapes() {
    let envelope = Envelope::new("m1", "SH-1", "test", serde_json::json!({"n": 1}));
    let raw = serde_json::to_string(&envelope).unwrap();
    let entry = Value::Array(vec![bulk("5-0"), Value::Array(vec![bulk("e"), bulk(&raw)])]);
    let resp2 = Value::Array(vec![Value::Array(vec![
        bulk("th:{s0}:in"),
        Value::Array(vec![entry.clone()]),
    ])]);
    let resp3 = Value::Map(vec![(bulk("th:{s0}:in"), Value::Array(vec![entry]))]);
    for reply_value in [resp2, resp3] {
        let entries = reply::read_reply(reply_value).unwrap();
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].entry_id(), EntryId("5-0".into()));
        assert_eq!(entries[0].envelope(&Sealer::off()).unwrap(), envelope);
    }
    assert!(reply::read_reply(Value::Nil).unwrap().is_empty());
    assert!(reply::read_reply(Value::Int(3)).is_err());
}

#[test]
fn poison_entries_say_what_is_wrong() {
    let no_field = RawEntry {
        id: "1-0".into(),
        fields: vec![("x".into(), "y".into())],
    };
    assert!(
        no_field
            .envelope(&Sealer::off())
            .unwrap_err()
            .contains("no `e` field")
    );
    let garbage = RawEntry {
        id: "1-1".into(),
        fields: vec![("e".into(), "{not json".into())],
    };
    assert!(
        garbage
            .envelope(&Sealer::off())
            .unwrap_err()
            .starts_with("undecodable envelope")
    );
}

#[test]
fn persistence_is_judged_from_aof_or_snapshots() {
    let info = |aof: bool, save: Option<&str>| PersistenceInfo {
        aof_enabled: aof,
        appendfsync: Some("everysec".into()),
        save: save.map(str::to_owned),
        aof_last_write_ok: true,
        rdb_last_save_ok: true,
    };
    assert!(info(true, Some("")).is_persistent());
    assert!(info(false, Some("3600 1")).is_persistent());
    assert!(!info(false, Some("")).is_persistent());
    assert!(!info(false, None).is_persistent());
    assert!(info(false, Some("")).describe().contains("no persistence"));
    assert!(info(true, None).describe().contains("everysec"));
}

#[test]
fn node_wide_keys_keep_their_names() {
    let keys = Keys::new("th").unwrap();
    assert_eq!(keys.lrns(), "th:{sys}:lrn");
    assert_eq!(
        keys.shipment_references("carrier-dcsa"),
        "th:{sys}:shipref:carrier-dcsa"
    );
    assert_eq!(
        keys.callback_signature("rest-broker", "ab12"),
        "th:{sys}:callbacks:seen:rest-broker:ab12"
    );
    assert_eq!(keys.edi_control("edi-b"), "th:{sys}:edi:edi-b:ctrl");
    assert_eq!(keys.edi_interchanges("edi-b"), "th:{sys}:edi:edi-b:icref");
    assert_eq!(keys.partner_statuses("b"), "th:{sys}:partner:b:status");
    assert_eq!(keys.partner_documents("b"), "th:{sys}:partner:b:doc");
    assert_eq!(keys.rejected_callbacks(), "th:{sys}:callbacks:rejected");
    assert_eq!(keys.finance_dossier("L1"), "th:{sys}:finance:L1");
    assert_eq!(keys.finance_retry(), "th:{sys}:finance:retry");
    assert_eq!(keys.echo_calls(), "th:{sys}:echo:calls");
    assert_eq!(
        keys.odoo_cursor("db", "stock.picking"),
        "th:{sys}:odoo:cursor:db:stock.picking"
    );
    assert_eq!(
        keys.odoo_seen("db", "stock.picking"),
        "th:{sys}:odoo:seen:db:stock.picking"
    );
}

#[test]
fn command_calls_are_read_per_command() {
    let info = "# Commandstats\r\n\
        cmdstat_xadd:calls=12,usec=40,usec_per_call=3.33,rejected_calls=0,failed_calls=0\r\n\
        cmdstat_evalsha:calls=7,usec=90,usec_per_call=12.86,rejected_calls=1,failed_calls=0\r\n";
    let calls = super::server::command_calls(info);
    assert_eq!(calls.len(), 2);
    assert_eq!(calls["xadd"], 12);
    assert_eq!(calls["evalsha"], 7);
}
