//! Retry policy: exponential backoff with full jitter.

use std::time::Duration;

use rand::Rng;

/// How a partner connection waits between attempts of a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Ceiling of the first wait.
    pub initial: Duration,
    /// Largest ceiling.
    pub max: Duration,
    /// Waits longer than this go to the timer set (`Mailbox::defer`) instead of
    /// holding the entry pending in memory.
    pub defer_threshold: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            initial: Duration::from_millis(200),
            max: Duration::from_secs(300),
            defer_threshold: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    /// The ceiling of the wait after failed attempt `attempt` (1-based):
    /// `initial * 2^(attempt-1)`, capped at `max`.
    pub fn ceiling(&self, attempt: u32) -> Duration {
        let doublings = attempt.saturating_sub(1).min(31);
        self.initial.saturating_mul(1u32 << doublings).min(self.max)
    }

    /// The wait after failed attempt `attempt`: uniform in `[0, ceiling]` (full
    /// jitter, so that many commands failing together do not retry together),
    /// but never less than what the partner asked for (`after`, e.g. a 429's
    /// `Retry-After`).
    pub fn delay(&self, attempt: u32, after: Option<Duration>, rng: &mut impl Rng) -> Duration {
        let ceiling = self.ceiling(attempt);
        let millis = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
        let jittered = Duration::from_millis(rng.random_range(0..=millis));
        jittered.max(after.unwrap_or_default())
    }
}
