//! `tradehub duty`: exit codes and the JSON shape finance relies on.

use std::path::PathBuf;
use std::process::{Command, Output};

fn fixture(name: &str) -> PathBuf {
    crate::common::repo::root()
        .join("tests/fixtures/shipments")
        .join(name)
}

fn duty(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tradehub"))
        .arg("duty")
        .args(args)
        .output()
        .expect("the tradehub binary runs")
}

#[test]
fn duty_json_has_totals_as_decimal_strings_and_line_working() {
    let path = fixture("valid_import_jp_gb_air_preference.json");
    let out = duty(&[path.to_str().unwrap(), "--json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    assert_eq!(doc["currency"], "GBP");
    for key in [
        "customs_value",
        "total_duty",
        "total_taxes",
        "total_fees",
        "landed_cost",
    ] {
        let v = doc[key]
            .as_str()
            .unwrap_or_else(|| panic!("{key} is a string: {}", doc[key]));
        assert!(v.parse::<rust_decimal::Decimal>().is_ok(), "{key} = {v}");
    }
    // Hand check: 5,480,000 + 640,000 JPY at 0.005290 = 32,374.80 GBP; duty 2.7% of 3,385.60.
    assert_eq!(doc["customs_value"], "32374.80");
    assert_eq!(doc["total_duty"], "91.41");
    let lines = doc["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 2);
    let formula = lines[1]["duties"][0]["formula"].as_str().unwrap();
    assert_eq!(formula, "2.7% x 3385.60 = 91.41120");
    assert_eq!(lines[0]["duties"][0]["kind"], "preferential");
    assert!(
        doc["tables"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["sha256"].as_str().is_some_and(|h| h.len() == 64))
    );

    let out = duty(&[path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("landed cost"));
}

#[test]
fn duty_exits_1_for_an_export_and_2_for_unreadable_input() {
    let export = fixture("valid_export_de_us_sea.json");
    let out = duty(&[export.to_str().unwrap(), "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(doc["error"].as_str().unwrap().contains("imports"));

    let broken = fixture("unreadable_syntax.json");
    let out = duty(&[broken.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains(":6:18:"));

    let empty = tempfile::tempdir().unwrap();
    let import = fixture("valid_import_jp_gb_air_preference.json");
    let out = duty(&[
        import.to_str().unwrap(),
        "--tariffs",
        empty.path().to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("jurisdictions.toml"));
}
