//! Canonical shipments built from the Odoo simulator through the real HTTP path.
//!
//! Target (issue 6): at least 500 pickings/s of 10 lines each with the client on one core, and at
//! most one Odoo call per picking amortised. The client runs on a current-thread runtime; the
//! simulator serves from its own single worker thread. The calls per picking are printed.

#![allow(clippy::print_stdout)]

use std::net::SocketAddr;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use serde_json::json;
use tradehub::partners::odoo::{OdooClient, OdooConfig, OdooTransport, ShipmentReader};
use tradehub::secret::Secret;
use tradehub_sim::odoo::{SimConfig, start};

const PICKINGS: usize = 1_000;
const LINES: usize = 10;
const PAGE: usize = 200;

fn bench_odoo(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let local = tokio::task::LocalSet::new();
    let sim = local.block_on(&rt, async {
        start(
            SimConfig {
                pickings: 0,
                api_key: Some("bench".to_owned()),
                ..SimConfig::default()
            },
            SocketAddr::from(([127, 0, 0, 1], 0)),
        )
        .expect("simulator")
    });
    let ids = sim.create_pickings(PICKINGS, LINES).expect("pickings");
    let domain = json!([["id", ">=", ids[0]], ["id", "<=", ids[ids.len() - 1]]]);

    let mut group = c.benchmark_group("odoo");
    group.throughput(Throughput::Elements(PICKINGS as u64));
    group.sample_size(10);
    for transport in [OdooTransport::OdooJson2, OdooTransport::OdooJsonrpc] {
        let config = OdooConfig::new(
            &sim.url(),
            sim.db(),
            sim.login(),
            Secret::new(sim.api_key()),
            transport,
        );
        let reader = ShipmentReader::new(OdooClient::new(config).expect("client"));
        let read_all = || async {
            let mut built = 0;
            for offset in (0..PICKINGS).step_by(PAGE) {
                let page = reader
                    .read_page(domain.clone(), offset, PAGE)
                    .await
                    .expect("page");
                built += page
                    .iter()
                    .filter(|r| r.outcome.as_ref().is_ok_and(|s| s.lines.len() == LINES))
                    .count();
            }
            assert_eq!(built, PICKINGS);
        };
        local.block_on(&rt, read_all());
        let before = reader.client().stats();
        local.block_on(&rt, read_all());
        let after = reader.client().stats();
        println!(
            "odoo/{transport:?}: {:.3} Odoo calls per picking ({} calls for {PICKINGS} pickings of {LINES} lines, pages of {PAGE})",
            (after.calls - before.calls) as f64 / PICKINGS as f64,
            after.calls - before.calls
        );
        group.bench_function(format!("build_shipments_{transport:?}"), |b| {
            b.iter(|| local.block_on(&rt, read_all()))
        });
    }
    group.finish();
    local.block_on(&rt, sim.stop());
}

criterion_group!(benches, bench_odoo);
criterion_main!(benches);
