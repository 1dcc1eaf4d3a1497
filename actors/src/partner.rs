//! The partner connection: executes the commands sagas write to a partner's
//! command streams, through a [`Transport`], within the partner's limits.
//!
//! A [`PartnerConnection`] owns its partner's rate limit (governor on the connection's
//! [`Clock`], the node's share of the partner quota), a concurrency limit, a [`CircuitBreaker`] and the
//! [`RetryPolicy`]. A command's result goes back to its saga's inbox as an input
//! of kind [`SUCCEEDED`], [`FAILED`] or [`OUTCOME_UNKNOWN`], appended and the
//! command acknowledged in one step (`Mailbox::complete`). The result's id is
//! derived from the command id ([`result_id`]), so a command executed twice
//! yields one result id and the saga can dedupe.
//!
//! While the breaker is open, the connection stops reading: commands wait in
//! their streams, durable and visible as queue depth.
//!
//! Commands of one key (one saga) are called one at a time, in stream order: the
//! next waits until the one before has its result (retries in memory included), so
//! write-backs such as "status AWAITING_RELEASE" then "status RELEASED" land in that
//! order. A retry long enough to be deferred to the timer set frees the key. A starting
//! connection first takes over every command left pending in its streams (by a killed node,
//! or by the connection it replaces), so that those run before the newer commands of their keys.

use std::collections::{HashMap, HashSet, VecDeque};
use std::future::Future;
use std::num::NonZeroU32;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use futures::FutureExt;
use governor::clock::Clock as _;
use governor::middleware::NoOpMiddleware;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde_json::json;
use tokio::sync::oneshot;
use tracing::Instrument;

use crate::clock::Clock;
use crate::envelope::Envelope;
use crate::mailbox::{Delivery, EntryId, Mailbox, MailboxResult, Partition, StreamName};
use crate::metrics;
use crate::supervisor::{ChildGuard, ChildSpec, OnLimit, Shutdown};

mod breaker;
mod retry;

#[cfg(test)]
mod tests;

pub use breaker::{BreakerConfig, BreakerState, CircuitBreaker};
pub use retry::RetryPolicy;

/// Most pending commands of one partition taken over when a connection starts. A command
/// stream's pending entries are what connections had in hand (their concurrency and a read
/// batch each), far fewer; any beyond are reclaimed once idle, like every other.
const TAKE_OVER_AT_START: usize = 10_000;

/// Kind of the input a successful command produces.
pub const SUCCEEDED: &str = "partner.succeeded";
/// Kind of the input a command that failed for good produces.
pub const FAILED: &str = "partner.failed";
/// Kind of the input a command with an unknown outcome produces (sent, no answer).
pub const OUTCOME_UNKNOWN: &str = "partner.outcome_unknown";

/// Why a partner call did not succeed; each variant says what to do next.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    /// Transient: try again, not before `after` when the partner said so.
    #[error("retryable failure: {reason}")]
    Retry {
        /// The partner's requested wait (e.g. `Retry-After`).
        after: Option<Duration>,
        /// What happened.
        reason: String,
    },
    /// The partner refused the command for good; the saga gets a failure input.
    #[error("permanent failure: {reason}")]
    Permanent {
        /// What happened.
        reason: String,
    },
    /// The command itself is unusable; it goes to the DLQ and the saga gets a failure input.
    #[error("poison command: {reason}")]
    Poison {
        /// What is wrong with it.
        reason: String,
    },
    /// The command may or may not have taken effect (timeout after sending);
    /// it is never resent blindly: the saga decides.
    #[error("outcome unknown: {reason}")]
    OutcomeUnknown {
        /// What happened.
        reason: String,
    },
}

/// The port through which a partner is actually called.
pub trait Transport: Send + Sync + 'static {
    /// Execute `command`; `command.id` is the idempotency key the partner dedupes on.
    fn call(
        &self,
        command: &Envelope,
    ) -> impl Future<Output = Result<serde_json::Value, CallError>> + Send;
}

/// How one call ended, the `outcome` label of [`metrics::PARTNER_CALLS_TOTAL`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartnerOutcome {
    /// The partner answered with a result.
    Succeeded,
    /// A transient failure.
    Retry,
    /// A transient failure with a requested wait (429-style).
    RateLimited,
    /// A permanent refusal.
    Permanent,
    /// An unusable command.
    Poison,
    /// Sent without a known outcome.
    OutcomeUnknown,
    /// The call exceeded the connection's own timeout.
    Timeout,
    /// The transport panicked.
    Panic,
}

