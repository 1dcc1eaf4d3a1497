//! Generates a labelled evaluation set from loaded lists: true matches are listed names and aliases
//! changed the way names change in real documents; non-matches are ordinary person and company
//! names of several cultures. Seeded, so the committed fixture can be regenerated exactly.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;

use crate::screening::entity::{EntityType, NameQuality};
use crate::screening::lists::ListStore;

mod names;

use names::{COMPANY_FORMS, COMPANY_TRADES, COMPANY_WORDS, CULTURES};

/// How a positive was derived from the listed name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    Typo,
    DroppedToken,
    SwappedTokens,
    LastFirst,
    LegalForm,
    Transliteration,
    Initial,
    Spacing,
    CaseOnly,
}

/// One generated row (`change` is empty for negatives).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SynthRow {
    pub query: String,
    pub country: String,
    pub expected_entity_id: String,
    pub change: String,
}

/// Generates `positives` changed listed names and `negatives` ordinary names.
pub fn generate(lists: &ListStore, positives: usize, negatives: usize, seed: u64) -> Vec<SynthRow> {
    let mut rng = StdRng::seed_from_u64(seed);
    let entities: Vec<_> = lists.lists().flat_map(|l| l.entities.iter()).collect();
    let mut rows = Vec::with_capacity(positives + negatives);
    let mut attempts = 0;
    while rows.len() < positives && !entities.is_empty() && attempts < positives * 20 {
        attempts += 1;
        let e = entities[rng.random_range(0..entities.len())];
        let names: Vec<_> = e
            .names
            .iter()
            .filter(|n| n.quality != NameQuality::Weak && n.name.is_ascii())
            .collect();
        if names.is_empty() {
            continue;
        }
        let name = &names[rng.random_range(0..names.len())].name;
        // Acronyms and codes ("ISIS", "EP-MND") have no spelling variants: a changed letter makes
        // another acronym or registration, so they are left out of the positives.
        let tokens = words_of(name);
        if tokens.concat().len() < 5 || tokens.iter().all(|t| t.len() < 5) {
            continue;
        }
        let org = e.entity_type != EntityType::Individual;
        let Some((query, change)) = vary(name, org, &mut rng) else {
            continue;
        };
        let country = if !e.countries.is_empty() && rng.random_bool(0.5) {
            e.countries[rng.random_range(0..e.countries.len())].clone()
        } else {
            String::new()
        };
        rows.push(SynthRow {
            query,
            country,
            expected_entity_id: e.id.clone(),
            change: serde_json::to_value(change)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
        });
    }
    // A generated name that is literally a listed name is not a non-match.
    let listed: std::collections::HashSet<Vec<String>> = entities
        .iter()
        .flat_map(|e| &e.names)
        .map(|n| sorted_tokens(&n.name))
        .collect();
    let mut i = 0usize;
    while rows.len() < positives + negatives && i < negatives * 20 {
        i += 1;
        let (query, country) = if i % 4 == 3 {
            company(&mut rng)
        } else {
            person(&mut rng)
        };
        if listed.contains(&sorted_tokens(&query)) {
            continue;
        }
        rows.push(SynthRow {
            query,
            country,
            expected_entity_id: String::new(),
            change: String::new(),
        });
    }
    rows
}

