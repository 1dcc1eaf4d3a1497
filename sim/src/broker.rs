//! Simulated customs brokers: the seeded scenarios both brokers play, the faults
//! they inject on demand, and the REST/JSON broker ([`RestBrokerSim`]).
//!
//! The REST broker speaks the API of `config/partners/rest-broker.toml`: it
//! dedupes filings by LRN (counting filing requests and distinct LRNs so tests can
//! prove there was no duplicate filing), acknowledges with `received`, then after
//! [`BrokerSimConfig::step_delay`] per step posts status callbacks, signed over time and body, to the
//! hub along the LRN's [`Scenario`]. It answers status queries and cancellations.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::settlement::{BrokerStyle, FinanceDrop, drop_documents};
use tradehub::model::DeclarationStatus;
use tradehub::partners::signature::{sign, unix_now};
use tradehub::workflow::shipment::lrn_for;

#[cfg(test)]
mod tests;

/// What customs does with one declaration, chosen from the LRN and the seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scenario {
    /// Accepted, then released.
    AcceptedReleased,
    /// Rejected (only a first version: the amended declaration is accepted and released).
    Rejected,
    /// Accepted, physical control, released.
    ControlReleased,
    /// Accepted, held, hold removed, released.
    HoldReleased,
    /// Accepted, documents required, released.
    DocsReleased,
    /// Accepted, customs query, released.
    QueryReleased,
}

/// Percent of declarations per scenario, in [`Scenario::ALL`] order (sums to 100).
const WEIGHTS: [u64; 6] = [60, 10, 12, 8, 5, 5];

impl Scenario {
    /// Every scenario.
    pub const ALL: [Scenario; 6] = [
        Self::AcceptedReleased,
        Self::Rejected,
        Self::ControlReleased,
        Self::HoldReleased,
        Self::DocsReleased,
        Self::QueryReleased,
    ];

    /// The scenario of declaration `lrn` under `seed`: the same for every run. Hub LRNs
    /// (`TH` + 16 hex + 3-digit version) are drawn per shipment; versions after the
    /// first are never rejected, so an amended declaration goes through.
    pub fn for_lrn(seed: u64, lrn: &str) -> Self {
        let (stem, version) = split_version(lrn);
        let digest = Sha256::digest(format!("{seed}:{stem}").as_bytes());
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        let mut bucket = u64::from_be_bytes(first) % 100;
        let mut chosen = Self::AcceptedReleased;
        for (scenario, weight) in Self::ALL.iter().zip(WEIGHTS) {
            if bucket < weight {
                chosen = *scenario;
                break;
            }
            bucket -= weight;
        }
        if chosen == Self::Rejected && version > 1 {
            Self::AcceptedReleased
        } else {
            chosen
        }
    }

    /// The scenario of the first declaration of shipment `key`.
    pub fn for_shipment(seed: u64, key: &str) -> Self {
        Self::for_lrn(seed, &lrn_for(key, 1))
    }

    /// The statuses customs reports after the broker's receipt, in order.
    pub fn steps(self) -> &'static [DeclarationStatus] {
        use DeclarationStatus::*;
        match self {
            Self::AcceptedReleased => &[Accepted, Released],
            Self::Rejected => &[Rejected],
            Self::ControlReleased => &[Accepted, Control, Released],
            Self::HoldReleased => &[Accepted, Hold, HoldRemoved, Released],
            Self::DocsReleased => &[Accepted, DocsRequired, Released],
            Self::QueryReleased => &[Accepted, Query, Released],
        }
    }

    /// The last status the broker reports for this declaration.
    pub fn final_status(self) -> DeclarationStatus {
        self.steps()
            .last()
            .copied()
            .unwrap_or(DeclarationStatus::Received)
    }
}

/// `("TH…", 1)` for a hub LRN `TH…001`; other LRNs are their own stem, version 1.
fn split_version(lrn: &str) -> (&str, u32) {
    if lrn.len() == 21 && lrn.starts_with("TH") {
        let (stem, version) = lrn.split_at(18);
        if let Ok(v) = version.parse() {
            return (stem, v);
        }
    }
    (lrn, 1)
}

/// The MRN customs gives declaration `lrn` (deterministic, 18 characters).
pub fn mrn_for(lrn: &str) -> String {
    let digest = Sha256::digest(lrn.as_bytes());
    format!("26GB{}", &hex::encode_upper(digest)[..14])
}

