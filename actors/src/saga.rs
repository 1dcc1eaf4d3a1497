//! The `Saga` trait: a pure, deterministic transition function.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::clock::Millis;
use crate::envelope::Envelope;

/// A command for a partner connection, produced by a transition.
#[derive(Debug, Clone, PartialEq)]
pub struct Command {
    /// The partner connection that executes it (its command stream name).
    pub partner: String,
    /// The command; `envelope.id` is the idempotency key the partner dedupes on.
    pub envelope: Envelope,
}

/// A timer produced by a transition: at `due_ms` the envelope is appended to the
/// inbox of the key's partition.
#[derive(Debug, Clone, PartialEq)]
pub struct Timer {
    /// When the timer fires, in milliseconds since the Unix epoch.
    pub due_ms: Millis,
    /// The input delivered when it fires.
    pub envelope: Envelope,
}

/// Everything one input produces. The host commits all of it atomically.
#[derive(Debug, Clone, PartialEq)]
pub struct Transition<S> {
    /// The saga state after the input.
    pub state: S,
    /// Commands for partners.
    pub commands: Vec<Command>,
    /// Timers to schedule.
    pub timers: Vec<Timer>,
    /// Timeline entries (what happened, for the UI and replay).
    pub history: Vec<serde_json::Value>,
    /// Audit entries (who or what caused which change).
    pub audit: Vec<serde_json::Value>,
}

impl<S> Transition<S> {
    /// A transition to `state` with no effects.
    pub fn to(state: S) -> Self {
        Self {
            state,
            commands: Vec::new(),
            timers: Vec::new(),
            history: Vec::new(),
            audit: Vec::new(),
        }
    }
}

/// A saga: a state machine per key, driven by inputs.
///
/// `apply` must be pure: no clock (use `now`), no randomness, no I/O. Applying the
/// same input to the same state must give the same transition, because an input
/// whose commit was lost is applied again.
pub trait Saga: Send + Sync + 'static {
    /// Durable state of one key.
    type State: Serialize + DeserializeOwned + Default + Clone + Send + 'static;

    /// Compute the transition for `input` in `state` at time `now`.
    fn apply(&self, state: &Self::State, input: &Envelope, now: Millis) -> Transition<Self::State>;

    /// Whether `state` is terminal: the host passivates the key at once.
    fn is_terminal(&self, state: &Self::State) -> bool;
}
