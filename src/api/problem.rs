//! `application/problem+json` errors (RFC 9457) with stable `type` URIs.

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::http::header::RETRY_AFTER;
use actix_web::{HttpResponse, ResponseError};
use serde_json::json;

use crate::auth::Refusal;

/// An API error; its `kind` is the stable part clients match on.
#[derive(Debug, thiserror::Error)]
#[error("{detail}")]
pub struct Problem {
    status: StatusCode,
    kind: &'static str,
    title: &'static str,
    detail: String,
    /// Seconds the client should wait (`Retry-After`), on 429.
    retry_after: Option<u64>,
}

impl Problem {
    /// A request whose body or parameters are unusable; `detail` says where.
    pub fn invalid(detail: impl Into<String>) -> Self {
        Self {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            kind: "invalid-request",
            title: "The request cannot be used",
            detail: detail.into(),
            retry_after: None,
        }
    }

    /// A required header is missing or malformed.
    pub fn header(detail: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            kind: "bad-header",
            title: "A required header is missing or malformed",
            detail: detail.into(),
            retry_after: None,
        }
    }

    /// Nothing is known under that name.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            kind: "not-found",
            title: "Not found",
            detail: detail.into(),
            retry_after: None,
        }
    }

    /// Missing or wrong credentials.
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self {
            status: StatusCode::UNAUTHORIZED,
            kind: "unauthorized",
            title: "Missing or wrong credentials",
            detail: detail.into(),
            retry_after: None,
        }
    }

    /// This node does not serve the route (its workflow or its configuration leaves it out).
    pub fn not_configured(detail: impl Into<String>) -> Self {
        Self {
            status: StatusCode::SERVICE_UNAVAILABLE,
            kind: "not-configured",
            title: "This route is not configured on this node",
            detail: detail.into(),
            retry_after: None,
        }
    }

    /// A partner the hub depends on did not answer; retry later.
    pub fn upstream(detail: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_GATEWAY,
            kind: "upstream-unavailable",
            title: "A system the hub depends on did not answer; retry later",
            detail: detail.into(),
            retry_after: None,
        }
    }

    /// The durable store cannot take the request now; retry later.
    pub fn unavailable(detail: impl Into<String>) -> Self {
        Self {
            status: StatusCode::SERVICE_UNAVAILABLE,
            kind: "store-unavailable",
            title: "The hub cannot store requests right now; retry later",
            detail: detail.into(),
            retry_after: None,
        }
    }
}

impl Problem {
    /// Valid credentials that do not allow the request.
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self {
            status: StatusCode::FORBIDDEN,
            kind: "forbidden",
            title: "The credentials do not allow this request",
            detail: detail.into(),
            retry_after: None,
        }
    }

    /// The request conflicts with the state of what it names.
    pub fn conflict(detail: impl Into<String>) -> Self {
        Self {
            status: StatusCode::CONFLICT,
            kind: "conflict",
            title: "The request conflicts with the current state",
            detail: detail.into(),
            retry_after: None,
        }
    }

    /// Over a rate limit; the client waits `wait` (rounded up to whole seconds).
    pub fn rate_limited(wait: Duration) -> Self {
        let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        Self {
            status: StatusCode::TOO_MANY_REQUESTS,
            kind: "rate-limited",
            title: "Too many requests",
            detail: format!("over the rate limit; retry in {seconds} s"),
            retry_after: Some(seconds.max(1)),
        }
    }

    /// The answer to a request the access check turned away. Whether a token exists is never
    /// said; why the token store (or the OIDC key set) could not be read goes to the log, not to the client.
    pub fn refused(refusal: &Refusal) -> Self {
        match refusal {
            Refusal::Unauthenticated => Self::unauthorized(refusal.to_string()),
            Refusal::Forbidden(_) => Self::forbidden(refusal.to_string()),
            Refusal::Limited(wait) => Self::rate_limited(*wait),
            Refusal::Unavailable(reason) => {
                tracing::warn!(%reason, "credentials cannot be checked; refusing the request");
                Self::unavailable("credentials cannot be checked right now")
            }
        }
    }
}

impl ResponseError for Problem {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        if let Some(seconds) = self.retry_after {
            response.insert_header((RETRY_AFTER, seconds.to_string()));
        }
        response
            .content_type("application/problem+json")
            .json(json!({
                "type": format!("urn:tradehub:problem:{}", self.kind),
                "title": self.title,
                "status": self.status.as_u16(),
                "detail": self.detail,
            }))
    }
}
