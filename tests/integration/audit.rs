//! The audit trail as an attacker would go at it, with write access to Redis but not to the audit
//! key or the anchor file: an entry edited and the chain re-computed without the key, a stream
//! deleted with its head, a tail cut off, entries reordered, removed or inserted, a wrong key; and that
//! concurrent writers of one partition still make one chain, that a trimmed chain verifies from
//! a signed base, and that an API action's entry names the principal and the source address.

use redis::aio::MultiplexedConnection;
use serde_json::Value;
use sha2::Digest;
use tradehub::auth::Role;
use tradehub::secret::Secret;
use tradehub::store::{
    AuditEntry, AuditError, AuditKey, AuditKeys, Head, RedisMailbox, StoreConfig, TrailReport,
};
use tradehub_actors::mailbox::{Commit, CommitOutcome, Mailbox, Partition};

use crate::auth::{TestHub, submission};
use crate::common::redis::{RedisServer, unique_prefix};

const PARTITIONS: Partition = 16;

fn keys(id: &str, secret: &str) -> AuditKeys {
    AuditKeys::new(
        AuditKey::new(id, Secret::new(secret), "test").expect("a usable key"),
        Vec::new(),
    )
}

pub(crate) fn the_key() -> AuditKeys {
    keys("k1", "the-audit-integration-tests-key-0123456789")
}

/// A Redis, a mailbox signing with [`the_key`], a raw connection and a folder for anchors.
struct Trail {
    server: RedisServer,
    mb: RedisMailbox,
    conn: MultiplexedConnection,
    folder: tempfile::TempDir,
}

impl Trail {
    async fn start() -> Self {
        let server = RedisServer::start();
        let prefix = unique_prefix("audit");
        let mb = view(&server, &prefix, the_key()).await;
        let conn = redis::Client::open(server.url())
            .expect("redis url")
            .get_multiplexed_async_connection()
            .await
            .expect("a raw connection");
        Self {
            server,
            mb,
            conn,
            folder: tempfile::tempdir().expect("a folder"),
        }
    }

    fn anchor_file(&self) -> std::path::PathBuf {
        self.folder.path().join("anchors.jsonl")
    }

    /// Commit `n` transitions on fresh keys of `partition`, one audit entry each.
    async fn commits(&self, partition: Partition, n: usize) {
        for i in 0..n {
            let key = format!("SH-{partition}-{i}");
            let data = format!("{{\"actor\":\"ana\",\"action\":\"override\",\"n\":{i}}}");
            assert_eq!(
                commit(&self.mb, partition, &key, vec![data]).await,
                CommitOutcome::Committed { ver: 1 }
            );
        }
    }

    async fn anchor(&self) {
        self.mb
            .anchor("node-a", PARTITIONS, &self.anchor_file())
            .await
            .expect("anchored");
    }

    async fn trail(&self) -> TrailReport {
        self.mb
            .verify_trail(PARTITIONS, &self.anchor_file())
            .await
            .expect("verified")
    }

    async fn entries(&self, partition: Partition) -> Vec<AuditEntry> {
        self.mb.audit_entries(partition).await.expect("entries")
    }

    /// Replace the audit stream of `partition` with `entries` (under their ids) and point its
    /// head at the last one, as someone with write access to Redis can.
    async fn rewrite(&mut self, partition: Partition, entries: &[AuditEntry]) {
        let stream = self.mb.keys().audit(partition);
        let mut pipe = redis::pipe();
        pipe.cmd("DEL").arg(&stream);
        for e in entries {
            pipe.cmd("XADD")
                .arg(&stream)
                .arg(&e.id.0)
                .arg("seq")
                .arg(e.seq)
                .arg("prev")
                .arg(&e.prev)
                .arg("at")
                .arg(e.at_ms)
                .arg("key")
                .arg(&e.key)
                .arg("data")
                .arg(&e.data)
                .arg("hash")
                .arg(&e.hash)
                .arg("kid")
                .arg(&e.kid);
        }
        let last = entries.last().expect("entries");
        pipe.cmd("HSET")
            .arg(self.mb.keys().audit_head(partition))
            .arg("seq")
            .arg(last.seq)
            .arg("hash")
            .arg(&last.hash);
        let () = pipe.query_async(&mut self.conn).await.expect("rewritten");
    }

