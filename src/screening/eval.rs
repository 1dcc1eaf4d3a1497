//! Evaluation: precision, recall and F1 of screening against labelled queries, with the curve over
//! thresholds. Two inputs are understood:
//! - screening rows `query,country,expected_entity_id` (an empty id: the query names nobody listed);
//! - labelled name pairs `pair_id,query_name,list_name,...,label` (the shared `name_matching*`
//!   files), scored pairwise.

pub mod synth;

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::screener::{MatchSettings, Query, Screener};

/// One labelled screening query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvalRow {
    pub query: String,
    #[serde(default)]
    pub country: String,
    /// `list`-independent entity id; empty: nobody listed is meant.
    #[serde(default)]
    pub expected_entity_id: String,
}

/// A labelled pair of names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvalPair {
    pub query: String,
    pub name: String,
    pub positive: bool,
}

/// What an evaluation file holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EvalSet {
    Queries(Vec<EvalRow>),
    Pairs(Vec<EvalPair>),
}

/// Why an evaluation file is unusable.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error("{}: cannot read: {source}", path.display())]
    Io {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("{}:{line}: {reason}", path.display())]
    Malformed {
        path: std::path::PathBuf,
        line: u64,
        reason: String,
    },
}

/// Reads an evaluation file, recognising its kind from the header.
pub fn read_set(path: &Path) -> Result<EvalSet, EvalError> {
    let text = std::fs::read_to_string(path).map_err(|source| EvalError::Io {
        path: path.to_owned(),
        source,
    })?;
    let bad = |line: u64, reason: String| EvalError::Malformed {
        path: path.to_owned(),
        line,
        reason,
    };
    let mut reader = csv::ReaderBuilder::new()
        .comment(Some(b'#'))
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| bad(1, format!("bad header: {e}")))?
        .clone();
    let col = |n: &str| headers.iter().position(|h| h.trim() == n);
    if let (Some(q), Some(n), Some(l)) = (col("query_name"), col("list_name"), col("label")) {
        let mut pairs = Vec::new();
        for rec in reader.records() {
            let rec = rec.map_err(|e| bad(e.position().map_or(0, |p| p.line()), e.to_string()))?;
            let line = rec.position().map_or(0, |p| p.line());
            let positive = match rec.get(l).map(str::trim) {
                Some("1") => true,
                Some("0") => false,
                other => return Err(bad(line, format!("label {other:?} is not 0 or 1"))),
            };
            pairs.push(EvalPair {
                query: rec.get(q).unwrap_or_default().to_owned(),
                name: rec.get(n).unwrap_or_default().to_owned(),
                positive,
            });
        }
        return Ok(EvalSet::Pairs(pairs));
    }
    let Some(q) = col("query") else {
        return Err(bad(
            1,
            "expected a header with query,country,expected_entity_id (or query_name,list_name,label)".into(),
        ));
    };
    let (c, e) = (col("country"), col("expected_entity_id"));
    let mut rows = Vec::new();
    for rec in reader.records() {
        let rec = rec.map_err(|e| bad(e.position().map_or(0, |p| p.line()), e.to_string()))?;
        let line = rec.position().map_or(0, |p| p.line());
        let query = rec.get(q).unwrap_or_default().trim().to_owned();
        if query.is_empty() {
            return Err(bad(line, "empty query".into()));
        }
        rows.push(EvalRow {
            query,
            country: c
                .and_then(|i| rec.get(i))
                .unwrap_or_default()
                .trim()
                .to_owned(),
            expected_entity_id: e
                .and_then(|i| rec.get(i))
                .unwrap_or_default()
                .trim()
                .to_owned(),
        });
    }
    Ok(EvalSet::Queries(rows))
}

/// Confusion counts and rates at one threshold.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    pub threshold: f64,
    pub tp: usize,
    pub fp: usize,
    #[serde(rename = "fn")]
    pub fn_: usize,
    pub tn: usize,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

impl Metrics {
    /// Rates from counts; an empty denominator gives 1.0 (nothing claimed, nothing wrong).
    pub fn from_counts(threshold: f64, tp: usize, fp: usize, fn_: usize, tn: usize) -> Self {
        let ratio = |a: usize, b: usize| if b == 0 { 1.0 } else { a as f64 / b as f64 };
        let precision = ratio(tp, tp + fp);
        let recall = ratio(tp, tp + fn_);
        let f1 = if precision + recall == 0.0 {
            0.0
        } else {
            2.0 * precision * recall / (precision + recall)
        };
        Self {
            threshold,
            tp,
            fp,
            fn_,
            tn,
            precision,
            recall,
            f1,
        }
    }
}

