//! `POST /v1/partners/{name}/callbacks`: statuses from brokers and events from
//! carriers, in the partner's own format, HMAC-signed.
//!
//! The signature (hex HMAC-SHA256 of the raw body, in the partner's header) is
//! checked in constant time before anything else; a bad or missing one is 401.
//! The body goes through the partner's codec and inbound mapping; a broker's LRN or
//! a carrier's shipment reference is resolved to the saga key through the
//! [`Ledger`]; the result is ingested as `customs.status` or `carrier.milestone`
//! with an idempotency key (the `X-Callback-Id` header, else the body's hash) and
//! answered 202 once durable. A repeated callback writes nothing and gets the first
//! answer. A payload that cannot be mapped or resolved is 422 naming what failed,
//! and the raw payload is kept for an operator ([`crate::store::callbacks`]).

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use serde_json::{Value, json};

use super::ApiState;
use super::problem::Problem;
use crate::partners::config::{Auth, Layout, PartnerError, PartnerKind};
use crate::partners::filing;
use crate::secret::Secret;
use crate::store::callbacks::{RejectedCallback, keep_rejected};
use crate::store::lrn_ledger::Ledger;

#[cfg(test)]
mod tests;

/// Header naming a callback's own id (its idempotency key when present).
pub const CALLBACK_ID_HEADER: &str = "X-Callback-Id";

/// Callback configuration could not be built.
#[derive(Debug, thiserror::Error)]
pub enum CallbackConfigError {
    /// The secret's environment variable is unset or empty.
    #[error("environment variable {0} (the callback HMAC secret) is not set")]
    MissingSecret(String),
    /// The template does not sign its callbacks.
    #[error("partner {0} has no HMAC auth in its template; callbacks need one")]
    NoHmac(String),
    /// The template is not a broker or a carrier.
    #[error("partner {0} is neither a customs broker nor a carrier")]
    Kind(String),
    /// The template could not be read.
    #[error(transparent)]
    Template(#[from] PartnerError),
}

/// What a partner's callbacks carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallbackKind {
    /// Declaration statuses, naming the LRN.
    Broker,
    /// Transport milestones, naming a shipment reference.
    Carrier,
}

/// One partner allowed to call back.
#[derive(Debug, Clone)]
pub struct CallbackPartner {
    /// Partner (template) name, the `{name}` of the route.
    pub name: String,
    /// Broker or carrier.
    pub kind: CallbackKind,
    /// Header carrying the hex signature.
    pub header: String,
    /// The shared secret.
    pub secret: Secret,
}

impl CallbackPartner {
    /// From the partner's template: kind, signature header and secret (read from the
    /// template's `secret_env`).
    pub fn from_template(layout: &Layout, name: &str) -> Result<Self, CallbackConfigError> {
        let template = layout.template(name)?;
        let Auth::Hmac { header, secret_env } = &template.auth else {
            return Err(CallbackConfigError::NoHmac(name.to_owned()));
        };
        Self::with_secret(
            layout,
            name,
            Secret::from_env(secret_env)
                .map_err(|missing| CallbackConfigError::MissingSecret(missing.0))?,
        )
        .map(|mut p| {
            p.header.clone_from(header);
            p
        })
    }

    /// From the partner's template, with the secret given (tests, the demo).
    pub fn with_secret(
        layout: &Layout,
        name: &str,
        secret: Secret,
    ) -> Result<Self, CallbackConfigError> {
        let template = layout.template(name)?;
        let kind = match template.kind {
            PartnerKind::CustomsBroker => CallbackKind::Broker,
            PartnerKind::Carrier => CallbackKind::Carrier,
            _ => return Err(CallbackConfigError::Kind(name.to_owned())),
        };
        let header = match &template.auth {
            Auth::Hmac { header, .. } => header.clone(),
            _ => "X-Tradehub-Signature".to_owned(),
        };
        Ok(Self {
            name: name.to_owned(),
            kind,
            header,
            secret,
        })
    }
}

/// The partners allowed to call back, and where their templates live.
#[derive(Debug, Clone)]
pub struct Callbacks {
    layout: Layout,
    partners: HashMap<String, CallbackPartner>,
}

impl Default for Callbacks {
    /// No partner: every callback is 404.
    fn default() -> Self {
        Self::new(Layout::new("."))
    }
}

impl Callbacks {
    /// No partners yet, templates under `layout`.
    pub fn new(layout: Layout) -> Self {
        Self {
            layout,
            partners: HashMap::new(),
        }
    }

    /// Every broker and carrier template under `layout` that signs its callbacks and
    /// whose secret's environment variable is set. Templates without one are left out
    /// (their callbacks are 404) and named in the log.
    pub fn from_env(layout: Layout) -> Self {
        let mut callbacks = Self::new(layout.clone());
        let names = match layout.partner_names() {
            Ok(names) => names,
            Err(error) => {
                tracing::warn!(%error, "no partner templates: callbacks are refused");
                return callbacks;
            }
        };
        for name in names {
            match CallbackPartner::from_template(&layout, &name) {
                Ok(partner) => callbacks = callbacks.with(partner),
                Err(CallbackConfigError::Kind(_) | CallbackConfigError::NoHmac(_)) => {}
                Err(error) => {
                    tracing::info!(partner = %name, %error, "callbacks of this partner are refused");
                }
            }
        }
        callbacks
    }

