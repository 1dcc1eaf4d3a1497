//! What every customs-broker and carrier transport shares: the declaration document the
//! broker mappings read, the compiled partner templates, and the ingest of the canonical
//! inputs (`customs.status`, `carrier.milestone`) that partners' answers become. The LRN
//! ledger that turns a partner's reference back into a saga key is in the store
//! ([`crate::store::lrn_ledger`]).

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::rc::Rc;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tradehub_actors::envelope::{Envelope, partition_of};
use tradehub_actors::mailbox::{IngestOutcome, Mailbox, MailboxError};

use super::config::{Layout, Partner, PartnerError};
use crate::formats;
use crate::formats::mapping::MappingCache;
use crate::model::{PartyRole, Shipment};
use crate::store::RedisMailbox;
use crate::workflow::shipment::commands::FileDeclaration;
use crate::workflow::shipment::inputs::{CARRIER_MILESTONE, CUSTOMS_STATUS, Milestone};

#[cfg(test)]
mod tests;

fn text<T: ToString>(v: Option<T>) -> Value {
    v.map_or(Value::Null, |v| Value::String(v.to_string()))
}

fn party_json(shipment: &Shipment, roles: &[PartyRole]) -> Value {
    let Some(p) = roles.iter().find_map(|r| shipment.parties_with(*r).next()) else {
        return json!({ "name": null, "eori": null, "address": {} });
    };
    let eori = p
        .identifiers
        .iter()
        .find(|i| i.scheme == crate::model::IdentifierScheme::Eori)
        .map(|i| i.value.clone());
    let address = p.addresses.first().map_or_else(
        || json!({ "country": text(p.effective_country()) }),
        |a| {
            json!({
                "street": if a.street.is_empty() { Value::Null } else { json!(a.street.join(", ")) },
                "city": a.city,
                "postcode": a.postal_code,
                "country": text(a.country.as_ref().or(p.effective_country())),
            })
        },
    );
    json!({ "name": p.name, "eori": eori, "address": address })
}

/// The declaration document the broker mappings read (the shape of
/// `tests/fixtures/partners/*-broker/outbound/declaration.json`), built from a
/// `customs.file` command; `declared_at` is RFC 3339.
pub fn declaration_document(file: &FileDeclaration, declared_at: &str) -> Value {
    let lrn = &file.lrn;
    let shipment = &file.shipment;
    let (declaration_type, procedure) = match shipment.direction {
        crate::model::Direction::Export => ("EX", "1000"),
        crate::model::Direction::Import => ("IM", "4000"),
        crate::model::Direction::Transit => ("CO", "8000"),
    };
    let currency = shipment
        .currency
        .as_ref()
        .map(ToString::to_string)
        .or_else(|| {
            shipment
                .lines
                .iter()
                .find_map(|l| l.value.map(|v| v.currency().to_string()))
        });
    let total: rust_decimal::Decimal = shipment
        .lines
        .iter()
        .filter_map(|l| l.value.map(|v| v.amount()))
        .sum();
    let transport = shipment.transport.clone().unwrap_or_default();
    let mode = transport.mode.map(|m| {
        // UN Rec. 19 transport mode codes, as customs declarations carry them.
        match m {
            crate::model::TransportMode::Sea => "1",
            crate::model::TransportMode::Rail => "2",
            crate::model::TransportMode::Road => "3",
            crate::model::TransportMode::Air => "4",
            crate::model::TransportMode::Post => "5",
            crate::model::TransportMode::Multimodal => "8",
            crate::model::TransportMode::FixedInstallation => "7",
            crate::model::TransportMode::InlandWaterway => "8",
        }
    });
    let office = transport
        .loading
        .as_ref()
        .and_then(|l| l.locode.as_ref().map(ToString::to_string))
        .or_else(|| shipment.customs_country().map(|c| format!("{c}000001")));
    let lines: Vec<Value> = shipment
        .lines
        .iter()
        .map(|l| {
            let date = shipment.date;
            let hs = l.hs_code.as_ref().map(ToString::to_string).or_else(|| {
                l.product
                    .classification_for(shipment.customs_country(), date)
                    .map(|c| c.code.to_string())
            });
            let hs = hs.map(|h| h.chars().filter(char::is_ascii_digit).collect::<String>());
            json!({
                "line": l.number,
                "hs_code": hs,
                "description": l.product.description,
                "origin": text(l.effective_origin()),
                "quantity": l.quantity.value().to_string(),
                "unit": "PCE",
                "net_mass": text(l.net_mass_kg),
                "gross_mass": text(l.gross_mass_kg),
                "value": text(l.value.map(|v| v.amount())),
                "packages": { "count": null, "kind": null, "marks": null },
            })
        })
        .collect();
    json!({
        "lrn": lrn,
        "shipment_id": shipment.id.to_string(),
        "declaration_type": declaration_type,
        "additional_declaration_type": "A",
        "procedure": procedure,
        "declared_at": declared_at,
        "office_of_exit": office,
        "destination_country": text(shipment.destination_country.as_ref()),
        "export_country": text(shipment.dispatch_country.as_ref()),
        "currency": currency,
        "invoice_total": total.to_string(),
        "incoterm": text(shipment.incoterm.as_ref().and_then(|i| i.rule.as_ref())),
        "incoterm_place": shipment.incoterm.as_ref().and_then(|i| i.place.clone()),
        "exporter": party_json(shipment, &[PartyRole::Exporter, PartyRole::Consignor, PartyRole::Seller]),
        "consignee": party_json(shipment, &[PartyRole::Consignee, PartyRole::ShipTo, PartyRole::Buyer]),
        "declarant": party_json(shipment, &[PartyRole::Declarant, PartyRole::Exporter, PartyRole::Importer]),
        "transport": {
            "mode": mode,
            "vessel": transport.conveyance,
            "container": transport.equipment.first().map(|e| e.id.clone()),
        },
        "lines": lines,
    })
}

