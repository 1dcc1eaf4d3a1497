//! Whether this node can do work: Redis answers, it owns partitions (or is still allowed to
//! take some) and it is not shutting down. The lease manager and the sampler update it; the
//! API's `/readyz` reads it through [`ReadyProbe`].

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use crate::api::{ReadyProbe, ReadyReport};

/// What readiness depends on, updated by the lease manager and the sampler.
#[derive(Debug, Default)]
pub struct Readiness {
    redis_up: AtomicBool,
    leases_settled: AtomicBool,
    partitions_owned: AtomicU32,
    draining: AtomicBool,
}

impl Readiness {
    /// Record whether Redis answered the last probe.
    pub fn set_redis_up(&self, up: bool) {
        self.redis_up.store(up, Ordering::Relaxed);
    }

    /// Record how many partitions this node owns after a lease round.
    pub fn set_partitions_owned(&self, owned: u32) {
        self.partitions_owned.store(owned, Ordering::Relaxed);
        self.leases_settled.store(true, Ordering::Relaxed);
    }

    /// Mark the node as shutting down: it stops being ready at once.
    pub fn set_draining(&self) {
        self.draining.store(true, Ordering::Relaxed);
    }

    /// Partitions owned after the last lease round.
    pub fn partitions_owned(&self) -> u32 {
        self.partitions_owned.load(Ordering::Relaxed)
    }

    /// Ready: Redis answers, a lease round completed with partitions owned, not draining.
    pub fn is_ready(&self) -> bool {
        self.redis_up.load(Ordering::Relaxed)
            && self.leases_settled.load(Ordering::Relaxed)
            && self.partitions_owned() > 0
            && !self.draining.load(Ordering::Relaxed)
    }
}

impl ReadyProbe for Readiness {
    fn report(&self) -> ReadyReport {
        ReadyReport {
            ready: self.is_ready(),
            redis_up: self.redis_up.load(Ordering::Relaxed),
            partitions_owned: self.partitions_owned(),
            draining: self.draining.load(Ordering::Relaxed),
        }
    }
}
