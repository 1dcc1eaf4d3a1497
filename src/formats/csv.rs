//! Delimited files (header maps, quoting, any delimiter) and fixed-width
//! record layouts (ACE/ABI style), both into `{"rows": [{column: value}…]}`.
//!
//! With a fixed-width layout each row also carries `"record"`: the name of the
//! record layout that matched its record-type code.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::limits::{Exceeded, Guard, Limits};
use super::{Position, Tree};

/// How a flat file is read and written (`[codec] kind = "csv"`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Field delimiter.
    pub delimiter: char,
    /// Quote character.
    pub quote: char,
    /// First line is a header.
    pub has_header: bool,
    /// Column names when there is no header (or to force an order when writing).
    pub columns: Vec<String>,
    /// Partner column name → tree key (applied on read, reversed on write).
    pub header_map: BTreeMap<String, String>,
    /// Fixed-width layout; when set, the delimiter settings are ignored.
    pub fixed_width: Option<FixedWidth>,
    /// What one file may hold and cost (nodes are fields).
    pub limits: Limits,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            delimiter: ',',
            quote: '"',
            has_header: true,
            columns: Vec::new(),
            header_map: BTreeMap::new(),
            fixed_width: None,
            limits: Limits::default(),
        }
    }
}

/// Fixed-width record layouts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixedWidth {
    /// Where the record-type code sits (1-based start, length); absent = one layout.
    pub record_type: Option<[usize; 2]>,
    /// Pad every line to this length when writing (ABI: 80).
    pub line_length: Option<usize>,
    /// Layouts.
    pub records: Vec<RecordLayout>,
}

/// One record layout.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordLayout {
    /// Name put in `"record"`.
    pub name: String,
    /// Record-type code this layout matches.
    pub code: Option<String>,
    /// Fields.
    pub fields: Vec<FieldLayout>,
}

/// One fixed-width field.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldLayout {
    /// Key in the row.
    pub name: String,
    /// 1-based start column.
    pub start: usize,
    /// Width in characters.
    pub length: usize,
    /// Right-align (numbers), zero- or space-padded per `pad`.
    #[serde(default)]
    pub right: bool,
    /// Padding character (default space).
    #[serde(default = "space")]
    pub pad: char,
}

fn space() -> char {
    ' '
}

/// Reading or writing a flat file failed.
#[derive(Debug, thiserror::Error)]
pub enum CsvError {
    /// Malformed input.
    #[error("flat file error at {position}: {reason}")]
    Syntax {
        /// Where.
        position: Position,
        /// What.
        reason: String,
    },
    /// The tree cannot be written.
    #[error("flat file tree: {path}: {reason}")]
    Tree {
        /// Place.
        path: String,
        /// What.
        reason: String,
    },
    /// The file passed one of its limits.
    #[error("flat file too costly: {0}")]
    Limit(#[from] Exceeded),
    /// Settings are unusable.
    #[error("flat file settings: {0}")]
    Settings(String),
}

fn byte(c: char, what: &str) -> Result<u8, CsvError> {
    u8::try_from(c)
        .ok()
        .filter(u8::is_ascii)
        .ok_or_else(|| CsvError::Settings(format!("{what} '{c}' must be one ASCII character")))
}

/// Parses a flat file, within the settings' limits.
pub fn parse(input: &[u8], settings: &Settings) -> Result<Tree, CsvError> {
    let mut guard = Guard::start(&settings.limits, input)?;
    match &settings.fixed_width {
        Some(layout) => parse_fixed(input, layout, &mut guard),
        None => parse_delimited(input, settings, &mut guard),
    }
}

fn parse_delimited(
    input: &[u8],
    settings: &Settings,
    guard: &mut Guard<'_>,
) -> Result<Tree, CsvError> {
    let mut reader = ::csv::ReaderBuilder::new()
        .delimiter(byte(settings.delimiter, "delimiter")?)
        .quote(byte(settings.quote, "quote")?)
        .has_headers(settings.has_header)
        .from_reader(input);
    let error = |e: ::csv::Error| {
        let (offset, line) = e
            .position()
            .map_or((0, 0), |p| (p.byte() as usize, p.line() as usize));
        let mut position = Position::at(input, offset);
        if line > 0 {
            position.line = line;
        }
        CsvError::Syntax {
            position,
            reason: e.to_string(),
        }
    };
    let columns: Vec<String> = if settings.has_header {
        reader
            .headers()
            .map_err(error)?
            .iter()
            .map(str::to_owned)
            .collect()
    } else {
        settings.columns.clone()
    };
    let columns: Vec<String> = columns
        .into_iter()
        .map(|c| settings.header_map.get(&c).cloned().unwrap_or(c))
        .collect();
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(error)?;
        let at = record.position().map_or(0, |p| p.byte() as usize);
        guard
            .nodes(record.len())
            .and_then(|()| record.iter().try_for_each(|field| guard.value(field.len())))
            .map_err(|l| guard.at(l, at))?;
        let row = record
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let key = columns
                    .get(i)
                    .cloned()
                    .unwrap_or_else(|| format!("column{}", i + 1));
                (key, Tree::text(v))
            })
            .collect();
        rows.push(Tree::Map(row));
    }
    Ok(Tree::Map(vec![("rows".into(), Tree::List(rows))]))
}

