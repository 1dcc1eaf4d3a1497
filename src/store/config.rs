//! Configuration of the Redis store.

use serde::{Deserialize, Serialize};

/// How to reach Redis and lay out the keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StoreConfig {
    /// Redis URL, e.g. `redis://127.0.0.1:6379` (the `REDIS_URL` environment variable).
    pub url: String,
    /// Prefix of every key (`<prefix>:{s<p>}:…`); lets several hubs share one Redis.
    pub prefix: String,
    /// How long an ingest idempotency key is remembered, in milliseconds.
    pub dedupe_ttl_ms: u64,
    /// How long a non-blocking command may take before it counts as unavailable, in ms.
    pub response_timeout_ms: u64,
    /// How long connecting may take, in milliseconds.
    pub connect_timeout_ms: u64,
    /// How many times a dropped connection is retried (with exponential backoff)
    /// before a command fails with `Unavailable`.
    pub reconnect_retries: usize,
    /// Longest wait between reconnection attempts, in milliseconds.
    pub reconnect_max_delay_ms: u64,
    /// Idle connections kept for blocking reads (a blocking XREADGROUP holds its
    /// connection, so it never shares the multiplexed one).
    pub blocking_pool_size: usize,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            url: "redis://127.0.0.1:6379".to_owned(),
            prefix: "th".to_owned(),
            dedupe_ttl_ms: 7 * 24 * 3600 * 1000,
            response_timeout_ms: 5_000,
            connect_timeout_ms: 2_000,
            reconnect_retries: 6,
            reconnect_max_delay_ms: 2_000,
            blocking_pool_size: 32,
        }
    }
}

impl StoreConfig {
    /// Defaults with another URL.
    pub fn with_url(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            ..Self::default()
        }
    }

    /// The same configuration with another key prefix.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }
}
