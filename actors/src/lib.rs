//! tradehub-actors: the resilient actor runtime of tradehub.
//!
//! Supervised actix actors, one per in-flight key and one per partner connection,
//! drive pure sagas over durable mailboxes. This crate knows nothing of customs and
//! does no I/O of its own: storage arrives through the [`mailbox::Mailbox`] port,
//! time through the [`clock::Clock`] port, and partner calls through the
//! `partner::Transport` port.
//!
//! # Layout
//!
//! | module | what |
//! |---|---|
//! | [`envelope`] | the message envelope, partitioning of keys |
//! | [`mailbox`] | the `Mailbox` port and its in-memory implementation |
//! | [`saga`] | the `Saga` trait and `Transition` |
//! | [`clock`] | the `Clock` port, system and manual clocks |

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
