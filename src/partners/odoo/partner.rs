//! The Odoo connection as a partner of the runtime: saga commands in, Odoo calls out, failures
//! mapped onto the runtime's `CallError` (retry, permanent, poison, outcome unknown).

use serde::Deserialize;
use serde_json::{Value, json};
use tradehub_actors::envelope::Envelope;
use tradehub_actors::partner::{CallError, Transport};

use super::client::OdooClient;
use super::shipment::ShipmentReader;
use super::writeback::TradeStatus;

/// What a saga can ask of Odoo (the command envelope's body).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum OdooCommand {
    /// Read the picking and everything its shipment needs.
    ReadShipment { picking: u64 },
    /// Write the hub's fields on the picking.
    WriteStatus {
        picking: u64,
        status: String,
        #[serde(default)]
        hold: bool,
        #[serde(default)]
        hold_reason: Option<String>,
        #[serde(default)]
        mrn: Option<String>,
        #[serde(default)]
        url: Option<String>,
    },
    /// A chatter note, posted once per command id.
    PostNote { picking: u64, body: String },
    /// A to-do for an exception; `exception` keys it so that it can be closed later.
    OpenActivity {
        picking: u64,
        exception: String,
        summary: String,
        note: String,
        #[serde(default)]
        user_id: Option<u64>,
    },
    /// Mark the exception's to-do done.
    CloseActivity {
        picking: u64,
        exception: String,
        feedback: String,
    },
}

/// The runtime's transport for one Odoo database.
#[derive(Debug)]
pub struct OdooPartner {
    reader: ShipmentReader,
}

impl OdooPartner {
    pub fn new(client: OdooClient) -> Self {
        Self {
            reader: ShipmentReader::new(client),
        }
    }

    fn client(&self) -> &OdooClient {
        self.reader.client()
    }
}

const PICKING: &str = "stock.picking";

impl Transport for OdooPartner {
    async fn call(&self, command: &Envelope) -> Result<Value, CallError> {
        let op: OdooCommand =
            serde_json::from_value(command.body.clone()).map_err(|e| CallError::Poison {
                reason: format!("Odoo command {}: {e}", command.id),
            })?;
        // Every operation below checks before it changes anything, so a repeat is harmless and
        // lost answers can be retried.
        let idempotent = true;
        let result = match op {
            OdooCommand::ReadShipment { picking } => {
                let mut reads = self
                    .reader
                    .read(&[picking])
                    .await
                    .map_err(|e| e.into_call_error(idempotent))?;
                match reads.pop().map(|r| r.outcome) {
                    Some(Ok(shipment)) => {
                        serde_json::to_value(shipment).map_err(|e| CallError::Permanent {
                            reason: e.to_string(),
                        })?
                    }
                    Some(Err(e)) => {
                        return Err(CallError::Permanent {
                            reason: e.to_string(),
                        });
                    }
                    None => {
                        return Err(CallError::Permanent {
                            reason: format!("picking {picking} not found"),
                        });
                    }
                }
            }
            OdooCommand::WriteStatus {
                picking,
                status,
                hold,
                hold_reason,
                mrn,
                url,
            } => {
                let status = TradeStatus {
                    status,
                    hold,
                    hold_reason,
                    mrn,
                    url,
                };
                let changed = self
                    .client()
                    .write_trade_status(picking, &status)
                    .await
                    .map_err(|e| e.into_call_error(idempotent))?;
                json!({"changed": changed})
            }
            OdooCommand::PostNote { picking, body } => {
                let message = self
                    .client()
                    .post_note(PICKING, picking, &command.id, &body)
                    .await
                    .map_err(|e| e.into_call_error(idempotent))?;
                json!({"message_id": message, "already_posted": message.is_none()})
            }
            OdooCommand::OpenActivity {
                picking,
                exception,
                summary,
                note,
                user_id,
            } => {
                let activity = self
                    .client()
                    .open_activity(PICKING, picking, &exception, &summary, &note, user_id)
                    .await
                    .map_err(|e| e.into_call_error(idempotent))?;
                json!({"activity_id": activity})
            }
            OdooCommand::CloseActivity {
                picking,
                exception,
                feedback,
            } => {
                let closed = self
                    .client()
                    .close_activity(PICKING, picking, &exception, &feedback)
                    .await
                    .map_err(|e| e.into_call_error(idempotent))?;
                json!({"closed": closed})
            }
        };
        Ok(result)
    }
}
