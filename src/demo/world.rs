//! The demo's world: Redis, the simulators and the hub, wired to each other on loopback.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::api::callbacks::Secret;
use crate::config::{BrokerLink, HubConfig, Workflow};
use crate::partners::config::Layout;
use crate::partners::odoo::{OdooClient, OdooTransport};
use crate::service::redis_server::{Persistence, RedisServer};
use crate::service::run::{Hub, ServeError, ServeOptions};
use crate::service::wiring::Secrets;
use crate::sim::broker::{BrokerSimConfig, CallbackTarget, Faults, RestBrokerSim};
use crate::sim::broker_edifact::{EdifactBrokerSim, EdifactSimConfig};
use crate::sim::carrier::{CarrierEndpoint, CarrierSim, CarrierSimConfig};
use crate::sim::odoo::{self as sim_odoo, SimConfig, SimOdoo, WebhookRule};

/// The REST broker's partner (template) name.
pub const REST_BROKER: &str = "rest-broker";
/// The EDIFACT broker's partner (template) name.
pub const EDIFACT_BROKER: &str = "edifact-broker";
/// The carriers' partner (template) names.
pub const CARRIERS: [&str; 2] = ["carrier-dcsa", "carrier-x12"];

/// How to run the demo.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// Pickings to create (a quarter are import receipts).
    pub shipments: usize,
    /// Seed of the Odoo data, the brokers' scenarios and the carriers' formats.
    pub seed: u64,
    /// Give up after this long.
    pub deadline: Duration,
    /// Time between the people's rounds.
    pub tick: Duration,
    /// Brokers' wait between statuses, and the carrier's between milestones.
    pub step_delay: Duration,
    /// Percent of orders sales cancels after filing (0–100).
    pub cancel_percent: u64,
    /// Retryable faults of the REST broker: share of 503s and of 429s.
    pub broker_fault_rate: f64,
    /// Folder holding `config/` and `data/`.
    pub home: PathBuf,
    /// Partitions of the hub.
    pub partitions: u16,
}

impl Default for DemoOptions {
    fn default() -> Self {
        Self {
            shipments: 200,
            seed: 7,
            deadline: Duration::from_secs(300),
            tick: Duration::from_millis(100),
            step_delay: Duration::from_millis(100),
            cancel_percent: 3,
            broker_fault_rate: 0.02,
            home: PathBuf::from("."),
            partitions: 8,
        }
    }
}

/// The demo could not run.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// A part of the world could not be started.
    #[error("cannot start {what}: {reason}")]
    Start {
        /// Which part.
        what: &'static str,
        /// Why.
        reason: String,
    },
    /// The hub refused to start.
    #[error("the hub did not start: {0}")]
    Hub(#[from] ServeError),
    /// Something the people do failed in a way that stops the run.
    #[error("{0}")]
    Run(String),
}

fn start_error(what: &'static str) -> impl FnOnce(String) -> DemoError {
    move |reason| DemoError::Start { what, reason }
}

/// Which Redis the demo uses.
enum RedisChoice {
    /// `REDIS_URL` (or the default local Redis) answered.
    External(String),
    /// A private `redis-server` in a temporary folder.
    Private(RedisServer),
}

impl RedisChoice {
    async fn pick() -> Result<Self, DemoError> {
        let url =
            std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
        if answers(&url).await {
            return Ok(Self::External(url));
        }
        let server = RedisServer::start(Persistence::AofEverySec)
            .map_err(|e| e.to_string())
            .map_err(start_error(
                "a private redis-server (none answered at REDIS_URL)",
            ))?;
        Ok(Self::Private(server))
    }

    fn url(&self) -> String {
        match self {
            Self::External(url) => url.clone(),
            Self::Private(server) => server.url(),
        }
    }
}

async fn answers(url: &str) -> bool {
    let Ok(client) = redis::Client::open(url) else {
        return false;
    };
    let connect = client.get_multiplexed_async_connection();
    let Ok(Ok(mut conn)) = tokio::time::timeout(Duration::from_secs(1), connect).await else {
        return false;
    };
    redis::cmd("PING")
        .query_async::<String>(&mut conn)
        .await
        .is_ok()
}

