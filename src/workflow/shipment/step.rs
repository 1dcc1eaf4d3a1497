//! One application of an input: the working state and the effects it collects, and the helpers
//! every handler uses to move the stage, send commands, arm timers and open or resolve exceptions.

use serde::Serialize;
use serde_json::{Value, json};
use tradehub_actors::clock::Millis;
use tradehub_actors::envelope::Envelope;
use tradehub_actors::saga::{Command, Timer, Transition};

use super::commands::{
    CloseActivity, CommandBody, PostNote, ScheduleActivity, TradeFields, WritePicking,
};
use super::entries::{AuditEntry, HistoryEntry, Outcome};
use super::inputs::{self, Actor, Input, TimerFired};
use super::{ODOO, Pending, ShipmentSaga, ShipmentState, Stage};
use crate::workflow::exceptions::{Exception, ExceptionState, ExceptionType};

const HOLD_REASON_MAX: usize = 240;

/// Odoo's view of the shipment: the fields the hub owns on the picking, as they should be.
fn odoo_view(state: &ShipmentState) -> TradeFields {
    let hold = !state.stage.is_released() && state.stage != Stage::Cancelled;
    let hold_reason = if hold {
        // A failed write-back is about Odoo itself; showing it in Odoo would also make
        // every such failure cause another write.
        let open: Vec<&Exception> = state
            .open_exceptions()
            .filter(|exception| exception.about != Some(Pending::WriteBack))
            .collect();
        match open.first() {
            Some(first) => {
                let mut text = format!("{}: {}", first.kind.as_str(), first.detail);
                if text.len() > HOLD_REASON_MAX {
                    let mut cut = HOLD_REASON_MAX;
                    while !text.is_char_boundary(cut) {
                        cut -= 1;
                    }
                    text.truncate(cut);
                }
                if open.len() > 1 {
                    text.push_str(&format!(" (+{} more)", open.len() - 1));
                }
                text
            }
            None => "customs clearance pending".to_owned(),
        }
    } else {
        String::new()
    };
    TradeFields {
        status: state.stage.as_str().to_owned(),
        hold,
        hold_reason: Some(hold_reason),
        mrn: state
            .declaration
            .as_ref()
            .and_then(|declaration| declaration.mrn.clone()),
    }
}

pub(super) struct Step<'a> {
    pub(super) saga: &'a ShipmentSaga,
    pub(super) input: &'a Envelope,
    pub(super) now: Millis,
    pub(super) state: ShipmentState,
    commands: Vec<Command>,
    timers: Vec<Timer>,
    history: Vec<HistoryEntry<'a>>,
    audit: Vec<AuditEntry<'a>>,
    /// Who caused this input: a person (the authenticated principal), the partner, `odoo` or
    /// `system`.
    pub(super) actor: String,
    /// The authenticated principal behind a person's input, recorded whole in the input's
    /// timeline and audit entries.
    principal: Option<Actor>,
    counter: u32,
    ignored: Option<String>,
    force_write: bool,
}

impl<'a> Step<'a> {
    pub(super) fn run(
        saga: &'a ShipmentSaga,
        state: &ShipmentState,
        input: &'a Envelope,
        now: Millis,
    ) -> Transition<ShipmentState> {
        let mut step = Step {
            saga,
            input,
            now,
            state: state.clone(),
            commands: Vec::new(),
            timers: Vec::new(),
            history: Vec::new(),
            audit: Vec::new(),
            actor: "system".to_owned(),
            principal: None,
            counter: 0,
            ignored: None,
            force_write: false,
        };
        step.state.seq += 1;
        let before = odoo_view(&step.state);
        let from = step.state.stage;
        match inputs::decode(input) {
            Err(error) => step.ignore(error.to_string()),
            Ok(decoded) => {
                step.actor = actor_of(&decoded);
                step.principal = principal_of(&decoded).cloned();
                if from.is_terminal() && !allowed_when_terminal(&decoded, &step.state) {
                    step.ignore(format!("shipment is {}: no input moves it", from.as_str()));
                } else {
                    step.handle(decoded);
                }
            }
        }
        step.finish(before, from)
    }

    fn finish(mut self, before: TradeFields, from: Stage) -> Transition<ShipmentState> {
        let after = odoo_view(&self.state);
        if after != before || self.force_write {
            // This write carries every field, so it supersedes any earlier one that failed.
            self.resolve_where(
                |exception| exception.about == Some(Pending::WriteBack),
                "superseded by a later write-back",
            );
            self.odoo("write", |picking_id| WritePicking {
                picking_id,
                values: after,
            });
        }
        let outcome = match &self.ignored {
            Some(_) => Outcome::Ignored,
            None => Outcome::Applied,
        };
        if self.ignored.is_some() {
            self.state.ignored += 1;
        }
        let to = self.state.stage;
        let input = HistoryEntry::Input {
            at_ms: self.now,
            input: &self.input.id,
            kind: &self.input.kind,
            attempt: self.input.attempt,
            outcome,
            reason: self.ignored,
            principal: self.principal.as_ref(),
            from,
            to,
        };
        let audited = AuditEntry::Input {
            at_ms: self.now,
            actor: self.actor,
            principal: self.principal.as_ref(),
            action: &self.input.kind,
            key: &self.input.key,
            input: &self.input.id,
            outcome,
            from,
            to,
        };
        Transition {
            state: self.state,
            commands: self.commands,
            timers: self.timers,
            history: std::iter::once(input)
                .chain(self.history)
                .map(|entry| json_of(&entry))
                .collect(),
            audit: std::iter::once(audited)
                .chain(self.audit)
                .map(|entry| json_of(&entry))
                .collect(),
        }
    }

