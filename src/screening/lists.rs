//! List loaders and the store of loaded list versions.
//!
//! Each format has its loader in `lists/<format>.rs`; all produce [`Entity`] values. A list is
//! versioned by the SHA-256 of its files and a publication date. Loading a malformed file fails
//! with the file, line and reason, and [`ListStore::load`] keeps the previous version active.

mod csl;
mod dpl;
mod ftm;
mod ofac;
mod un;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::entity::{Entity, ListVersion, PublishedFrom};

/// The list formats tradehub reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ListFormat {
    /// A folder with OFAC's legacy `sdn.csv`, `alt.csv`, `add.csv` (and optionally `sdn_comments.csv`).
    OfacCsv,
    /// A folder with OFAC's consolidated non-SDN `cons_prim.csv`, `cons_alt.csv`, `cons_add.csv`.
    OfacConsCsv,
    /// US Consolidated Screening List CSV (the 2019 layout and the later one with `_id`).
    CslCsv,
    /// BIS Denied Persons List, tab-separated.
    BisDpl,
    /// UN Security Council consolidated list XML.
    UnXml,
    /// OpenSanctions FollowTheMoney JSON lines (entities or a delta stream).
    FtmJson,
}

impl ListFormat {
    pub const ALL: [ListFormat; 6] = [
        Self::OfacCsv,
        Self::OfacConsCsv,
        Self::CslCsv,
        Self::BisDpl,
        Self::UnXml,
        Self::FtmJson,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::OfacCsv => "ofac_csv",
            Self::OfacConsCsv => "ofac_cons_csv",
            Self::CslCsv => "csl_csv",
            Self::BisDpl => "bis_dpl",
            Self::UnXml => "un_xml",
            Self::FtmJson => "ftm_json",
        }
    }
}

impl fmt::Display for ListFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ListFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|f| f.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<_> = Self::ALL.iter().map(|f| f.as_str()).collect();
                format!(
                    "unknown list format {s:?} (expected one of {})",
                    names.join(", ")
                )
            })
    }
}

/// Which list to load, in which format, from where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListSpec {
    /// Name of the list in results (`ofac_sdn`, `un`...). Defaults to the format name.
    #[serde(default)]
    pub name: String,
    /// File format.
    pub format: ListFormat,
    /// A file, or a folder for `ofac_csv` / `ofac_cons_csv`.
    pub path: PathBuf,
}

impl ListSpec {
    /// Parses the `FORMAT=PATH` form of the command line.
    pub fn parse_override(s: &str) -> Result<Self, String> {
        let (format, path) = s
            .split_once('=')
            .ok_or_else(|| format!("--list {s:?}: expected FORMAT=PATH"))?;
        let format: ListFormat = format.parse()?;
        Ok(Self {
            name: format.as_str().to_owned(),
            format,
            path: PathBuf::from(path),
        })
    }

    /// The list's name, falling back to the format.
    pub fn list_name(&self) -> &str {
        if self.name.is_empty() {
            self.format.as_str()
        } else {
            &self.name
        }
    }
}

/// Why a list could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{}: cannot read: {source}", file.display())]
    Io {
        file: PathBuf,
        source: std::io::Error,
    },
    #[error("{}:{line}: {reason}", file.display())]
    Malformed {
        file: PathBuf,
        line: u64,
        reason: String,
    },
}

impl LoadError {
    pub(crate) fn malformed(file: &Path, line: u64, reason: impl Into<String>) -> Self {
        Self::Malformed {
            file: file.to_owned(),
            line,
            reason: reason.into(),
        }
    }

    fn io(file: &Path, source: std::io::Error) -> Self {
        Self::Io {
            file: file.to_owned(),
            source,
        }
    }
}

/// One loaded version of a list.
#[derive(Debug, Clone)]
pub struct LoadedList {
    pub spec: ListSpec,
    pub version: ListVersion,
    pub entities: Vec<Entity>,
    /// Rows that were skipped without failing the load (e.g. aliases of unknown entities).
    pub warnings: Vec<String>,
}

/// What a loader returns before versioning.
pub(crate) struct Parsed {
    pub entities: Vec<Entity>,
    pub published: Option<String>,
    pub warnings: Vec<String>,
}

/// The raw bytes of one file of a list, kept for hashing.
pub(crate) struct SourceFile {
    pub path: PathBuf,
    pub bytes: Vec<u8>,
}

