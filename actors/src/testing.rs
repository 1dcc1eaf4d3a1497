//! A deterministic test kit (feature `testing`): a throwaway saga, a scripted
//! transport with fault injection, fast configs, and bounded waits.
//!
//! Tests wait on conditions with [`wait_until`] / [`wait_until_async`], never
//! on sleeps.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::clock::Millis;
use crate::envelope::Envelope;
use crate::host::HostConfig;
use crate::mailbox::{Mailbox, MailboxResult, Partition};
use crate::partner::{self, BreakerConfig, CallError, PartnerConfig, RetryPolicy, Transport};
use crate::saga::{Command, Saga, Timer, Transition};

/// The partner the [`CounterSaga`] sends its commands to.
pub const ECHO: &str = "echo";

/// State of one [`CounterSaga`] key.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CounterState {
    /// `inc` inputs applied.
    pub count: u64,
    /// Ids of the `inc` inputs, in the order applied.
    pub applied: Vec<String>,
    /// `partner.succeeded` results received.
    pub results: u64,
    /// `partner.failed` results received.
    pub failures: u64,
    /// `partner.outcome_unknown` results received.
    pub unknown: u64,
    /// `reminder` timers received.
    pub reminders: u64,
    /// Whether a `finish` input arrived (terminal).
    pub finished: bool,
}

/// A throwaway saga: counts `inc` inputs per key and emits a command to
/// [`ECHO`] for every `every`-th one (command id `<input id>:echo`).
///
/// Other kinds: `partner.succeeded` / `partner.failed` /
/// `partner.outcome_unknown` are counted; `finish` makes the state terminal;
/// `panic` panics (to test panics in `apply`); an `inc` with a body
/// `{"remind_in_ms": n}` also schedules a `reminder` timer at `now + n`.
#[derive(Debug, Clone)]
pub struct CounterSaga {
    /// Emit a command every `every` increments (0: never).
    pub every: u64,
}

impl Saga for CounterSaga {
    type State = CounterState;

    fn apply(
        &self,
        state: &CounterState,
        input: &Envelope,
        now: Millis,
    ) -> Transition<CounterState> {
        let mut next = state.clone();
        let mut commands = Vec::new();
        let mut timers = Vec::new();
        match input.kind.as_str() {
            "inc" => {
                next.count += 1;
                next.applied.push(input.id.clone());
                if self.every > 0 && next.count.is_multiple_of(self.every) {
                    commands.push(Command {
                        partner: ECHO.into(),
                        envelope: Envelope::new(
                            format!("{}:echo", input.id),
                            input.key.clone(),
                            "echo.call",
                            json!({ "count": next.count }),
                        ),
                    });
                }
                if let Some(delay) = input.body.get("remind_in_ms").and_then(|v| v.as_u64()) {
                    timers.push(Timer {
                        due_ms: now + delay,
                        envelope: Envelope::new(
                            format!("{}:reminder", input.id),
                            input.key.clone(),
                            "reminder",
                            json!({}),
                        ),
                    });
                }
            }
            partner::SUCCEEDED => next.results += 1,
            partner::FAILED => next.failures += 1,
            partner::OUTCOME_UNKNOWN => next.unknown += 1,
            "reminder" => next.reminders += 1,
            "finish" => next.finished = true,
            "panic" => panic!("CounterSaga was asked to panic by input {}", input.id),
            _ => {}
        }
        Transition {
            history: vec![json!({ "input": input.id, "kind": input.kind, "count": next.count })],
            audit: Vec::new(),
            state: next,
            commands,
            timers,
        }
    }

    fn is_terminal(&self, state: &CounterState) -> bool {
        state.finished
    }
}

/// An input for [`CounterSaga`].
pub fn input(id: impl Into<String>, key: impl Into<String>, kind: &str) -> Envelope {
    Envelope::new(id, key, kind, json!({}))
}

