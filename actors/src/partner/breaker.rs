//! The circuit breaker of a partner connection: closed, open, half-open.

use crate::clock::Millis;

/// Configuration of a circuit breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerConfig {
    /// Consecutive failures that open the breaker.
    pub failure_threshold: u32,
    /// How long the breaker stays open before letting probes through.
    pub open_ms: u64,
    /// Probe calls allowed while half-open; all must succeed to close again.
    pub half_open_probes: u32,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        Self {
            failure_threshold: 5,
            open_ms: 30_000,
            half_open_probes: 1,
        }
    }
}

/// The state of a breaker, as reported to metrics and health checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    /// Calls flow.
    Closed,
    /// A few probe calls test whether the partner is back.
    HalfOpen,
    /// No calls: the partner is failing.
    Open,
}

impl BreakerState {
    /// The gauge value: 0 closed, 1 half-open, 2 open.
    pub fn gauge(self) -> f64 {
        match self {
            Self::Closed => 0.0,
            Self::HalfOpen => 1.0,
            Self::Open => 2.0,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Inner {
    Closed { failures: u32 },
    Open { until: Millis },
    HalfOpen { probes: u32, successes: u32 },
}

/// A circuit breaker driven by explicit times, so that it is deterministic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CircuitBreaker {
    config: BreakerConfig,
    inner: Inner,
}

impl CircuitBreaker {
    /// A closed breaker.
    pub fn new(config: BreakerConfig) -> Self {
        Self {
            config,
            inner: Inner::Closed { failures: 0 },
        }
    }

    /// The state at `now`; an open breaker whose time is up reads as half-open.
    pub fn state(&self, now: Millis) -> BreakerState {
        match self.inner {
            Inner::Closed { .. } => BreakerState::Closed,
            Inner::Open { until } if now >= until => BreakerState::HalfOpen,
            Inner::Open { .. } => BreakerState::Open,
            Inner::HalfOpen { .. } => BreakerState::HalfOpen,
        }
    }

    /// Whether a call may start at `now` (without taking a probe).
    pub fn allows(&self, now: Millis) -> bool {
        match self.inner {
            Inner::Closed { .. } => true,
            Inner::Open { until } => now >= until,
            Inner::HalfOpen { probes, successes } => {
                probes + successes < self.config.half_open_probes.max(1)
            }
        }
    }

    /// Start a call at `now`: `None` when not allowed, else whether it is a probe.
    pub fn acquire(&mut self, now: Millis) -> Option<bool> {
        if !self.allows(now) {
            return None;
        }
        match &mut self.inner {
            Inner::Closed { .. } => Some(false),
            Inner::Open { .. } => {
                self.inner = Inner::HalfOpen {
                    probes: 1,
                    successes: 0,
                };
                Some(true)
            }
            Inner::HalfOpen { probes, .. } => {
                *probes += 1;
                Some(true)
            }
        }
    }

    /// Record how a call started with [`CircuitBreaker::acquire`] went.
    /// `healthy` is false for failures that say the partner is in trouble
    /// (errors worth a retry, timeouts, panics).
    pub fn record(&mut self, probe: bool, healthy: bool, now: Millis) {
        let open = Inner::Open {
            until: now + self.config.open_ms,
        };
        match &mut self.inner {
            Inner::Closed { failures } => {
                if healthy {
                    *failures = 0;
                } else {
                    *failures += 1;
                    if *failures >= self.config.failure_threshold.max(1) {
                        self.inner = open;
                    }
                }
            }
            Inner::Open { .. } => {}
            Inner::HalfOpen { probes, successes } => {
                if !healthy {
                    self.inner = open;
                } else if probe {
                    *probes = probes.saturating_sub(1);
                    *successes += 1;
                    if *successes >= self.config.half_open_probes.max(1) {
                        self.inner = Inner::Closed { failures: 0 };
                    }
                }
            }
        }
    }
}
