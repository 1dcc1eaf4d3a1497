//! Figures of the Redis server itself (INFO), for benchmarks that count what the hub costs it.

use std::collections::BTreeMap;

use tradehub_actors::mailbox::{MailboxError, MailboxResult};

use super::RedisMailbox;
use super::persistence::info_field;

/// Calls per command name in an `INFO commandstats` reply (`cmdstat_xadd:calls=12,…`).
pub(crate) fn command_calls(info: &str) -> BTreeMap<String, u64> {
    info.lines()
        .filter_map(|line| {
            let (name, stats) = line.strip_prefix("cmdstat_")?.split_once(':')?;
            let calls = stats
                .split(',')
                .find_map(|kv| kv.strip_prefix("calls="))?
                .parse()
                .ok()?;
            Some((name.to_owned(), calls))
        })
        .collect()
}

impl RedisMailbox {
    /// Commands the server has executed since it started (`INFO stats`,
    /// `total_commands_processed`), whoever sent them.
    pub async fn commands_processed(&self) -> MailboxResult<u64> {
        let info: String = self
            .query("INFO stats", redis::cmd("INFO").arg("stats"))
            .await?;
        info_field(&info, "total_commands_processed")
            .and_then(|n| n.trim().parse().ok())
            .ok_or_else(|| {
                MailboxError::Protocol("INFO stats has no total_commands_processed".to_owned())
            })
    }

    /// Bytes the server holds for its data and overhead (`INFO memory`, `used_memory`).
    pub async fn used_memory(&self) -> MailboxResult<u64> {
        let info: String = self
            .query("INFO memory", redis::cmd("INFO").arg("memory"))
            .await?;
        info_field(&info, "used_memory")
            .and_then(|n| n.trim().parse().ok())
            .ok_or_else(|| MailboxError::Protocol("INFO memory has no used_memory".to_owned()))
    }

    /// Calls per command name the server has executed since it started (`INFO commandstats`;
    /// names in lower case, e.g. `xadd`, `evalsha`).
    pub async fn command_calls(&self) -> MailboxResult<BTreeMap<String, u64>> {
        let info: String = self
            .query("INFO commandstats", redis::cmd("INFO").arg("commandstats"))
            .await?;
        Ok(command_calls(&info))
    }
}
