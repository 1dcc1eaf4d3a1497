//! tradehub-actors: the resilient actor runtime of tradehub.
//!
//! Supervised actix actors, one per in-flight key and one per partner connection,
//! drive pure sagas over durable mailboxes. This crate knows nothing of customs and
//! does no I/O of its own: storage arrives through the [`mailbox::Mailbox`] port (with
//! [`mailbox::MailboxOps`] for operators and [`mailbox::Leases`] for partition leases),
//! time through the [`clock::Clock`] port, and partner calls through the
//! `partner::Transport` port.
//!
//! # Layout
//!
//! | module | what |
//! |---|---|
//! | [`envelope`] | the message envelope, partitioning of keys |
//! | [`mailbox`] | the `Mailbox` (data path), `MailboxOps` (dead letters, redrive, trim, stats) and `Leases` ports; [`mailbox::memory`] their in-memory reference implementation |
//! | [`saga`] | the `Saga` trait and `Transition` |
//! | [`clock`] | the `Clock` port, system and manual clocks |
//! | [`host`] | `PartitionHost`: inbox reader, reclaimer, timer poller; one key actor per in-flight key (ordered apply, CAS commit, passivation) |
//! | [`partner`] | `PartnerConnection` and the `Transport` port: rate limit, concurrency, circuit breaker, retries, results |
//! | [`supervisor`] | the supervision tree: one-for-one / rest-for-one, restart intensity, backoff, escalation or mark-down |
//! | [`metrics`] | every runtime metric name and `describe()` |
//! | `testing` | (feature `testing`) `CounterSaga`, `ScriptedTransport` with fault injection, bounded waits |
//!
//! # Running it
//!
//! Build a [`supervisor::Supervisor`] whose children are a partners supervisor
//! (one [`partner::partner_connection_spec`] per partner, marked down rather than
//! escalating) and a partitions supervisor to which the lease manager sends
//! [`supervisor::AddChild`] with [`host::partition_host_spec`] for each partition
//! it acquires and [`supervisor::RemoveChild`] for each it loses. A graceful stop
//! is one [`supervisor::Shutdown`] to the root: children stop in reverse order,
//! each stops reading and lets its in-flight commits finish within the grace.

pub mod clock;
pub mod envelope;
pub mod host;
pub mod mailbox;
pub mod metrics;
pub mod partner;
pub mod saga;
pub mod supervisor;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
