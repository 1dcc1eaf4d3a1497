//! Partners: templates that configure a partner (transport, codec, mappings,
//! fixtures), the certification run that replays a template's fixtures, and the
//! transports the runtime calls through the `tradehub_actors::partner::Transport` port;
//! [`signature`] signs and verifies requests over time and body (`t=…,v1=…`); [`file_drop`] is
//! the safe folder I/O of every file-drop inbox and outbox.

pub mod certify;
pub mod config;
pub mod echo;
pub mod edifact_file;
pub mod file_drop;
pub mod filing;
pub mod odoo;
pub mod outbound;
pub mod rest_broker;
pub mod screening;
pub mod signature;
