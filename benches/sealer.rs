//! Encryption at rest: sealing and opening a saga state and an envelope, against the same work in
//! clear (what a commit and a delivery pay per value on top of the Redis round trip).

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tradehub::secret::Secret;
use tradehub::store::{Place, Sealer};

const KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
const FIXTURE: &str = include_str!("../tests/fixtures/shipments/valid_export_de_us_sea.json");

fn bench_sealer(c: &mut Criterion) {
    let sealer = Sealer::from_keys("k1", &[("k1", &Secret::new(KEY))]).expect("bench key");
    let place = Place::field("th:{s3}:st:SH-1", "state");
    let sealed = sealer.seal_text(&place, FIXTURE);
    assert_eq!(sealer.open_text(&place, &sealed).expect("opens"), FIXTURE);

    let mut group = c.benchmark_group("sealer");
    group.throughput(Throughput::Bytes(FIXTURE.len() as u64));
    group.bench_function("seal_state", |b| {
        b.iter(|| sealer.seal_text(black_box(&place), black_box(FIXTURE)))
    });
    group.bench_function("open_state", |b| {
        b.iter(|| sealer.open_text(black_box(&place), black_box(&sealed)))
    });
    group.bench_function("place", |b| {
        b.iter(|| Place::field(black_box("th:{s3}:st:SH-1"), black_box("state")))
    });
    group.finish();
}

criterion_group!(benches, bench_sealer);
criterion_main!(benches);
