//! Values kept as received when their form is wrong.

use std::fmt;
use std::marker::PhantomData;
use std::str::FromStr;

use serde::de::{self, Visitor};

/// A coded master-data value as it arrived: parsed when well formed, kept verbatim otherwise.
///
/// This lets one bad HS code in line 37 become one entry in the validation report instead of making
/// the whole shipment unreadable. Serialising writes the parsed value's canonical text or the raw
/// text unchanged, so nothing the sender wrote is lost.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Lenient<T> {
    Valid(T),
    Invalid(String),
}

impl<T> Lenient<T> {
    /// The parsed value, if the text was well formed.
    pub fn valid(&self) -> Option<&T> {
        match self {
            Self::Valid(v) => Some(v),
            Self::Invalid(_) => None,
        }
    }
}

impl<T: FromStr> Lenient<T> {
    /// Parses `text`, keeping it verbatim when it is malformed.
    pub fn parse(text: &str) -> Self {
        text.parse()
            .map_or_else(|_| Self::Invalid(text.to_owned()), Self::Valid)
    }
}

impl<T: FromStr> Lenient<T>
where
    T::Err: fmt::Display,
{
    /// Why the text is malformed (the parse error of `T`), or `None` for a valid value.
    pub fn problem(&self) -> Option<String> {
        match self {
            Self::Valid(_) => None,
            Self::Invalid(raw) => raw.parse::<T>().err().map(|e| e.to_string()),
        }
    }
}

impl<T> From<T> for Lenient<T> {
    fn from(v: T) -> Self {
        Self::Valid(v)
    }
}

impl<T: fmt::Display> fmt::Display for Lenient<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Valid(v) => v.fmt(f),
            Self::Invalid(raw) => f.write_str(raw),
        }
    }
}

impl<T: fmt::Display> serde::Serialize for Lenient<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

struct LenientVisitor<T>(PhantomData<T>);

impl<T: FromStr> Visitor<'_> for LenientVisitor<T> {
    type Value = Lenient<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Lenient<T>, E> {
        Ok(Lenient::parse(v))
    }
}

impl<'de, T: FromStr> serde::Deserialize<'de> for Lenient<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(LenientVisitor(PhantomData))
    }
}

impl<T: schemars::JsonSchema> schemars::JsonSchema for Lenient<T> {
    fn inline_schema() -> bool {
        T::inline_schema()
    }

    fn schema_name() -> std::borrow::Cow<'static, str> {
        T::schema_name()
    }

    fn schema_id() -> std::borrow::Cow<'static, str> {
        T::schema_id()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        T::json_schema(generator)
    }
}
