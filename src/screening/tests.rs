use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use proptest::prelude::*;
use time::macros::datetime;

use super::config::{ScreeningConfig, default_lists};
use super::countries;
use super::decision::{Evidence, Outcome, Review, Verdict, party_hash};
use super::entity::{EntityType, NameQuality, PublishedFrom};
use super::eval::{self, Scored};
use super::lists::{self, ListDiff, ListFormat, ListSpec, ListStore, LoadError, parse_date};
use super::normalize::{normalize, phonetic_key};
use super::score::{self, Token};
use super::screener::{MatchSettings, Query, Screener};

fn manifest() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The sample data the tests read, in `tests/data` (see its README for sources and licences).
fn test_data(rel: &str) -> PathBuf {
    manifest().join("tests/data").join(rel)
}

fn spec(name: &str, format: ListFormat, path: PathBuf) -> ListSpec {
    ListSpec {
        name: name.into(),
        format,
        path,
    }
}

/// The default lists, resolved against the manifest directory.
fn default_specs() -> Vec<ListSpec> {
    default_lists()
        .into_iter()
        .map(|mut s| {
            s.path = manifest().join(&s.path);
            s
        })
        .collect()
}

fn screener() -> &'static Screener {
    static S: OnceLock<Screener> = OnceLock::new();
    S.get_or_init(|| {
        let store = ListStore::load_all(&default_specs()).expect("default lists load");
        Screener::new(store, MatchSettings::default())
    })
}

// ---- loaders on the real samples ----

#[test]
fn shipped_lists_load_with_expected_counts() {
    let s = screener();
    let count = |name: &str| s.lists().get(name).expect(name).entities.len();
    assert_eq!(count("ofac_sdn"), 14_965);
    assert_eq!(count("ofac_cons"), 442);
    assert_eq!(count("csl_2019"), 115);
    assert_eq!(count("csl_2023"), 13);
    assert_eq!(count("un"), 1_003);
    let dpl = s.lists().get("bis_dpl").expect("dpl");
    assert_eq!(
        dpl.entities.len() + dpl.warnings.len(),
        581,
        "{:?}",
        dpl.warnings
    );
    // The 2025 alias file is newer than the 2024 sdn.csv: orphans are skipped and reported.
    let sdn = s.lists().get("ofac_sdn").expect("sdn");
    assert!(
        sdn.warnings
            .iter()
            .any(|w| w.contains("refer to entries missing"))
    );
    let names: usize = s.versions().iter().map(|v| v.names).sum();
    assert!((35_000..45_000).contains(&names), "{names} names");
}

#[test]
fn ofac_full_set_joins_aliases_addresses_and_remarks() {
    let dir = test_data("sanctions/ofac_sdn_2021-07_full_set");
    let l = lists::load(&spec("sdn21", ListFormat::OfacCsv, dir)).expect("loads");
    assert_eq!(l.entities.len(), 8_976);
    let aliases: usize = l.entities.iter().map(|e| e.names.len() - 1).sum();
    // 11,910 alias rows; a handful repeat the primary name or another alias.
    assert!((11_800..=11_910).contains(&aliases), "{aliases}");
    assert!(l.warnings.is_empty(), "{:?}", l.warnings);
    let bnc = l.entities.iter().find(|e| e.id == "306").expect("306");
    assert_eq!(bnc.primary_name(), "BANCO NACIONAL DE CUBA");
    assert!(bnc.names.iter().any(|n| n.name == "NATIONAL BANK OF CUBA"));
    assert_eq!(bnc.entity_type, EntityType::Organisation);
    assert!(
        bnc.countries.contains(&"CH".to_owned()),
        "{:?}",
        bnc.countries
    );
    let with_dob = l
        .entities
        .iter()
        .filter(|e| !e.dates_of_birth.is_empty())
        .count();
    assert!(with_dob > 3_000, "{with_dob}");
    assert_eq!(l.version.published_from, PublishedFrom::FileModified);
}

#[test]
fn un_xml_maps_individuals_and_entities() {
    let l = screener().lists().get("un").expect("un");
    let e = l
        .entities
        .iter()
        .find(|e| e.id == "CDi.002")
        .expect("CDi.002");
    assert_eq!(e.primary_name(), "FRANK KAKOLELE BWAMBALE");
    assert!(
        e.names
            .iter()
            .any(|n| n.name == "AIGLE BLANC" && n.quality == NameQuality::Strong)
    );
    assert_eq!(e.countries, vec!["CD".to_owned()]);
    let orgs = l
        .entities
        .iter()
        .filter(|e| e.entity_type == EntityType::Organisation)
        .count();
    assert_eq!(orgs, 273);
    assert_eq!(l.version.published.as_deref(), Some("2026-02-27"));
    let weak = l
        .entities
        .iter()
        .flat_map(|e| &e.names)
        .filter(|n| n.quality == NameQuality::Weak)
        .count();
    assert!(weak > 100, "{weak}");
}

