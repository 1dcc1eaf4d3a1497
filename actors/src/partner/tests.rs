use proptest::prelude::*;
use serde_json::Value;

use super::*;
use crate::clock::ManualClock;
use crate::mailbox::MailboxOps;
use crate::mailbox::memory::MemoryMailbox;
use crate::supervisor::{ChildExit, Shutdown, Supervisor, SupervisorConfig, SupervisorEvent};
use crate::testing::{self, ECHO, Fault, ScriptedTransport, series, wait_until, wait_until_async};

const BOUND: Duration = Duration::from_secs(20);

fn setup() -> (MemoryMailbox, ManualClock) {
    let clock = ManualClock::new(1_000_000);
    (MemoryMailbox::new(clock.clone()), clock)
}

fn cmd_stream() -> StreamName {
    StreamName::Commands(ECHO.into())
}

fn push_command(mb: &MemoryMailbox, partition: Partition, id: &str, key: &str) {
    let envelope = Envelope::new(id, key, "echo.call", json!({ "n": id }));
    mb.append_raw(
        partition,
        &cmd_stream(),
        &serde_json::to_string(&envelope).unwrap(),
    );
}

fn start<T: Transport + Clone>(
    mb: &MemoryMailbox,
    clock: &ManualClock,
    config: PartnerConfig,
    transport: &T,
) -> Addr<PartnerConnection<MemoryMailbox, T, ManualClock>> {
    PartnerConnection::new(
        config,
        mb.clone(),
        transport.clone(),
        Arc::new(clock.clone()),
        ChildGuard::detached(),
    )
    .start()
}

/// The inbox of a partition, decoded.
fn inbox(mb: &MemoryMailbox, partition: Partition) -> Vec<Envelope> {
    mb.entries(partition, &StreamName::Inbox)
        .into_iter()
        .map(|(_, raw)| serde_json::from_str(&raw).unwrap())
        .collect()
}

fn kinds(mb: &MemoryMailbox, partition: Partition) -> Vec<String> {
    let mut kinds: Vec<String> = inbox(mb, partition).into_iter().map(|e| e.kind).collect();
    kinds.sort();
    kinds
}

#[actix::test]
async fn commands_complete_with_results_derived_from_their_ids() {
    let (mb, clock) = setup();
    for i in 0..10 {
        push_command(&mb, i % 2, &format!("c{i}"), &format!("k{i}"));
    }
    let transport = ScriptedTransport::new();
    let _conn = start(
        &mb,
        &clock,
        testing::partner_config("n1", vec![0, 1]),
        &transport,
    );
    assert!(
        wait_until(BOUND, || inbox(&mb, 0).len() == 5
            && inbox(&mb, 1).len() == 5)
        .await
    );
    for partition in [0, 1] {
        for result in inbox(&mb, partition) {
            assert_eq!(result.kind, SUCCEEDED);
            let command_id = result.body["command_id"].as_str().unwrap().to_owned();
            assert_eq!(result.id, result_id(&command_id));
            assert_eq!(result.key, format!("k{}", &command_id[1..]));
            assert_eq!(result.body["partner"], ECHO);
            assert_eq!(result.body["command_kind"], "echo.call");
            assert_eq!(result.body["result"]["echo"]["n"], Value::from(command_id));
        }
        assert!(mb.pending(partition, &cmd_stream()).is_empty());
    }
    assert_eq!(transport.successes().len(), 10);
    assert!(transport.executions().values().all(|n| *n == 1));
}

#[actix::test]
async fn sagas_and_partner_work_end_to_end() {
    use crate::host::partition_host_spec;
    use crate::supervisor::AddChild;
    let (mb, clock) = setup();
    let transport = ScriptedTransport::new();
    let make = transport.clone();
    let clock_arc = Arc::new(clock.clone());
    let root = Supervisor::new(SupervisorConfig::new("root"))
        .child(partner_connection_spec(
            testing::partner_config("n1", vec![0]),
            mb.clone(),
            move || Ok(make.clone()),
            clock_arc.clone(),
        ))
        .start();
    root.send(AddChild(partition_host_spec(
        0,
        testing::host_config("n1"),
        mb.clone(),
        Arc::new(testing::CounterSaga { every: 1 }),
        clock_arc,
    )))
    .await
    .unwrap();
    for i in 0..12 {
        mb.ingest(
            0,
            &testing::input(format!("i{i}"), format!("k{}", i % 3), "inc"),
            None,
        )
        .await
        .unwrap();
    }
    let all = wait_until_async(BOUND, || async {
        let mut results = 0;
        for k in 0..3 {
            results += testing::load_state::<testing::CounterSaga>(&mb, 0, &format!("k{k}"))
                .await
                .unwrap()
                .results;
        }
        results == 12
    })
    .await;
    assert!(all);
    assert_eq!(transport.successes().len(), 12);
    root.send(Shutdown {
        grace: Duration::from_secs(5),
    })
    .await
    .unwrap();
}