/// Everything the demo started; stopped by [`World::stop`].
pub struct World {
    redis: RedisChoice,
    /// The key prefix of this run (runs never see each other's keys).
    pub prefix: String,
    /// Partitions of the hub.
    pub partitions: u16,
    /// The simulated Odoo.
    pub odoo: SimOdoo,
    /// The REST broker.
    pub rest_broker: RestBrokerSim,
    /// The EDIFACT broker.
    pub edifact_broker: EdifactBrokerSim,
    /// The carrier.
    pub carrier: CarrierSim,
    /// The hub.
    hub: Hub,
    /// The hub's API base URL.
    pub api: String,
    /// HTTP client for the API.
    pub http: reqwest::Client,
    _folders: tempfile::TempDir,
}

impl World {
    /// Start Redis (or use `REDIS_URL`), the simulators and the hub.
    pub async fn start(options: &DemoOptions) -> Result<Self, DemoError> {
        let redis = RedisChoice::pick().await?;
        let prefix = format!("demo{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
        let folders = tempfile::tempdir()
            .map_err(|e| e.to_string())
            .map_err(start_error("the EDI folders"))?;
        let outbox = folders.path().join("edi/out");
        let inbox = folders.path().join("edi/in");
        for dir in [&outbox, &inbox] {
            std::fs::create_dir_all(dir)
                .map_err(|e| e.to_string())
                .map_err(start_error("the EDI folders"))?;
        }
        let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
        let odoo = sim_odoo::start(
            SimConfig {
                seed: options.seed,
                pickings: 0,
                ..SimConfig::default()
            },
            loopback,
        )
        .map_err(|e| e.to_string())
        .map_err(start_error("the Odoo simulator"))?;
        let broker_config = BrokerSimConfig {
            seed: options.seed,
            step_delay: options.step_delay,
            faults: Faults {
                error_rate: options.broker_fault_rate,
                rate_limit_rate: options.broker_fault_rate,
                retry_after_secs: 1,
                ..Faults::default()
            },
        };
        let rest_broker = RestBrokerSim::start(loopback, &broker_config)
            .map_err(|e| e.to_string())
            .map_err(start_error("the REST broker simulator"))?;
        let edifact_broker = EdifactBrokerSim::start(EdifactSimConfig {
            outbox: outbox.clone(),
            inbox: inbox.clone(),
            poll: Duration::from_millis(50),
            broker: BrokerSimConfig {
                faults: Faults::default(),
                ..broker_config.clone()
            },
        });

        let secret = hex::encode(uuid::Uuid::new_v4().as_bytes());
        let webhook_secret = hex::encode(uuid::Uuid::new_v4().as_bytes());
        let layout = Layout::new(&options.home);
        let mut callback_partners = vec![REST_BROKER];
        callback_partners.extend(CARRIERS);
        let callbacks = Secrets::callbacks_with(&layout, &callback_partners, &secret)
            .map_err(start_error("the callback secrets"))?;
        let config = hub_config(
            options,
            &redis.url(),
            &prefix,
            &odoo,
            &rest_broker,
            outbox,
            inbox,
        );
        let secrets = Secrets {
            odoo_api_key: Some(odoo.api_key().to_owned()),
            odoo_webhook: Some(webhook_secret.clone()),
            callbacks: Some(callbacks),
        };
        let ephemeral = matches!(redis, RedisChoice::External(_));
        let hub = Hub::start(config, ServeOptions { ephemeral }, secrets).await?;
        let api = format!("http://{}", hub.api_addr());

        rest_broker.set_callback(CallbackTarget {
            url: format!("{api}/v1/partners/{REST_BROKER}/callbacks"),
            header: "X-Tradehub-Signature".to_owned(),
            secret: Secret::new(secret.as_bytes()),
        });
        let carrier = CarrierSim::new(CarrierSimConfig {
            dcsa: CarrierEndpoint {
                url: format!("{api}/v1/partners/{}/callbacks", CARRIERS[0]),
                header: "Notification-Signature".to_owned(),
                secret: Secret::new(secret.as_bytes()),
            },
            x12: CarrierEndpoint {
                url: format!("{api}/v1/partners/{}/callbacks", CARRIERS[1]),
                header: "X-Tradehub-Signature".to_owned(),
                secret: Secret::new(secret.as_bytes()),
            },
            seed: options.seed,
            step_delay: options.step_delay,
            faults: Faults::default(),
        })
        .map_err(|e| e.to_string())
        .map_err(start_error("the carrier simulator"))?;

        let client = OdooClient::new(crate::partners::odoo::OdooConfig::new(
            &odoo.url(),
            odoo.db(),
            odoo.login(),
            crate::partners::odoo::Secret::new(odoo.api_key()),
            OdooTransport::OdooJson2,
        ))
        .map_err(|e| e.to_string())
        .map_err(start_error("the Odoo client"))?;
        crate::partners::odoo::setup(&client)
            .await
            .map_err(|e| e.to_string())
            .map_err(start_error("the hub's fields in Odoo"))?;
        odoo.set_webhook(Some(WebhookRule {
            url: format!("{api}/v1/ingest/odoo?secret={webhook_secret}"),
            model: "stock.picking".to_owned(),
            fields: vec!["state".to_owned()],
            action_id: 1,
        }));
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| e.to_string())
            .map_err(start_error("the HTTP client"))?;
        let world = Self {
            redis,
            prefix,
            partitions: options.partitions,
            odoo,
            rest_broker,
            edifact_broker,
            carrier,
            hub,
            api,
            http,
            _folders: folders,
        };
        world.wait_ready(Duration::from_secs(30)).await?;
        Ok(world)
    }

