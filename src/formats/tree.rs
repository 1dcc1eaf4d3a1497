//! The one tree every codec parses into and writes from.
//!
//! It is JSON-shaped so that jq mappings can walk it, but unlike
//! `serde_json::Value` (which sorts object keys in this build) its maps keep
//! insertion order: XML element order and EDI segment order are meaning, not
//! decoration.

use std::fmt;
use std::rc::Rc;

use jaq_json::Val;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

/// A JSON-shaped value with ordered maps and numbers kept as their literal text.
#[derive(Clone, Debug, PartialEq, Default)]
pub enum Tree {
    /// JSON `null`.
    #[default]
    Null,
    /// JSON boolean.
    Bool(bool),
    /// A number, kept as written so that `12.50` stays `12.50`.
    Number(String),
    /// Text.
    Text(String),
    /// An ordered list.
    List(Vec<Tree>),
    /// An ordered map; keys are unique.
    Map(Vec<(String, Tree)>),
}

impl Tree {
    /// Text value.
    pub fn text(s: impl Into<String>) -> Self {
        Self::Text(s.into())
    }

    /// Empty map.
    pub fn map() -> Self {
        Self::Map(Vec::new())
    }

    /// Looks a key up in a map; `None` for other kinds.
    pub fn get(&self, key: &str) -> Option<&Tree> {
        match self {
            Self::Map(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Sets a key in a map, replacing an existing entry in place. No-op on other kinds.
    pub fn insert(&mut self, key: impl Into<String>, value: Tree) {
        if let Self::Map(entries) = self {
            let key = key.into();
            match entries.iter_mut().find(|(k, _)| *k == key) {
                Some(slot) => slot.1 = value,
                None => entries.push((key, value)),
            }
        }
    }

    /// The text of a `Text` (or the literal of a `Number`).
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Self::Text(s) | Self::Number(s) => Some(s),
            _ => None,
        }
    }

    /// The items of a `List`.
    pub fn as_list(&self) -> Option<&[Tree]> {
        match self {
            Self::List(items) => Some(items),
            _ => None,
        }
    }

    /// Short name of the kind, for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Null => "null",
            Self::Bool(_) => "boolean",
            Self::Number(_) => "number",
            Self::Text(_) => "string",
            Self::List(_) => "array",
            Self::Map(_) => "object",
        }
    }

    /// Converts into a jaq value (order kept: jaq objects are insertion-ordered).
    pub fn to_val(&self) -> Val {
        match self {
            Self::Null => Val::Null,
            Self::Bool(b) => Val::Bool(*b),
            Self::Number(n) => n
                .parse::<isize>()
                .map_or_else(|_| Val::Num(Rc::new(n.clone())), Val::Int),
            Self::Text(s) => Val::Str(Rc::new(s.clone())),
            Self::List(items) => items.iter().map(Tree::to_val).collect(),
            Self::Map(entries) => Val::obj(
                entries
                    .iter()
                    .map(|(k, v)| (Rc::new(k.clone()), v.to_val()))
                    .collect(),
            ),
        }
    }

    /// Converts a jaq value back.
    pub fn from_val(val: &Val) -> Self {
        match val {
            Val::Null => Self::Null,
            Val::Bool(b) => Self::Bool(*b),
            Val::Int(i) => Self::Number(i.to_string()),
            Val::Float(f) => Self::Number(format_float(*f)),
            Val::Num(n) => Self::Number(n.to_string()),
            Val::Str(s) => Self::Text(s.to_string()),
            Val::Arr(items) => Self::List(items.iter().map(Tree::from_val).collect()),
            Val::Obj(entries) => Self::Map(
                entries
                    .iter()
                    .map(|(k, v)| (k.to_string(), Tree::from_val(v)))
                    .collect(),
            ),
        }
    }

    /// Converts borrowed `serde_json` straight to a jaq value, without an intermediate clone.
    pub fn json_to_val(value: &serde_json::Value) -> Val {
        use serde_json::Value;
        match value {
            Value::Null => Val::Null,
            Value::Bool(b) => Val::Bool(*b),
            Value::Number(n) => match n.as_i64().and_then(|i| isize::try_from(i).ok()) {
                Some(i) => Val::Int(i),
                None => Val::Num(Rc::new(n.to_string())),
            },
            Value::String(s) => Val::Str(Rc::new(s.clone())),
            Value::Array(items) => items.iter().map(Tree::json_to_val).collect(),
            Value::Object(entries) => Val::obj(
                entries
                    .iter()
                    .map(|(k, v)| (Rc::new(k.clone()), Tree::json_to_val(v)))
                    .collect(),
            ),
        }
    }

    /// Converts into `serde_json::Value` (object keys end up sorted there).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value;
        match self {
            Self::Null => Value::Null,
            Self::Bool(b) => Value::Bool(*b),
            Self::Number(n) => n
                .parse::<serde_json::Number>()
                .map_or_else(|_| Value::String(n.clone()), Value::Number),
            Self::Text(s) => Value::String(s.clone()),
            Self::List(items) => Value::Array(items.iter().map(Tree::to_json).collect()),
            Self::Map(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_json()))
                    .collect(),
            ),
        }
    }

    /// Converts from `serde_json::Value`.
    pub fn from_json(value: &serde_json::Value) -> Self {
        use serde_json::Value;
        match value {
            Value::Null => Self::Null,
            Value::Bool(b) => Self::Bool(*b),
            Value::Number(n) => Self::Number(n.to_string()),
            Value::String(s) => Self::Text(s.clone()),
            Value::Array(items) => Self::List(items.iter().map(Tree::from_json).collect()),
            Value::Object(entries) => Self::Map(
                entries
                    .iter()
                    .map(|(k, v)| (k.clone(), Tree::from_json(v)))
                    .collect(),
            ),
        }
    }
}

/// Whole floats print without a fraction, as jq does.
fn format_float(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{f:.0}")
    } else {
        format!("{f}")
    }
}

impl Serialize for Tree {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Null => serializer.serialize_unit(),
            Self::Bool(b) => serializer.serialize_bool(*b),
            Self::Number(n) => match n.parse::<serde_json::Number>() {
                Ok(num) => num.serialize(serializer),
                Err(_) => serializer.serialize_str(n),
            },
            Self::Text(s) => serializer.serialize_str(s),
            Self::List(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Self::Map(entries) => {
                let mut map = serializer.serialize_map(Some(entries.len()))?;
                for (k, v) in entries {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for Tree {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(TreeVisitor)
    }
}

struct TreeVisitor;

impl<'de> Visitor<'de> for TreeVisitor {
    type Value = Tree;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Tree, E> {
        Ok(Tree::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Tree, E> {
        Ok(Tree::Null)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Tree, E> {
        Ok(Tree::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Tree, E> {
        Ok(Tree::Number(v.to_string()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Tree, E> {
        Ok(Tree::Number(v.to_string()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Tree, E> {
        Ok(Tree::Number(format_float(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Tree, E> {
        Ok(Tree::Text(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Tree, E> {
        Ok(Tree::Text(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Tree, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Tree::List(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Tree, A::Error> {
        let mut map = Tree::map();
        while let Some((k, v)) = access.next_entry::<String, Tree>()? {
            map.insert(k, v);
        }
        Ok(map)
    }
}
