//! Throughput of the saga host over the in-memory mailbox: read, route to key
//! actors, apply, serialise, commit. This is the runtime's own ceiling, without
//! any store latency; the Redis figures are in the root crate's benchmarks.

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::Actor;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tradehub_actors::clock::{Millis, SystemClock};
use tradehub_actors::envelope::Envelope;
use tradehub_actors::host::{HostConfig, PartitionHost};
use tradehub_actors::mailbox::memory::MemoryMailbox;
use tradehub_actors::mailbox::{Mailbox, StreamName};
use tradehub_actors::saga::{Saga, Transition};
use tradehub_actors::supervisor::{ChildGuard, Shutdown};

const INPUTS: u64 = 10_000;
const KEYS: u64 = 500;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Count {
    n: u64,
}

struct Counting;

impl Saga for Counting {
    type State = Count;

    fn apply(&self, state: &Count, input: &Envelope, _now: Millis) -> Transition<Count> {
        let mut next = Transition::to(Count { n: state.n + 1 });
        next.history.push(json!({ "input": input.id }));
        next
    }

    fn is_terminal(&self, _state: &Count) -> bool {
        false
    }
}

fn run_once(system: &actix::SystemRunner) -> Duration {
    system.block_on(async {
        let mb = MemoryMailbox::new(SystemClock);
        for i in 0..INPUTS {
            let input = Envelope::new(format!("i{i}"), format!("k{}", i % KEYS), "inc", json!({}));
            mb.ingest(0, &input, None).await.expect("ingest");
        }
        let config = HostConfig {
            batch_size: 256,
            max_in_flight: 4_096,
            ..HostConfig::new("bench")
        };
        let started = Instant::now();
        let host = PartitionHost::new(
            0,
            config,
            mb.clone(),
            Arc::new(Counting),
            Arc::new(SystemClock),
            ChildGuard::detached(),
        )
        .start();
        while mb.undelivered(0, &StreamName::Inbox) > 0
            || !mb.pending(0, &StreamName::Inbox).is_empty()
        {
            tokio::time::sleep(Duration::from_micros(200)).await;
        }
        let elapsed = started.elapsed();
        host.send(Shutdown {
            grace: Duration::from_secs(1),
        })
        .await
        .expect("shutdown");
        elapsed
    })
}

fn host(c: &mut Criterion) {
    let system = actix::System::new();
    let mut group = c.benchmark_group("host");
    group.throughput(Throughput::Elements(INPUTS));
    group.sample_size(10);
    group.bench_function("memory_mailbox_transitions", |b| {
        b.iter_custom(|iters| (0..iters).map(|_| run_once(&system)).sum());
    });
    group.finish();
}

criterion_group!(benches, host);
criterion_main!(benches);