impl SourceFile {
    pub fn read(path: &Path) -> Result<Self, LoadError> {
        let bytes = std::fs::read(path).map_err(|e| LoadError::io(path, e))?;
        Ok(Self {
            path: path.to_owned(),
            bytes,
        })
    }

    /// The file as UTF-8 text; an invalid byte is reported with its line.
    pub fn text(&self) -> Result<&str, LoadError> {
        std::str::from_utf8(&self.bytes).map_err(|e| {
            let line = line_of(&self.bytes, e.valid_up_to());
            LoadError::malformed(&self.path, line, "invalid UTF-8")
        })
    }
}

/// 1-based line number of a byte offset.
pub(crate) fn line_of(bytes: &[u8], offset: usize) -> u64 {
    let end = offset.min(bytes.len());
    memchr::memchr_iter(b'\n', &bytes[..end]).count() as u64 + 1
}

/// Turns byte offsets into 1-based lines, counting only the bytes since the previous call, so
/// that numbering every record of a file stays linear. CSV record offsets can point at the
/// previous line's `\n` in CRLF files; those line ends are skipped.
pub(crate) struct Lines<'a> {
    bytes: &'a [u8],
    counted_to: usize,
    line: u64,
}

impl<'a> Lines<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Self {
            bytes,
            counted_to: 0,
            line: 1,
        }
    }

    pub fn record(&mut self, offset: u64) -> u64 {
        let mut at = (offset as usize).min(self.bytes.len());
        while at < self.bytes.len() && matches!(self.bytes[at], b'\r' | b'\n') {
            at += 1;
        }
        if at < self.counted_to {
            return line_of(self.bytes, at);
        }
        self.line += memchr::memchr_iter(b'\n', &self.bytes[self.counted_to..at]).count() as u64;
        self.counted_to = at;
        self.line
    }
}

/// Loads one list from its files. Does not touch any store.
pub fn load(spec: &ListSpec) -> Result<LoadedList, LoadError> {
    let name = spec.list_name().to_owned();
    let (files, parsed) = match spec.format {
        ListFormat::OfacCsv => ofac::load(&spec.path, &name, ofac::Set::Sdn)?,
        ListFormat::OfacConsCsv => ofac::load(&spec.path, &name, ofac::Set::Consolidated)?,
        ListFormat::CslCsv => single(&spec.path, |f| csl::parse(f, &name))?,
        ListFormat::BisDpl => single(&spec.path, |f| dpl::parse(f, &name))?,
        ListFormat::UnXml => single(&spec.path, |f| un::parse(f, &name))?,
        ListFormat::FtmJson => single(&spec.path, |f| ftm::parse(f, &name))?,
    };
    let mut hasher = Sha256::new();
    for f in &files {
        let file_name = f.path.file_name().map(|n| n.to_string_lossy().into_owned());
        hasher.update(file_name.unwrap_or_default().as_bytes());
        hasher.update([0]);
        hasher.update((f.bytes.len() as u64).to_le_bytes());
        hasher.update(&f.bytes);
    }
    let (published, published_from) = match parsed.published {
        Some(p) => (Some(p), PublishedFrom::Content),
        None => (modified_date(&files[0].path), PublishedFrom::FileModified),
    };
    let names = parsed.entities.iter().map(|e| e.names.len()).sum();
    Ok(LoadedList {
        version: ListVersion {
            list: name,
            format: spec.format,
            content_hash: hex::encode(hasher.finalize()),
            published,
            published_from,
            entities: parsed.entities.len(),
            names,
        },
        spec: spec.clone(),
        entities: parsed.entities,
        warnings: parsed.warnings,
    })
}

fn single(
    path: &Path,
    parse: impl FnOnce(&SourceFile) -> Result<Parsed, LoadError>,
) -> Result<(Vec<SourceFile>, Parsed), LoadError> {
    let file = SourceFile::read(path)?;
    let parsed = parse(&file)?;
    Ok((vec![file], parsed))
}

fn modified_date(path: &Path) -> Option<String> {
    let modified = std::fs::metadata(path).ok()?.modified().ok()?;
    let t = time::OffsetDateTime::from(modified);
    Some(format!(
        "{:04}-{:02}-{:02}",
        t.year(),
        u8::from(t.month()),
        t.day()
    ))
}

/// How the entities of a list changed between two versions, by content hash.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ListDiff {
    pub list: String,
    pub added: Vec<String>,
    pub removed: Vec<String>,
    pub changed: Vec<String>,
    pub unchanged: usize,
}

