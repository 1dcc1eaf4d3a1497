//! Rate limits on token-authenticated routes, one bucket per principal (an API token or a JWT's
//! subject) and one per source address (governor's keyed GCRA limiter). The address is limited before the token is checked, so
//! guessing tokens from one address is throttled too.

use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

/// Keys kept per limiter before idle ones are dropped.
const KEYS_MAX: usize = 10_000;

/// Requests per second and burst, for tokens and for addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitSettings {
    /// Steady requests per second of one token.
    pub per_token: NonZeroU32,
    /// Requests one token may make at once above the steady rate.
    pub token_burst: NonZeroU32,
    /// Steady requests per second from one address.
    pub per_address: NonZeroU32,
    /// Requests one address may make at once above the steady rate.
    pub address_burst: NonZeroU32,
}

type Keyed<K, C> =
    RateLimiter<K, DefaultKeyedStateStore<K>, C, NoOpMiddleware<<C as Clock>::Instant>>;

/// The per-token and per-address limiters; `C` is governor's clock (a fake one in tests).
pub struct Limits<C: Clock + Clone = DefaultClock> {
    by_token: Keyed<String, C>,
    by_address: Keyed<IpAddr, C>,
    clock: C,
}

impl<C: Clock + Clone> std::fmt::Debug for Limits<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Limits").finish_non_exhaustive()
    }
}

impl Limits {
    /// Limits on the system's clock.
    pub fn new(settings: LimitSettings) -> Self {
        Self::with_clock(settings, DefaultClock::default())
    }
}

impl<C: Clock + Clone> Limits<C> {
    /// Limits on `clock`.
    pub fn with_clock(settings: LimitSettings, clock: C) -> Self {
        let quota = |rate, burst| Quota::per_second(rate).allow_burst(burst);
        Self {
            by_token: RateLimiter::new(
                quota(settings.per_token, settings.token_burst),
                DefaultKeyedStateStore::default(),
                clock.clone(),
            ),
            by_address: RateLimiter::new(
                quota(settings.per_address, settings.address_burst),
                DefaultKeyedStateStore::default(),
                clock.clone(),
            ),
            clock,
        }
    }

    /// One request from `address`; `Err` holds how long to wait.
    pub fn address(&self, address: IpAddr) -> Result<(), Duration> {
        self.take(&self.by_address, &address)
    }

    /// One request of the principal `id` (`token:<id>` or `oidc:<sub>`); `Err` holds how long
    /// to wait.
    pub fn token(&self, id: &str) -> Result<(), Duration> {
        self.take(&self.by_token, &id.to_owned())
    }

    fn take<K: Hash + Eq + Clone>(&self, limiter: &Keyed<K, C>, key: &K) -> Result<(), Duration> {
        if limiter.len() > KEYS_MAX {
            limiter.retain_recent();
        }
        limiter
            .check_key(key)
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }
}
