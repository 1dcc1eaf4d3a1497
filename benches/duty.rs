//! Duty engine throughput.
//!
//! Targets (issue 7): >= 200,000 line computations/s on one core; a 100-line shipment in
//! < 100 us. Each line is computed with its full working (formulas, sources), as the CLI and the
//! saga get it.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tradehub::model::Shipment;
use tradehub::tariff::duty::{TariffBook, compute, default_dir};

const FIXTURE: &str =
    include_str!("../tests/fixtures/shipments/valid_import_jp_gb_air_preference.json");

/// The JP -> GB import fixture with its two lines (one preferential, one MFN) repeated.
fn shipment_with_lines(n: usize) -> Shipment {
    let mut s: Shipment = serde_json::from_str(FIXTURE).expect("fixture parses");
    let template = s.lines.clone();
    s.lines = (0..n)
        .map(|i| {
            let mut line = template[i % template.len()].clone();
            line.number = u32::try_from(i + 1).expect("few lines");
            line
        })
        .collect();
    // The origin statement covers every line, so the preferential lines stay preferential.
    for d in &mut s.documents {
        d.lines.clear();
    }
    s
}

fn bench_duty(c: &mut Criterion) {
    let book = TariffBook::load(&default_dir()).expect("config/tariffs loads");
    let mut group = c.benchmark_group("duty");
    for n in [1usize, 100] {
        let s = shipment_with_lines(n);
        compute(&s, &book).expect("computes");
        group.throughput(Throughput::Elements(n as u64));
        group.bench_function(format!("shipment_{n}_lines"), |b| {
            b.iter(|| compute(black_box(&s), &book))
        });
    }
    group.finish();
}

criterion_group!(benches, bench_duty);
criterion_main!(benches);
