//! The demo's world: Redis, the simulators and the hub, wired to each other on loopback.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::broker::{BrokerSimConfig, CallbackTarget, Faults, RestBrokerSim};
use crate::broker_edifact::{EdifactBrokerSim, EdifactSimConfig};
use crate::carrier::{CarrierEndpoint, CarrierSim, CarrierSimConfig};
use crate::odoo::{self as sim_odoo, SimConfig, SimOdoo, WebhookRule};
use crate::settlement::FinanceDrop;
use crate::settlement::saga_shipments;
use tradehub::auth::{Pepper, Role, Tokens};
use tradehub::config::{BrokerLink, HubConfig, PartnerLimits, Workflow};
use tradehub::partners::config::Layout;
use tradehub::partners::odoo::{OdooClient, OdooTransport};
use tradehub::secret::Secret;
use tradehub::service::addrs::ServeAddrs;
use tradehub::service::run::{Hub, ServeError, ServeOptions};
use tradehub::service::wiring::Secrets;
use tradehub::store::{
    AuditKey, AuditKeys, EncryptionConfig, KeySource, RedisMailbox, Sealer, StoreConfig,
};
use tradehub::tariff::duty::TariffBook;
use tradehub::workflow::shipment::{ODOO, SCREENING};
use tradehub_actors::clock::SystemClock;
use tradehub_testkit::{Persistence, RedisServer};

/// Id of the data key the demo makes for each run.
const DATA_KEY_ID: &str = "demo";
/// The variable a hub process reads the demo's data key from.
const DATA_KEY_ENV: &str = "TRADEHUB_DEMO_DATA_KEY";

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
    /// Where the hub runs.
    pub hub: HubMode,
    /// Always start a private `redis-server` (AOF everysec), even when `REDIS_URL` answers.
    pub private_redis: bool,
    /// Limits for every partner connection instead of the defaults (a benchmark lifts the
    /// per-partner quota so that it measures the hub, not the quota).
    pub partner_limits: Option<PartnerLimits>,
}

/// Where the demo's hub runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HubMode {
    /// In this process, on its actix system.
    InProcess,
    /// As `<binary> serve --config <file>`, a child process that can be killed and restarted.
    Process(PathBuf),
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
            hub: HubMode::InProcess,
            private_redis: false,
            partner_limits: None,
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
    /// The hub did not answer a person in time or answered 5xx; they try again next round.
    #[error("the hub did not answer: {0}")]
    HubBusy(String),
}

fn start_error<E: std::fmt::Display>(what: &'static str) -> impl FnOnce(E) -> DemoError {
    move |reason| DemoError::Start {
        what,
        reason: reason.to_string(),
    }
}

/// Which Redis the demo uses.
pub enum RedisChoice {
    /// `REDIS_URL` (or the default local Redis) answered.
    External(String),
    /// A private `redis-server` in a temporary folder.
    Private(RedisServer),
}

impl RedisChoice {
    async fn pick(private: bool) -> Result<Self, DemoError> {
        let url =
            std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
        if !private && answers(&url).await {
            return Ok(Self::External(url));
        }
        let server = RedisServer::start_tcp(Persistence::AofEverySec).map_err(start_error(
            "a private redis-server (none answered at REDIS_URL)",
        ))?;
        Ok(Self::Private(server))
    }