    async fn del(&mut self, keys: &[String]) {
        let _: i64 = redis::cmd("DEL")
            .arg(keys)
            .query_async(&mut self.conn)
            .await
            .expect("deleted");
    }
}

pub(crate) async fn view(server: &RedisServer, prefix: &str, keys: AuditKeys) -> RedisMailbox {
    RedisMailbox::connect_audited(StoreConfig::with_url(server.url()).prefix(prefix), keys)
        .await
        .expect("connect to the test redis-server")
}

pub(crate) async fn commit(
    mb: &RedisMailbox,
    partition: Partition,
    key: &str,
    audit: Vec<String>,
) -> CommitOutcome {
    let commit = Commit {
        partition,
        key: key.to_owned(),
        expected_ver: 0,
        state: "{}".to_owned(),
        terminal: false,
        history: Vec::new(),
        audit,
        commands: Vec::new(),
        timers: Vec::new(),
        ack: None,
    };
    mb.commit(&commit).await.expect("committed")
}

/// The length-prefixed fields the old unkeyed chain hashed.
fn unkeyed_text(e: &AuditEntry) -> String {
    [
        e.seq.to_string(),
        e.prev.clone(),
        e.at_ms.to_string(),
        e.key.clone(),
        e.data.clone(),
    ]
    .iter()
    .map(|f| format!("{}:{f}", f.len()))
    .collect()
}

fn sha1_hex(text: &str) -> String {
    sha1_smol::Sha1::from(text.as_bytes()).digest().to_string()
}

fn sha256_hex(text: &str) -> String {
    hex::encode(sha2::Sha256::digest(text.as_bytes()))
}

/// Re-link and re-hash `entries` from `from` on, with an unkeyed hash.
fn rechain(entries: &mut [AuditEntry], from: usize, hash: fn(&str) -> String) {
    for i in from..entries.len() {
        let prev = if i == 0 {
            String::new()
        } else {
            entries[i - 1].hash.clone()
        };
        entries[i].prev = prev;
        entries[i].hash = hash(&unkeyed_text(&entries[i]));
    }
}

fn broken(result: Result<u64, AuditError>) -> tradehub::store::AuditBreak {
    match result {
        Err(AuditError::Broken(at)) => at,
        other => panic!("the chain must not verify, got {other:?}"),
    }
}

#[tokio::test]
async fn an_entry_edited_and_rechained_without_the_key_is_named() {
    let mut trail = Trail::start().await;
    for (partition, hash) in [(1, sha1_hex as fn(&str) -> String), (2, sha256_hex)] {
        trail.commits(partition, 5).await;
        assert_eq!(trail.mb.verify_audit(partition).await.expect("intact"), 5);
        let mut entries = trail.entries(partition).await;
        entries[2].data =
            "{\"actor\":\"mallory\",\"action\":\"override\",\"reason\":\"invented\"}".to_owned();
        rechain(&mut entries, 2, hash);
        trail.rewrite(partition, &entries).await;
        let at = broken(trail.mb.verify_audit(partition).await);
        assert_eq!(
            (at.partition, at.at.as_str(), at.seq),
            (partition, entries[2].id.0.as_str(), 3),
            "{at}"
        );
        assert!(at.reason.contains("MAC does not match"), "{at}");
    }
}

#[tokio::test]
async fn a_stream_deleted_with_its_head_is_caught_by_the_anchor() {
    let mut trail = Trail::start().await;
    trail.commits(3, 3).await;
    trail.commits(4, 2).await;
    trail.anchor().await;
    assert!(trail.trail().await.is_intact());
    let (stream, head) = (trail.mb.keys().audit(3), trail.mb.keys().audit_head(3));
    trail.del(&[stream, head]).await;
    assert_eq!(
        trail.mb.verify_audit(3).await.expect("an empty chain"),
        0,
        "the chain alone cannot tell a deleted stream from an empty one"
    );
    let report = trail.trail().await;
    assert!(!report.is_intact());
    let at = report.partitions[3]
        .broken
        .as_ref()
        .expect("partition 3 fails");
    assert_eq!((at.partition, at.seq), (3, 3), "{at}");
    assert!(at.at.contains("anchor of node-a"), "{at}");
    assert!(at.reason.contains("short of the anchored"), "{at}");
    assert!(report.partitions[4].broken.is_none(), "{report:?}");
}