fn parse_fixed(input: &[u8], layout: &FixedWidth, guard: &mut Guard<'_>) -> Result<Tree, CsvError> {
    let text = std::str::from_utf8(input).map_err(|e| CsvError::Syntax {
        position: Position::at(input, e.valid_up_to()),
        reason: "not valid UTF-8".into(),
    })?;
    let mut rows = Vec::new();
    let mut offset = 0;
    for (n, raw) in text.split_inclusive('\n').enumerate() {
        let line = raw.trim_end_matches(['\n', '\r']);
        let line_offset = offset;
        offset += raw.len();
        if line.trim().is_empty() {
            continue;
        }
        guard
            .value(line.len())
            .map_err(|l| guard.at(l, line_offset))?;
        let chars: Vec<char> = line.chars().collect();
        let at = |column: usize| Position {
            offset: line_offset + column.saturating_sub(1),
            line: n + 1,
            column,
            segment: None,
        };
        let record = match layout.record_type {
            None => layout.records.first(),
            Some([start, len]) => {
                let code: String = chars.iter().skip(start - 1).take(len).collect();
                layout
                    .records
                    .iter()
                    .find(|r| r.code.as_deref() == Some(code.trim()))
            }
        }
        .ok_or_else(|| CsvError::Syntax {
            position: at(1),
            reason: "no record layout matches this line's record type".into(),
        })?;
        guard
            .nodes(record.fields.len() + 1)
            .map_err(|l| guard.at(l, line_offset))?;
        let mut row = vec![("record".to_owned(), Tree::text(&record.name))];
        for field in &record.fields {
            if field.start + field.length - 1 > chars.len() {
                return Err(CsvError::Syntax {
                    position: at(chars.len() + 1),
                    reason: format!(
                        "line is {} characters; field {} of record {} needs columns {}-{}",
                        chars.len(),
                        field.name,
                        record.name,
                        field.start,
                        field.start + field.length - 1
                    ),
                });
            }
            let value: String = chars[field.start - 1..field.start - 1 + field.length]
                .iter()
                .collect();
            let trimmed = if field.right {
                value.trim_start_matches(field.pad).trim_end()
            } else {
                value.trim_end_matches(field.pad).trim_start()
            };
            row.push((field.name.clone(), Tree::text(trimmed)));
        }
        rows.push(Tree::Map(row));
    }
    Ok(Tree::Map(vec![("rows".into(), Tree::List(rows))]))
}

fn rows(tree: &Tree) -> Result<&[Tree], CsvError> {
    tree.get("rows")
        .and_then(Tree::as_list)
        .ok_or_else(|| CsvError::Tree {
            path: ".rows".into(),
            reason: "missing or not an array".into(),
        })
}

fn cell(row: &Tree, key: &str, path: &str) -> Result<String, CsvError> {
    match row.get(key) {
        None | Some(Tree::Null) => Ok(String::new()),
        Some(Tree::Text(s)) | Some(Tree::Number(s)) => Ok(s.clone()),
        Some(Tree::Bool(b)) => Ok(b.to_string()),
        Some(other) => Err(CsvError::Tree {
            path: format!("{path}.{key}"),
            reason: format!("expected a scalar, found {}", other.kind()),
        }),
    }
}

