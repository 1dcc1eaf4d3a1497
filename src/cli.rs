//! The `tradehub` command line. Each area keeps its subcommands in `cli/<area>.rs`;
//! this file only dispatches.

#![allow(clippy::print_stdout)]

use std::process::ExitCode;

use clap::Subcommand;

mod duty;
mod formats;
mod health;
mod keys;
mod model;
mod odoo;
mod ops;
mod reconcile;
mod screening;
mod serve;
mod token;

/// Exit code: the work found problems (invalid data, a failed evaluation).
pub const EXIT_PROBLEMS: u8 = 1;
/// Exit code: bad usage or unusable input.
pub const EXIT_USAGE: u8 = 2;

/// The service's subcommands; the binary flattens them beside the simulators' ones.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the service: partitions, partner connections, API and metrics.
    Serve(serve::ServeArgs),
    /// Dead letters and timelines: list, show, redrive, replay.
    Replay(ops::ReplayArgs),
    /// The audit trail.
    Audit(ops::AuditArgs),
    /// Retention: export what is past its time, then remove it.
    Retention(ops::RetentionArgs),
    /// Data keys of encryption at rest: which sealed what (status), re-sealing (rotate).
    Keys(keys::KeysArgs),
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
    /// Screen parties against the restricted-party lists (one, a batch, or an evaluation).
    Screen(screening::ScreenArgs),
    /// Manage the restricted-party lists (fetch from publishers, show loaded versions).
    Lists(screening::ListsArgs),
    /// Odoo: check a database, set up the hub's fields.
    Odoo(odoo::OdooArgs),
    /// API tokens: create (printed once), list, revoke, rotate.
    Token(token::TokenArgs),
    /// Ask the hub on this host whether it is alive (or ready): the container's health check.
    Health(health::HealthArgs),
}

/// Run one subcommand; returns the process exit code.
pub fn run(command: Command) -> ExitCode {
    match command {
        Command::Serve(args) => serve::serve(args),
        Command::Replay(args) => ops::replay(args),
        Command::Audit(args) => ops::audit(args),
        Command::Retention(args) => ops::retention(args),
        Command::Keys(args) => keys::keys(args),
        Command::Validate(args) => model::validate(args),
        Command::Reconcile(args) => reconcile::reconcile(args),
        Command::Schema(args) => model::schema(args),
        Command::Duty(args) => duty::duty(args),
        Command::Convert(args) => formats::convert(args),
        Command::Map(args) => formats::map(args),
        Command::Partner(args) => formats::partner(args),
        Command::Config(args) => formats::config(args),
        Command::Screen(args) => screening::screen(args),
        Command::Lists(args) => screening::lists(args),
        Command::Odoo(args) => odoo::odoo(args),
        Command::Token(args) => token::token(args),
        Command::Health(args) => health::health(args),
    }
}
