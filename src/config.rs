//! Service configuration: figment layers, from weakest to strongest: built-in
//! defaults → `config/hub.toml` → `TRADEHUB_…` environment (`__` nests) → flags,
//! then [`HubConfig::validate`].

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

use std::collections::{BTreeMap, BTreeSet};

use rust_decimal::Decimal;

use crate::auth::{AuthSettings, LimitSettings, OidcConfig};
use crate::partners::config::{Auth, Layout};
use crate::partners::odoo::{OdooSettings, OdooTransport};
use crate::store::{AuditConfig, EncryptionConfig, KeyringError, StoreConfig};
use crate::tls::TlsConfig;
use crate::workflow::shipment::SagaSettings;
use crate::workflow::shipment::four_eyes::FourEyes;

/// A configuration that could not be loaded or is inconsistent.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A layer could not be read or parsed; figment names the key and the file.
    #[error("configuration: {0}")]
    Load(#[from] Box<figment::Error>),
    /// A `TRADEHUB_` variable that is neither a setting nor a variable anything reads.
    #[error(
        "configuration: environment variable {0} is unknown: settings are \
         TRADEHUB_<SECTION>__<KEY>, and neither the configuration nor a partner template names \
         it as a secret"
    )]
    UnknownVariable(String),
    /// `[encryption]` names keys that cannot be used; the message never shows key material.
    #[error("configuration: {0}")]
    Encryption(#[from] KeyringError),
    /// The merged values break a rule.
    #[error("configuration: `{key}` {problem}")]
    Invalid {
        /// The dotted key at fault.
        key: &'static str,
        /// What is wrong with it.
        problem: String,
    },
}

/// The whole service configuration (`config/hub.toml` documents every key).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct HubConfig {
    /// Redis connection and key layout.
    pub redis: StoreConfig,
    /// `[encryption]`: the keys that seal business data in Redis (off without keys).
    pub encryption: EncryptionConfig,
    /// Partitions, leases and the saga host.
    pub runtime: RuntimeConfig,
    /// The API listener.
    pub http: HttpConfig,
    /// API tokens and the API's rate limits.
    pub auth: AuthConfig,
    /// Partners' signed callbacks.
    pub callbacks: CallbacksConfig,
    /// The Prometheus listener.
    pub metrics: MetricsConfig,
    /// Timers and tolerances of the shipment saga.
    pub saga: SagaConfig,
    /// The Odoo database the shipment workflow serves.
    pub odoo: OdooLink,
    /// The screening engine's lists and thresholds.
    pub screening: ScreeningLink,
    /// Per-deployment overrides of broker templates' transports, by partner name.
    pub brokers: BTreeMap<String, BrokerLink>,
    /// The settlement documents' inbox and the duty reconciliation batch.
    pub finance: crate::finance::FinanceConfig,
    /// Partner connections' runtime limits, by partner name; a connection without an entry
    /// gets the defaults.
    pub partners: BTreeMap<String, PartnerLimits>,
    /// The audit trail's keys and anchors.
    pub audit: AuditConfig,
    /// How long each kind of data stays, and where it is exported before it goes.
    pub retention: crate::retention::RetentionConfig,
}

/// Which saga the partitions run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Workflow {
    /// The shipment saga with Odoo, screening and the routed brokers.
    Shipment,
    /// The runtime's echo workflow and its built-in `echo` partner (runtime tests and benchmarks).
    Echo,
}

/// `[saga]`: the shipment saga's timers, duty tolerances and four-eyes rules.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct SagaConfig {
    /// How long a broker has to acknowledge a filing.
    #[serde(with = "humantime_serde")]
    pub ack_timeout: Duration,
    /// How long customs has to release an accepted declaration.
    #[serde(with = "humantime_serde")]
    pub clearance_sla: Duration,
    /// Duty differences up to this amount are not a variance.
    #[serde(with = "rust_decimal::serde::str")]
    pub variance_abs: Decimal,
    /// Duty differences up to this percent of the assessed duty are not a variance.
    #[serde(with = "rust_decimal::serde::str")]
    pub variance_pct: Decimal,
    /// `[saga.four_eyes]`: which decisions need a second compliance officer.
    pub four_eyes: FourEyes,
}

