//! `tradehub bench runtime`: committed transitions per second through the full
//! path (XREADGROUP → apply → commit script) on a private Redis with AOF
//! `everysec`, against the raw ceiling of the same Redis and client measured in
//! the same run. Like for like: the full path's inputs are ingested before its
//! clock starts, so the ceiling's entries are added before its clock starts too,
//! and it times XREADGROUP + XACK alone.
//!
//! At saturation every host keeps 2,048 inputs in flight, so commit latency there
//! is mostly queueing; a third phase offers inputs at a stated fraction of the
//! saturated rate, paced, and reports commit latency at that load.
//!
//! Each transition is an `echo.ping` of the echo workflow: it writes the state,
//! one history entry and one partner command, and acknowledges its input.

use std::ops::Range;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix::{Actor, Addr};
use futures::StreamExt;
use redis::aio::ConnectionManager;
use serde::Serialize;
use tradehub_actors::clock::SystemClock;
use tradehub_actors::envelope::{Envelope, partition_of};
use tradehub_actors::host::{HostConfig, PartitionHost};
use tradehub_actors::mailbox::{Mailbox, StreamName};
use tradehub_actors::supervisor::{ChildGuard, Shutdown};

use super::measured::{CommitLog, Measured};
use tradehub::store::{RedisMailbox, StoreConfig};
use tradehub::workflow::echo::{ECHO_PARTNER, EchoSaga, PING};
use tradehub_testkit::{Persistence, RedisServer};

/// What the raw ceiling times.
pub const CEILING_MEASURES: &str =
    "XREADGROUP + XACK over entries added before the clock starts, as the full path's inputs are";

/// What to measure.
#[derive(Debug, Clone)]
pub struct RuntimeBenchOptions {
    /// Length of each measured phase.
    pub seconds: f64,
    /// Partitions (one host each).
    pub partitions: u16,
    /// Distinct saga keys the inputs are spread over.
    pub keys: usize,
    /// Entries per read and per raw-loop batch.
    pub batch: usize,
    /// The paced phase's load, as a fraction (0..=1) of the saturated rate.
    pub paced_load: f64,
}

impl Default for RuntimeBenchOptions {
    fn default() -> Self {
        Self {
            seconds: 10.0,
            partitions: 16,
            keys: 10_000,
            batch: 128,
            paced_load: 0.5,
        }
    }
}

/// The figures, as printed by `--json`.
#[derive(Debug, Clone, Serialize)]
pub struct RuntimeBenchReport {
    /// Committed transitions per second through the full path, at saturation.
    pub transitions_per_sec: f64,
    /// Median commit latency (one commit script call) at saturation, ms: mostly queueing.
    pub commit_p50_ms: f64,
    /// 99th percentile commit latency at saturation, ms.
    pub commit_p99_ms: f64,
    /// Redis commands the hub sent per committed transition (reads, loads, commits, timers, reclaims).
    pub redis_cmds_per_transition: f64,
    /// Commands Redis executed per transition, counting those run inside scripts.
    pub redis_server_cmds_per_transition: f64,
    /// Messages per second through the raw loop with the same client.
    pub raw_ceiling_per_sec: f64,
    /// What the raw loop times.
    pub raw_ceiling_measures: &'static str,
    /// `transitions_per_sec / raw_ceiling_per_sec`.
    pub ratio_to_ceiling: f64,
    /// Transitions committed in the saturated phase.
    pub transitions: usize,
    /// Length of the saturated phase, s.
    pub seconds: f64,
    /// Commit latency at a stated load below saturation.
    pub paced: Paced,
    /// Partitions and keys used.
    pub partitions: u16,
    /// Keys used.
    pub keys: usize,
    /// How Redis persisted during the run.
    pub redis_persistence: &'static str,
}

/// Figures of the paced phase.
#[derive(Debug, Clone, Serialize)]
pub struct Paced {
    /// Inputs offered per second (ingest included, as they arrive).
    pub offered_per_sec: f64,
    /// That rate as a fraction of the saturated rate.
    pub load: f64,
    /// Inputs offered.
    pub inputs: usize,
    /// Inputs not yet committed when the offering stopped (a hub keeping up leaves a few).
    pub backlog_at_end: usize,
    /// Median commit latency (one commit script call), ms.
    pub commit_p50_ms: f64,
    /// 99th percentile commit latency, ms.
    pub commit_p99_ms: f64,
}

