//! The batch over the documents the simulated brokers write: they agree with the estimate
//! unless the seed says the declaration carries a variance.

use std::path::Path;

use tradehub::finance::{Dossier, Outcome, ReconcileSettings, Status, documents, settle};
use tradehub::model::Shipment;
use tradehub::partners::config::Layout;
use tradehub::tariff::duty::{TariffBook, default_dir};

use super::{BrokerStyle, documents as sim_documents, settlement_variance};

const SEED: u64 = 11;

/// The repository root, which holds `config/` and `tests/fixtures/`.
fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

fn shipment(name: &str) -> Shipment {
    let path = root().join("tests/fixtures/shipments").join(name);
    serde_json::from_slice(&std::fs::read(&path).expect("fixture")).expect("shipment")
}

fn settings() -> ReconcileSettings {
    ReconcileSettings::load(&root().join("config/reconcile.toml")).expect("shipped settings")
}

/// Reads back what a simulated broker wrote for `lrn` and settles it.
fn round_trip(s: &Shipment, lrn: &str, style: BrokerStyle) -> Outcome {
    let book = TariffBook::load(&default_dir()).expect("tables");
    let layout = Layout::new(root());
    let mut dossier = Dossier::new(lrn);
    for (name, bytes) in sim_documents(s, lrn, style, SEED, &book) {
        for settlement in documents::read(&name, &bytes, style.partner(), &layout)
            .unwrap_or_else(|e| panic!("{name}: {e}"))
        {
            assert_eq!(settlement.lrn(), lrn, "{name}");
            dossier.add(settlement);
        }
    }
    settle(&dossier, &book, &settings())
}

fn lrn_where(variance: bool) -> String {
    (0..1000)
        .map(|i| format!("TH{i:016X}001"))
        .find(|l| settlement_variance(SEED, l) == variance)
        .expect("both kinds occur")
}

#[test]
fn shipped_settings_load() {
    let s = settings();
    assert!(s.brokers.contains_key("rest-broker"));
    assert!(s.brokers.contains_key("edifact-broker"));
}

#[test]
fn simulated_import_documents_reconcile_for_both_brokers() {
    let s = shipment("valid_import_jp_gb_air_preference.json");
    let lrn = lrn_where(false);
    for style in [BrokerStyle::Rest, BrokerStyle::Edifact] {
        let o = round_trip(&s, &lrn, style);
        assert_eq!(o.status, Status::Reconciled, "{style:?}: {:?}", o.reasons);
        let c = o.comparison.expect("comparison");
        assert_eq!(c.estimate_duty, c.assessed_duty, "{style:?}");
        assert!(o.reconciliation.and_then(|r| r.posting).is_some());
    }
}

#[test]
fn seeded_variance_is_named_as_a_duty_variance() {
    let s = shipment("valid_import_jp_gb_air_preference.json");
    let lrn = lrn_where(true);
    for style in [BrokerStyle::Rest, BrokerStyle::Edifact] {
        let o = round_trip(&s, &lrn, style);
        assert_eq!(o.status, Status::Variance, "{style:?}");
        assert_eq!(o.reasons.len(), 1, "{:?}", o.reasons);
        assert!(o.reasons[0].starts_with("DUTY: line "), "{:?}", o.reasons);
    }
}

#[test]
fn about_three_percent_of_declarations_carry_a_variance() {
    let n = (0..10_000)
        .filter(|i| settlement_variance(SEED, &format!("TH{i:016X}001")))
        .count();
    assert!((200..400).contains(&n), "{n} of 10000");
}

#[test]
fn an_export_settles_on_the_invoice_alone() {
    let s = shipment("valid_export_de_us_sea.json");
    let o = round_trip(&s, &lrn_where(false), BrokerStyle::Edifact);
    assert_eq!(o.status, Status::Reconciled, "{:?}", o.reasons);
    assert_eq!(o.comparison.expect("comparison").assessed_duty, None);
}

#[test]
fn a_declaration_waits_for_its_missing_documents() {
    let book = TariffBook::load(&default_dir()).expect("tables");
    let o = settle(&Dossier::new("TH1"), &book, &settings());
    assert_eq!(o.status, Status::Waiting);
    assert_eq!(o.missing, vec!["declaration", "assessment", "invoice"]);
}

#[test]
fn an_unknown_broker_and_an_unagreed_fee_are_variances() {
    let s = shipment("valid_export_de_us_sea.json");
    let book = TariffBook::load(&default_dir()).expect("tables");
    let layout = Layout::new(root());
    let mut dossier = Dossier::new("TH9");
    for (name, bytes) in sim_documents(&s, "TH9", BrokerStyle::Rest, SEED, &book) {
        let text = String::from_utf8(bytes)
            .expect("utf-8")
            .replace("Clearance fee", "Storage");
        for settlement in
            documents::read(&name, text.as_bytes(), "unknown-broker", &layout).expect("reads")
        {
            dossier.add(settlement);
        }
    }
    let o = settle(&dossier, &book, &settings());
    assert_eq!(o.status, Status::Variance);
    assert!(
        o.reasons.iter().any(|r| r.contains("no terms")),
        "{:?}",
        o.reasons
    );
    assert!(
        o.reasons.iter().any(|r| r.starts_with("FEE: ")),
        "{:?}",
        o.reasons
    );
}
