//! The candidate index. A query never scans the list: each query token is looked up exactly, by
//! phonetic key, and (when it is not a known token) through character trigrams of the token
//! vocabulary; the postings of the matching tokens name the candidate names, ranked by how much of
//! the query they cover. Only those candidates reach the scorer.

use std::cell::RefCell;

use rustc_hash::FxHashMap;

use super::normalize::{NormalizedName, normalize, phonetic_key};
use super::score::{self, MIN_TOKEN_SIMILARITY, NameComparison, Token};

/// A name in the index.
#[derive(Debug, Clone)]
pub struct IndexedName {
    /// Position of the entity in the slice the index was built from.
    pub entity: u32,
    /// Position of the name within the entity's names.
    pub name: u16,
    tokens: Box<[u32]>,
    compact: Box<str>,
}

/// A query prepared against the index vocabulary.
#[derive(Debug, Clone)]
pub struct PreparedQuery {
    pub normalized: NormalizedName,
    compact: String,
    phonetic: Vec<String>,
    weights: Vec<f64>,
}

impl PreparedQuery {
    pub fn tokens(&self) -> Vec<Token<'_>> {
        self.normalized
            .tokens
            .iter()
            .zip(&self.phonetic)
            .zip(&self.weights)
            .map(|((t, p), w)| Token {
                text: t,
                phonetic: p,
                weight: *w,
            })
            .collect()
    }
}

/// How much work candidate generation did, for the "never scans" guarantee.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SearchStats {
    /// Names the scorer compared with the query.
    pub candidates: usize,
    /// Posting entries visited.
    pub postings: usize,
    /// Names in the index.
    pub names: usize,
}

/// Token, trigram and phonetic postings over every name of the loaded lists.
#[derive(Debug, Default)]
pub struct Index {
    vocab: Vec<Box<str>>,
    vocab_ids: FxHashMap<Box<str>, u32>,
    vocab_phonetic: Vec<Box<str>>,
    idf: Vec<f64>,
    unknown_idf: f64,
    postings: Vec<Vec<u32>>,
    phonetic: FxHashMap<Box<str>, Vec<u32>>,
    trigrams: FxHashMap<u32, Vec<u32>>,
    /// Two adjacent tokens written as one ("abdul rahman" as `abdulrahman`) -> names.
    joined: FxHashMap<Box<str>, Vec<u32>>,
    names: Vec<IndexedName>,
}

/// Trigrams whose vocabulary postings are longer than this carry no signal and are skipped.
const MAX_TRIGRAM_POSTINGS: usize = 4000;
/// Share of a token's trigrams a vocabulary token must share to be compared with it.
const MIN_TRIGRAM_SHARE: f64 = 0.4;
/// A candidate must cover at least this share of the query's weight.
const MIN_QUERY_COVER: f64 = 0.45;