/// Faults injected on demand. Rates are probabilities in 0..=1 per request.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// Answer 503.
    pub error_rate: f64,
    /// Answer 429 with `Retry-After`.
    pub rate_limit_rate: f64,
    /// The `Retry-After` of a 429, in seconds.
    pub retry_after_secs: u64,
    /// Delay every answer by this much.
    #[serde(with = "humantime_serde")]
    pub slow: Option<Duration>,
    /// Hold the request this long after processing it (past a client's timeout).
    pub timeout_rate: f64,
    /// How long a "timed out" request is held.
    #[serde(with = "humantime_serde")]
    pub hang: Option<Duration>,
    /// Drop a status callback (or answer file) instead of sending it.
    pub drop_callback_rate: f64,
}

/// Settings shared by the broker simulators.
#[derive(Debug, Clone)]
pub struct BrokerSimConfig {
    /// Seed of scenarios and faults.
    pub seed: u64,
    /// Wait before each status after the receipt.
    pub step_delay: Duration,
    /// Faults at start (changeable while running).
    pub faults: Faults,
    /// Where to drop the settlement documents of each released declaration; none: not written.
    pub finance_drop: Option<FinanceDrop>,
}

impl Default for BrokerSimConfig {
    fn default() -> Self {
        Self {
            seed: 7,
            step_delay: Duration::from_millis(50),
            faults: Faults::default(),
            finance_drop: None,
        }
    }
}

/// Where the REST broker sends its callbacks.
#[derive(Debug, Clone)]
pub struct CallbackTarget {
    /// Full URL, e.g. `http://127.0.0.1:8080/v1/partners/rest-broker/callbacks`.
    pub url: String,
    /// Header carrying the signature.
    pub header: String,
    /// Shared secret.
    pub secret: tradehub::secret::Secret,
}

/// What a broker simulator has seen and done.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct BrokerCounters {
    /// Filing requests (or interchanges) received, repeats included.
    pub filing_requests: u64,
    /// Distinct LRNs filed.
    pub distinct_lrns: u64,
    /// Status callbacks (or answer files) delivered.
    pub callbacks_sent: u64,
    /// Callbacks dropped on purpose.
    pub callbacks_dropped: u64,
    /// Callbacks that could not be delivered after retries.
    pub callbacks_failed: u64,
    /// Cancellations accepted.
    pub cancellations: u64,
    /// Status queries answered.
    pub queries: u64,
    /// Requests answered with an injected fault.
    pub faults_injected: u64,
}

#[derive(Debug, Default)]
struct Counters {
    filing_requests: AtomicU64,
    callbacks_sent: AtomicU64,
    callbacks_dropped: AtomicU64,
    callbacks_failed: AtomicU64,
    cancellations: AtomicU64,
    queries: AtomicU64,
    faults_injected: AtomicU64,
}

/// One declaration at a simulated broker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SimDeclaration {
    /// Its scenario.
    pub scenario: Scenario,
    /// The status customs gave it last.
    pub status: DeclarationStatus,
    /// MRN once accepted.
    pub mrn: Option<String>,
    /// How often it was filed.
    pub filings: u64,
}

/// The state both broker simulators keep.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) seed: u64,
    pub(crate) step_delay: Duration,
    faults: Mutex<Faults>,
    rng: Mutex<StdRng>,
    declarations: Mutex<HashMap<String, SimDeclaration>>,
    counters: Counters,
    callback: Mutex<Option<CallbackTarget>>,
    pub(crate) finance: Option<FinanceDrop>,
}

/// Which fault, if any, a request meets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    Error,
    RateLimited(u64),
    Timeout(Duration),
}

impl Shared {
    pub(crate) fn new(config: &BrokerSimConfig) -> Arc<Self> {
        Arc::new(Self {
            seed: config.seed,
            step_delay: config.step_delay,
            faults: Mutex::new(config.faults.clone()),
            rng: Mutex::new(StdRng::seed_from_u64(config.seed)),
            declarations: Mutex::new(HashMap::new()),
            counters: Counters::default(),
            callback: Mutex::new(None),
            finance: config.finance_drop.clone(),
        })
    }

    fn faults(&self) -> Faults {
        self.faults.lock().map(|f| f.clone()).unwrap_or_default()
    }

    pub(crate) fn set_faults(&self, faults: Faults) {
        if let Ok(mut f) = self.faults.lock() {
            *f = faults;
        }
    }

    fn chance(&self, p: f64) -> bool {
        p > 0.0 && self.rng.lock().is_ok_and(|mut r| r.random_bool(p.min(1.0)))
    }

