//! The Redis Streams implementation of the mailbox ports
//! ([`Mailbox`](tradehub_actors::mailbox::Mailbox),
//! [`MailboxOps`](tradehub_actors::mailbox::MailboxOps) and
//! [`Leases`](tradehub_actors::mailbox::Leases)), and every other use of Redis by the
//! hub: nothing outside this module names a Redis command or builds a key.
//!
//! Every partition lives in one Redis Cluster slot (hash tag `{s<p>}`, see
//! [`keys`]), so each step of the port is one Lua script or one command, atomic on
//! the server. The connection is a [`ConnectionManager`], which reconnects by
//! itself; a command that fails meanwhile reports [`MailboxError::Unavailable`] and
//! the caller retries. Blocking reads use their own pooled connections, because a
//! blocking XREADGROUP would stall every command multiplexed behind it.
//!
//! # Layout
//!
//! | file | what |
//! |---|---|
//! | `config.rs` | [`StoreConfig`] |
//! | `keys.rs` | every key name, with its hash tag |
//! | `scripts.rs`, `scripts/*.lua` | the atomic steps (commit, ingest, timers, DLQ, trim, leases) |
//! | `port.rs` | `Mailbox`, `MailboxOps` and `Leases` for `RedisMailbox` |
//! | `audit.rs`, `audit/` | the audit chain signed with HMAC-SHA256, its anchors and its verification |
//! | `sealer.rs`, `sealer/keyring.rs` | encryption at rest: [`Sealer`], `[encryption]` keys |
//! | `rotate.rs` | which key ids sealed what ([`KeyUsage`]), re-sealing under the current key |
//! | `retention.rs` | reading and removing what retention exports: old audit entries, finished sagas, kept callbacks |
//! | `persistence.rs` | whether the Redis persists what it acknowledges |
//! | `server.rs` | the server's own figures (commands processed), for benchmarks |
//! | `reply.rs` | decoding replies, mapping errors |
//! | [`lrn_ledger`] | LRN → saga key and filing partner, carrier's shipment reference → saga key, EDI references, partners' last answers |
//! | [`callbacks`] | callback payloads that could not be used, kept for an operator; signatures seen (replay store) |
//! | [`echo_ledger`] | the echo partner's executions per command id |
//! | [`finance`] | the finance inbox's dossiers and posting retries |
//! | [`odoo_cursor`] | the Odoo poll's cursor and fingerprints |
//! | [`tokens`] | API tokens: the HMAC of each secret, roles, label, expiry, last use, revocation |

mod audit;
pub mod callbacks;
mod config;
pub mod echo_ledger;
pub mod finance;
pub mod keys;
pub mod lrn_ledger;
pub mod odoo_cursor;
mod persistence;
mod port;
mod reply;
mod retention;
mod rotate;
mod scripts;
mod sealer;
mod server;
#[cfg(test)]
mod tests;
pub mod tokens;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Cmd, ErrorKind, FromRedisValue, Pipeline, Script, Value};
use tradehub_actors::clock::Millis;
use tradehub_actors::mailbox::{EntryId, MailboxError, MailboxResult, Partition, StreamName};

pub use audit::{
    Anchor, AnchorError, AuditBreak, AuditConfig, AuditEntry, AuditError, AuditKey, AuditKeyError,
    AuditKeySource, AuditKeys, Head, PartitionCheck, Signature, TrailReport,
};
pub use config::{Credentials, StoreConfig, redact};
pub use keys::{GROUP, KeyError, Keys};
pub use persistence::PersistenceInfo;
pub use retention::{FinishedSaga, StoredEntry};
pub use rotate::{KeyUsage, RotateReport};
pub use sealer::{EncryptionConfig, KeySource, KeyringError, Place, SealError, Sealer};

use audit::AuditChains;
use reply::map_err;
use scripts::Scripts;

