//! The addresses a `tradehub serve` process bound, told to the process that started it
//! (`serve --addr-file PATH`): with `127.0.0.1:0` in the configuration the OS picks free ports,
//! and the parent learns them from this file instead of guessing a free port beforehand.

use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Where the API and the metrics listeners are bound; written as `{"api": "...", "metrics": "..."}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServeAddrs {
    /// The API listener.
    pub api: SocketAddr,
    /// The `/metrics` listener.
    pub metrics: SocketAddr,
}

impl ServeAddrs {
    /// Write the file whole: into a sibling first, then renamed over `path`, so that a reader
    /// never sees half of it.
    pub fn write(&self, path: &Path) -> io::Result<()> {
        let mut partial = path.as_os_str().to_owned();
        partial.push(".partial");
        let partial = PathBuf::from(partial);
        std::fs::write(&partial, serde_json::to_vec(self)?)?;
        std::fs::rename(&partial, path)
    }

    /// The addresses in the file at `path`; `None` while it is not written yet.
    pub fn read(path: &Path) -> io::Result<Option<Self>> {
        match std::fs::read(path) {
            Ok(bytes) => Ok(Some(serde_json::from_slice(&bytes)?)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }
}
