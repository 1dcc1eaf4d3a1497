//! An in-memory Odoo speaking JSON-RPC (`/jsonrpc`) and JSON-2 (`/json/2/<model>/<method>`).
//!
//! It is faithful where the hub's correctness depends on Odoo's behaviour: many rows share one
//! `write_date` (one per transaction), `write_date` is kept to the microsecond but read back to
//! the second, inactive records are hidden from searches, errors come in Odoo's envelopes, and the
//! automation webhook is sent after commit with a 1 s timeout and never retried. Faults (502s,
//! HTML error pages, broken JSON, slow answers, server errors) can be scripted one by one or drawn
//! at a rate.

mod db;
mod domain;
mod rpc;
mod seed;
mod server;

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpServer, web};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Map, Value, json};

pub use db::SimError;
pub use domain::parse_datetime_micros;
pub use seed::{ADMIN_UID, SDN_CUSTOMERS};

/// How to start the simulator.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// The database name clients must use.
    pub db: String,
    /// The admin's login.
    pub login: String,
    /// The admin's password (JSON-RPC accepts it as well as the API key).
    pub password: String,
    /// The admin's API key; one is generated when absent.
    pub api_key: Option<String>,
    /// Seed of the demo data.
    pub seed: u64,
    /// How many pickings (with their orders) to seed; a quarter are import receipts.
    pub pickings: usize,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            db: "demo".to_owned(),
            login: "admin".to_owned(),
            password: "admin".to_owned(),
            api_key: None,
            seed: 42,
            pickings: 24,
        }
    }
}

/// One injected fault: what the next request gets instead of (or before) a normal answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// A proxy's 502 HTML page.
    BadGateway,
    /// Werkzeug's 500 HTML page.
    HtmlError,
    /// A 200 answer whose JSON is cut off.
    BadJson,
    /// 429 with `Retry-After`.
    RateLimited(Duration),
    /// The answer comes after this delay.
    Slow(Duration),
    /// An Odoo error envelope with this exception class and message.
    Error(String, String),
}

/// Scripted faults first, then faults drawn at a rate.
#[derive(Debug)]
pub struct Faults {
    inner: Mutex<FaultState>,
}

#[derive(Debug)]
struct FaultState {
    queue: VecDeque<Fault>,
    rate: f64,
    delay: Duration,
    rng: StdRng,
}

