//! Request signatures over time and body, `t=<unix seconds>,v1=<hex>`: how brokers and carriers
//! sign their callbacks to the hub, and how the hub signs its own requests to partners.
//!
//! `v1` is the hex HMAC-SHA256, keyed with the shared secret, of the decimal timestamp, a dot and
//! the raw body (`"<t>." + body`). A signature is therefore bound to one body at one time: the
//! receiver refuses a timestamp further than its tolerance from its own clock, and remembers the
//! signatures it accepted within that window (see [`crate::store::callbacks::first_sighting`]).
//! While a sender rotates its secret it may sign with both, one `v1=` each:
//! `t=1764930000,v1=<new>,v1=<old>`.
//!
//! Comparisons run in constant time (`Mac::verify_slice`). An error names what is wrong with the
//! header, never a secret, an expected signature or the value received.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use sha2::Sha256;

#[cfg(test)]
mod tests;

/// The default tolerance between a signature's time and the receiver's clock: 5 minutes.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(300);

/// The most `v1=` values a header may carry (a sender rotating signs with two).
pub const MAX_SIGNATURES: usize = 4;

/// Bytes of one HMAC-SHA256.
const MAC_LEN: usize = 32;

/// A signature header, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureHeader {
    /// When the sender signed, in seconds since the Unix epoch.
    pub timestamp: u64,
    /// The `v1=` values, decoded, in header order.
    pub signatures: Vec<[u8; MAC_LEN]>,
}

/// A header that verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified {
    /// When the sender signed, in seconds since the Unix epoch.
    pub timestamp: u64,
    /// Which of the secrets given to [`verify`] matched (0: the first).
    pub secret: usize,
}

/// Why a signature header is refused. The messages complete a sentence that starts with the
/// header's name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The header is not `t=<unix seconds>,v1=<hex>[,v1=<hex>…]`.
    #[error("is malformed: {0} (expected t=<unix seconds>,v1=<64 hex digits>)")]
    Malformed(String),
    /// The timestamp is further from the receiver's clock than the tolerance.
    #[error(
        "was signed at t={timestamp}, {seconds} s {direction} this hub's clock; at most {tolerance} s is accepted"
    )]
    OutsideWindow {
        /// The header's timestamp.
        timestamp: u64,
        /// How far from the receiver's clock.
        seconds: u64,
        /// `before` or `after`.
        direction: &'static str,
        /// The tolerance, in seconds.
        tolerance: u64,
    },
    /// No `v1=` value is the HMAC of the timestamp and body under any of the secrets.
    #[error("does not match the HMAC-SHA256 of its t and the body under this partner's secret")]
    Mismatch,
}

/// Seconds since the Unix epoch by the system clock.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn mac(secret: &[u8], timestamp: u64, body: &[u8]) -> Hmac<Sha256> {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret).expect("HMAC-SHA256 accepts keys of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The hex `v1` value of `body` signed at `timestamp` with `secret`.
pub fn signature_hex(secret: &[u8], timestamp: u64, body: &[u8]) -> String {
    hex::encode(mac(secret, timestamp, body).finalize().into_bytes())
}

/// The header value signing `body` at `timestamp` with `secret`: `t=<timestamp>,v1=<hex>`.
pub fn sign(secret: &[u8], timestamp: u64, body: &[u8]) -> String {
    sign_each(&[secret], timestamp, body)
}

/// The header value signing `body` at `timestamp` with each of `secrets`, one `v1=` each (a
/// sender rotating its secret signs with the new and the old one).
pub fn sign_each(secrets: &[&[u8]], timestamp: u64, body: &[u8]) -> String {
    let mut header = format!("t={timestamp}");
    for secret in secrets {
        header.push_str(",v1=");
        header.push_str(&signature_hex(secret, timestamp, body));
    }
    header
}

/// Parses `t=<unix seconds>,v1=<hex>[,v1=<hex>…]`: exactly one `t` (decimal, no leading zero), one
/// to [`MAX_SIGNATURES`] `v1` of 64 hex digits, nothing else; spaces around elements are allowed.
pub fn parse(header: &str) -> Result<SignatureHeader, SignatureError> {
    let malformed = |what: String| Err(SignatureError::Malformed(what));
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for (n, element) in header.split(',').enumerate() {
        let position = n + 1;
        let Some((name, value)) = element.trim().split_once('=') else {
            return malformed(format!("element {position} is not name=value"));
        };
        match name {
            "t" => {
                if timestamp.is_some() {
                    return malformed("t= appears more than once".to_owned());
                }
                let canonical = !value.is_empty()
                    && value.bytes().all(|b| b.is_ascii_digit())
                    && (value == "0" || !value.starts_with('0'));
                match value.parse::<u64>() {
                    Ok(t) if canonical => timestamp = Some(t),
                    _ => return malformed("t= is not a decimal count of seconds".to_owned()),
                }
            }
            "v1" => {
                if signatures.len() == MAX_SIGNATURES {
                    return malformed(format!("more than {MAX_SIGNATURES} v1= values"));
                }
                let mut signature = [0; MAC_LEN];
                if hex::decode_to_slice(value, &mut signature).is_err() {
                    return malformed(format!("element {position} (v1=) is not 64 hex digits"));
                }
                signatures.push(signature);
            }
            _ => return malformed(format!("element {position} is neither t= nor v1=")),
        }
    }
    let Some(timestamp) = timestamp else {
        return malformed("no t=".to_owned());
    };
    if signatures.is_empty() {
        return malformed("no v1=".to_owned());
    }
    Ok(SignatureHeader {
        timestamp,
        signatures,
    })
}

/// Checks `header` against `body`: well formed, one `v1` matching under one of `secrets`, and its
/// timestamp within `tolerance` of `now` (seconds since the Unix epoch), either way.
pub fn verify(
    header: &str,
    body: &[u8],
    secrets: &[&[u8]],
    now: u64,
    tolerance: Duration,
) -> Result<Verified, SignatureError> {
    let parsed = parse(header)?;
    let secret = secrets
        .iter()
        .position(|secret| {
            let expected = mac(secret, parsed.timestamp, body);
            parsed
                .signatures
                .iter()
                .any(|signature| expected.clone().verify_slice(signature).is_ok())
        })
        .ok_or(SignatureError::Mismatch)?;
    let seconds = now.abs_diff(parsed.timestamp);
    if seconds > tolerance.as_secs() {
        return Err(SignatureError::OutsideWindow {
            timestamp: parsed.timestamp,
            seconds,
            direction: if parsed.timestamp < now {
                "before"
            } else {
                "after"
            },
            tolerance: tolerance.as_secs(),
        });
    }
    Ok(Verified {
        timestamp: parsed.timestamp,
        secret,
    })
}
