//! Tariff knowledge: the reference data the hub ships with and the master-data validation a
//! shipment passes before it is screened and filed.

pub mod duty;
pub mod reconcile;
pub mod reference;
pub mod validate;

pub use reference::{ReferenceData, ReferenceError};
pub use validate::{Issue, IssueCode, Report, Rules, RulesError, Severity, validate};
