//! The Redis store against a private `redis-server`: behaviour of every
//! `Mailbox` method, a Redis crash, and the model-based
//! comparison with the in-memory mailbox (`store/model.rs`).

#[path = "store/model.rs"]
mod model;

use std::time::{Duration, Instant};

use tradehub::store::{RedisMailbox, StoreConfig};
use tradehub_actors::envelope::Envelope;
use tradehub_actors::mailbox::{
    Commit, CommitOutcome, Delivery, EntryId, IngestOutcome, Leases, Mailbox, MailboxError,
    MailboxOps, StreamName,
};
use tradehub_actors::saga::{Command, Timer};

use crate::common::redis::{Persistence, RedisServer, unique_prefix};

/// Upper bound for every wait on a condition.
const PATIENCE: Duration = Duration::from_secs(10);

/// A mailbox under a prefix no other mailbox uses.
async fn mailbox(server: &RedisServer) -> RedisMailbox {
    mailbox_with(StoreConfig::with_url(server.url())).await
}

async fn mailbox_with(config: StoreConfig) -> RedisMailbox {
    RedisMailbox::connect(config.prefix(unique_prefix("t")))
        .await
        .expect("connect to the test redis-server")
}

/// A plain connection, to look at or tamper with keys behind the store's back.
async fn raw(server: &RedisServer) -> redis::aio::MultiplexedConnection {
    redis::Client::open(server.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

fn env(id: &str, key: &str) -> Envelope {
    Envelope::new(id, key, "test.input", serde_json::json!({ "id": id }))
}

fn cmd(partner: &str) -> StreamName {
    StreamName::Commands(partner.to_owned())
}

fn raw_of(envelope: &Envelope) -> String {
    serde_json::to_string(envelope).unwrap()
}

fn accepted(outcome: IngestOutcome) -> EntryId {
    match outcome {
        IngestOutcome::Accepted { entry_id } => entry_id,
        other => panic!("expected an accepted ingest, got {other:?}"),
    }
}

/// Ingest `ids` for key `key` and read them all as consumer `a`.
async fn ingest_and_read(mb: &RedisMailbox, p: u16, key: &str, ids: &[&str]) -> Vec<Delivery> {
    mb.ensure_streams(p, &[StreamName::Inbox]).await.unwrap();
    for id in ids {
        mb.ingest(p, &env(id, key), None).await.unwrap();
    }
    let got = mb.read(p, &StreamName::Inbox, "a", 100, 0).await.unwrap();
    assert_eq!(got.len(), ids.len());
    got
}

fn commit_of(delivery: &Delivery, expected_ver: u64, state: &str) -> Commit {
    let key = delivery.envelope.as_ref().unwrap().key.clone();
    Commit {
        partition: delivery.partition,
        key,
        expected_ver,
        state: state.to_owned(),
        terminal: false,
        history: vec![format!("{{\"applied\":\"{}\"}}", delivery.entry_id)],
        audit: vec![format!("{{\"state\":\"{state}\"}}")],
        commands: Vec::new(),
        timers: Vec::new(),
        ack: Some(delivery.entry_id.clone()),
    }
}

async fn wait_until<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + PATIENCE;
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn commit_writes_state_history_audit_commands_timers_and_ack_at_once() {
    let server = RedisServer::start();
    let mb = mailbox(&server).await;
    let d = ingest_and_read(&mb, 1, "SH-1", &["in-1"]).await.remove(0);

    let mut commit = commit_of(&d, 0, "{\"n\":1}");
    commit.commands = vec![
        Command {
            partner: "broker".into(),
            envelope: env("c-1", "SH-1"),
        },
        Command {
            partner: "carrier".into(),
            envelope: env("c-2", "SH-1"),
        },
        Command {
            partner: "broker".into(),
            envelope: env("c-3", "SH-1"),
        },
    ];
    commit.timers = vec![Timer {
        due_ms: 5_000,
        envelope: env("t-1", "SH-1"),
    }];
    commit.terminal = true;
    assert_eq!(
        mb.commit(&commit).await.unwrap(),
        CommitOutcome::Committed { ver: 1 }
    );

    let stored = mb.load(1, "SH-1").await.unwrap();
    assert_eq!(
        (stored.ver, stored.state.as_deref()),
        (1, Some("{\"n\":1}"))
    );
    assert_eq!(mb.history(1, "SH-1").await.unwrap(), commit.history);
    let broker: Vec<String> = mb
        .entries(1, &cmd("broker"))
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.1)
        .collect();
    assert_eq!(
        broker,
        vec![raw_of(&env("c-1", "SH-1")), raw_of(&env("c-3", "SH-1"))]
    );
    assert_eq!(mb.entries(1, &cmd("carrier")).await.unwrap().len(), 1);
    let timers = mb.timers(1).await.unwrap();
    assert_eq!(timers.len(), 1);
    assert_eq!(
        (timers[0].due_ms, &timers[0].stream),
        (5_000, &StreamName::Inbox)
    );
    assert!(
        !mb.is_pending(1, &StreamName::Inbox, &d.entry_id)
            .await
            .unwrap()
    );
    assert_eq!(mb.verify_audit(1).await.unwrap(), 1);

    // A stale version writes nothing at all.
    let mut stale = commit_of(&d, 0, "{\"n\":99}");
    stale.ack = None;
    stale.commands = vec![Command {
        partner: "broker".into(),
        envelope: env("c-9", "SH-1"),
    }];
    stale.timers = vec![Timer {
        due_ms: 1,
        envelope: env("t-9", "SH-1"),
    }];
    assert_eq!(
        mb.commit(&stale).await.unwrap(),
        CommitOutcome::Conflict { current_ver: 1 }
    );
    assert_eq!(mb.load(1, "SH-1").await.unwrap(), stored);
    assert_eq!(mb.history(1, "SH-1").await.unwrap().len(), 1);
    assert_eq!(mb.entries(1, &cmd("broker")).await.unwrap().len(), 2);
    assert_eq!(mb.timers(1).await.unwrap().len(), 1);
    assert_eq!(mb.audit_entries(1).await.unwrap().len(), 1);

    // The next version goes through.
    let mut next = commit_of(&d, 1, "{\"n\":2}");
    next.ack = None;
    assert_eq!(
        mb.commit(&next).await.unwrap(),
        CommitOutcome::Committed { ver: 2 }
    );
    assert_eq!(mb.load(1, "SH-1").await.unwrap().ver, 2);
}

#[tokio::test]
async fn an_input_committed_by_another_owner_is_not_applied_twice() {
    let server = RedisServer::start();
    let mb = mailbox(&server).await;
    let d = ingest_and_read(&mb, 0, "SH-2", &["in-1"]).await.remove(0);
    assert_eq!(
        mb.commit(&commit_of(&d, 0, "one")).await.unwrap(),
        CommitOutcome::Committed { ver: 1 }
    );

    // Same input again, at the right version: refused, nothing written.
    assert_eq!(
        mb.commit(&commit_of(&d, 1, "two")).await.unwrap(),
        CommitOutcome::AlreadyAcknowledged
    );
    // The acknowledgement check comes before the version check.
    assert_eq!(
        mb.commit(&commit_of(&d, 0, "two")).await.unwrap(),
        CommitOutcome::AlreadyAcknowledged
    );
    assert_eq!(
        mb.load(0, "SH-2").await.unwrap().state.as_deref(),
        Some("one")
    );
    assert_eq!(mb.history(0, "SH-2").await.unwrap().len(), 1);
    assert_eq!(mb.verify_audit(0).await.unwrap(), 1);
}

#[tokio::test]
async fn ingest_with_an_idempotency_key_writes_once_until_the_ledger_expires() {
    let server = RedisServer::start();
    let mb = mailbox_with(StoreConfig {
        dedupe_ttl_ms: 1_000,
        ..StoreConfig::with_url(server.url())
    })
    .await;
    let first = accepted(mb.ingest(2, &env("m1", "k"), Some("idem-1")).await.unwrap());
    let again = mb
        .ingest(2, &env("m1-retry", "k"), Some("idem-1"))
        .await
        .unwrap();
    assert_eq!(
        again,
        IngestOutcome::Duplicate {
            entry_id: first.clone()
        }
    );
    let other = accepted(mb.ingest(2, &env("m2", "k"), Some("idem-2")).await.unwrap());
    assert_ne!(other, first);
    accepted(mb.ingest(2, &env("m3", "k"), None).await.unwrap());
    accepted(mb.ingest(2, &env("m3", "k"), None).await.unwrap());
    let raws: Vec<String> = mb
        .entries(2, &StreamName::Inbox)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.1)
        .collect();
    assert_eq!(raws.len(), 4);
    assert_eq!(raws[0], raw_of(&env("m1", "k")));

    // Once the ledger entry expires, the key is new again.
    wait_until("the idempotency key expires", || async {
        matches!(
            mb.ingest(2, &env("m1-late", "k"), Some("idem-1"))
                .await
                .unwrap(),
            IngestOutcome::Accepted { .. }
        )
    })
    .await;
    assert_eq!(mb.entries(2, &StreamName::Inbox).await.unwrap().len(), 5);
}

