//! The running service: connects to Redis, checks its persistence, starts the
//! supervisors, the lease manager, the sampler and the listeners, and shuts
//! down gracefully on SIGTERM or SIGINT.
//!
//! The tree: the process is the root; under it the `partitions` supervisor
//! (one host per owned partition, added and removed by the lease manager) and
//! the `partners` supervisor (one connection per configured partner, marked down
//! instead of crash-looping). A supervisor that escalates ends the process with
//! an error, so the orchestrator restarts it from durable state.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix::{Actor, Addr};
use actix_web::dev::ServerHandle;
use tokio::sync::{broadcast, watch};
use tokio::task::JoinHandle;
use tradehub_actors::clock::SystemClock;
use tradehub_actors::host::{HostConfig, partition_host_name, partition_host_spec};
use tradehub_actors::mailbox::{Mailbox, MailboxOps, MailboxResult, Partition, StreamName};
use tradehub_actors::partner::{
    BreakerConfig, PartnerConfig, RetryPolicy, partner_connection_name,
};
use tradehub_actors::supervisor::{
    AddChild, RemoveChild, Supervisor, SupervisorConfig, SupervisorEvent,
};

use super::anchoring::Anchoring;
use super::leases::{LeaseManager, LeaseTiming, NodeRegistry, PartitionWork};
use super::readiness::Readiness;
use super::wiring::{Broker, Flow, Secrets, WiringError};
use crate::api;
use crate::api::callbacks::{CallbackConfigError, Callbacks};
use crate::auth::oidc::JwksError;
use crate::auth::{Gate, Oidc, PepperError};
use crate::config::{HubConfig, PartnerLimits};
use crate::finance::FinanceInbox;
use crate::partners::config::Layout;
use crate::partners::edifact_file::InboxWatcher;
use crate::partners::odoo::{OdooClient, OdooFeed, Poller, PollerConfig};
use crate::store::{AnchorError, AuditKeyError, RedisMailbox};
use crate::telemetry::names;
use crate::workflow::echo::EchoSaga;

