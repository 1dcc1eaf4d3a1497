use super::*;

mod arbitrary;

#[test]
fn position_counts_lines_and_characters() {
    let input = "ab\ncé\nxyz".as_bytes();
    let p = Position::at(input, 6);
    assert_eq!((p.line, p.column, p.offset), (2, 3, 6));
    assert_eq!(
        p.with_segment(4).to_string(),
        "segment 4, line 2, column 3 (byte 6)"
    );
    assert_eq!(Position::at(input, 999).offset, input.len());
}

#[test]
fn tree_keeps_key_order_through_json_and_jaq() {
    let text = r#"{"z":1,"a":{"y":"t","b":[true,null,2.5]}}"#;
    let tree: Tree = serde_json::from_str(text).expect("parses");
    assert_eq!(serde_json::to_string(&tree).expect("writes"), text);
    assert_eq!(Tree::from_val(&tree.to_val()), tree);
    let mut t = Tree::map();
    t.insert("k", Tree::text("1"));
    t.insert("k", Tree::text("2"));
    assert_eq!(t, Tree::Map(vec![("k".into(), Tree::text("2"))]));
}

#[test]
fn json_codec_reports_line_and_column() {
    let err = CodecSettings::default_for(Format::Json)
        .parse(b"{\n  \"a\": 1,\n  \"b\": ]\n}")
        .expect_err("bad JSON");
    let FormatError::Json(json::JsonError::Syntax { position, .. }) = &err else {
        panic!("json error expected: {err}")
    };
    assert_eq!(position.line, 3);
    assert_eq!(position.column, 8);
    assert_eq!(position.offset, 19);
}

#[test]
fn every_format_round_trips_through_its_own_writer() {
    let cases: [(Format, &str); 5] = [
        (
            Format::Edifact,
            "UNA:+.?*'UNB+UNOC:4+S+R+20260101:1200+1'UNH+1+X:D:96B:UN'UNT+2+1'UNZ+1+1'",
        ),
        (
            Format::X12,
            "ISA*00*          *00*          *ZZ*S              *ZZ*R              *260101*1200*U*00401*000000001*0*P*>~GS*QM*S*R*20260101*1200*1*X*004010~ST*214*1~SE*2*1~GE*1*1~IEA*1*000000001~",
        ),
        (Format::Xml, "<a x=\"1\"><b>t</b><b>u</b></a>"),
        (Format::Csv, "a,b\n1,\"x,y\"\n"),
        (Format::Json, r#"{"k":[1,"2",{"z":null}]}"#),
    ];
    for (format, input) in cases {
        let codec = CodecSettings::default_for(format);
        let tree = codec
            .parse(input.as_bytes())
            .unwrap_or_else(|e| panic!("{format}: {e}"));
        let written = codec
            .write(&tree)
            .unwrap_or_else(|e| panic!("{format}: {e}"));
        assert_eq!(codec.parse(&written).expect("reparses"), tree, "{format}");
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_large_parse_leaves_the_only_async_worker_free() {
    let (release, parked) = std::sync::mpsc::channel::<()>();
    let parse = tokio::spawn(off_worker(INLINE_PARSE_BYTES + 1, move || {
        parked.recv().is_ok()
    }));
    // Run inline, the parse would hold this runtime's one thread until released, and this
    // task would never be polled again to release it.
    tokio::task::yield_now().await;
    assert!(!parse.is_finished(), "the parse waits for its release");
    release.send(()).expect("the parse is waiting");
    assert!(parse.await.expect("joins"), "the parse was released");
}
