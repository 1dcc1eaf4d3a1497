//! UN/EDIFACT: tokenising, parsing, writing, envelopes, directory checks and CONTRL.
//!
//! The parser is zero-copy: a [`Document`] keeps three flat arrays (segments,
//! elements, components) of spans into the input, and only a component that
//! contains a release character is unescaped into an owned string. That keeps
//! allocation per document instead of per segment, which is what makes the
//! throughput target reachable.

pub mod contrl;
pub mod directory;
pub mod envelope;
mod write;

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use super::limits::{Exceeded, Guard, Limits};
use super::{Position, Tree};

pub use write::write;

/// The six service characters of an interchange (the `UNA` advice).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Separators {
    /// Component data element separator (`:`).
    pub component: u8,
    /// Data element separator (`+`).
    pub element: u8,
    /// Decimal mark (`.` or `,`).
    pub decimal: u8,
    /// Release character (`?`), if any.
    pub release: Option<u8>,
    /// Repetition separator (`*` in syntax 4); `None` where reserved (a space in syntax 3).
    pub repetition: Option<u8>,
    /// Segment terminator (`'`).
    pub segment: u8,
}

impl Separators {
    /// Syntax version 3 defaults: `:+.? '`.
    pub const SYNTAX_3: Self = Self {
        component: b':',
        element: b'+',
        decimal: b'.',
        release: Some(b'?'),
        repetition: None,
        segment: b'\'',
    };

    /// Syntax version 4 defaults: `:+.?*'`.
    pub const SYNTAX_4: Self = Self {
        repetition: Some(b'*'),
        ..Self::SYNTAX_3
    };

    /// Reads the six characters after `UNA`.
    pub fn from_una(chars: &[u8]) -> Result<Self, String> {
        if chars.len() < 6 {
            return Err("UNA needs six service characters".into());
        }
        if let Some(c) = chars[..6].iter().find(|c| !c.is_ascii()) {
            return Err(format!("UNA service character {c:#04x} is not ASCII"));
        }
        let optional = |c: u8| (c != b' ').then_some(c);
        let seps = Self {
            component: chars[0],
            element: chars[1],
            decimal: chars[2],
            release: optional(chars[3]),
            repetition: optional(chars[4]),
            segment: chars[5],
        };
        let mut used: Vec<u8> = [seps.component, seps.element, seps.segment]
            .into_iter()
            .chain(seps.release)
            .chain(seps.repetition)
            .collect();
        used.sort_unstable();
        if used.windows(2).any(|w| w[0] == w[1]) {
            return Err("UNA uses the same character for two roles".into());
        }
        Ok(seps)
    }

    /// The six characters as written after `UNA`.
    pub fn una_chars(&self) -> String {
        [
            self.component,
            self.element,
            self.decimal,
            self.release.unwrap_or(b' '),
            self.repetition.unwrap_or(b' '),
            self.segment,
        ]
        .iter()
        .map(|&b| b as char)
        .collect()
    }

    fn is_special(&self, c: char) -> bool {
        let Ok(b) = u8::try_from(c) else {
            return false;
        };
        b == self.component
            || b == self.element
            || b == self.segment
            || Some(b) == self.release
            || Some(b) == self.repetition
    }
}

/// How EDIFACT is read and written for a partner (`[codec] kind = "edifact"`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Syntax version used when writing without a tree-supplied service string (3 or 4).
    pub syntax: u8,
    /// Service characters to write with, UNA style (e.g. `":+.? '"`); defaults per syntax.
    pub separators: Option<String>,
    /// Write a `UNA` segment.
    pub una: bool,
    /// Put a line break after every segment terminator.
    pub newline: bool,
    /// Our interchange sender id, for mappings that build UNB.
    pub sender: Option<String>,
    /// The partner's interchange recipient id.
    pub recipient: Option<String>,
    /// Directory release messages are validated against (e.g. `D96B`); none = no check.
    pub directory: Option<String>,
    /// Inclusive range of interchange control references this partner agreement uses.
    pub control_range: Option<[u64; 2]>,
    /// What one interchange may hold and cost (nodes are segments' components).
    pub limits: Limits,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            syntax: 4,
            separators: None,
            una: true,
            newline: true,
            sender: None,
            recipient: None,
            directory: None,
            control_range: None,
            limits: Limits::default(),
        }
    }
}