impl PartnerOutcome {
    /// The metric label.
    pub fn label(self) -> &'static str {
        match self {
            Self::Succeeded => "succeeded",
            Self::Retry => "retry",
            Self::RateLimited => "rate_limited",
            Self::Permanent => "permanent",
            Self::Poison => "poison",
            Self::OutcomeUnknown => "outcome_unknown",
            Self::Timeout => "timeout",
            Self::Panic => "panic",
        }
    }
}

/// The id of the result input of command `command_id`.
pub fn result_id(command_id: &str) -> String {
    format!("{command_id}:result")
}

/// The result input of `command` for its saga: same key, kind `kind`, body with
/// the partner, the command id and kind, and `detail` (`result` or `reason`).
pub fn result_envelope(
    partner: &str,
    command: &Envelope,
    kind: &str,
    detail: serde_json::Map<String, serde_json::Value>,
) -> Envelope {
    let mut body = serde_json::Map::new();
    body.insert("partner".into(), json!(partner));
    body.insert("command_id".into(), json!(command.id));
    body.insert("command_kind".into(), json!(command.kind));
    body.extend(detail);
    let mut envelope = Envelope::new(
        result_id(&command.id),
        command.key.clone(),
        kind,
        serde_json::Value::Object(body),
    );
    envelope.traceparent = command.traceparent.clone();
    envelope
}

fn detail(name: &str, value: serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
    let mut map = serde_json::Map::new();
    map.insert(name.into(), value);
    map
}

/// Configuration of one partner connection on one node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartnerConfig {
    /// Partner name: its command stream is `cmd:<partner>`.
    pub partner: String,
    /// Partitions whose command streams this connection serves.
    pub partitions: Vec<Partition>,
    /// Consumer name in the command streams' group; unique per node.
    pub consumer: String,
    /// Entries read or reclaimed per store call.
    pub batch_size: usize,
    /// How long a read waits for new commands.
    pub block_ms: u64,
    /// Calls per second (this node's share of the partner quota).
    pub rate_per_second: NonZeroU32,
    /// Calls allowed in a burst.
    pub burst: NonZeroU32,
    /// Calls in flight at most.
    pub concurrency: usize,
    /// A call taking longer counts as an unknown outcome.
    pub call_timeout: Duration,
    /// Circuit breaker.
    pub breaker: BreakerConfig,
    /// Backoff between attempts.
    pub retry: RetryPolicy,
    /// Attempts (and deliveries) after which a command is dead-lettered.
    pub max_deliveries: u32,
    /// Commands pending longer than this (on any consumer) are taken over.
    pub reclaim_idle_ms: u64,
    /// How often to look for idle commands.
    pub reclaim_interval: Duration,
    /// Period of the housekeeping tick (breaker timeouts, rate-limit waits).
    pub tick: Duration,
    /// Period of restarts while the connection is marked down by its supervisor.
    pub down_retry: Duration,
    /// Seed of the jitter; `None` seeds from the OS.
    pub seed: Option<u64>,
}

impl PartnerConfig {
    /// Defaults for `partner` on the node named `consumer`.
    pub fn new(
        partner: impl Into<String>,
        consumer: impl Into<String>,
        partitions: Vec<Partition>,
    ) -> Self {
        Self {
            partner: partner.into(),
            partitions,
            consumer: consumer.into(),
            batch_size: 32,
            block_ms: 500,
            rate_per_second: NonZeroU32::new(10).unwrap_or(NonZeroU32::MIN),
            burst: NonZeroU32::new(10).unwrap_or(NonZeroU32::MIN),
            concurrency: 4,
            call_timeout: Duration::from_secs(30),
            breaker: BreakerConfig::default(),
            retry: RetryPolicy::default(),
            max_deliveries: 8,
            reclaim_idle_ms: 120_000,
            reclaim_interval: Duration::from_secs(10),
            tick: Duration::from_millis(100),
            down_retry: Duration::from_secs(300),
            seed: None,
        }
    }
}

/// A partner configuration that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("partner {partner}: {field} {problem}")]
pub struct PartnerConfigError {
    /// The partner.
    pub partner: String,
    /// The offending field.
    pub field: &'static str,
    /// What is wrong with it.
    pub problem: &'static str,
}

