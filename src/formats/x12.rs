//! ANSI ASC X12: ISA-driven separators, parsing, writing, envelope checks and 997.
//!
//! Separators are never configured on the reading side: ISA is fixed width, so
//! the element separator is byte 4, the component separator byte 105 and the
//! segment terminator byte 106. Files seen in the wild often trim ISA's padding;
//! those are still read (by counting separators) and the envelope check reports
//! the ISA as not fixed width.

pub mod ack;
pub mod envelope;

use serde::{Deserialize, Serialize};

use super::limits::{Exceeded, Guard, Limits};
use super::{Position, Tree};

/// Separators of an interchange.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Separators {
    /// Element separator (`*`).
    pub element: u8,
    /// Component (sub-element) separator (`:` or `>`).
    pub component: u8,
    /// Segment terminator (`~`, or a line feed).
    pub segment: u8,
    /// Repetition separator (ISA11 from version 00402 on).
    pub repetition: Option<u8>,
}

/// How X12 is written for a partner (`[codec] kind = "x12"`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Element separator used when the tree does not name one.
    pub element: char,
    /// Component separator.
    pub component: char,
    /// Segment terminator.
    pub segment: char,
    /// Repetition separator (00402 and later).
    pub repetition: Option<char>,
    /// Line break after each segment terminator.
    pub newline: bool,
    /// Pad ISA elements to their fixed widths when writing.
    pub pad_isa: bool,
    /// Our ISA06 sender id (qualifier in `sender_qualifier`).
    pub sender: Option<String>,
    /// ISA05.
    pub sender_qualifier: Option<String>,
    /// The partner's ISA08 receiver id.
    pub receiver: Option<String>,
    /// ISA07.
    pub receiver_qualifier: Option<String>,
    /// Inclusive range of interchange control numbers for this partner.
    pub control_range: Option<[u64; 2]>,
    /// What one interchange may hold and cost (nodes are segments' components).
    pub limits: Limits,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            element: '*',
            component: '>',
            segment: '~',
            repetition: None,
            newline: true,
            pad_isa: true,
            sender: None,
            sender_qualifier: None,
            receiver: None,
            receiver_qualifier: None,
            control_range: None,
            limits: Limits::default(),
        }
    }
}

/// Reading or writing X12 failed.
#[derive(Debug, thiserror::Error)]
pub enum X12Error {
    /// Not well-formed X12.
    #[error("X12 syntax error at {position}: {reason}")]
    Syntax {
        /// Where.
        position: Position,
        /// What is wrong.
        reason: String,
    },
    /// Input is not UTF-8 (X12 basic and extended character sets are ASCII-compatible).
    #[error("X12 input at byte {offset} is not valid UTF-8")]
    Encoding {
        /// First bad byte.
        offset: usize,
    },
    /// The interchange passed one of its limits.
    #[error("X12 interchange too costly: {0}")]
    Limit(#[from] Exceeded),
    /// A tree handed to the writer has the wrong shape or unwritable values.
    #[error("X12 tree: {path}: {reason}")]
    Tree {
        /// Place in the tree.
        path: String,
        /// What is wrong.
        reason: String,
    },
}

#[derive(Clone, Copy, Debug)]
struct SegSpan {
    first_elem: u32,
    end_elem: u32,
    offset: u32,
}

#[derive(Clone, Copy, Debug)]
struct ElemSpan {
    first_comp: u32,
    end_comp: u32,
    repeat: bool,
}

/// A parsed X12 interchange; every value borrows from the input (X12 has no escapes).
#[derive(Clone, Debug)]
pub struct Document<'a> {
    /// Separators read from ISA.
    pub separators: Separators,
    /// ISA had its fixed 106-character layout.
    pub isa_fixed_width: bool,
    segments: Vec<SegSpan>,
    elements: Vec<ElemSpan>,
    components: Vec<&'a str>,
}

/// One segment of a [`Document`].
#[derive(Clone, Copy, Debug)]
pub struct Segment<'d, 'a> {
    doc: &'d Document<'a>,
    index: usize,
}

impl<'a> Document<'a> {
    /// Number of segments.
    pub fn len(&self) -> usize {
        self.segments.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.segments.is_empty()
    }

    /// All segments.
    pub fn segments(&self) -> impl Iterator<Item = Segment<'_, 'a>> + '_ {
        (0..self.segments.len()).map(move |index| Segment { doc: self, index })
    }

    /// The separators as a tree map.
    pub fn separators_tree(&self) -> Tree {
        let ch = |b: u8| Tree::Text((b as char).to_string());
        Tree::Map(vec![
            ("element".into(), ch(self.separators.element)),
            ("component".into(), ch(self.separators.component)),
            ("segment".into(), ch(self.separators.segment)),
            (
                "repetition".into(),
                self.separators.repetition.map_or(Tree::Null, ch),
            ),
        ])
    }

    /// `{"separators", "segments": [[tag, element…]…]}`, elements shaped as in EDIFACT.
    pub fn to_tree(&self) -> Tree {
        let segments = self.segments().map(|s| s.to_tree()).collect();
        Tree::Map(vec![
            ("separators".into(), self.separators_tree()),
            ("segments".into(), Tree::List(segments)),
        ])
    }
}

