//! Hostile input: arbitrary bytes and real samples with random edits never panic a codec, they give
//! a tree or an error; and what a codec reads from a generated document, it writes so that it
//! reads back the same. The fuzz targets (`fuzz/`) explore further; these run with every test.

use std::collections::BTreeMap;

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::{Index, select};

use super::*;

const FORMATS: [Format; 5] = [
    Format::Edifact,
    Format::X12,
    Format::Xml,
    Format::Csv,
    Format::Json,
];

/// A few real documents of each format, from `tests/data` and the partner fixtures.
const SAMPLES: [(Format, &str); 10] = [
    (
        Format::Edifact,
        "tests/data/edifact/samples/php-edifact_example_release_character.edi",
    ),
    (
        Format::Edifact,
        "tests/fixtures/partners/carrier-iftsta/inbound/iftsta_cleared_syntax4.edi",
    ),
    (
        Format::X12,
        "tests/data/x12/samples/X12_004010_315_ocean_status.edi",
    ),
    (
        Format::X12,
        "tests/data/x12/samples/X12_004060_856_ship_notice.edi",
    ),
    (
        Format::Xml,
        "tests/fixtures/partners/uk-cds/inbound/02_DMSRCV_prefixed.xml",
    ),
    (
        Format::Xml,
        "tests/fixtures/partners/uk-cds/outbound/declaration.xml",
    ),
    (Format::Csv, "tests/fixtures/screening/eval_set.csv"),
    (
        Format::Json,
        "tests/fixtures/partners/carrier-dcsa/inbound/customs_release.json",
    ),
    (
        Format::Json,
        "tests/fixtures/partners/rest-broker/inbound/callback_rejected.json",
    ),
    (
        Format::Json,
        "tests/fixtures/shipments/valid_export_de_us_sea.json",
    ),
];

