//! Screening results as evidence: what was asked, against which list versions and algorithm, what
//! was found, what a reviewer decided, which false positives stay suppressed, and rescreening when
//! a list changes.

use std::collections::{BTreeMap, BTreeSet};

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

use super::ALGORITHM_VERSION;
use super::entity::{Entity, ListVersion};
use super::lists::ListDiff;
use super::screener::{Hit, Query, Screener};

/// What a screening result means for the shipment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// No hit: continue.
    Clear,
    /// At least one hit nobody has decided on: hold for review.
    PotentialMatch,
    /// A reviewer confirmed a hit: block.
    ConfirmedMatch,
}

/// A reviewer's verdict on one hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// A false positive: suppress it for this party until the party or the entity changes.
    Clear,
    /// The party is the listed entity.
    Confirm,
}

/// What makes a decision apply again: the same party, the same listed entity, unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct DecisionKey {
    pub party_hash: String,
    pub list: String,
    pub entity_id: String,
    pub entity_hash: String,
}

/// A reviewer's decision, kept as evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviewDecision {
    pub result_id: String,
    pub key: DecisionKey,
    pub verdict: Verdict,
    pub reason: String,
    pub reviewer: String,
    #[serde(with = "time::serde::rfc3339")]
    pub decided_at: OffsetDateTime,
    /// Clear decisions stop suppressing at this time.
    #[serde(with = "time::serde::rfc3339::option")]
    pub expires_at: Option<OffsetDateTime>,
}

/// A hit left out of the outcome because a reviewer cleared it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SuppressedHit {
    pub hit: Hit,
    /// The result in which the clearing decision was taken.
    pub cleared_in: String,
}

/// One screening, kept as evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScreeningResult {
    pub id: String,
    pub party_hash: String,
    pub query: Query,
    #[serde(with = "time::serde::rfc3339")]
    pub screened_at: OffsetDateTime,
    pub list_versions: Vec<ListVersion>,
    pub algorithm: String,
    pub threshold: f64,
    pub hits: Vec<Hit>,
    pub suppressed: Vec<SuppressedHit>,
    pub outcome: Outcome,
}

/// Why a decision was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DecisionError {
    #[error("no screening result {0}")]
    UnknownResult(String),
    #[error("result {result} has no hit on {list}/{entity_id}")]
    UnknownHit {
        result: String,
        list: String,
        entity_id: String,
    },
    #[error("a decision needs a reason and a reviewer")]
    Incomplete,
}

/// A reviewer's input on one hit of a result.
#[derive(Debug, Clone, Copy)]
pub struct Review<'a> {
    pub result_id: &'a str,
    pub list: &'a str,
    pub entity_id: &'a str,
    pub verdict: Verdict,
    pub reason: &'a str,
    pub reviewer: &'a str,
}

/// What a rescreen after list updates did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RescreenReport {
    /// Parties with a stored result.
    pub parties: usize,
    /// Parties screened again because the update could change their result.
    pub rescreened: usize,
    /// Parties left alone: no changed entity touches them.
    pub skipped: usize,
    /// Parties whose outcome changed, with old and new outcome.
    pub changed: Vec<(String, Outcome, Outcome)>,
}

/// Content hash of a party as screened: the same party screened twice gets the same hash.
pub fn party_hash(q: &Query) -> String {
    let canonical = Query {
        name: q.name.split_whitespace().collect::<Vec<_>>().join(" "),
        country: q.country.as_ref().map(|c| c.trim().to_ascii_uppercase()),
        entity_type: q.entity_type,
        dob: q.dob.as_ref().map(|d| d.trim().to_owned()),
    };
    let bytes = serde_json::to_vec(&canonical).unwrap_or_default();
    hex::encode(Sha256::digest(&bytes))
}

/// The store of results and decisions. Serialisable, so the hub can persist it as it likes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Evidence {
    results: Vec<ScreeningResult>,
    decisions: Vec<ReviewDecision>,
    /// How long a clear decision suppresses its hit.
    suppression_days: u32,
    next_id: u64,
}

impl Evidence {
    pub fn new(suppression_days: u32) -> Self {
        Self {
            results: Vec::new(),
            decisions: Vec::new(),
            suppression_days,
            next_id: 1,
        }
    }

    pub fn results(&self) -> &[ScreeningResult] {
        &self.results
    }

    pub fn decisions(&self) -> &[ReviewDecision] {
        &self.decisions
    }

    pub fn result(&self, id: &str) -> Option<&ScreeningResult> {
        self.results.iter().find(|r| r.id == id)
    }

    /// The newest result of a party.
    pub fn latest(&self, party_hash: &str) -> Option<&ScreeningResult> {
        self.results
            .iter()
            .rev()
            .find(|r| r.party_hash == party_hash)
    }

