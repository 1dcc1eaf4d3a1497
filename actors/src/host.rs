//! The saga host: one [`PartitionHost`] actor per owned partition, and under it
//! one key actor per in-flight key, spawned on demand.
//!
//! The partition host reads the inbox, takes over entries other consumers left
//! idle, fires the partition's due timers (saga timers, and partner commands
//! deferred by a [`PartnerConnection`](crate::partner::PartnerConnection): with
//! no host for a partition, its deferred commands do not come back),
//! dead-letters entries that cannot be decoded or were delivered too often,
//! and routes each delivery to its key's actor. A key actor
//! applies its inputs strictly one after the other and commits each transition
//! with the compare-and-set [`Commit`](crate::mailbox::Commit) that also
//! acknowledges the input: nothing is acknowledged before it is committed.
//!
//! When a key actor fails (a panic in `apply`, an undecodable state), its key is
//! blocked: later deliveries of that key are left pending until the failed
//! entry comes back through reclaim, so that the key's inputs are still applied
//! in stream order.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use actix::prelude::*;
use tokio::sync::oneshot;

use crate::clock::Clock;
use crate::mailbox::{Delivery, EntryId, Mailbox, Partition, StreamName};
use crate::metrics;
use crate::saga::Saga;
use crate::supervisor::{ChildGuard, ChildSpec, Shutdown};

mod key;

#[cfg(test)]
mod tests;

use key::{Apply, KeyActor, Passivate};

/// Configuration of the partition hosts of one node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostConfig {
    /// Consumer name in the inbox's consumer group; unique per node.
    pub consumer: String,
    /// Entries read, reclaimed or fired per store call.
    pub batch_size: usize,
    /// How long a read waits for new entries.
    pub block_ms: u64,
    /// Entries pending longer than this (on any consumer) are taken over.
    pub reclaim_idle_ms: u64,
    /// How often to look for idle entries.
    pub reclaim_interval: Duration,
    /// Deliveries after which an entry is dead-lettered instead of applied.
    pub max_deliveries: u32,
    /// A key actor idle this long (by the injected clock) is passivated.
    pub passivation_idle_ms: u64,
    /// How often key actors check whether they are idle.
    pub passivation_check: Duration,
    /// How often due timers are moved into their streams.
    pub timer_poll_interval: Duration,
    /// Deliveries routed and not yet finished, beyond which reading pauses.
    pub max_in_flight: usize,
    /// First wait after a failed store call; doubles up to `store_retry_max`.
    pub store_retry_initial: Duration,
    /// Longest wait between store retries.
    pub store_retry_max: Duration,
    /// Commit conflicts on one input before the key actor gives up on it.
    pub max_conflicts: u32,
}

impl HostConfig {
    /// Defaults for a production node named `consumer`.
    pub fn new(consumer: impl Into<String>) -> Self {
        Self {
            consumer: consumer.into(),
            batch_size: 128,
            block_ms: 1_000,
            reclaim_idle_ms: 30_000,
            reclaim_interval: Duration::from_secs(5),
            max_deliveries: 5,
            passivation_idle_ms: 60_000,
            passivation_check: Duration::from_secs(5),
            timer_poll_interval: Duration::from_millis(250),
            max_in_flight: 1_024,
            store_retry_initial: Duration::from_millis(50),
            store_retry_max: Duration::from_secs(2),
            max_conflicts: 16,
        }
    }

    /// The wait before store retry number `n` (0-based).
    pub(crate) fn store_backoff(&self, n: u32) -> Duration {
        let factor = 1u32.checked_shl(n.min(31)).unwrap_or(u32::MAX);
        self.store_retry_initial
            .saturating_mul(factor)
            .min(self.store_retry_max)
    }
}

/// A host configuration that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("host config: {field} {problem}")]
pub struct HostConfigError {
    /// The offending field.
    pub field: &'static str,
    /// What is wrong with it.
    pub problem: &'static str,
}