impl Default for SagaConfig {
    fn default() -> Self {
        let settings = SagaSettings::default();
        Self {
            ack_timeout: Duration::from_millis(settings.ack_timeout_ms),
            clearance_sla: Duration::from_millis(settings.clearance_sla_ms),
            variance_abs: settings.variance_abs,
            variance_pct: settings.variance_pct,
            four_eyes: settings.four_eyes,
        }
    }
}

impl SagaConfig {
    /// The saga's settings.
    pub fn settings(&self) -> SagaSettings {
        SagaSettings {
            ack_timeout_ms: self.ack_timeout.as_millis() as u64,
            clearance_sla_ms: self.clearance_sla.as_millis() as u64,
            variance_abs: self.variance_abs,
            variance_pct: self.variance_pct,
            four_eyes: self.four_eyes,
            ..SagaSettings::default()
        }
    }
}

/// `[odoo]`: how to reach Odoo and how often to poll it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct OdooLink {
    /// Base URL of Odoo.
    pub url: String,
    /// Database name.
    pub db: String,
    /// Login of the integration user (JSON-RPC authenticates with it).
    pub login: String,
    /// `odoo_json2` (Odoo 19+) or `odoo_jsonrpc` (Odoo 16–18).
    pub transport: OdooTransport,
    /// Environment variable holding the integration user's API key.
    pub api_key_env: String,
    /// Timeout of one request.
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
    /// Attempts of an idempotent call.
    pub attempts: u32,
    /// Records per page in reads and polls.
    pub page_size: usize,
    /// Time between polls of changed pickings (webhooks only hint between polls).
    #[serde(with = "humantime_serde")]
    pub poll_every: Duration,
    /// Rows younger than this wait for the next poll (transactions commit late).
    #[serde(with = "humantime_serde")]
    pub settle: Duration,
    /// Environment variable holding the secret Odoo's webhook sends (`X-Tradehub-Secret`
    /// header or `?secret=`); unset: `POST /v1/ingest/odoo` is refused.
    pub webhook_secret_env: String,
    /// Accept a plain `http://` URL on a host that is not loopback (the API key travels in it).
    pub allow_insecure: bool,
}

impl Default for OdooLink {
    fn default() -> Self {
        Self {
            url: "http://127.0.0.1:8069".to_owned(),
            db: "odoo".to_owned(),
            login: "tradehub".to_owned(),
            transport: OdooTransport::OdooJson2,
            api_key_env: "TRADEHUB_ODOO_API_KEY".to_owned(),
            timeout: Duration::from_secs(30),
            attempts: 3,
            page_size: 200,
            poll_every: Duration::from_secs(10),
            settle: Duration::from_secs(2),
            webhook_secret_env: "TRADEHUB_ODOO_WEBHOOK_SECRET".to_owned(),
            allow_insecure: false,
        }
    }
}

impl OdooLink {
    /// The connector's settings.
    pub fn settings(&self) -> OdooSettings {
        OdooSettings {
            url: self.url.clone(),
            db: self.db.clone(),
            login: self.login.clone(),
            transport: self.transport,
            api_key_env: self.api_key_env.clone(),
            timeout: self.timeout,
            attempts: self.attempts,
            page_size: self.page_size,
        }
    }
}

/// `[screening]`: where the screening engine's configuration is.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ScreeningLink {
    /// The lists and thresholds file, relative to `runtime.home`.
    pub config: PathBuf,
}

impl Default for ScreeningLink {
    fn default() -> Self {
        Self {
            config: PathBuf::from("config/screening.toml"),
        }
    }
}

