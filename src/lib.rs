//! tradehub: the integration hub for cross-border trade on Odoo.
//!
//! A long-running service built on the `tradehub-actors` runtime: one saga per
//! shipment, one connection per partner, Redis Streams as durable mailboxes.
//!
//! # Layout
//!
//! | module | what |
//! |---|---|
//! | [`api`] | actix-web: the route table, probes, ingest and operator routes |
//! | [`auth`] | roles, API tokens, the access each route declares, rate limits |
//! | [`cli`] | the `tradehub` subcommands |
//! | [`config`] | figment-layered service configuration |
//! | [`finance`] | settlement documents, the duty reconciliation batch and its Odoo posting |
//! | [`formats`] | codecs (EDIFACT, X12, XML, CSV/fixed width, JSON) into one tree, and jq mappings |
//! | [`model`] | the canonical data model v1: shipments, parties, products, documents, declarations, code newtypes |
//! | [`retention`] | how long each kind of data stays, exported to compressed JSON lines before it goes |
//! | [`partners`] | partner transports: the Odoo client (JSON-RPC, JSON-2), its poller and write-back; partners' outbound authentication and TLS |
//! | [`screening`] | restricted-party screening: list loaders, normalisation, index, scoring, decisions, evaluation |
//! | [`secret`] | secrets read from the environment, never shown in logs or errors |
//! | [`service`] | `tradehub serve`: leases, partition work, shutdown |
//! | [`store`] | the Redis Streams mailbox: keys, Lua scripts, DLQ, timers, audit chain, encryption at rest |
//! | [`tariff`] | bundled reference data (HS 2022, ISO countries and currencies, Incoterms, UN/LOCODE), master-data validation, duty / taxes / landed cost, duty reconciliation |
//! | [`telemetry`] | logs and the Prometheus exporter, metric names |
//! | [`tls`] | PEM files into rustls, the API listener's reloading certificate and client-certificate check |
//! | [`workflow`] | the sagas the hub runs |

pub mod api;
pub mod auth;
pub mod cli;
pub mod config;
pub mod finance;
pub mod formats;
pub mod model;
pub mod partners;
pub mod retention;
pub mod screening;
pub mod secret;
pub mod service;
pub mod store;
pub mod tariff;
pub mod telemetry;
pub mod tls;
pub mod workflow;