impl HostConfig {
    /// Check the values that would make a host stall or spin.
    pub fn validate(&self) -> Result<(), HostConfigError> {
        let problem = if self.consumer.is_empty() {
            Some(("consumer", "must not be empty"))
        } else if self.batch_size == 0 {
            Some(("batch_size", "must be at least 1"))
        } else if self.max_in_flight == 0 {
            Some(("max_in_flight", "must be at least 1"))
        } else if self.max_deliveries == 0 {
            Some(("max_deliveries", "must be at least 1"))
        } else if self.reclaim_interval.is_zero()
            || self.passivation_check.is_zero()
            || self.timer_poll_interval.is_zero()
        {
            Some((
                "reclaim_interval / passivation_check / timer_poll_interval",
                "must be positive",
            ))
        } else if self.store_retry_initial.is_zero()
            || self.store_retry_max < self.store_retry_initial
        {
            Some(("store_retry", "needs 0 < initial <= max"))
        } else {
            None
        };
        match problem {
            Some((field, problem)) => Err(HostConfigError { field, problem }),
            None => Ok(()),
        }
    }
}

/// What a key actor did with one delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApplyOutcome {
    /// The transition was committed and the input acknowledged.
    Applied {
        /// Whether the new state is terminal.
        terminal: bool,
    },
    /// Another owner had already committed the input; it was dropped.
    AlreadyAcknowledged,
    /// The host is stopping; the input stays pending.
    Skipped,
    /// The key actor failed; the input stays pending and will be reclaimed.
    Failed {
        /// Why.
        reason: String,
    },
}

/// Status of a partition host, for health checks and tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostStatus {
    /// The partition.
    pub partition: Partition,
    /// Key actors alive.
    pub live_keys: usize,
    /// Deliveries routed and not yet finished.
    pub in_flight: usize,
    /// Keys blocked after a failure, waiting for their failed entry.
    pub blocked_keys: usize,
    /// Whether a graceful stop has begun.
    pub stopping: bool,
}

/// Ask a partition host for its [`HostStatus`].
#[derive(Debug, Clone, Copy, Message)]
#[rtype(result = "HostStatus")]
pub struct GetHostStatus;

/// What a key actor tells its host. Reports, not replies: a reply future per
/// routed delivery would make the host poll every one of them on each wake-up.
#[derive(Debug, Message)]
#[rtype(result = "()")]
struct KeyReport {
    key: String,
    actor: u64,
    event: KeyEvent,
}

#[derive(Debug)]
enum KeyEvent {
    /// One delivery is done with.
    Applied {
        entry_id: EntryId,
        outcome: ApplyOutcome,
    },
    /// Idle for the passivation time.
    Idle,
    /// The actor stopped (also after a panic): what it had not reported on
    /// was never tried.
    Stopped,
}

/// A delivery routed to a key actor and not yet reported on.
struct Queued {
    entry_id: EntryId,
    deliveries: u32,
    actor: u64,
}

struct KeySlot<M: Mailbox, S: Saga, C: Clock> {
    addr: Option<Addr<KeyActor<M, S, C>>>,
    actor: u64,
    /// In routing order, which is the order the actor applies them in.
    queue: VecDeque<Queued>,
    /// The entry whose failure blocked the key.
    blocked: Option<EntryId>,
}

impl<M: Mailbox, S: Saga, C: Clock> KeySlot<M, S, C> {
    /// Block the key at `entry_id` unless it is blocked at an earlier entry.
    fn block(&mut self, entry_id: &EntryId) {
        let earlier = self
            .blocked
            .as_ref()
            .is_some_and(|b| matches!((b.parts(), entry_id.parts()), (Some(b), Some(e)) if b <= e));
        if !earlier {
            self.blocked = Some(entry_id.clone());
        }
    }

    fn is_unused(&self) -> bool {
        self.addr.is_none() && self.queue.is_empty() && self.blocked.is_none()
    }
}

