//! The mailbox ports (`Mailbox`, `MailboxOps`, `Leases`) for `RedisMailbox`: each method is
//! one command or one script.

use redis::Value;
use tradehub_actors::clock::Millis;
use tradehub_actors::envelope::Envelope;
use tradehub_actors::mailbox::{
    Commit, CommitOutcome, DeadLetter, Delivery, EntryId, IngestOutcome, Leases, Mailbox,
    MailboxError, MailboxOps, MailboxResult, Partition, StoredState, StreamName, StreamStats,
};

use super::audit::{Attempt, SignedAudit};
use super::keys::{self, GROUP};
use super::reply::{self, RawEntry, int, is_no_group, list, map_err, protocol, text};
use super::{Place, RedisMailbox, Sealer};

/// Refuse an entry id Redis would reject, with the port's error.
fn check_id(id: &EntryId) -> MailboxResult<&str> {
    match id.parts() {
        Some(_) => Ok(&id.0),
        None => Err(MailboxError::Protocol(format!("malformed entry id {id:?}"))),
    }
}

/// A script's `{code, value...}` reply.
fn tagged(what: &str, value: Value) -> MailboxResult<(i64, Vec<Value>)> {
    let mut items = list(value)
        .ok_or_else(|| protocol(what, "script reply is not a list"))?
        .into_iter();
    let tag = items
        .next()
        .as_ref()
        .and_then(int)
        .ok_or_else(|| protocol(what, "script reply has no status"))?;
    Ok((tag, items.collect()))
}

fn text_at(what: &str, items: &[Value], i: usize) -> MailboxResult<String> {
    items
        .get(i)
        .and_then(text)
        .ok_or_else(|| protocol(what, format!("script reply lacks item {i}")))
}

fn delivery(
    sealer: &Sealer,
    partition: Partition,
    stream: &StreamName,
    entry: &RawEntry,
    deliveries: u32,
) -> Delivery {
    Delivery {
        partition,
        stream: stream.clone(),
        entry_id: entry.entry_id(),
        envelope: entry.envelope(sealer),
        deliveries,
    }
}

impl RedisMailbox {
    async fn create_group(&self, key: &str) -> MailboxResult<()> {
        let created = self
            .query_raw::<Value>(
                redis::cmd("XGROUP")
                    .arg("CREATE")
                    .arg(key)
                    .arg(GROUP)
                    .arg("0")
                    .arg("MKSTREAM"),
            )
            .await;
        match created {
            Ok(_) => Ok(()),
            Err(e) if e.code() == Some("BUSYGROUP") => Ok(()),
            Err(e) => Err(map_err("XGROUP CREATE", e)),
        }
    }

    /// Run the commit script once; `audit` holds the commit's signed audit entries and the
    /// chain head they follow, which the script checks before writing anything.
    pub(super) async fn run_commit(
        &self,
        commit: &Commit,
        audit: Option<&SignedAudit>,
    ) -> MailboxResult<Attempt> {
        let ack = commit.ack.as_ref().map(check_id).transpose()?.unwrap_or("");
        let keys = &self.inner.keys;
        let p = commit.partition;
        let mut script_keys = vec![
            keys.inbox(p),
            keys.state(p, &commit.key),
            keys.history(p, &commit.key),
            keys.audit(p),
            keys.audit_head(p),
            keys.timers(p),
            keys.timer_seq(p),
        ];
        let mut commands = Vec::with_capacity(commit.commands.len());
        for command in &commit.commands {
            script_keys.push(self.stream_key(p, &StreamName::Commands(command.partner.clone()))?);
            commands.push(self.sealer().seal_envelope(&command.envelope)?);
        }
        let script = &self.inner.scripts.commit;
        let mut cmd = Self::evalsha(script, &script_keys);
        cmd.arg(GROUP)
            .arg(ack)
            .arg(commit.expected_ver)
            .arg(&commit.state)
            .arg(if commit.terminal { "1" } else { "0" })
            .arg(&commit.key)
            .arg(commit.history.len())
            .arg(audit.map_or(0, |a| a.entries.len()))
            .arg(commit.commands.len())
            .arg(commit.timers.len());
        match audit {
            Some(audit) => cmd
                .arg(audit.after.seq)
                .arg(&audit.after.hash)
                .arg(audit.at_ms)
                .arg(&audit.kid),
            None => cmd.arg(0).arg("").arg(0).arg(""),
        };
        cmd.arg(&commit.history);
        for (data, mac) in audit.iter().flat_map(|a| &a.entries) {
            cmd.arg(data).arg(mac);
        }
        cmd.arg(commands);
        for timer in &commit.timers {
            cmd.arg(timer.due_ms)
                .arg(self.sealer().seal_envelope(&timer.envelope)?);
        }
        let (tag, items) = tagged("commit", self.eval("commit", script, &cmd).await?)?;
        let number = |i: usize| {
            items
                .get(i)
                .and_then(int)
                .and_then(|n| u64::try_from(n).ok())
                .ok_or_else(|| protocol("commit", "reply lacks the version"))
        };
        Ok(Attempt::Done(match tag {
            1 => CommitOutcome::Committed { ver: number(0)? },
            2 => CommitOutcome::Conflict {
                current_ver: number(0)?,
            },
            3 => CommitOutcome::AlreadyAcknowledged,
            4 => return Ok(Attempt::HeadMoved),
            other => return Err(protocol("commit", format!("unknown status {other}"))),
        }))
    }