/// Why the benchmark could not run.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// The private Redis could not start.
    #[error(transparent)]
    Server(#[from] tradehub_testkit::RedisServerError),
    /// Redis failed during the run.
    #[error("redis: {0}")]
    Redis(String),
}

fn redis_err(error: impl std::fmt::Display) -> BenchError {
    BenchError::Redis(error.to_string())
}

/// Run the three phases on a fresh private Redis (AOF, `appendfsync everysec`).
/// Call inside an actix system.
pub async fn run(options: &RuntimeBenchOptions) -> Result<RuntimeBenchReport, BenchError> {
    let server = RedisServer::start(Persistence::AofEverySec)?;
    let url = server.url();
    let bound = Duration::from_secs_f64(options.seconds);
    // Enough inputs to keep the hosts busy for the whole phase at well above the target rate.
    let inputs = ((options.seconds * 40_000.0) as usize).clamp(10_000, 2_000_000);
    let ceiling = raw_ceiling(&url, "raw", options, inputs, bound).await?;
    let full = full_path(&url, "bench", options, inputs, bound).await?;

    let transitions_per_sec = full.transitions as f64 / full.elapsed.as_secs_f64();
    let paced = paced(&url, "paced", options, transitions_per_sec, bound).await?;
    let per = |n: u64| {
        if full.transitions == 0 {
            0.0
        } else {
            n as f64 / full.transitions as f64
        }
    };
    let raw_ceiling_per_sec = ceiling.per_sec();
    Ok(RuntimeBenchReport {
        transitions_per_sec,
        commit_p50_ms: full.commit_p50_ms,
        commit_p99_ms: full.commit_p99_ms,
        redis_cmds_per_transition: per(full.client_commands),
        redis_server_cmds_per_transition: per(full.server_commands),
        raw_ceiling_per_sec,
        raw_ceiling_measures: CEILING_MEASURES,
        ratio_to_ceiling: if raw_ceiling_per_sec > 0.0 {
            transitions_per_sec / raw_ceiling_per_sec
        } else {
            0.0
        },
        transitions: full.transitions,
        seconds: full.elapsed.as_secs_f64(),
        paced,
        partitions: options.partitions,
        keys: options.keys,
        redis_persistence: "aof everysec",
    })
}

/// Figures of one full-path phase.
#[derive(Debug, Clone)]
pub struct FullPath {
    /// Transitions committed.
    pub transitions: usize,
    /// How long they took.
    pub elapsed: Duration,
    /// Median commit latency, ms.
    pub commit_p50_ms: f64,
    /// 99th percentile commit latency, ms.
    pub commit_p99_ms: f64,
    /// Commands the hub sent during the phase.
    pub client_commands: u64,
    /// Commands Redis executed during the phase, script internals included.
    pub server_commands: u64,
}

/// Ingest `inputs` pings under `prefix` (not timed), then start one host per
/// partition and time until all are committed or `bound` passes.
pub async fn full_path(
    url: &str,
    prefix: &str,
    options: &RuntimeBenchOptions,
    inputs: usize,
    bound: Duration,
) -> Result<FullPath, BenchError> {
    let store = prepared_store(url, prefix, options).await?;
    ingest(&store, 0..inputs, options).await?;

    let server_before = store.commands_processed().await.map_err(redis_err)?;
    let client_before = store.commands_issued();
    let hosts = Hosts::start(&store, options);
    let start = Instant::now();
    hosts.wait_committed(inputs, start + bound).await;
    let elapsed = start.elapsed();
    let transitions = hosts.committed();
    let client_commands = store.commands_issued() - client_before;
    let server_commands = store.commands_processed().await.map_err(redis_err)? - server_before;
    let (commit_p50_ms, commit_p99_ms) = hosts.stop().await;
    Ok(FullPath {
        transitions,
        elapsed,
        commit_p50_ms,
        commit_p99_ms,
        client_commands,
        server_commands,
    })
}

