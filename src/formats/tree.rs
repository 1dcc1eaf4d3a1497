//! The one tree every codec parses into and writes from.
//!
//! It is JSON-shaped so that jq mappings can walk it, but unlike
//! `serde_json::Value` (which sorts object keys in this build) its maps keep
//! insertion order: XML element order and EDI segment order are meaning, not
//! decoration.
//!
//! Parsers build maps with a [`MapBuilder`], whose hashed key index keeps
//! construction linear in the number of siblings, and a tree is dropped with an
//! explicit stack, so that neither a wide nor a deep document costs more than
//! its size. The conversions below recurse once per level: the parsers'
//! `max_depth` (at most [`super::limits::MAX_DEPTH_CEILING`]) bounds that.

use std::collections::HashMap;
use std::fmt;
use std::rc::Rc;

use jaq_json::Val;
use serde::de::{self, Deserialize, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

use super::limits::{Guard, Limit};

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

impl Drop for Tree {
    /// Moves nested containers onto a heap stack instead of recursing, so a tree
    /// half a million levels deep drops like a long list.
    fn drop(&mut self) {
        fn nested(tree: &Tree) -> bool {
            match tree {
                Tree::List(items) => !items.is_empty(),
                Tree::Map(entries) => !entries.is_empty(),
                _ => false,
            }
        }
        let mut stack: Vec<Tree> = match self {
            Self::List(items) if items.iter().any(nested) => std::mem::take(items),
            Self::Map(entries) if entries.iter().any(|(_, v)| nested(v)) => std::mem::take(entries)
                .into_iter()
                .map(|(_, v)| v)
                .collect(),
            _ => return,
        };
        while let Some(mut tree) = stack.pop() {
            match &mut tree {
                Self::List(items) => stack.append(items),
                Self::Map(entries) => {
                    stack.extend(std::mem::take(entries).into_iter().map(|(_, v)| v));
                }
                _ => {}
            }
        }
    }
}

/// Maps smaller than this are searched by scanning; larger ones get a hashed index.
const INDEX_FROM: usize = 8;

/// Builds a [`Tree::Map`] from a stream of entries in time linear in their number.
///
/// [`Tree::insert`] scans for the key, which is right for the few keys a program
/// sets and quadratic for a document with a quarter of a million siblings. Past
/// a handful of entries the builder keeps a hashed index of the keys; std's
/// hasher is keyed at random, so keys chosen to collide cannot bring the
/// quadratic cost back.
#[derive(Debug, Default)]
pub struct MapBuilder {
    entries: Vec<(String, Tree)>,
    index: HashMap<String, usize>,
}

impl MapBuilder {
    /// True when nothing was added.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The value under `key`.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Tree> {
        let at = if self.entries.len() < INDEX_FROM {
            self.entries.iter().position(|(k, _)| k == key)
        } else {
            self.index.get(key).copied()
        };
        at.map(|i| &mut self.entries[i].1)
    }

    /// Appends `key`, which the caller found absent with [`Self::get_mut`].
    pub fn push(&mut self, key: String, value: Tree) {
        if self.entries.len() + 1 == INDEX_FROM {
            self.index = self
                .entries
                .iter()
                .enumerate()
                .map(|(i, (k, _))| (k.clone(), i))
                .collect();
        }
        if self.entries.len() + 1 >= INDEX_FROM {
            self.index.insert(key.clone(), self.entries.len());
        }
        self.entries.push((key, value));
    }

    /// Sets `key`, replacing an existing entry in place (JSON's last-one-wins).
    pub fn insert(&mut self, key: String, value: Tree) {
        match self.get_mut(&key) {
            Some(slot) => *slot = value,
            None => self.push(key, value),
        }
    }

    /// The map, in insertion order.
    pub fn finish(self) -> Tree {
        Tree::Map(self.entries)
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
        TreeSeed {
            account: None,
            depth: 0,
        }
        .deserialize(deserializer)
    }
}