    fn parse_dead_letter(
        &self,
        partition: Partition,
        entry: &RawEntry,
    ) -> MailboxResult<DeadLetter> {
        let what = format!("dead letter {}", entry.id);
        let get = |name: &str| {
            entry
                .field(name)
                .ok_or_else(|| protocol(&what, format!("missing field `{name}`")))
        };
        let number = |name: &str| -> MailboxResult<u64> {
            get(name)?
                .parse()
                .map_err(|_| protocol(&what, format!("field `{name}` is not a number")))
        };
        Ok(DeadLetter {
            id: entry.entry_id(),
            partition,
            origin: keys::parse_stream_suffix(get("origin")?).map_err(|e| protocol(&what, e))?,
            origin_id: EntryId(get("origin_id")?.to_owned()),
            raw: self.sealer().show_envelope(get("raw")?),
            deliveries: u32::try_from(number("deliveries")?)
                .map_err(|_| protocol(&what, "delivery count out of range"))?,
            reason: get("reason")?.to_owned(),
            at_ms: number("at")?,
        })
    }
}

impl Mailbox for RedisMailbox {
    async fn ensure_streams(
        &self,
        partition: Partition,
        streams: &[StreamName],
    ) -> MailboxResult<()> {
        for stream in streams {
            let key = self.stream_key(partition, stream)?;
            self.create_group(&key).await?;
        }
        Ok(())
    }

    async fn ingest(
        &self,
        partition: Partition,
        envelope: &Envelope,
        idempotency_key: Option<&str>,
    ) -> MailboxResult<IngestOutcome> {
        let raw = self.sealer().seal_envelope(envelope)?;
        let inbox = self.inner.keys.inbox(partition);
        let Some(idem) = idempotency_key else {
            let id: String = self
                .query(
                    "XADD",
                    redis::cmd("XADD").arg(inbox).arg("*").arg("e").arg(raw),
                )
                .await?;
            return Ok(IngestOutcome::Accepted {
                entry_id: EntryId(id),
            });
        };
        let script = &self.inner.scripts.ingest;
        let mut cmd = Self::evalsha(script, &[inbox, self.inner.keys.dedupe(partition, idem)]);
        cmd.arg(raw).arg(self.inner.config.dedupe_ttl_ms.max(1));
        let (tag, items) = tagged("ingest", self.eval("ingest", script, &cmd).await?)?;
        let entry_id = EntryId(text_at("ingest", &items, 0)?);
        Ok(if tag == 1 {
            IngestOutcome::Accepted { entry_id }
        } else {
            IngestOutcome::Duplicate { entry_id }
        })
    }