/// A timer waiting in a partition's timer set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingTimer {
    /// When it fires, in milliseconds since the Unix epoch.
    pub due_ms: Millis,
    /// The stream it is appended to.
    pub stream: StreamName,
    /// The serialized envelope it appends.
    pub raw: String,
}

/// One entry of a stream's pending list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingEntry {
    /// The entry.
    pub entry_id: EntryId,
    /// The consumer it was last delivered to.
    pub consumer: String,
    /// How many times it was delivered.
    pub deliveries: u32,
    /// Milliseconds since its last delivery.
    pub idle_ms: u64,
}

/// The Redis Streams mailbox. Cheap to clone: clones share the connections and
/// the command counter.
#[derive(Clone)]
pub struct RedisMailbox {
    inner: Arc<Inner>,
}

struct Inner {
    client: redis::Client,
    conn: ConnectionManager,
    blocking_config: ConnectionManagerConfig,
    blocking: Mutex<Vec<ConnectionManager>>,
    keys: Keys,
    config: StoreConfig,
    scripts: Scripts,
    commands: AtomicU64,
    audit: AuditChains,
}

impl std::fmt::Debug for RedisMailbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisMailbox")
            .field("prefix", &self.inner.keys.prefix())
            .finish_non_exhaustive()
    }
}

impl RedisMailbox {
    /// Connect to Redis and load the scripts, with audit keys of this process alone
    /// ([`AuditKeys::ephemeral`]): for tests, benchmarks and tools that write no audit trail
    /// anyone else must verify.
    ///
    /// Fails with `Unavailable` when Redis cannot be reached and with `Protocol`
    /// when the configuration is unusable (bad URL or prefix).
    pub async fn connect(config: StoreConfig) -> MailboxResult<Self> {
        Self::connect_audited(config, AuditKeys::ephemeral()).await
    }

    /// Connect to Redis and load the scripts; the audit trail is signed and verified with
    /// `audit_keys`.
    pub async fn connect_audited(
        config: StoreConfig,
        audit_keys: AuditKeys,
    ) -> MailboxResult<Self> {
        let keys = Keys::new(&config.prefix).map_err(|e| MailboxError::Protocol(e.to_string()))?;
        let client = config.client()?;
        let base = ConnectionManagerConfig::new()
            .set_connection_timeout(Duration::from_millis(config.connect_timeout_ms))
            .set_number_of_retries(config.reconnect_retries)
            .set_max_delay(config.reconnect_max_delay_ms);
        let conn = ConnectionManager::new_with_config(
            client.clone(),
            base.clone()
                .set_response_timeout(Duration::from_millis(config.response_timeout_ms)),
        )
        .await
        .map_err(|e| map_err(&format!("connect to {}", config.redacted_url()), e))?;
        let mailbox = Self {
            inner: Arc::new(Inner {
                client,
                conn,
                blocking_config: base,
                blocking: Mutex::new(Vec::new()),
                keys,
                config,
                scripts: Scripts::new(),
                commands: AtomicU64::new(0),
                audit: AuditChains::new(audit_keys),
            }),
        };
        mailbox.load_scripts().await?;
        Ok(mailbox)
    }

    /// The key builder.
    pub fn keys(&self) -> &Keys {
        &self.inner.keys
    }

    /// The configuration it was built with.
    pub fn config(&self) -> &StoreConfig {
        &self.inner.config
    }

    /// What seals and opens the values it stores.
    pub fn sealer(&self) -> &Sealer {
        &self.inner.config.sealer
    }

    /// How many Redis commands this mailbox (and its clones) sent so far: a script
    /// call counts once, a reload after NOSCRIPT counts too.
    pub fn commands_issued(&self) -> u64 {
        self.inner.commands.load(Ordering::Relaxed)
    }