#[actix::test]
async fn a_panicking_transport_is_restarted_by_its_supervisor_and_its_work_completes() {
    let (mb, clock) = setup();
    let transport = ScriptedTransport::new();
    transport.then(Some(Fault::Panic));
    for i in 0..3 {
        push_command(&mb, 0, &format!("c{i}"), "k");
    }
    let mut config = testing::partner_config("n1", vec![0]);
    config.concurrency = 1;
    let make = transport.clone();
    let builds = Arc::new(std::sync::Mutex::new(0));
    let counted = builds.clone();
    let supervisor =
        Supervisor::new(SupervisorConfig::new("partners")).child(partner_connection_spec(
            config,
            mb.clone(),
            move || {
                *counted.lock().unwrap() += 1;
                Ok(make.clone())
            },
            Arc::new(clock.clone()),
        ));
    let mut events = supervisor.subscribe();
    let _root = supervisor.start();
    let event = tokio::time::timeout(BOUND, events.recv())
        .await
        .unwrap()
        .unwrap();
    match event {
        SupervisorEvent::Restarting { child, exit, .. } => {
            assert_eq!(child, partner_connection_name(ECHO));
            assert!(
                matches!(&exit, ChildExit::Panicked(r) if r.contains("scripted transport panic")),
                "{exit:?}"
            );
        }
        other => panic!("unexpected {other:?}"),
    }
    let done = wait_until_async(BOUND, || {
        // The command the panic interrupted is pending until it is idle long enough.
        clock.advance(250);
        async { inbox(&mb, 0).len() == 3 }
    })
    .await;
    assert!(done);
    assert_eq!(kinds(&mb, 0), vec![SUCCEEDED; 3]);
    assert_eq!(
        transport.executions()["c0"],
        2,
        "the interrupted command ran again"
    );
    assert!(transport.successes().values().all(|n| *n == 1));
    assert_eq!(
        *builds.lock().unwrap(),
        2,
        "a fresh transport for the new connection"
    );
    assert!(mb.pending(0, &cmd_stream()).is_empty());
}

#[actix::test]
async fn retries_429s_and_timeouts_trip_the_breaker_and_commands_wait_for_recovery() {
    let (mb, clock) = setup();
    let transport = ScriptedTransport::new();
    transport
        .then(Some(Fault::Retry))
        .then(Some(Fault::RetryAfter(Duration::from_millis(1))))
        .then(Some(Fault::Timeout));
    for i in 0..6 {
        push_command(&mb, 0, &format!("c{i}"), "k");
    }
    let mut config = testing::partner_config("n1", vec![0]);
    config.concurrency = 1;
    config.breaker.open_ms = 60_000;
    // Paused time: the 200 ms below pass only once the connection has nothing left to do, so
    // a call the open breaker let through would be seen on any machine.
    tokio::time::pause();
    let conn = start(&mb, &clock, config, &transport);
    assert!(
        wait_until_async(BOUND, || async {
            conn.send(GetPartnerStatus).await.unwrap().breaker == BreakerState::Open
        })
        .await
    );
    assert_eq!(transport.calls(), 3);
    let called_while_open = wait_until(Duration::from_millis(200), || transport.calls() > 3).await;
    assert!(!called_while_open, "no call while the breaker is open");
    // The timed-out command has its unknown outcome; the rest wait, durable.
    assert_eq!(kinds(&mb, 0), vec![OUTCOME_UNKNOWN.to_owned()]);
    let stats = mb.stats(0, &cmd_stream()).await.unwrap();
    assert_eq!(stats.length, 6);
    clock.advance(60_000);
    assert!(wait_until(BOUND, || inbox(&mb, 0).len() == 6).await);
    let mut expected = vec![SUCCEEDED.to_owned(); 5];
    expected.push(OUTCOME_UNKNOWN.to_owned());
    expected.sort();
    assert_eq!(kinds(&mb, 0), expected);
    assert_eq!(
        conn.send(GetPartnerStatus).await.unwrap().breaker,
        BreakerState::Closed
    );
    assert!(mb.pending(0, &cmd_stream()).is_empty());
}

