use super::directory::Directories;
use super::envelope::{self, IssueKind, Level};
use super::*;

/// Parses under the default limits.
fn parse(text: &str) -> Result<Document<'_>, EdifactError> {
    super::parse(text, &Limits::default())
}

fn fixture(path: &str) -> String {
    let full = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

#[test]
fn una_sets_every_service_character() {
    let doc = parse("UNA#|,! \"UNH|1|X#1\"FTX|a!|b!#c!!\"").expect("parses");
    assert_eq!(doc.separators.component, b'#');
    assert_eq!(doc.separators.element, b'|');
    assert_eq!(doc.separators.decimal, b',');
    assert_eq!(doc.separators.release, Some(b'!'));
    assert_eq!(doc.separators.repetition, None);
    assert_eq!(doc.separators.segment, b'"');
    let ftx = doc.segment(1).expect("FTX");
    assert_eq!(ftx.get(1, 0), Some("a|b#c!"));
}

#[test]
fn release_character_escapes_every_separator() {
    let text = "UNA:+.? 'IFT+3+NO MORE ?' FLIGHTS+A??+B?:C?+D'";
    let doc = parse(text).expect("parses");
    let seg = doc.segment(0).expect("IFT");
    assert_eq!(seg.get(2, 0), Some("NO MORE ' FLIGHTS"));
    assert_eq!(seg.get(3, 0), Some("A?"));
    assert_eq!(seg.get(4, 0), Some("B:C+D"));
}

#[test]
fn composites_and_repetitions_are_kept_apart() {
    let doc = parse("UNA:+.?*'UNB+UNOC:4+A*B:1+C'").expect("parses");
    let unb = doc.segment(0).expect("UNB");
    assert_eq!(unb.get(1, 1), Some("4"));
    let positions = unb.positions();
    assert_eq!(positions.len(), 3);
    assert_eq!(
        positions[1].len(),
        2,
        "A and B:1 are two repetitions of element 2"
    );
    assert_eq!(positions[1][1].components().len(), 2);
    let tree = doc.to_tree();
    let written = write(&tree, &Settings::default()).expect("writes");
    assert_eq!(parse(&written).expect("reparses").to_tree(), tree);
}

#[test]
fn syntax_4_without_una_uses_the_asterisk_for_repetition() {
    let doc = parse("UNB+UNOC:4+A*B+C'").expect("parses");
    assert_eq!(doc.separators.repetition, Some(b'*'));
    assert_eq!(doc.segment(0).expect("UNB").positions()[1].len(), 2);
    let doc3 = parse("UNB+UNOC:3+A*B+C'").expect("parses");
    assert_eq!(doc3.segment(0).expect("UNB").get(2, 0), Some("A*B"));
}

#[test]
fn writer_escapes_service_characters() {
    let tree = Tree::Map(vec![
        ("una".into(), Tree::Bool(false)),
        (
            "segments".into(),
            Tree::List(vec![Tree::List(vec![
                Tree::text("FTX"),
                Tree::text("O'Neill + Co: 50? off*"),
            ])]),
        ),
    ]);
    let settings = Settings {
        newline: false,
        ..Settings::default()
    };
    let text = write(&tree, &settings).expect("writes");
    assert_eq!(text, "FTX+O?'Neill ?+ Co?: 50?? off?*'");
    assert_eq!(
        parse(&text).expect("reparses").to_tree().get("segments"),
        tree.get("segments")
    );
}

#[test]
fn writer_refuses_to_corrupt_without_release_character() {
    let tree = Tree::Map(vec![
        (
            "separators".into(),
            Tree::Map(vec![("release".into(), Tree::Null)]),
        ),
        (
            "segments".into(),
            Tree::List(vec![Tree::List(vec![Tree::text("FTX"), Tree::text("a+b")])]),
        ),
    ]);
    let err = write(&tree, &Settings::default()).expect_err("cannot escape");
    assert!(err.to_string().contains(".segments[0][1]"), "{err}");
}

#[test]
fn parse_errors_name_segment_line_and_column() {
    let err = parse("UNH+1+X:D:96B:UN'\nBGM+1'\nDTM+137").expect_err("unterminated");
    let EdifactError::Syntax { position, reason } = err else {
        panic!("expected a syntax error");
    };
    assert_eq!(position.segment, Some(3));
    assert_eq!(position.line, 3);
    assert_eq!(position.column, 1);
    assert_eq!(position.offset, 25);
    assert!(reason.contains("not terminated"), "{reason}");

    let err = parse("UNH+1'\nB@M+1'").expect_err("bad tag");
    assert!(
        err.to_string().contains("segment 2, line 2, column 1"),
        "{err}"
    );
    assert!(err.to_string().contains("B@M"), "{err}");

    let err = parse("UNA:+.? 'FTX+abc?").expect_err("dangling release");
    assert!(err.to_string().contains("release character"), "{err}");
}

/// Found by the fuzzer (fuzz/regressions/edifact/una_after_line_break): a `UNA` after a line
/// break was taken for a segment, which the writer then put first, where it reads as the advice.
#[test]
fn una_is_the_advice_after_leading_line_breaks_and_never_a_segment() {
    let doc = parse("\r\nUNA#|,! \"UNH|1\"").expect("parses");
    assert!(doc.una);
    assert_eq!(doc.separators.element, b'|');
    assert_eq!(doc.segment(0).map(|s| s.tag()), Some("UNH"));

    let err = parse("UNH+1'\nUNA+x'").expect_err("UNA inside");
    assert!(
        err.to_string().contains("invalid segment tag 'UNA'"),
        "{err}"
    );
    assert!(err.to_string().contains("segment 2"), "{err}");

    let tree = Tree::Map(vec![(
        "segments".into(),
        Tree::List(vec![Tree::List(vec![Tree::text("UNA"), Tree::text("x")])]),
    )]);
    let err = write(&tree, &Settings::default()).expect_err("UNA segment");
    assert!(err.to_string().contains(".segments[0]"), "{err}");
}

#[test]
fn envelope_counts_and_references_are_checked() {
    let good = "UNB+UNOC:3+S+R+260101:1200+42'UNH+1+ORDERS:D:96A:UN'BGM+220+X'UNT+3+1'UNZ+1+42'";
    assert!(
        envelope::check(&parse(good).expect("parses"))
            .issues
            .is_empty()
    );

    let bad = "UNB+UNOC:3+S+R+260101:1200+42'UNH+1+ORDERS:D:96A:UN'BGM+220+X'UNT+4+2'UNZ+2+43'";
    let ic = envelope::check(&parse(bad).expect("parses"));
    let kinds: Vec<&IssueKind> = ic.issues.iter().map(|i| &i.kind).collect();
    assert!(kinds.contains(&&IssueKind::CountMismatch {
        declared: "4".into(),
        actual: 3
    }));
    assert!(kinds.contains(&&IssueKind::ReferenceMismatch {
        header: "1".into(),
        trailer: "2".into()
    }));
    assert!(kinds.contains(&&IssueKind::CountMismatch {
        declared: "2".into(),
        actual: 1
    }));
    assert!(kinds.contains(&&IssueKind::ReferenceMismatch {
        header: "42".into(),
        trailer: "43".into()
    }));
    assert_eq!(ic.issues[0].segment, 4);
}

#[test]
fn groups_are_counted_by_unz_and_messages_by_une() {
    let text = "UNB+UNOA:4+S+R+20260101:1200+16'UNG+PAXLST+S+R+20260101:1200+7+UN+D:03B'UNH+1+PAXLST:D:03B:UN'BGM+10'UNT+3+1'UNE+1+7'UNZ+1+16'";
    let ic = envelope::check(&parse(text).expect("parses"));
    assert!(ic.issues.is_empty(), "{:?}", ic.issues);
    assert_eq!(ic.messages[0].group.as_deref(), Some("7"));
    let broken = text.replace("UNE+1+7", "UNE+2+8");
    let ic = envelope::check(&parse(&broken).expect("parses"));
    assert!(
        ic.issues
            .iter()
            .all(|i| i.level == Level::Group("7".into()))
    );
    assert_eq!(ic.issues.len(), 2);
}

#[test]
fn decimal_mark_is_read_either_way() {
    assert_eq!(
        parse_decimal("2500,50"),
        Some(rust_decimal::Decimal::new(250050, 2))
    );
    assert_eq!(
        parse_decimal("2500.50"),
        Some(rust_decimal::Decimal::new(250050, 2))
    );
    assert_eq!(parse_decimal("1,000,00"), None);
}

#[test]
fn generated_cusdec_fixture_passes_the_d96b_directory() {
    let dirs = Directories::shipped().expect("directories load");
    let text = fixture("tests/fixtures/partners/edifact-broker/outbound/cusdec.edi");
    let doc = parse(&text).expect("parses");
    let ic = envelope::check(&doc);
    assert!(ic.issues.is_empty(), "{:?}", ic.issues);
    let issues = dirs
        .validate(&doc, &ic.messages[0])
        .expect("D96B CUSDEC known");
    assert!(
        issues.is_empty(),
        "{}",
        issues
            .iter()
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn cusres_fixtures_pass_the_d96b_directory() {
    let dirs = Directories::shipped().expect("directories load");
    for name in ["cusres_accepted", "cusres_released", "cusres_rejected"] {
        let text = fixture(&format!(
            "tests/fixtures/partners/edifact-broker/inbound/{name}.edi"
        ));
        let doc = parse(&text).expect("parses");
        let ic = envelope::check(&doc);
        assert!(ic.issues.is_empty(), "{name}: {:?}", ic.issues);
        let issues = dirs
            .validate(&doc, &ic.messages[0])
            .expect("D96B CUSRES known");
        assert!(
            issues.is_empty(),
            "{name}: {}",
            issues
                .iter()
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

#[test]
fn directory_validation_reports_structure_and_element_errors() {
    let dirs = Directories::shipped().expect("directories load");
    // BGM is mandatory in CUSRES; DTM's qualifier is mandatory; XYZ is not a segment.
    let text = "UNH+1+CUSRES:D:96B:UN'DTM+:20260101:102'XYZ+1'UNT+4+1'";
    let doc = parse(text).expect("parses");
    let ic = envelope::check(&doc);
    let issues = dirs.validate(&doc, &ic.messages[0]).expect("known message");
    let codes: Vec<&str> = issues.iter().map(|i| i.code).collect();
    assert!(codes.contains(&"13"), "{issues:?}");
    assert!(codes.contains(&"14"), "{issues:?}");
    assert!(
        issues.iter().any(|i| i.tag == "DTM" && i.segment == 2),
        "{issues:?}"
    );
}

#[test]
fn contrl_accepts_clean_interchanges_and_rejects_broken_ones() {
    let options = contrl::ContrlOptions {
        control_reference: "9".into(),
        date: "260101".into(),
        time: "1200".into(),
    };
    let good = "UNB+UNOC:3+S:ZZ+R:ZZ+260101:1200+42++++1'UNH+1+ORDERS:D:96A:UN'BGM+220+X'UNT+3+1'UNZ+1+42'";
    let tree = contrl::generate(&parse(good).expect("parses"), &[], &options).expect("CONTRL");
    let text = write(
        &tree,
        &Settings {
            newline: false,
            una: false,
            ..Settings::default()
        },
    )
    .expect("writes");
    assert!(text.contains("UCI+42+S:ZZ+R:ZZ+8'"), "{text}");
    assert!(text.contains("UCM+1+ORDERS:D:96A:UN+7'"), "{text}");
    assert!(
        text.starts_with("UNB+UNOC:3+R:ZZ+S:ZZ+260101:1200+9'"),
        "{text}"
    );
    let reparsed = parse(&text).expect("CONTRL parses");
    assert!(envelope::check(&reparsed).issues.is_empty());

    let bad_message = good.replace("UNT+3+1", "UNT+5+1");
    let tree =
        contrl::generate(&parse(&bad_message).expect("parses"), &[], &options).expect("CONTRL");
    let text = write(&tree, &Settings::default()).expect("writes");
    assert!(text.contains("UCI+42+S:ZZ+R:ZZ+7'"), "{text}");
    assert!(text.contains("UCM+1+ORDERS:D:96A:UN+4+29'"), "{text}");

    let bad_interchange = good.replace("UNZ+1+42", "UNZ+1+41");
    let tree =
        contrl::generate(&parse(&bad_interchange).expect("parses"), &[], &options).expect("CONTRL");
    let text = write(&tree, &Settings::default()).expect("writes");
    assert!(text.contains("UCI+42+S:ZZ+R:ZZ+4+28'"), "{text}");

    let technical = good.replace("42++++1'", "42++++2'");
    let tree =
        contrl::generate(&parse(&technical).expect("parses"), &[], &options).expect("CONTRL");
    let text = write(&tree, &Settings::default()).expect("writes");
    assert!(
        !text.contains("UCM"),
        "a technical ack stops at UCI: {text}"
    );
}

#[test]
fn contrl_is_never_answered_with_contrl() {
    let text = "UNB+UNOC:4+S+R+20260101:1200+1'UNH+1+CONTRL:4:1:UN'UCI+5+R+S+8'UNT+3+1'UNZ+1+1'";
    let options = contrl::ContrlOptions {
        control_reference: "2".into(),
        date: "20260101".into(),
        time: "1200".into(),
    };
    assert_eq!(
        contrl::generate(&parse(text).expect("parses"), &[], &options).expect_err("refused"),
        contrl::ContrlError::ContrlForContrl
    );
}

#[test]
fn latin1_input_is_decoded_for_8_bit_syntax_levels() {
    let mut bytes = b"UNB+UNOC:3+S+R+260101:1200+1'FTX+K".to_vec();
    bytes.push(0xF6);
    bytes.extend_from_slice(b"lte'");
    let tree = parse_bytes(&bytes, &Limits::default()).expect("decodes");
    let text = serde_json::to_string(&tree).expect("json");
    assert!(text.contains("Költe"), "{text}");
    let err = parse_bytes(&[b'U', b'N', b'H', 0xFF], &Limits::default()).expect_err("not UNOC");
    assert!(err.to_string().contains("byte 3"), "{err}");
}
