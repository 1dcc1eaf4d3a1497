//! The supervision tree: our own, on actix actors.
//!
//! actix's `Supervisor` restarts an actor only when it stops, loses the message in
//! flight and reuses the old struct. Here a child is declared by a [`ChildSpec`]
//! whose factory builds a fresh actor from config and durable state on every
//! (re)start; a failure is reported through the [`ChildGuard`] the actor owns,
//! including a panic, which drops the actor without running `stopped`.
//!
//! Strategies: [`Strategy::OneForOne`] restarts the failed child only,
//! [`Strategy::RestForOne`] also restarts every child declared after it. Each
//! supervisor has a restart intensity (N restarts within T) with an exponential
//! backoff between restarts. Beyond the intensity a child either escalates (the
//! supervisor stops all its children and fails towards its own parent) or, for
//! partners, is marked down and retried with a long period instead of crash-looping.

use std::collections::VecDeque;
use std::time::Duration;

use actix::prelude::*;
use tokio::sync::broadcast;
use tokio::time::Instant;

use crate::metrics;

#[cfg(test)]
mod tests;

/// Ask an actor to stop gracefully: stop taking new work, finish what is in
/// flight within `grace`, then stop. The reply comes once it has done so.
#[derive(Debug, Clone, Copy, Message)]
#[rtype(result = "()")]
pub struct Shutdown {
    /// How long in-flight work may take.
    pub grace: Duration,
}

/// How a child ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChildExit {
    /// It stopped on purpose (shutdown, passivation, end of work).
    Normal,
    /// It gave up, with the reason.
    Failed(String),
    /// It panicked, with what is known of the panic.
    Panicked(String),
}

impl ChildExit {
    /// The `reason` label of the restart metric.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Normal => "exit",
            Self::Failed(_) => "failure",
            Self::Panicked(_) => "panic",
        }
    }

    fn describe(&self) -> String {
        match self {
            Self::Normal => "exited".to_owned(),
            Self::Failed(reason) => format!("failed: {reason}"),
            Self::Panicked(reason) => format!("panicked: {reason}"),
        }
    }
}

/// Sent by a [`ChildGuard`] to its supervisor when the child ends.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct ChildExited {
    child: u64,
    generation: u64,
    exit: ChildExit,
}

/// Owned by a supervised actor; tells the supervisor how the actor ended.
///
/// The actor calls [`ChildGuard::stopped`] from `Actor::stopped` and
/// [`ChildGuard::fail`] before stopping on a failure. A panic in a handler is
/// reported as such, and so is an actor dropped without either call.
#[derive(Debug)]
pub struct ChildGuard {
    notify: Option<Recipient<ChildExited>>,
    child: u64,
    generation: u64,
    exit: Option<ChildExit>,
}

impl ChildGuard {
    /// A guard that reports to nobody, for an actor run without a supervisor.
    pub fn detached() -> Self {
        Self {
            notify: None,
            child: 0,
            generation: 0,
            exit: None,
        }
    }

    /// Record a failure; the supervisor restarts the child per its spec.
    pub fn fail(&mut self, reason: impl Into<String>) {
        self.exit = Some(ChildExit::Failed(reason.into()));
    }

    /// Record a caught panic.
    pub fn panicked(&mut self, reason: impl Into<String>) {
        self.exit = Some(ChildExit::Panicked(reason.into()));
    }

    /// Record a stop; a normal exit unless a failure was recorded before.
    ///
    /// After a panic in a handler, actix still runs `stopped` while the panic
    /// unwinds (the runtime drops the actor's task inside its panic guard), so
    /// the unwinding is what tells a panic from a normal stop.
    pub fn stopped(&mut self) {
        if self.exit.is_none() {
            self.exit = Some(if std::thread::panicking() {
                ChildExit::Panicked("panic in a handler".into())
            } else {
                ChildExit::Normal
            });
        }
    }

    /// Whether a failure or panic has been recorded.
    pub fn has_failed(&self) -> bool {
        matches!(
            self.exit,
            Some(ChildExit::Failed(_) | ChildExit::Panicked(_))
        )
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let exit = self.exit.take().unwrap_or_else(|| {
            ChildExit::Panicked("dropped without stopping (panic in a handler)".into())
        });
        if let Some(notify) = self.notify.take() {
            notify.do_send(ChildExited {
                child: self.child,
                generation: self.generation,
                exit,
            });
        }
    }
}

