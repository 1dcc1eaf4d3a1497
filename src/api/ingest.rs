//! `POST /v1/ingest/odoo`: Odoo's automation webhook, a hint that a record changed.
//!
//! Odoo sends the webhook once, with a one-second timeout and no retry, and its payload is
//! neither signed nor necessarily current; so the hub treats it as a hint only: it checks the
//! shared secret (`X-Tradehub-Secret` header or `?secret=`: Odoo's automation can only put it in
//! the URL, so this route alone takes a secret from the query string, which is never logged;
//! `serve` refuses a secret shorter than [`MIN_SECRET_CHARS`]), reads the record back from Odoo,
//! and ingests an input only when the watched fields changed since the last one. The poller
//! finds every change anyway; the hint makes it arrive sooner. Answers 202 once the input is
//! durable (or there was nothing new), 401 on a wrong secret, 422 on a payload that is not an
//! automation payload, 502 when Odoo cannot be read, 503 when the store is down or the route
//! is not configured.

use std::sync::Arc;

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::ApiState;
use super::problem::Problem;
use crate::partners::odoo::{OdooFeed, PollError};

/// Shortest webhook secret `serve` starts with: it travels in a URL, so it must be long enough
/// that guessing is hopeless.
pub const MIN_SECRET_CHARS: usize = 32;

/// Header carrying the webhook's shared secret.
pub const SECRET_HEADER: &str = "X-Tradehub-Secret";

/// What the route needs: the feed, and the secret the webhook must present.
pub struct OdooIngest {
    /// Reads hinted records back and ingests them.
    pub feed: Arc<OdooFeed>,
    /// The shared secret; `None`: the route is refused (no secret, no unauthenticated ingest).
    pub secret: Option<String>,
}

/// Whether `presented` is the secret, comparing digests so the time taken says nothing about
/// how much of it matched.
fn secret_matches(expected: &str, presented: &str) -> bool {
    Sha256::digest(expected.as_bytes()) == Sha256::digest(presented.as_bytes())
}

fn presented_secret(request: &HttpRequest) -> Option<String> {
    if let Some(value) = request.headers().get(SECRET_HEADER) {
        return value.to_str().ok().map(str::to_owned);
    }
    web::Query::<std::collections::HashMap<String, String>>::from_query(request.query_string())
        .ok()
        .and_then(|q| q.get("secret").cloned())
}

/// `POST /v1/ingest/odoo`.
pub(super) async fn odoo(
    state: web::Data<ApiState>,
    request: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, Problem> {
    let Some(ingest) = state.odoo.as_ref() else {
        return Err(Problem::not_configured(
            "this node runs no Odoo feed (runtime.workflow is not \"shipment\")",
        ));
    };
    let Some(expected) = ingest.secret.as_deref() else {
        return Err(Problem::not_configured(
            "no webhook secret is configured (odoo.webhook_secret_env names an unset variable)",
        ));
    };
    let presented = presented_secret(&request).ok_or_else(|| {
        Problem::unauthorized(format!("no {SECRET_HEADER} header and no ?secret="))
    })?;
    if !secret_matches(expected, &presented) {
        return Err(Problem::unauthorized("the webhook secret is wrong"));
    }
    match ingest.feed.hint(&body).await {
        Ok(Some(key)) => {
            Ok(HttpResponse::Accepted().json(json!({ "shipment_id": key, "ingested": true })))
        }
        Ok(None) => Ok(HttpResponse::Accepted()
            .json(json!({ "ingested": false, "reason": "nothing new, or not a shipment" }))),
        Err(PollError::Hint(reason)) => Err(Problem::invalid(format!("webhook payload: {reason}"))),
        Err(error @ PollError::Odoo(_)) => Err(Problem::upstream("Odoo", error)),
        Err(error) => Err(Problem::unavailable(error)),
    }
}

#[cfg(test)]
mod tests {
    use super::secret_matches;

    #[test]
    fn only_the_exact_secret_matches() {
        assert!(secret_matches("s3cret", "s3cret"));
        assert!(!secret_matches("s3cret", "s3cre"));
        assert!(!secret_matches("s3cret", ""));
    }
}
