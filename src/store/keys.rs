//! Every Redis key the store uses, built in one place.
//!
//! All keys of partition `p` carry the hash tag `{s<p>}`, so everything one
//! transition touches sits in one Redis Cluster slot and one script can change it
//! atomically. Node-wide keys carry `{sys}`.

use tradehub_actors::mailbox::{Partition, StreamName};

/// The consumer group every stream of the store is read through.
pub const GROUP: &str = "hub";

/// Why a prefix or a stream name cannot be used in a key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// The key prefix is empty or holds a character that would break the layout.
    #[error("invalid key prefix {0:?}: it must be non-empty, without braces, colons or whitespace")]
    Prefix(String),
    /// A partner name that cannot name a command stream.
    #[error("invalid partner name {0:?}: it must be non-empty and without control characters")]
    Partner(String),
    /// A stream suffix read back from Redis that names no known stream.
    #[error("unknown stream {0:?}: expected `in` or `cmd:<partner>`")]
    Stream(String),
}

/// Builds the key names under one prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keys {
    prefix: String,
}

impl Keys {
    /// Keys under `prefix` (`th` by default).
    pub fn new(prefix: &str) -> Result<Self, KeyError> {
        let bad = |c: char| c == '{' || c == '}' || c == ':' || c.is_whitespace() || c.is_control();
        if prefix.is_empty() || prefix.contains(bad) {
            return Err(KeyError::Prefix(prefix.to_owned()));
        }
        Ok(Self {
            prefix: prefix.to_owned(),
        })
    }

    /// The prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// `<prefix>:{s<p>}:`, the start of every key of partition `p`.
    pub fn partition_base(&self, partition: Partition) -> String {
        format!("{}:{{s{partition}}}:", self.prefix)
    }

    fn in_partition(&self, partition: Partition, rest: &str) -> String {
        let mut key = self.partition_base(partition);
        key.push_str(rest);
        key
    }

    /// The key of a durable stream: `…:in` or `…:cmd:<partner>`.
    pub fn stream(&self, partition: Partition, stream: &StreamName) -> Result<String, KeyError> {
        Ok(self.in_partition(partition, &stream_suffix(stream)?))
    }

    /// The inbox of a partition.
    pub fn inbox(&self, partition: Partition) -> String {
        self.in_partition(partition, "in")
    }

    /// The saga state hash of a key (`ver`, `state`, `updated`, `terminal`).
    pub fn state(&self, partition: Partition, key: &str) -> String {
        self.in_partition(partition, &format!("st:{key}"))
    }

    /// The timeline stream of a key.
    pub fn history(&self, partition: Partition, key: &str) -> String {
        self.in_partition(partition, &format!("hist:{key}"))
    }

    /// The timer sorted set of a partition.
    pub fn timers(&self, partition: Partition) -> String {
        self.in_partition(partition, "timers")
    }

    /// The counter that makes timer members unique and orders ties.
    pub fn timer_seq(&self, partition: Partition) -> String {
        self.in_partition(partition, "timers:seq")
    }

    /// The idempotency ledger entry of an ingest key.
    pub fn dedupe(&self, partition: Partition, key: &str) -> String {
        self.in_partition(partition, &format!("dedupe:{key}"))
    }

    /// The dead-letter stream of a partition.
    pub fn dlq(&self, partition: Partition) -> String {
        self.in_partition(partition, "dlq")
    }

    /// The hash-chained audit stream of a partition.
    pub fn audit(&self, partition: Partition) -> String {
        self.in_partition(partition, "audit")
    }

    /// The head of the audit chain (`seq`, `hash` of the last entry).
    pub fn audit_head(&self, partition: Partition) -> String {
        self.in_partition(partition, "audit:head")
    }

    /// Where the audit chain starts once its oldest entries are trimmed: `seq` and `hash` of
    /// the last entry trimmed, with `kid` and `mac`, that pair's own MAC.
    pub fn audit_base(&self, partition: Partition) -> String {
        self.in_partition(partition, "audit:base")
    }

    /// The lease of a partition: the owning node, with a TTL.
    pub fn lease(&self, partition: Partition) -> String {
        self.in_partition(partition, "lease")
    }

    /// A node-wide key: `<prefix>:{sys}:<name>`.
    pub fn sys(&self, name: &str) -> String {
        format!("{}:{{sys}}:{name}", self.prefix)
    }

