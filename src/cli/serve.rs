//! `tradehub serve`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::EXIT_USAGE;
use crate::config::{HubConfig, default_path};
use crate::service::run::{ServeOptions, serve};
use crate::telemetry;

/// Run the service until SIGTERM or SIGINT.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Configuration file (default `config/hub.toml`; built-in defaults when that is absent).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Accept a Redis that keeps nothing on disk (everything is lost when it restarts).
    #[arg(long)]
    ephemeral: bool,
}

/// Load the configuration, start logging and metrics, and serve.
pub fn run(args: ServeArgs) -> ExitCode {
    telemetry::init_logging();
    let (path, required) = match args.config {
        Some(path) => (path, true),
        None => (default_path(), false),
    };
    let config = match HubConfig::load(&path, required) {
        Ok(config) => config,
        Err(error) => {
            tracing::error!(%error, "cannot start");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let system = actix::System::new();
    let result = system.block_on(async {
        telemetry::install_prometheus(config.metrics.listen)?;
        serve(
            config,
            ServeOptions {
                ephemeral: args.ephemeral,
            },
        )
        .await
        .map_err(|e| e.to_string())
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "tradehub stopped with an error");
            ExitCode::FAILURE
        }
    }
}
