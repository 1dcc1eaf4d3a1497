//! OpenSanctions FollowTheMoney JSON lines: one entity per line, or a delta stream of
//! `{"op": "ADD"|"MOD"|"DEL", "entity": {...}}`. Only screenable schemas become entities.

use rustc_hash::FxHashMap;
use serde_json::Value;

use super::{LoadError, Parsed, SourceFile, parse_date};
use crate::screening::countries;
use crate::screening::entity::{Address, Entity, EntityType, Identifier, NameQuality};

const IDENTIFIER_PROPS: &[&str] = &[
    "registrationNumber",
    "taxNumber",
    "idNumber",
    "passportNumber",
    "imoNumber",
    "innCode",
    "ogrnCode",
    "leiCode",
    "swiftBic",
];

pub(super) fn parse(file: &SourceFile, list: &str) -> Result<Parsed, LoadError> {
    let text = file.text()?;
    // Keyed by id so that a delta's MOD replaces and DEL removes the earlier ADD.
    let mut by_id: FxHashMap<String, Entity> = FxHashMap::default();
    let mut order: Vec<String> = Vec::new();
    let mut published: Option<String> = None;
    let mut skipped = 0usize;
    for (i, line) in text.lines().enumerate() {
        let n = i as u64 + 1;
        if line.trim().is_empty() {
            continue;
        }
        let value: Value = serde_json::from_str(line)
            .map_err(|e| LoadError::malformed(&file.path, n, format!("invalid JSON: {e}")))?;
        let (op, obj) = match value.get("op").and_then(Value::as_str) {
            Some(op) => (
                op.to_owned(),
                value.get("entity").cloned().ok_or_else(|| {
                    LoadError::malformed(&file.path, n, "delta line without \"entity\"")
                })?,
            ),
            None => ("ADD".to_owned(), value),
        };
        let id = obj
            .get("id")
            .and_then(Value::as_str)
            .ok_or_else(|| LoadError::malformed(&file.path, n, "entity without \"id\""))?
            .to_owned();
        if let Some(changed) = obj.get("last_change").and_then(Value::as_str) {
            let day: String = changed.chars().take(10).collect();
            if published.as_ref().is_none_or(|p| *p < day) {
                published = Some(day);
            }
        }
        match op.as_str() {
            "DEL" => {
                by_id.remove(&id);
            }
            "ADD" | "MOD" => {
                let schema = obj.get("schema").and_then(Value::as_str).ok_or_else(|| {
                    LoadError::malformed(&file.path, n, format!("entity {id} without \"schema\""))
                })?;
                let Some(entity_type) = screenable(schema) else {
                    skipped += 1;
                    continue;
                };
                let e = entity(&obj, id.clone(), list, entity_type);
                if e.names.is_empty() {
                    return Err(LoadError::malformed(
                        &file.path,
                        n,
                        format!("entity {id} has no name"),
                    ));
                }
                if by_id.insert(id.clone(), e).is_none() {
                    order.push(id);
                }
            }
            other => {
                return Err(LoadError::malformed(
                    &file.path,
                    n,
                    format!("unknown delta op {other:?}"),
                ));
            }
        }
    }
    let entities = order.iter().filter_map(|id| by_id.remove(id)).collect();
    let warnings = if skipped > 0 {
        vec![format!(
            "{skipped} entities of non-screenable schemas skipped"
        )]
    } else {
        Vec::new()
    };
    Ok(Parsed {
        entities,
        published,
        warnings,
    })
}

fn screenable(schema: &str) -> Option<EntityType> {
    match schema {
        "Person" => Some(EntityType::Individual),
        "Organization" | "Company" | "LegalEntity" | "PublicBody" => Some(EntityType::Organisation),
        "Vessel" => Some(EntityType::Vessel),
        "Airplane" => Some(EntityType::Aircraft),
        _ => None,
    }
}

fn entity(obj: &Value, id: String, list: &str, entity_type: EntityType) -> Entity {
    let props = obj.get("properties").cloned().unwrap_or(Value::Null);
    let strings = |key: &str| -> Vec<String> {
        props
            .get(key)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut e = Entity::new(id, list, entity_type);
    if let Some(caption) = obj.get("caption").and_then(Value::as_str) {
        e.add_name(caption, NameQuality::Primary);
    }
    for n in strings("name") {
        e.add_name(&n, NameQuality::Primary);
    }
    for n in strings("alias").into_iter().chain(strings("previousName")) {
        e.add_name(&n, NameQuality::Strong);
    }
    for n in strings("weakAlias") {
        e.add_name(&n, NameQuality::Weak);
    }
    for key in [
        "country",
        "nationality",
        "citizenship",
        "jurisdiction",
        "flag",
    ] {
        for c in strings(key) {
            e.add_country(countries::resolve(&c));
        }
    }
    for d in strings("birthDate") {
        e.add_dob(parse_date(&d));
    }
    for a in strings("address") {
        e.addresses.push(Address {
            text: a,
            country: None,
        });
    }
    for key in IDENTIFIER_PROPS {
        for v in strings(key) {
            e.identifiers.push(Identifier {
                kind: (*key).to_owned(),
                value: v,
            });
        }
    }
    e.programs = strings("programId");
    if e.programs.is_empty() {
        e.programs = strings("program");
    }
    let notes = strings("notes");
    e.remarks = (!notes.is_empty()).then(|| notes.join(" "));
    e.seal()
}