#[tokio::test]
async fn reclaim_takes_over_idle_entries_and_counts_deliveries() {
    let server = RedisServer::start();
    let mb = mailbox(&server).await;
    let read = ingest_and_read(&mb, 3, "k", &["a", "b", "c"]).await;
    assert!(read.iter().all(|d| d.deliveries == 1));

    // Nothing has been idle for a minute.
    assert!(
        mb.reclaim(3, &StreamName::Inbox, "b", 60_000, 10)
            .await
            .unwrap()
            .is_empty()
    );

    let first = mb.reclaim(3, &StreamName::Inbox, "b", 0, 2).await.unwrap();
    let ids: Vec<_> = first
        .iter()
        .map(|d| (d.entry_id.clone(), d.deliveries))
        .collect();
    assert_eq!(
        ids,
        vec![(read[0].entry_id.clone(), 2), (read[1].entry_id.clone(), 2)]
    );
    assert_eq!(first[0].envelope, read[0].envelope);
    let pending = mb.pending_entries(3, &StreamName::Inbox, 10).await.unwrap();
    let owners: Vec<&str> = pending.iter().map(|p| p.consumer.as_str()).collect();
    assert_eq!(owners, vec!["b", "b", "a"]);

    // Idle time is real: none of them has been idle for an hour, and each becomes
    // reclaimable once idle long enough. The third entry was delivered first, so it
    // qualifies first; the other two may qualify in the same call.
    assert!(
        mb.reclaim(3, &StreamName::Inbox, "c", 3_600_000, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let deadline = Instant::now() + PATIENCE;
    let claimed = loop {
        let claimed = mb
            .reclaim(3, &StreamName::Inbox, "c", 50, 10)
            .await
            .unwrap();
        if !claimed.is_empty() {
            break claimed;
        }
        assert!(Instant::now() < deadline, "nothing became reclaimable");
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    assert!(
        claimed
            .iter()
            .any(|d| d.entry_id == read[2].entry_id && d.deliveries == 2)
    );
    for d in &claimed {
        let expected = if d.entry_id == read[2].entry_id { 2 } else { 3 };
        assert_eq!(d.deliveries, expected, "{}", d.entry_id);
    }
    let pending = mb.pending_entries(3, &StreamName::Inbox, 10).await.unwrap();
    let by_c = pending.iter().filter(|p| p.consumer == "c").count();
    assert_eq!(by_c, claimed.len());

    // Idle entries far behind busy ones are still found: one XAUTOCLAIM call only
    // scans ten entries per entry asked for.
    let ids: Vec<String> = (0..15).map(|i| format!("x{i}")).collect();
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    let read = ingest_and_read(&mb, 19, "k", &ids).await;
    // The first twelve are taken back at once, so they are far from the 1 s idle
    // threshold when the next call looks for idle entries.
    wait_until("every entry has been idle for 1 s", || async {
        let pending = mb
            .pending_entries(19, &StreamName::Inbox, 100)
            .await
            .unwrap();
        pending.iter().all(|p| p.idle_ms >= 1_000)
    })
    .await;
    assert_eq!(
        mb.reclaim(19, &StreamName::Inbox, "b", 0, 12)
            .await
            .unwrap()
            .len(),
        12
    );
    let deep = mb
        .reclaim(19, &StreamName::Inbox, "c", 1_000, 1)
        .await
        .unwrap();
    assert_eq!(deep.len(), 1);
    assert_eq!(deep[0].entry_id, read[12].entry_id);

    // Reclaiming an empty or unknown stream finds nothing.
    assert!(
        mb.reclaim(3, &cmd("nobody"), "c", 0, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn dead_letters_keep_their_origin_and_redrive_resets_the_attempt() {
    const MAX_DELIVERIES: u32 = 3;
    let server = RedisServer::start();
    let mb = mailbox(&server).await;
    mb.ensure_streams(4, &[cmd("broker")]).await.unwrap();
    let mut tired = env("c-1", "SH-4");
    tired.attempt = 3;
    mb.append_raw(4, &cmd("broker"), &raw_of(&tired))
        .await
        .unwrap();
    let mut delivery = mb
        .read(4, &cmd("broker"), "w1", 10, 0)
        .await
        .unwrap()
        .remove(0);
    while delivery.deliveries < MAX_DELIVERIES {
        delivery = mb
            .reclaim(4, &cmd("broker"), "w2", 0, 1)
            .await
            .unwrap()
            .remove(0);
    }
    let dlq_id = mb
        .dead_letter(&delivery, "partner keeps answering 500", 42)
        .await
        .unwrap();
    assert!(
        !mb.is_pending(4, &cmd("broker"), &delivery.entry_id)
            .await
            .unwrap()
    );
    let dead = mb.dead_letters(4).await.unwrap();
    assert_eq!(dead.len(), 1);
    let dl = &dead[0];
    assert_eq!(dl.id, dlq_id);
    assert_eq!(
        (&dl.origin, &dl.origin_id),
        (&cmd("broker"), &delivery.entry_id)
    );
    assert_eq!(
        (dl.deliveries, dl.reason.as_str(), dl.at_ms),
        (3, "partner keeps answering 500", 42)
    );
    assert_eq!(dl.raw, raw_of(&tired));

    // Dead-lettering an entry that is no longer pending is refused.
    let again = mb.dead_letter(&delivery, "twice", 43).await;
    assert!(matches!(again, Err(MailboxError::Protocol(_))), "{again:?}");

    let new_id = mb.redrive(4, &dlq_id).await.unwrap();
    assert!(mb.dead_letters(4).await.unwrap().is_empty());
    let back = mb.read(4, &cmd("broker"), "w1", 10, 0).await.unwrap();
    assert_eq!(back.len(), 1);
    assert_eq!(back[0].entry_id, new_id);
    let redriven = back[0].envelope.clone().unwrap();
    assert_eq!((redriven.id.as_str(), redriven.attempt), ("c-1", 1));
    assert!(matches!(
        mb.redrive(4, &dlq_id).await,
        Err(MailboxError::Protocol(_))
    ));
}

#[tokio::test]
async fn poison_entries_are_delivered_as_errors_and_redriven_unchanged() {
    let server = RedisServer::start();
    let mb = mailbox(&server).await;
    mb.append_raw(5, &StreamName::Inbox, "{not json")
        .await
        .unwrap();
    let d = mb
        .read(5, &StreamName::Inbox, "a", 10, 0)
        .await
        .unwrap()
        .remove(0);
    assert!(
        d.envelope
            .as_ref()
            .unwrap_err()
            .starts_with("undecodable envelope")
    );
    let id = mb.dead_letter(&d, "poison", 1).await.unwrap();
    assert_eq!(mb.dead_letters(5).await.unwrap()[0].raw, "{not json");
    mb.redrive(5, &id).await.unwrap();
    let raws: Vec<String> = mb
        .entries(5, &StreamName::Inbox)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.1)
        .collect();
    assert_eq!(raws, vec!["{not json".to_owned(), "{not json".to_owned()]);
}

#[tokio::test]
async fn timers_fire_in_due_order_into_their_target_streams() {
    let server = RedisServer::start();
    let mb = mailbox(&server).await;
    let d = ingest_and_read(&mb, 6, "SH-6", &["in-1"]).await.remove(0);
    let mut commit = commit_of(&d, 0, "s");
    commit.timers = vec![
        Timer {
            due_ms: 2_000,
            envelope: env("t-late", "SH-6"),
        },
        Timer {
            due_ms: 1_000,
            envelope: env("t-early", "SH-6"),
        },
        Timer {
            due_ms: 2_000,
            envelope: env("t-late-2", "SH-6"),
        },
    ];
    commit.commands = vec![Command {
        partner: "broker".into(),
        envelope: env("c-1", "SH-6"),
    }];
    mb.commit(&commit).await.unwrap();

    // A command that must wait is deferred onto a timer targeting its stream.
    let c = mb
        .read(6, &cmd("broker"), "w", 10, 0)
        .await
        .unwrap()
        .remove(0);
    let mut retry = c.envelope.clone().unwrap();
    retry.attempt += 1;
    mb.defer(6, &cmd("broker"), &c.entry_id, 1_500, &retry)
        .await
        .unwrap();
    assert!(!mb.is_pending(6, &cmd("broker"), &c.entry_id).await.unwrap());
    // Deferring it again (no longer pending) writes nothing.
    mb.defer(6, &cmd("broker"), &c.entry_id, 1_500, &retry)
        .await
        .unwrap();
    assert_eq!(mb.timers(6).await.unwrap().len(), 4);

    let inbox_ids = |mb: RedisMailbox| async move {
        mb.entries(6, &StreamName::Inbox)
            .await
            .unwrap()
            .into_iter()
            .map(|(_, raw)| serde_json::from_str::<Envelope>(&raw).unwrap().id)
            .collect::<Vec<_>>()
    };
    assert_eq!(mb.fire_timers(6, 999, 10).await.unwrap(), 0);
    assert_eq!(mb.fire_timers(6, 1_499, 10).await.unwrap(), 1);
    assert_eq!(inbox_ids(mb.clone()).await, vec!["in-1", "t-early"]);
    assert_eq!(mb.fire_timers(6, 1_500, 10).await.unwrap(), 1);
    let broker: Vec<String> = mb
        .entries(6, &cmd("broker"))
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.1)
        .collect();
    assert_eq!(broker.last(), Some(&raw_of(&retry)));
    // The limit bounds one call; ties fire in scheduling order.
    assert_eq!(mb.fire_timers(6, 9_999, 1).await.unwrap(), 1);
    assert_eq!(mb.fire_timers(6, 9_999, 10).await.unwrap(), 1);
    assert_eq!(
        inbox_ids(mb.clone()).await,
        vec!["in-1", "t-early", "t-late", "t-late-2"]
    );
    assert_eq!(mb.fire_timers(6, 9_999, 10).await.unwrap(), 0);
    assert!(mb.timers(6).await.unwrap().is_empty());
}

#[tokio::test]
async fn complete_appends_results_and_acknowledges_only_once() {
    let server = RedisServer::start();
    let mb = mailbox(&server).await;
    mb.append_raw(7, &cmd("odoo"), &raw_of(&env("c-1", "SH-7")))
        .await
        .unwrap();
    let c = mb.read(7, &cmd("odoo"), "w", 1, 0).await.unwrap().remove(0);
    let results = [env("r-1", "SH-7"), env("r-2", "SH-7")];
    mb.complete(7, &cmd("odoo"), &c.entry_id, &results)
        .await
        .unwrap();
    assert!(!mb.is_pending(7, &cmd("odoo"), &c.entry_id).await.unwrap());
    // A second completion (e.g. by a worker that reclaimed it late) writes nothing.
    mb.complete(7, &cmd("odoo"), &c.entry_id, &results)
        .await
        .unwrap();
    let inbox: Vec<String> = mb
        .entries(7, &StreamName::Inbox)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.1)
        .collect();
    assert_eq!(inbox, results.iter().map(raw_of).collect::<Vec<_>>());
}

#[tokio::test]
async fn trim_never_drops_pending_or_undelivered_entries() {
    let server = RedisServer::start();
    let mb = mailbox(&server).await;
    let p = 8;
    mb.ensure_streams(p, &[StreamName::Inbox]).await.unwrap();
    for i in 0..10 {
        mb.ingest(p, &env(&format!("m{i}"), &format!("k{i}")), None)
            .await
            .unwrap();
    }
    // Nothing delivered yet: nothing may go.
    assert_eq!(mb.trim(p, &StreamName::Inbox, 0).await.unwrap(), 0);
    let read = mb.read(p, &StreamName::Inbox, "a", 4, 0).await.unwrap();
    for i in [0, 1, 3] {
        mb.commit(&commit_of(&read[i], 0, "s")).await.unwrap();
    }
    // Entry 2 is pending: only 0 and 1 may go.
    assert_eq!(mb.trim(p, &StreamName::Inbox, 0).await.unwrap(), 2);
    let first = mb.entries(p, &StreamName::Inbox).await.unwrap()[0]
        .0
        .clone();
    assert_eq!(first, read[2].entry_id);
    mb.commit(&commit_of(&read[2], 0, "s")).await.unwrap();
    // 2 and 3 are acknowledged; 4.. were never delivered.
    assert_eq!(mb.trim(p, &StreamName::Inbox, 0).await.unwrap(), 2);
    assert_eq!(mb.stats(p, &StreamName::Inbox).await.unwrap().length, 6);
    for d in mb.read(p, &StreamName::Inbox, "a", 10, 0).await.unwrap() {
        mb.commit(&commit_of(&d, 0, "s")).await.unwrap();
    }
    assert_eq!(mb.trim(p, &StreamName::Inbox, 4).await.unwrap(), 2);
    assert_eq!(mb.trim(p, &StreamName::Inbox, 4).await.unwrap(), 0);
    assert_eq!(mb.trim(p, &StreamName::Inbox, 0).await.unwrap(), 4);
    assert_eq!(mb.stats(p, &StreamName::Inbox).await.unwrap().length, 0);
    // A stream nobody consumed keeps everything.
    mb.append_raw(p, &cmd("x"), "{}").await.unwrap();
    assert_eq!(mb.trim(p, &cmd("x"), 0).await.unwrap(), 0);
}

#[tokio::test]
async fn long_streams_are_read_back_whole_and_in_order() {
    let server = RedisServer::start();
    let mb = mailbox(&server).await;
    for i in 0..2_500 {
        mb.append_raw(20, &cmd("bulk"), &format!("{i}"))
            .await
            .unwrap();
    }
    let raws: Vec<String> = mb
        .entries(20, &cmd("bulk"))
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.1)
        .collect();
    assert_eq!(raws, (0..2_500).map(|i| i.to_string()).collect::<Vec<_>>());
}

#[tokio::test]
async fn stats_report_length_pending_and_oldest_pending_age() {
    let server = RedisServer::start();
    let mb = mailbox(&server).await;
    assert_eq!(
        mb.stats(9, &StreamName::Inbox).await.unwrap(),
        Default::default()
    );
    mb.ensure_streams(9, &[StreamName::Inbox]).await.unwrap();
    for i in 0..3 {
        mb.ingest(9, &env(&format!("m{i}"), "k"), None)
            .await
            .unwrap();
    }
    mb.read(9, &StreamName::Inbox, "a", 2, 0).await.unwrap();
    let stats = mb.stats(9, &StreamName::Inbox).await.unwrap();
    assert_eq!((stats.length, stats.pending), (3, 2));
    wait_until("the oldest pending entry is 30 ms old", || async {
        mb.stats(9, &StreamName::Inbox)
            .await
            .unwrap()
            .oldest_pending_age_ms
            >= 30
    })
    .await;
}

#[tokio::test]
async fn leases_are_exclusive_renewable_and_expire() {
    let server = RedisServer::start();
    let mb = mailbox(&server).await;
    let mut conn = raw(&server).await;
    let lease_key = mb.keys().lease(10);

    assert!(mb.lease(10, "node-a", 500).await.unwrap());
    assert!(!mb.lease(10, "node-b", 60_000).await.unwrap());
    // Renewing extends the TTL.
    assert!(mb.lease(10, "node-a", 60_000).await.unwrap());
    let ttl: i64 = redis::cmd("PTTL")
        .arg(&lease_key)
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(ttl > 50_000, "renewed TTL is {ttl} ms");
    // Only the holder can release.
    mb.release_lease(10, "node-b").await.unwrap();
    assert!(!mb.lease(10, "node-b", 60_000).await.unwrap());
    mb.release_lease(10, "node-a").await.unwrap();
    assert!(mb.lease(10, "node-b", 1_000).await.unwrap());

    // A holder that stops renewing loses the lease when it expires.
    assert!(!mb.lease(10, "node-a", 60_000).await.unwrap());
    wait_until("node-b's lease expires and node-a takes it", || async {
        mb.lease(10, "node-a", 60_000).await.unwrap()
    })
    .await;
    assert!(!mb.lease(10, "node-b", 60_000).await.unwrap());
    assert!(matches!(
        mb.lease(10, "node-a", 0).await,
        Err(MailboxError::Protocol(_))
    ));
}

#[tokio::test]
async fn a_blocking_read_waits_without_stalling_other_commands() {
    let server = RedisServer::start();
    let mb = mailbox(&server).await;
    let mut conn = raw(&server).await;
    mb.ensure_streams(15, &[StreamName::Inbox]).await.unwrap();
    assert!(
        mb.read(15, &StreamName::Inbox, "a", 10, 50)
            .await
            .unwrap()
            .is_empty()
    );

    // Blocking far longer than the test may take: only the wake-up can end it.
    let reader = {
        let mb = mb.clone();
        tokio::spawn(async move { mb.read(15, &StreamName::Inbox, "a", 10, 60_000).await })
    };
    wait_until("Redis holds the read blocked", || {
        let mut conn = conn.clone();
        async move { blocked_clients(&mut conn).await == 1 }
    })
    .await;
    // Other work on the shared connection goes on while the reader blocks.
    mb.ingest(16, &env("elsewhere", "k"), None).await.unwrap();
    assert_eq!(blocked_clients(&mut conn).await, 1, "still blocked");
    mb.ingest(15, &env("wake-up", "k"), None).await.unwrap();
    let got = tokio::time::timeout(PATIENCE, reader)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(got[0].envelope.as_ref().unwrap().id, "wake-up");
}

/// `blocked_clients` of Redis' `INFO clients`.
async fn blocked_clients(conn: &mut redis::aio::MultiplexedConnection) -> u64 {
    let info: String = redis::cmd("INFO")
        .arg("clients")
        .query_async(conn)
        .await
        .unwrap();
    info.lines()
        .find_map(|l| l.strip_prefix("blocked_clients:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
}

#[tokio::test]
async fn commands_are_counted_and_forgotten_scripts_are_reloaded() {
    let server = RedisServer::start();
    let mb = mailbox(&server).await;
    let d = ingest_and_read(&mb, 17, "k", &["a", "b"]).await;
    let before = mb.commands_issued();
    mb.commit(&commit_of(&d[0], 0, "s")).await.unwrap();
    // The first audited commit of a partition reads its chain head, then runs the script.
    assert_eq!(mb.commands_issued() - before, 2);
    mb.ingest(17, &env("c", "k"), Some("idem")).await.unwrap();
    assert_eq!(mb.commands_issued() - before, 3);

    let mut conn = raw(&server).await;
    let _: () = redis::cmd("SCRIPT")
        .arg("FLUSH")
        .query_async(&mut conn)
        .await
        .unwrap();
    let before = mb.commands_issued();
    assert_eq!(
        mb.commit(&commit_of(&d[1], 1, "s2")).await.unwrap(),
        CommitOutcome::Committed { ver: 2 }
    );
    // EVALSHA (NOSCRIPT), SCRIPT LOAD, EVALSHA.
    assert_eq!(mb.commands_issued() - before, 3);
}

#[tokio::test]
async fn errors_say_whether_to_retry() {
    let server = RedisServer::start();
    let mb = mailbox(&server).await;
    let bad_id = EntryId("not-an-id".into());
    assert!(matches!(
        mb.is_pending(0, &StreamName::Inbox, &bad_id).await,
        Err(MailboxError::Protocol(_))
    ));
    let bad_prefix = RedisMailbox::connect(StoreConfig::with_url(server.url()).prefix("a:b")).await;
    assert!(matches!(bad_prefix, Err(MailboxError::Protocol(_))));

    // A socket path in a folder of this test where no server listens.
    let nowhere = tempfile::tempdir().unwrap();
    let config = StoreConfig {
        reconnect_retries: 0,
        ..StoreConfig::with_url(format!(
            "redis+unix://{}",
            nowhere.path().join("redis.sock").display()
        ))
    };
    assert!(matches!(
        RedisMailbox::connect(config).await,
        Err(MailboxError::Unavailable(_))
    ));
}

#[tokio::test]
async fn persistence_tells_aof_from_no_persistence() {
    let durable = RedisServer::start_with(Persistence::AofAlways);
    let info = mailbox(&durable).await.persistence().await.unwrap();
    assert!(info.aof_enabled && info.is_persistent(), "{info:?}");
    assert_eq!(info.appendfsync.as_deref(), Some("always"));

    let volatile = RedisServer::start();
    let info = mailbox(&volatile).await.persistence().await.unwrap();
    assert!(!info.aof_enabled && !info.is_persistent(), "{info:?}");
    assert!(info.describe().contains("no persistence"));
}

#[tokio::test]
async fn the_node_registry_lists_live_nodes() {
    let server = RedisServer::start();
    let mb = mailbox(&server).await;
    mb.heartbeat("node-b", 60_000).await.unwrap();
    mb.heartbeat("node-a", 60_000).await.unwrap();
    mb.heartbeat("node-c", 50).await.unwrap();
    assert!(
        mb.live_nodes()
            .await
            .unwrap()
            .contains(&"node-b".to_owned())
    );
    wait_until("node-c's heartbeat expires", || async {
        mb.live_nodes().await.unwrap() == ["node-a", "node-b"]
    })
    .await;
}

/// Retry an operation through a Redis outage, up to [`PATIENCE`].
async fn through_outage<T, F, Fut>(what: &str, mut op: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, MailboxError>>,
{
    let deadline = Instant::now() + PATIENCE;
    loop {
        match op().await {
            Ok(value) => return value,
            Err(MailboxError::Unavailable(_)) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(e) => panic!("{what} failed: {e}"),
        }
    }
}

#[tokio::test]
async fn acknowledged_writes_survive_a_redis_crash_and_the_mailbox_reconnects() {
    let mut server = RedisServer::start_with(Persistence::AofAlways);
    let mb = mailbox(&server).await;
    let p = 18;
    let mut acknowledged_ingests = Vec::new();
    let mut committed = Vec::new();
    for round in 0..3 {
        for i in 0..20 {
            let e = env(&format!("r{round}-m{i}"), &format!("k{i}"));
            let outcome = through_outage("ingest", || mb.ingest(p, &e, Some(&e.id))).await;
            acknowledged_ingests.push((e.id.clone(), outcome));
        }
        // A blocking read goes through the pooled connections, which must recover too.
        let read = through_outage("read", || mb.read(p, &StreamName::Inbox, "a", 100, 20)).await;
        for d in &read {
            let key = d.envelope.as_ref().unwrap().key.clone();
            let ver = through_outage("load", || mb.load(p, &key)).await.ver;
            let commit = commit_of(d, ver, &format!("{{\"round\":{round}}}"));
            let outcome = through_outage("commit", || mb.commit(&commit)).await;
            assert_eq!(outcome, CommitOutcome::Committed { ver: ver + 1 });
            committed.push(key);
        }
        // SIGKILL: no shutdown, no final fsync beyond what `always` already did.
        server.kill();
        assert!(matches!(mb.ping().await, Err(MailboxError::Unavailable(_))));
        server.restart();
    }

    through_outage("ping", || mb.ping()).await;
    for (id, first) in &acknowledged_ingests {
        let e = env(id, "k");
        let again = through_outage("ingest", || mb.ingest(p, &e, Some(id))).await;
        let first_id = match first {
            IngestOutcome::Accepted { entry_id } => entry_id,
            IngestOutcome::Duplicate { .. } => panic!("first ingest of {id} was a duplicate"),
        };
        assert_eq!(
            &again,
            &IngestOutcome::Duplicate {
                entry_id: first_id.clone()
            },
            "{id}"
        );
    }
    assert_eq!(mb.entries(p, &StreamName::Inbox).await.unwrap().len(), 60);
    for i in 0..20 {
        let stored = mb.load(p, &format!("k{i}")).await.unwrap();
        assert_eq!(
            (stored.ver, stored.state.as_deref()),
            (3, Some("{\"round\":2}")),
            "k{i}"
        );
    }
    let stats = mb.stats(p, &StreamName::Inbox).await.unwrap();
    assert_eq!(stats.pending, 0);
    assert_eq!(mb.verify_audit(p).await.unwrap(), 60);
    assert_eq!(committed.len(), 60);
}
