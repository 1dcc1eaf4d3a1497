//! Declaration statuses, from the broker's acknowledgement to the release: FILING →
//! AWAITING_RELEASE → RELEASED, the customs exceptions on the way, and REJECTED.

use serde_json::json;

use crate::model::DeclarationStatus;
use crate::workflow::exceptions::{Exception, ExceptionType};
use crate::workflow::shipment::inputs::StatusReport;
use crate::workflow::shipment::step::Step;
use crate::workflow::shipment::{Pending, Stage};

/// Stages in which the broker may still send statuses about the current declaration.
fn expects_status(stage: Stage) -> bool {
    matches!(
        stage,
        Stage::Filing
            | Stage::OutcomeUnknown
            | Stage::AwaitingRelease
            | Stage::Released
            | Stage::InTransit
            | Stage::Settling
            | Stage::Cancelling
    )
}

/// Customs exceptions that a release settles.
pub(super) fn settled_by_release(kind: ExceptionType) -> bool {
    matches!(
        kind,
        ExceptionType::CustomsQuery
            | ExceptionType::DocsRequired
            | ExceptionType::CustomsControl
            | ExceptionType::CustomsHold
            | ExceptionType::AckTimeout
            | ExceptionType::ClearanceSlaBreach
            | ExceptionType::OutcomeUnknown
    )
}