impl Settings {
    /// The separators to write with.
    pub fn write_separators(&self) -> Result<Separators, EdifactError> {
        match &self.separators {
            Some(s) => Separators::from_una(s.as_bytes()).map_err(EdifactError::Settings),
            None if self.syntax == 3 => Ok(Separators::SYNTAX_3),
            None => Ok(Separators::SYNTAX_4),
        }
    }
}

/// Reading or writing EDIFACT failed.
#[derive(Debug, thiserror::Error)]
pub enum EdifactError {
    /// The text is not well-formed EDIFACT.
    #[error("EDIFACT syntax error at {position}: {reason}")]
    Syntax {
        /// Where.
        position: Position,
        /// What is wrong.
        reason: String,
    },
    /// The input is neither UTF-8 nor decodable for its declared character set.
    #[error("EDIFACT input at byte {offset} is not valid UTF-8 and UNB declares no 8-bit syntax")]
    Encoding {
        /// First bad byte.
        offset: usize,
    },
    /// A tree handed to the writer does not have the EDIFACT shape.
    #[error("EDIFACT tree: {path}: {reason}")]
    Tree {
        /// JSON-path-like place in the tree.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// The interchange passed one of its limits.
    #[error("EDIFACT interchange too costly: {0}")]
    Limit(#[from] Exceeded),
    /// Codec settings are unusable.
    #[error("EDIFACT settings: {0}")]
    Settings(String),
}

/// A delimiter found by the tokeniser: where it is and what it ends.
#[derive(Clone, Copy, Debug)]
struct Delim {
    /// Byte offset of the delimiter.
    at: u32,
    /// `COMPONENT`, `ELEMENT`, `REPETITION` or `SEGMENT`, plus `ESCAPED` when the
    /// component it ends contained a release character.
    kind: u8,
}

#[derive(Clone, Copy, Debug)]
struct SegStart {
    offset: u32,
    first_delim: u32,
}

/// A parsed interchange.
///
/// The tokeniser records only where the delimiters are (a structural index);
/// values are slices of the input, looked up on access. Components that held a
/// release character are unescaped once, at parse time, into a side table.
#[derive(Clone, Debug)]
pub struct Document<'a> {
    /// The service characters in force.
    pub separators: Separators,
    /// Whether a `UNA` segment was present.
    pub una: bool,
    input: &'a str,
    delims: Vec<Delim>,
    segments: Vec<SegStart>,
    /// Unescaped text of escaped components, by delimiter index (sorted).
    escaped: Vec<(u32, String)>,
}

/// One segment of a [`Document`].
#[derive(Clone, Copy, Debug)]
pub struct Segment<'d, 'a> {
    doc: &'d Document<'a>,
    index: usize,
}

/// One data element (one repetition) of a segment.
#[derive(Clone, Copy, Debug)]
pub struct Element<'d, 'a> {
    doc: &'d Document<'a>,
    /// Byte offset where the first component starts.
    start: usize,
    /// Delimiter index ending the first component.
    first: usize,
    /// Delimiter index ending the element (inclusive).
    last: usize,
    /// This element is a further repetition of the previous one.
    repeat: bool,
}

impl<'a> Document<'a> {
    /// Number of segments (the `UNA` advice is not a segment).
    pub fn len(&self) -> usize {
        self.segments.len()
    }

    /// True when there are no segments.
    pub fn is_empty(&self) -> bool {
        self.segments.is_empty()
    }

    /// Segment by 0-based index.
    pub fn segment(&self, index: usize) -> Option<Segment<'_, 'a>> {
        (index < self.segments.len()).then_some(Segment { doc: self, index })
    }

    /// All segments in order.
    pub fn segments(&self) -> impl Iterator<Item = Segment<'_, 'a>> + '_ {
        (0..self.segments.len()).map(move |index| Segment { doc: self, index })
    }

    /// Text of the component ending at delimiter `d` and starting at byte `start`.
    fn text(&self, d: usize, start: usize) -> &str {
        let delim = self.delims[d];
        if delim.kind & ESCAPED != 0 {
            let i = self
                .escaped
                .binary_search_by_key(&(d as u32), |(k, _)| *k)
                .unwrap_or_else(|_| unreachable!("every escaped delimiter has its text"));
            &self.escaped[i].1
        } else {
            &self.input[start..delim.at as usize]
        }
    }

    /// The service characters as a tree map.
    pub fn separators_tree(&self) -> Tree {
        let seps = &self.separators;
        let ch = |b: u8| Tree::Text((b as char).to_string());
        let opt = |b: Option<u8>| b.map_or(Tree::Null, ch);
        Tree::Map(vec![
            ("component".into(), ch(seps.component)),
            ("element".into(), ch(seps.element)),
            ("decimal".into(), ch(seps.decimal)),
            ("release".into(), opt(seps.release)),
            ("repetition".into(), opt(seps.repetition)),
            ("segment".into(), ch(seps.segment)),
        ])
    }