    /// Check that Redis answers.
    pub async fn ping(&self) -> MailboxResult<()> {
        let pong: String = self.query("PING", &redis::cmd("PING")).await?;
        if pong == "PONG" {
            Ok(())
        } else {
            Err(MailboxError::Protocol(format!("PING answered {pong:?}")))
        }
    }

    /// Load every script into the server's script cache (SCRIPT LOAD), so the
    /// first calls do not pay for a NOSCRIPT round trip.
    pub async fn load_scripts(&self) -> MailboxResult<()> {
        for script in self.inner.scripts.all() {
            self.count(1);
            script
                .load_async(&mut self.conn())
                .await
                .map_err(|e| map_err("SCRIPT LOAD", e))?;
        }
        Ok(())
    }

    /// Append a raw entry to a stream, bypassing encoding: the way to plant a
    /// poison entry in a test or to re-inject a repaired one by hand.
    pub async fn append_raw(
        &self,
        partition: Partition,
        stream: &StreamName,
        raw: &str,
    ) -> MailboxResult<EntryId> {
        let key = self.stream_key(partition, stream)?;
        let id: String = self
            .query(
                "XADD",
                redis::cmd("XADD").arg(key).arg("*").arg("e").arg(raw),
            )
            .await?;
        Ok(EntryId(id))
    }

    /// Every entry still in a stream (acknowledged or not), oldest first, with the
    /// raw envelope, its body opened (empty when the entry has none).
    pub async fn entries(
        &self,
        partition: Partition,
        stream: &StreamName,
    ) -> MailboxResult<Vec<(EntryId, String)>> {
        let key = self.stream_key(partition, stream)?;
        Ok(self
            .xrange_all(&key)
            .await?
            .into_iter()
            .map(|e| {
                let raw = self
                    .sealer()
                    .show_envelope(e.field("e").unwrap_or_default());
                (e.entry_id(), raw)
            })
            .collect())
    }

    /// The pending list of a stream (up to `limit` entries), oldest id first.
    pub async fn pending_entries(
        &self,
        partition: Partition,
        stream: &StreamName,
        limit: usize,
    ) -> MailboxResult<Vec<PendingEntry>> {
        let key = self.stream_key(partition, stream)?;
        let result = self
            .query_raw::<Vec<(String, String, u64, u64)>>(
                redis::cmd("XPENDING")
                    .arg(key)
                    .arg(GROUP)
                    .arg("-")
                    .arg("+")
                    .arg(limit),
            )
            .await;
        match result {
            Ok(rows) => Ok(rows
                .into_iter()
                .map(|(id, consumer, idle_ms, deliveries)| PendingEntry {
                    entry_id: EntryId(id),
                    consumer,
                    deliveries: u32::try_from(deliveries).unwrap_or(u32::MAX),
                    idle_ms,
                })
                .collect()),
            Err(e) if reply::is_no_group(&e) => Ok(Vec::new()),
            Err(e) => Err(map_err("XPENDING", e)),
        }
    }

    /// The timeline entries committed for a key, in commit order.
    pub async fn history(&self, partition: Partition, key: &str) -> MailboxResult<Vec<String>> {
        let stream = self.inner.keys.history(partition, key);
        let place = Place::field(&stream, "h");
        Ok(self
            .xrange_all(&stream)
            .await?
            .iter()
            .filter_map(|e| e.field("h"))
            .map(|h| self.sealer().open_text(&place, h))
            .collect::<Result<_, _>>()?)
    }

    /// The entry an ingest under idempotency key `dedupe` wrote, while the ledger keeps it.
    pub async fn ingested(
        &self,
        partition: Partition,
        dedupe: &str,
    ) -> MailboxResult<Option<EntryId>> {
        let id: Option<String> = self
            .query(
                "GET",
                redis::cmd("GET").arg(self.inner.keys.dedupe(partition, dedupe)),
            )
            .await?;
        Ok(id.map(EntryId))
    }

