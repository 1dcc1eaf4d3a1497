//! The inputs the shipment saga understands: their kinds and body shapes, and the typed decode
//! step every envelope goes through before the saga looks at it.
//!
//! Bodies are decoded leniently about extra fields (producers add fields over time) and strictly
//! about the fields the saga uses. A body that does not decode is never a panic: the saga records
//! the input as ignored with the decode error as the reason.

use serde::Deserialize;
use tradehub_actors::envelope::Envelope;
use tradehub_actors::partner;

use crate::model::{DeclarationStatus, Money, Shipment};

/// Odoo hint: a picking was confirmed. Body [`PickingHint`]. Starts the saga.
pub const PICKING_CONFIRMED: &str = "odoo.picking.confirmed";
/// Odoo hint: a picking (or a record behind it: product, partner) changed. Body [`PickingHint`].
pub const PICKING_CHANGED: &str = "odoo.picking.changed";
/// Odoo hint: a picking was cancelled. Body [`PickingCancelled`].
pub const PICKING_CANCELLED: &str = "odoo.picking.cancelled";
/// A canonical shipment submitted directly (`POST /v1/shipments`). Body [`ShipmentSubmitted`].
pub const SHIPMENT_SUBMITTED: &str = "shipment.submitted";
/// A compliance officer's decision on a potential match. Body [`ReviewDecision`].
pub const SCREENING_DECISION: &str = "screening.decision";
/// A compliance officer overrides a block, or asks for its override when a second officer
/// must approve it (see [`super::four_eyes`]). Body [`Override`].
pub const SCREENING_OVERRIDE: &str = "screening.override";
/// A second compliance officer approves the pending override request. Body [`Override`].
pub const OVERRIDE_APPROVE: &str = "screening.override.approve";
/// A compliance officer rejects the pending override request. Body [`Override`].
pub const OVERRIDE_REJECT: &str = "screening.override.reject";
/// A declaration status, already normalised to the canonical set. Body [`StatusReport`].
pub const CUSTOMS_STATUS: &str = "customs.status";
/// A carrier milestone in canonical codes. Body [`MilestoneReport`].
pub const CARRIER_MILESTONE: &str = "carrier.milestone";
/// A saga timer fired. Body [`TimerFired`].
pub const TIMER_FIRED: &str = "shipment.timer";
/// Duty assessed by customs. Body [`AssessedDuty`].
pub const ASSESSED_DUTY: &str = "finance.assessed_duty";
/// The broker's invoice for the shipment. Body [`BrokerInvoice`].
pub const BROKER_INVOICE: &str = "finance.broker_invoice";
/// A person resolves an exception. Body [`Resolution`].
pub const EXCEPTION_RESOLVE: &str = "exception.resolve";

/// Every input kind the saga knows, partner results included.
pub const KINDS: [&str; 17] = [
    PICKING_CONFIRMED,
    PICKING_CHANGED,
    PICKING_CANCELLED,
    SHIPMENT_SUBMITTED,
    partner::SUCCEEDED,
    partner::FAILED,
    partner::OUTCOME_UNKNOWN,
    SCREENING_DECISION,
    SCREENING_OVERRIDE,
    OVERRIDE_APPROVE,
    OVERRIDE_REJECT,
    CUSTOMS_STATUS,
    CARRIER_MILESTONE,
    TIMER_FIRED,
    ASSESSED_DUTY,
    BROKER_INVOICE,
    EXCEPTION_RESOLVE,
];

/// Body of the Odoo picking hints.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PickingHint {
    /// `stock.picking` id.
    pub picking_id: u64,
}

/// Body of [`PICKING_CANCELLED`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PickingCancelled {
    /// `stock.picking` id.
    pub picking_id: u64,
    /// Why, when Odoo says.
    #[serde(default)]
    pub reason: Option<String>,
}

/// The authenticated caller behind a person's input: the API fills it from the token that
/// authenticated the request, never from what the request body says.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, Deserialize)]
pub struct Actor {
    /// The principal, e.g. `token:<id>`.
    pub id: String,
    /// The principal's label, e.g. the person or system holding the token.
    pub label: String,
    /// The address the request came from.
    pub source: String,
}

impl std::fmt::Display for Actor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.label, self.id)
    }
}