/// Start one host per partition under `prefix`, offer pings at `options.paced_load` times
/// `saturated_per_sec` for `bound` (ingested as they arrive, every 10 ms), then give the hosts
/// as long again to commit what is left.
async fn paced(
    url: &str,
    prefix: &str,
    options: &RuntimeBenchOptions,
    saturated_per_sec: f64,
    bound: Duration,
) -> Result<Paced, BenchError> {
    let rate = saturated_per_sec * options.paced_load;
    let store = prepared_store(url, prefix, options).await?;
    let hosts = Hosts::start(&store, options);
    let start = Instant::now();
    let mut ticker = tokio::time::interval(Duration::from_millis(10));
    let mut offered = 0;
    while start.elapsed() < bound {
        ticker.tick().await;
        let due = (start.elapsed().as_secs_f64() * rate) as usize;
        ingest(&store, offered..due, options).await?;
        offered = offered.max(due);
    }
    let offering = start.elapsed();
    let backlog_at_end = offered.saturating_sub(hosts.committed());
    hosts.wait_committed(offered, Instant::now() + bound).await;
    let (commit_p50_ms, commit_p99_ms) = hosts.stop().await;
    Ok(Paced {
        offered_per_sec: offered as f64 / offering.as_secs_f64(),
        load: options.paced_load,
        inputs: offered,
        backlog_at_end,
        commit_p50_ms,
        commit_p99_ms,
    })
}

/// A store under `prefix` with every partition's streams and groups in place.
async fn prepared_store(
    url: &str,
    prefix: &str,
    options: &RuntimeBenchOptions,
) -> Result<RedisMailbox, BenchError> {
    let store = RedisMailbox::connect(StoreConfig::with_url(url).prefix(prefix))
        .await
        .map_err(redis_err)?;
    let streams = [
        StreamName::Inbox,
        StreamName::Commands(ECHO_PARTNER.to_owned()),
    ];
    for partition in 0..options.partitions {
        store
            .ensure_streams(partition, &streams)
            .await
            .map_err(redis_err)?;
    }
    Ok(store)
}

/// One running host per partition, its commits timed.
struct Hosts {
    log: Arc<Mutex<CommitLog>>,
    hosts: Vec<Addr<PartitionHost<Measured<RedisMailbox>, EchoSaga, SystemClock>>>,
}

impl Hosts {
    fn start(store: &RedisMailbox, options: &RuntimeBenchOptions) -> Self {
        let measured = Measured::new(store.clone());
        let mut host_config = HostConfig::new("bench");
        host_config.batch_size = options.batch;
        host_config.block_ms = 50;
        host_config.max_in_flight = options.batch * 16;
        let hosts = (0..options.partitions)
            .map(|partition| {
                PartitionHost::new(
                    partition,
                    host_config.clone(),
                    measured.clone(),
                    Arc::new(EchoSaga),
                    Arc::new(SystemClock),
                    ChildGuard::detached(),
                )
                .start()
            })
            .collect();
        Self {
            log: measured.log(),
            hosts,
        }
    }

    fn committed(&self) -> usize {
        self.log.lock().map(|log| log.committed()).unwrap_or(0)
    }

