//! The REST/JSON customs broker (`rest-broker` template): files, cancels and
//! queries declarations over HTTP, with the LRN as the idempotency key.
//!
//! The broker API (documented in `config/partners/rest-broker.toml`):
//! `POST {endpoint}/declarations` (header `Idempotency-Key: <LRN>`),
//! `POST {endpoint}/declarations/{lrn}/cancel`, `GET {endpoint}/declarations/{lrn}`.
//! Each answers the broker's status document `{lrn, status, customs_reference, errors}`,
//! read through the template's inbound mapping into a `BrokerAnswer`.
//!
//! HTTP outcomes map onto the runtime's retry taxonomy: 2xx is the answer; 429 waits
//! for `Retry-After`; 5xx and connection failures retry; other 4xx are permanent with
//! the broker's message; a timeout once the request was sent is an unknown outcome
//! for filing and cancelling (the saga asks the broker), a retry for a query. Requests carry
//! the template's outbound authentication and TLS ([`super::outbound`]).

use std::collections::BTreeMap;
use std::time::Duration;

use std::sync::Arc;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tradehub_actors::clock::SystemClock;
use tradehub_actors::envelope::Envelope;
use tradehub_actors::partner::{CallError, Transport};

use super::config::Layout;
use super::filing;
use super::outbound::{Outbound, OutboundError, PartnerClient, SendError};
use crate::store::lrn_ledger::Ledger;
use crate::workflow::shipment::commands::{
    BrokerCommand, CancelDeclaration, CommandError, FileDeclaration,
};

#[cfg(test)]
mod tests;

/// How to reach one REST broker.
#[derive(Debug, Clone)]
pub struct RestBrokerConfig {
    /// Partner (template) name, e.g. `rest-broker`.
    pub partner: String,
    /// Where templates and mappings live.
    pub layout: Layout,
    /// Base URL of the broker API, without a trailing slash.
    pub endpoint: String,
    /// Connect timeout: a failure to connect is always safe to retry.
    pub connect_timeout: Duration,
    /// Whole-request timeout.
    pub timeout: Duration,
    /// Authentication and TLS of the requests (the template's `[outbound_auth]`, `[outbound_tls]`).
    pub outbound: Outbound,
}

impl RestBrokerConfig {
    /// Defaults for `partner` at `endpoint`: 2 s to connect, 10 s per request, no outbound
    /// authentication.
    pub fn new(partner: &str, layout: Layout, endpoint: &str) -> Self {
        Self {
            partner: partner.to_owned(),
            layout,
            endpoint: endpoint.trim_end_matches('/').to_owned(),
            connect_timeout: Duration::from_secs(2),
            timeout: Duration::from_secs(10),
            outbound: Outbound::none(partner, Arc::new(SystemClock)),
        }
    }
}

/// The transport; cheap to clone.
#[derive(Debug, Clone)]
pub struct RestBrokerTransport {
    config: RestBrokerConfig,
    client: PartnerClient,
    ledger: Ledger,
}

