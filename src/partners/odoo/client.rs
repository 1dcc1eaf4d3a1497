//! One client, two transports. Calls are named the same on both (`model`, `method`, record ids,
//! named parameters); only the envelope differs.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rand::Rng;
use serde_json::{Map, Value, json};
use tokio::sync::Mutex;

use super::error::{ErrorClass, OdooError, classify, snippet};
use super::value::Rec;
use super::{OdooConfig, OdooTransport};

/// Counters of one client's traffic.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct CallStats {
    /// Logical calls made (a retried call counts once).
    pub calls: u64,
    /// HTTP requests sent, retries included.
    pub requests: u64,
    /// Retries after a retryable failure.
    pub retries: u64,
}

#[derive(Debug)]
struct Inner {
    config: OdooConfig,
    http: reqwest::Client,
    uid: Mutex<Option<u64>>,
    calls: AtomicU64,
    requests: AtomicU64,
    retries: AtomicU64,
    next_id: AtomicU64,
}

/// A client of one Odoo database. Cheap to clone.
#[derive(Debug, Clone)]
pub struct OdooClient {
    inner: Arc<Inner>,
}

/// The server's version, as `common.version` or `/web/version` report it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ServerVersion {
    pub version: String,
    pub major: u64,
}

impl OdooClient {
    /// A client for `config`; nothing is sent until the first call.
    pub fn new(config: OdooConfig) -> Result<Self, OdooError> {
        config.validate()?;
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.connect_timeout)
            .pool_max_idle_per_host(8)
            .build()
            .map_err(|e| OdooError::Config(format!("HTTP client: {e}")))?;
        Ok(Self {
            inner: Arc::new(Inner {
                config,
                http,
                uid: Mutex::new(None),
                calls: AtomicU64::new(0),
                requests: AtomicU64::new(0),
                retries: AtomicU64::new(0),
                next_id: AtomicU64::new(1),
            }),
        })
    }

    /// The settings.
    pub fn config(&self) -> &OdooConfig {
        &self.inner.config
    }

    /// Traffic so far.
    pub fn stats(&self) -> CallStats {
        CallStats {
            calls: self.inner.calls.load(Ordering::Relaxed),
            requests: self.inner.requests.load(Ordering::Relaxed),
            retries: self.inner.retries.load(Ordering::Relaxed),
        }
    }

    /// The server version (no authentication needed).
    pub async fn version(&self) -> Result<ServerVersion, OdooError> {
        let value = match self.inner.config.transport {
            OdooTransport::OdooJsonrpc => {
                self.with_retries(true, || {
                    self.rpc("common", "version", json!([]), "common.version")
                })
                .await?
            }
            OdooTransport::OdooJson2 => self.with_retries(true, || self.get_version()).await?,
        };
        let version = value
            .get("server_version")
            .or_else(|| value.get("version"))
            .and_then(Value::as_str)
            .ok_or_else(|| OdooError::Protocol {
                what: "version".to_owned(),
                reason: format!("no version in {value}"),
            })?
            .to_owned();
        let major = value
            .get("server_version_info")
            .or_else(|| value.get("version_info"))
            .and_then(|v| v.get(0))
            .and_then(Value::as_u64)
            .unwrap_or_default();
        Ok(ServerVersion { version, major })
    }

    /// The user id the calls run as. JSON-RPC logs in once (with the API key as password) and
    /// keeps the uid; JSON-2 asks `res.users.context_get`.
    pub async fn uid(&self) -> Result<u64, OdooError> {
        let mut cached = self.inner.uid.lock().await;
        if let Some(uid) = *cached {
            return Ok(uid);
        }
        let cfg = &self.inner.config;
        let uid = match cfg.transport {
            OdooTransport::OdooJsonrpc => {
                let args = json!([cfg.db, cfg.login, cfg.api_key.expose(), {}]);
                let value = self
                    .with_retries(true, || {
                        self.rpc(
                            "common",
                            "authenticate",
                            args.clone(),
                            "common.authenticate",
                        )
                    })
                    .await?;
                value.as_u64().ok_or_else(|| OdooError::Auth {
                    db: cfg.db.clone(),
                    login: cfg.login.clone(),
                    message: "login or API key refused (authenticate returned false)".to_owned(),
                })?
            }
            OdooTransport::OdooJson2 => {
                let no_params = Map::new();
                let value = self
                    .with_retries(true, || {
                        self.json2("res.users", "context_get", &[], &no_params)
                    })
                    .await?;
                value
                    .get("uid")
                    .and_then(Value::as_u64)
                    .ok_or_else(|| OdooError::Protocol {
                        what: "res.users.context_get".to_owned(),
                        reason: format!("no uid in {value}"),
                    })?
            }
        };
        *cached = Some(uid);
        Ok(uid)
    }

    /// Call `method` of `model` on `ids` (empty for model methods) with named parameters.
    /// `idempotent` calls are retried on retryable failures; others are sent once.
    pub async fn call(
        &self,
        model: &str,
        method: &str,
        ids: &[u64],
        params: Map<String, Value>,
        idempotent: bool,
    ) -> Result<Value, OdooError> {
        self.inner.calls.fetch_add(1, Ordering::Relaxed);
        match self.inner.config.transport {
            OdooTransport::OdooJsonrpc => {
                let uid = self.uid().await?;
                let cfg = &self.inner.config;
                let positional = if ids.is_empty() {
                    json!([])
                } else {
                    json!([ids])
                };
                let args = json!([
                    cfg.db,
                    uid,
                    cfg.api_key.expose(),
                    model,
                    method,
                    positional,
                    params
                ]);
                let what = format!("{model}.{method}");
                let result = self
                    .with_retries(idempotent, || {
                        self.rpc("object", "execute_kw", args.clone(), &what)
                    })
                    .await;
                if result
                    .as_ref()
                    .is_err_and(|e| e.class() == ErrorClass::Auth)
                {
                    // The key may have been rotated: log in again on the next call.
                    *self.inner.uid.lock().await = None;
                }
                result
            }
            OdooTransport::OdooJson2 => {
                self.with_retries(idempotent, || self.json2(model, method, ids, &params))
                    .await
            }
        }
    }

    async fn with_retries<F, Fut>(
        &self,
        idempotent: bool,
        mut attempt: F,
    ) -> Result<Value, OdooError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<Value, OdooError>>,
    {
        let cfg = &self.inner.config;
        let mut tries = 0;
        loop {
            tries += 1;
            let err = match attempt().await {
                Ok(value) => return Ok(value),
                Err(err) => err,
            };
            let retryable = err.class() == ErrorClass::Retry && idempotent && tries < cfg.attempts;
            if !retryable {
                return Err(err);
            }
            self.inner.retries.fetch_add(1, Ordering::Relaxed);
            let base = cfg.backoff.saturating_mul(1 << (tries - 1).min(10));
            let jitter = rand::rng().random_range(0.5..1.0);
            let wait = err
                .retry_after()
                .unwrap_or(base.mul_f64(jitter))
                .min(Duration::from_secs(30));
            tracing::debug!(error = %err, attempt = tries, wait_ms = wait.as_millis(), "retrying Odoo call");
            tokio::time::sleep(wait).await;
        }
    }

    async fn send(
        &self,
        request: reqwest::RequestBuilder,
        what: &str,
    ) -> Result<(u16, Option<Duration>, Vec<u8>), OdooError> {
        self.inner.requests.fetch_add(1, Ordering::Relaxed);
        let cfg = &self.inner.config;
        let transport_error = |e: reqwest::Error| {
            if e.is_timeout() {
                OdooError::Timeout {
                    what: what.to_owned(),
                    timeout: cfg.timeout,
                }
            } else {
                OdooError::Connect {
                    url: cfg.url.clone(),
                    what: what.to_owned(),
                    reason: error_chain(&e),
                }
            }
        };
        let response = request.send().await.map_err(transport_error)?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let body = response.bytes().await.map_err(transport_error)?.to_vec();
        Ok((status, retry_after, body))
    }

    async fn rpc(
        &self,
        service: &str,
        method: &str,
        args: Value,
        what: &str,
    ) -> Result<Value, OdooError> {
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        let body = json!({"jsonrpc": "2.0", "method": "call", "params": {"service": service, "method": method, "args": args}, "id": id});
        let request = self
            .inner
            .http
            .post(format!("{}/jsonrpc", self.inner.config.url))
            .json(&body);
        let (status, retry_after, bytes) = self.send(request, what).await?;
        let parsed: Result<Value, _> = serde_json::from_slice(&bytes);
        match (status, parsed) {
            (200, Ok(mut envelope)) => {
                if let Some(error) = envelope.get("error") {
                    return Err(server_error(
                        what,
                        error.get("data").unwrap_or(error),
                        error,
                    ));
                }
                envelope
                    .get_mut("result")
                    .map(Value::take)
                    .ok_or_else(|| OdooError::Protocol {
                        what: what.to_owned(),
                        reason: format!(
                            "JSON-RPC answer without result or error: {}",
                            snippet(&bytes)
                        ),
                    })
            }
            (200, Err(e)) => Err(OdooError::BadJson {
                what: what.to_owned(),
                reason: e.to_string(),
                snippet: snippet(&bytes),
            }),
            (_, Ok(envelope)) if envelope.get("error").is_some() => {
                let error = &envelope["error"];
                Err(server_error(
                    what,
                    error.get("data").unwrap_or(error),
                    error,
                ))
            }
            (status, _) => Err(OdooError::Http {
                what: what.to_owned(),
                status,
                retry_after,
                snippet: snippet(&bytes),
            }),
        }
    }

    async fn get_version(&self) -> Result<Value, OdooError> {
        let request = self
            .inner
            .http
            .get(format!("{}/web/version", self.inner.config.url));
        let (status, retry_after, bytes) = self.send(request, "/web/version").await?;
        if status != 200 {
            return Err(OdooError::Http {
                what: "/web/version".to_owned(),
                status,
                retry_after,
                snippet: snippet(&bytes),
            });
        }
        serde_json::from_slice(&bytes).map_err(|e| OdooError::BadJson {
            what: "/web/version".to_owned(),
            reason: e.to_string(),
            snippet: snippet(&bytes),
        })
    }

    async fn json2(
        &self,
        model: &str,
        method: &str,
        ids: &[u64],
        params: &Map<String, Value>,
    ) -> Result<Value, OdooError> {
        let cfg = &self.inner.config;
        let what = format!("{model}.{method}");
        let mut body = params.clone();
        if !ids.is_empty() {
            body.insert("ids".to_owned(), json!(ids));
        }
        let request = self
            .inner
            .http
            .post(format!("{}/json/2/{model}/{method}", cfg.url))
            .header(
                reqwest::header::AUTHORIZATION,
                format!("bearer {}", cfg.api_key.expose()),
            )
            .header("X-Odoo-Database", &cfg.db)
            .json(&body);
        let (status, retry_after, bytes) = self.send(request, &what).await?;
        let parsed: Result<Value, _> = serde_json::from_slice(&bytes);
        match (status, parsed) {
            (200, Ok(value)) => Ok(value),
            (200, Err(e)) => Err(OdooError::BadJson {
                what,
                reason: e.to_string(),
                snippet: snippet(&bytes),
            }),
            (_, Ok(error)) if error.get("name").and_then(Value::as_str).is_some() => {
                let err = server_error(&what, &error, &error);
                Err(match err {
                    OdooError::Server {
                        class: ErrorClass::Auth,
                        message,
                        ..
                    } => OdooError::Auth {
                        db: cfg.db.clone(),
                        login: cfg.login.clone(),
                        message,
                    },
                    other => other,
                })
            }
            (status, _) => Err(OdooError::Http {
                what,
                status,
                retry_after,
                snippet: snippet(&bytes),
            }),
        }
    }

    /// `search_read`: records matching `domain`, with `fields`, in `order`, paged.
    pub async fn search_read(
        &self,
        model: &str,
        domain: Value,
        fields: &[&str],
        order: Option<&str>,
        offset: usize,
        limit: Option<usize>,
    ) -> Result<Vec<Rec>, OdooError> {
        let mut params = Map::new();
        params.insert("domain".to_owned(), domain);
        params.insert("fields".to_owned(), json!(fields));
        if let Some(order) = order {
            params.insert("order".to_owned(), json!(order));
        }
        if offset > 0 {
            params.insert("offset".to_owned(), json!(offset));
        }
        if let Some(limit) = limit {
            params.insert("limit".to_owned(), json!(limit));
        }
        let value = self.call(model, "search_read", &[], params, true).await?;
        records(value, model, "search_read")
    }

    /// `search`: ids matching `domain`.
    pub async fn search(
        &self,
        model: &str,
        domain: Value,
        order: Option<&str>,
        limit: Option<usize>,
    ) -> Result<Vec<u64>, OdooError> {
        let mut params = Map::new();
        params.insert("domain".to_owned(), domain);
        if let Some(order) = order {
            params.insert("order".to_owned(), json!(order));
        }
        if let Some(limit) = limit {
            params.insert("limit".to_owned(), json!(limit));
        }
        let value = self.call(model, "search", &[], params, true).await?;
        serde_json::from_value(value).map_err(|e| OdooError::Protocol {
            what: format!("{model}.search"),
            reason: e.to_string(),
        })
    }

    /// `search_count`.
    pub async fn search_count(&self, model: &str, domain: Value) -> Result<u64, OdooError> {
        let mut params = Map::new();
        params.insert("domain".to_owned(), domain);
        let value = self.call(model, "search_count", &[], params, true).await?;
        value.as_u64().ok_or_else(|| OdooError::Protocol {
            what: format!("{model}.search_count"),
            reason: format!("not a count: {value}"),
        })
    }

    /// `read` of `ids` (one call, whatever their number). Empty `ids` sends nothing.
    pub async fn read(
        &self,
        model: &str,
        ids: &[u64],
        fields: &[&str],
    ) -> Result<Vec<Rec>, OdooError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut params = Map::new();
        params.insert("fields".to_owned(), json!(fields));
        let value = self.call(model, "read", ids, params, true).await?;
        records(value, model, "read")
    }

    /// `write` the same values on `ids`. Writing values (never toggling) makes it idempotent.
    pub async fn write(
        &self,
        model: &str,
        ids: &[u64],
        vals: Map<String, Value>,
    ) -> Result<(), OdooError> {
        let mut params = Map::new();
        params.insert("vals".to_owned(), Value::Object(vals));
        self.call(model, "write", ids, params, true).await.map(drop)
    }

    /// `create` one record; not retried (a lost answer could mean it exists).
    pub async fn create(&self, model: &str, vals: Map<String, Value>) -> Result<u64, OdooError> {
        let mut params = Map::new();
        params.insert("vals_list".to_owned(), json!([vals]));
        let value = self.call(model, "create", &[], params, false).await?;
        value
            .as_u64()
            .or_else(|| value.get(0).and_then(Value::as_u64))
            .ok_or_else(|| OdooError::Protocol {
                what: format!("{model}.create"),
                reason: format!("no id in {value}"),
            })
    }

    /// `fields_get` with types and comodels.
    pub async fn fields_get(&self, model: &str) -> Result<Map<String, Value>, OdooError> {
        let mut params = Map::new();
        params.insert(
            "attributes".to_owned(),
            json!(["type", "string", "relation"]),
        );
        match self.call(model, "fields_get", &[], params, true).await? {
            Value::Object(map) => Ok(map),
            other => Err(OdooError::Protocol {
                what: format!("{model}.fields_get"),
                reason: format!("not an object: {other}"),
            }),
        }
    }
}

fn records(value: Value, model: &str, method: &str) -> Result<Vec<Rec>, OdooError> {
    match value {
        Value::Array(items) => items
            .into_iter()
            .map(|item| {
                Rec::new(item).ok_or_else(|| OdooError::Protocol {
                    what: format!("{model}.{method}"),
                    reason: "a record without an integer id".to_owned(),
                })
            })
            .collect(),
        other => Err(OdooError::Protocol {
            what: format!("{model}.{method}"),
            reason: format!(
                "expected a list of records, got {}",
                snippet(other.to_string().as_bytes())
            ),
        }),
    }
}

/// An Odoo error envelope: `data.name` is the exception class, `data.message` its text.
fn server_error(what: &str, data: &Value, envelope: &Value) -> OdooError {
    let name = data
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("unknown")
        .to_owned();
    let message = data
        .get("message")
        .and_then(Value::as_str)
        .or_else(|| envelope.get("message").and_then(Value::as_str))
        .unwrap_or_default()
        .to_owned();
    let class = classify(&name, &message);
    OdooError::Server {
        what: what.to_owned(),
        name,
        message,
        class,
    }
}

fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(inner) = source {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    text
}