#[actix::test]
async fn long_waits_are_deferred_to_the_timer_set() {
    let (mb, clock) = setup();
    let transport = ScriptedTransport::new();
    transport.then(Some(Fault::RetryAfter(Duration::from_secs(10))));
    push_command(&mb, 0, "c0", "k");
    let _conn = start(
        &mb,
        &clock,
        testing::partner_config("n1", vec![0]),
        &transport,
    );
    assert!(wait_until(BOUND, || mb.timers(0).len() == 1).await);
    let timer = &mb.timers(0)[0];
    assert_eq!(timer.stream, cmd_stream());
    assert_eq!(timer.envelope.attempt, 2);
    assert!(timer.due_ms >= 1_000_000 + 10_000);
    assert!(
        mb.pending(0, &cmd_stream()).is_empty(),
        "nothing held pending while waiting"
    );
    clock.advance(10_000);
    assert_eq!(mb.fire_timers(0, clock.now_ms(), 10).await.unwrap(), 1);
    assert!(wait_until(BOUND, || inbox(&mb, 0).len() == 1).await);
    assert_eq!(inbox(&mb, 0)[0].kind, SUCCEEDED);
    assert_eq!(inbox(&mb, 0)[0].id, result_id("c0"));
    assert_eq!(transport.executions()["c0"], 2);
}

#[actix::test]
async fn exhausted_retries_dead_letter_the_command_and_tell_the_saga() {
    // Every actor of this test runs on this thread: a local recorder sees all they record.
    let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
    let scrape = recorder.handle();
    let _recording = ::metrics::set_default_local_recorder(&recorder);
    let (mb, clock) = setup();
    let transport = ScriptedTransport::new();
    transport.fail_all(Fault::Retry);
    push_command(&mb, 0, "c0", "k");
    let mut config = testing::partner_config("n1", vec![0]);
    config.breaker.failure_threshold = 100;
    config.max_deliveries = 3;
    let _conn = start(&mb, &clock, config, &transport);
    assert!(
        wait_until_async(BOUND, || async {
            mb.dead_letters(0).await.unwrap().len() == 1
        })
        .await
    );
    let letter = &mb.dead_letters(0).await.unwrap()[0];
    assert_eq!(letter.origin, cmd_stream());
    assert!(
        letter.reason.starts_with("3 attempts failed"),
        "{}",
        letter.reason
    );
    let results = inbox(&mb, 0);
    assert_eq!(results.len(), 1);
    assert_eq!(results[0].kind, FAILED);
    assert_eq!(results[0].id, result_id("c0"));
    assert_eq!(transport.executions()["c0"], 3);
    assert!(mb.pending(0, &cmd_stream()).is_empty());
    let rendered = scrape.render();
    let calls = |outcome| {
        series(
            &rendered,
            metrics::PARTNER_CALLS_TOTAL,
            &[("partner", ECHO), ("outcome", outcome)],
        )
    };
    assert_eq!(calls("retry"), Some(3.0), "{rendered}");
    assert_eq!(calls("succeeded"), None, "{rendered}");
    assert_eq!(
        series(
            &rendered,
            metrics::MAILBOX_DEAD_LETTERS_TOTAL,
            &[("partition", "0"), ("stream", "cmd")]
        ),
        Some(1.0),
        "{rendered}"
    );
}