/// Everything a key actor shares with its host.
pub(crate) struct Shared<M, S, C> {
    pub(crate) partition: Partition,
    pub(crate) config: HostConfig,
    pub(crate) mailbox: M,
    pub(crate) saga: Arc<S>,
    pub(crate) clock: Arc<C>,
    pub(crate) stopping: AtomicBool,
}

/// The host of one partition: reader, reclaimer, timer poller and router to key
/// actors. Start it directly with [`PartitionHost::new`] and `Actor::start`, or under
/// a supervisor with [`partition_host_spec`]; stop it gracefully with [`Shutdown`].
pub struct PartitionHost<M: Mailbox, S: Saga, C: Clock> {
    shared: Arc<Shared<M, S, C>>,
    guard: ChildGuard,
    keys: HashMap<String, KeySlot<M, S, C>>,
    entries: HashSet<EntryId>,
    /// Deliveries of entries held back behind a blocked key, so that waiting
    /// does not count as failing towards `max_deliveries`.
    held_back: HashMap<EntryId, u32>,
    in_flight: usize,
    live: usize,
    next_actor: u64,
    reading: Option<SpawnHandle>,
    reclaiming: bool,
    firing: bool,
    ready: bool,
    drained: Vec<oneshot::Sender<()>>,
}

fn partition_label(partition: Partition) -> String {
    partition.to_string()
}

impl<M: Mailbox, S: Saga, C: Clock> PartitionHost<M, S, C> {
    /// A host for `partition`; `guard` reports its end to its supervisor
    /// ([`ChildGuard::detached`] when unsupervised).
    pub fn new(
        partition: Partition,
        config: HostConfig,
        mailbox: M,
        saga: Arc<S>,
        clock: Arc<C>,
        guard: ChildGuard,
    ) -> Self {
        Self {
            shared: Arc::new(Shared {
                partition,
                config,
                mailbox,
                saga,
                clock,
                stopping: AtomicBool::new(false),
            }),
            guard,
            keys: HashMap::new(),
            entries: HashSet::new(),
            held_back: HashMap::new(),
            in_flight: 0,
            live: 0,
            next_actor: 0,
            reading: None,
            reclaiming: false,
            firing: false,
            ready: false,
            drained: Vec::new(),
        }
    }

    fn is_stopping(&self) -> bool {
        self.shared.stopping.load(Ordering::SeqCst)
    }

    fn label(&self) -> String {
        partition_label(self.shared.partition)
    }

    fn set_live(&mut self, live: usize) {
        self.live = live;
        ::metrics::gauge!(metrics::HOST_KEY_ACTORS_LIVE, "partition" => self.label())
            .set(live as f64);
    }

    fn store_error(&self, what: &str, error: &crate::mailbox::MailboxError) {
        ::metrics::counter!(metrics::HOST_MAILBOX_ERRORS_TOTAL, "partition" => self.label())
            .increment(1);
        tracing::warn!(partition = self.shared.partition, %error, "{what} failed; retrying");
    }

    /// Create the stream groups, then start the loops.
    fn prepare(&mut self, attempt: u32, ctx: &mut Context<Self>) {
        let shared = self.shared.clone();
        ctx.spawn(
            async move {
                shared
                    .mailbox
                    .ensure_streams(shared.partition, &[StreamName::Inbox])
                    .await
            }
            .into_actor(self)
            .map(move |res, act, ctx| match res {
                Ok(()) => {
                    act.ready = true;
                    act.reclaim(ctx);
                    act.read_next(ctx);
                }
                Err(error) => {
                    act.store_error("creating the inbox group", &error);
                    let wait = act.shared.config.store_backoff(attempt);
                    ctx.run_later(wait, move |act, ctx| act.prepare(attempt + 1, ctx));
                }
            }),
        );
    }

