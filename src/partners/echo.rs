//! The built-in `echo` partner: answers every command with its own body and
//! records each execution by idempotency key in the store's
//! [`EchoLedger`], what a real partner's dedupe would be.

use serde_json::json;
use tradehub_actors::envelope::Envelope;
use tradehub_actors::partner::{CallError, Transport};

use crate::store::echo_ledger::EchoLedger;

/// The echo transport.
#[derive(Debug, Clone)]
pub struct EchoTransport {
    ledger: EchoLedger,
}

impl EchoTransport {
    /// An echo partner recording into `ledger`.
    pub fn new(ledger: EchoLedger) -> Self {
        Self { ledger }
    }
}

impl Transport for EchoTransport {
    async fn call(&self, command: &Envelope) -> Result<serde_json::Value, CallError> {
        let executions =
            self.ledger
                .record_call(&command.id)
                .await
                .map_err(|e| CallError::Retry {
                    after: None,
                    reason: format!("echo ledger unavailable: {e}"),
                })?;
        Ok(json!({
            "echo": command.body,
            "executions": executions,
            "deduplicated": executions > 1,
        }))
    }
}
