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
            json,
        } => {
            if !seconds.is_finite() || seconds <= 0.0 || partitions == 0 || keys == 0 {
                eprintln!("bench runtime: --seconds, --partitions and --keys must be positive");
                return ExitCode::from(EXIT_USAGE);
            }
            let options = RuntimeBenchOptions {
                seconds,
                partitions,
                keys,
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
                    "  transitions/s            {:>12.0}  ({} in {:.2} s)",
                    report.transitions_per_sec, report.transitions, report.seconds
                );
                println!(
                    "  commit p50 / p99         {:>9.3} ms / {:.3} ms",
                    report.commit_p50_ms, report.commit_p99_ms
                );
                println!(
                    "  redis cmds / transition  {:>12.2}  (server side, script internals included: {:.2})",
                    report.redis_cmds_per_transition, report.redis_server_cmds_per_transition
                );
                println!(
                    "  raw ceiling msgs/s       {:>12.0}",
                    report.raw_ceiling_per_sec
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
        println!(
            "end-to-end benchmark: {} shipments, {} finished in {:.1} s (all as expected: {})",
            report.shipments, report.finished, report.seconds, report.all_as_expected
        );
        println!(
            "  shipments/s              {:>10.1}",
            report.shipments_per_sec
        );
        println!(
            "  saga step p50 / p99      {:>7.2} ms / {:.2} ms",
            report.step_p50_ms, report.step_p99_ms
        );
        println!(
            "  shipment p50 / p99       {:>7} ms / {} ms",
            report.latency_p50_ms, report.latency_p99_ms
        );
        println!(
            "  redis cmds / shipment    {:>10.1}",
            report.redis_cmds_per_shipment
        );
        let mut by_command: Vec<(&String, &f64)> = report.redis_cmds_by_command.iter().collect();
        by_command.sort_by(|a, b| b.1.total_cmp(a.1));
        for (name, per) in by_command.iter().take(8) {
            println!("    {name:<22} {per:>10.1}");
        }
        println!("  rss ({})  {:>10.1} MiB", report.rss_of, report.rss_mb);
    }
    if report.finished == report.shipments {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