    async fn wait_committed(&self, inputs: usize, until: Instant) {
        while Instant::now() < until && self.committed() < inputs {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Stop every host; returns the commit latency's p50 and p99, ms.
    async fn stop(self) -> (f64, f64) {
        for host in self.hosts {
            // A host already gone has nothing left to stop.
            let _ = host
                .send(Shutdown {
                    grace: Duration::from_secs(2),
                })
                .await;
        }
        self.log
            .lock()
            .map(|log| (log.quantile_ms(0.50), log.quantile_ms(0.99)))
            .unwrap_or_default()
    }
}

fn input(n: usize, keys: usize) -> Envelope {
    Envelope::new(
        format!("b-{n}"),
        format!("shipment-{}", n % keys),
        PING,
        serde_json::json!({ "n": n }),
    )
}

/// Ingest pings number `inputs`, 512 at a time.
async fn ingest(
    store: &RedisMailbox,
    inputs: Range<usize>,
    options: &RuntimeBenchOptions,
) -> Result<(), BenchError> {
    let mut results = futures::stream::iter(inputs)
        .map(|n| {
            let envelope = input(n, options.keys);
            let partition = partition_of(&envelope.key, options.partitions);
            async move { store.ingest(partition, &envelope, None).await }
        })
        .buffer_unordered(512);
    while let Some(result) = results.next().await {
        result.map_err(redis_err)?;
    }
    Ok(())
}

/// What the raw loop moved and how long it took.
#[derive(Debug, Clone, Copy)]
pub struct Ceiling {
    /// Entries read and acknowledged.
    pub moved: u64,
    /// Time from the first read to the last acknowledgement.
    pub elapsed: Duration,
}

impl Ceiling {
    /// Messages per second.
    pub fn per_sec(&self) -> f64 {
        self.moved as f64 / self.elapsed.as_secs_f64().max(f64::EPSILON)
    }
}

/// The raw ceiling: add `entries` pings to one stream per partition under `prefix` (not
/// timed; fresh keys and groups, so every call can run on the same Redis), then time one
/// XREADGROUP + XACK loop per partition, all on one multiplexed connection (as the store
/// uses), until every entry is acknowledged or `bound` passes. The keys are deleted after.
pub async fn raw_ceiling(
    url: &str,
    prefix: &str,
    options: &RuntimeBenchOptions,
    entries: usize,
    bound: Duration,
) -> Result<Ceiling, BenchError> {
    let conn = ConnectionManager::new(redis::Client::open(url).map_err(redis_err)?)
        .await
        .map_err(redis_err)?;
    let payload = serde_json::to_string(&input(0, options.keys)).map_err(redis_err)?;
    let partitions = usize::from(options.partitions);
    let keys: Vec<String> = (0..options.partitions)
        .map(|partition| format!("{prefix}:{{s{partition}}}:in"))
        .collect();
    for (index, key) in keys.iter().enumerate() {
        let mut conn = conn.clone();
        redis::cmd("XGROUP")
            .arg("CREATE")
            .arg(key)
            .arg("hub")
            .arg("0")
            .arg("MKSTREAM")
            .query_async::<()>(&mut conn)
            .await
            .map_err(redis_err)?;
        let share = entries / partitions + usize::from(index < entries % partitions);
        let mut left = share;
        while left > 0 {
            let chunk = left.min(1_000);
            left -= chunk;
            let mut pipe = redis::pipe();
            for _ in 0..chunk {
                pipe.cmd("XADD")
                    .arg(key)
                    .arg("*")
                    .arg("e")
                    .arg(&payload)
                    .ignore();
            }
            pipe.query_async::<()>(&mut conn).await.map_err(redis_err)?;
        }
    }
    let start = Instant::now();
    let deadline = start + bound;
    let loops = keys.iter().map(|key| {
        let mut conn = conn.clone();
        let batch = options.batch;
        async move {
            let mut moved = 0u64;
            while Instant::now() < deadline {
                let read: redis::streams::StreamReadReply = redis::cmd("XREADGROUP")
                    .arg("GROUP")
                    .arg("hub")
                    .arg("raw")
                    .arg("COUNT")
                    .arg(batch)
                    .arg("STREAMS")
                    .arg(key)
                    .arg(">")
                    .query_async(&mut conn)
                    .await
                    .map_err(redis_err)?;
                let ids: Vec<String> = read
                    .keys
                    .into_iter()
                    .flat_map(|k| k.ids.into_iter().map(|e| e.id))
                    .collect();
                if ids.is_empty() {
                    break;
                }
                let acked: u64 = redis::cmd("XACK")
                    .arg(key)
                    .arg("hub")
                    .arg(&ids)
                    .query_async(&mut conn)
                    .await
                    .map_err(redis_err)?;
                moved += acked;
            }
            Ok::<u64, BenchError>(moved)
        }
    });
    let mut moved = 0;
    for done in futures::future::join_all(loops).await {
        moved += done?;
    }
    let elapsed = start.elapsed();
    let mut conn = conn.clone();
    redis::cmd("DEL")
        .arg(&keys)
        .query_async::<()>(&mut conn)
        .await
        .map_err(redis_err)?;
    Ok(Ceiling { moved, elapsed })
}
