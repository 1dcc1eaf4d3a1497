//! Hostile file drops (issue 16): a partner who can write into a drop folder cannot make the hub
//! read, overwrite or publish anything outside it, nor crash-loop it with one file. Every test
//! here is an attack that worked before the folders were read through `partners::file_drop`.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tradehub::finance::{FinanceConfig, FinanceInbox, InboxReport, ReconcileSettings, Settlement};
use tradehub::model::Shipment;
use tradehub::partners::config::Layout;
use tradehub::partners::edifact_file::{InboxWatcher, WatcherConfig};
use tradehub::partners::file_drop::{DEFAULT_MAX_FILE_BYTES, write_atomically};
use tradehub::store::finance::Dossiers;
use tradehub::store::lrn_ledger::Ledger;
use tradehub::store::{RedisMailbox, StoreConfig};
use tradehub::tariff::duty::{TariffBook, default_dir};
use tradehub::workflow::shipment::lrn_for;
use tradehub_sim::settlement::{BrokerStyle, documents};

use crate::common::redis::{RedisServer, unique_prefix};

const PARTITIONS: u16 = 4;
const SECRET: &str = "TOP-SECRET-TARGET-CONTENT";

fn root() -> &'static Path {
    crate::common::repo::root()
}

struct Drop {
    _redis: RedisServer,
    mailbox: RedisMailbox,
    folder: tempfile::TempDir,
    /// Outside every drop folder: what an attacker points links at.
    elsewhere: tempfile::TempDir,
}

impl Drop {
    async fn start() -> Self {
        let redis = RedisServer::start();
        let mailbox =
            RedisMailbox::connect(StoreConfig::with_url(redis.url()).prefix(unique_prefix("fd")))
                .await
                .expect("connect to the test redis-server");
        Self {
            _redis: redis,
            mailbox,
            folder: tempfile::tempdir().expect("drop folder"),
            elsewhere: tempfile::tempdir().expect("outside folder"),
        }
    }

    /// A fresh finance inbox over the folder, as a newly started hub builds it.
    fn finance(&self) -> FinanceInbox {
        let book = TariffBook::load(&default_dir()).expect("tables");
        let settings =
            ReconcileSettings::load(&root().join("config/reconcile.toml")).expect("settings");
        FinanceInbox::with_parts(
            FinanceConfig {
                enabled: true,
                folder: self.folder.path().to_owned(),
                ..FinanceConfig::default()
            },
            Arc::new(settings),
            Arc::new(book),
            Layout::new(root()),
            self.mailbox.clone(),
            PARTITIONS,
            None,
        )
    }

    /// One poll of a freshly started finance inbox with the default config.
    async fn poll(&self) -> InboxReport {
        self.finance().poll_once().await.expect("poll")
    }

    fn broker_dir(&self, broker: &str) -> std::path::PathBuf {
        let dir = self.folder.path().join(broker);
        std::fs::create_dir_all(&dir).expect("broker folder");
        dir
    }

    /// A file outside the drop folders holding [`SECRET`].
    fn victim(&self) -> std::path::PathBuf {
        let victim = self.elsewhere.path().join("victim.csv");
        std::fs::write(&victim, format!("{SECRET};{SECRET}\n")).expect("victim");
        victim
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every log line written on this thread while the guard lives.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log buffer").extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Logs {
    fn capture(&self) -> tracing::subscriber::DefaultGuard {
        let logs = self.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || logs.clone())
            .finish();
        tracing::subscriber::set_default(subscriber)
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("log buffer")).into_owned()
    }
}

#[tokio::test]
async fn a_symlink_in_a_broker_folder_is_set_aside_unread() {
    let d = Drop::start().await;
    let victim = d.victim();
    let dir = d.broker_dir("rest-broker");
    std::os::unix::fs::symlink(&victim, dir.join("link.csv")).expect("plant the link");

    let logs = Logs::default();
    let report = {
        let _guard = logs.capture();
        d.poll().await
    };

    assert_eq!((report.failed, report.processed), (1, 0), "{report:?}");
    assert_eq!(
        read(&victim),
        format!("{SECRET};{SECRET}\n"),
        "target untouched"
    );
    let moved = dir.join("failed/link.csv");
    assert!(
        std::fs::symlink_metadata(&moved).is_ok_and(|m| m.file_type().is_symlink()),
        "the link itself is set aside"
    );
    let reason = read(&dir.join("failed/link.csv.reason"));
    assert!(reason.contains("symbolic link"), "{reason}");
    assert!(!reason.contains(SECRET), "{reason}");
    let logs = logs.text();
    assert!(logs.contains("link.csv"), "the refusal is logged: {logs}");
    assert!(!logs.contains(SECRET), "{logs}");
}

#[tokio::test]
async fn a_planted_symlink_at_the_reason_path_is_not_followed() {
    let d = Drop::start().await;
    let victim = d.victim();
    let dir = d.broker_dir("rest-broker");
    std::fs::create_dir_all(dir.join("failed")).expect("failed/");
    std::os::unix::fs::symlink(&victim, dir.join("failed/bad.csv.reason")).expect("plant");
    std::fs::write(dir.join("bad.csv"), "not;an;invoice\n").expect("drop");

    let report = d.poll().await;

    assert_eq!(report.failed, 1, "{report:?}");
    assert_eq!(
        read(&victim),
        format!("{SECRET};{SECRET}\n"),
        "target unchanged"
    );
    let reasons: Vec<String> = std::fs::read_dir(dir.join("failed"))
        .expect("failed/")
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .map(|e| read(&e.path()))
        .filter(|text| text.contains("bad.csv"))
        .collect();
    assert_eq!(reasons.len(), 1, "one reason file of its own: {reasons:?}");
}

