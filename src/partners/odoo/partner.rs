//! The Odoo connection as a partner of the runtime: saga commands in, Odoo calls out, failures
//! mapped onto the runtime's `CallError` (retry, permanent, poison, outcome unknown).

use serde::Deserialize;
use serde_json::{Value, json};
use tradehub_actors::envelope::Envelope;
use tradehub_actors::partner::{CallError, Transport};

use super::client::OdooClient;
use super::shipment::ShipmentReader;
use super::writeback::TradeStatus;
use crate::workflow::shipment::{
    CLOSE_ACTIVITY, POST_NOTE, READ_SHIPMENT, SCHEDULE_ACTIVITY, WRITE_PICKING,
};

/// What a saga can ask of Odoo: the command envelope's kind and body (the saga's command
/// constants in `crate::workflow::shipment` document each body).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OdooCommand {
    /// Read the picking and everything its shipment needs.
    ReadShipment { picking: u64 },
    /// Write the hub's fields on the picking.
    WriteStatus { picking: u64, status: TradeStatus },
    /// A chatter note, posted once per command id.
    PostNote { picking: u64, body: String },
    /// A to-do for an exception; `exception` keys it so that it can be closed later.
    OpenActivity {
        picking: u64,
        exception: String,
        summary: String,
        note: String,
    },
    /// Mark the exception's to-do done.
    CloseActivity {
        picking: u64,
        exception: String,
        feedback: String,
    },
}

#[derive(Deserialize)]
struct Read {
    picking_id: u64,
}

#[derive(Deserialize)]
struct Write {
    picking_id: u64,
    values: Values,
}

#[derive(Deserialize)]
struct Values {
    x_trade_status: String,
    #[serde(default)]
    x_trade_hold: bool,
    #[serde(default)]
    x_trade_hold_reason: Option<String>,
    #[serde(default)]
    x_trade_mrn: Option<String>,
}

#[derive(Deserialize)]
struct Note {
    picking_id: u64,
    body: String,
}

#[derive(Deserialize)]
struct Activity {
    picking_id: u64,
    exception_id: String,
    summary: String,
    note: String,
}

#[derive(Deserialize)]
struct ActivityDone {
    picking_id: u64,
    exception_id: String,
    feedback: String,
}

impl OdooCommand {
    /// The command an envelope carries; an unknown kind or a body that does not fit it is an
    /// error naming both.
    pub fn from_envelope(command: &Envelope) -> Result<Self, String> {
        fn body<T: serde::de::DeserializeOwned>(command: &Envelope) -> Result<T, String> {
            serde_json::from_value(command.body.clone())
                .map_err(|e| format!("{} command {}: body: {e}", command.kind, command.id))
        }
        Ok(match command.kind.as_str() {
            READ_SHIPMENT => {
                let Read { picking_id } = body(command)?;
                Self::ReadShipment {
                    picking: picking_id,
                }
            }
            WRITE_PICKING => {
                let Write { picking_id, values } = body(command)?;
                Self::WriteStatus {
                    picking: picking_id,
                    status: TradeStatus {
                        status: values.x_trade_status,
                        hold: values.x_trade_hold,
                        hold_reason: values.x_trade_hold_reason,
                        mrn: values.x_trade_mrn,
                        url: None,
                    },
                }
            }
            POST_NOTE => {
                let Note { picking_id, body } = body(command)?;
                Self::PostNote {
                    picking: picking_id,
                    body,
                }
            }
            SCHEDULE_ACTIVITY => {
                let a: Activity = body(command)?;
                Self::OpenActivity {
                    picking: a.picking_id,
                    exception: a.exception_id,
                    summary: a.summary,
                    note: a.note,
                }
            }
            CLOSE_ACTIVITY => {
                let a: ActivityDone = body(command)?;
                Self::CloseActivity {
                    picking: a.picking_id,
                    exception: a.exception_id,
                    feedback: a.feedback,
                }
            }
            other => {
                return Err(format!(
                    "Odoo has no command {other:?} (command {}); known: {READ_SHIPMENT}, {WRITE_PICKING}, {POST_NOTE}, {SCHEDULE_ACTIVITY}, {CLOSE_ACTIVITY}",
                    command.id
                ));
            }
        })
    }
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
        let op =
            OdooCommand::from_envelope(command).map_err(|reason| CallError::Poison { reason })?;
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
                    Some(Ok(shipment)) => json!({ "shipment": shipment }),
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
            OdooCommand::WriteStatus { picking, status } => {
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
            } => {
                let activity = self
                    .client()
                    .open_activity(PICKING, picking, &exception, &summary, &note, None)
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
