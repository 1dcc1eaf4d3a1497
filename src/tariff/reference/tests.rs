use std::path::Path;

use super::*;

fn data_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/data"))
}

fn hs(code: &str) -> HsCode {
    code.parse().unwrap()
}

#[test]
fn hs_2022_holds_5613_subheadings_1229_headings_97_chapters() {
    let r = ReferenceData::bundled();
    assert_eq!(r.subheading_count(), 5_613);
    assert_eq!(r.heading_count(), 1_229);
    assert_eq!(r.chapter_count(), 97);
    assert_eq!(r.hs_edition(), "HS 2022");
}

#[test]
fn hs_lookups_follow_the_2022_edition() {
    let r = ReferenceData::bundled();
    assert!(r.has_subheading(hs("847130")));
    assert!(
        r.has_subheading(hs("8471300000")),
        "national extension is checked by its first six digits"
    );
    assert!(r.has_subheading(hs("010121")), "leading zero kept");
    // Drones got their own subheadings in 2022; the HS 2017 code 8806.00 no longer exists.
    assert!(!r.has_subheading(hs("880600")));
    assert!(r.has_subheading(hs("880610")));
    assert!(!r.has_subheading(hs("847100")));
    assert!(r.has_heading(8471));
    assert!(!r.has_heading(7799), "chapter 77 is reserved");
    assert!(!r.has_chapter(77));
    assert!(r.has_chapter(1));
    assert_eq!(
        r.hs_description(4, 8471)
            .map(|d| d.starts_with("Automatic data processing machines")),
        Some(true)
    );
    assert_eq!(
        r.hs_description(6, 220_421),
        Some("Wine; still, in containers holding 2 litres or less")
    );
    assert_eq!(r.hs_description(6, 880_600), None);
}

#[test]
fn countries_and_currencies() {
    let r = ReferenceData::bundled();
    assert_eq!(r.country_count(), 249);
    assert_eq!(r.country_name("DE".parse().unwrap()), Some("Germany"));
    assert_eq!(
        r.country_name("NA".parse().unwrap()),
        Some("Namibia"),
        "NA must not be read as a missing value"
    );
    assert_eq!(r.country_name("XK".parse().unwrap()), None);
    let cur = |c: &str| r.currency_status(c.parse().unwrap());
    assert_eq!(
        cur("EUR"),
        CurrencyStatus::Active {
            minor_units: Some(2)
        }
    );
    assert_eq!(
        cur("JPY"),
        CurrencyStatus::Active {
            minor_units: Some(0)
        }
    );
    assert_eq!(
        cur("KWD"),
        CurrencyStatus::Active {
            minor_units: Some(3)
        }
    );
    assert_eq!(cur("XAU"), CurrencyStatus::Active { minor_units: None });
    assert_eq!(cur("DEM"), CurrencyStatus::Withdrawn);
    assert_eq!(cur("XYZ"), CurrencyStatus::Unknown);
}

#[test]
fn incoterms_match_the_model_enum() {
    let r = ReferenceData::bundled();
    for rule in Incoterm::ALL {
        assert!(
            r.incoterm_name(rule).is_some_and(|n| !n.is_empty()),
            "{rule}"
        );
    }
    assert_eq!(
        r.incoterm_name(Incoterm::Cif),
        Some("COST, INSURANCE AND FREIGHT")
    );
}

#[test]
fn locodes_loaded_and_searchable() {
    let r = ReferenceData::bundled();
    assert_eq!(r.locode_count(), 80_910);
    for known in ["DEHAM", "NLRTM", "USNYC", "GBFXT", "DEB90", "DE3AG"] {
        assert!(r.has_locode(known.parse().unwrap()), "{known}");
    }
    assert!(
        !r.has_locode("SGSIN".parse().unwrap()),
        "absent from the 2015 list (no subdivision)"
    );
    assert!(!r.has_locode("DEQ8Q".parse().unwrap()));
}

#[test]
fn load_from_the_data_folder_equals_the_bundled_copy() {
    let loaded = ReferenceData::load(data_dir()).expect("data/ loads");
    let bundled = ReferenceData::bundled();
    assert_eq!(loaded.subheading_count(), bundled.subheading_count());
    assert_eq!(loaded.locode_count(), bundled.locode_count());
    assert_eq!(loaded.country_count(), bundled.country_count());
}

fn copy_data_to(dir: &Path) {
    for rel in [
        HS_FILE,
        COUNTRIES_FILE,
        CURRENCIES_FILE,
        INCOTERMS_FILE,
        LOCODE_FILE,
    ] {
        let to = dir.join(rel);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(data_dir().join(rel), to).unwrap();
    }
}

#[test]
fn missing_file_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    copy_data_to(tmp.path());
    std::fs::remove_file(tmp.path().join(CURRENCIES_FILE)).unwrap();
    let err = ReferenceData::load(tmp.path()).err().expect("fails");
    assert!(
        err.to_string().contains("currencies/codes-all.csv"),
        "{err}"
    );
}

#[test]
fn bad_row_is_reported_with_file_and_line() {
    let tmp = tempfile::tempdir().unwrap();
    copy_data_to(tmp.path());
    let path = tmp.path().join(HS_FILE);
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str("XX,84713,\"Broken\",8471,6\n");
    std::fs::write(&path, &text).unwrap();
    let lines = text.lines().count();
    let err = ReferenceData::load(tmp.path()).err().expect("fails");
    let msg = err.to_string();
    assert!(
        msg.contains(HS_FILE) && msg.contains(&format!("line {lines}")),
        "{msg}"
    );
    assert!(msg.contains("84713"), "{msg}");
}

#[test]
fn duplicate_hs_code_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    copy_data_to(tmp.path());
    let path = tmp.path().join(HS_FILE);
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str("XVI,847130,\"Again\",8471,6\n");
    std::fs::write(&path, text).unwrap();
    let err = ReferenceData::load(tmp.path()).err().expect("fails");
    assert!(err.to_string().contains("listed twice"), "{err}");
}

#[test]
fn missing_incoterm_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    copy_data_to(tmp.path());
    let path = tmp.path().join(INCOTERMS_FILE);
    let text = std::fs::read_to_string(&path).unwrap().replace(
        "<field name=\"code\">DDP</field>",
        "<field name=\"code\">DAP</field>",
    );
    std::fs::write(&path, text).unwrap();
    let err = ReferenceData::load(tmp.path()).err().expect("fails");
    assert!(err.to_string().contains("DDP is missing"), "{err}");
}