fn sample(path: &str) -> Vec<u8> {
    let full = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    std::fs::read(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

/// Parses, and writes what parsed: either may fail, neither may panic.
fn read_and_write(format: Format, input: &[u8]) {
    let codec = CodecSettings::default_for(format);
    if let Ok(tree) = codec.parse(input) {
        let _ = codec.write(&tree);
    }
}

/// An edit: replace `removed` bytes at `at` with `inserted`.
fn edit() -> impl Strategy<Value = (Index, usize, Vec<u8>)> {
    (any::<Index>(), 0usize..16, vec(any::<u8>(), 0..8))
}

/// `input` parsed, written and parsed again gives the same tree.
fn round_trips(format: Format, input: &str) -> Result<(), TestCaseError> {
    let codec = CodecSettings::default_for(format);
    let tree = codec
        .parse(input.as_bytes())
        .map_err(|e| TestCaseError::fail(format!("{format} generated input: {e}\n{input}")))?;
    let written = codec
        .write(&tree)
        .map_err(|e| TestCaseError::fail(format!("{format} write: {e}")))?;
    let again = codec.parse(&written).map_err(|e| {
        TestCaseError::fail(format!(
            "{format} written output: {e}\n{}",
            String::from_utf8_lossy(&written)
        ))
    })?;
    prop_assert_eq!(again, tree, "{}", String::from_utf8_lossy(&written));
    Ok(())
}

/// EDIFACT with syntax 4 service characters; values hold service characters, released with `?`.
fn edifact_document() -> impl Strategy<Value = String> {
    let value = "[A-Za-z0-9 .,/:+?'*-]{1,10}".prop_map(|v| {
        v.chars().fold(String::new(), |mut out, c| {
            if ":+?'*".contains(c) {
                out.push('?');
            }
            out.push(c);
            out
        })
    });
    let element = vec(value, 1..4).prop_map(|components| components.join(":"));
    let segment = ("[A-T][A-Z]{2}", vec(element, 1..5))
        .prop_map(|(tag, elements)| format!("{tag}+{}'", elements.join("+")));
    vec(segment, 1..8).prop_map(|segments| format!("UNA:+.?*'{}", segments.concat()))
}

/// X12 after a fixed-width ISA (`*` elements, `>` components, `~` segments).
fn x12_document() -> impl Strategy<Value = String> {
    const ISA: &str = "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *261127*1200*U*00401*000000042*0*P*>~";
    let element = vec("[A-Za-z0-9 ./-]{1,8}", 1..3).prop_map(|components| components.join(">"));
    let segment = ("[A-HJ-Z][A-Z0-9]{1,2}", vec(element, 1..6))
        .prop_map(|(tag, elements)| format!("{tag}*{}~", elements.join("*")));
    vec(segment, 0..8).prop_map(|segments| format!("{ISA}{}", segments.concat()))
}

fn xml_text() -> impl Strategy<Value = String> {
    "[A-Za-z0-9&<>\"'é]([A-Za-z0-9 &<>\"'é]{0,10}[A-Za-z0-9&<>\"'é])?"
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn xml_attributes() -> impl Strategy<Value = BTreeMap<String, String>> {
    proptest::collection::btree_map("[a-z]{1,4}", xml_text(), 0..3)
}

/// An element with attributes and either text or child elements (mixed content is not kept).
fn xml_element() -> impl Strategy<Value = String> {
    let leaf = ("[a-z][a-z0-9]{0,4}", xml_attributes(), xml_text()).prop_map(
        |(name, attributes, text): (String, _, String)| {
            element(&name, &attributes, &xml_escape(&text))
        },
    );
    leaf.prop_recursive(4, 24, 4, |inner| {
        ("[a-z][a-z0-9]{0,4}", xml_attributes(), vec(inner, 1..4)).prop_map(
            |(name, attributes, children): (String, _, Vec<String>)| {
                element(&name, &attributes, &children.concat())
            },
        )
    })
}

fn element(name: &str, attributes: &BTreeMap<String, String>, content: &str) -> String {
    let attributes: String = attributes
        .iter()
        .map(|(k, v)| format!(" {k}=\"{}\"", xml_escape(v)))
        .collect();
    format!("<{name}{attributes}>{content}</{name}>")
}

/// A header of distinct names and rows of quoted values holding delimiters, quotes and breaks.
fn csv_document() -> impl Strategy<Value = String> {
    (1usize..5).prop_flat_map(|columns| {
        let header = proptest::collection::btree_set("[a-z]{1,6}", columns);
        let row = vec("[A-Za-z0-9 ,\"\n]{0,8}", columns);
        (header, vec(row, 0..6)).prop_map(|(header, rows)| {
            let quote = |v: &str| format!("\"{}\"", v.replace('"', "\"\""));
            let mut text = header.into_iter().collect::<Vec<_>>().join(",");
            text.push('\n');
            for row in rows {
                text.push_str(&row.iter().map(|v| quote(v)).collect::<Vec<_>>().join(","));
                text.push('\n');
            }
            text
        })
    })
}

/// Any tree the JSON codec can hold: integers, decimals in their shortest form, text, lists, maps
/// with distinct keys. (The codec reads numbers through `f64`: `0.50` comes back as `0.5`, and
/// digits past double precision are lost.)
fn json_tree() -> impl Strategy<Value = Tree> {
    let leaf = prop_oneof![
        Just(Tree::Null),
        any::<bool>().prop_map(Tree::Bool),
        any::<i64>().prop_map(|n| Tree::Number(n.to_string())),
        (
            any::<i32>(),
            (1u32..100).prop_filter("shortest form", |d| d % 10 != 0)
        )
            .prop_map(|(n, d)| Tree::Number(format!("{n}.{d}"))),
        any::<String>().prop_map(Tree::Text),
    ];
    leaf.prop_recursive(4, 32, 5, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..5).prop_map(Tree::List),
            proptest::collection::btree_map(any::<String>(), inner, 0..5)
                .prop_map(|entries| Tree::Map(entries.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn arbitrary_bytes_give_a_tree_or_an_error(
        format in select(FORMATS.to_vec()),
        input in vec(any::<u8>(), 0..512),
    ) {
        read_and_write(format, &input);
    }

    #[test]
    fn edited_samples_give_a_tree_or_an_error(
        (format, path) in select(SAMPLES.to_vec()),
        edits in vec(edit(), 1..6),
    ) {
        let mut input = sample(path);
        for (at, removed, inserted) in edits {
            let at = at.index(input.len() + 1);
            let end = (at + removed).min(input.len());
            input.splice(at..end, inserted);
        }
        read_and_write(format, &input);
    }

    #[test]
    fn edifact_documents_round_trip(input in edifact_document()) {
        round_trips(Format::Edifact, &input)?;
    }

    #[test]
    fn x12_documents_round_trip(input in x12_document()) {
        round_trips(Format::X12, &input)?;
    }

    #[test]
    fn xml_documents_round_trip(input in xml_element()) {
        round_trips(Format::Xml, &input)?;
    }

    #[test]
    fn csv_documents_round_trip(input in csv_document()) {
        round_trips(Format::Csv, &input)?;
    }

    #[test]
    fn json_trees_round_trip(tree in json_tree()) {
        let codec = CodecSettings::default_for(Format::Json);
        let written = codec.write(&tree).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let back = codec.parse(&written).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(back, tree);
    }
}

#[test]
fn every_sample_parses_so_that_edits_start_from_valid_input() {
    for (format, path) in SAMPLES {
        let codec = CodecSettings::default_for(format);
        if let Err(e) = codec.parse(&sample(path)) {
            panic!("{path}: {e}");
        }
    }
}

/// Found by the `edifact` fuzz target: the error for an unterminated last segment quoted its first
/// three bytes, and panicked when they cut a character in two.
#[test]
fn an_unterminated_segment_of_wide_characters_is_an_error() {
    for input in [&b"UNB+UNOC'\xa1\xa1"[..], "UNH+1'éé".as_bytes()] {
        let err = CodecSettings::default_for(Format::Edifact)
            .parse(input)
            .expect_err("unterminated");
        assert!(err.to_string().contains("not terminated"), "{err}");
    }
}

/// Found by the `x12` fuzz target: an ISA read leniently with fewer than sixteen elements was
/// written as an interchange that could not be read back; the writer refuses it.
#[test]
fn an_isa_without_sixteen_elements_is_not_written() {
    let codec = CodecSettings::default_for(Format::X12);
    let tree = codec
        .parse(b"ISA*******0*\nG>***>*G****>\n")
        .expect("read leniently");
    let err = codec.write(&tree).expect_err("short ISA");
    assert!(err.to_string().contains("not 16"), "{err}");
}