/// Why the service stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// Redis cannot be used.
    #[error("redis at {url}: {reason}")]
    Redis {
        /// Where.
        url: String,
        /// Why.
        reason: String,
    },
    /// Redis keeps nothing on disk and `--ephemeral` was not given.
    #[error(
        "redis at {url} has no persistence ({detail}); the hub keeps saga state and mailboxes there. \
         Turn on AOF (`appendonly yes`) or RDB snapshots, or start with --ephemeral to accept losing everything on a Redis restart"
    )]
    NotPersistent {
        /// Where.
        url: String,
        /// What Redis reported.
        detail: String,
    },
    /// A listener could not be bound.
    #[error("listener: {0}")]
    Listen(String),
    /// A secret is too short to be one.
    #[error("{variable} ({what}) holds {length} characters; it needs at least {minimum}")]
    WeakSecret {
        /// The variable that holds it.
        variable: String,
        /// What it is for.
        what: &'static str,
        /// How long it is.
        length: usize,
        /// How long it must be.
        minimum: usize,
    },
    /// The API's certificate, key or client CA cannot be used.
    #[error("API TLS: {0}")]
    Tls(#[from] crate::tls::TlsError),
    /// API tokens cannot be checked: the pepper is missing or too short.
    #[error("API tokens: {0}")]
    Auth(#[from] PepperError),
    /// A partner's callback secret is unusable (shorter than 32 bytes); names the partner and
    /// the variable, never the value.
    #[error("partner callbacks: {0}")]
    Callbacks(#[from] CallbackConfigError),
    /// `[auth.oidc]` is on and the identity provider's signing keys cannot be read.
    #[error("auth.oidc: {0}")]
    Oidc(#[from] JwksError),
    /// The workflow could not be loaded (a file, a template or a setting is wrong).
    #[error("cannot load the workflow: {0}")]
    Wiring(#[from] WiringError),
    /// The audit trail cannot be signed: its key is missing or unusable.
    #[error("audit: {0}")]
    AuditKey(#[from] AuditKeyError),
    /// The audit trail cannot be anchored: the anchor file cannot be written.
    #[error("audit: {0}")]
    Anchor(#[from] AnchorError),
    /// A top-level supervisor gave up.
    #[error("supervisor `{supervisor}` escalated: child `{child}` failed too often: {reason}")]
    Escalated {
        /// Which supervisor.
        supervisor: String,
        /// Which child.
        child: String,
        /// Its last failure.
        reason: String,
    },
}

/// Options given on the command line.
#[derive(Debug, Clone, Copy, Default)]
pub struct ServeOptions {
    /// Accept a Redis without persistence.
    pub ephemeral: bool,
}

/// Run the service until SIGTERM/SIGINT; returns once everything has stopped. `listening` is
/// told where the API listener is bound once it is; an error from it stops the service.
pub async fn serve(
    config: HubConfig,
    options: ServeOptions,
    listening: impl FnOnce(SocketAddr) -> Result<(), String>,
) -> Result<(), ServeError> {
    let secrets = Secrets::from_env(&config)?;
    let mut hub = Hub::start(config, options, secrets).await?;
    if let Err(reason) = listening(hub.api_addr()) {
        hub.stop().await;
        return Err(ServeError::Listen(reason));
    }
    let outcome = tokio::select! {
        signal = shutdown_signal() => {
            tracing::info!(signal, "shutting down: no new reads, in-flight work gets {:?}", hub.grace);
            Ok(())
        }
        escalated = hub.escalated() => Err(escalated),
    };
    hub.stop().await;
    outcome
}

/// A running node: its supervisors, lease manager, background tasks and API listener.
pub struct Hub {
    api_addr: SocketAddr,
    readiness: Arc<Readiness>,
    events: broadcast::Receiver<SupervisorEvent>,
    shutdown: watch::Sender<bool>,
    leases: JoinHandle<()>,
    tasks: Vec<JoinHandle<()>>,
    /// The thread the feeds (Odoo poller, file inboxes) run on, apart from the actors.
    feeds: FeedsThread,
    partitions_sup: Addr<Supervisor>,
    partners_sup: Addr<Supervisor>,
    api: ServerHandle,
    api_task: JoinHandle<Result<(), std::io::Error>>,
    grace: Duration,
    node: String,
    anchoring: Anchoring,
}

impl Hub {
    /// Connect to Redis, check it, load the workflow, and start everything. Must run inside
    /// an actix system.
    pub async fn start(
        config: HubConfig,
        options: ServeOptions,
        secrets: Secrets,
    ) -> Result<Self, ServeError> {
        let pepper = secrets
            .token_pepper
            .clone()
            .ok_or_else(|| PepperError::Missing(config.auth.pepper_env.clone()))?;
        if let Some(secret) = &secrets.odoo_webhook
            && secret.chars().count() < api::ingest::MIN_SECRET_CHARS
        {
            return Err(ServeError::WeakSecret {
                variable: config.odoo.webhook_secret_env.clone(),
                what: "the secret Odoo's webhook presents",
                length: secret.chars().count(),
                minimum: api::ingest::MIN_SECRET_CHARS,
            });
        }
        let callbacks = match secrets.callbacks.clone() {
            Some(callbacks) => callbacks,
            None => Callbacks::from_env(Layout::new(&config.runtime.home))?,
        }
        .with_tolerance(config.callbacks.tolerance);
        let redis_err = |reason: String| ServeError::Redis {
            url: config.redis.redacted_url(),
            reason,
        };
        let audit_keys = match secrets.audit_keys.clone() {
            Some(keys) => keys,
            None => config.audit.keys(&config.runtime.home)?,
        };
        let mailbox = RedisMailbox::connect_audited(config.redis.clone(), audit_keys)
            .await
            .map_err(|e| redis_err(e.to_string()))?;
        mailbox.ping().await.map_err(|e| redis_err(e.to_string()))?;
        let persistence = mailbox
            .persistence()
            .await
            .map_err(|e| redis_err(e.to_string()))?;
        if !persistence.is_persistent() {
            if !options.ephemeral {
                return Err(ServeError::NotPersistent {
                    url: config.redis.redacted_url(),
                    detail: persistence.describe(),
                });
            }
            tracing::warn!(url = %config.redis.redacted_url(), "redis has no persistence; running ephemeral as asked: a Redis restart loses every saga and mailbox");
        }
        match config.redis.sealer.current_id() {
            Some(kid) => tracing::info!(key_id = kid, "encryption at rest on"),
            None => tracing::warn!(
                "encryption at rest is off: party names, screening hits, documents and callbacks \
                 are stored in clear in Redis; set [encryption] current and keys"
            ),
        }
        let flow = Arc::new(Flow::load(&config, &secrets)?);
        let oidc = Oidc::start(&config.auth.oidc, &config.runtime.home).await?;

        let node = config.node_id();
        let anchoring = Anchoring::new(
            mailbox.clone(),
            node.clone(),
            config.runtime.partitions,
            config.audit.anchor_path(&config.runtime.home),
        );
        anchoring.anchor().await?;
        let readiness = Arc::new(Readiness::default());
        let (events_tx, events) = broadcast::channel(1024);
        let partitions_sup = Supervisor::new(SupervisorConfig::new("partitions"))
            .events_to(events_tx.clone())
            .start();
        let partners_sup = Supervisor::new(SupervisorConfig::new("partners"))
            .events_to(events_tx)
            .start();
        let (shutdown, shutdown_rx) = watch::channel(false);

        let layout = Layout::new(&config.runtime.home);
        let mut tasks = Vec::new();
        let feeds = FeedsThread(actix::Arbiter::new());
        let odoo_feed = match flow.as_ref() {
            Flow::Echo => None,
            Flow::Shipment(wiring) => {
                let client = OdooClient::new(wiring.odoo.clone()).map_err(|e| {
                    ServeError::Wiring(WiringError {
                        what: "[odoo]".to_owned(),
                        reason: e.to_string(),
                    })
                })?;
                let mut poll = PollerConfig::pickings();
                poll.page_size = config.odoo.page_size;
                poll.settle = config.odoo.settle;
                let poller = Poller::new(client.clone(), &mailbox, poll);
                let feed = Arc::new(OdooFeed::new(
                    poller,
                    mailbox.clone(),
                    config.runtime.partitions,
                    &config.odoo.db,
                ));
                let every = config.odoo.poll_every;
                let (poller, stop) = (feed.clone(), shutdown_rx.clone());
                tasks.push(spawn_on(
                    &feeds,
                    async move { poller.run(every, stop).await },
                ));
                if config.finance.enabled {
                    let inbox = FinanceInbox::new(
                        config.finance.clone(),
                        layout.clone(),
                        mailbox.clone(),
                        config.runtime.partitions,
                        Some(client),
                    )
                    .map_err(|e| {
                        ServeError::Wiring(WiringError {
                            what: "[finance]".to_owned(),
                            reason: e.to_string(),
                        })
                    })?;
                    let mut stop = shutdown_rx.clone();
                    tasks.push(spawn_on(
                        &feeds,
                        inbox.run(async move {
                            drop(stop.wait_for(|stopping| *stopping).await);
                        }),
                    ));
                }
                for broker in wiring.brokers.values() {
                    if let Broker::Edifact { inbox, .. } = broker {
                        let watcher = InboxWatcher::new(inbox.clone(), mailbox.clone());
                        let mut stop = shutdown_rx.clone();
                        tasks.push(spawn_on(
                            &feeds,
                            watcher.run(async move {
                                drop(stop.wait_for(|stopping| *stopping).await);
                            }),
                        ));
                    }
                }
                Some(feed)
            }
        };

        let api_state = api::ApiState {
            mailbox: mailbox.clone(),
            partitions: config.runtime.partitions,
            callbacks,
            odoo: odoo_feed.map(|feed| api::ingest::OdooIngest {
                feed,
                secret: secrets.odoo_webhook.clone(),
            }),
            gate: Gate::serving_with(&mailbox, pepper, &config.auth, oidc),
            four_eyes: config.saga.four_eyes,
        };
        let tls = config
            .http
            .tls
            .as_ref()
            .map(|tls| tls.server_config(&config.runtime.home, Arc::new(SystemClock)))
            .transpose()?;
        let (api_server, api_addr) =
            api::bind(config.http.listen, tls, readiness.clone(), api_state)
                .map_err(|e| ServeError::Listen(format!("api on {}: {e}", config.http.listen)))?;
        let api = api_server.handle();
        let api_task = actix::spawn(api_server);
        tracing::info!(%api_addr, metrics = %config.metrics.listen, node = %node, partitions = config.runtime.partitions, workflow = ?config.runtime.workflow, "tradehub serving");

        let work = Arc::new(OwnedPartitions {
            partitions_sup: partitions_sup.clone(),
            partners_sup: partners_sup.clone(),
            mailbox: mailbox.clone(),
            config: config.clone(),
            flow,
            node: node.clone(),
            owned: Mutex::new(BTreeSet::new()),
        });
        let lease_manager = LeaseManager::new(
            mailbox.clone(),
            mailbox.clone(),
            work.clone(),
            node.clone(),
            config.runtime.partitions,
            LeaseTiming {
                ttl: config.runtime.lease_ttl,
                renew: config.runtime.lease_renew,
            },
            readiness.clone(),
        );
        let leases = actix::spawn(lease_manager.run(shutdown_rx.clone()));
        tasks.push(actix::spawn(
            anchoring
                .clone()
                .run(config.audit.anchor_every, shutdown_rx.clone()),
        ));
        if !config.retention.interval.is_zero() {
            let retention = super::retention::retention(&config, mailbox.clone())
                .map_err(ServeError::Wiring)?;
            tasks.push(actix::spawn(super::retention::run(
                retention,
                config.retention.interval,
                shutdown_rx.clone(),
            )));
        }
        tasks.push(actix::spawn(maintain(
            mailbox,
            work,
            config.metrics.sample_every,
            config.runtime.trim_keep,
            shutdown_rx,
        )));
        Ok(Self {
            api_addr,
            readiness,
            events,
            shutdown,
            leases,
            tasks,
            feeds,
            partitions_sup,
            partners_sup,
            api,
            api_task,
            grace: config.runtime.shutdown_grace,
            node,
            anchoring,
        })
    }

    /// Where the API listens.
    pub fn api_addr(&self) -> SocketAddr {
        self.api_addr
    }

    /// Whether the node owns partitions and is not draining.
    pub fn is_ready(&self) -> bool {
        self.readiness.is_ready()
    }

    /// Wait until a top-level supervisor gives up, logging every other supervision event.
    pub async fn escalated(&mut self) -> ServeError {
        watch_escalation(&mut self.events).await
    }

    /// Stop reading, give in-flight work the grace period, stop the partners, the partitions
    /// and the API, in that order.
    pub async fn stop(self) {
        self.readiness.set_draining();
        // Receivers gone means the tasks already ended; nothing left to tell.
        let _ = self.shutdown.send(true);
        if tokio::time::timeout(self.grace + Duration::from_secs(2), self.leases)
            .await
            .is_err()
        {
            tracing::warn!(
                "partitions did not stop within the grace period; their pending entries will be reclaimed"
            );
        }
        for task in self.tasks {
            drop(task.await);
        }
        drop(self.feeds);
        let shutdown = tradehub_actors::supervisor::Shutdown { grace: self.grace };
        delivered(self.partners_sup.send(shutdown).await, "partners shutdown");
        delivered(
            self.partitions_sup.send(shutdown).await,
            "partitions shutdown",
        );
        if let Err(error) = self.anchoring.anchor().await {
            tracing::error!(%error, "the last audit anchor failed; the chains' tail since the previous one has no checkpoint");
        }
        self.api.stop(true).await;
        drop(self.api_task.await);
        tracing::info!(node = %self.node, "tradehub stopped");
    }
}

/// A thread of its own for the feeds, so that reading files and polling Odoo do not take turns
/// with the actors on theirs; it stops when dropped (also when `start` fails half-way).
struct FeedsThread(actix::Arbiter);

impl Drop for FeedsThread {
    fn drop(&mut self) {
        self.0.stop();
    }
}

/// Run `task` on the feeds' thread; the handle (on this thread) ends when the task does, or
/// when that thread stops without running it to the end.
fn spawn_on<F>(feeds: &FeedsThread, task: F) -> JoinHandle<()>
where
    F: std::future::Future<Output = ()> + Send + 'static,
{
    let (done, ended) = tokio::sync::oneshot::channel::<()>();
    if !feeds.0.spawn(async move {
        task.await;
        let _ = done.send(());
    }) {
        tracing::error!("the feeds' thread is gone; a feed task did not start");
    }
    actix::spawn(async move {
        let _ = ended.await;
    })
}

/// Log a message a supervisor could not receive (it has stopped).
fn delivered<T>(sent: Result<T, actix::MailboxError>, what: &str) {
    if let Err(error) = sent {
        tracing::error!(%error, what, "supervisor unreachable");
    }
}

/// Wait for a top-level supervisor to give up, logging every other event.
async fn watch_escalation(events: &mut broadcast::Receiver<SupervisorEvent>) -> ServeError {
    loop {
        match events.recv().await {
            Ok(SupervisorEvent::Escalated {
                supervisor,
                child,
                reason,
            }) => {
                tracing::error!(%supervisor, %child, %reason, "supervisor escalated; stopping the node so it restarts from durable state");
                return ServeError::Escalated {
                    supervisor,
                    child,
                    reason,
                };
            }
            Ok(SupervisorEvent::Down {
                supervisor,
                child,
                reason,
            }) => {
                tracing::error!(%supervisor, %child, %reason, "child marked down; retrying with a long backoff");
            }
            Ok(event) => tracing::info!(?event, "supervision"),
            Err(broadcast::error::RecvError::Lagged(missed)) => {
                tracing::warn!(missed, "supervision events dropped");
            }
            Err(broadcast::error::RecvError::Closed) => std::future::pending::<()>().await,
        }
    }
}

async fn shutdown_signal() -> &'static str {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        tracing::error!("cannot install signal handlers; stop the process with SIGKILL");
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = int.recv() => "SIGINT",
    }
}

/// The work of this node's partitions: a host per partition, and partner
/// connections serving the command streams of the partitions owned.
struct OwnedPartitions {
    partitions_sup: Addr<Supervisor>,
    partners_sup: Addr<Supervisor>,
    mailbox: RedisMailbox,
    config: HubConfig,
    flow: Arc<Flow>,
    node: String,
    owned: Mutex<BTreeSet<Partition>>,
}

impl OwnedPartitions {
    fn streams(&self) -> Vec<StreamName> {
        std::iter::once(StreamName::Inbox)
            .chain(
                self.flow
                    .connections()
                    .into_iter()
                    .map(StreamName::Commands),
            )
            .collect()
    }

    fn owned(&self) -> Vec<Partition> {
        self.owned
            .lock()
            .map(|owned| owned.iter().copied().collect())
            .unwrap_or_default()
    }

    /// Rebuild every partner connection over the partitions now owned.
    async fn refresh_partners(&self) {
        let partitions = self.owned();
        for name in self.flow.connections() {
            let limits = self.config.partners.get(&name).cloned().unwrap_or_default();
            let grace = self.config.runtime.shutdown_grace;
            let removed = self
                .partners_sup
                .send(RemoveChild {
                    name: partner_connection_name(&name),
                    grace,
                })
                .await;
            delivered(removed, "partner removal");
            if partitions.is_empty() {
                continue;
            }
            let config =
                partner_config(&name, &limits, &self.node, partitions.clone(), &self.config);
            let spec = self.flow.partner_spec(config, &self.mailbox);
            delivered(
                self.partners_sup.send(AddChild(spec)).await,
                "partner start",
            );
        }
    }
}

impl PartitionWork for OwnedPartitions {
    async fn start(&self, partition: Partition) {
        let streams = self.streams();
        let mut attempt = 0u32;
        while let Err(error) = self.mailbox.ensure_streams(partition, &streams).await {
            attempt += 1;
            tracing::warn!(%error, partition, attempt, "cannot create the partition's consumer groups yet");
            tokio::time::sleep(Duration::from_millis(
                200u64.saturating_mul(u64::from(attempt.min(10))),
            ))
            .await;
        }
        let host = host_config(&self.config, &self.node);
        let spec = match self.flow.as_ref() {
            Flow::Echo => partition_host_spec(
                partition,
                host,
                self.mailbox.clone(),
                Arc::new(EchoSaga),
                Arc::new(SystemClock),
            ),
            Flow::Shipment(wiring) => partition_host_spec(
                partition,
                host,
                self.mailbox.clone(),
                wiring.saga.clone(),
                Arc::new(SystemClock),
            ),
        };
        delivered(
            self.partitions_sup.send(AddChild(spec)).await,
            "partition start",
        );
        if let Ok(mut owned) = self.owned.lock() {
            owned.insert(partition);
        }
        self.refresh_partners().await;
    }

    async fn stop(&self, partition: Partition) {
        let removed = self
            .partitions_sup
            .send(RemoveChild {
                name: partition_host_name(partition),
                grace: self.config.runtime.shutdown_grace,
            })
            .await;
        delivered(removed, "partition stop");
        if let Ok(mut owned) = self.owned.lock() {
            owned.remove(&partition);
        }
        self.refresh_partners().await;
    }
}

/// The saga host settings of this node.
pub fn host_config(config: &HubConfig, node: &str) -> HostConfig {
    let runtime = &config.runtime;
    let mut host = HostConfig::new(node);
    host.batch_size = runtime.read_batch;
    host.block_ms = runtime.read_block.as_millis() as u64;
    host.reclaim_idle_ms = runtime.reclaim_idle.as_millis() as u64;
    host.reclaim_interval = runtime.reclaim_every;
    host.max_deliveries = runtime.max_deliveries;
    host.passivation_idle_ms = runtime.passivate_idle.as_millis() as u64;
    host.timer_poll_interval = runtime.timer_poll;
    host
}

/// The connection settings of one partner on this node.
pub fn partner_config(
    name: &str,
    limits: &PartnerLimits,
    node: &str,
    partitions: Vec<Partition>,
    config: &HubConfig,
) -> PartnerConfig {
    let mut partner = PartnerConfig::new(name, node, partitions);
    partner.rate_per_second = NonZeroU32::new(limits.rate_per_sec).unwrap_or(NonZeroU32::MIN);
    partner.burst = NonZeroU32::new(limits.burst).unwrap_or(NonZeroU32::MIN);
    partner.concurrency = limits.concurrency;
    partner.call_timeout = limits.call_timeout;
    partner.breaker = BreakerConfig {
        failure_threshold: limits.breaker_failures,
        open_ms: limits.breaker_open.as_millis() as u64,
        ..BreakerConfig::default()
    };
    partner.retry = RetryPolicy {
        initial: limits.retry_base,
        max: limits.retry_max,
        defer_threshold: limits.defer_after,
    };
    partner.max_deliveries = config.runtime.max_deliveries;
    partner.reclaim_idle_ms = config.runtime.reclaim_idle.as_millis() as u64;
    partner.reclaim_interval = config.runtime.reclaim_every;
    partner
}

impl NodeRegistry for RedisMailbox {
    async fn heartbeat(&self, node: &str, ttl: Duration) -> MailboxResult<u32> {
        RedisMailbox::heartbeat(self, node, ttl.as_millis() as u64).await?;
        Ok(self.live_nodes().await?.len() as u32)
    }

    async fn leave(&self, node: &str) -> MailboxResult<()> {
        // A heartbeat that expires now removes the node from the live set.
        RedisMailbox::heartbeat(self, node, 0).await
    }
}

/// Until shutdown: sample stream depths of the owned partitions into gauges, and
/// trim their streams (the store never drops an entry that is still pending).
async fn maintain(
    mailbox: RedisMailbox,
    work: Arc<OwnedPartitions>,
    every: Duration,
    trim_keep: u64,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut ticker = tokio::time::interval(every);
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = shutdown.changed() => return,
        }
        let up = mailbox.ping().await.is_ok();
        metrics::gauge!(names::REDIS_UP).set(if up { 1.0 } else { 0.0 });
        if !up {
            continue;
        }
        let mut by_kind: [(u64, u64, u64); 2] = [(0, 0, 0); 2];
        let mut dlq = 0u64;
        for partition in work.owned() {
            for stream in work.streams() {
                if let Err(error) = mailbox.trim(partition, &stream, trim_keep).await {
                    tracing::warn!(%error, partition, %stream, "trimming failed; retrying next round");
                }
                let slot = usize::from(matches!(stream, StreamName::Commands(_)));
                if let Ok(stats) = mailbox.stats(partition, &stream).await {
                    let (length, pending, oldest) = &mut by_kind[slot];
                    *length += stats.length;
                    *pending += stats.pending;
                    *oldest = (*oldest).max(stats.oldest_pending_age_ms);
                }
            }
            if let Ok(letters) = mailbox.dead_letters(partition).await {
                dlq += letters.len() as u64;
            }
        }
        for (kind, (length, pending, oldest)) in ["in", "cmd"].into_iter().zip(by_kind) {
            metrics::gauge!(names::STREAM_LENGTH, "stream" => kind).set(length as f64);
            metrics::gauge!(names::STREAM_PENDING, "stream" => kind).set(pending as f64);
            metrics::gauge!(names::OLDEST_PENDING_AGE, "stream" => kind)
                .set(oldest as f64 / 1000.0);
        }
        metrics::gauge!(names::DLQ_LENGTH).set(dlq as f64);
    }
}
