//! The keys the audit chain and its anchors are signed with: HMAC-SHA256 under a key that never
//! reaches Redis, named by an id so that it can rotate (new entries use the current key, entries
//! signed by an older one verify while that key stays listed).

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::secret::Secret;

/// An audit key and its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditKey {
    id: String,
    secret: Secret,
}

/// Why an audit key cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuditKeyError {
    /// Neither the environment variable nor the file holds it.
    #[error("audit key {id:?}: {source_name} is not set")]
    Missing {
        /// The key's id.
        id: String,
        /// The variable or file that should hold it.
        source_name: String,
    },
    /// The file that should hold it cannot be read.
    #[error("audit key {id:?}: cannot read {file}: {reason}")]
    Unreadable {
        /// The key's id.
        id: String,
        /// The file.
        file: String,
        /// Why.
        reason: String,
    },
    /// It is too short to key an HMAC safely.
    #[error("audit key {id:?} from {source_name} holds {len} bytes; it needs at least {min}", min = AuditKey::MIN_LEN)]
    Short {
        /// The key's id.
        id: String,
        /// The variable or file it came from.
        source_name: String,
        /// How long it is.
        len: usize,
    },
    /// Its id is empty or holds characters that do not belong in a stream field.
    #[error("audit key id {0:?} must be 1 to 64 letters, digits, `-`, `_` or `.`")]
    Id(String),
}

impl AuditKey {
    /// The shortest key accepted, in bytes.
    pub const MIN_LEN: usize = 32;

    /// The key `secret` under `id`; `source_name` (a variable or file) only names it in errors.
    pub fn new(id: &str, secret: Secret, source_name: &str) -> Result<Self, AuditKeyError> {
        let valid = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
        if id.is_empty() || id.len() > 64 || !id.chars().all(valid) {
            return Err(AuditKeyError::Id(id.to_owned()));
        }
        let len = secret.as_bytes().len();
        if len < Self::MIN_LEN {
            return Err(AuditKeyError::Short {
                id: id.to_owned(),
                source_name: source_name.to_owned(),
                len,
            });
        }
        Ok(Self {
            id: id.to_owned(),
            secret,
        })
    }

    /// The key's id, stored beside each MAC it made.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The HMAC of `domain` (what is signed: an entry, an anchor, a base) and `fields`, each
    /// length-prefixed so that no two field lists read alike.
    fn mac(&self, domain: &str, fields: &[&str]) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.secret.as_bytes())
            .unwrap_or_else(|_| unreachable!("HMAC accepts every key length"));
        for field in std::iter::once(&domain).chain(fields) {
            mac.update(field.len().to_string().as_bytes());
            mac.update(b":");
            mac.update(field.as_bytes());
        }
        mac
    }
}

/// The current key, which signs, and the older keys still needed to verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditKeys {
    current: AuditKey,
    previous: Vec<AuditKey>,
}

/// A MAC and the id of the key that made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    /// The key's id.
    pub kid: String,
    /// HMAC-SHA256, lowercase hex.
    pub mac: String,
}

impl AuditKeys {
    /// `current` signs; `previous` only verify.
    pub fn new(current: AuditKey, previous: Vec<AuditKey>) -> Self {
        Self { current, previous }
    }

    /// A random key that exists only in this process, for a mailbox given no keys (tests,
    /// benchmarks, tools that only read): what it signs, only this process can verify.
    pub fn ephemeral() -> Self {
        let bytes: [u8; 32] = rand::random();
        let id = format!("ephemeral-{}", hex::encode(&bytes[..4]));
        let current = AuditKey {
            id,
            secret: Secret::new(hex::encode(bytes)),
        };
        Self::new(current, Vec::new())
    }

    /// The id of the key that signs.
    pub fn current_id(&self) -> &str {
        self.current.id()
    }

    /// Sign `fields` of a `domain` with the current key.
    pub fn sign(&self, domain: &str, fields: &[&str]) -> Signature {
        Signature {
            kid: self.current.id.clone(),
            mac: hex::encode(self.current.mac(domain, fields).finalize().into_bytes()),
        }
    }

    /// Check `signature` over `fields` of a `domain`, in time that does not depend on where a
    /// MAC differs.
    pub fn verify(
        &self,
        domain: &str,
        fields: &[&str],
        signature: &Signature,
    ) -> Result<(), String> {
        let key = std::iter::once(&self.current)
            .chain(&self.previous)
            .find(|k| k.id == signature.kid)
            .ok_or_else(|| {
                format!(
                    "signed with key {:?}, which is not configured",
                    signature.kid
                )
            })?;
        let Ok(mac) = hex::decode(&signature.mac) else {
            return Err("the MAC is not hex".to_owned());
        };
        key.mac(domain, fields)
            .verify_slice(&mac)
            .map_err(|_| format!("the MAC does not match under key {:?}", signature.kid))
    }
}
