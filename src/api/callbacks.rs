//! `POST /v1/partners/{name}/callbacks`: statuses from brokers and events from
//! carriers, in the partner's own format, signed over time and body.
//!
//! # Checks, in order
//!
//! 1. **Signature** (401 `bad-signature`): the partner's header carries
//!    `t=<unix seconds>,v1=<hex>`, where `v1` is the HMAC-SHA256 of `"<t>." + raw body` under the
//!    partner's secret, or under its previous secret during a rotation
//!    ([`crate::partners::signature`]). A missing or malformed header, a `t` further than the
//!    tolerance (`[callbacks] tolerance`, 5 minutes) from this node's clock, or no matching `v1`
//!    is refused, in constant time and without echoing a secret.
//! 2. **Replay** (409 `replayed-callback`): a signature this hub accepted before is refused while
//!    it could still verify, whatever its `X-Callback-Id`. The replay store
//!    ([`crate::store::callbacks::first_sighting`]) keeps each signature, computed under the
//!    partner's current secret whichever secret matched, for twice the tolerance and a minute
//!    (a `t` is accepted from `tolerance` before to `tolerance` after the clock). It is 409 and not
//!    401 because the request is authentic: what is wrong is that this very request was received
//!    already, and a sender retrying the same bytes can read 409 as "already have it" instead of
//!    doubting its secret. A callback the hub could not take for want of Redis (503) is forgotten,
//!    so that its retry is not a replay.
//! 3. **Mapping and scope** (422, the raw payload kept for an operator by
//!    [`crate::store::callbacks::keep_rejected`]): the body goes through the partner's codec and
//!    inbound mapping. A broker may only speak about an LRN the [`Ledger`] records as filed with
//!    that broker; a carrier only about a shipment reference the ledger knows for that carrier
//!    (recorded with `POST /v1/shipments/{id}/bookings`). Anything else creates no saga state.
//!
//! The result is ingested as `customs.status` or `carrier.milestone` with an idempotency key (the
//! `X-Callback-Id` header, else the body's hash) and answered 202 once durable; a repeated
//! callback id writes nothing and gets the first answer.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use serde_json::{Value, json};

use super::ApiState;
use super::problem::Problem;
use crate::partners::config::{Auth, Layout, PartnerError, PartnerKind};
use crate::partners::filing;
use crate::partners::signature::{self, DEFAULT_TOLERANCE};
use crate::secret::{MissingSecret, Secret};
use crate::store::callbacks::{RejectedCallback, first_sighting, forget_sighting, keep_rejected};
use crate::store::lrn_ledger::Ledger;
use crate::workflow::shipment::inputs::Actor;

#[cfg(test)]
mod tests;

/// Header naming a callback's own id (its idempotency key when present).
pub const CALLBACK_ID_HEADER: &str = "X-Callback-Id";

/// The shortest callback secret accepted, in bytes.
pub const MIN_SECRET_LEN: usize = 32;

/// How long past the tolerance a seen signature is still remembered.
const REPLAY_MARGIN: Duration = Duration::from_secs(60);

/// Callback configuration could not be built.
#[derive(Debug, thiserror::Error)]
pub enum CallbackConfigError {
    /// The secret's environment variable is unset or empty.
    #[error("environment variable {0} (the callback HMAC secret) is not set")]
    MissingSecret(String),
    /// A secret is too short to resist guessing.
    #[error(
        "partner {partner}: the callback secret {origin} is shorter than {MIN_SECRET_LEN} bytes; \
         give it a random value of at least {MIN_SECRET_LEN}"
    )]
    ShortSecret {
        /// The partner (template).
        partner: String,
        /// Where the secret came from: `in environment variable <NAME>`, or `handed over`.
        origin: String,
    },
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
    /// Header carrying the signature.
    pub header: String,
    /// The secrets a callback may be signed with: the current one, then the one being retired.
    secrets: Vec<Secret>,
}

/// `secret`, unless it is shorter than [`MIN_SECRET_LEN`].
fn long_enough(
    partner: &str,
    secret: Secret,
    origin: String,
) -> Result<Secret, CallbackConfigError> {
    if secret.as_bytes().len() < MIN_SECRET_LEN {
        return Err(CallbackConfigError::ShortSecret {
            partner: partner.to_owned(),
            origin,
        });
    }
    Ok(secret)
}

/// The secret in environment variable `var`, checked for length.
fn from_env(partner: &str, var: &str) -> Result<Secret, CallbackConfigError> {
    let secret = Secret::from_env(var)
        .map_err(|MissingSecret(var)| CallbackConfigError::MissingSecret(var))?;
    long_enough(partner, secret, format!("in environment variable {var}"))
}

