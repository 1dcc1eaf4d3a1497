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
    let phonetic = la >= 4 && lb >= 4 && a.phonetic == b.phonetic && !a.phonetic.is_empty();
    if !phonetic && jaro_winkler_bound(a.text.as_bytes(), b.text.as_bytes()) < MIN_TOKEN_SIMILARITY
    {
        return 0.0;
    }
    let mut sim = strsim::jaro_winkler(a.text, b.text);
    if phonetic {
        sim = sim.max(PHONETIC_SIMILARITY);
    }
    if sim < MIN_TOKEN_SIMILARITY { 0.0 } else { sim }
}

/// An upper bound of the Jaro-Winkler similarity from the shared characters and the common
/// prefix, cheap enough to skip the exact computation for most unrelated token pairs.
pub(crate) fn jaro_winkler_bound(a: &[u8], b: &[u8]) -> f64 {
    let mut hist = [0i16; 64];
    let slot = |c: u8| (c as usize) & 63;
    for &c in a {
        hist[slot(c)] += 1;
    }
    let mut common = 0usize;
    for &c in b {
        let h = &mut hist[slot(c)];
        if *h > 0 {
            *h -= 1;
            common += 1;
        }
    }
    if common == 0 {
        return 0.0;
    }
    let m = common as f64;
    let jaro = (m / a.len() as f64 + m / b.len() as f64 + 1.0) / 3.0;
    let prefix = a.iter().zip(b).take(4).take_while(|(x, y)| x == y).count() as f64;
    jaro + prefix * 0.1 * (1.0 - jaro)
}

/// The score alone, without building an explanation: what the ranking loop needs.
pub fn score(
    query: &[Token<'_>],
    query_compact: &str,
    name: &[Token<'_>],
    name_compact: &str,
) -> f64 {
    let (m, n) = (query.len(), name.len());
    if m > 32 || n > 32 {
        return compare(query, query_compact, name, name_compact).score;
    }
    let mut pairs: Vec<(f64, u8, u8)> = Vec::with_capacity(m * n);
    for (i, q) in query.iter().enumerate() {
        for (j, c) in name.iter().enumerate() {
            let s = token_similarity(q, c);
            if s > 0.0 {
                pairs.push((s, i as u8, j as u8));
            }
        }
    }
    let token_score = if pairs.is_empty() {
        0.0
    } else {
        pairs.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
        let (mut q_used, mut c_used) = ([false; 32], [false; 32]);
        let (mut q_cov, mut c_cov) = (0.0, 0.0);
        let mut substantive = false;
        for (s, i, j) in pairs {
            let (i, j) = (i as usize, j as usize);
            if q_used[i] || c_used[j] {
                continue;
            }
            q_used[i] = true;
            c_used[j] = true;
            q_cov += query[i].weight * s;
            c_cov += name[j].weight * s;
            substantive |= query[i].text.len() > 1 && name[j].text.len() > 1;
        }
        blend(substantive, q_cov, c_cov, query, name)
    };
    token_score.max(compact_score(
        m,
        n,
        token_score,
        query_compact,
        name_compact,
    ))
}

fn blend(
    substantive: bool,
    q_cov: f64,
    c_cov: f64,
    query: &[Token<'_>],
    name: &[Token<'_>],
) -> f64 {
    let q_total: f64 = query.iter().map(|t| t.weight).sum();
    let c_total: f64 = name.iter().map(|t| t.weight).sum();
    if substantive && q_total > 0.0 && c_total > 0.0 {
        QUERY_COVERAGE_WEIGHT * (q_cov / q_total)
            + (1.0 - QUERY_COVERAGE_WEIGHT) * (c_cov / c_total)
    } else {
        0.0
    }
}

/// Similarity of the names written without spaces, for names split or joined differently. Only
/// tried when the token counts differ and the tokens alone fall short.
fn compact_score(m: usize, n: usize, token_score: f64, qc: &str, nc: &str) -> f64 {
    if m == n || token_score >= 0.95 || qc.len() < 6 || nc.len() < 6 {
        return 0.0;
    }
    let (short, long) = if qc.len() < nc.len() {
        (qc.len(), nc.len())
    } else {
        (nc.len(), qc.len())
    };
    // Levenshtein similarity cannot exceed the length ratio.
    if (short as f64 / long as f64) <= token_score {
        return 0.0;
    }
    strsim::normalized_levenshtein(qc, nc)
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
    let token_score = blend(substantive, q_cov, c_cov, query, name);
    let compact_score = compact_score(m, n, token_score, query_compact, name_compact);
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