#[test]
fn csl_layouts_have_ids_names_and_sources() {
    let l19 = screener().lists().get("csl_2019").expect("csl");
    assert!(l19.entities.iter().all(|e| !e.id.is_empty()));
    let ids: std::collections::BTreeSet<_> = l19.entities.iter().map(|e| &e.id).collect();
    assert_eq!(ids.len(), l19.entities.len(), "ids are unique");
    let l23 = screener().lists().get("csl_2023").expect("csl");
    let sino = l23
        .entities
        .iter()
        .find(|e| e.primary_name() == "Sinobright Import and Export Company")
        .expect("boilerplate clause removed");
    assert_eq!(
        sino.id,
        "233a4d725770c81fb561ffe3842c14010c2201971d6be62eca1e613b"
    );
    assert_eq!(sino.programs[0], "ISN");
}

/// FollowTheMoney lines as OpenSanctions publishes them, of invented entities: the published
/// samples are CC BY-NC data, so the tests write their own.
const FTM_ENTITIES: &str = r#"{"id": "NK-test-person-1", "schema": "Person", "caption": "Ivan Testovich Primerov", "properties": {"name": ["Ivan Testovich Primerov"], "alias": ["Ivan Primerov"], "birthDate": ["1971-01-22"], "nationality": ["ru"], "programId": ["EU-TEST"]}, "last_change": "2024-05-20T10:00:00", "target": true}
{"id": "NK-test-company-1", "schema": "Company", "caption": "Primer Holding LLC", "properties": {"name": ["Primer Holding LLC"], "jurisdiction": ["cy"], "registrationNumber": ["HE000001"]}, "last_change": "2024-05-21T09:30:00", "target": true}
{"id": "NK-test-sanction-1", "schema": "Sanction", "caption": "Sanction", "properties": {"entity": ["NK-test-person-1"]}, "last_change": "2024-05-20T10:00:00"}
"#;

/// A delta stream: two ADDs, a MOD of the first and a DEL of the second.
const FTM_DELTA: &str = r#"{"op": "ADD", "entity": {"id": "Q-test-1", "schema": "Organization", "caption": "Northern Example Front", "properties": {"name": ["Northern Example Front"]}}}
{"op": "ADD", "entity": {"id": "Q-test-2", "schema": "Person", "caption": "Jane Placeholder", "properties": {"name": ["Jane Placeholder"]}}}
{"op": "MOD", "entity": {"id": "Q-test-1", "schema": "Organization", "caption": "NORTHERN EXAMPLE FRONT IN TESTLAND", "properties": {"name": ["NORTHERN EXAMPLE FRONT IN TESTLAND"], "alias": ["Northern Example Front"]}}}
{"op": "DEL", "entity": {"id": "Q-test-2"}}
"#;

#[test]
fn ftm_entities_and_delta_streams_load() {
    let dir = tempfile::tempdir().expect("tmp");
    let entities = dir.path().join("excerpt.entities.ftm.json");
    std::fs::write(&entities, FTM_ENTITIES).expect("write");
    let eu = lists::load(&spec("eu", ListFormat::FtmJson, entities.clone())).expect("loads");
    let lines = std::fs::read_to_string(&entities).expect("read");
    assert!(!eu.entities.is_empty() && eu.entities.len() <= lines.lines().count());
    assert_eq!(
        eu.entities.len(),
        2,
        "the Sanction record is not screenable"
    );
    let person = eu
        .entities
        .iter()
        .find(|e| e.id == "NK-test-person-1")
        .expect("person");
    assert_eq!(person.entity_type, EntityType::Individual);
    assert_eq!(person.dates_of_birth, vec!["1971-01-22".to_owned()]);
    assert!(person.countries.contains(&"RU".to_owned()));
    let company = eu
        .entities
        .iter()
        .find(|e| e.id == "NK-test-company-1")
        .expect("company");
    assert_eq!(company.entity_type, EntityType::Organisation);
    assert_eq!(eu.version.published.as_deref(), Some("2024-05-21"));

    let delta_path = dir.path().join("sample.entities.delta.json");
    std::fs::write(&delta_path, FTM_DELTA).expect("write");
    let delta = lists::load(&spec("delta", ListFormat::FtmJson, delta_path)).expect("delta loads");
    assert!(
        delta
            .entities
            .iter()
            .any(|e| e.primary_name() == "NORTHERN EXAMPLE FRONT IN TESTLAND")
    );
    assert_eq!(delta.entities.len(), 1, "the DEL removed its ADD");
}