#[derive(Default)]
struct Scratch {
    acc: Vec<f32>,
    best: Vec<f32>,
    stamp: Vec<u32>,
    touched: Vec<u32>,
    gram_count: Vec<u16>,
    gram_touched: Vec<u32>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

impl Index {
    /// Builds the index from each entity's names (`names[i]` = the names of entity `i`).
    pub fn build<'a>(names: impl IntoIterator<Item = (u32, u16, &'a str)>) -> Self {
        let mut ix = Index::default();
        let mut df: Vec<u32> = Vec::new();
        for (entity, name, raw) in names {
            let norm = normalize(raw);
            if norm.tokens.is_empty() {
                continue;
            }
            let id = ix.names.len() as u32;
            let mut tokens = Vec::with_capacity(norm.tokens.len());
            for t in &norm.tokens {
                let v = ix.intern(t, &mut df);
                if ix.postings[v as usize].last() != Some(&id) {
                    ix.postings[v as usize].push(id);
                    df[v as usize] += 1;
                }
                tokens.push(v);
            }
            for w in norm.tokens.windows(2) {
                let key: Box<str> = format!("{}{}", w[0], w[1]).into();
                let list = ix.joined.entry(key).or_default();
                if list.last() != Some(&id) {
                    list.push(id);
                }
            }
            ix.names.push(IndexedName {
                entity,
                name,
                tokens: tokens.into(),
                compact: norm.compact().into(),
            });
        }
        let n = ix.names.len().max(1) as f64;
        ix.idf = df
            .iter()
            .map(|&d| (1.0 + n / f64::from(d.max(1))).ln())
            .collect();
        ix.unknown_idf = (1.0 + n).ln();
        ix
    }

    fn intern(&mut self, token: &str, df: &mut Vec<u32>) -> u32 {
        if let Some(&v) = self.vocab_ids.get(token) {
            return v;
        }
        let v = self.vocab.len() as u32;
        let phon = phonetic_key(token);
        self.phonetic
            .entry(phon.clone().into())
            .or_default()
            .push(v);
        for g in trigrams(token) {
            self.trigrams.entry(g).or_default().push(v);
        }
        self.vocab.push(token.into());
        self.vocab_ids.insert(token.into(), v);
        self.vocab_phonetic.push(phon.into());
        self.postings.push(Vec::new());
        df.push(0);
        v
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    pub fn vocabulary_len(&self) -> usize {
        self.vocab.len()
    }

    pub fn name(&self, id: u32) -> &IndexedName {
        &self.names[id as usize]
    }

    /// Normalises a query name and weighs its tokens by their rarity in the lists.
    pub fn prepare(&self, raw: &str) -> PreparedQuery {
        let normalized = normalize(raw);
        let phonetic = normalized.tokens.iter().map(|t| phonetic_key(t)).collect();
        let weights = normalized
            .tokens
            .iter()
            .map(|t| {
                let idf = self
                    .vocab_ids
                    .get(t.as_str())
                    .map_or(self.unknown_idf, |&v| self.idf[v as usize]);
                if t.len() == 1 {
                    idf * score::INITIAL_WEIGHT
                } else {
                    idf
                }
            })
            .collect();
        PreparedQuery {
            compact: normalized.compact(),
            normalized,
            phonetic,
            weights,
        }
    }

    /// Candidate names for a query, best first, at most `limit`.
    pub fn candidates(&self, q: &PreparedQuery, limit: usize) -> (Vec<u32>, SearchStats) {
        let mut stats = SearchStats {
            names: self.names.len(),
            ..Default::default()
        };
        let total: f64 = q.weights.iter().sum();
        if total <= 0.0 {
            return (Vec::new(), stats);
        }
        SCRATCH.with(|s| {
            let mut s = s.borrow_mut();
            let s = &mut *s;
            if s.acc.len() < self.names.len() {
                s.acc.resize(self.names.len(), 0.0);
                s.best.resize(self.names.len(), 0.0);
                s.stamp.resize(self.names.len(), 0);
            }
            if s.gram_count.len() < self.vocab.len() {
                s.gram_count.resize(self.vocab.len(), 0);
            }
            let tokens = q.tokens();
            for (qi, qt) in tokens.iter().enumerate() {
                let stamp = qi as u32 + 1;
                for (v, sim) in self.expand(qt, s) {
                    let add = (qt.weight * sim) as f32;
                    for &n in &self.postings[v as usize] {
                        stats.postings += 1;
                        credit(s, n, stamp, add);
                    }
                }
                if let Some(names) = self.joined.get(qt.text) {
                    for &n in names {
                        stats.postings += 1;
                        credit(s, n, stamp, qt.weight as f32);
                    }
                }
            }
            // Two query tokens that the list writes as one word.
            for (qi, w) in tokens.windows(2).enumerate() {
                let joined = format!("{}{}", w[0].text, w[1].text);
                if let Some(&v) = self.vocab_ids.get(joined.as_str()) {
                    let stamp = (tokens.len() + qi) as u32 + 1;
                    let add = (w[0].weight + w[1].weight) as f32;
                    for &n in &self.postings[v as usize] {
                        stats.postings += 1;
                        credit(s, n, stamp, add);
                    }
                }
            }
            let floor = (MIN_QUERY_COVER * total) as f32;
            let mut found: Vec<(f32, u32)> = s
                .touched
                .iter()
                .filter(|&&n| s.acc[n as usize] >= floor)
                .map(|&n| (s.acc[n as usize], n))
                .collect();
            for &n in &s.touched {
                s.acc[n as usize] = 0.0;
                s.best[n as usize] = 0.0;
                s.stamp[n as usize] = 0;
            }
            s.touched.clear();
            found.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
            found.truncate(limit);
            stats.candidates = found.len();
            (found.into_iter().map(|(_, n)| n).collect(), stats)
        })
    }

    /// Vocabulary tokens similar to a query token, with their similarity.
    fn expand(&self, qt: &Token<'_>, s: &mut Scratch) -> Vec<(u32, f64)> {
        let mut out: Vec<(u32, f64)> = Vec::new();
        let exact = self.vocab_ids.get(qt.text).copied();
        if let Some(v) = exact {
            out.push((v, 1.0));
        }
        let consider = |v: u32, out: &mut Vec<(u32, f64)>| {
            if Some(v) == exact || out.iter().any(|(u, _)| *u == v) {
                return;
            }
            let sim = score::token_similarity(qt, &self.token(v));
            if sim >= MIN_TOKEN_SIMILARITY {
                out.push((v, sim));
            }
        };
        if qt.text.len() >= 4
            && let Some(vs) = self.phonetic.get(qt.phonetic)
        {
            for &v in vs {
                consider(v, &mut out);
            }
        }
        if exact.is_none() && qt.text.len() >= 3 {
            let grams: Vec<u32> = trigrams(qt.text).collect();
            let need = ((grams.len() as f64 * MIN_TRIGRAM_SHARE).ceil() as u16).max(2);
            for g in &grams {
                let Some(vs) = self.trigrams.get(g) else {
                    continue;
                };
                if vs.len() > MAX_TRIGRAM_POSTINGS {
                    continue;
                }
                for &v in vs {
                    let c = &mut s.gram_count[v as usize];
                    if *c == 0 {
                        s.gram_touched.push(v);
                    }
                    *c += 1;
                }
            }
            let hits: Vec<u32> = s
                .gram_touched
                .iter()
                .copied()
                .filter(|&v| s.gram_count[v as usize] >= need)
                .collect();
            for &v in &s.gram_touched {
                s.gram_count[v as usize] = 0;
            }
            s.gram_touched.clear();
            for v in hits {
                consider(v, &mut out);
            }
        }
        out
    }

    fn token(&self, v: u32) -> Token<'_> {
        Token {
            text: &self.vocab[v as usize],
            phonetic: &self.vocab_phonetic[v as usize],
            weight: self.idf[v as usize],
        }
    }

    fn name_tokens(&self, name: u32) -> Vec<Token<'_>> {
        self.names[name as usize]
            .tokens
            .iter()
            .map(|&v| {
                let mut t = self.token(v);
                if t.text.len() == 1 {
                    t.weight *= score::INITIAL_WEIGHT;
                }
                t
            })
            .collect()
    }

    /// Scores a prepared query against one indexed name, with the explanation.
    pub fn compare(&self, q: &PreparedQuery, name: u32) -> NameComparison {
        let n = &self.names[name as usize];
        score::compare(&q.tokens(), &q.compact, &self.name_tokens(name), &n.compact)
    }

    /// The score of [`Index::compare`] without building the explanation.
    pub fn score(&self, q: &PreparedQuery, q_tokens: &[Token<'_>], name: u32) -> f64 {
        let n = &self.names[name as usize];
        score::score(q_tokens, &q.compact, &self.name_tokens(name), &n.compact)
    }

    /// Scores two free names with this index's token weights (for pairwise evaluation).
    pub fn compare_free(&self, a: &str, b: &str) -> NameComparison {
        let qa = self.prepare(a);
        let qb = self.prepare(b);
        score::compare(&qa.tokens(), &qa.compact, &qb.tokens(), &qb.compact)
    }
}

/// Adds a query token's credit to a name, counting each query token once per name (its best
/// expansion), whatever number of similar vocabulary tokens reach that name.
fn credit(s: &mut Scratch, n: u32, stamp: u32, add: f32) {
    let i = n as usize;
    if s.stamp[i] == 0 && s.acc[i] == 0.0 {
        s.touched.push(n);
    }
    if s.stamp[i] != stamp {
        s.stamp[i] = stamp;
        s.best[i] = add;
        s.acc[i] += add;
    } else if add > s.best[i] {
        s.acc[i] += add - s.best[i];
        s.best[i] = add;
    }
}

/// Character trigrams of a token padded with a space on both sides, packed into a u32.
fn trigrams(token: &str) -> impl Iterator<Item = u32> + '_ {
    let b = token.as_bytes();
    let padded_len = b.len() + 2;
    let at = move |i: usize| -> u32 {
        if i == 0 || i == padded_len - 1 {
            u32::from(b' ')
        } else {
            u32::from(b[i - 1])
        }
    };
    (0..padded_len.saturating_sub(2)).map(move |i| (at(i) << 16) | (at(i + 1) << 8) | at(i + 2))
}
