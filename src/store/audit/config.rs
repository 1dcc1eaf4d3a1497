//! `[audit]`: where the audit keys come from and where the anchors go.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::keys::{AuditKey, AuditKeyError, AuditKeys};
use crate::secret::Secret;

/// `[audit]`: the key the audit chain is signed with, the keys it was signed with before, and
/// the anchors (signed checkpoints of every partition's chain head).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuditConfig {
    /// Id of the current key, stored with every MAC it makes; change it with the key.
    pub key_id: String,
    /// Environment variable holding the current key (at least 32 bytes); `serve` refuses to
    /// start without it (or `key_file`).
    pub key_env: String,
    /// File holding the current key instead (surrounding whitespace ignored), relative to
    /// `runtime.home`.
    pub key_file: Option<PathBuf>,
    /// Keys that signed before a rotation, still needed to verify what they signed.
    pub previous: Vec<AuditKeySource>,
    /// How often the node appends an anchor (and once more when it stops).
    #[serde(with = "humantime_serde")]
    pub anchor_every: Duration,
    /// The anchors' JSON-lines file (appended and synced), relative to `runtime.home`; keep it
    /// off the Redis host.
    pub anchor_file: PathBuf,
}

/// `[[audit.previous]]`: a key that signed before a rotation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditKeySource {
    /// Its id, as stored with the MACs it made.
    pub id: String,
    /// Environment variable holding it.
    #[serde(default)]
    pub key_env: Option<String>,
    /// File holding it instead, relative to `runtime.home`.
    #[serde(default)]
    pub key_file: Option<PathBuf>,
}

impl Default for AuditConfig {
    fn default() -> Self {
        Self {
            key_id: "k1".to_owned(),
            key_env: "TRADEHUB_AUDIT_KEY".to_owned(),
            key_file: None,
            previous: Vec::new(),
            anchor_every: Duration::from_secs(60),
            anchor_file: PathBuf::from("var/audit/anchors.jsonl"),
        }
    }
}

impl AuditConfig {
    /// The environment variables the keys are read from.
    pub fn key_variables(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.key_env.as_str())
            .chain(self.previous.iter().filter_map(|p| p.key_env.as_deref()))
    }

    /// Read every key: the current one signs, the previous ones verify.
    pub fn keys(&self, home: &Path) -> Result<AuditKeys, AuditKeyError> {
        let current = read_key(
            home,
            &self.key_id,
            Some(&self.key_env),
            self.key_file.as_deref(),
        )?;
        let previous = self
            .previous
            .iter()
            .map(|p| read_key(home, &p.id, p.key_env.as_deref(), p.key_file.as_deref()))
            .collect::<Result<_, _>>()?;
        Ok(AuditKeys::new(current, previous))
    }

    /// The anchors' file.
    pub fn anchor_path(&self, home: &Path) -> PathBuf {
        home.join(&self.anchor_file)
    }
}

/// The key `id` from `file` when one is named, else from variable `var`.
fn read_key(
    home: &Path,
    id: &str,
    var: Option<&str>,
    file: Option<&Path>,
) -> Result<AuditKey, AuditKeyError> {
    if let Some(file) = file {
        let path = home.join(file);
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(&path).map_err(|e| AuditKeyError::Unreadable {
            id: id.to_owned(),
            file: shown.clone(),
            reason: e.to_string(),
        })?;
        return AuditKey::new(id, Secret::new(text.trim()), &shown);
    }
    let var = var.unwrap_or_default();
    let secret = Secret::from_env(var).map_err(|_| AuditKeyError::Missing {
        id: id.to_owned(),
        source_name: format!("environment variable {var:?}"),
    })?;
    AuditKey::new(id, secret, var)
}
