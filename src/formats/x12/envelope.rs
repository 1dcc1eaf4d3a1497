//! ISA/IEA, GS/GE and ST/SE: control numbers and counts.

use std::fmt;

use super::Document;

/// Which envelope an issue belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Level {
    /// ISA/IEA.
    Interchange,
    /// GS/GE, by GS06.
    Group(String),
    /// ST/SE, by ST02.
    Set(String),
}

/// What is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IssueKind {
    /// A trailer is missing (`SE`, `GE`, `IEA`).
    MissingTrailer(&'static str),
    /// A count in a trailer differs from what was received.
    CountMismatch {
        /// Declared.
        declared: String,
        /// Received.
        actual: usize,
    },
    /// Header and trailer control numbers differ.
    ControlNumberMismatch {
        /// In the header.
        header: String,
        /// In the trailer.
        trailer: String,
    },
    /// Segment in a place the envelope does not allow.
    Unexpected,
    /// ISA is not in its fixed 106-character layout.
    IsaNotFixedWidth,
}

/// One envelope problem.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvelopeIssue {
    /// 1-based segment number (0: end of input).
    pub segment: usize,
    /// Segment tag.
    pub tag: String,
    /// Envelope.
    pub level: Level,
    /// What.
    pub kind: IssueKind,
}

impl fmt::Display for EnvelopeIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "segment {} ({}): ", self.segment, self.tag)?;
        match &self.kind {
            IssueKind::MissingTrailer(t) => write!(f, "missing {t}"),
            IssueKind::CountMismatch { declared, actual } => {
                write!(f, "count {declared} but {actual} received")
            }
            IssueKind::ControlNumberMismatch { header, trailer } => {
                write!(f, "control number {trailer} does not match header {header}")
            }
            IssueKind::Unexpected => write!(f, "segment not allowed here"),
            IssueKind::IsaNotFixedWidth => write!(f, "ISA is not fixed width (106 characters)"),
        }
    }
}

/// A transaction set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SetInfo {
    /// ST01 (`214`).
    pub id: String,
    /// ST02.
    pub control_number: String,
    /// Segments ST…SE inclusive.
    pub segment_count: usize,
}

/// A functional group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupInfo {
    /// GS01 functional identifier (`QM`).
    pub functional_id: String,
    /// GS02.
    pub sender: String,
    /// GS03.
    pub receiver: String,
    /// GS06.
    pub control_number: String,
    /// GS08 (`004010`).
    pub version: String,
    /// Sets.
    pub sets: Vec<SetInfo>,
}

/// What the interchange declares.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Interchange {
    /// ISA05.
    pub sender_qualifier: String,
    /// ISA06 (trimmed).
    pub sender: String,
    /// ISA07.
    pub receiver_qualifier: String,
    /// ISA08 (trimmed).
    pub receiver: String,
    /// ISA12.
    pub version: String,
    /// ISA13.
    pub control_number: String,
    /// ISA14 = `1`.
    pub ack_requested: bool,
    /// ISA15 (`P` production, `T` test).
    pub usage: String,
    /// Groups.
    pub groups: Vec<GroupInfo>,
    /// Problems.
    pub issues: Vec<EnvelopeIssue>,
}

impl Interchange {
    /// Issues of one group (by GS06) or of the interchange.
    pub fn issues_at<'s>(&'s self, level: &'s Level) -> impl Iterator<Item = &'s EnvelopeIssue> {
        self.issues.iter().filter(move |i| &i.level == level)
    }
}

