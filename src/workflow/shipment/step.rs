//! One application of an input: the working state and the effects it collects, and the helpers
//! every handler uses to move the stage, send commands, arm timers and open or resolve exceptions.

use serde_json::{Value, json};
use tradehub_actors::clock::Millis;
use tradehub_actors::envelope::Envelope;
use tradehub_actors::saga::{Command, Timer, Transition};

use super::inputs::{self, Input, TimerFired};
use super::{ODOO, Pending, ShipmentSaga, ShipmentState, Stage};
use crate::workflow::exceptions::{Exception, ExceptionState, ExceptionType};

/// Odoo's view of the shipment: the fields the hub owns on the picking.
#[derive(Debug, Clone, PartialEq, Eq)]
struct OdooView {
    status: &'static str,
    hold: bool,
    hold_reason: String,
    mrn: Option<String>,
}

const HOLD_REASON_MAX: usize = 240;

impl OdooView {
    fn of(s: &ShipmentState) -> Self {
        let hold = !s.stage.is_released() && s.stage != Stage::Cancelled;
        let hold_reason = if hold {
            // A failed write-back is about Odoo itself; showing it in Odoo would also make
            // every such failure cause another write.
            let open: Vec<&Exception> = s
                .open_exceptions()
                .filter(|e| e.about != Some(Pending::WriteBack))
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
        Self {
            status: s.stage.as_str(),
            hold,
            hold_reason,
            mrn: s.declaration.as_ref().and_then(|d| d.mrn.clone()),
        }
    }
}

pub(super) struct Step<'a> {
    pub(super) saga: &'a ShipmentSaga,
    pub(super) input: &'a Envelope,
    pub(super) now: Millis,
    pub(super) s: ShipmentState,
    commands: Vec<Command>,
    timers: Vec<Timer>,
    history: Vec<Value>,
    audit: Vec<Value>,
    /// Who caused this input: a person from the body, the partner, or `system`.
    pub(super) actor: String,
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
            s: state.clone(),
            commands: Vec::new(),
            timers: Vec::new(),
            history: Vec::new(),
            audit: Vec::new(),
            actor: "system".to_owned(),
            counter: 0,
            ignored: None,
            force_write: false,
        };
        step.s.seq += 1;
        let before = OdooView::of(&step.s);
        let from = step.s.stage;
        match inputs::decode(input) {
            Err(e) => step.ignore(e.to_string()),
            Ok(decoded) => {
                step.actor = actor_of(&decoded);
                if from.is_terminal() && !allowed_when_terminal(&decoded, &step.s) {
                    step.ignore(format!("shipment is {}: no input moves it", from.as_str()));
                } else {
                    step.handle(decoded);
                }
            }
        }
        step.finish(before, from)
    }

    fn finish(mut self, before: OdooView, from: Stage) -> Transition<ShipmentState> {
        let after = OdooView::of(&self.s);
        if after != before || self.force_write {
            // This write carries every field, so it supersedes any earlier one that failed.
            self.resolve_where(
                |e| e.about == Some(Pending::WriteBack),
                "superseded by a later write-back",
            );
            self.odoo(
                super::WRITE_PICKING,
                "write",
                json!({
                    "values": {
                        "x_trade_status": after.status,
                        "x_trade_hold": after.hold,
                        "x_trade_hold_reason": after.hold_reason,
                        "x_trade_mrn": after.mrn,
                    }
                }),
            );
        }
        let outcome = match &self.ignored {
            Some(_) => "ignored",
            None => "applied",
        };
        if self.ignored.is_some() {
            self.s.ignored += 1;
        }
        self.history.insert(
            0,
            json!({
                "at_ms": self.now,
                "input": self.input.id,
                "kind": self.input.kind,
                "attempt": self.input.attempt,
                "outcome": outcome,
                "reason": self.ignored,
                "from": from.as_str(),
                "to": self.s.stage.as_str(),
            }),
        );
        self.audit.insert(
            0,
            json!({
                "at_ms": self.now,
                "actor": self.actor,
                "action": self.input.kind,
                "key": self.input.key,
                "input": self.input.id,
                "outcome": outcome,
                "from": from.as_str(),
                "to": self.s.stage.as_str(),
            }),
        );
        Transition {
            state: self.s,
            commands: self.commands,
            timers: self.timers,
            history: self.history,
            audit: self.audit,
        }
    }

    /// Record the input as having no effect, and why.
    pub(super) fn ignore(&mut self, reason: impl Into<String>) {
        self.ignored = Some(reason.into());
    }

    /// A timeline entry.
    pub(super) fn event(&mut self, event: &str, detail: Value) {
        self.history.push(json!({
            "at_ms": self.now,
            "input": self.input.id,
            "event": event,
            "detail": detail,
        }));
    }

    /// An audit entry (and the matching timeline entry).
    pub(super) fn audited(&mut self, action: &str, detail: Value) {
        self.audit.push(json!({
            "at_ms": self.now,
            "actor": self.actor,
            "action": action,
            "key": self.input.key,
            "input": self.input.id,
            "detail": detail,
        }));
        self.event(action, detail);
    }

    /// Move to `to`, with history and audit.
    pub(super) fn goto(&mut self, to: Stage, why: &str) {
        let from = self.s.stage;
        if from == to {
            return;
        }
        self.s.stage = to;
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
    pub(super) fn send(&mut self, partner: &str, kind: &str, tag: &str, body: Value) -> String {
        let id = self.next_id(tag);
        self.commands.push(Command {
            partner: partner.to_owned(),
            envelope: Envelope {
                traceparent: self.input.traceparent.clone(),
                ..Envelope::new(id.clone(), self.input.key.clone(), kind, body)
            },
        });
        id
    }

    /// Send a command and wait for its result.
    pub(super) fn send_pending(
        &mut self,
        partner: &str,
        kind: &str,
        tag: &str,
        body: Value,
        pending: Pending,
    ) {
        let id = self.send(partner, kind, tag, body);
        self.s.pending.insert(id, pending);
    }

    /// A command to Odoo about the picking; none for shipments without one.
    pub(super) fn odoo(&mut self, kind: &str, tag: &str, mut body: Value) {
        let Some(picking) = self.s.picking_id else {
            return;
        };
        if let Some(map) = body.as_object_mut() {
            map.insert("picking_id".into(), json!(picking));
        }
        self.send(ODOO, kind, tag, body);
    }

    /// A chatter note on the picking.
    pub(super) fn note(&mut self, text: String) {
        self.odoo(super::POST_NOTE, "note", json!({ "body": text }));
    }

    /// Write Odoo's fields at the end of this transition even if they look unchanged.
    pub(super) fn force_write(&mut self) {
        self.force_write = true;
    }

    fn timer(&mut self, after_ms: Millis, tag: &str, fired: &TimerFired) {
        let id = self.next_id(tag);
        let body = serde_json::to_value(fired).unwrap_or(Value::Null);
        self.timers.push(Timer {
            due_ms: self.now.saturating_add(after_ms),
            envelope: Envelope::new(id, self.input.key.clone(), inputs::TIMER_FIRED, body),
        });
    }

    /// Arm the ack timeout for the current filing.
    pub(super) fn arm_ack(&mut self) {
        let token = self.s.seq;
        self.s.ack_token = Some(token);
        let after = self.saga.deps.settings.ack_timeout_ms;
        self.timer(after, "ack-timer", &TimerFired::AckTimeout { token });
    }

    /// Arm the clearance SLA.
    pub(super) fn arm_clearance(&mut self) {
        let token = self.s.seq;
        self.s.clearance_token = Some(token);
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
        self.s.ack_token = None;
        self.s.clearance_token = None;
    }

    /// Open an exception, or refresh the open one of the same kind about the same command.
    pub(super) fn open(
        &mut self,
        kind: ExceptionType,
        detail: String,
        data: Value,
        about: Option<Pending>,
    ) -> String {
        if let Some(open) = self
            .s
            .exceptions
            .iter_mut()
            .find(|e| e.is_open() && e.kind == kind && e.about == about)
        {
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
            self.s.exceptions.len() + 1
        );
        let sla = self.saga.deps.settings.sla_ms(kind);
        let owner = kind.owner();
        self.s.exceptions.push(Exception {
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
        self.odoo(
            super::SCHEDULE_ACTIVITY,
            "activity",
            json!({
                "exception_id": id,
                "exception_type": kind,
                "owner_role": owner,
                "summary": format!("{} on shipment {}", kind.as_str(), self.input.key),
                "note": detail,
                "deadline_ms": self.now.saturating_add(sla),
            }),
        );
        id
    }

    /// Resolve every open exception `matches` selects.
    pub(super) fn resolve_where(&mut self, matches: impl Fn(&Exception) -> bool, how: &str) {
        let by = self.actor.clone();
        let mut done = Vec::new();
        for e in self.s.exceptions.iter_mut() {
            if e.is_open() && matches(e) {
                e.state = ExceptionState::Resolved {
                    at_ms: self.now,
                    by: by.clone(),
                    how: how.to_owned(),
                };
                done.push((e.id.clone(), e.kind));
            }
        }
        for (id, kind) in done {
            self.audited(
                "exception_resolved",
                json!({"id": id, "type": kind, "how": how}),
            );
            self.odoo(
                super::CLOSE_ACTIVITY,
                "activity-done",
                json!({"exception_id": id, "feedback": how}),
            );
        }
    }

    /// Resolve the open exceptions of one type.
    pub(super) fn resolve_kind(&mut self, kind: ExceptionType, how: &str) {
        self.resolve_where(|e| e.kind == kind, how);
    }
}

/// What a terminal shipment still accepts: the override of a block, and the Odoo write-back
/// bookkeeping (a failed final write must still reach a person, who can have it written again).
fn allowed_when_terminal(input: &Input, s: &ShipmentState) -> bool {
    match input {
        Input::Override(_) => s.stage == Stage::Blocked,
        Input::Partner(_, r) => super::is_odoo_writeback(&r.command_kind),
        Input::Resolve(r) => s
            .exceptions
            .iter()
            .any(|e| e.id == r.exception_id && e.about == Some(Pending::WriteBack)),
        _ => false,
    }
}

fn actor_of(input: &Input) -> String {
    match input {
        Input::Review(r) => r.reviewer.clone(),
        Input::Override(o) => o.reviewer.clone(),
        Input::Resolve(r) => r.by.clone(),
        Input::Partner(_, p) => format!("partner:{}", p.partner),
        Input::PickingConfirmed(_) | Input::PickingChanged(_) | Input::PickingCancelled(_) => {
            "odoo".to_owned()
        }
        Input::Submitted(_)
        | Input::Status(_)
        | Input::Milestone(_)
        | Input::Timer(_)
        | Input::Assessed(_)
        | Input::Invoice(_) => "system".to_owned(),
    }
}
