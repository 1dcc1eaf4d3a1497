//! Model-based test: random sequences of operations applied to the Redis mailbox
//! and to the in-memory reference model must be indistinguishable — same outcomes,
//! same deliveries, same stream contents, pending lists, states, histories, audit
//! entries, timers and dead letters after every step.
//!
//! Entry ids differ between the two (Redis takes its own clock), so everything is
//! compared by content and position, never by raw id. Time passes in steps far longer than a
//! case takes: the memory mailbox's manual clock moves on, and every pending entry in Redis is
//! made that much more idle (`XCLAIM … IDLE`), so reclaims with a non-zero idle threshold
//! agree too. Failing cases are kept in `proptest-regressions/` and replayed first.

use std::collections::HashMap;

use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence, TestCaseError, TestRunner};
use tradehub::store::keys::{GROUP, Keys};
use tradehub::store::{RedisMailbox, StoreConfig};
use tradehub_actors::clock::ManualClock;
use tradehub_actors::envelope::Envelope;
use tradehub_actors::mailbox::memory::MemoryMailbox;
use tradehub_actors::mailbox::{
    Commit, CommitOutcome, Delivery, EntryId, IngestOutcome, Leases, Mailbox, MailboxError,
    MailboxOps, StoredState, StreamName,
};
use tradehub_actors::saga::{Command, Timer};

use crate::common::redis::{RedisServer, unique_prefix};

const P: u16 = 0;
const KEYS: [&str; 4] = ["k0", "k1", "k2", "k3"];
const CASES: u32 = 256;
/// One step of time passing; real time during a case stays far below it.
const TICK_MS: u64 = 10_000;
/// Reclaim thresholds: everything, entries a tick and a half idle, nothing a case can reach.
const IDLE_MS: [u64; 3] = [0, TICK_MS * 3 / 2, 3_600_000];
/// Leases outlive every case, so that aging never expires one (Redis' TTL runs in real time).
const LEASE_MS: u64 = 24 * 3_600_000;
/// Where failing cases are saved and replayed from.
const REGRESSIONS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../proptest-regressions/integration/store/model.txt"
);

fn stream_of(n: u8) -> StreamName {
    match n % 3 {
        0 => StreamName::Inbox,
        1 => StreamName::Commands("a".into()),
        _ => StreamName::Commands("b".into()),
    }
}

fn all_streams() -> [StreamName; 3] {
    [stream_of(0), stream_of(1), stream_of(2)]
}

#[derive(Debug, Clone)]
enum Op {
    Ensure {
        stream: u8,
    },
    Ingest {
        key: u8,
        idem: Option<u8>,
    },
    Poison,
    Read {
        stream: u8,
        count: usize,
    },
    Commit {
        pick: usize,
        stale: bool,
        commands: u8,
        timer: Option<u8>,
    },
    Complete {
        pick: usize,
        results: u8,
    },
    Defer {
        pick: usize,
        due: u8,
    },
    IsPending {
        pick: usize,
    },
    Crash,
    Reclaim {
        stream: u8,
        count: usize,
        idle: u8,
    },
    Age {
        ticks: u8,
    },
    FireTimers {
        now: u8,
        limit: usize,
    },
    DeadLetter {
        pick: usize,
    },
    Redrive {
        pick: usize,
    },
    Trim {
        stream: u8,
        keep: u64,
    },
    Lease {
        node: u8,
    },
    Release {
        node: u8,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        5 => (0u8..4, proptest::option::of(0u8..3)).prop_map(|(key, idem)| Op::Ingest { key, idem }),
        1 => (0u8..3).prop_map(|stream| Op::Ensure { stream }),
        1 => Just(Op::Poison),
        5 => (0u8..3, 1usize..4).prop_map(|(stream, count)| Op::Read { stream, count }),
        5 => (any::<usize>(), proptest::bool::weighted(0.15), 0u8..3, proptest::option::of(0u8..50))
            .prop_map(|(pick, stale, commands, timer)| Op::Commit { pick, stale, commands, timer }),
        3 => (any::<usize>(), 0u8..3).prop_map(|(pick, results)| Op::Complete { pick, results }),
        1 => (any::<usize>(), 0u8..50).prop_map(|(pick, due)| Op::Defer { pick, due }),
        1 => any::<usize>().prop_map(|pick| Op::IsPending { pick }),
        1 => Just(Op::Crash),
        3 => (0u8..3, 1usize..4, 0u8..3).prop_map(|(stream, count, idle)| Op::Reclaim { stream, count, idle }),
        3 => (1u8..3).prop_map(|ticks| Op::Age { ticks }),
        2 => (0u8..60, 1usize..4).prop_map(|(now, limit)| Op::FireTimers { now, limit }),
        1 => any::<usize>().prop_map(|pick| Op::DeadLetter { pick }),
        1 => any::<usize>().prop_map(|pick| Op::Redrive { pick }),
        1 => (0u8..3, 0u64..3).prop_map(|(stream, keep)| Op::Trim { stream, keep }),
        1 => (0u8..2).prop_map(|node| Op::Lease { node }),
        1 => (0u8..2).prop_map(|node| Op::Release { node }),
    ]
}

