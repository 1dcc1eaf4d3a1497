//! `MemoryMailbox`: the in-memory implementation of [`Mailbox`], [`MailboxOps`] and
//! [`Leases`], and the reference model the Redis store is tested against.
//!
//! # Semantics (what the Redis store must agree with)
//!
//! - Every stream has one consumer group from the start, positioned before the
//!   first entry (as if created with `MKSTREAM` at id `0`), so entries appended
//!   before [`Mailbox::ensure_streams`] are still delivered.
//! - Entry ids are `<ms>-<seq>` with `ms = max(clock, last ms)`: strictly
//!   increasing per stream, `seq` counting up within one millisecond.
//! - A delivery adds the entry to the pending list with the consumer, a delivery
//!   count and the delivery time. Idle time is `now - last delivery`.
//!   [`Mailbox::reclaim`] takes entries with idle `>= min_idle_ms`, oldest id first,
//!   increments their delivery count and resets their idle time.
//! - [`Mailbox::commit`] first refuses with `AlreadyAcknowledged` when `ack` is set
//!   and not pending, then refuses with `Conflict` when the version differs.
//! - [`Mailbox::complete`] and [`Mailbox::defer`] write nothing when the entry is
//!   no longer pending (another consumer finished it); [`Mailbox::dead_letter`]
//!   fails with `Protocol` in that case.
//! - Timers fire in due order, ties in scheduling order. Saga timers target the inbox.
//! - [`MailboxOps::trim`] removes only entries older than both the oldest pending entry
//!   and the first entry not yet delivered, and keeps at least `keep` entries.
//! - `oldest_pending_age_ms` is measured from the creation time in the entry id.
//! - The ingest idempotency ledger never expires here (Redis gives it a TTL).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::Notify;

use super::{
    Commit, CommitOutcome, DeadLetter, Delivery, EntryId, IngestOutcome, Leases, Mailbox,
    MailboxError, MailboxOps, MailboxResult, Partition, StoredState, StreamName, StreamStats,
};
use crate::clock::{Clock, Millis, SystemClock};
use crate::envelope::Envelope;

#[cfg(test)]
mod tests;

/// A stream id as a sortable pair.
type Id = (u64, u64);

fn id_string(id: Id) -> EntryId {
    EntryId(format!("{}-{}", id.0, id.1))
}

fn parse_id(entry_id: &EntryId) -> MailboxResult<Id> {
    entry_id
        .parts()
        .ok_or_else(|| MailboxError::Protocol(format!("malformed entry id {entry_id:?}")))
}

fn encode(envelope: &Envelope) -> MailboxResult<String> {
    serde_json::to_string(envelope)
        .map_err(|e| MailboxError::Protocol(format!("cannot encode envelope {}: {e}", envelope.id)))
}

fn decode(raw: &str) -> Result<Envelope, String> {
    serde_json::from_str(raw).map_err(|e| format!("undecodable envelope: {e}"))
}

/// One entry of a pending list, as seen by [`MemoryMailbox::pending`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingInfo {
    /// The pending entry.
    pub entry_id: EntryId,
    /// The consumer it was last delivered to.
    pub consumer: String,
    /// How many times it was delivered.
    pub deliveries: u32,
    /// Milliseconds since its last delivery.
    pub idle_ms: u64,
}

/// A scheduled timer, as seen by [`MemoryMailbox::timers`].
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduledTimer {
    /// When it fires.
    pub due_ms: Millis,
    /// The stream it is appended to when it fires.
    pub stream: StreamName,
    /// What is appended.
    pub envelope: Envelope,
}

#[derive(Debug, Clone)]
struct PendingEntry {
    consumer: String,
    deliveries: u32,
    delivered_at: Millis,
}

#[derive(Debug, Default)]
struct Stream {
    entries: BTreeMap<Id, String>,
    last_id: Id,
    /// Last id delivered to the group (the `>` cursor).
    cursor: Id,
    pending: BTreeMap<Id, PendingEntry>,
}

impl Stream {
    fn next_id(&mut self, now: Millis) -> Id {
        let id = if now > self.last_id.0 {
            (now, 0)
        } else {
            (self.last_id.0, self.last_id.1 + 1)
        };
        self.last_id = id;
        id
    }

