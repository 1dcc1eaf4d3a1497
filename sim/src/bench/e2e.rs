//! `tradehub bench e2e`: complete shipment lifecycles through the demo's world with the
//! simulators answering at once (no step delays, no injected faults, no cancellations) and the
//! per-partner rate limits lifted, on a private Redis with AOF everysec.
//!
//! Only shipments that ended as their seeded scenario expects count. Reported: full lifecycles
//! (ended CLOSED as expected) per second, apart from all terminal outcomes per second (about a
//! fifth of the shipments stop BLOCKED after screening, by design), both over the run from the
//! first picking's creation to the last terminal status; each shipment's latency from its own
//! picking's creation; the hub-side latency of one saga step (apply and commit of one input, the
//! runtime's `tradehub_host_commit_duration_seconds`) from its histogram's bucket counts before
//! and after the run, so the whole run counts; Redis commands per finished shipment (`INFO
//! stats` before and after, everything the hub and its ingest sent); Redis memory per finished
//! shipment (`INFO memory` before and after), and again once retention has archived the finished
//! shipments (as `[retention]` would once `finished` has passed; audit entries stay); and the
//! hub's resident memory at the end (with the simulators', unless the hub ran as its own
//! process).

use std::collections::BTreeMap;
use std::time::Duration;

use metrics_exporter_prometheus::PrometheusHandle;
use serde::Serialize;

use super::histogram::Buckets;
use crate::demo::people::People;
use crate::demo::world::{DemoOptions, HubMode, World};
use crate::demo::{Outcome, drive, percentile, unexpected};
use tradehub::config::{PartnerLimits, Workflow};
use tradehub::retention::{Retention, RetentionConfig};
use tradehub::service::retention::compactor;
use tradehub::store::RedisMailbox;
use tradehub_actors::metrics::HOST_COMMIT_DURATION_SECONDS;

/// How the shipments of a run ended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    /// Shipments created.
    pub shipments: usize,
    /// Shipments seen at a terminal status in Odoo during the run, as expected or not.
    pub terminal: usize,
    /// Shipments that ended as their scenario expects, in the hub and in Odoo.
    pub as_expected: usize,
    /// Full lifecycles: shipments expected to close that ended CLOSED.
    pub closed: usize,
}

impl Tally {
    /// Count `outcomes`.
    pub fn of(outcomes: &[Outcome]) -> Self {
        Self {
            shipments: outcomes.len(),
            terminal: outcomes.iter().filter(|o| o.latency_ms.is_some()).count(),
            as_expected: outcomes.iter().filter(|o| o.as_expected()).count(),
            closed: outcomes.iter().filter(|o| is_full_lifecycle(o)).count(),
        }
    }

    /// Shipments that did not end as expected.
    pub fn unexpected(&self) -> usize {
        self.shipments - self.as_expected
    }
}

fn is_full_lifecycle(outcome: &Outcome) -> bool {
    outcome.expected == "CLOSED" && outcome.as_expected()
}

