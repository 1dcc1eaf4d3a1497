//! Typed exceptions of the shipment saga: what went wrong, who owns fixing it, by when, and
//! whether it is still open.
//!
//! An exception lives in the saga state of its shipment. It is opened by a transition and
//! resolved by the event that fixes it (a corrected Odoo record, a customs release, a reviewer's
//! decision) or by a person through `exception.resolve`.

use serde::{Deserialize, Serialize};
use tradehub_actors::clock::Millis;

use super::shipment::Pending;

const MINUTE: Millis = 60_000;
const HOUR: Millis = 60 * MINUTE;

/// The closed set of exception types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ExceptionType {
    /// Master data failed validation; waits for the fixing change in Odoo.
    MissingData,
    /// A party potentially matches a restricted-party list entry; a reviewer decides.
    ScreeningReview,
    /// A party is a confirmed match; the shipment is blocked.
    BlockedParty,
    /// Customs or the broker rejected the declaration; amend and refile.
    RejectedDeclaration,
    /// Customs asked a question about the declaration.
    CustomsQuery,
    /// Customs asked for documents.
    DocsRequired,
    /// Customs selected the goods for a physical or documentary check.
    CustomsControl,
    /// Customs or another agency holds the goods.
    CustomsHold,
    /// The broker did not acknowledge a filing in time.
    AckTimeout,
    /// Customs did not release the goods within the clearance SLA.
    ClearanceSlaBreach,
    /// A partner call with side effects may or may not have happened.
    OutcomeUnknown,
    /// Assessed duty, the estimate and the broker's invoice disagree.
    DutyVariance,
    /// A partner refused a command for good.
    PartnerFailed,
}

impl ExceptionType {
    /// Every type, in declaration order.
    pub const ALL: [ExceptionType; 13] = [
        Self::MissingData,
        Self::ScreeningReview,
        Self::BlockedParty,
        Self::RejectedDeclaration,
        Self::CustomsQuery,
        Self::DocsRequired,
        Self::CustomsControl,
        Self::CustomsHold,
        Self::AckTimeout,
        Self::ClearanceSlaBreach,
        Self::OutcomeUnknown,
        Self::DutyVariance,
        Self::PartnerFailed,
    ];

    /// The stable text form, as written in the state, the API and Odoo.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MissingData => "MISSING_DATA",
            Self::ScreeningReview => "SCREENING_REVIEW",
            Self::BlockedParty => "BLOCKED_PARTY",
            Self::RejectedDeclaration => "REJECTED_DECLARATION",
            Self::CustomsQuery => "CUSTOMS_QUERY",
            Self::DocsRequired => "DOCS_REQUIRED",
            Self::CustomsControl => "CUSTOMS_CONTROL",
            Self::CustomsHold => "CUSTOMS_HOLD",
            Self::AckTimeout => "ACK_TIMEOUT",
            Self::ClearanceSlaBreach => "CLEARANCE_SLA_BREACH",
            Self::OutcomeUnknown => "OUTCOME_UNKNOWN",
            Self::DutyVariance => "DUTY_VARIANCE",
            Self::PartnerFailed => "PARTNER_FAILED",
        }
    }

    /// The role whose queue the exception lands in.
    pub fn owner(self) -> OwnerRole {
        match self {
            Self::ScreeningReview | Self::BlockedParty | Self::CustomsHold => {
                OwnerRole::ComplianceOfficer
            }
            Self::DutyVariance => OwnerRole::Finance,
            Self::MissingData
            | Self::RejectedDeclaration
            | Self::CustomsQuery
            | Self::DocsRequired
            | Self::CustomsControl
            | Self::AckTimeout
            | Self::ClearanceSlaBreach
            | Self::OutcomeUnknown
            | Self::PartnerFailed => OwnerRole::Operator,
        }
    }

    /// How long the owner has, unless [`super::shipment::SagaSettings`] overrides it.
    ///
    /// Customs-facing exceptions are short because a waiting declaration holds goods at the
    /// border; finance work can wait for the month's close.
    pub fn default_sla_ms(self) -> Millis {
        match self {
            Self::AckTimeout | Self::OutcomeUnknown => HOUR,
            Self::PartnerFailed => 2 * HOUR,
            Self::ScreeningReview
            | Self::RejectedDeclaration
            | Self::CustomsQuery
            | Self::ClearanceSlaBreach => 4 * HOUR,
            Self::DocsRequired => 8 * HOUR,
            Self::MissingData | Self::BlockedParty | Self::CustomsControl | Self::CustomsHold => {
                24 * HOUR
            }
            Self::DutyVariance => 5 * 24 * HOUR,
        }
    }
}

/// Who works an exception (the token roles of the API, plus finance).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OwnerRole {
    /// Screening reviews, blocked parties, customs holds.
    ComplianceOfficer,
    /// Data fixes, customs correspondence, partner trouble.
    Operator,
    /// Duty reconciliation.
    Finance,
}

/// Whether an exception still needs work.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ExceptionState {
    /// Waiting for its fixing event or its owner.
    Open,
    /// Done.
    Resolved {
        /// When it was resolved.
        at_ms: Millis,
        /// Who or what resolved it: a person, or `system` for a fixing event.
        by: String,
        /// How: the fixing event or the person's note.
        how: String,
    },
}

/// One exception of one shipment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exception {
    /// Unique within the shipment, e.g. `missing_data-1`.
    pub id: String,
    /// What went wrong.
    #[serde(rename = "type")]
    pub kind: ExceptionType,
    /// Who works it.
    pub owner: OwnerRole,
    /// What exactly, for the person who works it.
    pub detail: String,
    /// Structured detail (validation issues, screening hits, customs reasons).
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub data: serde_json::Value,
    /// The partner command it is about, for exceptions a retry can resolve.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub about: Option<Pending>,
    /// When it was opened.
    pub opened_ms: Millis,
    /// When its SLA ends.
    pub sla_due_ms: Millis,
    /// Whether the SLA ended while it was open.
    #[serde(default)]
    pub breached: bool,
    /// Open or resolved.
    pub state: ExceptionState,
}

impl Exception {
    /// Whether it still needs work.
    pub fn is_open(&self) -> bool {
        self.state == ExceptionState::Open
    }
}
