//! Configuration of the Redis store: where it is, how it is reached (`redis://`, or `rediss://`
//! over TLS with the system's roots or a CA file), who the hub is to it (an ACL user and password
//! from the environment, never from a file), and how keys are laid out. The URL is only ever shown
//! through [`StoreConfig::redacted_url`].

use std::path::PathBuf;

use redis::IntoConnectionInfo;
use serde::{Deserialize, Serialize};
use tradehub_actors::mailbox::{MailboxError, MailboxResult};

use super::sealer::Sealer;
use crate::secret::Secret;

/// How to reach Redis and lay out the keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StoreConfig {
    /// Redis URL, e.g. `redis://127.0.0.1:6379` or `rediss://redis.internal:6380` (the
    /// `REDIS_URL` environment variable).
    pub url: String,
    /// PEM file of the certificate authorities trusted for `rediss://`; unset: the system's.
    pub ca_file: Option<PathBuf>,
    /// Variable holding the ACL user name (overrides the URL's).
    pub username_env: String,
    /// Variable holding the password (overrides the URL's).
    pub password_env: String,
    /// The user and password read from `username_env` and `password_env` when the
    /// configuration is loaded.
    #[serde(skip)]
    pub credentials: Option<Credentials>,
    /// What seals business data before it reaches Redis, built from `[encryption]` when the
    /// configuration is loaded; off by default.
    #[serde(skip)]
    pub sealer: Sealer,
    /// Prefix of every key (`<prefix>:{s<p>}:…`); lets several hubs share one Redis.
    pub prefix: String,
    /// How long an ingest idempotency key is remembered, in milliseconds.
    pub dedupe_ttl_ms: u64,
    /// How long a non-blocking command may take before it counts as unavailable, in ms.
    pub response_timeout_ms: u64,
    /// How long connecting may take, in milliseconds.
    pub connect_timeout_ms: u64,
    /// How many times a dropped connection is retried (with exponential backoff)
    /// before a command fails with `Unavailable`.
    pub reconnect_retries: usize,
    /// Longest wait between reconnection attempts, in milliseconds.
    pub reconnect_max_delay_ms: u64,
    /// Idle connections kept for blocking reads (a blocking XREADGROUP holds its
    /// connection, so it never shares the multiplexed one).
    pub blocking_pool_size: usize,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            url: "redis://127.0.0.1:6379".to_owned(),
            ca_file: None,
            username_env: "REDIS_USERNAME".to_owned(),
            password_env: "REDIS_PASSWORD".to_owned(),
            credentials: None,
            sealer: Sealer::off(),
            prefix: "th".to_owned(),
            dedupe_ttl_ms: 7 * 24 * 3600 * 1000,
            response_timeout_ms: 5_000,
            connect_timeout_ms: 2_000,
            reconnect_retries: 6,
            reconnect_max_delay_ms: 2_000,
            blocking_pool_size: 32,
        }
    }
}

impl StoreConfig {
    /// Defaults with another URL.
    pub fn with_url(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            ..Self::default()
        }
    }

    /// The URL with any password replaced by `***`, for logs and errors.
    pub fn redacted_url(&self) -> String {
        redact(&self.url)
    }

    /// Reads the user and password from the variables the configuration names; a password is
    /// what makes credentials (a user alone is not used).
    pub fn read_credentials(&mut self) {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        self.credentials = var(&self.password_env).map(|password| Credentials {
            username: var(&self.username_env),
            password: Secret::new(password),
        });
    }

    /// The client: the URL's address, the credentials read from the environment over the URL's,
    /// and for `rediss://` with a CA file, that file's roots.
    pub(crate) fn client(&self) -> MailboxResult<redis::Client> {
        let protocol = |problem: String| MailboxError::Protocol(problem);
        let mut info = self
            .url
            .as_str()
            .into_connection_info()
            .map_err(|e| protocol(format!("invalid Redis URL {}: {e}", self.redacted_url())))?;
        if let Some(credentials) = &self.credentials {
            info.redis.username.clone_from(&credentials.username);
            info.redis.password = Some(credentials.password.expose().to_owned());
        }
        let Some(ca_file) = &self.ca_file else {
            return redis::Client::open(info).map_err(|e| protocol(e.to_string()));
        };
        let root_cert = std::fs::read(ca_file)
            .map_err(|e| protocol(format!("redis.ca_file {}: {e}", ca_file.display())))?;
        let certificates = redis::TlsCertificates {
            client_tls: None,
            root_cert: Some(root_cert),
        };
        redis::Client::build_with_tls(info, certificates)
            .map_err(|e| protocol(format!("redis.ca_file {}: {e}", ca_file.display())))
    }

    /// The same configuration with another key prefix.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }
}

/// An ACL user (optional: `default` otherwise) and its password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The ACL user.
    pub username: Option<String>,
    /// Its password.
    pub password: Secret,
}

/// `url` with the password of its user-info part replaced by `***`; a URL that does not parse is
/// replaced whole, since where its secret sits cannot be known.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "<unparsable Redis URL>".to_owned();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((user_info, host)) => {
            let shown = match user_info.split_once(':') {
                Some((user, _)) => format!("{user}:***"),
                None => "***".to_owned(),
            };
            format!("{scheme}://{shown}@{host}{tail}")
        }
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn passwords_never_survive_redaction() {
        assert_eq!(
            redact("rediss://hub:s3cr%40t@redis.internal:6380/0"),
            "rediss://hub:***@redis.internal:6380/0"
        );
        assert_eq!(
            redact("redis://:s3cret@127.0.0.1:6379"),
            "redis://:***@127.0.0.1:6379"
        );
        assert_eq!(redact("redis://s3cret@10.0.0.1"), "redis://***@10.0.0.1");
        assert_eq!(redact("redis://127.0.0.1:6379"), "redis://127.0.0.1:6379");
        assert_eq!(
            redact("unix:///run/redis.sock?db=2"),
            "unix:///run/redis.sock?db=2"
        );
        assert_eq!(redact("s3cret"), "<unparsable Redis URL>");
    }
}
