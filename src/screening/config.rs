//! The `[screening]` configuration section.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::lists::{ListFormat, ListSpec};
use super::screener::MatchSettings;

/// Where a list is downloaded from by `tradehub lists fetch`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FetchSource {
    /// Name of the list this source feeds (matches a `lists` entry's `name`).
    pub list: String,
    /// Format of the downloaded files.
    pub format: ListFormat,
    /// Files to download: for a folder format, one per file (`name` is the file name in the folder).
    pub files: Vec<FetchFile>,
    /// Refuse a download whose list has fewer entities than this (a truncated or empty publication).
    #[serde(default = "default_min_entities")]
    pub min_entities: usize,
}

/// One file of a fetched list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FetchFile {
    /// File name inside the list's folder (`sdn.csv`) or of the single file.
    pub name: String,
    /// Publisher URL.
    pub url: String,
    /// Expected SHA-256 (hex), when the publisher gives one.
    #[serde(default)]
    pub sha256: Option<String>,
}

fn default_min_entities() -> usize {
    1
}

/// `[screening]`: which lists to load and how to match.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScreeningConfig {
    /// Lists to load, each a name, a format and a path.
    #[serde(default = "default_lists")]
    pub lists: Vec<ListSpec>,
    /// Hits score at least this.
    #[serde(default = "default_threshold")]
    pub threshold: f64,
    /// At most this many hits per query.
    #[serde(default = "default_max_hits")]
    pub max_hits: usize,
    /// At most this many candidate names per query reach the scorer.
    #[serde(default = "default_candidates")]
    pub candidates: usize,
    /// How long a cleared false positive stays suppressed, in days.
    #[serde(default = "default_suppression_days")]
    pub suppression_days: u32,
    /// Folder `tradehub lists fetch` installs downloaded lists into.
    #[serde(default = "default_fetch_dir")]
    pub fetch_dir: PathBuf,
    /// Publisher URLs for `tradehub lists fetch`.
    #[serde(default)]
    pub fetch: Vec<FetchSource>,
}

fn default_threshold() -> f64 {
    MatchSettings::default().threshold
}
fn default_max_hits() -> usize {
    MatchSettings::default().max_hits
}
fn default_candidates() -> usize {
    MatchSettings::default().candidates
}
fn default_suppression_days() -> u32 {
    365
}
fn default_fetch_dir() -> PathBuf {
    PathBuf::from("var/lists")
}

/// The lists shipped in `data/sanctions/`.
pub fn default_lists() -> Vec<ListSpec> {
    let spec = |name: &str, format, path: &str| ListSpec {
        name: name.to_owned(),
        format,
        path: PathBuf::from("data/sanctions").join(path),
    };
    vec![
        spec("ofac_sdn", ListFormat::OfacCsv, "ofac_sdn"),
        spec(
            "ofac_cons",
            ListFormat::OfacConsCsv,
            "ofac_consolidated_non_sdn",
        ),
        spec(
            "csl_2019",
            ListFormat::CslCsv,
            "us_consolidated_screening_list/csl_2019_sample.csv",
        ),
        spec(
            "csl_2023",
            ListFormat::CslCsv,
            "us_consolidated_screening_list/consolidated_2023_sample.csv",
        ),
        spec(
            "bis_dpl",
            ListFormat::BisDpl,
            "bis_denied_persons_list/dpl.txt",
        ),
        spec(
            "un",
            ListFormat::UnXml,
            "un_sc_consolidated_list/consolidated.xml",
        ),
    ]
}

impl Default for ScreeningConfig {
    fn default() -> Self {
        Self {
            lists: default_lists(),
            threshold: default_threshold(),
            max_hits: default_max_hits(),
            candidates: default_candidates(),
            suppression_days: default_suppression_days(),
            fetch_dir: default_fetch_dir(),
            fetch: Vec::new(),
        }
    }
}

/// Why the configuration is unusable.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{}: cannot read: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: {message}", path.display())]
    Invalid { path: PathBuf, message: String },
}

#[derive(Deserialize)]
struct File {
    #[serde(default)]
    screening: Option<ScreeningConfig>,
}

impl ScreeningConfig {
    /// Reads the `[screening]` table of a TOML file (absent table = defaults). Relative list
    /// paths are taken relative to the current directory, like the rest of the hub's config.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
            path: path.to_owned(),
            source,
        })?;
        let file: File = toml::from_str(&text).map_err(|e| ConfigError::Invalid {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        let cfg = file.screening.unwrap_or_default();
        cfg.validate().map_err(|message| ConfigError::Invalid {
            path: path.to_owned(),
            message,
        })?;
        Ok(cfg)
    }

    /// Checks ranges and names.
    pub fn validate(&self) -> Result<(), String> {
        if !(0.0..=1.0).contains(&self.threshold) {
            return Err(format!(
                "screening.threshold {} is outside 0..1",
                self.threshold
            ));
        }
        if self.max_hits == 0 || self.candidates == 0 {
            return Err("screening.max_hits and screening.candidates must be at least 1".into());
        }
        let mut names: Vec<&str> = self.lists.iter().map(ListSpec::list_name).collect();
        names.sort_unstable();
        if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
            return Err(format!(
                "screening.lists: the name {:?} is used twice",
                w[0]
            ));
        }
        for f in &self.fetch {
            if f.files.is_empty() {
                return Err(format!("screening.fetch {:?}: no files", f.list));
            }
        }
        Ok(())
    }

    pub fn match_settings(&self) -> MatchSettings {
        MatchSettings {
            threshold: self.threshold,
            max_hits: self.max_hits,
            candidates: self.candidates,
        }
    }
}
