//! tradehub-sim: simulators of the systems the hub talks to, the demo world and the
//! benchmarks. Each simulator speaks its real protocol over real HTTP or real folders, so the
//! production client code runs against it unchanged. This crate depends on `tradehub` and never
//! the reverse: the service binary built without the default feature `sim` carries none of it.
//!
//! # Layout
//!
//! | module | what |
//! |---|---|
//! | [`bench`] | benchmarks against real Redis (`tradehub bench`) |
//! | [`broker`] | seeded customs scenarios, fault injection, and the REST/JSON broker |
//! | [`broker_edifact`] | the EDIFACT CUSDEC/CUSRES broker over a folder pair |
//! | [`carrier`] | a carrier posting DCSA JSON events and X12 214 to the hub |
//! | [`cli`] | the `demo`, `sim` and `bench` subcommands |
//! | [`demo`] | `tradehub demo`: the hub with simulated Odoo, brokers and carriers, and the people around them |
//! | [`odoo`] | an in-memory Odoo over JSON-RPC and JSON-2, with demo data and webhooks |
//! | [`settlement`] | the settlement documents (assessment, invoice CSV) brokers drop after release |

pub mod bench;
pub mod broker;
pub mod broker_edifact;
pub mod carrier;
pub mod cli;
pub mod demo;
pub mod odoo;
pub mod settlement;

use std::time::Duration;

/// Redeliver a callback the hub did not take (down, restarting, answering 5xx), as real webhook
/// senders do: `send` again after 100 ms, doubling up to 2 s, for about half a minute in all.
/// Returns whether one attempt was taken.
pub async fn redeliver<F, Fut>(mut send: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let mut delay = Duration::from_millis(100);
    for _ in 0..20 {
        if send().await {
            return true;
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(2));
    }
    false
}