/// What one operation showed its caller, in implementation-neutral form.
#[derive(Debug, PartialEq)]
enum Seen {
    Skipped,
    Ingest {
        accepted: bool,
        label: Option<usize>,
    },
    Deliveries(Vec<(StreamName, Result<Envelope, String>, u32)>),
    Commit(CommitOutcome),
    Done,
    Count(u64),
    Flag(bool),
    Failed(&'static str),
}

fn failed(e: &MailboxError) -> Seen {
    match e {
        MailboxError::Unavailable(_) => Seen::Failed("unavailable"),
        MailboxError::Protocol(_) => Seen::Failed("protocol"),
    }
}

/// One stream as seen from outside.
#[derive(Debug, PartialEq)]
struct StreamView {
    raws: Vec<String>,
    /// (raw entry, consumer, deliveries), oldest first.
    pending: Vec<(String, String, u32)>,
    length: u64,
    pending_count: u64,
}

/// Everything observable in the partition after a step.
#[derive(Debug, PartialEq)]
struct Snapshot {
    streams: Vec<StreamView>,
    states: Vec<StoredState>,
    histories: Vec<Vec<String>>,
    audit: Vec<String>,
    dead: Vec<(StreamName, String, u32, String, u64)>,
    timers: Vec<(u64, StreamName, String)>,
}

/// The inspection each implementation offers beyond the ports.
trait Inspect: Mailbox + MailboxOps + Leases {
    async fn plant(&self, stream: &StreamName, raw: &str);
    async fn entries_of(&self, stream: &StreamName) -> Vec<(EntryId, String)>;
    async fn pending_of(&self, stream: &StreamName) -> Vec<(EntryId, String, u32)>;
    async fn history_of(&self, key: &str) -> Vec<String>;
    async fn audit_of(&self) -> Vec<String>;
    async fn timers_of(&self) -> Vec<(u64, StreamName, String)>;
}

impl Inspect for RedisMailbox {
    async fn plant(&self, stream: &StreamName, raw: &str) {
        self.append_raw(P, stream, raw).await.unwrap();
    }
    async fn entries_of(&self, stream: &StreamName) -> Vec<(EntryId, String)> {
        self.entries(P, stream).await.unwrap()
    }
    async fn pending_of(&self, stream: &StreamName) -> Vec<(EntryId, String, u32)> {
        let pending = self.pending_entries(P, stream, 10_000).await.unwrap();
        pending
            .into_iter()
            .map(|p| (p.entry_id, p.consumer, p.deliveries))
            .collect()
    }
    async fn history_of(&self, key: &str) -> Vec<String> {
        self.history(P, key).await.unwrap()
    }
    async fn audit_of(&self) -> Vec<String> {
        self.audit_entries(P)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.data)
            .collect()
    }
    async fn timers_of(&self) -> Vec<(u64, StreamName, String)> {
        let timers = self.timers(P).await.unwrap();
        timers
            .into_iter()
            .map(|t| (t.due_ms, t.stream, t.raw))
            .collect()
    }
}

impl Inspect for MemoryMailbox {
    async fn plant(&self, stream: &StreamName, raw: &str) {
        self.append_raw(P, stream, raw);
    }
    async fn entries_of(&self, stream: &StreamName) -> Vec<(EntryId, String)> {
        self.entries(P, stream)
    }
    async fn pending_of(&self, stream: &StreamName) -> Vec<(EntryId, String, u32)> {
        let pending = self.pending(P, stream);
        pending
            .into_iter()
            .map(|p| (p.entry_id, p.consumer, p.deliveries))
            .collect()
    }
    async fn history_of(&self, key: &str) -> Vec<String> {
        self.history(P, key)
    }
    async fn audit_of(&self) -> Vec<String> {
        self.audit(P)
    }
    async fn timers_of(&self) -> Vec<(u64, StreamName, String)> {
        let timers = self.timers(P);
        timers
            .into_iter()
            .map(|t| {
                (
                    t.due_ms,
                    t.stream,
                    serde_json::to_string(&t.envelope).unwrap(),
                )
            })
            .collect()
    }
}

