//! The `tradehub` binary: parses the command line and hands the subcommand to the library
//! that owns it. With the default feature `sim` it also carries `demo`, `sim` and `bench`.

use clap::{Parser, Subcommand};

/// mimalloc returns freed memory to the system; glibc's per-thread arenas kept growing the
/// hub's resident memory by ~75 KiB per finished shipment although its live heap stayed small.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// tradehub: integration hub for cross-border trade on Odoo.
#[derive(Debug, Parser)]
#[command(name = "tradehub", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    #[command(flatten)]
    Service(tradehub::cli::Command),
    #[cfg(feature = "sim")]
    #[command(flatten)]
    Sim(tradehub_sim::cli::Command),
}

fn main() -> std::process::ExitCode {
    match Cli::parse().command {
        Command::Service(command) => tradehub::cli::run(command),
        #[cfg(feature = "sim")]
        Command::Sim(command) => tradehub_sim::cli::run(command),
    }
}
