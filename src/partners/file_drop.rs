//! Safe folder I/O for file drops, shared by the EDIFACT brokers' inboxes and outboxes and the
//! finance inbox: a partner who can write into a folder must not be able to make the hub read,
//! overwrite or publish anything outside it, nor crash it over and over with one file.
//!
//! - Only regular files directly inside the folder are read. Each is checked with `lstat`,
//!   opened with `O_NOFOLLOW` and checked again on the open handle; a symbolic link, folder,
//!   FIFO, socket or device is set aside unread (a link moves as itself, its target untouched).
//! - A file over the inbox's size cap is set aside unread, with a reason naming cap and size.
//! - A file is claimed before it is read: renamed into `processing/`, the rename flushed to disk.
//!   A file still there when a poll starts was being read by a reader that died: it is set aside
//!   with the reason [`CRASHED`] and never read again, so one file cannot crash-loop the hub.
//!   This is why one folder is read by one hub node.
//! - What the hub writes (outbox files, `.reason` files) goes through a temporary file with a
//!   random name, created exclusively with `O_NOFOLLOW`, flushed and renamed into place: a
//!   symbolic link planted at either name is replaced, never followed.
//! - Reasons name the file, the rule and the numbers, never the file's content.

use std::fs::{File, FileType, Metadata, OpenOptions};
use std::future::Future;
use std::io::{self, Read as _, Write as _};
use std::os::unix::fs::{FileTypeExt as _, MetadataExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

#[cfg(test)]
mod tests;

/// The size cap of a drop folder unless its config sets one: 16 MiB.
pub const DEFAULT_MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// The subfolder a file is claimed into while it is read.
pub const PROCESSING: &str = "processing";

/// Why a file found claimed at the start of a poll is set aside.
pub const CRASHED: &str = "crashed the reader";

/// [`DEFAULT_MAX_FILE_BYTES`], for serde defaults.
pub fn default_max_file_bytes() -> u64 {
    DEFAULT_MAX_FILE_BYTES
}

/// Why a dropped file is not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Not a regular file.
    #[error("{name}: {kind}, not a regular file; not read")]
    NotRegular {
        /// The file name.
        name: String,
        /// What it is instead: `a symbolic link`, `a FIFO`, …
        kind: &'static str,
    },
    /// Larger than the folder's cap.
    #[error("{name}: {size} bytes, over the cap of {cap} bytes (max_file_bytes); not read")]
    TooLarge {
        /// The file name.
        name: String,
        /// Its size, or what was read of it before the cap.
        size: u64,
        /// The cap.
        cap: u64,
    },
    /// Replaced by another file while it was being claimed.
    #[error("{name}: replaced by another file while it was claimed; not read")]
    Swapped {
        /// The file name.
        name: String,
    },
    /// A name that is not one plain file name inside the folder.
    #[error("{name:?}: not a plain file name; not read")]
    BadName {
        /// The name.
        name: String,
    },
    /// The file system refused.
    #[error("{name}: cannot be read: {error}")]
    Unreadable {
        /// The file name.
        name: String,
        /// The operating system's error.
        error: String,
    },
}

fn unreadable(name: &str, e: &io::Error) -> Refusal {
    if e.raw_os_error() == Some(libc::ELOOP) {
        // O_NOFOLLOW met a link put there after the lstat.
        return Refusal::NotRegular {
            name: name.to_owned(),
            kind: "a symbolic link",
        };
    }
    Refusal::Unreadable {
        name: name.to_owned(),
        error: e.to_string(),
    }
}

fn kind(t: FileType) -> &'static str {
    if t.is_symlink() {
        "a symbolic link"
    } else if t.is_dir() {
        "a folder"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_block_device() || t.is_char_device() {
        "a device"
    } else {
        "a regular file"
    }
}

fn plain(name: &str) -> Result<(), Refusal> {
    if name.is_empty() || name == "." || name == ".." || name.contains(['/', '\0']) {
        return Err(Refusal::BadName {
            name: name.to_owned(),
        });
    }
    Ok(())
}

/// Checks metadata taken without following links: a regular file within the cap.
fn check(name: &str, meta: &Metadata, cap: u64) -> Result<(), Refusal> {
    if !meta.file_type().is_file() {
        return Err(Refusal::NotRegular {
            name: name.to_owned(),
            kind: kind(meta.file_type()),
        });
    }
    if meta.len() > cap {
        return Err(Refusal::TooLarge {
            name: name.to_owned(),
            size: meta.len(),
            cap,
        });
    }
    Ok(())
}

