//! Key rotation: which key ids sealed the values under the prefix, and re-sealing every
//! mutable one still under an older key.
//!
//! A sweep walks the keyspace with SCAN (so it never blocks Redis), a hash with HSCAN, a sorted
//! set with ZSCAN and a stream in pages of XRANGE. Hash fields and timers are mutable: a stale
//! one is opened, sealed again under the current key and put back by a script that compares
//! first, so a value a writer changed meanwhile is left to that writer. Stream entries are
//! immutable: they are counted, and stay readable under their key until retention trims them.
//! A sweep only touches what is still under an older key, so running it again resumes it; it
//! can also start from the SCAN cursor an interrupted run reported.

use std::collections::BTreeMap;

use redis::Script;
use redis::streams::StreamRangeReply;
use serde::Serialize;
use tradehub_actors::mailbox::{MailboxError, MailboxResult};

use super::reply::int;
use super::{Place, RedisMailbox, Sealer};

/// How many stored values each key id sealed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct KeyUsage {
    /// Hash fields and timers, which a rotation rewrites, by key id.
    pub mutable: BTreeMap<String, u64>,
    /// Stream entries, which stay under their key until trimmed, by key id.
    pub immutable: BTreeMap<String, u64>,
    /// Redis keys looked at.
    pub keys: u64,
}

/// What a sweep found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RotateReport {
    /// The values found, by the key id they were sealed under when read.
    pub found: KeyUsage,
    /// Mutable values re-sealed under the current key.
    pub resealed: u64,
    /// Mutable values under an older key that changed or went before they could be rewritten
    /// (their writer seals under its own current key).
    pub changed: u64,
    /// The records whose values did not open (names only), left as they are.
    pub unreadable: Vec<String>,
    /// The SCAN cursor after the last batch: 0 once the keyspace was walked.
    pub cursor: u64,
}

impl RotateReport {
    /// Mutable values that were under an older key and still are: changed meanwhile, or
    /// unreadable.
    pub fn left_behind(&self) -> u64 {
        self.changed + self.unreadable.len() as u64
    }
}

/// What a sweep does with a stale mutable value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Count,
    Reseal,
}

