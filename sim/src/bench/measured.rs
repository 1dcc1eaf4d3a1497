//! A `Mailbox` (data path) wrapper that times commits, so a benchmark can report commit
//! latency and count committed transitions without touching the runtime.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use tradehub_actors::clock::Millis;
use tradehub_actors::envelope::Envelope;
use tradehub_actors::mailbox::{
    Commit, CommitOutcome, Delivery, EntryId, IngestOutcome, Mailbox, MailboxResult, Partition,
    StoredState, StreamName,
};

/// Commit latencies (microseconds) of committed transitions.
#[derive(Debug, Default)]
pub struct CommitLog {
    latencies_us: Vec<u32>,
}

impl CommitLog {
    /// Committed transitions so far.
    pub fn committed(&self) -> usize {
        self.latencies_us.len()
    }

    /// The `q` quantile (0..=1) of commit latency, in milliseconds.
    pub fn quantile_ms(&self, q: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return 0.0;
        }
        let mut sorted = self.latencies_us.clone();
        sorted.sort_unstable();
        let rank = ((sorted.len() - 1) as f64 * q.clamp(0.0, 1.0)).round() as usize;
        f64::from(sorted[rank]) / 1000.0
    }
}

/// Wraps a mailbox; every other method passes straight through.
#[derive(Debug, Clone)]
pub struct Measured<M> {
    inner: M,
    log: Arc<Mutex<CommitLog>>,
}

impl<M: Mailbox> Measured<M> {
    /// Wrap `inner`.
    pub fn new(inner: M) -> Self {
        Self {
            inner,
            log: Arc::default(),
        }
    }

    /// The commit log, shared with every clone.
    pub fn log(&self) -> Arc<Mutex<CommitLog>> {
        self.log.clone()
    }
}

impl<M: Mailbox> Mailbox for Measured<M> {
    async fn ensure_streams(
        &self,
        partition: Partition,
        streams: &[StreamName],
    ) -> MailboxResult<()> {
        self.inner.ensure_streams(partition, streams).await
    }

    async fn ingest(
        &self,
        partition: Partition,
        envelope: &Envelope,
        idempotency_key: Option<&str>,
    ) -> MailboxResult<IngestOutcome> {
        self.inner
            .ingest(partition, envelope, idempotency_key)
            .await
    }

    async fn read(
        &self,
        partition: Partition,
        stream: &StreamName,
        consumer: &str,
        count: usize,
        block_ms: u64,
    ) -> MailboxResult<Vec<Delivery>> {
        self.inner
            .read(partition, stream, consumer, count, block_ms)
            .await
    }

    async fn reclaim(
        &self,
        partition: Partition,
        stream: &StreamName,
        consumer: &str,
        min_idle_ms: u64,
        count: usize,
    ) -> MailboxResult<Vec<Delivery>> {
        self.inner
            .reclaim(partition, stream, consumer, min_idle_ms, count)
            .await
    }

    async fn is_pending(
        &self,
        partition: Partition,
        stream: &StreamName,
        entry_id: &EntryId,
    ) -> MailboxResult<bool> {
        self.inner.is_pending(partition, stream, entry_id).await
    }

    async fn load(&self, partition: Partition, key: &str) -> MailboxResult<StoredState> {
        self.inner.load(partition, key).await
    }

    async fn commit(&self, commit: &Commit) -> MailboxResult<CommitOutcome> {
        let start = Instant::now();
        let outcome = self.inner.commit(commit).await;
        if let Ok(CommitOutcome::Committed { .. }) = outcome {
            let micros = u32::try_from(start.elapsed().as_micros()).unwrap_or(u32::MAX);
            if let Ok(mut log) = self.log.lock() {
                log.latencies_us.push(micros);
            }
        }
        outcome
    }

    async fn complete(
        &self,
        partition: Partition,
        stream: &StreamName,
        entry_id: &EntryId,
        results: &[Envelope],
    ) -> MailboxResult<()> {
        self.inner
            .complete(partition, stream, entry_id, results)
            .await
    }

    async fn defer(
        &self,
        partition: Partition,
        stream: &StreamName,
        entry_id: &EntryId,
        due_ms: Millis,
        envelope: &Envelope,
    ) -> MailboxResult<()> {
        self.inner
            .defer(partition, stream, entry_id, due_ms, envelope)
            .await
    }

    async fn fire_timers(
        &self,
        partition: Partition,
        now_ms: Millis,
        limit: usize,
    ) -> MailboxResult<usize> {
        self.inner.fire_timers(partition, now_ms, limit).await
    }

    async fn dead_letter(
        &self,
        delivery: &Delivery,
        reason: &str,
        now_ms: Millis,
    ) -> MailboxResult<EntryId> {
        self.inner.dead_letter(delivery, reason, now_ms).await
    }
}
