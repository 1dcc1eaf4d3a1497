//! `tradehub odoo check|setup`.

use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Subcommand, ValueEnum};

use super::{EXIT_PROBLEMS, EXIT_USAGE};
use crate::partners::odoo::{self, OdooClient, OdooConfig, OdooTransport};
use crate::secret::Secret;

/// Talk to an Odoo database.
#[derive(Debug, Args)]
pub struct OdooArgs {
    #[command(subcommand)]
    command: OdooCommand,
}

#[derive(Debug, Subcommand)]
enum OdooCommand {
    /// Server version, user, and whether the modules and fields the hub needs are there.
    Check(ConnectArgs),
    /// Create the hub's `x_trade_*` fields on stock.picking where missing.
    Setup(ConnectArgs),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum TransportArg {
    Jsonrpc,
    Json2,
}

#[derive(Debug, Args)]
struct ConnectArgs {
    /// Base URL of Odoo.
    #[arg(long, env = "ODOO_URL", default_value = "http://127.0.0.1:8069")]
    url: String,
    /// Database name.
    #[arg(long, env = "ODOO_DB", default_value = "demo")]
    db: String,
    /// Login of the integration user.
    #[arg(long, env = "ODOO_USER", default_value = "admin")]
    user: String,
    /// API key of the integration user.
    #[arg(long, env = "ODOO_API_KEY", hide_env_values = true)]
    api_key: String,
    /// Which external API to use.
    #[arg(long, value_enum, default_value = "json2")]
    transport: TransportArg,
    /// Timeout of one request, in seconds.
    #[arg(long, default_value_t = 15)]
    timeout: u64,
    /// One JSON document on stdout.
    #[arg(long)]
    json: bool,
}

impl ConnectArgs {
    fn client(&self) -> Result<OdooClient, odoo::OdooError> {
        let transport = match self.transport {
            TransportArg::Jsonrpc => OdooTransport::OdooJsonrpc,
            TransportArg::Json2 => OdooTransport::OdooJson2,
        };
        let mut config = OdooConfig::new(
            &self.url,
            &self.db,
            &self.user,
            Secret::new(self.api_key.clone()),
            transport,
        );
        config.timeout = Duration::from_secs(self.timeout);
        OdooClient::new(config)
    }
}

fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}

/// `tradehub odoo …`.
pub fn odoo(args: OdooArgs) -> ExitCode {
    let (connect, is_check) = match &args.command {
        OdooCommand::Check(c) => (c, true),
        OdooCommand::Setup(c) => (c, false),
    };
    let client = match connect.client() {
        Ok(client) => client,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    if is_check {
        match rt.block_on(odoo::check(&client)) {
            Ok(report) => {
                if connect.json {
                    println!(
                        "{}",
                        serde_json::to_string_pretty(&report).unwrap_or_default()
                    );
                } else {
                    println!(
                        "Odoo {} at {} (database {}), user {} (uid {})",
                        report.version.version, connect.url, connect.db, report.user, report.uid
                    );
                    for (module, installed) in &report.modules {
                        println!(
                            "  module {module:<24} {}",
                            if *installed { "installed" } else { "MISSING" }
                        );
                    }
                    for f in &report.fields {
                        let state = match (f.present, f.fixable_by_setup) {
                            (true, _) => "present",
                            (false, true) => "MISSING (run `tradehub odoo setup`)",
                            (false, false) => "MISSING",
                        };
                        println!(
                            "  field  {:<40} {state}",
                            format!("{}.{}", f.model, f.field)
                        );
                    }
                    println!(
                        "{}",
                        if report.usable {
                            "usable: yes"
                        } else {
                            "usable: no"
                        }
                    );
                }
                if report.usable {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::from(EXIT_PROBLEMS)
                }
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(EXIT_USAGE)
            }
        }
    } else {
        match rt.block_on(odoo::setup(&client)) {
            Ok(report) => {
                if connect.json {
                    println!(
                        "{}",
                        serde_json::to_string_pretty(&report).unwrap_or_default()
                    );
                } else {
                    for f in &report.created {
                        println!("created stock.picking.{f}");
                    }
                    for f in &report.present {
                        println!("present stock.picking.{f}");
                    }
                }
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(EXIT_USAGE)
            }
        }
    }
}
