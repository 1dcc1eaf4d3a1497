//! The `tradehub` command line. Each area keeps its subcommands in `cli/<area>.rs`;
//! this file only dispatches.

#![allow(clippy::print_stdout)]

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod bench;
mod demo;
mod duty;
mod formats;
mod model;
mod odoo;
mod ops;
mod reconcile;
mod screening;
mod serve;
mod sim;

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
    /// The whole job in one process: hub, simulated Odoo, brokers and carriers.
    Demo(demo::DemoArgs),
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
    /// Reconcile a folder of settlement documents once (estimate, assessment, broker invoice).
    Reconcile(reconcile::ReconcileArgs),
    /// Print the JSON Schema of a canonical model type.
    Schema(model::SchemaArgs),
    /// Convert a document between formats: edifact | x12 | xml | csv | json.
    Convert(formats::ConvertArgs),
    /// Run a partner's mapping and codec on a document.
    Map(formats::MapArgs),
    /// Partner templates: list, certify.
    Partner(formats::PartnerArgs),
    /// Configuration checks.
    Config(formats::ConfigArgs),
    /// Partner simulators: Odoo, a customs broker (REST or EDIFACT), a carrier.
    Sim(sim::SimArgs),
    /// Screen parties against the restricted-party lists (one, a batch, or an evaluation).
    Screen(screening::ScreenArgs),
    /// Manage the restricted-party lists (fetch from publishers, show loaded versions).
    Lists(screening::ListsArgs),
    /// Odoo: check a database, set up the hub's fields.
    Odoo(odoo::OdooArgs),
}

/// Run the command line; returns the process exit code.
pub fn main(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Serve(args) => serve::run(args),
        Command::Demo(args) => demo::demo_cmd(args),
        Command::Bench(args) => bench::run_bench(args),
        Command::Replay(args) => ops::replay(args),
        Command::Audit(args) => ops::audit(args),
        Command::Validate(args) => model::validate_cmd(args),
        Command::Reconcile(args) => reconcile::reconcile_cmd(args),
        Command::Schema(args) => model::schema_cmd(args),
        Command::Duty(args) => duty::duty_cmd(args),
        Command::Convert(args) => formats::convert(args),
        Command::Map(args) => formats::map(args),
        Command::Partner(args) => formats::partner(args),
        Command::Config(args) => formats::config(args),
        Command::Sim(args) => sim::sim_cmd(args),
        Command::Screen(args) => screening::run_screen(args),
        Command::Lists(args) => screening::run_lists(args),
        Command::Odoo(args) => odoo::odoo_cmd(args),
    }
}
