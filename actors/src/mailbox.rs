//! The mailbox ports: durable streams per partition and the atomic commit.
//!
//! The store is seen through three traits, so that each user depends on the part it uses:
//! [`Mailbox`], the data path of the partition hosts and partner connections; [`MailboxOps`],
//! what operators and the sampler do to streams (dead letters, redrive, trim, depth); and
//! [`Leases`], the partition leases of the lease manager.
//!
//! The Redis implementation lives in the `tradehub` crate (`src/store/`); the
//! in-memory one here is the reference model the Redis one is tested against.

use std::fmt;
use std::future::Future;

use crate::clock::Millis;
use crate::envelope::Envelope;
use crate::saga::{Command, Timer};

pub mod memory;

/// A partition number, `0..partitions`.
pub type Partition = u16;

/// One durable stream of a partition.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StreamName {
    /// The inbox: every input of the partition's sagas.
    Inbox,
    /// The command stream of one partner connection.
    Commands(String),
}

impl fmt::Display for StreamName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Inbox => f.write_str("in"),
            Self::Commands(partner) => write!(f, "cmd:{partner}"),
        }
    }
}

/// Id of an entry in a stream, in Redis stream id form `<ms>-<seq>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EntryId(pub String);

impl EntryId {
    /// The `(ms, seq)` pair, for ordering; `None` when the id is malformed.
    pub fn parts(&self) -> Option<(u64, u64)> {
        let (ms, seq) = self.0.split_once('-')?;
        Some((ms.parse().ok()?, seq.parse().ok()?))
    }
}

impl fmt::Display for EntryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An entry handed to a consumer. It stays pending until committed, completed,
/// deferred or dead-lettered.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    /// Partition of the stream.
    pub partition: Partition,
    /// Stream the entry was read from.
    pub stream: StreamName,
    /// The entry's id.
    pub entry_id: EntryId,
    /// The decoded envelope, or why the entry could not be decoded (a poison entry).
    pub envelope: Result<Envelope, String>,
    /// How many times the entry has been delivered, this delivery included.
    pub deliveries: u32,
}

/// Durable state of one key.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StoredState {
    /// Version, incremented by every commit; 0 when the key has no state yet.
    pub ver: u64,
    /// Serialized saga state (JSON), `None` when the key has no state yet.
    pub state: Option<String>,
}

/// One transition to commit atomically.
#[derive(Debug, Clone, PartialEq)]
pub struct Commit {
    /// Partition of the key.
    pub partition: Partition,
    /// The saga key.
    pub key: String,
    /// The version the transition was computed from (compare-and-set).
    pub expected_ver: u64,
    /// The new serialized state.
    pub state: String,
    /// Whether the new state is terminal.
    pub terminal: bool,
    /// Timeline entries (JSON) appended to the key's history stream.
    pub history: Vec<String>,
    /// Audit entries (JSON) appended to the partition's hash-chained audit stream.
    pub audit: Vec<String>,
    /// Commands appended to the partners' command streams of this partition.
    pub commands: Vec<Command>,
    /// Timers added to the partition's timer set.
    pub timers: Vec<Timer>,
    /// The inbox entry this transition consumes, acknowledged in the same step.
    pub ack: Option<EntryId>,
}

/// What a commit did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommitOutcome {
    /// Everything was written; the state now has version `ver`.
    Committed {
        /// The new version.
        ver: u64,
    },
    /// Nothing was written: the stored version is not the expected one.
    Conflict {
        /// The version found in the store.
        current_ver: u64,
    },
    /// Nothing was written: the input in `ack` is no longer pending (another
    /// owner already committed it), so applying it again would double-apply.
    AlreadyAcknowledged,
}

/// What an ingest did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IngestOutcome {
    /// The input was appended to the inbox.
    Accepted {
        /// The new inbox entry.
        entry_id: EntryId,
    },
    /// The idempotency key was seen before: nothing was written.
    Duplicate {
        /// The entry the first ingest created.
        entry_id: EntryId,
    },
}

/// A dead letter: an entry moved out of its stream with the reason.
#[derive(Debug, Clone, PartialEq)]
pub struct DeadLetter {
    /// Id of the dead letter in the partition's DLQ stream.
    pub id: EntryId,
    /// Partition it came from.
    pub partition: Partition,
    /// Stream it came from.
    pub origin: StreamName,
    /// Its id in that stream.
    pub origin_id: EntryId,
    /// The raw entry (serialized envelope, or whatever could not be decoded).
    pub raw: String,
    /// Deliveries before it was dead-lettered.
    pub deliveries: u32,
    /// Why.
    pub reason: String,
    /// When, in milliseconds since the Unix epoch.
    pub at_ms: Millis,
}

/// Depth figures of one stream, for metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StreamStats {
    /// Entries in the stream.
    pub length: u64,
    /// Entries delivered and not yet acknowledged.
    pub pending: u64,
    /// Age of the oldest pending entry, in milliseconds (0 when none).
    pub oldest_pending_age_ms: u64,
}

/// A store failure.
#[derive(Debug, thiserror::Error)]
pub enum MailboxError {
    /// The store cannot be reached or answered with an error; retry later.
    #[error("mailbox store unavailable: {0}")]
    Unavailable(String),
    /// An argument or a stored value is not what the protocol expects.
    #[error("mailbox protocol error: {0}")]
    Protocol(String),
}

/// Result of a mailbox operation.
pub type MailboxResult<T> = Result<T, MailboxError>;