#[actix::test]
async fn permanent_and_poison_failures_reach_the_saga() {
    let (mb, clock) = setup();
    let transport = ScriptedTransport::new();
    transport
        .then(Some(Fault::Permanent))
        .then(Some(Fault::Poison));
    push_command(&mb, 0, "c0", "k");
    push_command(&mb, 0, "c1", "k");
    mb.append_raw(0, &cmd_stream(), "garbage");
    let mut config = testing::partner_config("n1", vec![0]);
    config.concurrency = 1;
    let _conn = start(&mb, &clock, config, &transport);
    assert!(wait_until(BOUND, || inbox(&mb, 0).len() == 2).await);
    assert_eq!(kinds(&mb, 0), vec![FAILED.to_owned(), FAILED.to_owned()]);
    assert!(
        wait_until_async(BOUND, || async {
            mb.dead_letters(0).await.unwrap().len() == 2
        })
        .await
    );
    let letters = mb.dead_letters(0).await.unwrap();
    assert!(letters.iter().any(|l| l.raw == "garbage"));
    assert!(letters.iter().any(|l| l.reason.starts_with("poison")));
    assert_eq!(transport.calls(), 2);
}

#[actix::test]
async fn a_paused_partner_makes_no_calls_until_resumed() {
    let (mb, clock) = setup();
    let transport = ScriptedTransport::new();
    tokio::time::pause();
    let conn = start(
        &mb,
        &clock,
        testing::partner_config("n1", vec![0]),
        &transport,
    );
    conn.send(Pause).await.unwrap();
    assert!(conn.send(GetPartnerStatus).await.unwrap().paused);
    push_command(&mb, 0, "c0", "k");
    let called = wait_until(Duration::from_millis(200), || transport.calls() > 0).await;
    assert!(!called);
    conn.send(Resume).await.unwrap();
    assert!(wait_until(BOUND, || inbox(&mb, 0).len() == 1).await);
}

#[actix::test]
async fn a_re_execution_yields_the_same_result_id() {
    // The idempotency contract: a re-execution produces the same result id, so
    // a partner and a saga can both dedupe.
    let command = Envelope::new("c9", "k", "echo.call", json!({}));
    let first = result_envelope(ECHO, &command, SUCCEEDED, serde_json::Map::new());
    let again = result_envelope(ECHO, &command, FAILED, serde_json::Map::new());
    assert_eq!(first.id, again.id);
    assert_eq!(first.key, "k");
}

#[actix::test]
async fn graceful_shutdown_lets_calls_in_flight_finish() {
    let (mb, clock) = setup();
    let transport = ScriptedTransport::new();
    transport.set_latency(Duration::from_millis(100));
    push_command(&mb, 0, "c0", "k");
    tokio::time::pause();
    let conn = start(
        &mb,
        &clock,
        testing::partner_config("n1", vec![0]),
        &transport,
    );
    assert!(wait_until(BOUND, || transport.calls() == 1).await);
    conn.send(Shutdown {
        grace: Duration::from_secs(5),
    })
    .await
    .unwrap();
    assert_eq!(inbox(&mb, 0).len(), 1, "the call in flight completed");
    assert!(mb.pending(0, &cmd_stream()).is_empty());
    push_command(&mb, 0, "c1", "k");
    let called = wait_until(Duration::from_millis(200), || transport.calls() > 1).await;
    assert!(!called, "a stopped connection reads nothing");
}

#[actix::test]
async fn random_faults_still_give_every_input_once_and_every_command_one_result() {
    use crate::host::partition_host_spec;
    use crate::supervisor::AddChild;
    let (mb, clock) = setup();
    let transport = ScriptedTransport::new();
    transport.fail_at_rate(
        0.3,
        vec![
            Fault::Retry,
            Fault::RetryAfter(Duration::from_millis(1)),
            Fault::Timeout,
            Fault::Panic,
        ],
        42,
    );
    let make = transport.clone();
    let clock_arc = Arc::new(clock.clone());
    let mut partner = testing::partner_config("n1", vec![0]);
    partner.max_deliveries = 8;
    partner.breaker.open_ms = 200;
    let root = Supervisor::new(SupervisorConfig::new("root"))
        .child(partner_connection_spec(
            partner,
            mb.clone(),
            move || Ok(make.clone()),
            clock_arc.clone(),
        ))
        .start();
    root.send(AddChild(partition_host_spec(
        0,
        testing::host_config("n1"),
        mb.clone(),
        Arc::new(testing::CounterSaga { every: 1 }),
        clock_arc,
    )))
    .await
    .unwrap();
    let inputs = 30;
    for i in 0..inputs {
        mb.ingest(
            0,
            &testing::input(format!("i{i}"), format!("k{}", i % 3), "inc"),
            None,
        )
        .await
        .unwrap();
    }
    let settled = wait_until_async(BOUND, || {
        clock.advance(100);
        async {
            let mut seen = 0;
            for k in 0..3 {
                let s = testing::load_state::<testing::CounterSaga>(&mb, 0, &format!("k{k}"))
                    .await
                    .unwrap();
                seen += s.results + s.failures + s.unknown;
            }
            seen == inputs
        }
    })
    .await;
    assert!(settled);
    let mut result_ids: Vec<String> = inbox(&mb, 0)
        .into_iter()
        .filter(|e| e.kind.starts_with("partner."))
        .map(|e| e.id)
        .collect();
    result_ids.sort();
    let before = result_ids.len();
    result_ids.dedup();
    assert_eq!(before, result_ids.len(), "one result per command");
    assert_eq!(before as u64, inputs);
    for k in 0..3 {
        let s = testing::load_state::<testing::CounterSaga>(&mb, 0, &format!("k{k}"))
            .await
            .unwrap();
        assert_eq!(s.count, 10);
    }
    assert!(transport.calls() > inputs, "faults were injected");
}

