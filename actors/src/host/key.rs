//! The key actor: applies one key's inputs in order and commits each transition.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use actix::prelude::*;
use tracing::Instrument;

use super::{ApplyOutcome, KeyEvent, KeyReport, Shared};
use crate::clock::{Clock, Millis};
use crate::envelope::Envelope;
use crate::mailbox::{Commit, CommitOutcome, Delivery, Mailbox, MailboxResult, StoredState};
use crate::metrics;
use crate::saga::Saga;

/// Apply one delivery (its envelope decoded) and commit the transition; the
/// outcome goes back to the host as a [`KeyReport`].
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub(super) struct Apply {
    pub(super) delivery: Delivery,
}

/// Stop: the host routes nothing more to this actor.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub(super) struct Passivate;

/// The cached state of a key and the version it was stored at.
type Cached<T> = Option<Box<(T, u64)>>;

pub(super) struct KeyActor<M, S: Saga, C> {
    key: String,
    actor: u64,
    shared: Arc<Shared<M, S, C>>,
    host: Recipient<KeyReport>,
    cache: Cached<S::State>,
    last_active: Millis,
    idle_reported: bool,
}

impl<M: Mailbox, S: Saga, C: Clock> KeyActor<M, S, C> {
    pub(super) fn new(
        key: String,
        actor: u64,
        shared: Arc<Shared<M, S, C>>,
        host: Recipient<KeyReport>,
    ) -> Self {
        let last_active = shared.clock.now_ms();
        Self {
            key,
            actor,
            shared,
            host,
            cache: None,
            last_active,
            idle_reported: false,
        }
    }
}

impl<M: Mailbox, S: Saga, C: Clock> KeyActor<M, S, C> {
    fn report(&self, event: KeyEvent) {
        self.host.do_send(KeyReport {
            key: self.key.clone(),
            actor: self.actor,
            event,
        });
    }
}

impl<M: Mailbox, S: Saga, C: Clock> Actor for KeyActor<M, S, C> {
    type Context = Context<Self>;

    fn stopped(&mut self, _ctx: &mut Self::Context) {
        self.report(KeyEvent::Stopped);
    }

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.run_interval(self.shared.config.passivation_check, |act, _ctx| {
            let idle = act.shared.clock.now_ms().saturating_sub(act.last_active);
            if !act.idle_reported && idle >= act.shared.config.passivation_idle_ms {
                act.idle_reported = true;
                act.report(KeyEvent::Idle);
            }
        });
    }
}

impl<M: Mailbox, S: Saga, C: Clock> Handler<Passivate> for KeyActor<M, S, C> {
    type Result = ();

    fn handle(&mut self, _msg: Passivate, ctx: &mut Self::Context) {
        ctx.stop();
    }
}

impl<M: Mailbox, S: Saga, C: Clock> Handler<Apply> for KeyActor<M, S, C> {
    type Result = AtomicResponse<Self, ()>;