/// A parse's [`Guard`] as the serde visitor sees it: serde gives a visitor no
/// byte offset, so the visitor records which limit it passed and fails with a
/// custom error; [`super::json::parse`] then places that limit at the position
/// serde_json reports.
pub(crate) struct Account<'g, 'a> {
    /// The parse's limits and clock.
    pub guard: &'g mut Guard<'a>,
    /// The limit the visitor stopped at.
    pub tripped: Option<Limit>,
}

impl Account<'_, '_> {
    fn check<E: de::Error>(
        &mut self,
        check: impl FnOnce(&mut Guard) -> Result<(), Limit>,
    ) -> Result<(), E> {
        check(self.guard).map_err(|limit| {
            self.tripped = Some(limit);
            E::custom(format!("limits.{} exceeded", limit.key()))
        })
    }
}

/// Deserialises a tree, under an [`Account`]'s limits when it has one.
pub(crate) struct TreeSeed<'s, 'g, 'a> {
    /// Limits and clock; `None` reads without bounds (trusted input).
    pub account: Option<&'s mut Account<'g, 'a>>,
    /// Nesting level of the value about to be read.
    pub depth: usize,
}

impl<'g, 'a> TreeSeed<'_, 'g, 'a> {
    fn check<E: de::Error>(
        &mut self,
        check: impl FnOnce(&mut Guard) -> Result<(), Limit>,
    ) -> Result<(), E> {
        match self.account.as_deref_mut() {
            Some(account) => account.check(check),
            None => Ok(()),
        }
    }

    fn number<E: de::Error>(mut self, literal: String) -> Result<Tree, E> {
        self.check(|g| g.nodes(1))?;
        Ok(Tree::Number(literal))
    }

    fn child(&mut self) -> TreeSeed<'_, 'g, 'a> {
        TreeSeed {
            account: self.account.as_deref_mut(),
            depth: self.depth + 1,
        }
    }
}

impl<'de> DeserializeSeed<'de> for TreeSeed<'_, '_, '_> {
    type Value = Tree;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Tree, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for TreeSeed<'_, '_, '_> {
    type Value = Tree;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_unit<E: de::Error>(mut self) -> Result<Tree, E> {
        self.check(|g| g.nodes(1))?;
        Ok(Tree::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Tree, E> {
        self.visit_unit()
    }
    fn visit_bool<E: de::Error>(mut self, v: bool) -> Result<Tree, E> {
        self.check(|g| g.nodes(1))?;
        Ok(Tree::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Tree, E> {
        self.number(v.to_string())
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Tree, E> {
        self.number(v.to_string())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Tree, E> {
        self.number(format_float(v))
    }
    fn visit_str<E: de::Error>(mut self, v: &str) -> Result<Tree, E> {
        self.check(|g| g.nodes(1).and(g.value(v.len())))?;
        Ok(Tree::Text(v.to_owned()))
    }
    fn visit_string<E: de::Error>(mut self, v: String) -> Result<Tree, E> {
        self.check(|g| g.nodes(1).and(g.value(v.len())))?;
        Ok(Tree::Text(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<Tree, A::Error> {
        let depth = self.depth + 1;
        self.check(|g| g.nodes(1).and(g.depth(depth)))?;
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(self.child())? {
            items.push(item);
        }
        Ok(Tree::List(items))
    }
    fn visit_map<A: MapAccess<'de>>(mut self, mut access: A) -> Result<Tree, A::Error> {
        let depth = self.depth + 1;
        self.check(|g| g.nodes(1).and(g.depth(depth)))?;
        let mut map = MapBuilder::default();
        while let Some(key) = access.next_key::<String>()? {
            self.check(|g| g.value(key.len()))?;
            let value = access.next_value_seed(self.child())?;
            map.insert(key, value);
        }
        Ok(map.finish())
    }
}
