//! Name normalisation: the same function runs on list names and on queries, so that both sides
//! meet in one form (Latin, lower case, no punctuation, no legal forms or honorifics).

use unicode_normalization::UnicodeNormalization;

/// Legal-form words (after punctuation is removed: "S.A." is `sa`, "O.O.O." is `ooo`). They say
/// nothing about which party is meant and are often dropped or changed between documents.
const LEGAL_FORMS: &[&str] = &[
    "ab",
    "ag",
    "as",
    "asa",
    "bhd",
    "bv",
    "cia",
    "co",
    "company",
    "corp",
    "corporation",
    "cv",
    "doo",
    "ehf",
    "eirl",
    "fzc",
    "fze",
    "fzco",
    "fzllc",
    "gmbh",
    "inc",
    "incorporated",
    "jsc",
    "kft",
    "kg",
    "limited",
    "llc",
    "llp",
    "lp",
    "ltd",
    "ltda",
    "nv",
    "oao",
    "ojsc",
    "ooo",
    "oy",
    "pao",
    "pjsc",
    "plc",
    "pte",
    "pty",
    "pvt",
    "sa",
    "sac",
    "sal",
    "sarl",
    "sas",
    "sdn",
    "spa",
    "sp",
    "srl",
    "sro",
    "zao",
    "cjsc",
    "tov",
    "ao",
    "kk",
    "ulc",
    "se",
    "sae",
    "saog",
    "wll",
    "limitee",
    "ltee",
    "liability",
];

/// Multi-word legal forms, removed as a whole (their words alone can be part of a real name).
const LEGAL_PHRASES: &[&[&str]] = &[
    &["open", "joint", "stock"],
    &["closed", "joint", "stock"],
    &["public", "joint", "stock"],
    &["joint", "stock"],
    &["limited", "partnership"],
    &["obshchestvo", "s", "ogranichennoi", "otvetstvennostyu"],
    &["obshchestvo", "s", "ogranichennoy", "otvetstvennostyu"],
    &["otkrytoe", "aktsionernoe", "obshchestvo"],
    &["zakrytoe", "aktsionernoe", "obshchestvo"],
    &["publichnoe", "aktsionernoe", "obshchestvo"],
    &["aktsionernoe", "obshchestvo"],
    &["sociedad", "anonima"],
    &["societe", "anonyme"],
];

/// Long legal-form words that are recognised even when misspelt or glued to the next word
/// ("CMPANY", "COMPANYABROS"): short forms are too easily confused with real words.
const LONG_LEGAL_FORMS: &[&str] = &[
    "company",
    "limited",
    "corporation",
    "incorporated",
    "liability",
    "jointstock",
    "obshchestvo",
    "aktsionernoe",
    "otkrytoe",
    "zakrytoe",
    "publichnoe",
    "ogranichennoi",
    "ogranichennoy",
    "otvetstvennostyu",
];

/// Honorifics and titles: a listed "Sheikh X" and a queried "X" are the same person.
const HONORIFICS: &[&str] = &[
    "mr",
    "mrs",
    "ms",
    "miss",
    "mister",
    "madam",
    "dr",
    "doctor",
    "prof",
    "professor",
    "sir",
    "dame",
    "lord",
    "sheikh",
    "shaykh",
    "sheik",
    "haji",
    "hajji",
    "mullah",
    "mulla",
    "maulana",
    "maulvi",
    "mawlawi",
    "imam",
    "general",
    "gen",
    "colonel",
    "col",
    "brigadier",
    "major",
    "captain",
    "capt",
    "president",
    "presidente",
    "prasident",
    "predsjednik",
    "presedintele",
    "presiden",
    "elnok",
    "herr",
    "frau",
    "monsieur",
    "mme",
    "senor",
    "sr",
    "sra",
    "don",
    "dona",
    "hon",
    "honourable",
    "rev",
    "reverend",
    "father",
    "eng",
    "engineer",
];

/// Arabic articles written as separate words ("AL-QAIDA", "EL SAYED"): dropped, because lists and
/// documents attach, detach and omit them freely.
const ARTICLES: &[&str] = &["al", "el", "ul", "the"];

/// Spellings of one word that mean the same and should meet in one token.
const SYNONYMS: &[(&str, &str)] = &[("ibn", "bin"), ("bint", "bin")];

/// A normalised name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NormalizedName {
    pub tokens: Vec<String>,
}

impl NormalizedName {
    /// The tokens joined without separators: lets "ABDULRAHMAN" meet "ABDUL RAHMAN".
    pub fn compact(&self) -> String {
        self.tokens.concat()
    }
}

/// Normalises a name: NFKC, "LAST, First" reordering, transliteration to Latin, case-folding,
/// punctuation, then removal of legal forms, honorifics and articles.
pub fn normalize(raw: &str) -> NormalizedName {
    let nfkc: String = raw.nfkc().collect();
    let ordered = reorder_last_first(&nfkc);
    let latin = deunicode::deunicode(&ordered).to_ascii_lowercase();
    let mut tokens = unglue(tokenize(&latin));
    strip_trailing_initial_legal_form(&mut tokens);
    strip_legal_phrases(&mut tokens);
    let all = tokens.clone();
    tokens.retain(|t| {
        !ARTICLES.contains(&t.as_str())
            && !HONORIFICS.contains(&t.as_str())
            && !LEGAL_FORMS.contains(&t.as_str())
            && !misspelt_legal_form(t)
    });
    for t in &mut tokens {
        if let Some((_, to)) = SYNONYMS.iter().find(|(from, _)| *from == t.as_str()) {
            *t = (*to).to_owned();
        }
    }
    // A name made only of removable words ("CO LTD") is kept as written rather than emptied.
    if tokens.is_empty() {
        tokens = all;
    }
    NormalizedName { tokens }
}

