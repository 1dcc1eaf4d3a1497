//! Partner transports. Each transport is a folder; the runtime calls them through
//! the `tradehub_actors::partner::Transport` port.

pub mod echo;
pub mod odoo;
