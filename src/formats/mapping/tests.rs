use std::path::Path;

use super::*;

fn run(code: &str, input: &str) -> Result<Tree, MappingError> {
    let mapping = Mapping::compile(Path::new("test.jq"), code)?;
    let input: Tree = serde_json::from_str(input).expect("test input is JSON");
    mapping.run(&input, &Globals::default())
}

#[test]
fn runs_a_program_and_keeps_key_order() {
    let out = run(
        r#"{z: .a, a: .b, m: [.c[] | . * 2]}"#,
        r#"{"a": 1, "b": "x", "c": [1, 2]}"#,
    )
    .expect("runs");
    assert_eq!(
        serde_json::to_string(&out).expect("json"),
        r#"{"z":1,"a":"x","m":[2,4]}"#
    );
}

#[test]
fn globals_are_visible() {
    let mapping = Mapping::compile(
        Path::new("g.jq"),
        "[$partner.name, $ctx.control_ref, $tables.t.k]",
    )
    .expect("compiles");
    let globals = Globals {
        partner: Tree::Map(vec![("name".into(), Tree::text("p"))]),
        ctx: Tree::Map(vec![("control_ref".into(), Tree::text("7"))]),
        tables: Tree::Map(vec![(
            "t".into(),
            Tree::Map(vec![("k".into(), Tree::text("v"))]),
        )]),
    };
    let out = mapping.run(&Tree::Null, &globals).expect("runs");
    assert_eq!(
        serde_json::to_string(&out).expect("json"),
        r#"["p","7","v"]"#
    );
}

#[test]
fn prelude_walks_edi_trees() {
    let input = r#"{"segments": [["UNH", "1", ["CUSRES", "D", "96B", "UN"]], ["RFF", ["ABE", "L1"]], ["RFF", ["ABT", "M1"]]]}"#;
    let out = run(
        r#"[seg("UNH") | comp(2; 0), val(1)] + [segs("RFF") | comp(1; 1)]"#,
        input,
    )
    .expect("runs");
    assert_eq!(
        serde_json::to_string(&out).expect("json"),
        r#"["CUSRES","1","L1","M1"]"#
    );
}

#[test]
fn compile_errors_name_file_line_and_column() {
    let err = Mapping::compile(
        Path::new("config/mappings/x.v1.jq"),
        "# comment\n{a: .b,\n  c: (.d | }\n",
    )
    .expect_err("syntax");
    let MappingError::Compile {
        path,
        line,
        column,
        message,
    } = &err
    else {
        panic!("expected a compile error, got {err}");
    };
    assert_eq!(path, Path::new("config/mappings/x.v1.jq"));
    assert_eq!(*line, 3, "{err}");
    assert!(*column > 1, "{err}");
    assert!(!message.is_empty());
    assert!(
        err.to_string()
            .starts_with("mapping config/mappings/x.v1.jq:3:"),
        "{err}"
    );

    let err =
        Mapping::compile(Path::new("u.jq"), ".a |\n  no_such_function(1)").expect_err("undefined");
    let text = err.to_string();
    assert!(text.contains("u.jq:2:3"), "{text}");
    assert!(text.contains("no_such_function"), "{text}");
}

#[test]
fn runtime_errors_and_output_counts_are_reported() {
    let err = run(r#"error("bad code \(.c)")"#, r#"{"c": "X9"}"#).expect_err("raises");
    assert!(err.to_string().contains("bad code X9"), "{err}");
    assert!(matches!(
        run("empty", "null"),
        Err(MappingError::NoOutput { .. })
    ));
    assert!(matches!(
        run(".[]", "[1, 2]"),
        Err(MappingError::ManyOutputs { count: 2, .. })
    ));
}

#[test]
fn cache_compiles_each_file_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("m.jq");
    std::fs::write(&path, ".a").expect("write");
    let mut cache = MappingCache::new();
    let first = cache.get(&path).expect("compiles");
    std::fs::write(&path, "this does not compile (").expect("write");
    let second = cache.get(&path).expect("cached, not recompiled");
    assert!(Rc::ptr_eq(&first, &second));
    assert_eq!(cache.len(), 1);
}

#[test]
fn numbers_and_decimals_survive_the_round_trip() {
    let out = run(
        ".",
        r#"{"amount": 12.50, "big": 123456789012345678901234567890, "n": 3}"#,
    )
    .expect("runs");
    let text = serde_json::to_string(&out).expect("json");
    assert!(text.contains(r#""n":3"#), "{text}");
    assert!(text.contains(r#""amount":12.5"#), "{text}");
}

#[test]
fn as_list_iteration() {
    let out = run(r#"[as_list | .[] | .x]"#, r#"[{"x": 1}, {"x": 2}]"#).expect("runs");
    assert_eq!(serde_json::to_string(&out).expect("json"), "[1,2]");
    let out = run(
        r#"{r: ([.[] | {(.k): .v}] | add)}"#,
        r#"[{"k": "a", "v": 1}]"#,
    )
    .expect("runs");
    assert_eq!(
        serde_json::to_string(&out).expect("json"),
        r#"{"r":{"a":1}}"#
    );
}

#[test]
fn indexing_null_is_an_error_in_jaq_so_mappings_guard_it() {
    // jaq differs from jq here: `null | .b` raises. Mappings write `(.a.b)? // null`.
    assert!(run(".a.b", r#"{"x": 1}"#).is_err());
    let out = run("(.a.b)? // null", r#"{"x": 1}"#).expect("guarded");
    assert_eq!(out, Tree::Null);
}
