//! The signature over time and body: `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>`.
//! The hub signs its own requests with it (`[outbound_auth] kind = "hmac"`); partners' callbacks
//! to the hub are verified in the same shape.

use hmac::{Hmac, Mac};

/// The header value signing `body` at `unix` seconds with `secret`.
pub fn signature(secret: &[u8], unix: u64, body: &[u8]) -> String {
    let mut mac =
        Hmac::<sha2::Sha256>::new_from_slice(secret).expect("HMAC accepts keys of any length");
    mac.update(unix.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("t={unix},v1={}", hex::encode(mac.finalize().into_bytes()))
}
