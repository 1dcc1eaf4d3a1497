use serde_json::json;

use super::db::{Db, format_micros, python_str_micros};
use super::domain::parse_datetime_micros;
use super::rpc::{Call, execute};
use super::seed;

fn seeded() -> Db {
    let mut db = Db::default();
    seed::schema(&mut db);
    seed::demo(&mut db, 7, 8, 1_700_000_000_000_000).expect("seed");
    db
}

fn search(db: &Db, model: &str, domain: serde_json::Value) -> Vec<u64> {
    db.search(model, &domain, None, 0, None).expect("search")
}

#[test]
fn prefix_operators_and_implicit_and() {
    let db = seeded();
    let de = search(&db, "res.country", json!([["code", "=", "DE"]]));
    let fr = search(&db, "res.country", json!([["code", "=", "FR"]]));
    let either = search(
        &db,
        "res.country",
        json!(["|", ["code", "=", "DE"], ["code", "=", "FR"]]),
    );
    assert_eq!(either, [de[0], fr[0]]);
    let neither = search(
        &db,
        "res.country",
        json!(["!", ["code", "in", ["DE", "FR"]]]),
    );
    assert!(!neither.contains(&de[0]) && !neither.contains(&fr[0]));
    assert_eq!(
        neither.len() + 2,
        search(&db, "res.country", json!([])).len()
    );
    let both = search(
        &db,
        "res.country",
        json!([["code", "like", "D"], ["name", "ilike", "GERM"]]),
    );
    assert_eq!(both, de);
    assert_eq!(
        search(
            &db,
            "res.country",
            json!([["code", "not in", ["DE"]], ["code", "=", "DE"]])
        ),
        Vec::<u64>::new()
    );
}

#[test]
fn child_of_follows_parent_chain() {
    let db = seeded();
    let company = search(
        &db,
        "res.partner",
        json!([["name", "=", "Maison Lefèvre SARL"]]),
    );
    let family = search(&db, "res.partner", json!([["id", "child_of", company[0]]]));
    assert_eq!(
        family.len(),
        2,
        "the company and its delivery contact: {family:?}"
    );
    assert!(family.contains(&company[0]));
}

#[test]
fn order_limit_offset() {
    let db = seeded();
    let all = db
        .search("res.country", &json!([]), Some("code desc"), 0, None)
        .expect("search");
    let page = db
        .search("res.country", &json!([]), Some("code desc"), 2, Some(3))
        .expect("search");
    assert_eq!(page, all[2..5]);
    let codes: Vec<String> = db
        .read("res.country", &all, Some(&["code".to_owned()]), true)
        .expect("read")
        .iter()
        .map(|r| r["code"].as_str().unwrap_or_default().to_owned())
        .collect();
    let mut sorted = codes.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(codes, sorted);
}

#[test]
fn datetimes_are_read_to_the_second_but_compared_to_the_microsecond() {
    let micros = parse_datetime_micros("2026-11-27 13:45:10.250000").expect("parse");
    assert_eq!(format_micros(micros), "2026-11-27 13:45:10");
    assert_eq!(python_str_micros(micros), "2026-11-27 13:45:10.250000");
    assert_eq!(
        parse_datetime_micros("2026-11-27 13:45:10"),
        Some(micros - 250_000)
    );
    let mut db = seeded();
    let id = search(&db, "res.country", json!([["code", "=", "DE"]]))[0];
    db.write("res.country", &[id], &serde_json::Map::new(), micros)
        .expect("write");
    assert_eq!(
        search(
            &db,
            "res.country",
            json!([["write_date", ">", "2026-11-27 13:45:10"]])
        ),
        [id]
    );
    assert_eq!(
        search(
            &db,
            "res.country",
            json!([["write_date", "=", "2026-11-27 13:45:10"]])
        ),
        Vec::<u64>::new()
    );
}

