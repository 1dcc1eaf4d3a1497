//! The integration test binary: one module per area in `tests/integration/`,
//! the shared harness in `tests/common/`. Both are declared with `#[path]`:
//! this file is the crate root, and a `tests/common.rs` would be built as a test
//! binary of its own.

#[path = "common"]
mod common {
    pub mod data;
    pub mod redis;
}

#[path = "integration/store.rs"]
mod store;

#[path = "integration/runtime.rs"]
mod runtime;

#[path = "integration/model.rs"]
mod model;

#[path = "integration/formats.rs"]
mod formats;

#[path = "integration/brokers.rs"]
mod brokers;
#[path = "integration/duty.rs"]
mod duty;
#[path = "integration/e2e.rs"]
mod e2e;
#[path = "integration/finance.rs"]
mod finance;
#[path = "integration/odoo.rs"]
mod odoo;
#[path = "integration/screening.rs"]
mod screening;