/// The decoded state of `key` (the default when it has none).
pub async fn load_state<S: Saga>(
    mailbox: &impl Mailbox,
    partition: Partition,
    key: &str,
) -> MailboxResult<S::State> {
    let stored = mailbox.load(partition, key).await?;
    Ok(stored
        .state
        .and_then(|json| serde_json::from_str(&json).ok())
        .unwrap_or_default())
}

/// A fault the [`ScriptedTransport`] injects into a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// `CallError::Retry` without a requested wait (a 500).
    Retry,
    /// `CallError::Retry` with a requested wait (a 429 with `Retry-After`).
    RetryAfter(Duration),
    /// `CallError::Permanent` (a 400).
    Permanent,
    /// `CallError::Poison`.
    Poison,
    /// `CallError::OutcomeUnknown` (a timeout after sending).
    Timeout,
    /// The transport panics.
    Panic,
}

#[derive(Debug)]
struct Script {
    next: VecDeque<Option<Fault>>,
    always: Option<Fault>,
    rate: Option<(f64, Vec<Fault>)>,
    rng: StdRng,
    executions: HashMap<String, u32>,
    successes: HashMap<String, u32>,
    calls: u64,
    latency: Duration,
}

/// A transport whose answers are scripted: per call ([`ScriptedTransport::then`]),
/// for every call until healed ([`ScriptedTransport::fail_all`]), or at a rate
/// with a seeded RNG ([`ScriptedTransport::fail_at_rate`]); otherwise it
/// succeeds, echoing the command body. It records calls by idempotency key
/// (the command id). Clones share one script.
#[derive(Debug, Clone)]
pub struct ScriptedTransport {
    script: Arc<Mutex<Script>>,
}

impl Default for ScriptedTransport {
    fn default() -> Self {
        Self::new()
    }
}