    /// The fault a request meets now, and the slow-down to apply.
    pub(crate) fn draw_fault(&self) -> (Option<Fault>, Option<Duration>) {
        let f = self.faults();
        let fault = if self.chance(f.error_rate) {
            Some(Fault::Error)
        } else if self.chance(f.rate_limit_rate) {
            Some(Fault::RateLimited(f.retry_after_secs.max(1)))
        } else if self.chance(f.timeout_rate) {
            Some(Fault::Timeout(f.hang.unwrap_or(Duration::from_secs(30))))
        } else {
            None
        };
        if fault.is_some() {
            self.counters
                .faults_injected
                .fetch_add(1, Ordering::Relaxed);
        }
        (fault, f.slow)
    }

    pub(crate) fn drop_callback(&self) -> bool {
        let dropped = self.chance(self.faults().drop_callback_rate);
        if dropped {
            self.counters
                .callbacks_dropped
                .fetch_add(1, Ordering::Relaxed);
        }
        dropped
    }

    /// Records a filing; `true` when the LRN is new (its lifecycle must start).
    pub(crate) fn file(&self, lrn: &str) -> (SimDeclaration, bool) {
        self.counters
            .filing_requests
            .fetch_add(1, Ordering::Relaxed);
        let Ok(mut map) = self.declarations.lock() else {
            return (self.fresh(lrn), false);
        };
        if let Some(d) = map.get_mut(lrn) {
            d.filings += 1;
            return (d.clone(), false);
        }
        let d = self.fresh(lrn);
        map.insert(lrn.to_owned(), d.clone());
        (d, true)
    }

    fn fresh(&self, lrn: &str) -> SimDeclaration {
        SimDeclaration {
            scenario: Scenario::for_lrn(self.seed, lrn),
            status: DeclarationStatus::Received,
            mrn: None,
            filings: 1,
        }
    }

    /// Drops the settlement documents of `lrn` once customs released it.
    pub(crate) async fn settle(&self, lrn: &str, style: BrokerStyle) {
        let released = self
            .get(lrn)
            .is_some_and(|d| d.status == DeclarationStatus::Released);
        if let (Some(drop), true) = (&self.finance, released) {
            drop_documents(drop, lrn, style, self.seed).await;
        }
    }

    pub(crate) fn get(&self, lrn: &str) -> Option<SimDeclaration> {
        self.declarations.lock().ok()?.get(lrn).cloned()
    }

    /// Moves a declaration to `status` unless it was cancelled; `false` when cancelled.
    pub(crate) fn advance(&self, lrn: &str, status: DeclarationStatus) -> Option<SimDeclaration> {
        let mut map = self.declarations.lock().ok()?;
        let d = map.get_mut(lrn)?;
        if d.status == DeclarationStatus::Cancelled {
            return None;
        }
        if status == DeclarationStatus::Accepted {
            d.mrn = Some(mrn_for(lrn));
        }
        d.status = status;
        Some(d.clone())
    }

    /// Cancels: `Ok(true)` newly cancelled, `Ok(false)` already, `Err` not possible.
    pub(crate) fn cancel(&self, lrn: &str) -> Result<bool, String> {
        let mut map = self
            .declarations
            .lock()
            .map_err(|_| "state poisoned".to_owned())?;
        let Some(d) = map.get_mut(lrn) else {
            return Err(format!("no declaration {lrn}"));
        };
        match d.status {
            DeclarationStatus::Cancelled => Ok(false),
            DeclarationStatus::Released | DeclarationStatus::Cleared => Err(format!(
                "declaration {lrn} is released: released goods cannot be cancelled"
            )),
            _ => {
                d.status = DeclarationStatus::Cancelled;
                self.counters.cancellations.fetch_add(1, Ordering::Relaxed);
                Ok(true)
            }
        }
    }