impl<'d, 'a> Segment<'d, 'a> {
    fn span(&self) -> SegSpan {
        self.doc.segments[self.index]
    }

    /// Tag (`ISA`, `ST`, `B4`…).
    pub fn tag(&self) -> &'a str {
        let first = self.doc.elements[self.span().first_elem as usize];
        self.doc.components[first.first_comp as usize]
    }

    /// 1-based segment number.
    pub fn number(&self) -> usize {
        self.index + 1
    }

    /// Byte offset.
    pub fn offset(&self) -> usize {
        self.span().offset as usize
    }

    /// Component `component` (0-based) of element `position` (1-based, first repetition).
    pub fn get(&self, position: usize, component: usize) -> Option<&'a str> {
        let span = self.span();
        let mut pos = 0;
        for e in &self.doc.elements[span.first_elem as usize + 1..span.end_elem as usize] {
            if !e.repeat {
                pos += 1;
            }
            if pos == position {
                let comps = &self.doc.components[e.first_comp as usize..e.end_comp as usize];
                return comps.get(component).copied();
            }
        }
        None
    }

    /// Element text (first component) or empty.
    pub fn element(&self, position: usize) -> &'a str {
        self.get(position, 0).unwrap_or_default()
    }

    fn to_tree(self) -> Tree {
        let span = self.span();
        let doc = self.doc;
        let mut items = vec![Tree::text(self.tag())];
        let mut reps: Vec<Tree> = Vec::new();
        let element_tree =
            |e: &ElemSpan| match &doc.components[e.first_comp as usize..e.end_comp as usize] {
                [single] => Tree::text(*single),
                many => Tree::List(many.iter().map(|c| Tree::text(*c)).collect()),
            };
        let flush = |items: &mut Vec<Tree>, reps: &mut Vec<Tree>| match reps.len() {
            0 => {}
            1 => items.push(reps.remove(0)),
            _ => items.push(Tree::Map(vec![(
                "repeat".into(),
                Tree::List(std::mem::take(reps)),
            )])),
        };
        for e in &doc.elements[span.first_elem as usize + 1..span.end_elem as usize] {
            if !e.repeat {
                flush(&mut items, &mut reps);
            }
            reps.push(element_tree(e));
        }
        flush(&mut items, &mut reps);
        Tree::List(items)
    }
}

/// Fixed ISA element widths, ISA01…ISA16.
pub const ISA_WIDTHS: [usize; 16] = [2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1];

fn syntax_error(input: &str, offset: usize, segment: usize, reason: impl Into<String>) -> X12Error {
    X12Error::Syntax {
        position: Position::at(input.as_bytes(), offset).with_segment(segment),
        reason: reason.into(),
    }
}

/// Reads separators from the ISA segment starting at `start`; returns them and
/// whether ISA was fixed width.
fn read_isa(input: &str, start: usize) -> Result<(Separators, bool), X12Error> {
    let b = input.as_bytes();
    if !b[start..].starts_with(b"ISA") || b.len() < start + 4 {
        return Err(syntax_error(
            input,
            start,
            1,
            "an X12 interchange starts with ISA",
        ));
    }
    let element = b[start + 3];
    if !element.is_ascii() || element.is_ascii_alphanumeric() || element == b' ' {
        return Err(syntax_error(
            input,
            start + 3,
            1,
            format!(
                "'{}' cannot be the element separator",
                (element as char).escape_default()
            ),
        ));
    }
    let fixed = b.len() >= start + 106
        && ISA_WIDTHS
            .iter()
            .scan(start + 3, |at, w| {
                let here = *at;
                *at += w + 1;
                Some(here)
            })
            .all(|at| b[at] == element);
    // ISA16 is the component separator; the byte after it terminates the segment.
    let comp_at = if fixed {
        start + 104
    } else {
        let sixteenth = memchr::memchr_iter(element, &b[start..])
            .nth(15)
            .ok_or_else(|| syntax_error(input, start, 1, "ISA has fewer than 16 elements"))?;
        start + sixteenth + 1
    };
    if b.len() < comp_at + 2 {
        return Err(syntax_error(
            input,
            comp_at,
            1,
            "ISA ends before its component separator and segment terminator",
        ));
    }
    let component = b[comp_at];
    let segment = b[comp_at + 1];
    if !component.is_ascii()
        || !segment.is_ascii()
        || component == element
        || segment == element
        || segment == component
    {
        return Err(syntax_error(
            input,
            comp_at,
            1,
            "ISA16 and the segment terminator must be distinct ASCII characters",
        ));
    }
    let isa11_start = memchr::memchr_iter(element, &b[start..])
        .nth(10)
        .map(|i| start + i + 1);
    let version = memchr::memchr_iter(element, &b[start..])
        .nth(11)
        .and_then(|i| input.get(start + i + 1..start + i + 6))
        .unwrap_or("");
    let repetition = isa11_start
        .map(|i| b[i])
        .filter(|c| version >= "00402" && c.is_ascii() && !c.is_ascii_alphanumeric() && *c != b' ');
    Ok((
        Separators {
            element,
            component,
            segment,
            repetition,
        },
        fixed,
    ))
}

