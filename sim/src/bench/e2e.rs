//! `tradehub bench e2e`: complete shipment lifecycles through the demo's world with the
//! simulators answering at once (no step delays, no injected faults, no cancellations) and the
//! per-partner rate limits lifted, on a private Redis with AOF everysec.
//!
//! Reported: shipments per second (picking created → terminal in Odoo, over the whole run), the
//! hub-side latency of one saga step (apply and commit of one input, the runtime's
//! `tradehub_host_commit_duration_seconds`), Redis commands per shipment (`INFO stats` before and
//! after, everything the hub and its ingest sent), and the process's resident memory at the end.
//! The simulators run in the same process, so the memory figure includes them.

use std::collections::BTreeMap;
use std::time::Duration;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use serde::Serialize;

use crate::demo::people::People;
use crate::demo::world::{DemoOptions, HubMode, World};
use crate::demo::{drive, percentile};
use tradehub::config::PartnerLimits;
use tradehub::store::{RedisMailbox, StoreConfig};

/// What one run measured.
#[derive(Debug, Clone, Serialize)]
pub struct E2eReport {
    /// Shipments created.
    pub shipments: usize,
    /// Shipments that reached a terminal state.
    pub finished: usize,
    /// Whether every shipment ended as its scenario expects.
    pub all_as_expected: bool,
    /// Seconds from the first picking to the last terminal state (or the deadline).
    pub seconds: f64,
    /// Complete lifecycles per second.
    pub shipments_per_sec: f64,
    /// Hub-side latency of one saga step (apply + commit), 50th percentile, ms.
    pub step_p50_ms: f64,
    /// The same, 99th percentile, ms.
    pub step_p99_ms: f64,
    /// End-to-end latency of one shipment, 50th percentile, ms.
    pub latency_p50_ms: u64,
    /// The same, 99th percentile, ms.
    pub latency_p99_ms: u64,
    /// Redis commands executed per shipment (server side, scripts' inner commands included).
    pub redis_cmds_per_shipment: f64,
    /// The same by command name (`INFO commandstats`), largest first in the text output.
    pub redis_cmds_by_command: BTreeMap<String, f64>,
    /// Resident memory at the end, MiB: of the hub process alone when it ran as one, else of
    /// this process (hub and simulators together).
    pub rss_mb: f64,
    /// Whose memory `rss_mb` is: `"hub process"` or `"hub and simulators"`.
    pub rss_of: &'static str,
}

/// Run the benchmark over `shipments` pickings with config and data under `home`; with
/// `hub_binary` the hub runs as that binary's `serve` in a child process, so that its memory
/// is measured apart from the simulators'.
pub async fn run(
    shipments: usize,
    home: std::path::PathBuf,
    hub_binary: Option<std::path::PathBuf>,
) -> Result<E2eReport, String> {
    let metrics = PrometheusBuilder::new()
        .install_recorder()
        .map_err(|e| format!("metrics recorder: {e}"))?;
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

async fn measure(
    world: &World,
    options: &DemoOptions,
    metrics: &PrometheusHandle,
) -> Result<E2eReport, String> {
    let server = RedisMailbox::connect(StoreConfig::with_url(world.redis.url()))
        .await
        .map_err(|e| e.to_string())?;
    let before = server
        .commands_processed()
        .await
        .map_err(|e| e.to_string())?;
    let calls_before = server.command_calls().await.map_err(|e| e.to_string())?;
    let mut people = People::new(world, options).map_err(|e| e.to_string())?;
    let (elapsed, _) = drive(world, &mut people, options, |_, _| {})
        .await
        .map_err(|e| e.to_string())?;
    let after = server
        .commands_processed()
        .await
        .map_err(|e| e.to_string())?;
    let calls_after = server.command_calls().await.map_err(|e| e.to_string())?;
    let outcomes = people.outcomes(world).await.map_err(|e| e.to_string())?;
    let mut latencies: Vec<u64> = outcomes.iter().filter_map(|o| o.latency_ms).collect();
    latencies.sort_unstable();
    let finished = latencies.len();
    let (rendered, rss_mb, rss_of) = match world.hub_pid() {
        Some(pid) => (
            world.hub_metrics().await.unwrap_or_default(),
            rss_mb(&format!("/proc/{pid}/status")),
            "hub process",
        ),
        None => (
            metrics.render(),
            rss_mb("/proc/self/status"),
            "hub and simulators",
        ),
    };
    let seconds = elapsed.as_secs_f64();
    Ok(E2eReport {
        shipments: outcomes.len(),
        finished,
        all_as_expected: finished == outcomes.len() && outcomes.iter().all(|o| o.as_expected()),
        seconds,
        shipments_per_sec: finished as f64 / seconds.max(f64::EPSILON),
        step_p50_ms: quantile_ms(&rendered, "0.5"),
        step_p99_ms: quantile_ms(&rendered, "0.99"),
        latency_p50_ms: percentile(&latencies, 50),
        latency_p99_ms: percentile(&latencies, 99),
        redis_cmds_per_shipment: after.saturating_sub(before) as f64 / outcomes.len().max(1) as f64,
        redis_cmds_by_command: calls_after
            .into_iter()
            .map(|(name, calls)| {
                let delta = calls.saturating_sub(calls_before.get(&name).copied().unwrap_or(0));
                (name, delta as f64 / outcomes.len().max(1) as f64)
            })
            .filter(|(_, per)| *per > 0.0)
            .collect(),
        rss_mb,
        rss_of,
    })
}

/// The largest of the partitions' commit-duration `quantile` in the rendered metrics, in ms.
fn quantile_ms(rendered: &str, quantile: &str) -> f64 {
    let label = format!("quantile=\"{quantile}\"");
    rendered
        .lines()
        .filter(|l| l.starts_with(tradehub_actors::metrics::HOST_COMMIT_DURATION_SECONDS))
        .filter(|l| l.contains(&label))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .fold(0.0, f64::max)
        * 1000.0
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
mod tests {
    use super::quantile_ms;

    #[test]
    fn the_worst_partition_quantile_is_read_from_the_exposition() {
        let text = "# TYPE tradehub_host_commit_duration_seconds summary\n\
            tradehub_host_commit_duration_seconds{partition=\"0\",quantile=\"0.99\"} 0.004\n\
            tradehub_host_commit_duration_seconds{partition=\"1\",quantile=\"0.99\"} 0.007\n\
            tradehub_host_commit_duration_seconds{partition=\"1\",quantile=\"0.5\"} 0.001\n\
            tradehub_host_commit_duration_seconds_count{partition=\"1\"} 9\n";
        assert!((quantile_ms(text, "0.99") - 7.0).abs() < 1e-9);
        assert!((quantile_ms(text, "0.5") - 1.0).abs() < 1e-9);
        assert!(quantile_ms(text, "0.9").abs() < 1e-9);
    }
}
