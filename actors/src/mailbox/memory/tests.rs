use serde_json::json;

use super::*;
use crate::clock::ManualClock;
use crate::saga::{Command, Timer};

fn env(id: &str, key: &str) -> Envelope {
    Envelope::new(id, key, "inc", json!({}))
}

fn setup() -> (MemoryMailbox, ManualClock) {
    let clock = ManualClock::new(1_000);
    (MemoryMailbox::new(clock.clone()), clock)
}

fn commit_for(key: &str, expected_ver: u64, ack: Option<EntryId>) -> Commit {
    Commit {
        partition: 0,
        key: key.into(),
        expected_ver,
        state: format!("{{\"v\":{}}}", expected_ver + 1),
        terminal: false,
        history: vec!["h".into()],
        audit: vec!["a".into()],
        commands: Vec::new(),
        timers: Vec::new(),
        ack,
    }
}

async fn accepted(mb: &MemoryMailbox, e: &Envelope, key: Option<&str>) -> EntryId {
    match mb.ingest(0, e, key).await.unwrap() {
        IngestOutcome::Accepted { entry_id } => entry_id,
        IngestOutcome::Duplicate { .. } => panic!("unexpected duplicate"),
    }
}

#[tokio::test]
async fn ids_increase_within_and_across_milliseconds() {
    let (mb, clock) = setup();
    let a = accepted(&mb, &env("1", "k"), None).await;
    let b = accepted(&mb, &env("2", "k"), None).await;
    clock.advance(5);
    let c = accepted(&mb, &env("3", "k"), None).await;
    assert_eq!(a.0, "1000-0");
    assert_eq!(b.0, "1000-1");
    assert_eq!(c.0, "1005-0");
    // A clock going backwards must not produce a smaller id.
    clock.set(10);
    let d = accepted(&mb, &env("4", "k"), None).await;
    assert_eq!(d.0, "1005-1");
}

#[tokio::test]
async fn ingest_with_same_idempotency_key_writes_once() {
    let (mb, _) = setup();
    let first = accepted(&mb, &env("1", "k"), Some("odoo:42")).await;
    let again = mb
        .ingest(0, &env("1b", "k"), Some("odoo:42"))
        .await
        .unwrap();
    assert_eq!(again, IngestOutcome::Duplicate { entry_id: first });
    assert_eq!(mb.entries(0, &StreamName::Inbox).len(), 1);
    // The ledger is per partition.
    assert!(matches!(
        mb.ingest(1, &env("1", "k"), Some("odoo:42")).await.unwrap(),
        IngestOutcome::Accepted { .. }
    ));
}

#[tokio::test]
async fn read_delivers_each_entry_once_and_tracks_pending() {
    let (mb, clock) = setup();
    for i in 0..3 {
        accepted(&mb, &env(&i.to_string(), "k"), None).await;
    }
    let first = mb.read(0, &StreamName::Inbox, "c1", 2, 0).await.unwrap();
    assert_eq!(first.len(), 2);
    assert_eq!(first[0].envelope.as_ref().unwrap().id, "0");
    assert_eq!(first[0].deliveries, 1);
    let second = mb.read(0, &StreamName::Inbox, "c2", 10, 0).await.unwrap();
    assert_eq!(second.len(), 1);
    assert_eq!(second[0].envelope.as_ref().unwrap().id, "2");
    assert!(
        mb.read(0, &StreamName::Inbox, "c1", 10, 0)
            .await
            .unwrap()
            .is_empty()
    );
    clock.advance(7);
    let pending = mb.pending(0, &StreamName::Inbox);
    assert_eq!(pending.len(), 3);
    assert_eq!(pending[2].consumer, "c2");
    assert!(pending.iter().all(|p| p.idle_ms == 7 && p.deliveries == 1));
}