    async fn read(
        &self,
        partition: Partition,
        stream: &StreamName,
        consumer: &str,
        count: usize,
        block_ms: u64,
    ) -> MailboxResult<Vec<Delivery>> {
        if count == 0 {
            return Ok(Vec::new());
        }
        let key = self.stream_key(partition, stream)?;
        let mut cmd = redis::cmd("XREADGROUP");
        cmd.arg("GROUP")
            .arg(GROUP)
            .arg(consumer)
            .arg("COUNT")
            .arg(count);
        // BLOCK 0 means "forever" to Redis; the port means "do not wait".
        if block_ms > 0 {
            cmd.arg("BLOCK").arg(block_ms);
        }
        cmd.arg("STREAMS").arg(&key).arg(">");
        let mut created = false;
        loop {
            let result = if block_ms > 0 {
                self.query_blocking(&cmd, block_ms).await
            } else {
                self.query_raw::<Value>(&cmd).await
            };
            match result {
                Ok(value) => {
                    return Ok(reply::read_reply(value)?
                        .iter()
                        .map(|e| delivery(self.sealer(), partition, stream, e, 1))
                        .collect());
                }
                // Every stream behaves as if its group existed from the start.
                Err(e) if is_no_group(&e) && !created => {
                    self.create_group(&key).await?;
                    created = true;
                }
                Err(e) => return Err(map_err("XREADGROUP", e)),
            }
        }
    }

    async fn reclaim(
        &self,
        partition: Partition,
        stream: &StreamName,
        consumer: &str,
        min_idle_ms: u64,
        count: usize,
    ) -> MailboxResult<Vec<Delivery>> {
        if count == 0 {
            return Ok(Vec::new());
        }
        let key = self.stream_key(partition, stream)?;
        let script = &self.inner.scripts.reclaim;
        let mut cmd = Self::evalsha(script, &[key]);
        cmd.arg(GROUP).arg(consumer).arg(min_idle_ms).arg(count);
        let claimed = list(self.eval("reclaim", script, &cmd).await?)
            .ok_or_else(|| protocol("reclaim", "reply is not a list"))?;
        claimed
            .into_iter()
            .map(|item| {
                let mut parts = list(item)
                    .ok_or_else(|| protocol("reclaim", "claimed item is not a list"))?
                    .into_iter();
                let id = parts.next().as_ref().and_then(text);
                let fields = parts.next().map(reply::fields).transpose()?;
                let deliveries = parts.next().as_ref().and_then(int);
                let (Some(id), Some(fields), Some(deliveries)) = (id, fields, deliveries) else {
                    return Err(protocol(
                        "reclaim",
                        "claimed item lacks id, fields or count",
                    ));
                };
                let entry = RawEntry { id, fields };
                Ok(delivery(
                    self.sealer(),
                    partition,
                    stream,
                    &entry,
                    u32::try_from(deliveries).unwrap_or(u32::MAX),
                ))
            })
            .collect()
    }

    async fn is_pending(
        &self,
        partition: Partition,
        stream: &StreamName,
        entry_id: &EntryId,
    ) -> MailboxResult<bool> {
        let id = check_id(entry_id)?;
        let key = self.stream_key(partition, stream)?;
        let result = self
            .query_raw::<Value>(
                redis::cmd("XPENDING")
                    .arg(key)
                    .arg(GROUP)
                    .arg(id)
                    .arg(id)
                    .arg(1),
            )
            .await;
        match result {
            Ok(value) => Ok(list(value).is_some_and(|items| !items.is_empty())),
            Err(e) if is_no_group(&e) => Ok(false),
            Err(e) => Err(map_err("XPENDING", e)),
        }
    }

    async fn load(&self, partition: Partition, key: &str) -> MailboxResult<StoredState> {
        let hash = self.inner.keys.state(partition, key);
        let (ver, state): (Option<u64>, Option<String>) = self
            .query(
                "HMGET",
                redis::cmd("HMGET").arg(&hash).arg("ver").arg("state"),
            )
            .await?;
        let place = Place::field(&hash, "state");
        Ok(StoredState {
            ver: ver.unwrap_or(0),
            state: state
                .map(|s| self.sealer().open_text(&place, &s))
                .transpose()?,
        })
    }

