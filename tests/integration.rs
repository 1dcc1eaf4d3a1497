//! The integration test binary: one module per area in `tests/integration/`,
//! the shared harness in `tests/common/`. Both are declared with `#[path]`:
//! this file is the crate root, and a `tests/common.rs` would be built as a test
//! binary of its own.
//!
//! The binary is a target of the `tradehub-bin` package (`bin/Cargo.toml`), because its tests
//! run the `tradehub` binary; the areas that drive the simulators (brokers, end to end,
//! finance, Odoo) need its feature `sim`.

#[path = "common"]
mod common {
    pub mod data;
    pub mod gate;
    pub mod redis;
    pub mod repo;
}

#[path = "integration/store.rs"]
mod store;

#[path = "integration/runtime.rs"]
mod runtime;

#[path = "integration/audit.rs"]
mod audit;
#[path = "integration/retention.rs"]
mod retention;

#[path = "integration/model.rs"]
mod model;

#[path = "integration/formats.rs"]
mod formats;

#[path = "integration/duty.rs"]
mod duty;
#[path = "integration/screening.rs"]
mod screening;

#[path = "integration/auth.rs"]
mod auth;
#[path = "integration/foureyes.rs"]
mod foureyes;

#[path = "integration/oidc.rs"]
mod oidc;
#[path = "integration/redis_tls.rs"]
mod redis_tls;

#[path = "integration/encryption.rs"]
mod encryption;

#[path = "integration/tls.rs"]
mod tls;

#[cfg(feature = "sim")]
#[path = "integration/brokers.rs"]
mod brokers;
#[cfg(feature = "sim")]
#[path = "integration/callbacks.rs"]
mod callbacks;
#[cfg(feature = "sim")]
#[path = "integration/e2e.rs"]
mod e2e;
#[cfg(feature = "sim")]
#[path = "integration/file_drops.rs"]
mod file_drops;
#[cfg(feature = "sim")]
#[path = "integration/finance.rs"]
mod finance;
#[cfg(feature = "sim")]
#[path = "integration/odoo.rs"]
mod odoo;