    async fn wait_ready(&self, within: Duration) -> Result<(), DemoError> {
        let until = tokio::time::Instant::now() + within;
        while !self.hub.is_ready() {
            if tokio::time::Instant::now() > until {
                return Err(DemoError::Start {
                    what: "the hub",
                    reason: format!("not ready after {within:?} (no partitions owned)"),
                });
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(())
    }

    /// Which Redis this run uses, for the summary.
    pub fn redis_description(&self) -> String {
        match &self.redis {
            RedisChoice::External(url) => format!(
                "{url} (REDIS_URL or the default; keys under prefix {})",
                self.prefix
            ),
            RedisChoice::Private(server) => format!(
                "private redis-server {} (AOF everysec) in a temporary folder; no Redis answered at REDIS_URL",
                server.url()
            ),
        }
    }

    /// Stop the hub and the simulators.
    pub async fn stop(self) {
        self.hub.stop().await;
        self.rest_broker.stop().await;
        self.edifact_broker.stop();
        self.odoo.stop().await;
    }
}

fn hub_config(
    options: &DemoOptions,
    redis_url: &str,
    prefix: &str,
    odoo: &SimOdoo,
    rest_broker: &RestBrokerSim,
    outbox: PathBuf,
    inbox: PathBuf,
) -> HubConfig {
    let mut config = HubConfig::default();
    config.redis.url = redis_url.to_owned();
    config.redis.prefix = prefix.to_owned();
    config.runtime.workflow = Workflow::Shipment;
    config.runtime.home.clone_from(&options.home);
    config.runtime.partitions = options.partitions;
    config.runtime.node_id = format!("{prefix}-node");
    config.runtime.read_block = Duration::from_millis(50);
    config.runtime.timer_poll = Duration::from_millis(50);
    config.runtime.lease_renew = Duration::from_millis(500);
    config.runtime.reclaim_idle = Duration::from_secs(5);
    config.runtime.reclaim_every = Duration::from_secs(1);
    config.runtime.shutdown_grace = Duration::from_secs(2);
    config.http.listen = SocketAddr::from(([127, 0, 0, 1], 0));
    config.odoo.url = odoo.url();
    config.odoo.db = odoo.db().to_owned();
    config.odoo.login = odoo.login().to_owned();
    config.odoo.poll_every = Duration::from_millis(500);
    config.odoo.settle = Duration::from_secs(1);
    config.brokers.insert(
        REST_BROKER.to_owned(),
        BrokerLink {
            endpoint: Some(rest_broker.endpoint()),
            ..BrokerLink::default()
        },
    );
    config.brokers.insert(
        EDIFACT_BROKER.to_owned(),
        BrokerLink {
            outbox: Some(outbox),
            inbox: Some(inbox),
            poll_every: Duration::from_millis(50),
            ..BrokerLink::default()
        },
    );
    config
}
