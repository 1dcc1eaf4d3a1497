//! Operator tooling on Redis: `tradehub replay …` (dead letters, a key's
//! timeline), `tradehub audit verify` and `tradehub retention run`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use serde_json::json;
use tradehub_actors::envelope::partition_of;
use tradehub_actors::mailbox::{EntryId, Mailbox, MailboxOps, Partition};

use super::{EXIT_PROBLEMS, EXIT_USAGE};
use crate::config::{HubConfig, default_path};
use crate::store::{AuditKeys, RedisMailbox, TrailReport};

/// Where the hub's Redis is.
#[derive(Debug, Args)]
pub struct Connection {
    /// Configuration file (default `config/hub.toml`; built-in defaults when absent).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// Print one JSON document.
    #[arg(long, global = true)]
    pub(super) json: bool,
}

/// Replay and redrive.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    #[command(flatten)]
    connection: Connection,
    #[command(subcommand)]
    what: Replay,
}

#[derive(Debug, Subcommand)]
enum Replay {
    /// Dead letters.
    Dlq {
        #[command(subcommand)]
        action: Dlq,
    },
    /// The timeline of one key (e.g. a shipment id), oldest first.
    Shipment {
        /// The key.
        id: String,
    },
}

#[derive(Debug, Subcommand)]
enum Dlq {
    /// Every dead letter, all partitions.
    List,
    /// One dead letter, whole.
    Show {
        /// `PARTITION:ID` as `list` prints it.
        letter: String,
    },
    /// Put dead letters back on their origin stream (attempt reset to 1).
    Redrive {
        /// `PARTITION:ID` as `list` prints it.
        letters: Vec<String>,
        /// Redrive every dead letter.
        #[arg(long, conflicts_with = "letters")]
        all: bool,
    },
}

/// Audit trail checks.
#[derive(Debug, Args)]
pub struct AuditArgs {
    #[command(flatten)]
    connection: Connection,
    #[command(subcommand)]
    what: Audit,
}

#[derive(Debug, Subcommand)]
enum Audit {
    /// Verify every partition's audit chain (MACs, links, positions, head, base) and every
    /// anchor, from the anchor file and the Redis stream; names the first entry that fails.
    Verify,
}

/// Retention.
#[derive(Debug, Args)]
pub struct RetentionArgs {
    #[command(flatten)]
    connection: Connection,
    #[command(subcommand)]
    what: RetentionCommand,
}

#[derive(Debug, Subcommand)]
enum RetentionCommand {
    /// Apply `[retention]` once: export what is past its time to `export_dir`, then remove it.
    /// Safe beside running hubs.
    Run,
}

/// The configuration's audit keys: what verifying or trimming the chains needs.
fn audit_keys(config: &HubConfig) -> Result<AuditKeys, String> {
    config
        .audit
        .keys(&config.runtime.home)
        .map_err(|e| e.to_string())
}

/// The configuration, a connection to its Redis and a runtime to drive it.
pub(super) fn connect(
    connection: &Connection,
) -> Result<(HubConfig, RedisMailbox, tokio::runtime::Runtime), String> {
    connect_with(connection, |_| Ok(AuditKeys::ephemeral()))
}

/// [`connect`], with the audit keys `keys` reads from the configuration.
fn connect_with(
    connection: &Connection,
    keys: impl FnOnce(&HubConfig) -> Result<AuditKeys, String>,
) -> Result<(HubConfig, RedisMailbox, tokio::runtime::Runtime), String> {
    let (path, required) = match &connection.config {
        Some(path) => (path.clone(), true),
        None => (default_path(), false),
    };
    let config = HubConfig::load(&path, required).map_err(|e| e.to_string())?;
    let keys = keys(&config)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let mailbox = runtime
        .block_on(RedisMailbox::connect_audited(config.redis.clone(), keys))
        .map_err(|e| format!("redis at {}: {e}", config.redis.redacted_url()))?;
    Ok((config, mailbox, runtime))
}

