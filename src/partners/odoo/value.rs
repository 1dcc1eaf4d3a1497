//! Odoo's value conventions, read once here so the rest of the connector sees plain Rust:
//! `false` stands for "empty" in every field type, a many2one is `[id, "display name"]` (or a
//! bare id with `load=None`), an x2many is a list of ids, and datetimes are UTC text without a
//! zone, to the second on the RPC layers and to the microsecond in webhook payloads.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde_json::{Map, Value};

/// One record as `read` returns it.
#[derive(Debug, Clone, PartialEq)]
pub struct Rec {
    id: u64,
    fields: Map<String, Value>,
}

impl Rec {
    /// Wrap a JSON object with an integer `id`.
    pub fn new(value: Value) -> Option<Self> {
        let Value::Object(fields) = value else {
            return None;
        };
        let id = fields.get("id")?.as_u64()?;
        Some(Self { id, fields })
    }

    pub fn id(&self) -> u64 {
        self.id
    }

    /// The raw fields.
    pub fn fields(&self) -> &Map<String, Value> {
        &self.fields
    }

    fn get(&self, field: &str) -> Option<&Value> {
        match self.fields.get(field) {
            None | Some(Value::Null | Value::Bool(false)) => None,
            Some(v) => Some(v),
        }
    }

    /// A text field; `None` for `false`, missing or blank.
    pub fn text(&self, field: &str) -> Option<&str> {
        self.get(field)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
    }

    /// A boolean field (`false` is a value here, not "empty").
    pub fn flag(&self, field: &str) -> bool {
        self.fields
            .get(field)
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }

    /// A many2one's id, from `[id, name]` or a bare id.
    pub fn m2o(&self, field: &str) -> Option<u64> {
        match self.get(field)? {
            Value::Array(pair) => pair.first().and_then(Value::as_u64),
            Value::Number(n) => n.as_u64(),
            _ => None,
        }
    }

    /// A many2one's display name, when `read` sent `[id, name]`.
    pub fn m2o_name(&self, field: &str) -> Option<&str> {
        match self.get(field)? {
            Value::Array(pair) => pair.get(1).and_then(Value::as_str),
            _ => None,
        }
    }

    /// An x2many's ids.
    pub fn ids(&self, field: &str) -> Vec<u64> {
        self.get(field)
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_u64).collect())
            .unwrap_or_default()
    }

    /// A float or monetary field as a decimal, through its shortest text form so that
    /// `86.5` stays `86.5` (Odoo sends floats; money never becomes one here).
    pub fn decimal(&self, field: &str) -> Option<Decimal> {
        match self.fields.get(field)? {
            Value::Number(n) => Decimal::from_str(&n.to_string())
                .or_else(|_| Decimal::from_scientific(&n.to_string()))
                .ok(),
            _ => None,
        }
    }

    /// A datetime field.
    pub fn datetime(&self, field: &str) -> Option<OdooDateTime> {
        self.text(field).and_then(|t| t.parse().ok())
    }
}

/// A UTC instant as Odoo writes it: `YYYY-MM-DD HH:MM:SS`, optionally with microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OdooDateTime(time::PrimitiveDateTime);

/// Why a datetime text is not in Odoo's form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("datetime {0:?}: expected UTC \"YYYY-MM-DD HH:MM:SS\" without a zone")]
pub struct DateTimeError(String);

impl FromStr for OdooDateTime {
    type Err = DateTimeError;

    fn from_str(s: &str) -> Result<Self, DateTimeError> {
        let err = || DateTimeError(s.to_owned());
        let (main, frac) = s.split_once('.').unwrap_or((s, ""));
        let format =
            time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
        let mut dt = time::PrimitiveDateTime::parse(main, format).map_err(|_| err())?;
        if !frac.is_empty() {
            if frac.len() > 6 || !frac.bytes().all(|b| b.is_ascii_digit()) {
                return Err(err());
            }
            let micros: u32 = format!("{frac:0<6}").parse().map_err(|_| err())?;
            dt = dt.replace_microsecond(micros).map_err(|_| err())?;
        }
        Ok(Self(dt))
    }
}

impl fmt::Display for OdooDateTime {
    /// Seconds precision, as Odoo's domains and RPC reads use.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.0;
        write!(
            f,
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
            d.year(),
            u8::from(d.month()),
            d.day(),
            d.hour(),
            d.minute(),
            d.second()
        )
    }
}

impl OdooDateTime {
    /// From a UTC instant.
    pub fn from_utc(at: time::OffsetDateTime) -> Self {
        let utc = at.to_offset(time::UtcOffset::UTC);
        Self(time::PrimitiveDateTime::new(utc.date(), utc.time()))
    }

    /// The same instant without its sub-second part: what an RPC read of it returns.
    pub fn truncated(self) -> Self {
        Self(self.0.replace_nanosecond(0).unwrap_or(self.0))
    }

    /// One second later (the start of the next second when truncated).
    pub fn plus_seconds(self, seconds: i64) -> Self {
        Self(self.0.saturating_add(time::Duration::seconds(seconds)))
    }

    /// The calendar date.
    pub fn date(self) -> time::Date {
        self.0.date()
    }
}
