//! What a node runs, built once at start from the configuration: the saga of the configured
//! workflow and its partner connections, each with its transport. Everything is loaded and
//! checked here, so a bad routing table, tariff file, list or partner template stops the start
//! with a message naming the file, instead of failing the first shipment.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use tradehub_actors::clock::SystemClock;
use tradehub_actors::partner::{PartnerConfig, Transport, partner_connection_spec};
use tradehub_actors::supervisor::ChildSpec;

use crate::api::callbacks::{CallbackPartner, Callbacks};
use crate::auth::{Pepper, PepperError};
use crate::config::{BrokerLink, HubConfig, Workflow};
use crate::partners::config::{Layout, PartnerKind, TransportConfig};
use crate::partners::echo::EchoTransport;
use crate::partners::edifact_file::{EdifactFileConfig, EdifactFileTransport, WatcherConfig};
use crate::partners::odoo::{OdooClient, OdooConfig, OdooPartner};
use crate::partners::outbound::{Outbound, check_endpoint};
use crate::partners::rest_broker::{RestBrokerConfig, RestBrokerTransport};
use crate::partners::screening::ScreeningTransport;
use crate::screening::config::ScreeningConfig;
use crate::screening::lists::ListStore;
use crate::screening::screener::Screener;
use crate::secret::Secret;
use crate::store::echo_ledger::EchoLedger;
use crate::store::lrn_ledger::Ledger;
use crate::store::{AuditKeys, RedisMailbox};
use crate::tariff::Rules;
use crate::tariff::duty::TariffBook;
use crate::workflow::echo::ECHO_PARTNER;
use crate::workflow::routing::RoutingPolicy;
use crate::workflow::shipment::{ODOO, Reference, SCREENING, ShipmentDeps, ShipmentSaga};

/// Secrets a node needs, kept out of files: read from the environment variables the
/// configuration names (`tradehub serve`), or handed over directly (`tradehub demo`, tests).
#[derive(Debug, Clone, Default)]
pub struct Secrets {
    /// The Odoo integration user's API key.
    pub odoo_api_key: Option<String>,
    /// The secret Odoo's webhook presents on `POST /v1/ingest/odoo`.
    pub odoo_webhook: Option<String>,
    /// Brokers and carriers allowed to call back, with their HMAC secrets; `None`: every
    /// broker and carrier template whose secret's environment variable is set (a set secret
    /// shorter than 32 bytes stops the start).
    pub callbacks: Option<Callbacks>,
    /// The pepper API tokens are hashed with; the API does not start without it.
    pub token_pepper: Option<Pepper>,
    /// The audit trail's keys; `None`: read as `[audit]` says (the node does not start
    /// without the current key).
    pub audit_keys: Option<AuditKeys>,
}

impl Secrets {
    /// From the environment variables `config` names; the token pepper must be there.
    pub fn from_env(config: &HubConfig) -> Result<Self, PepperError> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        Ok(Self {
            odoo_api_key: var(&config.odoo.api_key_env),
            odoo_webhook: var(&config.odoo.webhook_secret_env),
            callbacks: None,
            token_pepper: Some(Pepper::from_env(&config.auth.pepper_env)?),
            audit_keys: None,
        })
    }

    /// Callbacks for the named partners, all with one secret of at least 32 bytes (the demo and
    /// tests).
    pub fn callbacks_with(
        layout: &Layout,
        partners: &[&str],
        secret: &str,
    ) -> Result<Callbacks, String> {
        partners
            .iter()
            .try_fold(Callbacks::new(layout.clone()), |c, name| {
                CallbackPartner::with_secret(layout, name, Secret::new(secret))
                    .map(|p| c.with(p))
                    .map_err(|e| format!("callbacks of {name}: {e}"))
            })
    }
}

/// A broker connection and, for file-drop brokers, the watcher of its inbox.
#[derive(Debug, Clone)]
pub enum Broker {
    /// `http_json`: requests out, signed callbacks in.
    Rest(RestBrokerConfig),
    /// `edifact_file`: CUSDECs into the outbox, CUSRES/CONTRL from the inbox.
    Edifact {
        /// The sending side.
        outbox: EdifactFileConfig,
        /// The receiving side.
        inbox: WatcherConfig,
    },
}

/// The shipment workflow's saga and partners.
pub struct ShipmentWiring {
    /// The saga, with its routing, rules, tariff and settings loaded.
    pub saga: Arc<ShipmentSaga>,
    /// The Odoo connection.
    pub odoo: OdooConfig,
    /// The loaded screening lists.
    pub screener: Arc<Screener>,
    /// The brokers the routing table names, by partner name.
    pub brokers: BTreeMap<String, Broker>,
}

