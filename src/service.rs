//! `tradehub serve`: the supervision tree's root, partition leases, the API and
//! metrics listeners, and graceful shutdown.

pub mod leases;
pub mod odoo_feed;
pub mod redis_server;
pub mod run;
pub mod wiring;