/// Now as RFC 3339 (UTC, seconds).
pub fn now_rfc3339() -> String {
    let now = time::OffsetDateTime::now_utc();
    now.replace_nanosecond(0)
        .unwrap_or(now)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// Hex SHA-256 of `bytes` (content-derived idempotency keys).
pub fn content_hash(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

type Compiled = HashMap<(PathBuf, String), Rc<Partner>>;

thread_local! {
    // Compiled templates hold `Rc`s (jaq values are not `Send`), so each thread keeps
    // its own; a template is compiled once per thread that uses it.
    static TEMPLATES: RefCell<(MappingCache, Compiled)> =
        RefCell::new((MappingCache::new(), HashMap::new()));
}

/// Runs `f` with the compiled template `name` under `layout`, compiling it on first use.
/// Never hold what `f` returns across an `.await` that could move threads: copy it out.
pub fn with_template<T>(
    layout: &Layout,
    name: &str,
    f: impl FnOnce(&Partner) -> T,
) -> Result<T, PartnerError> {
    TEMPLATES.with(|cell| {
        let key = (layout.root.clone(), name.to_owned());
        let partner = {
            let mut guard = cell.borrow_mut();
            let (cache, partners) = &mut *guard;
            match partners.get(&key) {
                Some(p) => Rc::clone(p),
                None => {
                    let p = Rc::new(Partner::load(layout, name, cache)?);
                    partners.insert(key, Rc::clone(&p));
                    p
                }
            }
        };
        Ok(f(&partner))
    })
}

/// Canonical JSON of a partner document through `name`'s inbound mapping.
pub fn inbound_json(layout: &Layout, name: &str, document: &[u8]) -> Result<Value, PartnerError> {
    with_template(layout, name, |p| {
        p.inbound(document, &BTreeMap::new()).map(|t| t.to_json())
    })?
}

/// [`inbound_json`] for a document that arrived over HTTP or in a folder: parsed and mapped
/// off the async workers when it is large (see [`formats::off_worker`]).
pub async fn inbound_json_off_worker(
    layout: &Layout,
    name: &str,
    document: &[u8],
) -> Result<Value, PartnerError> {
    let (layout, name, document) = (layout.clone(), name.to_owned(), document.to_vec());
    formats::off_worker(document.len(), move || {
        inbound_json(&layout, &name, &document)
    })
    .await
}

/// A partner document from canonical JSON through `name`'s outbound mapping.
pub fn outbound_bytes(
    layout: &Layout,
    name: &str,
    canonical: &Value,
    ctx: &BTreeMap<String, String>,
) -> Result<Vec<u8>, PartnerError> {
    with_template(layout, name, |p| p.outbound(canonical, ctx))?
}

/// The `customs.status` body (`StatusReport`) for an inbound broker document's
/// canonical JSON: `{status, lrn, mrn, errors, …}`.
pub fn status_report(canonical: &Value, lrn: &str) -> Value {
    let mut reasons: Vec<String> = canonical
        .get("errors")
        .and_then(Value::as_array)
        .map(|errors| {
            errors
                .iter()
                .map(|e| {
                    let field = e.get("field").or_else(|| e.get("point"));
                    let what = e
                        .get("description")
                        .and_then(Value::as_str)
                        .unwrap_or_default();
                    let code = e.get("code").map(value_text).unwrap_or_default();
                    match field.map(value_text).filter(|f| !f.is_empty()) {
                        Some(f) => format!("{code} at {f}: {what}").trim().to_owned(),
                        None => format!("{code}: {what}").trim().to_owned(),
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    if let Some(remarks) = canonical.get("remarks").and_then(Value::as_array) {
        reasons.extend(remarks.iter().map(value_text).filter(|r| !r.is_empty()));
    }
    let source = canonical
        .get("indicator")
        .or_else(|| canonical.get("action"))
        .map(value_text);
    json!({
        "lrn": lrn,
        "status": canonical.get("status").cloned().unwrap_or(Value::Null),
        "mrn": canonical.get("mrn").cloned().unwrap_or(Value::Null),
        "reasons": reasons,
        "source_code": source,
    })
}

fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// The saga's milestone for a template milestone (the carrier events as the carrier
/// mappings name them); `None` for events that do not move a shipment along.
pub fn saga_milestone(template_milestone: &str) -> Option<Milestone> {
    Some(match template_milestone {
        "PICKED_UP" | "GATE_IN" => Milestone::PickedUp,
        "LOADED" | "DEPARTED" | "IN_TRANSIT" => Milestone::Departed,
        "ARRIVED" | "DISCHARGED" => Milestone::Arrived,
        "GATE_OUT" => Milestone::OutForDelivery,
        "DELIVERED" => Milestone::Delivered,
        "DELAYED" => Milestone::Delayed,
        "DAMAGED" => Milestone::Damaged,
        _ => return None,
    })
}

/// An ingest into the durable store failed.
#[derive(Debug, thiserror::Error)]
#[error("ingest of {id} for {key}: {source}")]
pub struct IngestError {
    /// Input id.
    pub id: String,
    /// Saga key.
    pub key: String,
    /// Store error.
    pub source: MailboxError,
}

/// Ingests one input for saga `key` with idempotency key `id` (also the input id);
/// returns the stream entry id and whether it was a duplicate.
pub async fn ingest(
    mailbox: &RedisMailbox,
    partitions: u16,
    key: &str,
    kind: &str,
    id: &str,
    body: Value,
) -> Result<(String, bool), IngestError> {
    let envelope = Envelope::new(id, key, kind, body);
    let partition = partition_of(key, partitions);
    let outcome = mailbox
        .ingest(partition, &envelope, Some(id))
        .await
        .map_err(|source| IngestError {
            id: id.to_owned(),
            key: key.to_owned(),
            source,
        })?;
    Ok(match outcome {
        IngestOutcome::Accepted { entry_id } => (entry_id.0, false),
        IngestOutcome::Duplicate { entry_id } => (entry_id.0, true),
    })
}

/// Kind of the input a broker status becomes.
pub const STATUS_KIND: &str = CUSTOMS_STATUS;
/// Kind of the input a carrier event becomes.
pub const MILESTONE_KIND: &str = CARRIER_MILESTONE;
