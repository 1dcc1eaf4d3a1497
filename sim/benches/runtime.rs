//! The runtime's full path (XREADGROUP → apply → commit script) and the raw
//! XREADGROUP + XACK ceiling, each over entries added before the clock starts,
//! on a private Redis with AOF `everysec`.
//! `tradehub bench runtime --json` prints the same figures with latencies and
//! the ratio between the two.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tradehub_sim::bench::runtime::{RuntimeBenchOptions, full_path, raw_ceiling};
use tradehub_testkit::{Persistence, RedisServer};

const PER_ITERATION: usize = 2_000;

fn runtime(c: &mut Criterion) {
    let server = RedisServer::start(Persistence::AofEverySec).expect("redis-server starts");
    let url = server.url();
    let options = RuntimeBenchOptions::default();
    let runs = AtomicUsize::new(0);
    let mut group = c.benchmark_group("runtime");
    group.sample_size(10);
    group.throughput(Throughput::Elements(PER_ITERATION as u64));
    group.bench_function("full_path_transitions", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let prefix = format!("crit{}", runs.fetch_add(1, Ordering::Relaxed));
                let figures = actix::System::new()
                    .block_on(full_path(
                        &url,
                        &prefix,
                        &options,
                        PER_ITERATION,
                        Duration::from_secs(60),
                    ))
                    .expect("full path runs");
                assert_eq!(figures.transitions, PER_ITERATION, "every input committed");
                total += figures.elapsed;
            }
            total
        });
    });
    group.bench_function("raw_ceiling_messages", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let prefix = format!("raw{}", runs.fetch_add(1, Ordering::Relaxed));
                let ceiling = actix::System::new()
                    .block_on(raw_ceiling(
                        &url,
                        &prefix,
                        &options,
                        PER_ITERATION,
                        Duration::from_secs(60),
                    ))
                    .expect("raw loop runs");
                assert_eq!(ceiling.moved, PER_ITERATION as u64, "every entry moved");
                total += ceiling.elapsed;
            }
            total
        });
    });
    group.finish();
}

criterion_group!(benches, runtime);
criterion_main!(benches);
