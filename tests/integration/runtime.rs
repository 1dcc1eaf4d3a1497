//! The service as a whole, as a child process on a private Redis: SIGKILLed
//! mid-run, Redis killed mid-run, and two nodes sharing the partitions.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng, rngs::StdRng};
use redis::AsyncCommands;
use tradehub::service::addrs::ServeAddrs;
use tradehub::store::echo_ledger::EchoLedger;
use tradehub::store::{RedisMailbox, StoreConfig};
use tradehub::workflow::echo::{EchoState, PING};
use tradehub_actors::envelope::{Envelope, partition_of};
use tradehub_actors::mailbox::{Mailbox, MailboxOps, StreamName};
use tradehub_testkit::{Persistence, RedisServer};

use crate::common::redis::unique_prefix;

/// The key prefix of this process's hubs, mailboxes and commands.
fn prefix() -> &'static str {
    static PREFIX: OnceLock<String> = OnceLock::new();
    PREFIX.get_or_init(|| unique_prefix("rt"))
}
const PARTITIONS: u16 = 4;
/// The token pepper of this process's hubs and token commands.
const PEPPER: &str = "the-runtime-tests-token-pepper-0123456789";
/// The audit key of this process's hubs and `audit verify`.
const AUDIT_KEY: &str = "the-runtime-tests-audit-key-0123456789";

/// A token holding `roles`, made with `tradehub token create` in the hubs' Redis at `url`.
fn token(url: &str, roles: &[&str]) -> String {
    let mut args = vec!["token", "create", "--json", "--label", "runtime tests"];
    for role in roles {
        args.extend(["--role", role]);
    }
    let output = Command::new(env!("CARGO_BIN_EXE_tradehub"))
        .args(&args)
        .env("REDIS_URL", url)
        .env("TRADEHUB_REDIS__PREFIX", prefix())
        .env("TRADEHUB_TOKEN_PEPPER", PEPPER)
        .output()
        .expect("tradehub token create runs");
    let created: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "token create: {e}: {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    created["token"].as_str().expect("a token").to_owned()
}

/// A `tradehub serve` child process.
struct Hub {
    child: Child,
    node: String,
    log: tempfile::NamedTempFile,
    /// Holds the `--addr-file` the hub writes once its listeners are bound.
    folder: tempfile::TempDir,
}

impl Hub {
    fn start(redis_url: &str, node: &str, partitions: u16) -> Self {
        Self::start_with(redis_url, node, partitions, &[])
    }

    /// Start with more `serve` arguments.
    fn start_with(redis_url: &str, node: &str, partitions: u16, args: &[&str]) -> Self {
        let log = tempfile::NamedTempFile::new().expect("a log file for the hub");
        let stderr = log.reopen().expect("reopen the log file");
        let folder = tempfile::tempdir().expect("a folder for the hub's addresses");
        let child = Command::new(env!("CARGO_BIN_EXE_tradehub"))
            .arg("serve")
            .arg("--addr-file")
            .arg(folder.path().join("addrs.json"))
            .args(args)
            // REDIS_URL as an orchestrator sets it; it may name a unix socket.
            .env("REDIS_URL", redis_url)
            .env("TRADEHUB_REDIS__PREFIX", prefix())
            .env("TRADEHUB_TOKEN_PEPPER", PEPPER)
            .env("TRADEHUB_AUDIT_KEY", AUDIT_KEY)
            .env(
                "TRADEHUB_AUDIT__ANCHOR_FILE",
                folder.path().join("anchors.jsonl"),
            )
            .env("TRADEHUB_RUNTIME__NODE_ID", node)
            .env("TRADEHUB_RUNTIME__WORKFLOW", "echo")
            .env("TRADEHUB_RUNTIME__PARTITIONS", partitions.to_string())
            .env("TRADEHUB_RUNTIME__LEASE_TTL", "2s")
            .env("TRADEHUB_RUNTIME__LEASE_RENEW", "300ms")
            .env("TRADEHUB_RUNTIME__RECLAIM_IDLE", "1s")
            .env("TRADEHUB_RUNTIME__RECLAIM_EVERY", "300ms")
            .env("TRADEHUB_RUNTIME__READ_BLOCK", "100ms")
            .env("TRADEHUB_RUNTIME__SHUTDOWN_GRACE", "3s")
            .env("TRADEHUB_HTTP__LISTEN", "127.0.0.1:0")
            .env("TRADEHUB_METRICS__LISTEN", "127.0.0.1:0")
            .env("TRADEHUB_METRICS__SAMPLE_EVERY", "1s")
            // HUB_LOG=info shows what the child hubs do when a test fails.
            .env(
                "RUST_LOG",
                std::env::var("HUB_LOG").unwrap_or_else(|_| "warn".to_owned()),
            )
            .stdout(Stdio::null())
            .stderr(Stdio::from(stderr))
            .spawn()
            .expect("the tradehub binary starts");
        Self {
            child,
            node: node.to_owned(),
            log,
            folder,
        }
    }