    fn append(&mut self, now: Millis, raw: String) -> Id {
        let id = self.next_id(now);
        self.entries.insert(id, raw);
        id
    }
}

#[derive(Debug, Default)]
struct PartitionData {
    streams: BTreeMap<StreamName, Stream>,
    states: HashMap<String, (StoredState, bool)>,
    history: HashMap<String, Vec<String>>,
    audit: Vec<String>,
    timers: BTreeMap<(Millis, u64), (StreamName, Envelope)>,
    timer_seq: u64,
    dedupe: HashMap<String, EntryId>,
    dlq: Stream,
    dead: BTreeMap<Id, DeadLetter>,
    lease: Option<(String, Millis)>,
}

impl PartitionData {
    fn stream(&mut self, stream: &StreamName) -> &mut Stream {
        self.streams.entry(stream.clone()).or_default()
    }

    fn add_timer(&mut self, due_ms: Millis, stream: StreamName, envelope: Envelope) {
        self.timer_seq += 1;
        self.timers
            .insert((due_ms, self.timer_seq), (stream, envelope));
    }

    fn is_pending(&self, stream: &StreamName, id: Id) -> bool {
        self.streams
            .get(stream)
            .is_some_and(|s| s.pending.contains_key(&id))
    }

    fn ack(&mut self, stream: &StreamName, id: Id) {
        if let Some(s) = self.streams.get_mut(stream) {
            s.pending.remove(&id);
        }
    }
}

#[derive(Debug, Default)]
struct Data {
    partitions: BTreeMap<Partition, PartitionData>,
    unavailable: bool,
}

impl Data {
    fn partition(&mut self, partition: Partition) -> &mut PartitionData {
        self.partitions.entry(partition).or_default()
    }
}

struct Inner {
    data: Mutex<Data>,
    appended: Notify,
    clock: Arc<dyn Clock>,
}

/// The in-memory [`Mailbox`]. Cheap to clone: clones share one store.
///
/// Deterministic given its clock: the same sequence of calls at the same clock
/// readings gives the same ids, deliveries and results.
#[derive(Clone)]
pub struct MemoryMailbox {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for MemoryMailbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryMailbox").finish_non_exhaustive()
    }
}

impl Default for MemoryMailbox {
    fn default() -> Self {
        Self::new(SystemClock)
    }
}

