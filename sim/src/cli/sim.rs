//! `tradehub sim odoo|broker|carrier`: run a partner simulator on its own, against a hub.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Subcommand, ValueEnum};
use serde_json::json;

use crate::broker::{BrokerSimConfig, CallbackTarget, Faults, RestBrokerSim};
use crate::broker_edifact::{EdifactBrokerSim, EdifactSimConfig};
use crate::carrier::{CarrierEndpoint, CarrierSim, CarrierSimConfig};
use crate::odoo::{SimConfig, WebhookRule, start};
use tradehub::cli::EXIT_USAGE;
use tradehub::secret::Secret;
use tradehub::telemetry;

/// Partner simulators.
#[derive(Debug, Args)]
pub struct SimArgs {
    #[command(subcommand)]
    which: Which,
}

#[derive(Debug, Subcommand)]
enum Which {
    /// An in-memory Odoo speaking JSON-RPC and JSON-2, with demo data.
    Odoo(SimOdooArgs),
    /// A customs broker: REST/JSON with signed callbacks, or EDIFACT over a folder pair.
    Broker(BrokerArgs),
    /// A carrier posting DCSA JSON and X12 214 milestones to the hub.
    Carrier(CarrierArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum BrokerKind {
    Rest,
    Edifact,
}

/// Faults and timing shared by the simulators.
#[derive(Debug, Args)]
struct Common {
    /// Seed of scenarios and faults.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Wait between statuses (or milestones), e.g. `200ms`.
    #[arg(long, default_value = "200ms", value_parser = humantime_serde::re::humantime::parse_duration)]
    step_delay: Duration,
    /// Share of requests answered 503.
    #[arg(long, default_value_t = 0.0)]
    error_rate: f64,
    /// Share of requests answered 429 with Retry-After.
    #[arg(long, default_value_t = 0.0)]
    rate_limit_rate: f64,
    /// Retry-After of a 429, seconds.
    #[arg(long, default_value_t = 1)]
    retry_after: u64,
    /// Share of requests held past the caller's timeout.
    #[arg(long, default_value_t = 0.0)]
    timeout_rate: f64,
    /// Share of callbacks dropped.
    #[arg(long, default_value_t = 0.0)]
    drop_rate: f64,
    /// Delay of every answer, e.g. `500ms`.
    #[arg(long, value_parser = humantime_serde::re::humantime::parse_duration)]
    slow: Option<Duration>,
    /// Environment variable holding the HMAC secret shared with the hub.
    #[arg(long, default_value = "TRADEHUB_SIM_SECRET")]
    secret_env: String,
}

impl Common {
    fn faults(&self) -> Faults {
        Faults {
            error_rate: self.error_rate,
            rate_limit_rate: self.rate_limit_rate,
            retry_after_secs: self.retry_after,
            slow: self.slow,
            timeout_rate: self.timeout_rate,
            hang: None,
            drop_callback_rate: self.drop_rate,
        }
    }
}

/// `tradehub sim broker`.
#[derive(Debug, Args)]
struct BrokerArgs {
    /// REST or EDIFACT.
    #[arg(long, value_enum, default_value = "rest")]
    kind: BrokerKind,
    /// Where the REST broker listens.
    #[arg(long, default_value = "127.0.0.1:8091")]
    listen: SocketAddr,
    /// The hub's base URL (callbacks go to `<hub>/v1/partners/<partner>/callbacks`).
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    hub: String,
    /// Partner name the hub knows this broker as.
    #[arg(long, default_value = "rest-broker")]
    partner: String,
    /// Signature header.
    #[arg(long, default_value = "X-Tradehub-Signature")]
    header: String,
    /// EDIFACT: the folder the hub writes CUSDECs into.
    #[arg(long)]
    outbox: Option<PathBuf>,
    /// EDIFACT: the folder the hub reads answers from.
    #[arg(long)]
    inbox: Option<PathBuf>,
    #[command(flatten)]
    common: Common,
}

/// `tradehub sim carrier`.
#[derive(Debug, Args)]
struct CarrierArgs {
    /// Where the dispatch trigger listens (`POST /v1/shipments/{id}/dispatch`).
    #[arg(long, default_value = "127.0.0.1:8092")]
    listen: SocketAddr,
    /// The hub's base URL.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    hub: String,
    #[command(flatten)]
    common: Common,
}

fn secret(var: &str) -> Result<Secret, String> {
    Secret::from_env(var).map_err(|e| e.to_string())
}

/// Run a simulator until Ctrl-C.
pub fn sim(args: SimArgs) -> ExitCode {
    let args = match args.which {
        Which::Odoo(odoo) => return sim_odoo(odoo),
        other => other,
    };
    telemetry::init_logging();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match args {
            Which::Broker(b) => broker(b).await,
            Which::Carrier(c) => carrier(c).await,
            Which::Odoo(_) => Err("the Odoo simulator runs on its own runtime".to_owned()),
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(EXIT_USAGE)
        }
    }
}

async fn broker(args: BrokerArgs) -> Result<(), String> {
    let config = BrokerSimConfig {
        seed: args.common.seed,
        step_delay: args.common.step_delay,
        faults: args.common.faults(),
        finance_drop: None,
    };
    match args.kind {
        BrokerKind::Rest => {
            let secret = secret(&args.common.secret_env)?;
            let sim = RestBrokerSim::start(args.listen, &config)
                .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
            sim.set_callback(CallbackTarget {
                url: format!(
                    "{}/v1/partners/{}/callbacks",
                    args.hub.trim_end_matches('/'),
                    args.partner
                ),
                header: args.header,
                secret,
            });
            println!(
                "{}",
                json!({ "simulator": "rest-broker", "endpoint": sim.endpoint(), "seed": config.seed })
            );
            let _ = tokio::signal::ctrl_c().await;
            println!("{}", json!({ "counters": sim.counters() }));
            sim.stop().await;
        }
        BrokerKind::Edifact => {
            let (Some(outbox), Some(inbox)) = (args.outbox, args.inbox) else {
                return Err("--kind edifact needs --outbox and --inbox".into());
            };
            let sim = EdifactBrokerSim::start(EdifactSimConfig {
                outbox: outbox.clone(),
                inbox: inbox.clone(),
                poll: Duration::from_millis(100),
                broker: config,
            });
            println!(
                "{}",
                json!({ "simulator": "edifact-broker", "reads": outbox, "writes": inbox })
            );
            let _ = tokio::signal::ctrl_c().await;
            println!("{}", json!({ "counters": sim.counters() }));
            sim.stop();
        }
    }
    Ok(())
}

async fn carrier(args: CarrierArgs) -> Result<(), String> {
    let hub = args.hub.trim_end_matches('/');
    let secret = secret(&args.common.secret_env)?;
    let sim = CarrierSim::new(CarrierSimConfig {
        dcsa: CarrierEndpoint {
            url: format!("{hub}/v1/partners/carrier-dcsa/callbacks"),
            header: "Notification-Signature".into(),
            secret: secret.clone(),
        },
        x12: CarrierEndpoint {
            url: format!("{hub}/v1/partners/carrier-x12/callbacks"),
            header: "X-Tradehub-Signature".into(),
            secret,
        },
        seed: args.common.seed,
        step_delay: args.common.step_delay,
        faults: args.common.faults(),
    })
    .map_err(|e| format!("HTTP client: {e}"))?;
    let (addr, handle) = sim
        .serve(args.listen)
        .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
    println!(
        "{}",
        json!({ "simulator": "carrier", "dispatch": format!("http://{addr}/v1/shipments/{{id}}/dispatch") })
    );
    let _ = tokio::signal::ctrl_c().await;
    println!("{}", json!({ "counters": sim.counters() }));
    handle.stop(true).await;
    Ok(())
}

/// `tradehub sim odoo`.
#[derive(Debug, Args)]
pub struct SimOdooArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8069")]
    listen: SocketAddr,
    /// Seed of the demo data.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Database name.
    #[arg(long, default_value = "demo")]
    db: String,
    /// The admin's API key (one is generated and printed when absent).
    #[arg(long, env = "ODOO_API_KEY", hide_env_values = true)]
    api_key: Option<String>,
    /// Pickings to seed (a quarter are import receipts).
    #[arg(long, default_value_t = 24)]
    pickings: usize,
    /// Send the automation webhook for stock.picking changes to this URL.
    #[arg(long)]
    webhook: Option<String>,
    /// Share of requests that fail (502, HTML 500, serialisation failure), 0 to 1.
    #[arg(long, default_value_t = 0.0)]
    error_rate: f64,
    /// Delay added to every answer, in milliseconds.
    #[arg(long, default_value_t = 0)]
    delay_ms: u64,
}