    /// Where its listeners are bound, once it has written them (within 20 s).
    async fn addrs(&mut self) -> ServeAddrs {
        let file = self.folder.path().join("addrs.json");
        let start = Instant::now();
        loop {
            if let Some(addrs) = ServeAddrs::read(&file).expect("read the addresses file") {
                return addrs;
            }
            if let Some(status) = self.child.try_wait().expect("wait") {
                let log = std::fs::read_to_string(self.log.path()).unwrap_or_default();
                panic!(
                    "{} exited with {status} before binding; log:\n{log}",
                    self.node
                );
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "{} bound no listeners within 20 s",
                self.node
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn kill(&mut self) {
        self.child.kill().expect("SIGKILL the hub");
        self.child.wait().expect("reap the hub");
    }

    /// The exit status within `bound` and everything the hub logged.
    fn wait_exit(mut self, bound: Duration) -> (std::process::ExitStatus, String) {
        let start = Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                break status;
            }
            assert!(
                start.elapsed() < bound,
                "{} still running after {bound:?}",
                self.node
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        let log = std::fs::read_to_string(self.log.path()).expect("read the hub's log");
        (status, log)
    }

    /// SIGTERM, then the exit status within `bound`.
    fn terminate(&mut self, bound: Duration) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill -TERM");
        assert!(sent.success());
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            assert!(
                start.elapsed() < bound,
                "{} did not stop within {bound:?} of SIGTERM",
                self.node
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Hub {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            drop(self.child.kill());
            drop(self.child.wait());
        }
    }
}

async fn mailbox(url: &str) -> RedisMailbox {
    RedisMailbox::connect(StoreConfig::with_url(url).prefix(prefix()))
        .await
        .expect("connect to the private redis")
}

fn ping(n: usize, keys: usize) -> Envelope {
    Envelope::new(
        format!("in-{n}"),
        format!("k{}", n % keys),
        PING,
        serde_json::json!({ "n": n }),
    )
}

/// Ingest pings `range`, retrying while Redis is down; returns once all are durable.
async fn ingest(
    mailbox: &RedisMailbox,
    range: std::ops::Range<usize>,
    keys: usize,
    partitions: u16,
) {
    for n in range {
        let envelope = ping(n, keys);
        let partition = partition_of(&envelope.key, partitions);
        let deadline = Instant::now() + Duration::from_secs(30);
        // The idempotency key makes a retry after an unknown outcome safe.
        while let Err(error) = mailbox
            .ingest(partition, &envelope, Some(&envelope.id))
            .await
        {
            assert!(
                Instant::now() < deadline,
                "ingest of {} kept failing: {error}",
                envelope.id
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Sum of the echo states of every key.
async fn totals(mailbox: &RedisMailbox, keys: usize, partitions: u16) -> Option<(u64, u64)> {
    let (mut pings, mut echoes) = (0, 0);
    for k in 0..keys {
        let key = format!("k{k}");
        let stored = mailbox
            .load(partition_of(&key, partitions), &key)
            .await
            .ok()?;
        if let Some(state) = stored.state {
            let state: EchoState = serde_json::from_str(&state).expect("echo state parses");
            pings += state.pings;
            echoes += state.echoes;
        }
    }
    Some((pings, echoes))
}

/// Stream figures per partition and the ledger size, for failure messages.
async fn diagnose(mailbox: &RedisMailbox, partitions: u16) -> String {
    let mut out = String::new();
    for partition in 0..partitions {
        for stream in [StreamName::Inbox, StreamName::Commands("echo".to_owned())] {
            let stats = mailbox.stats(partition, &stream).await;
            out.push_str(&format!("\n  p{partition} {stream}: {stats:?}"));
        }
        let letters = mailbox.dead_letters(partition).await.map(|l| l.len());
        let timers = mailbox.timers(partition).await.map(|t| t.len());
        out.push_str(&format!(
            "\n  p{partition} dlq: {letters:?} timers: {timers:?}"
        ));
    }
    out
}

async fn wait_for_totals(
    mailbox: &RedisMailbox,
    inputs: u64,
    keys: usize,
    partitions: u16,
    bound: Duration,
) {
    let start = Instant::now();
    loop {
        let totals = totals(mailbox, keys, partitions).await;
        if totals == Some((inputs, inputs)) {
            return;
        }
        if start.elapsed() > bound {
            panic!(
                "after {bound:?}, (pings, echoes) = {totals:?}, expected ({inputs}, {inputs});{}",
                diagnose(mailbox, partitions).await
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Every input applied exactly once, every command executed at least once and
/// exactly once per idempotency key, nothing pending, nothing dead-lettered.
async fn assert_exactly_once(mailbox: &RedisMailbox, inputs: usize, partitions: u16) {
    let ledger = EchoLedger::of(mailbox)
        .calls()
        .await
        .expect("read the echo ledger");
    let expected: BTreeSet<String> = (0..inputs).map(|n| format!("in-{n}:echo")).collect();
    let executed: BTreeSet<String> = ledger.keys().cloned().collect();
    assert_eq!(
        executed, expected,
        "commands executed differ from commands issued"
    );
    assert!(ledger.values().all(|&n| n >= 1));

    let start = Instant::now();
    loop {
        let mut pending = 0;
        for partition in 0..partitions {
            for stream in [StreamName::Inbox, StreamName::Commands("echo".to_owned())] {
                pending += mailbox
                    .stats(partition, &stream)
                    .await
                    .expect("stats")
                    .pending;
            }
        }
        if pending == 0 {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "{pending} entries still pending"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for partition in 0..partitions {
        let letters = mailbox.dead_letters(partition).await.expect("dlq");
        assert!(
            letters.is_empty(),
            "dead letters in partition {partition}: {letters:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkilled_hub_applies_every_input_exactly_once() {
    const INPUTS: usize = 5_000;
    const KEYS: usize = 200;
    const KILLS: usize = 5;
    let redis = RedisServer::start(Persistence::AofEverySec).expect("private redis");
    let url = redis.url();
    let mailbox = mailbox(&url).await;
    let mut rng = StdRng::seed_from_u64(7);

    let producer = {
        let mailbox = mailbox.clone();
        tokio::spawn(async move {
            for chunk in (0..INPUTS).step_by(250) {
                ingest(&mailbox, chunk..(chunk + 250).min(INPUTS), KEYS, PARTITIONS).await;
                tokio::time::sleep(Duration::from_millis(40)).await;
            }
        })
    };

    let mut hub = Hub::start(&url, "crash-0", PARTITIONS);
    for kill in 1..=KILLS {
        tokio::time::sleep(Duration::from_millis(rng.random_range(300..1_200))).await;
        hub.kill();
        hub = Hub::start(&url, &format!("crash-{kill}"), PARTITIONS);
    }
    producer.await.expect("producer");
    wait_for_totals(
        &mailbox,
        INPUTS as u64,
        KEYS,
        PARTITIONS,
        Duration::from_secs(120),
    )
    .await;
    assert_exactly_once(&mailbox, INPUTS, PARTITIONS).await;
    assert!(
        hub.terminate(Duration::from_secs(15)).success(),
        "graceful stop exits 0"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_killed_and_restarted_loses_nothing_acknowledged() {
    const INPUTS: usize = 2_000;
    const KEYS: usize = 100;
    let mut redis = RedisServer::start(Persistence::AofAlways).expect("private redis");
    let url = redis.url();
    let mailbox = mailbox(&url).await;
    let hub = Hub::start(&url, "redis-chaos", PARTITIONS);

    ingest(&mailbox, 0..INPUTS / 2, KEYS, PARTITIONS).await;
    redis
        .restart()
        .expect("redis restarts on its port and replays its AOF");
    ingest(&mailbox, INPUTS / 2..INPUTS, KEYS, PARTITIONS).await;
    redis.restart().expect("redis restarts again");

    wait_for_totals(
        &mailbox,
        INPUTS as u64,
        KEYS,
        PARTITIONS,
        Duration::from_secs(120),
    )
    .await;
    assert_exactly_once(&mailbox, INPUTS, PARTITIONS).await;
    drop(hub);
}

async fn lease_holders(url: &str, partitions: u16) -> BTreeMap<u16, Option<String>> {
    let client = redis::Client::open(url).expect("redis url");
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .expect("connect");
    let mut holders = BTreeMap::new();
    for p in 0..partitions {
        let holder: Option<String> = conn
            .get(format!("{}:{{s{p}}}:lease", prefix()))
            .await
            .expect("GET lease");
        holders.insert(p, holder);
    }
    holders
}

async fn wait_for_holders(
    url: &str,
    partitions: u16,
    bound: Duration,
    want: impl Fn(&BTreeMap<u16, Option<String>>) -> bool,
) {
    let start = Instant::now();
    loop {
        let holders = lease_holders(url, partitions).await;
        if want(&holders) {
            return;
        }
        assert!(
            start.elapsed() < bound,
            "leases after {bound:?}: {holders:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hubs_share_partitions_and_one_takes_over_the_other() {
    const PARTS: u16 = 8;
    const INPUTS: usize = 1_000;
    const KEYS: usize = 50;
    let redis = RedisServer::start(Persistence::AofEverySec).expect("private redis");
    let url = redis.url();
    let mailbox = mailbox(&url).await;
    let mut a = Hub::start(&url, "node-a", PARTS);
    let b = Hub::start(&url, "node-b", PARTS);

    let count = |holders: &BTreeMap<u16, Option<String>>, node: &str| {
        holders
            .values()
            .filter(|h| h.as_deref() == Some(node))
            .count()
    };
    wait_for_holders(&url, PARTS, Duration::from_secs(20), |h| {
        count(h, "node-a") == 4 && count(h, "node-b") == 4
    })
    .await;

    ingest(&mailbox, 0..INPUTS / 2, KEYS, PARTS).await;
    a.kill();
    ingest(&mailbox, INPUTS / 2..INPUTS, KEYS, PARTS).await;
    wait_for_holders(&url, PARTS, Duration::from_secs(20), |h| {
        count(h, "node-b") == 8
    })
    .await;
    wait_for_totals(
        &mailbox,
        INPUTS as u64,
        KEYS,
        PARTS,
        Duration::from_secs(60),
    )
    .await;
    assert_exactly_once(&mailbox, INPUTS, PARTS).await;
    drop(b);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_refuses_a_redis_without_persistence_unless_ephemeral() {
    let redis = RedisServer::start(Persistence::None).expect("private redis");
    let refused = Hub::start(&redis.url(), "volatile", PARTITIONS);
    let (status, log) = refused.wait_exit(Duration::from_secs(20));
    assert_eq!(status.code(), Some(1), "exit code; log:\n{log}");
    assert!(
        log.contains("no persistence") && log.contains("--ephemeral"),
        "log:\n{log}"
    );

    let mut accepted = Hub::start_with(&redis.url(), "volatile", PARTITIONS, &["--ephemeral"]);
    let mailbox = mailbox(&redis.url()).await;
    ingest(&mailbox, 0..10, 5, PARTITIONS).await;
    wait_for_totals(&mailbox, 10, 5, PARTITIONS, Duration::from_secs(30)).await;
    assert!(accepted.terminate(Duration::from_secs(15)).success());
}

/// Wait until `/readyz` on `http` answers 200.
async fn wait_ready(http: SocketAddr) {
    let start = Instant::now();
    loop {
        if let Ok(response) = reqwest::get(format!("http://{http}/readyz")).await
            && response.status().as_u16() == 200
        {
            return;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "never ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn get(url: &str) -> (u16, String) {
    let response = reqwest::get(url).await.expect("GET");
    let status = response.status().as_u16();
    (status, response.text().await.expect("body"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probes_metrics_dead_letters_and_the_audit_chain() {
    let redis = RedisServer::start(Persistence::AofEverySec).expect("private redis");
    let url = redis.url();
    let mut hub = Hub::start(&url, "ops", PARTITIONS);
    let ServeAddrs { api: http, metrics } = hub.addrs().await;

    wait_ready(http).await;
    assert_eq!(get(&format!("http://{http}/healthz")).await.0, 200);
    let (_, ready) = get(&format!("http://{http}/readyz")).await;
    assert!(
        ready.contains(&format!("\"partitions_owned\":{PARTITIONS}")),
        "{ready}"
    );

    let mailbox = mailbox(&url).await;
    ingest(&mailbox, 0..20, 5, PARTITIONS).await;
    wait_for_totals(&mailbox, 20, 5, PARTITIONS, Duration::from_secs(30)).await;
    // A poison entry: not an envelope at all.
    mailbox
        .append_raw(0, &StreamName::Inbox, "{not json")
        .await
        .expect("append a poison entry");

    let anchor_file = hub.folder.path().join("anchors.jsonl");
    let cli = |args: &[&str]| {
        let output = Command::new(env!("CARGO_BIN_EXE_tradehub"))
            .args(args)
            .env("TRADEHUB_AUDIT_KEY", AUDIT_KEY)
            .env("TRADEHUB_AUDIT__ANCHOR_FILE", &anchor_file)
            .env("TRADEHUB_REDIS__URL", &url)
            .env("TRADEHUB_REDIS__PREFIX", prefix())
            .env("TRADEHUB_RUNTIME__PARTITIONS", PARTITIONS.to_string())
            .output()
            .expect("run the tradehub cli");
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        (output.status.code(), stdout)
    };
    let dead_letters = || {
        let (code, stdout) = cli(&["replay", "dlq", "list", "--json"]);
        assert_eq!(code, Some(0), "{stdout}");
        let listed: serde_json::Value = serde_json::from_str(&stdout).expect("one JSON document");
        listed["dead_letters"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    };
    let start = Instant::now();
    let letters = loop {
        let letters = dead_letters();
        if !letters.is_empty() {
            break letters;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the poison entry was never dead-lettered"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0]["origin"], "in");
    let (code, stdout) = cli(&["replay", "dlq", "redrive", "--all", "--json"]);
    assert_eq!(code, Some(0), "{stdout}");
    let redriven: serde_json::Value = serde_json::from_str(&stdout).expect("one JSON document");
    let new_entry = redriven["redriven"][0]["new_entry"]
        .as_str()
        .unwrap_or_else(|| panic!("the new inbox entry: {stdout}"))
        .to_owned();
    assert_ne!(
        Some(new_entry.as_str()),
        letters[0]["origin_id"].as_str(),
        "appended anew"
    );
    // Back on its inbox, still poison: the hub reads it again and dead-letters it again, in
    // place of the letter the redrive took out (so the DLQ holds one letter, not two).
    let start = Instant::now();
    let again = loop {
        let letters = dead_letters();
        if letters
            .iter()
            .any(|l| l["origin_id"].as_str() == Some(new_entry.as_str()))
        {
            break letters;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the redriven entry was never dead-lettered again: {letters:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(again.len(), 1, "{again:?}");
    assert_eq!(again[0]["origin"], "in");
    assert_ne!(again[0]["letter"], letters[0]["letter"]);

    let (_, scraped) = get(&format!("http://{metrics}/metrics")).await;
    for name in [
        "tradehub_runtime_partitions_owned",
        "tradehub_store_stream_pending_entries",
        "tradehub_store_oldest_pending_age_seconds",
        "tradehub_store_dlq_length_entries",
    ] {
        assert!(
            scraped.contains(name),
            "{name} missing from /metrics:\n{scraped}"
        );
    }

    let (code, stdout) = cli(&["audit", "verify", "--json"]);
    assert_eq!(code, Some(0), "{stdout}");
    let client = redis::Client::open(url.as_str()).expect("redis url");
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .expect("connect");
    let audit_key = format!("{}:{{s0}}:audit", prefix());
    let forged: String = redis::cmd("XADD")
        .arg(&audit_key)
        .arg("*")
        .arg("forged")
        .arg("entry")
        .query_async(&mut conn)
        .await
        .expect("forge an audit entry");
    assert!(!forged.is_empty());
    let (code, stdout) = cli(&["audit", "verify", "--json"]);
    assert_eq!(
        code,
        Some(1),
        "a forged entry must break the chain: {stdout}"
    );

    assert!(hub.terminate(Duration::from_secs(15)).success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shipment_submission_is_durable_idempotent_and_readable() {
    let redis = RedisServer::start(Persistence::AofEverySec).expect("private redis");
    let mut hub = Hub::start(&redis.url(), "api", PARTITIONS);
    let http = hub.addrs().await.api;
    let base = format!("http://{http}");
    let client = reqwest::Client::new();
    wait_ready(http).await;
    let mut fixture: serde_json::Value = serde_json::from_slice(
        &std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/fixtures/shipments/valid_export_de_us_sea.json"
        ))
        .expect("fixture"),
    )
    .expect("fixture JSON");
    // A submission may not name an Odoo picking.
    fixture["odoo"]
        .as_object_mut()
        .expect("odoo references")
        .remove("picking");
    let id = fixture["id"]
        .as_str()
        .expect("fixture has an id")
        .to_owned();
    let fixture = fixture.to_string().into_bytes();
    let integrator = token(&redis.url(), &["integrator"]);
    let viewer = token(&redis.url(), &["viewer"]);

    let submit = |key: Option<&str>, body: Vec<u8>| {
        let mut request = client
            .post(format!("{base}/v1/shipments"))
            .bearer_auth(&integrator)
            .header("content-type", "application/json")
            .body(body);
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        request.send()
    };
    let first = submit(Some("k-1"), fixture.clone()).await.expect("POST");
    assert_eq!(first.status().as_u16(), 202);
    let first: serde_json::Value = first.json().await.expect("JSON");
    let again = submit(Some("k-1"), fixture.clone()).await.expect("POST");
    assert_eq!(again.status().as_u16(), 202);
    let again: serde_json::Value = again.json().await.expect("JSON");
    assert_eq!(first["duplicate"], false);
    assert_eq!(again["duplicate"], true);
    assert_eq!(
        first["input"], again["input"],
        "a duplicate gets the first answer"
    );

    let missing_key = submit(None, fixture.clone()).await.expect("POST");
    assert_eq!(missing_key.status().as_u16(), 400);
    assert_eq!(
        missing_key.headers()["content-type"]
            .to_str()
            .unwrap_or_default(),
        "application/problem+json"
    );
    let broken = submit(Some("k-2"), b"{\n  \"id\": 12,\n}".to_vec())
        .await
        .expect("POST");
    assert_eq!(broken.status().as_u16(), 422);
    let problem: serde_json::Value = broken.json().await.expect("problem JSON");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("line"),
        "{problem}"
    );

    let start = Instant::now();
    loop {
        let response = client
            .get(format!("{base}/v1/shipments/{id}"))
            .bearer_auth(&viewer)
            .send()
            .await
            .expect("GET");
        if response.status().as_u16() == 200 {
            let shown: serde_json::Value = response.json().await.expect("JSON");
            let timeline = shown["timeline"].as_array().cloned().unwrap_or_default();
            assert_eq!(timeline.len(), 1, "one input applied once: {shown}");
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the submission was never applied"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let unknown = client
        .get(format!("{base}/v1/shipments/nope"))
        .bearer_auth(&viewer)
        .send()
        .await
        .expect("GET");
    assert_eq!(unknown.status().as_u16(), 404);
    assert!(hub.terminate(Duration::from_secs(15)).success());
}
