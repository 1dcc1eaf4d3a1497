//! `tradehub serve`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::EXIT_USAGE;
use crate::config::{HubConfig, default_path};
use crate::service::addrs::ServeAddrs;
use crate::service::run::{self, ServeOptions};
use crate::telemetry::{self, MetricsToken};

/// Run the service until SIGTERM or SIGINT.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Configuration file (default `config/hub.toml`; built-in defaults when that is absent).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Accept a Redis that keeps nothing on disk (everything is lost when it restarts).
    #[arg(long)]
    ephemeral: bool,
    /// Once the API and the metrics listeners are bound, write their addresses to this file as
    /// `{"api": "...", "metrics": "..."}` (for a parent that configured port 0).
    #[arg(long, value_name = "PATH")]
    addr_file: Option<PathBuf>,
}

/// Load the configuration, start logging and metrics, and serve.
pub fn serve(args: ServeArgs) -> ExitCode {
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
    let metrics_token = match config
        .metrics
        .token_env
        .as_deref()
        .map(MetricsToken::from_env)
    {
        None => None,
        Some(Ok(token)) => Some(token),
        Some(Err(error)) => {
            tracing::error!(%error, "cannot start");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let system = actix::System::new();
    let result = system.block_on(async {
        let handle = telemetry::install_prometheus()?;
        let listen = config.metrics.listen;
        let (metrics, metrics_addr) = telemetry::metrics_server(listen, handle, metrics_token)
            .map_err(|e| format!("metrics listener on {listen}: {e}"))?;
        let metrics_listener = metrics.handle();
        let metrics_task = actix::spawn(metrics);
        let addr_file = args.addr_file;
        let served = run::serve(
            config,
            ServeOptions {
                ephemeral: args.ephemeral,
            },
            |api| match &addr_file {
                Some(path) => ServeAddrs {
                    api,
                    metrics: metrics_addr,
                }
                .write(path)
                .map_err(|e| format!("cannot write the addresses to {}: {e}", path.display())),
                None => Ok(()),
            },
        )
        .await
        .map_err(|e| e.to_string());
        metrics_listener.stop(true).await;
        drop(metrics_task.await);
        served
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "tradehub stopped with an error");
            ExitCode::FAILURE
        }
    }
}