#[test]
fn partner_configs_that_would_stall_are_refused() {
    assert!(PartnerConfig::new(ECHO, "n1", vec![0]).validate().is_ok());
    assert!(testing::partner_config("n1", vec![0, 1]).validate().is_ok());
    let no_partitions = PartnerConfig::new(ECHO, "n1", vec![]);
    let err = no_partitions.validate().unwrap_err();
    assert_eq!(err.field, "partitions");
    assert_eq!(
        err.to_string(),
        "partner echo: partitions must name at least one partition"
    );
    let mut no_slots = PartnerConfig::new(ECHO, "n1", vec![0]);
    no_slots.concurrency = 0;
    assert_eq!(no_slots.validate().unwrap_err().field, "concurrency");
}

#[test]
fn breaker_opens_after_the_threshold_and_closes_after_probes() {
    let mut breaker = CircuitBreaker::new(BreakerConfig {
        failure_threshold: 2,
        open_ms: 100,
        half_open_probes: 2,
    });
    assert_eq!(breaker.acquire(0), Some(false));
    breaker.record(false, false, 0);
    assert_eq!(breaker.state(0), BreakerState::Closed);
    breaker.record(false, true, 1);
    breaker.record(false, false, 2);
    assert_eq!(
        breaker.state(2),
        BreakerState::Closed,
        "a success resets the count"
    );
    breaker.record(false, false, 3);
    assert_eq!(breaker.state(3), BreakerState::Open);
    assert_eq!(breaker.acquire(102), None);
    assert_eq!(breaker.state(103), BreakerState::HalfOpen);
    assert_eq!(breaker.acquire(103), Some(true));
    assert_eq!(breaker.acquire(103), Some(true));
    assert_eq!(breaker.acquire(103), None, "only two probes");
    breaker.record(true, true, 104);
    assert_eq!(breaker.state(104), BreakerState::HalfOpen);
    breaker.record(true, true, 105);
    assert_eq!(breaker.state(105), BreakerState::Closed);
    // A failed probe opens it again for a full period.
    breaker.record(false, false, 200);
    breaker.record(false, false, 200);
    assert_eq!(breaker.acquire(300), Some(true));
    breaker.record(true, false, 301);
    assert_eq!(breaker.state(400), BreakerState::Open);
    assert_eq!(breaker.state(401), BreakerState::HalfOpen);
}