impl PartnerConfig {
    /// Check the values that would make the connection stall or spin.
    pub fn validate(&self) -> Result<(), PartnerConfigError> {
        let problem = if self.partner.is_empty() {
            Some(("partner", "must not be empty"))
        } else if self.partitions.is_empty() {
            Some(("partitions", "must name at least one partition"))
        } else if self.consumer.is_empty() {
            Some(("consumer", "must not be empty"))
        } else if self.batch_size == 0 {
            Some(("batch_size", "must be at least 1"))
        } else if self.concurrency == 0 {
            Some(("concurrency", "must be at least 1"))
        } else if self.max_deliveries == 0 {
            Some(("max_deliveries", "must be at least 1"))
        } else if self.breaker.failure_threshold == 0 {
            Some(("breaker.failure_threshold", "must be at least 1"))
        } else if self.retry.initial.is_zero() || self.retry.max < self.retry.initial {
            Some(("retry", "needs 0 < initial <= max"))
        } else if self.tick.is_zero() || self.reclaim_interval.is_zero() {
            Some(("tick / reclaim_interval", "must be positive"))
        } else {
            None
        };
        match problem {
            Some((field, problem)) => Err(PartnerConfigError {
                partner: self.partner.clone(),
                field,
                problem,
            }),
            None => Ok(()),
        }
    }
}

/// Status of a partner connection, for health checks and tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartnerStatus {
    /// Partner name.
    pub partner: String,
    /// Breaker state now.
    pub breaker: BreakerState,
    /// Calls in flight (including the commit of their result).
    pub in_flight: usize,
    /// Commands delivered and waiting for a slot, the rate limit or a short retry wait.
    pub queued: usize,
    /// Whether paused by an operator.
    pub paused: bool,
}

/// Ask a partner connection for its [`PartnerStatus`].
#[derive(Debug, Clone, Copy, Message)]
#[rtype(result = "PartnerStatus")]
pub struct GetPartnerStatus;

/// Stop starting calls and reading commands (calls in flight finish).
#[derive(Debug, Clone, Copy, Message)]
#[rtype(result = "()")]
pub struct Pause;

/// Undo [`Pause`].
#[derive(Debug, Clone, Copy, Message)]
#[rtype(result = "()")]
pub struct Resume;

/// A command being worked on.
#[derive(Debug, Clone)]
struct InFlight {
    delivery: Delivery,
    envelope: Envelope,
}

impl InFlight {
    fn stream(&self) -> &StreamName {
        &self.delivery.stream
    }
    fn attempt(&self) -> u32 {
        self.envelope.attempt.max(self.delivery.deliveries)
    }
}

/// What happens to a command after its call.
enum Next {
    Complete(Envelope),
    RetryLater(Duration),
    GiveUp(String),
    Nothing,
}

/// How a call ended before interpretation.
enum Called {
    Answer(Result<serde_json::Value, CallError>),
    Panicked(String),
    TimedOut,
}

/// The connection's [`Clock`] as governor's clock, so that the rate limit runs on the same time
/// as the breaker and a test's manual clock drives both. Millisecond resolution: a burst
/// below `rate_per_second / 1000` would cap the rate at `burst` calls per millisecond.
struct LimiterClock<C>(Arc<C>);

impl<C> Clone for LimiterClock<C> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<C: Clock> governor::clock::Clock for LimiterClock<C> {
    type Instant = Duration;

    fn now(&self) -> Duration {
        Duration::from_millis(self.0.now_ms())
    }
}

/// The connection actor of one partner. Start it with [`PartnerConnection::new`]
/// and `Actor::start`, or under a supervisor with [`partner_connection_spec`];
/// stop it gracefully with [`Shutdown`].
pub struct PartnerConnection<M: Mailbox, T: Transport, C: Clock> {
    config: PartnerConfig,
    stream: StreamName,
    // Boxed behind an Arc: actix actors must be Unpin and `M` need not be.
    mailbox: Arc<M>,
    transport: Arc<T>,
    clock: Arc<C>,
    guard: ChildGuard,
    limiter: RateLimiter<NotKeyed, InMemoryState, LimiterClock<C>, NoOpMiddleware<Duration>>,
    breaker: CircuitBreaker,
    rng: StdRng,
    ready: VecDeque<InFlight>,
    known: HashSet<(Partition, EntryId)>,
    /// Keys with a command being called (or waiting to be retried), and that command: a key's
    /// next command waits for it, so one saga's commands reach the partner in order.
    busy: HashMap<String, (Partition, EntryId)>,
    reading: HashMap<Partition, (SpawnHandle, usize)>,
    waiting: usize,
    in_flight: usize,
    paused: bool,
    stopping: bool,
    ensured: bool,
    wake_scheduled: bool,
    drained: Vec<oneshot::Sender<()>>,
}

