//! The Odoo client against the simulator over real HTTP, on both transports: shipments built
//! from batched reads, cursor polling through seconds shared by many rows, webhooks as hints,
//! write-back idempotence, and every failure mode mapped to a clear, classified error.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{App, HttpResponse, HttpServer, web};
use serde_json::json;
use tradehub::api::callbacks::Callbacks;
use tradehub::api::ingest::{OdooIngest, SECRET_HEADER};
use tradehub::api::{self, ApiState};
use tradehub::model::{Direction, PartyRole};
use tradehub::partners::config::Layout;
use tradehub::partners::odoo::{
    ChangeSource, ErrorClass, OdooClient, OdooConfig, OdooError, OdooFeed, OdooTransport, Poller,
    PollerConfig, ShipmentReader, TradeStatus,
};
use tradehub::secret::Secret;
use tradehub::service::readiness::Readiness;
use tradehub::store::{RedisMailbox, StoreConfig};
use tradehub::workflow::shipment::four_eyes::FourEyes;
use tradehub_actors::partner::CallError;
use tradehub_sim::odoo::{Fault, SimConfig, SimOdoo, WebhookRule, start};
use tradehub_testkit::{Persistence, RedisServer};

use crate::common::redis::unique_prefix;

const TRANSPORTS: [OdooTransport; 2] = [OdooTransport::OdooJsonrpc, OdooTransport::OdooJson2];

fn any_port() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

fn sim(pickings: usize) -> SimOdoo {
    start(
        SimConfig {
            pickings,
            api_key: Some("test-key".to_owned()),
            ..SimConfig::default()
        },
        any_port(),
    )
    .expect("simulator starts")
}

fn config(sim: &SimOdoo, transport: OdooTransport) -> OdooConfig {
    let mut config = OdooConfig::new(
        &sim.url(),
        sim.db(),
        sim.login(),
        Secret::new(sim.api_key()),
        transport,
    );
    config.backoff = Duration::from_millis(5);
    config
}

fn client(sim: &SimOdoo, transport: OdooTransport) -> OdooClient {
    OdooClient::new(config(sim, transport)).expect("client")
}

/// The store of `server` under `prefix`.
async fn store(server: &RedisServer, prefix: &str) -> RedisMailbox {
    RedisMailbox::connect(StoreConfig::with_url(server.url()).prefix(unique_prefix(prefix)))
        .await
        .expect("redis connection")
}

fn poller_config(page_size: usize) -> PollerConfig {
    PollerConfig {
        page_size,
        settle: Duration::ZERO,
        ..PollerConfig::pickings()
    }
}

async fn drain_ids(poller: &Poller) -> Vec<u64> {
    let mut ids = Vec::new();
    loop {
        let page = poller.poll().await.expect("poll");
        ids.extend(page.changes.iter().map(|c| c.id));
        poller.commit(&page).await.expect("commit");
        if !page.more {
            return ids;
        }
    }
}