impl ScriptedTransport {
    /// A transport that succeeds on every call.
    pub fn new() -> Self {
        Self {
            script: Arc::new(Mutex::new(Script {
                next: VecDeque::new(),
                always: None,
                rate: None,
                rng: StdRng::seed_from_u64(0),
                executions: HashMap::new(),
                successes: HashMap::new(),
                calls: 0,
                latency: Duration::ZERO,
            })),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Script> {
        self.script
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Script the next call (after those already scripted): `None` succeeds.
    pub fn then(&self, fault: Option<Fault>) -> &Self {
        self.lock().next.push_back(fault);
        self
    }

    /// Fail every call with `fault` until [`ScriptedTransport::heal`].
    pub fn fail_all(&self, fault: Fault) {
        self.lock().always = Some(fault);
    }

    /// Fail each call with probability `rate`, picking one of `faults`, from an
    /// RNG seeded with `seed`.
    pub fn fail_at_rate(&self, rate: f64, faults: Vec<Fault>, seed: u64) {
        let mut script = self.lock();
        script.rate = Some((rate, faults));
        script.rng = StdRng::seed_from_u64(seed);
    }

    /// Make every call take `latency` (simulated partner latency, e.g. to have
    /// calls in flight during a shutdown).
    pub fn set_latency(&self, latency: Duration) {
        self.lock().latency = latency;
    }

    /// Stop failing (scripted calls still apply).
    pub fn heal(&self) {
        let mut script = self.lock();
        script.always = None;
        script.rate = None;
    }

    /// Calls made so far.
    pub fn calls(&self) -> u64 {
        self.lock().calls
    }

    /// Calls per command id.
    pub fn executions(&self) -> HashMap<String, u32> {
        self.lock().executions.clone()
    }

    /// Successful calls per command id: what a partner deduping on the id
    /// would have executed once each.
    pub fn successes(&self) -> HashMap<String, u32> {
        self.lock().successes.clone()
    }

    fn decide(&self, command: &Envelope) -> (Option<Fault>, Duration) {
        let mut script = self.lock();
        script.calls += 1;
        *script.executions.entry(command.id.clone()).or_default() += 1;
        let fault = if let Some(next) = script.next.pop_front() {
            next
        } else if let Some(fault) = script.always.clone() {
            Some(fault)
        } else if let Some((rate, faults)) = script.rate.clone() {
            let roll: f64 = script.rng.random();
            if roll < rate && !faults.is_empty() {
                let pick = script.rng.random_range(0..faults.len());
                Some(faults[pick].clone())
            } else {
                None
            }
        } else {
            None
        };
        if fault.is_none() {
            *script.successes.entry(command.id.clone()).or_default() += 1;
        }
        (fault, script.latency)
    }
}

impl Transport for ScriptedTransport {
    async fn call(&self, command: &Envelope) -> Result<serde_json::Value, CallError> {
        let (fault, latency) = self.decide(command);
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
        match fault {
            None => Ok(json!({ "echo": command.body })),
            Some(Fault::Retry) => Err(CallError::Retry {
                after: None,
                reason: "scripted 500".into(),
            }),
            Some(Fault::RetryAfter(after)) => Err(CallError::Retry {
                after: Some(after),
                reason: "scripted 429".into(),
            }),
            Some(Fault::Permanent) => Err(CallError::Permanent {
                reason: "scripted 400".into(),
            }),
            Some(Fault::Poison) => Err(CallError::Poison {
                reason: "scripted poison".into(),
            }),
            Some(Fault::Timeout) => Err(CallError::OutcomeUnknown {
                reason: "scripted timeout".into(),
            }),
            Some(Fault::Panic) => panic!("scripted transport panic on {}", command.id),
        }
    }
}

/// A host config with short periods, for tests.
pub fn host_config(consumer: &str) -> HostConfig {
    HostConfig {
        batch_size: 16,
        block_ms: 20,
        reclaim_idle_ms: 1_000,
        reclaim_interval: Duration::from_millis(10),
        passivation_check: Duration::from_millis(10),
        timer_poll_interval: Duration::from_millis(10),
        store_retry_initial: Duration::from_millis(5),
        store_retry_max: Duration::from_millis(20),
        ..HostConfig::new(consumer)
    }
}

/// A partner config with short periods and a generous rate, for tests.
pub fn partner_config(consumer: &str, partitions: Vec<Partition>) -> PartnerConfig {
    let rate = NonZeroU32::new(10_000).unwrap_or(NonZeroU32::MIN);
    PartnerConfig {
        block_ms: 20,
        rate_per_second: rate,
        burst: rate,
        call_timeout: Duration::from_secs(5),
        breaker: BreakerConfig {
            failure_threshold: 3,
            open_ms: 1_000,
            half_open_probes: 1,
        },
        retry: RetryPolicy {
            initial: Duration::from_millis(2),
            max: Duration::from_millis(20),
            defer_threshold: Duration::from_millis(50),
        },
        max_deliveries: 5,
        reclaim_idle_ms: 1_000,
        reclaim_interval: Duration::from_millis(10),
        tick: Duration::from_millis(5),
        down_retry: Duration::from_millis(200),
        seed: Some(7),
        ..PartnerConfig::new(ECHO, consumer, partitions)
    }
}

/// Poll `condition` until it holds or `bound` passes; whether it held.
pub async fn wait_until(bound: Duration, mut condition: impl FnMut() -> bool) -> bool {
    wait_until_async(bound, || std::future::ready(condition())).await
}

/// Poll an async `condition` until it holds or `bound` passes; whether it held.
pub async fn wait_until_async<F, Fut>(bound: Duration, mut condition: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + bound;
    loop {
        if condition().await {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// The value of the series `name` whose labels include every `label="value"` of `labels`, in a
/// Prometheus text exposition; `None` when there is no such series.
pub fn series(exposition: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    exposition.lines().find_map(|line| {
        let (labelled, value) = line.rsplit_once(' ')?;
        let rest = labelled.strip_prefix(name)?.strip_prefix('{')?;
        labels
            .iter()
            .all(|(k, v)| rest.contains(&format!("{k}=\"{v}\"")))
            .then(|| value.parse().ok())?
    })
}
