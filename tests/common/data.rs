//! Access to the public data set in `../shared/data` next to the project.

use std::path::{Path, PathBuf};

/// `../shared/data`, or a panic saying where it was looked for.
pub fn shared_data() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data");
    assert!(
        dir.is_dir(),
        "these tests need the shared data set at {} (a checkout of the tradehub data folder next to the project)",
        dir.display()
    );
    dir
}

/// `../shared/data/<rel>`, or a panic saying where the data set was looked for.
pub fn path(rel: &str) -> PathBuf {
    shared_data().join(rel)
}

/// Files under `../shared/data/<sub>` whose name ends with `suffix`, sorted, recursively.
pub fn files(sub: &str, suffix: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![shared_data().join(sub)];
    while let Some(dir) = stack.pop() {
        let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.to_string_lossy().ends_with(suffix) {
                out.push(path);
            }
        }
    }
    out.sort();
    assert!(!out.is_empty(), "no *{suffix} files under {sub}");
    out
}
