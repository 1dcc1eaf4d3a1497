//! `tradehub lists fetch`: downloads lists from their publishers, verifies them, and swaps them in
//! atomically.
//!
//! Layout under the fetch folder: `<list>/<hash>/` holds one downloaded version, `<list>/current`
//! is a symbolic link to the active one, replaced with a rename (atomic on POSIX), and
//! `<list>/versions.jsonl` records every version installed. A download that fails its checksum, does
//! not parse, or has too few entities is discarded and `current` is left as it was.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use sha2::{Digest, Sha256};

use super::config::FetchSource;
use super::entity::ListVersion;
use super::lists::{self, ListFormat, ListSpec, LoadError};

/// Why a fetch failed; the active version is untouched in every case.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("{url}: download failed: {message}")]
    Http { url: String, message: String },
    #[error("{url}: SHA-256 is {actual}, expected {expected}")]
    Checksum {
        url: String,
        expected: String,
        actual: String,
    },
    #[error("downloaded {list} does not load: {source}")]
    Invalid { list: String, source: LoadError },
    #[error("downloaded {list} has {found} entities, fewer than the minimum {min}")]
    TooFew {
        list: String,
        found: usize,
        min: usize,
    },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// A successfully installed version.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Installed {
    pub version: ListVersion,
    /// Path to load the list from (through the `current` link).
    pub spec: ListSpec,
    /// False when the download equals the active version (nothing swapped).
    pub swapped: bool,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> FetchError + '_ {
    move |source| FetchError::Io {
        path: path.to_owned(),
        source,
    }
}

/// The spec that loads a fetched list's active version.
pub fn installed_spec(source: &FetchSource, dir: &Path) -> ListSpec {
    let current = dir.join(&source.list).join("current");
    let path = match source.format {
        ListFormat::OfacCsv | ListFormat::OfacConsCsv => current,
        _ => current.join(&source.files[0].name),
    };
    ListSpec {
        name: source.list.clone(),
        format: source.format,
        path,
    }
}

/// Downloads, verifies and installs one list.
pub fn fetch(source: &FetchSource, dir: &Path) -> Result<Installed, FetchError> {
    let mut downloads = Vec::new();
    for file in &source.files {
        let bytes = download(&file.url)?;
        if let Some(expected) = &file.sha256 {
            let actual = hex::encode(Sha256::digest(&bytes));
            if !actual.eq_ignore_ascii_case(expected.trim()) {
                return Err(FetchError::Checksum {
                    url: file.url.clone(),
                    expected: expected.clone(),
                    actual,
                });
            }
        }
        downloads.push((file.name.clone(), bytes));
    }
    let list_dir = dir.join(&source.list);
    std::fs::create_dir_all(&list_dir).map_err(io(&list_dir))?;
    let staging = tempfile::Builder::new()
        .prefix(".staging-")
        .tempdir_in(&list_dir)
        .map_err(io(&list_dir))?;
    for (name, bytes) in &downloads {
        let p = staging.path().join(name);
        std::fs::write(&p, bytes).map_err(io(&p))?;
    }
    let staged_spec = ListSpec {
        name: source.list.clone(),
        format: source.format,
        path: match source.format {
            ListFormat::OfacCsv | ListFormat::OfacConsCsv => staging.path().to_owned(),
            _ => staging.path().join(&source.files[0].name),
        },
    };
    let loaded = lists::load(&staged_spec).map_err(|source_err| FetchError::Invalid {
        list: source.list.clone(),
        source: source_err,
    })?;
    if loaded.entities.len() < source.min_entities {
        return Err(FetchError::TooFew {
            list: source.list.clone(),
            found: loaded.entities.len(),
            min: source.min_entities,
        });
    }
    let version = loaded.version;
    let version_name = version.content_hash[..16].to_owned();
    let final_dir = list_dir.join(&version_name);
    let current = list_dir.join("current");
    let active = std::fs::read_link(&current).ok();
    if active.as_deref() == Some(Path::new(&version_name)) {
        return Ok(Installed {
            version,
            spec: installed_spec(source, dir),
            swapped: false,
        });
    }
    if !final_dir.exists() {
        let staged = staging.keep();
        std::fs::rename(&staged, &final_dir).map_err(io(&final_dir))?;
    }
    let link_tmp = list_dir.join(".current.tmp");
    let _ = std::fs::remove_file(&link_tmp);
    std::os::unix::fs::symlink(&version_name, &link_tmp).map_err(io(&link_tmp))?;
    std::fs::rename(&link_tmp, &current).map_err(io(&current))?;
    let log = list_dir.join("versions.jsonl");
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log)
        .map_err(io(&log))?;
    let line = serde_json::json!({
        "installed_at": time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
        "version": version,
    });
    writeln!(f, "{line}").map_err(io(&log))?;
    Ok(Installed {
        version,
        spec: installed_spec(source, dir),
        swapped: true,
    })
}

fn download(url: &str) -> Result<Vec<u8>, FetchError> {
    let err = |message: String| FetchError::Http {
        url: url.to_owned(),
        message,
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| err(e.to_string()))?;
    rt.block_on(async {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(120))
            .build()
            .map_err(|e| err(e.to_string()))?;
        let resp = client
            .get(url)
            .send()
            .await
            .map_err(|e| err(e.to_string()))?;
        let status = resp.status();
        if !status.is_success() {
            return Err(err(format!("HTTP {status}")));
        }
        let bytes = resp.bytes().await.map_err(|e| err(e.to_string()))?;
        Ok(bytes.to_vec())
    })
}