    /// The anchors: signed checkpoints of every partition's audit chain head (field `a`, JSON).
    pub fn audit_anchors(&self) -> String {
        self.sys("audit:anchors")
    }

    /// The node registry: a sorted set of node → heartbeat expiry (ms).
    pub fn nodes(&self) -> String {
        self.sys("nodes")
    }

    /// The LRN ledger: a hash of declaration LRN → the filing (saga key and filing partner, JSON).
    pub fn lrns(&self) -> String {
        self.sys("lrn")
    }

    /// A hash of the shipment references (booking, bill of lading, container) the hub knows for
    /// `carrier` → saga key.
    pub fn shipment_references(&self, carrier: &str) -> String {
        self.sys(&format!("shipref:{carrier}"))
    }

    /// A callback signature `partner` sent (hex `v1`), kept with a TTL a little longer than the
    /// time it could be replayed.
    pub fn callback_signature(&self, partner: &str, signature: &str) -> String {
        self.sys(&format!("callbacks:seen:{partner}:{signature}"))
    }

    /// The counter of EDI interchange control references sent to `partner`.
    pub fn edi_control(&self, partner: &str) -> String {
        self.sys(&format!("edi:{partner}:ctrl"))
    }

    /// A hash of interchange control reference → LRN, for what was sent to `partner`.
    pub fn edi_interchanges(&self, partner: &str) -> String {
        self.sys(&format!("edi:{partner}:icref"))
    }

    /// A hash of LRN → the last canonical status `partner` reported (JSON).
    pub fn partner_statuses(&self, partner: &str) -> String {
        self.sys(&format!("partner:{partner}:status"))
    }

    /// A hash of LRN → the declaration document sent to `partner` (JSON).
    pub fn partner_documents(&self, partner: &str) -> String {
        self.sys(&format!("partner:{partner}:doc"))
    }

    /// The stream of callback payloads that could not be used, kept for an operator.
    pub fn rejected_callbacks(&self) -> String {
        self.sys("callbacks:rejected")
    }

    /// The finance dossier of a declaration: a hash with the saga `key`, one JSON field per
    /// settlement document and the last `outcome`.
    pub fn finance_dossier(&self, lrn: &str) -> String {
        self.sys(&format!("finance:{lrn}"))
    }

    /// The set of LRNs whose Odoo posting is to be tried again.
    pub fn finance_retry(&self) -> String {
        self.sys("finance:retry")
    }

    /// The record of API token `id`: a hash of its secret's HMAC, roles, label and times.
    pub fn token(&self, id: &str) -> String {
        self.sys(&format!("token:{id}"))
    }

    /// The set of every API token id.
    pub fn tokens(&self) -> String {
        self.sys("tokens")
    }

    /// The echo partner's ledger: a hash of command id → executions.
    pub fn echo_calls(&self) -> String {
        self.sys("echo:calls")
    }

    /// Where the poll of Odoo model `model` in database `db` stands (JSON cursor).
    pub fn odoo_cursor(&self, db: &str, model: &str) -> String {
        self.sys(&format!("odoo:cursor:{db}:{model}"))
    }

    /// A hash of record id → fingerprint of the watched fields last handed out, for Odoo
    /// model `model` in database `db`.
    pub fn odoo_seen(&self, db: &str, model: &str) -> String {
        self.sys(&format!("odoo:seen:{db}:{model}"))
    }
}

/// The part of a stream key after the partition base: `in` or `cmd:<partner>`.
pub fn stream_suffix(stream: &StreamName) -> Result<String, KeyError> {
    if let StreamName::Commands(partner) = stream
        && (partner.is_empty() || partner.contains(char::is_control))
    {
        return Err(KeyError::Partner(partner.clone()));
    }
    Ok(stream.to_string())
}

/// The stream a suffix written by [`stream_suffix`] names.
pub fn parse_stream_suffix(suffix: &str) -> Result<StreamName, KeyError> {
    match suffix {
        "in" => Ok(StreamName::Inbox),
        _ => match suffix.strip_prefix("cmd:") {
            Some(partner) if !partner.is_empty() => Ok(StreamName::Commands(partner.to_owned())),
            _ => Err(KeyError::Stream(suffix.to_owned())),
        },
    }
}
