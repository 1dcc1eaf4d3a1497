//! Encryption at rest: every value that carries business data (saga state, envelope bodies,
//! history and audit data, ledger documents and statuses, finance dossiers, rejected callbacks)
//! is sealed with AES-256-GCM before it reaches Redis, and opened when it is read back.
//!
//! A sealed value is text: `enc:v1:<key id>:<nonce>:<ciphertext and tag>`, the last two in
//! unpadded URL-safe base64, with a fresh random 96-bit nonce per value. The key id says which
//! key of the [`Keyring`](keyring) opens it, so values written under an older key stay readable
//! after rotation. The associated data names the value's place, so a ciphertext copied to
//! another record does not open:
//!
//! - a hash field or a stream field: the Redis key and the field name;
//! - an envelope's body: the envelope's id, saga key, kind and schema version (an envelope moves
//!   between streams, timers and the DLQ, and its body travels with it);
//! - an audit entry's data: the audit stream and the saga key of the entry.
//!
//! Keys and ids that route work (stream names, saga keys, versions, lease fields, timer scores,
//! dedupe ids) stay in clear, and so do the envelope's id, key, kind and attempt, so the Lua
//! scripts work unchanged. A value without the `enc:v1:` mark is read as it is: what was written
//! before encryption was turned on stays readable until it is rewritten.

mod keyring;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use aes_gcm::Nonce;
use aes_gcm::aead::{Aead, Payload};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tradehub_actors::envelope::Envelope;
use tradehub_actors::mailbox::{Commit, MailboxError, MailboxResult, Partition};

pub use keyring::{EncryptionConfig, KeySource, KeyringError};

use super::reply;
use keyring::Keyring;

/// The mark every sealed value starts with.
const MARK: &str = "enc:v1:";
/// Bytes of an AES-GCM nonce.
const NONCE_LEN: usize = 12;
/// Bytes of an AES-GCM tag.
const TAG_LEN: usize = 16;

/// A sealed value that cannot be opened. The message names the record, never its content.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    /// The value names a key id the keyring does not hold.
    #[error("{place}: sealed under key {kid:?}, which is not among encryption.keys")]
    UnknownKey {
        /// The record.
        place: String,
        /// The key id the value names.
        kid: String,
    },
    /// The value does not authenticate: altered, or copied from another record.
    #[error("{place}: sealed value does not authenticate (altered, or moved from another record)")]
    Forged {
        /// The record.
        place: String,
    },
    /// The value carries the mark but not the layout after it.
    #[error("{place}: malformed sealed value")]
    Malformed {
        /// The record.
        place: String,
    },
}

impl From<SealError> for MailboxError {
    fn from(error: SealError) -> Self {
        MailboxError::Protocol(error.to_string())
    }
}

/// Where a value lives: what its associated data binds it to, and how errors name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    aad: Vec<u8>,
    name: String,
}

impl Place {
    fn of(parts: &[&str], name: String) -> Self {
        let mut aad = Vec::with_capacity(parts.iter().map(|p| p.len() + 4).sum());
        for part in parts {
            aad.extend_from_slice(&u32::try_from(part.len()).unwrap_or(u32::MAX).to_be_bytes());
            aad.extend_from_slice(part.as_bytes());
        }
        Self { aad, name }
    }

    /// Field `field` of hash or stream `key`.
    pub fn field(key: &str, field: &str) -> Self {
        Self::of(&["field", key, field], format!("{key} field {field}"))
    }

    /// The body of an envelope.
    pub fn envelope(id: &str, key: &str, kind: &str, schema_version: u16) -> Self {
        Self::of(
            &["envelope", id, key, kind, &schema_version.to_string()],
            format!("envelope {id} of {key}"),
        )
    }

    /// The data of an entry of audit stream `audit` written by saga `key`.
    pub fn audit(audit: &str, key: &str) -> Self {
        Self::of(&["audit", audit, key], format!("{audit} entry of {key}"))
    }
}

/// Seals and opens values; off (values pass through) when no key is configured. Cheap to clone.
///
/// `Debug` and equality show and compare the key ids, never the keys.
#[derive(Clone, Default)]
pub struct Sealer(Option<Arc<Keyring>>);

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Some(ring) => f
                .debug_struct("Sealer")
                .field("current", &ring.current_id())
                .field("keys", &ring.ids().collect::<Vec<_>>())
                .finish(),
            None => f.write_str("Sealer(off)"),
        }
    }
}

