//! The Odoo connection as a partner of the runtime: saga commands in, Odoo calls out, failures
//! mapped onto the runtime's `CallError` (retry, permanent, poison, outcome unknown).

use serde_json::{Value, json};
use tradehub_actors::envelope::Envelope;
use tradehub_actors::partner::{CallError, Transport};

use super::client::OdooClient;
use super::shipment::ShipmentReader;
use super::writeback::TradeStatus;
use crate::workflow::shipment::commands::{
    CloseActivity, OdooCommand, PostNote, ReadShipment, ScheduleActivity, WritePicking,
};

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
        let op = OdooCommand::from_envelope(command).map_err(|error| CallError::Poison {
            reason: error.to_string(),
        })?;
        // Every operation below checks before it changes anything, so a repeat is harmless and
        // lost answers can be retried.
        let idempotent = true;
        let result = match op {
            OdooCommand::ReadShipment(ReadShipment {
                picking_id: picking,
                ..
            }) => {
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
            OdooCommand::WritePicking(WritePicking { picking_id, values }) => {
                let status = TradeStatus {
                    status: values.status,
                    hold: values.hold,
                    hold_reason: values.hold_reason,
                    mrn: values.mrn,
                    url: None,
                };
                let changed = self
                    .client()
                    .write_trade_status(picking_id, &status)
                    .await
                    .map_err(|e| e.into_call_error(idempotent))?;
                json!({"changed": changed})
            }
            OdooCommand::PostNote(PostNote { picking_id, body }) => {
                let message = self
                    .client()
                    .post_note(PICKING, picking_id, &command.id, &body)
                    .await
                    .map_err(|e| e.into_call_error(idempotent))?;
                json!({"message_id": message, "already_posted": message.is_none()})
            }
            OdooCommand::ScheduleActivity(ScheduleActivity {
                picking_id,
                exception_id,
                summary,
                note,
                ..
            }) => {
                let activity = self
                    .client()
                    .open_activity(PICKING, picking_id, &exception_id, &summary, &note, None)
                    .await
                    .map_err(|e| e.into_call_error(idempotent))?;
                json!({"activity_id": activity})
            }
            OdooCommand::CloseActivity(CloseActivity {
                picking_id,
                exception_id,
                feedback,
            }) => {
                let closed = self
                    .client()
                    .close_activity(PICKING, picking_id, &exception_id, &feedback)
                    .await
                    .map_err(|e| e.into_call_error(idempotent))?;
                json!({"closed": closed})
            }
        };
        Ok(result)
    }
}
