//! Encryption at rest against a private `redis-server`: with a key configured, every value that
//! carries business data is sealed (a scan of every key, field and entry finds no party name nor
//! screening hit), reads give the values back, a tampered or moved value is refused, and a
//! rotation leaves nothing mutable under the old key.

use redis::Value;
use serde_json::json;
use tradehub::secret::Secret;
use tradehub::store::callbacks::{self, RejectedCallback};
use tradehub::store::finance::Dossiers;
use tradehub::store::lrn_ledger::Ledger;
use tradehub::store::{RedisMailbox, Sealer, StoreConfig};
use tradehub_actors::envelope::Envelope;
use tradehub_actors::mailbox::{Commit, CommitOutcome, Delivery, Mailbox, MailboxOps, StreamName};
use tradehub_actors::saga::{Command, Timer};

use crate::common::redis::{RedisServer, unique_prefix};

/// A party name and a screening hit that must never reach Redis in clear.
const PARTY: &str = "Rosoboronexport OAO";
const HIT: &str = "KALASHNIKOV CONCERN";
const P: u16 = 3;
const K1: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
const K2: &str = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=";

fn sealer(current: &str, ids: &[&str]) -> Sealer {
    let (k1, k2) = (Secret::new(K1), Secret::new(K2));
    let keys: Vec<(&str, &Secret)> = ids
        .iter()
        .map(|id| (*id, if *id == "k1" { &k1 } else { &k2 }))
        .collect();
    Sealer::from_keys(current, &keys).expect("test keys")
}

async fn mailbox(server: &RedisServer, prefix: &str, sealer: Sealer) -> RedisMailbox {
    RedisMailbox::connect(
        StoreConfig {
            sealer,
            ..StoreConfig::with_url(server.url())
        }
        .prefix(prefix),
    )
    .await
    .expect("connect to the test redis-server")
}

async fn raw(url: &str) -> redis::aio::MultiplexedConnection {
    redis::Client::open(url)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

fn collect_bytes(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::BulkString(bytes) => {
            out.extend_from_slice(bytes);
            out.push(b'\n');
        }
        Value::SimpleString(s) => out.extend_from_slice(s.as_bytes()),
        Value::Array(items) | Value::Set(items) => {
            items.iter().for_each(|item| collect_bytes(item, out));
        }
        Value::Map(pairs) => {
            for (k, v) in pairs {
                collect_bytes(k, out);
                collect_bytes(v, out);
            }
        }
        _ => {}
    }
}

/// Every key under `prefix` with everything it holds (SCAN, TYPE, then HGETALL, XRANGE, GET,
/// ZRANGE, SMEMBERS or LRANGE), as bytes.
pub async fn dump(url: &str, prefix: &str) -> Vec<(String, Vec<u8>)> {
    let mut conn = raw(url).await;
    let mut cursor = 0u64;
    let mut out = Vec::new();
    loop {
        let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(format!("{prefix}:*"))
            .arg("COUNT")
            .arg(200)
            .query_async(&mut conn)
            .await
            .unwrap();
        for key in keys {
            let kind: String = redis::cmd("TYPE")
                .arg(&key)
                .query_async(&mut conn)
                .await
                .unwrap();
            let mut cmd = match kind.as_str() {
                "hash" => redis::cmd("HGETALL"),
                "stream" => redis::cmd("XRANGE"),
                "string" => redis::cmd("GET"),
                "zset" => redis::cmd("ZRANGE"),
                "set" => redis::cmd("SMEMBERS"),
                "list" => redis::cmd("LRANGE"),
                other => panic!("{key} has type {other}, which the scan does not read"),
            };
            cmd.arg(&key);
            match kind.as_str() {
                "stream" => cmd.arg("-").arg("+"),
                "zset" => cmd.arg(0).arg(-1).arg("WITHSCORES"),
                "list" => cmd.arg(0).arg(-1),
                _ => &mut cmd,
            };
            let value: Value = cmd.query_async(&mut conn).await.unwrap();
            let mut bytes = key.as_bytes().to_vec();
            bytes.push(b'\n');
            collect_bytes(&value, &mut bytes);
            out.push((key, bytes));
        }
        cursor = next;
        if cursor == 0 {
            return out;
        }
    }
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    let needle = needle.to_lowercase();
    String::from_utf8_lossy(haystack)
        .to_lowercase()
        .contains(&needle)
}