#[test]
fn versions_are_content_hashes() {
    let a = lists::load(&default_specs()[4]).expect("dpl");
    let b = lists::load(&default_specs()[4]).expect("dpl");
    assert_eq!(a.version.content_hash, b.version.content_hash);
    assert_eq!(a.version.content_hash.len(), 64);
    assert_eq!(a.version.published_from, PublishedFrom::Content);
    let dir = tempfile::tempdir().expect("tmp");
    let copy = dir.path().join("dpl.txt");
    let mut text = std::fs::read_to_string(&default_specs()[4].path).expect("read");
    text = text.replacen("AARON ABRAHAM VILLA", "AARON ABRAHAM VILLAR", 1);
    std::fs::write(&copy, text).expect("write");
    let c = lists::load(&spec("bis_dpl", ListFormat::BisDpl, copy)).expect("loads");
    assert_ne!(a.version.content_hash, c.version.content_hash);
    let diff = ListDiff::between("bis_dpl", &a.entities, &c.entities);
    // DPL ids hash the name: a renamed entry is one removal and one addition.
    assert_eq!(
        (diff.added.len(), diff.removed.len(), diff.changed.len()),
        (1, 1, 0)
    );
}

// ---- malformed input ----

fn expect_malformed(err: LoadError, file: &str, line: u64, reason: &str) {
    match err {
        LoadError::Malformed {
            file: f,
            line: l,
            reason: r,
        } => {
            assert!(f.ends_with(file), "{}", f.display());
            assert_eq!(l, line, "{r}");
            assert!(r.contains(reason), "{r}");
        }
        other => panic!("expected Malformed, got {other}"),
    }
}

#[test]
fn malformed_files_report_file_line_and_reason() {
    let dir = tempfile::tempdir().expect("tmp");
    let ofac = dir.path().join("ofac");
    std::fs::create_dir(&ofac).expect("mkdir");
    std::fs::write(
        ofac.join("sdn.csv"),
        "36,\"AEROCARIBBEAN AIRLINES\",-0- ,\"CUBA\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \r\n\
         173,\"ANGLO-CARIBBEAN CO., LTD.\",-0- ,\"CUBA\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \r\n\
         306,\"BANCO NACIONAL DE CUBA\",-0- ,\"CUBA\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \r\n",
    )
    .expect("write");
    std::fs::write(ofac.join("alt.csv"), "").expect("write");
    std::fs::write(ofac.join("add.csv"), "").expect("write");
    let err = lists::load(&spec("x", ListFormat::OfacCsv, ofac.clone())).expect_err("bad");
    expect_malformed(err, "sdn.csv", 3, "expected 12 fields, found 11");

    std::fs::write(
        ofac.join("sdn.csv"),
        "36,\"AEROCARIBBEAN AIRLINES\",-0- ,\"CUBA\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \r\n\
         X7,\"BAD ID\",-0- ,\"CUBA\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \r\n",
    )
    .expect("write");
    let err = lists::load(&spec("x", ListFormat::OfacCsv, ofac)).expect_err("bad");
    expect_malformed(err, "sdn.csv", 2, "not a number");

    let xml = dir.path().join("un.xml");
    std::fs::write(
        &xml,
        "<?xml version=\"1.0\"?>\n<CONSOLIDATED_LIST dateGenerated=\"2026-01-01\">\n<INDIVIDUALS>\n<INDIVIDUAL>\n<FIRST_NAME>A</FIRST_NAME>\n</INDIVIDUAL>\n</INDIVIDUALS>\n</CONSOLIDATED_LIST>\n",
    )
    .expect("write");
    let err = lists::load(&spec("un", ListFormat::UnXml, xml.clone())).expect_err("bad");
    expect_malformed(err, "un.xml", 4, "without REFERENCE_NUMBER");
    std::fs::write(&xml, "<CONSOLIDATED_LIST>\n<INDIVIDUALS>\n<INDIVIDUAL>\n").expect("write");
    let err = lists::load(&spec("un", ListFormat::UnXml, xml)).expect_err("bad");
    expect_malformed(err, "un.xml", 4, "truncated");

    let ftm = dir.path().join("e.json");
    std::fs::write(
        &ftm,
        "{\"id\":\"a\",\"schema\":\"Person\",\"caption\":\"A B\"}\n{\"id\": \n",
    )
    .expect("write");
    let err = lists::load(&spec("f", ListFormat::FtmJson, ftm)).expect_err("bad");
    expect_malformed(err, "e.json", 2, "invalid JSON");

    let dpl = dir.path().join("dpl.txt");
    std::fs::write(&dpl, "\"Name\"\t\"City\"\n\"X\"\t\"Y\"\n").expect("write");
    let err = lists::load(&spec("d", ListFormat::BisDpl, dpl)).expect_err("bad");
    expect_malformed(err, "dpl.txt", 1, "missing column \"Street_Address\"");

    let csl = dir.path().join("csl.csv");
    std::fs::write(&csl, "source,name,type,alt_names\nDPL,ACME,Entity\n").expect("write");
    let err = lists::load(&spec("c", ListFormat::CslCsv, csl)).expect_err("bad");
    expect_malformed(err, "csl.csv", 2, "");
}

