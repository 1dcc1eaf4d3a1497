//! A private `redis-server` in a temporary folder, for the benchmark, the demo
//! and the tests that must kill and restart Redis.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Why a private Redis could not be started.
#[derive(Debug, thiserror::Error)]
pub enum RedisServerError {
    /// The binary is not installed.
    #[error(
        "redis-server is not installed or not on PATH ({0}); install it with `apt-get install redis-server`"
    )]
    Missing(std::io::Error),
    /// Something else went wrong while starting it.
    #[error("redis-server on port {port}: {reason}")]
    Start {
        /// The port it was started on.
        port: u16,
        /// What went wrong.
        reason: String,
    },
}

/// How the private Redis persists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Persistence {
    /// No persistence at all.
    None,
    /// AOF with `appendfsync everysec`, the production default.
    AofEverySec,
    /// AOF with `appendfsync always`: every acknowledged write is on disk.
    AofAlways,
}

/// A `redis-server` child process on a free loopback port; killed on drop.
#[derive(Debug)]
pub struct RedisServer {
    child: Option<Child>,
    port: u16,
    dir: PathBuf,
    persistence: Persistence,
    _tempdir: Option<tempfile::TempDir>,
}

impl RedisServer {
    /// Start one in a new temporary folder.
    pub fn start(persistence: Persistence) -> Result<Self, RedisServerError> {
        let tempdir = tempfile::tempdir().map_err(|e| RedisServerError::Start {
            port: 0,
            reason: format!("temporary folder: {e}"),
        })?;
        let port = free_port().map_err(|e| RedisServerError::Start {
            port: 0,
            reason: format!("no free port: {e}"),
        })?;
        let mut server = Self {
            child: None,
            port,
            dir: tempdir.path().to_path_buf(),
            persistence,
            _tempdir: Some(tempdir),
        };
        server.spawn()?;
        Ok(server)
    }

    /// The `redis://` URL of the server.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The folder holding its data files.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Kill it with SIGKILL (no shutdown save) and wait for the process to end.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            drop(child.kill());
            drop(child.wait());
        }
    }

    /// Start it again on the same port and folder, replaying its AOF.
    pub fn restart(&mut self) -> Result<(), RedisServerError> {
        self.kill();
        self.spawn()
    }

    fn spawn(&mut self) -> Result<(), RedisServerError> {
        let mut command = Command::new("redis-server");
        command
            .arg("--port")
            .arg(self.port.to_string())
            .arg("--bind")
            .arg("127.0.0.1")
            .arg("--dir")
            .arg(&self.dir)
            .arg("--save")
            .arg("")
            .arg("--protected-mode")
            .arg("no");
        match self.persistence {
            Persistence::None => command.args(["--appendonly", "no"]),
            Persistence::AofEverySec => {
                command.args(["--appendonly", "yes", "--appendfsync", "everysec"])
            }
            Persistence::AofAlways => {
                command.args(["--appendonly", "yes", "--appendfsync", "always"])
            }
        };
        let child = command
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(RedisServerError::Missing)?;
        self.child = Some(child);
        self.wait_ready(Duration::from_secs(10))
    }

    fn wait_ready(&mut self, bound: Duration) -> Result<(), RedisServerError> {
        let start = Instant::now();
        let url = self.url();
        loop {
            let answered = redis::Client::open(url.as_str())
                .and_then(|client| client.get_connection_with_timeout(Duration::from_millis(200)))
                .and_then(|mut conn| redis::cmd("PING").query::<String>(&mut conn));
            match answered {
                Ok(_) => return Ok(()),
                Err(e) if start.elapsed() > bound => {
                    return Err(RedisServerError::Start {
                        port: self.port,
                        reason: format!("did not answer PING within {bound:?}: {e}"),
                    });
                }
                Err(_) => {
                    if let Some(child) = self.child.as_mut()
                        && let Ok(Some(status)) = child.try_wait()
                    {
                        return Err(RedisServerError::Start {
                            port: self.port,
                            reason: format!("exited at start with {status}"),
                        });
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A port nothing listens on now (the OS picks it; another process may take it before use).
pub fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}
