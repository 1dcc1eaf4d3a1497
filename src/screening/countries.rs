//! Resolves the country names and codes the lists use to ISO 3166-1 alpha-2.

use std::sync::OnceLock;

use rustc_hash::FxHashMap;

/// Derived from the ISO country-code table; see `data/sanctions/SOURCE.md`.
const TABLE: &str = include_str!("../../data/sanctions/country_names.tsv");

fn table() -> &'static FxHashMap<String, &'static str> {
    static MAP: OnceLock<FxHashMap<String, &'static str>> = OnceLock::new();
    MAP.get_or_init(|| {
        let mut map = FxHashMap::default();
        for line in TABLE.lines().filter(|l| !l.starts_with('#')) {
            let Some((code, names)) = line.split_once('\t') else {
                continue;
            };
            map.insert(key(code), code);
            for name in names.split('|') {
                map.insert(key(name), code);
            }
        }
        map
    })
}

fn key(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for w in deunicode::deunicode(s)
        .to_ascii_lowercase()
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty() && *w != "the")
    {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(w);
    }
    out
}

/// ISO-2 code for a country name or code as a list writes it ("Cuba", "Korea, North", "IR", "irn").
pub fn resolve(raw: &str) -> Option<String> {
    let k = key(raw);
    if k.is_empty() {
        return None;
    }
    table().get(&k).map(|c| (*c).to_owned())
}
