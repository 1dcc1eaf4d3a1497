//! The Lua scripts of the store, each one atomic step on one partition's slot.
//!
//! Every script is `common.lua` followed by its own file, so the helpers stay in
//! one place without a module system on the Redis side.

use redis::Script;

macro_rules! lua {
    ($file:literal) => {
        concat!(
            include_str!("scripts/common.lua"),
            include_str!(concat!("scripts/", $file))
        )
    };
}

/// The loaded scripts (code and SHA-1, for EVALSHA).
#[derive(Debug, Clone)]
pub(crate) struct Scripts {
    pub commit: Script,
    pub ingest: Script,
    pub reclaim: Script,
    pub complete: Script,
    pub defer: Script,
    pub fire_timers: Script,
    pub dead_letter: Script,
    pub redrive: Script,
    pub trim: Script,
    pub stats: Script,
    pub lease: Script,
    pub release: Script,
}

impl Scripts {
    pub(crate) fn new() -> Self {
        Self {
            commit: Script::new(lua!("commit.lua")),
            ingest: Script::new(lua!("ingest.lua")),
            reclaim: Script::new(lua!("reclaim.lua")),
            complete: Script::new(lua!("complete.lua")),
            defer: Script::new(lua!("defer.lua")),
            fire_timers: Script::new(lua!("fire_timers.lua")),
            dead_letter: Script::new(lua!("dead_letter.lua")),
            redrive: Script::new(lua!("redrive.lua")),
            trim: Script::new(lua!("trim.lua")),
            stats: Script::new(lua!("stats.lua")),
            lease: Script::new(lua!("lease.lua")),
            release: Script::new(lua!("release.lua")),
        }
    }

    /// Every script, for preloading with SCRIPT LOAD.
    pub(crate) fn all(&self) -> [&Script; 12] {
        [
            &self.commit,
            &self.ingest,
            &self.reclaim,
            &self.complete,
            &self.defer,
            &self.fire_timers,
            &self.dead_letter,
            &self.redrive,
            &self.trim,
            &self.stats,
            &self.lease,
            &self.release,
        ]
    }
}