    fn read_next(&mut self, ctx: &mut Context<Self>) {
        let max = self.shared.config.max_in_flight;
        if !self.ready || self.is_stopping() || self.reading.is_some() || self.in_flight >= max {
            return;
        }
        let count = self
            .shared
            .config
            .batch_size
            .min(max - self.in_flight)
            .max(1);
        let shared = self.shared.clone();
        let handle = ctx.spawn(
            async move {
                let c = &shared.config;
                shared
                    .mailbox
                    .read(
                        shared.partition,
                        &StreamName::Inbox,
                        &c.consumer,
                        count,
                        c.block_ms,
                    )
                    .await
            }
            .into_actor(self)
            .map(|res, act, ctx| {
                act.reading = None;
                match res {
                    Ok(deliveries) => {
                        for delivery in deliveries {
                            act.route(delivery, false, ctx);
                        }
                        act.read_next(ctx);
                    }
                    Err(error) => {
                        act.store_error("reading the inbox", &error);
                        let wait = act.shared.config.store_retry_max;
                        ctx.run_later(wait, |act, ctx| act.read_next(ctx));
                    }
                }
            }),
        );
        self.reading = Some(handle);
    }

    fn reclaim(&mut self, ctx: &mut Context<Self>) {
        if !self.ready || self.is_stopping() || self.reclaiming {
            return;
        }
        self.reclaiming = true;
        let shared = self.shared.clone();
        let blocked: Vec<(String, EntryId)> = self
            .keys
            .iter()
            .filter_map(|(k, s)| s.blocked.clone().map(|b| (k.clone(), b)))
            .collect();
        ctx.spawn(
            async move {
                let c = &shared.config;
                let claimed = shared
                    .mailbox
                    .reclaim(
                        shared.partition,
                        &StreamName::Inbox,
                        &c.consumer,
                        c.reclaim_idle_ms,
                        c.batch_size,
                    )
                    .await;
                // A blocked key whose failed entry is no longer pending (an
                // operator or another owner dealt with it) can go on.
                let mut unblocked = Vec::new();
                for (key, entry) in blocked {
                    if let Ok(false) = shared
                        .mailbox
                        .is_pending(shared.partition, &StreamName::Inbox, &entry)
                        .await
                    {
                        unblocked.push((key, entry));
                    }
                }
                (claimed, unblocked)
            }
            .into_actor(self)
            .map(|(claimed, unblocked), act, ctx| {
                act.reclaiming = false;
                for (key, entry) in unblocked {
                    if let Some(slot) = act.keys.get_mut(&key)
                        && slot.blocked.as_ref() == Some(&entry)
                    {
                        slot.blocked = None;
                        if slot.is_unused() {
                            act.keys.remove(&key);
                        }
                    }
                }
                match claimed {
                    Ok(deliveries) => {
                        if !deliveries.is_empty() {
                            ::metrics::counter!(metrics::MAILBOX_RECLAIMED_TOTAL, "partition" => act.label(), "stream" => "in")
                                .increment(deliveries.len() as u64);
                        }
                        for delivery in deliveries {
                            act.route(delivery, true, ctx);
                        }
                    }
                    Err(error) => act.store_error("reclaiming idle entries", &error),
                }
            }),
        );
    }

    fn fire_timers(&mut self, ctx: &mut Context<Self>) {
        if !self.ready || self.is_stopping() || self.firing {
            return;
        }
        self.firing = true;
        let shared = self.shared.clone();
        ctx.spawn(
            async move {
                let now = shared.clock.now_ms();
                shared
                    .mailbox
                    .fire_timers(shared.partition, now, shared.config.batch_size)
                    .await
            }
            .into_actor(self)
            .map(|res, act, _ctx| {
                act.firing = false;
                match res {
                    Ok(0) => {}
                    Ok(fired) => {
                        ::metrics::counter!(metrics::HOST_TIMERS_FIRED_TOTAL, "partition" => act.label())
                            .increment(fired as u64);
                    }
                    Err(error) => act.store_error("firing timers", &error),
                }
            }),
        );
    }

