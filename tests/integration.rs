//! The integration test binary: one module per area in `tests/integration/`,
//! the shared harness in `tests/common/`. Both are declared with `#[path]`:
//! this file is the crate root, and a `tests/common.rs` would be built as a test
//! binary of its own.

#[path = "common"]
mod common {
    pub mod shared_data;
}

#[path = "integration/screening.rs"]
mod screening;
