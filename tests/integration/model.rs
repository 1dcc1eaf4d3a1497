//! The canonical model's fixtures and the `tradehub validate` / `tradehub schema` commands.

use std::path::PathBuf;
use std::process::{Command, Output};

use tradehub::model::{SCHEMA_NAMES, SchemaVersion, Shipment};
use tradehub::tariff::{IssueCode, ReferenceData, Rules, validate};

fn fixtures() -> PathBuf {
    crate::common::repo::root().join("tests/fixtures/shipments")
}

fn fixture(name: &str) -> PathBuf {
    fixtures().join(name)
}

fn tradehub(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tradehub"))
        .args(args)
        .output()
        .expect("the tradehub binary runs")
}

fn run_validate(name: &str, json: bool) -> Output {
    let path = fixture(name);
    let mut args = vec!["validate", path.to_str().unwrap()];
    if json {
        args.push("--json");
    }
    tradehub(&args)
}

fn stdout_json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not one JSON document ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

/// Every v1 fixture must stay readable by the current model, whatever it becomes: this is the
/// compatibility promise of schema version "1".
#[test]
fn every_v1_fixture_stays_readable_and_round_trips() {
    let mut seen = 0;
    for entry in std::fs::read_dir(fixtures()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        if !name.ends_with(".json") || name.starts_with("unreadable_") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let s: Shipment = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(s.schema_version, SchemaVersion::V1, "{name}");
        let again: Shipment = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
        assert_eq!(again, s, "{name}");
        seen += 1;
    }
    assert!(
        seen >= 3,
        "expected the valid and invalid v1 fixtures, found {seen}"
    );
}

#[test]
fn invalid_fixture_reports_every_problem_not_just_the_first() {
    let text = std::fs::read_to_string(fixture("invalid_master_data.json")).unwrap();
    let s: Shipment = serde_json::from_str(&text).unwrap();
    let report = validate(&s, ReferenceData::bundled(), &Rules::default());
    assert!(!report.valid);
    for code in [
        IssueCode::CountryMalformed,
        IssueCode::CountryUnknown,
        IssueCode::CurrencyMalformed,
        IssueCode::CurrencyWithdrawn,
        IssueCode::CurrencyUnknown,
        IssueCode::IncotermUnknown,
        IssueCode::IncotermPlaceMissing,
        IssueCode::HsCodeMissing,
        IssueCode::HsCodeUnknown,
        IssueCode::HsCodeNotDeclarable,
        IssueCode::HsCodeMalformed,
        IssueCode::OriginMissing,
        IssueCode::ValueNotPositive,
        IssueCode::NetMassExceedsGross,
        IssueCode::PartyAddressMissing,
        IssueCode::PartyCountryMissing,
        IssueCode::DocumentMissing,
        IssueCode::LocationMalformed,
        IssueCode::LocationUnknown,
    ] {
        assert!(
            report.with_code(code).next().is_some(),
            "{code} not reported"
        );
    }
    let paths: Vec<&str> = report.issues.iter().map(|i| i.path.as_str()).collect();
    assert!(paths.contains(&"$.lines[2].hs_code"), "{paths:?}");
    assert!(
        paths.contains(&"$.lines[1].product.classifications[0].code"),
        "{paths:?}"
    );
}

#[test]
fn validate_exits_0_for_valid_shipments() {
    for name in [
        "valid_export_de_us_sea.json",
        "valid_import_jp_gb_air_preference.json",
    ] {
        let out = run_validate(name, false);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{name}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("valid"),
            "{name}"
        );
        let out = run_validate(name, true);
        assert_eq!(out.status.code(), Some(0), "{name}");
        let doc = stdout_json(&out);
        assert_eq!(doc["valid"], true);
        assert_eq!(doc["issues"], serde_json::json!([]));
        assert_eq!(doc["nomenclature"], "HS 2022");
    }
}