    pub(crate) fn sent(&self) {
        self.counters.callbacks_sent.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn failed(&self) {
        self.counters
            .callbacks_failed
            .fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn counters(&self) -> BrokerCounters {
        let c = &self.counters;
        BrokerCounters {
            filing_requests: c.filing_requests.load(Ordering::Relaxed),
            distinct_lrns: self.declarations.lock().map_or(0, |m| m.len() as u64),
            callbacks_sent: c.callbacks_sent.load(Ordering::Relaxed),
            callbacks_dropped: c.callbacks_dropped.load(Ordering::Relaxed),
            callbacks_failed: c.callbacks_failed.load(Ordering::Relaxed),
            cancellations: c.cancellations.load(Ordering::Relaxed),
            queries: c.queries.load(Ordering::Relaxed),
            faults_injected: c.faults_injected.load(Ordering::Relaxed),
        }
    }

    pub(crate) fn snapshot(&self) -> HashMap<String, SimDeclaration> {
        self.declarations
            .lock()
            .map(|m| m.clone())
            .unwrap_or_default()
    }
}

/// The broker's lower-case status word (the REST API's vocabulary).
pub fn rest_status(status: DeclarationStatus) -> &'static str {
    use DeclarationStatus::*;
    match status {
        Submitted | Received => "received",
        Accepted => "accepted",
        Rejected => "rejected",
        Query => "query",
        DocsRequired => "documents_required",
        Control => "inspection",
        Hold => "hold",
        HoldRemoved => "hold_removed",
        Released => "released",
        Cleared => "cleared",
        Amended => "amended",
        Cancelled | Exited | HandledExternally | Expired => "cancelled",
    }
}

fn status_document(lrn: &str, d: &SimDeclaration) -> Value {
    json!({
        "lrn": lrn,
        "status": rest_status(d.status),
        "customs_reference": d.mrn,
        "errors": rejection_errors(d.status),
    })
}

fn rejection_errors(status: DeclarationStatus) -> Value {
    if status == DeclarationStatus::Rejected {
        json!([{ "code": "12", "field": "declaration.items[0].commodity_code", "message": "commodity code is not valid for this procedure" }])
    } else {
        json!([])
    }
}

/// A running REST broker simulator; stops when [`RestBrokerSim::stop`] is called.
#[derive(Debug)]
pub struct RestBrokerSim {
    shared: Arc<Shared>,
    addr: SocketAddr,
    handle: ServerHandle,
}

struct SimState {
    shared: Arc<Shared>,
    client: reqwest::Client,
}

impl RestBrokerSim {
    /// Binds `listen` (use `127.0.0.1:0` for a free port) and starts serving on the
    /// current Tokio runtime.
    pub fn start(listen: SocketAddr, config: &BrokerSimConfig) -> std::io::Result<Self> {
        let shared = Shared::new(config);
        let data = web::Data::new(SimState {
            shared: Arc::clone(&shared),
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .map_err(std::io::Error::other)?,
        });
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .route("/declarations", web::post().to(file))
                .route("/declarations/{lrn}", web::get().to(query))
                .route("/declarations/{lrn}/cancel", web::post().to(cancel))
        })
        .workers(1)
        .disable_signals()
        .bind(listen)?;
        let addr = server.addrs().first().copied().unwrap_or(listen);
        let server = server.run();
        let handle = server.handle();
        tokio::spawn(server);
        Ok(Self {
            shared,
            addr,
            handle,
        })
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL a [`tradehub::partners::rest_broker::RestBrokerConfig`] takes.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Sets where status callbacks go (none are sent before).
    pub fn set_callback(&self, target: CallbackTarget) {
        if let Ok(mut c) = self.shared.callback.lock() {
            *c = Some(target);
        }
    }

    /// Replaces the injected faults.
    pub fn set_faults(&self, faults: Faults) {
        self.shared.set_faults(faults);
    }

    /// What it has seen and done.
    pub fn counters(&self) -> BrokerCounters {
        self.shared.counters()
    }

    /// The scenario declaration `lrn` plays (whether or not it was filed yet).
    pub fn expected_outcome(&self, lrn: &str) -> Scenario {
        Scenario::for_lrn(self.shared.seed, lrn)
    }

    /// Declaration `lrn` as the broker holds it.
    pub fn declaration(&self, lrn: &str) -> Option<SimDeclaration> {
        self.shared.get(lrn)
    }

    /// Every declaration held, by LRN.
    pub fn declarations(&self) -> HashMap<String, SimDeclaration> {
        self.shared.snapshot()
    }

    /// Stops serving (callbacks in flight still finish).
    pub async fn stop(&self) {
        self.handle.stop(true).await;
    }
}

fn problem(status: actix_web::http::StatusCode, message: &str) -> HttpResponse {
    HttpResponse::build(status).json(json!({ "message": message }))
}

/// Applies a drawn fault; `Some` is the answer to give instead of the real one.
async fn before(shared: &Shared) -> (Option<HttpResponse>, Option<Duration>) {
    let (fault, slow) = shared.draw_fault();
    if let Some(slow) = slow {
        tokio::time::sleep(slow).await;
    }
    match fault {
        Some(Fault::Error) => (
            Some(problem(
                actix_web::http::StatusCode::SERVICE_UNAVAILABLE,
                "broker temporarily unavailable",
            )),
            None,
        ),
        Some(Fault::RateLimited(secs)) => (
            Some(
                HttpResponse::TooManyRequests()
                    .insert_header(("Retry-After", secs.to_string()))
                    .json(json!({ "message": "rate limit exceeded" })),
            ),
            None,
        ),
        Some(Fault::Timeout(hang)) => (None, Some(hang)),
        None => (None, None),
    }
}