    fn handle(&mut self, msg: Apply, _ctx: &mut Self::Context) -> Self::Result {
        let shared = self.shared.clone();
        let key = self.key.clone();
        let cache = self.cache.take();
        let entry_id = msg.delivery.entry_id.clone();
        // One root span per delivered message; the key belongs here, not in metrics.
        let span = tracing::info_span!(
            "saga.apply",
            "messaging.message.id" = %msg.delivery.entry_id,
            "messaging.destination.partition.id" = self.shared.partition,
            "messaging.message.delivery_count" = msg.delivery.deliveries,
            saga.key = %self.key,
        );
        // `ctx.wait` semantics: the next Apply starts only after this future and
        // its commit are done, so one key's inputs never interleave.
        AtomicResponse::new(Box::pin(
            apply_one(shared, key, msg.delivery, cache)
                .instrument(span)
                .into_actor(self)
                .map(|(outcome, cache), act, ctx| {
                    act.cache = cache;
                    act.last_active = act.shared.clock.now_ms();
                    act.idle_reported = false;
                    let failed = matches!(outcome, ApplyOutcome::Failed { .. });
                    act.report(KeyEvent::Applied { entry_id, outcome });
                    if failed {
                        ctx.stop();
                    }
                }),
        ))
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-string panic payload".to_owned())
}

/// Run a store call until it succeeds or the host stops; `None` when stopped.
async fn with_retry<M, S, C, T, F, Fut>(
    shared: &Shared<M, S, C>,
    what: &str,
    mut call: F,
) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = MailboxResult<T>>,
{
    let mut attempt = 0;
    loop {
        match call().await {
            Ok(value) => return Some(value),
            Err(error) => {
                ::metrics::counter!(metrics::HOST_MAILBOX_ERRORS_TOTAL, "partition" => shared.partition.to_string())
                    .increment(1);
                tracing::warn!(partition = shared.partition, %error, "{what} failed; retrying");
                if shared.stopping.load(Ordering::SeqCst) {
                    return None;
                }
                tokio::time::sleep(shared.config.store_backoff(attempt)).await;
                attempt += 1;
            }
        }
    }
}

fn decode_state<S: Saga>(stored: StoredState) -> Result<(S::State, u64), String> {
    let state = match &stored.state {
        Some(json) => serde_json::from_str(json)
            .map_err(|e| format!("stored state at version {} is unreadable: {e}", stored.ver))?,
        None => S::State::default(),
    };
    Ok((state, stored.ver))
}

async fn apply_one<M: Mailbox, S: Saga, C: Clock>(
    shared: Arc<Shared<M, S, C>>,
    key: String,
    delivery: Delivery,
    mut cache: Cached<S::State>,
) -> (ApplyOutcome, Cached<S::State>) {
    let partition = shared.partition;
    let label = partition.to_string();
    let Ok(envelope) = delivery.envelope.clone() else {
        return (
            ApplyOutcome::Failed {
                reason: "undecodable delivery routed to a key actor".into(),
            },
            None,
        );
    };
    let started = Instant::now();
    let mut conflicts = 0;
    loop {
        if shared.stopping.load(Ordering::SeqCst) {
            return (ApplyOutcome::Skipped, cache);
        }
        let (state, ver) = match cache.take() {
            Some(cached) => *cached,
            None => {
                let Some(stored) = with_retry(&shared, "loading state", || {
                    shared.mailbox.load(partition, &key)
                })
                .await
                else {
                    return (ApplyOutcome::Skipped, None);
                };
                match decode_state::<S>(stored) {
                    Ok(loaded) => loaded,
                    Err(reason) => return (ApplyOutcome::Failed { reason }, None),
                }
            }
        };
        let now = shared.clock.now_ms();
        let commit = match build_commit(&shared, &key, &state, ver, &envelope, &delivery, now) {
            Ok(commit) => commit,
            Err(reason) => return (ApplyOutcome::Failed { reason }, None),
        };
        let (commit, new_state) = commit;
        let Some(outcome) =
            with_retry(&shared, "committing", || shared.mailbox.commit(&commit)).await
        else {
            return (ApplyOutcome::Skipped, None);
        };
        match outcome {
            CommitOutcome::Committed { ver } => {
                ::metrics::counter!(metrics::HOST_COMMITS_TOTAL, "partition" => label.clone())
                    .increment(1);
                ::metrics::histogram!(metrics::HOST_COMMIT_DURATION_SECONDS, "partition" => label)
                    .record(started.elapsed().as_secs_f64());
                return (
                    ApplyOutcome::Applied {
                        terminal: commit.terminal,
                    },
                    Some(Box::new((new_state, ver))),
                );
            }
            CommitOutcome::Conflict { current_ver } => {
                ::metrics::counter!(metrics::HOST_CONFLICTS_TOTAL, "partition" => label.clone())
                    .increment(1);
                conflicts += 1;
                tracing::debug!(
                    partition,
                    expected = ver,
                    current_ver,
                    "commit conflict; reloading"
                );
                if conflicts > shared.config.max_conflicts {
                    return (
                        ApplyOutcome::Failed {
                            reason: format!("{conflicts} commit conflicts in a row"),
                        },
                        None,
                    );
                }
            }
            CommitOutcome::AlreadyAcknowledged => {
                ::metrics::counter!(metrics::HOST_ALREADY_ACKNOWLEDGED_TOTAL, "partition" => label)
                    .increment(1);
                // The state moved on without us: whatever we cached is stale.
                return (ApplyOutcome::AlreadyAcknowledged, None);
            }
        }
    }
}

/// Apply the saga (catching a panic) and build the commit.
fn build_commit<M, S: Saga, C>(
    shared: &Shared<M, S, C>,
    key: &str,
    state: &S::State,
    ver: u64,
    envelope: &Envelope,
    delivery: &Delivery,
    now: Millis,
) -> Result<(Commit, S::State), String> {
    let saga = &shared.saga;
    let applied = std::panic::catch_unwind(AssertUnwindSafe(|| {
        let transition = saga.apply(state, envelope, now);
        let terminal = saga.is_terminal(&transition.state);
        (transition, terminal)
    }));
    let (transition, terminal) = applied.map_err(|panic| {
        ::metrics::counter!(metrics::HOST_APPLY_PANICS_TOTAL, "partition" => shared.partition.to_string())
            .increment(1);
        format!(
            "apply panicked on {} ({}): {}",
            envelope.id,
            envelope.kind,
            panic_message(panic.as_ref())
        )
    })?;
    let to_json = |values: &[serde_json::Value]| values.iter().map(|v| v.to_string()).collect();
    let state_json = serde_json::to_string(&transition.state)
        .map_err(|e| format!("cannot serialise the state of {key}: {e}"))?;
    let commit = Commit {
        partition: shared.partition,
        key: key.to_owned(),
        expected_ver: ver,
        state: state_json,
        terminal,
        history: to_json(&transition.history),
        audit: to_json(&transition.audit),
        commands: transition.commands,
        timers: transition.timers,
        ack: Some(delivery.entry_id.clone()),
    };
    Ok((commit, transition.state))
}