impl Step<'_> {
    pub(super) fn on_status(&mut self, report: StatusReport) {
        self.apply_status(report);
    }

    /// A status about a declaration, from customs or from the broker's answer to a command.
    pub(super) fn apply_status(&mut self, report: StatusReport) {
        let Some(current) = self.state.declaration.as_ref() else {
            return self.ignore("no declaration has been filed");
        };
        if current.lrn != report.lrn {
            return self.ignore(format!(
                "status for {}, but the current declaration is {}",
                report.lrn, current.lrn
            ));
        }
        if !expects_status(self.state.stage) {
            return self.ignore(format!(
                "status {:?} has no effect in {}",
                report.status,
                self.state.stage.as_str()
            ));
        }
        if self.state.stage == Stage::Cancelling {
            return self.status_while_cancelling(report);
        }
        // Customs or the broker talks about this LRN, so the filing landed: its own result and
        // any query about it no longer matter (a late "outcome unknown" must not send the
        // shipment back).
        self.state
            .pending
            .retain(|_, pending| !matches!(pending, Pending::File { .. } | Pending::Query { .. }));
        if self.state.stage == Stage::OutcomeUnknown {
            self.resolve_where(
                |exception| {
                    exception.kind == ExceptionType::OutcomeUnknown
                        && matches!(&exception.about, Some(Pending::File { .. }))
                },
                "the broker holds the declaration",
            );
            self.goto(Stage::Filing, "the filing landed");
        }
        let status = report.status;
        let before_release = matches!(self.state.stage, Stage::Filing | Stage::AwaitingRelease);
        // After release only the statuses that can follow a release are recorded; anything
        // else is a late message and must not roll the declaration back.
        let late = !before_release
            && !matches!(
                status,
                DeclarationStatus::Released
                    | DeclarationStatus::Cleared
                    | DeclarationStatus::Exited
                    | DeclarationStatus::HandledExternally
                    | DeclarationStatus::Amended
            );
        if let Some(declaration) = self.state.declaration.as_mut() {
            declaration.acked = true;
            if let Some(mrn) = report.mrn.clone()
                && declaration.mrn.is_none()
            {
                declaration.mrn = Some(mrn);
            }
            let mere_ack = matches!(
                status,
                DeclarationStatus::Submitted | DeclarationStatus::Received
            ) && declaration.status.is_some();
            if !late && !mere_ack {
                declaration.status = Some(status);
            }
        }
        self.audited(
            "declaration_status",
            json!({ "lrn": report.lrn, "status": status, "late": late, "mrn": report.mrn, "reasons": report.reasons, "source_code": report.source_code }),
        );
        if self.state.stage == Stage::Filing {
            self.state.ack_token = None;
            self.resolve_where(
                |exception| {
                    exception.kind == ExceptionType::AckTimeout
                        || (exception.kind == ExceptionType::PartnerFailed
                            && matches!(&exception.about, Some(Pending::File { .. })))
                },
                "the broker acknowledged",
            );
        }
        match status {
            DeclarationStatus::Submitted
            | DeclarationStatus::Received
            | DeclarationStatus::Amended
            | DeclarationStatus::Cleared
            | DeclarationStatus::Exited
            | DeclarationStatus::HandledExternally => {}
            DeclarationStatus::Accepted => {
                if self.state.stage == Stage::Filing {
                    self.await_release("declaration accepted");
                }
            }
            DeclarationStatus::Query
            | DeclarationStatus::DocsRequired
            | DeclarationStatus::Control
            | DeclarationStatus::Hold => {
                if !before_release {
                    return self.event("late_status", json!({ "status": status }));
                }
                if self.state.stage == Stage::Filing {
                    self.await_release("customs is handling the declaration");
                }
                let kind = match status {
                    DeclarationStatus::Query => ExceptionType::CustomsQuery,
                    DeclarationStatus::DocsRequired => ExceptionType::DocsRequired,
                    DeclarationStatus::Control => ExceptionType::CustomsControl,
                    _ => ExceptionType::CustomsHold,
                };
                let detail = if report.reasons.is_empty() {
                    format!("customs reports {status:?} on {}", report.lrn)
                } else {
                    report.reasons.join("; ")
                };
                self.open(kind, detail, json!({ "reasons": report.reasons }), None);
            }
            DeclarationStatus::HoldRemoved => {
                self.resolve_kind(ExceptionType::CustomsHold, "hold removed by customs")
            }
            DeclarationStatus::Released => {
                if before_release {
                    self.release();
                }
            }
            DeclarationStatus::Rejected
            | DeclarationStatus::Cancelled
            | DeclarationStatus::Expired => {
                if before_release {
                    self.reject(&report);
                } else {
                    self.event("late_status", json!({ "status": status }));
                }
            }
        }
    }

    fn await_release(&mut self, why: &str) {
        self.goto(Stage::AwaitingRelease, why);
        self.arm_clearance();
    }

    fn reject(&mut self, report: &StatusReport) {
        self.disarm_timers();
        self.state
            .pending
            .retain(|_, pending| !matches!(pending, Pending::File { .. } | Pending::Query { .. }));
        let why = match report.status {
            DeclarationStatus::Cancelled => "invalidated by customs",
            DeclarationStatus::Expired => "expired",
            _ => "rejected",
        };
        let detail = if report.reasons.is_empty() {
            format!("{} {why}", report.lrn)
        } else {
            format!("{} {why}: {}", report.lrn, report.reasons.join("; "))
        };
        self.resolve_where(
            |exception| settled_by_release(exception.kind),
            "superseded by the rejection",
        );
        self.goto(Stage::Rejected, why);
        self.note(format!(
            "Customs declaration {detail}. Amend in Odoo to refile."
        ));
        self.open(
            ExceptionType::RejectedDeclaration,
            detail,
            json!({ "lrn": report.lrn, "reasons": report.reasons, "source_code": report.source_code }),
            None,
        );
    }

    fn release(&mut self) {
        self.disarm_timers();
        self.resolve_where(
            |exception| settled_by_release(exception.kind),
            "goods released",
        );
        self.goto(Stage::Released, "customs released the goods");
        let mrn = self
            .state
            .declaration
            .as_ref()
            .and_then(|declaration| declaration.mrn.clone())
            .unwrap_or_else(|| "-".to_owned());
        self.note(format!(
            "Customs released the goods (MRN {mrn}); dispatch may proceed."
        ));
        self.progress();
    }

    fn status_while_cancelling(&mut self, report: StatusReport) {
        self.audited(
            "declaration_status",
            json!({ "lrn": report.lrn, "status": report.status, "while": "cancelling" }),
        );
        if report.status == DeclarationStatus::Cancelled {
            return self.finish_cancel("customs cancelled the declaration");
        }
        let cancel_unknown = |exception: &Exception| {
            exception.kind == ExceptionType::OutcomeUnknown
                && matches!(&exception.about, Some(Pending::Cancel { .. }))
        };
        let unknown_cancel = self
            .state
            .exceptions
            .iter()
            .any(|exception| exception.is_open() && cancel_unknown(exception));
        if unknown_cancel {
            // The broker still reports the declaration alive: the cancel did not land.
            self.resolve_where(cancel_unknown, "the cancellation did not land: sent again");
            self.send_cancel("cancelled in Odoo");
        }
    }
}
