//! `tradehub convert`, `map`, `partner list|certify` and `config validate`.
#![allow(clippy::print_stdout, reason = "a command's output goes to stdout")]

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};

use super::{EXIT_PROBLEMS, EXIT_USAGE};
use crate::formats::mapping::MappingCache;
use crate::formats::{CodecSettings, Format};
use crate::partners::certify::{self, Outcome};
use crate::partners::config::{Layout, Partner};

/// `tradehub convert`.
#[derive(Debug, Args)]
pub struct ConvertArgs {
    /// Input format.
    #[arg(long)]
    from: Format,
    /// Output format.
    #[arg(long)]
    to: Format,
    /// Input file (stdin when absent).
    file: Option<PathBuf>,
}

/// Direction of `tradehub map`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum MapDirection {
    Outbound,
    Inbound,
    /// Our CONTRL / 997 for a received interchange.
    Acknowledge,
}

/// `tradehub map`.
#[derive(Debug, Args)]
pub struct MapArgs {
    /// Partner template name (`config/partners/<NAME>.toml`).
    #[arg(long)]
    partner: String,
    /// outbound: canonical JSON in, partner document out; inbound: the reverse;
    /// acknowledge: the CONTRL or 997 answering a received interchange.
    #[arg(long)]
    direction: MapDirection,
    /// Input file.
    file: PathBuf,
    /// Interchange control reference for outbound EDI.
    #[arg(long, default_value = "1")]
    control_ref: String,
    /// Folder holding `config/` (default: current folder).
    #[arg(long, default_value = ".")]
    root: PathBuf,
}

/// `tradehub partner`.
#[derive(Debug, Args)]
pub struct PartnerArgs {
    #[command(subcommand)]
    command: PartnerCommand,
    /// Folder holding `config/` and `tests/fixtures/` (default: current folder).
    #[arg(long, default_value = ".", global = true)]
    root: PathBuf,
    /// One JSON document on stdout.
    #[arg(long, global = true)]
    json: bool,
}

#[derive(Debug, Subcommand)]
enum PartnerCommand {
    /// List partner templates.
    List,
    /// Replay a partner's fixtures through its mappings and codecs and diff the outputs.
    Certify {
        /// Template name.
        name: String,
    },
}

/// `tradehub config`.
#[derive(Debug, Args)]
pub struct ConfigArgs {
    #[command(subcommand)]
    command: ConfigCommand,
}

#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// Load every partner template and compile every mapping under `config/`.
    Validate {
        /// Folder holding `config/` (default: current folder).
        #[arg(long, default_value = ".")]
        root: PathBuf,
        /// One JSON document on stdout.
        #[arg(long)]
        json: bool,
    },
}

fn read_input(file: Option<&Path>) -> anyhow::Result<Vec<u8>> {
    match file {
        Some(path) => std::fs::read(path).with_context(|| format!("reading {}", path.display())),
        None => {
            let mut buf = Vec::new();
            std::io::stdin()
                .read_to_end(&mut buf)
                .context("reading stdin")?;
            Ok(buf)
        }
    }
}

fn emit(bytes: &[u8]) -> ExitCode {
    let mut out = std::io::stdout().lock();
    if out.write_all(bytes).and_then(|()| out.flush()).is_err() {
        return ExitCode::from(EXIT_PROBLEMS);
    }
    ExitCode::SUCCESS
}

fn usage(err: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {err}");
    ExitCode::from(EXIT_USAGE)
}

/// Runs `tradehub convert`.
pub fn convert(args: ConvertArgs) -> ExitCode {
    let input = match read_input(args.file.as_deref()) {
        Ok(i) => i,
        Err(e) => return usage(format!("{e:#}")),
    };
    let name = args
        .file
        .as_ref()
        .map_or("stdin".to_owned(), |p| p.display().to_string());
    let tree = match CodecSettings::default_for(args.from).parse(&input) {
        Ok(t) => t,
        Err(e) => return usage(format!("{name}: {e}")),
    };
    match CodecSettings::default_for(args.to).write(&tree) {
        Ok(bytes) => emit(&bytes),
        Err(e) => usage(format!("{name}: cannot write as {}: {e}", args.to)),
    }
}

fn now_ctx(control_ref: &str) -> BTreeMap<String, String> {
    let now = time::OffsetDateTime::now_utc();
    BTreeMap::from([
        ("control_ref".to_owned(), control_ref.to_owned()),
        (
            "date".to_owned(),
            format!(
                "{:04}{:02}{:02}",
                now.year(),
                u8::from(now.month()),
                now.day()
            ),
        ),
        (
            "time".to_owned(),
            format!("{:02}{:02}", now.hour(), now.minute()),
        ),
    ])
}

