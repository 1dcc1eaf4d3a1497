//! API tokens: `th_<id>_<secret>`, the id 16 hex digits and the secret 64 (32 random bytes from
//! the operating system), and the keyed hash that is all the store keeps of the secret.

use std::fmt;

use hmac::{Hmac, Mac};
use rand::TryRngCore;
use rand::rngs::OsRng;
use sha2::Sha256;

use crate::secret::Secret;

const PREFIX: &str = "th";
const ID_BYTES: usize = 8;
const SECRET_BYTES: usize = 32;

/// A token with its secret: exists only between its creation (or rotation) and the moment it
/// is shown, and while a request that presented it is checked. `Debug` shows the id only.
#[derive(Clone)]
pub struct ApiToken {
    id: String,
    secret: Secret,
}

impl fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiToken")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// The operating system gave no randomness.
#[derive(Debug, thiserror::Error)]
#[error("no randomness from the operating system: {0}")]
pub struct NoRandomness(String);

fn random_hex(bytes: usize) -> Result<String, NoRandomness> {
    let mut buffer = vec![0u8; bytes];
    OsRng
        .try_fill_bytes(&mut buffer)
        .map_err(|e| NoRandomness(e.to_string()))?;
    Ok(hex::encode(buffer))
}

fn is_hex(text: &str, len: usize) -> bool {
    text.len() == len
        && text
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

impl ApiToken {
    /// A new token with a random id and secret.
    pub fn generate() -> Result<Self, NoRandomness> {
        Self::generate_for(random_hex(ID_BYTES)?)
    }

    /// A new random secret for the existing id `id` (a rotation).
    pub fn generate_for(id: String) -> Result<Self, NoRandomness> {
        Ok(Self {
            id,
            secret: Secret::new(random_hex(SECRET_BYTES)?),
        })
    }

    /// Reads a presented token; `None` when it does not have the token's shape.
    pub fn parse(text: &str) -> Option<Self> {
        let rest = text.strip_prefix(PREFIX)?.strip_prefix('_')?;
        let (id, secret) = rest.split_once('_')?;
        (is_hex(id, ID_BYTES * 2) && is_hex(secret, SECRET_BYTES * 2)).then(|| Self {
            id: id.to_owned(),
            secret: Secret::new(secret),
        })
    }

    /// Whether `text` has the shape of a token id.
    pub fn is_id(text: &str) -> bool {
        is_hex(text, ID_BYTES * 2)
    }

    /// The public part.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The whole token, to show once to whoever created it.
    pub fn reveal(&self) -> String {
        format!("{PREFIX}_{}_{}", self.id, self.secret.expose())
    }
}

/// The token pepper is missing or too short.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PepperError {
    /// The variable is unset or empty.
    #[error(
        "environment variable {0} is not set: API tokens are hashed with it (at least 32 bytes)"
    )]
    Missing(String),
    /// The value is too short to key the hash.
    #[error("environment variable {var} holds {len} bytes; the token pepper needs at least 32")]
    Short {
        /// The variable.
        var: String,
        /// How long its value is.
        len: usize,
    },
}

/// The key of the secrets' HMAC, from the environment: without it a copy of Redis does not
/// let anyone test guesses of a secret.
#[derive(Debug, Clone)]
pub struct Pepper(Secret);

impl Pepper {
    /// The shortest pepper accepted, in bytes.
    pub const MIN_LEN: usize = 32;

    /// A pepper from `secret`, which came from the variable `var`.
    pub fn new(var: &str, secret: Secret) -> Result<Self, PepperError> {
        let len = secret.as_bytes().len();
        if len < Self::MIN_LEN {
            return Err(PepperError::Short {
                var: var.to_owned(),
                len,
            });
        }
        Ok(Self(secret))
    }

    /// The pepper in environment variable `var`.
    pub fn from_env(var: &str) -> Result<Self, PepperError> {
        let secret = Secret::from_env(var).map_err(|_| PepperError::Missing(var.to_owned()))?;
        Self::new(var, secret)
    }

    fn mac(&self, id: &str, secret: &Secret) -> Hmac<Sha256> {
        // HMAC takes keys of any length; `new_from_slice` cannot fail for it.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.0.as_bytes())
            .unwrap_or_else(|_| unreachable!("HMAC accepts every key length"));
        mac.update(id.as_bytes());
        mac.update(b":");
        mac.update(secret.as_bytes());
        mac
    }

    /// The stored form of `token`'s secret: HMAC-SHA256(pepper, id:secret), hex.
    pub fn hash(&self, token: &ApiToken) -> String {
        hex::encode(self.mac(&token.id, &token.secret).finalize().into_bytes())
    }

    /// Whether `token` is the one whose stored hash is `stored`, in time that does not depend
    /// on where they differ.
    pub fn matches(&self, token: &ApiToken, stored: &str) -> bool {
        let Ok(stored) = hex::decode(stored) else {
            return false;
        };
        // `verify_slice` compares in constant time.
        self.mac(&token.id, &token.secret)
            .verify_slice(&stored)
            .is_ok()
    }
}
