//! `application/problem+json` errors (RFC 9457) with stable `type` URIs.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde_json::json;

/// An API error; its `kind` is the stable part clients match on.
#[derive(Debug, thiserror::Error)]
#[error("{detail}")]
pub struct Problem {
    status: StatusCode,
    kind: &'static str,
    title: &'static str,
    detail: String,
}

impl Problem {
    /// A request whose body or parameters are unusable; `detail` says where.
    pub fn invalid(detail: impl Into<String>) -> Self {
        Self {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            kind: "invalid-request",
            title: "The request cannot be used",
            detail: detail.into(),
        }
    }

    /// A required header is missing or malformed.
    pub fn header(detail: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            kind: "bad-header",
            title: "A required header is missing or malformed",
            detail: detail.into(),
        }
    }

    /// Nothing is known under that name.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            kind: "not-found",
            title: "Not found",
            detail: detail.into(),
        }
    }

    /// Missing or wrong credentials.
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self {
            status: StatusCode::UNAUTHORIZED,
            kind: "unauthorized",
            title: "Missing or wrong credentials",
            detail: detail.into(),
        }
    }

    /// This node does not serve the route (its workflow or its configuration leaves it out).
    pub fn not_configured(detail: impl Into<String>) -> Self {
        Self {
            status: StatusCode::SERVICE_UNAVAILABLE,
            kind: "not-configured",
            title: "This route is not configured on this node",
            detail: detail.into(),
        }
    }

    /// A partner the hub depends on did not answer; retry later.
    pub fn upstream(detail: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_GATEWAY,
            kind: "upstream-unavailable",
            title: "A system the hub depends on did not answer; retry later",
            detail: detail.into(),
        }
    }

    /// The durable store cannot take the request now; retry later.
    pub fn unavailable(detail: impl Into<String>) -> Self {
        Self {
            status: StatusCode::SERVICE_UNAVAILABLE,
            kind: "store-unavailable",
            title: "The hub cannot store requests right now; retry later",
            detail: detail.into(),
        }
    }
}

impl ResponseError for Problem {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status)
            .content_type("application/problem+json")
            .json(json!({
                "type": format!("urn:tradehub:problem:{}", self.kind),
                "title": self.title,
                "status": self.status.as_u16(),
                "detail": self.detail,
            }))
    }
}