/// Whether a child is restarted when it ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Restart {
    /// Always restarted, also after a normal exit.
    Permanent,
    /// Restarted after a failure only.
    Transient,
    /// Never restarted.
    Temporary,
}

/// What happens when a child exceeds the restart intensity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnLimit {
    /// The supervisor stops all its children and fails towards its parent.
    Escalate,
    /// The child is marked down (metric + event) and restarted every `retry_every`
    /// until it stays up for the intensity window.
    MarkDown {
        /// Period between restarts while down.
        retry_every: Duration,
    },
}

/// Which children a failure restarts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// Only the failed child.
    OneForOne,
    /// The failed child and every child declared after it.
    RestForOne,
}

/// Restart intensity: at most `max_restarts` restarts within `within`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Intensity {
    /// Restarts allowed in the window.
    pub max_restarts: u32,
    /// The sliding window.
    pub within: Duration,
}

/// Exponential backoff between restarts: `initial`, doubling, capped at `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RestartBackoff {
    /// Delay before the first restart in a window.
    pub initial: Duration,
    /// Upper bound.
    pub max: Duration,
}

impl RestartBackoff {
    /// The delay before restart number `n` (0-based) within the window.
    pub fn delay(&self, n: u32) -> Duration {
        let factor = 1u32.checked_shl(n.min(31)).unwrap_or(u32::MAX);
        self.initial.saturating_mul(factor).min(self.max)
    }
}

/// Configuration of one supervisor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupervisorConfig {
    /// Name, used in metrics and events.
    pub name: String,
    /// Restart strategy.
    pub strategy: Strategy,
    /// Restart intensity.
    pub intensity: Intensity,
    /// Backoff between restarts.
    pub backoff: RestartBackoff,
}

impl SupervisorConfig {
    /// A one-for-one supervisor allowing 5 restarts in 60 s, backoff 100 ms to 10 s.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            strategy: Strategy::OneForOne,
            intensity: Intensity {
                max_restarts: 5,
                within: Duration::from_secs(60),
            },
            backoff: RestartBackoff {
                initial: Duration::from_millis(100),
                max: Duration::from_secs(10),
            },
        }
    }
}

type Factory = Box<dyn FnMut(ChildGuard) -> Result<Recipient<Shutdown>, String> + Send>;

/// A child declaration: a name, its restart policy, and a factory that builds and
/// starts a fresh actor (from config and durable state) and returns where to send
/// [`Shutdown`]. The factory must hand the guard to the actor.
pub struct ChildSpec {
    name: String,
    restart: Restart,
    on_limit: OnLimit,
    factory: Factory,
}

impl std::fmt::Debug for ChildSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChildSpec")
            .field("name", &self.name)
            .field("restart", &self.restart)
            .field("on_limit", &self.on_limit)
            .finish_non_exhaustive()
    }
}

impl ChildSpec {
    /// A permanent child that escalates beyond the intensity.
    pub fn new(
        name: impl Into<String>,
        factory: impl FnMut(ChildGuard) -> Result<Recipient<Shutdown>, String> + Send + 'static,
    ) -> Self {
        Self {
            name: name.into(),
            restart: Restart::Permanent,
            on_limit: OnLimit::Escalate,
            factory: Box::new(factory),
        }
    }

    /// A nested supervisor built afresh by `make` on every start.
    pub fn supervisor(
        name: impl Into<String>,
        mut make: impl FnMut() -> Supervisor + Send + 'static,
    ) -> Self {
        Self::new(name, move |guard| {
            let mut supervisor = make();
            supervisor.guard = guard;
            Ok(supervisor.start().recipient())
        })
    }

    /// Set the restart policy.
    pub fn restart(mut self, restart: Restart) -> Self {
        self.restart = restart;
        self
    }

    /// Set what happens beyond the restart intensity.
    pub fn on_limit(mut self, on_limit: OnLimit) -> Self {
        self.on_limit = on_limit;
        self
    }

    /// The child's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// What a supervision tree reports to the service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SupervisorEvent {
    /// A child ended and will be restarted.
    Restarting {
        /// Supervisor name.
        supervisor: String,
        /// Child name.
        child: String,
        /// How it ended.
        exit: ChildExit,
        /// Delay before the restart.
        after: Duration,
    },
    /// A child exceeded its intensity and is marked down.
    Down {
        /// Supervisor name.
        supervisor: String,
        /// Child name.
        child: String,
        /// The failure that exceeded the intensity.
        reason: String,
    },
    /// A child marked down stayed up for the intensity window.
    Up {
        /// Supervisor name.
        supervisor: String,
        /// Child name.
        child: String,
    },
    /// The supervisor gave up and failed towards its parent.
    Escalated {
        /// Supervisor name.
        supervisor: String,
        /// The child whose failures exceeded the intensity.
        child: String,
        /// Its last failure.
        reason: String,
    },
}

