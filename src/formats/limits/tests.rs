//! Each attack on the parsers, as a test: deep, wide, long and slow documents.

use std::time::Duration;

use tradehub_testkit::hostile;

use super::*;
use crate::formats::tree::MapBuilder;
use crate::formats::{Tree, csv, edifact, json, x12, xml};

fn limits(change: impl FnOnce(&mut Limits)) -> Limits {
    let mut limits = Limits::default();
    change(&mut limits);
    limits
}

#[test]
fn xml_nested_half_a_million_deep_stops_at_max_depth_with_its_position() {
    // 3.5 MB that overflowed the stack and killed the process.
    let doc = hostile::deep_xml(500_000);
    let err = xml::parse(&doc, &Limits::default()).expect_err("too deep");
    let xml::XmlError::Limit(e) = &err else {
        panic!("a limit error expected: {err}")
    };
    assert_eq!(e.limit, Limit::Depth);
    assert_eq!(e.position.offset, 256 * "<a>".len());
    assert_eq!(
        err.to_string(),
        "XML document too costly: limits.max_depth = 256 exceeded at line 1, column 769 (byte 768)"
    );
}

#[test]
fn json_nested_half_a_million_deep_stops_at_max_depth_with_its_position() {
    let doc = hostile::deep_json(500_000);
    let err = json::parse(&doc, &Limits::default()).expect_err("too deep");
    let json::JsonError::Limit(e) = &err else {
        panic!("a limit error expected: {err}")
    };
    assert_eq!(e.limit, Limit::Depth);
    assert_eq!(e.configured, "256");
    assert_eq!(e.position.offset, 256);
}

#[test]
fn depth_up_to_the_ceiling_parses_converts_and_drops_on_a_test_thread() {
    let deepest = limits(|l| l.max_depth = MAX_DEPTH_CEILING);
    let from_json = json::parse(&hostile::deep_json(MAX_DEPTH_CEILING), &deepest).expect("parses");
    let from_xml = xml::parse(&hostile::deep_xml(MAX_DEPTH_CEILING), &deepest).expect("parses");
    for tree in [from_json, from_xml] {
        let copy = Tree::from_val(&tree.to_val());
        assert_eq!(Tree::from_json(&copy.to_json()), tree);
        let text = serde_json::to_string(&tree).expect("serialises");
        assert!(text.len() > 2 * MAX_DEPTH_CEILING);
    }
    assert!(
        json::parse(&hostile::deep_json(MAX_DEPTH_CEILING + 1), &deepest).is_err(),
        "one level past the ceiling"
    );
}

#[test]
fn a_tree_a_million_levels_deep_drops_without_recursing() {
    let mut tree = Tree::Null;
    for level in 0..1_000_000 {
        tree = if level % 2 == 0 {
            Tree::List(vec![tree])
        } else {
            Tree::Map(vec![("k".into(), tree)])
        };
    }
    assert_eq!(tree.kind(), "object");
    drop(tree);
}

#[test]
fn a_quarter_million_siblings_parse_in_one_pass() {
    // 2.3 MB of XML and 2.7 MB of JSON that took 70 s and 75 s with a linear key search.
    let xml = xml::parse(&hostile::wide_xml(240_000), &Limits::default()).expect("parses");
    let Some(Tree::Map(children)) = xml.get("r") else {
        panic!("root map expected")
    };
    assert_eq!(children.len(), 240_000);
    assert_eq!(children[239_999].0, "k239999");
    let json = json::parse(&hostile::wide_json(240_000), &Limits::default()).expect("parses");
    let Tree::Map(entries) = &json else {
        panic!("object expected")
    };
    assert_eq!(entries.len(), 240_000);
    assert_eq!(entries[123_456].0, "k123456");
    assert_eq!(json.get("k239999"), Some(&Tree::Number("239999".into())));
}

#[test]
fn map_builder_keeps_first_place_and_last_value_past_its_index_threshold() {
    let mut map = MapBuilder::default();
    for i in 0..30 {
        map.insert(format!("k{}", i % 12), Tree::Number(i.to_string()));
    }
    let tree = map.finish();
    let Tree::Map(entries) = &tree else {
        panic!("map expected")
    };
    let keys: Vec<&str> = entries.iter().map(|(k, _)| k.as_str()).collect();
    let expected: Vec<String> = (0..12).map(|i| format!("k{i}")).collect();
    assert_eq!(keys, expected);
    assert_eq!(tree.get("k0"), Some(&Tree::Number("24".into())));
    assert_eq!(tree.get("k11"), Some(&Tree::Number("23".into())));
}

#[test]
fn xml_repeated_siblings_still_gather_past_the_index_threshold() {
    let mut doc = String::from("<r>");
    for i in 0..40 {
        doc.push_str(&format!("<k{}>{i}</k{}>", i % 10, i % 10));
    }
    doc.push_str("</r>");
    let tree = xml::parse(doc.as_bytes(), &Limits::default()).expect("parses");
    let root = tree.get("r").expect("root");
    let Tree::Map(children) = root else {
        panic!("map expected")
    };
    assert_eq!(children.len(), 10);
    let nines: Vec<&str> = root
        .get("k9")
        .and_then(Tree::as_list)
        .expect("k9 gathered")
        .iter()
        .filter_map(Tree::as_str)
        .collect();
    assert_eq!(nines, ["9", "19", "29", "39"]);
}

