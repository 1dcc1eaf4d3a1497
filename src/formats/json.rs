//! JSON, read with object key order kept.

use serde::de::DeserializeSeed;
use serde::{Deserialize, Serialize};

use super::limits::{Exceeded, Guard, Limits};
use super::tree::{Account, TreeSeed};
use super::{Position, Tree};

/// How JSON is written (`[codec] kind = "json"`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Indented output.
    pub pretty: bool,
    /// What one document may hold and cost.
    pub limits: Limits,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            pretty: true,
            limits: Limits::default(),
        }
    }
}

/// Reading or writing JSON failed.
#[derive(Debug, thiserror::Error)]
pub enum JsonError {
    /// Not valid JSON.
    #[error("JSON error at {position}: {reason}")]
    Syntax {
        /// Where.
        position: Position,
        /// What.
        reason: String,
    },
    /// The document passed one of its limits.
    #[error("JSON document too costly: {0}")]
    Limit(#[from] Exceeded),
    /// Serialising failed.
    #[error("JSON write: {0}")]
    Write(String),
}

/// Parses JSON text within `limits`.
pub fn parse(input: &[u8], limits: &Limits) -> Result<Tree, JsonError> {
    let mut guard = Guard::start(limits, input)?;
    let mut account = Account {
        guard: &mut guard,
        tripped: None,
    };
    let mut de = serde_json::Deserializer::from_slice(input);
    // The seed bounds nesting by `limits.max_depth`, in place of serde_json's fixed 128.
    de.disable_recursion_limit();
    let seed = TreeSeed {
        account: Some(&mut account),
        depth: 0,
    };
    let parsed = seed
        .deserialize(&mut de)
        .and_then(|tree| de.end().map(|()| tree));
    parsed.map_err(|e| {
        let offset = offset_of(input, e.line(), e.column());
        match account.tripped {
            Some(limit) => JsonError::Limit(account.guard.at(limit, offset)),
            None => JsonError::Syntax {
                position: Position {
                    offset,
                    line: e.line(),
                    column: e.column(),
                    segment: None,
                },
                reason: e.to_string(),
            },
        }
    })
}

fn offset_of(input: &[u8], line: usize, column: usize) -> usize {
    let line_start = if line <= 1 {
        0
    } else {
        memchr::memchr_iter(b'\n', input)
            .nth(line - 2)
            .map_or(input.len(), |i| i + 1)
    };
    (line_start + column.saturating_sub(1)).min(input.len())
}

/// Writes JSON text (with a final newline).
pub fn write(tree: &Tree, settings: &Settings) -> Result<String, JsonError> {
    let mut out = if settings.pretty {
        serde_json::to_string_pretty(tree)
    } else {
        serde_json::to_string(tree)
    }
    .map_err(|e| JsonError::Write(e.to_string()))?;
    out.push('\n');
    Ok(out)
}
