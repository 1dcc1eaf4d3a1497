//! tradehub: the integration hub for cross-border trade on Odoo.
//!
//! A long-running service built on the `tradehub-actors` runtime: one saga per
//! shipment, one connection per partner, Redis Streams as durable mailboxes.
//!
//! # Layout
//!
//! | module | what |
//! |---|---|
//! | [`cli`] | the `tradehub` subcommands |
//! | [`formats`] | codecs (EDIFACT, X12, XML, CSV/fixed width, JSON) into one tree, and jq mappings |
//! | [`partners`] | partner templates (`config/partners/*.toml`) and fixture certification |

pub mod cli;
pub mod formats;
pub mod partners;
