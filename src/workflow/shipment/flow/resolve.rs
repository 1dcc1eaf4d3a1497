//! People resolving exceptions (`exception.resolve`). What an action does depends on the
//! exception, what it is about and the stage, so each action has its list of handlers, tried in
//! order until one applies; an action no handler takes is recorded as not applicable.

use serde_json::json;

use crate::workflow::exceptions::ExceptionType;
use crate::workflow::shipment::inputs::{Resolution, ResolveAction};
use crate::workflow::shipment::step::Step;
use crate::workflow::shipment::{Pending, Stage};

/// The open exception a person acts on.
struct Target {
    id: String,
    kind: ExceptionType,
    about: Option<Pending>,
    /// Recorded as how the exception was resolved: the person's note, or the action's name.
    note: String,
    by: String,
}

/// One way to carry out an action; `false` when it does not apply to the target in the
/// current stage, and nothing was changed.
type Handler = fn(&mut Step<'_>, &Target) -> bool;

/// The handlers of each action, in the order they are tried. Where two could apply to the same
/// exception, the more specific one comes first: a failed filing is refiled before it would be
/// merely closed, and a person's `resolve` closes an exception rather than calling it moot.
fn handlers(action: ResolveAction) -> &'static [Handler] {
    match action {
        ResolveAction::Resolve => &[
            refile_rejected,
            accept_variance,
            refile_failed_filing,
            accept_landed_filing,
            abandon_cancel,
            resend_unacked,
            read_again,
            screen_again,
            write_again,
            close,
        ],
        ResolveAction::Retry => &[
            refile_rejected,
            refile_filing,
            retry_cancel,
            resend_unacked,
            read_again,
            screen_again,
            write_again,
            moved_on,
        ],
        ResolveAction::Refile => &[
            refile_rejected,
            refile_filing,
            resend_unacked,
            read_again,
            screen_again,
            write_again,
            moved_on,
        ],
        ResolveAction::Accept => &[
            accept_variance,
            accept_landed_filing,
            abandon_cancel,
            resend_unacked,
            read_again,
            screen_again,
            write_again,
            moved_on,
        ],
        ResolveAction::ForceCancel => &[
            abandon_cancel,
            resend_unacked,
            read_again,
            screen_again,
            write_again,
            moved_on,
        ],
    }
}

impl Step<'_> {
    pub(super) fn on_resolve(&mut self, resolution: Resolution) {
        let Some(exception) = self
            .state
            .exceptions
            .iter()
            .find(|exception| exception.id == resolution.exception_id)
        else {
            return self.ignore(format!("no exception {}", resolution.exception_id));
        };
        if !exception.is_open() {
            return self.ignore(format!(
                "exception {} is already resolved",
                resolution.exception_id
            ));
        }
        let target = Target {
            id: resolution.exception_id.clone(),
            kind: exception.kind,
            about: exception.about.clone(),
            note: resolution
                .note
                .clone()
                .unwrap_or_else(|| format!("{:?}", resolution.action)),
            by: resolution.actor.to_string(),
        };
        self.audited(
            "resolution_requested",
            json!({ "id": resolution.exception_id, "action": resolution.action, "note": resolution.note }),
        );
        // Screening reviews, blocks and the data check have inputs of their own, so the action
        // does not matter for them.
        match target.kind {
            ExceptionType::ScreeningReview => {
                return self.ignore("decide screening reviews through screening.decision");
            }
            ExceptionType::BlockedParty => {
                return self.ignore("a block is lifted only by screening.override");
            }
            ExceptionType::MissingData => {
                // Re-check now; the exception closes only when the data is valid.
                if self.state.picking_id.is_some() {
                    self.enrich("operator reports the data fixed");
                } else {
                    self.validate();
                }
                return;
            }
            _ => {}
        }
        let handled = handlers(resolution.action)
            .iter()
            .any(|handler| handler(self, &target));
        if !handled {
            self.ignore(format!(
                "action {:?} does not apply to {} in {}",
                resolution.action,
                target.kind.as_str(),
                self.state.stage.as_str()
            ));
        }
    }

    /// Resolve the target alone, with `how` as the resolution.
    fn resolve_target(&mut self, target: &Target, how: &str) {
        self.resolve_where(|exception| exception.id == target.id, how);
    }

    /// File the current declaration again after its filing failed or ended unknown.
    fn file_again(&mut self, target: &Target) {
        self.resolve_target(target, &target.note);
        self.goto(Stage::Filing, "filed again by an operator");
        self.send_file();
    }

    /// Withdraw the declaration again after its cancellation failed or ended unknown.
    fn cancel_again(&mut self, target: &Target) {
        self.resolve_target(target, &target.note);
        self.send_cancel("cancelled in Odoo");
    }
}

fn about_filing(target: &Target) -> bool {
    matches!(target.about, Some(Pending::File { .. }))
}

fn about_cancel(target: &Target) -> bool {
    matches!(target.about, Some(Pending::Cancel { .. }))
}

fn failed_or_unknown(target: &Target) -> bool {
    matches!(
        target.kind,
        ExceptionType::PartnerFailed | ExceptionType::OutcomeUnknown
    )
}

