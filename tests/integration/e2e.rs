//! The whole job end to end over real HTTP and a private Redis: the hub (in this process, or as
//! a `tradehub serve` child process that is SIGKILLed), the simulated Odoo, both brokers, the
//! carrier and the people of the demo.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use tradehub_sim::broker::Faults;
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

#[actix_web::test]
async fn every_scenario_of_the_demo_ends_as_expected_in_the_hub_and_in_odoo() {
    let summary: Summary = demo::run(options(48), |_, _| {})
        .await
        .expect("the demo runs");
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
    assert!(summary.odoo_writebacks >= 48 * 3, "{summary:?}");
    assert!(summary.latency_p50_ms > 0 && summary.latency_p50_ms <= summary.latency_p99_ms);
}

#[actix_web::test]
async fn the_rest_broker_down_for_a_while_holds_work_durably_and_it_completes_after() {
    let mut options = options(12);
    options.cancel_percent = 0;
    let mut world = World::start(&options).await.expect("the world starts");
    world.rest_broker.set_faults(Faults {
        error_rate: 1.0,
        ..Faults::default()
    });
    let mut people = People::new(&world, &options).expect("pickings");
    // Long enough for the breaker to open (5 failures) and stay open (10 s by default).
    let down = Instant::now();
    work(
        &mut world,
        &mut people,
        Duration::from_secs(6),
        async |_, _| {},
    )
    .await;
    let refused_while_open = world.rest_broker.counters().faults_injected;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let refused_later = world.rest_broker.counters().faults_injected;
    assert!(
        refused_later - refused_while_open <= 2,
        "an open breaker stops the calls: {refused_while_open} then {refused_later} refused"
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
    assert!(down.elapsed() > Duration::from_secs(8));
    world.stop().await;
}

#[actix_web::test]
async fn a_hub_killed_twice_mid_run_ends_every_shipment_once_without_duplicate_filings() {
    let mut options = options(30);
    options.hub = HubMode::Process(PathBuf::from(env!("CARGO_BIN_EXE_tradehub")));
    let mut world = World::start(&options).await.expect("the world starts");
    let mut people = People::new(&world, &options).expect("pickings");
    let total = people.len();
    let mut kills = 0;
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
    let filed: u64 = outcomes.iter().map(|o| u64::from(o.declarations)).sum();
    let at_brokers =
        world.rest_broker.counters().distinct_lrns + world.edifact_broker.counters().distinct_lrns;
    assert_eq!(
        filed, at_brokers,
        "every declaration version the hub filed reached a broker exactly under its own LRN"
    );
    world.stop().await;
}