#[tokio::test]
async fn reclaim_takes_only_idle_entries_and_counts_deliveries() {
    let (mb, clock) = setup();
    accepted(&mb, &env("a", "k"), None).await;
    accepted(&mb, &env("b", "k"), None).await;
    mb.read(0, &StreamName::Inbox, "c1", 1, 0).await.unwrap();
    clock.advance(100);
    mb.read(0, &StreamName::Inbox, "c1", 1, 0).await.unwrap();
    clock.advance(50);
    let got = mb
        .reclaim(0, &StreamName::Inbox, "c2", 150, 10)
        .await
        .unwrap();
    assert_eq!(got.len(), 1, "only the entry idle for 150 ms qualifies");
    assert_eq!(got[0].envelope.as_ref().unwrap().id, "a");
    assert_eq!(got[0].deliveries, 2);
    let pending = mb.pending(0, &StreamName::Inbox);
    assert_eq!(pending[0].consumer, "c2");
    assert_eq!(pending[0].idle_ms, 0);
    assert_eq!(pending[1].consumer, "c1");
    // Count bounds the claim.
    clock.advance(1_000);
    let got = mb.reclaim(0, &StreamName::Inbox, "c3", 0, 1).await.unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].deliveries, 3);
}

#[tokio::test]
async fn commit_is_cas_and_acknowledges_the_input() {
    let (mb, _) = setup();
    let id = accepted(&mb, &env("a", "k"), None).await;
    mb.read(0, &StreamName::Inbox, "c", 10, 0).await.unwrap();
    let wrong = mb
        .commit(&commit_for("k", 3, Some(id.clone())))
        .await
        .unwrap();
    assert_eq!(wrong, CommitOutcome::Conflict { current_ver: 0 });
    assert!(mb.is_pending(0, &StreamName::Inbox, &id).await.unwrap());
    assert!(
        mb.history(0, "k").is_empty(),
        "a refused commit writes nothing"
    );
    let ok = mb
        .commit(&commit_for("k", 0, Some(id.clone())))
        .await
        .unwrap();
    assert_eq!(ok, CommitOutcome::Committed { ver: 1 });
    assert!(!mb.is_pending(0, &StreamName::Inbox, &id).await.unwrap());
    let stored = mb.load(0, "k").await.unwrap();
    assert_eq!(stored.ver, 1);
    assert_eq!(stored.state.as_deref(), Some("{\"v\":1}"));
    assert_eq!(mb.history(0, "k"), vec!["h".to_owned()]);
    assert_eq!(mb.audit(0), vec!["a".to_owned()]);
    // The same input again, from a stale owner: refused before the CAS.
    let again = mb.commit(&commit_for("k", 0, Some(id))).await.unwrap();
    assert_eq!(again, CommitOutcome::AlreadyAcknowledged);
    assert_eq!(mb.load(0, "k").await.unwrap().ver, 1);
}

#[tokio::test]
async fn commit_writes_commands_and_timers() {
    let (mb, clock) = setup();
    let mut c = commit_for("k", 0, None);
    c.commands.push(Command {
        partner: "echo".into(),
        envelope: env("cmd-1", "k"),
    });
    c.timers.push(Timer {
        due_ms: 5_000,
        envelope: env("t-late", "k"),
    });
    c.timers.push(Timer {
        due_ms: 2_000,
        envelope: env("t-early", "k"),
    });
    c.terminal = true;
    assert_eq!(
        mb.commit(&c).await.unwrap(),
        CommitOutcome::Committed { ver: 1 }
    );
    assert!(mb.is_terminal(0, "k"));
    let cmds = mb.entries(0, &StreamName::Commands("echo".into()));
    assert_eq!(cmds.len(), 1);
    assert!(cmds[0].1.contains("cmd-1"));
    let timers = mb.timers(0);
    assert_eq!(timers[0].envelope.id, "t-early");
    assert_eq!(timers[0].stream, StreamName::Inbox);
    assert_eq!(mb.fire_timers(0, 1_999, 10).await.unwrap(), 0);
    clock.set(2_000);
    assert_eq!(mb.fire_timers(0, 10_000, 1).await.unwrap(), 1);
    let read = mb.read(0, &StreamName::Inbox, "c", 10, 0).await.unwrap();
    assert_eq!(read.len(), 1);
    assert_eq!(read[0].envelope.as_ref().unwrap().id, "t-early");
    assert_eq!(mb.fire_timers(0, 10_000, 10).await.unwrap(), 1);
    assert!(mb.timers(0).is_empty());
}

