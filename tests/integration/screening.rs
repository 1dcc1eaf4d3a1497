//! `tradehub screen` and `tradehub lists` end to end: exit codes, `--json` shapes, list overrides,
//! malformed lists, evaluation, and `lists fetch` against a local HTTP server.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::common::data;

fn manifest() -> PathBuf {
    crate::common::repo::root().to_path_buf()
}

fn un_xml() -> PathBuf {
    manifest().join("data/sanctions/un_sc_consolidated_list/consolidated.xml")
}

fn tradehub(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tradehub"))
        .args(args)
        .current_dir(manifest())
        .output()
        .expect("tradehub runs")
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not one JSON document ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn code(out: &Output) -> i32 {
    out.status.code().expect("exit code")
}

#[test]
fn screen_hit_exits_1_with_explained_hits() {
    let un = format!("un_xml={}", un_xml().display());
    let out = tradehub(&[
        "screen",
        "--name",
        "Frank Kakorere",
        "--list",
        &un,
        "--json",
    ]);
    assert_eq!(code(&out), 1, "{}", String::from_utf8_lossy(&out.stderr));
    let doc = json(&out);
    assert_eq!(doc["outcome"], "potential_match");
    let hit = &doc["hits"][0];
    assert_eq!(hit["list"], "un_xml");
    assert_eq!(hit["entity_id"], "CDi.002");
    assert_eq!(hit["name"], "FRANK KAKOLELE BWAMBALE");
    assert!(hit["score"].as_f64().expect("score") >= 0.85);
    assert_eq!(hit["explanation"]["matched_name"], "FRANK KAKORERE");
    assert!(
        hit["explanation"]["tokens"]
            .as_array()
            .is_some_and(|t| !t.is_empty())
    );
    assert_eq!(doc["list_versions"][0]["format"], "un_xml");
    assert_eq!(
        doc["list_versions"][0]["content_hash"]
            .as_str()
            .map(str::len),
        Some(64)
    );
    assert!(doc["algorithm"].is_string());
}

#[test]
fn screen_clear_exits_0() {
    let un = format!("un_xml={}", un_xml().display());
    let out = tradehub(&[
        "screen",
        "--name",
        "Quiet Harbor Bakery Ltd",
        "--country",
        "GB",
        "--type",
        "organisation",
        "--list",
        &un,
        "--json",
    ]);
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    let doc = json(&out);
    assert_eq!(doc["outcome"], "clear");
    assert_eq!(doc["hits"].as_array().map(Vec::len), Some(0));
}

#[test]
fn screen_uses_the_shipped_default_lists() {
    let out = tradehub(&["screen", "--name", "Banco Nacional de Cuba", "--json"]);
    assert_eq!(code(&out), 1, "{}", String::from_utf8_lossy(&out.stderr));
    let doc = json(&out);
    assert!(
        doc["hits"]
            .as_array()
            .expect("hits")
            .iter()
            .any(|h| h["list"] == "ofac_sdn" && h["entity_id"] == "306")
    );
    assert_eq!(doc["list_versions"].as_array().map(Vec::len), Some(6));
}

#[test]
fn bad_usage_exits_2() {
    let out = tradehub(&["screen"]);
    assert_eq!(code(&out), 2);
    let out = tradehub(&["screen", "--name", "X", "--list", "nope=/tmp/x"]);
    assert_eq!(code(&out), 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown list format"));
    let out = tradehub(&["screen", "--name", "X", "--type", "robot"]);
    assert_eq!(code(&out), 2);
}

#[test]
fn malformed_list_exits_2_naming_file_and_line() {
    let dir = tempfile::tempdir().expect("tmp");
    let bad = dir.path().join("broken.xml");
    std::fs::write(&bad, "<CONSOLIDATED_LIST>\n<INDIVIDUALS>\n<INDIVIDUAL>\n<FIRST_NAME>A</FIRST_NAME>\n</INDIVIDUAL>\n</INDIVIDUALS>\n</CONSOLIDATED_LIST>\n").expect("write");
    let arg = format!("un_xml={}", bad.display());
    let out = tradehub(&["screen", "--name", "A", "--list", &arg]);
    assert_eq!(code(&out), 2);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("broken.xml:"), "{err}");
    assert!(err.contains("broken.xml:3:"), "{err}");
    assert!(err.contains("REFERENCE_NUMBER"), "{err}");
}

#[test]
fn batch_screens_every_row_and_writes_results() {
    let dir = tempfile::tempdir().expect("tmp");
    let input = dir.path().join("in.csv");
    let output = dir.path().join("out.csv");
    std::fs::write(
        &input,
        "name,country,type\nFrank Kakorere,,individual\nQuiet Harbor Bakery,GB,organisation\n\"BWAMBALE, Frank Kakolele\",CD,\n",
    )
    .expect("write");
    let un = format!("un_xml={}", un_xml().display());
    let out = tradehub(&[
        "screen",
        "batch",
        "--input",
        input.to_str().expect("utf8"),
        "--output",
        output.to_str().expect("utf8"),
        "--list",
        &un,
        "--linear-sample",
        "2",
        "--json",
    ]);
    assert_eq!(code(&out), 1, "{}", String::from_utf8_lossy(&out.stderr));
    let doc = json(&out);
    assert_eq!(doc["queries"], 3);
    assert_eq!(doc["with_hits"], 2);
    assert!(doc["p50_us"].as_f64().is_some());
    assert_eq!(doc["linear_scan"]["sample"], 2);
    assert_eq!(doc["linear_scan"]["same_top_hit"], 2);
    let mut reader = csv::Reader::from_path(&output).expect("output");
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();
    assert_eq!(rows.len(), 3);
    assert_eq!(&rows[0][3], "potential_match");
    assert_eq!(&rows[0][6], "CDi.002");
    assert_eq!(&rows[1][3], "clear");

    std::fs::write(&input, "name,country,type\nX,,robot\n").expect("write");
    let out = tradehub(&[
        "screen",
        "batch",
        "--input",
        input.to_str().expect("utf8"),
        "--list",
        &un,
    ]);
    assert_eq!(code(&out), 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("in.csv:2"));
}

#[test]
fn eval_reports_confusion_counts_and_rates() {
    let dir = tempfile::tempdir().expect("tmp");
    let pairs = dir.path().join("pairs.csv");
    std::fs::write(
        &pairs,
        "query,country,expected_entity_id\nFrank Kakorere,,CDi.002\nGaston Iyamuremy,,CDi.003\nQuiet Harbor Bakery,GB,\nAlejandro Martinez,ES,\n",
    )
    .expect("write");
    let un = format!("un_xml={}", un_xml().display());
    let out = tradehub(&[
        "screen",
        "eval",
        "--pairs",
        pairs.to_str().expect("utf8"),
        "--list",
        &un,
        "--json",
    ]);
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stdout));
    let doc = json(&out);
    assert_eq!(doc["tp"], 2);
    assert_eq!(doc["fn"], 0);
    assert_eq!(doc["fp"], 0);
    assert_eq!(doc["tn"], 2);
    assert_eq!(doc["precision"], 1.0);
    assert_eq!(doc["recall"], 1.0);
    assert_eq!(doc["f1"], 1.0);
    assert_eq!(doc["threshold"], 0.8);
    assert!(doc["curve"].as_array().is_some_and(|c| c.len() >= 10));

    // An impossible threshold finds nothing: recall 0, exit 1.
    let out = tradehub(&[
        "screen",
        "eval",
        "--pairs",
        pairs.to_str().expect("utf8"),
        "--list",
        &un,
        "--threshold",
        "1.0",
        "--json",
    ]);
    let doc = json(&out);
    assert!(doc["recall"].as_f64().expect("recall") < 1.0);
    assert_eq!(code(&out), 1);
}

