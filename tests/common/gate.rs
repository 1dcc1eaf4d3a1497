//! The API's gate for tests that mount the API in process: the token store on the test's Redis,
//! a fixed 32-byte pepper and the default limits, and tokens issued under that pepper.

use std::sync::Arc;

use tradehub::auth::{Gate, Pepper, Role, Tokens};
use tradehub::config::AuthConfig;
use tradehub::secret::Secret;
use tradehub::store::RedisMailbox;
use tradehub_actors::clock::SystemClock;

fn pepper() -> Pepper {
    Pepper::new("pepper", Secret::new("p".repeat(32))).expect("32 bytes")
}

/// A gate serving tokens stored beside `mailbox`'s keys.
pub fn serving(mailbox: &RedisMailbox) -> Gate {
    Gate::serving(mailbox, pepper(), &AuthConfig::default())
}

/// A new token holding `role`, labelled `label`, as an `Authorization` header value.
pub async fn bearer(mailbox: &RedisMailbox, role: Role, label: &str) -> String {
    let tokens = Tokens::new(mailbox, pepper(), Arc::new(SystemClock));
    let (_, token) = tokens
        .create([role].into_iter().collect(), label, None)
        .await
        .expect("a token");
    format!("Bearer {}", token.reveal())
}
