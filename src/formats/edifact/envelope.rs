//! Interchange, group and message envelopes: what they declare and whether the
//! control counts and references add up.

use std::fmt;

use super::Document;

/// Which envelope an issue belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Level {
    /// `UNA`/`UNB`/`UNZ`, or a segment outside every message.
    Interchange,
    /// `UNG`/`UNE` with the group reference.
    Group(String),
    /// `UNH`/`UNT` with the message reference.
    Message(String),
}

/// What is wrong with an envelope.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IssueKind {
    /// A header segment is missing (`UNB`).
    MissingHeader(&'static str),
    /// A trailer segment is missing (`UNT`, `UNE`, `UNZ`).
    MissingTrailer(&'static str),
    /// A trailer's control count differs from what was received.
    CountMismatch {
        /// Count written in the trailer.
        declared: String,
        /// Count actually received.
        actual: usize,
    },
    /// Header and trailer references differ.
    ReferenceMismatch {
        /// Reference in the header.
        header: String,
        /// Reference in the trailer.
        trailer: String,
    },
    /// A segment where the envelope structure does not allow it.
    Unexpected,
    /// A mandatory envelope element is empty.
    MissingElement(&'static str),
}

/// One envelope problem, with the segment where it shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvelopeIssue {
    /// 1-based segment number (0 when the problem is at the end of input).
    pub segment: usize,
    /// Tag of that segment.
    pub tag: String,
    /// Envelope concerned.
    pub level: Level,
    /// What is wrong.
    pub kind: IssueKind,
}

impl EnvelopeIssue {
    /// UN/EDIFACT syntax error code (data element 0085) for CONTRL.
    pub fn syntax_error_code(&self) -> &'static str {
        match self.kind {
            IssueKind::MissingHeader(_) | IssueKind::MissingTrailer(_) => "13",
            IssueKind::MissingElement(_) => "12",
            IssueKind::CountMismatch { .. } => "29",
            IssueKind::ReferenceMismatch { .. } => "28",
            IssueKind::Unexpected => "33",
        }
    }
}

impl fmt::Display for EnvelopeIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "segment {} ({}): ", self.segment, self.tag)?;
        match &self.kind {
            IssueKind::MissingHeader(tag) => write!(f, "missing {tag}"),
            IssueKind::MissingTrailer(tag) => write!(f, "missing {tag}"),
            IssueKind::CountMismatch { declared, actual } => {
                write!(f, "control count {declared} but {actual} received")
            }
            IssueKind::ReferenceMismatch { header, trailer } => {
                write!(
                    f,
                    "reference {trailer} does not match header reference {header}"
                )
            }
            IssueKind::Unexpected => write!(f, "segment not allowed here"),
            IssueKind::MissingElement(what) => write!(f, "{what} is empty"),
        }
    }
}

/// A message found between `UNH` and `UNT`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MessageInfo {
    /// UNH1 message reference number.
    pub reference: String,
    /// UNH2.1 message type (`CUSDEC`).
    pub message_type: String,
    /// UNH2.2 version (`D`).
    pub version: String,
    /// UNH2.3 release (`96B`).
    pub release: String,
    /// UNH2.4 controlling agency (`UN`).
    pub agency: String,
    /// UNH2.5 association assigned code, if any.
    pub association: Option<String>,
    /// 0-based index of the UNH segment.
    pub first_segment: usize,
    /// Number of segments from UNH up to and including UNT (or the last one seen).
    pub segment_count: usize,
    /// Group reference when inside UNG/UNE.
    pub group: Option<String>,
}

impl MessageInfo {
    /// Directory release key (`D96B`) for `D` versions.
    pub fn directory(&self) -> String {
        format!("{}{}", self.version, self.release).to_ascii_uppercase()
    }
}

/// What the interchange declares, and what is wrong with its envelopes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Interchange {
    /// UNB1.1 syntax identifier (`UNOC`).
    pub syntax_identifier: Option<String>,
    /// UNB1.2 syntax version (`3`, `4`).
    pub syntax_version: Option<String>,
    /// UNB2.1 sender.
    pub sender: Option<String>,
    /// UNB2.2 sender code qualifier.
    pub sender_qualifier: Option<String>,
    /// UNB3.1 recipient.
    pub recipient: Option<String>,
    /// UNB3.2 recipient code qualifier.
    pub recipient_qualifier: Option<String>,
    /// UNB5 interchange control reference.
    pub control_reference: Option<String>,
    /// UNB9 acknowledgement request (`1` functional, `2` technical).
    pub ack_request: Option<String>,
    /// UNB11 test indicator set.
    pub test: bool,
    /// Messages in order.
    pub messages: Vec<MessageInfo>,
    /// Envelope problems.
    pub issues: Vec<EnvelopeIssue>,
}

