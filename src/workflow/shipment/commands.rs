//! The saga's partner commands as types: one body per kind, shared by the saga and the
//! transports that execute them.
//!
//! The runtime's command envelope carries the kind in `envelope.kind` and the body, as JSON, in
//! `envelope.body`. The saga serialises a body once when it emits the command
//! ([`CommandBody::KIND`] names the kind); each transport decodes the envelope once into its
//! group ([`OdooCommand`], [`CheckParty`], [`BrokerCommand`]). Every body field is named here
//! and nowhere else, and the JSON is the one the saga always wrote, so commands already in the
//! partners' streams decode unchanged.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tradehub_actors::clock::Millis;
use tradehub_actors::envelope::Envelope;

use super::Estimate;
use crate::model::{Direction, Party, Shipment};
use crate::workflow::exceptions::{ExceptionType, OwnerRole};

/// Command to [`super::ODOO`]: read the picking with its moves, products and partners as a
/// canonical shipment. Body [`ReadShipment`]; result `{shipment: <canonical Shipment>}`.
pub const READ_SHIPMENT: &str = "odoo.read_shipment";
/// Command to [`super::ODOO`]: write the hub's own fields on the picking. Body
/// [`WritePicking`]; result ignored.
pub const WRITE_PICKING: &str = "odoo.write_picking";
/// Command to [`super::ODOO`]: post a chatter note on the picking. Body [`PostNote`].
pub const POST_NOTE: &str = "odoo.post_note";
/// Command to [`super::ODOO`]: schedule an activity for an exception. Body
/// [`ScheduleActivity`].
pub const SCHEDULE_ACTIVITY: &str = "odoo.schedule_activity";
/// Command to [`super::ODOO`]: mark an exception's activity done. Body [`CloseActivity`].
pub const CLOSE_ACTIVITY: &str = "odoo.close_activity";
/// Command to [`super::SCREENING`]: screen one party. Body [`CheckParty`]; result `{outcome:
/// clear|potential_match|confirmed_match, hits: [...], list_version}`.
pub const CHECK_PARTY: &str = "screening.check_party";
/// Command to the routed broker: file a declaration, idempotent by LRN. Body
/// [`FileDeclaration`]; result `{lrn, status?, mrn?, reasons?}` (the acknowledgement; a status,
/// when present, is applied like a `customs.status` input).
pub const FILE_DECLARATION: &str = "customs.file";
/// Command to the broker: cancel (invalidate) a filed declaration. Body [`CancelDeclaration`];
/// result `{lrn, status?}`.
pub const CANCEL_DECLARATION: &str = "customs.cancel";
/// Command to the broker: what do you know about this LRN? Body [`QueryStatus`]; result `{lrn,
/// status, mrn?, reasons?}` with `status: null` when the broker has no such declaration.
pub const QUERY_STATUS: &str = "customs.query_status";

/// The body of one kind of command.
pub trait CommandBody: Serialize + DeserializeOwned {
    /// The envelope kind the body travels under.
    const KIND: &'static str;
}

/// Body of [`READ_SHIPMENT`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadShipment {
    /// The saga key. Odoo reads by picking alone, so a command without it still reads.
    #[serde(default)]
    pub shipment_id: String,
    /// `stock.picking` id.
    pub picking_id: u64,
}

/// The fields the hub owns on a picking, under their Odoo names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TradeFields {
    /// The shipment's stage, e.g. `ON_HOLD`, `RELEASED`.
    #[serde(rename = "x_trade_status")]
    pub status: String,
    /// Whether the goods must not be dispatched.
    #[serde(rename = "x_trade_hold", default)]
    pub hold: bool,
    /// Why, for the warehouse; empty when there is no hold.
    #[serde(rename = "x_trade_hold_reason", default)]
    pub hold_reason: Option<String>,
    /// The declaration's MRN, once customs gave one.
    #[serde(rename = "x_trade_mrn", default)]
    pub mrn: Option<String>,
}

/// Body of [`WRITE_PICKING`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WritePicking {
    /// `stock.picking` id.
    pub picking_id: u64,
    /// Every field the hub owns, so that a later write supersedes an earlier failed one.
    pub values: TradeFields,
}

/// Body of [`POST_NOTE`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostNote {
    /// `stock.picking` id.
    pub picking_id: u64,
    /// The note's text.
    pub body: String,
}

