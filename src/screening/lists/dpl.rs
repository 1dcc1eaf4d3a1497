//! BIS Denied Persons List: tab-separated, quoted fields, one header row. The list has no ids:
//! an entry's id is a hash of its name and address, so it is stable while the entry is.

use rustc_hash::FxHashSet;
use sha2::{Digest, Sha256};

use super::{Lines, LoadError, Parsed, SourceFile, parse_date};
use crate::screening::countries;
use crate::screening::entity::{Address, Entity, EntityType, NameQuality};

const COLUMNS: [&str; 6] = [
    "Name",
    "Street_Address",
    "City",
    "State",
    "Country",
    "Postal_Code",
];

pub(super) fn parse(file: &SourceFile, list: &str) -> Result<Parsed, LoadError> {
    let text = file.text()?;
    let mut lines = Lines::new(text.as_bytes());
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(b'\t')
        .has_headers(true)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| LoadError::malformed(&file.path, 1, format!("bad header: {e}")))?
        .clone();
    let col = |name: &str| headers.iter().position(|h| h.trim() == name);
    let mut idx = [0usize; 6];
    for (slot, name) in idx.iter_mut().zip(COLUMNS) {
        *slot = col(name).ok_or_else(|| {
            LoadError::malformed(&file.path, 1, format!("missing column {name:?}"))
        })?;
    }
    let last_update = col("Last_Update");
    // The list carries a few impossible dates (a "3017" update); the publication date ignores them.
    let today = {
        let t = time::OffsetDateTime::now_utc();
        format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day())
    };
    let mut entities: Vec<Entity> = Vec::new();
    let mut seen = FxHashSet::default();
    let mut published: Option<String> = None;
    let mut warnings = Vec::new();
    for rec in reader.records() {
        let rec = rec.map_err(|e| {
            let line = e.position().map_or(0, |p| lines.record(p.byte()));
            LoadError::malformed(&file.path, line, format!("bad row: {e}"))
        })?;
        let line = rec.position().map_or(0, |p| lines.record(p.byte()));
        if rec.len() != headers.len() {
            return Err(LoadError::malformed(
                &file.path,
                line,
                format!("expected {} fields, found {}", headers.len(), rec.len()),
            ));
        }
        let [name, street, city, state, country, postal] =
            idx.map(|i| rec.get(i).unwrap_or_default().trim());
        if name.is_empty() {
            return Err(LoadError::malformed(&file.path, line, "entry has no name"));
        }
        let digest = Sha256::digest(format!(
            "{name}\n{street}\n{city}\n{state}\n{country}\n{postal}"
        ));
        let id = format!("dpl-{}", &hex::encode(digest)[..16]);
        if !seen.insert(id.clone()) {
            warnings.push(format!("line {line}: duplicate entry {name:?}; skipped"));
            continue;
        }
        let mut e = Entity::new(id, list, EntityType::Unknown);
        e.add_name(name, NameQuality::Primary);
        e.programs.push("DPL".into());
        let code = countries::resolve(country);
        let text: Vec<&str> = [street, city, state, postal, country]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect();
        if !text.is_empty() {
            e.addresses.push(Address {
                text: text.join(", "),
                country: code.clone(),
            });
        }
        e.add_country(code);
        if let Some(d) = last_update
            .and_then(|i| rec.get(i))
            .and_then(parse_date)
            .filter(|d| *d <= today && published.as_ref().is_none_or(|p| p < d))
        {
            published = Some(d);
        }
        entities.push(e.seal());
    }
    Ok(Parsed {
        entities,
        published,
        warnings,
    })
}
