//! Simulators of the systems the hub talks to, for tests, benchmarks and the demo. Each speaks
//! its real protocol over real HTTP, so the production client code runs against it unchanged.

pub mod odoo;