#[tokio::test]
async fn complete_and_defer_only_act_on_pending_entries() {
    let (mb, clock) = setup();
    let cmd = StreamName::Commands("echo".into());
    mb.append_raw(0, &cmd, &serde_json::to_string(&env("c1", "k")).unwrap());
    mb.append_raw(0, &cmd, &serde_json::to_string(&env("c2", "k")).unwrap());
    let got = mb.read(0, &cmd, "p", 10, 0).await.unwrap();
    mb.complete(0, &cmd, &got[0].entry_id, &[env("r1", "k")])
        .await
        .unwrap();
    // A second completion of the same entry (another consumer) writes nothing.
    mb.complete(0, &cmd, &got[0].entry_id, &[env("r1", "k")])
        .await
        .unwrap();
    assert_eq!(mb.entries(0, &StreamName::Inbox).len(), 1);
    let mut retry = env("c2", "k");
    retry.attempt = 2;
    mb.defer(0, &cmd, &got[1].entry_id, 1_500, &retry)
        .await
        .unwrap();
    assert!(mb.pending(0, &cmd).is_empty());
    assert_eq!(mb.timers(0)[0].stream, cmd);
    clock.set(1_500);
    assert_eq!(mb.fire_timers(0, 1_500, 10).await.unwrap(), 1);
    let again = mb.read(0, &cmd, "p", 10, 0).await.unwrap();
    assert_eq!(again[0].envelope.as_ref().unwrap().attempt, 2);
}

#[tokio::test]
async fn poison_entries_are_dead_lettered_and_redriven() {
    let (mb, clock) = setup();
    mb.append_raw(0, &StreamName::Inbox, "not json");
    let good = env("g", "k");
    let mut tired = good.clone();
    tired.attempt = 4;
    accepted(&mb, &tired, None).await;
    let got = mb.read(0, &StreamName::Inbox, "c", 10, 0).await.unwrap();
    assert!(got[0].envelope.is_err());
    clock.advance(10);
    let dl = mb.dead_letter(&got[0], "undecodable", 77).await.unwrap();
    mb.dead_letter(&got[1], "too many deliveries", 78)
        .await
        .unwrap();
    assert!(mb.dead_letter(&got[1], "again", 79).await.is_err());
    assert!(mb.pending(0, &StreamName::Inbox).is_empty());
    let letters = mb.dead_letters(0).await.unwrap();
    assert_eq!(letters.len(), 2);
    assert_eq!(letters[0].id, dl);
    assert_eq!(letters[0].raw, "not json");
    assert_eq!(letters[0].at_ms, 77);
    assert_eq!(letters[1].reason, "too many deliveries");
    mb.redrive(0, &letters[1].id).await.unwrap();
    assert_eq!(mb.dead_letters(0).await.unwrap().len(), 1);
    let back = mb.read(0, &StreamName::Inbox, "c", 10, 0).await.unwrap();
    assert_eq!(back.len(), 1);
    assert_eq!(
        back[0].envelope.as_ref().unwrap(),
        &good,
        "attempt reset to 1"
    );
    assert!(mb.redrive(0, &letters[1].id).await.is_err());
}

