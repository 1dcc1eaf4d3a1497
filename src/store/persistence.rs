//! Whether the Redis behind the store keeps what it acknowledges across a restart.

use tradehub_actors::mailbox::MailboxResult;

use super::RedisMailbox;
use super::reply;

/// The persistence settings of the Redis server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersistenceInfo {
    /// Append-only file on (`appendonly yes`).
    pub aof_enabled: bool,
    /// `appendfsync`: `always`, `everysec` or `no`; `None` when CONFIG is not allowed.
    pub appendfsync: Option<String>,
    /// RDB snapshot rules (`save`), empty when snapshots are off; `None` when
    /// CONFIG is not allowed.
    pub save: Option<String>,
    /// The last AOF write succeeded (INFO `aof_last_write_status`).
    pub aof_last_write_ok: bool,
    /// The last RDB save succeeded (INFO `rdb_last_bgsave_status`).
    pub rdb_last_save_ok: bool,
}

impl PersistenceInfo {
    /// Whether acknowledged writes survive a restart of Redis (AOF, or RDB
    /// snapshots with their loss window).
    pub fn is_persistent(&self) -> bool {
        self.aof_enabled || self.save.as_deref().is_some_and(|s| !s.trim().is_empty())
    }

    /// One line for logs and the demo banner.
    pub fn describe(&self) -> String {
        match (self.aof_enabled, self.save.as_deref()) {
            (true, _) => format!(
                "AOF on (appendfsync {})",
                self.appendfsync.as_deref().unwrap_or("unknown")
            ),
            (false, Some(save)) if !save.trim().is_empty() => {
                format!(
                    "RDB snapshots only (save {save}): writes since the last snapshot can be lost"
                )
            }
            (false, None) => "AOF off; snapshot rules unknown (CONFIG is not allowed)".to_owned(),
            (false, Some(_)) => "no persistence: a restart loses everything".to_owned(),
        }
    }
}

/// The value of `name` in the `key:value` lines of an INFO reply.
pub(super) fn info_field<'a>(info: &'a str, name: &str) -> Option<&'a str> {
    info.lines()
        .filter_map(|line| line.trim_end().split_once(':'))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

impl RedisMailbox {
    /// Read the server's persistence settings (INFO persistence, and CONFIG GET
    /// where the server allows it), so `serve` can refuse a Redis that would lose
    /// acknowledged work on restart.
    pub async fn persistence(&self) -> MailboxResult<PersistenceInfo> {
        let info: String = self
            .query("INFO persistence", redis::cmd("INFO").arg("persistence"))
            .await?;
        let config = |name: &'static str| async move {
            let value = self
                .query_raw::<redis::Value>(redis::cmd("CONFIG").arg("GET").arg(name))
                .await;
            // Managed Redis services often rename or forbid CONFIG; INFO still tells
            // whether AOF is on.
            value
                .ok()
                .and_then(|v| reply::fields(v).ok())
                .and_then(|pairs| pairs.into_iter().find(|(k, _)| k == name).map(|(_, v)| v))
        };
        Ok(PersistenceInfo {
            aof_enabled: info_field(&info, "aof_enabled") == Some("1"),
            appendfsync: config("appendfsync").await,
            save: config("save").await,
            aof_last_write_ok: info_field(&info, "aof_last_write_status") != Some("err"),
            rdb_last_save_ok: info_field(&info, "rdb_last_bgsave_status") != Some("err"),
        })
    }
}
