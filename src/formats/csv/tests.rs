use super::*;

#[test]
fn delimited_with_header_map_quoting_and_round_trip() {
    let text = "Invoice No;Amount;Note\nA-1;12,50;\"semi;colon \"\"quoted\"\"\"\nA-2;3,00;plain\n";
    let settings = Settings {
        delimiter: ';',
        header_map: [("Invoice No".to_owned(), "invoice".to_owned())].into(),
        ..Settings::default()
    };
    let tree = parse(text.as_bytes(), &settings).expect("parses");
    let rows = tree.get("rows").and_then(Tree::as_list).expect("rows");
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].get("invoice").and_then(Tree::as_str), Some("A-1"));
    assert_eq!(
        rows[0].get("Note").and_then(Tree::as_str),
        Some("semi;colon \"quoted\"")
    );
    let written = write(&tree, &settings).expect("writes");
    assert!(written.starts_with("Invoice No;Amount;Note\n"), "{written}");
    assert_eq!(
        parse(written.as_bytes(), &settings).expect("reparses"),
        tree
    );
}

#[test]
fn ragged_rows_are_errors_with_a_line() {
    let err = parse(b"a,b\n1,2\n3,4,5\n", &Settings::default()).expect_err("ragged");
    let CsvError::Syntax { position, .. } = &err else {
        panic!("syntax error expected")
    };
    assert_eq!(position.line, 3, "{err}");
}

fn abi_layout() -> FixedWidth {
    let field = |name: &str, start, length, right| FieldLayout {
        name: name.into(),
        start,
        length,
        right,
        pad: if right { '0' } else { ' ' },
    };
    FixedWidth {
        record_type: Some([1, 2]),
        line_length: Some(80),
        records: vec![
            RecordLayout {
                name: "header".into(),
                code: Some("A0".into()),
                fields: vec![field("filer", 3, 3, false), field("entry", 6, 8, false)],
            },
            RecordLayout {
                name: "line".into(),
                code: Some("40".into()),
                fields: vec![field("hts", 3, 10, false), field("value", 13, 10, true)],
            },
        ],
    }
}

#[test]
fn fixed_width_records_by_type_code() {
    let settings = Settings {
        fixed_width: Some(abi_layout()),
        ..Settings::default()
    };
    let text = format!(
        "{:<80}\n{:<80}\n",
        "A0ABC1234567X", "4084672920000000012500"
    );
    let tree = parse(text.as_bytes(), &settings).expect("parses");
    let rows = tree.get("rows").and_then(Tree::as_list).expect("rows");
    assert_eq!(rows[0].get("record").and_then(Tree::as_str), Some("header"));
    assert_eq!(
        rows[0].get("entry").and_then(Tree::as_str),
        Some("1234567X")
    );
    assert_eq!(
        rows[1].get("hts").and_then(Tree::as_str),
        Some("8467292000")
    );
    assert_eq!(rows[1].get("value").and_then(Tree::as_str), Some("12500"));
    let written = write(&tree, &settings).expect("writes");
    assert_eq!(written, text);
}

#[test]
fn fixed_width_errors_name_line_and_column() {
    let settings = Settings {
        fixed_width: Some(abi_layout()),
        ..Settings::default()
    };
    let err = parse(b"A0ABC1234567X\n40846729\n", &settings).expect_err("short line");
    let CsvError::Syntax { position, reason } = &err else {
        panic!("syntax error expected")
    };
    assert_eq!(position.line, 2);
    assert_eq!(position.column, 9);
    assert!(reason.contains("hts"), "{reason}");
    let err = parse(b"ZZ\n", &settings).expect_err("unknown type");
    assert!(err.to_string().contains("line 1"), "{err}");
    let tree: Tree = serde_json::from_str(
        r#"{"rows": [{"record": "line", "hts": "12345678901", "value": "1"}]}"#,
    )
    .expect("json");
    let err = write(&tree, &settings).expect_err("too long");
    assert!(err.to_string().contains(".rows[0].hts"), "{err}");
}
