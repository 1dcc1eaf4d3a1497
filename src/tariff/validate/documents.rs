//! Transport (mode, equipment, containers) and the documents the rules require.

use super::{IssueCode, Rules, Validator, wire_name};
use crate::model::TransportMode;

impl Validator<'_> {
    pub(super) fn transport(&mut self) {
        let s = self.s;
        let Some(t) = &s.transport else {
            self.push(
                IssueCode::TransportMissing,
                "$.transport".into(),
                "no transport details: mode-dependent document rules cannot apply".into(),
            );
            return;
        };
        if let Some(carrier) = &t.carrier
            && !s.parties.iter().any(|p| &p.id == carrier)
        {
            self.push(
                IssueCode::PartyReferenceUnknown,
                "$.transport.carrier".into(),
                format!("carrier {carrier} is not one of the shipment's parties"),
            );
        }
        for (field, loc) in [("loading", &t.loading), ("discharge", &t.discharge)] {
            if let Some(code) = loc.as_ref().and_then(|l| l.locode.as_ref()) {
                self.locode(code, &|| format!("$.transport.{field}.locode"));
            }
        }
        if let (Some(dep), Some(arr)) = (t.departure, t.arrival)
            && dep > arr
        {
            self.push(
                IssueCode::TransportDatesInverted,
                "$.transport.arrival".into(),
                format!("arrival {arr} is before departure {dep}"),
            );
        }
        if t.mode == Some(TransportMode::Sea) {
            for (k, e) in t.equipment.iter().enumerate() {
                if let Some(problem) = container_problem(&e.id) {
                    self.push(
                        IssueCode::EquipmentIdInvalid,
                        format!("$.transport.equipment[{k}].id"),
                        format!("container {:?}: {problem}", e.id),
                    );
                }
            }
        }
    }

    pub(super) fn documents(&mut self, rules: &Rules) {
        let s = self.s;
        for (k, d) in s.documents.iter().enumerate() {
            if d.number.trim().is_empty() {
                self.push(
                    IssueCode::DocumentNumberMissing,
                    format!("$.documents[{k}].number"),
                    format!("{} has no number", kind_text(d.kind)),
                );
            }
            for n in &d.lines {
                if !s.lines.iter().any(|l| l.number == *n) {
                    self.push(
                        IssueCode::DocumentLineUnknown,
                        format!("$.documents[{k}].lines"),
                        format!(
                            "{} {:?} refers to line {n}, which the shipment does not have",
                            kind_text(d.kind),
                            d.number
                        ),
                    );
                }
            }
        }
        for rule in &rules.documents {
            if !rule.when.matches_shipment(s) {
                continue;
            }
            let satisfied = |line: Option<u32>| {
                s.documents
                    .iter()
                    .any(|d| rule.any_of.contains(&d.kind) && line.is_none_or(|n| d.covers_line(n)))
            };
            if rule.when.is_per_line() {
                for (i, line) in s.lines.iter().enumerate() {
                    if rule.when.matches_line(line) && !satisfied(Some(line.number)) {
                        self.push_with(
                            IssueCode::DocumentMissing,
                            rule.severity,
                            format!("$.lines[{i}]"),
                            format!(
                                "{}: line {} needs {} covering it",
                                rule.name,
                                line.number,
                                kinds_text(&rule.any_of)
                            ),
                        );
                    }
                }
            } else if !satisfied(None) {
                self.push_with(
                    IssueCode::DocumentMissing,
                    rule.severity,
                    "$.documents".into(),
                    format!(
                        "{}: the shipment needs {}",
                        rule.name,
                        kinds_text(&rule.any_of)
                    ),
                );
            }
        }
    }
}

fn kind_text(kind: crate::model::DocumentKind) -> String {
    wire_name(kind).replace('_', " ")
}

fn kinds_text(kinds: &[crate::model::DocumentKind]) -> String {
    let names: Vec<String> = kinds.iter().map(|k| kind_text(*k)).collect();
    match names.as_slice() {
        [one] if one.starts_with(['a', 'e', 'i', 'o', 'u']) => format!("an {one}"),
        [one] => format!("a {one}"),
        _ => format!("one of: {}", names.join(", ")),
    }
}

/// ISO 6346 container number: owner code (3 letters), category (U, J or Z), 6-digit serial and a
/// check digit.
pub(super) fn container_problem(id: &str) -> Option<&'static str> {
    let b = id.as_bytes();
    let shaped = b.len() == 11
        && b[..3].iter().all(u8::is_ascii_uppercase)
        && matches!(b[3], b'U' | b'J' | b'Z')
        && b[4..].iter().all(u8::is_ascii_digit);
    if !shaped {
        return Some("expected ISO 6346 form: 3 letters, U/J/Z, 7 digits (e.g. CSQU3054383)");
    }
    let value = |c: u8| -> u32 {
        if c.is_ascii_digit() {
            return u32::from(c - b'0');
        }
        // Letters count from 10 (A) upwards but skip 11, 22 and 33.
        let v = 10 + u32::from(c - b'A');
        v + (v - 1) / 10
    };
    let sum: u32 = b[..10]
        .iter()
        .enumerate()
        .map(|(i, &c)| value(c) << i)
        .sum();
    let check = (sum % 11) % 10;
    (check != u32::from(b[10] - b'0')).then_some("check digit does not match (ISO 6346)")
}