fn parse_letter(text: &str) -> Result<(Partition, EntryId), String> {
    let (partition, id) = text
        .split_once(':')
        .ok_or_else(|| format!("`{text}` is not PARTITION:ID (e.g. 3:1700000000000-0)"))?;
    let partition = partition
        .parse()
        .map_err(|_| format!("`{partition}` in `{text}` is not a partition number"))?;
    Ok((partition, EntryId(id.to_owned())))
}

/// Say why on stderr and exit with `code`.
pub(super) fn fail(code: u8, message: impl std::fmt::Display) -> ExitCode {
    eprintln!("{message}");
    ExitCode::from(code)
}

/// `tradehub replay …`.
pub fn replay(args: ReplayArgs) -> ExitCode {
    let (config, mailbox, runtime) = match connect(&args.connection) {
        Ok(connected) => connected,
        Err(error) => return fail(EXIT_USAGE, error),
    };
    let json = args.connection.json;
    let result = runtime.block_on(async {
        match args.what {
            Replay::Shipment { id } => {
                let partition = partition_of(&id, config.runtime.partitions);
                let timeline = mailbox.history(partition, &id).await.map_err(|e| e.to_string())?;
                let stored = mailbox.load(partition, &id).await.map_err(|e| e.to_string())?;
                let entries: Vec<serde_json::Value> = timeline
                    .iter()
                    .map(|raw| serde_json::from_str(raw).unwrap_or_else(|_| json!(raw)))
                    .collect();
                if json {
                    println!(
                        "{}",
                        json!({ "key": id, "partition": partition, "ver": stored.ver, "state": stored.state, "timeline": entries })
                    );
                } else {
                    println!("{id} (partition {partition}, version {})", stored.ver);
                    for entry in &entries {
                        println!("  {entry}");
                    }
                }
                Ok(ExitCode::SUCCESS)
            }
            Replay::Dlq { action } => dlq(&config, &mailbox, action, json).await,
        }
    });
    result.unwrap_or_else(|error: String| fail(EXIT_USAGE, error))
}

