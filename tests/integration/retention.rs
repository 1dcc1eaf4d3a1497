//! Retention against a real Redis: each kind of data past its time is exported (gzip JSON lines)
//! before it is removed, the audit chain still verifies from the base it leaves, a finished
//! shipment shrinks to its summary, a blocked one stays whole, a saga that moved is left alone,
//! kept callback payloads are bounded, and old files in drop folders go.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde_json::{Value, json};
use tradehub::config::Workflow;
use tradehub::partners::file_drop::Inbox;
use tradehub::retention::{Retention, RetentionConfig, RetentionReport};
use tradehub::service::retention::compactor;
use tradehub::store::RedisMailbox;
use tradehub::store::callbacks::{self, REJECTED_BODY_KEEP, RejectedCallback};
use tradehub::workflow::shipment::{ShipmentState, Stage};
use tradehub_actors::envelope::partition_of;
use tradehub_actors::mailbox::{Commit, CommitOutcome, Mailbox, Partition};

use crate::audit::{commit, the_key, view};
use crate::common::redis::{RedisServer, unique_prefix};
use crate::common::repo;

const PARTITIONS: Partition = 4;

/// Everything past its time at once: every duration zero.
fn everything(export_dir: &Path) -> RetentionConfig {
    RetentionConfig {
        export_dir: export_dir.to_owned(),
        interval: Duration::ZERO,
        audit: Duration::ZERO,
        finished: Duration::ZERO,
        payloads: Duration::ZERO,
        files: Duration::ZERO,
    }
}

struct Setup {
    _server: RedisServer,
    mb: RedisMailbox,
    folder: tempfile::TempDir,
}

impl Setup {
    async fn start() -> Self {
        let server = RedisServer::start();
        let mb = view(&server, &unique_prefix("retention"), the_key()).await;
        Self {
            _server: server,
            mb,
            folder: tempfile::tempdir().expect("a folder"),
        }
    }

    fn exports(&self) -> PathBuf {
        self.folder.path().join("archive")
    }

    async fn run(&self, config: RetentionConfig, folders: Vec<Inbox>) -> RetentionReport {
        Retention::new(
            config,
            self.mb.clone(),
            PARTITIONS,
            folders,
            compactor(Workflow::Shipment),
        )
        .run_at(now_ms() + 1000)
        .await
        .expect("retention ran")
    }

    /// Commit `state` for `key` at version `ver`, with one timeline entry.
    async fn put(&self, key: &str, ver: u64, state: &ShipmentState) -> CommitOutcome {
        self.mb
            .commit(&Commit {
                partition: partition_of(key, PARTITIONS),
                key: key.to_owned(),
                expected_ver: ver,
                state: serde_json::to_string(state).expect("state"),
                terminal: state.stage.is_terminal(),
                history: vec![json!({"kind": "step", "ver": ver + 1}).to_string()],
                audit: Vec::new(),
                commands: Vec::new(),
                timers: Vec::new(),
                ack: None,
            })
            .await
            .expect("committed")
    }

    async fn state(&self, key: &str) -> (u64, ShipmentState) {
        let stored = self
            .mb
            .load(partition_of(key, PARTITIONS), key)
            .await
            .expect("loaded");
        let state = serde_json::from_str(&stored.state.expect("a state")).expect("reads");
        (stored.ver, state)
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .expect("after 1970")
        .as_millis() as u64
}

/// The JSON lines of a gzip export.
fn lines(path: &Path) -> Vec<Value> {
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).expect("export opens"))
        .read_to_string(&mut text)
        .expect("gzip JSON lines");
    text.lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

fn exports_of<'r>(report: &'r RetentionReport, kind: &str) -> Vec<&'r PathBuf> {
    report
        .exports
        .iter()
        .filter(|p| p.parent().and_then(Path::file_name) == Some(kind.as_ref()))
        .collect()
}