/// The name's words, lower-cased, split at anything but a letter or digit. Deliberately simpler
/// than the screener's normaliser: the evaluation set must not be shaped by the code it measures.
fn words_of(name: &str) -> Vec<String> {
    name.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

fn sorted_tokens(name: &str) -> Vec<String> {
    let mut t = words_of(name);
    t.sort_unstable();
    t
}

fn pick<'a, T>(rng: &mut StdRng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

fn person(rng: &mut StdRng) -> (String, String) {
    let (_, countries, given, family) = pick(rng, CULTURES);
    let first = pick(rng, given);
    let last = pick(rng, family);
    let name = if rng.random_bool(0.25) {
        let second = pick(rng, given);
        format!("{first} {second} {last}")
    } else {
        format!("{first} {last}")
    };
    (name, (*pick(rng, countries)).to_owned())
}

fn company(rng: &mut StdRng) -> (String, String) {
    let a = pick(rng, COMPANY_WORDS);
    let b = pick(rng, COMPANY_TRADES);
    let (form, country) = pick(rng, COMPANY_FORMS);
    (format!("{a} {b} {form}"), (*country).to_owned())
}

/// One realistic change of a listed name.
fn vary(name: &str, org: bool, rng: &mut StdRng) -> Option<(String, Change)> {
    let words: Vec<&str> = name.split_whitespace().collect();
    let change = match rng.random_range(0..9) {
        0 | 1 => Change::Typo,
        2 => Change::DroppedToken,
        3 => Change::SwappedTokens,
        4 => Change::LastFirst,
        5 if org => Change::LegalForm,
        5 => Change::Initial,
        6 => Change::Transliteration,
        7 => Change::Spacing,
        _ => Change::CaseOnly,
    };
    let out = match change {
        Change::Typo => typo(name, rng)?,
        Change::DroppedToken => {
            if words.len() < 3 {
                return None;
            }
            let drop = rng.random_range(1..words.len() - 1);
            words
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != drop)
                .map(|(_, w)| *w)
                .collect::<Vec<_>>()
                .join(" ")
        }
        Change::SwappedTokens => {
            if words.len() < 2 {
                return None;
            }
            let mut w = words.clone();
            w.rotate_left(1);
            w.join(" ")
        }
        Change::LastFirst => {
            if words.len() < 2 || name.contains(',') {
                return None;
            }
            let (last, rest) = words.split_last()?;
            format!("{}, {}", last.to_uppercase(), rest.join(" "))
        }
        Change::LegalForm => {
            let form = pick(
                rng,
                &["LLC", "Ltd.", "Limited", "GmbH", "S.A.", "Co., Ltd.", "JSC"],
            );
            let base = words_of(name).join(" ").to_uppercase();
            format!("{base} {form}")
        }
        Change::Initial => {
            // Given names are shortened to initials, never the family name: in "LAST, First
            // Middle" that is a word after the comma, otherwise any word but the last.
            let comma = words.iter().position(|w| w.ends_with(','));
            let choices: Vec<usize> = match comma {
                Some(c) => (c + 1..words.len()).collect(),
                None => (0..words.len().saturating_sub(1)).collect(),
            };
            if words.len() < 3 || choices.is_empty() {
                return None;
            }
            let i = *pick(rng, &choices);
            let mut w: Vec<String> = words.iter().map(|s| (*s).to_owned()).collect();
            w[i] = format!("{}.", w[i].chars().next()?);
            w.join(" ")
        }
        Change::Transliteration => transliterate(name)?,
        Change::Spacing => {
            if name.contains('-') {
                name.replacen('-', " ", 1)
            } else if words.len() >= 2 {
                let i = rng.random_range(0..words.len() - 1);
                let mut w: Vec<String> = words.iter().map(|s| (*s).to_owned()).collect();
                let joined = format!("{}{}", w[i], w[i + 1]);
                w.splice(i..=i + 1, [joined]);
                w.join(" ")
            } else {
                return None;
            }
        }
        Change::CaseOnly => title_case(name),
    };
    (out != name).then_some((out, change))
}

fn typo(name: &str, rng: &mut StdRng) -> Option<String> {
    let chars: Vec<char> = name.chars().collect();
    let letters: Vec<usize> = (1..chars.len())
        .filter(|&i| chars[i].is_alphabetic() && chars[i - 1].is_alphabetic())
        .collect();
    if letters.is_empty() {
        return None;
    }
    let i = *pick(rng, &letters);
    let mut c = chars.clone();
    match rng.random_range(0..4) {
        0 => {
            c.remove(i);
        }
        1 => c.swap(i - 1, i),
        2 => c.insert(i, chars[i]),
        _ => {
            let vowels = ['a', 'e', 'i', 'o', 'u'];
            let lower = chars[i].to_ascii_lowercase();
            let repl = if vowels.contains(&lower) {
                vowels[(vowels.iter().position(|v| *v == lower)? + 1) % vowels.len()]
            } else {
                'e'
            };
            c[i] = if chars[i].is_uppercase() {
                repl.to_ascii_uppercase()
            } else {
                repl
            };
        }
    }
    Some(c.into_iter().collect())
}

/// Spelling variants transliteration produces between sources.
fn transliterate(name: &str) -> Option<String> {
    const RULES: &[(&str, &str)] = &[
        ("MOHAMMED", "MUHAMMAD"),
        ("MOHAMMAD", "MOHAMED"),
        ("MUHAMMAD", "MOHAMMAD"),
        ("AHMED", "AHMAD"),
        ("YOUSSEF", "YUSUF"),
        ("HUSSEIN", "HUSAYN"),
        ("OU", "U"),
        ("KH", "H"),
        ("SH", "SCH"),
        ("PH", "F"),
        ("EE", "I"),
        ("IY", "I"),
        ("Y", "I"),
        ("J", "DJ"),
        ("Q", "K"),
        ("W", "V"),
        ("V", "W"),
        ("E", "A"),
    ];
    let upper = name.to_uppercase();
    RULES
        .iter()
        .find(|(from, _)| upper.contains(from))
        .map(|(from, to)| upper.replacen(from, to, 1))
}

fn title_case(name: &str) -> String {
    name.split_whitespace()
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f
                    .to_uppercase()
                    .chain(c.flat_map(char::to_lowercase))
                    .collect(),
                None => String::new(),
            }
        })
        .collect::<Vec<String>>()
        .join(" ")
}