/// `text` with the characters a SCAN pattern gives meaning escaped, to match literally.
pub(super) fn escape_glob(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    for c in text.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A SCAN pattern matching the keys under `prefix`.
fn pattern(prefix: &str) -> String {
    format!("{}:*", escape_glob(prefix))
}

fn bump(counts: &mut BTreeMap<String, u64>, kid: String) {
    *counts.entry(kid).or_default() += 1;
}

impl RedisMailbox {
    /// Count the stored values by the key id that sealed them, in SCAN batches of `batch`.
    pub async fn key_usage(&self, batch: usize) -> MailboxResult<KeyUsage> {
        let report = self.sweep(Mode::Count, 0, batch, &mut |_| {}).await?;
        Ok(report.found)
    }

    /// Re-seal under the current key every mutable value sealed under an older one, from SCAN
    /// cursor `from` (0: the start), in batches of `batch`; `progress` sees the report after
    /// each batch.
    pub async fn rotate_keys(
        &self,
        from: u64,
        batch: usize,
        progress: &mut dyn FnMut(&RotateReport),
    ) -> MailboxResult<RotateReport> {
        if !self.sealer().is_on() {
            return Err(MailboxError::Protocol(
                "encryption is off: `[encryption]` names no current key to rotate to".into(),
            ));
        }
        self.sweep(Mode::Reseal, from, batch, progress).await
    }

    async fn sweep(
        &self,
        mode: Mode,
        from: u64,
        batch: usize,
        progress: &mut dyn FnMut(&RotateReport),
    ) -> MailboxResult<RotateReport> {
        let batch = batch.max(1);
        let pattern = pattern(self.keys().prefix());
        let mut report = RotateReport {
            cursor: from,
            ..RotateReport::default()
        };
        loop {
            let (next, keys): (u64, Vec<String>) = self
                .query(
                    "SCAN",
                    redis::cmd("SCAN")
                        .arg(report.cursor)
                        .arg("MATCH")
                        .arg(&pattern)
                        .arg("COUNT")
                        .arg(batch),
                )
                .await?;
            for key in keys {
                report.found.keys += 1;
                let kind: String = self.query("TYPE", redis::cmd("TYPE").arg(&key)).await?;
                match kind.as_str() {
                    "hash" => self.sweep_hash(mode, &key, batch, &mut report).await?,
                    "zset" => self.sweep_timers(mode, &key, batch, &mut report).await?,
                    "stream" => self.count_stream(&key, batch, &mut report).await?,
                    _ => {}
                }
            }
            report.cursor = next;
            progress(&report);
            if next == 0 {
                return Ok(report);
            }
        }
    }

    async fn sweep_hash(
        &self,
        mode: Mode,
        key: &str,
        batch: usize,
        report: &mut RotateReport,
    ) -> MailboxResult<()> {
        let script = Script::new(include_str!("scripts/reseal_field.lua"));
        let mut cursor = 0u64;
        loop {
            let (next, pairs): (u64, Vec<(String, String)>) = self
                .query(
                    "HSCAN",
                    redis::cmd("HSCAN")
                        .arg(key)
                        .arg(cursor)
                        .arg("COUNT")
                        .arg(batch),
                )
                .await?;
            for (field, value) in pairs {
                let Some(kid) = Sealer::kid_of(&value) else {
                    continue;
                };
                bump(&mut report.found.mutable, kid);
                if mode == Mode::Count || !self.sealer().is_stale(&value) {
                    continue;
                }
                let place = Place::field(key, &field);
                let resealed = match self.sealer().open_text(&place, &value) {
                    Ok(plain) => self.sealer().seal_text(&place, &plain),
                    Err(error) => {
                        report.unreadable.push(error.to_string());
                        continue;
                    }
                };
                let mut cmd = Self::evalsha(&script, &[key.to_owned()]);
                cmd.arg(&field).arg(&value).arg(resealed);
                let done = self.eval("reseal field", &script, &cmd).await?;
                tally(report, &done);
            }
            cursor = next;
            if cursor == 0 {
                return Ok(());
            }
        }
    }

    async fn sweep_timers(
        &self,
        mode: Mode,
        key: &str,
        batch: usize,
        report: &mut RotateReport,
    ) -> MailboxResult<()> {
        let script = Script::new(include_str!("scripts/reseal_member.lua"));
        let mut cursor = 0u64;
        loop {
            let (next, pairs): (u64, Vec<(String, String)>) = self
                .query(
                    "ZSCAN",
                    redis::cmd("ZSCAN")
                        .arg(key)
                        .arg(cursor)
                        .arg("COUNT")
                        .arg(batch),
                )
                .await?;
            for (member, _score) in pairs {
                // A timer member is `<seq>\n<target stream>\n<raw envelope>`.
                let mut parts = member.splitn(3, '\n');
                let (Some(seq), Some(suffix), Some(raw)) =
                    (parts.next(), parts.next(), parts.next())
                else {
                    continue;
                };
                let Some(kid) = Sealer::kid_of(raw) else {
                    continue;
                };
                bump(&mut report.found.mutable, kid);
                if mode == Mode::Count || !self.sealer().is_stale(raw) {
                    continue;
                }
                let resealed = match self.sealer().open_envelope(raw) {
                    Ok(envelope) => self.sealer().seal_envelope(&envelope)?,
                    Err(reason) => {
                        report
                            .unreadable
                            .push(format!("timer {seq} of {key}: {reason}"));
                        continue;
                    }
                };
                let mut cmd = Self::evalsha(&script, &[key.to_owned()]);
                cmd.arg(&member).arg(format!("{seq}\n{suffix}\n{resealed}"));
                let done = self.eval("reseal timer", &script, &cmd).await?;
                tally(report, &done);
            }
            cursor = next;
            if cursor == 0 {
                return Ok(());
            }
        }
    }

    async fn count_stream(
        &self,
        key: &str,
        batch: usize,
        report: &mut RotateReport,
    ) -> MailboxResult<()> {
        let mut start = "-".to_owned();
        loop {
            let page: StreamRangeReply = self
                .query(
                    "XRANGE",
                    redis::cmd("XRANGE")
                        .arg(key)
                        .arg(&start)
                        .arg("+")
                        .arg("COUNT")
                        .arg(batch),
                )
                .await?;
            // Values are read as bytes: a field kept in clear may be binary.
            let values = page.ids.iter().flat_map(|entry| entry.map.values());
            for value in values {
                let text = redis::from_redis_value::<Vec<u8>>(value)
                    .ok()
                    .and_then(|bytes| String::from_utf8(bytes).ok());
                if let Some(kid) = text.as_deref().and_then(Sealer::kid_of) {
                    bump(&mut report.found.immutable, kid);
                }
            }
            let page = page.ids;
            match page.last() {
                Some(last) if page.len() == batch => start = format!("({}", last.id),
                _ => return Ok(()),
            }
        }
    }
}

/// Count a reseal script's answer: 1 replaced, 0 changed meanwhile.
fn tally(report: &mut RotateReport, done: &redis::Value) {
    if int(done) == Some(1) {
        report.resealed += 1;
    } else {
        report.changed += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::pattern;

    #[test]
    fn the_scan_pattern_matches_the_prefix_literally() {
        assert_eq!(pattern("th"), "th:*");
        assert_eq!(pattern("a*b?[c]\\"), "a\\*b\\?\\[c\\]\\\\:*");
    }
}
