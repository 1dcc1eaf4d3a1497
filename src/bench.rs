//! Benchmarks that run against real Redis and report figures as one JSON
//! document (`tradehub bench …`); criterion runs the same code in `benches/`.

pub mod measured;
pub mod runtime;
