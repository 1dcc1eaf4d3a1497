use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::*;

fn layout() -> Layout {
    Layout::new(env!("CARGO_MANIFEST_DIR"))
}

fn file_command() -> FileDeclaration {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/shipments/valid_export_de_us_sea.json"
    );
    let shipment: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("json");
    let body = json!({ "lrn": "THABCDEF0123456789001", "version": 1, "shipment": shipment });
    serde_json::from_value(body).expect("a customs.file body")
}

#[test]
fn declaration_document_carries_the_shipment() {
    let doc = declaration_document(&file_command(), "2026-11-27T10:15:00Z");
    assert_eq!(doc["lrn"], "THABCDEF0123456789001");
    assert_eq!(doc["declaration_type"], "EX");
    assert_eq!(doc["currency"], "EUR");
    assert_eq!(doc["invoice_total"], "105960.00");
    assert_eq!(doc["exporter"]["eori"], "DE123456789012345");
    assert_eq!(doc["consignee"]["name"], "Harbor Goods LLC");
    assert_eq!(doc["transport"]["container"], "CSQU3054383");
    assert_eq!(doc["lines"].as_array().map(Vec::len), Some(3));
    assert_eq!(doc["lines"][0]["hs_code"], "847130");
    assert_eq!(doc["lines"][1]["hs_code"], "61091000");
}

#[test]
fn declaration_document_maps_through_both_broker_templates() {
    let doc = declaration_document(&file_command(), "2026-11-27T10:15:00Z");
    let rest =
        outbound_bytes(&layout(), "rest-broker", &doc, &BTreeMap::new()).expect("rest-broker maps");
    let rest: Value = serde_json::from_slice(&rest).expect("json");
    assert_eq!(rest["idempotency_key"], "THABCDEF0123456789001");
    assert_eq!(
        rest["declaration"]["items"].as_array().map(Vec::len),
        Some(3)
    );
    let ctx = BTreeMap::from([
        ("control_ref".to_owned(), "42".to_owned()),
        ("date".to_owned(), "20261127".to_owned()),
        ("time".to_owned(), "1015".to_owned()),
    ]);
    let edi = outbound_bytes(&layout(), "edifact-broker", &doc, &ctx)
        .expect("edifact-broker maps and validates");
    let text = String::from_utf8(edi).expect("utf-8");
    assert!(text.contains("BGM+830+THABCDEF0123456789001+9'"), "{text}");
    assert!(text.contains("CNT+5:3'"), "{text}");
}

#[test]
fn status_report_keeps_reasons_and_source() {
    let canonical = json!({
        "status": "REJECTED", "lrn": "L1", "mrn": null, "indicator": "REJ",
        "errors": [{ "point": "1:2", "code": "12" }],
        "remarks": ["Commodity code 82055980 is not valid"],
    });
    let report = status_report(&canonical, "L1");
    assert_eq!(report["status"], "REJECTED");
    assert_eq!(report["source_code"], "REJ");
    assert_eq!(
        report["reasons"],
        json!(["12 at 1:2:", "Commodity code 82055980 is not valid"])
    );
    let typed: crate::workflow::shipment::inputs::StatusReport =
        serde_json::from_value(report).expect("saga reads it");
    assert_eq!(typed.lrn, "L1");
}

#[test]
fn inbound_rest_callback_maps_to_canonical() {
    let body = br#"{"event_id":"e1","lrn":"L1","status":"inspection","customs_reference":"MRN1","occurred_at":"2026-11-27T11:00:04Z"}"#;
    let canonical = inbound_json(&layout(), "rest-broker", body).expect("maps");
    assert_eq!(canonical["status"], "CONTROL");
    assert_eq!(canonical["mrn"], "MRN1");
    assert!(
        inbound_json(
            &layout(),
            "rest-broker",
            br#"{"lrn":"L1","status":"teleported"}"#
        )
        .is_err()
    );
}

#[test]
fn template_milestones_fold_onto_the_sagas() {
    assert_eq!(saga_milestone("GATE_IN"), Some(Milestone::PickedUp));
    assert_eq!(saga_milestone("LOADED"), Some(Milestone::Departed));
    assert_eq!(saga_milestone("DISCHARGED"), Some(Milestone::Arrived));
    assert_eq!(saga_milestone("GATE_OUT"), Some(Milestone::OutForDelivery));
    assert_eq!(saga_milestone("DELIVERED"), Some(Milestone::Delivered));
    assert_eq!(saga_milestone("ETA_UPDATED"), None);
    assert_eq!(saga_milestone("CUSTOMS_RELEASED"), None);
}

#[test]
fn content_hash_is_sha256_hex() {
    assert_eq!(
        content_hash(b"abc"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
}