proptest! {
    #[test]
    fn backoff_stays_within_its_bounds(
        attempt in 1u32..64,
        initial_ms in 1u64..1_000,
        max_ms in 1u64..600_000,
        after_ms in proptest::option::of(0u64..100_000),
        seed in any::<u64>(),
    ) {
        let policy = RetryPolicy {
            initial: Duration::from_millis(initial_ms),
            max: Duration::from_millis(max_ms),
            defer_threshold: Duration::from_secs(5),
        };
        let mut rng = StdRng::seed_from_u64(seed);
        let after = after_ms.map(Duration::from_millis);
        let delay = policy.delay(attempt, after, &mut rng);
        let ceiling = policy.ceiling(attempt);
        prop_assert!(ceiling <= policy.max);
        prop_assert!(ceiling >= policy.initial.min(policy.max));
        prop_assert!(policy.ceiling(attempt + 1) >= ceiling);
        prop_assert!(delay <= ceiling.max(after.unwrap_or_default()));
        prop_assert!(delay >= after.unwrap_or_default());
    }

    #[test]
    fn an_open_breaker_lets_nothing_through_before_its_time(
        outcomes in proptest::collection::vec(any::<bool>(), 1..60),
        threshold in 1u32..5,
    ) {
        let config = BreakerConfig { failure_threshold: threshold, open_ms: 1_000, half_open_probes: 1 };
        let mut breaker = CircuitBreaker::new(config);
        let mut now = 0;
        let mut consecutive = 0;
        for healthy in outcomes {
            now += 10;
            let Some(probe) = breaker.acquire(now) else {
                prop_assert_eq!(breaker.state(now), BreakerState::Open);
                continue;
            };
            breaker.record(probe, healthy, now);
            consecutive = if healthy { 0 } else { consecutive + 1 };
            if !healthy && (probe || consecutive >= threshold) {
                prop_assert_eq!(breaker.state(now), BreakerState::Open);
                prop_assert_eq!(breaker.acquire(now + 999), None);
                consecutive = 0;
            }
        }
    }
}

/// Logs when each call starts and ends; a command's body `delay_ms` sets how long it takes.
#[derive(Clone, Default)]
struct OrderLog(Arc<std::sync::Mutex<Vec<String>>>);

impl OrderLog {
    fn events(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }

    fn at(&self, event: &str) -> usize {
        self.events()
            .iter()
            .position(|e| e == event)
            .unwrap_or_else(|| panic!("{event} not in {:?}", self.events()))
    }
}

impl Transport for OrderLog {
    async fn call(&self, command: &Envelope) -> Result<serde_json::Value, CallError> {
        self.0.lock().unwrap().push(format!("start:{}", command.id));
        let delay = command.body["delay_ms"].as_u64().unwrap_or(0);
        tokio::time::sleep(Duration::from_millis(delay)).await;
        self.0.lock().unwrap().push(format!("end:{}", command.id));
        Ok(json!({}))
    }
}

#[actix::test]
async fn one_keys_commands_are_called_in_order_while_other_keys_proceed() {
    let (mb, clock) = setup();
    for (id, key, delay) in [("a1", "ka", 300), ("a2", "ka", 0), ("b1", "kb", 0)] {
        let envelope = Envelope::new(id, key, "echo.call", json!({ "delay_ms": delay }));
        mb.append_raw(0, &cmd_stream(), &serde_json::to_string(&envelope).unwrap());
    }
    let log = OrderLog::default();
    let _conn = PartnerConnection::new(
        testing::partner_config("n1", vec![0]),
        mb.clone(),
        log.clone(),
        Arc::new(clock.clone()),
        ChildGuard::detached(),
    )
    .start();
    assert!(wait_until(BOUND, || inbox(&mb, 0).len() == 3).await);
    assert!(
        log.at("end:a1") < log.at("start:a2"),
        "a2 waits for a1: {:?}",
        log.events()
    );
    assert!(
        log.at("end:b1") < log.at("end:a1"),
        "another key does not wait: {:?}",
        log.events()
    );
}

#[actix::test]
async fn a_command_left_pending_by_a_killed_node_runs_before_the_newer_ones_of_its_key() {
    let (mb, clock) = setup();
    for id in ["a1", "a2"] {
        let envelope = Envelope::new(id, "ka", "echo.call", json!({}));
        mb.append_raw(0, &cmd_stream(), &serde_json::to_string(&envelope).unwrap());
    }
    mb.ensure_streams(0, &[cmd_stream()]).await.unwrap();
    // The killed node had read a1 and died before completing it: a1 stays pending on that
    // node's consumer, idle for less than `reclaim_idle_ms` (the manual clock stands still).
    let held = mb.read(0, &cmd_stream(), "killed", 1, 0).await.unwrap();
    assert_eq!(held.len(), 1);
    let log = OrderLog::default();
    let _conn = PartnerConnection::new(
        testing::partner_config("n1", vec![0]),
        mb.clone(),
        log.clone(),
        Arc::new(clock.clone()),
        ChildGuard::detached(),
    )
    .start();
    let a2_done = || inbox(&mb, 0).iter().any(|r| r.id == result_id("a2"));
    assert!(wait_until(BOUND, a2_done).await, "{:?}", log.events());
    assert!(
        log.at("end:a1") < log.at("start:a2"),
        "the older command of the key runs first: {:?}",
        log.events()
    );
}

