//! Correlation ids: every request gets one, taken from a well-formed `X-Correlation-Id` the
//! caller sent or made up, and every answer carries it back in the same header. Errors put it in
//! their problem document too ([`super::problem`]) and write their full detail to the log under
//! it, so an operator handed the id by a caller finds the cause without the caller ever seeing
//! file paths, store errors or partner URLs.
//!
//! Each request is logged once, after its answer: method, path (never the query string, where
//! Odoo's webhook carries its secret), status, time taken and the id.

use std::time::Instant;

use actix_web::body::BoxBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;

/// The header carrying the id, both ways.
pub const HEADER: &str = "X-Correlation-Id";

/// Longest id accepted from a caller.
const MAX_LEN: usize = 64;

tokio::task_local! {
    static CURRENT: String;
}

/// The id of the request being served, when called while serving one.
pub fn current() -> Option<String> {
    CURRENT.try_with(Clone::clone).ok()
}

/// A new random id: 32 hex digits.
pub fn fresh() -> String {
    format!("{:032x}", rand::random::<u128>())
}

/// The caller's id when it is 1 to 64 letters, digits, `-` or `_`; anything else is replaced,
/// so that nothing a caller writes reaches the log unchecked.
fn accepted(presented: Option<&HeaderValue>) -> Option<String> {
    let text = presented?.to_str().ok()?;
    let well_formed = !text.is_empty()
        && text.len() <= MAX_LEN
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    well_formed.then(|| text.to_owned())
}

/// The middleware: sets the id for the request's handlers, answers with it, logs the request.
pub async fn correlate(
    request: ServiceRequest,
    next: Next<BoxBody>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let id = accepted(request.headers().get(HEADER)).unwrap_or_else(fresh);
    let method = request.method().clone();
    let path = request.path().to_owned();
    let started = Instant::now();
    let mut response = CURRENT.scope(id.clone(), next.call(request)).await?;
    let status = response.status();
    let elapsed_ms = started.elapsed().as_millis() as u64;
    if status.is_server_error() {
        tracing::warn!(correlation_id = %id, %method, %path, status = status.as_u16(), elapsed_ms, "request");
    } else if status.is_client_error() {
        tracing::info!(correlation_id = %id, %method, %path, status = status.as_u16(), elapsed_ms, "request");
    } else {
        tracing::debug!(correlation_id = %id, %method, %path, status = status.as_u16(), elapsed_ms, "request");
    }
    if let Ok(value) = HeaderValue::from_str(&id) {
        response
            .headers_mut()
            .insert(HeaderName::from_static("x-correlation-id"), value);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::HeaderValue;

    use super::{accepted, fresh};

    #[test]
    fn a_well_formed_id_is_kept_and_anything_else_replaced() {
        let kept = HeaderValue::from_static("odoo-42_retry");
        assert_eq!(accepted(Some(&kept)).as_deref(), Some("odoo-42_retry"));
        for bad in ["", "a b", "line\u{7f}", "a/b", &"x".repeat(65)] {
            let value = HeaderValue::from_str(bad).ok();
            assert_eq!(accepted(value.as_ref()), None, "{bad:?}");
        }
        assert_eq!(accepted(None), None);
    }

    #[test]
    fn fresh_ids_are_32_hex_digits_and_differ() {
        let (a, b) = (fresh(), fresh());
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }
}