/// The data path of the durable mailbox: what the partition hosts and the partner
/// connections do. Every method is one atomic step in the store.
pub trait Mailbox: Clone + Send + Sync + 'static {
    /// Create the consumer groups of `streams` of `partition` if missing (idempotent).
    fn ensure_streams(
        &self,
        partition: Partition,
        streams: &[StreamName],
    ) -> impl Future<Output = MailboxResult<()>> + Send;

    /// Append an input to the partition's inbox. With an idempotency key, a second
    /// ingest with the same key writes nothing and returns the first entry id.
    fn ingest(
        &self,
        partition: Partition,
        envelope: &Envelope,
        idempotency_key: Option<&str>,
    ) -> impl Future<Output = MailboxResult<IngestOutcome>> + Send;

    /// Read up to `count` new entries of a stream for `consumer`, waiting up to
    /// `block_ms` when there are none (0: do not wait).
    fn read(
        &self,
        partition: Partition,
        stream: &StreamName,
        consumer: &str,
        count: usize,
        block_ms: u64,
    ) -> impl Future<Output = MailboxResult<Vec<Delivery>>> + Send;

    /// Take over up to `count` entries pending for longer than `min_idle_ms` (on
    /// any consumer), delivering them again to `consumer`.
    fn reclaim(
        &self,
        partition: Partition,
        stream: &StreamName,
        consumer: &str,
        min_idle_ms: u64,
        count: usize,
    ) -> impl Future<Output = MailboxResult<Vec<Delivery>>> + Send;

    /// Whether an entry is still pending (delivered and not acknowledged).
    fn is_pending(
        &self,
        partition: Partition,
        stream: &StreamName,
        entry_id: &EntryId,
    ) -> impl Future<Output = MailboxResult<bool>> + Send;

    /// The stored state of a key.
    fn load(
        &self,
        partition: Partition,
        key: &str,
    ) -> impl Future<Output = MailboxResult<StoredState>> + Send;

    /// Commit a transition atomically: CAS on the version, state, history, audit,
    /// commands, timers and the acknowledgement of the input, all or nothing.
    /// When `ack` is set and that entry is no longer pending, nothing is written.
    fn commit(&self, commit: &Commit) -> impl Future<Output = MailboxResult<CommitOutcome>> + Send;

    /// Finish a partner command atomically: append `results` to the inbox and
    /// acknowledge the command entry.
    fn complete(
        &self,
        partition: Partition,
        stream: &StreamName,
        entry_id: &EntryId,
        results: &[Envelope],
    ) -> impl Future<Output = MailboxResult<()>> + Send;

    /// Postpone an entry atomically: schedule `envelope` to be appended to `stream`
    /// at `due_ms` and acknowledge the entry.
    fn defer(
        &self,
        partition: Partition,
        stream: &StreamName,
        entry_id: &EntryId,
        due_ms: Millis,
        envelope: &Envelope,
    ) -> impl Future<Output = MailboxResult<()>> + Send;

    /// Move every timer due at `now_ms` (up to `limit`) into its target stream,
    /// atomically; returns how many fired.
    fn fire_timers(
        &self,
        partition: Partition,
        now_ms: Millis,
        limit: usize,
    ) -> impl Future<Output = MailboxResult<usize>> + Send;

    /// Move a pending entry to the partition's DLQ with `reason`, acknowledging it.
    fn dead_letter(
        &self,
        delivery: &Delivery,
        reason: &str,
        now_ms: Millis,
    ) -> impl Future<Output = MailboxResult<EntryId>> + Send;
}

/// Operations on the durable mailbox's streams: what an operator and the sampler do. Every
/// method is one atomic step in the store.
pub trait MailboxOps: Clone + Send + Sync + 'static {
    /// The dead letters of a partition, oldest first.
    fn dead_letters(
        &self,
        partition: Partition,
    ) -> impl Future<Output = MailboxResult<Vec<DeadLetter>>> + Send;

    /// Put a dead letter back on its origin stream (attempt reset to 1) and remove
    /// it from the DLQ, atomically; returns the new entry id.
    fn redrive(
        &self,
        partition: Partition,
        dead_letter_id: &EntryId,
    ) -> impl Future<Output = MailboxResult<EntryId>> + Send;

    /// Trim acknowledged entries from a stream, never dropping a pending one;
    /// keeps at least `keep` most recent entries. Returns how many were removed.
    fn trim(
        &self,
        partition: Partition,
        stream: &StreamName,
        keep: u64,
    ) -> impl Future<Output = MailboxResult<u64>> + Send;

    /// Depth figures of a stream.
    fn stats(
        &self,
        partition: Partition,
        stream: &StreamName,
    ) -> impl Future<Output = MailboxResult<StreamStats>> + Send;
}

/// The partition leases kept in the store: which node hosts which partition. Every method is
/// one atomic step in the store.
pub trait Leases: Clone + Send + Sync + 'static {
    /// Acquire or renew the lease of `partition` for `node` for `ttl_ms`; true when
    /// `node` holds it afterwards.
    fn lease(
        &self,
        partition: Partition,
        node: &str,
        ttl_ms: u64,
    ) -> impl Future<Output = MailboxResult<bool>> + Send;

    /// Give up the lease of `partition` if `node` holds it.
    fn release_lease(
        &self,
        partition: Partition,
        node: &str,
    ) -> impl Future<Output = MailboxResult<()>> + Send;
}
