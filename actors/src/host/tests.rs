use std::collections::HashSet;

use super::*;
use crate::clock::ManualClock;
use crate::mailbox::MailboxOps;
use crate::mailbox::memory::MemoryMailbox;
use crate::testing::{self, CounterSaga, CounterState, input, load_state, wait_until_async};

const BOUND: Duration = Duration::from_secs(20);

type Host = PartitionHost<MemoryMailbox, CounterSaga, ManualClock>;

fn setup() -> (MemoryMailbox, ManualClock) {
    let clock = ManualClock::new(1_000_000);
    (MemoryMailbox::new(clock.clone()), clock)
}

fn start_host(
    mb: &MemoryMailbox,
    clock: &ManualClock,
    config: HostConfig,
    every: u64,
) -> Addr<Host> {
    PartitionHost::new(
        0,
        config,
        mb.clone(),
        Arc::new(CounterSaga { every }),
        Arc::new(clock.clone()),
        ChildGuard::detached(),
    )
    .start()
}

async fn state(mb: &MemoryMailbox, key: &str) -> CounterState {
    load_state::<CounterSaga>(mb, 0, key).await.unwrap()
}

async fn ingest(mb: &MemoryMailbox, id: &str, key: &str, kind: &str) {
    mb.ingest(0, &input(id, key, kind), None).await.unwrap();
}

async fn status(host: &Addr<Host>) -> HostStatus {
    host.send(GetHostStatus).await.unwrap()
}

#[actix::test]
async fn inputs_of_a_key_are_applied_in_stream_order() {
    let (mb, clock) = setup();
    let keys = ["k1", "k2", "k3"];
    let mut expected: HashMap<&str, Vec<String>> = HashMap::new();
    for i in 0..60 {
        let key = keys[i % 3];
        let id = format!("in-{i}");
        ingest(&mb, &id, key, "inc").await;
        expected.entry(key).or_default().push(id);
    }
    let host = start_host(&mb, &clock, testing::host_config("a"), 0);
    for key in keys {
        let done = wait_until_async(BOUND, || async { state(&mb, key).await.count == 20 }).await;
        assert!(done, "{key} did not reach 20");
        assert_eq!(state(&mb, key).await.applied, expected[key]);
    }
    assert!(mb.pending(0, &StreamName::Inbox).is_empty());
    assert_eq!(mb.history(0, "k1").len(), 20);
    assert_eq!(status(&host).await.in_flight, 0);
}

#[actix::test]
async fn an_idle_key_is_passivated_and_reactivated_from_its_stored_state() {
    let (mb, clock) = setup();
    let config = HostConfig {
        passivation_idle_ms: 5_000,
        ..testing::host_config("a")
    };
    let host = start_host(&mb, &clock, config, 0);
    for i in 0..3 {
        ingest(&mb, &format!("a{i}"), "k", "inc").await;
    }
    assert!(wait_until_async(BOUND, || async { state(&mb, "k").await.count == 3 }).await);
    assert_eq!(status(&host).await.live_keys, 1);
    clock.advance(5_000);
    assert!(wait_until_async(BOUND, || async { status(&host).await.live_keys == 0 }).await);
    for i in 3..5 {
        ingest(&mb, &format!("a{i}"), "k", "inc").await;
    }
    assert!(wait_until_async(BOUND, || async { state(&mb, "k").await.count == 5 }).await);
    let applied = state(&mb, "k").await.applied;
    assert_eq!(applied, (0..5).map(|i| format!("a{i}")).collect::<Vec<_>>());
    assert_eq!(status(&host).await.live_keys, 1);
}

#[actix::test]
async fn a_terminal_key_is_passivated_at_once() {
    let (mb, clock) = setup();
    let host = start_host(&mb, &clock, testing::host_config("a"), 0);
    ingest(&mb, "1", "k", "inc").await;
    ingest(&mb, "2", "k", "finish").await;
    assert!(wait_until_async(BOUND, || async { state(&mb, "k").await.finished }).await);
    assert!(wait_until_async(BOUND, || async { status(&host).await.live_keys == 0 }).await);
    assert!(mb.is_terminal(0, "k"));
}

