//! `application/problem+json` errors (RFC 9457) with stable `type` URIs and the request's
//! correlation id.

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::http::header::{RETRY_AFTER, WWW_AUTHENTICATE};
use actix_web::{HttpResponse, ResponseError};
use serde_json::json;

use super::correlation;
use crate::auth::Refusal;

/// An API error; its `kind` is the stable part clients match on. What a client reads is the
/// type, a title, a short `detail` and the request's correlation id; the cause of a failure on
/// the hub's side (a store or Odoo error, with its addresses and paths) goes to the log under that
/// id, never to the client.
#[derive(Debug, thiserror::Error)]
#[error("{detail}")]
pub struct Problem {
    status: StatusCode,
    kind: &'static str,
    title: &'static str,
    detail: String,
    /// Seconds the client should wait (`Retry-After`), on 429.
    retry_after: Option<u64>,
    /// The cause, for the log only.
    internal: Option<String>,
    /// The `WWW-Authenticate` challenge, on a 401 that names its scheme.
    challenge: Option<&'static str>,
}

impl Problem {
    fn new(
        status: StatusCode,
        kind: &'static str,
        title: &'static str,
        detail: impl Into<String>,
    ) -> Self {
        Self {
            status,
            kind,
            title,
            detail: detail.into(),
            retry_after: None,
            internal: None,
            challenge: None,
        }
    }

    /// A request whose body or parameters are unusable; `detail` says where.
    pub fn invalid(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-request",
            "The request cannot be used",
            detail,
        )
    }

    /// A required header is missing or malformed.
    pub fn header(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "bad-header",
            "A required header is missing or malformed",
            detail,
        )
    }

    /// Nothing is known under that name.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not-found", "Not found", detail)
    }

    /// Missing or wrong credentials.
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Missing or wrong credentials",
            detail,
        )
    }

    /// This node does not serve the route (its workflow or its configuration leaves it out).
    pub fn not_configured(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "not-configured",
            "This route is not configured on this node",
            detail,
        )
    }

    /// `system` (a partner the hub depends on) did not answer; retry later. `cause` goes to the
    /// log only.
    pub fn upstream(system: &str, cause: impl std::fmt::Display) -> Self {
        Self::new(
            StatusCode::BAD_GATEWAY,
            "upstream-unavailable",
            "A system the hub depends on did not answer; retry later",
            format!("{system} did not answer"),
        )
        .caused_by(cause)
    }

    /// The durable store cannot take the request now; retry later. `cause` goes to the log
    /// only.
    pub fn unavailable(cause: impl std::fmt::Display) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "store-unavailable",
            "The hub cannot store requests right now; retry later",
            "the durable store did not answer",
        )
        .caused_by(cause)
    }

    /// A partner callback whose signature is missing, malformed, outside its window or wrong.
    pub fn bad_signature(detail: impl Into<String>) -> Self {
        let mut problem = Self::new(
            StatusCode::UNAUTHORIZED,
            "bad-signature",
            "The callback signature is missing, malformed, outside its time window or wrong",
            detail,
        );
        problem.challenge = Some("HMAC-SHA256");
        problem
    }

    /// A signed callback received before.
    pub fn replayed(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "replayed-callback",
            "This signed callback was received before",
            detail,
        )
    }

    /// Valid credentials that do not allow the request.
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "The credentials do not allow this request",
            detail,
        )
    }

    /// The request conflicts with the state of what it names.
    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "conflict",
            "The request conflicts with the current state",
            detail,
        )
    }

    /// Over a rate limit; the client waits `wait` (rounded up to whole seconds).
    pub fn rate_limited(wait: Duration) -> Self {
        let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        let mut problem = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate-limited",
            "Too many requests",
            format!("over the rate limit; retry in {seconds} s"),
        );
        problem.retry_after = Some(seconds.max(1));
        problem
    }

    /// The answer to a request the access check turned away. Whether a token exists is never
    /// said; why the token store (or the OIDC key set) could not be read goes to the log, not to the client.
    pub fn refused(refusal: &Refusal) -> Self {
        match refusal {
            Refusal::Unauthenticated => Self::unauthorized(refusal.to_string()),
            Refusal::Forbidden(_) => Self::forbidden(refusal.to_string()),
            Refusal::Limited(wait) => Self::rate_limited(*wait),
            Refusal::Unavailable(reason) => Self::unavailable(format!("token store: {reason}")),
        }
    }

    /// Keeps `cause` for the log.
    fn caused_by(mut self, cause: impl std::fmt::Display) -> Self {
        self.internal = Some(cause.to_string());
        self
    }
}

impl ResponseError for Problem {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let correlation_id = correlation::current().unwrap_or_else(correlation::fresh);
        match &self.internal {
            Some(cause) => tracing::warn!(
                %correlation_id, status = self.status.as_u16(), kind = self.kind, %cause,
                "request failed on the hub's side"
            ),
            None => tracing::info!(
                %correlation_id, status = self.status.as_u16(), kind = self.kind,
                detail = %self.detail, "request refused"
            ),
        }
        let mut response = HttpResponse::build(self.status);
        if let Some(seconds) = self.retry_after {
            response.insert_header((RETRY_AFTER, seconds.to_string()));
        }
        if let Some(scheme) = self.challenge {
            response.insert_header((WWW_AUTHENTICATE, scheme));
        }
        response
            .insert_header((correlation::HEADER, correlation_id.as_str()))
            .content_type("application/problem+json")
            .json(json!({
                "type": format!("urn:tradehub:problem:{}", self.kind),
                "title": self.title,
                "status": self.status.as_u16(),
                "detail": self.detail,
                "correlation_id": correlation_id,
            }))
    }
}
