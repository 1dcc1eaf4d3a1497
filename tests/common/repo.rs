//! The repository root, where `config/`, `data/` and `tests/fixtures/` are read from. The
//! integration binary belongs to the `tradehub-bin` package (it runs the `tradehub` binary), whose
//! folder is `bin/`.

use std::path::Path;

/// The repository root.
pub fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}
