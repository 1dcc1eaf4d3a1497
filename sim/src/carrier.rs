//! The simulated carrier: posts a shipment's journey to the hub's callback route,
//! as DCSA Track & Trace JSON events (`carrier-dcsa`) or as X12 214 interchanges
//! (`carrier-x12`), signed over time and body like the brokers' callbacks (each post signed
//! when it is sent).
//!
//! Events carry the hub's shipment id as the booking reference (DCSA `BKG`, X12
//! `B10-02`) and fixed event times per step, so a repeated post is the same
//! milestone and the hub dedupes it. `drop_callback_rate` drops posts on purpose.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpResponse, HttpServer, web};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::broker::Faults;
use tradehub::api::callbacks::CALLBACK_ID_HEADER;
use tradehub::partners::signature::{sign, unix_now};
use tradehub::secret::Secret;
use tradehub::workflow::shipment::inputs::Milestone;

#[cfg(test)]
mod tests;

/// How a carrier reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CarrierFormat {
    /// DCSA Track & Trace JSON events (ocean).
    Dcsa,
    /// X12 214 shipment status (truck).
    X12,
}

impl CarrierFormat {
    /// The format shipment `key` is carried with under `seed` (about half each).
    pub fn for_shipment(seed: u64, key: &str) -> Self {
        let digest = Sha256::digest(format!("carrier:{seed}:{key}").as_bytes());
        if digest[0] & 1 == 0 {
            Self::Dcsa
        } else {
            Self::X12
        }
    }

    /// The partner event codes of a whole journey, in order.
    pub fn journey(self) -> &'static [&'static str] {
        match self {
            Self::Dcsa => &["GTIN", "LOAD", "DEPA", "ARRI", "DISC", "GTOT", "DROP"],
            Self::X12 => &["X3", "AF", "X6", "X1", "D1"],
        }
    }

    /// The saga milestones a whole journey yields, in order, without repeats.
    pub fn expected_milestones(self) -> Vec<Milestone> {
        let mut out: Vec<Milestone> = Vec::new();
        for code in self.journey() {
            let m = match (self, *code) {
                (Self::Dcsa, "GTIN") | (Self::X12, "X3" | "AF") => Milestone::PickedUp,
                (Self::Dcsa, "LOAD" | "DEPA") | (Self::X12, "X6") => Milestone::Departed,
                (Self::Dcsa, "ARRI" | "DISC") | (Self::X12, "X1") => Milestone::Arrived,
                (Self::Dcsa, "GTOT") => Milestone::OutForDelivery,
                _ => Milestone::Delivered,
            };
            if !out.contains(&m) {
                out.push(m);
            }
        }
        out
    }
}

/// One callback route at the hub.
#[derive(Debug, Clone)]
pub struct CarrierEndpoint {
    /// Full callback URL, e.g. `http://127.0.0.1:8080/v1/partners/carrier-dcsa/callbacks`.
    pub url: String,
    /// Signature header.
    pub header: String,
    /// Shared secret.
    pub secret: Secret,
}

/// The carrier simulator's settings.
#[derive(Debug, Clone)]
pub struct CarrierSimConfig {
    /// Where DCSA events go.
    pub dcsa: CarrierEndpoint,
    /// Where X12 214 interchanges go.
    pub x12: CarrierEndpoint,
    /// Seed of faults.
    pub seed: u64,
    /// Wait between a journey's events.
    pub step_delay: Duration,
    /// Faults (only `drop_callback_rate` and `slow` apply to a sender).
    pub faults: Faults,
}

/// What the carrier simulator did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct CarrierCounters {
    /// Events the hub accepted (2xx).
    pub posted: u64,
    /// Events dropped on purpose.
    pub dropped: u64,
    /// Events the hub did not take even after redelivery.
    pub failed: u64,
}

#[derive(Debug)]
struct Inner {
    config: CarrierSimConfig,
    client: reqwest::Client,
    rng: std::sync::Mutex<StdRng>,
    posted: AtomicU64,
    dropped: AtomicU64,
    failed: AtomicU64,
    control: AtomicU64,
}