/// The workflow a node runs.
pub enum Flow {
    /// The echo saga and its built-in partner.
    Echo,
    /// The shipment saga.
    Shipment(Arc<ShipmentWiring>),
}

/// The workflow could not be built; names the file or setting at fault.
#[derive(Debug, thiserror::Error)]
#[error("{what}: {reason}")]
pub struct WiringError {
    /// Which part.
    pub what: String,
    /// Why.
    pub reason: String,
}

pub(super) fn wiring_error<E: std::fmt::Display>(
    what: impl Into<String>,
) -> impl FnOnce(E) -> WiringError {
    let what = what.into();
    move |reason| WiringError {
        what,
        reason: reason.to_string(),
    }
}

impl Flow {
    /// Load the workflow `config` names.
    pub fn load(config: &HubConfig, secrets: &Secrets) -> Result<Self, WiringError> {
        let flow = match config.runtime.workflow {
            Workflow::Echo => Self::Echo,
            Workflow::Shipment => Self::Shipment(Arc::new(ShipmentWiring::load(config, secrets)?)),
        };
        let connections = flow.connections();
        for unknown in config.partners.keys().filter(|n| !connections.contains(n)) {
            tracing::warn!(
                partner = %unknown,
                workflow = ?config.runtime.workflow,
                connections = %connections.join(", "),
                "partners.{unknown} names no connection of this workflow; its limits are not used"
            );
        }
        Ok(flow)
    }

    /// The partner connections this workflow runs.
    pub fn connections(&self) -> Vec<String> {
        match self {
            Self::Echo => vec![ECHO_PARTNER.to_owned()],
            Self::Shipment(wiring) => [ODOO, SCREENING]
                .into_iter()
                .map(str::to_owned)
                .chain(wiring.brokers.keys().cloned())
                .collect(),
        }
    }

    /// The supervisor child of connection `config.partner`, with its transport.
    pub fn partner_spec(&self, config: PartnerConfig, mailbox: &RedisMailbox) -> ChildSpec {
        match self {
            Self::Echo => {
                let ledger = EchoLedger::of(mailbox);
                connection(config, mailbox, move || {
                    Ok(EchoTransport::new(ledger.clone()))
                })
            }
            Self::Shipment(wiring) => wiring.partner_spec(config, mailbox),
        }
    }
}

/// A partner connection child over the transport `make` builds (again on every restart).
fn connection<T: Transport>(
    config: PartnerConfig,
    mailbox: &RedisMailbox,
    make: impl FnMut() -> Result<T, String> + Send + 'static,
) -> ChildSpec {
    partner_connection_spec(config, mailbox.clone(), make, Arc::new(SystemClock))
}

impl ShipmentWiring {
    /// Load routing, rules, tariff, lists, the Odoo settings and the routed brokers' templates.
    pub fn load(config: &HubConfig, secrets: &Secrets) -> Result<Self, WiringError> {
        let home = &config.runtime.home;
        let file = |rel: &str| home.join(rel);
        let routing_path = file("config/routing.toml");
        let routing = RoutingPolicy::load(&routing_path)
            .map_err(wiring_error(routing_path.display().to_string()))?;
        let rules_path = file("config/validation.toml");
        let rules =
            Rules::load(&rules_path).map_err(wiring_error(rules_path.display().to_string()))?;
        let tariff_dir = file("config/tariffs");
        let tariff = TariffBook::load(&tariff_dir)
            .map_err(wiring_error(tariff_dir.display().to_string()))?;
        let saga = ShipmentSaga::new(ShipmentDeps {
            routing: Arc::new(routing.clone()),
            reference: Reference::Bundled,
            rules: Arc::new(rules),
            tariff: Some(Arc::new(tariff)),
            settings: Arc::new(config.saga.settings()),
        });

        check_endpoint(
            ODOO,
            "odoo.url",
            &config.odoo.url,
            config.odoo.allow_insecure,
        )
        .map_err(wiring_error("[odoo]"))?;
        let key = secrets.odoo_api_key.clone();
        let odoo = config
            .odoo
            .settings()
            .resolve(|_| key.clone())
            .map_err(wiring_error("[odoo]"))?;

        let screener = Arc::new(load_screener(home, &config.screening.config)?);

        let layout = Layout::new(home);
        let mut brokers = BTreeMap::new();
        let names = std::iter::once(&routing.default_partner)
            .chain(routing.routes.iter().map(|r| &r.partner));
        for name in names {
            if brokers.contains_key(name) {
                continue;
            }
            let link = config.brokers.get(name).cloned().unwrap_or_default();
            let broker = broker(&layout, name, &link, config.runtime.partitions)?;
            brokers.insert(name.clone(), broker);
        }
        if let Some(stray) = config.brokers.keys().find(|n| !brokers.contains_key(*n)) {
            return Err(WiringError {
                what: format!("brokers.{stray}"),
                reason: "config/routing.toml routes no declaration to this partner".to_owned(),
            });
        }
        Ok(Self {
            saga: Arc::new(saga),
            odoo,
            screener,
            brokers,
        })
    }

