//! UN Security Council consolidated list XML (`CONSOLIDATED_LIST` with `INDIVIDUALS/INDIVIDUAL`
//! and `ENTITIES/ENTITY`). The file is read into a small element tree first, then mapped.

use quick_xml::events::Event;

use super::{LoadError, Parsed, SourceFile, line_of, parse_date};
use crate::screening::countries;
use crate::screening::entity::{Address, Entity, EntityType, Identifier, NameQuality};

/// A minimal element: name, text, children and the line it starts on.
#[derive(Debug, Default)]
struct Node {
    name: String,
    text: String,
    line: u64,
    attrs: Vec<(String, String)>,
    children: Vec<Node>,
}

impl Node {
    fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }

    fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    fn text_of(&self, name: &str) -> Option<&str> {
        self.child(name)
            .map(|c| c.text.trim())
            .filter(|t| !t.is_empty())
    }
}

fn parse_tree(file: &SourceFile) -> Result<Node, LoadError> {
    let text = file.text()?;
    let mut reader = quick_xml::Reader::from_str(text);
    let mut stack: Vec<Node> = vec![Node::default()];
    let err_at = |pos: u64, reason: String| {
        LoadError::malformed(&file.path, line_of(&file.bytes, pos as usize), reason)
    };
    // Lines are counted incrementally: counting from the start at every element is quadratic.
    let (mut counted_to, mut line) = (0usize, 1u64);
    let mut line_at = |pos: u64| {
        let pos = (pos as usize).min(file.bytes.len());
        if pos > counted_to {
            line += memchr::memchr_iter(b'\n', &file.bytes[counted_to..pos]).count() as u64;
            counted_to = pos;
        }
        line
    };
    loop {
        let pos = reader.buffer_position();
        let event = reader
            .read_event()
            .map_err(|e| err_at(reader.error_position(), format!("invalid XML: {e}")))?;
        match event {
            Event::Start(e) => {
                stack.push(element(&e, line_at(pos)));
            }
            Event::Empty(e) => {
                let node = element(&e, line_at(pos));
                if let Some(parent) = stack.last_mut() {
                    parent.children.push(node);
                }
            }
            Event::End(_) => {
                let node = stack
                    .pop()
                    .ok_or_else(|| err_at(pos, "unexpected closing tag".into()))?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(node),
                    None => return Err(err_at(pos, "unexpected closing tag".into())),
                }
            }
            Event::Text(t) => {
                let s = t
                    .decode()
                    .map_err(|e| err_at(pos, format!("bad text: {e}")))?;
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&s);
                }
            }
            Event::CData(t) => {
                let s = t
                    .decode()
                    .map_err(|e| err_at(pos, format!("bad CDATA: {e}")))?;
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&s);
                }
            }
            Event::GeneralRef(r) => {
                let resolved = if r.is_char_ref() {
                    r.resolve_char_ref()
                        .map_err(|e| err_at(pos, format!("bad character reference: {e}")))?
                        .map(String::from)
                } else {
                    let name = r.decode().map_err(|e| err_at(pos, format!("{e}")))?;
                    quick_xml::escape::resolve_predefined_entity(&name).map(str::to_owned)
                };
                let s = resolved.ok_or_else(|| err_at(pos, "unknown entity reference".into()))?;
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&s);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if stack.len() != 1 {
        let open = stack.last().map(|n| n.name.clone()).unwrap_or_default();
        return Err(err_at(
            file.bytes.len() as u64,
            format!("file ends inside <{open}> (truncated?)"),
        ));
    }
    Ok(stack.pop().unwrap_or_default())
}

fn element(e: &quick_xml::events::BytesStart<'_>, line: u64) -> Node {
    let attrs = e
        .attributes()
        .flatten()
        .map(|a| {
            (
                String::from_utf8_lossy(a.key.as_ref()).into_owned(),
                String::from_utf8_lossy(&a.value).into_owned(),
            )
        })
        .collect();
    Node {
        name: String::from_utf8_lossy(e.name().as_ref()).into_owned(),
        line,
        attrs,
        ..Default::default()
    }
}