/// The carrier simulator; cheap to clone.
#[derive(Debug, Clone)]
pub struct CarrierSim {
    inner: Arc<Inner>,
}

/// An event could not be posted.
#[derive(Debug, thiserror::Error)]
pub enum CarrierSimError {
    /// No such step in the journey.
    #[error("the {format:?} journey has no step {step}")]
    Step {
        /// Format.
        format: CarrierFormat,
        /// Step asked for.
        step: usize,
    },
    /// HTTP failed.
    #[error("posting to the hub: {0}")]
    Http(#[from] reqwest::Error),
}

/// Event time of journey step `step`: fixed per step so reposts are duplicates.
fn event_time(step: usize) -> time::OffsetDateTime {
    time::macros::datetime!(2026-12-01 06:00 UTC) + time::Duration::hours(6 * step as i64)
}

/// A DCSA event for `shipment` at journey step `step` with code `code`.
pub fn dcsa_event(shipment: &str, step: usize, code: &str) -> Value {
    let at = event_time(step)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let location = if step < 3 { "DEHAM" } else { "USNYC" };
    let id = hex::encode(&Sha256::digest(format!("{shipment}:{code}:{step}").as_bytes())[..16]);
    let references =
        json!([{ "documentReferenceType": "BKG", "documentReferenceValue": shipment }]);
    match code {
        "DEPA" | "ARRI" => json!({
            "eventID": id, "eventType": "TRANSPORT", "eventClassifierCode": "ACT",
            "eventDateTime": at, "eventCreatedDateTime": at, "transportEventTypeCode": code,
            "transportCall": { "location": { "UNLocationCode": location } },
            "documentReferences": references,
        }),
        _ => json!({
            "eventID": id, "eventType": "EQUIPMENT", "eventClassifierCode": "ACT",
            "eventDateTime": at, "eventCreatedDateTime": at, "equipmentEventTypeCode": code,
            "equipmentReference": "CONU1234567", "emptyIndicatorCode": "LADEN",
            "eventLocation": { "UNLocationCode": location },
            "documentReferences": references,
        }),
    }
}

/// An X12 214 interchange for `shipment` with one AT7 status `code` at journey step `step`.
pub fn x12_214(shipment: &str, step: usize, code: &str, control: u64) -> String {
    let at = event_time(step);
    let date = format!("{:04}{:02}{:02}", at.year(), u8::from(at.month()), at.day());
    let time = format!("{:02}{:02}", at.hour(), at.minute());
    let control = control % 1_000_000_000;
    format!(
        "ISA*00*          *00*          *02*SIMC           *ZZ*TRADEHUB       *{}*{time}*U*00401*{control:09}*0*P*>~\n\
         GS*QM*SIMC*TRADEHUB*{date}*{time}*{control}*X*004010~\n\
         ST*214*0001~\n\
         B10*{shipment}*{shipment}*SIMC~\n\
         LX*1~\n\
         AT7*{code}*NS***{date}*{time}*UT~\n\
         SE*5*0001~\n\
         GE*1*{control}~\n\
         IEA*1*{control:09}~\n",
        &date[2..]
    )
}

impl CarrierSim {
    /// A simulator posting per `config`.
    pub fn new(config: CarrierSimConfig) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()?;
        Ok(Self {
            inner: Arc::new(Inner {
                rng: std::sync::Mutex::new(StdRng::seed_from_u64(config.seed)),
                config,
                client,
                posted: AtomicU64::new(0),
                dropped: AtomicU64::new(0),
                failed: AtomicU64::new(0),
                control: AtomicU64::new(1),
            }),
        })
    }

    /// What it did.
    pub fn counters(&self) -> CarrierCounters {
        CarrierCounters {
            posted: self.inner.posted.load(Ordering::Relaxed),
            dropped: self.inner.dropped.load(Ordering::Relaxed),
            failed: self.inner.failed.load(Ordering::Relaxed),
        }
    }