impl Faults {
    fn new(seed: u64) -> Self {
        Self {
            inner: Mutex::new(FaultState {
                queue: VecDeque::new(),
                rate: 0.0,
                delay: Duration::ZERO,
                rng: StdRng::seed_from_u64(seed),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, FaultState> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The next requests get these faults, in order.
    pub fn script(&self, faults: impl IntoIterator<Item = Fault>) {
        self.lock().queue.extend(faults);
    }

    /// From now on, a share `rate` of requests fail (502, HTML 500 or a serialisation failure) and
    /// every request is delayed by `delay`.
    pub fn set_random(&self, rate: f64, delay: Duration) {
        let mut state = self.lock();
        state.rate = rate.clamp(0.0, 1.0);
        state.delay = delay;
    }

    fn next(&self) -> Option<Fault> {
        let mut state = self.lock();
        if let Some(fault) = state.queue.pop_front() {
            return Some(fault);
        }
        let rate = state.rate;
        if rate > 0.0 && state.rng.random_bool(rate) {
            return Some(match state.rng.random_range(0..3) {
                0 => Fault::BadGateway,
                1 => Fault::HtmlError,
                _ => Fault::Error(
                    "psycopg2.errors.SerializationFailure".to_owned(),
                    "could not serialize access due to concurrent update".to_owned(),
                ),
            });
        }
        (!state.delay.is_zero()).then_some(Fault::Slow(state.delay))
    }
}

/// The outgoing automation rule: on create or write of `model`, POST the record to `url`.
#[derive(Debug, Clone)]
pub struct WebhookRule {
    pub url: String,
    pub model: String,
    /// Fields sent with the record (`webhook_field_ids`).
    pub fields: Vec<String>,
    /// The server action's id, shown in `_action`.
    pub action_id: u64,
}

/// Shared state behind the HTTP handlers.
#[derive(Debug)]
pub struct SimState {
    db: Mutex<db::Db>,
    refs: Mutex<seed::Refs>,
    rng: Mutex<StdRng>,
    db_name: String,
    login: String,
    password: String,
    api_keys: Mutex<Vec<(String, u64)>>,
    faults: Faults,
    webhook: Mutex<Option<WebhookRule>>,
    hook_client: reqwest::Client,
    requests: AtomicU64,
    last_now: Mutex<i64>,
    /// Whether the clock steps one microsecond per transaction instead of reading the time.
    stepping: AtomicBool,
    /// Calls through the API that changed a record, by model and id: what an integration
    /// wrote back, as Odoo saw it.
    api_changes: Mutex<HashMap<(String, u64), u64>>,
}

fn now_micros() -> i64 {
    let now = time::OffsetDateTime::now_utc();
    i64::try_from(now.unix_timestamp_nanos() / 1_000).unwrap_or(i64::MAX)
}

impl SimState {
    fn lock_db(&self) -> MutexGuard<'_, db::Db> {
        self.db
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The transaction instant: the clock, never going backwards.
    fn now(&self) -> i64 {
        let mut last = self
            .last_now
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *last = if self.stepping.load(Ordering::SeqCst) {
            *last + 1
        } else {
            (*last).max(now_micros())
        };
        *last
    }

    fn check_db(&self, name: &str) -> Result<(), SimError> {
        if name == self.db_name {
            Ok(())
        } else {
            Err(SimError::new(
                "psycopg2.OperationalError",
                format!("connection to server failed: FATAL:  database \"{name}\" does not exist"),
            ))
        }
    }

    fn authenticate(&self, login: &str, secret: &str) -> Option<u64> {
        if login != self.login {
            return None;
        }
        (secret == self.password || self.api_key_user(secret) == Some(ADMIN_UID))
            .then_some(ADMIN_UID)
    }

    fn password_ok(&self, uid: u64, secret: &str) -> bool {
        uid == ADMIN_UID && (secret == self.password || self.api_key_user(secret) == Some(uid))
    }

    fn api_key_user(&self, key: &str) -> Option<u64> {
        if key.is_empty() {
            return None;
        }
        let keys = self
            .api_keys
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        keys.iter().find(|(k, _)| k == key).map(|(_, uid)| *uid)
    }

    fn execute(&self, uid: u64, call: &rpc::Call) -> Result<rpc::Outcome, SimError> {
        let now = self.now();
        // The whole call is one transaction: on error nothing it did is kept.
        let mut db = self.lock_db();
        let mut scratch = db.clone_if_writing(&call.method);
        let target = scratch.as_mut().unwrap_or(&mut db);
        let outcome = rpc::execute(target, uid, call, now)?;
        if let Some(done) = scratch {
            *db = done;
        }
        Ok(outcome)
    }

    /// Count a call through the API that changed the records it names.
    fn count_api_change(&self, call: &rpc::Call) {
        if !matches!(
            call.method.as_str(),
            "write" | "message_post" | "activity_schedule"
        ) {
            return;
        }
        let mut changes = self
            .api_changes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for id in &call.ids {
            *changes.entry((call.model.clone(), *id)).or_insert(0) += 1;
        }
    }

    fn webhook_payload(&self, rule: &WebhookRule, id: u64) -> Result<String, SimError> {
        let db = self.lock_db();
        let fields: Vec<String> = rule.fields.clone();
        let row = db
            .read(&rule.model, &[id], Some(&fields), false)?
            .pop()
            .unwrap_or_default();
        let micros = db
            .model(&rule.model)?
            .records
            .get(&id)
            .map(|r| r.write_date);
        let action = format!("Send Webhook Notification(#{})", rule.action_id);
        Ok(server::payload_for(row, &rule.model, id, &action, micros))
    }
}

impl db::Db {
    /// Calls that change data work on a copy, swapped in on success, so that a failing call
    /// leaves nothing behind (Odoo rolls the transaction back).
    fn clone_if_writing(&self, method: &str) -> Option<Self> {
        matches!(method, "create" | "write" | "unlink" | "action_feedback").then(|| self.clone())
    }
}

/// A running simulator.
#[derive(Debug, Clone)]
pub struct SimOdoo {
    state: Arc<SimState>,
    addr: SocketAddr,
    api_key: String,
    handle: ServerHandle,
}

/// Why the simulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("seeding the demo data failed: {0:?}")]
    Seed(SimError),
}

/// Start a simulator on `listen` (port 0 for any free port). It runs on the current tokio
/// runtime with one worker thread until [`SimOdoo::stop`].
pub fn start(config: SimConfig, listen: SocketAddr) -> Result<SimOdoo, StartError> {
    let mut database = db::Db::default();
    seed::schema(&mut database);
    let now = now_micros();
    let refs =
        seed::demo(&mut database, config.seed, config.pickings, now).map_err(StartError::Seed)?;
    let rng = StdRng::seed_from_u64(config.seed.wrapping_add(1));
    let api_key = config.api_key.clone().unwrap_or_else(|| {
        let mut bytes = [0u8; 20];
        rand::rng().fill(&mut bytes);
        hex::encode(bytes)
    });
    let state = Arc::new(SimState {
        db: Mutex::new(database),
        refs: Mutex::new(refs),
        rng: Mutex::new(rng),
        db_name: config.db,
        login: config.login,
        password: config.password,
        api_keys: Mutex::new(vec![(api_key.clone(), ADMIN_UID)]),
        faults: Faults::new(config.seed),
        webhook: Mutex::new(None),
        hook_client: reqwest::Client::new(),
        requests: AtomicU64::new(0),
        last_now: Mutex::new(now),
        stepping: AtomicBool::new(false),
        api_changes: Mutex::new(HashMap::new()),
    });
    let data = web::Data::from(state.clone());
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .app_data(web::PayloadConfig::new(64 * 1024 * 1024))
            .configure(server::routes)
    })
    .workers(1)
    .disable_signals()
    .bind(listen)
    .map_err(|source| StartError::Listen {
        addr: listen,
        source,
    })?;
    let addr = server.addrs().first().copied().unwrap_or(listen);
    let server = server.run();
    let handle = server.handle();
    tokio::spawn(server);
    Ok(SimOdoo {
        state,
        addr,
        api_key,
        handle,
    })
}

impl SimOdoo {
    /// The base URL, e.g. `http://127.0.0.1:8069`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The admin's API key.
    pub fn api_key(&self) -> &str {
        &self.api_key
    }