pub(super) fn parse(file: &SourceFile, list: &str) -> Result<Parsed, LoadError> {
    let doc = parse_tree(file)?;
    let root = doc.child("CONSOLIDATED_LIST").ok_or_else(|| {
        LoadError::malformed(&file.path, 1, "root element is not CONSOLIDATED_LIST")
    })?;
    let published = root
        .attrs
        .iter()
        .find(|(k, _)| k == "dateGenerated")
        .map(|(_, v)| v.chars().take(10).collect::<String>());
    let mut entities = Vec::new();
    let groups = [
        ("INDIVIDUALS", "INDIVIDUAL", EntityType::Individual),
        ("ENTITIES", "ENTITY", EntityType::Organisation),
    ];
    for (group, item, entity_type) in groups {
        let Some(group) = root.child(group) else {
            continue;
        };
        for node in group.all(item) {
            entities.push(entry(file, list, node, entity_type)?);
        }
    }
    Ok(Parsed {
        entities,
        published,
        warnings: Vec::new(),
    })
}

fn entry(
    file: &SourceFile,
    list: &str,
    node: &Node,
    entity_type: EntityType,
) -> Result<Entity, LoadError> {
    let id = node.text_of("REFERENCE_NUMBER").ok_or_else(|| {
        LoadError::malformed(
            &file.path,
            node.line,
            format!("{} without REFERENCE_NUMBER", node.name),
        )
    })?;
    let name: Vec<&str> = ["FIRST_NAME", "SECOND_NAME", "THIRD_NAME", "FOURTH_NAME"]
        .into_iter()
        .filter_map(|n| node.text_of(n))
        .collect();
    if name.is_empty() {
        return Err(LoadError::malformed(
            &file.path,
            node.line,
            format!("{id}: no FIRST_NAME"),
        ));
    }
    let mut e = Entity::new(id.to_owned(), list, entity_type);
    e.add_name(&name.join(" "), NameQuality::Primary);
    if let Some(original) = node.text_of("NAME_ORIGINAL_SCRIPT") {
        e.add_name(original, NameQuality::Strong);
    }
    let alias_tag = if entity_type == EntityType::Individual {
        "INDIVIDUAL_ALIAS"
    } else {
        "ENTITY_ALIAS"
    };
    for alias in node.all(alias_tag) {
        let Some(alias_name) = alias.text_of("ALIAS_NAME") else {
            continue;
        };
        let quality = match alias.text_of("QUALITY") {
            Some("Low") | Some("a.k.a. low") => NameQuality::Weak,
            _ => NameQuality::Strong,
        };
        e.add_name(alias_name, quality);
    }
    if let Some(program) = node.text_of("UN_LIST_TYPE") {
        e.programs.push(program.to_owned());
    }
    for nat in node.all("NATIONALITY") {
        for v in nat.all("VALUE") {
            e.add_country(countries::resolve(&v.text));
        }
    }
    let addr_tag = if entity_type == EntityType::Individual {
        "INDIVIDUAL_ADDRESS"
    } else {
        "ENTITY_ADDRESS"
    };
    for a in node.all(addr_tag) {
        let parts: Vec<&str> = ["STREET", "CITY", "STATE_PROVINCE", "ZIP_CODE", "COUNTRY"]
            .into_iter()
            .filter_map(|n| a.text_of(n))
            .collect();
        if parts.is_empty() {
            continue;
        }
        let country = a.text_of("COUNTRY").and_then(countries::resolve);
        e.addresses.push(Address {
            text: parts.join(", "),
            country: country.clone(),
        });
        e.add_country(country);
    }
    for d in node.all("INDIVIDUAL_DATE_OF_BIRTH") {
        let value = d
            .text_of("DATE")
            .or_else(|| d.text_of("YEAR"))
            .or_else(|| d.text_of("FROM_YEAR"));
        e.add_dob(value.and_then(parse_date));
        if let (Some(from), Some(to)) = (d.text_of("FROM_YEAR"), d.text_of("TO_YEAR"))
            && let (Ok(from), Ok(to)) = (from.parse::<u32>(), to.parse::<u32>())
        {
            for y in from..=to.min(from + 20) {
                e.add_dob(Some(y.to_string()));
            }
        }
    }
    for doc in node.all("INDIVIDUAL_DOCUMENT") {
        if let Some(number) = doc.text_of("NUMBER") {
            e.identifiers.push(Identifier {
                kind: doc
                    .text_of("TYPE_OF_DOCUMENT")
                    .unwrap_or("document")
                    .to_owned(),
                value: number.to_owned(),
            });
        }
    }
    e.remarks = node.text_of("COMMENTS1").map(str::to_owned);
    Ok(e.seal())
}
