//! Peak heap memory of parsing hostile EDIFACT: 4 MB interchanges holding two million
//! elements, as 2,000 segments of 1,000 elements and as one segment of two million.
//!
//! A counting global allocator records the high-water mark of each case; the figures
//! print as one line per case (`cargo bench --bench memory`). Memory, not time, is the
//! measure here, so this bench has no criterion harness.

use peak_alloc::PeakAlloc;
use tradehub::formats::{Limits, edifact};
use tradehub_testkit::hostile;

#[global_allocator]
static PEAK: PeakAlloc = PeakAlloc;

const MIB: f64 = 1024.0 * 1024.0;

/// Peak bytes allocated while `work` runs, above what was live before it.
/// A way of parsing an interchange, giving what it made.
type Parse = fn(&str, &Limits) -> String;

fn peak_of<T>(work: impl FnOnce() -> T) -> (usize, T) {
    let before = PEAK.current_usage();
    PEAK.reset_peak_usage();
    let out = work();
    (PEAK.peak_usage().saturating_sub(before), out)
}

/// The zero-copy document: spans into the input.
fn spans(text: &str, limits: &Limits) -> String {
    match edifact::parse(text, limits) {
        Ok(doc) => format!("{} segments", doc.len()),
        Err(e) => e.to_string(),
    }
}

/// The generic tree the mappings read.
fn tree(text: &str, limits: &Limits) -> String {
    match edifact::parse_bytes(text.as_bytes(), limits) {
        Ok(tree) => format!(
            "a tree of {} segments",
            tree.get("segments")
                .and_then(|s| s.as_list())
                .map_or(0, <[_]>::len)
        ),
        Err(e) => e.to_string(),
    }
}

#[allow(clippy::print_stdout, reason = "the figures are this bench's report")]
fn main() {
    let raised = Limits {
        max_nodes: 3_000_000,
        ..Limits::default()
    };
    for (shape, document) in [
        ("2,000 x 1,000", hostile::many_element_edifact(2_000, 1_000)),
        ("1 x 2,000,000", hostile::many_element_edifact(1, 2_000_000)),
    ] {
        let input = document.len() as f64;
        let text = std::str::from_utf8(&document).expect("ASCII");
        let default = Limits::default();
        let cases: [(&str, &Limits, Parse); 3] = [
            ("document (spans)", &raised, spans),
            ("tree, max_nodes raised", &raised, tree),
            ("tree, default limits", &default, tree),
        ];
        for (case, limits, parse) in cases {
            let (peak, outcome) = peak_of(|| parse(text, limits));
            println!(
                "edifact {shape} elements, {:.1} MiB, {case}: peak {:.1} MiB ({:.1}x input): {outcome}",
                input / MIB,
                peak as f64 / MIB,
                peak as f64 / input,
            );
        }
    }
}