impl PartialEq for Sealer {
    fn eq(&self, other: &Self) -> bool {
        match (&self.0, &other.0) {
            (Some(a), Some(b)) => a.current_id() == b.current_id() && a.ids().eq(b.ids()),
            (None, None) => true,
            _ => false,
        }
    }
}

impl Eq for Sealer {}

/// An envelope as stored: its body in clear, or sealed.
#[derive(Serialize, Deserialize)]
struct WireEnvelope {
    id: String,
    key: String,
    kind: String,
    schema_version: u16,
    attempt: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    traceparent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    body: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sealed: Option<String>,
}

impl Sealer {
    /// Nothing sealed, nothing opened.
    pub fn off() -> Self {
        Self(None)
    }

    fn with(ring: Keyring) -> Self {
        Self(Some(Arc::new(ring)))
    }

    /// Whether new values are sealed.
    pub fn is_on(&self) -> bool {
        self.0.is_some()
    }

    /// The id of the key new values are sealed with.
    pub fn current_id(&self) -> Option<&str> {
        self.0.as_deref().map(Keyring::current_id)
    }

    /// Seal `plain` for `place` under the current key; off: `plain` as it is.
    pub fn seal_bytes(&self, place: &Place, plain: &[u8]) -> Vec<u8> {
        match &self.0 {
            Some(ring) => seal(ring, place, plain).into_bytes(),
            None => plain.to_vec(),
        }
    }

    /// [`Sealer::seal_bytes`] for text.
    pub fn seal_text(&self, place: &Place, plain: &str) -> String {
        match &self.0 {
            Some(ring) => seal(ring, place, plain.as_bytes()),
            None => plain.to_owned(),
        }
    }

    /// Open a value stored at `place`; a value without the mark is returned as it is.
    pub fn open_bytes(&self, place: &Place, stored: &[u8]) -> Result<Vec<u8>, SealError> {
        match stored.strip_prefix(MARK.as_bytes()) {
            Some(rest) => {
                let rest = std::str::from_utf8(rest).map_err(|_| SealError::Malformed {
                    place: place.name.clone(),
                })?;
                self.open_token(place, rest)
            }
            None => Ok(stored.to_vec()),
        }
    }

    /// [`Sealer::open_bytes`] for text.
    pub fn open_text(&self, place: &Place, stored: &str) -> Result<String, SealError> {
        let Some(rest) = stored.strip_prefix(MARK) else {
            return Ok(stored.to_owned());
        };
        String::from_utf8(self.open_token(place, rest)?).map_err(|_| SealError::Malformed {
            place: place.name.clone(),
        })
    }

