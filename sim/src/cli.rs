//! The simulators' subcommands of the `tradehub` binary: `demo`, `sim` and `bench`.

#![allow(clippy::print_stdout)]

use std::process::ExitCode;

use clap::Subcommand;

mod bench;
mod demo;
mod sim;

/// `demo`, `sim` and `bench`; the binary flattens them beside the service's subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// The whole job in one process: hub, simulated Odoo, brokers and carriers.
    Demo(demo::DemoArgs),
    /// Benchmarks against a private Redis.
    Bench(bench::BenchArgs),
    /// Partner simulators: Odoo, a customs broker (REST or EDIFACT), a carrier.
    Sim(sim::SimArgs),
}

/// Run one subcommand; returns the process exit code.
pub fn run(command: Command) -> ExitCode {
    match command {
        Command::Demo(args) => demo::demo(args),
        Command::Bench(args) => bench::bench(args),
        Command::Sim(args) => sim::sim(args),
    }
}