    /// Names of the partners taking callbacks, sorted.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.partners.keys().cloned().collect();
        names.sort();
        names
    }

    /// Adds (or replaces) a partner.
    pub fn with(mut self, partner: CallbackPartner) -> Self {
        self.partners.insert(partner.name.clone(), partner);
        self
    }

    /// The partner called `name`.
    pub fn partner(&self, name: &str) -> Option<&CallbackPartner> {
        self.partners.get(name)
    }
}

/// Why a callback was refused.
#[derive(Debug, thiserror::Error)]
pub(super) enum CallbackError {
    #[error("{0}")]
    Problem(#[from] Problem),
    #[error("{0}")]
    Unauthorized(String),
}

impl ResponseError for CallbackError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Problem(p) => p.status_code(),
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            Self::Problem(p) => p.error_response(),
            Self::Unauthorized(detail) => HttpResponse::Unauthorized()
                .content_type("application/problem+json")
                .insert_header(("WWW-Authenticate", "HMAC-SHA256"))
                .json(json!({
                    "type": "urn:tradehub:problem:bad-signature",
                    "title": "The callback signature is missing or wrong",
                    "status": 401,
                    "detail": detail,
                })),
        }
    }
}

/// Keeps a payload that could not be used, for an operator to fix and resubmit, and answers
/// 422 naming what failed.
async fn unprocessable(state: &ApiState, partner: &str, reason: String, body: &[u8]) -> Problem {
    let rejected = RejectedCallback {
        partner: partner.to_owned(),
        reason,
        received_at: filing::now_rfc3339(),
        body: body.to_vec(),
    };
    if let Err(e) = keep_rejected(&state.mailbox, &rejected).await {
        tracing::error!(partner, reason = %rejected.reason, error = %e, "rejected callback could not be kept");
    }
    Problem::invalid(rejected.reason)
}

/// `POST /v1/partners/{name}/callbacks`.
pub(super) async fn receive(
    state: web::Data<ApiState>,
    name: web::Path<String>,
    request: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, CallbackError> {
    let name = name.into_inner();
    let Some(partner) = state.callbacks.partner(&name) else {
        return Err(Problem::not_found(format!("no partner {name} takes callbacks here")).into());
    };
    let signature = request
        .headers()
        .get(partner.header.as_str())
        .ok_or_else(|| {
            CallbackError::Unauthorized(format!("header {} is missing", partner.header))
        })?
        .to_str()
        .map_err(|_| {
            CallbackError::Unauthorized(format!("header {} is not ASCII", partner.header))
        })?;
    // verify_slice compares in constant time.
    if !crate::partners::config::verify_signature(partner.secret.as_bytes(), &body, signature) {
        return Err(CallbackError::Unauthorized(format!(
            "header {} does not match the body's HMAC-SHA256",
            partner.header
        )));
    }
    let callback_id = match request.headers().get(CALLBACK_ID_HEADER) {
        Some(v) => v
            .to_str()
            .ok()
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty() && s.len() <= 200)
            .ok_or_else(|| {
                Problem::header(format!(
                    "{CALLBACK_ID_HEADER} must be 1 to 200 visible ASCII characters"
                ))
            })?,
        None => format!("sha256:{}", filing::content_hash(&body)),
    };
    let canonical = match filing::inbound_json(&state.callbacks.layout, &name, &body) {
        Ok(c) => c,
        Err(e) => {
            return Err(unprocessable(
                &state,
                &name,
                format!("{name}: payload does not map: {e}"),
                &body,
            )
            .await
            .into());
        }
    };
    let ledger = Ledger::of(&state.mailbox);
    let answer = match partner.kind {
        CallbackKind::Broker => {
            broker(&state, &ledger, &name, &callback_id, &canonical, &body).await?
        }
        CallbackKind::Carrier => carrier(&state, &ledger, &name, &canonical, &body).await?,
    };
    Ok(HttpResponse::Accepted().json(answer))
}

