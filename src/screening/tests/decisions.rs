//! Decisions on hits, the evaluation metrics and the shipped configuration.

use super::*;

fn small_screener(dpl_text: &str, dir: &Path) -> (Screener, ListDiff) {
    let path = dir.join("dpl.txt");
    std::fs::write(&path, dpl_text).expect("write");
    let mut store = ListStore::new();
    let diff = store
        .load(&spec("bis_dpl", ListFormat::BisDpl, path))
        .expect("loads");
    (Screener::new(store, MatchSettings::default()), diff)
}

const DPL_HEADER: &str = "\"Name\"\t\"Street_Address\"\t\"City\"\t\"State\"\t\"Country\"\t\"Postal_Code\"\t\"Last_Update\"\n";

#[test]
fn decisions_suppress_cleared_false_positives_until_something_changes() {
    let dir = tempfile::tempdir().expect("tmp");
    let text = format!(
        "{DPL_HEADER}\"JOHN QUINCY SMITHERS\"\t\"1 MAIN ST\"\t\"SPRINGFIELD\"\t\"IL\"\t\"US\"\t\"62701\"\t\"2020-01-01\"\n\"ACME ROCKETS\"\t\"2 ELM ST\"\t\"DALLAS\"\t\"TX\"\t\"US\"\t\"75001\"\t\"2020-01-01\"\n"
    );
    let (s, _) = small_screener(&text, dir.path());
    let mut ev = Evidence::new(30);
    let t0 = datetime!(2026-01-01 00:00 UTC);
    let q = Query::name("John Quincy Smithers");
    let r = ev.screen(&s, &q, t0).clone();
    assert_eq!(r.outcome, Outcome::PotentialMatch);
    assert_eq!(r.algorithm, crate::screening::ALGORITHM_VERSION);
    assert_eq!(r.list_versions.len(), 1);
    let entity = r.hits[0].entity_id.clone();
    let bad = ev.decide(
        Review {
            result_id: &r.id,
            list: "bis_dpl",
            entity_id: &entity,
            verdict: Verdict::Clear,
            reason: "",
            reviewer: "ana",
        },
        t0,
    );
    assert!(bad.is_err(), "a decision needs a reason");
    ev.decide(
        Review {
            result_id: &r.id,
            list: "bis_dpl",
            entity_id: &entity,
            verdict: Verdict::Clear,
            reason: "different person: customer since 2004, DOB on file",
            reviewer: "ana",
        },
        t0,
    )
    .expect("decided");
    assert_eq!(ev.result(&r.id).expect("r").outcome, Outcome::Clear);

    // Same party, same entity: suppressed.
    let again = ev.screen(&s, &q, t0 + time::Duration::days(1)).clone();
    assert_eq!(again.outcome, Outcome::Clear);
    assert_eq!(again.suppressed.len(), 1);
    assert_eq!(again.suppressed[0].cleared_in, r.id);

    // A different party (other country) is not covered by the decision.
    let other = Query {
        country: Some("US".into()),
        ..q.clone()
    };
    assert_ne!(party_hash(&other), party_hash(&q));
    assert_eq!(ev.screen(&s, &other, t0).outcome, Outcome::PotentialMatch);

    // The decision expires.
    let later = ev.screen(&s, &q, t0 + time::Duration::days(31)).clone();
    assert_eq!(later.outcome, Outcome::PotentialMatch);

    // The entity changes (new address): the decision no longer applies.
    let changed = text.replace("1 MAIN ST", "9 OAK AVE");
    let (s2, _) = small_screener(&changed, dir.path());
    let after = ev.screen(&s2, &q, t0 + time::Duration::days(2)).clone();
    assert_eq!(after.outcome, Outcome::PotentialMatch);
}

#[test]
fn confirmed_hits_block() {
    let dir = tempfile::tempdir().expect("tmp");
    let text = format!(
        "{DPL_HEADER}\"ACME ROCKETS\"\t\"2 ELM ST\"\t\"DALLAS\"\t\"TX\"\t\"US\"\t\"75001\"\t\"2020-01-01\"\n"
    );
    let (s, _) = small_screener(&text, dir.path());
    let mut ev = Evidence::new(30);
    let t0 = datetime!(2026-01-01 00:00 UTC);
    let q = Query::name("Acme Rockets LLC");
    let r = ev.screen(&s, &q, t0).clone();
    let hit = &r.hits[0];
    ev.decide(
        Review {
            result_id: &r.id,
            list: &hit.list,
            entity_id: &hit.entity_id,
            verdict: Verdict::Confirm,
            reason: "same address",
            reviewer: "bo",
        },
        t0,
    )
    .expect("decided");
    assert_eq!(
        ev.result(&r.id).expect("r").outcome,
        Outcome::ConfirmedMatch
    );
    assert_eq!(ev.screen(&s, &q, t0).outcome, Outcome::ConfirmedMatch);
    let json = serde_json::to_value(&ev).expect("serialises");
    assert_eq!(json["decisions"][0]["verdict"], "confirm");
}

