use super::*;

/// Parses under the default limits.
fn parse(input: &[u8]) -> Result<Tree, XmlError> {
    super::parse(input, &Limits::default())
}

const DOC: &str = r#"<?xml version="1.0"?>
<md:MetaData xmlns:md="urn:md" xmlns="urn:dec">
  <md:Type>RES</md:Type>
  <Response>
    <FunctionCode>01</FunctionCode>
    <Amount currencyID="GBP">12.50</Amount>
    <Pointer><Code>42A</Code></Pointer>
    <Pointer><Code>67A</Code></Pointer>
    <Note>a &amp; b &lt;c&gt; &#233;</Note>
    <Empty/>
  </Response>
</md:MetaData>"#;

#[test]
fn parses_into_the_tree_with_namespaces_attributes_and_repeats() {
    let tree = parse(DOC.as_bytes()).expect("parses");
    let root = tree.get("md:MetaData").expect("root kept with its prefix");
    assert_eq!(root.get("@xmlns:md").and_then(Tree::as_str), Some("urn:md"));
    assert_eq!(root.get("@xmlns").and_then(Tree::as_str), Some("urn:dec"));
    let response = root.get("Response").expect("Response");
    assert_eq!(
        response.get("FunctionCode").and_then(Tree::as_str),
        Some("01")
    );
    let amount = response.get("Amount").expect("Amount");
    assert_eq!(
        amount.get("@currencyID").and_then(Tree::as_str),
        Some("GBP")
    );
    assert_eq!(amount.get("#text").and_then(Tree::as_str), Some("12.50"));
    assert_eq!(
        response
            .get("Pointer")
            .and_then(Tree::as_list)
            .map(<[Tree]>::len),
        Some(2)
    );
    assert_eq!(
        response.get("Note").and_then(Tree::as_str),
        Some("a & b <c> é")
    );
    assert_eq!(response.get("Empty").and_then(Tree::as_str), Some(""));
}

#[test]
fn writes_back_to_the_same_tree() {
    let tree = parse(DOC.as_bytes()).expect("parses");
    for indent in [0, 2] {
        let text = write(
            &tree,
            &Settings {
                indent,
                ..Settings::default()
            },
        )
        .expect("writes");
        assert_eq!(parse(text.as_bytes()).expect("reparses"), tree, "{text}");
    }
}

#[test]
fn declared_namespaces_are_written_and_undeclared_prefixes_refused() {
    let tree: Tree =
        serde_json::from_str(r#"{"md:MetaData": {"md:Type": "DEC", "Declaration": {"ID": "1"}}}"#)
            .expect("json");
    let err = write(&tree, &Settings::default()).expect_err("md undeclared");
    assert!(err.to_string().contains("prefix 'md'"), "{err}");
    let settings = Settings {
        namespaces: [
            ("md".to_owned(), "urn:md".to_owned()),
            (String::new(), "urn:dec".to_owned()),
        ]
        .into(),
        indent: 0,
        ..Settings::default()
    };
    let text = write(&tree, &settings).expect("writes");
    assert!(
        text.contains(r#"<md:MetaData xmlns="urn:dec" xmlns:md="urn:md">"#),
        "{text}"
    );
    assert!(
        text.contains("<md:Type>DEC</md:Type><Declaration><ID>1</ID></Declaration>"),
        "{text}"
    );
}

#[test]
fn parse_errors_name_line_and_column() {
    let err = parse(b"<a>\n  <b>text</c>\n</a>").expect_err("mismatched");
    let XmlError::Syntax { position, .. } = &err else {
        panic!("syntax error expected")
    };
    assert_eq!(position.line, 2, "{err}");
    assert!(position.column > 1, "{err}");
    let err = parse(b"<a><b></b>").expect_err("unclosed");
    assert!(err.to_string().contains("<a>"), "{err}");
    let err = parse(b"<a>&nbsp;</a>").expect_err("unknown entity");
    assert!(err.to_string().contains("nbsp"), "{err}");
}

/// Found by the fuzzer (fuzz/regressions/xml/at_sign_element): an element named `@x` read into
/// the tree as an attribute and was written back as `<a @x="">`, which no reader accepts.
#[test]
fn names_outside_the_xml_name_production_are_refused_both_ways() {
    let err = parse(b"<a>\n <@gency/>\n</a>").expect_err("element named @gency");
    let XmlError::Syntax { position, reason } = &err else {
        panic!("syntax error expected")
    };
    assert_eq!(position.line, 2, "{err}");
    assert!(
        reason.contains("'@gency' is not an XML element name"),
        "{err}"
    );
    let err = parse(b"<a x&y=\"1\"/>").expect_err("attribute x&y");
    assert!(err.to_string().contains("x&y"), "{err}");
    parse("<é.a-1 _b:c=\"1\"><n_2/></é.a-1>".as_bytes()).expect("names with -, ., digits");

    let tree = Tree::Map(vec![(
        "a".into(),
        Tree::Map(vec![
            ("#text".into(), Tree::text("t")),
            ("b c".into(), Tree::text("x")),
        ]),
    )]);
    let err = write(&tree, &Settings::default()).expect_err("child 'b c'");
    assert!(err.to_string().contains(".a.b c"), "{err}");
    assert!(err.to_string().contains("not an XML name"), "{err}");
}
