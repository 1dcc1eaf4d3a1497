//! `tradehub demo`: the whole job in one process. The hub, a simulated Odoo, a REST broker with
//! signed callbacks, an EDIFACT broker over a folder pair and a carrier run on loopback ports;
//! pickings are created in Odoo and the hub finds them by its normal path (webhook hint and
//! poll). The people around the hub are played by [`people`]: a data steward fixes missing HS
//! codes, a compliance officer decides potential screening matches, a customs operator amends
//! rejected declarations, the warehouse ships released goods, and sales cancels a few orders.
//!
//! Every shipment's expected end is known before it starts (from the seeded data: SDN-listed
//! customers end BLOCKED, the orders sales cancels end CANCELLED, the rest CLOSED), and the
//! summary compares what happened with it, in the hub and in Odoo's `x_trade_status`.

pub mod people;
pub mod world;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde::Serialize;

pub use world::{DemoOptions, World};

/// How one shipment ended.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    /// Saga key.
    pub shipment_id: String,
    /// What the seeded data says it should end as.
    pub expected: String,
    /// The hub's stage at the end.
    pub hub_stage: Option<String>,
    /// Odoo's `x_trade_status` at the end.
    pub odoo_status: Option<String>,
    /// Types of the exceptions it went through.
    pub exceptions: Vec<String>,
    /// The exceptions still open at the end, with their detail.
    pub open_exceptions: Vec<String>,
    /// Calls that changed its picking in Odoo (status writes, notes, to-dos), as Odoo counts them.
    pub odoo_writebacks: u64,
    /// Declaration versions the hub filed (0: none; 2: the first was amended and refiled).
    pub declarations: u32,
    /// From the picking's creation to its terminal status in Odoo.
    pub latency_ms: Option<u64>,
}

impl Outcome {
    /// Whether it ended as expected, in the hub and in Odoo.
    pub fn as_expected(&self) -> bool {
        self.hub_stage.as_deref() == Some(self.expected.as_str())
            && self.odoo_status.as_deref() == Some(self.expected.as_str())
    }
}

/// The demo's result (`--json` prints it).
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// Shipments created.
    pub shipments: usize,
    /// Final hub stage → count.
    pub by_state: BTreeMap<String, usize>,
    /// Exception type → shipments that raised it.
    pub exceptions: BTreeMap<String, usize>,
    /// Calls that changed a picking in Odoo (status writes, notes, to-dos), as Odoo counts them.
    pub odoo_writebacks: u64,
    /// End-to-end latency, picking created → terminal status in Odoo.
    pub latency_p50_ms: u64,
    /// The 99th percentile of the same.
    pub latency_p99_ms: u64,
    /// Shipments that reached a terminal state per second of the run.
    pub throughput_per_sec: f64,
    /// Every shipment ended as its seeded scenario expects, in the hub and in Odoo.
    pub all_as_expected: bool,
    /// Seconds from the first picking to the last terminal state (or the deadline).
    pub elapsed_secs: f64,
    /// Whether the deadline passed before every shipment finished.
    pub timed_out: bool,
    /// Which Redis the run used.
    pub redis: String,
    /// What the people did: action → count.
    pub actions: BTreeMap<String, u64>,
    /// The shipments that did not end as expected (at most 20).
    pub unexpected: Vec<Outcome>,
    /// Where the hub's log went, when the command line sent it to a file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log: Option<std::path::PathBuf>,
}

impl Summary {
    /// Summarise `outcomes` of a run that took `elapsed`.
    pub fn new(
        outcomes: &[Outcome],
        elapsed: Duration,
        timed_out: bool,
        redis: String,
        actions: BTreeMap<String, u64>,
    ) -> Self {
        let mut by_state = BTreeMap::new();
        let mut exceptions = BTreeMap::new();
        let mut latencies: Vec<u64> = Vec::new();
        for o in outcomes {
            let stage = o.hub_stage.clone().unwrap_or_else(|| "UNKNOWN".to_owned());
            *by_state.entry(stage).or_insert(0) += 1;
            let mut kinds = o.exceptions.clone();
            kinds.sort();
            kinds.dedup();
            for kind in kinds {
                *exceptions.entry(kind).or_insert(0) += 1;
            }
            latencies.extend(o.latency_ms);
        }
        latencies.sort_unstable();
        let finished = latencies.len();
        let secs = elapsed.as_secs_f64();
        Self {
            shipments: outcomes.len(),
            by_state,
            exceptions,
            odoo_writebacks: outcomes.iter().map(|o| o.odoo_writebacks).sum(),
            latency_p50_ms: percentile(&latencies, 50),
            latency_p99_ms: percentile(&latencies, 99),
            throughput_per_sec: if secs > 0.0 {
                finished as f64 / secs
            } else {
                0.0
            },
            all_as_expected: !timed_out && outcomes.iter().all(Outcome::as_expected),
            elapsed_secs: secs,
            timed_out,
            redis,
            actions,
            unexpected: unexpected(outcomes),
            log: None,
        }
    }
}

/// The shipments that did not end as expected, at most 20 of them.
pub fn unexpected(outcomes: &[Outcome]) -> Vec<Outcome> {
    outcomes
        .iter()
        .filter(|o| !o.as_expected())
        .take(20)
        .cloned()
        .collect()
}

/// The `p`th percentile of sorted `values` (nearest rank); 0 when empty.
pub fn percentile(sorted: &[u64], p: usize) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (p * sorted.len()).div_ceil(100).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// Run the demo: start the world, create the pickings, let the people work until every
/// shipment is terminal or `options.deadline` passes, and summarise. `progress` is told
/// `(finished, total)` after every round.
pub async fn run(
    options: DemoOptions,
    progress: impl FnMut(usize, usize),
) -> Result<Summary, world::DemoError> {
    let world = World::start(&options).await?;
    let mut people = people::People::new(&world, &options)?;
    let run = drive(&world, &mut people, &options, progress).await;
    let summary = match run {
        Ok((elapsed, timed_out)) => people.outcomes(&world).await.map(|outcomes| {
            Summary::new(
                &outcomes,
                elapsed,
                timed_out,
                world.redis_description(),
                people.actions(),
            )
        }),
        Err(error) => Err(error),
    };
    world.stop().await;
    summary
}

/// Let the people work, round after round, until every shipment is terminal or the deadline
/// passes; returns how long it took from the first picking's creation and whether the deadline
/// passed.
pub async fn drive(
    world: &World,
    people: &mut people::People,
    options: &DemoOptions,
    mut progress: impl FnMut(usize, usize),
) -> Result<(Duration, bool), world::DemoError> {
    let started = people.started();
    let deadline = started + options.deadline;
    let total = people.len();
    loop {
        let finished = people.round(world).await?;
        progress(finished, total);
        if finished == total {
            return Ok((started.elapsed(), false));
        }
        if Instant::now() >= deadline {
            return Ok((started.elapsed(), true));
        }
        tokio::time::sleep(options.tick).await;
    }
}

#[cfg(test)]
mod tests {
    use super::percentile;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let values: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&values, 50), 50);
        assert_eq!(percentile(&values, 99), 99);
        assert_eq!(percentile(&[7], 99), 7);
        assert_eq!(percentile(&[], 50), 0);
    }
}