    /// The database name.
    pub fn db(&self) -> &str {
        &self.state.db_name
    }

    /// The admin's login.
    pub fn login(&self) -> &str {
        &self.state.login
    }

    /// The fault injector.
    pub fn faults(&self) -> &Faults {
        &self.state.faults
    }

    /// HTTP requests served so far (including faulted ones).
    pub fn requests(&self) -> u64 {
        self.state.requests.load(Ordering::Relaxed)
    }

    /// Install (or remove) the outgoing automation webhook.
    pub fn set_webhook(&self, rule: Option<WebhookRule>) {
        *self
            .state
            .webhook
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = rule;
    }

    /// Create `count` export pickings with `lines` move lines each (and their sale orders), in
    /// one transaction: they all share one `write_date`. Webhooks fire after it, as in Odoo.
    pub fn create_pickings(&self, count: usize, lines: usize) -> Result<Vec<u64>, SimError> {
        self.create_with(count, |db, refs, rng, now| {
            seed::create_export(db, refs, rng, lines, now)
        })
    }

    /// Create `count` import receipts with `lines` lines each (and their purchase orders).
    pub fn create_receipts(&self, count: usize, lines: usize) -> Result<Vec<u64>, SimError> {
        self.create_with(count, |db, refs, rng, now| {
            seed::create_import(db, refs, rng, lines, now)
        })
    }

