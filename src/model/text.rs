//! Serde and JSON Schema glue for the types whose JSON form is one string, parsed by `FromStr` and
//! written by `Display`. Keeping both directions on those two traits is what makes the round trip
//! lossless by construction.

use std::fmt;
use std::marker::PhantomData;
use std::str::FromStr;

use serde::de::{self, Visitor};

pub(crate) struct FromStrVisitor<T>(pub(crate) PhantomData<T>, pub(crate) &'static str);

impl<T> Visitor<'_> for FromStrVisitor<T>
where
    T: FromStr,
    T::Err: fmt::Display,
{
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.1)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        v.parse().map_err(E::custom)
    }
}

/// Implements `Serialize`, `Deserialize` and `JsonSchema` for a type through `Display`/`FromStr`.
macro_rules! string_codec {
    ($ty:ty, $name:expr, $expecting:expr, $schema:tt) => {
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                d.deserialize_str($crate::model::text::FromStrVisitor(
                    std::marker::PhantomData,
                    $expecting,
                ))
            }
        }

        impl schemars::JsonSchema for $ty {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                $name.into()
            }

            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                schemars::json_schema!($schema)
            }
        }
    };
}

pub(crate) use string_codec;