impl<M: Mailbox, T: Transport, C: Clock> PartnerConnection<M, T, C> {
    /// A connection for `config.partner` calling through `transport`.
    pub fn new(
        config: PartnerConfig,
        mailbox: M,
        transport: T,
        clock: Arc<C>,
        guard: ChildGuard,
    ) -> Self {
        let quota = Quota::per_second(config.rate_per_second).allow_burst(config.burst);
        let rng = match config.seed {
            Some(seed) => StdRng::seed_from_u64(seed),
            None => StdRng::from_os_rng(),
        };
        Self {
            stream: StreamName::Commands(config.partner.clone()),
            breaker: CircuitBreaker::new(config.breaker),
            limiter: RateLimiter::direct_with_clock(quota, LimiterClock(clock.clone())),
            config,
            mailbox: Arc::new(mailbox),
            transport: Arc::new(transport),
            clock,
            guard,
            rng,
            ready: VecDeque::new(),
            known: HashSet::new(),
            busy: HashMap::new(),
            reading: HashMap::new(),
            waiting: 0,
            in_flight: 0,
            paused: false,
            stopping: false,
            ensured: false,
            wake_scheduled: false,
            drained: Vec::new(),
        }
    }

    fn held(&self) -> usize {
        self.ready.len()
            + self.waiting
            + self.in_flight
            + self.reading.values().map(|(_, n)| n).sum::<usize>()
    }

    fn label(&self) -> String {
        self.config.partner.clone()
    }

    fn report_breaker(&self) {
        let state = self.breaker.state(self.clock.now_ms());
        ::metrics::gauge!(metrics::PARTNER_BREAKER_STATE, "partner" => self.label())
            .set(state.gauge());
    }

    /// Create the command groups, then take over every command still pending in the
    /// partitions' streams, however briefly idle, before reading any new one: a command left
    /// pending by a killed node (or by this node's previous connection) is older than every
    /// command not yet read, and per-key order holds only if it is queued first. Waiting for
    /// it to be idle long enough to reclaim would let a key's newer command overtake it, e.g.
    /// an older status write-back land after a newer one.
    fn ensure_streams(&mut self, ctx: &mut Context<Self>) {
        let mailbox = self.mailbox.clone();
        let partitions = self.config.partitions.clone();
        let stream = self.stream.clone();
        let consumer = self.config.consumer.clone();
        ctx.spawn(
            async move {
                let mut pending = Vec::new();
                for partition in partitions {
                    mailbox
                        .ensure_streams(partition, std::slice::from_ref(&stream))
                        .await?;
                    pending.extend(
                        mailbox
                            .reclaim(partition, &stream, &consumer, 0, TAKE_OVER_AT_START)
                            .await?,
                    );
                }
                MailboxResult::Ok(pending)
            }
            .into_actor(self)
            .map(|res, act, ctx| match res {
                Ok(pending) => {
                    for delivery in pending {
                        ::metrics::counter!(metrics::MAILBOX_RECLAIMED_TOTAL, "partition" => delivery.partition.to_string(), "stream" => "cmd")
                            .increment(1);
                        act.accept(delivery, ctx);
                    }
                    act.ensured = true;
                    act.pump(ctx);
                }
                Err(error) => {
                    tracing::warn!(partner = %act.config.partner, %error, "cannot create command groups; retrying");
                    ctx.run_later(act.config.retry.initial, |act, ctx| act.ensure_streams(ctx));
                }
            }),
        );
    }

    /// Accept a delivery into the ready queue, or give up on it at once.
    fn accept(&mut self, delivery: Delivery, ctx: &mut Context<Self>) {
        let id = (delivery.partition, delivery.entry_id.clone());
        if self.stopping || self.known.contains(&id) {
            return;
        }
        let envelope = match &delivery.envelope {
            Ok(envelope) => envelope.clone(),
            Err(reason) => {
                let reason = format!("undecodable command: {reason}");
                self.known.insert(id);
                self.in_flight += 1;
                self.dead_letter_only(delivery, reason, ctx);
                return;
            }
        };
        self.known.insert(id);
        let work = InFlight { delivery, envelope };
        if work.delivery.deliveries > self.config.max_deliveries {
            let reason = format!(
                "delivered {} times (max {})",
                work.delivery.deliveries, self.config.max_deliveries
            );
            self.in_flight += 1;
            self.finish(work, Next::GiveUp(reason), ctx);
            return;
        }
        self.ready.push_back(work);
    }

