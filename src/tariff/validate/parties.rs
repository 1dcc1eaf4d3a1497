//! Parties: roles the rules require, identifiers (EORI, LEI) and addresses.

use super::{IssueCode, Rules, Validator, wire_name};
use crate::model::{IdentifierScheme, Party};

impl Validator<'_> {
    pub(super) fn parties(&mut self, rules: &Rules) {
        let s = self.s;
        for (i, p) in s.parties.iter().enumerate() {
            self.party(i, p);
            if s.parties[..i].iter().any(|q| q.id == p.id) {
                self.push(
                    IssueCode::PartyIdDuplicate,
                    format!("$.parties[{i}].id"),
                    format!("party id {} is used by more than one party", p.id),
                );
            }
        }
        for role in rules.required_roles.for_direction(s.direction) {
            if s.parties_with(*role).next().is_none() {
                self.push(
                    IssueCode::PartyRoleMissing,
                    "$.parties".into(),
                    format!(
                        "no party has the role {} (required for {} shipments)",
                        wire_name(role),
                        wire_name(s.direction)
                    ),
                );
            }
        }
    }

    pub(super) fn party(&mut self, i: usize, p: &Party) {
        if p.name.trim().is_empty() {
            self.push(
                IssueCode::PartyNameMissing,
                format!("$.parties[{i}].name"),
                format!("party {} has no name", p.id),
            );
        }
        if p.addresses.is_empty() {
            self.push(
                IssueCode::PartyAddressMissing,
                format!("$.parties[{i}].addresses"),
                format!("party {} ({}) has no address", p.id, p.name),
            );
        }
        for (a, addr) in p.addresses.iter().enumerate() {
            if let Some(c) = &addr.country {
                self.country(c, &|| format!("$.parties[{i}].addresses[{a}].country"));
            }
        }
        match (&p.country, p.effective_country()) {
            (Some(c), _) => self.country(c, &|| format!("$.parties[{i}].country")),
            (None, None) => self.push(
                IssueCode::PartyCountryMissing,
                format!("$.parties[{i}].country"),
                format!(
                    "party {} has no country, neither its own nor in an address",
                    p.id
                ),
            ),
            (None, Some(_)) => {}
        }
        for (k, id) in p.identifiers.iter().enumerate() {
            let problem = match id.scheme {
                IdentifierScheme::Eori => eori_problem(&id.value),
                IdentifierScheme::Lei => lei_problem(&id.value),
                _ => None,
            };
            if let Some(problem) = problem {
                self.push(
                    IssueCode::IdentifierMalformed,
                    format!("$.parties[{i}].identifiers[{k}].value"),
                    format!(
                        "{} {:?}: {problem}",
                        wire_name(id.scheme).to_uppercase(),
                        id.value
                    ),
                );
            }
            if let Some(c) = &id.country {
                self.country(c, &|| format!("$.parties[{i}].identifiers[{k}].country"));
            }
        }
    }
}

/// EORI: a 2-letter country prefix and up to 15 letters or digits.
pub(super) fn eori_problem(v: &str) -> Option<&'static str> {
    let b = v.as_bytes();
    if b.len() < 3 || b.len() > 17 {
        return Some("expected 2 letters of country and up to 15 letters or digits");
    }
    if !b[..2].iter().all(u8::is_ascii_uppercase) || !b[2..].iter().all(u8::is_ascii_alphanumeric) {
        return Some("expected 2 upper-case letters of country, then letters or digits");
    }
    None
}

/// LEI (ISO 17442): 20 characters whose ISO 7064 MOD 97-10 check holds.
pub(super) fn lei_problem(v: &str) -> Option<&'static str> {
    if v.len() != 20
        || !v
            .bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
    {
        return Some("expected 20 upper-case letters or digits");
    }
    let rem = v.bytes().fold(0u32, |acc, b| {
        let n = if b.is_ascii_digit() {
            u32::from(b - b'0')
        } else {
            u32::from(b - b'A') + 10
        };
        if n >= 10 {
            (acc * 100 + n) % 97
        } else {
            (acc * 10 + n) % 97
        }
    });
    (rem != 1).then_some("check digits do not match (ISO 17442)")
}