    /// Screens a party, applies earlier decisions, stores and returns the result.
    pub fn screen(
        &mut self,
        screener: &Screener,
        q: &Query,
        now: OffsetDateTime,
    ) -> &ScreeningResult {
        let party = party_hash(q);
        let out = screener.screen(q);
        let mut hits = Vec::new();
        let mut suppressed = Vec::new();
        let mut confirmed = false;
        for hit in out.hits {
            let key = DecisionKey {
                party_hash: party.clone(),
                list: hit.list.clone(),
                entity_id: hit.entity_id.clone(),
                entity_hash: hit.entity_hash.clone(),
            };
            match self.standing_decision(&key, now) {
                Some(d) if d.verdict == Verdict::Clear => suppressed.push(SuppressedHit {
                    cleared_in: d.result_id.clone(),
                    hit,
                }),
                Some(_) => {
                    confirmed = true;
                    hits.push(hit);
                }
                None => hits.push(hit),
            }
        }
        let outcome = if confirmed {
            Outcome::ConfirmedMatch
        } else if hits.is_empty() {
            Outcome::Clear
        } else {
            Outcome::PotentialMatch
        };
        let id = format!("scr-{:08}", self.next_id);
        self.next_id += 1;
        self.results.push(ScreeningResult {
            id,
            party_hash: party,
            query: q.clone(),
            screened_at: now,
            list_versions: screener.versions(),
            algorithm: ALGORITHM_VERSION.to_owned(),
            threshold: screener.settings.threshold,
            hits,
            suppressed,
            outcome,
        });
        self.results.last().expect("just pushed")
    }

    /// The newest decision on this key that still applies: a confirmation always, a clearance
    /// until it expires.
    fn standing_decision(&self, key: &DecisionKey, now: OffsetDateTime) -> Option<&ReviewDecision> {
        self.decisions
            .iter()
            .rev()
            .find(|d| d.key == *key)
            .filter(|d| d.expires_at.is_none_or(|e| now < e))
    }

    /// Records a reviewer's decision on one hit of a result, and updates that result's outcome.
    pub fn decide(
        &mut self,
        review: Review<'_>,
        now: OffsetDateTime,
    ) -> Result<&ReviewDecision, DecisionError> {
        let Review {
            result_id,
            list,
            entity_id,
            verdict,
            reason,
            reviewer,
        } = review;
        if reason.trim().is_empty() || reviewer.trim().is_empty() {
            return Err(DecisionError::Incomplete);
        }
        let days = self.suppression_days;
        let result = self
            .results
            .iter_mut()
            .find(|r| r.id == result_id)
            .ok_or_else(|| DecisionError::UnknownResult(result_id.to_owned()))?;
        let pos = result
            .hits
            .iter()
            .position(|h| h.list == list && h.entity_id == entity_id)
            .ok_or_else(|| DecisionError::UnknownHit {
                result: result_id.to_owned(),
                list: list.to_owned(),
                entity_id: entity_id.to_owned(),
            })?;
        let hit = &result.hits[pos];
        let key = DecisionKey {
            party_hash: result.party_hash.clone(),
            list: hit.list.clone(),
            entity_id: hit.entity_id.clone(),
            entity_hash: hit.entity_hash.clone(),
        };
        match verdict {
            Verdict::Confirm => result.outcome = Outcome::ConfirmedMatch,
            Verdict::Clear => {
                let hit = result.hits.remove(pos);
                result.suppressed.push(SuppressedHit {
                    hit,
                    cleared_in: result_id.to_owned(),
                });
                if result.outcome == Outcome::PotentialMatch && result.hits.is_empty() {
                    result.outcome = Outcome::Clear;
                }
            }
        }
        self.decisions.push(ReviewDecision {
            result_id: result_id.to_owned(),
            key,
            verdict,
            reason: reason.to_owned(),
            reviewer: reviewer.to_owned(),
            decided_at: now,
            expires_at: (verdict == Verdict::Clear).then(|| now + Duration::days(i64::from(days))),
        });
        Ok(self.decisions.last().expect("just pushed"))
    }

    /// After list updates (`diffs`, against the lists now in `screener`), screens again only the
    /// parties whose result could change: those with a hit (or suppressed hit) on a changed or
    /// removed entity, and those an added or changed entity now matches.
    pub fn rescreen(
        &mut self,
        screener: &Screener,
        diffs: &[ListDiff],
        now: OffsetDateTime,
    ) -> RescreenReport {
        let mut gone: BTreeSet<(&str, &str)> = BTreeSet::new();
        let mut fresh: Vec<&Entity> = Vec::new();
        for d in diffs {
            for id in d.changed.iter().chain(&d.removed) {
                gone.insert((d.list.as_str(), id.as_str()));
            }
            if let Some(list) = screener.lists().get(&d.list) {
                let by_id: FxHashMap<&str, &Entity> =
                    list.entities.iter().map(|e| (e.id.as_str(), e)).collect();
                fresh.extend(
                    d.added
                        .iter()
                        .chain(&d.changed)
                        .filter_map(|id| by_id.get(id.as_str()).copied()),
                );
            }
        }
        let latest: BTreeMap<String, Query> = self
            .results
            .iter()
            .map(|r| (r.party_hash.clone(), r.query.clone()))
            .collect();
        let mut report = RescreenReport {
            parties: latest.len(),
            ..Default::default()
        };
        for (party, query) in latest {
            let prev = self.latest(&party).expect("party has a result");
            let old_outcome = prev.outcome;
            let touches_gone = prev
                .hits
                .iter()
                .chain(prev.suppressed.iter().map(|s| &s.hit))
                .any(|h| gone.contains(&(h.list.as_str(), h.entity_id.as_str())));
            let matches_fresh = !touches_gone
                && fresh.iter().any(|e| {
                    screener
                        .score_entity(&query, e)
                        .is_some_and(|h| h.score >= screener.settings.threshold)
                });
            if touches_gone || matches_fresh {
                report.rescreened += 1;
                let new_outcome = self.screen(screener, &query, now).outcome;
                if new_outcome != old_outcome {
                    report.changed.push((party, old_outcome, new_outcome));
                }
            } else {
                report.skipped += 1;
            }
        }
        report
    }
}
