use super::ack::{self, AckOptions};
use super::envelope::{self, IssueKind, Level};
use super::*;

/// Parses under the default limits.
fn parse(text: &str) -> Result<Document<'_>, X12Error> {
    super::parse(text, &Limits::default())
}

const CLEAN: &str = "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *261127*1200*U*00401*000000042*0*P*>~\nGS*QM*SENDER*RECEIVER*20261127*1200*42*X*004010~\nST*214*0001~\nB10*PRO1*SHIP1*SCAC~\nLX*1~\nAT7*X1*NS***20261127*1200*LT~\nSE*5*0001~\nGE*1*42~\nIEA*1*000000042~\n";

#[test]
fn separators_come_from_the_fixed_width_isa() {
    let doc = parse(CLEAN).expect("parses");
    assert!(doc.isa_fixed_width);
    assert_eq!(doc.separators.element, b'*');
    assert_eq!(doc.separators.component, b'>');
    assert_eq!(doc.separators.segment, b'~');
    assert_eq!(
        doc.separators.repetition, None,
        "00401 has no repetition separator"
    );
    assert!(envelope::check(&doc).issues.is_empty());
}

#[test]
fn other_separators_and_repetition_from_00402() {
    let text = CLEAN
        .replace('*', "|")
        .replace("|U|00401|", "|^|00402|")
        .replace("|>~", "|:!")
        .replace('~', "!")
        .replace("B10|PRO1", "B10|A^B|C:D");
    let doc = parse(&text).expect("parses");
    assert_eq!(doc.separators.element, b'|');
    assert_eq!(doc.separators.component, b':');
    assert_eq!(doc.separators.segment, b'!');
    assert_eq!(doc.separators.repetition, Some(b'^'));
    let tree = doc.to_tree();
    let b10 = &tree
        .get("segments")
        .and_then(Tree::as_list)
        .expect("segments")[3];
    assert_eq!(
        serde_json::to_string(b10).expect("json"),
        r#"["B10",{"repeat":["A","B"]},["C","D"],"SHIP1","SCAC"]"#
    );
    let settings = Settings {
        pad_isa: false,
        ..Settings::default()
    };
    let written = write(&tree, &settings).expect("writes");
    assert_eq!(parse(&written).expect("reparses").to_tree(), tree);
}

#[test]
fn trimmed_isa_is_read_and_reported() {
    let text = "ISA*00* *00* *ZZ*S*ZZ*R*261127*1200*U*00401*7*0*P*:~GS*QM*S*R*20261127*1200*7*X*004010~ST*214*1~B10*A*B*C~SE*3*1~GE*1*7~IEA*1*7~";
    let doc = parse(text).expect("parses");
    assert!(!doc.isa_fixed_width);
    assert_eq!(doc.separators.component, b':');
    let ic = envelope::check(&doc);
    assert_eq!(ic.issues.len(), 1);
    assert_eq!(ic.issues[0].kind, IssueKind::IsaNotFixedWidth);
}

#[test]
fn control_numbers_and_counts_are_checked() {
    let bad = CLEAN
        .replace("SE*5*0001", "SE*6*0002")
        .replace("GE*1*42", "GE*2*43")
        .replace("IEA*1*000000042", "IEA*2*000000041");
    let ic = envelope::check(&parse(&bad).expect("parses"));
    let at = |level: Level| {
        ic.issues
            .iter()
            .filter(|i| i.level == level)
            .map(|i| i.kind.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        at(Level::Set("0001".into())),
        vec![
            IssueKind::CountMismatch {
                declared: "6".into(),
                actual: 5
            },
            IssueKind::ControlNumberMismatch {
                header: "0001".into(),
                trailer: "0002".into()
            }
        ]
    );
    assert_eq!(at(Level::Group("42".into())).len(), 2);
    assert_eq!(at(Level::Interchange).len(), 2);
    assert_eq!(ic.issues[0].segment, 7);
}

#[test]
fn parse_errors_carry_positions() {
    let err = parse("ISA*00*").expect_err("short ISA");
    assert!(err.to_string().contains("segment 1"), "{err}");
    let err = parse(&CLEAN.replace("LX*1~", "L@X*1~")).expect_err("bad tag");
    let X12Error::Syntax { position, reason } = err else {
        panic!("syntax error expected")
    };
    assert_eq!(position.segment, Some(5));
    assert_eq!(position.line, 5);
    assert!(reason.contains("L@X"), "{reason}");
    let err = parse(CLEAN.trim_end().trim_end_matches('~')).expect_err("unterminated");
    assert!(err.to_string().contains("segment 9"), "{err}");
}

/// Found by the fuzzer (fuzz/regressions/x12/unterminated_before_wide_character): quoting the
/// start of an unterminated segment cut a multi-byte character in two and panicked.
#[test]
fn errors_quote_whole_characters_and_separators_are_ascii() {
    let err = parse(&format!("{}\u{1f}\u{ff2a}k", CLEAN.trim_end())).expect_err("unterminated");
    assert!(err.to_string().contains("not terminated"), "{err}");
    assert!(err.to_string().contains("segment 10"), "{err}");

    let wide = CLEAN.replacen('*', "\u{e9}", 1);
    let err = parse(&wide).expect_err("non-ASCII element separator");
    assert!(err.to_string().contains("element separator"), "{err}");
}

#[test]
fn writer_refuses_separators_inside_values() {
    let doc = parse(CLEAN).expect("parses");
    let mut tree = doc.to_tree();
    if let Some(Tree::List(segments)) = tree.get("segments") {
        let mut segments = segments.clone();
        segments[3] = Tree::List(vec![Tree::text("B10"), Tree::text("A*B")]);
        tree.insert("segments", Tree::List(segments));
    }
    let err = write(&tree, &Settings::default()).expect_err("cannot escape");
    assert!(err.to_string().contains(".segments[3][1]"), "{err}");
}

#[test]
fn the_997_accepts_clean_sets_and_rejects_broken_ones() {
    let options = AckOptions {
        control_number: 9,
        date: "20261127".into(),
        time: "1300".into(),
    };
    let tree = ack::generate(&parse(CLEAN).expect("parses"), &options).expect("997");
    let text = write(&tree, &Settings::default()).expect("writes");
    assert!(text.starts_with("ISA*00*          *00*          *ZZ*RECEIVER       *ZZ*SENDER         *261127*1300*U*00401*000000009*0*P*>~"), "{text}");
    assert!(
        text.contains("AK1*QM*42~\nAK2*214*0001~\nAK5*A~\nAK9*A*1*1*1~"),
        "{text}"
    );
    let reparsed = parse(&text).expect("997 parses");
    assert!(
        envelope::check(&reparsed).issues.is_empty(),
        "{:?}",
        envelope::check(&reparsed).issues
    );

    let broken = CLEAN.replace("SE*5*0001", "SE*4*0001");
    let tree = ack::generate(&parse(&broken).expect("parses"), &options).expect("997");
    let text = write(&tree, &Settings::default()).expect("writes");
    assert!(text.contains("AK5*R*4~"), "{text}");
    assert!(text.contains("AK9*R*1*1*0~"), "{text}");

    let fa = write(
        &ack::generate(&parse(CLEAN).expect("parses"), &options).expect("997"),
        &Settings::default(),
    )
    .expect("writes");
    assert_eq!(
        ack::generate(&parse(&fa).expect("parses"), &options).expect_err("no 997 for a 997"),
        ack::AckError::AckForAck
    );
}
