//! The screening engine: loaded lists, their index, and the features added to a name score.

use serde::{Deserialize, Serialize};

use super::entity::{Entity, EntityType, ListVersion, NameQuality};
use super::index::{Index, PreparedQuery, SearchStats};
use super::lists::ListStore;
use super::score::{Method, NameComparison, TokenMatch};

/// Matches on a weak (low-quality) alias are multiplied by this.
pub const WEAK_ALIAS_FACTOR: f64 = 0.92;
/// Country given on both sides and shared.
pub const COUNTRY_MATCH: f64 = 0.02;
/// Country given on both sides and not shared.
pub const COUNTRY_MISMATCH: f64 = -0.10;
/// Date of birth compatible at the precision both sides give.
pub const DOB_MATCH: f64 = 0.03;
/// Same year of birth, different day.
pub const DOB_DAY_MISMATCH: f64 = -0.10;
/// No shared year of birth.
pub const DOB_YEAR_MISMATCH: f64 = -0.15;
/// A person screened against an organisation, vessel or aircraft, or the reverse.
pub const TYPE_MISMATCH: f64 = -0.15;

/// Tuning of the matcher.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatchSettings {
    /// Hits score at least this (0..1).
    pub threshold: f64,
    /// At most this many hits per query.
    pub max_hits: usize,
    /// At most this many candidate names reach the scorer.
    pub candidates: usize,
}

impl Default for MatchSettings {
    fn default() -> Self {
        Self {
            threshold: 0.80,
            max_hits: 10,
            candidates: 100,
        }
    }
}

/// Who is being screened.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Query {
    pub name: String,
    /// ISO 3166-1 alpha-2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entity_type: Option<EntityType>,
    /// `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dob: Option<String>,
}

impl Query {
    pub fn name(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            ..Default::default()
        }
    }
}

/// A feature that raised or lowered a hit's score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Feature {
    WeakAlias,
    CountryMatch,
    CountryMismatch,
    DobMatch,
    DobDayMismatch,
    DobYearMismatch,
    TypeMismatch,
}

/// One feature's effect on a score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureEffect {
    pub feature: Feature,
    pub effect: f64,
    pub detail: String,
}

/// Why an entity was hit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    pub matched_name: String,
    pub name_quality: NameQuality,
    pub name_score: f64,
    pub method: Method,
    pub tokens: Vec<TokenMatch>,
    pub unmatched_query_tokens: Vec<String>,
    pub unmatched_name_tokens: Vec<String>,
    pub features: Vec<FeatureEffect>,
}

/// A listed entity whose score reached the threshold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hit {
    pub list: String,
    pub entity_id: String,
    pub entity_hash: String,
    /// The entity's primary name.
    pub name: String,
    pub entity_type: EntityType,
    pub programs: Vec<String>,
    pub score: f64,
    pub explanation: Explanation,
}

/// The hits of one query and the work it took.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScreenOutput {
    pub hits: Vec<Hit>,
    pub stats: SearchStats,
}

/// Loaded lists plus their index, ready to answer queries.
#[derive(Debug)]
pub struct Screener {
    lists: ListStore,
    /// (list name, entity position in that list) for each entity number in the index.
    refs: Vec<(String, usize)>,
    index: Index,
    pub settings: MatchSettings,
}

impl Screener {
    pub fn new(lists: ListStore, settings: MatchSettings) -> Self {
        let mut refs = Vec::new();
        let mut names = Vec::new();
        for list in lists.lists() {
            for (i, e) in list.entities.iter().enumerate() {
                let ent = refs.len() as u32;
                refs.push((list.version.list.clone(), i));
                for (k, n) in e.names.iter().enumerate() {
                    names.push((ent, k as u16, n.name.clone()));
                }
            }
        }
        let index = Index::build(names.iter().map(|(e, k, n)| (*e, *k, n.as_str())));
        Self {
            lists,
            refs,
            index,
            settings,
        }
    }

    pub fn lists(&self) -> &ListStore {
        &self.lists
    }

    pub fn versions(&self) -> Vec<ListVersion> {
        self.lists.versions()
    }

    pub fn index(&self) -> &Index {
        &self.index
    }

    pub fn entity_count(&self) -> usize {
        self.refs.len()
    }

    fn entity(&self, ent: u32) -> &Entity {
        let (list, i) = &self.refs[ent as usize];
        &self
            .lists
            .get(list)
            .expect("refs only name loaded lists")
            .entities[*i]
    }

    /// Screens one query through the index.
    pub fn screen(&self, q: &Query) -> ScreenOutput {
        self.screen_with(q, self.settings)
    }

    /// Screens one query with other settings (evaluation runs below the configured threshold).
    pub fn screen_with(&self, q: &Query, settings: MatchSettings) -> ScreenOutput {
        let prepared = self.index.prepare(&q.name);
        let (candidates, stats) = self.index.candidates(&prepared, settings.candidates);
        let hits = self.rank(q, &prepared, candidates.into_iter(), settings);
        ScreenOutput { hits, stats }
    }

    /// Screens one query by scoring every name: the baseline the index is measured against.
    pub fn screen_linear(&self, q: &Query) -> ScreenOutput {
        let prepared = self.index.prepare(&q.name);
        let n = self.index.len();
        let hits = self.rank(q, &prepared, 0..n as u32, self.settings);
        ScreenOutput {
            hits,
            stats: SearchStats {
                candidates: n,
                postings: 0,
                names: n,
            },
        }
    }

