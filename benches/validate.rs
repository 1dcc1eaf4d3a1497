//! Master-data validation throughput and reference data load time.
//!
//! Targets (issue 3): validating a 50-line shipment at >= 100,000 shipments/s on one core;
//! loading all reference data in < 200 ms.

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tradehub::model::Shipment;
use tradehub::tariff::{ReferenceData, Rules, validate};

const FIXTURE: &str = include_str!("../tests/fixtures/shipments/valid_export_de_us_sea.json");

/// The valid export fixture with its three lines repeated to `n` lines, numbered 1..=n.
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
    s
}

fn bench_validate(c: &mut Criterion) {
    let reference = ReferenceData::bundled();
    let rules = Rules::default();
    let shipment = shipment_with_lines(50);
    let report = validate(&shipment, reference, &rules);
    assert!(
        report.valid && report.issues.is_empty(),
        "bench input must be valid: {:?}",
        report.issues
    );

    let mut group = c.benchmark_group("validate");
    group.throughput(Throughput::Elements(1));
    group.bench_function("shipment_50_lines_valid", |b| {
        b.iter(|| validate(black_box(&shipment), reference, &rules))
    });

    // The same shipment with one problem on every line, so that messages and paths are built.
    let mut broken = shipment.clone();
    for line in &mut broken.lines {
        line.gross_mass_kg = Some("0.1".parse().expect("mass"));
    }
    assert_eq!(validate(&broken, reference, &rules).issues.len(), 50);
    group.bench_function("shipment_50_lines_50_issues", |b| {
        b.iter(|| validate(black_box(&broken), reference, &rules))
    });
    group.finish();
}

fn bench_load(c: &mut Criterion) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("data");
    let mut group = c.benchmark_group("reference_data");
    group.throughput(Throughput::Elements(1));
    group.sample_size(10);
    group.bench_function("load_all", |b| {
        b.iter(|| ReferenceData::load(black_box(&dir)).expect("data loads"))
    });
    group.finish();
}

criterion_group!(benches, bench_validate, bench_load);
criterion_main!(benches);
