//! OFAC legacy CSV sets: SDN (`sdn.csv`, `alt.csv`, `add.csv`, `sdn_comments.csv`) and the
//! consolidated non-SDN lists (`cons_prim.csv`, `cons_alt.csv`, `cons_add.csv`, `cons_comments.csv`).
//! No header row; `-0-` means null; CRLF; a trailing 0x1A byte.

use std::path::Path;
use std::sync::OnceLock;

use regex::Regex;
use rustc_hash::FxHashMap;

use super::{Lines, LoadError, Parsed, SourceFile, parse_date};
use crate::screening::countries;
use crate::screening::entity::{Address, Entity, EntityType, Identifier, NameQuality};

#[derive(Clone, Copy)]
pub(super) enum Set {
    Sdn,
    Consolidated,
}

impl Set {
    /// (primary, alias, address, comments) file names.
    fn files(self) -> [&'static str; 4] {
        match self {
            Self::Sdn => ["sdn.csv", "alt.csv", "add.csv", "sdn_comments.csv"],
            Self::Consolidated => [
                "cons_prim.csv",
                "cons_alt.csv",
                "cons_add.csv",
                "cons_comments.csv",
            ],
        }
    }
}

pub(super) fn load(
    dir: &Path,
    list: &str,
    set: Set,
) -> Result<(Vec<SourceFile>, Parsed), LoadError> {
    let [prim, alt, add, comments] = set.files();
    let prim = SourceFile::read(&dir.join(prim))?;
    let alt = SourceFile::read(&dir.join(alt))?;
    let add = SourceFile::read(&dir.join(add))?;
    let comments_path = dir.join(comments);
    let comments = if comments_path.exists() {
        Some(SourceFile::read(&comments_path)?)
    } else {
        None
    };

    let mut warnings = Vec::new();
    let mut entities: Vec<Entity> = Vec::new();
    let mut by_id: FxHashMap<String, usize> = FxHashMap::default();
    for (line, row) in rows(&prim, 12)? {
        let id = ent_num(&prim, line, &row[0])?;
        let name = field(&row[1]).ok_or_else(|| {
            LoadError::malformed(&prim.path, line, format!("entry {id} has no name"))
        })?;
        let entity_type = match field(&row[2]).map(str::to_ascii_lowercase).as_deref() {
            Some("individual") => EntityType::Individual,
            Some("vessel") => EntityType::Vessel,
            Some("aircraft") => EntityType::Aircraft,
            None => EntityType::Organisation,
            Some(other) => {
                return Err(LoadError::malformed(
                    &prim.path,
                    line,
                    format!("unknown SDN_Type {other:?}"),
                ));
            }
        };
        let mut e = Entity::new(id.clone(), list, entity_type);
        e.add_name(name, NameQuality::Primary);
        if let Some(programs) = field(&row[3]) {
            e.programs = programs
                .split(['[', ']'])
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(str::to_owned)
                .collect();
        }
        if let Some(call_sign) = field(&row[5]) {
            e.identifiers.push(Identifier {
                kind: "call_sign".into(),
                value: call_sign.into(),
            });
        }
        if let Some(flag) = field(&row[9]) {
            e.add_country(countries::resolve(flag));
        }
        e.remarks = field(&row[11]).map(str::to_owned);
        if by_id.insert(id.clone(), entities.len()).is_some() {
            return Err(LoadError::malformed(
                &prim.path,
                line,
                format!("duplicate ent_num {id}"),
            ));
        }
        entities.push(e);
    }

    let mut orphans = 0usize;
    for (line, row) in rows(&alt, 5)? {
        let id = ent_num(&alt, line, &row[0])?;
        let Some(&i) = by_id.get(&id) else {
            orphans += 1;
            continue;
        };
        if let Some(name) = field(&row[3]) {
            let quality = match field(&row[2]).map(str::to_ascii_lowercase).as_deref() {
                Some("aka" | "fka" | "nka") | None => NameQuality::Strong,
                Some(_) => NameQuality::Weak,
            };
            entities[i].add_name(name, quality);
        }
    }
    for (line, row) in rows(&add, 6)? {
        let id = ent_num(&add, line, &row[0])?;
        let Some(&i) = by_id.get(&id) else {
            orphans += 1;
            continue;
        };
        let country = field(&row[4]).and_then(countries::resolve);
        let text: Vec<&str> = [&row[2], &row[3], &row[4]]
            .into_iter()
            .filter_map(|f| field(f))
            .collect();
        if !text.is_empty() {
            entities[i].addresses.push(Address {
                text: text.join(", "),
                country: country.clone(),
            });
        }
        entities[i].add_country(country);
    }
    if let Some(comments) = &comments {
        for (line, row) in rows(comments, 2)? {
            let id = ent_num(comments, line, &row[0])?;
            let Some(&i) = by_id.get(&id) else {
                orphans += 1;
                continue;
            };
            if let Some(more) = field(&row[1]) {
                let r = entities[i].remarks.get_or_insert_with(String::new);
                r.push_str(more);
            }
        }
    }
    if orphans > 0 {
        warnings.push(format!(
            "{orphans} alias/address/comment rows refer to entries missing from {}; skipped",
            prim.path.display()
        ));
    }
    let entities = entities
        .into_iter()
        .map(enrich_from_remarks)
        .map(Entity::seal)
        .collect();
    let mut files = vec![prim, alt, add];
    files.extend(comments);
    Ok((
        files,
        Parsed {
            entities,
            published: None,
            warnings,
        },
    ))
}

