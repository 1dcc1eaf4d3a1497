//! Codec and mapping throughput: EDIFACT and X12 parsing in MB/s, jq mapping
//! of one canonical declaration per second, and XML and JSON documents of n, 2n
//! and 4n siblings in elements/s (flat when tree construction is linear).

use std::path::{Path, PathBuf};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use tradehub::formats::mapping::{Globals, Mapping};
use tradehub::formats::{CodecSettings, Format};
use tradehub::formats::{Limits, edifact, x12};
use tradehub_testkit::hostile;

/// The samples the tests read (`tests/data`), which hold the benchmark's inputs too.
fn test_data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

fn edifact_parse(c: &mut Criterion) {
    let path = test_data().join("edifact/benchmark/pydifact_huge_file2_ORDERS_D96A.edi");
    let text = std::fs::read_to_string(&path).expect("benchmark file");
    let mut group = c.benchmark_group("edifact");
    group.throughput(Throughput::Bytes(text.len() as u64));
    group.bench_function("tokenise+parse huge ORDERS D96A", |b| {
        b.iter(|| {
            edifact::parse(std::hint::black_box(&text), &Limits::default())
                .expect("parses")
                .len()
        })
    });
    group.bench_function("parse+envelope check", |b| {
        b.iter(|| {
            let doc =
                edifact::parse(std::hint::black_box(&text), &Limits::default()).expect("parses");
            edifact::envelope::check(&doc).issues.len()
        })
    });
    group.finish();
}

fn x12_parse(c: &mut Criterion) {
    let dir = test_data().join("x12/samples");
    let mut all = String::new();
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("x12 samples")
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    let texts: Vec<String> = files
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "edi"))
        .map(|p| std::fs::read_to_string(p).expect("sample"))
        .collect();
    for t in &texts {
        all.push_str(t);
    }
    let mut group = c.benchmark_group("x12");
    group.throughput(Throughput::Bytes(all.len() as u64));
    group.bench_function("parse all samples", |b| {
        b.iter(|| {
            texts
                .iter()
                .map(|t| {
                    x12::parse(std::hint::black_box(t), &Limits::default())
                        .expect("parses")
                        .len()
                })
                .sum::<usize>()
        })
    });
    group.finish();
}

fn jq_mapping(c: &mut Criterion) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mapping = Mapping::load(&root.join("config/mappings/uk-cds/declaration.v1.jq"))
        .expect("mapping compiles");
    let input: serde_json::Value = serde_json::from_slice(
        &std::fs::read(root.join("tests/fixtures/partners/uk-cds/outbound/declaration.json"))
            .expect("fixture"),
    )
    .expect("fixture JSON");
    let globals = Globals {
        partner: serde_json::from_str(
            r#"{"name": "bench", "codec": {"sender": "TRADEHUB", "recipient": "BROKER01"}}"#,
        )
        .expect("json"),
        ctx: serde_json::from_str(r#"{"control_ref": "1", "date": "20261127", "time": "1015"}"#)
            .expect("json"),
        tables: tradehub::formats::Tree::map(),
    };
    let mut group = c.benchmark_group("mapping");
    group.throughput(Throughput::Elements(1));
    group.bench_function("uk-cds declaration outbound", |b| {
        b.iter(|| {
            mapping
                .run_json(std::hint::black_box(&input), &globals)
                .expect("maps")
        })
    });
    for (name, file) in [
        (
            "edifact-broker CUSDEC outbound",
            "config/mappings/edifact-broker/cusdec.v1.jq",
        ),
        (
            "rest-broker JSON outbound",
            "config/mappings/rest-broker/declaration.v1.jq",
        ),
    ] {
        let m = Mapping::load(&root.join(file)).expect("mapping compiles");
        group.bench_function(name, |b| {
            b.iter(|| {
                m.run_json(std::hint::black_box(&input), &globals)
                    .expect("maps")
            })
        });
    }
    for (name, code) in [
        ("identity (conversion overhead)", "."),
        ("two-field object", "{a: .lrn, n: (.lines | length)}"),
    ] {
        let m = Mapping::compile(Path::new("bench.jq"), code).expect("compiles");
        group.bench_function(name, |b| {
            b.iter(|| {
                m.run_json(std::hint::black_box(&input), &globals)
                    .expect("maps")
            })
        });
    }
    group.finish();
}

/// One root with n, 2n and 4n distinctly named children: a linear key search per
/// insert made 240,000 of them take over a minute.
fn wide_documents(c: &mut Criterion) {
    let mut group = c.benchmark_group("wide");
    group.sample_size(10);
    for n in [20_000_usize, 40_000, 80_000] {
        group.throughput(Throughput::Elements(n as u64));
        for (format, document) in [
            (Format::Xml, hostile::wide_xml(n)),
            (Format::Json, hostile::wide_json(n)),
        ] {
            let codec = CodecSettings::default_for(format);
            group.bench_with_input(
                BenchmarkId::new(format.to_string(), n),
                &document,
                |b, document| {
                    b.iter(|| codec.parse(std::hint::black_box(document)).expect("parses"))
                },
            );
        }
    }
    group.finish();
}

criterion_group!(
    benches,
    edifact_parse,
    x12_parse,
    jq_mapping,
    wide_documents
);
criterion_main!(benches);