async fn file(state: web::Data<SimState>, request: HttpRequest, body: web::Bytes) -> HttpResponse {
    let (early, hang) = before(&state.shared).await;
    if let Some(answer) = early {
        return answer;
    }
    let parsed: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            return problem(
                actix_web::http::StatusCode::BAD_REQUEST,
                &format!("body is not JSON: {e}"),
            );
        }
    };
    let lrn = request
        .headers()
        .get("Idempotency-Key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| {
            parsed
                .pointer("/declaration/lrn")
                .and_then(Value::as_str)
                .map(str::to_owned)
        });
    let Some(lrn) = lrn.filter(|l| !l.is_empty()) else {
        return problem(
            actix_web::http::StatusCode::BAD_REQUEST,
            "declaration.lrn is required",
        );
    };
    if parsed.pointer("/declaration/items").is_none() {
        return problem(
            actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
            "declaration.items is required",
        );
    }
    let (declaration, new) = state.shared.file(&lrn);
    if new {
        let shared = Arc::clone(&state.shared);
        let client = state.client.clone();
        tokio::spawn(lifecycle(shared, client, lrn.clone(), declaration.scenario));
    }
    if let Some(hang) = hang {
        // Processed, but the answer comes too late for the caller.
        tokio::time::sleep(hang).await;
    }
    let answer = status_document(&lrn, &declaration);
    if new {
        HttpResponse::Accepted().json(answer)
    } else {
        HttpResponse::Ok().json(answer)
    }
}

async fn query(state: web::Data<SimState>, lrn: web::Path<String>) -> HttpResponse {
    let (early, hang) = before(&state.shared).await;
    if let Some(answer) = early {
        return answer;
    }
    if let Some(hang) = hang {
        tokio::time::sleep(hang).await;
    }
    state
        .shared
        .counters
        .queries
        .fetch_add(1, Ordering::Relaxed);
    match state.shared.get(&lrn) {
        Some(d) => HttpResponse::Ok().json(status_document(&lrn, &d)),
        None => problem(
            actix_web::http::StatusCode::NOT_FOUND,
            &format!("no declaration {lrn}"),
        ),
    }
}

async fn cancel(state: web::Data<SimState>, lrn: web::Path<String>) -> HttpResponse {
    let (early, hang) = before(&state.shared).await;
    if let Some(answer) = early {
        return answer;
    }
    let result = state.shared.cancel(&lrn);
    if let Some(hang) = hang {
        tokio::time::sleep(hang).await;
    }
    match result {
        Ok(_) => match state.shared.get(&lrn) {
            Some(d) => HttpResponse::Ok().json(status_document(&lrn, &d)),
            None => problem(actix_web::http::StatusCode::NOT_FOUND, "vanished"),
        },
        Err(message) if message.starts_with("no declaration") => {
            problem(actix_web::http::StatusCode::NOT_FOUND, &message)
        }
        Err(message) => problem(actix_web::http::StatusCode::CONFLICT, &message),
    }
}

/// Plays a declaration's scenario: one status per step, each posted to the hub.
async fn lifecycle(shared: Arc<Shared>, client: reqwest::Client, lrn: String, scenario: Scenario) {
    for (n, status) in scenario.steps().iter().enumerate() {
        tokio::time::sleep(shared.step_delay).await;
        let Some(declaration) = shared.advance(&lrn, *status) else {
            return;
        };
        if shared.drop_callback() {
            continue;
        }
        let target = shared.callback.lock().ok().and_then(|c| c.clone());
        let Some(target) = target else {
            continue;
        };
        let mut event = status_document(&lrn, &declaration);
        event["event_id"] = json!(format!("{lrn}-{n}"));
        event["occurred_at"] = json!(tradehub::partners::filing::now_rfc3339());
        let body = event.to_string();
        // Each attempt is signed when it is sent, as a partner would: a retry is a new request,
        // not a replay of the last one.
        let delivered = super::redeliver(|| async {
            let signature = sign(target.secret.as_bytes(), unix_now(), body.as_bytes());
            client
                .post(&target.url)
                .header(target.header.as_str(), signature)
                .header(
                    tradehub::api::callbacks::CALLBACK_ID_HEADER,
                    format!("{lrn}-{n}"),
                )
                .header("Content-Type", "application/json")
                .body(body.clone())
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
        })
        .await;
        if delivered {
            shared.sent();
        } else {
            shared.failed();
        }
    }
    shared.settle(&lrn, BrokerStyle::Rest).await;
}
