//! The message envelope every input, command and timer travels in.

use serde::{Deserialize, Serialize};

/// Current envelope schema version. Bumped when the envelope layout changes;
/// readers keep accepting every older version.
pub const ENVELOPE_SCHEMA_VERSION: u16 = 1;

/// One message on a durable stream: an input for a saga, a command for a partner,
/// or a timer that fired.
///
/// `id` is unique per logical message and doubles as the idempotency key that a
/// partner dedupes on; a retried delivery keeps its `id` and increments `attempt`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    /// Unique message id; also the idempotency key for side effects.
    pub id: String,
    /// The saga key (e.g. a shipment id) this message belongs to.
    pub key: String,
    /// What the message is, e.g. `odoo.picking.changed` or `partner.result`.
    pub kind: String,
    /// Schema version of `body` for this `kind`.
    pub schema_version: u16,
    /// Delivery attempt, starting at 1.
    pub attempt: u32,
    /// W3C trace context of the producer, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traceparent: Option<String>,
    /// The payload.
    pub body: serde_json::Value,
}

impl Envelope {
    /// A first-attempt envelope with schema version 1 and no trace context.
    pub fn new(
        id: impl Into<String>,
        key: impl Into<String>,
        kind: impl Into<String>,
        body: serde_json::Value,
    ) -> Self {
        Self {
            id: id.into(),
            key: key.into(),
            kind: kind.into(),
            schema_version: 1,
            attempt: 1,
            traceparent: None,
            body,
        }
    }
}

/// Stable partition of a key: FNV-1a over its bytes, modulo the partition count.
///
/// Stable across processes, versions and platforms, because partition numbers are
/// part of the durable key layout.
pub fn partition_of(key: &str, partitions: u16) -> u16 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in key.as_bytes() {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    (hash % u64::from(partitions.max(1))) as u16
}
