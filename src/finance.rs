//! Settlement of customs duty (issue 7): the documents customs and brokers send after a
//! declaration (CUSRES TAX/MOA, UK DMSTAX, broker invoice CSV, the broker's declaration copy),
//! the three-way reconciliation of each declaration against our estimate, and posting what
//! agrees to Odoo as a draft vendor bill and landed cost.
//!
//! # Layout
//!
//! | module | what |
//! |---|---|
//! | [`documents`] | readers of the settlement documents, one [`Settlement`] per declaration |
//! | [`settings`] | `[finance]` ([`FinanceConfig`]) and `config/reconcile.toml` ([`ReconcileSettings`]) |
//! | [`batch`] | pure: a declaration's [`Dossier`] → its [`Outcome`] |
//! | [`post`] | idempotent Odoo posting of a reconciled declaration |
//! | [`inbox`] | the scheduler job: folder → Redis → reconcile → Odoo → saga |
//!
//! `tradehub reconcile` runs the same batch once over a folder, without Redis or Odoo.

pub mod batch;
pub mod documents;
pub mod inbox;
pub mod post;
pub mod settings;

pub use batch::{Dossier, Outcome, Status, settle};
pub use documents::{ReadError, Settlement};
pub use inbox::{FinanceInbox, InboxError, InboxReport, PollError};
pub use settings::{BrokerTerms, FinanceConfig, ReconcileSettings};