#[tokio::test]
async fn the_audit_chain_is_exported_then_trimmed_and_still_verifies_from_its_base() {
    let setup = Setup::start().await;
    for i in 0..5 {
        let data = format!("{{\"actor\":\"ana\",\"n\":{i}}}");
        commit(&setup.mb, 2, &format!("SH-R-{i}"), vec![data]).await;
    }
    let before = setup.mb.audit_entries(2).await.expect("entries");
    assert_eq!(before.len(), 5);

    let report = setup.run(everything(&setup.exports()), Vec::new()).await;
    assert_eq!(report.audit_trimmed, 5, "{report:?}");
    let files = exports_of(&report, "audit");
    assert_eq!(files.len(), 1, "{report:?}");
    assert!(files[0].ends_with("audit/p2-1-5.jsonl.gz"), "{files:?}");
    let exported = lines(files[0]);
    assert_eq!(exported.len(), 6, "five entries and the checkpoint");
    for (line, entry) in exported.iter().zip(&before) {
        assert_eq!(line["seq"], entry.seq);
        assert_eq!(line["hash"], entry.hash.as_str());
        assert_eq!(
            line["data"],
            entry.data.as_str(),
            "the bytes the MAC covers"
        );
    }
    let checkpoint = &exported[5]["checkpoint"];
    assert_eq!(checkpoint["base"]["seq"], 5);
    assert_eq!(checkpoint["base"]["hash"], before[4].hash.as_str());
    assert!(checkpoint["mac"].as_str().is_some_and(|m| !m.is_empty()));

    assert!(setup.mb.audit_entries(2).await.expect("read").is_empty());
    assert_eq!(setup.mb.verify_audit(2).await.expect("verifies"), 0);
    commit(&setup.mb, 2, "SH-R-after", vec!["{\"n\":5}".to_owned()]).await;
    assert_eq!(
        setup.mb.verify_audit(2).await.expect("the chain goes on"),
        1
    );
    let again = setup.run(everything(&setup.exports()), Vec::new()).await;
    assert_eq!(again.audit_trimmed, 1, "only the new entry: {again:?}");
    assert!(again.exports[0].ends_with("audit/p2-6-6.jsonl.gz"));

    // Nothing is past a year's keeping.
    let kept = setup
        .run(
            RetentionConfig {
                export_dir: setup.exports(),
                ..RetentionConfig::default()
            },
            Vec::new(),
        )
        .await;
    assert_eq!(kept, RetentionReport::default());
}

#[tokio::test]
async fn a_finished_shipment_shrinks_to_its_summary_and_a_blocked_one_stays_whole() {
    let setup = Setup::start().await;
    let full = |stage| ShipmentState {
        stage,
        picking_id: Some(42),
        seq: 7,
        shipment: Some(
            serde_json::from_slice(
                &std::fs::read(
                    repo::root().join("tests/fixtures/shipments/valid_export_de_us_sea.json"),
                )
                .expect("fixture"),
            )
            .expect("a shipment"),
        ),
        ..ShipmentState::default()
    };
    assert_eq!(
        setup.put("SH-CLOSED", 0, &full(Stage::Closed)).await,
        CommitOutcome::Committed { ver: 1 }
    );
    setup.put("SH-BLOCKED", 0, &full(Stage::Blocked)).await;
    setup.put("SH-LIVE", 0, &full(Stage::AwaitingRelease)).await;

    let report = setup.run(everything(&setup.exports()), Vec::new()).await;
    assert_eq!(
        (report.sagas_archived, report.sagas_left),
        (1, 1),
        "the closed one archived, the blocked one exported and left: {report:?}"
    );
    let files = exports_of(&report, "sagas");
    assert_eq!(files.len(), 1, "{report:?}");
    let exported = lines(files[0]);
    let keys: Vec<&str> = exported.iter().filter_map(|l| l["key"].as_str()).collect();
    assert!(
        keys.contains(&"SH-CLOSED") && keys.contains(&"SH-BLOCKED") && !keys.contains(&"SH-LIVE"),
        "{keys:?}"
    );
    let closed = exported
        .iter()
        .find(|l| l["key"] == "SH-CLOSED")
        .expect("exported");
    assert_eq!(closed["history"].as_array().map(Vec::len), Some(1));

    let (ver, summary) = setup.state("SH-CLOSED").await;
    assert_eq!(ver, 2, "archiving is a new version: a live actor reloads");
    assert_eq!(summary.stage, Stage::Closed);
    assert_eq!(summary.picking_id, Some(42));
    assert_eq!(summary.seq, 7);
    assert!(
        summary.shipment.is_none(),
        "the shipment's parties left Redis"
    );
    let mark = summary.archived.expect("marked");
    assert_eq!(mark.export, files[0].display().to_string());
    let partition = partition_of("SH-CLOSED", PARTITIONS);
    assert!(
        setup
            .mb
            .history(partition, "SH-CLOSED")
            .await
            .expect("read")
            .is_empty(),
        "the timeline went to the export"
    );
    let (_, blocked) = setup.state("SH-BLOCKED").await;
    assert!(blocked.shipment.is_some() && blocked.archived.is_none());

    // A late input on the archived shipment still commits on the summary.
    let (_, summary) = setup.state("SH-CLOSED").await;
    assert_eq!(
        setup.put("SH-CLOSED", 2, &summary).await,
        CommitOutcome::Committed { ver: 3 }
    );
    let again = setup.run(everything(&setup.exports()), Vec::new()).await;
    assert_eq!(
        again.sagas_archived, 1,
        "the summary archives again: {again:?}"
    );
}

