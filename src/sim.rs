//! Simulators of the hub's partners, for tests and the demo.
//!
//! | module | what |
//! |---|---|
//! | [`broker`] | seeded customs scenarios, fault injection, and the REST/JSON broker |
//! | [`broker_edifact`] | the EDIFACT CUSDEC/CUSRES broker over a folder pair |
//! | [`carrier`] | a carrier posting DCSA JSON events and X12 214 to the hub |

pub mod broker;
pub mod broker_edifact;
pub mod carrier;
//! Simulators of the systems the hub talks to, for tests, benchmarks and the demo. Each speaks
//! its real protocol over real HTTP, so the production client code runs against it unchanged.
pub mod odoo;
