//! Odoo search domains: Polish-notation lists of `(field, operator, value)` terms joined by
//! `&`, `|` and `!`, with an implicit `&` between consecutive terms.

use serde_json::Value;

use super::db::SimError;

/// The comparison operators the simulator understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
    In,
    NotIn,
    Like,
    ILike,
    NotLike,
    NotILike,
    ChildOf,
}

impl Op {
    fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "=" | "==" => Self::Eq,
            "!=" | "<>" => Self::Ne,
            ">" => Self::Gt,
            ">=" => Self::Ge,
            "<" => Self::Lt,
            "<=" => Self::Le,
            "in" => Self::In,
            "not in" => Self::NotIn,
            "like" => Self::Like,
            "ilike" => Self::ILike,
            "not like" => Self::NotLike,
            "not ilike" => Self::NotILike,
            "child_of" => Self::ChildOf,
            _ => return None,
        })
    }
}

/// A parsed domain.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    True,
    Term { field: String, op: Op, value: Value },
    And(Box<Node>, Box<Node>),
    Or(Box<Node>, Box<Node>),
    Not(Box<Node>),
}

impl Node {
    /// Whether any term of the domain names `field`.
    pub fn mentions(&self, name: &str) -> bool {
        match self {
            Self::True => false,
            Self::Term { field, .. } => field == name,
            Self::And(a, b) | Self::Or(a, b) => a.mentions(name) || b.mentions(name),
            Self::Not(a) => a.mentions(name),
        }
    }
}

/// Parse a domain (a JSON list; `false`/null mean the empty domain).
pub fn parse(domain: &Value) -> Result<Node, SimError> {
    let items = match domain {
        Value::Null | Value::Bool(false) => return Ok(Node::True),
        Value::Array(items) => items,
        other => {
            return Err(SimError::value(format!(
                "Invalid domain {other}: expected a list"
            )));
        }
    };
    let mut pos = 0;
    let mut nodes = Vec::new();
    while pos < items.len() {
        nodes.push(parse_one(items, &mut pos)?);
    }
    Ok(nodes
        .into_iter()
        .reduce(|a, b| Node::And(Box::new(a), Box::new(b)))
        .unwrap_or(Node::True))
}

fn parse_one(items: &[Value], pos: &mut usize) -> Result<Node, SimError> {
    let Some(item) = items.get(*pos) else {
        return Err(SimError::value(
            "Invalid domain: an operator is missing an operand".to_owned(),
        ));
    };
    *pos += 1;
    match item {
        Value::String(op) if op == "&" || op == "|" => {
            let a = parse_one(items, pos)?;
            let b = parse_one(items, pos)?;
            Ok(if op == "&" {
                Node::And(Box::new(a), Box::new(b))
            } else {
                Node::Or(Box::new(a), Box::new(b))
            })
        }
        Value::String(op) if op == "!" => Ok(Node::Not(Box::new(parse_one(items, pos)?))),
        Value::Array(term) if term.len() == 3 => {
            let field = term[0].as_str().ok_or_else(|| {
                SimError::value(format!("Invalid leaf {item}: field is not a string"))
            })?;
            let op = term[1]
                .as_str()
                .and_then(Op::parse)
                .ok_or_else(|| SimError::value(format!("Invalid leaf {item}: unknown operator")))?;
            Ok(Node::Term {
                field: field.to_owned(),
                op,
                value: term[2].clone(),
            })
        }
        other => Err(SimError::value(format!("Invalid leaf {other}"))),
    }
}

/// How a record's field compares: its value as stored and, for date-times, its instant.
#[derive(Debug, Clone, Copy)]
pub enum Operand<'a> {
    Value(&'a Value),
    Micros(i64),
}

/// Evaluate one comparison. `ancestors` gives the `parent_id` chain for `child_of`.
pub fn compare(
    left: Operand<'_>,
    op: Op,
    right: &Value,
    ancestors: &dyn Fn() -> Vec<u64>,
) -> Result<bool, SimError> {
    if let Operand::Micros(micros) = left {
        return compare_instant(micros, op, right);
    }
    let Operand::Value(left) = left else {
        return Ok(false);
    };
    Ok(match op {
        Op::Eq => equals(left, right),
        Op::Ne => !equals(left, right),
        Op::In => list(right)?.iter().any(|r| equals(left, r)),
        Op::NotIn => !list(right)?.iter().any(|r| equals(left, r)),
        Op::Gt | Op::Ge | Op::Lt | Op::Le => match order(left, right) {
            Some(ordering) => match op {
                Op::Gt => ordering.is_gt(),
                Op::Ge => ordering.is_ge(),
                Op::Lt => ordering.is_lt(),
                _ => ordering.is_le(),
            },
            None => false,
        },
        Op::Like | Op::ILike | Op::NotLike | Op::NotILike => {
            let insensitive = matches!(op, Op::ILike | Op::NotILike);
            let found = like(left, right, insensitive);
            if matches!(op, Op::Like | Op::ILike) {
                found
            } else {
                !found
            }
        }
        Op::ChildOf => {
            let wanted = list_or_one(right);
            let chain = ancestors();
            chain.iter().any(|a| wanted.contains(a))
        }
    })
}

