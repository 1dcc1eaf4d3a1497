//! The shipment saga: one pure state machine per shipment, from the Odoo picking's
//! confirmation to CLOSED, CANCELLED or BLOCKED.
//!
//! ```text
//! RECEIVED → ENRICHING → VALIDATING → SCREENING → RATING → FILING → AWAITING_RELEASE → RELEASED
//!   → IN_TRANSIT → DELIVERED → SETTLING → RECONCILED → CLOSED
//! side roads: ON_HOLD (potential match), BLOCKED (confirmed match), REJECTED (amend and refile),
//!   OUTCOME_UNKNOWN (a filing whose fate is unknown), CANCELLING → CANCELLED
//! ```
//!
//! [`ShipmentSaga::apply`] decodes the input ([`inputs::decode`]), moves the state, and returns the
//! partner commands ([`commands`]), timers, history and audit entries ([`entries`]) the host
//! commits atomically. It reads no clock, randomness or files: its dependencies (routing policy,
//! reference data, validation rules, tariff book, SLA settings) are loaded once and shared in
//! `Arc`s. Every command id derives from the input id, so re-applying an input re-issues the same
//! ids and the partners dedupe them.
//!
//! Partners: [`ODOO`] (reads and write-backs), [`SCREENING`] (one check per party) and the broker
//! that [`RoutingPolicy`] picks for each declaration. [`four_eyes`] says who may override a
//! block, for the saga and the API alike.

pub mod commands;
pub mod entries;
mod flow;
pub mod four_eyes;
pub mod inputs;
mod step;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tradehub_actors::clock::Millis;
use tradehub_actors::envelope::Envelope;
use tradehub_actors::saga::{Saga, Transition};

use crate::model::{Currency, DeclarationStatus, Shipment};
use crate::retention::ArchiveMark;
use crate::tariff::duty::TariffBook;
use crate::tariff::{ReferenceData, Rules};

use super::exceptions::{Exception, ExceptionType};
use super::routing::RoutingPolicy;
use four_eyes::{FourEyes, OverrideRequest};
use inputs::{Actor, AssessedDuty, BrokerInvoice, Milestone, ScreeningOutcome};

pub use commands::{
    CANCEL_DECLARATION, CHECK_PARTY, CLOSE_ACTIVITY, FILE_DECLARATION, POST_NOTE, QUERY_STATUS,
    READ_SHIPMENT, SCHEDULE_ACTIVITY, WRITE_PICKING,
};

/// Partner name of the Odoo connection.
pub const ODOO: &str = "odoo";
/// Partner name of the screening engine.
pub const SCREENING: &str = "screening";

/// Whether a command kind is one of the Odoo write-backs the saga sends without waiting.
pub fn is_odoo_writeback(kind: &str) -> bool {
    matches!(
        kind,
        WRITE_PICKING | POST_NOTE | SCHEDULE_ACTIVITY | CLOSE_ACTIVITY
    )
}

/// Where a shipment is. Written to Odoo's `x_trade_status` in this form.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Stage {
    /// Nothing applied yet.
    #[default]
    Received,
    /// Reading the picking from Odoo.
    Enriching,
    /// Master data failed validation; waiting for the fix.
    Validating,
    /// Waiting for screening results.
    Screening,
    /// A potential match waits for a compliance officer.
    OnHold,
    /// A confirmed match (terminal unless overridden).
    Blocked,
    /// Estimating duty (transient).
    Rating,
    /// Declaration sent; waiting for acknowledgement and acceptance.
    Filing,
    /// A filing's outcome is unknown; the broker is asked, and a person.
    OutcomeUnknown,
    /// Customs rejected the declaration; waiting for the amendment.
    Rejected,
    /// Accepted (MRN); waiting for release.
    AwaitingRelease,
    /// Customs released the goods.
    Released,
    /// The carrier reports progress.
    InTransit,
    /// Delivered (transient: settling starts at once).
    Delivered,
    /// Waiting for assessed duty and the broker's invoice.
    Settling,
    /// Settlement agreed (transient).
    Reconciled,
    /// Done.
    Closed,
    /// Withdrawing the declaration after an Odoo cancellation.
    Cancelling,
    /// Cancelled.
    Cancelled,
}