/// Body of [`SCHEDULE_ACTIVITY`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleActivity {
    /// `stock.picking` id.
    pub picking_id: u64,
    /// The exception; it keys the activity, so that closing finds it.
    pub exception_id: String,
    /// The exception's type.
    pub exception_type: ExceptionType,
    /// Whose queue it lands in.
    pub owner_role: OwnerRole,
    /// The activity's title.
    pub summary: String,
    /// What to do.
    pub note: String,
    /// When the exception's SLA ends.
    pub deadline_ms: Millis,
}

/// Body of [`CLOSE_ACTIVITY`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CloseActivity {
    /// `stock.picking` id.
    pub picking_id: u64,
    /// The exception whose activity is done.
    pub exception_id: String,
    /// How it was resolved.
    pub feedback: String,
}

/// Body of [`CHECK_PARTY`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckParty {
    /// The saga key.
    pub shipment_id: String,
    /// Which way the goods cross the border.
    pub direction: Direction,
    /// The party to screen.
    pub party: Party,
}

/// Body of [`FILE_DECLARATION`].
///
/// The shipment comes before the version so that a body missing both is reported as missing
/// the shipment, the field a person would look for first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileDeclaration {
    /// The declaration's LRN (one per version); the broker dedupes on it.
    pub lrn: String,
    /// The canonical shipment declared.
    pub shipment: Shipment,
    /// 1 for the first filing, +1 per amendment.
    pub version: u32,
    /// The LRN of the version this one amends.
    #[serde(default)]
    pub previous_lrn: Option<String>,
    /// The duty estimate made in RATING.
    #[serde(default)]
    pub estimate: Option<Estimate>,
    /// The route that matched (`None`: the default).
    #[serde(default)]
    pub route: Option<String>,
}

/// Body of [`CANCEL_DECLARATION`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CancelDeclaration {
    /// The declaration to withdraw.
    pub lrn: String,
    /// Its MRN, when customs accepted it.
    #[serde(default)]
    pub mrn: Option<String>,
    /// Why, e.g. `cancelled in Odoo`.
    pub reason: String,
}

/// Body of [`QUERY_STATUS`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueryStatus {
    /// The declaration asked about. Every broker command names its declaration under this
    /// field, so a body is first read as a query to check it; absent reads as empty, which is
    /// refused as no LRN.
    #[serde(default)]
    pub lrn: String,
}

impl CommandBody for ReadShipment {
    const KIND: &'static str = READ_SHIPMENT;
}

impl CommandBody for WritePicking {
    const KIND: &'static str = WRITE_PICKING;
}

impl CommandBody for PostNote {
    const KIND: &'static str = POST_NOTE;
}

impl CommandBody for ScheduleActivity {
    const KIND: &'static str = SCHEDULE_ACTIVITY;
}

impl CommandBody for CloseActivity {
    const KIND: &'static str = CLOSE_ACTIVITY;
}

impl CommandBody for CheckParty {
    const KIND: &'static str = CHECK_PARTY;
}

impl CommandBody for FileDeclaration {
    const KIND: &'static str = FILE_DECLARATION;
}

impl CommandBody for CancelDeclaration {
    const KIND: &'static str = CANCEL_DECLARATION;
}

impl CommandBody for QueryStatus {
    const KIND: &'static str = QUERY_STATUS;
}

/// Why a transport cannot use a command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    /// The transport does not execute this kind.
    #[error("{executor} has no command {kind:?} (command {id}); known: {}", known.join(", "))]
    UnknownKind {
        /// Who was asked.
        executor: &'static str,
        /// The envelope's kind.
        kind: String,
        /// The command id.
        id: String,
        /// The kinds it does execute.
        known: &'static [&'static str],
    },
    /// The body does not have the kind's shape.
    #[error("{kind} command {id}: body: {reason}")]
    Body {
        /// The envelope's kind.
        kind: String,
        /// The command id.
        id: String,
        /// The decoder's message, naming the field.
        reason: String,
    },
    /// The body of a declaration's command does not have the kind's shape.
    #[error("{kind} command {id} for {lrn}: body: {reason}")]
    DeclarationBody {
        /// The envelope's kind.
        kind: String,
        /// The command id.
        id: String,
        /// The declaration it names.
        lrn: String,
        /// The decoder's message, naming the field.
        reason: String,
    },
    /// A broker command that names no declaration.
    #[error("{kind} {id}: body has no lrn")]
    NoLrn {
        /// The envelope's kind.
        kind: String,
        /// The command id.
        id: String,
    },
}