/// Scan Redis under `prefix`: none of `needles` appears anywhere (case-insensitive), and sealed
/// values do (so the scan saw the data). Returns how many keys it read.
pub async fn assert_nothing_in_clear(url: &str, prefix: &str, needles: &[&str]) -> usize {
    let all = dump(url, prefix).await;
    for (key, bytes) in &all {
        for needle in needles {
            assert!(
                !contains(bytes, needle),
                "{needle:?} is in clear in {key}: {}",
                String::from_utf8_lossy(bytes)
            );
        }
    }
    assert!(
        all.iter().any(|(_, bytes)| contains(bytes, "enc:v1:")),
        "no sealed value under {prefix}: the scan read nothing that matters"
    );
    all.len()
}

/// A commit for `key` creating its state, with a history entry, an audit entry, a command to
/// `screening` and a timer, each carrying the party name or the hit.
fn commit(key: &str, ack: Option<tradehub_actors::mailbox::EntryId>) -> Commit {
    Commit {
        partition: P,
        key: key.to_owned(),
        expected_ver: 0,
        state: json!({ "consignee": PARTY, "status": "SCREENING" }).to_string(),
        terminal: false,
        history: vec![json!({ "screening": { "hit": HIT } }).to_string()],
        audit: vec![json!({ "override": { "party": PARTY } }).to_string()],
        commands: vec![Command {
            partner: "screening".to_owned(),
            envelope: Envelope::new(
                format!("cmd-{key}"),
                key,
                "screening.request",
                json!({ "name": PARTY }),
            ),
        }],
        timers: vec![Timer {
            due_ms: 4_000_000_000_000,
            envelope: Envelope::new(format!("t-{key}"), key, "timer.sla", json!({ "hit": HIT })),
        }],
        ack,
    }
}

async fn one(mb: &RedisMailbox, stream: &StreamName) -> Delivery {
    let mut read = mb.read(P, stream, "c1", 10, 0).await.unwrap();
    assert_eq!(read.len(), 1, "{read:?}");
    read.remove(0)
}

/// Write one of everything that carries business data: an input, a commit (state, history,
/// audit, command, timer), a dead letter, a rejected callback, ledger entries, a dossier.
async fn write_everything(mb: &RedisMailbox, key: &str) {
    mb.ensure_streams(P, &[StreamName::Inbox]).await.unwrap();
    let input = Envelope::new(
        format!("in-{key}"),
        key,
        "odoo.picking.changed",
        json!({ "partner": PARTY }),
    );
    mb.ingest(P, &input, None).await.unwrap();
    let delivered = one(mb, &StreamName::Inbox).await;
    assert_eq!(delivered.envelope.as_ref().unwrap(), &input);
    let outcome = mb
        .commit(&commit(key, Some(delivered.entry_id)))
        .await
        .unwrap();
    assert!(
        matches!(outcome, CommitOutcome::Committed { ver: 1 }),
        "{outcome:?}"
    );
    let lrn = format!("LRN-{key}");
    let ledger = Ledger::of(mb);
    ledger.record_lrn(&lrn, key, "rest-broker").await.unwrap();
    ledger
        .record_status("rest-broker", &lrn, &json!({ "hit": HIT }))
        .await
        .unwrap();
    ledger
        .record_document("rest-broker", &lrn, &json!({ "consignee": PARTY }))
        .await
        .unwrap();
    let dossiers = Dossiers::of(mb);
    dossiers
        .keep(&lrn, key, "assessment", &json!({ "importer": PARTY }))
        .await
        .unwrap();
    dossiers
        .record_outcome(&lrn, &json!({ "note": HIT }))
        .await
        .unwrap();
    callbacks::keep_rejected(mb, &rejected(key)).await.unwrap();
}

fn rejected(key: &str) -> RejectedCallback {
    RejectedCallback::new(
        "rest-broker",
        format!("{key}: unknown consignee {PARTY}"),
        "2026-12-05T12:00:00Z".to_owned(),
        format!("<Declaration><Consignee>{PARTY}</Consignee></Declaration>").as_bytes(),
    )
}