/// Reads `dir/name` if it is a regular file of at most `cap` bytes, without following a link
/// and without reading a byte of a file over the cap.
pub fn read_regular(dir: &Path, name: &str, cap: u64) -> Result<Vec<u8>, Refusal> {
    plain(name)?;
    let meta = std::fs::symlink_metadata(dir.join(name)).map_err(|e| unreadable(name, &e))?;
    read_checked(dir, name, cap, &meta)
}

/// Reads `dir/name` if it opens, without following a link, as the very file `seen` describes
/// (same device and inode), a regular file within the cap: whatever was swapped in after `seen`
/// was taken, even through a folder replaced by a link, is refused.
fn read_checked(dir: &Path, name: &str, cap: u64, seen: &Metadata) -> Result<Vec<u8>, Refusal> {
    check(name, seen, cap)?;
    let path = dir.join(name);
    // O_NONBLOCK: a FIFO swapped in after the lstat must not block the open.
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(&path)
        .map_err(|e| unreadable(name, &e))?;
    let meta = file.metadata().map_err(|e| unreadable(name, &e))?;
    check(name, &meta, cap)?;
    if (meta.dev(), meta.ino()) != (seen.dev(), seen.ino()) {
        return Err(Refusal::Swapped {
            name: name.to_owned(),
        });
    }
    let mut bytes = Vec::new();
    file.take(cap.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| unreadable(name, &e))?;
    let size = bytes.len() as u64;
    if size > cap {
        // It grew after the check.
        return Err(Refusal::TooLarge {
            name: name.to_owned(),
            size,
            cap,
        });
    }
    Ok(bytes)
}

/// The name a write of `name` goes through: hidden, random, never reused.
pub fn temp_name(name: &str) -> String {
    format!(".{name}.{:016x}.tmp", rand::random::<u64>())
}

fn invalid(refusal: Refusal) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, refusal.to_string())
}

/// Writes `bytes` to `dir/name` atomically: a new temporary file with a random name (created
/// exclusively, never through a link), flushed to disk, then renamed over `name`, so the name
/// never shows a partial file and a link planted at either name is replaced, not followed.
pub fn write_atomically(dir: &Path, name: &str, bytes: &[u8]) -> io::Result<PathBuf> {
    plain(name).map_err(invalid)?;
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(temp_name(name));
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(&tmp)?;
    let target = dir.join(name);
    let written = file
        .write_all(bytes)
        .and_then(|()| file.sync_all())
        .and_then(|()| std::fs::rename(&tmp, &target));
    if let Err(e) = written {
        // Ours: made by create_new above.
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    sync_dir(dir)?;
    Ok(target)
}

/// Flushes a folder, so that a rename in it survives a crash of the machine.
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// `dir/name` as a real folder (made if missing); a link or file there is refused, so nothing
/// set aside can be sent elsewhere through it.
fn subdir(dir: &Path, name: &str) -> io::Result<PathBuf> {
    let sub = dir.join(name);
    match std::fs::create_dir(&sub) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e),
    }
    let meta = std::fs::symlink_metadata(&sub)?;
    if meta.is_dir() {
        Ok(sub)
    } else {
        Err(io::Error::other(format!(
            "{} is {}, not a folder; refused",
            sub.display(),
            kind(meta.file_type())
        )))
    }
}

fn taken(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok()
}

/// Moves `from/name` into `to`, under its name or the first free `name.<n>` (nothing there is
/// replaced), with `<target>.reason` beside it when given, written first so that a file set
/// aside is never without its reason.
fn move_to(from: &Path, name: &str, to: &Path, reason: Option<&str>) -> io::Result<PathBuf> {
    let mut target = name.to_owned();
    let mut n = 1;
    while taken(&to.join(&target)) || taken(&to.join(format!("{target}.reason"))) {
        target = format!("{name}.{n}");
        n += 1;
    }
    if let Some(reason) = reason {
        write_atomically(to, &format!("{target}.reason"), reason.as_bytes())?;
    }
    let target = to.join(target);
    std::fs::rename(from.join(name), &target)?;
    sync_dir(to)?;
    sync_dir(from)?;
    Ok(target)
}

/// The names of the entries of `dir` that are not folders, oldest name first; hidden names are
/// skipped and `wanted` picks among the others. An unreadable folder has none.
pub fn waiting(dir: &Path, wanted: impl Fn(&str) -> bool) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| !t.is_dir()))
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| !n.starts_with('.') && wanted(n))
        .collect();
    names.sort();
    names
}