/// Status of one child, for health and tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildStatus {
    /// Child name.
    pub name: String,
    /// Whether an instance is running.
    pub running: bool,
    /// Whether it is marked down.
    pub down: bool,
    /// Restarts within the current intensity window.
    pub recent_restarts: usize,
    /// Instances started so far (1 after the first start).
    pub starts: u64,
}

/// Ask a supervisor for the status of its children.
#[derive(Debug, Clone, Copy, Message)]
#[rtype(result = "Vec<ChildStatus>")]
pub struct GetChildren;

/// Add a child to a running supervisor and start it (e.g. a partition host when
/// the lease manager acquires a partition). A child of the same name is replaced.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct AddChild(pub ChildSpec);

/// Stop a child gracefully and forget it (e.g. a partition whose lease was lost).
/// The reply comes once it has stopped or `grace` has passed.
#[derive(Debug, Clone, Message)]
#[rtype(result = "bool")]
pub struct RemoveChild {
    /// Child name.
    pub name: String,
    /// Grace period for its in-flight work.
    pub grace: Duration,
}

struct ChildState {
    id: u64,
    spec: ChildSpec,
    generation: u64,
    running: Option<Recipient<Shutdown>>,
    restarts: VecDeque<Instant>,
    down: bool,
    starts: u64,
}

/// A supervisor actor. Build with [`Supervisor::new`], add children with
/// [`Supervisor::child`], start with actix's `Actor::start` (root) or nest with
/// [`ChildSpec::supervisor`].
pub struct Supervisor {
    config: SupervisorConfig,
    children: Vec<ChildState>,
    next_id: u64,
    events: broadcast::Sender<SupervisorEvent>,
    guard: ChildGuard,
    stopping: bool,
}

impl std::fmt::Debug for Supervisor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Supervisor")
            .field("name", &self.config.name)
            .field("children", &self.children.len())
            .finish_non_exhaustive()
    }
}

impl Supervisor {
    /// A supervisor with no children, with its own event channel.
    pub fn new(config: SupervisorConfig) -> Self {
        let (events, _) = broadcast::channel(256);
        Self {
            config,
            children: Vec::new(),
            next_id: 0,
            events,
            guard: ChildGuard::detached(),
            stopping: false,
        }
    }

    /// Report events to `events` (share one channel across a tree).
    pub fn events_to(mut self, events: broadcast::Sender<SupervisorEvent>) -> Self {
        self.events = events;
        self
    }

    /// Subscribe to this supervisor's events (call before starting it).
    pub fn subscribe(&self) -> broadcast::Receiver<SupervisorEvent> {
        self.events.subscribe()
    }

    /// Declare a child; children start in declaration order.
    pub fn child(mut self, spec: ChildSpec) -> Self {
        self.push(spec);
        self
    }

    fn push(&mut self, spec: ChildSpec) -> u64 {
        self.next_id += 1;
        self.children.push(ChildState {
            id: self.next_id,
            spec,
            generation: 0,
            running: None,
            restarts: VecDeque::new(),
            down: false,
            starts: 0,
        });
        self.next_id
    }

    fn emit(&self, event: SupervisorEvent) {
        // Nobody listening is fine: events are a courtesy to the service.
        let _ = self.events.send(event);
    }

    fn position(&self, id: u64) -> Option<usize> {
        self.children.iter().position(|c| c.id == id)
    }

    /// Start (or restart) the child at `pos` with a fresh guard. A factory error
    /// counts as a failure of the child.
    fn start_child(&mut self, pos: usize, ctx: &mut Context<Self>) {
        if self.stopping {
            return;
        }
        let me = ctx.address().recipient();
        let child = &mut self.children[pos];
        child.generation += 1;
        child.starts += 1;
        let guard = ChildGuard {
            notify: Some(me.clone()),
            child: child.id,
            generation: child.generation,
            exit: None,
        };
        match (child.spec.factory)(guard) {
            Ok(recipient) => {
                child.running = Some(recipient);
                tracing::debug!(
                    supervisor = %self.config.name,
                    child = %child.spec.name,
                    generation = child.generation,
                    "child started"
                );
            }
            Err(reason) => {
                child.running = None;
                // The guard was consumed by the factory and reported nothing
                // useful; report the start failure ourselves.
                me.do_send(ChildExited {
                    child: child.id,
                    generation: child.generation,
                    exit: ChildExit::Failed(format!("could not start: {reason}")),
                });
            }
        }
    }