/// What one run measured.
#[derive(Debug, Clone, Serialize)]
pub struct E2eReport {
    /// How the shipments ended.
    #[serde(flatten)]
    pub tally: Tally,
    /// Whether every shipment ended as its scenario expects.
    pub all_as_expected: bool,
    /// Seconds from the first picking's creation to the last terminal status (or the deadline).
    pub seconds: f64,
    /// Full lifecycles (ended CLOSED as expected) per second.
    pub closed_per_sec: f64,
    /// Terminal outcomes of any kind (CLOSED, BLOCKED, CANCELLED, expected or not) per second.
    pub terminal_per_sec: f64,
    /// Saga steps (committed transitions) the step latencies are computed over.
    pub steps: u64,
    /// Hub-side latency of one saga step (apply + commit), 50th percentile over the run, ms.
    pub step_p50_ms: f64,
    /// The same, 99th percentile, ms.
    pub step_p99_ms: f64,
    /// Full lifecycle latency, picking created → CLOSED in Odoo, 50th percentile, ms.
    pub closed_latency_p50_ms: u64,
    /// The same, 99th percentile, ms.
    pub closed_latency_p99_ms: u64,
    /// Picking created → any terminal status in Odoo, 50th percentile, ms.
    pub terminal_latency_p50_ms: u64,
    /// The same, 99th percentile, ms.
    pub terminal_latency_p99_ms: u64,
    /// Redis commands executed per finished (terminal) shipment, scripts' inner commands included.
    pub redis_cmds_per_shipment: f64,
    /// The same by command name (`INFO commandstats`), largest first in the text output.
    pub redis_cmds_by_command: BTreeMap<String, f64>,
    /// Redis memory grown per finished shipment over the run, bytes (`used_memory`).
    pub redis_bytes_per_shipment: f64,
    /// The same once retention archived the finished shipments (state to summary, timeline to
    /// the export; audit entries kept).
    pub redis_bytes_per_shipment_archived: f64,
    /// Shipments retention archived at the end (CLOSED and CANCELLED; BLOCKED ones stay).
    pub archived: u64,
    /// Resident memory at the end, MiB: of the hub process alone when it ran as one, else of
    /// this process (hub and simulators together).
    pub rss_mb: f64,
    /// Whose memory `rss_mb` is: `"hub process"` or `"hub and simulators"`.
    pub rss_of: &'static str,
    /// The shipments that did not end as expected (at most 20).
    pub unexpected: Vec<Outcome>,
}

/// Run the benchmark over `shipments` pickings with config and data under `home`; with
/// `hub_binary` the hub runs as that binary's `serve` in a child process, so that its memory
/// is measured apart from the simulators'.
pub async fn run(
    shipments: usize,
    home: std::path::PathBuf,
    hub_binary: Option<std::path::PathBuf>,
) -> Result<E2eReport, String> {
    let metrics = tradehub::telemetry::install_prometheus()?;
    let options = DemoOptions {
        shipments,
        step_delay: Duration::ZERO,
        cancel_percent: 0,
        broker_fault_rate: 0.0,
        private_redis: true,
        partitions: 16,
        // The people look at every open picking each round: rounds grow rarer with the run's
        // size so that watching does not crowd out the simulated Odoo.
        tick: Duration::from_millis((shipments as u64 / 200).max(50)),
        deadline: Duration::from_secs(120 + shipments as u64 / 5),
        home,
        partner_limits: Some(unthrottled()),
        hub: hub_binary.map_or(HubMode::InProcess, HubMode::Process),
        ..DemoOptions::default()
    };
    let world = World::start(&options).await.map_err(|e| e.to_string())?;
    let result = measure(&world, &options, &metrics).await;
    world.stop().await;
    result
}

/// Partner limits that do not bind: the configured quota (1,000 calls/s per partner by default)
/// would otherwise cap the run at about 80 shipments/s, since a shipment makes a dozen Odoo calls.
fn unthrottled() -> PartnerLimits {
    PartnerLimits {
        rate_per_sec: 1_000_000,
        burst: 10_000,
        concurrency: 64,
        ..PartnerLimits::default()
    }
}

/// The hub's metrics: from its process when it runs as one, else from this process's recorder.
async fn exposition(world: &World, metrics: &PrometheusHandle) -> Result<String, String> {
    match world.hub_pid() {
        Some(_) => world
            .hub_metrics()
            .await
            .ok_or_else(|| "the hub process's /metrics did not answer".to_owned()),
        None => Ok(metrics.render()),
    }
}

