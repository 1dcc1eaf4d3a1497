//! Partners: templates that configure a partner (codec, mappings, fixtures)
//! and the certification run that replays a template's fixtures.

pub mod certify;
pub mod config;