    async fn commit(&self, commit: &Commit) -> MailboxResult<CommitOutcome> {
        let keys = &self.inner.keys;
        let p = commit.partition;
        let commit = &self.sealer().seal_commit(
            commit,
            &keys.state(p, &commit.key),
            &keys.history(p, &commit.key),
            &keys.audit(p),
        );
        if !commit.audit.is_empty() {
            return self.commit_audited(commit).await;
        }
        match self.run_commit(commit, None).await? {
            Attempt::Done(outcome) => Ok(outcome),
            Attempt::HeadMoved => Err(protocol("commit", "audit head checked without entries")),
        }
    }

    async fn complete(
        &self,
        partition: Partition,
        stream: &StreamName,
        entry_id: &EntryId,
        results: &[Envelope],
    ) -> MailboxResult<()> {
        let id = check_id(entry_id)?;
        let raws = results
            .iter()
            .map(|result| self.sealer().seal_envelope(result))
            .collect::<MailboxResult<Vec<_>>>()?;
        let script = &self.inner.scripts.complete;
        let mut cmd = Self::evalsha(
            script,
            &[
                self.stream_key(partition, stream)?,
                self.inner.keys.inbox(partition),
            ],
        );
        cmd.arg(GROUP).arg(id).arg(raws);
        self.eval("complete", script, &cmd).await?;
        Ok(())
    }

    async fn defer(
        &self,
        partition: Partition,
        stream: &StreamName,
        entry_id: &EntryId,
        due_ms: Millis,
        envelope: &Envelope,
    ) -> MailboxResult<()> {
        let id = check_id(entry_id)?;
        let suffix = keys::stream_suffix(stream).map_err(|e| protocol("defer", e))?;
        let keys = &self.inner.keys;
        let script = &self.inner.scripts.defer;
        let mut cmd = Self::evalsha(
            script,
            &[
                self.stream_key(partition, stream)?,
                keys.timers(partition),
                keys.timer_seq(partition),
            ],
        );
        cmd.arg(GROUP)
            .arg(id)
            .arg(due_ms)
            .arg(suffix)
            .arg(self.sealer().seal_envelope(envelope)?);
        self.eval("defer", script, &cmd).await?;
        Ok(())
    }

    async fn fire_timers(
        &self,
        partition: Partition,
        now_ms: Millis,
        limit: usize,
    ) -> MailboxResult<usize> {
        if limit == 0 {
            return Ok(0);
        }
        let keys = &self.inner.keys;
        let script = &self.inner.scripts.fire_timers;
        let mut cmd = Self::evalsha(script, &[keys.timers(partition)]);
        cmd.arg(now_ms)
            .arg(limit)
            .arg(keys.partition_base(partition));
        let fired = self.eval("fire_timers", script, &cmd).await?;
        int(&fired)
            .and_then(|n| usize::try_from(n).ok())
            .ok_or_else(|| protocol("fire_timers", "reply is not a count"))
    }

    async fn dead_letter(
        &self,
        delivery: &Delivery,
        reason: &str,
        now_ms: Millis,
    ) -> MailboxResult<EntryId> {
        let id = check_id(&delivery.entry_id)?;
        let suffix =
            keys::stream_suffix(&delivery.stream).map_err(|e| protocol("dead_letter", e))?;
        let script = &self.inner.scripts.dead_letter;
        let mut cmd = Self::evalsha(
            script,
            &[
                self.stream_key(delivery.partition, &delivery.stream)?,
                self.inner.keys.dlq(delivery.partition),
            ],
        );
        cmd.arg(GROUP).arg(id).arg(suffix).arg(reason).arg(now_ms);
        let (tag, items) = tagged("dead_letter", self.eval("dead_letter", script, &cmd).await?)?;
        if tag != 1 {
            return Err(MailboxError::Protocol(format!(
                "cannot dead-letter {} of {}: not pending",
                delivery.entry_id, delivery.stream
            )));
        }
        Ok(EntryId(text_at("dead_letter", &items, 0)?))
    }
}