    /// Start calls while slots, the breaker and the rate limit allow; read more
    /// when there is room.
    fn pump(&mut self, ctx: &mut Context<Self>) {
        if self.stopping || !self.ensured {
            return;
        }
        let now = self.clock.now_ms();
        while !self.paused && self.in_flight < self.config.concurrency && !self.ready.is_empty() {
            if !self.breaker.allows(now) {
                break;
            }
            // The oldest command whose key has nothing else in progress.
            let Some(index) = self.ready.iter().position(|w| {
                self.busy.get(&w.envelope.key).is_none_or(|owner| {
                    *owner == (w.delivery.partition, w.delivery.entry_id.clone())
                })
            }) else {
                break;
            };
            if let Err(not_until) = self.limiter.check() {
                let wait = not_until.wait_time_from(self.limiter.clock().now());
                self.wake_after(wait, ctx);
                break;
            }
            let Some(probe) = self.breaker.acquire(now) else {
                break;
            };
            let Some(work) = self.ready.remove(index) else {
                break;
            };
            self.busy.insert(
                work.envelope.key.clone(),
                (work.delivery.partition, work.delivery.entry_id.clone()),
            );
            self.call(work, probe, ctx);
        }
        self.report_breaker();
        if self.paused || !self.breaker.allows(now) {
            return;
        }
        let room = self.config.concurrency.saturating_sub(self.held());
        let idle: Vec<Partition> = self
            .config
            .partitions
            .iter()
            .copied()
            .filter(|p| !self.reading.contains_key(p))
            .collect();
        if room == 0 || idle.is_empty() {
            return;
        }
        // Every partition without a read gets one, so that a quiet partition
        // blocking in its read does not starve a busy one; the overshoot over
        // the concurrency is at most one entry per partition.
        let share = (room / idle.len()).clamp(1, self.config.batch_size.max(1));
        for partition in idle {
            self.read(partition, share, ctx);
        }
    }

    fn wake_after(&mut self, wait: Duration, ctx: &mut Context<Self>) {
        if self.wake_scheduled {
            return;
        }
        self.wake_scheduled = true;
        ctx.run_later(wait, |act, ctx| {
            act.wake_scheduled = false;
            act.pump(ctx);
        });
    }

    fn read(&mut self, partition: Partition, count: usize, ctx: &mut Context<Self>) {
        let mailbox = self.mailbox.clone();
        let stream = self.stream.clone();
        let consumer = self.config.consumer.clone();
        let block = self.config.block_ms;
        let handle = ctx.spawn(
            async move { mailbox.read(partition, &stream, &consumer, count, block).await }
                .into_actor(self)
                .map(move |res, act, ctx| {
                    act.reading.remove(&partition);
                    match res {
                        Ok(deliveries) => {
                            for delivery in deliveries {
                                act.accept(delivery, ctx);
                            }
                            act.pump(ctx);
                        }
                        Err(error) => {
                            tracing::warn!(partner = %act.config.partner, partition, %error, "reading commands failed");
                            act.wake_after(act.config.retry.initial, ctx);
                        }
                    }
                }),
        );
        self.reading.insert(partition, (handle, count));
    }

    fn reclaim(&mut self, ctx: &mut Context<Self>) {
        if self.stopping || self.paused || !self.ensured {
            return;
        }
        if !self.breaker.allows(self.clock.now_ms()) {
            return;
        }
        let mailbox = self.mailbox.clone();
        let stream = self.stream.clone();
        let consumer = self.config.consumer.clone();
        let idle = self.config.reclaim_idle_ms;
        let count = self.config.batch_size;
        let partitions = self.config.partitions.clone();
        ctx.spawn(
            async move {
                let mut claimed = Vec::new();
                for partition in partitions {
                    match mailbox.reclaim(partition, &stream, &consumer, idle, count).await {
                        Ok(deliveries) => claimed.extend(deliveries),
                        Err(error) => {
                            tracing::warn!(partition, %error, "reclaiming commands failed");
                        }
                    }
                }
                claimed
            }
            .into_actor(self)
            .map(|claimed, act, ctx| {
                for delivery in claimed {
                    ::metrics::counter!(metrics::MAILBOX_RECLAIMED_TOTAL, "partition" => delivery.partition.to_string(), "stream" => "cmd")
                        .increment(1);
                    act.accept(delivery, ctx);
                }
                act.pump(ctx);
            }),
        );
    }

