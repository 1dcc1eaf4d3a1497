//! 997 functional acknowledgement for a received interchange.
//!
//! AK5 per transaction set (`A` accepted, `R` rejected with code `3` control
//! number mismatch / `4` segment count mismatch / `2` trailer missing) and AK9
//! per group (`A`, `P` partially accepted, `R`; AK9 codes `4` group control
//! number mismatch, `5` set count mismatch, `2` GE missing).

use super::envelope::{self, IssueKind, Level};
use super::{Document, ISA_WIDTHS};
use crate::formats::Tree;

/// Our side of the 997 interchange.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AckOptions {
    /// ISA13 / GS06 of the 997 we send.
    pub control_number: u64,
    /// `YYYYMMDD`.
    pub date: String,
    /// `HHMM`.
    pub time: String,
}

/// Why no 997 can be made.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AckError {
    /// Acknowledgements are not acknowledged.
    #[error(
        "the interchange carries functional acknowledgements (997/999); they are never acknowledged"
    )]
    AckForAck,
    /// Nothing to acknowledge.
    #[error("the interchange has no functional group")]
    NoGroups,
}

fn text(s: &str) -> Tree {
    Tree::text(s)
}

fn set_code(kind: &IssueKind) -> &'static str {
    match kind {
        IssueKind::ControlNumberMismatch { .. } => "3",
        IssueKind::CountMismatch { .. } => "4",
        _ => "2",
    }
}

fn group_code(kind: &IssueKind) -> &'static str {
    match kind {
        IssueKind::ControlNumberMismatch { .. } => "4",
        IssueKind::CountMismatch { .. } => "5",
        _ => "2",
    }
}

fn isa_field(value: &str, index: usize) -> String {
    let width = ISA_WIDTHS[index];
    format!("{value:<width$}")
}

/// Builds the 997 (as an X12 tree) answering `doc`: one GS/ST per received group.
pub fn generate(doc: &Document<'_>, options: &AckOptions) -> Result<Tree, AckError> {
    let ic = envelope::check(doc);
    if ic.groups.iter().any(|g| g.functional_id == "FA") {
        return Err(AckError::AckForAck);
    }
    if ic.groups.is_empty() {
        return Err(AckError::NoGroups);
    }
    let control = format!("{:09}", options.control_number);
    let short_date = options.date.get(2..).unwrap_or(&options.date).to_owned();
    let seps = doc.separators;
    let mut segments = vec![Tree::List(vec![
        text("ISA"),
        text("00"),
        text(&isa_field("", 1)),
        text("00"),
        text(&isa_field("", 3)),
        text(&isa_field(&ic.receiver_qualifier, 4)),
        text(&isa_field(&ic.receiver, 5)),
        text(&isa_field(&ic.sender_qualifier, 6)),
        text(&isa_field(&ic.sender, 7)),
        text(&short_date),
        text(&options.time),
        text(&match seps.repetition {
            Some(r) if ic.version.as_str() >= "00402" => (r as char).to_string(),
            _ => "U".to_owned(),
        }),
        text(&ic.version),
        text(&control),
        text("0"),
        text(if ic.usage.is_empty() { "P" } else { &ic.usage }),
        text(&(seps.component as char).to_string()),
    ])];
    for (g_index, group) in ic.groups.iter().enumerate() {
        let group_control = (options.control_number + g_index as u64).to_string();
        segments.push(Tree::List(vec![
            text("GS"),
            text("FA"),
            text(&group.receiver),
            text(&group.sender),
            text(&options.date),
            text(&options.time),
            text(&group_control),
            text("X"),
            text(&group.version),
        ]));
        let mut body = vec![
            Tree::List(vec![text("ST"), text("997"), text("0001")]),
            Tree::List(vec![
                text("AK1"),
                text(&group.functional_id),
                text(&group.control_number),
            ]),
        ];
        let mut accepted = 0;
        for set in &group.sets {
            body.push(Tree::List(vec![
                text("AK2"),
                text(&set.id),
                text(&set.control_number),
            ]));
            let level = Level::Set(set.control_number.clone());
            let codes: Vec<&str> = ic.issues_at(&level).map(|i| set_code(&i.kind)).collect();
            if codes.is_empty() {
                accepted += 1;
                body.push(Tree::List(vec![text("AK5"), text("A")]));
            } else {
                let mut ak5 = vec![text("AK5"), text("R")];
                ak5.extend(codes.iter().take(5).map(|c| text(c)));
                body.push(Tree::List(ak5));
            }
        }
        let group_level = Level::Group(group.control_number.clone());
        let group_codes: Vec<&str> = ic
            .issues_at(&group_level)
            .map(|i| group_code(&i.kind))
            .collect();
        let status = if !group_codes.is_empty() || accepted == 0 {
            "R"
        } else if accepted < group.sets.len() {
            "P"
        } else {
            "A"
        };
        let received = group.sets.len().to_string();
        let mut ak9 = vec![
            text("AK9"),
            text(status),
            text(&received),
            text(&received),
            text(&accepted.to_string()),
        ];
        ak9.extend(group_codes.iter().take(5).map(|c| text(c)));
        body.push(Tree::List(ak9));
        let count = body.len() + 1;
        segments.extend(body);
        segments.push(Tree::List(vec![
            text("SE"),
            text(&count.to_string()),
            text("0001"),
        ]));
        segments.push(Tree::List(vec![
            text("GE"),
            text("1"),
            text(&group_control),
        ]));
    }
    segments.push(Tree::List(vec![
        text("IEA"),
        text(&ic.groups.len().to_string()),
        text(&control),
    ]));
    Ok(Tree::Map(vec![
        ("separators".into(), doc.separators_tree()),
        ("segments".into(), Tree::List(segments)),
    ]))
}