async fn broker(
    state: &ApiState,
    ledger: &Ledger,
    name: &str,
    callback_id: &str,
    canonical: &Value,
    body: &[u8],
) -> Result<Value, CallbackError> {
    let Some(lrn) = canonical.get("lrn").and_then(Value::as_str) else {
        return Err(unprocessable(
            state,
            name,
            format!("{name}: the mapped payload has no lrn"),
            body,
        )
        .await
        .into());
    };
    let key = ledger
        .lrn_key(lrn)
        .await
        .map_err(|e| Problem::unavailable(e.to_string()))?;
    let Some(key) = key else {
        return Err(unprocessable(
            state,
            name,
            format!("{name}: LRN {lrn} was not filed through this hub"),
            body,
        )
        .await
        .into());
    };
    let report = filing::status_report(canonical, lrn);
    let id = format!("cb:{name}:{callback_id}");
    let (entry, duplicate) = filing::ingest(
        &state.mailbox,
        state.partitions,
        &key,
        filing::STATUS_KIND,
        &id,
        report.clone(),
    )
    .await
    .map_err(|e| Problem::unavailable(e.to_string()))?;
    if let Err(e) = ledger.record_status(name, lrn, &report).await {
        tracing::warn!(partner = name, lrn, error = %e, "last status not recorded");
    }
    Ok(json!({
        "partner": name,
        "shipment_id": key,
        "lrn": lrn,
        "status": report["status"],
        "inputs": [entry],
        "duplicate": duplicate,
    }))
}

/// The references a carrier document names, most specific first.
fn carrier_references(canonical: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let mut push = |v: Option<&Value>| {
        if let Some(s) = v.and_then(Value::as_str).filter(|s| !s.is_empty())
            && !out.iter().any(|o| o == s)
        {
            out.push(s.to_owned());
        }
    };
    let refs = canonical.get("references");
    push(refs.and_then(|r| r.get("shipment_id")));
    push(refs.and_then(|r| r.get("BKG")));
    if let Some(Value::Object(map)) = refs {
        map.values().for_each(|v| push(Some(v)));
    }
    for event in canonical
        .get("events")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let refs = event.get("references");
        push(refs.and_then(|r| r.get("BKG")));
        if let Some(Value::Object(map)) = refs {
            map.values().for_each(|v| push(Some(v)));
        }
        push(event.get("equipment"));
    }
    out
}

async fn carrier(
    state: &ApiState,
    ledger: &Ledger,
    name: &str,
    canonical: &Value,
    body: &[u8],
) -> Result<Value, CallbackError> {
    let candidates = carrier_references(canonical);
    let mut key = None;
    for reference in &candidates {
        if let Some(k) = ledger
            .reference_key(reference)
            .await
            .map_err(|e| Problem::unavailable(e.to_string()))?
        {
            key = Some(k);
            break;
        }
    }
    // A booking made under the hub's shipment id needs no ledger entry.
    let key = key.or_else(|| {
        let refs = canonical.get("references");
        refs.and_then(|r| r.get("shipment_id").or_else(|| r.get("BKG")))
            .or_else(|| {
                canonical
                    .get("events")
                    .and_then(Value::as_array)
                    .and_then(|e| {
                        e.iter()
                            .find_map(|e| e.get("references").and_then(|r| r.get("BKG")))
                    })
            })
            .and_then(Value::as_str)
            .map(str::to_owned)
    });
    let Some(key) = key else {
        return Err(unprocessable(
            state,
            name,
            format!("{name}: no known shipment reference among {candidates:?}"),
            body,
        )
        .await
        .into());
    };
    let carrier = canonical
        .get("carrier")
        .and_then(Value::as_str)
        .unwrap_or(name)
        .to_owned();
    let mut inputs = Vec::new();
    let mut ignored = Vec::new();
    let mut duplicate = true;
    for event in canonical
        .get("events")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let template_milestone = event
            .get("milestone")
            .and_then(Value::as_str)
            .unwrap_or_default();
        // Estimates and plans are not milestones that happened.
        let actual = event
            .get("classifier")
            .and_then(Value::as_str)
            .is_none_or(|c| c == "ACT");
        let Some(milestone) = saga_code(template_milestone).filter(|_| actual) else {
            ignored.push(json!(template_milestone));
            continue;
        };
        let at = event.get("at").cloned().unwrap_or(Value::Null);
        let location = event.get("location").cloned().unwrap_or(Value::Null);
        // Idempotent by carrier, shipment, event code, time and place.
        let id = format!(
            "cb:{name}:{}",
            filing::content_hash(
                format!(
                    "{carrier}|{key}|{}|{at}|{location}",
                    event.get("code").unwrap_or(&Value::Null)
                )
                .as_bytes()
            )
        );
        let report =
            json!({ "code": milestone, "at": at, "location": location, "carrier": carrier });
        let (entry, dup) = filing::ingest(
            &state.mailbox,
            state.partitions,
            &key,
            filing::MILESTONE_KIND,
            &id,
            report,
        )
        .await
        .map_err(|e| Problem::unavailable(e.to_string()))?;
        duplicate &= dup;
        inputs.push(json!(entry));
    }
    Ok(json!({
        "partner": name,
        "shipment_id": key,
        "status": canonical.get("status"),
        "inputs": inputs,
        "ignored": ignored,
        "duplicate": duplicate && !inputs.is_empty(),
    }))
}

fn saga_code(template_milestone: &str) -> Option<Value> {
    filing::saga_milestone(template_milestone).and_then(|m| serde_json::to_value(m).ok())
}
