//! Writing the generic tree back out as an interchange, escaping service characters.

use super::{EdifactError, Separators, Settings};
use crate::formats::Tree;

fn tree_error(path: impl Into<String>, reason: impl Into<String>) -> EdifactError {
    EdifactError::Tree {
        path: path.into(),
        reason: reason.into(),
    }
}

fn separator_from_tree(tree: &Tree, key: &str) -> Result<Option<u8>, EdifactError> {
    match tree.get(key) {
        None | Some(Tree::Null) => Ok(None),
        Some(Tree::Text(s)) if s.len() == 1 && s.is_ascii() => Ok(Some(s.as_bytes()[0])),
        Some(other) => Err(tree_error(
            format!(".separators.{key}"),
            format!("expected one ASCII character, found {}", other.kind()),
        )),
    }
}

/// The separators a tree asks for, falling back to the settings.
fn tree_separators(tree: &Tree, settings: &Settings) -> Result<Separators, EdifactError> {
    let defaults = settings.write_separators()?;
    let Some(seps) = tree.get("separators") else {
        return Ok(defaults);
    };
    let pick = |key: &str, fallback: u8| -> Result<u8, EdifactError> {
        Ok(separator_from_tree(seps, key)?.unwrap_or(fallback))
    };
    Ok(Separators {
        component: pick("component", defaults.component)?,
        element: pick("element", defaults.element)?,
        decimal: pick("decimal", defaults.decimal)?,
        release: match seps.get("release") {
            None => defaults.release,
            Some(_) => separator_from_tree(seps, "release")?,
        },
        repetition: match seps.get("repetition") {
            None => defaults.repetition,
            Some(_) => separator_from_tree(seps, "repetition")?,
        },
        segment: pick("segment", defaults.segment)?,
    })
}

/// Writes a tree of the shape [`Document::to_tree`] produces.
///
/// Service characters inside values are escaped with the release character;
/// a value that needs escaping when there is none is an error, never silently
/// corrupted output.
pub fn write(tree: &Tree, settings: &Settings) -> Result<String, EdifactError> {
    let seps = tree_separators(tree, settings)?;
    let una = match tree.get("una") {
        Some(Tree::Bool(b)) => *b,
        _ => settings.una,
    };
    let segments = tree
        .get("segments")
        .and_then(Tree::as_list)
        .ok_or_else(|| tree_error(".segments", "missing or not an array"))?;
    let mut out = String::with_capacity(segments.len() * 32);
    if una {
        out.push_str("UNA");
        out.push_str(&seps.una_chars());
        if settings.newline {
            out.push('\n');
        }
    }
    for (i, segment) in segments.iter().enumerate() {
        write_segment(&mut out, segment, &seps, i)?;
        out.push(seps.segment as char);
        if settings.newline {
            out.push('\n');
        }
    }
    Ok(out)
}

fn write_segment(
    out: &mut String,
    segment: &Tree,
    seps: &Separators,
    index: usize,
) -> Result<(), EdifactError> {
    let path = format!(".segments[{index}]");
    let items = segment.as_list().ok_or_else(|| {
        tree_error(
            &path,
            format!("expected an array, found {}", segment.kind()),
        )
    })?;
    let Some(Tree::Text(tag)) = items.first() else {
        return Err(tree_error(&path, "first item must be the segment tag"));
    };
    if !super::is_segment_tag(tag) {
        return Err(tree_error(&path, format!("invalid segment tag '{tag}'")));
    }
    out.push_str(tag);
    // Written exactly as given (trailing empties included) so that parse → write
    // → parse is the identity; mappings leave out what they do not want.
    for (j, element) in items[1..].iter().enumerate() {
        out.push(seps.element as char);
        let epath = format!("{path}[{}]", j + 1);
        match element {
            Tree::Map(_) => {
                let reps = element
                    .get("repeat")
                    .and_then(Tree::as_list)
                    .ok_or_else(|| {
                        tree_error(&epath, "an object element needs \"repeat\": [...]")
                    })?;
                let rep_sep = seps
                    .repetition
                    .ok_or_else(|| tree_error(&epath, "repetition needs syntax 4 separators"))?;
                for (k, rep) in reps.iter().enumerate() {
                    if k > 0 {
                        out.push(rep_sep as char);
                    }
                    write_element(out, rep, seps, &epath)?;
                }
            }
            other => write_element(out, other, seps, &epath)?,
        }
    }
    Ok(())
}

fn write_element(
    out: &mut String,
    element: &Tree,
    seps: &Separators,
    path: &str,
) -> Result<(), EdifactError> {
    match element {
        Tree::List(components) => {
            for (k, component) in components.iter().enumerate() {
                if k > 0 {
                    out.push(seps.component as char);
                }
                write_value(out, component, seps, &format!("{path}[{k}]"))?;
            }
            Ok(())
        }
        other => write_value(out, other, seps, path),
    }
}

fn write_value(
    out: &mut String,
    value: &Tree,
    seps: &Separators,
    path: &str,
) -> Result<(), EdifactError> {
    let text = match value {
        Tree::Null => return Ok(()),
        Tree::Text(s) | Tree::Number(s) => s.as_str(),
        other => {
            return Err(tree_error(
                path,
                format!("expected a string or number, found {}", other.kind()),
            ));
        }
    };
    for c in text.chars() {
        if seps.is_special(c) {
            let release = seps.release.ok_or_else(|| {
                tree_error(
                    path,
                    format!("value contains '{c}' and no release character is set"),
                )
            })?;
            out.push(release as char);
        }
        out.push(c);
    }
    Ok(())
}
