use std::collections::HashMap;

use super::*;
use tradehub::workflow::shipment::lrn_for;

#[test]
fn scenarios_are_seeded_and_stable() {
    let lrn = lrn_for("WH/OUT/00042", 1);
    assert_eq!(Scenario::for_lrn(7, &lrn), Scenario::for_lrn(7, &lrn));
    assert_eq!(
        Scenario::for_shipment(7, "WH/OUT/00042"),
        Scenario::for_lrn(7, &lrn)
    );
    let differs = (0..50).any(|s| Scenario::for_lrn(s, &lrn) != Scenario::for_lrn(7, &lrn));
    assert!(differs, "the seed must matter");
}

#[test]
fn proportions_are_realistic() {
    let mut counts: HashMap<Scenario, u32> = HashMap::new();
    for i in 0..4000 {
        *counts
            .entry(Scenario::for_shipment(11, &format!("S{i}")))
            .or_default() += 1;
    }
    for (scenario, weight) in Scenario::ALL.iter().zip(WEIGHTS) {
        let share = f64::from(counts.get(scenario).copied().unwrap_or(0)) / 40.0;
        assert!(
            (share - weight as f64).abs() < 3.0,
            "{scenario:?}: {share}% for a weight of {weight}%"
        );
    }
}

#[test]
fn an_amended_declaration_is_never_rejected() {
    let rejected: Vec<String> = (0..500)
        .map(|i| format!("S{i}"))
        .filter(|k| Scenario::for_shipment(3, k) == Scenario::Rejected)
        .collect();
    assert!(!rejected.is_empty());
    for key in rejected {
        assert_ne!(
            Scenario::for_lrn(3, &lrn_for(&key, 2)),
            Scenario::Rejected,
            "{key}"
        );
    }
}

#[test]
fn every_scenario_ends_released_or_rejected() {
    for scenario in Scenario::ALL {
        let last = scenario.final_status();
        assert!(
            matches!(
                last,
                DeclarationStatus::Released | DeclarationStatus::Rejected
            ),
            "{scenario:?}"
        );
        assert_eq!(
            scenario.steps().first() == Some(&DeclarationStatus::Accepted),
            scenario != Scenario::Rejected
        );
    }
}

#[test]
fn rest_words_map_back_through_the_status_table() {
    let table: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../config/mappings/tables/status.v1.json"
        ))
        .expect("table"),
    )
    .expect("json");
    for scenario in Scenario::ALL {
        for status in scenario.steps() {
            let word = rest_status(*status);
            let back: DeclarationStatus =
                serde_json::from_value(table["rest_broker"][word].clone()).expect(word);
            assert_eq!(back, *status);
        }
    }
}

#[test]
fn faults_are_drawn_from_the_seed() {
    let config = BrokerSimConfig {
        faults: Faults {
            error_rate: 0.5,
            ..Faults::default()
        },
        ..BrokerSimConfig::default()
    };
    let draw = |shared: &Shared| {
        (0..64)
            .map(|_| shared.draw_fault().0.is_some())
            .collect::<Vec<_>>()
    };
    let a = draw(&Shared::new(&config));
    let b = draw(&Shared::new(&config));
    assert_eq!(a, b);
    assert!(a.iter().any(|f| *f) && a.iter().any(|f| !*f));
}

#[test]
fn dedupe_by_lrn_and_cancel_rules() {
    let shared = Shared::new(&BrokerSimConfig::default());
    assert!(shared.file("L1").1);
    assert!(!shared.file("L1").1);
    assert_eq!(shared.counters().filing_requests, 2);
    assert_eq!(shared.counters().distinct_lrns, 1);
    assert_eq!(shared.cancel("L1"), Ok(true));
    assert_eq!(shared.cancel("L1"), Ok(false));
    assert!(shared.advance("L1", DeclarationStatus::Accepted).is_none());
    shared.file("L2");
    shared.advance("L2", DeclarationStatus::Released);
    assert!(shared.cancel("L2").is_err());
    assert!(
        shared
            .cancel("L3")
            .unwrap_err()
            .starts_with("no declaration")
    );
}