#[actix::test]
async fn a_new_owner_after_a_crash_applies_every_input_exactly_once() {
    let (mb, clock) = setup();
    let total = 200;
    for i in 0..total / 2 {
        ingest(&mb, &format!("i{i}"), &format!("k{}", i % 10), "inc").await;
    }
    let first = start_host(&mb, &clock, testing::host_config("node-a"), 3);
    let committed = || async {
        let mut sum = 0;
        for k in 0..10 {
            sum += state(&mb, &format!("k{k}")).await.count;
        }
        sum
    };
    assert!(wait_until_async(BOUND, || async { committed().await >= 40 }).await);
    // Crash: no grace, whatever was in flight stays pending on node-a.
    first
        .send(Shutdown {
            grace: Duration::ZERO,
        })
        .await
        .unwrap();
    for i in total / 2..total {
        ingest(&mb, &format!("i{i}"), &format!("k{}", i % 10), "inc").await;
    }
    // A node that died right after reading leaves entries pending too.
    let ghost = mb.read(0, &StreamName::Inbox, "ghost", 5, 0).await.unwrap();
    let before = committed().await;
    assert!(before < total, "the crash must interrupt the run");
    let second = start_host(&mb, &clock, testing::host_config("node-b"), 3);
    let all_done = wait_until_async(BOUND, || {
        // Let entries left by node-a and the ghost become idle enough to reclaim.
        clock.advance(500);
        async { committed().await == total && mb.pending(0, &StreamName::Inbox).is_empty() }
    })
    .await;
    assert!(all_done, "committed {} of {total}", committed().await);
    for k in 0..10 {
        let s = state(&mb, &format!("k{k}")).await;
        let unique: HashSet<&String> = s.applied.iter().collect();
        assert_eq!(
            unique.len(),
            s.applied.len(),
            "an input of k{k} was applied twice"
        );
        assert_eq!(s.count, 20);
    }
    assert!(ghost.len() == 5 && mb.dead_letters(0).await.unwrap().is_empty());
    // Every third increment of a key emitted exactly one command.
    let commands = mb.entries(0, &StreamName::Commands(testing::ECHO.into()));
    assert_eq!(commands.len(), 10 * (20 / 3));
    assert_eq!(status(&second).await.in_flight, 0);
}

#[actix::test]
async fn undecodable_and_always_panicking_inputs_are_dead_lettered() {
    let (mb, clock) = setup();
    let config = HostConfig {
        max_deliveries: 3,
        ..testing::host_config("a")
    };
    mb.append_raw(0, &StreamName::Inbox, "{not an envelope");
    ingest(&mb, "p", "k", "panic").await;
    ingest(&mb, "after", "k", "inc").await;
    ingest(&mb, "other", "k2", "inc").await;
    let host = start_host(&mb, &clock, config, 0);
    assert!(wait_until_async(BOUND, || async { state(&mb, "k2").await.count == 1 }).await);
    let dead = wait_until_async(BOUND, || {
        clock.advance(1_000);
        async { mb.dead_letters(0).await.unwrap().len() == 2 }
    })
    .await;
    assert!(dead);
    let letters = mb.dead_letters(0).await.unwrap();
    assert!(
        letters[0].reason.starts_with("undecodable"),
        "{}",
        letters[0].reason
    );
    assert_eq!(letters[1].reason, "delivered 4 times (max 3)");
    assert!(letters[1].raw.contains("\"panic\""));
    // The input after the poison one is applied once the poison one is gone.
    assert!(
        wait_until_async(BOUND, || {
            clock.advance(1_000);
            async { state(&mb, "k").await.count == 1 }
        })
        .await
    );
    assert!(
        wait_until_async(BOUND, || async {
            mb.pending(0, &StreamName::Inbox).is_empty()
        })
        .await
    );
    assert_eq!(status(&host).await.blocked_keys, 0);
}

