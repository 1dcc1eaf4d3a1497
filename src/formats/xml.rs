//! XML into the generic tree and back.
//!
//! Shape: `{"Root": {"@attr": "v", "@xmlns:p": "uri", "Child": "text",
//! "Repeated": ["a", "b"], "WithAttr": {"@code": "1", "#text": "x"}}}`.
//! Qualified names are kept as written (`md:MetaData`) and namespace
//! declarations stay as `@xmlns…` attributes, so nothing is lost for mappings
//! that care. Comments, processing instructions and whitespace-only text are
//! dropped; repeated siblings are gathered into one list at the first one's place.

use std::collections::BTreeMap;

use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use serde::{Deserialize, Serialize};

use super::limits::{Exceeded, Guard, Limits};
use super::tree::MapBuilder;
use super::{Position, Tree};

/// How XML is written for a partner (`[codec] kind = "xml"`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Namespace declarations written on the root element (prefix → URI; `""` = default namespace).
    pub namespaces: BTreeMap<String, String>,
    /// Indent with this many spaces (0 = one line).
    pub indent: usize,
    /// What one document may hold and cost.
    pub limits: Limits,
}

/// Reading or writing XML failed.
#[derive(Debug, thiserror::Error)]
pub enum XmlError {
    /// Not well-formed.
    #[error("XML error at {position}: {reason}")]
    Syntax {
        /// Where.
        position: Position,
        /// What.
        reason: String,
    },
    /// The document passed one of its limits.
    #[error("XML document too costly: {0}")]
    Limit(#[from] Exceeded),
    /// A tree handed to the writer has the wrong shape.
    #[error("XML tree: {path}: {reason}")]
    Tree {
        /// Place.
        path: String,
        /// What.
        reason: String,
    },
}

struct Frame {
    name: String,
    node: MapBuilder,
    text: String,
}

fn syntax(input: &[u8], offset: u64, reason: impl Into<String>) -> XmlError {
    XmlError::Syntax {
        position: Position::at(input, offset as usize),
        reason: reason.into(),
    }
}

fn open(
    input: &[u8],
    e: &BytesStart<'_>,
    offset: usize,
    guard: &mut Guard<'_>,
) -> Result<Frame, XmlError> {
    guard.nodes(1).map_err(|l| guard.at(l, offset))?;
    let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
    if !is_name(&name) {
        return Err(syntax(
            input,
            offset as u64,
            format!("'{}' is not an XML element name", name.escape_default()),
        ));
    }
    let mut node = MapBuilder::default();
    for a in e.attributes() {
        let a = a.map_err(|err| syntax(input, offset as u64, err.to_string()))?;
        let value = a
            .unescape_value()
            .map_err(|err| syntax(input, offset as u64, err.to_string()))?;
        guard
            .nodes(1)
            .and_then(|()| guard.value(value.len()))
            .map_err(|l| guard.at(l, offset))?;
        let attr = String::from_utf8_lossy(a.key.as_ref());
        if !is_name(&attr) {
            return Err(syntax(
                input,
                offset as u64,
                format!("'{}' is not an XML attribute name", attr.escape_default()),
            ));
        }
        let key = format!("@{attr}");
        node.insert(key, Tree::text(value.into_owned()));
    }
    Ok(Frame {
        name,
        node,
        text: String::new(),
    })
}

/// The XML `Name` production, with every non-ASCII character allowed: a letter, `_` or `:`
/// first, then also digits, `-` and `.`. Checked both ways, because the tree keeps attributes
/// under `@name` and text under `#text`, and a name outside this set would be read back as one
/// of those, or not at all.
fn is_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || matches!(c, '_' | ':') || !c.is_ascii())
        && chars.all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, '_' | ':' | '-' | '.') || !c.is_ascii()
        })
}

fn close(frame: Frame) -> (String, Tree) {
    let text = frame.text.trim();
    let value = if frame.node.is_empty() {
        Tree::text(text)
    } else {
        let mut node = frame.node;
        if !text.is_empty() {
            node.insert("#text".into(), Tree::text(text));
        }
        node.finish()
    };
    (frame.name, value)
}

/// Adds a child element; a repeated name gathers into a list at the first one's place.
fn attach(parent: &mut MapBuilder, name: String, value: Tree) {
    match parent.get_mut(&name) {
        Some(Tree::List(items)) => items.push(value),
        Some(existing) => {
            let first = std::mem::take(existing);
            *existing = Tree::List(vec![first, value]);
        }
        None => parent.push(name, value),
    }
}