#[test]
fn validate_exits_1_and_lists_issues_as_json() {
    let out = run_validate("invalid_master_data.json", true);
    assert_eq!(out.status.code(), Some(1));
    let doc = stdout_json(&out);
    assert_eq!(doc["valid"], false);
    let issues = doc["issues"].as_array().unwrap();
    assert!(issues.len() >= 20, "{} issues", issues.len());
    for issue in issues {
        for key in ["path", "code", "severity", "message"] {
            assert!(
                issue[key].as_str().is_some_and(|v| !v.is_empty()),
                "{key} in {issue}"
            );
        }
        assert!(issue["path"].as_str().unwrap().starts_with('$'));
        assert!(["error", "warning"].contains(&issue["severity"].as_str().unwrap()));
    }
    let heading = issues
        .iter()
        .find(|i| i["code"] == "HS_CODE_NOT_DECLARABLE")
        .expect("heading reported");
    assert_eq!(heading["path"], "$.lines[2].hs_code");

    let out = run_validate("invalid_master_data.json", false);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("INVALID") && text.contains("HS_CODE_NOT_DECLARABLE"),
        "{text}"
    );
}

#[test]
fn validate_exits_2_with_line_and_column_for_unreadable_files() {
    for (name, line, column, needle) in [
        ("unreadable_syntax.json", 6, 18, "trailing comma"),
        ("unreadable_amount_as_float.json", 5, 28, "floating point"),
        ("unreadable_schema_version.json", 1, 22, "expected `1`"),
    ] {
        let out = run_validate(name, false);
        assert_eq!(out.status.code(), Some(2), "{name}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(&format!("{name}:{line}:{column}:")),
            "{name}: {err}"
        );
        assert!(err.contains(needle), "{name}: {err}");
        assert!(
            out.stdout.is_empty(),
            "{name}: nothing on stdout without --json"
        );

        let out = run_validate(name, true);
        assert_eq!(out.status.code(), Some(2), "{name}");
        let doc = stdout_json(&out);
        assert_eq!(doc["valid"], false);
        assert_eq!(doc["error"]["line"], line, "{name}");
        assert_eq!(doc["error"]["column"], column, "{name}");
    }
    let out = tradehub(&["validate", "/nonexistent/shipment.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/shipment.json"));
}

#[test]
fn validate_uses_the_rules_file_given() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules.toml");
    std::fs::write(
        &rules,
        "[[document]]\nname = \"dangerous goods note\"\nany_of = [\"broker_communication\"]\n",
    )
    .unwrap();
    let path = fixture("valid_export_de_us_sea.json");
    let out = tradehub(&[
        "validate",
        path.to_str().unwrap(),
        "--json",
        "--rules",
        rules.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let doc = stdout_json(&out);
    assert!(
        doc["issues"][0]["message"]
            .as_str()
            .unwrap()
            .contains("dangerous goods note")
    );

    std::fs::write(&rules, "[[document]]\nname = 3\n").unwrap();
    let out = tradehub(&[
        "validate",
        path.to_str().unwrap(),
        "--rules",
        rules.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("rules.toml"));
}

#[test]
fn validate_reads_reference_data_from_the_folder_given() {
    let path = fixture("valid_export_de_us_sea.json");
    let data = crate::common::repo::root().join("data");
    let out = tradehub(&[
        "validate",
        path.to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let empty = tempfile::tempdir().unwrap();
    let out = tradehub(&[
        "validate",
        path.to_str().unwrap(),
        "--data",
        empty.path().to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("harmonized-system.csv"));
}

#[test]
fn schema_prints_each_model_schema_and_refuses_unknown_names() {
    for name in SCHEMA_NAMES.iter().copied().chain(["validation_report"]) {
        let out = tradehub(&["schema", name]);
        assert_eq!(out.status.code(), Some(0), "{name}");
        let doc = stdout_json(&out);
        assert_eq!(
            doc["$schema"], "https://json-schema.org/draft/2020-12/schema",
            "{name}"
        );
    }
    let out = tradehub(&["schema", "invoice"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("shipment"));
}