impl MemoryMailbox {
    /// An empty mailbox whose ids, idle times and leases follow `clock`.
    pub fn new(clock: impl Clock) -> Self {
        Self {
            inner: Arc::new(Inner {
                data: Mutex::new(Data::default()),
                appended: Notify::new(),
                clock: Arc::new(clock),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Data> {
        // A panic while holding the lock cannot leave a half-applied step: every
        // step validates before it mutates, so the data stays usable.
        self.inner
            .data
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Lock for an operation, failing when the store is switched to unavailable.
    fn op(&self) -> MailboxResult<MutexGuard<'_, Data>> {
        let data = self.lock();
        if data.unavailable {
            return Err(MailboxError::Unavailable(
                "memory mailbox switched to unavailable".into(),
            ));
        }
        Ok(data)
    }

    fn now(&self) -> Millis {
        self.inner.clock.now_ms()
    }

    /// Make every operation fail with [`MailboxError::Unavailable`] (or stop doing
    /// so), to test how callers ride out a store outage.
    pub fn set_unavailable(&self, unavailable: bool) {
        self.lock().unavailable = unavailable;
        self.inner.appended.notify_waiters();
    }

    /// Append a raw entry to a stream, bypassing encoding: the way to plant a
    /// poison entry.
    pub fn append_raw(&self, partition: Partition, stream: &StreamName, raw: &str) -> EntryId {
        let now = self.now();
        let id = self
            .lock()
            .partition(partition)
            .stream(stream)
            .append(now, raw.to_owned());
        self.inner.appended.notify_waiters();
        id_string(id)
    }

    /// Every entry of a stream (acknowledged or not), oldest first, raw.
    pub fn entries(&self, partition: Partition, stream: &StreamName) -> Vec<(EntryId, String)> {
        let data = self.lock();
        data.partitions
            .get(&partition)
            .and_then(|p| p.streams.get(stream))
            .map(|s| {
                s.entries
                    .iter()
                    .map(|(id, raw)| (id_string(*id), raw.clone()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Entries of a stream not yet delivered to the group (Redis's `lag`).
    pub fn undelivered(&self, partition: Partition, stream: &StreamName) -> u64 {
        let data = self.lock();
        data.partitions
            .get(&partition)
            .and_then(|p| p.streams.get(stream))
            .map_or(0, |s| {
                s.entries
                    .range((
                        std::ops::Bound::Excluded(s.cursor),
                        std::ops::Bound::Unbounded,
                    ))
                    .count() as u64
            })
    }

    /// The pending list of a stream, oldest id first.
    pub fn pending(&self, partition: Partition, stream: &StreamName) -> Vec<PendingInfo> {
        let now = self.now();
        let data = self.lock();
        data.partitions
            .get(&partition)
            .and_then(|p| p.streams.get(stream))
            .map(|s| {
                s.pending
                    .iter()
                    .map(|(id, p)| PendingInfo {
                        entry_id: id_string(*id),
                        consumer: p.consumer.clone(),
                        deliveries: p.deliveries,
                        idle_ms: now.saturating_sub(p.delivered_at),
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The history entries committed for a key, in commit order.
    pub fn history(&self, partition: Partition, key: &str) -> Vec<String> {
        let data = self.lock();
        data.partitions
            .get(&partition)
            .and_then(|p| p.history.get(key).cloned())
            .unwrap_or_default()
    }

    /// The audit entries of a partition, in commit order.
    pub fn audit(&self, partition: Partition) -> Vec<String> {
        let data = self.lock();
        data.partitions
            .get(&partition)
            .map(|p| p.audit.clone())
            .unwrap_or_default()
    }

    /// The timers not yet fired, in firing order.
    pub fn timers(&self, partition: Partition) -> Vec<ScheduledTimer> {
        let data = self.lock();
        data.partitions
            .get(&partition)
            .map(|p| {
                p.timers
                    .iter()
                    .map(|((due_ms, _), (stream, envelope))| ScheduledTimer {
                        due_ms: *due_ms,
                        stream: stream.clone(),
                        envelope: envelope.clone(),
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Whether the last commit of a key marked its state terminal.
    pub fn is_terminal(&self, partition: Partition, key: &str) -> bool {
        let data = self.lock();
        data.partitions
            .get(&partition)
            .and_then(|p| p.states.get(key))
            .is_some_and(|(_, terminal)| *terminal)
    }

    /// The keys of a partition that have stored state, sorted.
    pub fn keys(&self, partition: Partition) -> Vec<String> {
        let data = self.lock();
        let mut keys: Vec<String> = data
            .partitions
            .get(&partition)
            .map(|p| p.states.keys().cloned().collect())
            .unwrap_or_default();
        keys.sort();
        keys
    }

    /// The node holding the lease of a partition now, if any.
    pub fn lease_holder(&self, partition: Partition) -> Option<String> {
        let now = self.now();
        let data = self.lock();
        data.partitions
            .get(&partition)
            .and_then(|p| p.lease.as_ref())
            .filter(|(_, until)| *until > now)
            .map(|(node, _)| node.clone())
    }

    /// Deliver the entries after the group cursor, without waiting.
    fn try_read(
        &self,
        partition: Partition,
        stream: &StreamName,
        consumer: &str,
        count: usize,
    ) -> MailboxResult<Vec<Delivery>> {
        let now = self.now();
        let mut data = self.op()?;
        let s = data.partition(partition).stream(stream);
        let ids: Vec<Id> = s
            .entries
            .range((
                std::ops::Bound::Excluded(s.cursor),
                std::ops::Bound::Unbounded,
            ))
            .take(count)
            .map(|(id, _)| *id)
            .collect();
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            s.cursor = id;
            s.pending.insert(
                id,
                PendingEntry {
                    consumer: consumer.to_owned(),
                    deliveries: 1,
                    delivered_at: now,
                },
            );
            out.push(Delivery {
                partition,
                stream: stream.clone(),
                entry_id: id_string(id),
                envelope: decode(&s.entries[&id]),
                deliveries: 1,
            });
        }
        Ok(out)
    }
}

impl Mailbox for MemoryMailbox {
    async fn ensure_streams(
        &self,
        partition: Partition,
        streams: &[StreamName],
    ) -> MailboxResult<()> {
        let mut data = self.op()?;
        let p = data.partition(partition);
        for stream in streams {
            p.stream(stream);
        }
        Ok(())
    }

    async fn ingest(
        &self,
        partition: Partition,
        envelope: &Envelope,
        idempotency_key: Option<&str>,
    ) -> MailboxResult<IngestOutcome> {
        let raw = encode(envelope)?;
        let now = self.now();
        let outcome = {
            let mut data = self.op()?;
            let p = data.partition(partition);
            if let Some(entry_id) = idempotency_key.and_then(|k| p.dedupe.get(k)) {
                return Ok(IngestOutcome::Duplicate {
                    entry_id: entry_id.clone(),
                });
            }
            let entry_id = id_string(p.stream(&StreamName::Inbox).append(now, raw));
            if let Some(key) = idempotency_key {
                p.dedupe.insert(key.to_owned(), entry_id.clone());
            }
            IngestOutcome::Accepted { entry_id }
        };
        self.inner.appended.notify_waiters();
        Ok(outcome)
    }

    async fn read(
        &self,
        partition: Partition,
        stream: &StreamName,
        consumer: &str,
        count: usize,
        block_ms: u64,
    ) -> MailboxResult<Vec<Delivery>> {
        let deadline = tokio::time::Instant::now() + Duration::from_millis(block_ms);
        // A real store round-trip always yields; doing the same lets concurrent
        // readers of one stream interleave as they would against Redis.
        tokio::task::yield_now().await;
        loop {
            // Register interest before looking, so an append between the look and
            // the wait is not missed.
            let appended = self.inner.appended.notified();
            let out = self.try_read(partition, stream, consumer, count)?;
            if !out.is_empty() || tokio::time::Instant::now() >= deadline {
                return Ok(out);
            }
            if tokio::time::timeout_at(deadline, appended).await.is_err() {
                return Ok(Vec::new());
            }
        }
    }

    async fn reclaim(
        &self,
        partition: Partition,
        stream: &StreamName,
        consumer: &str,
        min_idle_ms: u64,
        count: usize,
    ) -> MailboxResult<Vec<Delivery>> {
        let now = self.now();
        let mut data = self.op()?;
        let s = data.partition(partition).stream(stream);
        let mut out = Vec::new();
        for (id, pending) in s.pending.iter_mut() {
            if out.len() >= count {
                break;
            }
            if now.saturating_sub(pending.delivered_at) < min_idle_ms {
                continue;
            }
            pending.consumer = consumer.to_owned();
            pending.deliveries += 1;
            pending.delivered_at = now;
            let envelope = s
                .entries
                .get(id)
                .map_or_else(|| Err("entry was trimmed".to_owned()), |raw| decode(raw));
            out.push(Delivery {
                partition,
                stream: stream.clone(),
                entry_id: id_string(*id),
                envelope,
                deliveries: pending.deliveries,
            });
        }
        Ok(out)
    }

    async fn is_pending(
        &self,
        partition: Partition,
        stream: &StreamName,
        entry_id: &EntryId,
    ) -> MailboxResult<bool> {
        let id = parse_id(entry_id)?;
        let mut data = self.op()?;
        Ok(data.partition(partition).is_pending(stream, id))
    }

    async fn load(&self, partition: Partition, key: &str) -> MailboxResult<StoredState> {
        let mut data = self.op()?;
        Ok(data
            .partition(partition)
            .states
            .get(key)
            .map(|(state, _)| state.clone())
            .unwrap_or_default())
    }

    async fn commit(&self, commit: &Commit) -> MailboxResult<CommitOutcome> {
        let ack = commit.ack.as_ref().map(parse_id).transpose()?;
        let mut encoded = Vec::with_capacity(commit.commands.len());
        for command in &commit.commands {
            encoded.push((
                StreamName::Commands(command.partner.clone()),
                encode(&command.envelope)?,
            ));
        }
        let now = self.now();
        let outcome = {
            let mut data = self.op()?;
            let p = data.partition(commit.partition);
            if let Some(id) = ack
                && !p.is_pending(&StreamName::Inbox, id)
            {
                return Ok(CommitOutcome::AlreadyAcknowledged);
            }
            let current_ver = p.states.get(&commit.key).map_or(0, |(s, _)| s.ver);
            if current_ver != commit.expected_ver {
                return Ok(CommitOutcome::Conflict { current_ver });
            }
            let ver = current_ver + 1;
            p.states.insert(
                commit.key.clone(),
                (
                    StoredState {
                        ver,
                        state: Some(commit.state.clone()),
                    },
                    commit.terminal,
                ),
            );
            p.history
                .entry(commit.key.clone())
                .or_default()
                .extend(commit.history.iter().cloned());
            p.audit.extend(commit.audit.iter().cloned());
            for (stream, raw) in encoded {
                p.stream(&stream).append(now, raw);
            }
            for timer in &commit.timers {
                p.add_timer(timer.due_ms, StreamName::Inbox, timer.envelope.clone());
            }
            if let Some(id) = ack {
                p.ack(&StreamName::Inbox, id);
            }
            CommitOutcome::Committed { ver }
        };
        if !commit.commands.is_empty() {
            self.inner.appended.notify_waiters();
        }
        Ok(outcome)
    }

    async fn complete(
        &self,
        partition: Partition,
        stream: &StreamName,
        entry_id: &EntryId,
        results: &[Envelope],
    ) -> MailboxResult<()> {
        let id = parse_id(entry_id)?;
        let raws = results
            .iter()
            .map(encode)
            .collect::<MailboxResult<Vec<_>>>()?;
        let now = self.now();
        {
            let mut data = self.op()?;
            let p = data.partition(partition);
            if !p.is_pending(stream, id) {
                return Ok(());
            }
            for raw in raws {
                p.stream(&StreamName::Inbox).append(now, raw);
            }
            p.ack(stream, id);
        }
        self.inner.appended.notify_waiters();
        Ok(())
    }

    async fn defer(
        &self,
        partition: Partition,
        stream: &StreamName,
        entry_id: &EntryId,
        due_ms: Millis,
        envelope: &Envelope,
    ) -> MailboxResult<()> {
        let id = parse_id(entry_id)?;
        let mut data = self.op()?;
        let p = data.partition(partition);
        if !p.is_pending(stream, id) {
            return Ok(());
        }
        p.add_timer(due_ms, stream.clone(), envelope.clone());
        p.ack(stream, id);
        Ok(())
    }

    async fn fire_timers(
        &self,
        partition: Partition,
        now_ms: Millis,
        limit: usize,
    ) -> MailboxResult<usize> {
        let now = self.now();
        let fired = {
            let mut data = self.op()?;
            let p = data.partition(partition);
            let due: Vec<(Millis, u64)> = p
                .timers
                .range(..=(now_ms, u64::MAX))
                .take(limit)
                .map(|(k, _)| *k)
                .collect();
            let mut raws = Vec::with_capacity(due.len());
            for key in &due {
                if let Some((stream, envelope)) = p.timers.get(key) {
                    raws.push((stream.clone(), encode(envelope)?));
                }
            }
            for key in &due {
                p.timers.remove(key);
            }
            let fired = raws.len();
            for (stream, raw) in raws {
                p.stream(&stream).append(now, raw);
            }
            fired
        };
        if fired > 0 {
            self.inner.appended.notify_waiters();
        }
        Ok(fired)
    }

    async fn dead_letter(
        &self,
        delivery: &Delivery,
        reason: &str,
        now_ms: Millis,
    ) -> MailboxResult<EntryId> {
        let id = parse_id(&delivery.entry_id)?;
        let now = self.now();
        let mut data = self.op()?;
        let p = data.partition(delivery.partition);
        let Some(stream) = p.streams.get(&delivery.stream) else {
            return Err(MailboxError::Protocol(format!(
                "cannot dead-letter {} of {}: unknown stream",
                delivery.entry_id, delivery.stream
            )));
        };
        let Some(pending) = stream.pending.get(&id) else {
            return Err(MailboxError::Protocol(format!(
                "cannot dead-letter {} of {}: not pending",
                delivery.entry_id, delivery.stream
            )));
        };
        let deliveries = pending.deliveries;
        let raw = stream.entries.get(&id).cloned().unwrap_or_default();
        let dlq_id = p.dlq.next_id(now);
        p.dead.insert(
            dlq_id,
            DeadLetter {
                id: id_string(dlq_id),
                partition: delivery.partition,
                origin: delivery.stream.clone(),
                origin_id: delivery.entry_id.clone(),
                raw,
                deliveries,
                reason: reason.to_owned(),
                at_ms: now_ms,
            },
        );
        p.ack(&delivery.stream, id);
        Ok(id_string(dlq_id))
    }
}

impl MailboxOps for MemoryMailbox {
    async fn dead_letters(&self, partition: Partition) -> MailboxResult<Vec<DeadLetter>> {
        let mut data = self.op()?;
        Ok(data.partition(partition).dead.values().cloned().collect())
    }

    async fn redrive(
        &self,
        partition: Partition,
        dead_letter_id: &EntryId,
    ) -> MailboxResult<EntryId> {
        let dlq_id = parse_id(dead_letter_id)?;
        let now = self.now();
        let new_id = {
            let mut data = self.op()?;
            let p = data.partition(partition);
            let Some(dead) = p.dead.remove(&dlq_id) else {
                return Err(MailboxError::Protocol(format!(
                    "no dead letter {dead_letter_id} in partition {partition}"
                )));
            };
            // An undecodable entry goes back as it was, so an operator can fix the
            // reader and redrive without losing the original bytes.
            let raw = match decode(&dead.raw) {
                Ok(mut envelope) => {
                    envelope.attempt = 1;
                    encode(&envelope)?
                }
                Err(_) => dead.raw,
            };
            id_string(p.stream(&dead.origin).append(now, raw))
        };
        self.inner.appended.notify_waiters();
        Ok(new_id)
    }

    async fn trim(
        &self,
        partition: Partition,
        stream: &StreamName,
        keep: u64,
    ) -> MailboxResult<u64> {
        let mut data = self.op()?;
        let s = data.partition(partition).stream(stream);
        let oldest_pending = s.pending.keys().next().copied();
        let first_undelivered = s
            .entries
            .range((
                std::ops::Bound::Excluded(s.cursor),
                std::ops::Bound::Unbounded,
            ))
            .next()
            .map(|(id, _)| *id);
        let bound = [oldest_pending, first_undelivered]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or((u64::MAX, u64::MAX));
        let trimmable = s.entries.range(..bound).count() as u64;
        let len = s.entries.len() as u64;
        let remove = trimmable.min(len.saturating_sub(keep));
        let ids: Vec<Id> = s.entries.keys().take(remove as usize).copied().collect();
        for id in ids {
            s.entries.remove(&id);
        }
        Ok(remove)
    }

    async fn stats(&self, partition: Partition, stream: &StreamName) -> MailboxResult<StreamStats> {
        let now = self.now();
        let mut data = self.op()?;
        let s = data.partition(partition).stream(stream);
        Ok(StreamStats {
            length: s.entries.len() as u64,
            pending: s.pending.len() as u64,
            oldest_pending_age_ms: s
                .pending
                .keys()
                .next()
                .map_or(0, |(ms, _)| now.saturating_sub(*ms)),
        })
    }
}

impl Leases for MemoryMailbox {
    async fn lease(&self, partition: Partition, node: &str, ttl_ms: u64) -> MailboxResult<bool> {
        let now = self.now();
        let mut data = self.op()?;
        let p = data.partition(partition);
        let free = match &p.lease {
            None => true,
            Some((holder, until)) => holder == node || *until <= now,
        };
        if free {
            p.lease = Some((node.to_owned(), now + ttl_ms));
        }
        Ok(free)
    }

    async fn release_lease(&self, partition: Partition, node: &str) -> MailboxResult<()> {
        let mut data = self.op()?;
        let p = data.partition(partition);
        if p.lease.as_ref().is_some_and(|(holder, _)| holder == node) {
            p.lease = None;
        }
        Ok(())
    }
}