    fn dead_letter(&mut self, delivery: Delivery, reason: String, ctx: &mut Context<Self>) {
        self.entries.insert(delivery.entry_id.clone());
        let shared = self.shared.clone();
        ctx.spawn(
            async move {
                let now = shared.clock.now_ms();
                let res = shared.mailbox.dead_letter(&delivery, &reason, now).await;
                (delivery, reason, res)
            }
            .into_actor(self)
            .map(|(delivery, reason, res), act, _ctx| {
                act.entries.remove(&delivery.entry_id);
                match res {
                    Ok(id) => {
                        ::metrics::counter!(metrics::MAILBOX_DEAD_LETTERS_TOTAL, "partition" => act.label(), "stream" => "in")
                            .increment(1);
                        tracing::error!(
                            partition = delivery.partition,
                            entry = %delivery.entry_id,
                            dead_letter = %id,
                            deliveries = delivery.deliveries,
                            %reason,
                            "input dead-lettered"
                        );
                    }
                    // Left pending: the next reclaim brings it back here.
                    Err(error) => act.store_error("dead-lettering", &error),
                }
            }),
        );
    }

    /// Route one delivery to its key actor, or dead-letter it.
    fn route(&mut self, delivery: Delivery, reclaimed: bool, ctx: &mut Context<Self>) {
        if self.is_stopping() || self.entries.contains(&delivery.entry_id) {
            return;
        }
        let key = match &delivery.envelope {
            Ok(envelope) => envelope.key.clone(),
            Err(reason) => {
                let reason = format!("undecodable entry: {reason}");
                self.dead_letter(delivery, reason, ctx);
                return;
            }
        };
        let max = self.shared.config.max_deliveries;
        let waited = self.held_back.get(&delivery.entry_id).copied().unwrap_or(0);
        let attempts = delivery.deliveries.saturating_sub(waited);
        if attempts > max {
            if let Some(slot) = self.keys.get_mut(&key)
                && slot.blocked.as_ref() == Some(&delivery.entry_id)
            {
                slot.blocked = None;
            }
            self.held_back.remove(&delivery.entry_id);
            let reason = format!("delivered {attempts} times (max {max})");
            self.dead_letter(delivery, reason, ctx);
            return;
        }
        if let Some(blocked) = self.keys.get(&key).and_then(|s| s.blocked.as_ref()) {
            let older_or_same = match (delivery.entry_id.parts(), blocked.parts()) {
                (Some(a), Some(b)) => a <= b,
                _ => false,
            };
            if !(reclaimed && older_or_same) {
                // Left pending: it comes back through reclaim after the failed entry.
                self.held_back
                    .insert(delivery.entry_id.clone(), delivery.deliveries);
                return;
            }
        }
        let addr = self.key_actor(&key, ctx);
        let slot = self.keys.get_mut(&key).expect("slot created by key_actor");
        slot.blocked = None;
        slot.queue.push_back(Queued {
            entry_id: delivery.entry_id.clone(),
            deliveries: delivery.deliveries,
            actor: slot.actor,
        });
        self.in_flight += 1;
        self.entries.insert(delivery.entry_id.clone());
        // Lost if the actor has just stopped; its Stopped report then covers it.
        addr.do_send(Apply { delivery });
    }

    fn key_actor(&mut self, key: &str, ctx: &mut Context<Self>) -> Addr<KeyActor<M, S, C>> {
        if let Some(addr) = self.keys.get(key).and_then(|s| s.addr.clone()) {
            return addr;
        }
        self.next_actor += 1;
        let actor = self.next_actor;
        let addr = KeyActor::new(
            key.to_owned(),
            actor,
            self.shared.clone(),
            ctx.address().recipient(),
        )
        .start();
        let slot = self.keys.entry(key.to_owned()).or_insert(KeySlot {
            addr: None,
            actor,
            queue: VecDeque::new(),
            blocked: None,
        });
        slot.addr = Some(addr.clone());
        slot.actor = actor;
        self.set_live(self.live + 1);
        addr
    }