#[test]
fn eval_on_the_shipped_evaluation_set_meets_the_targets() {
    let set = manifest().join("tests/fixtures/screening/eval_set.csv");
    let out = tradehub(&[
        "screen",
        "eval",
        "--pairs",
        set.to_str().expect("utf8"),
        "--json",
    ]);
    let doc = json(&out);
    assert!(doc["tp"].as_u64().expect("tp") >= 900, "{doc}");
    assert!(
        doc["recall"].as_f64().expect("recall") >= 0.98,
        "recall {}",
        doc["recall"]
    );
    assert!(
        doc["precision"].as_f64().expect("precision") >= 0.98,
        "precision {}",
        doc["precision"]
    );
    assert_eq!(code(&out), 0);
}

#[test]
fn eval_reads_the_labelled_pairs() {
    let pairs = data::path("sanctions/name_matching_un/un_sc_alias_pairs_labelled.csv");
    let un = format!("un_xml={}", un_xml().display());
    let out = tradehub(&[
        "screen",
        "eval",
        "--pairs",
        pairs.to_str().expect("utf8"),
        "--list",
        &un,
        "--json",
        "--min-precision",
        "0.95",
        "--min-recall",
        "0.30",
    ]);
    // Floors just under the figures measured when they were set (precision 0.954, recall 0.306 at
    // 0.80): many pairs are aliases that share no letters with the listed name, so recall is low by
    // nature, and a scorer change that loses either figure fails here.
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stdout));
    let doc = json(&out);
    assert_eq!(doc["kind"], "pairs");
    assert!(
        doc["precision"].as_f64().expect("precision") >= 0.95,
        "{doc}"
    );
    assert!(doc["recall"].as_f64().expect("recall") >= 0.30, "{doc}");
    let total: u64 = ["tp", "fp", "fn", "tn"]
        .iter()
        .map(|k| doc[k].as_u64().expect(k))
        .sum();
    assert_eq!(total, 4_432);
}