#[tokio::test]
async fn sealed_values_read_back_and_redis_holds_no_party_name_nor_hit() {
    let server = RedisServer::start();
    let prefix = unique_prefix("enc");
    let mb = mailbox(&server, &prefix, sealer("k1", &["k1"])).await;
    write_everything(&mb, "SH-1").await;

    // Every read gives the value back in clear.
    let stored = mb.load(P, "SH-1").await.unwrap();
    assert_eq!(stored.ver, 1);
    assert!(stored.state.unwrap().contains(PARTY));
    let history = mb.history(P, "SH-1").await.unwrap();
    assert!(history[0].contains(HIT), "{history:?}");
    let command = one(&mb, &StreamName::Commands("screening".into())).await;
    assert_eq!(command.envelope.as_ref().unwrap().body["name"], PARTY);
    let timers = mb.timers(P).await.unwrap();
    assert!(timers[0].raw.contains(HIT), "{timers:?}");
    let audit = mb.audit_entries(P).await.unwrap();
    assert!(
        !audit[0].data.contains(PARTY),
        "the chain covers the sealed data"
    );
    assert!(mb.open_audit_data(P, &audit[0]).unwrap().contains(PARTY));
    assert_eq!(mb.verify_audit(P).await.unwrap(), 1);
    mb.dead_letter(&command, "poison for the test", 1)
        .await
        .unwrap();
    let letters = mb.dead_letters(P).await.unwrap();
    assert!(letters[0].raw.contains(PARTY), "{letters:?}");
    let ledger = Ledger::of(&mb);
    assert_eq!(
        ledger
            .last_document("rest-broker", "LRN-SH-1")
            .await
            .unwrap(),
        Some(json!({ "consignee": PARTY }))
    );
    assert_eq!(
        ledger.last_status("rest-broker", "LRN-SH-1").await.unwrap(),
        Some(json!({ "hit": HIT }))
    );
    assert_eq!(
        ledger.lrn_key("LRN-SH-1").await.unwrap().as_deref(),
        Some("SH-1")
    );
    let dossier = Dossiers::of(&mb)
        .dossier::<serde_json::Value>("LRN-SH-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(dossier.documents, vec![json!({ "importer": PARTY })]);
    assert_eq!(
        callbacks::rejected(&mb).await.unwrap(),
        vec![rejected("SH-1")]
    );

    let keys = assert_nothing_in_clear(&server.url(), &prefix, &[PARTY, HIT]).await;
    assert!(keys >= 10, "only {keys} keys written");
}

#[tokio::test]
async fn a_tampered_or_moved_value_is_refused_naming_the_record_not_its_content() {
    let server = RedisServer::start();
    let prefix = unique_prefix("enc");
    let mb = mailbox(&server, &prefix, sealer("k1", &["k1"])).await;
    for key in ["SH-1", "SH-2"] {
        mb.commit(&Commit {
            ack: None,
            commands: Vec::new(),
            timers: Vec::new(),
            ..commit(key, None)
        })
        .await
        .unwrap();
    }
    let mut conn = raw(&server.url()).await;
    let st = |key: &str| mb.keys().state(P, key);
    let sealed: String = redis::cmd("HGET")
        .arg(st("SH-1"))
        .arg("state")
        .query_async(&mut conn)
        .await
        .unwrap();
    // SH-1's state copied over SH-2's: it does not open there.
    let _: () = redis::cmd("HSET")
        .arg(st("SH-2"))
        .arg("state")
        .arg(&sealed)
        .query_async(&mut conn)
        .await
        .unwrap();
    let moved = mb.load(P, "SH-2").await.unwrap_err().to_string();
    assert!(moved.contains("{s3}:st:SH-2 field state"), "{moved}");
    assert!(moved.contains("does not authenticate"), "{moved}");
    assert!(!moved.contains("Rosoboronexport"), "{moved}");
    // One character of SH-1's ciphertext changed.
    let mut bytes = sealed.into_bytes();
    let at = bytes.len() - 5;
    bytes[at] = if bytes[at] == b'x' { b'y' } else { b'x' };
    let _: () = redis::cmd("HSET")
        .arg(st("SH-1"))
        .arg("state")
        .arg(bytes)
        .query_async(&mut conn)
        .await
        .unwrap();
    let tampered = mb.load(P, "SH-1").await.unwrap_err().to_string();
    assert!(tampered.contains("st:SH-1 field state"), "{tampered}");
    assert!(!tampered.contains("Rosoboronexport"), "{tampered}");
    // A ledger document moved to another LRN.
    let ledger = Ledger::of(&mb);
    ledger
        .record_document("rest-broker", "LRN-A", &json!({ "consignee": PARTY }))
        .await
        .unwrap();
    let documents = mb.keys().partner_documents("rest-broker");
    let doc: Option<String> = redis::cmd("HGET")
        .arg(&documents)
        .arg("LRN-A")
        .query_async(&mut conn)
        .await
        .unwrap();
    let doc = doc.expect("the document is stored under its LRN");
    let _: () = redis::cmd("HSET")
        .arg(&documents)
        .arg("LRN-B")
        .arg(doc)
        .query_async(&mut conn)
        .await
        .unwrap();
    let error = ledger
        .last_document("rest-broker", "LRN-B")
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("field LRN-B"), "{error}");
    assert!(!error.contains("Rosoboronexport"), "{error}");
}