    /// The timers not yet fired, in firing order, their envelopes' bodies opened.
    pub async fn timers(&self, partition: Partition) -> MailboxResult<Vec<PendingTimer>> {
        let key = self.inner.keys.timers(partition);
        let raw: Vec<(String, f64)> = self
            .query(
                "ZRANGE",
                redis::cmd("ZRANGE")
                    .arg(key)
                    .arg(0)
                    .arg(-1)
                    .arg("WITHSCORES"),
            )
            .await?;
        raw.into_iter()
            .map(|(member, score)| {
                let mut parts = member.splitn(3, '\n');
                let (Some(_seq), Some(suffix), Some(raw)) =
                    (parts.next(), parts.next(), parts.next())
                else {
                    return Err(MailboxError::Protocol(format!(
                        "malformed timer member {member:?}"
                    )));
                };
                Ok(PendingTimer {
                    due_ms: score as Millis,
                    stream: keys::parse_stream_suffix(suffix)
                        .map_err(|e| MailboxError::Protocol(e.to_string()))?,
                    raw: self.sealer().show_envelope(raw),
                })
            })
            .collect()
    }

    /// Record that `node` is alive for `ttl_ms` more (node registry in `{sys}`).
    pub async fn heartbeat(&self, node: &str, ttl_ms: u64) -> MailboxResult<()> {
        let now = self.server_time_ms().await?;
        self.query::<i64>(
            "ZADD",
            redis::cmd("ZADD")
                .arg(self.inner.keys.nodes())
                .arg(now + ttl_ms)
                .arg(node),
        )
        .await?;
        Ok(())
    }

    /// The nodes whose heartbeat has not expired, sorted by name.
    pub async fn live_nodes(&self) -> MailboxResult<Vec<String>> {
        let now = self.server_time_ms().await?;
        let mut nodes: Vec<String> = self
            .query(
                "ZRANGEBYSCORE",
                redis::cmd("ZRANGEBYSCORE")
                    .arg(self.inner.keys.nodes())
                    .arg(format!("({now}"))
                    .arg("+inf"),
            )
            .await?;
        nodes.sort();
        Ok(nodes)
    }

    /// Redis's own clock, in milliseconds since the Unix epoch.
    pub async fn server_time_ms(&self) -> MailboxResult<Millis> {
        let (secs, micros): (u64, u64) = self.query("TIME", &redis::cmd("TIME")).await?;
        Ok(secs * 1000 + micros / 1000)
    }

    fn conn(&self) -> ConnectionManager {
        self.inner.conn.clone()
    }

    fn count(&self, n: u64) {
        self.inner.commands.fetch_add(n, Ordering::Relaxed);
    }

    fn stream_key(&self, partition: Partition, stream: &StreamName) -> MailboxResult<String> {
        self.inner
            .keys
            .stream(partition, stream)
            .map_err(|e| MailboxError::Protocol(e.to_string()))
    }

    /// Send one command on the shared connection.
    async fn query<T: FromRedisValue>(&self, what: &str, cmd: &Cmd) -> MailboxResult<T> {
        self.count(1);
        cmd.query_async(&mut self.conn())
            .await
            .map_err(|e| map_err(what, e))
    }

    /// Send a pipeline (atomic when built so) on the shared connection; each command in it
    /// counts.
    async fn query_pipe<T: FromRedisValue>(&self, what: &str, pipe: &Pipeline) -> MailboxResult<T> {
        self.count(pipe.len() as u64);
        pipe.query_async(&mut self.conn())
            .await
            .map_err(|e| map_err(what, e))
    }

    /// Set `field` of `hash` to `value`.
    async fn hset(&self, hash: &str, field: &str, value: &str) -> MailboxResult<()> {
        self.query("HSET", redis::cmd("HSET").arg(hash).arg(field).arg(value))
            .await
    }

    /// The value of `field` of `hash`, if set.
    async fn hget(&self, hash: &str, field: &str) -> MailboxResult<Option<String>> {
        self.query("HGET", redis::cmd("HGET").arg(hash).arg(field))
            .await
    }