    /// Stop a running child without restarting it: its exit report is ignored
    /// because its generation is moved on.
    fn stop_child(&mut self, pos: usize, grace: Duration) {
        let child = &mut self.children[pos];
        child.generation += 1;
        if let Some(running) = child.running.take() {
            running.do_send(Shutdown { grace });
        }
    }

    fn escalate(&mut self, pos: usize, reason: String, ctx: &mut Context<Self>) {
        let child = self.children[pos].spec.name.clone();
        tracing::error!(
            supervisor = %self.config.name,
            child = %child,
            reason = %reason,
            "restart intensity exceeded; escalating"
        );
        ::metrics::counter!(metrics::SUPERVISOR_ESCALATIONS_TOTAL, "supervisor" => self.config.name.clone())
            .increment(1);
        for i in (0..self.children.len()).rev() {
            self.stop_child(i, Duration::ZERO);
        }
        self.emit(SupervisorEvent::Escalated {
            supervisor: self.config.name.clone(),
            child: child.clone(),
            reason: reason.clone(),
        });
        self.stopping = true;
        self.guard.fail(format!(
            "child {child} exceeded its restart intensity: {reason}"
        ));
        ctx.stop();
    }

    fn mark_up_later(&mut self, pos: usize, ctx: &mut Context<Self>) {
        let id = self.children[pos].id;
        let generation = self.children[pos].generation;
        ctx.run_later(self.config.intensity.within, move |act, _| {
            let Some(pos) = act.position(id) else { return };
            let child = &mut act.children[pos];
            if child.down && child.generation == generation && child.running.is_some() {
                child.down = false;
                child.restarts.clear();
                let name = child.spec.name.clone();
                ::metrics::gauge!(metrics::SUPERVISOR_CHILD_DOWN, "supervisor" => act.config.name.clone(), "child" => name.clone())
                    .set(0.0);
                tracing::info!(supervisor = %act.config.name, child = %name, "child is up again");
                act.emit(SupervisorEvent::Up {
                    supervisor: act.config.name.clone(),
                    child: name,
                });
            }
        });
    }

    /// Schedule the restart of the child at `pos` (and, for rest-for-one, of the
    /// children after it) after `delay`.
    fn schedule_restart(&mut self, pos: usize, delay: Duration, ctx: &mut Context<Self>) {
        let mut ids = vec![self.children[pos].id];
        if self.config.strategy == Strategy::RestForOne {
            for later in (pos + 1..self.children.len()).rev() {
                self.stop_child(later, delay);
            }
            ids.extend(self.children[pos + 1..].iter().map(|c| c.id));
        }
        ctx.run_later(delay, move |act, ctx| {
            for id in ids {
                if let Some(pos) = act.position(id)
                    && act.children[pos].running.is_none()
                {
                    act.start_child(pos, ctx);
                    if act.children[pos].down {
                        act.mark_up_later(pos, ctx);
                    }
                }
            }
        });
    }
}

impl Actor for Supervisor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        for pos in 0..self.children.len() {
            self.start_child(pos, ctx);
        }
    }

    fn stopped(&mut self, _ctx: &mut Self::Context) {
        self.guard.stopped();
    }
}

impl Handler<ChildExited> for Supervisor {
    type Result = ();