    fn rank(
        &self,
        q: &Query,
        prepared: &PreparedQuery,
        names: impl Iterator<Item = u32>,
        settings: MatchSettings,
    ) -> Vec<Hit> {
        let q_tokens = prepared.tokens();
        // Best (weighted score, name) per entity; explanations are built only for these.
        let mut best: rustc_hash::FxHashMap<u32, (f64, u32)> = rustc_hash::FxHashMap::default();
        for id in names {
            let n = self.index.name(id);
            let raw = self.index.score(prepared, &q_tokens, id);
            // Features can lift a score by at most this much; below it nothing can reach the threshold.
            if raw + COUNTRY_MATCH + DOB_MATCH < settings.threshold {
                continue;
            }
            let quality = self.entity(n.entity).names[n.name as usize].quality;
            let weighted = if quality == NameQuality::Weak {
                raw * WEAK_ALIAS_FACTOR
            } else {
                raw
            };
            let slot = best.entry(n.entity).or_insert((f64::MIN, id));
            if weighted > slot.0 || (weighted == slot.0 && id < slot.1) {
                *slot = (weighted, id);
            }
        }
        let mut hits: Vec<Hit> = best
            .into_iter()
            .filter_map(|(ent, (name_score, id))| {
                let cmp = self.index.compare(prepared, id);
                let name = self.index.name(id).name as usize;
                let hit = self.hit(q, self.entity(ent), name, name_score, cmp);
                (hit.score >= settings.threshold).then_some(hit)
            })
            .collect();
        hits.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then_with(|| a.list.cmp(&b.list))
                .then_with(|| a.entity_id.cmp(&b.entity_id))
        });
        hits.truncate(settings.max_hits);
        hits
    }

    /// Scores a query against one entity without the index (used when rescreening against the
    /// entities a list update changed). Returns the hit whether or not it reaches the threshold.
    pub fn score_entity(&self, q: &Query, entity: &Entity) -> Option<Hit> {
        let mut best: Option<(usize, f64, NameComparison)> = None;
        for (k, n) in entity.names.iter().enumerate() {
            let cmp = self.index.compare_free(&q.name, &n.name);
            let s = if n.quality == NameQuality::Weak {
                cmp.score * WEAK_ALIAS_FACTOR
            } else {
                cmp.score
            };
            if best.as_ref().is_none_or(|b| s > b.1) {
                best = Some((k, s, cmp));
            }
        }
        best.map(|(k, s, cmp)| self.hit(q, entity, k, s, cmp))
    }

    fn hit(&self, q: &Query, e: &Entity, name: usize, name_score: f64, cmp: NameComparison) -> Hit {
        let mut features = Vec::new();
        let quality = e.names[name].quality;
        if quality == NameQuality::Weak {
            features.push(FeatureEffect {
                feature: Feature::WeakAlias,
                effect: name_score - cmp.score,
                detail: "matched a low-quality alias".into(),
            });
        }
        if let Some(c) = q.country.as_deref().map(str::to_ascii_uppercase)
            && !e.countries.is_empty()
        {
            if e.countries.contains(&c) {
                features.push(FeatureEffect {
                    feature: Feature::CountryMatch,
                    effect: COUNTRY_MATCH,
                    detail: format!("{c} is among the entity's countries"),
                });
            } else {
                features.push(FeatureEffect {
                    feature: Feature::CountryMismatch,
                    effect: COUNTRY_MISMATCH,
                    detail: format!("{c} not among {}", e.countries.join(", ")),
                });
            }
        }
        if let Some(dob) = q.dob.as_deref()
            && !e.dates_of_birth.is_empty()
        {
            features.push(dob_feature(dob, &e.dates_of_birth));
        }
        if let Some(t) = q.entity_type
            && t != EntityType::Unknown
            && e.entity_type != EntityType::Unknown
            && (t == EntityType::Individual) != (e.entity_type == EntityType::Individual)
        {
            features.push(FeatureEffect {
                feature: Feature::TypeMismatch,
                effect: TYPE_MISMATCH,
                detail: format!("query is {t:?}, entity is {:?}", e.entity_type),
            });
        }
        let adjust: f64 = features
            .iter()
            .filter(|f| f.feature != Feature::WeakAlias)
            .map(|f| f.effect)
            .sum();
        let score = (name_score + adjust).clamp(0.0, 1.0);
        Hit {
            list: e.list.clone(),
            entity_id: e.id.clone(),
            entity_hash: e.content_hash.clone(),
            name: e.primary_name().to_owned(),
            entity_type: e.entity_type,
            programs: e.programs.clone(),
            score: (score * 10_000.0).round() / 10_000.0,
            explanation: Explanation {
                matched_name: e.names[name].name.clone(),
                name_quality: quality,
                name_score: (name_score * 10_000.0).round() / 10_000.0,
                method: cmp.method,
                tokens: cmp.matched,
                unmatched_query_tokens: cmp.unmatched_query,
                unmatched_name_tokens: cmp.unmatched_name,
                features,
            },
        }
    }
}

fn dob_feature(query: &str, listed: &[String]) -> FeatureEffect {
    let q = query.trim();
    let compatible = listed.iter().find(|d| {
        let n = d.len().min(q.len());
        d[..n] == q[..n]
    });
    if let Some(d) = compatible {
        return FeatureEffect {
            feature: Feature::DobMatch,
            effect: DOB_MATCH,
            detail: format!("{q} agrees with listed {d}"),
        };
    }
    let year = q.get(..4).unwrap_or(q);
    if listed.iter().any(|d| d.starts_with(year)) {
        FeatureEffect {
            feature: Feature::DobDayMismatch,
            effect: DOB_DAY_MISMATCH,
            detail: format!("{q}: same year, other date than {}", listed.join(", ")),
        }
    } else {
        FeatureEffect {
            feature: Feature::DobYearMismatch,
            effect: DOB_YEAR_MISMATCH,
            detail: format!(
                "{q}: no listed date of birth in {year} ({})",
                listed.join(", ")
            ),
        }
    }
}