#[test]
fn rescreen_only_touches_parties_whose_result_can_change() {
    let dir = tempfile::tempdir().expect("tmp");
    let row = |name: &str, street: &str| {
        format!("\"{name}\"\t\"{street}\"\t\"DALLAS\"\t\"TX\"\t\"US\"\t\"75001\"\t\"2020-01-01\"\n")
    };
    let v1 = format!(
        "{DPL_HEADER}{}{}",
        row("ACME ROCKETS", "2 ELM ST"),
        row("ZENITH WIDGETS", "3 ELM ST")
    );
    let (s1, _) = small_screener(&v1, dir.path());
    let mut ev = Evidence::new(30);
    let t0 = datetime!(2026-01-01 00:00 UTC);
    for name in [
        "Acme Rockets",
        "Zenith Widgets",
        "Quiet Harbor Foods",
        "Northwind Traders",
        "Boris Ivanovich Krylov",
    ] {
        ev.screen(&s1, &Query::name(name), t0);
    }
    // v2: ACME's address changes, KRYLOV is added; ZENITH unchanged.
    let v2 = format!(
        "{DPL_HEADER}{}{}{}",
        row("ACME ROCKETS", "2 ELM ST"),
        row("ZENITH WIDGETS", "3 ELM ST"),
        row("BORIS IVANOVICH KRYLOV", "4 ELM ST")
    );
    let mut store = ListStore::new();
    let path = dir.path().join("dpl.txt");
    std::fs::write(&path, &v1).expect("write");
    store
        .load(&spec("bis_dpl", ListFormat::BisDpl, path.clone()))
        .expect("v1");
    std::fs::write(&path, &v2).expect("write");
    let diff = store
        .load(&spec("bis_dpl", ListFormat::BisDpl, path))
        .expect("v2");
    assert_eq!(diff.added.len(), 1);
    assert_eq!(diff.unchanged, 2);
    let s2 = Screener::new(store, MatchSettings::default());
    let report = ev.rescreen(&s2, &[diff], t0);
    assert_eq!(report.parties, 5);
    assert_eq!(report.rescreened, 1, "{report:?}");
    assert_eq!(report.skipped, 4);
    assert_eq!(report.changed.len(), 1);
    assert_eq!(report.changed[0].2, Outcome::PotentialMatch);
}

// ---- evaluation ----

fn scored(expected: &str, expected_score: f64, best: f64) -> Scored {
    Scored {
        query: "q".into(),
        country: String::new(),
        expected: expected.into(),
        expected_score,
        best_score: best,
        best_hit: None,
    }
}

#[test]
fn eval_metrics_count_each_case() {
    let items = vec![
        scored("1", 0.95, 0.95), // tp at 0.85
        scored("2", 0.80, 0.99), // fn: the expected entity scored low (another hit does not count)
        scored("", 0.0, 0.90),   // fp
        scored("", 0.0, 0.50),   // tn
        scored("", 0.0, 0.0),    // tn
    ];
    let m = eval::metrics_at(&items, 0.85);
    assert_eq!((m.tp, m.fp, m.fn_, m.tn), (1, 1, 1, 2));
    assert!((m.precision - 0.5).abs() < 1e-12);
    assert!((m.recall - 0.5).abs() < 1e-12);
    assert!((m.f1 - 0.5).abs() < 1e-12);
    let low = eval::metrics_at(&items, 0.75);
    assert_eq!((low.tp, low.fp, low.fn_, low.tn), (2, 1, 0, 2));
    let r = eval::report(items, 0.85);
    assert_eq!(r.misses.len(), 1);
    assert_eq!(r.false_alarms.len(), 1);
    assert!(r.curve.windows(2).all(|w| w[0].threshold < w[1].threshold));
    let json = serde_json::to_value(&r).expect("json");
    for k in [
        "tp",
        "fp",
        "fn",
        "tn",
        "precision",
        "recall",
        "f1",
        "threshold",
    ] {
        assert!(json.get(k).is_some(), "{k}");
    }
}

#[test]
fn synthetic_eval_set_is_deterministic_and_labelled() {
    let a = eval::synth::generate(screener().lists(), 50, 50, 11);
    let b = eval::synth::generate(screener().lists(), 50, 50, 11);
    assert_eq!(a, b);
    assert_eq!(
        a.iter().filter(|r| r.expected_entity_id.is_empty()).count(),
        50
    );
    assert_eq!(a.iter().filter(|r| !r.change.is_empty()).count(), 50);
}

// ---- config ----

#[test]
fn shipped_config_parses_and_matches_defaults() {
    let cfg =
        ScreeningConfig::from_file(&manifest().join("config/screening.toml")).expect("parses");
    assert_eq!(cfg, ScreeningConfig::default());
    let dir = tempfile::tempdir().expect("tmp");
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[screening]\nthreshold = 1.5\n").expect("write");
    let err = ScreeningConfig::from_file(&bad).expect_err("out of range");
    assert!(err.to_string().contains("threshold"), "{err}");
    std::fs::write(&bad, "[screening]\nthreshhold = 0.5\n").expect("write");
    assert!(
        ScreeningConfig::from_file(&bad).is_err(),
        "unknown keys are refused"
    );
}

#[test]
fn list_override_parses() {
    let s = ListSpec::parse_override("un_xml=/tmp/x.xml").expect("ok");
    assert_eq!(s.format, ListFormat::UnXml);
    assert!(ListSpec::parse_override("nope=/x").is_err());
    assert!(ListSpec::parse_override("un_xml").is_err());
}
