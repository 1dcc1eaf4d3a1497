//! The scorer and the index: variation tolerated, explanations, dates of birth.

use super::*;

fn name_score(a: &str, b: &str) -> f64 {
    screener().index().compare_free(a, b).score
}

fn plain(tokens: &[String]) -> Vec<Token<'_>> {
    tokens
        .iter()
        .map(|t| Token {
            text: t,
            phonetic: "",
            weight: 1.0,
        })
        .collect()
}

#[test]
fn scorer_tolerates_real_variation() {
    let t = MatchSettings::default().threshold;
    assert!((name_score("Vladimir Putin", "PUTIN, Vladimir") - 1.0).abs() < 1e-9);
    assert!(name_score("Vladmir Putin", "Vladimir Putin") >= t, "typo");
    assert!(
        name_score("Putin Vladimir", "Vladimir Putin") >= t,
        "reordered"
    );
    assert!(
        name_score("Vladimir Putin", "Vladimir Vladimirovich Putin") >= t,
        "missing token"
    );
    assert!(
        name_score("V. V. Putin", "Vladimir Vladimirovich Putin") >= 0.7,
        "initials"
    );
    assert!(
        name_score("Muhammad Yusuf", "Mohammed Yousef") >= t,
        "transliteration"
    );
    assert!(
        name_score("Abdulrahman Qadi", "Abdul Rahman Qadi") >= t,
        "joined tokens"
    );
    assert!(
        name_score("Banco Nacional de Cuba S.A.", "BANCO NACIONAL DE CUBA") >= 0.99,
        "legal form"
    );
    assert!(
        name_score("Владимир Путин", "Vladimir Putin") >= 0.99,
        "script"
    );
    assert!(
        name_score("John Smith", "Vladimir Putin") < 0.3,
        "unrelated"
    );
    assert!(
        name_score("Putin", "Vladimir Putin") < name_score("Vladimir Putin", "Vladimir Putin"),
        "a surname alone is weaker than the full name"
    );
}

#[test]
fn scorer_extra_query_token_costs_more_than_missing_listed_token() {
    let missing = name_score("Ivan Petrov", "Ivan Sergeyevich Petrov");
    let extra = name_score("Ivan Sergeyevich Petrov", "Ivan Petrov");
    assert!(missing > extra, "{missing} vs {extra}");
}

proptest! {
    #[test]
    fn scorer_is_bounded_and_order_free(words in proptest::collection::vec("[a-z]{1,9}", 1..6), rot in 0usize..6) {
        let mut rotated = words.clone();
        let k = rot % words.len();
        rotated.rotate_left(k);
        let a = plain(&words);
        let b = plain(&rotated);
        let same = score::compare(&a, &words.concat(), &a, &words.concat());
        prop_assert!((0.0..=1.0).contains(&same.score));
        let multi = words.iter().any(|w| w.len() > 1);
        if multi {
            prop_assert!((same.score - 1.0).abs() < 1e-9);
            let r = score::compare(&a, &words.concat(), &b, &rotated.concat());
            prop_assert!(r.score >= 1.0 - 1e-9, "{:?} vs {:?}: {}", words, rotated, r.score);
        }
    }

    #[test]
    fn one_typo_keeps_a_long_name_close(name in "[a-z]{6,10} [a-z]{6,10}", pos in 1usize..5) {
        let mut chars: Vec<char> = name.chars().collect();
        if chars[pos] != ' ' && chars[pos + 1] != ' ' {
            chars.swap(pos, pos + 1);
        }
        let typo: String = chars.into_iter().collect();
        let s = screener().index().compare_free(&typo, &name).score;
        prop_assert!(s >= 0.85, "{} vs {}: {}", typo, name, s);
    }
}

// ---- index ----

#[test]
fn index_never_scans_the_whole_list() {
    let s = screener();
    let total = s.index().len();
    assert!(total > 35_000);
    for name in [
        "Banco Nacional de Cuba",
        "Mohammed Ali",
        "Vladimir Putin",
        "Ahmad Hasan",
        "Bluebird Logistics GmbH",
        "Kim Jong Un",
        "Mohamed Abdullah Al Hassan",
        "Trading Company International",
    ] {
        let out = s.screen(&Query::name(name));
        assert!(
            out.stats.candidates <= MatchSettings::default().candidates,
            "{name}"
        );
        assert!(
            out.stats.candidates * 100 < total,
            "{name}: {:?}",
            out.stats
        );
        assert!(out.stats.postings * 4 < total, "{name}: {:?}", out.stats);
    }
}

#[test]
fn index_finds_what_a_linear_scan_finds() {
    let s = screener();
    for name in [
        "BANCO NACIONAL DE CUBA",
        "Aerocaribean Airlines",
        "Ismail Haniya",
        "FRANK KAKORERE",
        "Ayman Zawahiri",
        "AL-QASIUN SECURITY SERVICES",
        "Alejandro Martinez",
    ] {
        let q = Query::name(name);
        let a = s.screen(&q);
        let b = s.screen_linear(&q);
        let top = |o: &crate::screening::ScreenOutput| {
            o.hits
                .first()
                .map(|h| (h.list.clone(), h.entity_id.clone()))
        };
        assert_eq!(top(&a), top(&b), "{name}");
    }
}

#[test]
fn hits_carry_explanations_and_features() {
    let s = screener();
    let q = Query {
        name: "Banco Nacional de Cuba".into(),
        country: Some("CH".into()),
        entity_type: Some(EntityType::Organisation),
        dob: None,
    };
    let out = s.screen(&q);
    let hit = out
        .hits
        .iter()
        .find(|h| h.entity_id == "306")
        .expect("BNC hit");
    assert!(hit.score >= 0.99);
    assert_eq!(hit.explanation.matched_name, "BANCO NACIONAL DE CUBA");
    assert!(
        hit.explanation
            .tokens
            .iter()
            .any(|t| t.query == "banco" && t.name == "banco")
    );
    let bnc = s
        .lists()
        .get("ofac_sdn")
        .expect("sdn")
        .entities
        .iter()
        .find(|e| e.id == "306")
        .expect("306");
    assert!(!bnc.countries.contains(&"NZ".to_owned()));
    let person = Query {
        entity_type: Some(EntityType::Individual),
        country: Some("NZ".into()),
        ..q
    };
    let out = s.screen_with(
        &person,
        MatchSettings {
            threshold: 0.5,
            ..MatchSettings::default()
        },
    );
    let hit = out
        .hits
        .iter()
        .find(|h| h.entity_id == "306")
        .expect("still scored");
    let features: Vec<_> = hit.explanation.features.iter().map(|f| f.feature).collect();
    assert!(features.contains(&crate::screening::screener::Feature::TypeMismatch));
    assert!(features.contains(&crate::screening::screener::Feature::CountryMismatch));
    assert!(hit.score < 0.8);
}

#[test]
fn date_of_birth_raises_or_lowers() {
    let s = screener();
    let l = s.lists().get("ofac_cons").expect("cons");
    let e = l.entities.iter().find(|e| e.id == "9639").expect("HANIYA");
    assert_eq!(e.dates_of_birth, vec!["1962".to_owned()]);
    let with = |dob: &str| {
        s.score_entity(
            &Query {
                name: "Ismail Haniya".into(),
                dob: Some(dob.into()),
                ..Default::default()
            },
            e,
        )
        .expect("scored")
        .score
    };
    assert!(with("1962-05-01") > with("1970-05-01"));
}
