//! The `tradehub` command line. Each area keeps its subcommands in `cli/<area>.rs`;
//! this file only dispatches.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub mod formats;

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
    /// Convert a document between formats: edifact | x12 | xml | csv | json.
    Convert(formats::ConvertArgs),
    /// Run a partner's mapping and codec on a document.
    Map(formats::MapArgs),
    /// Partner templates: list, certify.
    Partner(formats::PartnerArgs),
    /// Configuration checks.
    Config(formats::ConfigArgs),
}

/// Run the command line; returns the process exit code.
pub fn main(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Convert(args) => formats::convert(args),
        Command::Map(args) => formats::map(args),
        Command::Partner(args) => formats::partner(args),
        Command::Config(args) => formats::config(args),
    }
}
