//! CONTRL syntax and service report for a received interchange.
//!
//! Action codes follow the syntax rules: UCI4 `8` accepted, `7` accepted with
//! some messages rejected, `4` rejected; UCM `7` accepted, `4` rejected. A
//! technical acknowledgement (UNB9 = `2`) stops at UCI; otherwise every message
//! gets a UCM, with UCS lines for the segments that failed the directory check.

use super::Document;
use super::envelope::{self, Interchange};
use crate::formats::Tree;

/// A segment-level error found in a received message (directory validation).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SegmentError {
    /// UNH1 of the message.
    pub message: String,
    /// Position of the segment within its message (UNH = 1).
    pub position: usize,
    /// Syntax error code (data element 0085).
    pub code: String,
}

/// Our side of the acknowledgement interchange.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContrlOptions {
    /// Control reference of the CONTRL interchange we send.
    pub control_reference: String,
    /// Preparation date `YYMMDD`.
    pub date: String,
    /// Preparation time `HHMM`.
    pub time: String,
}

/// Why no CONTRL can be made.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ContrlError {
    /// The interchange is itself a CONTRL: the rules forbid acknowledging it.
    #[error("the interchange carries CONTRL messages; a CONTRL is never acknowledged")]
    ContrlForContrl,
    /// Without a UNB there is nobody and nothing to acknowledge.
    #[error("the interchange has no UNB header to acknowledge")]
    NoHeader,
}

/// The UCI4 action code for an interchange.
pub fn interchange_action(ic: &Interchange, errors: &[SegmentError]) -> &'static str {
    let message_rejected = ic
        .messages
        .iter()
        .any(|m| message_rejected(ic, errors, &m.reference));
    if ic.interchange_rejected() {
        "4"
    } else if message_rejected {
        "7"
    } else {
        "8"
    }
}

fn message_rejected(ic: &Interchange, errors: &[SegmentError], reference: &str) -> bool {
    ic.message_issues(reference).next().is_some() || errors.iter().any(|e| e.message == reference)
}

/// Builds the CONTRL interchange (as an EDIFACT tree) answering `doc`.
pub fn generate(
    doc: &Document<'_>,
    errors: &[SegmentError],
    options: &ContrlOptions,
) -> Result<Tree, ContrlError> {
    let ic = envelope::check(doc);
    if ic.messages.iter().any(|m| m.message_type == "CONTRL") {
        return Err(ContrlError::ContrlForContrl);
    }
    let (Some(sender), Some(recipient), Some(reference)) =
        (&ic.sender, &ic.recipient, &ic.control_reference)
    else {
        return Err(ContrlError::NoHeader);
    };
    let text = |s: &str| Tree::text(s);
    let party = |id: &str, qualifier: &Option<String>| match qualifier {
        Some(q) => Tree::List(vec![text(id), text(q)]),
        None => text(id),
    };
    let syntax_version = ic.syntax_version.clone().unwrap_or_else(|| "3".into());
    let syntax4 = syntax_version == "4";
    let mut body: Vec<Tree> = Vec::new();

    let mut uci = vec![
        text("UCI"),
        text(reference),
        party(sender, &ic.sender_qualifier),
        party(recipient, &ic.recipient_qualifier),
        text(interchange_action(&ic, errors)),
    ];
    if let Some(first) = ic.issues.iter().find(|i| {
        matches!(
            i.level,
            envelope::Level::Interchange | envelope::Level::Group(_)
        )
    }) {
        uci.push(text(first.syntax_error_code()));
    }
    body.push(Tree::List(uci));

    if ic.ack_request.as_deref() != Some("2") {
        for m in &ic.messages {
            let rejected = message_rejected(&ic, errors, &m.reference);
            let mut ucm = vec![
                text("UCM"),
                text(&m.reference),
                Tree::List(vec![
                    text(&m.message_type),
                    text(&m.version),
                    text(&m.release),
                    text(&m.agency),
                ]),
                text(if rejected { "4" } else { "7" }),
            ];
            if let Some(issue) = ic.message_issues(&m.reference).next() {
                ucm.push(text(issue.syntax_error_code()));
            }
            body.push(Tree::List(ucm));
            for e in errors.iter().filter(|e| e.message == m.reference) {
                body.push(Tree::List(vec![
                    text("UCS"),
                    text(&e.position.to_string()),
                    text(&e.code),
                ]));
            }
        }
    }

    let mut segments = vec![Tree::List(vec![
        text("UNB"),
        Tree::List(vec![
            text(ic.syntax_identifier.as_deref().unwrap_or("UNOC")),
            text(&syntax_version),
        ]),
        party(recipient, &ic.recipient_qualifier),
        party(sender, &ic.sender_qualifier),
        Tree::List(vec![text(&options.date), text(&options.time)]),
        text(&options.control_reference),
    ])];
    let (version, release) = if syntax4 { ("4", "1") } else { ("D", "3") };
    segments.push(Tree::List(vec![
        text("UNH"),
        text("1"),
        Tree::List(vec![
            text("CONTRL"),
            text(version),
            text(release),
            text("UN"),
        ]),
    ]));
    let count = body.len() + 2;
    segments.extend(body);
    segments.push(Tree::List(vec![
        text("UNT"),
        text(&count.to_string()),
        text("1"),
    ]));
    segments.push(Tree::List(vec![
        text("UNZ"),
        text("1"),
        text(&options.control_reference),
    ]));
    let separators = doc.separators_tree();
    Ok(Tree::Map(vec![
        ("una".into(), Tree::Bool(doc.una)),
        ("separators".into(), separators),
        ("segments".into(), Tree::List(segments)),
    ]))
}
