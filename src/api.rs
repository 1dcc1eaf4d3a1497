//! The HTTP API (actix-web): probes, shipment ingest and timelines, over HTTPS when
//! `[http.tls]` is set ([`crate::tls`]). `/metrics` has its own listener (see
//! [`crate::telemetry`]). Every request carries a correlation id ([`correlation`]), and errors
//! are problem documents ([`problem`]) that name it. Every route, with the access it declares,
//! is in [`routes::table`], the only way a route is registered; a path no route serves is a 404
//! problem.
//!
//! The API depends on nothing that runs the node: whoever starts it (`tradehub serve`)
//! hands over the store, the partners allowed to call back, the Odoo feed and a
//! [`ReadyProbe`] as values.

pub mod actions;
pub mod bookings;
pub mod callbacks;
pub mod correlation;
pub mod health;
pub mod ingest;
pub mod problem;
pub mod routes;
pub mod shipments;

use std::net::SocketAddr;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};

pub use health::{ReadyProbe, ReadyReport};

use crate::auth::Gate;
use crate::store::RedisMailbox;
use crate::workflow::shipment::four_eyes::FourEyes;

/// What the routes share.
pub struct ApiState {
    /// The durable store inputs are ingested into.
    pub mailbox: RedisMailbox,
    /// Partition count, to place keys.
    pub partitions: u16,
    /// Partners allowed to call back, with their secrets.
    pub callbacks: callbacks::Callbacks,
    /// The Odoo webhook's feed; `None` outside the shipment workflow.
    pub odoo: Option<ingest::OdooIngest>,
    /// Checks tokens, roles and rate limits on the role routes.
    pub gate: Gate,
    /// Which screening decisions need a second compliance officer (`[saga.four_eyes]`), so
    /// that a request the saga would refuse is refused at once.
    pub four_eyes: FourEyes,
}

/// Largest request body accepted, raw or as JSON: handlers read bodies as bytes, and the JSON
/// extractor's own limit is set to the same so that no route can accept more.
const MAX_BODY: usize = 4 * 1024 * 1024;

/// Bind the API listener for plain HTTP. The server runs when the returned future is polled
/// (spawn it); its handle stops it gracefully.
pub fn server(
    listen: SocketAddr,
    readiness: Arc<dyn ReadyProbe>,
    state: ApiState,
) -> std::io::Result<(Server, SocketAddr)> {
    bind(listen, None, readiness, state)
}

/// Bind the API listener, for HTTPS with `tls` (see [`crate::tls::TlsConfig::server_config`]),
/// for plain HTTP without.
pub fn bind(
    listen: SocketAddr,
    tls: Option<rustls::ServerConfig>,
    readiness: Arc<dyn ReadyProbe>,
    state: ApiState,
) -> std::io::Result<(Server, SocketAddr)> {
    let readiness: web::Data<dyn ReadyProbe> = web::Data::from(readiness);
    let gate = state.gate.clone();
    let state = web::Data::new(state);
    let table = routes::table();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(readiness.clone())
            .app_data(state.clone())
            .app_data(web::PayloadConfig::new(MAX_BODY))
            .app_data(web::JsonConfig::default().limit(MAX_BODY))
            .configure(|cfg| routes::configure(cfg, &table, &gate))
            .default_service(web::to(routes::unknown))
            .wrap(from_fn(correlation::correlate))
    })
    .workers(2)
    .disable_signals();
    let server = match tls {
        Some(tls) => server.bind_rustls_0_23(listen, tls)?,
        None => server.bind(listen)?,
    };
    let bound = server.addrs().first().copied().unwrap_or(listen);
    Ok((server.run(), bound))
}