    /// Set `field` of `hash` to `value`, sealed.
    async fn hset_sealed(&self, hash: &str, field: &str, value: &str) -> MailboxResult<()> {
        let sealed = self.sealer().seal_text(&Place::field(hash, field), value);
        self.hset(hash, field, &sealed).await
    }

    /// The value of `field` of `hash`, if set, opened.
    async fn hget_opened(&self, hash: &str, field: &str) -> MailboxResult<Option<String>> {
        let Some(stored) = self.hget(hash, field).await? else {
            return Ok(None);
        };
        Ok(Some(
            self.sealer()
                .open_text(&Place::field(hash, field), &stored)?,
        ))
    }

    /// Send one command, keeping Redis's error for the caller to inspect.
    async fn query_raw<T: FromRedisValue>(&self, cmd: &Cmd) -> redis::RedisResult<T> {
        self.count(1);
        cmd.query_async(&mut self.conn()).await
    }

    /// An EVALSHA of `script` over `keys`; the caller appends the arguments.
    fn evalsha(script: &Script, keys: &[String]) -> Cmd {
        let mut cmd = redis::cmd("EVALSHA");
        cmd.arg(script.get_hash()).arg(keys.len()).arg(keys);
        cmd
    }

    /// Run an EVALSHA built by [`Self::evalsha`], loading the script and trying
    /// once more when the server has forgotten it (after a restart or SCRIPT FLUSH).
    async fn eval(&self, what: &str, script: &Script, cmd: &Cmd) -> MailboxResult<Value> {
        match self.query_raw(cmd).await {
            Err(e) if e.kind() == ErrorKind::NoScriptError => {
                self.count(1);
                script
                    .load_async(&mut self.conn())
                    .await
                    .map_err(|e| map_err(what, e))?;
                self.query(what, cmd).await
            }
            other => other.map_err(|e| map_err(what, e)),
        }
    }

    /// Run a blocking command on a pooled connection of its own.
    async fn query_blocking(&self, cmd: &Cmd, block_ms: u64) -> redis::RedisResult<Value> {
        let pooled = self
            .inner
            .blocking
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .pop();
        let mut conn = match pooled {
            Some(conn) => conn,
            None => {
                ConnectionManager::new_with_config(
                    self.inner.client.clone(),
                    self.inner.blocking_config.clone(),
                )
                .await?
            }
        };
        self.count(1);
        // The server answers a blocking read after at most `block_ms`; past that
        // plus the usual response time, the connection is as good as dead.
        let limit = Duration::from_millis(block_ms + self.inner.config.response_timeout_ms);
        let result = match tokio::time::timeout(limit, cmd.query_async(&mut conn)).await {
            Ok(result) => result,
            Err(_) => Err(redis::RedisError::from((
                ErrorKind::IoError,
                "blocking read timed out",
            ))),
        };
        if result.is_ok() {
            let mut pool = self
                .inner
                .blocking
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if pool.len() < self.inner.config.blocking_pool_size {
                pool.push(conn);
            }
        }
        result
    }

    /// Every entry of a stream, in pages.
    async fn xrange_all(&self, key: &str) -> MailboxResult<Vec<reply::RawEntry>> {
        const PAGE: usize = 1000;
        let mut out = Vec::new();
        let mut start = "-".to_owned();
        loop {
            let value: Value = self
                .query(
                    "XRANGE",
                    redis::cmd("XRANGE")
                        .arg(key)
                        .arg(&start)
                        .arg("+")
                        .arg("COUNT")
                        .arg(PAGE),
                )
                .await?;
            let page = reply::entries(value)?;
            let full = page.len() == PAGE;
            if let Some(last) = page.last() {
                start = format!("({}", last.id);
            }
            out.extend(page);
            if !full {
                return Ok(out);
            }
        }
    }
}
