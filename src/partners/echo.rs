//! The built-in `echo` partner: answers every command with its own body and
//! records each execution in Redis by idempotency key.
//!
//! The ledger (`<prefix>:{sys}:echo:calls`, command id → executions) is what a
//! real partner's dedupe would be: tests read it to prove that every command was
//! executed at least once and that deduplication by id makes it exactly once.

use redis::AsyncCommands;
use redis::aio::ConnectionManager;
use serde_json::json;
use tradehub_actors::envelope::Envelope;
use tradehub_actors::partner::{CallError, Transport};

/// The echo transport.
#[derive(Clone)]
pub struct EchoTransport {
    conn: ConnectionManager,
    ledger: String,
}

impl EchoTransport {
    /// An echo partner recording into the ledger under `prefix`.
    pub fn new(conn: ConnectionManager, prefix: &str) -> Self {
        Self {
            conn,
            ledger: ledger_key(prefix),
        }
    }
}

/// The ledger key under `prefix`.
pub fn ledger_key(prefix: &str) -> String {
    format!("{prefix}:{{sys}}:echo:calls")
}

impl Transport for EchoTransport {
    async fn call(&self, command: &Envelope) -> Result<serde_json::Value, CallError> {
        let mut conn = self.conn.clone();
        let executions: u64 = conn
            .hincr(&self.ledger, &command.id, 1)
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