impl Stage {
    /// Whether a submitted shipment (`POST /v1/shipments`) may still replace the shipment's
    /// data: during intake (nothing applied yet, or master data waiting for a fix) and after a
    /// rejection (the amendment). From screening on, new data would escape the checks already
    /// made on the old (a party swapped after it was screened).
    pub fn accepts_submission(self) -> bool {
        matches!(self, Self::Received | Self::Validating | Self::Rejected)
    }

    /// The text form, as in Odoo and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Received => "RECEIVED",
            Self::Enriching => "ENRICHING",
            Self::Validating => "VALIDATING",
            Self::Screening => "SCREENING",
            Self::OnHold => "ON_HOLD",
            Self::Blocked => "BLOCKED",
            Self::Rating => "RATING",
            Self::Filing => "FILING",
            Self::OutcomeUnknown => "OUTCOME_UNKNOWN",
            Self::Rejected => "REJECTED",
            Self::AwaitingRelease => "AWAITING_RELEASE",
            Self::Released => "RELEASED",
            Self::InTransit => "IN_TRANSIT",
            Self::Delivered => "DELIVERED",
            Self::Settling => "SETTLING",
            Self::Reconciled => "RECONCILED",
            Self::Closed => "CLOSED",
            Self::Cancelling => "CANCELLING",
            Self::Cancelled => "CANCELLED",
        }
    }

    /// Whether no input moves the shipment any more (BLOCKED moves only by a recorded override,
    /// see [`four_eyes`]).
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Closed | Self::Cancelled | Self::Blocked)
    }

    /// Whether customs released the goods (Odoo's hold flag is cleared from here on).
    pub fn is_released(self) -> bool {
        matches!(
            self,
            Self::Released
                | Self::InTransit
                | Self::Delivered
                | Self::Settling
                | Self::Reconciled
                | Self::Closed
        )
    }
}

/// A partner command the saga waits for, keyed by command id in [`ShipmentState::pending`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Pending {
    /// [`READ_SHIPMENT`].
    Read,
    /// [`CHECK_PARTY`] for one party.
    Screen {
        /// The party.
        party_id: String,
    },
    /// [`FILE_DECLARATION`].
    File {
        /// The declaration.
        lrn: String,
    },
    /// [`CANCEL_DECLARATION`].
    Cancel {
        /// The declaration.
        lrn: String,
    },
    /// [`QUERY_STATUS`].
    Query {
        /// The declaration.
        lrn: String,
    },
    /// [`WRITE_PICKING`]; never waited for, only named by a PARTNER_FAILED exception.
    WriteBack,
}

/// Screening of one party.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartyCheck {
    /// The party's name, for reviewers.
    pub name: String,
    /// The engine's verdict, once it answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<ScreeningOutcome>,
    /// The list entries behind a match.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hits: Vec<serde_json::Value>,
    /// The list version screened against.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list_version: Option<String>,
    /// The reviewer who cleared a potential match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cleared_by: Option<String>,
}

/// The duty estimate made in RATING.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Estimate {
    /// The tariff engine rated the shipment (the full working is in the history).
    Computed {
        /// Tariff jurisdiction, e.g. "GB".
        jurisdiction: String,
        /// Currency of every amount.
        currency: Currency,
        /// Customs value.
        customs_value: Decimal,
        /// Duty.
        total_duty: Decimal,
        /// Import taxes.
        total_taxes: Decimal,
        /// Fees.
        total_fees: Decimal,
        /// Landed cost.
        landed_cost: Decimal,
    },
    /// No estimate was made, and why; no number is invented.
    NotMade {
        /// Why.
        reason: String,
    },
}

/// The current declaration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Filing {
    /// Its LRN (one per version).
    pub lrn: String,
    /// 1 for the first filing, +1 per amendment after a rejection.
    pub version: u32,
    /// The broker it was routed to.
    pub partner: String,
    /// The route that matched (`None`: the default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route: Option<String>,
    /// The routing table's version.
    pub routing_version: String,
    /// Whether the broker acknowledged it.
    pub acked: bool,
    /// MRN, once accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mrn: Option<String>,
    /// The latest canonical status applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<DeclarationStatus>,
}