/// Parses an XML document into the tree, within `limits`.
pub fn parse(input: &[u8], limits: &Limits) -> Result<Tree, XmlError> {
    let mut guard = Guard::start(limits, input)?;
    let text = std::str::from_utf8(input)
        .map_err(|e| syntax(input, e.valid_up_to() as u64, "not valid UTF-8"))?;
    let mut reader = quick_xml::Reader::from_str(text);
    let mut stack: Vec<Frame> = Vec::new();
    let mut root = MapBuilder::default();
    loop {
        let offset = reader.buffer_position();
        let at = offset as usize;
        let event = reader
            .read_event()
            .map_err(|e| syntax(input, reader.error_position(), e.to_string()))?;
        guard.step().map_err(|l| guard.at(l, at))?;
        match event {
            Event::Start(e) => {
                guard.depth(stack.len() + 1).map_err(|l| guard.at(l, at))?;
                stack.push(open(input, &e, at, &mut guard)?);
            }
            Event::Empty(e) => {
                guard.depth(stack.len() + 1).map_err(|l| guard.at(l, at))?;
                let (name, value) = close(open(input, &e, at, &mut guard)?);
                attach(
                    stack.last_mut().map_or(&mut root, |f| &mut f.node),
                    name,
                    value,
                );
            }
            Event::End(_) => {
                let frame = stack
                    .pop()
                    .ok_or_else(|| syntax(input, offset, "closing tag without an open element"))?;
                let (name, value) = close(frame);
                attach(
                    stack.last_mut().map_or(&mut root, |f| &mut f.node),
                    name,
                    value,
                );
            }
            Event::Text(t) => {
                let s = t
                    .decode()
                    .map_err(|e| syntax(input, offset, e.to_string()))?;
                match stack.last_mut() {
                    Some(f) => f.text.push_str(&s),
                    None if s.trim().is_empty() => {}
                    None => return Err(syntax(input, offset, "text outside the root element")),
                }
            }
            Event::CData(t) => {
                if let Some(f) = stack.last_mut() {
                    f.text.push_str(&String::from_utf8_lossy(&t));
                }
            }
            Event::GeneralRef(r) => {
                let resolved = if r.is_char_ref() {
                    r.resolve_char_ref()
                        .map_err(|e| syntax(input, offset, e.to_string()))?
                        .map(String::from)
                } else {
                    let name = r
                        .decode()
                        .map_err(|e| syntax(input, offset, e.to_string()))?;
                    match name.as_ref() {
                        "lt" => Some("<".into()),
                        "gt" => Some(">".into()),
                        "amp" => Some("&".into()),
                        "apos" => Some("'".into()),
                        "quot" => Some("\"".into()),
                        other => {
                            return Err(syntax(input, offset, format!("unknown entity &{other};")));
                        }
                    }
                };
                if let (Some(f), Some(s)) = (stack.last_mut(), resolved) {
                    f.text.push_str(&s);
                }
            }
            Event::Eof => break,
            _ => {}
        }
        if let Some(f) = stack.last() {
            guard.value(f.text.len()).map_err(|l| guard.at(l, at))?;
        }
    }
    if let Some(open) = stack.last() {
        return Err(syntax(
            input,
            input.len() as u64,
            format!("element <{}> is not closed", open.name),
        ));
    }
    let tree = root.finish();
    if matches!(&tree, Tree::Map(entries) if entries.len() == 1) {
        Ok(tree)
    } else {
        Err(syntax(
            input,
            0,
            "an XML document needs exactly one root element",
        ))
    }
}

fn tree_error(path: &str, reason: impl Into<String>) -> XmlError {
    XmlError::Tree {
        path: path.to_owned(),
        reason: reason.into(),
    }
}