impl CallbackPartner {
    /// From the partner's template: kind, signature header and secrets, read from the template's
    /// `secret_env` and, when it names one that is set, `previous_secret_env`.
    pub fn from_template(layout: &Layout, name: &str) -> Result<Self, CallbackConfigError> {
        let template = layout.template(name)?;
        let Auth::Hmac {
            secret_env,
            previous_secret_env,
            ..
        } = &template.auth
        else {
            return Err(CallbackConfigError::NoHmac(name.to_owned()));
        };
        let mut partner = Self::with_secret(layout, name, from_env(name, secret_env)?)?;
        if let Some(var) = previous_secret_env {
            match from_env(name, var) {
                Ok(previous) => partner.secrets.push(previous),
                Err(CallbackConfigError::MissingSecret(_)) => {}
                Err(error) => return Err(error),
            }
        }
        Ok(partner)
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
            secrets: vec![long_enough(name, secret, "handed over".to_owned())?],
        })
    }

    /// Also accept callbacks signed with `previous`, the secret being retired.
    pub fn with_previous(mut self, previous: Secret) -> Result<Self, CallbackConfigError> {
        let previous = long_enough(&self.name, previous, "handed over".to_owned())?;
        self.secrets.truncate(1);
        self.secrets.push(previous);
        Ok(self)
    }

    /// How many secrets are accepted (2 during a rotation).
    pub fn secret_count(&self) -> usize {
        self.secrets.len()
    }

    /// The current secret.
    fn current(&self) -> &Secret {
        &self.secrets[0]
    }
}

/// The partners allowed to call back, where their templates live, and how far a signature's
/// time may be from the clock.
#[derive(Debug, Clone)]
pub struct Callbacks {
    layout: Layout,
    partners: HashMap<String, CallbackPartner>,
    tolerance: Duration,
}

impl Default for Callbacks {
    /// No partner: every callback is 404.
    fn default() -> Self {
        Self::new(Layout::new("."))
    }
}

impl Callbacks {
    /// No partners yet, templates under `layout`, the default tolerance (5 minutes).
    pub fn new(layout: Layout) -> Self {
        Self {
            layout,
            partners: HashMap::new(),
            tolerance: DEFAULT_TOLERANCE,
        }
    }

    /// Every broker and carrier template under `layout` that signs its callbacks and whose
    /// secret's environment variable is set; templates without one are left out (their
    /// callbacks are 404) and named in the log. A secret (current or previous) shorter than
    /// [`MIN_SECRET_LEN`] is an error naming the partner and the variable: the node must not
    /// start with it.
    pub fn from_env(layout: Layout) -> Result<Self, CallbackConfigError> {
        let mut callbacks = Self::new(layout.clone());
        let names = match layout.partner_names() {
            Ok(names) => names,
            Err(error) => {
                tracing::warn!(%error, "no partner templates: callbacks are refused");
                return Ok(callbacks);
            }
        };
        for name in names {
            match CallbackPartner::from_template(&layout, &name) {
                Ok(partner) => callbacks = callbacks.with(partner),
                Err(CallbackConfigError::Kind(_) | CallbackConfigError::NoHmac(_)) => {}
                Err(error @ CallbackConfigError::ShortSecret { .. }) => return Err(error),
                Err(error) => {
                    tracing::info!(partner = %name, %error, "callbacks of this partner are refused");
                }
            }
        }
        Ok(callbacks)
    }

    /// The same partners with signatures accepted up to `tolerance` from the clock.
    pub fn with_tolerance(mut self, tolerance: Duration) -> Self {
        self.tolerance = tolerance;
        self
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

    /// How long a signature is remembered: while it could verify (`t` from a tolerance before to
    /// a tolerance after the clock), and a minute more.
    fn replay_ttl(&self) -> Duration {
        self.tolerance * 2 + REPLAY_MARGIN
    }
}

/// Why a callback was refused.
#[derive(Debug, thiserror::Error)]
pub(super) enum CallbackError {
    #[error("{0}")]
    Problem(#[from] Problem),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Replayed(String),
}

impl ResponseError for CallbackError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Problem(p) => p.status_code(),
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Replayed(_) => StatusCode::CONFLICT,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            Self::Problem(p) => p.error_response(),
            Self::Unauthorized(detail) => Problem::bad_signature(detail.clone()).error_response(),
            Self::Replayed(detail) => Problem::replayed(detail.clone()).error_response(),
        }
    }
}

/// Keeps a payload that could not be used, for an operator to fix and resubmit, and answers
/// 422 naming what failed.
async fn unprocessable(state: &ApiState, partner: &str, reason: String, body: &[u8]) -> Problem {
    let rejected = RejectedCallback::new(partner, reason, filing::now_rfc3339(), body);
    if let Err(e) = keep_rejected(&state.mailbox, &rejected).await {
        tracing::error!(partner, reason = %rejected.reason, error = %e, "rejected callback could not be kept");
    }
    Problem::invalid(rejected.reason)
}

