//! US Consolidated Screening List CSV. Two export layouts exist: the 2019 one starting with
//! `source,entity_number,...` and a later one with a leading `_id` column; columns are read by name.
//! Multi-valued cells (`alt_names`, `addresses`, `dates_of_birth`...) are `;`-separated.

use sha2::{Digest, Sha256};

use super::{Lines, LoadError, Parsed, SourceFile, parse_date, split_list};
use crate::screening::countries;
use crate::screening::entity::{Address, Entity, EntityType, Identifier, NameQuality};

const REQUIRED: [&str; 4] = ["source", "name", "type", "alt_names"];

pub(super) fn parse(file: &SourceFile, list: &str) -> Result<Parsed, LoadError> {
    let text = file.text()?;
    let mut lines = Lines::new(text.as_bytes());
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| LoadError::malformed(&file.path, 1, format!("bad CSV header: {e}")))?
        .clone();
    let col = |name: &str| headers.iter().position(|h| h.trim() == name);
    for name in REQUIRED {
        if col(name).is_none() {
            return Err(LoadError::malformed(
                &file.path,
                1,
                format!("missing column {name:?} (not a CSL export)"),
            ));
        }
    }
    let get = |rec: &csv::StringRecord, name: &str| -> String {
        col(name)
            .and_then(|i| rec.get(i))
            .map(|s| s.trim().to_owned())
            .unwrap_or_default()
    };
    let mut entities = Vec::new();
    let mut published: Option<String> = None;
    for rec in reader.records() {
        let rec = rec.map_err(|e| {
            let line = e.position().map_or(0, |p| lines.record(p.byte()));
            LoadError::malformed(&file.path, line, format!("bad CSV: {e}"))
        })?;
        let line = rec.position().map_or(0, |p| lines.record(p.byte()));
        if rec.len() != headers.len() {
            return Err(LoadError::malformed(
                &file.path,
                line,
                format!("expected {} fields, found {}", headers.len(), rec.len()),
            ));
        }
        let name = get(&rec, "name");
        // The State Department appends a boilerplate clause to entity names.
        let name = name
            .split("; and any successor")
            .next()
            .unwrap_or_default()
            .trim()
            .to_owned();
        if name.is_empty() {
            return Err(LoadError::malformed(&file.path, line, "entry has no name"));
        }
        let source = get(&rec, "source");
        let addresses = get(&rec, "addresses");
        let id = [get(&rec, "entity_number"), get(&rec, "_id")]
            .into_iter()
            .find(|s| !s.is_empty())
            .unwrap_or_else(|| {
                let digest = Sha256::digest(format!("{source}\n{name}\n{addresses}"));
                format!("csl-{}", &hex::encode(digest)[..16])
            });
        let entity_type = match get(&rec, "type").to_ascii_lowercase().as_str() {
            "individual" => EntityType::Individual,
            "entity" => EntityType::Organisation,
            "vessel" => EntityType::Vessel,
            "aircraft" => EntityType::Aircraft,
            _ => EntityType::Unknown,
        };
        let mut e = Entity::new(id, list, entity_type);
        e.add_name(&name, NameQuality::Primary);
        for alt in split_list(&get(&rec, "alt_names"), ';') {
            e.add_name(alt, NameQuality::Strong);
        }
        e.programs.push(short_source(&source));
        e.programs
            .extend(split_list(&get(&rec, "programs"), ';').map(str::to_owned));
        for addr in split_list(&addresses, ';') {
            let country = addr.rsplit(',').next().and_then(countries::resolve);
            e.addresses.push(Address {
                text: addr.to_owned(),
                country: country.clone(),
            });
            e.add_country(country);
        }
        for c in ["citizenships", "nationalities"] {
            for v in split_list(&get(&rec, c), ';') {
                e.add_country(countries::resolve(v));
            }
        }
        for d in split_list(&get(&rec, "dates_of_birth"), ';') {
            e.add_dob(parse_date(d));
        }
        for id in split_list(&get(&rec, "ids"), ';') {
            let (kind, value) = id.split_once(',').unwrap_or(("id", id));
            e.identifiers.push(Identifier {
                kind: kind.trim().to_owned(),
                value: value.trim().to_owned(),
            });
        }
        let remarks = get(&rec, "remarks");
        e.remarks = (!remarks.is_empty()).then_some(remarks);
        let start = get(&rec, "start_date");
        if start.len() >= 10 && published.as_deref().is_none_or(|p| p < &start[..10]) {
            published = Some(start[..10].to_owned());
        }
        entities.push(e.seal());
    }
    Ok(Parsed {
        entities,
        published,
        warnings: Vec::new(),
    })
}

/// "Denied Persons List (DPL) - Bureau of Industry and Security" becomes "DPL".
fn short_source(source: &str) -> String {
    match (source.find('('), source.find(')')) {
        (Some(a), Some(b)) if a < b => source[a + 1..b].to_owned(),
        _ => source.to_owned(),
    }
}
