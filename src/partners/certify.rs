//! `tradehub partner certify`: replay a template's fixtures and diff the outputs.

use std::collections::BTreeMap;

use super::config::{Direction, Fixture, Layout, Partner, PartnerError};
use crate::formats::mapping::MappingCache;

/// How one fixture went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Output equals the expected file.
    Pass,
    /// Output differs; the first difference.
    Diff(String),
    /// The run failed before producing output.
    Error(String),
}

/// One row of the certification table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FixtureResult {
    /// Fixture name.
    pub name: String,
    /// Direction.
    pub direction: Direction,
    /// Input file, relative to the fixture folder.
    pub input: String,
    /// Result.
    pub outcome: Outcome,
}

impl FixtureResult {
    /// True on pass.
    pub fn passed(&self) -> bool {
        self.outcome == Outcome::Pass
    }
}

/// Runs every fixture of a partner.
pub fn certify(
    layout: &Layout,
    name: &str,
    cache: &mut MappingCache,
) -> Result<Vec<FixtureResult>, PartnerError> {
    let partner = Partner::load(layout, name, cache)?;
    let dir = layout.fixtures_dir(name);
    Ok(partner
        .template
        .fixtures
        .iter()
        .map(|fixture| FixtureResult {
            name: fixture.name.clone(),
            direction: fixture.direction,
            input: fixture.input.clone(),
            outcome: run_fixture(&partner, &dir, fixture),
        })
        .collect())
}

fn run_fixture(partner: &Partner, dir: &std::path::Path, fixture: &Fixture) -> Outcome {
    let read = |file: &str| {
        std::fs::read(dir.join(file)).map_err(|e| format!("{}: {e}", dir.join(file).display()))
    };
    let (input, expected) = match (read(&fixture.input), read(&fixture.expected)) {
        (Ok(i), Ok(e)) => (i, e),
        (Err(e), _) | (_, Err(e)) => return Outcome::Error(e),
    };
    match fixture.direction {
        Direction::Outbound => {
            let canonical: serde_json::Value = match serde_json::from_slice(&input) {
                Ok(v) => v,
                Err(e) => return Outcome::Error(format!("{}: {e}", fixture.input)),
            };
            match partner.outbound(&canonical, &fixture.ctx) {
                Ok(out) => compare_text(
                    &String::from_utf8_lossy(&out),
                    &String::from_utf8_lossy(&expected),
                ),
                Err(e) => Outcome::Error(e.to_string()),
            }
        }
        Direction::Inbound => match partner.inbound(&input, &fixture.ctx) {
            Ok(out) => match serde_json::from_slice::<serde_json::Value>(&expected) {
                Ok(want) => compare_json(&out.to_json(), &want, "$"),
                Err(e) => Outcome::Error(format!("{}: {e}", fixture.expected)),
            },
            Err(e) => Outcome::Error(e.to_string()),
        },
        Direction::Acknowledge => match partner.acknowledge(&input, &fixture.ctx) {
            Ok(out) => compare_text(
                &String::from_utf8_lossy(&out),
                &String::from_utf8_lossy(&expected),
            ),
            Err(e) => Outcome::Error(e.to_string()),
        },
    }
}

/// Line-by-line comparison, ignoring trailing whitespace and CR/LF differences.
pub fn compare_text(got: &str, want: &str) -> Outcome {
    let lines = |s: &str| -> Vec<String> {
        let mut v: Vec<String> = s.lines().map(|l| l.trim_end().to_owned()).collect();
        while v.last().is_some_and(String::is_empty) {
            v.pop();
        }
        v
    };
    let (got, want) = (lines(got), lines(want));
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        if g != w {
            return Outcome::Diff(format!("line {}: expected `{w}`, got `{g}`", i + 1));
        }
    }
    if got.len() != want.len() {
        return Outcome::Diff(format!("expected {} lines, got {}", want.len(), got.len()));
    }
    Outcome::Pass
}

/// Structural JSON comparison reporting the first differing path.
pub fn compare_json(got: &serde_json::Value, want: &serde_json::Value, path: &str) -> Outcome {
    use serde_json::Value;
    match (got, want) {
        (Value::Object(g), Value::Object(w)) => {
            let keys: BTreeMap<&String, ()> = g.keys().chain(w.keys()).map(|k| (k, ())).collect();
            for key in keys.keys() {
                let sub = format!("{path}.{key}");
                match (g.get(*key), w.get(*key)) {
                    (Some(a), Some(b)) => {
                        let o = compare_json(a, b, &sub);
                        if o != Outcome::Pass {
                            return o;
                        }
                    }
                    (None, Some(b)) => {
                        return Outcome::Diff(format!("{sub}: missing, expected {b}"));
                    }
                    (Some(a), None) => return Outcome::Diff(format!("{sub}: unexpected {a}")),
                    (None, None) => {}
                }
            }
            Outcome::Pass
        }
        (Value::Array(g), Value::Array(w)) => {
            for (i, (a, b)) in g.iter().zip(w).enumerate() {
                let o = compare_json(a, b, &format!("{path}[{i}]"));
                if o != Outcome::Pass {
                    return o;
                }
            }
            if g.len() == w.len() {
                Outcome::Pass
            } else {
                Outcome::Diff(format!(
                    "{path}: expected {} items, got {}",
                    w.len(),
                    g.len()
                ))
            }
        }
        (a, b) if a == b => Outcome::Pass,
        (a, b) => Outcome::Diff(format!("{path}: expected {b}, got {a}")),
    }
}