/// `[brokers.<name>]`: this deployment's address of a broker whose template is
/// `config/partners/<name>.toml`; unset keys keep the template's values.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct BrokerLink {
    /// Base URL of an `http_json` broker.
    pub endpoint: Option<String>,
    /// Folder an `edifact_file` broker reads our declarations from.
    pub outbox: Option<PathBuf>,
    /// Folder an `edifact_file` broker drops its answers into.
    pub inbox: Option<PathBuf>,
    /// Time between polls of the inbox.
    #[serde(with = "humantime_serde")]
    pub poll_every: Duration,
}

impl Default for BrokerLink {
    fn default() -> Self {
        Self {
            endpoint: None,
            outbox: None,
            inbox: None,
            poll_every: Duration::from_secs(1),
        }
    }
}

/// Partitions, leases and the saga host.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct RuntimeConfig {
    /// Number of partitions; fixed for the life of the data (it is part of the key layout).
    pub partitions: u16,
    /// This node's name in leases and consumer names; empty means `<hostname>-<pid>`.
    pub node_id: String,
    /// Lease time to live: a dead node's partitions move after this long.
    #[serde(with = "humantime_serde")]
    pub lease_ttl: Duration,
    /// How often leases are renewed and free partitions sought.
    #[serde(with = "humantime_serde")]
    pub lease_renew: Duration,
    /// Entries read per XREADGROUP call.
    pub read_batch: usize,
    /// How long one XREADGROUP call blocks waiting for entries.
    #[serde(with = "humantime_serde")]
    pub read_block: Duration,
    /// Pending entries idle longer than this are reclaimed (their consumer is presumed dead).
    #[serde(with = "humantime_serde")]
    pub reclaim_idle: Duration,
    /// How often the reclaimer runs.
    #[serde(with = "humantime_serde")]
    pub reclaim_every: Duration,
    /// Deliveries after which an entry goes to the dead-letter stream.
    pub max_deliveries: u32,
    /// A key actor with no input for this long is stopped; its state stays in Redis.
    #[serde(with = "humantime_serde")]
    pub passivate_idle: Duration,
    /// How often the timer set is polled.
    #[serde(with = "humantime_serde")]
    pub timer_poll: Duration,
    /// Acknowledged entries kept per stream when trimming.
    pub trim_keep: u64,
    /// Time given to in-flight work on shutdown before the process exits.
    #[serde(with = "humantime_serde")]
    pub shutdown_grace: Duration,
    /// Which saga the partitions run.
    pub workflow: Workflow,
    /// Folder holding `config/` (templates, mappings, routing, tariffs) and `data/`.
    pub home: PathBuf,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        Self {
            partitions: 16,
            node_id: String::new(),
            lease_ttl: Duration::from_secs(10),
            lease_renew: Duration::from_secs(3),
            read_batch: 256,
            read_block: Duration::from_millis(200),
            reclaim_idle: Duration::from_secs(30),
            reclaim_every: Duration::from_secs(5),
            max_deliveries: 5,
            passivate_idle: Duration::from_secs(60),
            timer_poll: Duration::from_millis(250),
            trim_keep: 100_000,
            shutdown_grace: Duration::from_secs(20),
            workflow: Workflow::Shipment,
            home: PathBuf::from("."),
        }
    }
}

/// The API listener.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    /// Address of the API (health, readiness, ingest).
    pub listen: SocketAddr,
    /// `[http.tls]`: serve HTTPS with this certificate (plain HTTP when absent).
    pub tls: Option<TlsConfig>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([0, 0, 0, 0], 8080)),
            tls: None,
        }
    }
}