#[actix::test]
async fn a_key_blocked_by_a_failure_keeps_its_order() {
    let (mb, clock) = setup();
    // Until the poison input is dealt with (dead-lettered after max deliveries),
    // nothing after it on the same key may be applied.
    ingest(&mb, "first", "k", "inc").await;
    ingest(&mb, "boom", "k", "panic").await;
    ingest(&mb, "third", "k", "inc").await;
    let host = start_host(&mb, &clock, testing::host_config("a"), 0);
    assert!(wait_until_async(BOUND, || async { status(&host).await.blocked_keys == 1 }).await);
    assert_eq!(state(&mb, "k").await.applied, vec!["first".to_owned()]);
    ingest(&mb, "fourth", "k", "inc").await;
    assert!(
        wait_until_async(BOUND, || async {
            mb.pending(0, &StreamName::Inbox).len() == 3
        })
        .await
    );
    assert_eq!(state(&mb, "k").await.count, 1);
    // Dead-lettering the poison input (after max deliveries) unblocks the key.
    assert!(
        wait_until_async(BOUND, || {
            clock.advance(1_000);
            async { state(&mb, "k").await.count == 3 }
        })
        .await
    );
    assert_eq!(
        state(&mb, "k").await.applied,
        vec!["first".to_owned(), "third".to_owned(), "fourth".to_owned()]
    );
}

#[actix::test]
async fn timers_fire_into_the_inbox() {
    let (mb, clock) = setup();
    let _host = start_host(&mb, &clock, testing::host_config("a"), 0);
    let mut remind = input("r", "k", "inc");
    remind.body = serde_json::json!({ "remind_in_ms": 60_000 });
    mb.ingest(0, &remind, None).await.unwrap();
    assert!(wait_until_async(BOUND, || async { mb.timers(0).len() == 1 }).await);
    assert_eq!(state(&mb, "k").await.reminders, 0);
    clock.advance(60_000);
    assert!(wait_until_async(BOUND, || async { state(&mb, "k").await.reminders == 1 }).await);
}

#[actix::test]
async fn a_store_outage_delays_but_loses_nothing() {
    let (mb, clock) = setup();
    for i in 1..=5 {
        ingest(&mb, &i.to_string(), "k", "inc").await;
    }
    mb.set_unavailable(true);
    // Paused time: the 200 ms below pass only once the host has nothing left to do, so
    // whatever it would read or apply during them has happened, on any machine.
    tokio::time::pause();
    let _host = start_host(&mb, &clock, testing::host_config("a"), 0);
    let applied_during_outage = wait_until_async(Duration::from_millis(200), || async {
        mb.pending(0, &StreamName::Inbox).len() + mb.keys(0).len() > 0
    })
    .await;
    assert!(
        !applied_during_outage,
        "nothing can be read while the store is down"
    );
    mb.set_unavailable(false);
    assert!(wait_until_async(BOUND, || async { state(&mb, "k").await.count == 5 }).await);
    assert_eq!(
        state(&mb, "k").await.applied,
        (1..=5).map(|i| i.to_string()).collect::<Vec<_>>()
    );
}

#[actix::test]
async fn graceful_shutdown_finishes_in_flight_commits_and_stops_reading() {
    let (mb, clock) = setup();
    for i in 0..50 {
        ingest(&mb, &format!("i{i}"), &format!("k{}", i % 5), "inc").await;
    }
    let host = start_host(&mb, &clock, testing::host_config("a"), 0);
    assert!(wait_until_async(BOUND, || async { state(&mb, "k0").await.count >= 1 }).await);
    host.send(Shutdown {
        grace: Duration::from_secs(5),
    })
    .await
    .unwrap();
    assert!(wait_until_async(BOUND, || async { !host.connected() }).await);
    // Whatever was read and not applied is still pending; nothing is half-done:
    // every applied input is acknowledged and every pending one is not applied.
    let mut applied = HashSet::new();
    for k in 0..5 {
        applied.extend(state(&mb, &format!("k{k}")).await.applied);
    }
    let pending: HashSet<String> = mb
        .pending(0, &StreamName::Inbox)
        .into_iter()
        .filter_map(|p| {
            mb.entries(0, &StreamName::Inbox)
                .into_iter()
                .find(|(id, _)| *id == p.entry_id)
                .map(|(_, raw)| {
                    serde_json::from_str::<crate::envelope::Envelope>(&raw)
                        .unwrap()
                        .id
                })
        })
        .collect();
    assert!(applied.is_disjoint(&pending));
    let ingested = 50;
    let read = applied.len() + pending.len();
    assert!(read <= ingested);
    // Another host finishes the job.
    let _next = start_host(&mb, &clock, testing::host_config("b"), 0);
    let done = wait_until_async(BOUND, || {
        clock.advance(500);
        async {
            let mut total = 0;
            for k in 0..5 {
                total += state(&mb, &format!("k{k}")).await.count;
            }
            total == 50
        }
    })
    .await;
    assert!(done);
}