/// Checks every control number and count.
pub fn check(doc: &Document<'_>) -> Interchange {
    let mut ic = Interchange::default();
    let issue = |ic: &mut Interchange, segment: usize, tag: &str, level: Level, kind: IssueKind| {
        ic.issues.push(EnvelopeIssue {
            segment,
            tag: tag.to_owned(),
            level,
            kind,
        })
    };
    let mut in_set: Option<(String, usize)> = None;
    let mut in_group = false;
    let mut saw_iea = false;
    let mut saw_isa = false;
    if !doc.isa_fixed_width {
        issue(
            &mut ic,
            1,
            "ISA",
            Level::Interchange,
            IssueKind::IsaNotFixedWidth,
        );
    }
    for seg in doc.segments() {
        let n = seg.number();
        let tag = seg.tag();
        if let Some((_, count)) = in_set.as_mut() {
            *count += 1;
        }
        match tag {
            "ISA" => {
                if saw_isa {
                    issue(&mut ic, n, tag, Level::Interchange, IssueKind::Unexpected);
                }
                saw_isa = true;
                ic.sender_qualifier = seg.element(5).trim().to_owned();
                ic.sender = seg.element(6).trim().to_owned();
                ic.receiver_qualifier = seg.element(7).trim().to_owned();
                ic.receiver = seg.element(8).trim().to_owned();
                ic.version = seg.element(12).to_owned();
                ic.control_number = seg.element(13).to_owned();
                ic.ack_requested = seg.element(14) == "1";
                ic.usage = seg.element(15).to_owned();
            }
            "GS" => {
                if in_group {
                    let level = Level::Group(
                        ic.groups
                            .last()
                            .map(|g| g.control_number.clone())
                            .unwrap_or_default(),
                    );
                    issue(&mut ic, n, tag, level, IssueKind::MissingTrailer("GE"));
                }
                in_group = true;
                ic.groups.push(GroupInfo {
                    functional_id: seg.element(1).to_owned(),
                    sender: seg.element(2).to_owned(),
                    receiver: seg.element(3).to_owned(),
                    control_number: seg.element(6).to_owned(),
                    version: seg.element(8).to_owned(),
                    sets: Vec::new(),
                });
            }
            "ST" => {
                if let Some((control, _)) = in_set.take() {
                    issue(
                        &mut ic,
                        n,
                        tag,
                        Level::Set(control),
                        IssueKind::MissingTrailer("SE"),
                    );
                }
                if !in_group {
                    issue(&mut ic, n, tag, Level::Interchange, IssueKind::Unexpected);
                }
                let control = seg.element(2).to_owned();
                if let Some(g) = ic.groups.last_mut() {
                    g.sets.push(SetInfo {
                        id: seg.element(1).to_owned(),
                        control_number: control.clone(),
                        segment_count: 1,
                    });
                }
                in_set = Some((control, 1));
            }
            "SE" => match in_set.take() {
                None => issue(&mut ic, n, tag, Level::Interchange, IssueKind::Unexpected),
                Some((control, count)) => {
                    if let Some(set) = ic.groups.last_mut().and_then(|g| g.sets.last_mut()) {
                        set.segment_count = count;
                    }
                    let declared = seg.element(1);
                    if declared.parse::<usize>().ok() != Some(count) {
                        issue(
                            &mut ic,
                            n,
                            tag,
                            Level::Set(control.clone()),
                            IssueKind::CountMismatch {
                                declared: declared.to_owned(),
                                actual: count,
                            },
                        );
                    }
                    if seg.element(2) != control {
                        issue(
                            &mut ic,
                            n,
                            tag,
                            Level::Set(control.clone()),
                            IssueKind::ControlNumberMismatch {
                                header: control,
                                trailer: seg.element(2).to_owned(),
                            },
                        );
                    }
                }
            },
            "GE" => {
                if let Some((control, _)) = in_set.take() {
                    issue(
                        &mut ic,
                        n,
                        tag,
                        Level::Set(control),
                        IssueKind::MissingTrailer("SE"),
                    );
                }
                if !in_group {
                    issue(&mut ic, n, tag, Level::Interchange, IssueKind::Unexpected);
                    continue;
                }
                in_group = false;
                let (control, sets) = ic
                    .groups
                    .last()
                    .map(|g| (g.control_number.clone(), g.sets.len()))
                    .unwrap_or_default();
                let declared = seg.element(1);
                if declared.parse::<usize>().ok() != Some(sets) {
                    issue(
                        &mut ic,
                        n,
                        tag,
                        Level::Group(control.clone()),
                        IssueKind::CountMismatch {
                            declared: declared.to_owned(),
                            actual: sets,
                        },
                    );
                }
                if seg.element(2) != control {
                    issue(
                        &mut ic,
                        n,
                        tag,
                        Level::Group(control.clone()),
                        IssueKind::ControlNumberMismatch {
                            header: control,
                            trailer: seg.element(2).to_owned(),
                        },
                    );
                }
            }
            "IEA" => {
                if in_group {
                    let level = Level::Group(
                        ic.groups
                            .last()
                            .map(|g| g.control_number.clone())
                            .unwrap_or_default(),
                    );
                    issue(&mut ic, n, tag, level, IssueKind::MissingTrailer("GE"));
                    in_group = false;
                }
                saw_iea = true;
                let declared = seg.element(1);
                if declared.parse::<usize>().ok() != Some(ic.groups.len()) {
                    let actual = ic.groups.len();
                    issue(
                        &mut ic,
                        n,
                        tag,
                        Level::Interchange,
                        IssueKind::CountMismatch {
                            declared: declared.to_owned(),
                            actual,
                        },
                    );
                }
                if seg.element(2) != ic.control_number {
                    let header = ic.control_number.clone();
                    issue(
                        &mut ic,
                        n,
                        tag,
                        Level::Interchange,
                        IssueKind::ControlNumberMismatch {
                            header,
                            trailer: seg.element(2).to_owned(),
                        },
                    );
                }
            }
            _ => {
                if in_set.is_none() || saw_iea {
                    issue(&mut ic, n, tag, Level::Interchange, IssueKind::Unexpected);
                }
            }
        }
    }
    let end = doc.len();
    if let Some((control, count)) = in_set.take() {
        if let Some(set) = ic.groups.last_mut().and_then(|g| g.sets.last_mut()) {
            set.segment_count = count;
        }
        issue(
            &mut ic,
            end,
            "",
            Level::Set(control),
            IssueKind::MissingTrailer("SE"),
        );
    }
    if in_group {
        let level = Level::Group(
            ic.groups
                .last()
                .map(|g| g.control_number.clone())
                .unwrap_or_default(),
        );
        issue(&mut ic, end, "", level, IssueKind::MissingTrailer("GE"));
    }
    if !saw_iea {
        issue(
            &mut ic,
            end,
            "",
            Level::Interchange,
            IssueKind::MissingTrailer("IEA"),
        );
    }
    ic
}