    /// The `redis://` URL.
    pub fn url(&self) -> String {
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

/// The hub, in this process or as a child process.
enum HubRun {
    InProcess(Hub),
    Process {
        child: Option<std::process::Child>,
        binary: PathBuf,
        config: PathBuf,
        log: PathBuf,
        env: Vec<(String, String)>,
        ephemeral: bool,
        /// The `--addr-file` the process writes once its listeners are bound.
        addr_file: PathBuf,
        /// Where the first start bound its listeners; restarts bind the same addresses.
        addrs: Option<ServeAddrs>,
    },
}

impl HubRun {
    fn spawn(&mut self) -> Result<(), DemoError> {
        let Self::Process {
            child,
            binary,
            config,
            log,
            env,
            ephemeral,
            addr_file,
            ..
        } = self
        else {
            return Ok(());
        };
        // The file of an earlier start would name its listeners, not this one's.
        match std::fs::remove_file(&*addr_file) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(start_error("the hub's addresses file")(e));
            }
            _ => {}
        }
        let output = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&*log)
            .map_err(start_error("the hub's log file"))?;
        let errors = output
            .try_clone()
            .map_err(start_error("the hub's log file"))?;
        let mut command = std::process::Command::new(&*binary);
        command
            .arg("serve")
            .arg("--config")
            .arg(&*config)
            .arg("--addr-file")
            .arg(&*addr_file);
        if *ephemeral {
            command.arg("--ephemeral");
        }
        command
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env_remove("REDIS_URL")
            .stdout(output)
            .stderr(errors);
        *child = Some(
            command
                .spawn()
                .map_err(|e| format!("{}: {e}", binary.display()))
                .map_err(start_error("the hub process"))?,
        );
        Ok(())
    }

    /// Where the hub's API listens: an in-process hub knows; a process tells through its
    /// addresses file once it has bound its listeners (within `within`). The first addresses a
    /// process tells are pinned for its restarts: the simulators and Odoo's webhook call them.
    async fn api_addr(&mut self, within: Duration) -> Result<SocketAddr, DemoError> {
        let (child, env, addr_file, addrs) = match self {
            Self::InProcess(hub) => return Ok(hub.api_addr()),
            Self::Process {
                child,
                env,
                addr_file,
                addrs,
                ..
            } => (child, env, addr_file, addrs),
        };
        let until = tokio::time::Instant::now() + within;
        loop {
            if let Some(bound) =
                ServeAddrs::read(addr_file).map_err(start_error("the hub's addresses file"))?
            {
                if addrs.is_none() {
                    env.push(("TRADEHUB_HTTP__LISTEN".to_owned(), bound.api.to_string()));
                    env.push((
                        "TRADEHUB_METRICS__LISTEN".to_owned(),
                        bound.metrics.to_string(),
                    ));
                }
                *addrs = Some(bound);
                return Ok(bound.api);
            }
            if let Some(c) = child.as_mut()
                && let Ok(Some(status)) = c.try_wait()
            {
                return Err(DemoError::Start {
                    what: "the hub process",
                    reason: format!("exited with {status} before binding its listeners"),
                });
            }
            if tokio::time::Instant::now() > until {
                return Err(DemoError::Start {
                    what: "the hub process",
                    reason: format!("bound no listeners within {within:?}"),
                });
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Stop a hub that did not come up; the error says why, with the end of a process's log.
    async fn abandon(self, error: DemoError) -> DemoError {
        match self {
            Self::InProcess(hub) => {
                hub.stop().await;
                error
            }
            Self::Process { child, log, .. } => {
                if let Some(mut c) = child {
                    drop(c.kill());
                    drop(c.wait());
                }
                let text = std::fs::read_to_string(&log).unwrap_or_default();
                DemoError::Start {
                    what: "the hub process",
                    reason: format!("{error}; its log ends:\n{}", tail(&text, 2000)),
                }
            }
        }
    }
}

/// The API tokens of the people who use the hub's API, each their own.
#[derive(Clone)]
pub struct PeopleTokens {
    /// The compliance officer: `compliance_officer` and `viewer`.
    pub compliance: String,
    /// The customs operator (and finance): `operator` and `viewer`.
    pub operator: String,
    /// Whoever reads the outcomes for the summary: `viewer`.
    pub viewer: String,
    /// The warehouse, which books the carrier when goods ship: `integrator`.
    pub warehouse: String,
}

impl std::fmt::Debug for PeopleTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PeopleTokens(<redacted>)")
    }
}

impl PeopleTokens {
    /// Create the people's tokens in the hub's token store.
    async fn create(tokens: &Tokens) -> Result<Self, DemoError> {
        let make = async |label: &str, roles: &[Role]| {
            tokens
                .create(roles.iter().copied().collect(), label, None)
                .await
                .map(|(_, token)| token.reveal())
                .map_err(start_error("the people's API tokens"))
        };
        Ok(Self {
            compliance: make(
                "demo compliance officer",
                &[Role::ComplianceOfficer, Role::Viewer],
            )
            .await?,
            operator: make("demo customs operator", &[Role::Operator, Role::Viewer]).await?,
            viewer: make("demo summary", &[Role::Viewer]).await?,
            warehouse: make("demo warehouse", &[Role::Integrator]).await?,
        })
    }
}

/// Everything the demo started; stopped by [`World::stop`].
pub struct World {
    /// The Redis in use.
    pub redis: RedisChoice,
    /// The key prefix of this run (runs never see each other's keys).
    pub prefix: String,
    /// Partitions of the hub.
    pub partitions: u16,
    /// A view of the run's Redis under its prefix and data key.
    pub store: RedisMailbox,
    /// The simulated Odoo.
    pub odoo: SimOdoo,
    /// The REST broker.
    pub rest_broker: RestBrokerSim,
    /// The EDIFACT broker.
    pub edifact_broker: EdifactBrokerSim,
    /// The carrier.
    pub carrier: CarrierSim,
    hub: HubRun,
    /// The hub's API base URL.
    pub api: String,
    /// HTTP client for the API.
    pub http: reqwest::Client,
    /// The people's API tokens.
    pub tokens: PeopleTokens,
    folders: tempfile::TempDir,
}

