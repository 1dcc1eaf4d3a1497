//! The echo workflow: a two-step saga used to prove the runtime end to end.
//!
//! Every `echo.ping` input counts itself and asks the `echo` partner to echo it;
//! every `partner.succeeded` result counts the echo; `echo.finish` ends the key.
//! Its state therefore proves exactly-once application: after N pings, `pings`
//! is N, and once the partner answered, `echoes` is N.

use serde::{Deserialize, Serialize};
use serde_json::json;
use tradehub_actors::clock::Millis;
use tradehub_actors::envelope::Envelope;
use tradehub_actors::saga::{Command, Saga, Transition};

/// The partner the echo workflow sends its commands to.
pub const ECHO_PARTNER: &str = "echo";
/// Input kind: count this ping and have it echoed.
pub const PING: &str = "echo.ping";
/// Input kind: end the key.
pub const FINISH: &str = "echo.finish";
/// Command kind sent to the echo partner.
pub const ECHO_CALL: &str = "echo.call";
/// Input kind the partner connection delivers when a call succeeded.
pub const PARTNER_SUCCEEDED: &str = "partner.succeeded";

/// State of one echo key.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EchoState {
    /// Pings applied.
    pub pings: u64,
    /// Echo results applied.
    pub echoes: u64,
    /// Inputs of a kind the workflow does not know.
    pub ignored: u64,
    /// Whether `echo.finish` arrived.
    pub finished: bool,
}

/// The echo saga.
#[derive(Debug, Clone, Copy, Default)]
pub struct EchoSaga;

impl Saga for EchoSaga {
    type State = EchoState;

    fn apply(&self, state: &EchoState, input: &Envelope, now: Millis) -> Transition<EchoState> {
        let mut next = state.clone();
        let mut commands = Vec::new();
        match input.kind.as_str() {
            PING => {
                next.pings += 1;
                // The command id derives from the input id, so a re-applied input
                // produces the same command and the partner dedupes it.
                commands.push(Command {
                    partner: ECHO_PARTNER.to_owned(),
                    envelope: Envelope::new(
                        format!("{}:echo", input.id),
                        input.key.clone(),
                        ECHO_CALL,
                        json!({ "ping": next.pings, "payload": input.body }),
                    ),
                });
            }
            PARTNER_SUCCEEDED => next.echoes += 1,
            FINISH => next.finished = true,
            _ => next.ignored += 1,
        }
        let mut transition = Transition::to(next);
        transition.history.push(json!({
            "at_ms": now,
            "input": input.id,
            "kind": input.kind,
            "attempt": input.attempt,
        }));
        // Like every saga of the hub, each transition leaves an audit entry.
        transition.audit.push(json!({
            "actor": input.body.get("actor").and_then(|a| a.as_str()).unwrap_or("system"),
            "action": input.kind,
            "key": input.key,
            "input": input.id,
        }));
        transition.commands = commands;
        transition
    }

    fn is_terminal(&self, state: &EchoState) -> bool {
        state.finished
    }
}

#[cfg(test)]
mod tests;
