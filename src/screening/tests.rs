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

mod decisions;
mod matching;

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