    /// One routed delivery is no longer in flight.
    fn settle(&mut self, entry_id: &EntryId) {
        self.in_flight -= 1;
        self.entries.remove(entry_id);
    }

    fn applied(&mut self, key: String, actor: u64, entry_id: EntryId, outcome: ApplyOutcome) {
        let Some(slot) = self.keys.get_mut(&key) else {
            return;
        };
        let Some(pos) = slot
            .queue
            .iter()
            .position(|q| q.actor == actor && q.entry_id == entry_id)
        else {
            return;
        };
        slot.queue.remove(pos);
        let mut live = self.live;
        match &outcome {
            ApplyOutcome::Failed { reason } => {
                tracing::warn!(partition = self.shared.partition, entry = %entry_id, %reason, "key actor failed; key blocked until the entry is reclaimed");
                slot.block(&entry_id);
                if slot.actor == actor && slot.addr.take().is_some() {
                    live -= 1;
                }
            }
            ApplyOutcome::Applied { terminal: true }
                if slot.actor == actor && slot.queue.is_empty() && slot.blocked.is_none() =>
            {
                if let Some(addr) = slot.addr.take() {
                    addr.do_send(Passivate);
                    live -= 1;
                    ::metrics::counter!(metrics::HOST_PASSIVATIONS_TOTAL, "partition" => partition_label(self.shared.partition), "outcome" => "terminal")
                        .increment(1);
                }
                self.keys.remove(&key);
            }
            _ => {}
        }
        if !matches!(outcome, ApplyOutcome::Failed { .. }) {
            self.held_back.remove(&entry_id);
        }
        self.settle(&entry_id);
        if live != self.live {
            self.set_live(live);
        }
    }

    fn idle(&mut self, key: String, actor: u64) {
        let Some(slot) = self.keys.get_mut(&key) else {
            return;
        };
        // Only an actor with nothing queued may stop: the host routes nothing to
        // it after this point, so no input can be lost or reordered.
        if slot.actor != actor || !slot.queue.is_empty() || slot.blocked.is_some() {
            return;
        }
        if let Some(addr) = slot.addr.take() {
            addr.do_send(Passivate);
            ::metrics::counter!(metrics::HOST_PASSIVATIONS_TOTAL, "partition" => self.label(), "outcome" => "idle")
                .increment(1);
            self.set_live(self.live - 1);
        }
        self.keys.remove(&key);
    }

    fn key_stopped(&mut self, key: String, actor: u64) {
        let Some(slot) = self.keys.get_mut(&key) else {
            return;
        };
        let (lost, kept): (VecDeque<Queued>, VecDeque<Queued>) =
            slot.queue.drain(..).partition(|q| q.actor == actor);
        slot.queue = kept;
        // Queued behind an input that failed: never tried, so these deliveries
        // do not count as attempts; they stay pending and come back in order.
        if let Some(first) = lost.front() {
            slot.block(&first.entry_id);
        }
        let mut live = self.live;
        if slot.actor == actor && slot.addr.take().is_some() {
            live -= 1;
        }
        if slot.is_unused() {
            self.keys.remove(&key);
        }
        for queued in lost {
            self.held_back
                .insert(queued.entry_id.clone(), queued.deliveries);
            self.settle(&queued.entry_id);
        }
        if live != self.live {
            self.set_live(live);
        }
    }
}

impl<M: Mailbox, S: Saga, C: Clock> Actor for PartitionHost<M, S, C> {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        tracing::info!(partition = self.shared.partition, consumer = %self.shared.config.consumer, "hosting partition");
        self.set_live(0);
        self.prepare(0, ctx);
        ctx.run_interval(self.shared.config.reclaim_interval, |act, ctx| {
            act.reclaim(ctx);
        });
        ctx.run_interval(self.shared.config.timer_poll_interval, |act, ctx| {
            act.fire_timers(ctx);
        });
    }

    fn stopped(&mut self, _ctx: &mut Self::Context) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        for slot in self.keys.values_mut() {
            if let Some(addr) = slot.addr.take() {
                addr.do_send(Passivate);
            }
        }
        self.set_live(0);
        tracing::info!(
            partition = self.shared.partition,
            "stopped hosting partition"
        );
        self.guard.stopped();
    }
}

