//! Sagas the hub runs. The shipment saga arrives with its own issue; until then
//! the service runs the [`echo`] workflow, which exercises every path of the
//! runtime (inputs, partner commands, results, terminal states).

pub mod echo;
pub mod exceptions;
pub mod routing;
pub mod shipment;
