//! Locates the public data set shared beside the project (`../shared/data`).

use std::path::PathBuf;

/// `../shared/data/<rel>` relative to the crate; panics with a clear message when the shared
/// folder is absent (the tests that need it cannot run without it).
pub fn path(rel: &str) -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data");
    assert!(
        root.is_dir(),
        "shared test data not found at {}: these tests need the public data set checked out beside the project",
        root.display()
    );
    root.join(rel)
}
