//! JSON Schemas of the canonical documents, generated from the Rust types so they cannot drift.

use schemars::JsonSchema;

use super::{Declaration, Document, Party, Product, Shipment};

/// Names accepted by [`schema_json`] (and `tradehub schema NAME`).
pub const SCHEMA_NAMES: [&str; 5] = ["shipment", "party", "product", "document", "declaration"];

fn root<T: JsonSchema>() -> serde_json::Value {
    schemars::generate::SchemaSettings::draft2020_12()
        .into_generator()
        .into_root_schema_for::<T>()
        .to_value()
}

/// The JSON Schema (draft 2020-12) of the named model type, or `None` for an unknown name.
pub fn schema_json(name: &str) -> Option<serde_json::Value> {
    Some(match name {
        "shipment" => root::<Shipment>(),
        "party" => root::<Party>(),
        "product" => root::<Product>(),
        "document" => root::<Document>(),
        "declaration" => root::<Declaration>(),
        _ => return None,
    })
}