async fn measure(
    world: &World,
    options: &DemoOptions,
    metrics: &PrometheusHandle,
) -> Result<E2eReport, String> {
    let server = &world.store;
    let steps_before = Buckets::of(
        &exposition(world, metrics).await?,
        HOST_COMMIT_DURATION_SECONDS,
    );
    let before = server
        .commands_processed()
        .await
        .map_err(|e| e.to_string())?;
    let calls_before = server.command_calls().await.map_err(|e| e.to_string())?;
    let memory_before = server.used_memory().await.map_err(|e| e.to_string())?;
    let mut people = People::new(world, options).map_err(|e| e.to_string())?;
    let (elapsed, _) = drive(world, &mut people, options, |_, _| {})
        .await
        .map_err(|e| e.to_string())?;
    let after = server
        .commands_processed()
        .await
        .map_err(|e| e.to_string())?;
    let calls_after = server.command_calls().await.map_err(|e| e.to_string())?;
    let steps = Buckets::of(
        &exposition(world, metrics).await?,
        HOST_COMMIT_DURATION_SECONDS,
    )
    .since(&steps_before);
    let outcomes = people.outcomes(world).await.map_err(|e| e.to_string())?;
    let tally = Tally::of(&outcomes);
    let memory_after = server.used_memory().await.map_err(|e| e.to_string())?;
    let archived = archive_finished(server, world.partitions).await?;
    let memory_archived = server.used_memory().await.map_err(|e| e.to_string())?;
    let latencies = |keep: fn(&Outcome) -> bool| {
        let mut sorted: Vec<u64> = outcomes
            .iter()
            .filter(|o| keep(o))
            .filter_map(|o| o.latency_ms)
            .collect();
        sorted.sort_unstable();
        sorted
    };
    let closed = latencies(is_full_lifecycle);
    let terminal = latencies(|_| true);
    let (rss_mb, rss_of) = match world.hub_pid() {
        Some(pid) => (rss_mb(&format!("/proc/{pid}/status")), "hub process"),
        None => (rss_mb("/proc/self/status"), "hub and simulators"),
    };
    let seconds = elapsed.as_secs_f64().max(f64::EPSILON);
    let per_finished = |count: u64| count as f64 / tally.terminal.max(1) as f64;
    Ok(E2eReport {
        tally,
        all_as_expected: tally.unexpected() == 0,
        seconds,
        closed_per_sec: tally.closed as f64 / seconds,
        terminal_per_sec: tally.terminal as f64 / seconds,
        steps: steps.count(),
        step_p50_ms: steps.quantile(0.50) * 1000.0,
        step_p99_ms: steps.quantile(0.99) * 1000.0,
        closed_latency_p50_ms: percentile(&closed, 50),
        closed_latency_p99_ms: percentile(&closed, 99),
        terminal_latency_p50_ms: percentile(&terminal, 50),
        terminal_latency_p99_ms: percentile(&terminal, 99),
        redis_cmds_per_shipment: per_finished(after.saturating_sub(before)),
        redis_cmds_by_command: calls_after
            .into_iter()
            .map(|(name, calls)| {
                let delta = calls.saturating_sub(calls_before.get(&name).copied().unwrap_or(0));
                (name, per_finished(delta))
            })
            .filter(|(_, per)| *per > 0.0)
            .collect(),
        redis_bytes_per_shipment: per_finished(memory_after.saturating_sub(memory_before)),
        redis_bytes_per_shipment_archived: per_finished(
            memory_archived.saturating_sub(memory_before),
        ),
        archived,
        rss_mb,
        rss_of,
        unexpected: unexpected(&outcomes),
    })
}

/// Archive every finished shipment now, as retention does once `[retention] finished` has
/// passed (exports to a folder dropped after); the audit chains are left whole. How many.
async fn archive_finished(server: &RedisMailbox, partitions: u16) -> Result<u64, String> {
    let exports = tempfile::tempdir().map_err(|e| e.to_string())?;
    let config = RetentionConfig {
        export_dir: exports.path().to_owned(),
        finished: Duration::ZERO,
        ..RetentionConfig::default()
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let retention = Retention::new(
        config,
        server.clone(),
        partitions,
        Vec::new(),
        compactor(Workflow::Shipment),
    );
    let report = retention
        .run_at(now + 1000)
        .await
        .map_err(|e| e.to_string())?;
    Ok(report.sagas_archived)
}

/// Resident memory from a `/proc/<pid>/status` file (0 where there is none).
fn rss_mb(status: &str) -> f64 {
    std::fs::read_to_string(status)
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

#[cfg(test)]
mod tests;