    fn handle(&mut self, msg: ChildExited, ctx: &mut Self::Context) {
        let Some(pos) = self.position(msg.child) else {
            return;
        };
        if self.children[pos].generation != msg.generation {
            return;
        }
        self.children[pos].running = None;
        if self.stopping {
            return;
        }
        let child = &self.children[pos];
        let restart = match child.spec.restart {
            Restart::Permanent => true,
            Restart::Transient => msg.exit != ChildExit::Normal,
            Restart::Temporary => false,
        };
        if !restart {
            return;
        }
        let name = child.spec.name.clone();
        ::metrics::counter!(
            metrics::SUPERVISOR_RESTARTS_TOTAL,
            "supervisor" => self.config.name.clone(),
            "child" => name.clone(),
            "reason" => msg.exit.label()
        )
        .increment(1);
        let now = Instant::now();
        let intensity = self.config.intensity;
        let child = &mut self.children[pos];
        if child.down {
            let retry_every = match child.spec.on_limit {
                OnLimit::MarkDown { retry_every } => retry_every,
                OnLimit::Escalate => self.config.backoff.max,
            };
            tracing::warn!(supervisor = %self.config.name, child = %name, exit = %msg.exit.describe(), "child still down");
            self.schedule_restart(pos, retry_every, ctx);
            return;
        }
        while child
            .restarts
            .front()
            .is_some_and(|t| now.duration_since(*t) > intensity.within)
        {
            child.restarts.pop_front();
        }
        if child.restarts.len() >= intensity.max_restarts as usize {
            match child.spec.on_limit {
                OnLimit::Escalate => self.escalate(pos, msg.exit.describe(), ctx),
                OnLimit::MarkDown { retry_every } => {
                    child.down = true;
                    ::metrics::gauge!(metrics::SUPERVISOR_CHILD_DOWN, "supervisor" => self.config.name.clone(), "child" => name.clone())
                        .set(1.0);
                    tracing::error!(supervisor = %self.config.name, child = %name, exit = %msg.exit.describe(), "child marked down");
                    self.emit(SupervisorEvent::Down {
                        supervisor: self.config.name.clone(),
                        child: name,
                        reason: msg.exit.describe(),
                    });
                    self.schedule_restart(pos, retry_every, ctx);
                }
            }
            return;
        }
        let delay = self.config.backoff.delay(child.restarts.len() as u32);
        child.restarts.push_back(now);
        tracing::warn!(supervisor = %self.config.name, child = %name, exit = %msg.exit.describe(), ?delay, "restarting child");
        self.emit(SupervisorEvent::Restarting {
            supervisor: self.config.name.clone(),
            child: name,
            exit: msg.exit,
            after: delay,
        });
        self.schedule_restart(pos, delay, ctx);
    }
}

impl Handler<Shutdown> for Supervisor {
    type Result = ResponseActFuture<Self, ()>;

    fn handle(&mut self, msg: Shutdown, _ctx: &mut Self::Context) -> Self::Result {
        self.stopping = true;
        let deadline = Instant::now() + msg.grace;
        // Children stop in reverse declaration order, each given what is left of
        // the grace period, so that later children (which may depend on earlier
        // ones) finish first.
        let running: Vec<Recipient<Shutdown>> = self
            .children
            .iter_mut()
            .rev()
            .filter_map(|c| {
                c.generation += 1;
                c.running.take()
            })
            .collect();
        Box::pin(
            async move {
                for child in running {
                    let grace = deadline.saturating_duration_since(Instant::now());
                    let _ = tokio::time::timeout_at(deadline, child.send(Shutdown { grace })).await;
                }
            }
            .into_actor(self)
            .map(|(), _act, ctx| ctx.stop()),
        )
    }
}

impl Handler<GetChildren> for Supervisor {
    type Result = MessageResult<GetChildren>;

    fn handle(&mut self, _msg: GetChildren, _ctx: &mut Self::Context) -> Self::Result {
        MessageResult(
            self.children
                .iter()
                .map(|c| ChildStatus {
                    name: c.spec.name.clone(),
                    running: c.running.is_some(),
                    down: c.down,
                    recent_restarts: c.restarts.len(),
                    starts: c.starts,
                })
                .collect(),
        )
    }
}

impl Handler<AddChild> for Supervisor {
    type Result = ();

    fn handle(&mut self, msg: AddChild, ctx: &mut Self::Context) {
        if let Some(pos) = self.children.iter().position(|c| c.spec.name == msg.0.name) {
            self.stop_child(pos, Duration::ZERO);
            self.children.remove(pos);
        }
        self.push(msg.0);
        let pos = self.children.len() - 1;
        self.start_child(pos, ctx);
    }
}

impl Handler<RemoveChild> for Supervisor {
    type Result = ResponseFuture<bool>;

    fn handle(&mut self, msg: RemoveChild, _ctx: &mut Self::Context) -> Self::Result {
        let Some(pos) = self.children.iter().position(|c| c.spec.name == msg.name) else {
            return Box::pin(async { false });
        };
        let mut child = self.children.remove(pos);
        let running = child.running.take();
        Box::pin(async move {
            if let Some(running) = running {
                let _ =
                    tokio::time::timeout(msg.grace, running.send(Shutdown { grace: msg.grace }))
                        .await;
            }
            true
        })
    }
}