/// `[auth]`: API tokens and the API's rate limits.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// Environment variable holding the pepper the tokens' secrets are hashed with (at least
    /// 32 bytes); `serve` and `tradehub token` refuse to run without it.
    pub pepper_env: String,
    /// How long a token read from Redis is trusted before it is read again: a revoked or
    /// expired token works at most this much longer (at most 5 s).
    #[serde(with = "humantime_serde")]
    pub cache_ttl: Duration,
    /// A token's last-used time is written at most this often.
    #[serde(with = "humantime_serde")]
    pub last_used_every: Duration,
    /// Steady requests per second one token may make.
    pub token_rate_per_sec: u32,
    /// Requests one token may make at once above its steady rate.
    pub token_burst: u32,
    /// Steady requests per second from one source address to token-authenticated routes.
    pub address_rate_per_sec: u32,
    /// Requests one address may make at once above its steady rate.
    pub address_burst: u32,
    /// OIDC bearer tokens (JWTs) for people, beside API tokens; off by default.
    pub oidc: OidcConfig,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            pepper_env: "TRADEHUB_TOKEN_PEPPER".to_owned(),
            cache_ttl: Duration::from_secs(5),
            last_used_every: Duration::from_secs(5),
            token_rate_per_sec: 50,
            token_burst: 100,
            address_rate_per_sec: 100,
            address_burst: 200,
            oidc: OidcConfig::default(),
        }
    }
}

impl AuthConfig {
    /// Longest accepted `cache_ttl`.
    pub const CACHE_TTL_MAX: Duration = Duration::from_secs(5);

    /// How tokens are checked.
    pub fn settings(&self) -> AuthSettings {
        AuthSettings {
            cache_ttl: self.cache_ttl,
            last_used_every: self.last_used_every,
        }
    }

    /// The rate limits (zeros, refused by [`HubConfig::validate`], read as 1).
    pub fn limits(&self) -> LimitSettings {
        let at_least_one = |n| NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN);
        LimitSettings {
            per_token: at_least_one(self.token_rate_per_sec),
            token_burst: at_least_one(self.token_burst),
            per_address: at_least_one(self.address_rate_per_sec),
            address_burst: at_least_one(self.address_burst),
        }
    }
}

/// `[callbacks]`: brokers' and carriers' signed callbacks.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct CallbacksConfig {
    /// How far a callback's signature time (`t=`) may be from this node's clock, either way;
    /// signatures seen within it are remembered and a second use is refused.
    #[serde(with = "humantime_serde")]
    pub tolerance: Duration,
}

impl Default for CallbacksConfig {
    fn default() -> Self {
        Self {
            tolerance: crate::partners::signature::DEFAULT_TOLERANCE,
        }
    }
}

impl CallbacksConfig {
    /// Longest accepted `tolerance`: the replay store keeps every signature for about twice as
    /// long.
    pub const TOLERANCE_MAX: Duration = Duration::from_secs(3600);
}

/// The Prometheus listener.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsConfig {
    /// Address of `/metrics`, separate from the API so scraping never competes with ingest.
    pub listen: SocketAddr,
    /// How often queue depths and pending counts are sampled.
    #[serde(with = "humantime_serde")]
    pub sample_every: Duration,
    /// Environment variable holding a bearer token (at least 32 bytes) that `/metrics` then
    /// requires; needed when `listen` is not a loopback address.
    pub token_env: Option<String>,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 9090)),
            sample_every: Duration::from_secs(5),
            token_env: None,
        }
    }
}

/// Runtime limits of one partner connection.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct PartnerLimits {
    /// Calls per second this node may make (its share of the partner's quota).
    pub rate_per_sec: u32,
    /// Calls allowed in a burst above the steady rate.
    pub burst: u32,
    /// Calls in flight at once.
    pub concurrency: usize,
    /// Consecutive failures that open the circuit breaker.
    pub breaker_failures: u32,
    /// How long an open breaker waits before a half-open probe.
    #[serde(with = "humantime_serde")]
    pub breaker_open: Duration,
    /// First retry delay; doubles per attempt, with full jitter.
    #[serde(with = "humantime_serde")]
    pub retry_base: Duration,
    /// Longest retry delay.
    #[serde(with = "humantime_serde")]
    pub retry_max: Duration,
    /// Retry waits longer than this leave the pending list and go to the timer set.
    #[serde(with = "humantime_serde")]
    pub defer_after: Duration,
    /// Timeout of one call.
    #[serde(with = "humantime_serde")]
    pub call_timeout: Duration,
}

