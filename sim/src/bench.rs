//! Benchmarks that run against real Redis and report figures as one JSON
//! document (`tradehub bench …`); criterion runs the same code in `benches/`.

pub mod e2e;
pub mod histogram;
pub mod measured;
pub mod runtime;