async fn dlq(
    config: &HubConfig,
    mailbox: &RedisMailbox,
    action: Dlq,
    json: bool,
) -> Result<ExitCode, String> {
    let all_letters = || async {
        let mut letters = Vec::new();
        for partition in 0..config.runtime.partitions {
            letters.extend(
                mailbox
                    .dead_letters(partition)
                    .await
                    .map_err(|e| e.to_string())?,
            );
        }
        Ok::<_, String>(letters)
    };
    match action {
        Dlq::List => {
            let letters = all_letters().await?;
            if json {
                let rows: Vec<_> = letters
                    .iter()
                    .map(|l| json!({ "letter": format!("{}:{}", l.partition, l.id), "origin": l.origin.to_string(), "origin_id": l.origin_id.0, "deliveries": l.deliveries, "reason": l.reason, "at_ms": l.at_ms }))
                    .collect();
                println!("{}", json!({ "dead_letters": rows }));
            } else {
                println!("{} dead letter(s)", letters.len());
                for l in &letters {
                    println!(
                        "  {}:{}  {}  deliveries {}  {}",
                        l.partition, l.id, l.origin, l.deliveries, l.reason
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Dlq::Show { letter } => {
            let (partition, id) = parse_letter(&letter)?;
            let found = mailbox
                .dead_letters(partition)
                .await
                .map_err(|e| e.to_string())?
                .into_iter()
                .find(|l| l.id == id)
                .ok_or_else(|| format!("no dead letter {letter}"))?;
            println!(
                "{}",
                json!({ "letter": letter, "origin": found.origin.to_string(), "origin_id": found.origin_id.0, "deliveries": found.deliveries, "reason": found.reason, "at_ms": found.at_ms, "raw": found.raw })
            );
            Ok(ExitCode::SUCCESS)
        }
        Dlq::Redrive { letters, all } => {
            let targets: Vec<(Partition, EntryId)> = if all {
                all_letters()
                    .await?
                    .into_iter()
                    .map(|l| (l.partition, l.id))
                    .collect()
            } else if letters.is_empty() {
                return Err(
                    "name the dead letters to redrive (PARTITION:ID …) or give --all".to_owned(),
                );
            } else {
                letters
                    .iter()
                    .map(|l| parse_letter(l))
                    .collect::<Result<_, _>>()?
            };
            let mut redriven = Vec::new();
            for (partition, id) in targets {
                let new_id = mailbox
                    .redrive(partition, &id)
                    .await
                    .map_err(|e| format!("{partition}:{id}: {e}"))?;
                redriven
                    .push(json!({ "letter": format!("{partition}:{id}"), "new_entry": new_id.0 }));
            }
            if json {
                println!("{}", json!({ "redriven": redriven }));
            } else {
                println!("{} dead letter(s) redriven", redriven.len());
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `tradehub audit verify`: exit 0 when every chain and anchor holds, 1 when one does not.
pub fn audit(args: AuditArgs) -> ExitCode {
    let (config, mailbox, runtime) = match connect_with(&args.connection, audit_keys) {
        Ok(connected) => connected,
        Err(error) => return fail(EXIT_USAGE, error),
    };
    let Audit::Verify = args.what;
    let anchor_file = config.audit.anchor_path(&config.runtime.home);
    let report =
        match runtime.block_on(mailbox.verify_trail(config.runtime.partitions, &anchor_file)) {
            Ok(report) => report,
            Err(error) => return fail(EXIT_USAGE, format!("redis: {error}")),
        };
    if args.connection.json {
        println!("{}", report_json(&report));
    } else {
        print_report(&report);
    }
    if report.is_intact() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_PROBLEMS)
    }
}

fn report_json(report: &TrailReport) -> serde_json::Value {
    let partitions: Vec<_> = report
        .partitions
        .iter()
        .map(|p| {
            let broken = p.broken.as_ref().map(|b| {
                json!({ "at": b.at, "seq": b.seq, "reason": b.reason, "message": b.to_string() })
            });
            json!({ "partition": p.partition, "entries": p.entries, "head_seq": p.head.seq, "ok": broken.is_none(), "break": broken })
        })
        .collect();
    json!({
        "ok": report.is_intact(),
        "partitions": partitions,
        "anchors": { "checked": report.anchors_checked, "problems": report.anchor_problems },
    })
}

fn print_report(report: &TrailReport) {
    for p in &report.partitions {
        match &p.broken {
            Some(broken) => println!("{broken}"),
            None => println!(
                "partition {}: {} entries, head at position {}",
                p.partition, p.entries, p.head.seq
            ),
        }
    }
    println!("{} anchor(s) checked", report.anchors_checked);
    for problem in &report.anchor_problems {
        println!("anchor problem: {problem}");
    }
    println!(
        "{}",
        if report.is_intact() {
            "audit trail intact"
        } else {
            "AUDIT TRAIL BROKEN"
        }
    );
}

/// `tradehub retention run`: exit 0 when the policy was applied, 2 when it could not be.
pub fn retention(args: RetentionArgs) -> ExitCode {
    let (config, mailbox, runtime) = match connect_with(&args.connection, audit_keys) {
        Ok(connected) => connected,
        Err(error) => return fail(EXIT_USAGE, error),
    };
    let RetentionCommand::Run = args.what;
    let retention = match crate::service::retention::retention(&config, mailbox) {
        Ok(retention) => retention,
        Err(error) => return fail(EXIT_USAGE, error),
    };
    let report = match runtime.block_on(retention.run()) {
        Ok(report) => report,
        Err(error) => return fail(EXIT_USAGE, error),
    };
    if args.connection.json {
        println!("{}", json!(report));
    } else {
        println!(
            "audit entries trimmed: {}\nfinished sagas archived: {} (left as they were: {})\ncallback payloads dropped: {}\nfiles removed: {}",
            report.audit_trimmed,
            report.sagas_archived,
            report.sagas_left,
            report.payloads_trimmed,
            report.files_removed
        );
        for export in &report.exports {
            println!("exported: {}", export.display());
        }
    }
    ExitCode::SUCCESS
}
