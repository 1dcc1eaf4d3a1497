//! UN/EDIFACT directories: segment definitions and message branching diagrams,
//! loaded from the XML in `data/edifact/directories/`, and validation of a
//! received message against them.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use quick_xml::events::{BytesStart, Event};

use super::Document;
use super::contrl::SegmentError;
use super::envelope::MessageInfo;

/// Representation class of a data element.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DataType {
    /// `a`: letters.
    Alpha,
    /// `n`: numeric.
    Numeric,
    /// `an`: anything printable.
    AlphaNumeric,
}

/// A simple data element (or a component of a composite).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataDef {
    /// Element number (`1004`).
    pub id: String,
    /// Mandatory.
    pub required: bool,
    /// Representation.
    pub data_type: DataType,
    /// Maximum length.
    pub max_len: usize,
}

/// A segment position: simple or composite.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ElementDef {
    /// Element or composite number.
    pub id: String,
    /// Mandatory.
    pub required: bool,
    /// Components; a simple element has exactly one.
    pub components: Vec<DataDef>,
    /// True for composites.
    pub composite: bool,
}

/// A segment definition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SegmentDef {
    /// Tag.
    pub id: String,
    /// Positions in order.
    pub elements: Vec<ElementDef>,
}

/// One node of a message branching diagram.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Node {
    /// A segment with its repeat limit.
    Segment {
        /// Tag.
        tag: String,
        /// Maximum occurrences.
        max: usize,
        /// Mandatory.
        required: bool,
    },
    /// A segment group; its first child is the trigger segment.
    Group {
        /// `SG1`…
        id: String,
        /// Maximum occurrences.
        max: usize,
        /// Mandatory.
        required: bool,
        /// Content.
        children: Vec<Node>,
    },
}

/// One release (`D96B`) or service directory.
#[derive(Clone, Debug, Default)]
pub struct Directory {
    segments: HashMap<String, SegmentDef>,
    messages: HashMap<String, Vec<Node>>,
}

impl Directory {
    /// A segment definition.
    pub fn segment(&self, tag: &str) -> Option<&SegmentDef> {
        self.segments.get(tag)
    }

    /// A message's branching diagram (type in upper case).
    pub fn message(&self, message_type: &str) -> Option<&[Node]> {
        self.messages.get(message_type).map(Vec::as_slice)
    }
}

/// Loading directories failed.
#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    /// A file could not be read.
    #[error("reading {path}: {source}")]
    Io {
        /// File.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// A file is not the expected XML.
    #[error("{path}: byte {offset}: {reason}")]
    Xml {
        /// File.
        path: PathBuf,
        /// Byte offset.
        offset: u64,
        /// What is wrong.
        reason: String,
    },
    /// No directory for a message's release.
    #[error("no directory for release {0} (have: {1})")]
    UnknownRelease(String, String),
    /// The release has no diagram for the message type.
    #[error("directory {release} has no message {message_type}")]
    UnknownMessage {
        /// Release.
        release: String,
        /// Message type.
        message_type: String,
    },
}

/// Every directory the hub ships, by release key (`D96B`, `SERVICE_V4`).
#[derive(Clone, Debug, Default)]
pub struct Directories {
    releases: HashMap<String, Directory>,
}

/// A problem found validating a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirectoryIssue {
    /// 1-based segment number in the interchange.
    pub segment: usize,
    /// Position of the segment within its message (UNH = 1).
    pub position: usize,
    /// Segment tag.
    pub tag: String,
    /// Syntax error code (data element 0085).
    pub code: &'static str,
    /// What is wrong.
    pub reason: String,
}

impl fmt::Display for DirectoryIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "segment {} ({}, position {} in message): {} [code {}]",
            self.segment, self.tag, self.position, self.reason, self.code
        )
    }
}

fn attr(e: &BytesStart<'_>, name: &[u8]) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.as_ref() == name)
        .and_then(|a| a.unescape_value().ok().map(|v| v.into_owned()))
}

fn read(path: &Path) -> Result<String, DirectoryError> {
    std::fs::read_to_string(path).map_err(|source| DirectoryError::Io {
        path: path.to_owned(),
        source,
    })
}

fn xml_error(path: &Path, offset: u64, reason: impl fmt::Display) -> DirectoryError {
    DirectoryError::Xml {
        path: path.to_owned(),
        offset,
        reason: reason.to_string(),
    }
}