    /// The generic tree: `{"una", "separators", "segments": [[tag, element…]…]}`.
    ///
    /// An element is a string, a list of component strings when it has more than
    /// one component, or `{"repeat": [...]}` when it repeats (syntax 4).
    pub fn to_tree(&self) -> Tree {
        let separators = self.separators_tree();
        let segments = self.segments().map(|s| s.to_tree()).collect();
        Tree::Map(vec![
            ("una".into(), Tree::Bool(self.una)),
            ("separators".into(), separators),
            ("segments".into(), Tree::List(segments)),
        ])
    }
}

impl<'d, 'a> Segment<'d, 'a> {
    /// Delimiter index range of this segment (the last one is the terminator).
    fn delim_range(&self) -> std::ops::Range<usize> {
        let first = self.doc.segments[self.index].first_delim as usize;
        let end = self
            .doc
            .segments
            .get(self.index + 1)
            .map_or(self.doc.delims.len(), |s| s.first_delim as usize);
        first..end
    }

    /// The segment tag (`UNH`, `BGM`…).
    pub fn tag(&self) -> &'d str {
        self.doc.text(self.delim_range().start, self.offset())
    }

    /// 1-based segment number in the interchange.
    pub fn number(&self) -> usize {
        self.index + 1
    }

    /// Byte offset of the segment's first character.
    pub fn offset(&self) -> usize {
        self.doc.segments[self.index].offset as usize
    }

    /// Every element including the tag (position 0), each repetition separately.
    fn all_elements(&self) -> Vec<Element<'d, 'a>> {
        let doc = self.doc;
        let mut out = Vec::with_capacity(8);
        let mut start = self.offset();
        let mut first = None;
        let mut repeat = false;
        for d in self.delim_range() {
            let first_d = *first.get_or_insert(d);
            let kind = doc.delims[d].kind & !ESCAPED;
            if kind != COMPONENT {
                out.push(Element {
                    doc,
                    start,
                    first: first_d,
                    last: d,
                    repeat,
                });
                start = doc.delims[d].at as usize + 1;
                first = None;
                repeat = kind == REPETITION;
            }
        }
        out
    }

    /// Data elements after the tag, each repetition separately.
    pub fn elements(&self) -> impl Iterator<Item = Element<'d, 'a>> + 'd {
        self.all_elements().into_iter().skip(1)
    }

    /// Data elements grouped by position: each item holds the repetitions of one element.
    pub fn positions(&self) -> Vec<Vec<Element<'d, 'a>>> {
        let mut out: Vec<Vec<Element<'d, 'a>>> = Vec::new();
        for element in self.elements() {
            match out.last_mut() {
                Some(last) if element.repeat => last.push(element),
                _ => out.push(vec![element]),
            }
        }
        out
    }

    /// Component `component` (0-based) of element `position` (1-based, first repetition).
    pub fn get(&self, position: usize, component: usize) -> Option<&'d str> {
        let doc = self.doc;
        let mut pos = 0;
        let mut comp = 0;
        let mut first_rep = true;
        let mut start = self.offset();
        for d in self.delim_range() {
            if pos == position && comp == component && first_rep {
                return Some(doc.text(d, start));
            }
            start = doc.delims[d].at as usize + 1;
            match doc.delims[d].kind & !ESCAPED {
                COMPONENT => comp += 1,
                REPETITION => {
                    comp = 0;
                    first_rep = false;
                }
                ELEMENT => {
                    pos += 1;
                    comp = 0;
                    first_rep = true;
                }
                _ => return None,
            }
        }
        None
    }

    /// Number of data element positions after the tag.
    pub fn position_count(&self) -> usize {
        self.elements().filter(|e| !e.repeat).count()
    }

    /// Walks the delimiters once, sizing every list exactly: an interchange's
    /// tree is its largest allocation, and per-segment scratch lists or doubled
    /// capacities would multiply it.
    fn to_tree(self) -> Tree {
        let doc = self.doc;
        let range = self.delim_range();
        let kind = |d: usize| doc.delims[d].kind & !ESCAPED;
        // The tag is the first component of element 0; the rest of element 0 is not data.
        let Some(tag_end) = range.clone().find(|&d| kind(d) != COMPONENT) else {
            return Tree::List(vec![Tree::text(self.tag())]);
        };
        let data = tag_end + 1..range.end;
        let positions = data
            .clone()
            .filter(|&d| matches!(kind(d), ELEMENT | SEGMENT))
            .count();
        let mut items = Vec::with_capacity(positions + 1);
        items.push(Tree::text(self.tag()));
        let mut components: Vec<Tree> = Vec::new();
        let mut repetitions: Vec<Tree> = Vec::new();
        let mut start = doc.delims[tag_end].at as usize + 1;
        for d in data {
            components.push(Tree::text(doc.text(d, start)));
            start = doc.delims[d].at as usize + 1;
            let kind = kind(d);
            if kind == COMPONENT {
                continue;
            }
            repetitions.push(match components.len() {
                1 => components.pop().unwrap_or_default(),
                _ => Tree::List(exactly_sized(&mut components)),
            });
            if kind != REPETITION {
                items.push(match repetitions.len() {
                    1 => repetitions.pop().unwrap_or_default(),
                    _ => Tree::Map(vec![(
                        "repeat".into(),
                        Tree::List(exactly_sized(&mut repetitions)),
                    )]),
                });
            }
        }
        Tree::List(items)
    }
}