#[test]
fn many2one_is_id_and_name_and_empty_is_false() {
    let db = seeded();
    let products = search(&db, "product.product", json!([["hs_code", "=", false]]));
    assert!(
        !products.is_empty(),
        "the demo has products without an HS code"
    );
    let rows = db
        .read(
            "product.product",
            &products,
            Some(&["hs_code".to_owned(), "uom_id".to_owned()]),
            true,
        )
        .expect("read");
    for row in rows {
        assert_eq!(row["hs_code"], json!(false));
        assert_eq!(row["uom_id"][1], json!("Units"));
    }
}

#[test]
fn failing_calls_and_unknown_names_use_odoo_exception_classes() {
    let mut db = seeded();
    let call = |model: &str, method: &str, ids: Vec<u64>, params: serde_json::Value| Call {
        model: model.to_owned(),
        method: method.to_owned(),
        ids,
        params: params.as_object().cloned().unwrap_or_default(),
    };
    let err = execute(
        &mut db,
        2,
        &call("res.country", "read", vec![999_999], json!({})),
        0,
    )
    .expect_err("missing");
    assert_eq!(err.name, "odoo.exceptions.MissingError");
    let err = execute(
        &mut db,
        2,
        &call("res.nothing", "search", vec![], json!({})),
        0,
    )
    .expect_err("model");
    assert_eq!(err.name, "builtins.KeyError");
    let err = execute(
        &mut db,
        2,
        &call("res.country", "fly", vec![], json!({})),
        0,
    )
    .expect_err("method");
    assert_eq!(err.name, "builtins.AttributeError");
    let err = execute(
        &mut db,
        2,
        &call("res.country", "_private", vec![], json!({})),
        0,
    )
    .expect_err("private");
    assert_eq!(err.name, "odoo.exceptions.AccessError");
    let positional = Call::from_execute_kw(
        "res.country",
        "search_read",
        &[json!([["code", "=", "DE"]]), json!(["code"])],
        serde_json::Map::new(),
    )
    .expect("call");
    let rows = execute(&mut db, 2, &positional, 0)
        .expect("search_read")
        .result;
    assert_eq!(rows[0]["code"], json!("DE"));
}

#[test]
fn the_sdn_customers_are_seeded_customers() {
    let db = seeded();
    for name in seed::SDN_CUSTOMERS {
        assert_eq!(
            search(&db, "res.partner", json!([["name", "=", name]])).len(),
            1,
            "{name} is a seeded partner"
        );
    }
}

/// An indexed search finds exactly what a full scan finds, through creates, writes and unlinks.
#[test]
fn indexed_searches_agree_with_a_full_scan() {
    let mut db = seeded();
    let now = 1_700_000_000_000_000;
    let mut notes = Vec::new();
    for i in 0..30_u64 {
        let vals = json!({"model": "stock.picking", "res_id": i % 4, "body": format!("note {i}")});
        let id = db
            .create("mail.message", vals.as_object().expect("object"), now)
            .expect("create");
        notes.push(id);
    }
    db.write(
        "mail.message",
        &notes[..5],
        json!({"res_id": 9}).as_object().expect("object"),
        now,
    )
    .expect("write");
    db.unlink("mail.message", &notes[5..8]).expect("unlink");
    let mut plain = db.clone();
    plain
        .models
        .get_mut("mail.message")
        .expect("model")
        .indexes
        .clear();
    for domain in [
        json!([["res_id", "=", 1]]),
        json!([["res_id", "=", 9], ["model", "=", "stock.picking"]]),
        json!([["res_id", "=", 3], ["body", "ilike", "note 1"]]),
        json!(["|", ["res_id", "=", 0], ["res_id", "=", 2]]),
        json!([["res_id", "=", 42]]),
        json!([["res_id", "=", false]]),
    ] {
        let indexed = search(&db, "mail.message", domain.clone());
        assert_eq!(
            indexed,
            search(&plain, "mail.message", domain.clone()),
            "{domain}"
        );
    }
    assert_eq!(
        search(&db, "mail.message", json!([["res_id", "=", 9]])).len(),
        5
    );
    assert!(db.index("mail.message", "no_such_field").is_err());
}