    /// Record the input as having no effect, and why.
    pub(super) fn ignore(&mut self, reason: impl Into<String>) {
        self.ignored = Some(reason.into());
    }

    /// A timeline entry.
    pub(super) fn event(&mut self, event: &'static str, detail: Value) {
        self.history.push(HistoryEntry::Event {
            at_ms: self.now,
            input: &self.input.id,
            event,
            detail,
        });
    }

    /// An audit entry (and the matching timeline entry).
    pub(super) fn audited(&mut self, action: &'static str, detail: Value) {
        self.audit.push(AuditEntry::Action {
            at_ms: self.now,
            actor: self.actor.clone(),
            action,
            key: &self.input.key,
            input: &self.input.id,
            detail: detail.clone(),
        });
        self.event(action, detail);
    }

    /// Move to `to`, with history and audit.
    pub(super) fn goto(&mut self, to: Stage, why: &str) {
        let from = self.state.stage;
        if from == to {
            return;
        }
        self.state.stage = to;
        self.audited(
            "stage",
            json!({"from": from.as_str(), "to": to.as_str(), "why": why}),
        );
    }

    /// A command id unique within this transition and derived from the input id.
    fn next_id(&mut self, tag: &str) -> String {
        self.counter += 1;
        format!("{}:{}:{}", self.input.id, self.counter, tag)
    }

    /// Send a command; returns its id.
    fn send<C: CommandBody>(&mut self, partner: &str, tag: &str, command: &C) -> String {
        let id = self.next_id(tag);
        self.commands.push(Command {
            partner: partner.to_owned(),
            envelope: Envelope {
                traceparent: self.input.traceparent.clone(),
                ..Envelope::new(
                    id.clone(),
                    self.input.key.clone(),
                    C::KIND,
                    json_of(command),
                )
            },
        });
        id
    }

    /// Send a command and wait for its result.
    pub(super) fn send_pending<C: CommandBody>(
        &mut self,
        partner: &str,
        tag: &str,
        command: &C,
        pending: Pending,
    ) {
        let id = self.send(partner, tag, command);
        self.state.pending.insert(id, pending);
    }

    /// A command to Odoo about the picking; none for shipments without one.
    fn odoo<C: CommandBody>(&mut self, tag: &str, command: impl FnOnce(u64) -> C) {
        let Some(picking_id) = self.state.picking_id else {
            return;
        };
        self.send(ODOO, tag, &command(picking_id));
    }

    /// A chatter note on the picking.
    pub(super) fn note(&mut self, text: String) {
        self.odoo("note", |picking_id| PostNote {
            picking_id,
            body: text,
        });
    }

    /// Write Odoo's fields at the end of this transition even if they look unchanged.
    pub(super) fn force_write(&mut self) {
        self.force_write = true;
    }

    fn timer(&mut self, after_ms: Millis, tag: &str, fired: &TimerFired) {
        let id = self.next_id(tag);
        let body = json_of(fired);
        self.timers.push(Timer {
            due_ms: self.now.saturating_add(after_ms),
            envelope: Envelope::new(id, self.input.key.clone(), inputs::TIMER_FIRED, body),
        });
    }

    /// Arm the ack timeout for the current filing.
    pub(super) fn arm_ack(&mut self) {
        let token = self.state.seq;
        self.state.ack_token = Some(token);
        let after = self.saga.deps.settings.ack_timeout_ms;
        self.timer(after, "ack-timer", &TimerFired::AckTimeout { token });
    }

    /// Arm the clearance SLA.
    pub(super) fn arm_clearance(&mut self) {
        let token = self.state.seq;
        self.state.clearance_token = Some(token);
        let after = self.saga.deps.settings.clearance_sla_ms;
        self.timer(
            after,
            "clearance-timer",
            &TimerFired::ClearanceSla { token },
        );
    }

    /// Timers cannot be deleted from the store, so disarming forgets the token and the timer
    /// is ignored as stale when it fires.
    pub(super) fn disarm_timers(&mut self) {
        self.state.ack_token = None;
        self.state.clearance_token = None;
    }