#[actix::test]
async fn a_host_under_a_supervisor_is_started_and_stopped_by_name() {
    use crate::supervisor::{AddChild, GetChildren, RemoveChild, Supervisor, SupervisorConfig};
    let (mb, clock) = setup();
    let partitions = Supervisor::new(SupervisorConfig::new("partitions")).start();
    let spec = partition_host_spec(
        0,
        testing::host_config("a"),
        mb.clone(),
        Arc::new(CounterSaga { every: 0 }),
        Arc::new(clock.clone()),
    );
    partitions.send(AddChild(spec)).await.unwrap();
    ingest(&mb, "1", "k", "inc").await;
    assert!(wait_until_async(BOUND, || async { state(&mb, "k").await.count == 1 }).await);
    let children = partitions.send(GetChildren).await.unwrap();
    assert_eq!(children[0].name, partition_host_name(0));
    assert!(
        partitions
            .send(RemoveChild {
                name: partition_host_name(0),
                grace: Duration::from_secs(1),
            })
            .await
            .unwrap()
    );
    ingest(&mb, "2", "k", "inc").await;
    // Removed: nobody reads the partition any more.
    let read_by_someone = wait_until_async(Duration::from_millis(300), || async {
        !mb.pending(0, &StreamName::Inbox).is_empty() || state(&mb, "k").await.count > 1
    })
    .await;
    assert!(!read_by_someone);
}

#[test]
fn configs_that_would_stall_are_refused() {
    assert!(HostConfig::new("a").validate().is_ok());
    assert!(testing::host_config("a").validate().is_ok());
    let zero_batch = HostConfig {
        batch_size: 0,
        ..HostConfig::new("a")
    };
    assert_eq!(zero_batch.validate().unwrap_err().field, "batch_size");
    let no_consumer = HostConfig::new("");
    assert_eq!(no_consumer.validate().unwrap_err().field, "consumer");
}

#[actix::test]
async fn two_owners_of_one_partition_still_apply_each_input_once() {
    // During a lease handover two hosts may briefly read the same partition:
    // the version check and the acknowledgement in the commit keep every input
    // applied exactly once (order across the two owners is not guaranteed).
    let (mb, clock) = setup();
    // Three keys over two alternating readers: each owner gets inputs of every key.
    for i in 0..99 {
        ingest(&mb, &format!("i{i}"), &format!("k{}", i % 3), "inc").await;
    }
    // One entry per read, so that both owners get entries of both keys.
    let one_by_one = |consumer| HostConfig {
        batch_size: 1,
        ..testing::host_config(consumer)
    };
    let a = start_host(&mb, &clock, one_by_one("a"), 0);
    let b = start_host(&mb, &clock, one_by_one("b"), 0);
    let done = wait_until_async(BOUND, || async {
        let mut total = 0;
        for key in ["k0", "k1", "k2"] {
            total += state(&mb, key).await.count;
        }
        total == 99 && mb.pending(0, &StreamName::Inbox).is_empty()
    })
    .await;
    assert!(done);
    for key in ["k0", "k1", "k2"] {
        let s = state(&mb, key).await;
        assert_eq!(s.count, 33);
        let unique: HashSet<&String> = s.applied.iter().collect();
        assert_eq!(unique.len(), 33);
        assert_eq!(mb.load(0, key).await.unwrap().ver, 33);
    }
    assert_eq!(status(&a).await.in_flight + status(&b).await.in_flight, 0);
}
