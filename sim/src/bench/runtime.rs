//! `tradehub bench runtime`: committed transitions per second through the full
//! path (XREADGROUP → apply → commit script) on a private Redis with AOF
//! `everysec`, against the raw ceiling of the same Redis and client measured in
//! the same run (an XADD + XREADGROUP + XACK loop).
//!
//! Each transition is an `echo.ping` of the echo workflow: it writes the state,
//! one history entry and one partner command, and acknowledges its input.

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::Actor;
use futures::StreamExt;
use redis::aio::ConnectionManager;
use serde::Serialize;
use tradehub_actors::clock::SystemClock;
use tradehub_actors::envelope::{Envelope, partition_of};
use tradehub_actors::host::{HostConfig, PartitionHost};
use tradehub_actors::mailbox::{Mailbox, StreamName};
use tradehub_actors::supervisor::{ChildGuard, Shutdown};

use super::measured::Measured;
use tradehub::store::{RedisMailbox, StoreConfig};
use tradehub::workflow::echo::{ECHO_PARTNER, EchoSaga, PING};
use tradehub_testkit::{Persistence, RedisServer};

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
}

impl Default for RuntimeBenchOptions {
    fn default() -> Self {
        Self {
            seconds: 10.0,
            partitions: 16,
            keys: 10_000,
            batch: 128,
        }
    }
}