impl<'d, 'a> Element<'d, 'a> {
    /// The components.
    pub fn components(&self) -> Vec<&'d str> {
        let doc = self.doc;
        let mut start = self.start;
        (self.first..=self.last)
            .map(|d| {
                let text = doc.text(d, start);
                start = doc.delims[d].at as usize + 1;
                text
            })
            .collect()
    }

    /// One component (0-based).
    pub fn component(&self, index: usize) -> Option<&'d str> {
        self.components().get(index).copied()
    }

    /// True when the element holds no data at all.
    pub fn is_empty(&self) -> bool {
        self.components().iter().all(|c| c.is_empty())
    }
}

const NORMAL: u8 = 0;
const COMPONENT: u8 = 1;
const ELEMENT: u8 = 2;
const SEGMENT: u8 = 3;
const RELEASE: u8 = 4;
const REPETITION: u8 = 5;
const ESCAPED: u8 = 0x80;

fn class_table(seps: &Separators) -> [u8; 256] {
    let mut table = [NORMAL; 256];
    table[seps.component as usize] = COMPONENT;
    table[seps.element as usize] = ELEMENT;
    table[seps.segment as usize] = SEGMENT;
    if let Some(r) = seps.release {
        table[r as usize] = RELEASE;
    }
    if let Some(r) = seps.repetition {
        table[r as usize] = REPETITION;
    }
    table
}

fn syntax_error(input: &str, offset: usize, segment: usize, reason: String) -> EdifactError {
    EdifactError::Syntax {
        position: Position::at(input.as_bytes(), offset).with_segment(segment),
        reason,
    }
}

/// Separators for an interchange without `UNA`: syntax 4 when UNB says so.
fn implied_separators(body: &[u8]) -> Separators {
    // `UNB+UNOx:4` under default separators.
    if body.len() > 9 && body.starts_with(b"UNB+") && body[8] == b':' && body[9] == b'4' {
        Separators::SYNTAX_4
    } else {
        Separators::SYNTAX_3
    }
}

