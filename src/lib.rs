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
//! | [`screening`] | restricted-party screening: list loaders, normalisation, index, scoring, decisions, evaluation |

pub mod cli;
pub mod screening;
