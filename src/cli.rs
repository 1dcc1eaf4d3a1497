//! The `tradehub` command line. Each area keeps its subcommands in `cli/<area>.rs`;
//! this file only dispatches.

#![allow(clippy::print_stdout)]

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod bench;
mod duty;
mod model;
mod odoo;
mod ops;
mod serve;

/// Exit code: the work found problems (invalid data, a failed evaluation).
pub const EXIT_PROBLEMS: u8 = 1;
/// Exit code: bad usage or unusable input.
pub const EXIT_USAGE: u8 = 2;

/// tradehub: integration hub for cross-border trade on Odoo.
#[derive(Debug, Parser)]
#[command(name = "tradehub", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the service: partitions, partner connections, API and metrics.
    Serve(serve::ServeArgs),
    /// Benchmarks against a private Redis.
    Bench(bench::BenchArgs),
    /// Dead letters and timelines: list, show, redrive, replay.
    Replay(ops::ReplayArgs),
    /// The audit trail.
    Audit(ops::AuditArgs),
    /// Master-data validation of a canonical shipment (JSON).
    Validate(model::ValidateArgs),
    /// Duty, import taxes, fees and landed cost of an import shipment, with the working.
    Duty(duty::DutyArgs),
    /// Print the JSON Schema of a canonical model type.
    Schema(model::SchemaArgs),
    /// Odoo: check a database, set up the hub's fields.
    Odoo(odoo::OdooArgs),
    /// Run a simulator of a partner system.
    Sim(odoo::SimArgs),
}

/// Run the command line; returns the process exit code.
pub fn main(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Serve(args) => serve::run(args),
        Command::Bench(args) => bench::run_bench(args),
        Command::Replay(args) => ops::replay(args),
        Command::Audit(args) => ops::audit(args),
        Command::Validate(args) => model::validate_cmd(args),
        Command::Schema(args) => model::schema_cmd(args),
        Command::Duty(args) => duty::duty_cmd(args),
        Command::Odoo(args) => odoo::odoo_cmd(args),
        Command::Sim(args) => odoo::sim_cmd(args),
    }
}