impl Default for PartnerLimits {
    fn default() -> Self {
        Self {
            rate_per_sec: 1_000,
            burst: 100,
            concurrency: 32,
            breaker_failures: 5,
            breaker_open: Duration::from_secs(10),
            retry_base: Duration::from_millis(100),
            retry_max: Duration::from_secs(300),
            defer_after: Duration::from_secs(2),
            call_timeout: Duration::from_secs(30),
        }
    }
}

impl HubConfig {
    /// Load the layers: defaults, then `path` (when it exists, or always when
    /// `required`), then `TRADEHUB_…` variables, then `REDIS_URL`; then validate.
    pub fn load(path: &Path, required: bool) -> Result<Self, ConfigError> {
        if required && !path.exists() {
            return Err(ConfigError::Invalid {
                key: "--config",
                problem: format!("names {}, which does not exist", path.display()),
            });
        }
        let mut figment = Figment::from(Serialized::defaults(HubConfig::default()))
            .merge(Toml::file(path))
            // Only `TRADEHUB_<SECTION>__<KEY>`: every setting sits in a section, and the secrets'
            // variables (`TRADEHUB_ODOO_API_KEY`, `TRADEHUB_REST_BROKER_HMAC_SECRET`, …) share the
            // prefix without being settings.
            .merge(
                Env::prefixed("TRADEHUB_")
                    .filter(|key| key.as_str().contains("__"))
                    .split("__"),
            );
        if let Ok(url) = std::env::var("REDIS_URL") {
            figment = figment.merge(Serialized::default("redis.url", url));
        }
        let mut config: HubConfig = figment.extract().map_err(Box::new)?;
        config.redis.read_credentials();
        config.validate()?;
        config.redis.sealer = config.encryption.sealer()?;
        config.refuse_unknown_variables(
            std::env::vars_os().filter_map(|(k, _)| k.into_string().ok()),
        )?;
        Ok(config)
    }

    /// Refuse a `TRADEHUB_` variable among `names` that is not a setting (those with `__`, which
    /// the extraction checks against the known keys) and that nothing reads: a misspelt
    /// `TRADEHUB_RUNTIME_PARTITIONS` would otherwise be ignored without a word.
    fn refuse_unknown_variables(
        &self,
        names: impl IntoIterator<Item = String>,
    ) -> Result<(), ConfigError> {
        let mut read: BTreeSet<String> = [
            self.odoo.api_key_env.clone(),
            self.odoo.webhook_secret_env.clone(),
            self.auth.pepper_env.clone(),
            crate::telemetry::LOG_FORMAT_ENV.to_owned(),
        ]
        .into();
        let layout = Layout::new(&self.runtime.home);
        read.extend(self.metrics.token_env.clone());
        read.extend(self.audit.key_variables().map(str::to_owned));
        read.extend(self.encryption.variables().map(str::to_owned));
        for name in layout.partner_names().unwrap_or_default() {
            let Ok(template) = layout.template(&name) else {
                continue;
            };
            read.extend(template.outbound_auth.secret_env().map(str::to_owned));
            match template.auth {
                Auth::ApiKey { token_env, .. } => read.insert(token_env),
                Auth::Hmac {
                    secret_env,
                    previous_secret_env,
                    ..
                } => {
                    read.extend(previous_secret_env);
                    read.insert(secret_env)
                }
                Auth::None => false,
            };
        }
        match names
            .into_iter()
            .find(|n| n.starts_with("TRADEHUB_") && !n.contains("__") && !read.contains(n))
        {
            Some(unknown) => Err(ConfigError::UnknownVariable(unknown)),
            None => Ok(()),
        }
    }