    fn call(&mut self, work: InFlight, probe: bool, ctx: &mut Context<Self>) {
        self.in_flight += 1;
        let transport = self.transport.clone();
        let envelope = work.envelope.clone();
        let timeout = self.config.call_timeout;
        let started = Instant::now();
        let span = tracing::info_span!(
            "partner.call",
            partner = %self.config.partner,
            "messaging.message.id" = %work.envelope.id,
            "messaging.destination.partition.id" = work.delivery.partition,
            attempt = work.attempt(),
        );
        ctx.spawn(
            async move {
                let call = AssertUnwindSafe(
                    async move { transport.call(&envelope).await }.instrument(span),
                );
                match tokio::time::timeout(timeout, call.catch_unwind()).await {
                    Ok(Ok(answer)) => Called::Answer(answer),
                    Ok(Err(panic)) => Called::Panicked(panic_message(panic.as_ref())),
                    Err(_) => Called::TimedOut,
                }
            }
            .into_actor(self)
            .map(move |called, act, ctx| {
                ::metrics::histogram!(metrics::PARTNER_CALL_DURATION_SECONDS, "partner" => act.label())
                    .record(started.elapsed().as_secs_f64());
                act.called(work, probe, called, ctx);
            }),
        );
    }

    /// Interpret a call's end: breaker, metric, and what to do with the command.
    fn called(&mut self, work: InFlight, probe: bool, called: Called, ctx: &mut Context<Self>) {
        let now = self.clock.now_ms();
        let partner = self.config.partner.clone();
        let (outcome, healthy, next) = match called {
            Called::Answer(Ok(result)) => (
                PartnerOutcome::Succeeded,
                true,
                Next::Complete(result_envelope(
                    &partner,
                    &work.envelope,
                    SUCCEEDED,
                    detail("result", result),
                )),
            ),
            Called::Answer(Err(CallError::Retry { after, reason })) => {
                let outcome = if after.is_some() {
                    PartnerOutcome::RateLimited
                } else {
                    PartnerOutcome::Retry
                };
                (outcome, false, self.retry_or_give_up(&work, after, reason))
            }
            Called::Answer(Err(CallError::Permanent { reason })) => (
                PartnerOutcome::Permanent,
                true,
                Next::Complete(result_envelope(
                    &partner,
                    &work.envelope,
                    FAILED,
                    detail("reason", json!(reason)),
                )),
            ),
            Called::Answer(Err(CallError::Poison { reason })) => (
                PartnerOutcome::Poison,
                true,
                Next::GiveUp(format!("poison: {reason}")),
            ),
            Called::Answer(Err(CallError::OutcomeUnknown { reason })) => (
                PartnerOutcome::OutcomeUnknown,
                false,
                Next::Complete(result_envelope(
                    &partner,
                    &work.envelope,
                    OUTCOME_UNKNOWN,
                    detail("reason", json!(reason)),
                )),
            ),
            Called::TimedOut => (
                PartnerOutcome::Timeout,
                false,
                Next::Complete(result_envelope(
                    &partner,
                    &work.envelope,
                    OUTCOME_UNKNOWN,
                    detail(
                        "reason",
                        json!(format!("no answer within {:?}", self.config.call_timeout)),
                    ),
                )),
            ),
            Called::Panicked(reason) => {
                // The command stays pending and is reclaimed by the rebuilt
                // connection: the struct is not trusted after a panic.
                self.guard
                    .panicked(format!("transport of {partner} panicked: {reason}"));
                ctx.stop();
                (PartnerOutcome::Panic, false, Next::Nothing)
            }
        };
        ::metrics::counter!(metrics::PARTNER_CALLS_TOTAL, "partner" => partner.clone(), "outcome" => outcome.label())
            .increment(1);
        tracing::debug!(partner = %partner, command = %work.envelope.id, outcome = outcome.label(), "partner call");
        self.breaker.record(probe, healthy, now);
        self.report_breaker();
        self.finish(work, next, ctx);
    }

    fn retry_or_give_up(
        &mut self,
        work: &InFlight,
        after: Option<Duration>,
        reason: String,
    ) -> Next {
        let attempt = work.attempt();
        if attempt >= self.config.max_deliveries {
            return Next::GiveUp(format!("{attempt} attempts failed; last: {reason}"));
        }
        Next::RetryLater(self.config.retry.delay(attempt, after, &mut self.rng))
    }

