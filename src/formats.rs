//! Codecs and mappings: how partners' documents become trees and back.
//!
//! Every codec parses bytes into the one [`Tree`] and writes a [`Tree`] back, so a
//! partner is onboarded with a codec setting, a jq mapping and fixtures rather
//! than code. Parse errors carry a [`Position`] (byte offset, line, column and,
//! for EDI, the segment number) and the caller keeps the raw document, so an
//! operator can fix and resubmit it.
//!
//! Documents come from partners and are read as hostile: every codec parses
//! within the [`Limits`] of its settings (depth, node count, value length,
//! document size, time budget), and [`off_worker`] keeps a large parse off the
//! async workers.

pub mod csv;
pub mod edifact;
pub mod json;
pub mod limits;
pub mod mapping;
pub mod tree;
pub mod x12;
pub mod xml;

use std::fmt;

use serde::{Deserialize, Serialize};

pub use limits::Limits;
pub use tree::Tree;

/// A place in an input document.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Position {
    /// Byte offset from the start of the input.
    pub offset: usize,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// 1-based segment number, for EDI formats.
    pub segment: Option<usize>,
}

impl Position {
    /// Position of a byte offset in `input` (clamped to its length).
    pub fn at(input: &[u8], offset: usize) -> Self {
        let offset = offset.min(input.len());
        let before = &input[..offset];
        let line = memchr::memchr_iter(b'\n', before).count() + 1;
        let line_start = memchr::memrchr(b'\n', before).map_or(0, |i| i + 1);
        let column = String::from_utf8_lossy(&before[line_start..])
            .chars()
            .count()
            + 1;
        Self {
            offset,
            line,
            column,
            segment: None,
        }
    }

    /// The same position, tagged with a segment number.
    pub fn with_segment(mut self, segment: usize) -> Self {
        self.segment = Some(segment);
        self
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(segment) = self.segment {
            write!(f, "segment {segment}, ")?;
        }
        write!(
            f,
            "line {}, column {} (byte {})",
            self.line, self.column, self.offset
        )
    }
}

/// The document formats the hub reads and writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// UN/EDIFACT.
    Edifact,
    /// ANSI ASC X12.
    X12,
    /// XML.
    Xml,
    /// Delimited or fixed-width flat files.
    Csv,
    /// JSON.
    Json,
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Edifact => "edifact",
            Self::X12 => "x12",
            Self::Xml => "xml",
            Self::Csv => "csv",
            Self::Json => "json",
        })
    }
}

/// Codec and its settings, as written in a partner template (`[codec]`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CodecSettings {
    /// UN/EDIFACT.
    Edifact(edifact::Settings),
    /// ANSI X12.
    X12(x12::Settings),
    /// XML.
    Xml(xml::Settings),
    /// CSV or fixed-width.
    Csv(csv::Settings),
    /// JSON.
    Json(json::Settings),
}

impl CodecSettings {
    /// Default settings of a format.
    pub fn default_for(format: Format) -> Self {
        match format {
            Format::Edifact => Self::Edifact(edifact::Settings::default()),
            Format::X12 => Self::X12(x12::Settings::default()),
            Format::Xml => Self::Xml(xml::Settings::default()),
            Format::Csv => Self::Csv(csv::Settings::default()),
            Format::Json => Self::Json(json::Settings::default()),
        }
    }

    /// The format these settings are for.
    pub fn format(&self) -> Format {
        match self {
            Self::Edifact(_) => Format::Edifact,
            Self::X12(_) => Format::X12,
            Self::Xml(_) => Format::Xml,
            Self::Csv(_) => Format::Csv,
            Self::Json(_) => Format::Json,
        }
    }

    /// What one document may hold and cost (`[codec.limits]`).
    pub fn limits(&self) -> &Limits {
        match self {
            Self::Edifact(s) => &s.limits,
            Self::X12(s) => &s.limits,
            Self::Xml(s) => &s.limits,
            Self::Csv(s) => &s.limits,
            Self::Json(s) => &s.limits,
        }
    }

    /// Parses a document into the generic tree, within the settings' limits.
    pub fn parse(&self, input: &[u8]) -> Result<Tree, FormatError> {
        Ok(match self {
            Self::Edifact(s) => edifact::parse_bytes(input, &s.limits)?,
            Self::X12(s) => x12::parse_bytes(input, &s.limits)?,
            Self::Xml(s) => xml::parse(input, &s.limits)?,
            Self::Csv(s) => csv::parse(input, s)?,
            Self::Json(s) => json::parse(input, &s.limits)?,
        })
    }

    /// Writes a tree in this format.
    pub fn write(&self, tree: &Tree) -> Result<Vec<u8>, FormatError> {
        Ok(match self {
            Self::Edifact(s) => edifact::write(tree, s)?.into_bytes(),
            Self::X12(s) => x12::write(tree, s)?.into_bytes(),
            Self::Xml(s) => xml::write(tree, s)?.into_bytes(),
            Self::Csv(s) => csv::write(tree, s)?.into_bytes(),
            Self::Json(s) => json::write(tree, s)?.into_bytes(),
        })
    }
}

/// Documents up to this size are parsed where they arrive: a thread hand-off
/// costs more than the parse.
pub const INLINE_PARSE_BYTES: usize = 8 * 1024;

/// Runs `parse`, the parse of a `size`-byte document, where it cannot stall the
/// async workers: inline when the document is small, else on tokio's blocking
/// pool, so that a multi-megabyte document leaves `/healthz` and every other
/// request answering. The parse bounds its own time by its limits' `time_budget`.
pub async fn off_worker<T: Send + 'static>(
    size: usize,
    parse: impl FnOnce() -> T + Send + 'static,
) -> T {
    if size <= INLINE_PARSE_BYTES {
        return parse();
    }
    match tokio::task::spawn_blocking(parse).await {
        Ok(parsed) => parsed,
        Err(join) => std::panic::resume_unwind(join.into_panic()),
    }
}

/// A codec failed to read or write a document.
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    /// EDIFACT.
    #[error(transparent)]
    Edifact(#[from] edifact::EdifactError),
    /// X12.
    #[error(transparent)]
    X12(#[from] x12::X12Error),
    /// XML.
    #[error(transparent)]
    Xml(#[from] xml::XmlError),
    /// CSV / fixed width.
    #[error(transparent)]
    Csv(#[from] csv::CsvError),
    /// JSON.
    #[error(transparent)]
    Json(#[from] json::JsonError),
}

#[cfg(test)]
mod tests;