/// The amended declaration is filed as a new version.
fn refile_rejected(step: &mut Step<'_>, target: &Target) -> bool {
    if target.kind != ExceptionType::RejectedDeclaration || step.state.stage != Stage::Rejected {
        return false;
    }
    step.rate_and_file();
    true
}

/// Finance accepts the variance and the shipment closes.
fn accept_variance(step: &mut Step<'_>, target: &Target) -> bool {
    if target.kind != ExceptionType::DutyVariance || step.state.stage != Stage::Settling {
        return false;
    }
    step.resolve_target(target, &target.note);
    step.reconciled("variance accepted by finance");
    true
}

/// A filing that failed or ended unknown is sent again with the same LRN.
fn refile_filing(step: &mut Step<'_>, target: &Target) -> bool {
    if !failed_or_unknown(target)
        || !about_filing(target)
        || !matches!(step.state.stage, Stage::Filing | Stage::OutcomeUnknown)
    {
        return false;
    }
    step.file_again(target);
    true
}

/// Resolving a failed filing sends it again; resolving an unknown one says it landed (see
/// [`accept_landed_filing`]).
fn refile_failed_filing(step: &mut Step<'_>, target: &Target) -> bool {
    if target.kind != ExceptionType::PartnerFailed
        || !about_filing(target)
        || !matches!(step.state.stage, Stage::Filing | Stage::OutcomeUnknown)
    {
        return false;
    }
    step.file_again(target);
    true
}

/// The operator knows the unknown filing reached the broker.
fn accept_landed_filing(step: &mut Step<'_>, target: &Target) -> bool {
    if target.kind != ExceptionType::OutcomeUnknown
        || !about_filing(target)
        || step.state.stage != Stage::OutcomeUnknown
    {
        return false;
    }
    step.resolve_target(target, &target.note);
    if let Some(declaration) = step.state.declaration.as_mut() {
        declaration.acked = true;
    }
    step.goto(Stage::Filing, "operator confirms the filing landed");
    // Statuses should follow; if none does, the ack timer asks the broker again.
    step.arm_ack();
    true
}

/// A cancellation that failed or ended unknown is sent again.
fn retry_cancel(step: &mut Step<'_>, target: &Target) -> bool {
    if !failed_or_unknown(target) || !about_cancel(target) || step.state.stage != Stage::Cancelling
    {
        return false;
    }
    step.cancel_again(target);
    true
}

/// The person gives up on withdrawing the declaration and cancels the shipment anyway.
fn abandon_cancel(step: &mut Step<'_>, target: &Target) -> bool {
    if !failed_or_unknown(target) || !about_cancel(target) || step.state.stage != Stage::Cancelling
    {
        return false;
    }
    step.finish_cancel(&format!("cancelled by {}: {}", target.by, target.note));
    true
}

/// Same LRN: the broker dedupes, so asking again by refiling is safe and re-arms the timer.
fn resend_unacked(step: &mut Step<'_>, target: &Target) -> bool {
    if target.kind != ExceptionType::AckTimeout || step.state.stage != Stage::Filing {
        return false;
    }
    step.resolve_target(target, &target.note);
    step.send_file();
    true
}

/// A failed read of the picking is tried again while the data can still change the filing.
fn read_again(step: &mut Step<'_>, target: &Target) -> bool {
    if target.kind != ExceptionType::PartnerFailed
        || target.about != Some(Pending::Read)
        || !matches!(
            step.state.stage,
            Stage::Enriching | Stage::Validating | Stage::Screening | Stage::Rejected
        )
    {
        return false;
    }
    step.resolve_target(target, &target.note);
    step.enrich("retried by an operator");
    true
}

/// A failed screening of one party is tried again while screening.
fn screen_again(step: &mut Step<'_>, target: &Target) -> bool {
    let Some(Pending::Screen { party_id }) = &target.about else {
        return false;
    };
    if target.kind != ExceptionType::PartnerFailed || step.state.stage != Stage::Screening {
        return false;
    }
    step.resolve_target(target, &target.note);
    step.rescreen(party_id);
    true
}

/// A failed write-back is written again, in any stage.
fn write_again(step: &mut Step<'_>, target: &Target) -> bool {
    if target.kind != ExceptionType::PartnerFailed || target.about != Some(Pending::WriteBack) {
        return false;
    }
    step.resolve_target(target, &target.note);
    step.force_write();
    true
}

/// The fix was done outside the hub: the exception is closed as the person says.
fn close(step: &mut Step<'_>, target: &Target) -> bool {
    if !matches!(
        target.kind,
        ExceptionType::CustomsQuery
            | ExceptionType::DocsRequired
            | ExceptionType::CustomsControl
            | ExceptionType::CustomsHold
            | ExceptionType::AckTimeout
            | ExceptionType::ClearanceSlaBreach
            | ExceptionType::PartnerFailed
            | ExceptionType::OutcomeUnknown
    ) {
        return false;
    }
    step.resolve_target(target, &target.note);
    true
}

/// The saga moved on since the failure: nothing is left to retry.
fn moved_on(step: &mut Step<'_>, target: &Target) -> bool {
    if !failed_or_unknown(target)
        || !matches!(
            step.state.stage,
            Stage::Released | Stage::InTransit | Stage::Settling
        )
    {
        return false;
    }
    step.resolve_target(target, &format!("{} (no longer applies)", target.note));
    true
}