    /// Carry out the decision about a command; `in_flight` counts it until done.
    fn finish(&mut self, mut work: InFlight, next: Next, ctx: &mut Context<Self>) {
        let mailbox = self.mailbox.clone();
        let partition = work.delivery.partition;
        let stream = work.stream().clone();
        let entry = work.delivery.entry_id.clone();
        match next {
            Next::Nothing => self.done(&work.delivery),
            Next::Complete(result) => {
                ctx.spawn(
                    async move {
                        mailbox
                            .complete(partition, &stream, &entry, std::slice::from_ref(&result))
                            .await
                    }
                    .into_actor(self)
                    .map(move |res, act, ctx| {
                        if let Err(error) = res {
                            tracing::warn!(partner = %act.config.partner, %error, "cannot commit a result; the command is reclaimed later");
                        }
                        act.done(&work.delivery);
                        act.pump(ctx);
                    }),
                );
            }
            Next::RetryLater(delay) if delay > self.config.retry.defer_threshold => {
                work.envelope.attempt = work.attempt() + 1;
                let due =
                    self.clock.now_ms() + u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
                ::metrics::counter!(metrics::PARTNER_DEFERRED_TOTAL, "partner" => self.label())
                    .increment(1);
                ctx.spawn(
                    async move { mailbox.defer(partition, &stream, &entry, due, &work.envelope).await }
                        .into_actor(self)
                        .map(move |res, act, ctx| {
                            if let Err(error) = res {
                                tracing::warn!(partner = %act.config.partner, %error, "cannot defer a command; it is reclaimed later");
                            }
                            act.done(&work.delivery);
                            act.pump(ctx);
                        }),
                );
            }
            Next::RetryLater(delay) => {
                work.envelope.attempt = work.attempt() + 1;
                self.in_flight -= 1;
                self.waiting += 1;
                ctx.run_later(delay, move |act, ctx| {
                    act.waiting -= 1;
                    if !act.stopping {
                        act.ready.push_front(work);
                    }
                    act.pump(ctx);
                    act.drain_check();
                });
                self.drain_check();
            }
            Next::GiveUp(reason) => {
                let failure = result_envelope(
                    &self.config.partner,
                    &work.envelope,
                    FAILED,
                    detail("reason", json!(reason)),
                );
                let now = self.clock.now_ms();
                let delivery = work.delivery.clone();
                ctx.spawn(
                    async move {
                        // The failure input first, idempotently: a crash before the
                        // dead letter re-runs both, and the saga sees one failure.
                        let key = format!("partner-failure:{}", failure.id);
                        mailbox.ingest(partition, &failure, Some(&key)).await?;
                        mailbox.dead_letter(&delivery, &reason, now).await?;
                        MailboxResult::Ok(reason)
                    }
                    .into_actor(self)
                    .map(move |res, act, ctx| {
                        match res {
                            Ok(reason) => {
                                ::metrics::counter!(metrics::MAILBOX_DEAD_LETTERS_TOTAL, "partition" => partition.to_string(), "stream" => "cmd")
                                    .increment(1);
                                tracing::error!(partner = %act.config.partner, command = %work.envelope.id, %reason, "command dead-lettered");
                            }
                            Err(error) => {
                                tracing::warn!(partner = %act.config.partner, %error, "cannot dead-letter a command; it is reclaimed later");
                            }
                        }
                        act.done(&work.delivery);
                        act.pump(ctx);
                    }),
                );
            }
        }
    }

    /// Dead-letter an undecodable command (no saga to tell: its key is unknown).
    fn dead_letter_only(&mut self, delivery: Delivery, reason: String, ctx: &mut Context<Self>) {
        let mailbox = self.mailbox.clone();
        let now = self.clock.now_ms();
        ctx.spawn(
            async move {
                let res = mailbox.dead_letter(&delivery, &reason, now).await;
                (delivery, reason, res)
            }
            .into_actor(self)
            .map(|(delivery, reason, res), act, ctx| {
                match res {
                    Ok(_) => {
                        ::metrics::counter!(metrics::MAILBOX_DEAD_LETTERS_TOTAL, "partition" => delivery.partition.to_string(), "stream" => "cmd")
                            .increment(1);
                        tracing::error!(partner = %act.config.partner, entry = %delivery.entry_id, %reason, "command dead-lettered");
                    }
                    Err(error) => tracing::warn!(partner = %act.config.partner, %error, "cannot dead-letter a command"),
                }
                act.done(&delivery);
                act.pump(ctx);
            }),
        );
    }