    fn open_token(&self, place: &Place, token: &str) -> Result<Vec<u8>, SealError> {
        let malformed = || SealError::Malformed {
            place: place.name.clone(),
        };
        let mut parts = token.splitn(3, ':');
        let (Some(kid), Some(nonce), Some(sealed)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(malformed());
        };
        let nonce = URL_SAFE_NO_PAD.decode(nonce).map_err(|_| malformed())?;
        let sealed = URL_SAFE_NO_PAD.decode(sealed).map_err(|_| malformed())?;
        if nonce.len() != NONCE_LEN || sealed.len() < TAG_LEN {
            return Err(malformed());
        }
        let cipher = self
            .0
            .as_deref()
            .and_then(|ring| ring.get(kid))
            .ok_or_else(|| SealError::UnknownKey {
                place: place.name.clone(),
                kid: kid.to_owned(),
            })?;
        cipher
            .decrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: &sealed,
                    aad: &place.aad,
                },
            )
            .map_err(|_| SealError::Forged {
                place: place.name.clone(),
            })
    }

    /// Serialize an envelope for a stream entry or a timer, its body sealed.
    pub(crate) fn seal_envelope(&self, envelope: &Envelope) -> MailboxResult<String> {
        let Some(ring) = &self.0 else {
            return reply::encode_envelope(envelope);
        };
        let place = Place::envelope(
            &envelope.id,
            &envelope.key,
            &envelope.kind,
            envelope.schema_version,
        );
        let body = serde_json::to_vec(&envelope.body)
            .map_err(|e| reply::protocol(&format!("cannot encode envelope {}", envelope.id), e))?;
        let wire = WireEnvelope {
            id: envelope.id.clone(),
            key: envelope.key.clone(),
            kind: envelope.kind.clone(),
            schema_version: envelope.schema_version,
            attempt: envelope.attempt,
            traceparent: envelope.traceparent.clone(),
            body: None,
            sealed: Some(seal(ring, &place, &body)),
        };
        serde_json::to_string(&wire)
            .map_err(|e| reply::protocol(&format!("cannot encode envelope {}", envelope.id), e))
    }

    /// Decode a stored envelope, opening its body; says why when it cannot be.
    pub(crate) fn open_envelope(&self, raw: &str) -> Result<Envelope, String> {
        let wire: WireEnvelope =
            serde_json::from_str(raw).map_err(|e| format!("undecodable envelope: {e}"))?;
        let body = match wire.sealed {
            Some(sealed) => {
                let place = Place::envelope(&wire.id, &wire.key, &wire.kind, wire.schema_version);
                let plain = self
                    .open_bytes(&place, sealed.as_bytes())
                    .map_err(|e| e.to_string())?;
                serde_json::from_slice(&plain)
                    .map_err(|e| format!("envelope {}: undecodable body: {e}", wire.id))?
            }
            None => wire.body.unwrap_or(Value::Null),
        };
        Ok(Envelope {
            id: wire.id,
            key: wire.key,
            kind: wire.kind,
            schema_version: wire.schema_version,
            attempt: wire.attempt,
            traceparent: wire.traceparent,
            body,
        })
    }

    /// A stored envelope with its body in clear, for an operator to read; one that does not
    /// open is returned as stored.
    pub(crate) fn show_envelope(&self, raw: &str) -> String {
        if Self::kid_of(raw).is_none() {
            return raw.to_owned();
        }
        self.open_envelope(raw)
            .ok()
            .and_then(|envelope| reply::encode_envelope(&envelope).ok())
            .unwrap_or_else(|| raw.to_owned())
    }

    /// The key id a stored value (a sealed value, or an envelope with a sealed body) was
    /// sealed under.
    pub(crate) fn kid_of(stored: &str) -> Option<String> {
        if let Some(rest) = stored.strip_prefix(MARK) {
            return rest.split(':').next().map(str::to_owned);
        }
        if !stored.starts_with('{') || !stored.contains("\"sealed\"") {
            return None;
        }
        let wire: WireEnvelope = serde_json::from_str(stored).ok()?;
        Self::kid_of(&wire.sealed?)
    }

    /// Whether a stored value was sealed under another key than the current one.
    pub(crate) fn is_stale(&self, stored: &str) -> bool {
        match (Self::kid_of(stored), self.current_id()) {
            (Some(kid), Some(current)) => kid != current,
            _ => false,
        }
    }
}

impl Sealer {
    /// `commit` with what it stores sealed: the state at field `state` of `state_key`, each
    /// history entry at field `h` of `history_key`, each audit entry's data for `audit_key` and
    /// the commit's saga key. The audit chain signs the sealed bytes.
    pub(crate) fn seal_commit(
        &self,
        commit: &Commit,
        state_key: &str,
        history_key: &str,
        audit_key: &str,
    ) -> Commit {
        let history = Place::field(history_key, "h");
        let audit = Place::audit(audit_key, &commit.key);
        Commit {
            state: self.seal_text(&Place::field(state_key, "state"), &commit.state),
            history: commit
                .history
                .iter()
                .map(|h| self.seal_text(&history, h))
                .collect(),
            audit: commit
                .audit
                .iter()
                .map(|a| self.seal_text(&audit, a))
                .collect(),
            ..commit.clone()
        }
    }
}

fn seal(ring: &Keyring, place: &Place, plain: &[u8]) -> String {
    let nonce: [u8; NONCE_LEN] = rand::random();
    let sealed = ring
        .current()
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: plain,
                aad: &place.aad,
            },
        )
        .expect("AES-GCM seals any message below 64 GiB");
    format!(
        "{MARK}{}:{}:{}",
        ring.current_id(),
        URL_SAFE_NO_PAD.encode(nonce),
        URL_SAFE_NO_PAD.encode(sealed)
    )
}

impl super::RedisMailbox {
    /// The data of an audit entry of `partition`, opened (the chain covers it as stored).
    pub fn open_audit_data(
        &self,
        partition: Partition,
        entry: &super::AuditEntry,
    ) -> MailboxResult<String> {
        let place = Place::audit(&self.keys().audit(partition), &entry.key);
        Ok(self.sealer().open_text(&place, &entry.data)?)
    }
}
