//! `[encryption]`: the keys values are sealed with, read from the environment or from files,
//! never from the configuration itself. A key is 32 bytes written as 64 hex digits or in base64.

use std::collections::BTreeSet;
use std::path::PathBuf;

use aes_gcm::Aes256Gcm;
use aes_gcm::aead::KeyInit;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use serde::{Deserialize, Serialize};

use super::Sealer;
use crate::secret::Secret;

/// Longest key id: it is stored beside every value.
const ID_MAX: usize = 32;
/// Bytes of an AES-256 key.
const KEY_LEN: usize = 32;

/// `[encryption]`: the keys that seal business data in Redis. Without keys, values are stored
/// in clear and `tradehub serve` warns at start.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EncryptionConfig {
    /// Id of the key new values are sealed with; must be one of `keys`.
    pub current: Option<String>,
    /// Every key that may have sealed a stored value: the current one and the older ones still
    /// to be rotated away (`tradehub keys status` says which are in use).
    pub keys: Vec<KeySource>,
}

/// Where one key is read from: exactly one of `env` and `file`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeySource {
    /// The key id stored beside each value: 1 to 32 letters, digits, `-`, `_` or `.`.
    pub id: String,
    /// Environment variable holding the key.
    pub env: Option<String>,
    /// File holding the key (surrounding whitespace is ignored).
    pub file: Option<PathBuf>,
}

/// A keyring that cannot be built. No message shows key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyringError {
    /// A key id that cannot be stored beside a value.
    #[error("encryption.keys: key id {0:?} must be 1 to 32 letters, digits, `-`, `_` or `.`")]
    Id(String),
    /// Two keys with one id.
    #[error("encryption.keys: key id {0:?} is listed twice")]
    Duplicate(String),
    /// A key with no source, or with two.
    #[error("encryption.keys: key {0:?} needs exactly one of `env` and `file`")]
    Source(String),
    /// Keys without a current one.
    #[error("encryption.current: must name the key new values are sealed with")]
    NoCurrent,
    /// A current key that is not among the keys.
    #[error("encryption.current: names {0:?}, which is not among encryption.keys")]
    UnknownCurrent(String),
    /// The variable holding a key is unset or empty.
    #[error("encryption key {id:?}: environment variable {var} is not set")]
    Unset {
        /// The key id.
        id: String,
        /// The variable.
        var: String,
    },
    /// The file holding a key cannot be read.
    #[error("encryption key {id:?}: cannot read {path}: {reason}")]
    Unreadable {
        /// The key id.
        id: String,
        /// The file.
        path: String,
        /// The system's reason.
        reason: String,
    },
    /// The key is not 32 bytes in hex or base64.
    #[error(
        "encryption key {id:?} from {origin}: must be 32 bytes written as 64 hex digits or in \
         base64"
    )]
    Malformed {
        /// The key id.
        id: String,
        /// The variable or file it came from.
        origin: String,
    },
}

/// Check that every id can be stored, none repeats, and `current` is one of them (required
/// when there are ids).
fn check_ids<'a>(
    ids: impl Iterator<Item = &'a str>,
    current: Option<&str>,
) -> Result<(), KeyringError> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    let mut seen = BTreeSet::new();
    for id in ids {
        if id.is_empty() || id.len() > ID_MAX || !id.chars().all(allowed) {
            return Err(KeyringError::Id(id.to_owned()));
        }
        if !seen.insert(id) {
            return Err(KeyringError::Duplicate(id.to_owned()));
        }
    }
    match current {
        None if seen.is_empty() => Ok(()),
        None => Err(KeyringError::NoCurrent),
        Some(current) if seen.contains(current) => Ok(()),
        Some(current) => Err(KeyringError::UnknownCurrent(current.to_owned())),
    }
}

/// The sealer over `keys`, sealing with `current`; the ids must have passed [`check_ids`].
fn sealer_of(current: &str, keys: Vec<(String, [u8; KEY_LEN])>) -> Sealer {
    let current = keys.iter().position(|(id, _)| id == current).unwrap_or(0);
    let keys = keys
        .into_iter()
        .map(|(id, key)| (id, Aes256Gcm::new(&key.into())))
        .collect();
    Sealer::with(Keyring { current, keys })
}