    /// Check the rules that serde cannot express.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |key, problem: &str| {
            Err(ConfigError::Invalid {
                key,
                problem: problem.to_owned(),
            })
        };
        if self.runtime.partitions == 0 || self.runtime.partitions > 1024 {
            return invalid("runtime.partitions", "must be between 1 and 1024");
        }
        if self.runtime.lease_renew >= self.runtime.lease_ttl {
            return invalid(
                "runtime.lease_renew",
                "must be shorter than runtime.lease_ttl",
            );
        }
        if self.runtime.max_deliveries == 0 {
            return invalid("runtime.max_deliveries", "must be at least 1");
        }
        if self.runtime.read_batch == 0 {
            return invalid("runtime.read_batch", "must be at least 1");
        }
        if let Err(error) = crate::store::keys::Keys::new(&self.redis.prefix) {
            return invalid("redis.prefix", &error.to_string());
        }
        if self.redis.ca_file.is_some() && !self.redis.url.starts_with("rediss://") {
            return invalid(
                "redis.ca_file",
                "is only used over TLS: the URL must start with rediss://",
            );
        }
        self.encryption.check()?;
        if self.odoo.poll_every.is_zero() {
            return invalid("odoo.poll_every", "must be longer than zero");
        }
        if self.brokers.values().any(|b| b.poll_every.is_zero()) {
            return invalid("brokers.<name>.poll_every", "must be longer than zero");
        }
        if self.saga.variance_abs.is_sign_negative() || self.saga.variance_pct.is_sign_negative() {
            return invalid("saga.variance_abs", "tolerances must not be negative");
        }
        if self.auth.cache_ttl > AuthConfig::CACHE_TTL_MAX {
            return invalid(
                "auth.cache_ttl",
                "must be at most 5s: a revoked token must fail within seconds",
            );
        }
        if [
            self.auth.token_rate_per_sec,
            self.auth.token_burst,
            self.auth.address_rate_per_sec,
            self.auth.address_burst,
        ]
        .contains(&0)
        {
            return invalid("auth", "rates and bursts must be at least 1");
        }
        if self.callbacks.tolerance.as_secs() == 0
            || self.callbacks.tolerance > CallbacksConfig::TOLERANCE_MAX
        {
            return invalid(
                "callbacks.tolerance",
                "must be between 1s and 1h: it bounds how long a captured callback stays usable",
            );
        }
        if self.auth.pepper_env.is_empty() {
            return invalid("auth.pepper_env", "must name an environment variable");
        }
        if self.audit.anchor_every.is_zero() {
            return invalid("audit.anchor_every", "must be longer than zero");
        }
        if self.audit.key_env.is_empty() && self.audit.key_file.is_none() {
            return invalid(
                "audit.key_env",
                "must name an environment variable, or set key_file",
            );
        }
        if let Some(key) = self
            .audit
            .previous
            .iter()
            .find(|key| key.key_env.is_none() == key.key_file.is_none())
        {
            return Err(ConfigError::Invalid {
                key: "audit.previous",
                problem: format!("key {:?} needs exactly one of key_env and key_file", key.id),
            });
        }
        if let Err((key, problem)) = self.auth.oidc.check() {
            return invalid(key, &problem);
        }
        if !self.metrics.listen.ip().is_loopback() && self.metrics.token_env.is_none() {
            return invalid(
                "metrics.token_env",
                "must name the environment variable of a bearer token when metrics.listen is \
                 not a loopback address: /metrics would be open to the network",
            );
        }
        for limits in self.partners.values() {
            if limits.rate_per_sec == 0 || limits.concurrency == 0 {
                return invalid(
                    "partners.<name>",
                    "rate_per_sec and concurrency must be at least 1",
                );
            }
        }
        Ok(())
    }

    /// This node's id: the configured one, or `<hostname>-<pid>`.
    pub fn node_id(&self) -> String {
        if !self.runtime.node_id.is_empty() {
            return self.runtime.node_id.clone();
        }
        let host = std::fs::read_to_string("/etc/hostname")
            .map(|h| h.trim().to_owned())
            .unwrap_or_else(|_| "node".to_owned());
        format!("{host}-{}", std::process::id())
    }
}

/// The default configuration file path.
pub fn default_path() -> PathBuf {
    PathBuf::from("config/hub.toml")
}

#[cfg(test)]
mod tests;
