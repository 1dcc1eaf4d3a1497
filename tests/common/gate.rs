//! The API's gate for tests that mount the API in process: the token store on the test's Redis,
//! a fixed 32-byte pepper and the default limits.

use tradehub::auth::{Gate, Pepper};
use tradehub::config::AuthConfig;
use tradehub::secret::Secret;
use tradehub::store::RedisMailbox;

/// A gate serving tokens stored beside `mailbox`'s keys.
pub fn serving(mailbox: &RedisMailbox) -> Gate {
    let pepper = Pepper::new("pepper", Secret::new("p".repeat(32))).expect("32 bytes");
    Gate::serving(mailbox, pepper, &AuthConfig::default())
}
