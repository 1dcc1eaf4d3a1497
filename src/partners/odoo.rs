//! The Odoo connector: one client over Odoo's two external APIs, the reads that build a
//! canonical [`crate::model::Shipment`], change detection, and the write-back of the hub's own
//! fields, chatter notes and to-dos.
//!
//! | file | what |
//! |---|---|
//! | `odoo/client.rs` | [`OdooClient`]: JSON-RPC (`/jsonrpc`, Odoo ≤ 18) and JSON-2 (`/json/2/…`, Odoo 19+), timeouts, retries |
//! | `odoo/error.rs` | [`OdooError`] and its mapping onto the runtime's `CallError` |
//! | `odoo/value.rs` | Odoo's value conventions: `false` for empty, many2one pairs, UTC datetimes without zone |
//! | `odoo/shipment.rs` | [`ShipmentReader`]: pickings → shipments with one `read` per model per page |
//! | `odoo/poll.rs` | [`Poller`]: `(write_date, id)` cursor poll kept in Redis, webhook hints, one input per change |
//! | `odoo/feed.rs` | [`OdooFeed`]: the poller's changes and the webhook's hints as the shipment saga's inputs |
//! | `odoo/partner.rs` | [`OdooPartner`]: the runtime's `Transport` for saga commands (read, write status, note, activity) |
//! | `odoo/writeback.rs` | `x_trade_*` fields, chatter notes, activities, `odoo setup` and `odoo check` |

mod client;
mod error;
mod feed;
mod partner;
mod poll;
mod shipment;
mod value;
mod writeback;

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::secret::Secret;

pub use client::{CallStats, OdooClient};
pub use error::{AUTH_RETRY_AFTER, ErrorClass, OdooError, classify};
pub use feed::{OdooFeed, picking_input};
pub use partner::OdooPartner;
pub use poll::{Change, ChangeSource, Cursor, Page, PollError, Poller, PollerConfig};
pub use shipment::{BuildError, PickingRead, ShipmentReader, shipment_key};
pub use value::{OdooDateTime, Rec};
pub use writeback::{CheckReport, FieldCheck, HUB_FIELDS, SetupReport, TradeStatus, check, setup};

/// Which of Odoo's external APIs to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OdooTransport {
    /// `POST /jsonrpc`, services `common` and `object` (deprecated in Odoo 19, removal announced).
    OdooJsonrpc,
    /// `POST /json/2/<model>/<method>` with a bearer API key (Odoo 19+).
    OdooJson2,
}

/// How to reach one Odoo database.
#[derive(Debug, Clone)]
pub struct OdooConfig {
    /// Base URL, e.g. `https://erp.example.com`.
    pub url: String,
    /// Database name (`X-Odoo-Database` on JSON-2).
    pub db: String,
    /// The integration user's login (JSON-RPC authenticates with it).
    pub login: String,
    /// The integration user's API key.
    pub api_key: Secret,
    pub transport: OdooTransport,
    /// Timeout of one HTTP request, connection included.
    pub timeout: Duration,
    /// Timeout of establishing the connection.
    pub connect_timeout: Duration,
    /// Attempts of an idempotent call that fails with a retryable error (1 = no retry).
    pub attempts: u32,
    /// First backoff between attempts; doubled each time.
    pub backoff: Duration,
    /// Records per page in batched reads.
    pub page_size: usize,
}

impl OdooConfig {
    /// Settings with the defaults: 30 s timeout, 5 s to connect, 3 attempts from 200 ms, pages of 200.
    pub fn new(
        url: &str,
        db: &str,
        login: &str,
        api_key: Secret,
        transport: OdooTransport,
    ) -> Self {
        Self {
            url: url.trim_end_matches('/').to_owned(),
            db: db.to_owned(),
            login: login.to_owned(),
            api_key,
            transport,
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(5),
            attempts: 3,
            backoff: Duration::from_millis(200),
            page_size: 200,
        }
    }

    /// Check the settings before the first call.
    pub fn validate(&self) -> Result<(), OdooError> {
        if !(self.url.starts_with("http://") || self.url.starts_with("https://")) {
            return Err(OdooError::Config(format!(
                "url {:?}: expected http:// or https://",
                self.url
            )));
        }
        if self.db.is_empty() {
            return Err(OdooError::Config("db must not be empty".to_owned()));
        }
        if self.login.is_empty() && self.transport == OdooTransport::OdooJsonrpc {
            return Err(OdooError::Config(
                "login must not be empty for JSON-RPC".to_owned(),
            ));
        }
        if self.api_key.expose().is_empty() {
            return Err(OdooError::Config("api key must not be empty".to_owned()));
        }
        if self.attempts == 0 || self.page_size == 0 {
            return Err(OdooError::Config(
                "attempts and page_size must be at least 1".to_owned(),
            ));
        }
        Ok(())
    }
}

/// The `[odoo]` part of a partner file (`config/partners/<name>.toml`), as written by people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OdooSettings {
    /// Base URL of Odoo.
    pub url: String,
    /// Database name.
    pub db: String,
    /// Login of the integration user.
    pub login: String,
    /// `odoo_jsonrpc` (Odoo 16–18) or `odoo_json2` (Odoo 19+).
    pub transport: OdooTransport,
    /// Environment variable holding the API key (the key itself never sits in a file).
    pub api_key_env: String,
    /// Timeout of one request.
    #[serde(default = "default_timeout", with = "humantime_serde")]
    pub timeout: Duration,
    /// Attempts of an idempotent call.
    #[serde(default = "default_attempts")]
    pub attempts: u32,
    /// Records per page in batched reads and polls.
    #[serde(default = "default_page_size")]
    pub page_size: usize,
}

fn default_timeout() -> Duration {
    Duration::from_secs(30)
}

fn default_attempts() -> u32 {
    3
}

fn default_page_size() -> usize {
    200
}

impl OdooSettings {
    /// The client configuration, with the API key looked up through `env`.
    pub fn resolve(&self, env: impl Fn(&str) -> Option<String>) -> Result<OdooConfig, OdooError> {
        let key = env(&self.api_key_env).ok_or_else(|| {
            OdooError::Config(format!(
                "api_key_env: environment variable {} is not set",
                self.api_key_env
            ))
        })?;
        let mut config = OdooConfig::new(
            &self.url,
            &self.db,
            &self.login,
            Secret::new(key),
            self.transport,
        );
        config.timeout = self.timeout;
        config.attempts = self.attempts;
        config.page_size = self.page_size;
        config.validate()?;
        Ok(config)
    }
}

#[cfg(test)]
mod tests;
