//! The finance inbox and the reconciliation batch against a private Redis and the Odoo
//! simulator over real HTTP: a reconciled declaration is posted once (draft vendor bill and
//! landed cost) however often it is run; a variance names its reasons to the saga and posts
//! nothing; a malformed document lands in `failed/` with its reason.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tradehub::finance::{FinanceConfig, FinanceInbox, InboxReport, ReconcileSettings};
use tradehub::model::{OdooRef, Shipment};
use tradehub::partners::config::Layout;
use tradehub::partners::odoo::{OdooClient, OdooConfig, OdooTransport};
use tradehub::secret::Secret;
use tradehub::store::lrn_ledger::Ledger;
use tradehub::store::{RedisMailbox, StoreConfig};
use tradehub::tariff::duty::{TariffBook, default_dir};
use tradehub::workflow::shipment::lrn_for;
use tradehub_actors::envelope::{Envelope, partition_of};
use tradehub_actors::mailbox::StreamName;
use tradehub_sim::odoo::{SimConfig, SimOdoo, start};
use tradehub_sim::settlement::{BrokerStyle, documents, settlement_variance};

use crate::common::redis::{RedisServer, unique_prefix};

const PARTITIONS: u16 = 4;
const SEED: u64 = 5;

fn root() -> &'static Path {
    crate::common::repo::root()
}

async fn mailbox(server: &RedisServer) -> RedisMailbox {
    RedisMailbox::connect(StoreConfig::with_url(server.url()).prefix(unique_prefix("f")))
        .await
        .expect("connect to the test redis-server")
}

fn odoo() -> (SimOdoo, OdooClient) {
    let sim = start(
        SimConfig {
            pickings: 4,
            api_key: Some("test-key".to_owned()),
            ..SimConfig::default()
        },
        SocketAddr::from(([127, 0, 0, 1], 0)),
    )
    .expect("simulator starts");
    let mut config = OdooConfig::new(
        &sim.url(),
        sim.db(),
        sim.login(),
        Secret::new(sim.api_key()),
        OdooTransport::OdooJson2,
    );
    config.backoff = Duration::from_millis(5);
    let client = OdooClient::new(config).expect("client");
    (sim, client)
}

fn import_shipment(key: &str, picking: u64) -> Shipment {
    let path = root().join("tests/fixtures/shipments/valid_import_jp_gb_air_preference.json");
    let mut s: Shipment =
        serde_json::from_slice(&std::fs::read(path).expect("fixture")).expect("shipment");
    s.id = key.parse().expect("shipment id");
    s.odoo.picking = Some(OdooRef {
        id: picking,
        name: None,
    });
    s
}

/// A shipment key whose first declaration does (or does not) carry the seeded variance.
fn key_where(variance: bool, tag: &str) -> String {
    (0..10_000)
        .map(|i| format!("WH/IN/{tag}{i:05}"))
        .find(|k| settlement_variance(SEED, &lrn_for(k, 1)) == variance)
        .expect("both kinds occur")
}

struct Setup {
    _redis: RedisServer,
    _odoo: SimOdoo,
    client: OdooClient,
    mailbox: RedisMailbox,
    folder: tempfile::TempDir,
    inbox: FinanceInbox,
    book: TariffBook,
}

async fn setup() -> Setup {
    let redis = RedisServer::start();
    let mailbox = mailbox(&redis).await;
    let (sim, client) = odoo();
    let folder = tempfile::tempdir().expect("temp folder");
    let config = FinanceConfig {
        enabled: true,
        folder: folder.path().to_owned(),
        ..FinanceConfig::default()
    };
    let settings =
        ReconcileSettings::load(&root().join("config/reconcile.toml")).expect("settings");
    let book = TariffBook::load(&default_dir()).expect("tables");
    let inbox = FinanceInbox::with_parts(
        config,
        Arc::new(settings),
        Arc::new(TariffBook::load(&default_dir()).expect("tables")),
        Layout::new(root()),
        mailbox.clone(),
        PARTITIONS,
        Some(client.clone()),
    );
    Setup {
        _redis: redis,
        _odoo: sim,
        client,
        mailbox,
        folder,
        inbox,
        book,
    }
}

impl Setup {
    /// Files the shipment's first declaration in the ledger and drops what the broker sends.
    async fn drop_settlement(&self, key: &str, picking: u64, style: BrokerStyle) -> String {
        let lrn = lrn_for(key, 1);
        Ledger::of(&self.mailbox)
            .record_lrn(&lrn, key, style.partner())
            .await
            .expect("ledger");
        let dir = self.folder.path().join(style.partner());
        std::fs::create_dir_all(&dir).expect("broker folder");
        for (name, bytes) in documents(
            &import_shipment(key, picking),
            &lrn,
            style,
            SEED,
            &self.book,
        ) {
            std::fs::write(dir.join(name), bytes).expect("write document");
        }
        lrn
    }

