//! Secrets: API keys, HMAC keys and passwords. The configuration names the environment variable
//! that holds each one; the value never sits in a file of the repository, and its `Debug` never
//! shows it, so it stays out of logs and errors.

use std::fmt;

/// A secret value; `Debug` prints `Secret(<redacted>)`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

/// The environment variable that should hold a secret is unset or empty.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("environment variable {0} is not set")]
pub struct MissingSecret(pub String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// Reads the secret from environment variable `var`; unset and empty are both missing.
    pub fn from_env(var: &str) -> Result<Self, MissingSecret> {
        match std::env::var(var) {
            Ok(value) if !value.is_empty() => Ok(Self(value)),
            _ => Err(MissingSecret(var.to_owned())),
        }
    }

    /// The value, to put on the wire.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The value's bytes, for signing and verifying.
    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::Secret;

    #[test]
    fn debug_never_shows_the_value() {
        let secret = Secret::new("hunter2");
        let shown = format!("{secret:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert_eq!(shown, "Secret(<redacted>)");
        assert_eq!(secret.as_bytes(), b"hunter2");
    }
}
