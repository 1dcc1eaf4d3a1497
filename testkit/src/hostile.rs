//! Documents built the way an attacker builds them, for the parsers' limit tests and
//! benchmarks: deep nesting, a quarter of a million siblings, millions of EDI elements.

use std::fmt::Write;

/// `<a>` nested `depth` levels deep around one text, closed properly.
pub fn deep_xml(depth: usize) -> Vec<u8> {
    let mut doc = "<a>".repeat(depth);
    doc.push('x');
    doc.push_str(&"</a>".repeat(depth));
    doc.into_bytes()
}

/// `depth` nested JSON arrays around `0`.
pub fn deep_json(depth: usize) -> Vec<u8> {
    let mut doc = "[".repeat(depth);
    doc.push('0');
    doc.push_str(&"]".repeat(depth));
    doc.into_bytes()
}

/// One root element with `n` empty children, each with its own name (`<k0/><k1/>…`).
pub fn wide_xml(n: usize) -> Vec<u8> {
    let mut doc = String::from("<r>");
    for i in 0..n {
        let _ = write!(doc, "<k{i}/>");
    }
    doc.push_str("</r>");
    doc.into_bytes()
}

/// One JSON object with `n` distinct keys (`{"k0":0,"k1":1,…}`).
pub fn wide_json(n: usize) -> Vec<u8> {
    let mut doc = String::from("{");
    for i in 0..n {
        let _ = write!(doc, "{}\"k{i}\":{i}", if i == 0 { "" } else { "," });
    }
    doc.push('}');
    doc.into_bytes()
}

/// A syntax-4 interchange of `segments` FTX segments with `per_segment` one-letter
/// elements each: two bytes per element, so 4 MB hold two million of them.
pub fn many_element_edifact(segments: usize, per_segment: usize) -> Vec<u8> {
    let mut doc =
        String::from("UNA:+.? '\nUNB+UNOC:4+S+R+260101:1200+1'\nUNH+1+ORDERS:D:96A:UN'\n");
    let body = "+a".repeat(per_segment);
    for _ in 0..segments {
        let _ = writeln!(doc, "FTX{body}'");
    }
    let _ = write!(doc, "UNT+{}+1'\nUNZ+1+1'\n", segments + 2);
    doc.into_bytes()
}