/// Body of [`SHIPMENT_SUBMITTED`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ShipmentSubmitted {
    /// The canonical shipment; its id must equal the envelope key.
    pub shipment: Shipment,
    /// Who submitted it.
    pub actor: Actor,
}

/// How a partner call ended, from the input kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallOutcome {
    /// `partner.succeeded`.
    Succeeded,
    /// `partner.failed`.
    Failed,
    /// `partner.outcome_unknown`.
    Unknown,
}

/// Body of the partner result inputs, as the partner connection writes it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct PartnerResult {
    /// The partner connection.
    pub partner: String,
    /// The command this answers.
    pub command_id: String,
    /// The command's kind.
    pub command_kind: String,
    /// The partner's answer, on success.
    #[serde(default)]
    pub result: serde_json::Value,
    /// Why it failed or is unknown.
    #[serde(default)]
    pub reason: Option<String>,
}

/// A screening engine's verdict on one party.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScreeningOutcome {
    /// No list entry is close enough.
    Clear,
    /// Close enough that a person must look.
    PotentialMatch,
    /// The engine is sure.
    ConfirmedMatch,
}

/// Result body of a `screening.check_party` command.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ScreeningAnswer {
    /// The verdict.
    pub outcome: ScreeningOutcome,
    /// The list entries behind it, as the engine reports them.
    #[serde(default)]
    pub hits: Vec<serde_json::Value>,
    /// The list version screened against.
    #[serde(default)]
    pub list_version: Option<String>,
}

/// Result body of an `odoo.read_shipment` command.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ReadAnswer {
    /// The picking as a canonical shipment.
    pub shipment: Shipment,
}

/// Result body of a `customs.file` command (the broker's acknowledgement) or of a
/// `customs.query_status` command.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct BrokerAnswer {
    /// The declaration's LRN.
    #[serde(default)]
    pub lrn: Option<String>,
    /// Its canonical status, when the broker knows one; `null` from a query means the broker
    /// has no declaration under that LRN.
    #[serde(default)]
    pub status: Option<DeclarationStatus>,
    /// MRN, once customs gave one.
    #[serde(default)]
    pub mrn: Option<String>,
    /// Rejection or query reasons.
    #[serde(default)]
    pub reasons: Vec<String>,
}

/// What a compliance officer decided about a potential match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Not the listed party: continue.
    Clear,
    /// The listed party: block.
    Confirm,
}

/// Body of [`SCREENING_DECISION`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ReviewDecision {
    /// The party decided on; absent: every party awaiting review.
    #[serde(default)]
    pub party_id: Option<String>,
    /// Clear or confirm.
    pub decision: Decision,
    /// Who decided (recorded in the audit trail).
    pub actor: Actor,
    /// Why.
    pub reason: String,
}

/// Body of [`SCREENING_OVERRIDE`], [`OVERRIDE_APPROVE`] and [`OVERRIDE_REJECT`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Override {
    /// Who overrides, approves or rejects (recorded in the audit trail).
    pub actor: Actor,
    /// Why, e.g. a licence reference.
    pub reason: String,
}

/// Body of [`CUSTOMS_STATUS`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct StatusReport {
    /// The declaration the status is for.
    pub lrn: String,
    /// The canonical status.
    pub status: DeclarationStatus,
    /// MRN or entry number, with ACCEPTED (or later).
    #[serde(default)]
    pub mrn: Option<String>,
    /// Reasons (rejection errors, query text).
    #[serde(default)]
    pub reasons: Vec<String>,
    /// The regime's own code, e.g. "DMSROG".
    #[serde(default)]
    pub source_code: Option<String>,
    /// The broker whose signed callback reported it and the address it came from; `None` for
    /// what a file drop or the broker's answer to a call reported.
    #[serde(default)]
    pub caller: Option<Actor>,
}

/// Canonical carrier milestones (carriers' event codes map onto these).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, Deserialize,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Milestone {
    /// Collected from the shipper (X12 AF, DCSA PICK/GTOT).
    PickedUp,
    /// Main carriage departed (DCSA DEPA, X12 315 VD).
    Departed,
    /// Arrived at the destination port or hub (DCSA ARRI, X12 315 VA).
    Arrived,
    /// On the last leg (X12 214 X1 arrived at delivery).
    OutForDelivery,
    /// Delivered to the consignee (X12 D1, X12 315 D).
    Delivered,
    /// Delayed (X12 SD); informational.
    Delayed,
    /// Damaged or otherwise troubled (X12 A9); informational.
    Damaged,
}