/// How time passes for one implementation.
enum Clock {
    Manual(ManualClock),
    Redis(redis::aio::MultiplexedConnection, Keys),
}

/// One implementation under test, with the deliveries its "workers" hold.
struct Side<M> {
    mb: M,
    clock: Clock,
    in_flight: Vec<Delivery>,
    labels: HashMap<EntryId, usize>,
}

fn envelope(id: String, key: &str, n: usize) -> Envelope {
    Envelope::new(id, key, "model.input", serde_json::json!({ "n": n }))
}

/// Pick one held delivery matching `filter`, removing it from the held list.
fn take<F: Fn(&Delivery) -> bool>(
    held: &mut Vec<Delivery>,
    pick: usize,
    filter: F,
) -> Option<Delivery> {
    let candidates: Vec<usize> = (0..held.len()).filter(|i| filter(&held[*i])).collect();
    if candidates.is_empty() {
        return None;
    }
    Some(held.remove(candidates[pick % candidates.len()]))
}

impl<M: Inspect> Side<M> {
    fn new(mb: M, clock: Clock) -> Self {
        Self {
            mb,
            clock,
            in_flight: Vec::new(),
            labels: HashMap::new(),
        }
    }

    async fn apply(&mut self, op: &Op, n: usize) -> Seen {
        match self.step(op, n).await {
            Ok(seen) => seen,
            Err(e) => failed(&e),
        }
    }