#[test]
fn an_oversize_value_is_refused_with_the_limit_and_where_it_starts() {
    let small = limits(|l| l.max_value_bytes = 100);
    let long = "x".repeat(101);
    let xml_err =
        xml::parse(format!("<a><b>{long}</b></a>").as_bytes(), &small).expect_err("value too long");
    assert!(
        xml_err
            .to_string()
            .contains("limits.max_value_bytes = 100 exceeded"),
        "{xml_err}"
    );
    let json_err = json::parse(format!("{{\"a\": \"{long}\"}}").as_bytes(), &small)
        .expect_err("value too long");
    let json::JsonError::Limit(e) = &json_err else {
        panic!("a limit error expected: {json_err}")
    };
    assert_eq!(e.limit, Limit::ValueBytes);
    let edi = format!("UNB+UNOC:3+S+R+260101:1200+1'FTX+{long}'");
    let edi_err = edifact::parse(&edi, &small).expect_err("component too long");
    let edifact::EdifactError::Limit(e) = &edi_err else {
        panic!("a limit error expected: {edi_err}")
    };
    assert_eq!((e.limit, e.position.offset), (Limit::ValueBytes, 33));
    assert_eq!(e.position.segment, Some(2));
    let csv_settings = csv::Settings {
        limits: small,
        ..csv::Settings::default()
    };
    let csv_err = csv::parse(format!("a,b\n1,{long}\n").as_bytes(), &csv_settings)
        .expect_err("field too long");
    assert!(
        csv_err
            .to_string()
            .contains("max_value_bytes = 100 exceeded at line 2"),
        "{csv_err}"
    );
}

#[test]
fn too_many_nodes_are_refused_in_the_segment_that_passes_the_count() {
    let few = limits(|l| l.max_nodes = 1500);
    let doc = hostile::many_element_edifact(2, 1000);
    let text = std::str::from_utf8(&doc).expect("ASCII");
    let err = edifact::parse(text, &few).expect_err("too many elements");
    let edifact::EdifactError::Limit(e) = &err else {
        panic!("a limit error expected: {err}")
    };
    assert_eq!(e.limit, Limit::Nodes);
    // UNB holds 8 components, UNH 6, the first FTX 1001: the second FTX passes 1500.
    assert_eq!(e.position.segment, Some(4));
    assert!(
        err.to_string()
            .contains("limits.max_nodes = 1500 exceeded at segment 4"),
        "{err}"
    );
    let xml_err = xml::parse(&hostile::wide_xml(2000), &few).expect_err("too many elements");
    assert!(
        xml_err.to_string().contains("limits.max_nodes = 1500"),
        "{xml_err}"
    );
    let x12 = "ISA*00*          *00*          *ZZ*S              *ZZ*R              *260101*1200*U*00401*000000001*0*P*>~";
    let x12_err = x12::parse(x12, &limits(|l| l.max_nodes = 10)).expect_err("too many");
    assert!(
        x12_err
            .to_string()
            .contains("limits.max_nodes = 10 exceeded at segment 1"),
        "{x12_err}"
    );
}

#[test]
fn an_oversize_document_is_refused_before_it_is_read() {
    let tiny = limits(|l| l.max_document_bytes = 10);
    let err = json::parse(b"[1, 2, 3, 4, 5]", &tiny).expect_err("too large");
    assert_eq!(
        err.to_string(),
        "JSON document too costly: limits.max_document_bytes = 10 exceeded at line 1, column 11 (byte 10)"
    );
    assert!(xml::parse(b"<a>0123456789</a>", &tiny).is_err());
}

#[test]
fn a_parse_past_its_time_budget_stops_and_names_the_budget() {
    let hurried = limits(|l| l.time_budget = Duration::from_nanos(1));
    for (err, what) in [
        (
            json::parse(&hostile::wide_json(5000), &hurried)
                .map(drop)
                .map_err(|e| e.to_string()),
            "JSON",
        ),
        (
            xml::parse(&hostile::wide_xml(5000), &hurried)
                .map(drop)
                .map_err(|e| e.to_string()),
            "XML",
        ),
    ] {
        let err = err.expect_err(what);
        assert!(
            err.contains("limits.time_budget = 1ns exceeded"),
            "{what}: {err}"
        );
    }
}

#[test]
fn limits_that_disable_a_bound_or_pass_the_ceiling_are_refused() {
    assert_eq!(Limits::default().validate(), Ok(()));
    assert_eq!(
        limits(|l| l.max_nodes = 0).validate(),
        Err("limits.max_nodes must be at least 1".into())
    );
    assert_eq!(
        limits(|l| l.max_depth = MAX_DEPTH_CEILING + 1).validate(),
        Err("limits.max_depth = 1025 is above the ceiling of 1024".into())
    );
    assert!(
        limits(|l| l.time_budget = Duration::ZERO)
            .validate()
            .is_err()
    );
}

#[test]
fn limits_read_from_a_codec_section_with_defaults_for_the_rest() {
    let codec: crate::formats::CodecSettings =
        toml::from_str("kind = \"xml\"\n[limits]\nmax_depth = 64\ntime_budget = \"2s\"\n")
            .expect("parses");
    assert_eq!(codec.limits().max_depth, 64);
    assert_eq!(codec.limits().time_budget, Duration::from_secs(2));
    assert_eq!(codec.limits().max_nodes, Limits::default().max_nodes);
}
