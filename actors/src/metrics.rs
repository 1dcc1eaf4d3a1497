//! Every metric the runtime records, named `tradehub_<subsystem>_<name>_<unit>[_total]`.
//!
//! Labels are low-cardinality only: `partition`, `partner`, `outcome`, `stream`,
//! and for supervision `supervisor`, `child`, `reason`. A saga key never becomes a
//! label; it belongs in spans.

use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};

/// Transitions committed by key actors. Labels: `partition`.
pub const HOST_COMMITS_TOTAL: &str = "tradehub_host_commits_total";
/// Commits refused because another owner moved the state on. Labels: `partition`.
pub const HOST_CONFLICTS_TOTAL: &str = "tradehub_host_conflicts_total";
/// Inputs dropped because another owner already committed them. Labels: `partition`.
pub const HOST_ALREADY_ACKNOWLEDGED_TOTAL: &str = "tradehub_host_already_acknowledged_total";
/// Time from the start of an apply to its committed transition. Labels: `partition`.
pub const HOST_COMMIT_DURATION_SECONDS: &str = "tradehub_host_commit_duration_seconds";
/// Panics caught in `Saga::apply`; the input stays pending. Labels: `partition`.
pub const HOST_APPLY_PANICS_TOTAL: &str = "tradehub_host_apply_panics_total";
/// Key actors passivated. Labels: `partition`, `outcome` (`idle`, `terminal`).
pub const HOST_PASSIVATIONS_TOTAL: &str = "tradehub_host_passivations_total";
/// Key actors alive now. Labels: `partition`.
pub const HOST_KEY_ACTORS_LIVE: &str = "tradehub_host_key_actors_live";
/// Timers moved into their streams. Labels: `partition`.
pub const HOST_TIMERS_FIRED_TOTAL: &str = "tradehub_host_timers_fired_total";
/// Store operations that failed and were retried. Labels: `partition`.
pub const HOST_MAILBOX_ERRORS_TOTAL: &str = "tradehub_host_mailbox_errors_total";
/// Entries taken over from idle consumers. Labels: `partition`, `stream`.
pub const MAILBOX_RECLAIMED_TOTAL: &str = "tradehub_mailbox_reclaimed_entries_total";
/// Entries moved to the dead-letter stream. Labels: `partition`, `stream`.
pub const MAILBOX_DEAD_LETTERS_TOTAL: &str = "tradehub_mailbox_dead_letters_total";
/// Partner calls by outcome. Labels: `partner`, `outcome` (see [`PartnerOutcome`](crate::partner::PartnerOutcome)).
pub const PARTNER_CALLS_TOTAL: &str = "tradehub_partner_calls_total";
/// Duration of partner calls. Labels: `partner`.
pub const PARTNER_CALL_DURATION_SECONDS: &str = "tradehub_partner_call_duration_seconds";
/// Circuit breaker state: 0 closed, 1 half-open, 2 open. Labels: `partner`.
pub const PARTNER_BREAKER_STATE: &str = "tradehub_partner_breaker_state";
/// Commands postponed to the timer set for a long retry wait. Labels: `partner`.
pub const PARTNER_DEFERRED_TOTAL: &str = "tradehub_partner_deferred_total";
/// Child restarts. Labels: `supervisor`, `child`, `reason` (`panic`, `failure`, `exit`).
pub const SUPERVISOR_RESTARTS_TOTAL: &str = "tradehub_supervisor_restarts_total";
/// Failures a supervisor passed to its parent. Labels: `supervisor`.
pub const SUPERVISOR_ESCALATIONS_TOTAL: &str = "tradehub_supervisor_escalations_total";
/// 1 while a child is marked down after exceeding its restart intensity. Labels: `supervisor`, `child`.
pub const SUPERVISOR_CHILD_DOWN: &str = "tradehub_supervisor_child_down";

/// Register the description and unit of every runtime metric with the installed
/// recorder. Call once at start, after installing the exporter.
pub fn describe() {
    describe_counter!(
        HOST_COMMITS_TOTAL,
        Unit::Count,
        "Transitions committed by key actors"
    );
    describe_counter!(
        HOST_CONFLICTS_TOTAL,
        Unit::Count,
        "Commits refused by the version check; the key actor reloads and retries"
    );
    describe_counter!(
        HOST_ALREADY_ACKNOWLEDGED_TOTAL,
        Unit::Count,
        "Inputs dropped because another owner had already committed them"
    );
    describe_histogram!(
        HOST_COMMIT_DURATION_SECONDS,
        Unit::Seconds,
        "Time from the start of an apply to its committed transition"
    );
    describe_counter!(
        HOST_APPLY_PANICS_TOTAL,
        Unit::Count,
        "Panics caught in a saga's apply; the input stays pending and is reclaimed"
    );
    describe_counter!(
        HOST_PASSIVATIONS_TOTAL,
        Unit::Count,
        "Key actors passivated"
    );
    describe_gauge!(HOST_KEY_ACTORS_LIVE, Unit::Count, "Key actors alive");
    describe_counter!(
        HOST_TIMERS_FIRED_TOTAL,
        Unit::Count,
        "Timers moved into their streams"
    );
    describe_counter!(
        HOST_MAILBOX_ERRORS_TOTAL,
        Unit::Count,
        "Store operations of the host that failed"
    );
    describe_counter!(
        MAILBOX_RECLAIMED_TOTAL,
        Unit::Count,
        "Pending entries taken over from idle consumers"
    );
    describe_counter!(
        MAILBOX_DEAD_LETTERS_TOTAL,
        Unit::Count,
        "Entries moved to the dead-letter stream"
    );
    describe_counter!(PARTNER_CALLS_TOTAL, Unit::Count, "Partner calls by outcome");
    describe_histogram!(
        PARTNER_CALL_DURATION_SECONDS,
        Unit::Seconds,
        "Duration of partner calls"
    );
    describe_gauge!(
        PARTNER_BREAKER_STATE,
        Unit::Count,
        "Circuit breaker state: 0 closed, 1 half-open, 2 open"
    );
    describe_counter!(
        PARTNER_DEFERRED_TOTAL,
        Unit::Count,
        "Commands postponed to the timer set for a long retry wait"
    );
    describe_counter!(SUPERVISOR_RESTARTS_TOTAL, Unit::Count, "Child restarts");
    describe_counter!(
        SUPERVISOR_ESCALATIONS_TOTAL,
        Unit::Count,
        "Failures passed to the parent supervisor"
    );
    describe_gauge!(
        SUPERVISOR_CHILD_DOWN,
        Unit::Count,
        "1 while a child is marked down after exceeding its restart intensity"
    );
}
