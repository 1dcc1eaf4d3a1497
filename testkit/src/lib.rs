//! A private `redis-server` in a temporary folder, for the benchmark, the demo
//! and the tests that must kill and restart Redis.
//!
//! Tests reach it on a unix socket in its folder, so that no two servers can race for a
//! port. The benchmark and the demo talk TCP like production does; a TCP server is started
//! on a random loopback port and again on another one when that port turns out to be taken.
//!
//! [`idp`] is a test identity provider: JWTs signed with test-only keys, their JWKS, and forgeries.
//! With feature `certs`, [`certs`] makes throwaway CAs and certificates for TLS tests.
//! [`hostile`] builds the documents the parsers' limits are tested and benchmarked with.

#[cfg(feature = "certs")]
pub mod certs;
pub mod hostile;
pub mod idp;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rand::Rng;

/// Why a private Redis could not be started.
#[derive(Debug, thiserror::Error)]
pub enum RedisServerError {
    /// The binary is not installed.
    #[error(
        "redis-server is not installed or not on PATH ({0}); install it with `apt-get install redis-server`"
    )]
    Missing(std::io::Error),
    /// Something else went wrong while starting it.
    #[error("redis-server at {at}: {reason}")]
    Start {
        /// Where it was to listen (socket path or port), or its folder when it had none yet.
        at: String,
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

/// Where a private Redis listens.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Listener {
    /// A unix socket (`--port 0`: no TCP at all).
    Socket(PathBuf),
    /// A loopback TCP port.
    Tcp(u16),
}

/// Loopback ports tried for TCP servers: below Linux's ephemeral range (32768–60999), so that
/// the kernel does not hand them to outgoing connections.
const TCP_PORTS: std::ops::Range<u16> = 20_000..32_768;

/// How many ports a TCP server tries before giving up.
const TCP_ATTEMPTS: usize = 20;

/// What redis-server logs when its port is taken.
const PORT_TAKEN: &str = "Address already in use";

/// A `redis-server` child process on a unix socket or a loopback port; killed on drop.
#[derive(Debug)]
pub struct RedisServer {
    child: Option<Child>,
    listener: Listener,
    dir: PathBuf,
    persistence: Persistence,
    _tempdir: Option<tempfile::TempDir>,
}

impl RedisServer {
    /// Start one on a unix socket in a new temporary folder.
    pub fn start(persistence: Persistence) -> Result<Self, RedisServerError> {
        let tempdir = temporary_folder()?;
        let socket = tempdir.path().join("redis.sock");
        let mut server = Self::new(Listener::Socket(socket), tempdir, persistence);
        server.spawn()?;
        Ok(server)
    }

    /// Start one on a loopback TCP port in a new temporary folder; when the port turns out to
    /// be taken, again on another one.
    pub fn start_tcp(persistence: Persistence) -> Result<Self, RedisServerError> {
        let tempdir = temporary_folder()?;
        let mut server = Self::new(Listener::Tcp(random_port()), tempdir, persistence);
        let mut attempt = 1;
        loop {
            match server.spawn() {
                Err(RedisServerError::Start { reason, .. })
                    if reason.contains(PORT_TAKEN) && attempt < TCP_ATTEMPTS =>
                {
                    attempt += 1;
                    server.listener = Listener::Tcp(random_port());
                }
                Err(error) => return Err(error),
                Ok(()) => return Ok(server),
            }
        }
    }

    fn new(listener: Listener, tempdir: tempfile::TempDir, persistence: Persistence) -> Self {
        Self {
            child: None,
            listener,
            dir: tempdir.path().to_path_buf(),
            persistence,
            _tempdir: Some(tempdir),
        }
    }

    /// The server's URL: `redis+unix:///…/redis.sock` or `redis://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        match &self.listener {
            Listener::Socket(path) => format!("redis+unix://{}", path.display()),
            Listener::Tcp(port) => format!("redis://127.0.0.1:{port}"),
        }
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

    /// Start it again on the same socket or port and folder, replaying its AOF.
    pub fn restart(&mut self) -> Result<(), RedisServerError> {
        self.kill();
        self.spawn()
    }

    fn at(&self) -> String {
        match &self.listener {
            Listener::Socket(path) => path.display().to_string(),
            Listener::Tcp(port) => format!("port {port}"),
        }
    }

    fn log(&self) -> PathBuf {
        self.dir.join("redis.log")
    }

    fn spawn(&mut self) -> Result<(), RedisServerError> {
        let mut command = Command::new("redis-server");
        match &self.listener {
            Listener::Socket(path) => command
                .args(["--port", "0", "--unixsocket"])
                .arg(path)
                .args(["--unixsocketperm", "700"]),
            Listener::Tcp(port) => command
                .arg("--port")
                .arg(port.to_string())
                .args(["--bind", "127.0.0.1"]),
        };
        command
            .arg("--dir")
            .arg(&self.dir)
            .arg("--logfile")
            .arg(self.log())
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
        // A log of an earlier start would tell about that one, not this one.
        drop(std::fs::remove_file(self.log()));
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
                        at: self.at(),
                        reason: format!("did not answer PING within {bound:?}: {e}"),
                    });
                }
                Err(_) => {
                    if let Some(child) = self.child.as_mut()
                        && let Ok(Some(status)) = child.try_wait()
                    {
                        self.child = None;
                        let log = std::fs::read_to_string(self.log()).unwrap_or_default();
                        return Err(RedisServerError::Start {
                            at: self.at(),
                            reason: format!("exited at start with {status}; its log:\n{log}"),
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

fn temporary_folder() -> Result<tempfile::TempDir, RedisServerError> {
    tempfile::tempdir().map_err(|e| RedisServerError::Start {
        at: std::env::temp_dir().display().to_string(),
        reason: format!("temporary folder: {e}"),
    })
}

fn random_port() -> u16 {
    rand::rng().random_range(TCP_PORTS)
}