impl<M: Mailbox, S: Saga, C: Clock> Handler<Shutdown> for PartitionHost<M, S, C> {
    type Result = ResponseActFuture<Self, ()>;

    fn handle(&mut self, msg: Shutdown, ctx: &mut Self::Context) -> Self::Result {
        self.shared.stopping.store(true, Ordering::SeqCst);
        if let Some(handle) = self.reading.take() {
            // Entries that read had taken stay pending and are reclaimed.
            ctx.cancel_future(handle);
        }
        let (tx, rx) = oneshot::channel();
        if self.in_flight == 0 {
            let _ = tx.send(());
        } else {
            self.drained.push(tx);
        }
        Box::pin(
            async move {
                let _ = tokio::time::timeout(msg.grace, rx).await;
            }
            .into_actor(self)
            .map(|(), act, ctx| {
                if act.in_flight > 0 {
                    tracing::warn!(
                        partition = act.shared.partition,
                        in_flight = act.in_flight,
                        "grace period over; in-flight inputs stay pending"
                    );
                }
                ctx.stop();
            }),
        )
    }
}

impl<M: Mailbox, S: Saga, C: Clock> Handler<GetHostStatus> for PartitionHost<M, S, C> {
    type Result = MessageResult<GetHostStatus>;

    fn handle(&mut self, _msg: GetHostStatus, _ctx: &mut Self::Context) -> Self::Result {
        MessageResult(HostStatus {
            partition: self.shared.partition,
            live_keys: self.live,
            in_flight: self.in_flight,
            blocked_keys: self.keys.values().filter(|s| s.blocked.is_some()).count(),
            stopping: self.is_stopping(),
        })
    }
}

impl<M: Mailbox, S: Saga, C: Clock> Handler<KeyReport> for PartitionHost<M, S, C> {
    type Result = ();

    fn handle(&mut self, msg: KeyReport, ctx: &mut Self::Context) {
        match msg.event {
            KeyEvent::Applied { entry_id, outcome } => {
                self.applied(msg.key, msg.actor, entry_id, outcome);
            }
            KeyEvent::Idle => self.idle(msg.key, msg.actor),
            KeyEvent::Stopped => self.key_stopped(msg.key, msg.actor),
        }
        if self.is_stopping() {
            if self.in_flight == 0 {
                for waiter in self.drained.drain(..) {
                    let _ = waiter.send(());
                }
            }
        } else {
            self.read_next(ctx);
        }
    }
}

/// The child spec of the host of `partition`, named `partition-<p>`: every
/// (re)start builds a fresh host from the config and the store. The lease
/// manager adds it with [`AddChild`](crate::supervisor::AddChild) when it
/// acquires the partition and removes it with
/// [`RemoveChild`](crate::supervisor::RemoveChild) when it loses it.
pub fn partition_host_spec<M: Mailbox, S: Saga, C: Clock>(
    partition: Partition,
    config: HostConfig,
    mailbox: M,
    saga: Arc<S>,
    clock: Arc<C>,
) -> ChildSpec {
    ChildSpec::new(partition_host_name(partition), move |guard| {
        config.validate().map_err(|e| e.to_string())?;
        let host = PartitionHost::new(
            partition,
            config.clone(),
            mailbox.clone(),
            saga.clone(),
            clock.clone(),
            guard,
        );
        Ok(host.start().recipient())
    })
}

/// The child name of the host of `partition` in its supervisor.
pub fn partition_host_name(partition: Partition) -> String {
    format!("partition-{partition}")
}