/// Parses an X12 interchange without copying, within `limits`.
pub fn parse<'a>(input: &'a str, limits: &Limits) -> Result<Document<'a>, X12Error> {
    let b = input.as_bytes();
    let mut guard = Guard::start(limits, b)?;
    let mut pos = if b.starts_with(b"\xEF\xBB\xBF") { 3 } else { 0 };
    while pos < b.len() && b[pos].is_ascii_whitespace() {
        pos += 1;
    }
    let (separators, isa_fixed_width) = read_isa(input, pos)?;
    let mut doc = Document {
        separators,
        isa_fixed_width,
        segments: Vec::with_capacity(b.len() / 24),
        elements: Vec::with_capacity(b.len() / 6),
        components: Vec::with_capacity(b.len() / 6),
    };
    let mut table = [0u8; 256];
    table[separators.element as usize] = 1;
    table[separators.component as usize] = 2;
    table[separators.segment as usize] = 3;
    if let Some(r) = separators.repetition {
        table[r as usize] = 4;
    }
    loop {
        while pos < b.len() && matches!(b[pos], b'\r' | b'\n') && b[pos] != separators.segment {
            pos += 1;
        }
        if pos >= b.len() {
            break;
        }
        let seg_number = doc.segments.len() + 1;
        let seg_start = pos;
        let is_isa = b[pos..].starts_with(b"ISA") && b.get(pos + 3) == Some(&separators.element);
        let first_elem = doc.elements.len() as u32;
        let mut elem_first = doc.components.len() as u32;
        let mut repeat = false;
        loop {
            let start = pos;
            let mut class = 0;
            while pos < b.len() {
                class = table[b[pos] as usize];
                // Inside ISA only element separators count: ISA11 and ISA16 hold the
                // repetition and component separators themselves.
                if is_isa && (class == 2 || class == 4) {
                    class = 0;
                }
                if class != 0 {
                    break;
                }
                pos += 1;
            }
            guard
                .nodes(1)
                .and_then(|()| guard.value(pos - start))
                .map_err(|l| guard.at(l, start).in_segment(seg_number))?;
            doc.components.push(&input[start..pos]);
            // A line-feed terminated file may lack the final line feed.
            if pos >= b.len() && matches!(separators.segment, b'\n' | b'\r') {
                class = 3;
            } else if pos >= b.len() {
                return Err(syntax_error(
                    input,
                    seg_start,
                    seg_number,
                    format!(
                        "segment '{}' is not terminated by '{}'",
                        input[seg_start..]
                            .chars()
                            .take(3)
                            .collect::<String>()
                            .escape_default(),
                        (separators.segment as char).escape_default()
                    ),
                ));
            }
            pos += 1;
            if class == 2 {
                continue;
            }
            doc.elements.push(ElemSpan {
                first_comp: elem_first,
                end_comp: doc.components.len() as u32,
                repeat,
            });
            elem_first = doc.components.len() as u32;
            repeat = class == 4;
            if class == 3 {
                break;
            }
        }
        let tag = doc.components[doc.elements[first_elem as usize].first_comp as usize];
        if tag.is_empty() || tag.len() > 3 || !tag.bytes().all(|c| c.is_ascii_alphanumeric()) {
            return Err(syntax_error(
                input,
                seg_start,
                seg_number,
                format!("invalid segment tag '{}'", tag.escape_default()),
            ));
        }
        doc.segments.push(SegSpan {
            first_elem,
            end_elem: doc.elements.len() as u32,
            offset: seg_start as u32,
        });
    }
    Ok(doc)
}

/// Parses bytes into the generic tree, within `limits`.
pub fn parse_bytes(input: &[u8], limits: &Limits) -> Result<Tree, X12Error> {
    let text = std::str::from_utf8(input).map_err(|e| X12Error::Encoding {
        offset: e.valid_up_to(),
    })?;
    Ok(parse(text, limits)?.to_tree())
}