    async fn step(&mut self, op: &Op, n: usize) -> Result<Seen, MailboxError> {
        let mb = &self.mb;
        Ok(match op {
            Op::Ingest { key, idem } => {
                let e = envelope(format!("m{n}"), KEYS[usize::from(*key)], n);
                let idem = idem.map(|i| format!("idem-{i}"));
                match mb.ingest(P, &e, idem.as_deref()).await? {
                    IngestOutcome::Accepted { entry_id } => {
                        let label = self.labels.len();
                        self.labels.insert(entry_id, label);
                        Seen::Ingest {
                            accepted: true,
                            label: Some(label),
                        }
                    }
                    IngestOutcome::Duplicate { entry_id } => Seen::Ingest {
                        accepted: false,
                        label: self.labels.get(&entry_id).copied(),
                    },
                }
            }
            Op::Ensure { stream } => {
                mb.ensure_streams(P, &[stream_of(*stream)]).await?;
                Seen::Done
            }
            Op::Poison => {
                mb.plant(&StreamName::Inbox, &format!("not json {n}")).await;
                Seen::Done
            }
            Op::Read { stream, count } => {
                let got = mb.read(P, &stream_of(*stream), "w", *count, 0).await?;
                self.hold(got)
            }
            Op::Reclaim {
                stream,
                count,
                idle,
            } => {
                let idle = IDLE_MS[usize::from(*idle)];
                let got = mb
                    .reclaim(P, &stream_of(*stream), "r", idle, *count)
                    .await?;
                self.hold(got)
            }
            Op::Age { ticks } => {
                let ms = TICK_MS * u64::from(*ticks);
                match &mut self.clock {
                    Clock::Manual(clock) => clock.advance(ms),
                    Clock::Redis(conn, keys) => {
                        for stream in all_streams() {
                            let key = keys
                                .stream(P, &stream)
                                .map_err(|e| MailboxError::Protocol(e.to_string()))?;
                            age_pending(conn, &key, ms).await?;
                        }
                    }
                }
                Seen::Done
            }
            Op::Commit {
                pick,
                stale,
                commands,
                timer,
            } => {
                let Some(d) = take(&mut self.in_flight, *pick, |d| {
                    d.stream == StreamName::Inbox && d.envelope.is_ok()
                }) else {
                    return Ok(Seen::Skipped);
                };
                let input = d.envelope.clone().map_err(MailboxError::Protocol)?;
                let stored = mb.load(P, &input.key).await?;
                let commit = Commit {
                    partition: P,
                    key: input.key.clone(),
                    expected_ver: if *stale { stored.ver + 1 } else { stored.ver },
                    state: format!("{}+{}", stored.state.unwrap_or_default(), input.id),
                    terminal: input.id.ends_with('7'),
                    history: vec![format!("{{\"applied\":\"{}\"}}", input.id)],
                    audit: vec![format!("{{\"n\":{n}}}")],
                    commands: (0..*commands)
                        .map(|i| Command {
                            partner: if i % 2 == 0 { "a" } else { "b" }.to_owned(),
                            envelope: envelope(format!("c{n}-{i}"), &input.key, n),
                        })
                        .collect(),
                    timers: timer
                        .iter()
                        .map(|due| Timer {
                            due_ms: u64::from(*due),
                            envelope: envelope(format!("t{n}"), &input.key, n),
                        })
                        .collect(),
                    ack: Some(d.entry_id.clone()),
                };
                let outcome = mb.commit(&commit).await?;
                if matches!(outcome, CommitOutcome::Conflict { .. }) {
                    // The worker would reload and retry: it still holds the input.
                    self.in_flight.push(d);
                }
                Seen::Commit(outcome)
            }
            Op::Complete { pick, results } => {
                let Some(d) = take(&mut self.in_flight, *pick, |d| {
                    d.stream != StreamName::Inbox
                }) else {
                    return Ok(Seen::Skipped);
                };
                let results: Vec<Envelope> = (0..*results)
                    .map(|i| envelope(format!("r{n}-{i}"), KEYS[(n + usize::from(i)) % 4], n))
                    .collect();
                mb.complete(P, &d.stream, &d.entry_id, &results).await?;
                Seen::Done
            }
            Op::Defer { pick, due } => {
                let Some(d) = take(&mut self.in_flight, *pick, |d| d.envelope.is_ok()) else {
                    return Ok(Seen::Skipped);
                };
                let mut retry = d.envelope.clone().map_err(MailboxError::Protocol)?;
                retry.attempt += 1;
                mb.defer(P, &d.stream, &d.entry_id, u64::from(*due), &retry)
                    .await?;
                Seen::Done
            }
            Op::IsPending { pick } => {
                if self.in_flight.is_empty() {
                    return Ok(Seen::Skipped);
                }
                let d = &self.in_flight[pick % self.in_flight.len()];
                Seen::Flag(mb.is_pending(P, &d.stream, &d.entry_id).await?)
            }
            Op::Crash => {
                self.in_flight.clear();
                Seen::Done
            }
            Op::FireTimers { now, limit } => {
                Seen::Count(mb.fire_timers(P, u64::from(*now), *limit).await? as u64)
            }
            Op::DeadLetter { pick } => {
                let Some(d) = take(&mut self.in_flight, *pick, |_| true) else {
                    return Ok(Seen::Skipped);
                };
                mb.dead_letter(&d, &format!("reason {n}"), n as u64).await?;
                Seen::Done
            }
            Op::Redrive { pick } => {
                let dead = mb.dead_letters(P).await?;
                if dead.is_empty() {
                    return Ok(Seen::Skipped);
                }
                mb.redrive(P, &dead[pick % dead.len()].id).await?;
                Seen::Done
            }
            Op::Trim { stream, keep } => Seen::Count(mb.trim(P, &stream_of(*stream), *keep).await?),
            Op::Lease { node } => Seen::Flag(mb.lease(P, &format!("node-{node}"), LEASE_MS).await?),
            Op::Release { node } => {
                mb.release_lease(P, &format!("node-{node}")).await?;
                Seen::Done
            }
        })
    }

    fn hold(&mut self, got: Vec<Delivery>) -> Seen {
        let seen = got
            .iter()
            .map(|d| (d.stream.clone(), d.envelope.clone(), d.deliveries))
            .collect();
        self.in_flight.extend(got);
        Seen::Deliveries(seen)
    }

