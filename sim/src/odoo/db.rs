//! The simulator's in-memory database: models, fields and records, with Odoo's value
//! conventions on the way out (`false` for empty, many2one as `[id, name]`, datetimes as UTC
//! text without zone and without sub-second digits).

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::domain::{self, Node, Op, Operand};

/// An error the simulated server raises, rendered in Odoo's envelopes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimError {
    /// The Python exception class, e.g. `odoo.exceptions.MissingError`.
    pub name: String,
    /// The message a user would see.
    pub message: String,
}

impl SimError {
    pub fn new(name: &str, message: String) -> Self {
        Self {
            name: name.to_owned(),
            message,
        }
    }

    pub fn value(message: String) -> Self {
        Self::new("builtins.ValueError", message)
    }

    pub fn validation(message: String) -> Self {
        Self::new("odoo.exceptions.ValidationError", message)
    }

    pub fn missing(model: &str, ids: &[u64]) -> Self {
        Self::new(
            "odoo.exceptions.MissingError",
            format!(
                "Record does not exist or has been deleted.\n(Record: {model}({}), User: 2)",
                ids.iter()
                    .map(u64::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
    }
}

/// Field types as `fields_get` reports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    Char,
    Text,
    Html,
    Integer,
    Float,
    Monetary,
    Boolean,
    Date,
    Datetime,
    Selection,
    Many2one,
    One2many,
    Many2many,
}

impl FieldType {
    pub fn name(self) -> &'static str {
        match self {
            Self::Char => "char",
            Self::Text => "text",
            Self::Html => "html",
            Self::Integer => "integer",
            Self::Float => "float",
            Self::Monetary => "monetary",
            Self::Boolean => "boolean",
            Self::Date => "date",
            Self::Datetime => "datetime",
            Self::Selection => "selection",
            Self::Many2one => "many2one",
            Self::One2many => "one2many",
            Self::Many2many => "many2many",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "char" => Self::Char,
            "text" => Self::Text,
            "html" => Self::Html,
            "integer" => Self::Integer,
            "float" => Self::Float,
            "monetary" => Self::Monetary,
            "boolean" => Self::Boolean,
            "date" => Self::Date,
            "datetime" => Self::Datetime,
            "selection" => Self::Selection,
            "many2one" => Self::Many2one,
            "one2many" => Self::One2many,
            "many2many" => Self::Many2many,
            _ => return None,
        })
    }

    fn is_relational(self) -> bool {
        matches!(self, Self::Many2one | Self::One2many | Self::Many2many)
    }
}

/// One field of a model.
#[derive(Debug, Clone)]
pub struct Field {
    pub ttype: FieldType,
    pub string: String,
    /// The comodel of a relational field.
    pub relation: Option<String>,
    /// For a one2many: the many2one on the comodel pointing back.
    pub inverse: Option<String>,
}

/// A stored record.
#[derive(Debug, Clone, Default)]
pub struct Rec {
    pub values: Map<String, Value>,
    pub create_date: i64,
    pub write_date: i64,
}

/// A model and its records.
#[derive(Debug, Clone, Default)]
pub struct Model {
    pub fields: BTreeMap<String, Field>,
    /// Persistent (structurally shared), so a call's scratch copy of the database costs nothing
    /// until it writes.
    pub records: imbl::OrdMap<u64, Rec>,
    pub next_id: u64,
    /// `_inherits`: the parent model and the many2one linking to it (product.product → template).
    pub inherits: Option<(String, String)>,
    pub rec_name: &'static str,
    /// Equality indexes (field → value → ids) for the fields searched by `=` on large models,
    /// so that such a search does not scan every record.
    pub indexes: BTreeMap<String, FieldIndex>,
}

/// One field's equality index; persistent like the records, so copies stay cheap.
pub type FieldIndex = imbl::HashMap<IndexKey, imbl::OrdSet<u64>>;

/// A stored value as an index key: numbers by their `f64` bits (as `=` compares them), text as
/// is. Other values (false, lists) are not indexed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum IndexKey {
    Number(u64),
    Text(String),
}