#[tokio::test]
async fn a_truncated_tail_is_caught_by_the_anchor() {
    let mut trail = Trail::start().await;
    trail.commits(5, 4).await;
    trail.anchor().await;
    let entries = trail.entries(5).await;
    trail.rewrite(5, &entries[..2]).await;
    assert_eq!(trail.mb.verify_audit(5).await.expect("a shorter chain"), 2);
    let report = trail.trail().await;
    let at = report.partitions[5]
        .broken
        .as_ref()
        .expect("partition 5 fails");
    assert_eq!(at.seq, 4, "{at}");
    assert!(at.reason.contains("ends at position 2"), "{at}");
}

#[tokio::test]
async fn reordered_or_inserted_entries_are_named() {
    let mut trail = Trail::start().await;
    trail.commits(6, 4).await;
    let entries = trail.entries(6).await;
    let mut swapped = entries.clone();
    swapped.swap(1, 2);
    (swapped[1].id, swapped[2].id) = (entries[1].id.clone(), entries[2].id.clone());
    trail.rewrite(6, &swapped).await;
    let at = broken(trail.mb.verify_audit(6).await);
    assert_eq!(
        (at.at.as_str(), at.seq),
        (entries[1].id.0.as_str(), 2),
        "{at}"
    );
    let mut removed = entries.clone();
    removed.remove(1);
    trail.rewrite(6, &removed).await;
    let at = broken(trail.mb.verify_audit(6).await);
    assert_eq!(
        (at.at.as_str(), at.seq),
        (entries[2].id.0.as_str(), 2),
        "an entry removed from the middle: {at}"
    );

    trail.commits(7, 3).await;
    let entries = trail.entries(7).await;
    let forger = keys("k1", "a-key-someone-made-up-for-the-forgery-0001");
    let mut forged = entries[1].clone();
    forged.data = "{\"actor\":\"mallory\",\"action\":\"override\"}".to_owned();
    let fields = [
        "7".to_owned(),
        "2".to_owned(),
        forged.prev.clone(),
        forged.at_ms.to_string(),
        forged.key.clone(),
        forged.data.clone(),
    ];
    let fields: Vec<&str> = fields.iter().map(String::as_str).collect();
    forged.hash = forger.sign("tradehub-audit-entry-v1", &fields).mac;
    let mut inserted = vec![entries[0].clone(), forged];
    inserted.extend(entries[1..].iter().cloned().map(|mut e| {
        e.seq += 1;
        e
    }));
    for (i, e) in inserted.iter_mut().enumerate() {
        e.id.0 = format!("1-{}", i + 1);
    }
    trail.rewrite(7, &inserted).await;
    let at = broken(trail.mb.verify_audit(7).await);
    assert_eq!((at.at.as_str(), at.seq), ("1-2", 2), "{at}");
    assert!(at.reason.contains("MAC does not match"), "{at}");
}