#[tokio::test]
async fn a_planted_symlink_at_an_outbox_temporary_name_is_not_followed() {
    let outbox = tempfile::tempdir().expect("outbox");
    let elsewhere = tempfile::tempdir().expect("outside");
    let victim = elsewhere.path().join("victim");
    std::fs::write(&victim, SECRET).expect("victim");
    // The name a writer of this process would once have used.
    let predictable = outbox
        .path()
        .join(format!(".L1.edi.{}.tmp", std::process::id()));
    std::os::unix::fs::symlink(&victim, &predictable).expect("plant");

    write_atomically(outbox.path(), "L1.edi", b"UNB+...'").expect("write");

    assert_eq!(read(&victim), SECRET, "target unchanged");
    assert_eq!(read(&outbox.path().join("L1.edi")), "UNB+...'");
    assert!(
        std::fs::symlink_metadata(&predictable).is_ok_and(|m| m.file_type().is_symlink()),
        "the planted link is left alone"
    );
}

#[tokio::test]
async fn a_file_over_the_cap_is_set_aside_unread() {
    let d = Drop::start().await;
    let dir = d.broker_dir("rest-broker");
    let cap = DEFAULT_MAX_FILE_BYTES;
    let file = std::fs::File::create(dir.join("huge.csv")).expect("create");
    file.set_len(cap + 1).expect("grow");

    let report = d.poll().await;

    assert_eq!(report.failed, 1, "{report:?}");
    let reason = read(&dir.join("failed/huge.csv.reason"));
    assert!(
        reason.contains(&format!("{} bytes", cap + 1)) && reason.contains(&cap.to_string()),
        "names the size and the cap: {reason}"
    );
}

#[tokio::test]
async fn a_file_claimed_by_a_reader_that_crashed_is_set_aside_not_read_again() {
    let d = Drop::start().await;
    let dir = d.broker_dir("rest-broker");
    // What a reader killed while reading leaves behind: its claim on the file.
    std::fs::create_dir_all(dir.join("processing")).expect("processing/");
    std::fs::write(dir.join("processing/deep.xml"), "<a><a><a>").expect("claimed");

    let report = d.poll().await;

    assert_eq!(
        report,
        InboxReport {
            failed: 1,
            ..InboxReport::default()
        }
    );
    let reason = read(&dir.join("failed/deep.xml.reason"));
    assert!(reason.contains("crashed the reader"), "{reason}");
    assert_eq!(read(&dir.join("failed/deep.xml")), "<a><a><a>");
    assert!(!dir.join("processing/deep.xml").exists());
}

#[tokio::test]
async fn a_document_in_another_brokers_folder_is_not_applied() {
    let d = Drop::start().await;
    let key = "WH/IN/FOLDER00001";
    let lrn = lrn_for(key, 1);
    Ledger::of(&d.mailbox)
        .record_lrn(&lrn, key, "edifact-broker")
        .await
        .expect("ledger");
    let mut shipment: Shipment = serde_json::from_slice(
        &std::fs::read(
            root().join("tests/fixtures/shipments/valid_import_jp_gb_air_preference.json"),
        )
        .expect("fixture"),
    )
    .expect("shipment");
    shipment.id = key.parse().expect("shipment id");
    let book = TariffBook::load(&default_dir()).expect("tables");
    // Filed with the EDIFACT broker; the REST broker's folder speaks for it.
    let dir = d.broker_dir("rest-broker");
    let dropped = documents(&shipment, &lrn, BrokerStyle::Rest, 5, &book);
    for (name, bytes) in &dropped {
        std::fs::write(dir.join(name), bytes).expect("drop");
    }

    let report = d.poll().await;

    assert_eq!(
        (report.failed, report.processed),
        (dropped.len(), 0),
        "{report:?}"
    );
    let (name, _) = &dropped[0];
    let reason = read(&dir.join("failed").join(format!("{name}.reason")));
    assert!(
        reason.contains(&lrn)
            && reason.contains("edifact-broker")
            && reason.contains("rest-broker"),
        "{reason}"
    );
    let kept = Dossiers::of(&d.mailbox)
        .dossier::<Settlement>(&lrn)
        .await
        .expect("dossier");
    assert!(kept.is_none(), "nothing of it applied");
}

#[tokio::test]
async fn a_planted_symlink_at_an_error_reason_is_not_followed_by_the_edifact_watcher() {
    let d = Drop::start().await;
    let victim = d.victim();
    let inbox = d.folder.path().join("in");
    std::fs::create_dir_all(inbox.join("error")).expect("error/");
    std::os::unix::fs::symlink(&victim, inbox.join("error/noise.edi.reason")).expect("plant");
    std::fs::write(inbox.join("noise.edi"), "this is not EDIFACT").expect("drop");
    std::os::unix::fs::symlink(&victim, inbox.join("link.edi")).expect("plant a link");
    let watcher = InboxWatcher::new(
        WatcherConfig {
            partner: "edifact-broker".into(),
            layout: Layout::new(root()),
            inbox: inbox.clone(),
            poll: Duration::from_millis(20),
            partitions: PARTITIONS,
            acknowledge_to: None,
            max_file_bytes: DEFAULT_MAX_FILE_BYTES,
        },
        d.mailbox.clone(),
    );

    let report = watcher.poll_once().await.expect("poll");

    assert_eq!(report.rejected, 2, "{report:?}");
    assert_eq!(
        read(&victim),
        format!("{SECRET};{SECRET}\n"),
        "target unchanged"
    );
    let reason = read(&inbox.join("error/link.edi.reason"));
    assert!(
        reason.contains("symbolic link") && !reason.contains(SECRET),
        "{reason}"
    );
}