/// One carrier milestone as seen; the identity that makes milestones idempotent.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct MilestoneSeen {
    /// Canonical code.
    pub code: Milestone,
    /// When, as reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    /// Where, as reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
}

/// A recorded override of a BLOCKED shipment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverrideRecord {
    /// The officer who overrode the block, or asked for its override (`reviewer` in records
    /// made before four-eyes).
    #[serde(alias = "reviewer")]
    pub requested_by: String,
    /// The second officer who approved the request; `None` when four-eyes was off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_by: Option<String>,
    /// Why.
    pub reason: String,
    /// Why the second officer approved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval_reason: Option<String>,
    /// When the block was lifted.
    pub at_ms: Millis,
}

/// Durable state of one shipment saga.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShipmentState {
    /// Where the shipment is.
    pub stage: Stage,
    /// The Odoo picking; absent for shipments submitted through the API.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub picking_id: Option<u64>,
    /// The canonical shipment, once read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipment: Option<Shipment>,
    /// Partner commands waiting for their result, by command id.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub pending: BTreeMap<String, Pending>,
    /// Screening per party id.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub screening: BTreeMap<String, PartyCheck>,
    /// The duty estimate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimate: Option<Estimate>,
    /// The current declaration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub declaration: Option<Filing>,
    /// Carrier milestones seen.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub milestones: BTreeSet<MilestoneSeen>,
    /// Duty assessed by customs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assessed: Option<AssessedDuty>,
    /// The broker's invoice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice: Option<BrokerInvoice>,
    /// Exceptions, open and resolved, in the order they were opened.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exceptions: Vec<Exception>,
    /// The compliance officer who confirmed the match behind the latest block; `None` when the
    /// screening engine itself was sure, or nothing was blocked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirmed_by: Option<Actor>,
    /// An override of the block waiting for a second compliance officer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub override_request: Option<OverrideRequest>,
    /// A recorded override of a block.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub override_record: Option<OverrideRecord>,
    /// Token of the armed ack-timeout timer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ack_token: Option<u64>,
    /// Token of the armed clearance-SLA timer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clearance_token: Option<u64>,
    /// Inputs applied (ignored ones included); also the source of timer tokens.
    pub seq: u64,
    /// Inputs ignored (unknown, malformed, stale, duplicate).
    pub ignored: u64,
    /// Where the full record went once retention archived the finished shipment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archived: Option<ArchiveMark>,
}

impl ShipmentState {
    /// What a finished (closed or cancelled) shipment keeps once retention archived it: the
    /// stage, picking, declaration, exceptions and screening decisions, and where the rest went;
    /// `None` for a shipment not finished (a blocked one still waits for an override).
    pub fn archived(&self, mark: &ArchiveMark) -> Option<Self> {
        matches!(self.stage, Stage::Closed | Stage::Cancelled).then(|| Self {
            stage: self.stage,
            picking_id: self.picking_id,
            declaration: self.declaration.clone(),
            exceptions: self.exceptions.clone(),
            confirmed_by: self.confirmed_by.clone(),
            override_record: self.override_record.clone(),
            seq: self.seq,
            ignored: self.ignored,
            archived: Some(mark.clone()),
            ..Self::default()
        })
    }

    /// The exceptions still open.
    pub fn open_exceptions(&self) -> impl Iterator<Item = &Exception> {
        self.exceptions.iter().filter(|e| e.is_open())
    }

    /// Whether an exception of `kind` is open.
    pub fn has_open(&self, kind: ExceptionType) -> bool {
        self.open_exceptions().any(|e| e.kind == kind)
    }

    /// The furthest progress milestone seen.
    pub fn furthest_milestone(&self) -> Option<Milestone> {
        self.milestones
            .iter()
            .filter(|m| m.code.progress().is_some())
            .map(|m| m.code)
            .max_by_key(|m| m.progress())
    }
}

