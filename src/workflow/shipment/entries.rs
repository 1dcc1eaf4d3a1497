//! What the saga writes to a shipment's timeline (history) and to the audit trail, as types.
//!
//! Each transition starts both with one entry about the input and adds one entry per thing that
//! happened. The host stores them as JSON; these types serialise to the shape the timeline and
//! audit readers have always read.

use serde::Serialize;
use serde_json::Value;
use tradehub_actors::clock::Millis;

use super::Stage;
use super::inputs::Actor;

/// What became of an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// It was applied (even when the stage stayed).
    Applied,
    /// It had no effect; the entry says why.
    Ignored,
}

/// One timeline entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum HistoryEntry<'a> {
    /// The input a transition applied and what it did to the stage.
    Input {
        /// When it was applied.
        at_ms: Millis,
        /// The input's id.
        input: &'a str,
        /// The input's kind.
        kind: &'a str,
        /// Its delivery attempt.
        attempt: u32,
        /// Applied or ignored.
        outcome: Outcome,
        /// Why it was ignored.
        reason: Option<String>,
        /// The authenticated principal behind a person's input.
        #[serde(skip_serializing_if = "Option::is_none")]
        principal: Option<&'a Actor>,
        /// The stage before.
        from: Stage,
        /// The stage after.
        to: Stage,
    },
    /// Something that happened while applying the input.
    Event {
        /// When.
        at_ms: Millis,
        /// The input's id.
        input: &'a str,
        /// What happened, e.g. `stage`, `validated`, `milestone`.
        event: &'static str,
        /// The event's own fields.
        detail: Value,
    },
}

/// One audit entry: who or what caused which change.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum AuditEntry<'a> {
    /// The input a transition applied.
    Input {
        /// When it was applied.
        at_ms: Millis,
        /// Who caused it: a person, `partner:<name>`, `odoo` or `system`.
        actor: String,
        /// The authenticated principal behind a person's input: id, label, source address.
        #[serde(skip_serializing_if = "Option::is_none")]
        principal: Option<&'a Actor>,
        /// The input's kind.
        action: &'a str,
        /// The shipment.
        key: &'a str,
        /// The input's id.
        input: &'a str,
        /// Applied or ignored.
        outcome: Outcome,
        /// The stage before.
        from: Stage,
        /// The stage after.
        to: Stage,
    },
    /// A change the input caused.
    Action {
        /// When.
        at_ms: Millis,
        /// Who caused it.
        actor: String,
        /// What changed, e.g. `stage`, `exception_opened`, `routed`.
        action: &'static str,
        /// The shipment.
        key: &'a str,
        /// The input's id.
        input: &'a str,
        /// The change's own fields.
        detail: Value,
    },
}

#[cfg(test)]
mod tests;