#[actix_web::test]
async fn both_transports_build_the_same_shipments_with_batched_reads() {
    let sim = sim(24);
    let mut built = Vec::new();
    for transport in TRANSPORTS {
        let reader = ShipmentReader::new(client(&sim, transport));
        let reads = reader
            .read_page(json!([]), 0, 100)
            .await
            .expect("read page");
        let calls = reader.client().stats().calls;
        assert_eq!(reads.len(), 24);
        // Reference data (4 reads) once, then one read per model for the whole page.
        assert!(
            calls <= 4 + 10,
            "{transport:?}: {calls} calls for 24 pickings"
        );
        built.push(reads);
    }
    assert_eq!(
        built[0], built[1],
        "JSON-RPC and JSON-2 must give the same shipments"
    );
    let shipments: Vec<_> = built[0]
        .iter()
        .map(|r| r.outcome.clone().expect("shipment"))
        .collect();
    let exports: Vec<_> = shipments
        .iter()
        .filter(|s| s.direction == Direction::Export)
        .collect();
    let imports: Vec<_> = shipments
        .iter()
        .filter(|s| s.direction == Direction::Import)
        .collect();
    assert_eq!((exports.len(), imports.len()), (18, 6));
    for s in &exports {
        let seller = s
            .parties_with(PartyRole::Exporter)
            .next()
            .expect("exporter");
        assert_eq!(seller.name, "Rheinwerk Maschinenbau GmbH");
        assert!(
            s.parties_with(PartyRole::Buyer).next().is_some()
                && s.parties_with(PartyRole::Consignee).next().is_some()
        );
        assert_eq!(
            s.dispatch_country
                .as_ref()
                .and_then(|c| c.valid())
                .map(|c| c.as_str()),
            Some("DE")
        );
        assert!(s.odoo.sale_order.is_some() && s.currency.is_some() && !s.lines.is_empty());
        assert!(
            s.lines
                .iter()
                .all(|l| l.value.is_some() && l.net_mass_kg.is_some())
        );
    }
    for s in &imports {
        assert!(
            s.parties_with(PartyRole::Supplier).next().is_some() && s.odoo.purchase_order.is_some()
        );
        assert_eq!(
            s.destination_country
                .as_ref()
                .and_then(|c| c.valid())
                .map(|c| c.as_str()),
            Some("DE")
        );
    }
    let lines: Vec<_> = shipments.iter().flat_map(|s| &s.lines).collect();
    assert!(
        lines.iter().any(|l| l.product.classifications.is_empty()),
        "products without an HS code stay without one"
    );
    assert!(
        lines.iter().any(|l| l.product.origin.is_none()),
        "products without an origin stay without one"
    );
    assert!(
        shipments.iter().any(|s| s.odoo.invoice.is_some()),
        "invoiced orders carry their invoice"
    );
    let screened: BTreeSet<&str> = shipments
        .iter()
        .flat_map(|s| s.parties.iter().map(|p| p.name.as_str()))
        .collect();
    assert!(screened.len() > 4, "several distinct parties: {screened:?}");
}

#[actix_web::test]
async fn reads_of_a_large_page_cost_about_one_call_per_model() {
    let sim = sim(0);
    let ids = sim.create_pickings(300, 10).expect("pickings");
    let reader = ShipmentReader::new(client(&sim, OdooTransport::OdooJson2));
    reader.read(&ids[..1]).await.expect("warm reference data");
    let before = reader.client().stats().calls;
    let reads = reader.read(&ids).await.expect("read");
    let calls = reader.client().stats().calls - before;
    assert_eq!(reads.len(), 300);
    assert!(
        reads
            .iter()
            .all(|r| r.outcome.as_ref().is_ok_and(|s| s.lines.len() == 10))
    );
    assert!(calls <= 9, "{calls} calls for 300 pickings of 10 lines");
}

#[actix_web::test]
async fn cursor_poll_takes_every_row_of_a_shared_second_exactly_once() {
    let redis_server = RedisServer::start(Persistence::None).expect("redis");
    let sim = sim(0);
    let created = sim
        .create_pickings(230, 1)
        .expect("pickings share one write_date");
    for transport in TRANSPORTS {
        let poller = Poller::new(
            client(&sim, transport),
            &store(&redis_server, &format!("t{}", transport as u8)).await,
            poller_config(40),
        );
        let ids = drain_ids(&poller).await;
        assert_eq!(ids.len(), created.len(), "{transport:?}: each row once");
        assert_eq!(
            ids.iter().copied().collect::<BTreeSet<_>>(),
            created.iter().copied().collect()
        );
        assert_eq!(drain_ids(&poller).await, Vec::<u64>::new(), "nothing new");
    }
    // Separate transactions within one second, newest on the lowest ids: write_date order is
    // not id order, and pages of 2 end inside the second.
    let poller = Poller::new(
        client(&sim, OdooTransport::OdooJson2),
        &store(&redis_server, "tw").await,
        poller_config(2),
    );
    drain_ids(&poller).await;
    // With no settle window the cursor may sit in the current second; production's settle
    // window guarantees it is in a closed one. The simulator's clock steps one microsecond per
    // transaction from the start of a later second, so the edits below are separate
    // transactions of one second however slowly they run.
    let second = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .expect("a second")
        + time::Duration::seconds(2);
    sim.step_clock_from(second);
    let edited: Vec<u64> = created.iter().rev().step_by(23).copied().collect();
    for id in &edited {
        sim.user_write(
            "stock.picking",
            &[*id],
            json!({"carrier_tracking_ref": format!("TRK{id}")}),
        )
        .expect("edit");
    }
    let stamps: Vec<String> = sim
        .read("stock.picking", &edited, &["write_date"])
        .expect("write dates")
        .iter()
        .map(|r| r["write_date"].as_str().expect("a write date").to_owned())
        .collect();
    assert!(
        stamps.iter().all(|s| s[..19] == stamps[0][..19]),
        "the edits share one second: {stamps:?}"
    );
    let mut expected = edited.clone();
    expected.sort_unstable();
    let mut ids = drain_ids(&poller).await;
    ids.sort_unstable();
    assert_eq!(ids, expected);
}

