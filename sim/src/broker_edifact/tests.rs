use super::*;
use tradehub::partners::config::Layout;
use tradehub::partners::filing::inbound_json;

fn layout() -> Layout {
    Layout::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

#[test]
fn every_cusres_maps_to_its_status() {
    for scenario in Scenario::ALL {
        for status in scenario.steps() {
            let mrn = (*status != DeclarationStatus::Rejected).then_some("26GBMRN");
            let text = cusres(88_001, "THLRN", *status, mrn);
            let canonical = inbound_json(&layout(), "edifact-broker", text.as_bytes())
                .unwrap_or_else(|e| panic!("{status:?}: {e}\n{text}"));
            let back: DeclarationStatus =
                serde_json::from_value(canonical["status"].clone()).expect("status");
            assert_eq!(back, *status, "{text}");
            assert_eq!(canonical["lrn"], "THLRN");
        }
    }
    let rejected = inbound_json(
        &layout(),
        "edifact-broker",
        cusres(1, "L", DeclarationStatus::Rejected, None).as_bytes(),
    )
    .expect("maps");
    assert_eq!(rejected["errors"][0]["code"], "12");
}

#[test]
fn contrl_is_a_receipt_of_the_interchange() {
    let canonical = inbound_json(
        &layout(),
        "edifact-broker",
        contrl(88_002, "1234").as_bytes(),
    )
    .expect("maps");
    assert_eq!(canonical["status"], "RECEIVED");
    assert_eq!(canonical["acknowledged_interchange"], "1234");
}

#[test]
fn cusdec_reference_and_lrn_are_read() {
    let text = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/fixtures/partners/edifact-broker/outbound/cusdec.edi"
    ))
    .expect("fixture");
    let (reference, lrn, cancel) = read_cusdec(&text).expect("reads");
    assert_eq!(
        (reference.as_str(), lrn.as_str(), cancel),
        ("1001", "TH-2026-000123", false)
    );
    assert!(read_cusdec(b"garbage").is_none());
}