/// `tradehub sim …`.
pub fn sim_odoo(args: SimOdooArgs) -> ExitCode {
    telemetry::init_logging();
    if !(0.0..=1.0).contains(&args.error_rate) {
        eprintln!(
            "error: --error-rate {} must be between 0 and 1",
            args.error_rate
        );
        return ExitCode::from(EXIT_USAGE);
    }
    let system = actix::System::new();
    let result = system.block_on(async {
        let config = SimConfig {
            db: args.db,
            api_key: args.api_key,
            seed: args.seed,
            pickings: args.pickings,
            ..SimConfig::default()
        };
        let sim = start(config, args.listen).map_err(|e| e.to_string())?;
        sim.faults()
            .set_random(args.error_rate, Duration::from_millis(args.delay_ms));
        if let Some(url) = args.webhook {
            sim.set_webhook(Some(WebhookRule {
                url,
                model: "stock.picking".to_owned(),
                fields: vec![
                    "name".to_owned(),
                    "state".to_owned(),
                    "write_date".to_owned(),
                ],
                action_id: 1,
            }));
        }
        println!(
            "Odoo simulator on {} — database {}, login {}, API key {}",
            sim.url(),
            sim.db(),
            sim.login(),
            sim.api_key()
        );
        tokio::signal::ctrl_c().await.map_err(|e| e.to_string())?;
        sim.stop().await;
        Ok::<(), String>(())
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(EXIT_USAGE)
        }
    }
}