impl Interchange {
    /// True when the interchange-level envelope is broken.
    pub fn interchange_rejected(&self) -> bool {
        self.issues
            .iter()
            .any(|i| matches!(i.level, Level::Interchange | Level::Group(_)))
    }

    /// Issues of one message.
    pub fn message_issues<'s>(
        &'s self,
        reference: &'s str,
    ) -> impl Iterator<Item = &'s EnvelopeIssue> {
        self.issues
            .iter()
            .filter(move |i| matches!(&i.level, Level::Message(r) if r == reference))
    }
}

fn non_empty(s: Option<&str>) -> Option<String> {
    s.filter(|s| !s.is_empty()).map(str::to_owned)
}

struct Open {
    reference: String,
    count: usize,
}

/// Walks the envelopes and checks every control count and reference.
pub fn check(doc: &Document<'_>) -> Interchange {
    let mut ic = Interchange::default();
    let mut unb_ref: Option<String> = None;
    let mut saw_unb = false;
    let mut saw_unz = false;
    let mut group: Option<Open> = None;
    let mut message: Option<Open> = None;
    let mut groups = 0usize;
    let mut messages_outside_groups = 0usize;
    let issue = |ic: &mut Interchange, segment: usize, tag: &str, level: Level, kind: IssueKind| {
        ic.issues.push(EnvelopeIssue {
            segment,
            tag: tag.to_owned(),
            level,
            kind,
        });
    };

    for seg in doc.segments() {
        let n = seg.number();
        let tag = seg.tag();
        if let Some(m) = message.as_mut() {
            m.count += 1;
        }
        match tag {
            "UNB" => {
                if saw_unb || seg.index != 0 {
                    issue(&mut ic, n, tag, Level::Interchange, IssueKind::Unexpected);
                }
                saw_unb = true;
                ic.syntax_identifier = non_empty(seg.get(1, 0));
                ic.syntax_version = non_empty(seg.get(1, 1));
                ic.sender = non_empty(seg.get(2, 0));
                ic.sender_qualifier = non_empty(seg.get(2, 1));
                ic.recipient = non_empty(seg.get(3, 0));
                ic.recipient_qualifier = non_empty(seg.get(3, 1));
                ic.control_reference = non_empty(seg.get(5, 0));
                ic.ack_request = non_empty(seg.get(9, 0));
                ic.test = seg.get(11, 0) == Some("1");
                unb_ref = ic.control_reference.clone();
                if unb_ref.is_none() {
                    issue(
                        &mut ic,
                        n,
                        tag,
                        Level::Interchange,
                        IssueKind::MissingElement("UNB5 interchange control reference"),
                    );
                }
            }
            "UNG" => {
                if let Some(m) = message.take() {
                    issue(
                        &mut ic,
                        n,
                        tag,
                        Level::Message(m.reference),
                        IssueKind::MissingTrailer("UNT"),
                    );
                }
                if let Some(g) = group.take() {
                    issue(
                        &mut ic,
                        n,
                        tag,
                        Level::Group(g.reference),
                        IssueKind::MissingTrailer("UNE"),
                    );
                }
                groups += 1;
                group = Some(Open {
                    reference: seg.get(5, 0).unwrap_or_default().to_owned(),
                    count: 0,
                });
            }
            "UNH" => {
                if let Some(m) = message.take() {
                    issue(
                        &mut ic,
                        n,
                        tag,
                        Level::Message(m.reference),
                        IssueKind::MissingTrailer("UNT"),
                    );
                }
                let reference = seg.get(1, 0).unwrap_or_default().to_owned();
                match group.as_mut() {
                    Some(g) => g.count += 1,
                    None => messages_outside_groups += 1,
                }
                ic.messages.push(MessageInfo {
                    reference: reference.clone(),
                    message_type: seg.get(2, 0).unwrap_or_default().to_owned(),
                    version: seg.get(2, 1).unwrap_or_default().to_owned(),
                    release: seg.get(2, 2).unwrap_or_default().to_owned(),
                    agency: seg.get(2, 3).unwrap_or_default().to_owned(),
                    association: non_empty(seg.get(2, 4)),
                    first_segment: seg.index,
                    segment_count: 1,
                    group: group.as_ref().map(|g| g.reference.clone()),
                });
                if reference.is_empty() {
                    issue(
                        &mut ic,
                        n,
                        tag,
                        Level::Message(reference.clone()),
                        IssueKind::MissingElement("UNH1 message reference"),
                    );
                }
                message = Some(Open {
                    reference,
                    count: 1,
                });
            }
            "UNT" => match message.take() {
                None => issue(&mut ic, n, tag, Level::Interchange, IssueKind::Unexpected),
                Some(m) => {
                    if let Some(info) = ic.messages.last_mut() {
                        info.segment_count = m.count;
                    }
                    let level = Level::Message(m.reference.clone());
                    let declared = seg.get(1, 0).unwrap_or_default();
                    if declared.parse::<usize>().ok() != Some(m.count) {
                        issue(
                            &mut ic,
                            n,
                            tag,
                            level.clone(),
                            IssueKind::CountMismatch {
                                declared: declared.to_owned(),
                                actual: m.count,
                            },
                        );
                    }
                    let trailer = seg.get(2, 0).unwrap_or_default();
                    if trailer != m.reference {
                        issue(
                            &mut ic,
                            n,
                            tag,
                            level,
                            IssueKind::ReferenceMismatch {
                                header: m.reference,
                                trailer: trailer.to_owned(),
                            },
                        );
                    }
                }
            },
            "UNE" => {
                if let Some(m) = message.take() {
                    issue(
                        &mut ic,
                        n,
                        tag,
                        Level::Message(m.reference),
                        IssueKind::MissingTrailer("UNT"),
                    );
                }
                match group.take() {
                    None => issue(&mut ic, n, tag, Level::Interchange, IssueKind::Unexpected),
                    Some(g) => {
                        let level = Level::Group(g.reference.clone());
                        let declared = seg.get(1, 0).unwrap_or_default();
                        if declared.parse::<usize>().ok() != Some(g.count) {
                            issue(
                                &mut ic,
                                n,
                                tag,
                                level.clone(),
                                IssueKind::CountMismatch {
                                    declared: declared.to_owned(),
                                    actual: g.count,
                                },
                            );
                        }
                        let trailer = seg.get(2, 0).unwrap_or_default();
                        if trailer != g.reference {
                            issue(
                                &mut ic,
                                n,
                                tag,
                                level,
                                IssueKind::ReferenceMismatch {
                                    header: g.reference,
                                    trailer: trailer.to_owned(),
                                },
                            );
                        }
                    }
                }
            }
            "UNZ" => {
                if let Some(m) = message.take() {
                    issue(
                        &mut ic,
                        n,
                        tag,
                        Level::Message(m.reference),
                        IssueKind::MissingTrailer("UNT"),
                    );
                }
                if let Some(g) = group.take() {
                    issue(
                        &mut ic,
                        n,
                        tag,
                        Level::Group(g.reference),
                        IssueKind::MissingTrailer("UNE"),
                    );
                }
                if !saw_unb || saw_unz {
                    issue(&mut ic, n, tag, Level::Interchange, IssueKind::Unexpected);
                }
                saw_unz = true;
                // With groups, UNZ counts groups; otherwise it counts messages.
                let expected = if groups > 0 {
                    groups
                } else {
                    messages_outside_groups
                };
                let declared = seg.get(1, 0).unwrap_or_default();
                if declared.parse::<usize>().ok() != Some(expected) {
                    issue(
                        &mut ic,
                        n,
                        tag,
                        Level::Interchange,
                        IssueKind::CountMismatch {
                            declared: declared.to_owned(),
                            actual: expected,
                        },
                    );
                }
                let trailer = seg.get(2, 0).unwrap_or_default();
                if let Some(header) = &unb_ref
                    && trailer != header
                {
                    issue(
                        &mut ic,
                        n,
                        tag,
                        Level::Interchange,
                        IssueKind::ReferenceMismatch {
                            header: header.clone(),
                            trailer: trailer.to_owned(),
                        },
                    );
                }
            }
            _ => {
                if message.is_none() || saw_unz {
                    issue(&mut ic, n, tag, Level::Interchange, IssueKind::Unexpected);
                }
            }
        }
    }
    let end = doc.len();
    if let Some(m) = message.take() {
        if let Some(info) = ic.messages.last_mut() {
            info.segment_count = m.count;
        }
        issue(
            &mut ic,
            end,
            "",
            Level::Message(m.reference),
            IssueKind::MissingTrailer("UNT"),
        );
    }
    if let Some(g) = group.take() {
        issue(
            &mut ic,
            end,
            "",
            Level::Group(g.reference),
            IssueKind::MissingTrailer("UNE"),
        );
    }
    if saw_unb && !saw_unz {
        issue(
            &mut ic,
            end,
            "",
            Level::Interchange,
            IssueKind::MissingTrailer("UNZ"),
        );
    }
    if !saw_unb {
        issue(
            &mut ic,
            1,
            "",
            Level::Interchange,
            IssueKind::MissingHeader("UNB"),
        );
    }
    ic
}