/// Counts calls and when each started on the manual clock; a call ends once it gets a permit
/// of the gate.
#[derive(Clone)]
struct Gated {
    clock: ManualClock,
    gate: Arc<tokio::sync::Semaphore>,
    calls: Arc<std::sync::Mutex<GatedCalls>>,
}

#[derive(Default)]
struct GatedCalls {
    started_at: Vec<crate::clock::Millis>,
    running: usize,
    most_running: usize,
}

impl Gated {
    fn new(clock: &ManualClock, permits: usize) -> Self {
        Self {
            clock: clock.clone(),
            gate: Arc::new(tokio::sync::Semaphore::new(permits)),
            calls: Arc::default(),
        }
    }

    fn started_at(&self) -> Vec<crate::clock::Millis> {
        self.calls.lock().unwrap().started_at.clone()
    }

    fn most_running(&self) -> usize {
        self.calls.lock().unwrap().most_running
    }
}

impl Transport for Gated {
    async fn call(&self, _command: &Envelope) -> Result<serde_json::Value, CallError> {
        {
            let mut calls = self.calls.lock().unwrap();
            calls.started_at.push(self.clock.now_ms());
            calls.running += 1;
            calls.most_running = calls.most_running.max(calls.running);
        }
        self.gate.acquire().await.expect("gate open").forget();
        self.calls.lock().unwrap().running -= 1;
        Ok(json!({}))
    }
}

#[actix::test]
async fn the_rate_limit_admits_the_burst_then_one_call_per_period_of_the_clock() {
    let (mb, clock) = setup();
    for i in 0..6 {
        push_command(&mb, 0, &format!("c{i}"), &format!("k{i}"));
    }
    let mut config = testing::partner_config("n1", vec![0]);
    config.rate_per_second = NonZeroU32::new(1).unwrap();
    config.burst = NonZeroU32::new(2).unwrap();
    config.concurrency = 8;
    let transport = Gated::new(&clock, 100);
    let conn = start(&mb, &clock, config, &transport);
    let start = clock.now_ms();
    for released in 0..=4 {
        // The manual clock stands still until the next round: the commands the limiter holds
        // stay queued however long this takes.
        let admitted = 2 + released;
        let waiting = 6 - admitted;
        assert!(
            wait_until_async(BOUND, || async {
                let status = conn.send(GetPartnerStatus).await.unwrap();
                transport.started_at().len() == admitted && status.queued == waiting
            })
            .await,
            "{admitted} calls started and {waiting} queued: {:?}",
            transport.started_at()
        );
        clock.advance(1_000);
    }
    assert_eq!(
        transport.started_at(),
        vec![
            start,
            start,
            start + 1_000,
            start + 2_000,
            start + 3_000,
            start + 4_000
        ]
    );
    assert!(wait_until(BOUND, || inbox(&mb, 0).len() == 6).await);
}

#[actix::test]
async fn no_more_calls_than_the_concurrency_run_at_once() {
    let (mb, clock) = setup();
    for i in 0..6 {
        push_command(&mb, 0, &format!("c{i}"), &format!("k{i}"));
    }
    // A killed node had read all six: the new connection takes them over at once, so only
    // its concurrency limit, not the size of its reads, keeps calls from starting.
    mb.ensure_streams(0, &[cmd_stream()]).await.unwrap();
    assert_eq!(
        mb.read(0, &cmd_stream(), "killed", 6, 0)
            .await
            .unwrap()
            .len(),
        6
    );
    let mut config = testing::partner_config("n1", vec![0]);
    config.concurrency = 2;
    let transport = Gated::new(&clock, 0);
    let conn = start(&mb, &clock, config, &transport);
    assert!(
        wait_until_async(BOUND, || async {
            let status = conn.send(GetPartnerStatus).await.unwrap();
            transport.started_at().len() == 2 && status.in_flight == 2 && status.queued == 4
        })
        .await,
        "two calls running, four commands waiting for a slot"
    );
    transport.gate.add_permits(6);
    assert!(wait_until(BOUND, || inbox(&mb, 0).len() == 6).await);
    assert_eq!(transport.started_at().len(), 6);
    assert_eq!(transport.most_running(), 2);
}