fn data_def(e: &BytesStart<'_>) -> DataDef {
    DataDef {
        id: attr(e, b"id").unwrap_or_default(),
        required: attr(e, b"required").as_deref() == Some("true"),
        data_type: match attr(e, b"type").as_deref() {
            Some("n") => DataType::Numeric,
            Some("a") => DataType::Alpha,
            _ => DataType::AlphaNumeric,
        },
        max_len: attr(e, b"maxlength")
            .and_then(|v| v.parse().ok())
            .unwrap_or(usize::MAX),
    }
}

fn load_segments(path: &Path) -> Result<HashMap<String, SegmentDef>, DirectoryError> {
    let text = read(path)?;
    let mut reader = quick_xml::Reader::from_str(&text);
    let mut out = HashMap::new();
    let mut current: Option<SegmentDef> = None;
    let mut composite: Option<ElementDef> = None;
    loop {
        let event = reader
            .read_event()
            .map_err(|e| xml_error(path, reader.error_position(), e))?;
        match event {
            Event::Start(e) | Event::Empty(e) if e.name().as_ref() == b"segment" => {
                current = Some(SegmentDef {
                    id: attr(&e, b"id").unwrap_or_default(),
                    elements: Vec::new(),
                });
            }
            Event::Start(e) if e.name().as_ref() == b"composite_data_element" => {
                composite = Some(ElementDef {
                    id: attr(&e, b"id").unwrap_or_default(),
                    required: attr(&e, b"required").as_deref() == Some("true"),
                    components: Vec::new(),
                    composite: true,
                });
            }
            Event::Start(e) | Event::Empty(e) if e.name().as_ref() == b"data_element" => {
                let def = data_def(&e);
                match (composite.as_mut(), current.as_mut()) {
                    (Some(c), _) => c.components.push(def),
                    (None, Some(s)) => s.elements.push(ElementDef {
                        id: def.id.clone(),
                        required: def.required,
                        components: vec![def],
                        composite: false,
                    }),
                    (None, None) => {}
                }
            }
            Event::End(e) if e.name().as_ref() == b"composite_data_element" => {
                if let (Some(c), Some(s)) = (composite.take(), current.as_mut()) {
                    s.elements.push(c);
                }
            }
            Event::End(e) if e.name().as_ref() == b"segment" => {
                if let Some(s) = current.take() {
                    out.insert(s.id.clone(), s);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(out)
}

fn load_message(path: &Path) -> Result<Vec<Node>, DirectoryError> {
    let text = read(path)?;
    let mut reader = quick_xml::Reader::from_str(&text);
    let mut stack: Vec<(Option<Node>, Vec<Node>)> = vec![(None, Vec::new())];
    let limits = |e: &BytesStart<'_>| {
        (
            attr(e, b"maxrepeat")
                .and_then(|v| v.parse().ok())
                .unwrap_or(1),
            attr(e, b"required").as_deref() == Some("true"),
        )
    };
    loop {
        let event = reader
            .read_event()
            .map_err(|e| xml_error(path, reader.error_position(), e))?;
        match event {
            Event::Start(e) | Event::Empty(e) if e.name().as_ref() == b"segment" => {
                let (max, required) = limits(&e);
                if let Some((_, children)) = stack.last_mut() {
                    children.push(Node::Segment {
                        tag: attr(&e, b"id").unwrap_or_default(),
                        max,
                        required,
                    });
                }
            }
            Event::Start(e) if e.name().as_ref() == b"group" => {
                let (max, required) = limits(&e);
                stack.push((
                    Some(Node::Group {
                        id: attr(&e, b"id").unwrap_or_default(),
                        max,
                        required,
                        children: Vec::new(),
                    }),
                    Vec::new(),
                ));
            }
            Event::End(e) if e.name().as_ref() == b"group" => {
                let Some((
                    Some(Node::Group {
                        id, max, required, ..
                    }),
                    children,
                )) = stack.pop()
                else {
                    return Err(xml_error(
                        path,
                        reader.buffer_position(),
                        "unbalanced </group>",
                    ));
                };
                if let Some((_, parent)) = stack.last_mut() {
                    parent.push(Node::Group {
                        id,
                        max,
                        required,
                        children,
                    });
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    match stack.pop() {
        Some((None, nodes)) if stack.is_empty() => Ok(nodes),
        _ => Err(xml_error(
            path,
            reader.buffer_position(),
            "unclosed <group>",
        )),
    }
}

impl Directories {
    /// Loads every release folder under `root` (each with `segments.xml` and `messages/`).
    pub fn load(root: &Path) -> Result<Self, DirectoryError> {
        let mut releases = HashMap::new();
        let entries = std::fs::read_dir(root).map_err(|source| DirectoryError::Io {
            path: root.to_owned(),
            source,
        })?;
        for entry in entries.flatten() {
            let dir = entry.path();
            let segments_path = dir.join("segments.xml");
            if !segments_path.is_file() {
                continue;
            }
            let mut directory = Directory {
                segments: load_segments(&segments_path)?,
                messages: HashMap::new(),
            };
            if let Ok(messages) = std::fs::read_dir(dir.join("messages")) {
                for m in messages.flatten() {
                    let path = m.path();
                    if path.extension().is_some_and(|e| e == "xml")
                        && let Some(stem) = path.file_stem().and_then(|s| s.to_str())
                    {
                        directory
                            .messages
                            .insert(stem.to_ascii_uppercase(), load_message(&path)?);
                    }
                }
            }
            let key = entry.file_name().to_string_lossy().to_ascii_uppercase();
            releases.insert(key, directory);
        }
        Ok(Self { releases })
    }

    /// The shipped directories (`data/edifact/directories` of this crate).
    pub fn shipped() -> Result<Self, DirectoryError> {
        Self::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("data/edifact/directories"))
    }

    /// A release (`D96B`) or service directory (`SERVICE_V4`).
    pub fn release(&self, key: &str) -> Option<&Directory> {
        self.releases.get(&key.to_ascii_uppercase())
    }

    /// Release keys loaded, sorted.
    pub fn release_keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = self.releases.keys().cloned().collect();
        keys.sort();
        keys
    }

    fn service(&self, syntax4: bool) -> Option<&Directory> {
        self.release(if syntax4 { "SERVICE_V4" } else { "SERVICE_V3" })
    }

    /// Validates one message against its release: every segment's elements, then the branching diagram.
    pub fn validate(
        &self,
        doc: &Document<'_>,
        message: &MessageInfo,
    ) -> Result<Vec<DirectoryIssue>, DirectoryError> {
        let is_contrl = message.message_type == "CONTRL";
        let directory = if is_contrl {
            self.service(message.version == "4")
        } else {
            self.release(&message.directory())
        }
        .ok_or_else(|| {
            DirectoryError::UnknownRelease(message.directory(), self.release_keys().join(", "))
        })?;
        let diagram = directory.message(&message.message_type).ok_or_else(|| {
            DirectoryError::UnknownMessage {
                release: message.directory(),
                message_type: message.message_type.clone(),
            }
        })?;
        let service = self.service(true);
        let mut issues = Vec::new();
        let range = message.first_segment..message.first_segment + message.segment_count;
        let mut tags = Vec::with_capacity(range.len());
        for (pos, index) in range.enumerate() {
            let Some(seg) = doc.segment(index) else { break };
            tags.push(seg.tag());
            let def = directory
                .segment(seg.tag())
                .or_else(|| service.and_then(|s| s.segment(seg.tag())));
            let issue = |code: &'static str, reason: String| DirectoryIssue {
                segment: seg.number(),
                position: pos + 1,
                tag: seg.tag().to_owned(),
                code,
                reason,
            };
            match def {
                None => issues.push(issue(
                    "14",
                    format!("segment {} is not in the directory", seg.tag()),
                )),
                Some(def) => check_segment(&seg, def, &mut |code, reason| {
                    issues.push(issue(code, reason))
                }),
            }
        }
        let mut cursor = 0;
        let mut structure = Vec::new();
        match_nodes(diagram, &tags, &mut cursor, &mut structure);
        if cursor < tags.len() {
            structure.push((
                cursor,
                "15",
                format!(
                    "segment {} is not allowed here by the {} diagram",
                    tags[cursor], message.message_type
                ),
            ));
        }
        for (pos, code, reason) in structure {
            let pos = pos.min(tags.len().saturating_sub(1));
            issues.push(DirectoryIssue {
                segment: message.first_segment + pos + 1,
                position: pos + 1,
                tag: tags.get(pos).copied().unwrap_or_default().to_owned(),
                code,
                reason,
            });
        }
        issues.sort_by_key(|i| i.segment);
        Ok(issues)
    }
}

/// Turns directory issues into CONTRL segment errors for one message.
pub fn contrl_errors(message: &MessageInfo, issues: &[DirectoryIssue]) -> Vec<SegmentError> {
    issues
        .iter()
        .map(|i| SegmentError {
            message: message.reference.clone(),
            position: i.position,
            code: i.code.to_owned(),
        })
        .collect()
}

fn check_value(
    value: &str,
    def: &DataDef,
    what: &str,
    report: &mut dyn FnMut(&'static str, String),
) {
    if value.is_empty() {
        if def.required {
            report("13", format!("{what} (element {}) is mandatory", def.id));
        }
        return;
    }
    let significant = match def.data_type {
        DataType::Numeric => {
            let digits = value.trim_start_matches('-');
            let mut marks = 0;
            for c in digits.chars() {
                if c == '.' || c == ',' {
                    marks += 1;
                } else if !c.is_ascii_digit() {
                    report(
                        "37",
                        format!(
                            "{what} (element {}) must be numeric, found '{value}'",
                            def.id
                        ),
                    );
                    return;
                }
            }
            if marks > 1 {
                report(
                    "19",
                    format!("{what} (element {}) has more than one decimal mark", def.id),
                );
            }
            digits.chars().filter(char::is_ascii_digit).count()
        }
        DataType::Alpha | DataType::AlphaNumeric => value.chars().count(),
    };
    if significant > def.max_len {
        report(
            "39",
            format!(
                "{what} (element {}) is {significant} long, at most {} allowed",
                def.id, def.max_len
            ),
        );
    }
}

fn check_segment(
    seg: &super::Segment<'_, '_>,
    def: &SegmentDef,
    report: &mut dyn FnMut(&'static str, String),
) {
    let positions = seg.positions();
    if positions.len() > def.elements.len() {
        report(
            "16",
            format!(
                "{} elements, the directory defines {}",
                positions.len(),
                def.elements.len()
            ),
        );
    }
    for (i, element_def) in def.elements.iter().enumerate() {
        let what = format!("{}{:02}", def.id, i + 1);
        let Some(reps) = positions.get(i) else {
            if element_def.required {
                report(
                    "13",
                    format!("{what} (element {}) is mandatory", element_def.id),
                );
            }
            continue;
        };
        for element in reps {
            let components = element.components();
            if element.is_empty() {
                if element_def.required {
                    report(
                        "13",
                        format!("{what} (element {}) is mandatory", element_def.id),
                    );
                }
                continue;
            }
            if components.len() > element_def.components.len() {
                report(
                    "16",
                    format!(
                        "{what} has {} components, the directory defines {}",
                        components.len(),
                        element_def.components.len()
                    ),
                );
            }
            for (j, component_def) in element_def.components.iter().enumerate() {
                let value = components.get(j).copied().unwrap_or("");
                let label = if element_def.composite {
                    format!("{what}-{}", j + 1)
                } else {
                    what.clone()
                };
                check_value(value, component_def, &label, report);
            }
        }
    }
}

/// Greedy walk of a branching diagram; records (position, code, reason).
fn match_nodes(
    nodes: &[Node],
    tags: &[&str],
    cursor: &mut usize,
    out: &mut Vec<(usize, &'static str, String)>,
) {
    for node in nodes {
        match node {
            Node::Segment { tag, max, required } => {
                let mut count = 0;
                while *cursor < tags.len() && tags[*cursor] == tag {
                    count += 1;
                    if count > *max {
                        out.push((
                            *cursor,
                            "35",
                            format!("{tag} repeats more than {max} times"),
                        ));
                    }
                    *cursor += 1;
                }
                if *required && count == 0 {
                    out.push((*cursor, "13", format!("mandatory segment {tag} is missing")));
                }
            }
            Node::Group {
                id,
                max,
                required,
                children,
            } => {
                let Some(Node::Segment { tag: trigger, .. }) = children.first() else {
                    continue;
                };
                let mut count = 0;
                while *cursor < tags.len() && tags[*cursor] == trigger {
                    count += 1;
                    if count > *max {
                        out.push((
                            *cursor,
                            "36",
                            format!("group {id} repeats more than {max} times"),
                        ));
                    }
                    // The trigger opens exactly one occurrence; a second one opens the next.
                    *cursor += 1;
                    match_nodes(&children[1..], tags, cursor, out);
                }
                if *required && count == 0 {
                    out.push((*cursor, "13", format!("mandatory group {id} is missing")));
                }
            }
        }
    }
}