/// Timers and tolerances of the saga.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SagaSettings {
    /// How long a broker has to acknowledge a filing.
    pub ack_timeout_ms: Millis,
    /// How long customs has to release an accepted declaration.
    pub clearance_sla_ms: Millis,
    /// Duty differences up to this amount are not a variance.
    pub variance_abs: Decimal,
    /// Duty differences up to this percent of the assessed duty are not a variance.
    pub variance_pct: Decimal,
    /// SLA per exception type, overriding [`ExceptionType::default_sla_ms`].
    pub exception_sla_ms: BTreeMap<ExceptionType, Millis>,
    /// Which decisions need a second compliance officer.
    pub four_eyes: FourEyes,
}

impl Default for SagaSettings {
    fn default() -> Self {
        Self {
            ack_timeout_ms: 15 * 60_000,
            clearance_sla_ms: 4 * 3_600_000,
            variance_abs: Decimal::ONE,
            variance_pct: Decimal::TWO,
            exception_sla_ms: BTreeMap::new(),
            four_eyes: FourEyes::default(),
        }
    }
}

impl SagaSettings {
    /// The SLA of an exception type.
    pub fn sla_ms(&self, kind: ExceptionType) -> Millis {
        self.exception_sla_ms
            .get(&kind)
            .copied()
            .unwrap_or_else(|| kind.default_sla_ms())
    }
}

/// Reference data for validation: the bundled set, or one loaded from a folder.
#[derive(Clone)]
pub enum Reference {
    /// [`ReferenceData::bundled`].
    Bundled,
    /// Loaded with [`ReferenceData::load`].
    Loaded(Arc<ReferenceData>),
}

impl Reference {
    fn get(&self) -> &ReferenceData {
        match self {
            Self::Bundled => ReferenceData::bundled(),
            Self::Loaded(data) => data,
        }
    }
}

impl std::fmt::Debug for Reference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Bundled => "Reference::Bundled",
            Self::Loaded(_) => "Reference::Loaded",
        })
    }
}

/// What the saga needs besides its state, loaded once at start.
#[derive(Debug, Clone)]
pub struct ShipmentDeps {
    /// Which broker files which declaration.
    pub routing: Arc<RoutingPolicy>,
    /// Code lists for validation.
    pub reference: Reference,
    /// Validation rules (`config/validation.toml`).
    pub rules: Arc<Rules>,
    /// Tariff tables for the duty estimate; `None`: no estimate is made.
    pub tariff: Option<Arc<TariffBook>>,
    /// Timers and tolerances.
    pub settings: Arc<SagaSettings>,
}

/// The shipment saga.
#[derive(Debug, Clone)]
pub struct ShipmentSaga {
    deps: ShipmentDeps,
}

impl ShipmentSaga {
    /// A saga over loaded dependencies.
    pub fn new(deps: ShipmentDeps) -> Self {
        Self { deps }
    }

    /// The dependencies.
    pub fn deps(&self) -> &ShipmentDeps {
        &self.deps
    }
}

/// The LRN of version `version` of a shipment's declaration: "TH", 16 hex digits of the
/// shipment key's SHA-256 and the version in 3 digits, 21 characters in all.
///
/// Shipment keys may be 64 characters with '/', which an LRN (22 characters, no '/') cannot
/// hold, so the key is hashed; the same key and version always give the same LRN, which is
/// what makes filing idempotent at the broker across restarts and replays.
pub fn lrn_for(key: &str, version: u32) -> String {
    let digest = Sha256::digest(key.as_bytes());
    format!("TH{}{:03}", hex::encode_upper(&digest[..8]), version % 1000)
}

impl Saga for ShipmentSaga {
    type State = ShipmentState;

    fn apply(
        &self,
        state: &ShipmentState,
        input: &Envelope,
        now: Millis,
    ) -> Transition<ShipmentState> {
        step::Step::run(self, state, input, now)
    }

    fn is_terminal(&self, state: &ShipmentState) -> bool {
        state.stage.is_terminal()
    }
}

#[cfg(test)]
mod tests;