/// Writes a tree of the shape [`parse`] produces, declaring the settings' namespaces on the root.
pub fn write(tree: &Tree, settings: &Settings) -> Result<String, XmlError> {
    let Tree::Map(entries) = tree else {
        return Err(tree_error(".", "expected an object with one root element"));
    };
    let [(root_name, root)] = entries.as_slice() else {
        return Err(tree_error(".", "expected exactly one root element"));
    };
    let mut declared: Vec<String> = settings.namespaces.keys().cloned().collect();
    if let Tree::Map(attrs) = root {
        for (k, _) in attrs {
            if let Some(prefix) = k.strip_prefix("@xmlns") {
                declared.push(prefix.trim_start_matches(':').to_owned());
            }
        }
    }
    let mut buffer = Vec::new();
    let mut writer = if settings.indent > 0 {
        quick_xml::Writer::new_with_indent(&mut buffer, b' ', settings.indent)
    } else {
        quick_xml::Writer::new(&mut buffer)
    };
    let io = |e: std::io::Error| tree_error(".", e.to_string());
    writer
        .write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))
        .map_err(io)?;
    let extra: Vec<(String, String)> = settings
        .namespaces
        .iter()
        .map(|(p, uri)| {
            let key = if p.is_empty() {
                "xmlns".to_owned()
            } else {
                format!("xmlns:{p}")
            };
            (key, uri.clone())
        })
        .collect();
    write_element(
        &mut writer,
        root_name,
        root,
        &format!(".{root_name}"),
        &declared,
        &extra,
    )?;
    drop(writer);
    String::from_utf8(buffer).map_err(|e| tree_error(".", e.to_string()))
}

/// A name the document may carry: an XML name whose namespace prefix, if any, is declared.
fn check_name(name: &str, declared: &[String], path: &str) -> Result<(), XmlError> {
    if !is_name(name) {
        return Err(tree_error(
            path,
            format!("'{}' is not an XML name", name.escape_default()),
        ));
    }
    match name.split_once(':') {
        Some((prefix, _))
            if !matches!(prefix, "xml" | "xmlns") && !declared.iter().any(|d| d == prefix) =>
        {
            Err(tree_error(
                path,
                format!("namespace prefix '{prefix}' is not declared"),
            ))
        }
        _ => Ok(()),
    }
}

fn write_element<W: std::io::Write>(
    writer: &mut quick_xml::Writer<W>,
    name: &str,
    value: &Tree,
    path: &str,
    declared: &[String],
    extra_attrs: &[(String, String)],
) -> Result<(), XmlError> {
    check_name(name, declared, path)?;
    let io = |e: std::io::Error| tree_error(path, e.to_string());
    if let Tree::List(items) = value {
        for (i, item) in items.iter().enumerate() {
            if matches!(item, Tree::List(_)) {
                return Err(tree_error(
                    &format!("{path}[{i}]"),
                    "nested arrays have no XML form",
                ));
            }
            write_element(
                writer,
                name,
                item,
                &format!("{path}[{i}]"),
                declared,
                extra_attrs,
            )?;
        }
        return Ok(());
    }
    let mut start = BytesStart::new(name);
    for (k, v) in extra_attrs {
        if value.get(&format!("@{k}")).is_none() {
            start.push_attribute((k.as_str(), v.as_str()));
        }
    }
    let (text, children): (Option<String>, Vec<(&String, &Tree)>) = match value {
        Tree::Null => (None, Vec::new()),
        Tree::Bool(b) => (Some(b.to_string()), Vec::new()),
        Tree::Text(s) | Tree::Number(s) => (Some(s.clone()), Vec::new()),
        Tree::Map(entries) => {
            let mut text = None;
            let mut children = Vec::new();
            for (k, v) in entries {
                if let Some(attr) = k.strip_prefix('@') {
                    let v = v.as_str().ok_or_else(|| {
                        tree_error(&format!("{path}.{k}"), "attribute values are strings")
                    })?;
                    check_name(attr, declared, &format!("{path}.{k}"))?;
                    start.push_attribute((attr, v));
                } else if k == "#text" {
                    text = v.as_str().map(str::to_owned);
                } else {
                    children.push((k, v));
                }
            }
            (text, children)
        }
        // Lists were expanded into repeated elements above.
        Tree::List(_) => (None, Vec::new()),
    };
    if text.as_deref().is_none_or(str::is_empty) && children.is_empty() {
        writer.write_event(Event::Empty(start)).map_err(io)?;
        return Ok(());
    }
    writer.write_event(Event::Start(start)).map_err(io)?;
    if let Some(t) = text.filter(|t| !t.is_empty()) {
        writer
            .write_event(Event::Text(BytesText::new(&t)))
            .map_err(io)?;
    }
    for (k, v) in children {
        write_element(writer, k, v, &format!("{path}.{k}"), declared, &[])?;
    }
    writer
        .write_event(Event::End(BytesEnd::new(name)))
        .map_err(io)?;
    Ok(())
}

#[cfg(test)]
mod tests;