/// "HANIYA, Ismail Abdul Salah" becomes "Ismail Abdul Salah HANIYA". A name with several commas,
/// or whose part after the comma is only a legal form ("CIMEX, S.A."), is left in order.
fn reorder_last_first(s: &str) -> String {
    let mut parts = s.split(',');
    let (Some(last), Some(first), None) = (parts.next(), parts.next(), parts.next()) else {
        return s.to_owned();
    };
    let first_tokens = tokenize(&deunicode::deunicode(first).to_ascii_lowercase());
    let only_legal = first_tokens
        .iter()
        .all(|t| LEGAL_FORMS.contains(&t.as_str()) || t.len() == 1);
    if first_tokens.is_empty() || only_legal || last.trim().is_empty() {
        return s.replace(',', " ");
    }
    format!("{} {}", first.trim(), last.trim())
}

/// Splits on anything that is not a letter or digit; dots and apostrophes inside a word are
/// removed instead, so "S.A." gives `sa` and "O'Brien" gives `obrien`.
fn tokenize(s: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut cur = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            cur.push(c);
        } else if matches!(c, '.' | '\'' | '`') {
            continue;
        } else if !cur.is_empty() {
            tokens.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        tokens.push(cur);
    }
    tokens
}

/// Splits a long legal form or title glued to the next word ("COMPANYABROS", "COLONELELYAZGI").
fn unglue(tokens: Vec<String>) -> Vec<String> {
    let mut out = Vec::with_capacity(tokens.len());
    for t in tokens {
        let prefix = LONG_LEGAL_FORMS
            .iter()
            .chain(HONORIFICS.iter().filter(|h| h.len() >= 6))
            .find(|p| t.len() >= p.len() + 3 && t.starts_with(**p));
        match prefix {
            Some(p) => {
                out.push((*p).to_owned());
                out.push(t[p.len()..].to_owned());
            }
            None => out.push(t),
        }
    }
    out
}

fn misspelt_legal_form(t: &str) -> bool {
    t.len() >= 6
        && LONG_LEGAL_FORMS.iter().any(|f| {
            crate::screening::score::jaro_winkler_bound(t.as_bytes(), f.as_bytes()) >= 0.92
                && strsim::jaro_winkler(t, f) >= 0.92
        })
}

fn strip_legal_phrases(tokens: &mut Vec<String>) {
    for phrase in LEGAL_PHRASES {
        let n = phrase.len();
        let mut i = 0;
        while i + n <= tokens.len() {
            if tokens[i..i + n]
                .iter()
                .zip(phrase.iter())
                .all(|(a, b)| a == b)
                && tokens.len() > n
            {
                tokens.drain(i..i + n);
            } else {
                i += 1;
            }
        }
    }
}

/// "S. A." or "S A" at the end of an organisation's name is one legal form split by spaces.
fn strip_trailing_initial_legal_form(tokens: &mut Vec<String>) {
    let n = tokens.iter().rev().take_while(|t| t.len() == 1).count();
    if n < 2 || n == tokens.len() {
        return;
    }
    let start = tokens.len() - n;
    let joined: String = tokens[start..].concat();
    if LEGAL_FORMS.contains(&joined.as_str()) {
        tokens.truncate(start);
    }
}

/// A phonetic key for one normalised token: the first letter, then consonant classes with vowels
/// and doubled sounds removed (a Soundex relative without its 4-character limit). Spelling variants
/// of one transliterated name (Mohammed, Muhammad, Mohamad) share a key.
pub fn phonetic_key(token: &str) -> String {
    let mut s = token.to_owned();
    for (from, to) in [
        ("sch", "s"),
        ("ph", "f"),
        ("ck", "k"),
        ("kh", "h"),
        ("dh", "d"),
        ("th", "t"),
        ("gh", "g"),
        ("sh", "s"),
        ("zh", "j"),
        ("ch", "j"),
    ] {
        if s.contains(from) {
            s = s.replace(from, to);
        }
    }
    let mut out = String::with_capacity(8);
    let mut last = 0u8;
    for (i, b) in s.bytes().enumerate() {
        let class = match b {
            b'b' | b'p' | b'f' | b'v' | b'w' => b'1',
            b'c' | b'g' | b'k' | b'q' | b'x' | b'j' => b'2',
            b's' | b'z' => b'7',
            b'd' | b't' => b'3',
            b'l' => b'4',
            b'm' | b'n' => b'5',
            b'r' => b'6',
            b'0'..=b'9' => b,
            _ => b'0',
        };
        if i == 0 {
            // Vowels and y/i/j at the start are interchangeable in transliteration (Yusuf/Jusuf, Ivanov/Yvanov).
            out.push(match b {
                b'a' | b'e' | b'i' | b'o' | b'u' | b'y' => 'a',
                b'w' | b'v' => 'v',
                b'c' | b'k' | b'q' => 'k',
                b'z' => 's',
                other => other as char,
            });
            last = class;
            continue;
        }
        if class != b'0' && class != last {
            out.push(class as char);
            if out.len() >= 7 {
                break;
            }
        }
        if b != b'h' && b != b'w' {
            last = class;
        }
    }
    out
}