/// Serves fixed bodies by path on 127.0.0.1:0 until the test process ends.
fn serve(routes: HashMap<String, Vec<u8>>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut request = String::new();
            if reader.read_line(&mut request).is_err() {
                continue;
            }
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            let path = request.split_whitespace().nth(1).unwrap_or("/").to_owned();
            let (status, body) = match routes.get(&path) {
                Some(b) => ("200 OK", b.clone()),
                None => ("404 Not Found", b"missing".to_vec()),
            };
            let head = format!(
                "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body);
        }
    });
    format!("http://{addr}")
}

fn fetch_config(dir: &Path, base: &str, file: &str, sha: Option<&str>) -> PathBuf {
    let cfg = dir.join("fetch.toml");
    let sha = sha
        .map(|s| format!(", sha256 = \"{s}\""))
        .unwrap_or_default();
    std::fs::write(
        &cfg,
        format!(
            "[screening]\nfetch_dir = \"{}\"\n[[screening.fetch]]\nlist = \"un\"\nformat = \"un_xml\"\nmin_entities = 100\nfiles = [{{ name = \"consolidated.xml\", url = \"{base}/{file}\"{sha} }}]\n",
            dir.join("lists").display()
        ),
    )
    .expect("write");
    cfg
}

#[test]
fn lists_fetch_verifies_and_swaps_atomically() {
    let good = std::fs::read(un_xml()).expect("un");
    let good_sha = hex::encode(Sha256::digest(&good));
    let truncated = good[..good.len() / 2].to_vec();
    let base = serve(HashMap::from([
        ("/un.xml".to_owned(), good.clone()),
        ("/truncated.xml".to_owned(), truncated),
    ]));
    let dir = tempfile::tempdir().expect("tmp");
    let current = dir.path().join("lists/un/current");

    let cfg = fetch_config(dir.path(), &base, "un.xml", Some(&good_sha));
    let out = tradehub(&[
        "lists",
        "fetch",
        "--config",
        cfg.to_str().expect("utf8"),
        "--json",
    ]);
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stdout));
    let doc = json(&out);
    assert_eq!(doc["lists"][0]["ok"], true);
    assert_eq!(doc["lists"][0]["installed"]["version"]["entities"], 1003);
    let installed = std::fs::read_link(&current).expect("current link");
    assert_eq!(
        std::fs::read(current.join("consolidated.xml")).expect("file"),
        good
    );
    assert!(dir.path().join("lists/un/versions.jsonl").exists());

    // The fetched list is usable for screening.
    let arg = format!("un_xml={}", current.join("consolidated.xml").display());
    let out = tradehub(&[
        "screen",
        "--name",
        "Frank Kakorere",
        "--list",
        &arg,
        "--json",
    ]);
    assert_eq!(json(&out)["hits"][0]["entity_id"], "CDi.002");

    // A checksum mismatch and a truncated file are refused; `current` does not move.
    let cfg = fetch_config(dir.path(), &base, "un.xml", Some(&"0".repeat(64)));
    let out = tradehub(&[
        "lists",
        "fetch",
        "--config",
        cfg.to_str().expect("utf8"),
        "--json",
    ]);
    assert_eq!(code(&out), 1);
    assert!(
        json(&out)["lists"][0]["error"]
            .as_str()
            .expect("error")
            .contains("SHA-256")
    );
    let cfg = fetch_config(dir.path(), &base, "truncated.xml", None);
    let out = tradehub(&[
        "lists",
        "fetch",
        "--config",
        cfg.to_str().expect("utf8"),
        "--json",
    ]);
    assert_eq!(code(&out), 1);
    assert!(
        json(&out)["lists"][0]["error"]
            .as_str()
            .expect("error")
            .contains("does not load")
    );
    let cfg = fetch_config(dir.path(), &base, "gone.xml", None);
    let out = tradehub(&[
        "lists",
        "fetch",
        "--config",
        cfg.to_str().expect("utf8"),
        "--json",
    ]);
    assert_eq!(code(&out), 1);
    assert!(
        json(&out)["lists"][0]["error"]
            .as_str()
            .expect("error")
            .contains("404")
    );
    assert_eq!(std::fs::read_link(&current).expect("link"), installed);

    // No sources configured is a usage error.
    let empty = dir.path().join("empty.toml");
    std::fs::write(&empty, "[screening]\n").expect("write");
    let out = tradehub(&["lists", "fetch", "--config", empty.to_str().expect("utf8")]);
    assert_eq!(code(&out), 2);
}
