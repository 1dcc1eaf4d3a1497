//! The echo partner's ledger (`<prefix>:{sys}:echo:calls`, command id → executions): what a
//! real partner's dedupe would be, so that tests can prove every command was executed at least
//! once and that deduplication by id makes it exactly once.

use std::collections::BTreeMap;

use tradehub_actors::mailbox::MailboxResult;

use super::RedisMailbox;

/// The echo ledger in one store. Cheap to clone.
#[derive(Debug, Clone)]
pub struct EchoLedger {
    store: RedisMailbox,
}

impl EchoLedger {
    /// The ledger in a mailbox's Redis, under its prefix.
    pub fn of(store: &RedisMailbox) -> Self {
        Self {
            store: store.clone(),
        }
    }

    /// Counts one more execution of command `id`; returns how many there have been.
    pub async fn record_call(&self, id: &str) -> MailboxResult<u64> {
        self.store
            .query(
                "HINCRBY",
                redis::cmd("HINCRBY")
                    .arg(self.store.keys().echo_calls())
                    .arg(id)
                    .arg(1),
            )
            .await
    }

    /// Executions so far, by command id.
    pub async fn calls(&self) -> MailboxResult<BTreeMap<String, u64>> {
        self.store
            .query(
                "HGETALL",
                redis::cmd("HGETALL").arg(self.store.keys().echo_calls()),
            )
            .await
    }
}