/// Checks the signature header of `partner`'s callback; the signature under the current secret
/// on success, the key of the replay store.
fn verify(
    callbacks: &Callbacks,
    partner: &CallbackPartner,
    request: &HttpRequest,
    body: &[u8],
) -> Result<String, CallbackError> {
    let name = partner.header.as_str();
    let header = request
        .headers()
        .get(name)
        .ok_or_else(|| CallbackError::Unauthorized(format!("header {name} is missing")))?
        .to_str()
        .map_err(|_| CallbackError::Unauthorized(format!("header {name} is not ASCII")))?;
    let secrets: Vec<&[u8]> = partner.secrets.iter().map(Secret::as_bytes).collect();
    let verified = signature::verify(
        header,
        body,
        &secrets,
        signature::unix_now(),
        callbacks.tolerance,
    )
    .map_err(|e| CallbackError::Unauthorized(format!("header {name} {e}")))?;
    Ok(signature::signature_hex(
        partner.current().as_bytes(),
        verified.timestamp,
        body,
    ))
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
    let seen = verify(&state.callbacks, partner, &request, &body)?;
    let first = first_sighting(&state.mailbox, &name, &seen, state.callbacks.replay_ttl())
        .await
        .map_err(|e| Problem::unavailable(e.to_string()))?;
    if !first {
        return Err(CallbackError::Replayed(format!(
            "this signature from {name} was accepted before; a new delivery needs a new t= and signature"
        )));
    }
    let outcome = take(&state, partner, &request, &body).await;
    if let Err(error) = &outcome
        && error.status_code().is_server_error()
        && let Err(e) = forget_sighting(&state.mailbox, &name, &seen).await
    {
        tracing::warn!(partner = %name, error = %e, "a signature of a callback not taken stays remembered: its retry needs a new signature");
    }
    outcome
}

/// Maps a verified callback and ingests it into its saga.
async fn take(
    state: &ApiState,
    partner: &CallbackPartner,
    request: &HttpRequest,
    body: &[u8],
) -> Result<HttpResponse, CallbackError> {
    let name = partner.name.as_str();
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
        None => format!("sha256:{}", filing::content_hash(body)),
    };
    let canonical = match filing::inbound_json_off_worker(&state.callbacks.layout, name, body).await
    {
        Ok(c) => c,
        Err(e) => {
            return Err(unprocessable(
                state,
                name,
                format!("{name}: payload does not map: {e}"),
                body,
            )
            .await
            .into());
        }
    };
    let ledger = Ledger::of(&state.mailbox);
    // The signature authenticated the partner; the audit trail records it with the connection's
    // peer address (no proxy header is trusted).
    let caller = json!(Actor {
        id: format!("partner:{name}"),
        label: name.to_owned(),
        source: request
            .peer_addr()
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |addr| addr.ip())
            .to_string(),
    });
    let from = Sender {
        name,
        caller: &caller,
    };
    let answer = match partner.kind {
        CallbackKind::Broker => {
            broker(state, &ledger, from, &callback_id, &canonical, body).await?
        }
        CallbackKind::Carrier => carrier(state, &ledger, from, &canonical, body).await?,
    };
    Ok(HttpResponse::Accepted().json(answer))
}

/// The partner a verified callback came from: its name and the caller its inputs record.
#[derive(Clone, Copy)]
struct Sender<'a> {
    name: &'a str,
    caller: &'a Value,
}

async fn broker(
    state: &ApiState,
    ledger: &Ledger,
    Sender { name, caller }: Sender<'_>,
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
    let filed = ledger
        .filing(lrn)
        .await
        .map_err(|e| Problem::unavailable(e.to_string()))?;
    // One answer whether the LRN is unknown or another broker's: a broker learns nothing
    // about the others' filings.
    let Some(key) = filed.filter(|f| f.partner == name).map(|f| f.key) else {
        return Err(unprocessable(
            state,
            name,
            format!("{name}: LRN {lrn} was not filed with {name} through this hub"),
            body,
        )
        .await
        .into());
    };
    let report = filing::status_report(canonical, lrn);
    let id = format!("cb:{name}:{callback_id}");
    let mut input = report.clone();
    input["caller"] = caller.clone();
    let (entry, duplicate) = filing::ingest(
        &state.mailbox,
        state.partitions,
        &key,
        filing::STATUS_KIND,
        &id,
        input,
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
    Sender { name, caller }: Sender<'_>,
    canonical: &Value,
    body: &[u8],
) -> Result<Value, CallbackError> {
    let candidates = carrier_references(canonical);
    let mut key = None;
    for reference in &candidates {
        if let Some(k) = ledger
            .reference_key(name, reference)
            .await
            .map_err(|e| Problem::unavailable(e.to_string()))?
        {
            key = Some(k);
            break;
        }
    }
    let Some(key) = key else {
        return Err(unprocessable(
            state,
            name,
            format!(
                "{name}: no booking this hub knows for {name} among the references {candidates:?}"
            ),
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
        let report = json!({ "code": milestone, "at": at, "location": location, "carrier": carrier, "caller": caller });
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