/// A webhook receiver collecting the bodies it gets.
fn receiver() -> (
    String,
    Arc<Mutex<Vec<Vec<u8>>>>,
    actix_web::dev::ServerHandle,
) {
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let sink = web::Data::new(bodies.clone());
    let server = HttpServer::new(move || {
        App::new().app_data(sink.clone()).route(
            "/hook",
            web::post().to(
                |sink: web::Data<Arc<Mutex<Vec<Vec<u8>>>>>, body: web::Bytes| async move {
                    sink.lock().expect("sink").push(body.to_vec());
                    HttpResponse::Ok().finish()
                },
            ),
        )
    })
    .workers(1)
    .disable_signals()
    .bind(any_port())
    .expect("bind");
    let addr = server.addrs()[0];
    let server = server.run();
    let handle = server.handle();
    tokio::spawn(server);
    (format!("http://{addr}/hook"), bodies, handle)
}

async fn wait_for(bodies: &Arc<Mutex<Vec<Vec<u8>>>>, count: usize) -> Vec<Vec<u8>> {
    for _ in 0..500 {
        let got = bodies.lock().expect("bodies").clone();
        if got.len() >= count {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{count} webhooks did not arrive within 5 s");
}

#[actix_web::test]
async fn a_webhook_and_the_poll_give_one_input_and_a_lost_webhook_is_still_polled() {
    let redis_server = RedisServer::start(Persistence::None).expect("redis");
    let sim = sim(0);
    let (url, bodies, hook) = receiver();
    let rule = |url: String| WebhookRule {
        url,
        model: "stock.picking".to_owned(),
        fields: vec!["name".to_owned(), "write_date".to_owned()],
        action_id: 7,
    };
    sim.set_webhook(Some(rule(url)));
    let poller = Poller::new(
        client(&sim, OdooTransport::OdooJsonrpc),
        &store(&redis_server, "wh").await,
        poller_config(50),
    );
    let hinted = sim.create_pickings(2, 3).expect("pickings");
    let payloads = wait_for(&bodies, 2).await;
    let mut from_hooks = Vec::new();
    for body in &payloads {
        let payload: serde_json::Value = serde_json::from_slice(body).expect("json");
        assert_eq!(payload["_model"], "stock.picking");
        assert_eq!(payload["_action"], "Send Webhook Notification(#7)");
        let change = poller.hint(body).await.expect("hint").expect("new change");
        assert_eq!(change.source, ChangeSource::Webhook);
        poller.commit_hint(&change).await.expect("commit hint");
        assert_eq!(
            poller.hint(body).await.expect("hint again"),
            None,
            "the same change twice is one input"
        );
        from_hooks.push(change.id);
    }
    from_hooks.sort_unstable();
    assert_eq!(from_hooks, hinted);
    assert_eq!(
        drain_ids(&poller).await,
        Vec::<u64>::new(),
        "the poll finds nothing the webhooks did not already give"
    );

    // Odoo sends once, with a 1 s timeout, and never again: a receiver that is down loses it.
    hook.stop(true).await;
    let lost = sim.create_pickings(3, 1).expect("pickings");
    let mut polled = drain_ids(&poller).await;
    polled.sort_unstable();
    assert_eq!(polled, lost);
    assert_eq!(bodies.lock().expect("bodies").len(), 2);
}

#[actix_web::test]
async fn write_back_is_idempotent_and_invisible_to_the_poll() {
    let redis_server = RedisServer::start(Persistence::None).expect("redis");
    let sim = sim(4);
    for transport in TRANSPORTS {
        let client = client(&sim, transport);
        let report = tradehub::partners::odoo::setup(&client)
            .await
            .expect("setup");
        assert_eq!(report.created.len() + report.present.len(), 5);
        let check = tradehub::partners::odoo::check(&client)
            .await
            .expect("check");
        assert!(check.usable, "{check:?}");
        let picking = sim
            .search(
                "stock.picking",
                json!([["picking_type_code", "=", "outgoing"]]),
            )
            .expect("search")[0];
        let poller = Poller::new(
            client.clone(),
            &store(&redis_server, &format!("wb{}", transport as u8)).await,
            poller_config(50),
        );
        drain_ids(&poller).await;
        let status = TradeStatus {
            status: "ON_HOLD".to_owned(),
            hold: true,
            hold_reason: Some("Potential match: ASCOTEC HOLDING GMBH".to_owned()),
            mrn: None,
            url: Some("https://hub/s/1".to_owned()),
        };
        let first = client
            .write_trade_status(picking, &status)
            .await
            .expect("write");
        let stamp = sim
            .read("stock.picking", &[picking], &["write_date"])
            .expect("read")[0]["write_date"]
            .clone();
        assert!(
            !client
                .write_trade_status(picking, &status)
                .await
                .expect("write again"),
            "same values: no write"
        );
        assert_eq!(
            sim.read("stock.picking", &[picking], &["write_date"])
                .expect("read")[0]["write_date"],
            stamp
        );
        assert!(
            first || transport == OdooTransport::OdooJson2,
            "the first write changes the picking"
        );
        let row = &sim
            .read(
                "stock.picking",
                &[picking],
                &["x_trade_status", "x_trade_hold", "x_trade_mrn"],
            )
            .expect("read")[0];
        assert_eq!(
            (
                row["x_trade_status"].clone(),
                row["x_trade_hold"].clone(),
                row["x_trade_mrn"].clone()
            ),
            (json!("ON_HOLD"), json!(true), json!(false))
        );
        assert_eq!(
            drain_ids(&poller).await,
            Vec::<u64>::new(),
            "the hub's own fields are not a change"
        );

        let key = format!("hold-{}", transport as u8);
        let posted = client
            .post_note("stock.picking", picking, &key, "Held for screening review")
            .await
            .expect("note");
        assert!(posted.is_some());
        assert_eq!(
            client
                .post_note("stock.picking", picking, &key, "Held for screening review")
                .await
                .expect("note again"),
            None
        );
        assert_eq!(
            sim.messages("stock.picking", picking)
                .expect("messages")
                .iter()
                .filter(|b| b.contains(&key))
                .count(),
            1
        );
        let activity = client
            .open_activity(
                "stock.picking",
                picking,
                &key,
                "Screening review",
                "Potential match",
                None,
            )
            .await
            .expect("activity");
        assert_eq!(
            client
                .open_activity(
                    "stock.picking",
                    picking,
                    &key,
                    "Screening review",
                    "Potential match",
                    None
                )
                .await
                .expect("again"),
            activity
        );
        assert!(
            client
                .close_activity("stock.picking", picking, &key, "Cleared")
                .await
                .expect("close")
        );
        assert!(
            !client
                .close_activity("stock.picking", picking, &key, "Cleared")
                .await
                .expect("close again")
        );
        let row = &sim
            .read("mail.activity", &[activity], &["active"])
            .expect("activity")[0];
        assert_eq!(row["active"], json!(false), "done activities are archived");
    }
}

#[actix_web::test]
async fn odoo_exceptions_keep_their_message_and_class() {
    let sim = sim(2);
    for transport in TRANSPORTS {
        let client = client(&sim, transport);
        client.uid().await.expect("login");
        sim.faults().script([Fault::Error(
            "odoo.exceptions.ValidationError".to_owned(),
            "HS code 9999 is not valid".to_owned(),
        )]);
        let err = client
            .search_count("stock.picking", json!([]))
            .await
            .expect_err("validation");
        assert_eq!(err.class(), ErrorClass::Permanent);
        match err.clone().into_call_error(true) {
            CallError::Permanent { reason } => assert!(
                reason.contains("HS code 9999 is not valid") && reason.contains("ValidationError"),
                "{reason}"
            ),
            other => panic!("{transport:?}: {other:?}"),
        }
        let err = client
            .read("stock.picking", &[987_654], &["name"])
            .await
            .expect_err("missing");
        assert!(
            matches!(&err, OdooError::Server { name, .. } if name == "odoo.exceptions.MissingError"),
            "{err:?}"
        );
        let err = client
            .search(
                "stock.picking",
                json!([["no_such_field", "=", 1]]),
                None,
                None,
            )
            .await
            .expect_err("bad field");
        assert_eq!(err.class(), ErrorClass::Permanent, "{err}");
        let mut wrong = config(&sim, transport);
        wrong.api_key = Secret::new("not-the-key");
        let err = OdooClient::new(wrong)
            .expect("client")
            .search_count("res.partner", json!([]))
            .await
            .expect_err("auth");
        assert_eq!(err.class(), ErrorClass::Auth, "{err}");
        assert!(matches!(
            err.into_call_error(true),
            CallError::Retry { after: Some(_), .. }
        ));
        sim.faults().script([Fault::Error(
            "psycopg2.errors.SerializationFailure".to_owned(),
            "could not serialize access".to_owned(),
        )]);
        let retries = client.stats().retries;
        assert_eq!(
            client
                .search_count("res.country", json!([["code", "=", "DE"]]))
                .await
                .expect("retried"),
            1
        );
        assert_eq!(client.stats().retries, retries + 1);
    }
}

#[actix_web::test]
async fn broken_answers_give_clear_errors_and_are_retried() {
    let sim = sim(1);
    for transport in TRANSPORTS {
        let mut once = config(&sim, transport);
        once.attempts = 1;
        once.timeout = Duration::from_millis(300);
        let once = OdooClient::new(once).expect("client");
        once.uid().await.expect("login");
        let count = || once.search_count("res.country", json!([]));

        sim.faults().script([Fault::BadGateway]);
        let err = count().await.expect_err("502");
        assert!(
            matches!(&err, OdooError::Http { status: 502, snippet, .. } if snippet.contains("502 Bad Gateway")),
            "{err}"
        );
        assert_eq!(err.class(), ErrorClass::Retry);

        sim.faults().script([Fault::HtmlError]);
        let err = count().await.expect_err("html");
        assert!(
            matches!(&err, OdooError::Http { status: 500, snippet, .. } if snippet.contains("Internal Server Error")),
            "{err}"
        );

        sim.faults().script([Fault::BadJson]);
        let err = count().await.expect_err("bad json");
        assert!(matches!(&err, OdooError::BadJson { .. }), "{err}");
        assert!(err.to_string().contains("not valid JSON"), "{err}");
        assert!(matches!(
            err.into_call_error(false),
            CallError::OutcomeUnknown { .. }
        ));

        sim.faults()
            .script([Fault::RateLimited(Duration::from_secs(3))]);
        let err = count().await.expect_err("429");
        assert_eq!(err.retry_after(), Some(Duration::from_secs(3)));

        sim.faults().script([Fault::Slow(Duration::from_secs(2))]);
        let err = count().await.expect_err("timeout");
        assert!(matches!(&err, OdooError::Timeout { .. }), "{err}");
        assert!(matches!(
            err.into_call_error(false),
            CallError::OutcomeUnknown { .. }
        ));

        let retrying = client(&sim, transport);
        retrying.uid().await.expect("login");
        sim.faults().script([Fault::BadGateway, Fault::HtmlError]);
        let countries = retrying
            .search_count("res.country", json!([]))
            .await
            .expect("third attempt succeeds");
        assert_eq!(countries, 15);
        assert_eq!(retrying.stats().retries, 2);
    }
    let mut gone = config(&sim, OdooTransport::OdooJson2);
    sim.stop().await;
    gone.attempts = 2;
    let err = OdooClient::new(gone)
        .expect("client")
        .search_count("res.country", json!([]))
        .await
        .expect_err("down");
    assert!(matches!(&err, OdooError::Connect { .. }), "{err}");
    assert_eq!(err.class(), ErrorClass::Retry);
}

#[actix_web::test]
async fn the_partner_transport_maps_commands_and_failures_for_the_runtime() {
    use tradehub::partners::odoo::OdooPartner;
    use tradehub_actors::envelope::Envelope;
    use tradehub_actors::partner::Transport;

    let sim = sim(3);
    let client = client(&sim, OdooTransport::OdooJson2);
    tradehub::partners::odoo::setup(&client)
        .await
        .expect("setup");
    let partner = OdooPartner::new(client);
    let picking = sim
        .search(
            "stock.picking",
            json!([["picking_type_code", "=", "outgoing"]]),
        )
        .expect("search")[0];
    let command = |id: &str, kind: &str, body: serde_json::Value| {
        Envelope::new(id, "odoo/demo/picking", kind, body)
    };

    let read = partner
        .call(&command(
            "c1",
            "odoo.read_shipment",
            json!({"shipment_id": "odoo/demo/picking", "picking_id": picking}),
        ))
        .await
        .expect("read");
    assert_eq!(read["shipment"]["odoo"]["picking"]["id"], json!(picking));
    let write = command(
        "c2",
        "odoo.write_picking",
        json!({"picking_id": picking, "values": {"x_trade_status": "RELEASED", "x_trade_hold": false, "x_trade_mrn": "26DE123456789012A1"}}),
    );
    assert_eq!(
        partner.call(&write).await.expect("write"),
        json!({"changed": true})
    );
    assert_eq!(
        partner.call(&write).await.expect("redelivered"),
        json!({"changed": false})
    );
    let note = command(
        "c3",
        "odoo.post_note",
        json!({"picking_id": picking, "body": "Released by customs"}),
    );
    partner.call(&note).await.expect("note");
    assert_eq!(
        partner.call(&note).await.expect("redelivered note")["already_posted"],
        json!(true)
    );
    assert_eq!(
        sim.messages("stock.picking", picking)
            .expect("messages")
            .len(),
        1
    );

    let err = partner
        .call(&command("c4", "odoo.launch_rocket", json!({})))
        .await
        .expect_err("unknown kind");
    assert!(
        matches!(&err, CallError::Poison { reason } if reason.contains("odoo.launch_rocket")),
        "{err:?}"
    );
    let err = partner
        .call(&command(
            "c4b",
            "odoo.post_note",
            json!({"picking_id": picking}),
        ))
        .await
        .expect_err("no body text");
    assert!(
        matches!(&err, CallError::Poison { reason } if reason.contains("body")),
        "{err:?}"
    );
    let err = partner
        .call(&command(
            "c5",
            "odoo.read_shipment",
            json!({"picking_id": 999_999}),
        ))
        .await
        .expect_err("missing");
    assert!(
        matches!(&err, CallError::Permanent { reason } if reason.contains("MissingError")),
        "{err:?}"
    );
    sim.faults()
        .script([Fault::BadGateway, Fault::BadGateway, Fault::BadGateway]);
    let err = partner
        .call(&command(
            "c6",
            "odoo.read_shipment",
            json!({"picking_id": picking}),
        ))
        .await
        .expect_err("502s");
    assert!(
        matches!(&err, CallError::Retry { reason, .. } if reason.contains("502")),
        "{err:?}"
    );
}

/// The hub's API with an Odoo feed on `sim`, expecting `secret` from the webhook.
async fn webhook_api(
    sim: &SimOdoo,
    mailbox: &RedisMailbox,
    secret: Option<&str>,
) -> (String, actix_web::dev::ServerHandle) {
    let poller = Poller::new(
        client(sim, OdooTransport::OdooJsonrpc),
        mailbox,
        poller_config(50),
    );
    let state = ApiState {
        mailbox: mailbox.clone(),
        partitions: 4,
        callbacks: Callbacks::new(Layout::new(crate::common::repo::root())),
        odoo: Some(OdooIngest {
            feed: Arc::new(OdooFeed::new(poller, mailbox.clone(), 4, sim.db())),
            secret: secret.map(str::to_owned),
        }),
        gate: crate::common::gate::serving(mailbox),
        four_eyes: FourEyes::default(),
    };
    let (server, addr) =
        api::server(any_port(), Arc::new(Readiness::default()), state).expect("bind the API");
    let handle = server.handle();
    tokio::spawn(server);
    (format!("http://{addr}/v1/ingest/odoo"), handle)
}

#[actix_web::test]
async fn the_webhook_needs_its_secret_and_is_refused_when_none_is_configured() {
    let redis_server = RedisServer::start(Persistence::None).expect("redis");
    let sim = sim(0);
    let picking = sim.create_pickings(1, 1).expect("a picking")[0];
    let payload =
        json!({ "_model": "stock.picking", "_id": picking, "id": picking, "name": "WH/OUT/00001" })
            .to_string();
    let http = reqwest::Client::new();
    let send = |url: String, secret: Option<(&'static str, &'static str)>| {
        let http = http.clone();
        let payload = payload.clone();
        async move {
            let mut request = http
                .post(url)
                .header("Content-Type", "application/json")
                .body(payload);
            if let Some((name, value)) = secret {
                request = request.header(name, value);
            }
            let response = request.send().await.expect("the hub answers");
            let status = response.status().as_u16();
            (status, response.text().await.unwrap_or_default())
        }
    };

    let mailbox = store(&redis_server, "hook").await;
    let (url, api) = webhook_api(&sim, &mailbox, Some("hook-secret")).await;
    for (what, secret) in [
        ("no secret", None),
        ("a wrong secret", Some((SECRET_HEADER, "hook-secrex"))),
        ("an empty secret", Some((SECRET_HEADER, ""))),
    ] {
        let (status, problem) = send(url.clone(), secret).await;
        assert_eq!(status, 401, "{what}: {problem}");
    }
    let (status, problem) = send(format!("{url}?secret=nope"), None).await;
    assert_eq!(status, 401, "a wrong ?secret=: {problem}");
    let (status, answer) = send(url.clone(), Some((SECRET_HEADER, "hook-secret"))).await;
    assert_eq!(status, 202, "the right secret: {answer}");
    assert!(answer.contains("\"ingested\":true"), "{answer}");
    let (status, answer) = send(format!("{url}?secret=hook-secret"), None).await;
    assert_eq!(status, 202, "the right ?secret=: {answer}");
    api.stop(true).await;

    // No secret configured: refused whatever the webhook presents, never ingested unchecked.
    let mailbox = store(&redis_server, "nohook").await;
    let (url, api) = webhook_api(&sim, &mailbox, None).await;
    for secret in [None, Some((SECRET_HEADER, "hook-secret"))] {
        let (status, problem) = send(url.clone(), secret).await;
        assert_eq!(status, 503, "{problem}");
        assert!(
            problem.contains("no webhook secret is configured"),
            "{problem}"
        );
    }
    api.stop(true).await;
}
