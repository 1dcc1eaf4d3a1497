//! The node's anchors of the audit trail: one when it starts, one every `audit.anchor_every`,
//! and a last one when it stops, after its partitions have committed their last transitions.

use std::path::PathBuf;
use std::time::Duration;

use tokio::sync::watch;
use tradehub_actors::mailbox::Partition;

use crate::store::{AnchorError, RedisMailbox};

/// What an anchor of this node needs.
#[derive(Debug, Clone)]
pub struct Anchoring {
    mailbox: RedisMailbox,
    node: String,
    partitions: Partition,
    file: PathBuf,
}

impl Anchoring {
    /// Anchors of `partitions` chains by `node`, to `file` and the Redis stream.
    pub fn new(mailbox: RedisMailbox, node: String, partitions: Partition, file: PathBuf) -> Self {
        Self {
            mailbox,
            node,
            partitions,
            file,
        }
    }

    /// Sign and append one anchor.
    pub async fn anchor(&self) -> Result<(), AnchorError> {
        let anchor = self
            .mailbox
            .anchor(&self.node, self.partitions, &self.file)
            .await?;
        tracing::debug!(node = %anchor.node, at_ms = anchor.at_ms, "audit chain heads anchored");
        Ok(())
    }

    /// Anchor every `every` until `stop` turns true. A failed anchor leaves the chains
    /// without a checkpoint until the next one succeeds: an operator must look.
    pub async fn run(self, every: Duration, mut stop: watch::Receiver<bool>) {
        let mut ticker = tokio::time::interval(every);
        // The first tick is immediate; the start already anchored.
        ticker.tick().await;
        loop {
            tokio::select! {
                _ = ticker.tick() => {}
                _ = stop.wait_for(|stopping| *stopping) => return,
            }
            if let Err(error) = self.anchor().await {
                tracing::error!(%error, file = %self.file.display(), "audit anchor failed; the chains have no new checkpoint");
            }
        }
    }
}
