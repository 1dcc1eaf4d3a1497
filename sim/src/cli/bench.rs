//! `tradehub bench …`: benchmarks against real Redis, printed as a table or one
//! JSON document.

use std::process::ExitCode;

use clap::{Args, Subcommand};

use crate::bench::runtime::{RuntimeBenchOptions, run};
use tradehub::cli::EXIT_USAGE;

/// Benchmarks.
#[derive(Debug, Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    which: Which,
}

#[derive(Debug, Subcommand)]
enum Which {
    /// Committed transitions per second through the runtime's full path, against the raw Redis ceiling.
    Runtime {
        /// Length of each measured phase, in seconds.
        #[arg(long, default_value_t = 10.0)]
        seconds: f64,
        /// Partitions (one host each).
        #[arg(long, default_value_t = 16)]
        partitions: u16,
        /// Distinct saga keys.
        #[arg(long, default_value_t = 10_000)]
        keys: usize,
        /// Load of the paced phase, as a fraction of the saturated rate (0 < load ≤ 1).
        #[arg(long, default_value_t = 0.5)]
        paced_load: f64,
        /// Print one JSON document.
        #[arg(long)]
        json: bool,
    },
    /// Complete shipment lifecycles per second through the hub and the simulators.
    E2e {
        /// Pickings to create.
        #[arg(long, default_value_t = 1_000)]
        shipments: usize,
        /// Folder holding config/ and data/.
        #[arg(long, default_value = ".")]
        home: std::path::PathBuf,
        /// Run the hub as a child `tradehub serve` process (this binary), so that its memory is
        /// measured alone; otherwise it shares this process with the simulators.
        #[arg(long)]
        hub_process: bool,
        /// Print one JSON document.
        #[arg(long)]
        json: bool,
    },
}

/// Run the chosen benchmark.
pub fn bench(args: BenchArgs) -> ExitCode {
    match args.which {
        Which::E2e {
            shipments,
            home,
            hub_process,
            json,
        } => e2e(shipments, home, hub_process, json),
        Which::Runtime {
            seconds,
            partitions,
            keys,
            paced_load,
            json,
        } => {
            if !seconds.is_finite() || seconds <= 0.0 || partitions == 0 || keys == 0 {
                eprintln!("bench runtime: --seconds, --partitions and --keys must be positive");
                return ExitCode::from(EXIT_USAGE);
            }
            if !(paced_load > 0.0 && paced_load <= 1.0) {
                eprintln!("bench runtime: --paced-load must be above 0 and at most 1");
                return ExitCode::from(EXIT_USAGE);
            }
            let options = RuntimeBenchOptions {
                seconds,
                partitions,
                keys,
                paced_load,
                ..RuntimeBenchOptions::default()
            };
            let report = match actix::System::new().block_on(run(&options)) {
                Ok(report) => report,
                Err(error) => {
                    eprintln!("bench runtime: {error}");
                    return ExitCode::FAILURE;
                }
            };
            if json {
                println!("{}", serde_json::to_string(&report).unwrap_or_default());
            } else {
                println!(
                    "runtime benchmark ({} partitions, {} keys, redis {})",
                    report.partitions, report.keys, report.redis_persistence
                );
                println!(
                    "  transitions/s            {:>12.0}  ({} in {:.2} s, saturated)",
                    report.transitions_per_sec, report.transitions, report.seconds
                );
                println!(
                    "  commit p50 / p99         {:>9.3} ms / {:.3} ms  (saturated: mostly queueing)",
                    report.commit_p50_ms, report.commit_p99_ms
                );
                let paced = &report.paced;
                println!(
                    "  paced at {:.0}% of that    {:>12.0}  offered/s ({} inputs, {} not committed when offering stopped)",
                    paced.load * 100.0,
                    paced.offered_per_sec,
                    paced.inputs,
                    paced.backlog_at_end
                );
                println!(
                    "  commit p50 / p99 paced   {:>9.3} ms / {:.3} ms",
                    paced.commit_p50_ms, paced.commit_p99_ms
                );
                println!(
                    "  redis cmds / transition  {:>12.2}  (server side, script internals included: {:.2})",
                    report.redis_cmds_per_transition, report.redis_server_cmds_per_transition
                );
                println!(
                    "  raw ceiling msgs/s       {:>12.0}  ({})",
                    report.raw_ceiling_per_sec, report.raw_ceiling_measures
                );
                println!(
                    "  ratio to ceiling         {:>12.2}",
                    report.ratio_to_ceiling
                );
            }
            ExitCode::SUCCESS
        }
    }
}