impl IndexKey {
    fn of(value: &Value) -> Option<Self> {
        match value {
            Value::Number(n) => n.as_f64().map(|f| Self::Number(f.to_bits())),
            Value::String(text) => Some(Self::Text(text.clone())),
            _ => None,
        }
    }
}

impl Model {
    fn index_add(&mut self, id: u64, values: &Map<String, Value>) {
        for (field, index) in &mut self.indexes {
            if let Some(key) = values.get(field).and_then(IndexKey::of) {
                index.entry(key).or_default().insert(id);
            }
        }
    }

    fn index_remove(&mut self, id: u64, values: &Map<String, Value>) {
        for (field, index) in &mut self.indexes {
            if let Some(key) = values.get(field).and_then(IndexKey::of)
                && let Some(ids) = index.get_mut(&key)
            {
                ids.remove(&id);
                if ids.is_empty() {
                    index.remove(&key);
                }
            }
        }
    }

    /// Ids that can match `node`, from the indexes of its top-level `=` terms; `None` when no
    /// index narrows the search (every record must be looked at).
    fn candidates(&self, node: &Node) -> Option<imbl::OrdSet<u64>> {
        match node {
            Node::Term {
                field,
                op: Op::Eq,
                value,
            } => {
                let index = self.indexes.get(field)?;
                let key = IndexKey::of(value)?;
                Some(index.get(&key).cloned().unwrap_or_default())
            }
            Node::And(a, b) => match (self.candidates(a), self.candidates(b)) {
                (Some(x), Some(y)) => Some(x.intersection(y)),
                (Some(x), None) | (None, Some(x)) => Some(x),
                (None, None) => None,
            },
            _ => None,
        }
    }
}

/// The whole database.
#[derive(Debug, Clone, Default)]
pub struct Db {
    pub models: BTreeMap<String, Model>,
}

/// Field declaration shorthand used by the schema: `(name, type, comodel, inverse)`.
pub type FieldSpec<'a> = (&'a str, FieldType, Option<&'a str>, Option<&'a str>);

/// Text of a datetime field as Odoo's RPC layers send it: seconds precision, no zone. Only
/// `str(datetime)` (the webhook payload) shows sub-second digits.
pub fn format_micros(micros: i64) -> String {
    let secs = micros.div_euclid(1_000_000);
    let dt =
        time::OffsetDateTime::from_unix_timestamp(secs).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let base = format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        dt.year(),
        u8::from(dt.month()),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second()
    );
    base
}

/// `str(datetime)` in Python: microseconds shown when they are not zero.
pub fn python_str_micros(micros: i64) -> String {
    let frac = micros.rem_euclid(1_000_000);
    let base = format_micros(micros);
    if frac == 0 {
        base
    } else {
        format!("{base}.{frac:06}")
    }
}