#[tokio::test]
async fn trim_never_drops_pending_or_undelivered_entries() {
    let (mb, _) = setup();
    let mut ids = Vec::new();
    for i in 0..6 {
        ids.push(accepted(&mb, &env(&i.to_string(), "k"), None).await);
    }
    let got = mb.read(0, &StreamName::Inbox, "c", 4, 0).await.unwrap();
    for d in &got[..3] {
        if d.entry_id != ids[1] {
            let ver = mb.load(0, "k").await.unwrap().ver;
            let outcome = mb
                .commit(&commit_for("k", ver, Some(d.entry_id.clone())))
                .await
                .unwrap();
            assert!(matches!(outcome, CommitOutcome::Committed { .. }));
        }
    }
    // Acked: 0 and 2; pending: 1 and 3; undelivered: 4 and 5.
    assert_eq!(mb.trim(0, &StreamName::Inbox, 0).await.unwrap(), 1);
    let left: Vec<EntryId> = mb
        .entries(0, &StreamName::Inbox)
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(left, ids[1..].to_vec());
    let stats = mb.stats(0, &StreamName::Inbox).await.unwrap();
    assert_eq!(stats.length, 5);
    assert_eq!(stats.pending, 2);
    // `keep` bounds the trim even when more could go.
    let p = StreamName::Commands("x".into());
    for i in 0..4 {
        mb.append_raw(0, &p, &i.to_string());
    }
    let got = mb.read(0, &p, "c", 10, 0).await.unwrap();
    for d in &got {
        mb.complete(0, &p, &d.entry_id, &[]).await.unwrap();
    }
    assert_eq!(mb.trim(0, &p, 3).await.unwrap(), 1);
    assert_eq!(mb.trim(0, &p, 0).await.unwrap(), 3);
    assert_eq!(mb.trim(0, &p, 0).await.unwrap(), 0);
}

#[tokio::test]
async fn stats_report_the_oldest_pending_age() {
    let (mb, clock) = setup();
    accepted(&mb, &env("a", "k"), None).await;
    clock.advance(300);
    mb.read(0, &StreamName::Inbox, "c", 1, 0).await.unwrap();
    clock.advance(200);
    let stats = mb.stats(0, &StreamName::Inbox).await.unwrap();
    assert_eq!(
        stats,
        StreamStats {
            length: 1,
            pending: 1,
            oldest_pending_age_ms: 500
        }
    );
}

#[tokio::test]
async fn leases_expire_and_release_only_by_holder() {
    let (mb, clock) = setup();
    assert!(mb.lease(3, "n1", 1_000).await.unwrap());
    assert!(!mb.lease(3, "n2", 1_000).await.unwrap());
    assert!(mb.lease(3, "n1", 1_000).await.unwrap(), "renewal");
    mb.release_lease(3, "n2").await.unwrap();
    assert_eq!(mb.lease_holder(3).as_deref(), Some("n1"));
    clock.advance(1_000);
    assert_eq!(mb.lease_holder(3), None);
    assert!(
        mb.lease(3, "n2", 1_000).await.unwrap(),
        "expired lease is taken over"
    );
    mb.release_lease(3, "n2").await.unwrap();
    assert!(mb.lease(3, "n1", 10).await.unwrap());
}

#[tokio::test]
async fn blocked_read_wakes_on_append() {
    let (mb, _) = setup();
    let reader = {
        let mb = mb.clone();
        tokio::spawn(async move { mb.read(0, &StreamName::Inbox, "c", 10, 30_000).await })
    };
    tokio::task::yield_now().await;
    accepted(&mb, &env("a", "k"), None).await;
    let got = tokio::time::timeout(Duration::from_secs(10), reader)
        .await
        .expect("the blocked read should wake on append")
        .unwrap()
        .unwrap();
    assert_eq!(got.len(), 1);
    let empty = mb.read(0, &StreamName::Inbox, "c", 10, 1).await.unwrap();
    assert!(empty.is_empty());
}