/// The scores one labelled item produced, enough to count it at any threshold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scored {
    pub query: String,
    pub country: String,
    /// Empty for a negative.
    pub expected: String,
    /// Score of the expected entity (positives) or 0 when it was not found.
    pub expected_score: f64,
    /// Best score of any hit (negatives: what would raise a false alarm).
    pub best_score: f64,
    /// Best hit, for reporting misses and false alarms.
    pub best_hit: Option<String>,
}

impl Scored {
    fn positive(&self) -> bool {
        !self.expected.is_empty()
    }
}

/// An evaluation's result: metrics at the threshold, the curve, and the errors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalReport {
    #[serde(flatten)]
    pub metrics: Metrics,
    pub queries: usize,
    pub curve: Vec<Metrics>,
    /// Positives not found at the threshold.
    pub misses: Vec<Scored>,
    /// Negatives with a hit at the threshold.
    pub false_alarms: Vec<Scored>,
}

/// Counts scored items at a threshold.
pub fn metrics_at(items: &[Scored], threshold: f64) -> Metrics {
    let (mut tp, mut fp, mut fn_, mut tn) = (0, 0, 0, 0);
    for s in items {
        match (
            s.positive(),
            s.positive() && s.expected_score >= threshold,
            s.best_score >= threshold,
        ) {
            (true, true, _) => tp += 1,
            (true, false, _) => fn_ += 1,
            (false, _, true) => fp += 1,
            (false, _, false) => tn += 1,
        }
    }
    Metrics::from_counts(threshold, tp, fp, fn_, tn)
}

/// Thresholds of the reported curve.
pub const CURVE: [f64; 11] = [
    0.70, 0.75, 0.78, 0.80, 0.82, 0.84, 0.85, 0.86, 0.88, 0.90, 0.95,
];

/// Builds the report from scored items.
pub fn report(items: Vec<Scored>, threshold: f64) -> EvalReport {
    let metrics = metrics_at(&items, threshold);
    let mut curve: Vec<Metrics> = CURVE.iter().map(|&t| metrics_at(&items, t)).collect();
    if !CURVE.contains(&threshold) {
        curve.push(metrics);
        curve.sort_by(|a, b| a.threshold.total_cmp(&b.threshold));
    }
    let misses = items
        .iter()
        .filter(|s| s.positive() && s.expected_score < threshold)
        .cloned()
        .collect();
    let false_alarms = items
        .iter()
        .filter(|s| !s.positive() && s.best_score >= threshold)
        .cloned()
        .collect();
    EvalReport {
        metrics,
        queries: items.len(),
        curve,
        misses,
        false_alarms,
    }
}

/// Lowest threshold the curve needs; screening for evaluation runs at it.
fn floor(threshold: f64) -> f64 {
    CURVE[0].min(threshold)
}

/// Screens every row and scores it. `screener`'s own threshold is ignored.
pub fn score_queries(screener: &Screener, rows: &[EvalRow], threshold: f64) -> Vec<Scored> {
    let settings = MatchSettings {
        threshold: floor(threshold),
        max_hits: 50,
        ..screener.settings
    };
    rows.iter()
        .map(|r| {
            let q = Query {
                name: r.query.clone(),
                country: (!r.country.is_empty()).then(|| r.country.clone()),
                ..Default::default()
            };
            let out = screener.screen_with(&q, settings);
            let expected_score = out
                .hits
                .iter()
                .filter(|h| !r.expected_entity_id.is_empty() && h.entity_id == r.expected_entity_id)
                .map(|h| h.score)
                .fold(0.0, f64::max);
            let best = out.hits.first();
            Scored {
                query: r.query.clone(),
                country: r.country.clone(),
                expected: r.expected_entity_id.clone(),
                expected_score,
                best_score: best.map_or(0.0, |h| h.score),
                best_hit: best
                    .map(|h| format!("{}/{} {} ({:.3})", h.list, h.entity_id, h.name, h.score)),
            }
        })
        .collect()
}

/// Scores labelled pairs with the name scorer alone (token weights from the loaded lists).
pub fn score_pairs(screener: &Screener, pairs: &[EvalPair]) -> Vec<Scored> {
    pairs
        .iter()
        .map(|p| {
            let s = screener.index().compare_free(&p.query, &p.name).score;
            Scored {
                query: p.query.clone(),
                country: String::new(),
                expected: if p.positive {
                    p.name.clone()
                } else {
                    String::new()
                },
                expected_score: if p.positive { s } else { 0.0 },
                best_score: s,
                best_hit: Some(p.name.clone()),
            }
        })
        .collect()
}
