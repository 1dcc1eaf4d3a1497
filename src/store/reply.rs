//! Decoding Redis replies, and mapping Redis errors onto the port's errors.

use redis::{ErrorKind, RedisError, Value};
use tradehub_actors::envelope::Envelope;
use tradehub_actors::mailbox::{EntryId, MailboxError, MailboxResult};

use super::sealer::Sealer;

/// Whether a failure is about reaching Redis (retry later) rather than about
/// what was asked.
pub(crate) fn is_unavailable(err: &RedisError) -> bool {
    err.is_io_error()
        || err.is_connection_dropped()
        || err.is_connection_refusal()
        || err.is_timeout()
        || matches!(
            err.kind(),
            ErrorKind::BusyLoadingError
                | ErrorKind::TryAgain
                | ErrorKind::ClusterDown
                | ErrorKind::MasterDown
                | ErrorKind::ReadOnly
                | ErrorKind::IoError
        )
}

/// The port's error for a Redis failure during `what`.
pub(crate) fn map_err(what: &str, err: RedisError) -> MailboxError {
    if is_unavailable(&err) {
        MailboxError::Unavailable(format!("{what}: {err}"))
    } else {
        MailboxError::Protocol(format!("{what}: {err}"))
    }
}

/// Whether Redis answered that a stream or its consumer group does not exist.
pub(crate) fn is_no_group(err: &RedisError) -> bool {
    err.code() == Some("NOGROUP")
}

pub(crate) fn protocol(what: &str, detail: impl std::fmt::Display) -> MailboxError {
    MailboxError::Protocol(format!("{what}: {detail}"))
}

/// A reply as text (bulk or simple string, or an integer in decimal).
pub(crate) fn text(value: &Value) -> Option<String> {
    match value {
        Value::BulkString(bytes) => String::from_utf8(bytes.clone()).ok(),
        Value::SimpleString(s) => Some(s.clone()),
        Value::VerbatimString { text, .. } => Some(text.clone()),
        Value::Int(n) => Some(n.to_string()),
        Value::Okay => Some("OK".to_owned()),
        _ => None,
    }
}

/// A reply as an integer (an integer reply or a decimal string).
pub(crate) fn int(value: &Value) -> Option<i64> {
    match value {
        Value::Int(n) => Some(*n),
        other => text(other)?.parse().ok(),
    }
}

/// A reply as a list; `nil` is the empty list.
pub(crate) fn list(value: Value) -> Option<Vec<Value>> {
    match value {
        Value::Array(items) | Value::Set(items) => Some(items),
        Value::Nil => Some(Vec::new()),
        Value::Map(pairs) => Some(pairs.into_iter().flat_map(|(k, v)| [k, v]).collect()),
        _ => None,
    }
}

/// One stream entry as Redis returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RawEntry {
    pub id: String,
    pub fields: Vec<(String, String)>,
}

impl RawEntry {
    /// The value of a field, if present.
    pub(crate) fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn entry_id(&self) -> EntryId {
        EntryId(self.id.clone())
    }

    /// The envelope in field `e`, its body opened, or why there is none (a poison entry).
    pub(crate) fn envelope(&self, sealer: &Sealer) -> Result<Envelope, String> {
        match self.field("e") {
            Some(raw) => sealer.open_envelope(raw),
            None => Err(format!("entry {} has no `e` field", self.id)),
        }
    }
}

/// Serialize an envelope in clear (see [`Sealer::seal_envelope`] for what is stored).
pub(crate) fn encode_envelope(envelope: &Envelope) -> MailboxResult<String> {
    serde_json::to_string(envelope)
        .map_err(|e| protocol(&format!("cannot encode envelope {}", envelope.id), e))
}

/// Field/value pairs from a flat list (or a RESP3 map).
pub(crate) fn fields(value: Value) -> MailboxResult<Vec<(String, String)>> {
    let items = list(value).ok_or_else(|| protocol("stream entry", "fields are not a list"))?;
    let mut out = Vec::with_capacity(items.len() / 2);
    let mut it = items.iter();
    while let (Some(k), Some(v)) = (it.next(), it.next()) {
        let k = text(k).ok_or_else(|| protocol("stream entry", "field name is not text"))?;
        let v = text(v).ok_or_else(|| protocol("stream entry", "field value is not text"))?;
        out.push((k, v));
    }
    Ok(out)
}

/// One `[id, [field, value, ...]]` entry.
pub(crate) fn entry(value: Value) -> MailboxResult<RawEntry> {
    let mut parts = list(value)
        .ok_or_else(|| protocol("stream entry", "not a list"))?
        .into_iter();
    let id = parts
        .next()
        .as_ref()
        .and_then(text)
        .ok_or_else(|| protocol("stream entry", "missing id"))?;
    let fields = fields(parts.next().unwrap_or(Value::Nil))?;
    Ok(RawEntry { id, fields })
}

/// A list of entries (XRANGE, XAUTOCLAIM's second element).
pub(crate) fn entries(value: Value) -> MailboxResult<Vec<RawEntry>> {
    list(value)
        .ok_or_else(|| protocol("stream entries", "not a list"))?
        .into_iter()
        .map(entry)
        .collect()
}

/// The entries of an XREADGROUP over one stream (`nil` when it timed out).
pub(crate) fn read_reply(value: Value) -> MailboxResult<Vec<RawEntry>> {
    match value {
        Value::Nil => Ok(Vec::new()),
        Value::Map(pairs) => match pairs.into_iter().next() {
            Some((_, entries_value)) => entries(entries_value),
            None => Ok(Vec::new()),
        },
        Value::Array(streams) => match streams.into_iter().next() {
            Some(stream) => {
                let mut parts = list(stream)
                    .ok_or_else(|| protocol("XREADGROUP", "stream reply is not a list"))?
                    .into_iter();
                entries(parts.nth(1).unwrap_or(Value::Nil))
            }
            None => Ok(Vec::new()),
        },
        other => Err(protocol(
            "XREADGROUP",
            format!("unexpected reply {other:?}"),
        )),
    }
}