/// OFAC keeps dates of birth, nationalities and documents in the free-text remarks:
/// `DOB 10 Dec 1948; nationality Egypt; Passport 123 (Iran)`.
fn enrich_from_remarks(mut e: Entity) -> Entity {
    static RE: OnceLock<[Regex; 3]> = OnceLock::new();
    let [dob, country, passport] = RE.get_or_init(|| {
        [
            Regex::new(r"DOB (?:circa )?((?:\d{1,2} )?(?:[A-Z][a-z]{2} )?\d{4})").expect("regex"),
            Regex::new(r"(?:nationality|citizen|Nationality of Registration) ([A-Z][A-Za-z ,'\-]+?)(?:;|\.|$)")
                .expect("regex"),
            Regex::new(r"(Passport|National ID No\.|Cedula No\.|Tax ID No\.|IMO|Registration Number|D-U-N-S Number) ([A-Z0-9\-]+)")
                .expect("regex"),
        ]
    });
    let Some(remarks) = e.remarks.clone() else {
        return e;
    };
    for c in dob.captures_iter(&remarks) {
        e.add_dob(parse_date(&c[1]));
    }
    for c in country.captures_iter(&remarks) {
        e.add_country(countries::resolve(&c[1]));
    }
    for c in passport.captures_iter(&remarks) {
        e.identifiers.push(Identifier {
            kind: c[1].trim_end_matches('.').to_owned(),
            value: c[2].to_owned(),
        });
    }
    e
}

/// A field with OFAC's null marker mapped to `None`.
fn field(raw: &str) -> Option<&str> {
    let t = raw.trim();
    (!t.is_empty() && t != "-0-").then_some(t)
}

fn ent_num(file: &SourceFile, line: u64, raw: &str) -> Result<String, LoadError> {
    let t = raw.trim();
    if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
        return Err(LoadError::malformed(
            &file.path,
            line,
            format!("ent_num {t:?} is not a number"),
        ));
    }
    Ok(t.to_owned())
}

/// Every record with its line, checking the column count.
fn rows(file: &SourceFile, columns: usize) -> Result<Vec<(u64, Vec<String>)>, LoadError> {
    let text = file.text()?;
    // OFAC's files end with a DOS end-of-file byte.
    let text = text.trim_end_matches(['\u{1a}', '\r', '\n', ' ']);
    let mut lines = Lines::new(text.as_bytes());
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut out = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map_or(0, |p| lines.record(p.byte()));
            LoadError::malformed(&file.path, line, format!("bad CSV: {e}"))
        })?;
        let line = record.position().map_or(0, |p| lines.record(p.byte()));
        if record.len() == 1 && record[0].trim().is_empty() {
            continue;
        }
        if record.len() != columns {
            return Err(LoadError::malformed(
                &file.path,
                line,
                format!("expected {columns} fields, found {}", record.len()),
            ));
        }
        out.push((line, record.iter().map(str::to_owned).collect()));
    }
    Ok(out)
}