impl Milestone {
    /// Position along the journey; informational milestones have none.
    pub fn progress(self) -> Option<u8> {
        match self {
            Self::PickedUp => Some(1),
            Self::Departed => Some(2),
            Self::Arrived => Some(3),
            Self::OutForDelivery => Some(4),
            Self::Delivered => Some(5),
            Self::Delayed | Self::Damaged => None,
        }
    }
}

/// Body of [`CARRIER_MILESTONE`]. Idempotent by (code, at, location).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct MilestoneReport {
    /// The canonical code.
    pub code: Milestone,
    /// When it happened, as the carrier reports it (RFC 3339).
    #[serde(default)]
    pub at: Option<String>,
    /// Where (UN/LOCODE or name).
    #[serde(default)]
    pub location: Option<String>,
    /// The carrier's name.
    #[serde(default)]
    pub carrier: Option<String>,
    /// The carrier whose signed callback reported it and the address it came from.
    #[serde(default)]
    pub caller: Option<Actor>,
}

/// Body of [`TIMER_FIRED`]: the timer the saga scheduled.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, Deserialize)]
#[serde(tag = "timer", rename_all = "snake_case")]
pub enum TimerFired {
    /// The broker had this long to acknowledge a filing.
    AckTimeout {
        /// Matches the armed timer; a stale token means the timer was disarmed.
        token: u64,
    },
    /// Customs had this long to release.
    ClearanceSla {
        /// Matches the armed timer.
        token: u64,
    },
    /// An exception's SLA ended.
    ExceptionSla {
        /// The exception.
        exception_id: String,
    },
}

/// Body of [`ASSESSED_DUTY`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, Deserialize)]
pub struct AssessedDuty {
    /// Duty customs assessed.
    pub duty: Money,
    /// The customs document it came from (e.g. DMSTAX, ACE statement number).
    #[serde(default)]
    pub reference: Option<String>,
}

/// Body of [`BROKER_INVOICE`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, Deserialize)]
pub struct BrokerInvoice {
    /// The broker's invoice number.
    pub invoice: String,
    /// Duty the broker paid on the importer's behalf and recharges.
    pub duty: Money,
    /// The broker's own fees.
    #[serde(default)]
    pub fees: Option<Money>,
    /// The reconciliation batch's verdict, when the invoice came through the finance inbox.
    /// With a verdict the saga settles on it instead of its own check of the totals.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reconciliation: Option<BatchVerdict>,
}

/// What the reconciliation batch decided for a declaration (`crate::finance`): the three-way
/// comparison of estimate, assessment and invoice, and what it posted to Odoo.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, Deserialize)]
pub struct BatchVerdict {
    /// Everything agrees within tolerance.
    pub reconciled: bool,
    /// Every variance found, one sentence each; empty when reconciled.
    #[serde(default)]
    pub reasons: Vec<String>,
    /// The draft vendor bill (`account.move` id) posted for a reconciled declaration.
    #[serde(default)]
    pub vendor_bill: Option<u64>,
    /// The `stock.landed.cost` id posted with it, when there was landed cost to post.
    #[serde(default)]
    pub landed_cost: Option<u64>,
}

/// What a person does with an exception.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResolveAction {
    /// The fix is done outside: mark it resolved (re-check where the saga can).
    Resolve,
    /// Send the failed or unknown command again.
    Retry,
    /// File the declaration again (new LRN version after a rejection, same LRN after an unknown
    /// outcome that the broker does not know).
    Refile,
    /// The partner did act (the unknown filing landed), or the variance is accepted.
    Accept,
    /// Give up on a failed cancellation and cancel the shipment anyway.
    ForceCancel,
}

/// Body of [`EXCEPTION_RESOLVE`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Resolution {
    /// The exception.
    pub exception_id: String,
    /// Who resolves it.
    pub actor: Actor,
    /// What to do; `resolve` when absent.
    #[serde(default = "default_action")]
    pub action: ResolveAction,
    /// Why or how.
    #[serde(default)]
    pub note: Option<String>,
}