impl MailboxOps for RedisMailbox {
    async fn dead_letters(&self, partition: Partition) -> MailboxResult<Vec<DeadLetter>> {
        self.xrange_all(&self.inner.keys.dlq(partition))
            .await?
            .iter()
            .map(|e| self.parse_dead_letter(partition, e))
            .collect()
    }

    async fn redrive(
        &self,
        partition: Partition,
        dead_letter_id: &EntryId,
    ) -> MailboxResult<EntryId> {
        let id = check_id(dead_letter_id)?;
        let dlq = self.inner.keys.dlq(partition);
        let value: Value = self
            .query("XRANGE", redis::cmd("XRANGE").arg(&dlq).arg(id).arg(id))
            .await?;
        let Some(entry) = reply::entries(value)?.into_iter().next() else {
            return Err(MailboxError::Protocol(format!(
                "no dead letter {dead_letter_id} in partition {partition}"
            )));
        };
        let dead = self.parse_dead_letter(partition, &entry)?;
        // An undecodable entry goes back as it was, so an operator can fix the
        // reader and redrive without losing the original bytes.
        let raw = match self.sealer().open_envelope(&dead.raw) {
            Ok(mut envelope) => {
                envelope.attempt = 1;
                self.sealer().seal_envelope(&envelope)?
            }
            Err(_) => dead.raw,
        };
        let script = &self.inner.scripts.redrive;
        let mut cmd = Self::evalsha(script, &[dlq, self.stream_key(partition, &dead.origin)?]);
        cmd.arg(id).arg(raw);
        let (tag, items) = tagged("redrive", self.eval("redrive", script, &cmd).await?)?;
        if tag != 1 {
            return Err(MailboxError::Protocol(format!(
                "no dead letter {dead_letter_id} in partition {partition}"
            )));
        }
        Ok(EntryId(text_at("redrive", &items, 0)?))
    }

    async fn trim(
        &self,
        partition: Partition,
        stream: &StreamName,
        keep: u64,
    ) -> MailboxResult<u64> {
        let script = &self.inner.scripts.trim;
        let mut cmd = Self::evalsha(script, &[self.stream_key(partition, stream)?]);
        cmd.arg(GROUP).arg(keep);
        let removed = self.eval("trim", script, &cmd).await?;
        int(&removed)
            .and_then(|n| u64::try_from(n).ok())
            .ok_or_else(|| protocol("trim", "reply is not a count"))
    }

    async fn stats(&self, partition: Partition, stream: &StreamName) -> MailboxResult<StreamStats> {
        let script = &self.inner.scripts.stats;
        let mut cmd = Self::evalsha(script, &[self.stream_key(partition, stream)?]);
        cmd.arg(GROUP);
        let items = list(self.eval("stats", script, &cmd).await?)
            .ok_or_else(|| protocol("stats", "reply is not a list"))?;
        let number = |i: usize| {
            items
                .get(i)
                .and_then(int)
                .and_then(|n| u64::try_from(n).ok())
                .ok_or_else(|| protocol("stats", format!("reply lacks item {i}")))
        };
        Ok(StreamStats {
            length: number(0)?,
            pending: number(1)?,
            oldest_pending_age_ms: number(2)?,
        })
    }
}

impl Leases for RedisMailbox {
    async fn lease(&self, partition: Partition, node: &str, ttl_ms: u64) -> MailboxResult<bool> {
        if ttl_ms == 0 {
            return Err(MailboxError::Protocol(
                "a lease needs a TTL above 0 ms".into(),
            ));
        }
        let script = &self.inner.scripts.lease;
        let mut cmd = Self::evalsha(script, &[self.inner.keys.lease(partition)]);
        cmd.arg(node).arg(ttl_ms);
        let held = self.eval("lease", script, &cmd).await?;
        Ok(int(&held) == Some(1))
    }

    async fn release_lease(&self, partition: Partition, node: &str) -> MailboxResult<()> {
        let script = &self.inner.scripts.release;
        let mut cmd = Self::evalsha(script, &[self.inner.keys.lease(partition)]);
        cmd.arg(node);
        self.eval("release_lease", script, &cmd).await?;
        Ok(())
    }
}