    fn done(&mut self, delivery: &Delivery) {
        self.in_flight -= 1;
        let id = (delivery.partition, delivery.entry_id.clone());
        self.busy.retain(|_, owner| *owner != id);
        self.known.remove(&id);
        self.drain_check();
    }

    fn drain_check(&mut self) {
        if self.stopping && self.in_flight == 0 {
            for waiter in self.drained.drain(..) {
                let _ = waiter.send(());
            }
        }
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-string panic payload".to_owned())
}

impl<M: Mailbox, T: Transport, C: Clock> Actor for PartnerConnection<M, T, C> {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        tracing::info!(partner = %self.config.partner, partitions = ?self.config.partitions, "partner connection started");
        self.report_breaker();
        self.ensure_streams(ctx);
        ctx.run_interval(self.config.tick, |act, ctx| act.pump(ctx));
        ctx.run_interval(self.config.reclaim_interval, |act, ctx| act.reclaim(ctx));
    }

    fn stopped(&mut self, _ctx: &mut Self::Context) {
        tracing::info!(partner = %self.config.partner, "partner connection stopped");
        self.guard.stopped();
    }
}

impl<M: Mailbox, T: Transport, C: Clock> Handler<Shutdown> for PartnerConnection<M, T, C> {
    type Result = ResponseActFuture<Self, ()>;

    fn handle(&mut self, msg: Shutdown, ctx: &mut Self::Context) -> Self::Result {
        self.stopping = true;
        for (_, (handle, _)) in self.reading.drain() {
            ctx.cancel_future(handle);
        }
        // Queued commands stay pending; the next owner reclaims them.
        self.ready.clear();
        let (tx, rx) = oneshot::channel();
        self.drained.push(tx);
        self.drain_check();
        Box::pin(
            async move {
                let _ = tokio::time::timeout(msg.grace, rx).await;
            }
            .into_actor(self)
            .map(|(), _act, ctx| ctx.stop()),
        )
    }
}

impl<M: Mailbox, T: Transport, C: Clock> Handler<GetPartnerStatus> for PartnerConnection<M, T, C> {
    type Result = MessageResult<GetPartnerStatus>;

    fn handle(&mut self, _msg: GetPartnerStatus, _ctx: &mut Self::Context) -> Self::Result {
        MessageResult(PartnerStatus {
            partner: self.config.partner.clone(),
            breaker: self.breaker.state(self.clock.now_ms()),
            in_flight: self.in_flight,
            queued: self.ready.len() + self.waiting,
            paused: self.paused,
        })
    }
}

impl<M: Mailbox, T: Transport, C: Clock> Handler<Pause> for PartnerConnection<M, T, C> {
    type Result = ();

    fn handle(&mut self, _msg: Pause, _ctx: &mut Self::Context) {
        tracing::info!(partner = %self.config.partner, "partner paused");
        self.paused = true;
    }
}

impl<M: Mailbox, T: Transport, C: Clock> Handler<Resume> for PartnerConnection<M, T, C> {
    type Result = ();

    fn handle(&mut self, _msg: Resume, ctx: &mut Self::Context) {
        tracing::info!(partner = %self.config.partner, "partner resumed");
        self.paused = false;
        self.pump(ctx);
    }
}

/// The child spec of a partner connection, named `partner-<name>`: every
/// (re)start builds a fresh connection and a fresh transport from
/// `make_transport`. Beyond the supervisor's intensity the partner is marked
/// down and restarted every `config.down_retry` instead of escalating.
pub fn partner_connection_spec<M: Mailbox, T: Transport, C: Clock>(
    config: PartnerConfig,
    mailbox: M,
    mut make_transport: impl FnMut() -> Result<T, String> + Send + 'static,
    clock: Arc<C>,
) -> ChildSpec {
    let name = partner_connection_name(&config.partner);
    let retry_every = config.down_retry;
    ChildSpec::new(name, move |guard| {
        config.validate().map_err(|e| e.to_string())?;
        let transport = make_transport()?;
        let connection = PartnerConnection::new(
            config.clone(),
            mailbox.clone(),
            transport,
            clock.clone(),
            guard,
        );
        Ok(connection.start().recipient())
    })
    .on_limit(OnLimit::MarkDown { retry_every })
}

/// The child name of the connection of `partner` in its supervisor.
pub fn partner_connection_name(partner: &str) -> String {
    format!("partner-{partner}")
}
