//! `tradehub keys status|rotate`: which data keys sealed what is in Redis, and re-sealing the
//! mutable values still under an older key (see `store/rotate.rs`). Read through the same
//! configuration and `REDIS_URL` as `serve`, so the keyring is the service's.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use serde_json::json;

use super::ops::{Connection, connect, fail};
use super::{EXIT_PROBLEMS, EXIT_USAGE};
use crate::store::{KeyUsage, RotateReport};

/// Data keys.
#[derive(Debug, Args)]
pub struct KeysArgs {
    #[command(flatten)]
    connection: Connection,
    #[command(subcommand)]
    what: KeysCommand,
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Count the stored values by the key id that sealed them.
    Status {
        /// Keys per SCAN batch.
        #[arg(long, default_value_t = 500)]
        batch: usize,
    },
    /// Re-seal under the current key every hash field and timer sealed under an older one.
    /// Safe beside a running hub (each value is compared before it is replaced); run it again,
    /// or give `--from`, to resume.
    Rotate {
        /// Keys per SCAN batch.
        #[arg(long, default_value_t = 500)]
        batch: usize,
        /// The SCAN cursor an interrupted run reported last.
        #[arg(long, default_value_t = 0)]
        from: u64,
    },
}

fn counts(counts: &BTreeMap<String, u64>) -> String {
    if counts.is_empty() {
        return "none".to_owned();
    }
    counts
        .iter()
        .map(|(kid, n)| format!("{kid}: {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn print_usage(usage: &KeyUsage, current: &str) {
    println!("current key: {current}");
    println!("keys looked at: {}", usage.keys);
    println!(
        "hash fields and timers by key id: {}",
        counts(&usage.mutable)
    );
    println!(
        "stream entries by key id (kept until trimmed): {}",
        counts(&usage.immutable)
    );
}

/// `tradehub keys …`: status exits 0; rotate exits 0 when nothing mutable is left under an
/// older key, 1 when values changed meanwhile or did not open.
pub fn keys(args: KeysArgs) -> ExitCode {
    let (config, mailbox, runtime) = match connect(&args.connection) {
        Ok(connected) => connected,
        Err(error) => return fail(EXIT_USAGE, error),
    };
    let json = args.connection.json;
    let current = config
        .redis
        .sealer
        .current_id()
        .unwrap_or("none (encryption off)")
        .to_owned();
    match args.what {
        KeysCommand::Status { batch } => match runtime.block_on(mailbox.key_usage(batch)) {
            Ok(usage) => {
                if json {
                    println!("{}", json!({ "current": current, "usage": usage }));
                } else {
                    print_usage(&usage, &current);
                }
                ExitCode::SUCCESS
            }
            Err(error) => fail(EXIT_USAGE, format!("redis: {error}")),
        },
        KeysCommand::Rotate { batch, from } => {
            let interactive = !json && std::io::stderr().is_terminal();
            let mut progress = |report: &RotateReport| {
                if interactive {
                    eprintln!(
                        "cursor {}: {} keys, {} re-sealed",
                        report.cursor, report.found.keys, report.resealed
                    );
                }
            };
            let report = match runtime.block_on(mailbox.rotate_keys(from, batch, &mut progress)) {
                Ok(report) => report,
                Err(error) => return fail(EXIT_USAGE, format!("redis: {error}")),
            };
            if json {
                println!("{}", json!({ "current": current, "report": report }));
            } else {
                print_usage(&report.found, &current);
                println!("re-sealed under {current}: {}", report.resealed);
                println!(
                    "changed meanwhile (left to their writer): {}",
                    report.changed
                );
                for place in &report.unreadable {
                    println!("did not open: {place}");
                }
            }
            if report.left_behind() == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(EXIT_PROBLEMS)
            }
        }
    }
}