    /// Posts journey step `step` of `shipment` in `format` now (no drop fault); returns
    /// the hub's HTTP status.
    pub async fn post_step(
        &self,
        shipment: &str,
        format: CarrierFormat,
        step: usize,
    ) -> Result<u16, CarrierSimError> {
        let code = *format
            .journey()
            .get(step)
            .ok_or(CarrierSimError::Step { format, step })?;
        let (endpoint, body, content_type) = match format {
            CarrierFormat::Dcsa => (
                &self.inner.config.dcsa,
                dcsa_event(shipment, step, code).to_string(),
                "application/json",
            ),
            CarrierFormat::X12 => (
                &self.inner.config.x12,
                x12_214(
                    shipment,
                    step,
                    code,
                    self.inner.control.fetch_add(1, Ordering::Relaxed),
                ),
                "application/edi-x12",
            ),
        };
        let signature = sign(endpoint.secret.as_bytes(), unix_now(), body.as_bytes());
        let response = self
            .inner
            .client
            .post(&endpoint.url)
            .header(endpoint.header.as_str(), signature)
            .header(CALLBACK_ID_HEADER, format!("{shipment}:{code}:{step}"))
            .header("Content-Type", content_type)
            .body(body)
            .send()
            .await?;
        let status = response.status();
        if status.is_success() {
            self.inner.posted.fetch_add(1, Ordering::Relaxed);
        }
        Ok(status.as_u16())
    }

    fn drop_now(&self) -> bool {
        let p = self.inner.config.faults.drop_callback_rate;
        p > 0.0
            && self
                .inner
                .rng
                .lock()
                .is_ok_and(|mut r| r.random_bool(p.min(1.0)))
    }

    /// Plays `shipment`'s whole journey in `format` in the background, one event per
    /// step delay.
    pub fn dispatch(&self, shipment: &str, format: CarrierFormat) -> tokio::task::JoinHandle<()> {
        let sim = self.clone();
        let shipment = shipment.to_owned();
        tokio::spawn(async move {
            for step in 0..format.journey().len() {
                tokio::time::sleep(sim.inner.config.step_delay).await;
                if let Some(slow) = sim.inner.config.faults.slow {
                    tokio::time::sleep(slow).await;
                }
                if sim.drop_now() {
                    sim.inner.dropped.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
                let delivered = super::redeliver(|| async {
                    match sim.post_step(&shipment, format, step).await {
                        Ok(status) => (200..300).contains(&status),
                        Err(error) => {
                            tracing::debug!(shipment, %error, "simulated carrier could not post; retrying");
                            false
                        }
                    }
                })
                .await;
                if !delivered {
                    sim.inner.failed.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(shipment, step, "simulated carrier gave up posting an event");
                }
            }
        })
    }

    /// Serves `POST /v1/shipments/{id}/dispatch?format=dcsa|x12` (format seeded when
    /// absent) and `GET /v1/stats` on `listen`, for running the simulator on its own.
    pub fn serve(&self, listen: SocketAddr) -> std::io::Result<(SocketAddr, ServerHandle)> {
        let data = web::Data::new(self.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .route(
                    "/v1/shipments/{id}/dispatch",
                    web::post().to(dispatch_route),
                )
                .route("/v1/stats", web::get().to(stats_route))
        })
        .workers(1)
        .disable_signals()
        .bind(listen)?;
        let addr = server.addrs().first().copied().unwrap_or(listen);
        let server = server.run();
        let handle = server.handle();
        tokio::spawn(server);
        Ok((addr, handle))
    }
}

#[derive(Debug, Deserialize)]
struct DispatchQuery {
    format: Option<CarrierFormat>,
}

async fn dispatch_route(
    sim: web::Data<CarrierSim>,
    id: web::Path<String>,
    query: web::Query<DispatchQuery>,
) -> HttpResponse {
    let format = query
        .format
        .unwrap_or_else(|| CarrierFormat::for_shipment(sim.inner.config.seed, &id));
    sim.dispatch(&id, format);
    HttpResponse::Accepted().json(json!({
        "shipment_id": id.as_str(),
        "format": format,
        "milestones": format.expected_milestones(),
    }))
}

async fn stats_route(sim: web::Data<CarrierSim>) -> HttpResponse {
    HttpResponse::Ok().json(sim.counters())
}