    async fn snapshot(&self) -> Snapshot {
        let mb = &self.mb;
        let mut streams = Vec::new();
        for stream in all_streams() {
            let entries = mb.entries_of(&stream).await;
            let raw_of: HashMap<&EntryId, &String> =
                entries.iter().map(|(id, raw)| (id, raw)).collect();
            let pending = mb
                .pending_of(&stream)
                .await
                .into_iter()
                .map(|(id, consumer, deliveries)| {
                    let raw = raw_of
                        .get(&id)
                        .map_or_else(|| "<trimmed>".to_owned(), |r| (*r).clone());
                    (raw, consumer, deliveries)
                })
                .collect();
            let stats = mb.stats(P, &stream).await.unwrap();
            let raws = entries.iter().map(|(_, raw)| raw.clone()).collect();
            streams.push(StreamView {
                raws,
                pending,
                length: stats.length,
                pending_count: stats.pending,
            });
        }
        let mut states = Vec::new();
        let mut histories = Vec::new();
        for key in KEYS {
            states.push(mb.load(P, key).await.unwrap());
            histories.push(mb.history_of(key).await);
        }
        let dead = mb
            .dead_letters(P)
            .await
            .unwrap()
            .into_iter()
            .map(|d| (d.origin, d.raw, d.deliveries, d.reason, d.at_ms))
            .collect();
        Snapshot {
            streams,
            states,
            histories,
            audit: mb.audit_of().await,
            dead,
            timers: mb.timers_of().await,
        }
    }
}

/// Make every pending entry of stream `key` `ms` more idle, keeping its owner and delivery
/// count (`XCLAIM` to the owner with `JUSTID` does not count a delivery).
async fn age_pending(
    conn: &mut redis::aio::MultiplexedConnection,
    key: &str,
    ms: u64,
) -> Result<(), MailboxError> {
    let unavailable = |e: redis::RedisError| MailboxError::Unavailable(e.to_string());
    let exists: bool = redis::cmd("EXISTS")
        .arg(key)
        .query_async(conn)
        .await
        .map_err(unavailable)?;
    if !exists {
        return Ok(());
    }
    let groups: Vec<redis::Value> = redis::cmd("XINFO")
        .arg("GROUPS")
        .arg(key)
        .query_async(conn)
        .await
        .map_err(unavailable)?;
    if groups.is_empty() {
        return Ok(());
    }
    let pending: Vec<(String, String, u64, u64)> = redis::cmd("XPENDING")
        .arg(key)
        .arg(GROUP)
        .arg("-")
        .arg("+")
        .arg(10_000)
        .query_async(conn)
        .await
        .map_err(unavailable)?;
    for (id, owner, idle, _) in pending {
        let _: Vec<String> = redis::cmd("XCLAIM")
            .arg(key)
            .arg(GROUP)
            .arg(&owner)
            .arg(0)
            .arg(&id)
            .arg("IDLE")
            .arg(idle + ms)
            .arg("JUSTID")
            .query_async(conn)
            .await
            .map_err(unavailable)?;
    }
    Ok(())
}

async fn run_case(url: &str, ops: &[Op]) -> Result<(), String> {
    let prefix = unique_prefix("model");
    let redis = RedisMailbox::connect(StoreConfig::with_url(url).prefix(prefix))
        .await
        .map_err(|e| e.to_string())?;
    let conn = redis::Client::open(url)
        .map_err(|e| e.to_string())?
        .get_multiplexed_async_connection()
        .await
        .map_err(|e| e.to_string())?;
    let keys = redis.keys().clone();
    let mut redis = Side::new(redis, Clock::Redis(conn, keys));
    let clock = ManualClock::new(1_000);
    let mut memory = Side::new(MemoryMailbox::new(clock.clone()), Clock::Manual(clock));
    for (n, op) in ops.iter().enumerate() {
        let r = redis.apply(op, n).await;
        let m = memory.apply(op, n).await;
        if r != m {
            return Err(format!(
                "step {n} {op:?}: redis saw {r:?}, memory saw {m:?}"
            ));
        }
        let (rs, ms) = (redis.snapshot().await, memory.snapshot().await);
        if rs != ms {
            return Err(format!(
                "after step {n} {op:?}:\nredis  {rs:?}\nmemory {ms:?}"
            ));
        }
    }
    Ok(())
}

#[test]
fn redis_and_memory_mailboxes_agree_on_random_histories() {
    let server = RedisServer::start();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut runner = TestRunner::new(Config {
        cases: CASES,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(REGRESSIONS))),
        ..Config::default()
    });
    let url = server.url();
    let result = runner.run(&proptest::collection::vec(op(), 1..40), |ops| {
        runtime
            .block_on(run_case(&url, &ops))
            .map_err(TestCaseError::fail)
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}