    fn partner_spec(&self, config: PartnerConfig, mailbox: &RedisMailbox) -> ChildSpec {
        let name = config.partner.clone();
        if name == ODOO {
            let odoo = self.odoo.clone();
            return connection(config, mailbox, move || {
                OdooClient::new(odoo.clone())
                    .map(OdooPartner::new)
                    .map_err(|e| e.to_string())
            });
        }
        if name == SCREENING {
            let screener = self.screener.clone();
            return connection(config, mailbox, move || {
                Ok(ScreeningTransport::new(screener.clone()))
            });
        }
        let ledger = Ledger::of(mailbox);
        match self.brokers.get(&name).cloned() {
            Some(Broker::Rest(rest)) => connection(config, mailbox, move || {
                RestBrokerTransport::new(rest.clone(), ledger.clone()).map_err(|e| e.to_string())
            }),
            Some(Broker::Edifact { outbox, .. }) => connection(config, mailbox, move || {
                Ok(EdifactFileTransport::new(outbox.clone(), ledger.clone()))
            }),
            None => connection(config, mailbox, move || {
                Err::<EchoTransport, _>(format!("partner {name} has no transport in this workflow"))
            }),
        }
    }
}

/// The screener over the lists `path` (relative to `home`) names, list paths relative to `home`.
fn load_screener(home: &std::path::Path, path: &std::path::Path) -> Result<Screener, WiringError> {
    let path = home.join(path);
    let what = path.display().to_string();
    let mut config = ScreeningConfig::from_file(&path).map_err(wiring_error(what.clone()))?;
    for list in &mut config.lists {
        list.path = home.join(&list.path);
    }
    let store = ListStore::load_all(&config.lists).map_err(wiring_error(what))?;
    Ok(Screener::new(store, config.match_settings()))
}

/// Broker `name` from its template, with this deployment's overrides.
fn broker(
    layout: &Layout,
    name: &str,
    link: &BrokerLink,
    partitions: u16,
) -> Result<Broker, WiringError> {
    let what = format!("config/partners/{name}.toml");
    let template = layout.template(name).map_err(wiring_error(what.clone()))?;
    if template.kind != PartnerKind::CustomsBroker {
        return Err(WiringError {
            what,
            reason: "config/routing.toml routes declarations to it, but it is not a customs_broker"
                .to_owned(),
        });
    }
    match template.transport {
        TransportConfig::HttpJson { endpoint } => {
            let endpoint = link.endpoint.clone().unwrap_or(endpoint);
            check_endpoint(name, "endpoint", &endpoint, template.allow_insecure)
                .map_err(wiring_error(what.clone()))?;
            let mut rest = RestBrokerConfig::new(name, layout.clone(), &endpoint);
            rest.outbound = Outbound::load(
                name,
                &template.outbound_auth,
                template.outbound_tls.as_ref(),
                template.allow_insecure,
                &layout.root,
                |var| Secret::from_env(var).ok(),
                Arc::new(SystemClock),
            )
            .map_err(wiring_error(what))?;
            Ok(Broker::Rest(rest))
        }
        TransportConfig::EdifactFile {
            outbox,
            inbox,
            max_file_bytes,
        } => {
            let outbox = link.outbox.clone().unwrap_or_else(|| PathBuf::from(outbox));
            let inbox = link.inbox.clone().unwrap_or_else(|| PathBuf::from(inbox));
            for dir in [&outbox, &inbox] {
                std::fs::create_dir_all(dir)
                    .map_err(|e| format!("folder {}: {e}", dir.display()))
                    .map_err(wiring_error(what.clone()))?;
            }
            Ok(Broker::Edifact {
                outbox: EdifactFileConfig {
                    partner: name.to_owned(),
                    layout: layout.clone(),
                    outbox: outbox.clone(),
                },
                inbox: WatcherConfig {
                    partner: name.to_owned(),
                    layout: layout.clone(),
                    inbox,
                    poll: link.poll_every,
                    partitions,
                    acknowledge_to: Some(outbox),
                    max_file_bytes,
                },
            })
        }
        other => Err(WiringError {
            what,
            reason: format!(
                "transport {other:?} has no implementation yet (http_json and edifact_file do)"
            ),
        }),
    }
}
