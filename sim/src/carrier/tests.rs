use super::*;
use tradehub::partners::config::Layout;
use tradehub::partners::filing::{inbound_json, saga_milestone};

fn layout() -> Layout {
    Layout::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

fn milestones_of(format: CarrierFormat) -> Vec<Milestone> {
    let mut out: Vec<Milestone> = Vec::new();
    for (step, code) in format.journey().iter().enumerate() {
        let canonical = match format {
            CarrierFormat::Dcsa => inbound_json(
                &layout(),
                "carrier-dcsa",
                dcsa_event("S1", step, code).to_string().as_bytes(),
            ),
            CarrierFormat::X12 => inbound_json(
                &layout(),
                "carrier-x12",
                x12_214("S1", step, code, 5).as_bytes(),
            ),
        }
        .unwrap_or_else(|e| panic!("{format:?} {code}: {e}"));
        let milestone = canonical["status"]
            .as_str()
            .and_then(saga_milestone)
            .expect(code);
        if !out.contains(&milestone) {
            out.push(milestone);
        }
    }
    out
}

#[test]
fn dcsa_journey_maps_to_the_expected_milestones() {
    assert_eq!(
        milestones_of(CarrierFormat::Dcsa),
        CarrierFormat::Dcsa.expected_milestones()
    );
    assert_eq!(
        CarrierFormat::Dcsa.expected_milestones().last(),
        Some(&Milestone::Delivered)
    );
}

#[test]
fn x12_journey_maps_to_the_expected_milestones() {
    assert_eq!(
        milestones_of(CarrierFormat::X12),
        CarrierFormat::X12.expected_milestones()
    );
    let canonical = inbound_json(
        &layout(),
        "carrier-x12",
        x12_214("WH/OUT/7", 0, "X3", 9).as_bytes(),
    )
    .expect("maps");
    assert_eq!(canonical["references"]["shipment_id"], "WH/OUT/7");
}

#[test]
fn formats_are_seeded_per_shipment() {
    let formats: Vec<CarrierFormat> = (0..40)
        .map(|i| CarrierFormat::for_shipment(1, &format!("S{i}")))
        .collect();
    assert!(formats.contains(&CarrierFormat::Dcsa) && formats.contains(&CarrierFormat::X12));
    assert_eq!(CarrierFormat::for_shipment(1, "S3"), formats[3]);
}