/// A file set aside or done with, past its time ([`Inbox::expired`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpiredFile {
    /// The subfolder it is in.
    pub folder: PathBuf,
    /// Its name.
    pub name: String,
    /// Its size.
    pub size: u64,
    /// When it last changed, in milliseconds since the Unix epoch.
    pub modified_ms: u64,
    /// Its bytes; `None` for a link, or a file over the cap.
    pub content: Option<Vec<u8>>,
}

/// What [`Inbox::take`] found.
#[derive(Debug)]
pub enum Taken {
    /// The file's bytes; the file waits in `processing/` for [`Inbox::finish`] or
    /// [`Inbox::release`].
    Read(Vec<u8>),
    /// Set aside unread, for this reason.
    Refused(String),
    /// Not taken: gone meanwhile, or the folder could not be used (logged).
    Skipped,
}

/// What [`Inbox::drain`] did.
#[derive(Debug)]
pub struct Drained<T> {
    /// What the handler made of each file it accepted.
    pub kept: Vec<T>,
    /// Files set aside: refused, found crashed, or refused by the handler.
    pub failed: usize,
    /// Files left for the next poll.
    pub more: bool,
}

/// One drop folder read by the hub: files arrive in `dir`, move through `processing/` and end
/// in `done` or `failed` (each a subfolder of `dir`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inbox {
    dir: PathBuf,
    done: &'static str,
    failed: &'static str,
    max_bytes: u64,
}

impl Inbox {
    /// The folder `dir`, moving files read to `dir/<done>` and set aside to `dir/<failed>`,
    /// refusing files over `max_bytes`.
    pub fn new(dir: PathBuf, done: &'static str, failed: &'static str, max_bytes: u64) -> Self {
        Self {
            dir,
            done,
            failed,
            max_bytes,
        }
    }

    /// Moves `from/name` into the subfolder `to`; a failure is logged and leaves the file.
    fn move_into(&self, from: &Path, name: &str, to: &str, reason: Option<&str>) {
        let moved = subdir(&self.dir, to).and_then(|to| move_to(from, name, &to, reason));
        if let Err(e) = moved {
            tracing::error!(folder = %from.display(), file = name, error = %e, "cannot move the file; it stays where it is");
        }
    }

    /// `processing/`, checked to be a real folder; a failure is logged.
    fn processing(&self) -> Option<PathBuf> {
        subdir(&self.dir, PROCESSING)
            .inspect_err(|e| {
                tracing::error!(folder = %self.dir.display(), error = %e, "cannot use the folder of claimed files");
            })
            .ok()
    }

    fn refuse(&self, from: &Path, name: &str, refusal: &Refusal) -> Taken {
        let reason = refusal.to_string();
        self.move_into(from, name, self.failed, Some(&reason));
        Taken::Refused(reason)
    }

    /// Sets aside every file left claimed in `processing/` by a reader that never finished it,
    /// with the reason [`CRASHED`]; returns how many.
    pub fn recover(&self) -> usize {
        let Some(processing) = self.processing() else {
            return 0;
        };
        let names = waiting(&processing, |_| true);
        for name in &names {
            tracing::error!(folder = %self.dir.display(), file = name, "a file was being read when the reader stopped; set aside, not read again");
            let reason =
                format!("{name}: {CRASHED} (found claimed in {PROCESSING}/); not read again");
            self.move_into(&processing, name, self.failed, Some(&reason));
        }
        names.len()
    }

    /// The files waiting, oldest name first; see [`waiting`].
    pub fn waiting(&self, wanted: impl Fn(&str) -> bool) -> Vec<String> {
        waiting(&self.dir, wanted)
    }

    /// Claims `name` (moved to `processing/`, durably) and reads it; a file that is not a
    /// regular file within the cap is set aside unread.
    pub fn take(&self, name: &str) -> Taken {
        if let Err(refusal) = plain(name) {
            return Taken::Refused(refusal.to_string());
        }
        let seen = match std::fs::symlink_metadata(self.dir.join(name)) {
            Ok(meta) => meta,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Taken::Skipped,
            Err(e) => return self.refuse(&self.dir, name, &unreadable(name, &e)),
        };
        if let Err(refusal) = check(name, &seen, self.max_bytes) {
            return self.refuse(&self.dir, name, &refusal);
        }
        let Some(processing) = self.processing() else {
            return Taken::Skipped;
        };
        let claimed = std::fs::rename(self.dir.join(name), processing.join(name))
            .and_then(|()| sync_dir(&processing))
            .and_then(|()| sync_dir(&self.dir));
        if let Err(e) = claimed {
            tracing::warn!(folder = %self.dir.display(), file = name, error = %e, "cannot claim the file; left for the next poll");
            return Taken::Skipped;
        }
        // A rename keeps the inode: what is read is the file that was checked in the folder.
        match read_checked(&processing, name, self.max_bytes, &seen) {
            Ok(bytes) => Taken::Read(bytes),
            Err(refusal) => self.refuse(&processing, name, &refusal),
        }
    }

