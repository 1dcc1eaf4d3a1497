//! Retention in the service: the policy built from the configuration (the drop folders the hub
//! reads, how the workflow's finished sagas shrink) and applied every `[retention] interval`.
//! Each node applies it; two runs at once are safe, since every removal checks first that what
//! it removes is what its run exported.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use super::wiring::{WiringError, wiring_error};
use crate::config::{HubConfig, Workflow};
use crate::finance;
use crate::partners::config::{Layout, TransportConfig};
use crate::partners::edifact_file::inbox_folder;
use crate::partners::file_drop::Inbox;
use crate::retention::{Compactor, Retention};
use crate::store::RedisMailbox;
use crate::workflow::routing::RoutingPolicy;
use crate::workflow::shipment::ShipmentState;

/// The drop folders the hub reads under `config`: the inbox of each file-drop broker the
/// routing table names, and each broker folder of the finance inbox when it is on.
pub fn drop_folders(config: &HubConfig) -> Result<Vec<Inbox>, WiringError> {
    if config.runtime.workflow != Workflow::Shipment {
        return Ok(Vec::new());
    }
    let routing_path = config.runtime.home.join("config/routing.toml");
    let routing = RoutingPolicy::load(&routing_path)
        .map_err(wiring_error(routing_path.display().to_string()))?;
    let layout = Layout::new(&config.runtime.home);
    let names: BTreeSet<&String> = std::iter::once(&routing.default_partner)
        .chain(routing.routes.iter().map(|r| &r.partner))
        .collect();
    let mut folders = Vec::new();
    for name in names {
        let template = layout
            .template(name)
            .map_err(wiring_error(format!("config/partners/{name}.toml")))?;
        if let TransportConfig::EdifactFile {
            inbox,
            max_file_bytes,
            ..
        } = template.transport
        {
            let dir = config
                .brokers
                .get(name.as_str())
                .and_then(|link| link.inbox.clone())
                .unwrap_or_else(|| PathBuf::from(inbox));
            folders.push(inbox_folder(dir, max_file_bytes));
        }
    }
    if config.finance.enabled {
        folders.extend(
            finance::inbox::folders(&config.finance)
                .into_iter()
                .map(|(_, inbox)| inbox),
        );
    }
    Ok(folders)
}

/// How `workflow`'s finished sagas shrink: a shipment to its summary
/// ([`ShipmentState::archived`]); the echo saga's small state stays as it is.
pub fn compactor(workflow: Workflow) -> Compactor {
    match workflow {
        Workflow::Echo => Arc::new(|state, _| Ok(Some(state.to_owned()))),
        Workflow::Shipment => Arc::new(|state, mark| {
            let shipment: ShipmentState =
                serde_json::from_str(state).map_err(|e| format!("shipment state: {e}"))?;
            shipment
                .archived(mark)
                .map(|summary| serde_json::to_string(&summary))
                .transpose()
                .map_err(|e| format!("shipment summary: {e}"))
        }),
    }
}

/// The policy of `config` over `mailbox`.
pub fn retention(config: &HubConfig, mailbox: RedisMailbox) -> Result<Retention, WiringError> {
    Ok(Retention::new(
        config.retention.clone(),
        mailbox,
        config.runtime.partitions,
        drop_folders(config)?,
        compactor(config.runtime.workflow),
    ))
}

/// Apply `retention` every `every` until `stop` turns true; a failed run is logged and the
/// next one takes up what it left.
pub async fn run(retention: Retention, every: Duration, mut stop: watch::Receiver<bool>) {
    let mut ticker = tokio::time::interval(every);
    // The first tick is immediate: the first run waits one interval, off the start's path.
    ticker.tick().await;
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = stop.wait_for(|stopping| *stopping) => return,
        }
        match retention.run().await {
            Ok(report) => tracing::info!(
                audit_trimmed = report.audit_trimmed,
                sagas_archived = report.sagas_archived,
                payloads_trimmed = report.payloads_trimmed,
                files_removed = report.files_removed,
                exports = report.exports.len(),
                "retention applied"
            ),
            Err(error) => tracing::error!(%error, "retention run failed; the next run takes it up"),
        }
    }
}
