//! A private `redis-server` per test: free port, temporary folder, killable and
//! restartable on the same port and folder (to test what survives a crash).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// How long a server may take to answer PING after being started.
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// `appendfsync` of the AOF.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fsync {
    /// fsync after every write: nothing acknowledged is lost on a crash.
    Always,
    /// fsync once a second (the production default).
    EverySec,
}

impl Fsync {
    fn as_str(self) -> &'static str {
        match self {
            Self::Always => "always",
            Self::EverySec => "everysec",
        }
    }
}

/// How to run the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RedisOptions {
    /// Append-only file on.
    pub appendonly: bool,
    /// Its fsync policy.
    pub appendfsync: Fsync,
}

impl Default for RedisOptions {
    /// No persistence: fastest, for tests that never restart the server.
    fn default() -> Self {
        Self {
            appendonly: false,
            appendfsync: Fsync::EverySec,
        }
    }
}

impl RedisOptions {
    /// AOF on with the given fsync policy.
    pub fn durable(appendfsync: Fsync) -> Self {
        Self {
            appendonly: true,
            appendfsync,
        }
    }
}

/// A running `redis-server`, killed when dropped.
pub struct RedisServer {
    child: Option<Child>,
    port: u16,
    dir: TempDir,
    options: RedisOptions,
}

impl RedisServer {
    /// Start a server without persistence.
    pub fn start() -> Self {
        Self::start_with(RedisOptions::default())
    }

    /// Start a server with `options` on a free port in a new temporary folder.
    pub fn start_with(options: RedisOptions) -> Self {
        let mut dir = tempfile::Builder::new()
            .prefix("tradehub-redis-")
            .tempdir()
            .expect("create a temporary folder for redis-server");
        // Another process can take the port between probing and binding it; try
        // a few ports before giving up.
        let mut last_error = String::new();
        for _ in 0..5 {
            let port = free_port();
            let mut server = Self {
                child: None,
                port,
                dir,
                options,
            };
            match server.spawn_and_wait() {
                Ok(()) => return server,
                Err(e) => {
                    last_error = e;
                    dir = std::mem::replace(
                        &mut server.dir,
                        tempfile::tempdir().expect("create a temporary folder"),
                    );
                }
            }
        }
        panic!("redis-server did not start: {last_error}");
    }

    /// `redis://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Kill the server with SIGKILL (no chance to flush anything) and reap it.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            // std's kill sends SIGKILL on Unix.
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Kill the server if it runs, then start it again on the same port and
    /// folder, and wait until it answers PING (its data loaded).
    pub fn restart(&mut self) {
        self.kill();
        let deadline = Instant::now() + START_TIMEOUT;
        // The port can stay briefly unavailable after the kill; retry until bound.
        loop {
            match self.spawn_and_wait() {
                Ok(()) => return,
                Err(e) => {
                    self.kill();
                    assert!(
                        Instant::now() < deadline,
                        "redis-server did not restart on port {}: {e}",
                        self.port
                    );
                }
            }
        }
    }

    fn spawn_and_wait(&mut self) -> Result<(), String> {
        let dir = self.dir.path();
        let mut command = Command::new("redis-server");
        command
            .arg("--port")
            .arg(self.port.to_string())
            .arg("--bind")
            .arg("127.0.0.1")
            .arg("--dir")
            .arg(dir)
            .arg("--save")
            .arg("")
            .arg("--appendonly")
            .arg(if self.options.appendonly { "yes" } else { "no" })
            .arg("--appendfsync")
            .arg(self.options.appendfsync.as_str())
            .arg("--protected-mode")
            .arg("no")
            .arg("--daemonize")
            .arg("no")
            .arg("--logfile")
            .arg(dir.join("redis.log"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let child = match command.spawn() {
            Ok(child) => child,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!(
                "redis-server is not installed (the integration tests start their own): \
                 install it with `apt-get install redis-server`"
            ),
            Err(e) => panic!("cannot start redis-server: {e}"),
        };
        self.child = Some(child);
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                self.child = None;
                let log = std::fs::read_to_string(dir.join("redis.log")).unwrap_or_default();
                return Err(format!("exited with {status}; log:\n{log}"));
            }
            if ping(self.port) {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "no PONG on port {} within {START_TIMEOUT:?}",
                    self.port
                ));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A port nobody listened on a moment ago.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("find a free port")
}

/// Whether a server on `port` answers PING with PONG (not LOADING or an error).
fn ping(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    if stream.write_all(b"PING\r\n").is_err() {
        return false;
    }
    let mut buf = [0u8; 64];
    matches!(stream.read(&mut buf), Ok(n) if buf[..n].starts_with(b"+PONG"))
}
