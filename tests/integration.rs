//! Integration tests: one binary, one module per area in `tests/integration/`.

mod common;
#[path = "integration/formats.rs"]
mod formats;