/// The body of `envelope` as `T`.
fn decode<T: CommandBody>(envelope: &Envelope) -> Result<T, CommandError> {
    T::deserialize(&envelope.body).map_err(|error| CommandError::Body {
        kind: envelope.kind.clone(),
        id: envelope.id.clone(),
        reason: error.to_string(),
    })
}

impl CheckParty {
    /// The only kind the screening engine executes.
    pub const KINDS: &'static [&'static str] = &[CHECK_PARTY];

    /// The screening command an envelope carries.
    pub fn from_envelope(envelope: &Envelope) -> Result<Self, CommandError> {
        if envelope.kind != CHECK_PARTY {
            return Err(CommandError::UnknownKind {
                executor: "the screening engine",
                kind: envelope.kind.clone(),
                id: envelope.id.clone(),
                known: Self::KINDS,
            });
        }
        decode(envelope)
    }
}

/// What the saga asks of Odoo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OdooCommand {
    /// [`READ_SHIPMENT`].
    ReadShipment(ReadShipment),
    /// [`WRITE_PICKING`].
    WritePicking(WritePicking),
    /// [`POST_NOTE`].
    PostNote(PostNote),
    /// [`SCHEDULE_ACTIVITY`].
    ScheduleActivity(ScheduleActivity),
    /// [`CLOSE_ACTIVITY`].
    CloseActivity(CloseActivity),
}

impl OdooCommand {
    /// Every kind Odoo executes.
    pub const KINDS: &'static [&'static str] = &[
        READ_SHIPMENT,
        WRITE_PICKING,
        POST_NOTE,
        SCHEDULE_ACTIVITY,
        CLOSE_ACTIVITY,
    ];

    /// The Odoo command an envelope carries.
    pub fn from_envelope(envelope: &Envelope) -> Result<Self, CommandError> {
        Ok(match envelope.kind.as_str() {
            READ_SHIPMENT => Self::ReadShipment(decode(envelope)?),
            WRITE_PICKING => Self::WritePicking(decode(envelope)?),
            POST_NOTE => Self::PostNote(decode(envelope)?),
            SCHEDULE_ACTIVITY => Self::ScheduleActivity(decode(envelope)?),
            CLOSE_ACTIVITY => Self::CloseActivity(decode(envelope)?),
            _ => {
                return Err(CommandError::UnknownKind {
                    executor: "Odoo",
                    kind: envelope.kind.clone(),
                    id: envelope.id.clone(),
                    known: Self::KINDS,
                });
            }
        })
    }
}

/// What the saga asks of the customs broker its declaration is routed to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BrokerCommand {
    /// [`FILE_DECLARATION`].
    File(Box<FileDeclaration>),
    /// [`CANCEL_DECLARATION`].
    Cancel(CancelDeclaration),
    /// [`QUERY_STATUS`].
    Query(QueryStatus),
}

impl BrokerCommand {
    /// Every kind a broker executes.
    pub const KINDS: &'static [&'static str] =
        &[FILE_DECLARATION, CANCEL_DECLARATION, QUERY_STATUS];

    /// The broker command an envelope carries; one that names no LRN is refused.
    pub fn from_envelope(envelope: &Envelope) -> Result<Self, CommandError> {
        if !Self::KINDS.contains(&envelope.kind.as_str()) {
            return Err(CommandError::UnknownKind {
                executor: "a customs broker",
                kind: envelope.kind.clone(),
                id: envelope.id.clone(),
                known: Self::KINDS,
            });
        }
        let QueryStatus { lrn } = decode(envelope)?;
        if lrn.is_empty() {
            return Err(CommandError::NoLrn {
                kind: envelope.kind.clone(),
                id: envelope.id.clone(),
            });
        }
        let named = |error: CommandError| match error {
            CommandError::Body { kind, id, reason } => CommandError::DeclarationBody {
                kind,
                id,
                lrn: lrn.clone(),
                reason,
            },
            other => other,
        };
        Ok(match envelope.kind.as_str() {
            FILE_DECLARATION => Self::File(Box::new(decode(envelope).map_err(named)?)),
            CANCEL_DECLARATION => Self::Cancel(decode(envelope).map_err(named)?),
            _ => Self::Query(QueryStatus { lrn }),
        })
    }
}

#[cfg(test)]
mod tests;