impl RestBrokerTransport {
    /// A transport for `config`, recording filed LRNs in `ledger`.
    pub fn new(config: RestBrokerConfig, ledger: Ledger) -> Result<Self, OutboundError> {
        let client = config
            .outbound
            .client(config.connect_timeout, config.timeout)?;
        Ok(Self {
            config,
            client,
            ledger,
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.config.endpoint)
    }

    async fn file(&self, key: &str, file: &FileDeclaration) -> Result<Value, CallError> {
        let lrn = &file.lrn;
        let document = filing::declaration_document(file, &filing::now_rfc3339());
        let request = filing::outbound_bytes(
            &self.config.layout,
            &self.config.partner,
            &document,
            &BTreeMap::new(),
        )
        .map_err(|e| CallError::Poison {
            reason: format!("{}: outbound mapping of {lrn}: {e}", self.config.partner),
        })?;
        // The ledger entry must exist before the broker can call back about this LRN.
        self.ledger
            .record_lrn(lrn, key, &self.config.partner)
            .await
            .map_err(|e| CallError::Retry {
                after: None,
                reason: e.to_string(),
            })?;
        let sent = self
            .client
            .send(
                self.client
                    .request(Method::POST, &self.url("/declarations"))
                    .header("Idempotency-Key", lrn)
                    .header("Content-Type", "application/json")
                    .body(request),
            )
            .await;
        self.answer(lrn, sent, true).await
    }

    async fn cancel(&self, cancel: &CancelDeclaration) -> Result<Value, CallError> {
        let lrn = &cancel.lrn;
        let body = json!({
            "lrn": lrn,
            "customs_reference": cancel.mrn,
            "reason": cancel.reason,
        });
        let sent = self
            .client
            .send(
                self.client
                    .request(
                        Method::POST,
                        &self.url(&format!("/declarations/{lrn}/cancel")),
                    )
                    .header("Idempotency-Key", format!("cancel:{lrn}"))
                    .json(&body),
            )
            .await;
        self.answer(lrn, sent, true).await
    }

    async fn query(&self, lrn: &str) -> Result<Value, CallError> {
        let sent = self
            .client
            .send(
                self.client
                    .request(Method::GET, &self.url(&format!("/declarations/{lrn}"))),
            )
            .await;
        if let Ok(response) = &sent
            && response.status() == StatusCode::NOT_FOUND
        {
            return Ok(json!({ "lrn": lrn, "status": null, "mrn": null, "reasons": [] }));
        }
        self.answer(lrn, sent, false).await
    }

    /// Maps an HTTP outcome; `changes_state` says whether an unanswered request may
    /// have taken effect at the broker.
    async fn answer(
        &self,
        lrn: &str,
        sent: Result<reqwest::Response, SendError>,
        changes_state: bool,
    ) -> Result<Value, CallError> {
        let response = match sent {
            Ok(r) => r,
            Err(SendError::Http(e)) => return Err(transport_error(lrn, &e, changes_state)),
            // Nothing reached the broker: safe to retry once the token endpoint answers.
            Err(e @ SendError::Token { .. }) => {
                return Err(CallError::Retry {
                    after: None,
                    reason: format!("{lrn} not sent: {e}"),
                });
            }
        };
        let status = response.status();
        let retry_after = retry_after(response.headers());
        let bytes = match response.bytes().await {
            Ok(b) => b,
            Err(e) => return Err(transport_error(lrn, &e, changes_state)),
        };
        if status.is_success() {
            return self.broker_answer(lrn, &bytes);
        }
        let message = broker_message(&bytes);
        if status == StatusCode::TOO_MANY_REQUESTS {
            return Err(CallError::Retry {
                after: retry_after,
                reason: format!("broker rate limit for {lrn}: {message}"),
            });
        }
        if status.is_server_error() || status == StatusCode::REQUEST_TIMEOUT {
            return Err(CallError::Retry {
                after: retry_after,
                reason: format!("broker answered {status} for {lrn}: {message}"),
            });
        }
        Err(CallError::Permanent {
            reason: format!("broker refused {lrn} ({status}): {message}"),
        })
    }

    fn broker_answer(&self, lrn: &str, bytes: &[u8]) -> Result<Value, CallError> {
        let raw: Value = serde_json::from_slice(bytes).map_err(|e| CallError::Retry {
            after: None,
            reason: format!("broker answer for {lrn} is not JSON: {e}"),
        })?;
        if raw.get("status").is_none_or(Value::is_null) {
            return Ok(json!({ "lrn": lrn, "status": null, "mrn": null, "reasons": [] }));
        }
        let canonical = filing::inbound_json(&self.config.layout, &self.config.partner, bytes)
            .map_err(|e| CallError::Permanent {
                reason: format!("broker answer for {lrn} does not map: {e}"),
            })?;
        let report = filing::status_report(&canonical, lrn);
        Ok(json!({
            "lrn": lrn,
            "status": report["status"],
            "mrn": report["mrn"],
            "reasons": report["reasons"],
        }))
    }
}

fn poison(error: CommandError) -> CallError {
    CallError::Poison {
        reason: error.to_string(),
    }
}

fn transport_error(lrn: &str, e: &reqwest::Error, changes_state: bool) -> CallError {
    // Nothing reached the broker when the connection failed; a read-only query is
    // always safe to repeat.
    if e.is_connect() || !changes_state {
        return CallError::Retry {
            after: None,
            reason: format!("broker unreachable or silent for {lrn}: {e}"),
        };
    }
    let what = if e.is_timeout() {
        "no answer within the timeout"
    } else {
        "the exchange broke off"
    };
    CallError::OutcomeUnknown {
        reason: format!("{lrn} was sent to the broker but {what}: {e}"),
    }
}

/// `Retry-After` in seconds (the HTTP-date form is not used by brokers we know).
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

/// The broker's error text: `message`/`detail`/`error` of a JSON body, or the body.
fn broker_message(bytes: &[u8]) -> String {
    if let Ok(v) = serde_json::from_slice::<Value>(bytes) {
        for field in ["message", "detail", "error", "title"] {
            if let Some(s) = v.get(field).and_then(Value::as_str) {
                return s.to_owned();
            }
        }
        return v.to_string();
    }
    let text = String::from_utf8_lossy(bytes);
    let text = text.trim();
    if text.is_empty() {
        "(empty body)".to_owned()
    } else {
        text.chars().take(500).collect()
    }
}

impl Transport for RestBrokerTransport {
    async fn call(&self, command: &Envelope) -> Result<Value, CallError> {
        match BrokerCommand::from_envelope(command).map_err(poison)? {
            BrokerCommand::File(file) => self.file(&command.key, &file).await,
            BrokerCommand::Cancel(cancel) => self.cancel(&cancel).await,
            BrokerCommand::Query(query) => self.query(&query.lrn).await,
        }
    }
}