impl ListDiff {
    /// Compares two versions of one list.
    pub fn between(list: &str, old: &[Entity], new: &[Entity]) -> Self {
        let old_map: BTreeMap<&str, &str> = old
            .iter()
            .map(|e| (e.id.as_str(), e.content_hash.as_str()))
            .collect();
        let new_map: BTreeMap<&str, &str> = new
            .iter()
            .map(|e| (e.id.as_str(), e.content_hash.as_str()))
            .collect();
        let mut diff = ListDiff {
            list: list.to_owned(),
            ..Default::default()
        };
        for (id, hash) in &new_map {
            match old_map.get(id) {
                None => diff.added.push((*id).to_owned()),
                Some(h) if h != hash => diff.changed.push((*id).to_owned()),
                Some(_) => diff.unchanged += 1,
            }
        }
        diff.removed = old_map
            .keys()
            .filter(|id| !new_map.contains_key(*id))
            .map(|id| (*id).to_owned())
            .collect();
        diff
    }

    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }
}

/// The active version of each list. A failed reload leaves the active version in place.
#[derive(Debug, Default, Clone)]
pub struct ListStore {
    lists: BTreeMap<String, LoadedList>,
}

impl ListStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// Loads every spec; the first failure is returned and nothing is replaced by that spec.
    pub fn load_all(specs: &[ListSpec]) -> Result<Self, LoadError> {
        let mut store = Self::new();
        for spec in specs {
            store.load(spec)?;
        }
        Ok(store)
    }

    /// Loads (or reloads) one list. On success the new version becomes active and the diff against
    /// the previous version is returned; on failure the previous version stays active.
    pub fn load(&mut self, spec: &ListSpec) -> Result<ListDiff, LoadError> {
        let loaded = load(spec)?;
        Ok(self.install(loaded))
    }

    /// Makes an already loaded list active, returning the diff against the previous version.
    pub fn install(&mut self, loaded: LoadedList) -> ListDiff {
        let name = loaded.version.list.clone();
        let old = self
            .lists
            .get(&name)
            .map(|l| l.entities.as_slice())
            .unwrap_or(&[]);
        let diff = ListDiff::between(&name, old, &loaded.entities);
        self.lists.insert(name, loaded);
        diff
    }

    pub fn get(&self, name: &str) -> Option<&LoadedList> {
        self.lists.get(name)
    }

    pub fn lists(&self) -> impl Iterator<Item = &LoadedList> {
        self.lists.values()
    }

    pub fn versions(&self) -> Vec<ListVersion> {
        self.lists.values().map(|l| l.version.clone()).collect()
    }
}

/// Splits `s` on `sep`, trimming, dropping empty parts.
pub(crate) fn split_list(s: &str, sep: char) -> impl Iterator<Item = &str> {
    s.split(sep).map(str::trim).filter(|p| !p.is_empty())
}

/// Normalises a date as lists write it (`1962`, `10 Dec 1948`, `1971-01-22`, `06/19/2003`,
/// `circa 1962`) to `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
pub(crate) fn parse_date(raw: &str) -> Option<String> {
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let s = raw
        .trim()
        .trim_start_matches("circa")
        .trim_start_matches("Circa")
        .trim();
    let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    let parts: Vec<&str> = s
        .split([' ', '-', '/', '.'])
        .filter(|p| !p.is_empty())
        .collect();
    let month = |p: &str| {
        let p = p.to_ascii_lowercase();
        MONTHS
            .iter()
            .position(|m| p.starts_with(m))
            .map(|i| i as u32 + 1)
    };
    match parts.as_slice() {
        [y] if digits(y) && y.len() == 4 => Some((*y).to_owned()),
        [y, m, d] if digits(y) && y.len() == 4 && digits(m) && digits(d) => Some(format!(
            "{y}-{:02}-{:02}",
            m.parse::<u32>().ok()?,
            d.parse::<u32>().ok()?
        )),
        [m, d, y] if digits(y) && y.len() == 4 && digits(m) && digits(d) => Some(format!(
            "{y}-{:02}-{:02}",
            m.parse::<u32>().ok()?,
            d.parse::<u32>().ok()?
        )),
        [d, m, y] if digits(y) && y.len() == 4 && digits(d) => Some(format!(
            "{y}-{:02}-{:02}",
            month(m)?,
            d.parse::<u32>().ok()?
        )),
        [m, y] if digits(y) && y.len() == 4 => Some(format!("{y}-{:02}", month(m)?)),
        _ => None,
    }
}