    async fn bills(&self, lrn: &str) -> Vec<tradehub::partners::odoo::Rec> {
        self.client
            .search_read(
                "account.move",
                json!([
                    ["move_type", "=", "in_invoice"],
                    ["invoice_origin", "=", lrn]
                ]),
                &["state", "partner_id", "ref", "invoice_line_ids"],
                None,
                0,
                None,
            )
            .await
            .expect("read bills")
    }

    async fn landed_costs(&self, bill: u64) -> Vec<tradehub::partners::odoo::Rec> {
        self.client
            .search_read(
                "stock.landed.cost",
                json!([["vendor_bill_id", "=", bill]]),
                &["picking_ids", "cost_lines"],
                None,
                0,
                None,
            )
            .await
            .expect("read landed costs")
    }

    /// Every input ingested for `key`, oldest first.
    async fn inputs(&self, key: &str) -> Vec<Envelope> {
        let entries = self
            .mailbox
            .entries(partition_of(key, PARTITIONS), &StreamName::Inbox)
            .await
            .expect("inbox entries");
        entries
            .iter()
            .filter_map(|(_, raw)| serde_json::from_str::<Envelope>(raw).ok())
            .filter(|e| e.key == key)
            .collect()
    }
}

async fn first_picking(client: &OdooClient) -> u64 {
    client
        .search("stock.picking", json!([]), None, Some(1))
        .await
        .expect("pickings")[0]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconciled_import_is_posted_once_and_closes_the_saga() {
    let s = setup().await;
    let picking = first_picking(&s.client).await;
    let key = key_where(false, "OK");
    let lrn = s.drop_settlement(&key, picking, BrokerStyle::Edifact).await;

    let report = s.inbox.poll_once().await.expect("poll");
    assert_eq!(
        report,
        InboxReport {
            processed: 3,
            reconciled: 1,
            ..InboxReport::default()
        }
    );
    let bills = s.bills(&lrn).await;
    assert_eq!(bills.len(), 1, "one draft vendor bill");
    let bill = &bills[0];
    assert_eq!(bill.text("state"), Some("draft"));
    assert_eq!(bill.m2o_name("partner_id"), Some("Hanse Zollagentur GmbH"));
    // Two goods lines, each with duty and VAT, and the clearance fee.
    assert_eq!(bill.ids("invoice_line_ids").len(), 5);
    let costs = s.landed_costs(bill.id()).await;
    assert_eq!(costs.len(), 1, "one landed cost");
    assert_eq!(costs[0].ids("picking_ids"), vec![picking]);
    assert!(!costs[0].ids("cost_lines").is_empty());

    let inputs = s.inputs(&key).await;
    let kinds: Vec<&str> = inputs.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["finance.assessed_duty", "finance.broker_invoice"]);
    let verdict = &inputs[1].body["reconciliation"];
    assert_eq!(verdict["reconciled"], json!(true));
    assert_eq!(verdict["vendor_bill"], json!(bill.id()));
    assert_eq!(verdict["landed_cost"], json!(costs[0].id()));
    for name in [format!("{lrn}.cusres.edi"), format!("{lrn}.invoice.csv")] {
        assert!(
            s.folder
                .path()
                .join("edifact-broker/processed")
                .join(&name)
                .is_file(),
            "{name}"
        );
    }

    // The broker sends everything again, and the retry set is empty: nothing is posted or fed twice.
    s.drop_settlement(&key, picking, BrokerStyle::Edifact).await;
    let again = s.inbox.poll_once().await.expect("poll again");
    assert_eq!(again.reconciled, 1);
    assert_eq!(s.bills(&lrn).await.len(), 1, "still one bill");
    assert_eq!(
        s.landed_costs(bill.id()).await.len(),
        1,
        "still one landed cost"
    );
    assert_eq!(s.inputs(&key).await.len(), 2, "no input fed twice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn variance_names_its_reasons_and_posts_nothing() {
    let s = setup().await;
    let picking = first_picking(&s.client).await;
    let key = key_where(true, "VAR");
    let lrn = s.drop_settlement(&key, picking, BrokerStyle::Rest).await;

    let report = s.inbox.poll_once().await.expect("poll");
    assert_eq!(
        (report.processed, report.variances, report.reconciled),
        (3, 1, 0)
    );
    assert!(s.bills(&lrn).await.is_empty(), "a variance is not posted");
    let inputs = s.inputs(&key).await;
    let invoice = inputs
        .iter()
        .find(|e| e.kind == "finance.broker_invoice")
        .expect("the invoice reaches the saga");
    let verdict = &invoice.body["reconciliation"];
    assert_eq!(verdict["reconciled"], json!(false));
    let reasons: Vec<&str> = verdict["reasons"]
        .as_array()
        .expect("reasons")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        reasons.iter().any(|r| r.starts_with("DUTY: line ")),
        "{reasons:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_and_foreign_documents_land_in_failed_with_their_reason() {
    let s = setup().await;
    let dir = s.folder.path().join("rest-broker");
    std::fs::create_dir_all(&dir).expect("broker folder");
    let header = "Invoice No;Invoice Date;LRN;Entry No;Line;Commodity Code;Description;Duty Type;Tax Base;Rate %;Amount;Currency\n";
    std::fs::write(
        dir.join("bad.csv"),
        format!("{header}INV-1;2026-11-30;TH-X;;1;8467292000;Grinders;CUD;100,00;2,00;2,x0;GBP\n"),
    )
    .expect("write");
    std::fs::write(
        dir.join("stranger.csv"),
        format!("{header}INV-2;2026-11-30;TH-NOT-OURS;;0;;Clearance fee;FEE;;;45,00;GBP\n"),
    )
    .expect("write");

    let report = s.inbox.poll_once().await.expect("poll");
    assert_eq!((report.failed, report.processed), (2, 0));
    let failed = dir.join("failed");
    let reason =
        std::fs::read_to_string(failed.join("bad.csv.reason")).expect("reason beside the file");
    assert!(
        reason.contains("bad.csv")
            && reason.contains("row 1 (line 2)")
            && reason.contains("amount"),
        "{reason}"
    );
    assert!(failed.join("bad.csv").is_file(), "the raw file is kept");
    let reason = std::fs::read_to_string(failed.join("stranger.csv.reason")).expect("reason");
    assert!(
        reason.contains("TH-NOT-OURS was not filed through this hub"),
        "{reason}"
    );
    assert!(!dir.join("bad.csv").exists(), "moved out of the inbox");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_drop_is_read_a_bounded_batch_per_poll_and_nothing_is_skipped() {
    let s = setup().await;
    let dir = s.folder.path().join("rest-broker");
    std::fs::create_dir_all(&dir).expect("broker folder");
    let total = tradehub::finance::inbox::FILES_PER_POLL + 3;
    for n in 0..total {
        std::fs::write(dir.join(format!("garbled-{n:04}.csv")), "not;an;invoice\n").expect("write");
    }
    let first = s.inbox.poll_once().await.expect("poll");
    assert_eq!(first.failed, tradehub::finance::inbox::FILES_PER_POLL);
    assert!(first.more, "files are left for the next poll");
    let second = s.inbox.poll_once().await.expect("poll");
    assert_eq!((second.failed, second.more), (3, false));
    let set_aside = std::fs::read_dir(dir.join("failed"))
        .expect("failed/")
        .flatten()
        .filter(|e| !e.file_name().to_string_lossy().ends_with(".reason"))
        .count();
    assert_eq!(set_aside, total, "every file was read once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_odoo_is_retried_on_the_next_poll() {
    let s = setup().await;
    let picking = first_picking(&s.client).await;
    let key = key_where(false, "RETRY");
    let lrn = lrn_for(&key, 1);
    // An Odoo that does not answer: the posting fails, nothing reaches the saga yet.
    let mut config = OdooConfig::new(
        "http://127.0.0.1:9",
        "db",
        "admin",
        Secret::new("k"),
        OdooTransport::OdooJson2,
    );
    config.backoff = Duration::from_millis(1);
    let dead = FinanceInbox::with_parts(
        FinanceConfig {
            folder: s.folder.path().to_owned(),
            ..FinanceConfig::default()
        },
        Arc::new(ReconcileSettings::load(&root().join("config/reconcile.toml")).expect("settings")),
        Arc::new(TariffBook::load(&default_dir()).expect("tables")),
        Layout::new(root()),
        s.mailbox.clone(),
        PARTITIONS,
        Some(OdooClient::new(config).expect("client")),
    );
    s.drop_settlement(&key, picking, BrokerStyle::Rest).await;
    let report = dead.poll_once().await.expect("poll");
    assert_eq!((report.processed, report.post_failures), (3, 1));
    assert!(
        s.inputs(&key).await.is_empty(),
        "the saga waits for the posting"
    );

    let report = s.inbox.poll_once().await.expect("poll with Odoo back");
    assert_eq!((report.processed, report.reconciled), (0, 1));
    assert_eq!(s.bills(&lrn).await.len(), 1);
    assert_eq!(s.inputs(&key).await.len(), 2);
}

fn tradehub_reconcile(folder: &Path) -> (Option<i32>, Value, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tradehub"))
        .args(["reconcile", "--json", "--folder"])
        .arg(folder)
        .output()
        .expect("the tradehub binary runs");
    let doc = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (
        out.status.code(),
        doc,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn reconcile_command_exits_by_what_it_found() {
    let book = TariffBook::load(&default_dir()).expect("tables");
    let folder = tempfile::tempdir().expect("temp folder");
    let dir = folder.path().join("rest-broker");
    std::fs::create_dir_all(&dir).expect("broker folder");
    let write = |key: &str| {
        let lrn = lrn_for(key, 1);
        for (name, bytes) in documents(
            &import_shipment(key, 1),
            &lrn,
            BrokerStyle::Rest,
            SEED,
            &book,
        ) {
            std::fs::write(dir.join(name), bytes).expect("write");
        }
        lrn
    };

    let ok = write(&key_where(false, "CLI"));
    let (code, doc, stderr) = tradehub_reconcile(folder.path());
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(doc["declarations"][0]["lrn"], json!(ok));
    assert_eq!(doc["declarations"][0]["status"], json!("reconciled"));
    assert!(doc["declarations"][0]["comparison"]["estimate_duty"].is_string());

    let bad = write(&key_where(true, "CLI"));
    let (code, doc, _) = tradehub_reconcile(folder.path());
    assert_eq!(code, Some(1));
    let variance = doc["declarations"]
        .as_array()
        .expect("declarations")
        .iter()
        .find(|d| d["lrn"] == json!(bad))
        .expect("the variance is listed");
    assert_eq!(variance["status"], json!("variance"));
    assert!(
        variance["reasons"][0]
            .as_str()
            .is_some_and(|r| r.starts_with("DUTY: "))
    );

    std::fs::write(dir.join("broken.xml"), "<MetaData><Response>").expect("write");
    let (code, doc, _) = tradehub_reconcile(folder.path());
    assert_eq!(code, Some(2));
    assert!(
        doc["unreadable"][0]
            .as_str()
            .is_some_and(|u| u.contains("rest-broker/broken.xml")),
        "{doc}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edifact_broker_drops_settlement_after_release_and_the_inbox_settles_it() {
    use tradehub::partners::edifact_file::{EdifactFileConfig, EdifactFileTransport};
    use tradehub_actors::partner::Transport;
    use tradehub_sim::broker::{BrokerSimConfig, Scenario};
    use tradehub_sim::broker_edifact::{EdifactBrokerSim, EdifactSimConfig};
    use tradehub_sim::settlement::FinanceDrop;

    let s = setup().await;
    let picking = first_picking(&s.client).await;
    let key = (0..10_000)
        .map(|i| format!("WH/IN/E2E{i:05}"))
        .find(|k| {
            Scenario::for_shipment(SEED, k) == Scenario::AcceptedReleased
                && !settlement_variance(SEED, &lrn_for(k, 1))
        })
        .expect("a plain release");
    let lrn = lrn_for(&key, 1);
    let shipment = import_shipment(&key, picking);
    Ledger::of(&s.mailbox)
        .record_lrn(&lrn, &key, "edifact-broker")
        .await
        .expect("ledger");
    let edi = tempfile::tempdir().expect("edi folders");
    let transport = EdifactFileTransport::new(
        EdifactFileConfig {
            partner: "edifact-broker".into(),
            layout: Layout::new(root()),
            outbox: edi.path().join("out"),
        },
        Ledger::of(&s.mailbox),
    );
    let filing = Envelope::new(
        format!("{key}:file:{lrn}"),
        &key,
        "customs.file",
        json!({ "lrn": lrn, "version": 1, "previous_lrn": null, "shipment": shipment, "estimate": null, "route": null }),
    );
    transport.call(&filing).await.expect("CUSDEC written");

    let lookup_shipment = shipment.clone();
    let sim = EdifactBrokerSim::start(EdifactSimConfig {
        outbox: edi.path().join("out"),
        inbox: edi.path().join("in"),
        poll: Duration::from_millis(20),
        broker: BrokerSimConfig {
            seed: SEED,
            step_delay: Duration::from_millis(10),
            finance_drop: Some(FinanceDrop {
                folder: s.folder.path().to_owned(),
                shipments: Arc::new(move |_lrn| {
                    let s = lookup_shipment.clone();
                    Box::pin(async move { Some(s) })
                }),
                book: Arc::new(TariffBook::load(&default_dir()).expect("tables")),
            }),
            ..BrokerSimConfig::default()
        },
    });
    let drop_dir = s.folder.path().join("edifact-broker");
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    while !drop_dir.join(format!("{lrn}.invoice.csv")).is_file() {
        assert!(
            std::time::Instant::now() < deadline,
            "no settlement documents after release"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    sim.stop();
    let report = s.inbox.poll_once().await.expect("poll");
    assert_eq!((report.processed, report.reconciled), (3, 1), "{report:?}");
    assert_eq!(s.bills(&lrn).await.len(), 1);
}
