//! A private `redis-server` per test (a unix socket in a temporary folder, killable and
//! restartable on the same socket and folder), over the launcher the benchmark and the demo
//! use; failures to start end the test with the reason.

use std::sync::atomic::{AtomicU32, Ordering};

pub use tradehub_testkit::Persistence;

/// A running `redis-server`, killed when dropped.
pub struct RedisServer(tradehub_testkit::RedisServer);

impl RedisServer {
    /// Start a server without persistence.
    pub fn start() -> Self {
        Self::start_with(Persistence::None)
    }

    /// Start a server persisting as asked.
    pub fn start_with(persistence: Persistence) -> Self {
        Self(tradehub_testkit::RedisServer::start(persistence).unwrap_or_else(|e| panic!("{e}")))
    }

    /// Its `redis+unix://` URL.
    pub fn url(&self) -> String {
        self.0.url()
    }

    /// SIGKILL it: no shutdown save, only what the AOF already holds survives.
    pub fn kill(&mut self) {
        self.0.kill();
    }

    /// Start it again on the same socket and folder.
    pub fn restart(&mut self) {
        self.0.restart().unwrap_or_else(|e| panic!("{e}"));
    }
}

/// A key prefix that no other test uses, in this process or another one sharing a Redis:
/// `tag`, the process id and a counter of this process.
pub fn unique_prefix(tag: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("{tag}{}-{n}", std::process::id())
}