    /// Open an exception, or refresh the open one of the same kind about the same command.
    pub(super) fn open(
        &mut self,
        kind: ExceptionType,
        detail: String,
        data: Value,
        about: Option<Pending>,
    ) -> String {
        if let Some(open) = self.state.exceptions.iter_mut().find(|exception| {
            exception.is_open() && exception.kind == kind && exception.about == about
        }) {
            if open.detail != detail || open.data != data {
                open.detail = detail.clone();
                open.data = data;
                let id = open.id.clone();
                self.event(
                    "exception_updated",
                    json!({"id": id, "type": kind, "detail": detail}),
                );
                return id;
            }
            return open.id.clone();
        }
        let id = format!(
            "{}-{}",
            kind.as_str().to_ascii_lowercase(),
            self.state.exceptions.len() + 1
        );
        let sla = self.saga.deps.settings.sla_ms(kind);
        let owner = kind.owner();
        self.state.exceptions.push(Exception {
            id: id.clone(),
            kind,
            owner,
            detail: detail.clone(),
            data,
            about,
            opened_ms: self.now,
            sla_due_ms: self.now.saturating_add(sla),
            breached: false,
            state: ExceptionState::Open,
        });
        self.audited(
            "exception_opened",
            json!({"id": id, "type": kind, "owner": owner, "detail": detail}),
        );
        self.timer(
            sla,
            "exception-sla",
            &TimerFired::ExceptionSla {
                exception_id: id.clone(),
            },
        );
        let summary = format!("{} on shipment {}", kind.as_str(), self.input.key);
        let deadline_ms = self.now.saturating_add(sla);
        let exception_id = id.clone();
        self.odoo("activity", |picking_id| ScheduleActivity {
            picking_id,
            exception_id,
            exception_type: kind,
            owner_role: owner,
            summary,
            note: detail,
            deadline_ms,
        });
        id
    }

    /// Resolve every open exception `matches` selects.
    pub(super) fn resolve_where(&mut self, matches: impl Fn(&Exception) -> bool, how: &str) {
        let by = self.actor.clone();
        let mut done = Vec::new();
        for exception in self.state.exceptions.iter_mut() {
            if exception.is_open() && matches(exception) {
                exception.state = ExceptionState::Resolved {
                    at_ms: self.now,
                    by: by.clone(),
                    how: how.to_owned(),
                };
                done.push((exception.id.clone(), exception.kind));
            }
        }
        for (id, kind) in done {
            self.audited(
                "exception_resolved",
                json!({"id": id, "type": kind, "how": how}),
            );
            self.odoo("activity-done", |picking_id| CloseActivity {
                picking_id,
                exception_id: id,
                feedback: how.to_owned(),
            });
        }
    }

    /// Resolve the open exceptions of one type.
    pub(super) fn resolve_kind(&mut self, kind: ExceptionType, how: &str) {
        self.resolve_where(|exception| exception.kind == kind, how);
    }
}

/// What a terminal shipment still accepts: the override of a block (its request, approval and
/// rejection), and the Odoo write-back bookkeeping (a failed final write must still reach a
/// person, who can have it written again).
fn allowed_when_terminal(input: &Input, state: &ShipmentState) -> bool {
    match input {
        Input::Override(_) | Input::OverrideApproved(_) | Input::OverrideRejected(_) => {
            state.stage == Stage::Blocked
        }
        Input::Partner(_, result) => super::is_odoo_writeback(&result.command_kind),
        Input::Resolve(resolution) => state.exceptions.iter().any(|exception| {
            exception.id == resolution.exception_id && exception.about == Some(Pending::WriteBack)
        }),
        _ => false,
    }
}

/// The authenticated caller behind a person's input or a partner's signed callback; `None` for
/// the inputs of systems.
fn principal_of(input: &Input) -> Option<&Actor> {
    match input {
        Input::Review(review) => Some(&review.actor),
        Input::Override(request)
        | Input::OverrideApproved(request)
        | Input::OverrideRejected(request) => Some(&request.actor),
        Input::Resolve(resolution) => Some(&resolution.actor),
        Input::Submitted(submitted) => Some(&submitted.actor),
        Input::Status(report) => report.caller.as_ref(),
        Input::Milestone(report) => report.caller.as_ref(),
        Input::Partner(..)
        | Input::PickingConfirmed(_)
        | Input::PickingChanged(_)
        | Input::PickingCancelled(_)
        | Input::Timer(_)
        | Input::Assessed(_)
        | Input::Invoice(_) => None,
    }
}

/// Who caused an input: the principal of a person's input, the partner, `odoo` or `system`.
fn actor_of(input: &Input) -> String {
    match (principal_of(input), input) {
        (Some(principal), _) => principal.to_string(),
        (None, Input::Partner(_, result)) => format!("partner:{}", result.partner),
        (
            None,
            Input::PickingConfirmed(_) | Input::PickingChanged(_) | Input::PickingCancelled(_),
        ) => "odoo".to_owned(),
        (None, _) => "system".to_owned(),
    }
}

/// The JSON of a command, timer or entry. These types serialise to a JSON value whatever they
/// hold, so the `null` fallback never shows; it only keeps `apply` free of panics.
fn json_of(value: &impl Serialize) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}