impl EncryptionConfig {
    /// Check ids and sources, without reading any key.
    pub fn check(&self) -> Result<(), KeyringError> {
        check_ids(
            self.keys.iter().map(|key| key.id.as_str()),
            self.current.as_deref(),
        )?;
        match self
            .keys
            .iter()
            .find(|key| key.env.is_some() == key.file.is_some())
        {
            Some(key) => Err(KeyringError::Source(key.id.clone())),
            None => Ok(()),
        }
    }

    /// The environment variables the keys are read from.
    pub fn variables(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().filter_map(|key| key.env.as_deref())
    }

    /// Read every key: the sealer new values go through (off without keys).
    pub fn sealer(&self) -> Result<Sealer, KeyringError> {
        self.check()?;
        let Some(current) = &self.current else {
            return Ok(Sealer::off());
        };
        let keys = self
            .keys
            .iter()
            .map(|source| Ok((source.id.clone(), source.read()?)))
            .collect::<Result<Vec<_>, KeyringError>>()?;
        Ok(sealer_of(current, keys))
    }
}

impl Sealer {
    /// A sealer over keys given as text (64 hex digits or base64), sealing new values with
    /// `current`: for a process that makes its own key (the demo) and for tests.
    pub fn from_keys(current: &str, keys: &[(&str, &Secret)]) -> Result<Self, KeyringError> {
        check_ids(keys.iter().map(|(id, _)| *id), Some(current))?;
        let keys = keys
            .iter()
            .map(|(id, key)| match decode_key(key.expose().trim()) {
                Some(bytes) => Ok(((*id).to_owned(), bytes)),
                None => Err(KeyringError::Malformed {
                    id: (*id).to_owned(),
                    origin: "the caller".to_owned(),
                }),
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(sealer_of(current, keys))
    }
}

impl KeySource {
    /// The key's 32 bytes.
    fn read(&self) -> Result<[u8; KEY_LEN], KeyringError> {
        let (text, origin) = match (&self.env, &self.file) {
            (Some(var), _) => {
                let text = std::env::var(var)
                    .ok()
                    .filter(|v| !v.is_empty())
                    .ok_or_else(|| KeyringError::Unset {
                        id: self.id.clone(),
                        var: var.clone(),
                    })?;
                (text, format!("environment variable {var}"))
            }
            (None, Some(path)) => {
                let text = std::fs::read_to_string(path).map_err(|e| KeyringError::Unreadable {
                    id: self.id.clone(),
                    path: path.display().to_string(),
                    reason: e.kind().to_string(),
                })?;
                (text, format!("file {}", path.display()))
            }
            (None, None) => return Err(KeyringError::Source(self.id.clone())),
        };
        decode_key(text.trim()).ok_or(KeyringError::Malformed {
            id: self.id.clone(),
            origin,
        })
    }
}

/// 32 bytes from 64 hex digits or from base64 (padded or not).
pub(super) fn decode_key(text: &str) -> Option<[u8; KEY_LEN]> {
    let bytes = if text.len() == 2 * KEY_LEN && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        hex::decode(text).ok()?
    } else {
        STANDARD
            .decode(text)
            .or_else(|_| STANDARD_NO_PAD.decode(text))
            .ok()?
    };
    bytes.try_into().ok()
}

/// The keys by id, and which one seals new values.
pub(super) struct Keyring {
    current: usize,
    keys: Vec<(String, Aes256Gcm)>,
}

impl Keyring {
    pub(super) fn current_id(&self) -> &str {
        &self.keys[self.current].0
    }

    pub(super) fn current(&self) -> &Aes256Gcm {
        &self.keys[self.current].1
    }

    pub(super) fn get(&self, id: &str) -> Option<&Aes256Gcm> {
        self.keys.iter().find(|(k, _)| k == id).map(|(_, c)| c)
    }

    pub(super) fn ids(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().map(|(id, _)| id.as_str())
    }
}
