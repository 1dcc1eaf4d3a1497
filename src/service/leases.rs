//! Partition leases: nodes on one Redis split the partitions fairly and take over
//! a dead node's partitions once its leases expire.
//!
//! Every round a node heartbeats in the node registry, counts live nodes, renews
//! the leases it holds (stopping work on any it lost), gives back partitions above
//! its fair share (work stopped first, lease released after), and takes free
//! partitions up to its share.

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tradehub_actors::mailbox::{Leases, MailboxResult, Partition};

use super::readiness::Readiness;
use crate::telemetry::names;

/// Starts and stops the work of one partition on this node.
pub trait PartitionWork: Send + Sync + 'static {
    /// Begin hosting `partition` (its reader, reclaimer, timers and partner reads).
    fn start(&self, partition: Partition) -> impl Future<Output = ()> + Send;
    /// Stop hosting `partition`, letting in-flight commits finish.
    fn stop(&self, partition: Partition) -> impl Future<Output = ()> + Send;
}

/// The node registry: who is alive, for the fair share.
pub trait NodeRegistry: Send + Sync + 'static {
    /// Record that `node` is alive and return how many nodes are alive.
    fn heartbeat(
        &self,
        node: &str,
        ttl: Duration,
    ) -> impl Future<Output = MailboxResult<u32>> + Send;
    /// Remove `node` from the registry (clean shutdown).
    fn leave(&self, node: &str) -> impl Future<Output = MailboxResult<()>> + Send;
}

/// Lease timing.
#[derive(Debug, Clone, Copy)]
pub struct LeaseTiming {
    /// Lease time to live.
    pub ttl: Duration,
    /// Interval between rounds.
    pub renew: Duration,
}

/// The lease manager of one node.
pub struct LeaseManager<M, R, W> {
    mailbox: M,
    registry: R,
    work: Arc<W>,
    node: String,
    partitions: u16,
    timing: LeaseTiming,
    readiness: Arc<Readiness>,
    owned: BTreeSet<Partition>,
}

impl<M: Leases, R: NodeRegistry, W: PartitionWork> LeaseManager<M, R, W> {
    /// A manager for `node` over `partitions` partitions.
    pub fn new(
        mailbox: M,
        registry: R,
        work: Arc<W>,
        node: String,
        partitions: u16,
        timing: LeaseTiming,
        readiness: Arc<Readiness>,
    ) -> Self {
        Self {
            mailbox,
            registry,
            work,
            node,
            partitions,
            timing,
            readiness,
            owned: BTreeSet::new(),
        }
    }

    /// Partitions held after the last round.
    pub fn owned(&self) -> &BTreeSet<Partition> {
        &self.owned
    }

    /// Run rounds until `shutdown` turns true, then stop all work and release every lease.
    pub async fn run(mut self, mut shutdown: watch::Receiver<bool>) {
        let mut ticker = tokio::time::interval(self.timing.renew);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = ticker.tick() => {
                    if let Err(error) = self.round().await {
                        self.readiness.set_redis_up(false);
                        tracing::warn!(%error, node = %self.node, "lease round failed; retrying next round");
                    }
                }
                changed = shutdown.changed() => {
                    if changed.is_err() || *shutdown.borrow() {
                        break;
                    }
                }
            }
        }
        self.release_all().await;
    }

    /// One round: heartbeat, renew, shed above the fair share, acquire up to it.
    pub async fn round(&mut self) -> MailboxResult<()> {
        let ttl_ms = self.timing.ttl.as_millis() as u64;
        let live = self
            .registry
            .heartbeat(&self.node, self.timing.ttl)
            .await?
            .max(1);
        self.readiness.set_redis_up(true);
        let share = usize::from(self.partitions).div_ceil(live as usize);

        for partition in self.owned.clone() {
            if !self.mailbox.lease(partition, &self.node, ttl_ms).await? {
                tracing::warn!(partition, node = %self.node, "lease lost; stopping the partition's work");
                self.owned.remove(&partition);
                self.work.stop(partition).await;
            }
        }
        while self.owned.len() > share {
            let Some(partition) = self.owned.pop_last() else {
                break;
            };
            self.work.stop(partition).await;
            self.mailbox.release_lease(partition, &self.node).await?;
            tracing::info!(partition, node = %self.node, share, "partition handed back for rebalancing");
        }
        // Start at a node-dependent offset so that nodes starting together do not
        // all race for partition 0 first.
        let offset = tradehub_actors::envelope::partition_of(&self.node, self.partitions);
        for step in 0..self.partitions {
            if self.owned.len() >= share {
                break;
            }
            let partition = (offset + step) % self.partitions;
            if self.owned.contains(&partition) {
                continue;
            }
            if self.mailbox.lease(partition, &self.node, ttl_ms).await? {
                tracing::info!(partition, node = %self.node, "partition acquired");
                self.owned.insert(partition);
                self.work.start(partition).await;
            }
        }
        metrics::gauge!(names::PARTITIONS_OWNED).set(self.owned.len() as f64);
        self.readiness.set_partitions_owned(self.owned.len() as u32);
        Ok(())
    }

    async fn release_all(&mut self) {
        for partition in std::mem::take(&mut self.owned) {
            self.work.stop(partition).await;
            if let Err(error) = self.mailbox.release_lease(partition, &self.node).await {
                tracing::warn!(%error, partition, "could not release lease; it expires by itself");
            }
        }
        if let Err(error) = self.registry.leave(&self.node).await {
            tracing::warn!(%error, node = %self.node, "could not leave the node registry; the entry expires by itself");
        }
        self.readiness.set_partitions_owned(0);
    }
}

#[cfg(test)]
mod tests;
