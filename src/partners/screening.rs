//! The built-in `screening` partner: the saga's `screening.check_party` commands answered by the
//! in-process screening engine (src/screening/), so screening runs under the same rate limit,
//! breaker and retry policy as every other partner and its verdicts arrive as saga inputs.
//!
//! A party is screened under its name and every alias, with its country and kind as features.
//! Any hit makes the party a potential match; only a compliance officer confirms a match, so
//! the engine never answers `confirmed_match` on its own.

use std::sync::Arc;

use serde_json::{Value, json};
use tradehub_actors::envelope::Envelope;
use tradehub_actors::partner::{CallError, Transport};

use crate::model::{Party, PartyKind};
use crate::screening::entity::EntityType;
use crate::screening::screener::{Hit, Query, Screener};
use crate::workflow::shipment::commands::CheckParty;
use crate::workflow::shipment::inputs::ScreeningOutcome;

/// The transport over one loaded screener; cheap to clone.
#[derive(Debug, Clone)]
pub struct ScreeningTransport {
    screener: Arc<Screener>,
    list_version: String,
}

impl ScreeningTransport {
    /// A transport answering from `screener`.
    pub fn new(screener: Arc<Screener>) -> Self {
        let list_version = list_version(&screener);
        Self {
            screener,
            list_version,
        }
    }

    /// Screens one party: its name and aliases, best hit per listed entity first.
    pub fn check(&self, party: &Party) -> Value {
        let country = party
            .effective_country()
            .and_then(|c| c.valid())
            .map(ToString::to_string);
        let entity_type = Some(match party.kind {
            PartyKind::Organisation => EntityType::Organisation,
            PartyKind::Individual => EntityType::Individual,
        });
        let mut hits: Vec<(String, Hit)> = Vec::new();
        for name in std::iter::once(&party.name).chain(&party.aliases) {
            let query = Query {
                name: name.clone(),
                country: country.clone(),
                entity_type,
                dob: None,
            };
            for hit in self.screener.screen(&query).hits {
                match hits
                    .iter_mut()
                    .find(|(_, h)| h.list == hit.list && h.entity_id == hit.entity_id)
                {
                    Some(existing) if existing.1.score >= hit.score => {}
                    Some(existing) => *existing = (name.clone(), hit),
                    None => hits.push((name.clone(), hit)),
                }
            }
        }
        hits.sort_by(|a, b| b.1.score.total_cmp(&a.1.score));
        let outcome = if hits.is_empty() {
            ScreeningOutcome::Clear
        } else {
            ScreeningOutcome::PotentialMatch
        };
        json!({
            "outcome": outcome,
            "hits": hits.iter().map(|(query, hit)| json!({
                "query": query,
                "list": hit.list,
                "entity_id": hit.entity_id,
                "entity_hash": hit.entity_hash,
                "name": hit.name,
                "programs": hit.programs,
                "score": hit.score,
            })).collect::<Vec<_>>(),
            "list_version": self.list_version,
        })
    }
}

/// One string naming every loaded list by name and the first 12 hex digits of its content hash.
fn list_version(screener: &Screener) -> String {
    screener
        .versions()
        .iter()
        .map(|v| {
            format!(
                "{}@{}",
                v.list,
                &v.content_hash[..v.content_hash.len().min(12)]
            )
        })
        .collect::<Vec<_>>()
        .join(",")
}

impl Transport for ScreeningTransport {
    async fn call(&self, command: &Envelope) -> Result<Value, CallError> {
        let check = CheckParty::from_envelope(command).map_err(|error| CallError::Poison {
            reason: error.to_string(),
        })?;
        let this = self.clone();
        tokio::task::spawn_blocking(move || this.check(&check.party))
            .await
            .map_err(|e| CallError::Retry {
                after: None,
                reason: format!("screening task ended: {e}"),
            })
    }
}

#[cfg(test)]
mod tests;