fn compare_instant(micros: i64, op: Op, right: &Value) -> Result<bool, SimError> {
    let parse = |v: &Value| {
        v.as_str()
            .and_then(parse_datetime_micros)
            .ok_or_else(|| SimError::value(format!("Invalid datetime value {v} in domain")))
    };
    Ok(match op {
        Op::Eq => micros == parse(right)?,
        Op::Ne => micros != parse(right)?,
        Op::Gt => micros > parse(right)?,
        Op::Ge => micros >= parse(right)?,
        Op::Lt => micros < parse(right)?,
        Op::Le => micros <= parse(right)?,
        Op::In | Op::NotIn => {
            let hit = list(right)?
                .iter()
                .map(parse)
                .collect::<Result<Vec<_>, _>>()?
                .contains(&micros);
            hit == (op == Op::In)
        }
        Op::Like | Op::ILike | Op::NotLike | Op::NotILike | Op::ChildOf => {
            return Err(SimError::value(
                "Operator not supported on a datetime field".to_owned(),
            ));
        }
    })
}

/// `YYYY-MM-DD HH:MM:SS[.ffffff]` or `YYYY-MM-DD` as microseconds since the epoch (UTC).
pub fn parse_datetime_micros(text: &str) -> Option<i64> {
    let (date, time) = text.split_once(' ').unwrap_or((text, "00:00:00"));
    let mut d = date.split('-').map(|p| p.parse::<i32>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let (hms, frac) = time.split_once('.').unwrap_or((time, ""));
    let mut t = hms.split(':').map(|p| p.parse::<i64>().ok());
    let (h, mi, s) = (t.next()??, t.next()??, t.next()??);
    let month = time::Month::try_from(u8::try_from(m).ok()?).ok()?;
    let date = time::Date::from_calendar_date(y, month, u8::try_from(day).ok()?).ok()?;
    let mut micros_frac = 0i64;
    if !frac.is_empty() {
        let digits: String = frac.chars().chain(std::iter::repeat('0')).take(6).collect();
        micros_frac = digits.parse().ok()?;
    }
    // 2_440_588 is the Julian day number of 1970-01-01.
    let days = i64::from(date.to_julian_day() - 2_440_588);
    Some(((days * 86_400 + h * 3600 + mi * 60 + s) * 1_000_000) + micros_frac)
}

fn list(value: &Value) -> Result<&Vec<Value>, SimError> {
    value
        .as_array()
        .ok_or_else(|| SimError::value(format!("Invalid value {value}: expected a list")))
}

fn list_or_one(value: &Value) -> Vec<u64> {
    match value {
        Value::Array(items) => items.iter().filter_map(Value::as_u64).collect(),
        other => other.as_u64().into_iter().collect(),
    }
}

fn equals(left: &Value, right: &Value) -> bool {
    match (left, right) {
        // An x2many field "equals" an id when it contains it, as in Odoo.
        (Value::Array(ids), r) if !r.is_array() => ids.contains(r),
        (Value::Bool(false) | Value::Null, Value::Bool(false) | Value::Null) => true,
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        (a, b) => a == b,
    }
}

fn order(left: &Value, right: &Value) -> Option<std::cmp::Ordering> {
    match (left, right) {
        (Value::Number(a), Value::Number(b)) => a.as_f64()?.partial_cmp(&b.as_f64()?),
        (Value::String(a), Value::String(b)) => Some(a.as_str().cmp(b.as_str())),
        _ => None,
    }
}

fn like(left: &Value, right: &Value, insensitive: bool) -> bool {
    let (Some(hay), Some(needle)) = (left.as_str(), right.as_str()) else {
        return false;
    };
    let needle = needle.replace('%', "");
    if insensitive {
        hay.to_lowercase().contains(&needle.to_lowercase())
    } else {
        hay.contains(&needle)
    }
}
