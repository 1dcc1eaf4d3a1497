//! What can go wrong talking to Odoo, and what to do about it.

use std::time::Duration;

use tradehub_actors::partner::CallError;

/// What the caller should do with a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// Transient (network, proxy, lock contention): try again later.
    Retry,
    /// Odoo refused the request for good (validation, missing record, access rights).
    Permanent,
    /// The hub's credentials were refused: nothing works until an operator fixes them.
    Auth,
}

/// A failed call to Odoo. Every variant names the call and keeps what the server said.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OdooError {
    /// The connection could not be made or broke before an answer.
    #[error("Odoo at {url} is unreachable during {what}: {reason}")]
    Connect {
        url: String,
        what: String,
        reason: String,
    },
    /// No answer in time; the request may or may not have been processed.
    #[error("Odoo did not answer {what} within {timeout:?}")]
    Timeout { what: String, timeout: Duration },
    /// A non-JSON HTTP failure: a proxy's 502, Werkzeug's HTML 500, a 429.
    #[error("Odoo answered {what} with HTTP {status}: {snippet}")]
    Http {
        what: String,
        status: u16,
        retry_after: Option<Duration>,
        snippet: String,
    },
    /// The body should have been JSON and is not.
    #[error(
        "Odoo answered {what} with a body that is not valid JSON ({reason}); it starts with {snippet:?}"
    )]
    BadJson {
        what: String,
        reason: String,
        snippet: String,
    },
    /// Odoo raised an exception; `name` is its Python class (`error.data.name`).
    #[error("Odoo raised {name} during {what}: {message}")]
    Server {
        what: String,
        name: String,
        message: String,
        class: ErrorClass,
    },
    /// Login failed: wrong database, login or API key.
    #[error("Odoo refused the credentials for {login}@{db}: {message}")]
    Auth {
        db: String,
        login: String,
        message: String,
    },
    /// The answer is JSON but not the shape the call returns.
    #[error("unexpected answer to {what}: {reason}")]
    Protocol { what: String, reason: String },
    /// The client's own configuration is unusable.
    #[error("Odoo connection settings: {0}")]
    Config(String),
}

impl OdooError {
    /// Retry, permanent or authentication failure.
    pub fn class(&self) -> ErrorClass {
        match self {
            Self::Connect { .. } | Self::Timeout { .. } | Self::BadJson { .. } => ErrorClass::Retry,
            Self::Http { status, .. } => match status {
                401 | 403 => ErrorClass::Auth,
                400 | 404 | 405 | 413 | 422 => ErrorClass::Permanent,
                _ => ErrorClass::Retry,
            },
            Self::Server { class, .. } => *class,
            Self::Auth { .. } => ErrorClass::Auth,
            Self::Protocol { .. } | Self::Config(_) => ErrorClass::Permanent,
        }
    }

    /// The wait the server asked for (`Retry-After`).
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Http { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// Whether the request may have been processed although no good answer came back.
    fn may_have_run(&self) -> bool {
        match self {
            Self::Timeout { .. } | Self::BadJson { .. } => true,
            Self::Http { status, .. } => matches!(status, 500 | 502 | 504),
            _ => false,
        }
    }

    /// Map onto the runtime's taxonomy. `idempotent` says whether sending the same call again is
    /// harmless (reads, writes of values); when it is not (create, a chatter post), an answer lost
    /// after sending becomes `OutcomeUnknown` instead of a blind retry.
    pub fn into_call_error(self, idempotent: bool) -> CallError {
        let reason = self.to_string();
        if !idempotent && self.may_have_run() {
            return CallError::OutcomeUnknown { reason };
        }
        match self.class() {
            ErrorClass::Retry => CallError::Retry {
                after: self.retry_after(),
                reason,
            },
            ErrorClass::Permanent => CallError::Permanent { reason },
            // Bad credentials fail every command alike: retrying slowly lets the breaker open and
            // the partner show as down until an operator fixes the key, without failing sagas.
            ErrorClass::Auth => CallError::Retry {
                after: Some(AUTH_RETRY_AFTER),
                reason,
            },
        }
    }
}

/// How long to wait before trying again after the credentials were refused.
pub const AUTH_RETRY_AFTER: Duration = Duration::from_secs(60);

/// The class of an Odoo exception, by its Python name and message.
pub fn classify(name: &str, message: &str) -> ErrorClass {
    match name {
        "odoo.exceptions.AccessDenied"
        | "odoo.http.SessionExpiredException"
        | "werkzeug.exceptions.Unauthorized" => ErrorClass::Auth,
        "odoo.exceptions.AccessError"
        | "odoo.exceptions.ValidationError"
        | "odoo.exceptions.UserError"
        | "odoo.exceptions.MissingError"
        | "odoo.exceptions.RedirectWarning"
        | "builtins.ValueError"
        | "builtins.KeyError"
        | "builtins.TypeError"
        | "builtins.AttributeError"
        | "builtins.NameError"
        | "werkzeug.exceptions.NotFound"
        | "werkzeug.exceptions.BadRequest"
        | "werkzeug.exceptions.UnprocessableEntity" => ErrorClass::Permanent,
        // A database name that does not exist is configuration, not contention.
        _ if name.starts_with("psycopg2.")
            && message.contains("database")
            && message.contains("does not exist") =>
        {
            ErrorClass::Permanent
        }
        // Serialisation failures, lock timeouts, deadlocks, `ConcurrencyError`, 503s and anything
        // unknown: retried; the runtime's delivery limit bounds a failure that never clears.
        _ => ErrorClass::Retry,
    }
}

/// The first characters of a body, on one line, for error messages.
pub fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut out: String = flat.chars().take(160).collect();
    if flat.chars().count() > 160 {
        out.push('…');
    }
    out
}