#[tokio::test]
async fn a_saga_that_moved_since_it_was_read_is_not_archived() {
    let setup = Setup::start().await;
    let closed = ShipmentState {
        stage: Stage::Closed,
        ..ShipmentState::default()
    };
    setup.put("SH-MOVES", 0, &closed).await;
    let partition = partition_of("SH-MOVES", PARTITIONS);
    let read = setup
        .mb
        .finished_saga(partition, "SH-MOVES", now_ms() + 1000)
        .await
        .expect("read")
        .expect("finished");
    setup.put("SH-MOVES", 1, &closed).await;
    assert!(
        !setup.mb.archive_saga(&read, "{}").await.expect("ran"),
        "version 1 was read; version 2 is there"
    );
    assert_eq!(setup.state("SH-MOVES").await.0, 2);
}

#[tokio::test]
async fn kept_callback_payloads_are_cut_and_go_after_their_time() {
    let setup = Setup::start().await;
    let big = vec![b'x'; 3 * REJECTED_BODY_KEEP];
    for body in [&b"{\"lrn\":\"NOPE\"}"[..], &big] {
        callbacks::keep_rejected(
            &setup.mb,
            &RejectedCallback::new("rest-broker", "unknown LRN".into(), "now".into(), body),
        )
        .await
        .expect("kept");
    }
    let kept = callbacks::rejected(&setup.mb).await.expect("read");
    assert_eq!(kept[1].body.len(), REJECTED_BODY_KEEP);
    assert_eq!(kept[1].size, big.len() as u64);

    let report = setup.run(everything(&setup.exports()), Vec::new()).await;
    assert_eq!(report.payloads_trimmed, 2, "{report:?}");
    let exported = lines(exports_of(&report, "callbacks")[0]);
    assert_eq!(exported.len(), 2);
    assert_eq!(exported[0]["fields"]["partner"], "rest-broker");
    assert!(
        callbacks::rejected(&setup.mb)
            .await
            .expect("read")
            .is_empty()
    );
}

#[tokio::test]
async fn old_files_in_done_and_failed_are_exported_then_removed() {
    let setup = Setup::start().await;
    let inbox_dir = setup.folder.path().join("inbox");
    for sub in ["done", "error"] {
        std::fs::create_dir_all(inbox_dir.join(sub)).expect("folder");
    }
    let old = SystemTime::now() - Duration::from_secs(200 * 24 * 3600);
    let write = |path: PathBuf, text: &str, at: SystemTime| {
        std::fs::write(&path, text).expect("written");
        std::fs::File::options()
            .write(true)
            .open(&path)
            .and_then(|f| f.set_modified(at))
            .expect("dated");
    };
    write(inbox_dir.join("done/CUSRES-1.edi"), "UNB+old'", old);
    write(inbox_dir.join("error/junk.edi"), "junk", old);
    write(
        inbox_dir.join("done/CUSRES-2.edi"),
        "UNB+new'",
        SystemTime::now(),
    );
    write(inbox_dir.join("waiting.edi"), "not read yet", old);
    let inbox = || Inbox::new(inbox_dir.clone(), "done", "error", 1024);

    let config = RetentionConfig {
        export_dir: setup.exports(),
        ..RetentionConfig::default()
    };
    let report = setup.run(config, vec![inbox()]).await;
    assert_eq!(report.files_removed, 2, "{report:?}");
    let exported = lines(exports_of(&report, "files")[0]);
    let names: Vec<&str> = exported.iter().filter_map(|l| l["name"].as_str()).collect();
    assert_eq!(names, ["CUSRES-1.edi", "junk.edi"]);
    assert_eq!(exported[0]["content"], "VU5CK29sZCc=", "the bytes, base64");
    assert!(!inbox_dir.join("done/CUSRES-1.edi").exists());
    assert!(
        inbox_dir.join("done/CUSRES-2.edi").exists(),
        "not past its time"
    );
    assert!(
        inbox_dir.join("waiting.edi").exists(),
        "an unread file is not retention's"
    );
}