#[tokio::test]
async fn unavailable_store_fails_every_operation() {
    let (mb, _) = setup();
    mb.set_unavailable(true);
    assert!(matches!(
        mb.ingest(0, &env("a", "k"), None).await,
        Err(MailboxError::Unavailable(_))
    ));
    mb.set_unavailable(false);
    assert!(mb.ingest(0, &env("a", "k"), None).await.is_ok());
}

mod model {
    use std::collections::{BTreeSet, HashMap};

    use proptest::prelude::*;

    use super::*;

    #[derive(Debug, Clone)]
    enum Op {
        Ingest {
            key: u8,
            idem: Option<u8>,
        },
        Read {
            consumer: u8,
            count: usize,
        },
        Reclaim {
            consumer: u8,
            min_idle: u64,
            count: usize,
        },
        Commit {
            pick: usize,
        },
        DeadLetter {
            pick: usize,
        },
        Advance {
            ms: u64,
        },
        Trim {
            keep: u64,
        },
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => (0u8..3, proptest::option::of(0u8..4)).prop_map(|(key, idem)| Op::Ingest { key, idem }),
            2 => (0u8..2, 1usize..4).prop_map(|(consumer, count)| Op::Read { consumer, count }),
            1 => (0u8..2, prop_oneof![Just(0u64), Just(50), Just(200)], 1usize..4)
                .prop_map(|(consumer, min_idle, count)| Op::Reclaim { consumer, min_idle, count }),
            2 => (0usize..8).prop_map(|pick| Op::Commit { pick }),
            1 => (0usize..8).prop_map(|pick| Op::DeadLetter { pick }),
            1 => (0u64..120).prop_map(|ms| Op::Advance { ms }),
            1 => (0u64..4).prop_map(|keep| Op::Trim { keep }),
        ]
    }

    /// What the model expects of the mailbox, tracked beside it.
    #[derive(Default)]
    struct Expect {
        /// Ingested and neither acknowledged nor dead-lettered.
        live: BTreeSet<(u64, u64)>,
        /// Deliveries per live entry.
        deliveries: HashMap<(u64, u64), u32>,
        idem: HashMap<u8, EntryId>,
        last_id: (u64, u64),
        dead: usize,
    }

    async fn run(ops: Vec<Op>) -> Result<(), TestCaseError> {
        let clock = ManualClock::new(10_000);
        let mb = MemoryMailbox::new(clock.clone());
        let inbox = StreamName::Inbox;
        let mut expect = Expect::default();
        let mut n = 0;
        for op in ops {
            match op {
                Op::Ingest { key, idem } => {
                    n += 1;
                    let idem_key = idem.map(|i| format!("idem-{i}"));
                    let outcome = mb
                        .ingest(
                            0,
                            &env(&format!("e{n}"), &format!("k{key}")),
                            idem_key.as_deref(),
                        )
                        .await
                        .unwrap();
                    match (outcome, idem.and_then(|i| expect.idem.get(&i))) {
                        (IngestOutcome::Duplicate { entry_id }, Some(first)) => {
                            prop_assert_eq!(&entry_id, first);
                        }
                        (IngestOutcome::Accepted { entry_id }, None) => {
                            let id = entry_id.parts().unwrap();
                            prop_assert!(id > expect.last_id, "ids must increase");
                            expect.last_id = id;
                            expect.live.insert(id);
                            if let Some(i) = idem {
                                expect.idem.insert(i, entry_id);
                            }
                        }
                        (outcome, first) => {
                            prop_assert!(false, "ingest gave {:?} with first {:?}", outcome, first);
                        }
                    }
                }
                Op::Read { consumer, count } => {
                    let got = mb
                        .read(0, &inbox, &format!("c{consumer}"), count, 0)
                        .await
                        .unwrap();
                    prop_assert!(got.len() <= count);
                    for d in got {
                        let id = d.entry_id.parts().unwrap();
                        prop_assert!(expect.live.contains(&id));
                        prop_assert!(!expect.deliveries.contains_key(&id), "read delivers once");
                        prop_assert_eq!(d.deliveries, 1);
                        expect.deliveries.insert(id, 1);
                    }
                }
                Op::Reclaim {
                    consumer,
                    min_idle,
                    count,
                } => {
                    let got = mb
                        .reclaim(0, &inbox, &format!("c{consumer}"), min_idle, count)
                        .await
                        .unwrap();
                    prop_assert!(got.len() <= count);
                    for d in got {
                        let id = d.entry_id.parts().unwrap();
                        let seen = expect.deliveries.get_mut(&id);
                        prop_assert!(seen.is_some(), "only pending entries are reclaimed");
                        let seen = seen.unwrap();
                        *seen += 1;
                        prop_assert_eq!(d.deliveries, *seen);
                    }
                }
                Op::Commit { pick } => {
                    let pending = mb.pending(0, &inbox);
                    if pending.is_empty() {
                        continue;
                    }
                    let entry = pending[pick % pending.len()].entry_id.clone();
                    let ver = mb.load(0, "k").await.unwrap().ver;
                    let outcome = mb
                        .commit(&commit_for("k", ver, Some(entry.clone())))
                        .await
                        .unwrap();
                    prop_assert_eq!(outcome, CommitOutcome::Committed { ver: ver + 1 });
                    let again = mb
                        .commit(&commit_for("k", ver + 1, Some(entry.clone())))
                        .await
                        .unwrap();
                    prop_assert_eq!(again, CommitOutcome::AlreadyAcknowledged);
                    let id = entry.parts().unwrap();
                    expect.live.remove(&id);
                    expect.deliveries.remove(&id);
                }
                Op::DeadLetter { pick } => {
                    let pending = mb.pending(0, &inbox);
                    if pending.is_empty() {
                        continue;
                    }
                    let info = &pending[pick % pending.len()];
                    let delivery = Delivery {
                        partition: 0,
                        stream: inbox.clone(),
                        entry_id: info.entry_id.clone(),
                        envelope: Err("model".into()),
                        deliveries: info.deliveries,
                    };
                    mb.dead_letter(&delivery, "model", clock.now_ms())
                        .await
                        .unwrap();
                    let id = info.entry_id.parts().unwrap();
                    expect.live.remove(&id);
                    expect.deliveries.remove(&id);
                    expect.dead += 1;
                }
                Op::Advance { ms } => clock.advance(ms),
                Op::Trim { keep } => {
                    let before = mb.entries(0, &inbox).len() as u64;
                    let removed = mb.trim(0, &inbox, keep).await.unwrap();
                    prop_assert!(
                        before - removed >= keep.min(before),
                        "trim keeps `keep` entries"
                    );
                }
            }
            // Invariants after every step.
            let present: BTreeSet<(u64, u64)> = mb
                .entries(0, &inbox)
                .iter()
                .map(|(id, _)| id.parts().unwrap())
                .collect();
            prop_assert!(expect.live.is_subset(&present), "a live entry was trimmed");
            let pending: BTreeSet<(u64, u64)> = mb
                .pending(0, &inbox)
                .iter()
                .map(|p| p.entry_id.parts().unwrap())
                .collect();
            let delivered: BTreeSet<(u64, u64)> = expect.deliveries.keys().copied().collect();
            prop_assert_eq!(&pending, &delivered);
            let stats = mb.stats(0, &inbox).await.unwrap();
            prop_assert_eq!(stats.length, present.len() as u64);
            prop_assert_eq!(stats.pending, pending.len() as u64);
            prop_assert_eq!(mb.dead_letters(0).await.unwrap().len(), expect.dead);
        }
        Ok(())
    }

    proptest! {
        #[test]
        fn random_histories_keep_the_mailbox_invariants(ops in proptest::collection::vec(op(), 1..80)) {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
            runtime.block_on(run(ops))?;
        }
    }
}
