//! The HTTP API (actix-web). Probes live here; the `/v1` routes join as their
//! areas land. `/metrics` has its own listener (see [`crate::telemetry`]).

pub mod health;

use std::net::SocketAddr;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::{App, HttpServer, web};

pub use health::Readiness;

/// Bind the API listener. The server runs when the returned future is polled
/// (spawn it); its handle stops it gracefully.
pub fn server(
    listen: SocketAddr,
    readiness: Arc<Readiness>,
) -> std::io::Result<(Server, SocketAddr)> {
    let data = web::Data::from(readiness);
    let server =
        HttpServer::new(move || App::new().app_data(data.clone()).configure(health::routes))
            .workers(2)
            .disable_signals()
            .bind(listen)?;
    let bound = server.addrs().first().copied().unwrap_or(listen);
    Ok((server.run(), bound))
}