/// Parses an interchange (or a bare run of segments) without copying, within `limits`.
pub fn parse<'a>(input: &'a str, limits: &Limits) -> Result<Document<'a>, EdifactError> {
    let bytes = input.as_bytes();
    let mut guard = Guard::start(limits, bytes)?;
    if u32::try_from(bytes.len()).is_err() {
        return Err(syntax_error(
            input,
            0,
            0,
            "interchanges of 4 GiB and more are not supported".into(),
        ));
    }
    let mut pos = if bytes.starts_with(b"\xEF\xBB\xBF") {
        3
    } else {
        0
    };
    while pos < bytes.len() && matches!(bytes[pos], b'\r' | b'\n') {
        pos += 1;
    }
    let (separators, una) = if bytes[pos..].starts_with(b"UNA") {
        let seps = Separators::from_una(&bytes[pos + 3..])
            .map_err(|reason| syntax_error(input, pos, 0, reason))?;
        pos += 9;
        (seps, true)
    } else {
        (implied_separators(&bytes[pos..]), false)
    };
    let mut doc = Document {
        separators,
        una,
        input,
        // Real interchanges have a delimiter every 2–4 bytes; growing this vector costs more than over-reserving.
        delims: Vec::with_capacity(bytes.len() / 2),
        segments: Vec::with_capacity(bytes.len() / 8),
        escaped: Vec::new(),
    };
    let table = class_table(&separators);
    let release = separators.release.unwrap_or(0) as char;
    loop {
        while pos < bytes.len() && matches!(bytes[pos], b'\r' | b'\n') {
            pos += 1;
        }
        if pos >= bytes.len() {
            break;
        }
        let seg_number = doc.segments.len() + 1;
        let seg_start = pos;
        let first_delim = doc.delims.len();
        loop {
            let comp_start = pos;
            let mut escaped = false;
            let kind = loop {
                let Some(skip) = bytes[pos..]
                    .iter()
                    .position(|&b| table[b as usize] != NORMAL)
                else {
                    return Err(syntax_error(
                        input,
                        seg_start,
                        seg_number,
                        format!(
                            "segment '{}' is not terminated by '{}'",
                            input[seg_start..].chars().take(3).collect::<String>(),
                            separators.segment as char
                        ),
                    ));
                };
                pos += skip;
                let class = table[bytes[pos] as usize];
                if class != RELEASE {
                    break class;
                }
                if pos + 1 >= bytes.len() {
                    return Err(syntax_error(
                        input,
                        pos,
                        seg_number,
                        "release character at end of input".into(),
                    ));
                }
                escaped = true;
                pos += 2;
            };
            guard
                .nodes(1)
                .and_then(|()| guard.value(pos - comp_start))
                .map_err(|l| guard.at(l, comp_start).in_segment(seg_number))?;
            if escaped {
                doc.escaped.push((
                    doc.delims.len() as u32,
                    unescape(&input[comp_start..pos], release),
                ));
            }
            doc.delims.push(Delim {
                at: pos as u32,
                kind: if escaped { kind | ESCAPED } else { kind },
            });
            pos += 1;
            if kind == SEGMENT {
                break;
            }
        }
        let first = doc.delims[first_delim];
        let tag = &input[seg_start..first.at as usize];
        if first.kind & ESCAPED != 0 || !is_segment_tag(tag) {
            return Err(syntax_error(
                input,
                seg_start,
                seg_number,
                format!("invalid segment tag '{tag}'"),
            ));
        }
        doc.segments.push(SegStart {
            offset: seg_start as u32,
            first_delim: first_delim as u32,
        });
    }
    Ok(doc)
}

/// Three letters or digits, and not `UNA`: the service string advice only opens an interchange,
/// and a segment of that name, written back first, would be read as one.
pub(crate) fn is_segment_tag(tag: &str) -> bool {
    tag.len() == 3 && tag.bytes().all(|b| b.is_ascii_alphanumeric()) && tag != "UNA"
}

fn unescape(raw: &str, release: char) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c == release {
            if let Some(next) = chars.next() {
                out.push(next);
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Parses bytes into the generic tree within `limits`, decoding ISO 8859-1 for
/// the 8-bit syntax levels (UNOC…UNOK) when the input is not UTF-8.
pub fn parse_bytes(input: &[u8], limits: &Limits) -> Result<Tree, EdifactError> {
    let text: Cow<'_, str> = match std::str::from_utf8(input) {
        Ok(s) => Cow::Borrowed(s),
        Err(e) => {
            let declared_8bit = memchr::memmem::find(input, b"UNO")
                .and_then(|i| input.get(i + 3))
                .is_some_and(|level| (b'C'..=b'K').contains(level));
            if !declared_8bit {
                return Err(EdifactError::Encoding {
                    offset: e.valid_up_to(),
                });
            }
            Cow::Owned(input.iter().map(|&b| b as char).collect())
        }
    };
    Ok(parse(&text, limits)?.to_tree())
}

/// Reads a numeric value written with the interchange's decimal mark.
///
/// Either mark is accepted on input (the syntax rules allow both); thousands
/// separators are not allowed.
pub fn parse_decimal(text: &str) -> Option<rust_decimal::Decimal> {
    let normalised = text.replacen(',', ".", 1);
    if normalised.contains(',') || normalised.is_empty() {
        return None;
    }
    normalised.parse().ok()
}

/// The items of `scratch` in a list of their own size, leaving `scratch` empty with its capacity
/// for the next element.
fn exactly_sized(scratch: &mut Vec<Tree>) -> Vec<Tree> {
    let mut list = Vec::with_capacity(scratch.len());
    list.append(scratch);
    list
}

#[cfg(test)]
mod tests;