fn tree_error(path: impl Into<String>, reason: impl Into<String>) -> X12Error {
    X12Error::Tree {
        path: path.into(),
        reason: reason.into(),
    }
}

fn pick(tree: Option<&Tree>, key: &str, fallback: Option<char>) -> Result<Option<char>, X12Error> {
    match tree.and_then(|t| t.get(key)) {
        None => Ok(fallback),
        Some(Tree::Null) => Ok(None),
        Some(Tree::Text(s)) if s.chars().count() == 1 && s.is_ascii() => Ok(s.chars().next()),
        Some(other) => Err(tree_error(
            format!(".separators.{key}"),
            format!("expected one ASCII character, found {}", other.kind()),
        )),
    }
}

/// Writes a tree of the shape [`Document::to_tree`] produces.
pub fn write(tree: &Tree, settings: &Settings) -> Result<String, X12Error> {
    let seps = tree.get("separators");
    let element = pick(seps, "element", Some(settings.element))?.unwrap_or('*');
    let component = pick(seps, "component", Some(settings.component))?.unwrap_or('>');
    let segment = pick(seps, "segment", Some(settings.segment))?.unwrap_or('~');
    let repetition = pick(seps, "repetition", settings.repetition)?;
    let segments = tree
        .get("segments")
        .and_then(Tree::as_list)
        .ok_or_else(|| tree_error(".segments", "missing or not an array"))?;
    let specials: Vec<char> = [element, component, segment]
        .into_iter()
        .chain(repetition)
        .collect();
    let mut out = String::with_capacity(segments.len() * 32);
    for (i, seg) in segments.iter().enumerate() {
        let path = format!(".segments[{i}]");
        let items = seg
            .as_list()
            .ok_or_else(|| tree_error(&path, "expected an array"))?;
        let Some(Tree::Text(tag)) = items.first() else {
            return Err(tree_error(&path, "first item must be the segment tag"));
        };
        out.push_str(tag);
        let is_isa = tag == "ISA";
        // Readers find the separators at fixed places in ISA: without all sixteen elements the
        // interchange could not be read back.
        if is_isa && items.len() != ISA_WIDTHS.len() + 1 {
            return Err(tree_error(
                &path,
                format!("ISA has {} elements, not 16", items.len() - 1),
            ));
        }
        for (j, item) in items[1..].iter().enumerate() {
            out.push(element);
            let epath = format!("{path}[{}]", j + 1);
            if is_isa {
                let mut text = item
                    .as_str()
                    .ok_or_else(|| tree_error(&epath, "ISA elements are plain strings"))?
                    .to_owned();
                if settings.pad_isa
                    && let Some(&width) = ISA_WIDTHS.get(j)
                {
                    if text.chars().count() > width {
                        return Err(tree_error(
                            &epath,
                            format!("ISA{:02} is longer than {width}", j + 1),
                        ));
                    }
                    let fill = if matches!(j, 8 | 9 | 12) { '0' } else { ' ' };
                    let pad: String =
                        std::iter::repeat_n(fill, width - text.chars().count()).collect();
                    text = if fill == '0' {
                        pad + &text
                    } else {
                        text + &pad
                    };
                }
                out.push_str(&text);
                continue;
            }
            let reps: Vec<&Tree> = match item {
                Tree::Map(_) => {
                    let list = item.get("repeat").and_then(Tree::as_list).ok_or_else(|| {
                        tree_error(&epath, "an object element needs \"repeat\": [...]")
                    })?;
                    if repetition.is_none() {
                        return Err(tree_error(
                            &epath,
                            "repetition needs a repetition separator (00402+)",
                        ));
                    }
                    list.iter().collect()
                }
                other => vec![other],
            };
            for (k, rep) in reps.iter().enumerate() {
                if k > 0
                    && let Some(r) = repetition
                {
                    out.push(r);
                }
                let comps: Vec<&Tree> = match rep {
                    Tree::List(c) => c.iter().collect(),
                    other => vec![*other],
                };
                for (m, c) in comps.iter().enumerate() {
                    if m > 0 {
                        out.push(component);
                    }
                    let text = match c {
                        Tree::Null => "",
                        Tree::Text(s) | Tree::Number(s) => s,
                        other => {
                            return Err(tree_error(
                                &epath,
                                format!("expected a string, found {}", other.kind()),
                            ));
                        }
                    };
                    if let Some(bad) = text.chars().find(|ch| specials.contains(ch)) {
                        return Err(tree_error(
                            &epath,
                            format!(
                                "value '{text}' contains separator '{bad}' and X12 has no release character"
                            ),
                        ));
                    }
                    out.push_str(text);
                }
            }
        }
        out.push(segment);
        if settings.newline && segment != '\n' {
            out.push('\n');
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