impl Db {
    /// Declare a model with its fields (the magic `id`, `display_name`, `create_date`, `write_date`
    /// come with every model).
    pub fn define(&mut self, name: &str, rec_name: &'static str, fields: &[FieldSpec<'_>]) {
        let model = self.models.entry(name.to_owned()).or_default();
        model.rec_name = rec_name;
        if model.next_id == 0 {
            model.next_id = 1;
        }
        for (field, ttype, relation, inverse) in fields {
            model.fields.insert(
                (*field).to_owned(),
                Field {
                    ttype: *ttype,
                    string: title(field),
                    relation: relation.map(str::to_owned),
                    inverse: inverse.map(str::to_owned),
                },
            );
        }
        for (field, ttype) in [
            ("create_date", FieldType::Datetime),
            ("write_date", FieldType::Datetime),
            ("display_name", FieldType::Char),
            ("id", FieldType::Integer),
        ] {
            model.fields.entry(field.to_owned()).or_insert(Field {
                ttype,
                string: title(field),
                relation: None,
                inverse: None,
            });
        }
    }

    /// Keep an equality index on `model.field` (a field of the model itself, not inherited).
    pub fn index(&mut self, model: &str, field: &str) -> Result<(), SimError> {
        let m = self.model_mut(model)?;
        if !m.fields.contains_key(field) {
            return Err(SimError::value(format!(
                "Invalid field {field:?} on model {model:?} for an index"
            )));
        }
        let mut index = FieldIndex::new();
        for (id, rec) in &m.records {
            if let Some(key) = rec.values.get(field).and_then(IndexKey::of) {
                index.entry(key).or_default().insert(*id);
            }
        }
        m.indexes.insert(field.to_owned(), index);
        Ok(())
    }

    /// `unlink`: the records are gone, and from the indexes.
    pub fn unlink(&mut self, model: &str, ids: &[u64]) -> Result<(), SimError> {
        let m = self.model_mut(model)?;
        for id in ids {
            if let Some(rec) = m.records.remove(id) {
                m.index_remove(*id, &rec.values);
            }
        }
        Ok(())
    }

    pub fn model(&self, name: &str) -> Result<&Model, SimError> {
        self.models
            .get(name)
            .ok_or_else(|| SimError::new("builtins.KeyError", format!("'{name}'")))
    }

    fn model_mut(&mut self, name: &str) -> Result<&mut Model, SimError> {
        self.models
            .get_mut(name)
            .ok_or_else(|| SimError::new("builtins.KeyError", format!("'{name}'")))
    }

    /// The field definition, looking through `_inherits`.
    pub fn field(&self, model: &str, name: &str) -> Option<(String, Field)> {
        let m = self.models.get(model)?;
        if let Some(field) = m.fields.get(name) {
            return Some((model.to_owned(), field.clone()));
        }
        let (parent, _) = m.inherits.as_ref()?;
        self.field(parent, name)
    }

    fn display_name(&self, model: &str, id: u64) -> String {
        let Some(m) = self.models.get(model) else {
            return String::new();
        };
        match self.raw(model, id, m.rec_name) {
            Some(Value::String(name)) => {
                let parent = m
                    .records
                    .get(&id)
                    .and_then(|r| r.values.get("parent_id"))
                    .and_then(Value::as_u64);
                match parent {
                    Some(parent) if model == "res.partner" => {
                        format!("{}, {name}", self.display_name(model, parent))
                    }
                    _ => name,
                }
            }
            _ => format!("{model},{id}"),
        }
    }

    /// A stored value, following `_inherits` to the parent record.
    fn raw(&self, model: &str, id: u64, field: &str) -> Option<Value> {
        let m = self.models.get(model)?;
        let rec = m.records.get(&id)?;
        if m.fields.contains_key(field) {
            return Some(match field {
                "id" => json!(id),
                "write_date" => json!(format_micros(rec.write_date)),
                "create_date" => json!(format_micros(rec.create_date)),
                _ => rec.values.get(field).cloned().unwrap_or(Value::Bool(false)),
            });
        }
        let (parent, link) = m.inherits.as_ref()?;
        let parent_id = rec.values.get(link)?.as_u64()?;
        self.raw(parent, parent_id, field)
    }

    fn operand<'a>(
        &self,
        model: &str,
        id: u64,
        rec: &'a Rec,
        field: &str,
        holder: &'a mut Value,
    ) -> Operand<'a> {
        match field {
            "write_date" => Operand::Micros(rec.write_date),
            "create_date" => Operand::Micros(rec.create_date),
            "id" => {
                *holder = json!(id);
                Operand::Value(holder)
            }
            _ => match rec.values.get(field) {
                Some(v) => Operand::Value(v),
                None => {
                    *holder = self.raw(model, id, field).unwrap_or(Value::Bool(false));
                    Operand::Value(holder)
                }
            },
        }
    }

    fn matches(&self, model: &str, id: u64, rec: &Rec, node: &Node) -> Result<bool, SimError> {
        Ok(match node {
            Node::True => true,
            Node::And(a, b) => {
                self.matches(model, id, rec, a)? && self.matches(model, id, rec, b)?
            }
            Node::Or(a, b) => {
                self.matches(model, id, rec, a)? || self.matches(model, id, rec, b)?
            }
            Node::Not(a) => !self.matches(model, id, rec, a)?,
            Node::Term { field, op, value } => {
                if self.field(model, field).is_none() {
                    return Err(SimError::value(format!(
                        "Invalid field {model}.{field} in leaf ('{field}', ...)"
                    )));
                }
                let mut holder = Value::Null;
                let left = if *op == Op::ChildOf && field == "id" {
                    Operand::Value(&Value::Null)
                } else {
                    self.operand(model, id, rec, field, &mut holder)
                };
                let ancestors = || self.ancestors(model, id);
                domain::compare(left, *op, value, &ancestors)?
            }
        })
    }

    fn ancestors(&self, model: &str, id: u64) -> Vec<u64> {
        let mut chain = vec![id];
        let mut current = id;
        while let Some(parent) = self
            .raw(model, current, "parent_id")
            .and_then(|v| v.as_u64())
        {
            if chain.contains(&parent) {
                break;
            }
            chain.push(parent);
            current = parent;
        }
        chain
    }

    /// `search`: ids matching `domain`, sorted by `order`, then paged.
    pub fn search(
        &self,
        model: &str,
        domain: &Value,
        order: Option<&str>,
        offset: usize,
        limit: Option<usize>,
    ) -> Result<Vec<u64>, SimError> {
        let m = self.model(model)?;
        let node = domain::parse(domain)?;
        let active_filter = m.fields.contains_key("active") && !node.mentions("active");
        let mut hits = Vec::new();
        let mut consider = |id: u64, rec: &Rec| -> Result<(), SimError> {
            if active_filter && rec.values.get("active") == Some(&Value::Bool(false)) {
                return Ok(());
            }
            if self.matches(model, id, rec, &node)? {
                hits.push(id);
            }
            Ok(())
        };
        match m.candidates(&node) {
            Some(ids) => {
                for id in ids {
                    if let Some(rec) = m.records.get(&id) {
                        consider(id, rec)?;
                    }
                }
            }
            None => {
                for (id, rec) in &m.records {
                    consider(*id, rec)?;
                }
            }
        }
        let keys = parse_order(order.unwrap_or("id"))?;
        for (field, _) in &keys {
            if self.field(model, field).is_none() {
                return Err(SimError::value(format!(
                    "Invalid field {field:?} on model {model:?} in order"
                )));
            }
        }
        if !(keys.len() == 1 && keys[0] == ("id".to_owned(), false)) {
            hits.sort_by(|a, b| {
                for (field, desc) in &keys {
                    let ord = self
                        .sort_key(model, *a, field)
                        .cmp(&self.sort_key(model, *b, field));
                    let ord = if *desc { ord.reverse() } else { ord };
                    if ord.is_ne() {
                        return ord;
                    }
                }
                a.cmp(b)
            });
        }
        Ok(hits
            .into_iter()
            .skip(offset)
            .take(limit.unwrap_or(usize::MAX))
            .collect())
    }

    fn sort_key(&self, model: &str, id: u64, field: &str) -> SortKey {
        let rec = self.models.get(model).and_then(|m| m.records.get(&id));
        match (field, rec) {
            ("write_date", Some(r)) => SortKey::Int(r.write_date),
            ("create_date", Some(r)) => SortKey::Int(r.create_date),
            ("id", _) => SortKey::Int(i64::try_from(id).unwrap_or(i64::MAX)),
            _ => match self.raw(model, id, field) {
                Some(Value::Number(n)) => SortKey::Float(n.as_f64().unwrap_or(0.0).to_bits()),
                Some(Value::String(s)) => SortKey::Text(s),
                _ => SortKey::Empty,
            },
        }
    }

    /// `read`: the fields of `ids` in Odoo's wire form. `names` renders many2one as `[id, name]`
    /// (`load="_classic_read"`); without it they are bare ids (`load=None`).
    pub fn read(
        &self,
        model: &str,
        ids: &[u64],
        fields: Option<&[String]>,
        names: bool,
    ) -> Result<Vec<Map<String, Value>>, SimError> {
        let m = self.model(model)?;
        let missing: Vec<u64> = ids
            .iter()
            .copied()
            .filter(|id| !m.records.contains_key(id))
            .collect();
        if !missing.is_empty() {
            return Err(SimError::missing(model, &missing));
        }
        let wanted: Vec<String> = match fields {
            Some(list) if !list.is_empty() => list.to_vec(),
            _ => {
                let mut all: Vec<String> = m.fields.keys().cloned().collect();
                if let Some((parent, _)) = &m.inherits {
                    all.extend(self.model(parent)?.fields.keys().cloned());
                }
                all
            }
        };
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let mut row = Map::new();
            row.insert("id".to_owned(), json!(id));
            for name in &wanted {
                let Some((_, field)) = self.field(model, name) else {
                    return Err(SimError::value(format!(
                        "Invalid field {name:?} on model {model:?}"
                    )));
                };
                let raw = if name == "display_name" {
                    json!(self.display_name(model, *id))
                } else {
                    self.raw(model, *id, name).unwrap_or(Value::Bool(false))
                };
                let value = match (field.ttype, &raw) {
                    (FieldType::Many2one, Value::Number(n)) if names => {
                        let rel = field.relation.as_deref().unwrap_or_default();
                        json!([n, self.display_name(rel, n.as_u64().unwrap_or_default())])
                    }
                    (FieldType::One2many | FieldType::Many2many, Value::Bool(false)) => json!([]),
                    _ => raw,
                };
                row.insert(name.clone(), value);
            }
            out.push(row);
        }
        Ok(out)
    }

    /// Check values against the model and normalise them for storage.
    fn normalise(
        &self,
        model: &str,
        vals: &Map<String, Value>,
    ) -> Result<Map<String, Value>, SimError> {
        let m = self.model(model)?;
        let mut out = Map::new();
        for (name, value) in vals {
            let Some(field) = m.fields.get(name) else {
                return Err(SimError::value(format!(
                    "Invalid field '{name}' on model '{model}'"
                )));
            };
            if matches!(
                name.as_str(),
                "id" | "write_date" | "create_date" | "display_name"
            ) {
                continue;
            }
            let value = match field.ttype {
                FieldType::Many2one => match value {
                    Value::Bool(false) | Value::Null => Value::Bool(false),
                    Value::Number(n) => {
                        let rel = field.relation.as_deref().unwrap_or_default();
                        let target = n.as_u64().unwrap_or_default();
                        if !self.model(rel)?.records.contains_key(&target) {
                            return Err(SimError::missing(rel, &[target]));
                        }
                        value.clone()
                    }
                    other => {
                        return Err(SimError::value(format!(
                            "Wrong value for {model}.{name}: {other}"
                        )));
                    }
                },
                FieldType::Many2many | FieldType::One2many => x2many_commands(value, model, name)?,
                FieldType::Boolean => Value::Bool(value.as_bool().unwrap_or(!value.is_null())),
                FieldType::Integer | FieldType::Float | FieldType::Monetary => match value {
                    Value::Number(_) => value.clone(),
                    Value::Bool(false) | Value::Null => json!(0),
                    other => {
                        return Err(SimError::value(format!(
                            "Wrong value for {model}.{name}: {other}"
                        )));
                    }
                },
                _ => match value {
                    Value::Null | Value::String(_) | Value::Bool(false) => {
                        if value.as_str() == Some("") || value.is_null() {
                            Value::Bool(false)
                        } else {
                            value.clone()
                        }
                    }
                    other => {
                        return Err(SimError::value(format!(
                            "Wrong value for {model}.{name}: {other}"
                        )));
                    }
                },
            };
            out.insert(name.clone(), value);
        }
        Ok(out)
    }

    /// `create`: one record; keeps one2many inverses in step. One2many values may hold
    /// `(0, 0, {vals})` commands: those lines are created with the record, as Odoo does.
    pub fn create(
        &mut self,
        model: &str,
        vals: &Map<String, Value>,
        now: i64,
    ) -> Result<u64, SimError> {
        let mut vals = vals.clone();
        let mut children = Vec::new();
        for (name, field) in &self.model(model)?.fields {
            if field.ttype != FieldType::One2many {
                continue;
            }
            let Some(Value::Array(items)) = vals.get_mut(name) else {
                continue;
            };
            let (creates, rest): (Vec<Value>, Vec<Value>) = items
                .drain(..)
                .partition(|i| i.get(0).and_then(Value::as_u64) == Some(0));
            *items = rest;
            for command in creates {
                let Some(Value::Object(child)) = command.get(2).cloned() else {
                    return Err(SimError::value(format!(
                        "Wrong create command {command} for {model}.{name}"
                    )));
                };
                let (Some(comodel), Some(inverse)) =
                    (field.relation.clone(), field.inverse.clone())
                else {
                    return Err(SimError::value(format!(
                        "{model}.{name} has no comodel or inverse"
                    )));
                };
                children.push((comodel, inverse, child));
            }
        }
        for (comodel, _, child) in &children {
            self.normalise(comodel, child)?;
        }
        let id = self.create_one(model, &vals, now)?;
        for (comodel, inverse, mut child) in children {
            child.insert(inverse, json!(id));
            self.create_one(&comodel, &child, now)?;
        }
        Ok(id)
    }

    fn create_one(
        &mut self,
        model: &str,
        vals: &Map<String, Value>,
        now: i64,
    ) -> Result<u64, SimError> {
        let mut values = self.normalise(model, vals)?;
        if model == "account.move" && !values.contains_key("state") {
            values.insert("state".to_owned(), json!("draft"));
        }
        let m = self.model_mut(model)?;
        let id = m.next_id;
        m.next_id += 1;
        let mut rec = Rec {
            values,
            create_date: now,
            write_date: now,
        };
        if m.fields.contains_key("active") && !rec.values.contains_key("active") {
            rec.values.insert("active".to_owned(), Value::Bool(true));
        }
        let links: Vec<(String, u64)> = m
            .fields
            .iter()
            .filter(|(_, f)| f.ttype == FieldType::Many2one)
            .filter_map(|(n, _)| {
                rec.values
                    .get(n)
                    .and_then(Value::as_u64)
                    .map(|v| (n.clone(), v))
            })
            .collect();
        m.index_add(id, &rec.values);
        m.records.insert(id, rec);
        for (link, target) in links {
            self.link_inverse(model, &link, target, id);
        }
        Ok(id)
    }

    fn link_inverse(&mut self, model: &str, link: &str, target: u64, id: u64) {
        let Some((_, field)) = self.field(model, link) else {
            return;
        };
        let Some(rel) = field.relation else { return };
        let Some(comodel) = self.models.get_mut(&rel) else {
            return;
        };
        let inverse_fields: Vec<String> = comodel
            .fields
            .iter()
            .filter(|(_, f)| {
                f.ttype == FieldType::One2many
                    && f.relation.as_deref() == Some(model)
                    && f.inverse.as_deref() == Some(link)
            })
            .map(|(n, _)| n.clone())
            .collect();
        if let Some(rec) = comodel.records.get_mut(&target) {
            for name in inverse_fields {
                let list = rec.values.entry(name).or_insert_with(|| json!([]));
                if let Value::Array(ids) = list {
                    if !ids.contains(&json!(id)) {
                        ids.push(json!(id));
                    }
                } else {
                    *list = json!([id]);
                }
            }
        }
    }

    /// `write`: the same values on every id, one `write_date` for the whole call.
    pub fn write(
        &mut self,
        model: &str,
        ids: &[u64],
        vals: &Map<String, Value>,
        now: i64,
    ) -> Result<(), SimError> {
        let values = self.normalise(model, vals)?;
        let m = self.model(model)?;
        let missing: Vec<u64> = ids
            .iter()
            .copied()
            .filter(|id| !m.records.contains_key(id))
            .collect();
        if !missing.is_empty() {
            return Err(SimError::missing(model, &missing));
        }
        let m = self.model_mut(model)?;
        let reindex = values.keys().any(|k| m.indexes.contains_key(k));
        for id in ids {
            // Out of the map while it changes, so the indexes can be updated beside it.
            let Some(mut rec) = m.records.remove(id) else {
                continue;
            };
            if reindex {
                m.index_remove(*id, &rec.values);
            }
            for (k, v) in &values {
                rec.values.insert(k.clone(), v.clone());
            }
            rec.write_date = now;
            if reindex {
                m.index_add(*id, &rec.values);
            }
            m.records.insert(*id, rec);
        }
        Ok(())
    }

    /// `fields_get`: every field with its type, label and comodel.
    pub fn fields_get(&self, model: &str) -> Result<Map<String, Value>, SimError> {
        let m = self.model(model)?;
        let mut out = Map::new();
        let mut add = |fields: &BTreeMap<String, Field>| {
            for (name, f) in fields {
                let mut d = Map::new();
                d.insert("type".to_owned(), json!(f.ttype.name()));
                d.insert("string".to_owned(), json!(f.string));
                if f.ttype.is_relational() {
                    d.insert("relation".to_owned(), json!(f.relation));
                }
                out.entry(name.clone()).or_insert(Value::Object(d));
            }
        };
        add(&m.fields);
        if let Some((parent, _)) = &m.inherits {
            add(&self.model(parent)?.fields);
        }
        Ok(out)
    }

    /// Add a custom field, as creating an `ir.model.fields` record does.
    pub fn add_field(
        &mut self,
        model: &str,
        name: &str,
        ttype: FieldType,
        string: &str,
        relation: Option<String>,
    ) -> Result<(), SimError> {
        if !name.starts_with("x_") {
            return Err(SimError::validation(format!(
                "Custom fields must have a name that starts with 'x_' ! ({name})"
            )));
        }
        let m = self.model_mut(model)?;
        if m.fields.contains_key(name) {
            return Err(SimError::validation(format!(
                "Field names must be unique per model. ({name})"
            )));
        }
        m.fields.insert(
            name.to_owned(),
            Field {
                ttype,
                string: string.to_owned(),
                relation,
                inverse: None,
            },
        );
        Ok(())
    }
}