#[tokio::test]
async fn a_wrong_key_fails_and_a_rotated_one_verifies() {
    let trail = Trail::start().await;
    trail.commits(8, 2).await;
    let prefix = trail.mb.keys().prefix().to_owned();
    let wrong = view(
        &trail.server,
        &prefix,
        keys("k1", "not-the-key-the-trail-was-signed-with!!"),
    )
    .await;
    let at = broken(wrong.verify_audit(8).await);
    assert_eq!(at.seq, 1, "{at}");
    assert!(at.reason.contains("MAC does not match"), "{at}");
    let unknown = view(
        &trail.server,
        &prefix,
        keys("k2", "the-next-key-after-a-rotation-0123456"),
    )
    .await;
    let at = broken(unknown.verify_audit(8).await);
    assert!(at.reason.contains("not configured"), "{at}");

    let rotated = AuditKeys::new(
        AuditKey::new(
            "k2",
            Secret::new("the-next-key-after-a-rotation-0123456"),
            "test",
        )
        .expect("usable"),
        vec![
            AuditKey::new(
                "k1",
                Secret::new("the-audit-integration-tests-key-0123456789"),
                "test",
            )
            .expect("usable"),
        ],
    );
    let rotated = view(&trail.server, &prefix, rotated).await;
    assert_eq!(
        commit(&rotated, 8, "SH-after-rotation", vec!["{}".to_owned()]).await,
        CommitOutcome::Committed { ver: 1 }
    );
    assert_eq!(rotated.verify_audit(8).await.expect("both keys verify"), 3);
    let kids: Vec<String> = trail.entries(8).await.into_iter().map(|e| e.kid).collect();
    assert_eq!(kids, ["k1", "k1", "k2"]);
    assert!(
        !format!("{:?}", rotated.config()).contains("rotation-0123456")
            && !format!("{rotated:?}").contains("rotation-0123456"),
        "no key in Debug output"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writers_of_one_partition_make_one_chain() {
    let trail = Trail::start().await;
    let prefix = trail.mb.keys().prefix().to_owned();
    // Two mailboxes with heads cached apart, as two nodes during a lease move.
    let other = view(&trail.server, &prefix, the_key()).await;
    let mut tasks = Vec::new();
    for (name, mb) in [("a", trail.mb.clone()), ("b", other)] {
        for i in 0..15 {
            let mb = mb.clone();
            tasks.push(tokio::spawn(async move {
                let entries = vec![format!("{{\"n\":{i},\"w\":\"{name}\"}}"); 2];
                commit(&mb, 9, &format!("SH-{name}-{i}"), entries).await
            }));
        }
    }
    for task in tasks {
        assert_eq!(
            task.await.expect("joined"),
            CommitOutcome::Committed { ver: 1 }
        );
    }
    assert_eq!(trail.mb.verify_audit(9).await.expect("one chain"), 60);
    let keys: std::collections::BTreeSet<String> =
        trail.entries(9).await.into_iter().map(|e| e.key).collect();
    assert_eq!(keys.len(), 30, "every commit's entries are there");
}

#[tokio::test]
async fn a_trimmed_chain_verifies_from_a_signed_base_only() {
    let mut trail = Trail::start().await;
    trail.commits(10, 5).await;
    trail.anchor().await;
    let entries = trail.entries(10).await;
    let base = Head {
        seq: 3,
        hash: entries[2].hash.clone(),
    };
    let signature = trail.mb.sign_audit_base(10, &base);
    let base_key = trail.mb.keys().audit_base(10);
    let _: () = redis::cmd("HSET")
        .arg(&base_key)
        .arg("seq")
        .arg(base.seq)
        .arg("hash")
        .arg(&base.hash)
        .arg("kid")
        .arg(&signature.kid)
        .arg("mac")
        .arg(&signature.mac)
        .query_async(&mut trail.conn)
        .await
        .expect("base written");
    let ids: Vec<&str> = entries[..3].iter().map(|e| e.id.0.as_str()).collect();
    let _: i64 = redis::cmd("XDEL")
        .arg(trail.mb.keys().audit(10))
        .arg(&ids)
        .query_async(&mut trail.conn)
        .await
        .expect("trimmed");
    assert_eq!(
        trail
            .mb
            .verify_audit(10)
            .await
            .expect("verifies from the base"),
        2
    );
    assert!(trail.trail().await.is_intact());

    // A base moved to hide a trimmed-away gap does not hold.
    let _: () = redis::cmd("HSET")
        .arg(&base_key)
        .arg("seq")
        .arg(2)
        .query_async(&mut trail.conn)
        .await
        .expect("base forged");
    let at = broken(trail.mb.verify_audit(10).await);
    assert_eq!(at.at, "base", "{at}");
    trail.del(&[base_key]).await;
    let at = broken(trail.mb.verify_audit(10).await);
    assert_eq!(at.seq, 1, "without its base the chain starts mid-way: {at}");
}

#[tokio::test]
async fn the_anchor_file_and_stream_must_agree() {
    let mut trail = Trail::start().await;
    trail.commits(11, 1).await;
    trail.anchor().await;
    trail.commits(12, 1).await;
    trail.anchor().await;
    let report = trail.trail().await;
    assert!(report.is_intact(), "{report:?}");
    assert_eq!(report.anchors_checked, 2);

    let lines = std::fs::read_to_string(trail.anchor_file()).expect("the anchor file");
    let first = lines.lines().next().expect("a line");
    std::fs::write(trail.anchor_file(), format!("{first}\n")).expect("file cut");
    let report = trail.trail().await;
    assert_eq!(report.anchor_problems.len(), 1, "{report:?}");
    assert!(report.anchor_problems[0].contains("in the Redis stream but not in"));

    let mut tampered: Value = serde_json::from_str(first).expect("JSON");
    tampered["heads"]["11"]["seq"] = 0.into();
    std::fs::write(trail.anchor_file(), format!("{tampered}\n")).expect("file edited");
    let stream = trail.mb.keys().audit_anchors();
    trail.del(&[stream]).await;
    let report = trail.trail().await;
    assert!(!report.is_intact());
    assert!(
        report
            .anchor_problems
            .iter()
            .any(|p| p.contains("not in the Redis stream")),
        "{report:?}"
    );
    assert!(
        report
            .anchor_problems
            .iter()
            .any(|p| p.contains("MAC does not match")),
        "{report:?}"
    );
}

#[test]
fn serve_refuses_to_start_without_an_audit_key_or_with_a_short_one() {
    for key in [None, Some("a-key-of-twenty-five-byte")] {
        let mut env = vec![
            ("REDIS_URL", "redis://127.0.0.1:9"),
            (
                "TRADEHUB_TOKEN_PEPPER",
                "a-pepper-for-the-audit-tests-of-40-bytes",
            ),
        ];
        env.extend(key.map(|key| ("TRADEHUB_AUDIT_KEY", key)));
        let (code, out, err) = crate::auth::tradehub(&["serve", "--ephemeral"], &env);
        assert_ne!(code, 0, "{out}{err}");
        let said = format!("{out}{err}");
        assert!(said.contains("TRADEHUB_AUDIT_KEY"), "{said}");
        if let Some(key) = key {
            assert!(said.contains("at least 32"), "{said}");
            assert!(!said.contains(key), "the key is never shown: {said}");
        }
        assert!(!said.contains("redis at"), "it stops before Redis: {said}");
    }
}

#[actix_web::test]
async fn an_api_action_is_audited_with_its_principal_and_source_and_the_trail_verifies() {
    let hub = TestHub::start(|_| {}).await;
    let (id, integrator) = hub.token("ERP bridge", &[Role::Integrator]).await;
    let key = "SH-AUDIT-PRINCIPAL";
    hub.submit(&integrator, submission(key)).await.is(202);
    let until = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let entry = loop {
        let mut found = None;
        for partition in 0..hub.config.runtime.partitions {
            for entry in hub.mailbox.audit_entries(partition).await.expect("entries") {
                let data: Value = serde_json::from_str(&entry.data).expect("JSON");
                if data["action"] == "shipment.submitted" && data["key"] == key {
                    found = Some(data);
                }
            }
        }
        if let Some(data) = found {
            break data;
        }
        assert!(
            std::time::Instant::now() < until,
            "the submission was never audited"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert_eq!(entry["principal"]["id"], format!("token:{id}"), "{entry}");
    assert_eq!(entry["principal"]["label"], "ERP bridge", "{entry}");
    assert_eq!(entry["principal"]["source"], "127.0.0.1", "{entry}");
    let report = hub
        .mailbox
        .verify_trail(
            hub.config.runtime.partitions,
            &hub.config.runtime.home.join(&hub.config.audit.anchor_file),
        )
        .await
        .expect("verified");
    assert!(report.is_intact(), "{report:?}");
    assert!(
        report.anchors_checked >= 1,
        "the start anchored the chains: {report:?}"
    );
    hub.stop().await;
}