/// Runs `tradehub map`.
pub fn map(args: MapArgs) -> ExitCode {
    let layout = Layout::new(&args.root);
    let mut cache = MappingCache::new();
    let partner = match Partner::load(&layout, &args.partner, &mut cache) {
        Ok(p) => p,
        Err(e) => return usage(e),
    };
    let input = match read_input(Some(&args.file)) {
        Ok(i) => i,
        Err(e) => return usage(format!("{e:#}")),
    };
    let ctx = now_ctx(&args.control_ref);
    let result = match args.direction {
        MapDirection::Outbound => serde_json::from_slice::<serde_json::Value>(&input)
            .map_err(|e| format!("{}: {e}", args.file.display()))
            .and_then(|canonical| {
                partner
                    .outbound(&canonical, &ctx)
                    .map_err(|e| e.to_string())
            }),
        MapDirection::Inbound => partner
            .inbound(&input, &ctx)
            .map_err(|e| e.to_string())
            .and_then(|tree| {
                crate::formats::json::write(&tree, &Default::default())
                    .map(String::into_bytes)
                    .map_err(|e| e.to_string())
            }),
        MapDirection::Acknowledge => partner.acknowledge(&input, &ctx).map_err(|e| e.to_string()),
    };
    match result {
        Ok(bytes) => emit(&bytes),
        Err(e) => {
            eprintln!("error: {}: {e}", args.file.display());
            ExitCode::from(EXIT_PROBLEMS)
        }
    }
}

/// Runs `tradehub partner …`.
pub fn partner(args: PartnerArgs) -> ExitCode {
    let layout = Layout::new(&args.root);
    match args.command {
        PartnerCommand::List => {
            let names = match layout.partner_names() {
                Ok(n) => n,
                Err(e) => return usage(e),
            };
            let mut rows = Vec::new();
            for name in names {
                match layout.template(&name) {
                    Ok(t) => rows.push(serde_json::json!({
                        "name": name,
                        "kind": t.kind,
                        "codec": t.codec.format().to_string(),
                        "transport": serde_json::to_value(&t.transport).ok().and_then(|v| v.get("kind").cloned()),
                        "fixtures": t.fixtures.len(),
                        "description": t.description,
                    })),
                    Err(e) => return usage(e),
                }
            }
            if args.json {
                println!("{}", serde_json::Value::Array(rows));
            } else {
                println!(
                    "{:<20} {:<15} {:<8} {:<13} {:>8}  description",
                    "name", "kind", "codec", "transport", "fixtures"
                );
                for r in &rows {
                    let s = |k: &str| r[k].as_str().unwrap_or_default().to_owned();
                    println!(
                        "{:<20} {:<15} {:<8} {:<13} {:>8}  {}",
                        s("name"),
                        s("kind"),
                        s("codec"),
                        s("transport"),
                        r["fixtures"],
                        s("description")
                    );
                }
            }
            ExitCode::SUCCESS
        }
        PartnerCommand::Certify { name } => {
            let mut cache = MappingCache::new();
            let results = match certify::certify(&layout, &name, &mut cache) {
                Ok(r) => r,
                Err(e) => return usage(e),
            };
            let failed = results.iter().filter(|r| !r.passed()).count();
            if args.json {
                let rows: Vec<serde_json::Value> = results
                    .iter()
                    .map(|r| {
                        let (outcome, detail) = match &r.outcome {
                            Outcome::Pass => ("pass", String::new()),
                            Outcome::Diff(d) => ("diff", d.clone()),
                            Outcome::Error(e) => ("error", e.clone()),
                        };
                        serde_json::json!({"fixture": r.name, "direction": r.direction, "input": r.input, "outcome": outcome, "detail": detail})
                    })
                    .collect();
                println!(
                    "{}",
                    serde_json::json!({"partner": name, "passed": results.len() - failed, "failed": failed, "fixtures": rows})
                );
            } else {
                println!(
                    "{:<6} {:<12} {:<40} detail",
                    "result", "direction", "fixture"
                );
                for r in &results {
                    let (label, detail) = match &r.outcome {
                        Outcome::Pass => ("PASS", String::new()),
                        Outcome::Diff(d) => ("FAIL", d.clone()),
                        Outcome::Error(e) => ("ERROR", e.clone()),
                    };
                    println!(
                        "{label:<6} {:<12} {:<40} {detail}",
                        r.direction.to_string(),
                        r.name
                    );
                }
                println!("{name}: {} passed, {failed} failed", results.len() - failed);
            }
            if failed > 0 || results.is_empty() {
                ExitCode::from(EXIT_PROBLEMS)
            } else {
                ExitCode::SUCCESS
            }
        }
    }
}

/// Runs `tradehub config validate` (partner templates and mappings).
pub fn config(args: ConfigArgs) -> ExitCode {
    let ConfigCommand::Validate { root, json } = args.command;
    let layout = Layout::new(&root);
    let mut problems: Vec<String> = Vec::new();
    let mut cache = MappingCache::new();
    let mut partners = 0;
    match layout.partner_names() {
        Ok(names) => {
            for name in names {
                partners += 1;
                if let Err(e) = Partner::load(&layout, &name, &mut cache) {
                    problems.push(format!("partner {name}: {e}"));
                }
            }
        }
        Err(e) => problems.push(e.to_string()),
    }
    // Mappings no template uses yet must compile too.
    let mut mappings = 0;
    for path in jq_files(&layout.mappings_dir()) {
        mappings += 1;
        if let Err(e) = cache.get(&path) {
            problems.push(e.to_string());
        }
    }
    if json {
        println!(
            "{}",
            serde_json::json!({"partners": partners, "mappings": mappings, "problems": problems})
        );
    } else {
        for p in &problems {
            println!("problem: {p}");
        }
        println!(
            "{partners} partner templates, {mappings} mappings, {} problems",
            problems.len()
        );
    }
    if problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_PROBLEMS)
    }
}

fn jq_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "jq") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}