    fn create_with(
        &self,
        count: usize,
        make: impl Fn(&mut db::Db, &mut seed::Refs, &mut StdRng, i64) -> Result<u64, SimError>,
    ) -> Result<Vec<u64>, SimError> {
        let now = self.state.now();
        let ids = {
            let mut db = self.state.lock_db();
            let mut refs = self
                .state
                .refs
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let mut rng = self
                .state
                .rng
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let mut work = db.clone();
            let ids = (0..count)
                .map(|_| make(&mut work, &mut refs, &mut rng, now))
                .collect::<Result<Vec<_>, _>>()?;
            *db = work;
            ids
        };
        server::send_webhooks(&self.state, "stock.picking", &ids);
        Ok(ids)
    }

    /// How many calls through the API (`write`, `message_post`, `activity_schedule`) changed
    /// record `id` of `model`; the simulator's own edits (as a user's) are not counted.
    pub fn api_changes(&self, model: &str, id: u64) -> u64 {
        self.state
            .api_changes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&(model.to_owned(), id))
            .copied()
            .unwrap_or(0)
    }

    /// From now on, each transaction happens one microsecond after the one before, the first at
    /// `at` (or just after the clock's last reading, if later): a test's clock, for writes that
    /// must share a second however slowly the machine runs.
    pub fn step_clock_from(&self, at: time::OffsetDateTime) {
        let at = i64::try_from(at.unix_timestamp_nanos() / 1_000).unwrap_or(i64::MAX);
        let mut last = self
            .state
            .last_now
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *last = (*last).max(at - 1);
        self.state.stepping.store(true, Ordering::SeqCst);
    }

    /// Change a record as a user would in the web client (bumps `write_date`, fires webhooks).
    pub fn user_write(&self, model: &str, ids: &[u64], vals: Value) -> Result<(), SimError> {
        let params: Map<String, Value> = [("vals".to_owned(), vals)].into_iter().collect();
        let call = rpc::Call {
            model: model.to_owned(),
            method: "write".to_owned(),
            ids: ids.to_vec(),
            params,
        };
        self.state.execute(ADMIN_UID, &call)?;
        server::send_webhooks(&self.state, model, ids);
        Ok(())
    }

    /// Read records directly (no HTTP): many2one as `[id, name]`, as `read` returns them.
    pub fn read(
        &self,
        model: &str,
        ids: &[u64],
        fields: &[&str],
    ) -> Result<Vec<Map<String, Value>>, SimError> {
        let fields: Vec<String> = fields.iter().map(|f| (*f).to_owned()).collect();
        self.state.lock_db().read(model, ids, Some(&fields), true)
    }

    /// Search directly (no HTTP), including inactive records when the domain mentions `active`.
    pub fn search(&self, model: &str, domain: Value) -> Result<Vec<u64>, SimError> {
        self.state.lock_db().search(model, &domain, None, 0, None)
    }

    /// The chatter messages of one record, oldest first.
    pub fn messages(&self, model: &str, id: u64) -> Result<Vec<String>, SimError> {
        let db = self.state.lock_db();
        let ids = db.search(
            "mail.message",
            &json!([["model", "=", model], ["res_id", "=", id]]),
            None,
            0,
            None,
        )?;
        Ok(db
            .read("mail.message", &ids, Some(&["body".to_owned()]), false)?
            .into_iter()
            .filter_map(|m| m.get("body").and_then(Value::as_str).map(str::to_owned))
            .collect())
    }

    /// Stop serving.
    pub async fn stop(&self) {
        self.handle.stop(true).await;
    }
}

#[cfg(test)]
mod tests;