#[test]
fn failed_reload_keeps_the_previous_version() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("dpl.txt");
    std::fs::copy(&default_specs()[4].path, &path).expect("copy");
    let s = spec("bis_dpl", ListFormat::BisDpl, path.clone());
    let mut store = ListStore::new();
    let first = store.load(&s).expect("loads");
    assert_eq!(
        first.added.len(),
        store.get("bis_dpl").expect("dpl").entities.len()
    );
    let before = store.get("bis_dpl").expect("dpl").version.clone();
    let mut text = std::fs::read_to_string(&path).expect("read");
    text.push_str("\"BROKEN\"\t\"ROW\"\n");
    std::fs::write(&path, text).expect("write");
    let err = store.load(&s).expect_err("malformed");
    assert!(err.to_string().contains("dpl.txt:"), "{err}");
    assert_eq!(store.get("bis_dpl").expect("still there").version, before);
}

// ---- normalisation ----

#[test]
fn normalisation_table() {
    let cases: &[(&str, &[&str])] = &[
        (
            "HANIYA, Ismail Abdul Salah",
            &["ismail", "abdul", "salah", "haniya"],
        ),
        ("CIMEX, S.A.", &["cimex"]),
        ("ANGLO-CARIBBEAN CO., LTD.", &["anglo", "caribbean"]),
        ("Acme Trading GmbH", &["acme", "trading"]),
        ("OOO \"Romashka\"", &["romashka"]),
        ("Dr. Ayman AL-ZAWAHIRI", &["ayman", "zawahiri"]),
        ("Sheikh Omar Bin Laden", &["omar", "bin", "laden"]),
        ("Владимир Путин", &["vladimir", "putin"]),
        ("Präsident Putin", &["putin"]),
        ("ＡＣＭＥ　ＬＴＤ", &["acme"]),
        ("O'Brien & Sons", &["obrien", "sons"]),
        ("Société Générale S. A.", &["societe", "generale"]),
        ("CO LTD", &["co", "ltd"]),
        ("Abdallah ibn Saud", &["abdallah", "bin", "saud"]),
    ];
    for (raw, want) in cases {
        assert_eq!(normalize(raw).tokens, *want, "normalize({raw:?})");
    }
}

#[test]
fn phonetic_keys_group_transliterations() {
    let same = [
        ("mohammed", "muhammad"),
        ("mohamad", "mohammed"),
        ("putin", "poutine"),
        ("vladimir", "wladimir"),
        ("yusuf", "iusuf"),
        ("schmidt", "shmidt"),
    ];
    for (a, b) in same {
        assert_eq!(phonetic_key(a), phonetic_key(b), "{a} / {b}");
    }
    assert_ne!(phonetic_key("putin"), phonetic_key("smith"));
}

#[test]
fn countries_and_dates_resolve() {
    assert_eq!(countries::resolve("Cuba").as_deref(), Some("CU"));
    assert_eq!(countries::resolve("Korea, North").as_deref(), Some("KP"));
    assert_eq!(
        countries::resolve("Democratic Republic of the Congo").as_deref(),
        Some("CD")
    );
    assert_eq!(countries::resolve("IR").as_deref(), Some("IR"));
    assert_eq!(countries::resolve("Atlantis"), None);
    assert_eq!(parse_date("10 Dec 1948").as_deref(), Some("1948-12-10"));
    assert_eq!(parse_date("circa 1962").as_deref(), Some("1962"));
    assert_eq!(parse_date("06/19/2003").as_deref(), Some("2003-06-19"));
    assert_eq!(parse_date("1971-01-22").as_deref(), Some("1971-01-22"));
    assert_eq!(parse_date("Jan 1970").as_deref(), Some("1970-01"));
    assert_eq!(parse_date("unknown"), None);
}

// ---- scorer ----

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
        let top = |o: &super::ScreenOutput| {
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
    assert!(features.contains(&super::screener::Feature::TypeMismatch));
    assert!(features.contains(&super::screener::Feature::CountryMismatch));
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

// ---- decisions ----

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
    assert_eq!(r.algorithm, super::ALGORITHM_VERSION);
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
