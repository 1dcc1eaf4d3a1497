//! Access to the sample data in `tests/data` (see its README for what is there and where it is from).

use std::path::PathBuf;

/// `tests/data`, or a panic saying where it was looked for.
pub fn test_data() -> PathBuf {
    let dir = super::repo::root().join("tests/data");
    assert!(
        dir.is_dir(),
        "these tests need the sample data at {}",
        dir.display()
    );
    dir
}

/// `tests/data/<rel>`, or a panic saying where the data was looked for.
pub fn path(rel: &str) -> PathBuf {
    test_data().join(rel)
}

/// Files under `tests/data/<sub>` whose name ends with `suffix`, sorted, recursively.
pub fn files(sub: &str, suffix: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![test_data().join(sub)];
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
