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
//! | [`model`] | the canonical data model v1: shipments, parties, products, documents, declarations, code newtypes |
//! | [`tariff`] | bundled reference data (HS 2022, ISO countries and currencies, Incoterms, UN/LOCODE), master-data validation, duty / taxes / landed cost, duty reconciliation |

pub mod cli;
pub mod model;
pub mod tariff;
