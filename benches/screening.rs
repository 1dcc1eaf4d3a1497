//! Screening speed against every shipped list (~40,000 names): per-query latency through the
//! index (criterion, plus p50/p99 over a fixed query set), the linear scan it replaces, and list
//! loading. Run from the crate root: `cargo bench --bench screening -- --warm-up-time 1 --measurement-time 3`.

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use tradehub::screening::config::default_lists;
use tradehub::screening::eval::synth;
use tradehub::screening::{ListSpec, ListStore, Query, Screener};

fn specs() -> Vec<ListSpec> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    default_lists()
        .into_iter()
        .map(|mut s| {
            s.path = root.join(&s.path);
            s
        })
        .collect()
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

fn queries(screener: &Screener) -> Vec<Query> {
    synth::generate(screener.lists(), 1_000, 1_000, 99)
        .into_iter()
        .map(|r| Query {
            name: r.query,
            country: (!r.country.is_empty()).then_some(r.country),
            ..Default::default()
        })
        .collect()
}

fn percentiles(screener: &Screener, qs: &[Query]) {
    let mut lat: Vec<Duration> = Vec::with_capacity(qs.len() * 5);
    for _ in 0..5 {
        for q in qs {
            let t = Instant::now();
            black_box(screener.screen(q));
            lat.push(t.elapsed());
        }
    }
    lat.sort_unstable();
    let at = |p: f64| lat[((lat.len() - 1) as f64 * p) as usize].as_secs_f64() * 1e6;
    let mean = lat.iter().sum::<Duration>().as_secs_f64() / lat.len() as f64;
    eprintln!(
        "screening: {} timed queries: p50 {:.1} µs, p90 {:.1} µs, p99 {:.1} µs, max {:.1} µs, {:.0} queries/s on one core",
        lat.len(),
        at(0.50),
        at(0.90),
        at(0.99),
        at(1.0),
        1.0 / mean
    );
}

fn bench(c: &mut Criterion) {
    let before = rss_kib();
    let started = Instant::now();
    let store = ListStore::load_all(&specs()).expect("shipped lists load");
    let screener = Screener::new(store, Default::default());
    let load = started.elapsed();
    let after = rss_kib();
    eprintln!(
        "screening: {} entities, {} names, {} tokens; lists loaded and indexed in {} ms; RSS +{} MiB (total {} MiB)",
        screener.entity_count(),
        screener.index().len(),
        screener.index().vocabulary_len(),
        load.as_millis(),
        after.saturating_sub(before) / 1024,
        after / 1024
    );
    let qs = queries(&screener);
    percentiles(&screener, &qs);

    let mut g = c.benchmark_group("screening");
    g.throughput(Throughput::Elements(1));
    let mut i = 0usize;
    g.bench_function(
        BenchmarkId::new("indexed_query", screener.index().len()),
        |b| {
            b.iter(|| {
                i = (i + 1) % qs.len();
                black_box(screener.screen(&qs[i]))
            })
        },
    );
    g.sample_size(10);
    let mut j = 0usize;
    g.bench_function(
        BenchmarkId::new("linear_scan_query", screener.index().len()),
        |b| {
            b.iter(|| {
                j = (j + 1) % qs.len();
                black_box(screener.screen_linear(&qs[j]))
            })
        },
    );
    g.finish();

    let mut g = c.benchmark_group("screening_load");
    g.sample_size(10);
    g.throughput(Throughput::Elements(screener.index().len() as u64));
    g.bench_function("load_and_index_all_lists", |b| {
        b.iter(|| {
            let store = ListStore::load_all(&specs()).expect("load");
            black_box(Screener::new(store, Default::default()))
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
