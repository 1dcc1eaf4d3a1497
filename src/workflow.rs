//! Sagas the hub runs: the [`shipment`] saga with its [`exceptions`] and
//! [`routing`] policy, and the [`echo`] workflow, which proves every path of the
//! runtime (inputs, partner commands, results, terminal states) and is what
//! `tradehub serve` runs until the shipment saga is wired to its partners.

pub mod echo;
pub mod exceptions;
pub mod routing;
pub mod shipment;
