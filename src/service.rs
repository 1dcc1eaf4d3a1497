//! `tradehub serve`: the supervision tree's root, partition leases, readiness, the API and
//! metrics listeners, and graceful shutdown. The service starts the API ([`crate::api`]) and
//! hands it what it needs as values; the API knows nothing of the service.

pub mod addrs;
pub mod anchoring;
pub mod leases;
pub mod readiness;
pub mod retention;
pub mod run;
pub mod wiring;