#[tokio::test]
async fn rotation_reseals_every_mutable_value_and_leaves_streams_under_their_key() {
    let server = RedisServer::start();
    let prefix = unique_prefix("enc");
    let old = mailbox(&server, &prefix, sealer("k1", &["k1"])).await;
    write_everything(&old, "SH-1").await;
    let before = old.key_usage(100).await.unwrap();
    assert!(
        before.mutable.get("k1").copied().unwrap_or(0) >= 6,
        "{before:?}"
    );
    assert!(!before.mutable.contains_key("k2"), "{before:?}");

    // k2 becomes current: k1's values still read, new ones are sealed under k2.
    let rotated = mailbox(&server, &prefix, sealer("k2", &["k1", "k2"])).await;
    assert!(
        rotated
            .load(P, "SH-1")
            .await
            .unwrap()
            .state
            .unwrap()
            .contains(PARTY)
    );
    rotated.commit(&commit("SH-2", None)).await.unwrap();
    let mut batches = 0;
    let report = rotated
        .rotate_keys(0, 3, &mut |_| batches += 1)
        .await
        .unwrap();
    assert!(report.resealed >= 6, "{report:?}");
    assert_eq!(report.left_behind(), 0, "{report:?}");
    assert_eq!(report.cursor, 0);
    assert!(batches > 1, "small batches page through the keyspace");
    let after = rotated.key_usage(100).await.unwrap();
    assert!(!after.mutable.contains_key("k1"), "{after:?}");
    assert!(
        after.immutable.get("k1").copied().unwrap_or(0) >= 3,
        "{after:?}"
    );
    // Resumable: a second run finds nothing left to do.
    let again = rotated.rotate_keys(0, 100, &mut |_| {}).await.unwrap();
    assert_eq!(again.resealed, 0, "{again:?}");

    // Without k1, every mutable value still reads; only stream entries still need k1.
    let only_k2 = mailbox(&server, &prefix, sealer("k2", &["k2"])).await;
    assert!(
        only_k2
            .load(P, "SH-1")
            .await
            .unwrap()
            .state
            .unwrap()
            .contains(PARTY)
    );
    assert!(
        only_k2
            .timers(P)
            .await
            .unwrap()
            .iter()
            .all(|t| t.raw.contains(HIT))
    );
    let ledger = Ledger::of(&only_k2);
    assert_eq!(
        ledger
            .last_document("rest-broker", "LRN-SH-1")
            .await
            .unwrap(),
        Some(json!({ "consignee": PARTY }))
    );
    assert_eq!(
        ledger.lrn_key("LRN-SH-1").await.unwrap().as_deref(),
        Some("SH-1")
    );
    let dossier = Dossiers::of(&only_k2)
        .dossier::<serde_json::Value>("LRN-SH-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(dossier.documents.len(), 1);
    let history = only_k2.history(P, "SH-1").await.unwrap_err().to_string();
    assert!(history.contains("sealed under key \"k1\""), "{history}");
    assert!(history.contains("hist:SH-1"), "{history}");
}
