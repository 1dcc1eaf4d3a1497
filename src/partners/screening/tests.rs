use std::path::Path;
use std::sync::{Arc, OnceLock};

use serde_json::json;
use tradehub_actors::envelope::Envelope;
use tradehub_actors::partner::{CallError, Transport};

use super::ScreeningTransport;
use crate::screening::config::default_lists;
use crate::screening::lists::ListStore;
use crate::screening::screener::{MatchSettings, Screener};

fn transport() -> ScreeningTransport {
    static SCREENER: OnceLock<Arc<Screener>> = OnceLock::new();
    let screener = SCREENER.get_or_init(|| {
        let specs: Vec<_> = default_lists()
            .into_iter()
            .map(|mut s| {
                s.path = Path::new(env!("CARGO_MANIFEST_DIR")).join(&s.path);
                s
            })
            .collect();
        let store = ListStore::load_all(&specs).expect("shipped lists load");
        Arc::new(Screener::new(store, MatchSettings::default()))
    });
    ScreeningTransport::new(screener.clone())
}

fn check(name: &str, aliases: &[&str], country: &str) -> Envelope {
    Envelope::new(
        "c1",
        "shipment-1",
        crate::workflow::shipment::CHECK_PARTY,
        json!({
            "shipment_id": "shipment-1",
            "direction": "export",
            "party": {
                "id": "p1", "kind": "organisation", "name": name, "aliases": aliases,
                "country": country, "roles": ["buyer"],
            },
        }),
    )
}

#[actix_web::test]
async fn a_listed_bank_is_a_potential_match_with_its_entry_and_the_list_versions() {
    let answer = transport()
        .call(&check("Banco Nacional de Cuba", &[], "CU"))
        .await
        .expect("screened");
    assert_eq!(answer["outcome"], "potential_match", "{answer}");
    let hits = answer["hits"].as_array().expect("hits");
    assert!(
        hits.iter().any(|h| h["name"]
            .as_str()
            .is_some_and(|n| n.to_uppercase().contains("BANCO NACIONAL DE CUBA"))),
        "{answer}"
    );
    let version = answer["list_version"].as_str().expect("version");
    assert!(version.contains("ofac_sdn@"), "{version}");
}

#[actix_web::test]
async fn an_ordinary_firm_is_clear_and_an_alias_is_screened_too() {
    let clear = transport()
        .call(&check("Maison Lefèvre SARL", &[], "FR"))
        .await
        .expect("screened");
    assert_eq!(clear["outcome"], "clear", "{clear}");
    assert_eq!(clear["hits"], json!([]));

    let alias = transport()
        .call(&check(
            "Maison Lefèvre SARL",
            &["Banco Nacional de Cuba"],
            "FR",
        ))
        .await
        .expect("screened");
    assert_eq!(alias["outcome"], "potential_match", "{alias}");
    assert_eq!(alias["hits"][0]["query"], "Banco Nacional de Cuba");
}

#[actix_web::test]
async fn another_command_or_a_bad_body_is_poison_naming_it() {
    let mut other = check("x", &[], "FR");
    other.kind = "customs.file".to_owned();
    let err = transport().call(&other).await.expect_err("refused");
    assert!(
        matches!(&err, CallError::Poison { reason } if reason.contains("customs.file")),
        "{err:?}"
    );
    let mut bad = check("x", &[], "FR");
    bad.body = json!({"party": {"name": 3}});
    let err = transport().call(&bad).await.expect_err("refused");
    assert!(
        matches!(&err, CallError::Poison { reason } if reason.contains("body")),
        "{err:?}"
    );
}