impl World {
    /// Start Redis (or use `REDIS_URL`), the simulators and the hub.
    pub async fn start(options: &DemoOptions) -> Result<Self, DemoError> {
        let redis = RedisChoice::pick(options.private_redis).await?;
        let prefix = format!("demo{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
        let folders = tempfile::tempdir().map_err(start_error("the EDI folders"))?;
        let outbox = folders.path().join("edi/out");
        let inbox = folders.path().join("edi/in");
        for dir in [&outbox, &inbox] {
            std::fs::create_dir_all(dir).map_err(start_error("the EDI folders"))?;
        }
        // Port 0 everywhere: the OS picks free loopback ports, and each server says which.
        let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
        let odoo = sim_odoo::start(
            SimConfig {
                seed: options.seed,
                pickings: 0,
                ..SimConfig::default()
            },
            loopback,
        )
        .map_err(start_error("the Odoo simulator"))?;
        let finance_folder = folders.path().join("finance");
        // A data key made for this run: the demo's Redis holds nothing in clear either.
        let data_key = hex::encode(rand::random::<[u8; 32]>());
        let sealer = Sealer::from_keys(DATA_KEY_ID, &[(DATA_KEY_ID, &Secret::new(&data_key))])
            .map_err(start_error("the demo's data key"))?;
        let store = RedisMailbox::connect(StoreConfig {
            url: redis.url(),
            prefix: prefix.clone(),
            sealer: sealer.clone(),
            ..StoreConfig::default()
        })
        .await
        .map_err(start_error("the brokers' view of Redis"))?;
        // The pepper is made for this run and handed to the hub; the people get tokens of their
        // own, hashed with it, before the hub starts.
        let pepper_text = format!(
            "{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        let pepper = Pepper::new("the demo's pepper", Secret::new(pepper_text.clone()))
            .map_err(start_error("the token pepper"))?;
        let tokens =
            PeopleTokens::create(&Tokens::new(&store, pepper.clone(), Arc::new(SystemClock)))
                .await?;
        let book = TariffBook::load(&options.home.join("config/tariffs"))
            .map_err(start_error("the brokers' tariff tables"))?;
        let broker_config = BrokerSimConfig {
            seed: options.seed,
            step_delay: options.step_delay,
            faults: Faults {
                error_rate: options.broker_fault_rate,
                rate_limit_rate: options.broker_fault_rate,
                retry_after_secs: 1,
                ..Faults::default()
            },
            finance_drop: Some(FinanceDrop {
                folder: finance_folder.clone(),
                shipments: saga_shipments(store.clone(), options.partitions),
                book: Arc::new(book),
            }),
        };
        let secret = hex::encode(uuid::Uuid::new_v4().as_bytes());
        let webhook_secret = hex::encode(uuid::Uuid::new_v4().as_bytes());
        let rest_broker = RestBrokerSim::start(loopback, &broker_config)
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

        let mut config = hub_config(
            options,
            &redis.url(),
            &prefix,
            &odoo,
            &rest_broker,
            outbox,
            inbox,
        );
        config.http.listen = loopback;
        config.redis.sealer = sealer;
        config.encryption = EncryptionConfig {
            current: Some(DATA_KEY_ID.to_owned()),
            keys: vec![KeySource {
                id: DATA_KEY_ID.to_owned(),
                env: Some(DATA_KEY_ENV.to_owned()),
                file: None,
            }],
        };
        config.finance.enabled = true;
        config.finance.folder = finance_folder;
        config.finance.poll = Duration::from_millis(200);
        // The audit key, like the pepper, is made for this run; the anchors stay with its folders.
        let audit_key_text = hex::encode(rand::random::<[u8; 32]>());
        config.audit.key_id = "demo".to_owned();
        config.audit.anchor_file = folders.path().join("audit/anchors.jsonl");
        let ephemeral = matches!(redis, RedisChoice::External(_));
        let mut hub = match &options.hub {
            HubMode::InProcess => {
                let layout = Layout::new(&options.home);
                let mut callback_partners = vec![REST_BROKER];
                callback_partners.extend(CARRIERS);
                let callbacks = Secrets::callbacks_with(&layout, &callback_partners, &secret)
                    .map_err(start_error("the callback secrets"))?;
                let secrets = Secrets {
                    odoo_api_key: Some(odoo.api_key().to_owned()),
                    odoo_webhook: Some(webhook_secret.clone()),
                    callbacks: Some(callbacks),
                    token_pepper: Some(pepper),
                    audit_keys: Some(AuditKeys::new(
                        AuditKey::new("demo", Secret::new(audit_key_text), "the demo's audit key")
                            .map_err(start_error("the audit key"))?,
                        Vec::new(),
                    )),
                };
                HubRun::InProcess(Hub::start(config, ServeOptions { ephemeral }, secrets).await?)
            }
            HubMode::Process(binary) => {
                config.metrics.listen = loopback;
                let path = folders.path().join("hub.toml");
                let text = toml::to_string(&config)
                    .map_err(start_error("the hub's configuration file"))?;
                std::fs::write(&path, text).map_err(start_error("the hub's configuration file"))?;
                let env = vec![
                    (config.odoo.api_key_env.clone(), odoo.api_key().to_owned()),
                    (
                        config.odoo.webhook_secret_env.clone(),
                        webhook_secret.clone(),
                    ),
                    (
                        "TRADEHUB_REST_BROKER_HMAC_SECRET".to_owned(),
                        secret.clone(),
                    ),
                    ("TRADEHUB_CARRIER_DCSA_SECRET".to_owned(), secret.clone()),
                    ("TRADEHUB_CARRIER_X12_SECRET".to_owned(), secret.clone()),
                    (config.auth.pepper_env.clone(), pepper_text),
                    (config.audit.key_env.clone(), audit_key_text),
                    (DATA_KEY_ENV.to_owned(), data_key),
                ];
                let mut run = HubRun::Process {
                    child: None,
                    binary: binary.clone(),
                    config: path,
                    log: folders.path().join("hub.log"),
                    env,
                    ephemeral,
                    addr_file: folders.path().join("hub.addrs.json"),
                    addrs: None,
                };
                run.spawn()?;
                run
            }
        };
        let api = match hub.api_addr(Duration::from_secs(60)).await {
            Ok(addr) => format!("http://{addr}"),
            Err(e) => return Err(hub.abandon(e).await),
        };
        let wired =
            Self::wire_to_hub(&api, &odoo, &rest_broker, options, &secret, &webhook_secret).await;
        let (carrier, http) = match wired {
            Ok(wired) => wired,
            Err(e) => return Err(hub.abandon(e).await),
        };
        if let Err(e) = Self::wait_ready_at(&http, &api, Duration::from_secs(60)).await {
            return Err(hub.abandon(e).await);
        }
        Ok(Self {
            redis,
            prefix,
            partitions: options.partitions,
            store,
            odoo,
            rest_broker,
            edifact_broker,
            carrier,
            hub,
            api,
            http,
            tokens,
            folders,
        })
    }

    /// Point the REST broker's callbacks, the carrier and Odoo's webhook at the hub's API, and
    /// create the hub's fields in Odoo; the carrier and the HTTP client for the people.
    async fn wire_to_hub(
        api: &str,
        odoo: &SimOdoo,
        rest_broker: &RestBrokerSim,
        options: &DemoOptions,
        secret: &str,
        webhook_secret: &str,
    ) -> Result<(CarrierSim, reqwest::Client), DemoError> {
        rest_broker.set_callback(CallbackTarget {
            url: format!("{api}/v1/partners/{REST_BROKER}/callbacks"),
            header: "X-Tradehub-Signature".to_owned(),
            secret: Secret::new(secret),
        });
        let carrier = CarrierSim::new(CarrierSimConfig {
            dcsa: CarrierEndpoint {
                url: format!("{api}/v1/partners/{}/callbacks", CARRIERS[0]),
                header: "Notification-Signature".to_owned(),
                secret: Secret::new(secret),
            },
            x12: CarrierEndpoint {
                url: format!("{api}/v1/partners/{}/callbacks", CARRIERS[1]),
                header: "X-Tradehub-Signature".to_owned(),
                secret: Secret::new(secret),
            },
            seed: options.seed,
            step_delay: options.step_delay,
            faults: Faults::default(),
        })
        .map_err(start_error("the carrier simulator"))?;
        let client = OdooClient::new(tradehub::partners::odoo::OdooConfig::new(
            &odoo.url(),
            odoo.db(),
            odoo.login(),
            tradehub::secret::Secret::new(odoo.api_key()),
            OdooTransport::OdooJson2,
        ))
        .map_err(start_error("the Odoo client"))?;
        tradehub::partners::odoo::setup(&client)
            .await
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
            .map_err(start_error("the HTTP client"))?;
        Ok((carrier, http))
    }

    /// Wait until the hub at `api` answers `/readyz` with 200.
    async fn wait_ready_at(
        http: &reqwest::Client,
        api: &str,
        within: Duration,
    ) -> Result<(), DemoError> {
        let until = tokio::time::Instant::now() + within;
        loop {
            let ready = http
                .get(format!("{api}/readyz"))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if ready {
                return Ok(());
            }
            if tokio::time::Instant::now() > until {
                return Err(DemoError::Start {
                    what: "the hub",
                    reason: format!("{api}/readyz not ready after {within:?}"),
                });
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The finance inbox's folder: one subfolder per broker.
    pub fn finance_folder(&self) -> PathBuf {
        self.folders.path().join("finance")
    }

    /// The last `chars` characters of the hub process's log (empty for an in-process hub).
    pub fn hub_log_tail(&self, chars: usize) -> String {
        match &self.hub {
            HubRun::Process { log, .. } => {
                tail(&std::fs::read_to_string(log).unwrap_or_default(), chars)
            }
            HubRun::InProcess(_) => String::new(),
        }
    }

    /// Kill the hub process with SIGKILL (process mode only; in-process hubs cannot be killed).
    pub fn kill_hub(&mut self) -> Result<(), DemoError> {
        match &mut self.hub {
            HubRun::Process { child, .. } => {
                if let Some(mut c) = child.take() {
                    drop(c.kill());
                    drop(c.wait());
                }
                Ok(())
            }
            HubRun::InProcess(_) => Err(DemoError::Run(
                "an in-process hub cannot be killed; start the world with HubMode::Process".into(),
            )),
        }
    }

    /// The hub process's id (none for an in-process hub or a killed one).
    pub fn hub_pid(&self) -> Option<u32> {
        match &self.hub {
            HubRun::Process { child, .. } => child.as_ref().map(std::process::Child::id),
            HubRun::InProcess(_) => None,
        }
    }

    /// The hub process's Prometheus exposition (none for an in-process hub).
    pub async fn hub_metrics(&self) -> Option<String> {
        let HubRun::Process {
            addrs: Some(addrs), ..
        } = &self.hub
        else {
            return None;
        };
        let response = self
            .http
            .get(format!("http://{}/metrics", addrs.metrics))
            .send()
            .await
            .ok()?;
        response.text().await.ok()
    }

    /// Start the killed hub process again, on the addresses of its first start, and wait until
    /// it is ready.
    pub async fn restart_hub(&mut self) -> Result<(), DemoError> {
        self.hub.spawn()?;
        self.hub.api_addr(Duration::from_secs(60)).await?;
        Self::wait_ready_at(&self.http, &self.api, Duration::from_secs(60)).await
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

    /// Stop the hub (gracefully) and the simulators.
    pub async fn stop(self) {
        match self.hub {
            HubRun::InProcess(hub) => hub.stop().await,
            HubRun::Process {
                child: Some(mut child),
                ..
            } => {
                let terminated = std::process::Command::new("kill")
                    .arg("-TERM")
                    .arg(child.id().to_string())
                    .status()
                    .is_ok_and(|s| s.success());
                if !terminated {
                    drop(child.kill());
                }
                drop(child.wait());
            }
            HubRun::Process { child: None, .. } => {}
        }
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
    config.odoo.url = odoo.url();
    config.odoo.db = odoo.db().to_owned();
    config.odoo.login = odoo.login().to_owned();
    config.odoo.poll_every = Duration::from_millis(500);
    config.odoo.settle = Duration::from_secs(1);
    // The demo's people are trusted and read every shipment at the end in one burst: the API's
    // rate limits stay on, far above what they do.
    config.auth.token_rate_per_sec = 100_000;
    config.auth.token_burst = 100_000;
    config.auth.address_rate_per_sec = 100_000;
    config.auth.address_burst = 100_000;
    if let Some(limits) = &options.partner_limits {
        for name in [ODOO, SCREENING, REST_BROKER, EDIFACT_BROKER] {
            config.partners.insert(name.to_owned(), limits.clone());
        }
    }
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

/// The last `chars` characters of `text`.
fn tail(text: &str, chars: usize) -> String {
    let skip = text.chars().count().saturating_sub(chars);
    text.chars().skip(skip).collect()
}
