//! Hostile canonical documents: arbitrary bytes, and a real shipment with one value anywhere
//! replaced by any JSON value, read as a shipment or refused, never a panic; what reads, writes and
//! reads back equal.

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::{Value, json};

use super::*;

const SHIPMENTS: [&str; 2] = [
    include_str!("../../../tests/fixtures/shipments/valid_export_de_us_sea.json"),
    include_str!("../../../tests/fixtures/shipments/valid_import_jp_gb_air_preference.json"),
];

/// What reads as a shipment writes, and the text reads back as the same shipment.
fn read(input: &[u8]) -> Result<(), TestCaseError> {
    let Ok(shipment) = serde_json::from_slice::<Shipment>(input) else {
        return Ok(());
    };
    let written =
        serde_json::to_string(&shipment).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let back: Shipment = serde_json::from_str(&written)
        .map_err(|e| TestCaseError::fail(format!("{e}: {written}")))?;
    prop_assert_eq!(back, shipment);
    Ok(())
}

/// Every place in a document, as JSON pointers; the root is "".
fn pointers(value: &Value, at: &str, out: &mut Vec<String>) {
    out.push(at.to_owned());
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                let key = key.replace('~', "~0").replace('/', "~1");
                pointers(child, &format!("{at}/{key}"), out);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                pointers(child, &format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// Values people and partners get wrong: other types, edge numbers, codes of the wrong form.
fn wrong_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        Just(json!(u64::MAX)),
        Just(json!("-0")),
        Just(json!("1e400")),
        Just(json!("79228162514264337593543950336")),
        Just(json!("0.0000000000000000000000000001")),
        "[A-Z]{0,4}".prop_map(Value::from),
        "[0-9. -]{0,12}".prop_map(Value::from),
        any::<String>().prop_map(Value::from),
    ];
    leaf.prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..3).prop_map(Value::from),
            proptest::collection::btree_map("[a-z_]{1,8}", inner, 0..3)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn arbitrary_bytes_read_as_a_shipment_or_an_error(input in vec(any::<u8>(), 0..512)) {
        read(&input)?;
    }

    #[test]
    fn a_shipment_with_a_wrong_value_anywhere_reads_or_is_refused(
        which in any::<Index>(),
        edits in vec((any::<Index>(), wrong_value()), 1..4),
    ) {
        let mut document: Value =
            serde_json::from_str(SHIPMENTS[which.index(SHIPMENTS.len())]).expect("fixture is JSON");
        for (place, value) in edits {
            let mut all = Vec::new();
            pointers(&document, "", &mut all);
            let at = &all[place.index(all.len())];
            if at.is_empty() {
                document = value;
            } else if let Some(slot) = document.pointer_mut(at) {
                *slot = value;
            }
        }
        read(&serde_json::to_vec(&document).expect("writes"))?;
    }
}

#[test]
fn the_fixtures_read_so_that_edits_start_from_valid_shipments() {
    for text in SHIPMENTS {
        serde_json::from_str::<Shipment>(text).expect("a valid shipment");
    }
}