/// The figures, as printed by `--json`.
#[derive(Debug, Clone, Serialize)]
pub struct RuntimeBenchReport {
    /// Committed transitions per second through the full path.
    pub transitions_per_sec: f64,
    /// Median commit latency (one commit script call), ms.
    pub commit_p50_ms: f64,
    /// 99th percentile commit latency, ms.
    pub commit_p99_ms: f64,
    /// Redis commands the hub sent per committed transition (reads, loads, commits, timers, reclaims).
    pub redis_cmds_per_transition: f64,
    /// Commands Redis executed per transition, counting those run inside scripts.
    pub redis_server_cmds_per_transition: f64,
    /// Messages per second through XADD + XREADGROUP + XACK with the same client.
    pub raw_ceiling_per_sec: f64,
    /// `transitions_per_sec / raw_ceiling_per_sec`.
    pub ratio_to_ceiling: f64,
    /// Transitions committed in the measured phase.
    pub transitions: usize,
    /// Length of the measured phase, s.
    pub seconds: f64,
    /// Partitions and keys used.
    pub partitions: u16,
    /// Keys used.
    pub keys: usize,
    /// How Redis persisted during the run.
    pub redis_persistence: &'static str,
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

/// Run both phases on a fresh private Redis (AOF, `appendfsync everysec`).
/// Call inside an actix system.
pub async fn run(options: &RuntimeBenchOptions) -> Result<RuntimeBenchReport, BenchError> {
    let server = RedisServer::start(Persistence::AofEverySec)?;
    let url = server.url();
    let bound = Duration::from_secs_f64(options.seconds);
    let raw_ceiling_per_sec = raw_ceiling(&url, options, bound).await?;
    // Enough inputs to keep the hosts busy for the whole phase at well above the target rate.
    let inputs = ((options.seconds * 40_000.0) as usize).clamp(10_000, 2_000_000);
    let full = full_path(&url, "bench", options, inputs, bound).await?;

    let transitions_per_sec = full.transitions as f64 / full.elapsed.as_secs_f64();
    let per = |n: u64| {
        if full.transitions == 0 {
            0.0
        } else {
            n as f64 / full.transitions as f64
        }
    };
    Ok(RuntimeBenchReport {
        transitions_per_sec,
        commit_p50_ms: full.commit_p50_ms,
        commit_p99_ms: full.commit_p99_ms,
        redis_cmds_per_transition: per(full.client_commands),
        redis_server_cmds_per_transition: per(full.server_commands),
        raw_ceiling_per_sec,
        ratio_to_ceiling: if raw_ceiling_per_sec > 0.0 {
            transitions_per_sec / raw_ceiling_per_sec
        } else {
            0.0
        },
        transitions: full.transitions,
        seconds: full.elapsed.as_secs_f64(),
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
    prefill(&store, inputs, options).await?;

    let server_before = store.commands_processed().await.map_err(redis_err)?;
    let client_before = store.commands_issued();
    let measured = Measured::new(store.clone());
    let log = measured.log();
    let mut host_config = HostConfig::new("bench");
    host_config.batch_size = options.batch;
    host_config.block_ms = 50;
    host_config.max_in_flight = options.batch * 16;
    let hosts: Vec<_> = (0..options.partitions)
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

    let start = Instant::now();
    while start.elapsed() < bound && committed(&log) < inputs {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let elapsed = start.elapsed();
    let transitions = committed(&log);
    let client_commands = store.commands_issued() - client_before;
    let server_commands = store.commands_processed().await.map_err(redis_err)? - server_before;
    for host in hosts {
        // A host already gone has nothing left to stop.
        let _ = host
            .send(Shutdown {
                grace: Duration::from_secs(2),
            })
            .await;
    }
    let (commit_p50_ms, commit_p99_ms) = log
        .lock()
        .map(|log| (log.quantile_ms(0.50), log.quantile_ms(0.99)))
        .unwrap_or_default();
    Ok(FullPath {
        transitions,
        elapsed,
        commit_p50_ms,
        commit_p99_ms,
        client_commands,
        server_commands,
    })
}

fn committed(log: &std::sync::Mutex<super::measured::CommitLog>) -> usize {
    log.lock().map(|log| log.committed()).unwrap_or(0)
}

fn input(n: usize, keys: usize) -> Envelope {
    Envelope::new(
        format!("b-{n}"),
        format!("shipment-{}", n % keys),
        PING,
        serde_json::json!({ "n": n }),
    )
}

async fn prefill(
    store: &RedisMailbox,
    inputs: usize,
    options: &RuntimeBenchOptions,
) -> Result<(), BenchError> {
    let mut results = futures::stream::iter(0..inputs)
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

/// Messages per second through XADD, XREADGROUP and XACK, one loop per
/// partition, all on one multiplexed connection (as the store uses).
pub async fn raw_ceiling(
    url: &str,
    options: &RuntimeBenchOptions,
    bound: Duration,
) -> Result<f64, BenchError> {
    let conn = ConnectionManager::new(redis::Client::open(url).map_err(redis_err)?)
        .await
        .map_err(redis_err)?;
    let payload = serde_json::to_string(&input(0, options.keys)).map_err(redis_err)?;
    let deadline = Instant::now() + bound;
    let start = Instant::now();
    let loops = (0..options.partitions).map(|partition| {
        let mut conn = conn.clone();
        let payload = payload.clone();
        let batch = options.batch;
        async move {
            let key = format!("raw:{{s{partition}}}:in");
            redis::cmd("XGROUP")
                .arg("CREATE")
                .arg(&key)
                .arg("hub")
                .arg("0")
                .arg("MKSTREAM")
                .query_async::<()>(&mut conn)
                .await
                .map_err(redis_err)?;
            let mut moved = 0u64;
            while Instant::now() < deadline {
                let mut pipe = redis::pipe();
                for _ in 0..batch {
                    pipe.cmd("XADD")
                        .arg(&key)
                        .arg("*")
                        .arg("e")
                        .arg(&payload)
                        .ignore();
                }
                pipe.query_async::<()>(&mut conn).await.map_err(redis_err)?;
                let read: redis::streams::StreamReadReply = redis::cmd("XREADGROUP")
                    .arg("GROUP")
                    .arg("hub")
                    .arg("raw")
                    .arg("COUNT")
                    .arg(batch)
                    .arg("STREAMS")
                    .arg(&key)
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
                    continue;
                }
                let acked: u64 = redis::cmd("XACK")
                    .arg(&key)
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
    let mut total = 0;
    for moved in futures::future::join_all(loops).await {
        total += moved?;
    }
    Ok(total as f64 / start.elapsed().as_secs_f64())
}