#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
enum SortKey {
    Empty,
    Int(i64),
    Float(u64),
    Text(String),
}

fn parse_order(order: &str) -> Result<Vec<(String, bool)>, SimError> {
    order
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|part| {
            let mut words = part.split_whitespace();
            let field = words.next().unwrap_or_default().to_owned();
            let desc = match words.next().map(str::to_ascii_lowercase).as_deref() {
                None | Some("asc") => false,
                Some("desc") => true,
                Some(other) => {
                    return Err(SimError::value(format!(
                        "Invalid order direction {other:?} in {order:?}"
                    )));
                }
            };
            Ok((field, desc))
        })
        .collect()
}

/// x2many values: a plain id list, or the `(6, 0, ids)` / `(4, id)` command forms.
fn x2many_commands(value: &Value, model: &str, name: &str) -> Result<Value, SimError> {
    let Value::Array(items) = value else {
        return Err(SimError::value(format!(
            "Wrong value for {model}.{name}: {value}"
        )));
    };
    let mut ids = Vec::new();
    for item in items {
        match item {
            Value::Number(_) => ids.push(item.clone()),
            Value::Array(cmd) => match cmd.first().and_then(Value::as_u64) {
                Some(6) => {
                    ids = cmd
                        .get(2)
                        .and_then(Value::as_array)
                        .cloned()
                        .unwrap_or_default()
                }
                Some(4) => ids.extend(cmd.get(1).cloned()),
                _ => {
                    return Err(SimError::value(format!(
                        "Unsupported x2many command {item} for {model}.{name}"
                    )));
                }
            },
            other => {
                return Err(SimError::value(format!(
                    "Wrong value for {model}.{name}: {other}"
                )));
            }
        }
    }
    Ok(Value::Array(ids))
}

fn title(field: &str) -> String {
    let mut out = String::new();
    for (i, word) in field.trim_start_matches("x_").split('_').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let mut chars = word.chars();
        if let Some(c) = chars.next() {
            out.extend(c.to_uppercase());
            out.push_str(chars.as_str());
        }
    }
    out
}
