//! The `tradehub` command line. Each area keeps its subcommands in `cli/<area>.rs`;
//! this file only dispatches.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod screening;

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
    /// Screen parties against the restricted-party lists (one, a batch, or an evaluation).
    Screen(screening::ScreenArgs),
    /// Manage the restricted-party lists (fetch from publishers, show loaded versions).
    Lists(screening::ListsArgs),
}

/// Run the command line; returns the process exit code.
pub fn main(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Screen(args) => screening::run_screen(args),
        Command::Lists(args) => screening::run_lists(args),
    }
}