    /// Ends a claim: the file moves to `done`, or to `failed` with `reason`.
    pub fn finish(&self, name: &str, reason: Option<&str>) {
        let to = if reason.is_some() {
            self.failed
        } else {
            self.done
        };
        if let Some(processing) = self.processing() {
            self.move_into(&processing, name, to, reason);
        }
    }

    /// The files in `done` and `failed` last changed before `before`, each with its content
    /// when it is a regular file within the cap (a link or a file over the cap is listed
    /// without it, and its target is never read).
    pub fn expired(&self, before: SystemTime) -> Vec<ExpiredFile> {
        let mut out = Vec::new();
        for sub in [self.done, self.failed] {
            let folder = self.dir.join(sub);
            if !std::fs::symlink_metadata(&folder).is_ok_and(|m| m.is_dir()) {
                continue;
            }
            for name in waiting(&folder, |_| true) {
                let Ok(meta) = std::fs::symlink_metadata(folder.join(&name)) else {
                    continue;
                };
                let Some(modified) = meta.modified().ok().filter(|m| *m < before) else {
                    continue;
                };
                out.push(ExpiredFile {
                    content: read_regular(&folder, &name, self.max_bytes).ok(),
                    folder: folder.clone(),
                    name,
                    size: meta.len(),
                    modified_ms: modified
                        .duration_since(UNIX_EPOCH)
                        .map_or(0, |d| d.as_millis() as u64),
                });
            }
        }
        out
    }

    /// Gives a claimed file back to the folder, to be read on the next poll.
    pub fn release(&self, name: &str) {
        let Some(processing) = self.processing() else {
            return;
        };
        if let Err(e) = move_to(&processing, name, &self.dir, None) {
            tracing::error!(folder = %self.dir.display(), file = name, error = %e, "cannot give the claimed file back");
        }
    }

    /// One poll: sets aside what a crashed reader left, then takes up to `limit` files that
    /// `wanted` accepts, oldest name first, and gives each to `handle`: `Ok(Ok(t))` keeps `t`
    /// and moves the file to `done`, `Ok(Err(reason))` sets it aside, and `Err` gives it back
    /// and ends the poll (the rest wait for the next one). File system work runs on the
    /// blocking pool.
    pub async fn drain<T, E, F>(
        &self,
        wanted: fn(&str) -> bool,
        limit: usize,
        handle: impl Fn(String, Vec<u8>) -> F,
    ) -> Result<Drained<T>, E>
    where
        F: Future<Output = Result<Result<T, String>, E>>,
    {
        let inbox = self.clone();
        let (failed, waiting) = off_thread(move || (inbox.recover(), inbox.waiting(wanted)))
            .await
            .unwrap_or_default();
        let mut drained = Drained {
            kept: Vec::new(),
            failed,
            more: waiting.len() > limit,
        };
        for name in waiting.into_iter().take(limit) {
            let (inbox, claim) = (self.clone(), name.clone());
            let bytes = match off_thread(move || inbox.take(&claim)).await {
                Some(Taken::Read(bytes)) => bytes,
                Some(Taken::Refused(reason)) => {
                    tracing::warn!(folder = %self.dir.display(), file = name, %reason, "file set aside unread");
                    drained.failed += 1;
                    continue;
                }
                Some(Taken::Skipped) | None => continue,
            };
            let outcome = handle(name.clone(), bytes).await;
            let inbox = self.clone();
            match outcome {
                Ok(Ok(kept)) => {
                    drained.kept.push(kept);
                    off_thread(move || inbox.finish(&name, None)).await;
                }
                Ok(Err(reason)) => {
                    tracing::warn!(folder = %self.dir.display(), file = name, %reason, "file set aside");
                    drained.failed += 1;
                    off_thread(move || inbox.finish(&name, Some(&reason))).await;
                }
                Err(e) => {
                    off_thread(move || inbox.release(&name)).await;
                    return Err(e);
                }
            }
        }
        Ok(drained)
    }
}

/// Runs `f` on the blocking pool; `None` when it could not finish (it panicked, or the runtime
/// is shutting down).
async fn off_thread<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> Option<R> {
    tokio::task::spawn_blocking(f).await.ok()
}
