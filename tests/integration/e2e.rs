//! The whole job end to end over real HTTP and a private Redis: the hub (in this process, or as
//! a `tradehub serve` child process that is SIGKILLed), the simulated Odoo, both brokers, the
//! carrier and the people of the demo.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use tradehub::workflow::shipment::lrn_for;
use tradehub_actors::testing::series;
use tradehub_sim::broker::{Faults, Scenario};
use tradehub_sim::demo::people::People;
use tradehub_sim::demo::world::HubMode;
use tradehub_sim::demo::{self, DemoOptions, Outcome, Summary, World};

fn options(shipments: usize) -> DemoOptions {
    DemoOptions {
        shipments,
        seed: 7,
        deadline: Duration::from_secs(150),
        tick: Duration::from_millis(100),
        step_delay: Duration::from_millis(40),
        cancel_percent: 10,
        broker_fault_rate: 0.02,
        home: crate::common::repo::root().to_path_buf(),
        partitions: 4,
        hub: HubMode::InProcess,
        private_redis: true,
        partner_limits: None,
    }
}

/// Let the people work until every shipment finished or `deadline` passed; `between` runs after
/// each round with the count finished so far.
async fn work(
    world: &mut World,
    people: &mut People,
    deadline: Duration,
    mut between: impl AsyncFnMut(&mut World, usize),
) -> usize {
    let until = Instant::now() + deadline;
    loop {
        let finished = people.round(world).await.expect("a round of work");
        if finished == people.len() || Instant::now() > until {
            return finished;
        }
        between(world, finished).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn unexpected(outcomes: &[Outcome]) -> Vec<&Outcome> {
    outcomes.iter().filter(|o| !o.as_expected()).collect()
}

/// The declarations each shipment should have filed, by LRN, from its seeded scenario alone:
/// none for a listed party (blocked at screening), the first version, and a second after the
/// amendment when customs rejects the first. A cancelled shipment may stop before any of them.
fn expected_filings(seed: u64, outcome: &Outcome) -> Vec<String> {
    if outcome.expected == "BLOCKED" {
        return Vec::new();
    }
    let key = &outcome.shipment_id;
    let versions = if Scenario::for_shipment(seed, key) == Scenario::Rejected {
        2
    } else {
        1
    };
    (1..=versions).map(|v| lrn_for(key, v)).collect()
}

/// Check every broker's filings against each shipment's seeded scenario: the LRNs filed are
/// exactly those expected (a prefix of them for a cancelled shipment), no other LRN reached a
/// broker, and each was filed at least once and at most `most` times.
fn assert_filings(world: &World, seed: u64, outcomes: &[Outcome], most: u64) {
    let mut filed: BTreeMap<String, u64> = BTreeMap::new();
    for (lrn, declaration) in world
        .rest_broker
        .declarations()
        .into_iter()
        .chain(world.edifact_broker.declarations())
    {
        *filed.entry(lrn).or_insert(0) += declaration.filings;
    }
    for outcome in outcomes {
        let expected = expected_filings(seed, outcome);
        let got: Vec<String> = expected
            .iter()
            .filter(|lrn| filed.contains_key(*lrn))
            .cloned()
            .collect();
        if outcome.expected == "CANCELLED" {
            assert_eq!(
                got[..],
                expected[..got.len()],
                "{}: filed out of order",
                outcome.shipment_id
            );
        } else {
            assert_eq!(got, expected, "{}: the filings", outcome.shipment_id);
        }
        for lrn in &got {
            let times = filed.remove(lrn).unwrap_or(0);
            assert!(
                (1..=most).contains(&times),
                "{}: {lrn} filed {times} times (at most {most})",
                outcome.shipment_id
            );
        }
    }
    assert!(filed.is_empty(), "filings no scenario asks for: {filed:?}");
}

#[actix_web::test]
async fn every_scenario_of_the_demo_ends_as_expected_in_the_hub_and_in_odoo() {
    let options = options(48);
    let world = World::start(&options).await.expect("the world starts");
    let mut people = People::new(&world, &options).expect("pickings");
    let (elapsed, timed_out) = demo::drive(&world, &mut people, &options, |_, _| {})
        .await
        .expect("the people work");
    let outcomes = people.outcomes(&world).await.expect("outcomes");
    let summary = Summary::new(
        &outcomes,
        elapsed,
        timed_out,
        world.redis_description(),
        people.actions(),
    );
    assert!(
        summary.all_as_expected,
        "{}",
        serde_json::to_string_pretty(&summary).unwrap_or_default()
    );
    assert_eq!(summary.shipments, 48);
    for state in ["CLOSED", "BLOCKED", "CANCELLED"] {
        assert!(summary.by_state.contains_key(state), "{state}: {summary:?}");
    }
    for kind in [
        "MISSING_DATA",
        "SCREENING_REVIEW",
        "BLOCKED_PARTY",
        "REJECTED_DECLARATION",
        "CUSTOMS_HOLD",
    ] {
        assert!(summary.exceptions.contains_key(kind), "{kind}: {summary:?}");
    }
    for action in [
        "data steward fixed master data",
        "compliance officer confirmed a match",
        "customs operator amended a rejected declaration",
        "warehouse shipped released goods",
        "sales cancelled an order after filing",
    ] {
        assert!(
            summary.actions.contains_key(action),
            "{action}: {summary:?}"
        );
    }
    // Nothing failed in flight here (no kill, no broker timeout): each LRN was filed once.
    assert_filings(&world, options.seed, &outcomes, 1);
    // Odoo's own count: every picking had its statuses written, up to the terminal one.
    for outcome in &outcomes {
        assert!(outcome.odoo_writebacks >= 2, "{outcome:?}");
    }
    assert!(summary.odoo_writebacks >= 48 * 3, "{summary:?}");
    assert!(summary.latency_p50_ms > 0 && summary.latency_p50_ms <= summary.latency_p99_ms);
    // Encryption at rest (the demo makes a key per run): no party of the run, listed ones
    // included, is in Redis in clear.
    let partners = world
        .odoo
        .search("res.partner", serde_json::json!([]))
        .expect("partners");
    let names: Vec<String> = world
        .odoo
        .read("res.partner", &partners, &["name"])
        .expect("partner names")
        .into_iter()
        .filter_map(|p| p.get("name")?.as_str().map(str::to_owned))
        .filter(|name| name.len() >= 8)
        .collect();
    assert!(names.len() >= 10, "{names:?}");
    let needles: Vec<&str> = names.iter().map(String::as_str).collect();
    crate::encryption::assert_nothing_in_clear(&world.redis.url(), &world.prefix, &needles).await;
    world.stop().await;
}

#[actix_web::test]
async fn the_rest_broker_down_for_a_while_holds_work_durably_and_it_completes_after() {
    let mut options = options(12);
    options.cancel_percent = 0;
    // A hub process of its own, so that its /metrics shows its breaker.
    options.hub = HubMode::Process(PathBuf::from(env!("CARGO_BIN_EXE_tradehub")));
    let mut world = World::start(&options).await.expect("the world starts");
    world.rest_broker.set_faults(Faults {
        error_rate: 1.0,
        ..Faults::default()
    });
    let mut people = People::new(&world, &options).expect("pickings");
    // Long enough for the breaker to open (5 failures) and stay open (10 s by default); each
    // round looks at the breaker, and at the broker's requests while it reads open.
    let mut open_reads = Vec::new();
    work(
        &mut world,
        &mut people,
        Duration::from_secs(8),
        async |world: &mut World, _| {
            let metrics = world.hub_metrics().await.unwrap_or_default();
            let breaker = series(
                &metrics,
                "tradehub_partner_breaker_state",
                &[("partner", "rest-broker")],
            );
            if breaker == Some(2.0) {
                open_reads.push(world.rest_broker.counters().faults_injected);
            }
        },
    )
    .await;
    assert!(
        open_reads.len() >= 2,
        "the breaker read open in {} rounds of the outage",
        open_reads.len()
    );
    assert!(
        open_reads.windows(2).all(|w| w[0] == w[1]),
        "no request reached the broker while its breaker read open: {open_reads:?}"
    );
    let held = world
        .odoo
        .search(
            "stock.picking",
            serde_json::json!([["x_trade_status", "=", "FILING"]]),
        )
        .expect("pickings waiting to be filed");
    assert!(
        !held.is_empty(),
        "filings wait behind the open breaker, durable"
    );
    assert_eq!(
        world.rest_broker.counters().distinct_lrns,
        0,
        "nothing reached the broker while it was down"
    );
    world.rest_broker.set_faults(Faults::default());
    let finished = work(
        &mut world,
        &mut people,
        Duration::from_secs(120),
        async |_, _| {},
    )
    .await;
    let outcomes = people.outcomes(&world).await.expect("outcomes");
    assert_eq!(finished, people.len(), "{:#?}", unexpected(&outcomes));
    assert!(
        unexpected(&outcomes).is_empty(),
        "{:#?}",
        unexpected(&outcomes)
    );
    assert!(world.rest_broker.counters().distinct_lrns > 0);
    world.stop().await;
}

#[actix_web::test]
async fn a_hub_killed_twice_mid_run_ends_every_shipment_once_without_duplicate_filings() {
    let mut options = options(30);
    options.hub = HubMode::Process(PathBuf::from(env!("CARGO_BIN_EXE_tradehub")));
    let mut world = World::start(&options).await.expect("the world starts");
    let mut people = People::new(&world, &options).expect("pickings");
    let total = people.len();
    let mut kills: u64 = 0;
    let finished = work(
        &mut world,
        &mut people,
        Duration::from_secs(180),
        async |world: &mut World, finished: usize| {
            if (kills == 0 && finished >= total / 4) || (kills == 1 && finished >= total / 2) {
                world.kill_hub().expect("SIGKILL the hub");
                tokio::time::sleep(Duration::from_millis(300)).await;
                world.restart_hub().await.expect("the hub restarts");
                kills += 1;
            }
        },
    )
    .await;
    assert_eq!(
        kills,
        2,
        "the hub was killed twice; {finished}/{total} finished; hub log:\n{}",
        world.hub_log_tail(6000)
    );
    let outcomes = people.outcomes(&world).await.expect("outcomes");
    assert_eq!(finished, total, "{:#?}", unexpected(&outcomes));
    assert!(
        unexpected(&outcomes).is_empty(),
        "{:#?}",
        unexpected(&outcomes)
    );
    // A command in flight when the hub is killed runs again after the restart: at most once
    // more per kill.
    assert_filings(&world, options.seed, &outcomes, 1 + kills);
    world.stop().await;
}

/// Issue 16: a 3.5 MB XML file nested 500,000 levels deep, dropped into the finance inbox, once
/// overflowed the parser's stack, killed `serve`, stayed in the inbox and killed it again at
/// every restart. It must end in `failed/` with its reason while the hub keeps serving, and a
/// restart must neither read it again nor find anything left claimed.
#[actix_web::test]
async fn deep_xml_in_the_finance_inbox_is_set_aside_and_the_hub_keeps_running() {
    let mut options = options(1);
    options.hub = HubMode::Process(PathBuf::from(env!("CARGO_BIN_EXE_tradehub")));
    let mut world = World::start(&options).await.expect("the world starts");
    let broker = world.finance_folder().join("rest-broker");
    let depth = 500_000;
    let deep = format!("{}{}", "<a>".repeat(depth), "</a>".repeat(depth));
    tradehub::partners::file_drop::write_atomically(&broker, "deep.xml", deep.as_bytes())
        .expect("drop the file");

    let reason_file = broker.join("failed/deep.xml.reason");
    let until = Instant::now() + Duration::from_secs(60);
    while !reason_file.is_file() {
        assert!(
            Instant::now() < until,
            "deep.xml was not set aside within 60 s; hub log:\n{}",
            world.hub_log_tail(6000)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let ready = |world: &World| {
        let request = world.http.get(format!("{}/readyz", world.api)).send();
        async move { request.await.is_ok_and(|r| r.status().is_success()) }
    };
    assert!(
        ready(&world).await,
        "the hub keeps running; hub log:\n{}",
        world.hub_log_tail(6000)
    );
    let reason = std::fs::read_to_string(&reason_file).expect("the reason");
    assert!(
        reason.contains("deep.xml") && reason.contains("depth"),
        "the reason names the file and the limit: {reason}"
    );
    assert!(!reason.contains("<a><a>"), "no content in the reason");

    world.kill_hub().expect("SIGKILL the hub");
    world.restart_hub().await.expect("a clean restart");
    // A file dropped after the restart is read: the inbox polls again, past the old one.
    tradehub::partners::file_drop::write_atomically(&broker, "later.xml", b"<a>")
        .expect("drop another file");
    let until = Instant::now() + Duration::from_secs(60);
    while !broker.join("failed/later.xml.reason").is_file() {
        assert!(
            Instant::now() < until,
            "the inbox did not poll after the restart; hub log:\n{}",
            world.hub_log_tail(6000)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(ready(&world).await, "the hub serves after the restart");
    let names = |dir: PathBuf| -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .map(|d| {
                d.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    };
    assert_eq!(
        names(broker.join("failed")),
        [
            "deep.xml",
            "deep.xml.reason",
            "later.xml",
            "later.xml.reason"
        ],
        "set aside once, not read again"
    );
    assert!(
        names(broker.join("processing")).is_empty(),
        "nothing left claimed"
    );
    assert!(!broker.join("deep.xml").exists(), "not back in the inbox");
    world.stop().await;
}
