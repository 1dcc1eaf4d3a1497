//! Calendar dates in the model, written as ISO 8601 `YYYY-MM-DD` in JSON.

use std::fmt;
use std::str::FromStr;

use time::format_description::BorrowedFormatItem;
use time::macros::format_description;

use super::ModelError;
use super::text::string_codec;

const FORMAT: &[BorrowedFormatItem<'static>] = format_description!("[year]-[month]-[day]");

/// A calendar date with no time zone (shipment, document and validity dates are legal dates, not
/// instants).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Date(time::Date);

impl Date {
    /// Wraps a `time::Date`.
    pub fn new(date: time::Date) -> Self {
        Self(date)
    }

    /// The underlying `time::Date`.
    pub fn get(self) -> time::Date {
        self.0
    }
}

impl FromStr for Date {
    type Err = ModelError;

    fn from_str(s: &str) -> Result<Self, ModelError> {
        time::Date::parse(s, FORMAT)
            .map(Self)
            .map_err(|_| ModelError::Date(s.to_owned()))
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = self.0.format(FORMAT).map_err(|_| fmt::Error)?;
        f.write_str(&text)
    }
}

string_codec!(Date, "Date", "a date as YYYY-MM-DD", {
    "type": "string",
    "format": "date"
});
