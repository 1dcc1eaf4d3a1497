//! A private `redis-server` per test (free port, temporary folder, killable and
//! restartable on the same port and folder), over the launcher the benchmark
//! and the demo use; failures to start end the test with the reason.

pub use tradehub::service::redis_server::Persistence;

/// A running `redis-server`, killed when dropped.
pub struct RedisServer(tradehub::service::redis_server::RedisServer);

impl RedisServer {
    /// Start a server without persistence.
    pub fn start() -> Self {
        Self::start_with(Persistence::None)
    }

    /// Start a server persisting as asked.
    pub fn start_with(persistence: Persistence) -> Self {
        Self(
            tradehub::service::redis_server::RedisServer::start(persistence)
                .unwrap_or_else(|e| panic!("{e}")),
        )
    }

    /// Its `redis://` URL.
    pub fn url(&self) -> String {
        self.0.url()
    }

    /// SIGKILL it: no shutdown save, only what the AOF already holds survives.
    pub fn kill(&mut self) {
        self.0.kill();
    }

    /// Start it again on the same port and folder.
    pub fn restart(&mut self) {
        self.0.restart().unwrap_or_else(|e| panic!("{e}"));
    }
}