fn e2e(shipments: usize, home: std::path::PathBuf, hub_process: bool, json: bool) -> ExitCode {
    if shipments == 0 {
        eprintln!("bench e2e: --shipments must be positive");
        return ExitCode::from(EXIT_USAGE);
    }
    let hub_binary = if hub_process {
        match std::env::current_exe() {
            Ok(binary) => Some(binary),
            Err(e) => {
                eprintln!("bench e2e: --hub-process needs this program's path: {e}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        None
    };
    let run = crate::bench::e2e::run(shipments, home, hub_binary);
    let report = match actix::System::new().block_on(run) {
        Ok(report) => report,
        Err(error) => {
            eprintln!("bench e2e: {error}");
            return ExitCode::FAILURE;
        }
    };
    if json {
        println!("{}", serde_json::to_string(&report).unwrap_or_default());
    } else {
        let tally = &report.tally;
        println!(
            "end-to-end benchmark: {} shipments in {:.1} s from the first picking: {} as expected \
             ({} full lifecycles CLOSED), {} terminal",
            tally.shipments, report.seconds, tally.as_expected, tally.closed, tally.terminal
        );
        println!(
            "  full lifecycles/s        {:>10.1}  (CLOSED as expected)",
            report.closed_per_sec
        );
        println!(
            "  terminal outcomes/s      {:>10.1}  (CLOSED, BLOCKED, CANCELLED)",
            report.terminal_per_sec
        );
        println!(
            "  saga step p50 / p99      {:>7.2} ms / {:.2} ms  (histogram of all {} steps)",
            report.step_p50_ms, report.step_p99_ms, report.steps
        );
        println!(
            "  lifecycle p50 / p99      {:>7} ms / {} ms  (picking created -> CLOSED)",
            report.closed_latency_p50_ms, report.closed_latency_p99_ms
        );
        println!(
            "  terminal p50 / p99       {:>7} ms / {} ms  (picking created -> terminal)",
            report.terminal_latency_p50_ms, report.terminal_latency_p99_ms
        );
        println!(
            "  redis cmds / finished    {:>10.1}",
            report.redis_cmds_per_shipment
        );
        let mut by_command: Vec<(&String, &f64)> = report.redis_cmds_by_command.iter().collect();
        by_command.sort_by(|a, b| b.1.total_cmp(a.1));
        for (name, per) in by_command.iter().take(8) {
            println!("    {name:<22} {per:>10.1}");
        }
        println!(
            "  redis bytes / finished   {:>10.0}  ({:.0} once {} finished shipments were archived)",
            report.redis_bytes_per_shipment,
            report.redis_bytes_per_shipment_archived,
            report.archived
        );
        println!("  rss ({})  {:>10.1} MiB", report.rss_of, report.rss_mb);
    }
    if report.all_as_expected {
        ExitCode::SUCCESS
    } else {
        eprintln!(
            "bench e2e: {} of {} shipments did not end as expected",
            report.tally.unexpected(),
            report.tally.shipments
        );
        for o in &report.unexpected {
            eprintln!(
                "  {}: expected {}, hub {}, odoo {}",
                o.shipment_id,
                o.expected,
                o.hub_stage.as_deref().unwrap_or("-"),
                o.odoo_status.as_deref().unwrap_or("-")
            );
        }
        ExitCode::FAILURE
    }
}
