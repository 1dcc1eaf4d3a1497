//! `tradehub demo [--shipments N] [--json]`: the hub with simulated Odoo, brokers and carriers,
//! in one process (see [`crate::demo`]).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use crate::demo::{DemoOptions, Summary, run};
use tradehub::cli::{EXIT_PROBLEMS, EXIT_USAGE};

/// Run the demo.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Pickings to create in the simulated Odoo (a quarter are import receipts).
    #[arg(long, default_value_t = 200)]
    shipments: usize,
    /// Print the summary as one JSON document.
    #[arg(long)]
    json: bool,
    /// Seed of the data, the brokers' scenarios and the carriers.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Give up after this long.
    #[arg(long, default_value = "5m", value_parser = humantime_serde::re::humantime::parse_duration)]
    deadline: Duration,
    /// Brokers' wait between statuses and the carrier's between milestones.
    #[arg(long, default_value = "100ms", value_parser = humantime_serde::re::humantime::parse_duration)]
    step_delay: Duration,
    /// Folder holding config/ and data/.
    #[arg(long, default_value = ".")]
    home: PathBuf,
    /// Where the hub's log goes (default: `tradehub-demo-<pid>.log` in the temporary folder);
    /// the terminal shows only the progress and the summary.
    #[arg(long)]
    log: Option<PathBuf>,
}

/// Run the demo and print its summary; exit 0 only when every shipment ended as expected.
pub fn demo(args: DemoArgs) -> ExitCode {
    let log = args.log.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("tradehub-demo-{}.log", std::process::id()))
    });
    if let Err(e) = tradehub::telemetry::init_logging_to_file(&log) {
        eprintln!("cannot write the hub's log to {}: {e}", log.display());
        return ExitCode::from(EXIT_USAGE);
    }
    if !args.home.join("config/routing.toml").exists() {
        eprintln!(
            "{} holds no config/routing.toml: run the demo from the repository (or image) root, or pass --home",
            args.home.display()
        );
        return ExitCode::from(EXIT_USAGE);
    }
    let options = DemoOptions {
        shipments: args.shipments,
        seed: args.seed,
        deadline: args.deadline,
        step_delay: args.step_delay,
        home: args.home,
        ..DemoOptions::default()
    };
    let bar = if args.json {
        ProgressBar::hidden()
    } else {
        let bar = ProgressBar::new(options.shipments as u64);
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} shipments finished {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar
    };
    let system = actix::System::new();
    let result = system.block_on(run(options, |done, _| bar.set_position(done as u64)));
    bar.finish_and_clear();
    match result {
        Ok(mut summary) => {
            summary.log = Some(log);
            if args.json {
                match serde_json::to_string_pretty(&summary) {
                    Ok(text) => println!("{text}"),
                    Err(e) => eprintln!("summary: {e}"),
                }
            } else {
                print_summary(&summary);
            }
            if summary.all_as_expected {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(EXIT_PROBLEMS)
            }
        }
        Err(error) => {
            eprintln!("demo failed: {error} (the hub's log: {})", log.display());
            ExitCode::FAILURE
        }
    }
}

fn print_summary(s: &Summary) {
    println!(
        "tradehub demo: {} shipments in {:.1} s",
        s.shipments, s.elapsed_secs
    );
    println!("redis: {}", s.redis);
    println!("final states:");
    for (state, count) in &s.by_state {
        println!("  {state:<18} {count}");
    }
    println!("exceptions raised (shipments):");
    for (kind, count) in &s.exceptions {
        println!("  {kind:<24} {count}");
    }
    println!("what people did:");
    for (action, count) in &s.actions {
        println!("  {action:<52} {count}");
    }
    println!("Odoo write-backs: {}", s.odoo_writebacks);
    if let Some(log) = &s.log {
        println!("the hub's log: {}", log.display());
    }
    println!(
        "end-to-end latency: p50 {} ms, p99 {} ms; throughput {:.1} shipments/s",
        s.latency_p50_ms, s.latency_p99_ms, s.throughput_per_sec
    );
    if s.all_as_expected {
        println!("every shipment ended as its scenario expects, in the hub and in Odoo");
    } else {
        if s.timed_out {
            println!("the deadline passed before every shipment finished");
        }
        for o in &s.unexpected {
            println!(
                "  {}: expected {}, hub {:?}, Odoo {:?}",
                o.shipment_id, o.expected, o.hub_stage, o.odoo_status
            );
        }
    }
}