fn default_action() -> ResolveAction {
    ResolveAction::Resolve
}

/// A decoded input.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// [`PICKING_CONFIRMED`].
    PickingConfirmed(PickingHint),
    /// [`PICKING_CHANGED`].
    PickingChanged(PickingHint),
    /// [`PICKING_CANCELLED`].
    PickingCancelled(PickingCancelled),
    /// [`SHIPMENT_SUBMITTED`].
    Submitted(Box<ShipmentSubmitted>),
    /// A partner result.
    Partner(CallOutcome, PartnerResult),
    /// [`SCREENING_DECISION`].
    Review(ReviewDecision),
    /// [`SCREENING_OVERRIDE`].
    Override(Override),
    /// [`OVERRIDE_APPROVE`].
    OverrideApproved(Override),
    /// [`OVERRIDE_REJECT`].
    OverrideRejected(Override),
    /// [`CUSTOMS_STATUS`].
    Status(StatusReport),
    /// [`CARRIER_MILESTONE`].
    Milestone(MilestoneReport),
    /// [`TIMER_FIRED`].
    Timer(TimerFired),
    /// [`ASSESSED_DUTY`].
    Assessed(AssessedDuty),
    /// [`BROKER_INVOICE`].
    Invoice(BrokerInvoice),
    /// [`EXCEPTION_RESOLVE`].
    Resolve(Resolution),
}

/// Why an envelope is not a usable input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// No such kind.
    #[error("unknown input kind {0:?}")]
    UnknownKind(String),
    /// A newer body layout than this saga reads.
    #[error("{kind}: schema version {version} is not supported (only 1)")]
    SchemaVersion {
        /// The kind.
        kind: String,
        /// Its version.
        version: u16,
    },
    /// The body does not have the kind's shape.
    #[error("{kind}: malformed body: {reason}")]
    Malformed {
        /// The kind.
        kind: String,
        /// The decoder's message, naming the field.
        reason: String,
    },
}

fn body<'a, T: Deserialize<'a>>(env: &'a Envelope) -> Result<T, DecodeError> {
    T::deserialize(&env.body).map_err(|e| DecodeError::Malformed {
        kind: env.kind.clone(),
        reason: e.to_string(),
    })
}

/// Decodes an envelope into a typed input.
pub fn decode(env: &Envelope) -> Result<Input, DecodeError> {
    if !KINDS.contains(&env.kind.as_str()) {
        return Err(DecodeError::UnknownKind(env.kind.clone()));
    }
    if env.schema_version != 1 {
        return Err(DecodeError::SchemaVersion {
            kind: env.kind.clone(),
            version: env.schema_version,
        });
    }
    Ok(match env.kind.as_str() {
        PICKING_CONFIRMED => Input::PickingConfirmed(body(env)?),
        PICKING_CHANGED => Input::PickingChanged(body(env)?),
        PICKING_CANCELLED => Input::PickingCancelled(body(env)?),
        SHIPMENT_SUBMITTED => Input::Submitted(Box::new(body(env)?)),
        partner::SUCCEEDED => Input::Partner(CallOutcome::Succeeded, body(env)?),
        partner::FAILED => Input::Partner(CallOutcome::Failed, body(env)?),
        partner::OUTCOME_UNKNOWN => Input::Partner(CallOutcome::Unknown, body(env)?),
        SCREENING_DECISION => Input::Review(body(env)?),
        SCREENING_OVERRIDE => Input::Override(body(env)?),
        OVERRIDE_APPROVE => Input::OverrideApproved(body(env)?),
        OVERRIDE_REJECT => Input::OverrideRejected(body(env)?),
        CUSTOMS_STATUS => Input::Status(body(env)?),
        CARRIER_MILESTONE => Input::Milestone(body(env)?),
        TIMER_FIRED => Input::Timer(body(env)?),
        ASSESSED_DUTY => Input::Assessed(body(env)?),
        BROKER_INVOICE => Input::Invoice(body(env)?),
        EXCEPTION_RESOLVE => Input::Resolve(body(env)?),
        other => return Err(DecodeError::UnknownKind(other.to_owned())),
    })
}
