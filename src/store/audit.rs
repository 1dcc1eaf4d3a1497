//! The audit trail: a chain of entries per partition, each signed with HMAC-SHA256 under a key
//! that is not in Redis, and anchors that pin the chains' heads outside them.
//!
//! Each entry of `…:audit` holds `seq` (its position, from 1), `prev` (the MAC of the entry
//! before it, empty for the first), `at` (milliseconds, chosen when it was signed), `key` (the
//! saga key), `data` (the record, as stored), `hash` (the entry's MAC, hex) and `kid` (the id
//! of the key that made it). The MAC covers the partition, `seq`, `prev`, `at`, `key` and
//! `data`, so an entry cannot be edited, moved or re-linked, nor the chain rebuilt, without the
//! key. `…:audit:head` holds `seq` and `hash` of the last entry.
//!
//! Trimming (retention) leaves `…:audit:base` with `seq` and `hash` of the last entry trimmed,
//! and `kid` and `mac`, the MAC of that pair ([`RedisMailbox::sign_audit_base`]); the chain
//! then starts after it, and a base without a valid MAC does not verify.
//!
//! What a key alone cannot show is a chain deleted whole or cut short, head included: anchors
//! do. See [`anchor`].
//!
//! # Layout
//!
//! | file | what |
//! |---|---|
//! | `keys.rs` | [`AuditKeys`]: the current key and the previous ones, HMAC-SHA256 |
//! | `config.rs` | [`AuditConfig`], `[audit]` |
//! | `chain.rs` | the commit path: the cached head per partition, signing, retrying |
//! | `anchor.rs` | [`Anchor`]: signed checkpoints of the heads, to a file and a stream |
//! | `verify.rs` | checking chains, bases and anchors: [`TrailReport`] |

pub mod anchor;
mod chain;
mod config;
mod keys;
mod verify;

#[cfg(test)]
mod tests;

pub use anchor::{Anchor, AnchorError};
pub(crate) use chain::AuditChains;
pub use chain::Head;
pub(crate) use chain::{Attempt, SignedAudit};
pub use config::{AuditConfig, AuditKeySource};
pub use keys::{AuditKey, AuditKeyError, AuditKeys, Signature};
pub use verify::{AuditBreak, AuditEntry, AuditError, PartitionCheck, TrailReport};
