//! The name scorer: a token-aware Jaro-Winkler comparison of two normalised names.
//!
//! Tokens are paired greedily by similarity, in any order, so reordered names score like ordered
//! ones. Each token carries a weight (its rarity in the loaded lists), and the score is a blend of
//! how much of the query's weight and how much of the listed name's weight found a partner. A
//! missing listed token (a patronymic the query leaves out) costs less than a query token that
//! matches nothing. Initials pair with tokens starting with the same letter. The compact form
//! (tokens joined) catches names split or joined differently ("ABDUL RAHMAN" / "ABDULRAHMAN").

use serde::{Deserialize, Serialize};

/// Below this Jaro-Winkler similarity two tokens are treated as different words.
pub const MIN_TOKEN_SIMILARITY: f64 = 0.80;
/// Credit for an initial paired with a token starting with that letter.
pub const INITIAL_SIMILARITY: f64 = 0.80;
/// Floor raised for two tokens of 4+ letters with the same phonetic key.
pub const PHONETIC_SIMILARITY: f64 = 0.88;
/// Share of the score that measures coverage of the query (the rest: coverage of the listed name).
pub const QUERY_COVERAGE_WEIGHT: f64 = 0.7;
/// Weight factor for single-letter tokens: an initial says little about who is meant.
pub const INITIAL_WEIGHT: f64 = 0.3;

/// One token of a name prepared for scoring.
#[derive(Debug, Clone, Copy)]
pub struct Token<'a> {
    pub text: &'a str,
    pub phonetic: &'a str,
    pub weight: f64,
}

/// A pair of tokens the scorer matched.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenMatch {
    pub query: String,
    pub name: String,
    pub similarity: f64,
}

/// How a name comparison reached its score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    Tokens,
    Compact,
}

/// The result of comparing a query name with one listed name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NameComparison {
    pub score: f64,
    pub method: Method,
    pub matched: Vec<TokenMatch>,
    pub unmatched_query: Vec<String>,
    pub unmatched_name: Vec<String>,
}

/// Similarity of two tokens in [0, 1]; 0 when they should not be paired at all.
pub fn token_similarity(a: &Token<'_>, b: &Token<'_>) -> f64 {
    if a.text == b.text {
        return 1.0;
    }
    let (la, lb) = (a.text.len(), b.text.len());
    if la == 1 || lb == 1 {
        return if a.text.as_bytes()[0] == b.text.as_bytes()[0] {
            INITIAL_SIMILARITY
        } else {
            0.0
        };
    }
    let mut sim = strsim::jaro_winkler(a.text, b.text);
    if la >= 4 && lb >= 4 && a.phonetic == b.phonetic && !a.phonetic.is_empty() {
        sim = sim.max(PHONETIC_SIMILARITY);
    }
    if sim < MIN_TOKEN_SIMILARITY { 0.0 } else { sim }
}

/// Compares a query with a listed name. `*_compact` are the tokens joined without separators.
pub fn compare(
    query: &[Token<'_>],
    query_compact: &str,
    name: &[Token<'_>],
    name_compact: &str,
) -> NameComparison {
    let (m, n) = (query.len(), name.len());
    let mut pairs: Vec<(f64, usize, usize)> = Vec::with_capacity(m * n);
    for (i, q) in query.iter().enumerate() {
        for (j, c) in name.iter().enumerate() {
            let s = token_similarity(q, c);
            if s > 0.0 {
                pairs.push((s, i, j));
            }
        }
    }
    // Ties go to the earlier tokens so that results are deterministic.
    pairs.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    let mut q_used = vec![false; m];
    let mut c_used = vec![false; n];
    let mut matched = Vec::new();
    let (mut q_cov, mut c_cov) = (0.0, 0.0);
    let mut substantive = false;
    for (s, i, j) in pairs {
        if q_used[i] || c_used[j] {
            continue;
        }
        q_used[i] = true;
        c_used[j] = true;
        q_cov += query[i].weight * s;
        c_cov += name[j].weight * s;
        substantive |= query[i].text.len() > 1 && name[j].text.len() > 1;
        matched.push(TokenMatch {
            query: query[i].text.to_owned(),
            name: name[j].text.to_owned(),
            similarity: s,
        });
    }
    let q_total: f64 = query.iter().map(|t| t.weight).sum();
    let c_total: f64 = name.iter().map(|t| t.weight).sum();
    let token_score = if substantive && q_total > 0.0 && c_total > 0.0 {
        QUERY_COVERAGE_WEIGHT * (q_cov / q_total)
            + (1.0 - QUERY_COVERAGE_WEIGHT) * (c_cov / c_total)
    } else {
        0.0
    };
    let compact_score = if m != n && query_compact.len() >= 6 && name_compact.len() >= 6 {
        strsim::normalized_levenshtein(query_compact, name_compact)
    } else {
        0.0
    };
    let unmatched_query = (0..m)
        .filter(|&i| !q_used[i])
        .map(|i| query[i].text.to_owned())
        .collect();
    let unmatched_name = (0..n)
        .filter(|&j| !c_used[j])
        .map(|j| name[j].text.to_owned())
        .collect();
    let (score, method) = if compact_score > token_score {
        (compact_score, Method::Compact)
    } else {
        (token_score, Method::Tokens)
    };
    NameComparison {
        score,
        method,
        matched,
        unmatched_query,
        unmatched_name,
    }
}