/// Writes a flat file.
pub fn write(tree: &Tree, settings: &Settings) -> Result<String, CsvError> {
    let rows = rows(tree)?;
    if let Some(layout) = &settings.fixed_width {
        return write_fixed(rows, layout);
    }
    let keys: Vec<String> = if settings.columns.is_empty() {
        match rows.first() {
            Some(Tree::Map(entries)) => entries.iter().map(|(k, _)| k.clone()).collect(),
            _ => Vec::new(),
        }
    } else {
        settings
            .columns
            .iter()
            .map(|c| {
                settings
                    .header_map
                    .get(c)
                    .cloned()
                    .unwrap_or_else(|| c.clone())
            })
            .collect()
    };
    let reverse: BTreeMap<&String, &String> =
        settings.header_map.iter().map(|(k, v)| (v, k)).collect();
    let mut writer = ::csv::WriterBuilder::new()
        .delimiter(byte(settings.delimiter, "delimiter")?)
        .quote(byte(settings.quote, "quote")?)
        .from_writer(Vec::new());
    let io = |e: ::csv::Error| CsvError::Tree {
        path: ".rows".into(),
        reason: e.to_string(),
    };
    if settings.has_header {
        writer
            .write_record(
                keys.iter()
                    .map(|k| reverse.get(k).map_or(k.as_str(), |h| h.as_str())),
            )
            .map_err(io)?;
    }
    for (i, row) in rows.iter().enumerate() {
        let path = format!(".rows[{i}]");
        let values = keys
            .iter()
            .map(|k| cell(row, k, &path))
            .collect::<Result<Vec<_>, _>>()?;
        writer.write_record(values).map_err(io)?;
    }
    let bytes = writer.into_inner().map_err(|e| CsvError::Tree {
        path: ".rows".into(),
        reason: e.to_string(),
    })?;
    String::from_utf8(bytes).map_err(|e| CsvError::Tree {
        path: ".rows".into(),
        reason: e.to_string(),
    })
}

fn write_fixed(rows: &[Tree], layout: &FixedWidth) -> Result<String, CsvError> {
    let mut out = String::new();
    for (i, row) in rows.iter().enumerate() {
        let path = format!(".rows[{i}]");
        let name = cell(row, "record", &path)?;
        let record = layout
            .records
            .iter()
            .find(|r| r.name == name || (layout.records.len() == 1 && name.is_empty()))
            .ok_or_else(|| CsvError::Tree {
                path: format!("{path}.record"),
                reason: format!("no record layout named '{name}'"),
            })?;
        let mut line: Vec<char> = Vec::new();
        if let Some([start, len]) = layout.record_type
            && let Some(code) = &record.code
        {
            place(&mut line, start, len, code, false, ' ');
        }
        for field in &record.fields {
            let value = cell(row, &field.name, &path)?;
            if value.chars().count() > field.length {
                return Err(CsvError::Tree {
                    path: format!("{path}.{}", field.name),
                    reason: format!(
                        "'{value}' is longer than the field's {} characters",
                        field.length
                    ),
                });
            }
            place(
                &mut line,
                field.start,
                field.length,
                &value,
                field.right,
                field.pad,
            );
        }
        if let Some(len) = layout.line_length {
            line.resize(line.len().max(len), ' ');
        }
        out.extend(line);
        out.push('\n');
    }
    Ok(out)
}

fn place(line: &mut Vec<char>, start: usize, length: usize, value: &str, right: bool, pad: char) {
    let end = start - 1 + length;
    if line.len() < end {
        line.resize(end, ' ');
    }
    let count = value.chars().count();
    let fill = length - count;
    let padded: Vec<char> = if right {
        std::iter::repeat_n(pad, fill)
            .chain(value.chars())
            .collect()
    } else {
        value
            .chars()
            .chain(std::iter::repeat_n(pad, fill))
            .collect()
    };
    line[start - 1..end].copy_from_slice(&padded);
}

#[cfg(test)]
mod tests;
