//! `/healthz` (the process answers) and `/readyz` (it can do work: Redis
//! answers and this node owns partitions, or is still allowed to take some).

use actix_web::{HttpResponse, web};
use serde_json::json;

/// What `/readyz` shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadyReport {
    /// The node can do work: everything below is as it should be.
    pub ready: bool,
    /// Redis answered the last probe.
    pub redis_up: bool,
    /// Partitions owned after the last lease round.
    pub partitions_owned: u32,
    /// The node is shutting down.
    pub draining: bool,
}

/// Where `/readyz` learns whether the node can do work; the service that starts the API
/// hands one over.
pub trait ReadyProbe: Send + Sync + 'static {
    /// The node's readiness now.
    fn report(&self) -> ReadyReport;
}

/// `GET /healthz`.
pub(super) async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// `GET /readyz`.
pub(super) async fn readyz(probe: web::Data<dyn ReadyProbe>) -> HttpResponse {
    let report = probe.report();
    let body = json!({
        "ready": report.ready,
        "redis_up": report.redis_up,
        "partitions_owned": report.partitions_owned,
        "draining": report.draining,
    });
    if report.ready {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}
