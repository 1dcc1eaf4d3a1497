//! Bounds on what one document may make a parser do.
//!
//! A partner's document is hostile input: a few megabytes can nest half a
//! million levels deep, hold millions of elements or one value the size of the
//! file. Every codec reads under a [`Limits`] (`[codec.limits]` in a partner
//! template) and stops at the first bound it passes, with an error that names
//! the bound, its configured value and the position in the input.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::Position;

/// Deepest nesting [`Limits::validate`] accepts: the tree's conversions
/// (jq values, JSON, the writers) recurse once per level, and this many levels
/// fit in a 2 MiB thread stack with room to spare.
pub const MAX_DEPTH_CEILING: usize = 1024;

/// How many steps a parser takes between two looks at the clock.
const CLOCK_EVERY: u32 = 1024;

/// `[codec.limits]`: what one document may hold and cost.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Largest document, in bytes.
    pub max_document_bytes: usize,
    /// Deepest nesting of elements (XML) or arrays and objects (JSON); at most 1024.
    pub max_depth: usize,
    /// Most nodes in one document: XML elements and attributes, JSON values, EDI
    /// segments, elements and components, CSV fields.
    pub max_nodes: usize,
    /// Longest single value (a text, attribute, component or field), in bytes.
    pub max_value_bytes: usize,
    /// Wall-clock time one parse may take before it is abandoned.
    #[serde(with = "humantime_serde")]
    pub time_budget: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_document_bytes: 16 * 1024 * 1024,
            max_depth: 256,
            max_nodes: 1_000_000,
            max_value_bytes: 1024 * 1024,
            time_budget: Duration::from_secs(10),
        }
    }
}

impl Limits {
    /// Refuses limits that disable a bound or that the tree cannot honour.
    pub fn validate(&self) -> Result<(), String> {
        let zero = [
            ("max_document_bytes", self.max_document_bytes),
            ("max_depth", self.max_depth),
            ("max_nodes", self.max_nodes),
            ("max_value_bytes", self.max_value_bytes),
        ]
        .into_iter()
        .find(|(_, v)| *v == 0);
        if let Some((key, _)) = zero {
            return Err(format!("limits.{key} must be at least 1"));
        }
        if self.max_depth > MAX_DEPTH_CEILING {
            return Err(format!(
                "limits.max_depth = {} is above the ceiling of {MAX_DEPTH_CEILING}",
                self.max_depth
            ));
        }
        if self.time_budget.is_zero() {
            return Err("limits.time_budget must be longer than zero".into());
        }
        Ok(())
    }
}

/// Which bound a document passed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Limit {
    /// `max_document_bytes`.
    DocumentBytes,
    /// `max_depth`.
    Depth,
    /// `max_nodes`.
    Nodes,
    /// `max_value_bytes`.
    ValueBytes,
    /// `time_budget`.
    TimeBudget,
}

impl Limit {
    /// The configuration key.
    pub fn key(self) -> &'static str {
        match self {
            Self::DocumentBytes => "max_document_bytes",
            Self::Depth => "max_depth",
            Self::Nodes => "max_nodes",
            Self::ValueBytes => "max_value_bytes",
            Self::TimeBudget => "time_budget",
        }
    }

    fn configured(self, limits: &Limits) -> String {
        match self {
            Self::DocumentBytes => limits.max_document_bytes.to_string(),
            Self::Depth => limits.max_depth.to_string(),
            Self::Nodes => limits.max_nodes.to_string(),
            Self::ValueBytes => limits.max_value_bytes.to_string(),
            Self::TimeBudget => {
                humantime_serde::re::humantime::format_duration(limits.time_budget).to_string()
            }
        }
    }
}

/// A document passed one of its [`Limits`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("limits.{} = {configured} exceeded at {position}", limit.key())]
pub struct Exceeded {
    /// The bound.
    pub limit: Limit,
    /// Its configured value, as written in the config.
    pub configured: String,
    /// Where in the input the parser was when it stopped.
    pub position: Position,
}

impl Exceeded {
    /// The same error, tagged with an EDI segment number.
    pub fn in_segment(mut self, segment: usize) -> Self {
        self.position = self.position.with_segment(segment);
        self
    }
}

/// One parse's account against its [`Limits`]: nodes seen, and the deadline.
#[derive(Debug)]
pub struct Guard<'a> {
    limits: &'a Limits,
    input: &'a [u8],
    deadline: Instant,
    nodes: usize,
    steps: u32,
}

impl<'a> Guard<'a> {
    /// Starts the clock on `input`, refusing it outright when it is too large.
    pub fn start(limits: &'a Limits, input: &'a [u8]) -> Result<Self, Exceeded> {
        let guard = Self {
            limits,
            input,
            deadline: Instant::now() + limits.time_budget,
            nodes: 0,
            steps: 0,
        };
        if input.len() > limits.max_document_bytes {
            return Err(guard.at(Limit::DocumentBytes, limits.max_document_bytes));
        }
        Ok(guard)
    }

    /// The error for `limit`, at byte `offset` of the input.
    pub fn at(&self, limit: Limit, offset: usize) -> Exceeded {
        Exceeded {
            limit,
            configured: limit.configured(self.limits),
            position: Position::at(self.input, offset),
        }
    }

    /// One unit of work; every so often, a look at the clock.
    pub fn step(&mut self) -> Result<(), Limit> {
        self.steps += 1;
        if self.steps >= CLOCK_EVERY {
            self.steps = 0;
            if Instant::now() > self.deadline {
                return Err(Limit::TimeBudget);
            }
        }
        Ok(())
    }

    /// `count` more nodes.
    pub fn nodes(&mut self, count: usize) -> Result<(), Limit> {
        self.nodes += count;
        if self.nodes > self.limits.max_nodes {
            return Err(Limit::Nodes);
        }
        self.step()
    }

    /// A container opened `depth` levels down (the root is level 1).
    pub fn depth(&self, depth: usize) -> Result<(), Limit> {
        if depth > self.limits.max_depth {
            return Err(Limit::Depth);
        }
        Ok(())
    }

    /// A value of `len` bytes.
    pub fn value(&self, len: usize) -> Result<(), Limit> {
        if len > self.limits.max_value_bytes {
            return Err(Limit::ValueBytes);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
