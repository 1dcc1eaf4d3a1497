//! `tradehub screen …` and `tradehub lists …`.
#![allow(clippy::print_stdout)] // the CLI is where output goes to stdout

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use serde_json::json;

use super::{EXIT_PROBLEMS, EXIT_USAGE};
use crate::screening::config::ScreeningConfig;
use crate::screening::decision::{Evidence, Outcome};
use crate::screening::eval::{self, EvalSet};
use crate::screening::fetch;
use crate::screening::{EntityType, ListSpec, ListStore, Query, Screener};

/// Where lists and settings come from.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// TOML file with a `[screening]` section (default: config/screening.toml when present).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Load this list instead of the configured ones (FORMAT=PATH, repeatable; formats: ofac_csv,
    /// ofac_cons_csv, csl_csv, bis_dpl, un_xml, ftm_json).
    #[arg(long = "list", value_name = "FORMAT=PATH", value_parser = ListSpec::parse_override)]
    lists: Vec<ListSpec>,
    /// Override the configured threshold (0..1).
    #[arg(long)]
    threshold: Option<f64>,
}

/// `tradehub screen`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ScreenArgs {
    #[command(subcommand)]
    command: Option<ScreenCommand>,
    /// Name of the party to screen.
    #[arg(long)]
    name: Option<String>,
    /// Country of the party, ISO 3166-1 alpha-2.
    #[arg(long)]
    country: Option<String>,
    /// individual | organisation | vessel | aircraft
    #[arg(long = "type")]
    entity_type: Option<EntityType>,
    /// Date of birth (YYYY, YYYY-MM or YYYY-MM-DD).
    #[arg(long)]
    dob: Option<String>,
    /// One JSON document on stdout.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    lists: ListArgs,
}

#[derive(Debug, Subcommand)]
enum ScreenCommand {
    /// Screen every row of a CSV (`name,country,type`).
    Batch(BatchArgs),
    /// Precision, recall and F1 against labelled queries or name pairs.
    Eval(EvalArgs),
    /// Generate a labelled evaluation set from the loaded lists.
    GenEval(GenEvalArgs),
}

#[derive(Debug, Args)]
struct BatchArgs {
    /// CSV with one query per row: name,country,type (a header row is recognised).
    #[arg(long)]
    input: PathBuf,
    /// Write per-query results here (CSV).
    #[arg(long)]
    output: Option<PathBuf>,
    /// Also screen the first N queries by linear scan of every name and report the speed-up.
    #[arg(long, default_value_t = 0)]
    linear_sample: usize,
    /// One JSON document on stdout.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    lists: ListArgs,
}

#[derive(Debug, Args)]
struct EvalArgs {
    /// `query,country,expected_entity_id` rows, or labelled pairs `query_name,list_name,label`.
    #[arg(long)]
    pairs: PathBuf,
    /// Fail (exit 1) when precision is below this.
    #[arg(long, default_value_t = 0.98)]
    min_precision: f64,
    /// Fail (exit 1) when recall is below this.
    #[arg(long, default_value_t = 0.98)]
    min_recall: f64,
    /// One JSON document on stdout.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    lists: ListArgs,
}

#[derive(Debug, Args)]
struct GenEvalArgs {
    /// Output CSV.
    #[arg(long)]
    output: PathBuf,
    #[arg(long, default_value_t = 1000)]
    positives: usize,
    #[arg(long, default_value_t = 1000)]
    negatives: usize,
    #[arg(long, default_value_t = 7)]
    seed: u64,
    #[command(flatten)]
    lists: ListArgs,
}

/// `tradehub lists`.
#[derive(Debug, Args)]
pub struct ListsArgs {
    #[command(subcommand)]
    command: ListsCommand,
}

#[derive(Debug, Subcommand)]
enum ListsCommand {
    /// Download the configured lists, verify them and swap them in.
    Fetch(FetchArgs),
    /// Load the configured lists and print their versions.
    Show(ShowArgs),
}

#[derive(Debug, Args)]
struct FetchArgs {
    /// TOML file with a `[screening]` section holding `fetch` sources.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Install into this folder instead of `screening.fetch_dir`.
    #[arg(long)]
    dir: Option<PathBuf>,
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct ShowArgs {
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    lists: ListArgs,
}

/// A failure that is the user's input, not a finding: exit 2.
fn usage(e: anyhow::Error) -> ExitCode {
    eprintln!("error: {e:#}");
    ExitCode::from(EXIT_USAGE)
}

fn load_config(path: Option<&Path>) -> anyhow::Result<ScreeningConfig> {
    match path {
        Some(p) => Ok(ScreeningConfig::from_file(p)?),
        None => {
            let default = Path::new("config/screening.toml");
            if default.exists() {
                Ok(ScreeningConfig::from_file(default)?)
            } else {
                Ok(ScreeningConfig::default())
            }
        }
    }
}

fn build(args: &ListArgs) -> anyhow::Result<(Screener, ScreeningConfig)> {
    let mut cfg = load_config(args.config.as_deref())?;
    if !args.lists.is_empty() {
        cfg.lists = args.lists.clone();
        // Two overrides of one format get distinct names.
        for i in 0..cfg.lists.len() {
            let dupes = cfg.lists[..i]
                .iter()
                .filter(|l| l.format == cfg.lists[i].format)
                .count();
            if dupes > 0 {
                cfg.lists[i].name = format!("{}_{}", cfg.lists[i].format, dupes + 1);
            }
        }
    }
    if let Some(t) = args.threshold {
        cfg.threshold = t;
    }
    cfg.validate().map_err(anyhow::Error::msg)?;
    let store = ListStore::load_all(&cfg.lists)?;
    for list in store.lists() {
        for w in &list.warnings {
            eprintln!("warning: {}: {w}", list.version.list);
        }
    }
    Ok((Screener::new(store, cfg.match_settings()), cfg))
}

/// Runs `tradehub screen`.
pub fn screen(args: ScreenArgs) -> ExitCode {
    match args.command {
        Some(ScreenCommand::Batch(b)) => run_batch(b),
        Some(ScreenCommand::Eval(e)) => run_eval(e),
        Some(ScreenCommand::GenEval(g)) => run_gen(g),
        None => run_one(args),
    }
}

fn run_one(args: ScreenArgs) -> ExitCode {
    let Some(name) = args.name.clone().filter(|n| !n.trim().is_empty()) else {
        return usage(anyhow::anyhow!(
            "screen needs --name NAME (or a subcommand: batch, eval, gen-eval)"
        ));
    };
    let (screener, cfg) = match build(&args.lists) {
        Ok(s) => s,
        Err(e) => return usage(e),
    };
    let q = Query {
        name,
        country: args.country.clone(),
        entity_type: args.entity_type,
        dob: args.dob.clone(),
    };
    let mut evidence = Evidence::new(cfg.suppression_days);
    let started = Instant::now();
    let result = evidence
        .screen(&screener, &q, time::OffsetDateTime::now_utc())
        .clone();
    let elapsed = started.elapsed();
    if args.json {
        let mut doc = serde_json::to_value(&result).unwrap_or_default();
        doc["elapsed_us"] = json!(elapsed.as_micros() as u64);
        println!("{doc}");
    } else {
        println!(
            "{}: {} hit(s) at threshold {} ({} µs, lists: {})",
            serde_json::to_value(result.outcome)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            result.hits.len(),
            result.threshold,
            elapsed.as_micros(),
            result
                .list_versions
                .iter()
                .map(|v| v.list.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
        for h in &result.hits {
            let e = &h.explanation;
            println!(
                "  {:.3}  {}/{}  {}  [{:?}]",
                h.score, h.list, h.entity_id, h.name, h.entity_type
            );
            println!(
                "         matched {:?} ({:?}, name score {:.3}, {:?})",
                e.matched_name, e.name_quality, e.name_score, e.method
            );
            let tokens: Vec<String> = e
                .tokens
                .iter()
                .map(|t| format!("{}~{} {:.2}", t.query, t.name, t.similarity))
                .collect();
            println!("         tokens: {}", tokens.join(", "));
            if !e.unmatched_query_tokens.is_empty() || !e.unmatched_name_tokens.is_empty() {
                println!(
                    "         unmatched: query [{}] name [{}]",
                    e.unmatched_query_tokens.join(" "),
                    e.unmatched_name_tokens.join(" ")
                );
            }
            for f in &e.features {
                println!("         {:+.2} {:?}: {}", f.effect, f.feature, f.detail);
            }
        }
    }
    if result.outcome == Outcome::Clear {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_PROBLEMS)
    }
}

fn read_batch(path: &Path) -> anyhow::Result<Vec<Query>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_path(path)
        .with_context(|| format!("{}: cannot read", path.display()))?;
    let mut out = Vec::new();
    for (i, rec) in reader.records().enumerate() {
        let rec = rec.with_context(|| format!("{}: bad CSV", path.display()))?;
        let line = rec.position().map_or(i as u64 + 1, |p| p.line());
        let name = rec.get(0).unwrap_or_default().trim();
        if i == 0 && name.eq_ignore_ascii_case("name") {
            continue;
        }
        if name.is_empty() {
            bail!("{}:{line}: empty name", path.display());
        }
        let country = rec.get(1).map(str::trim).filter(|c| !c.is_empty());
        let entity_type = match rec.get(2).map(str::trim).filter(|t| !t.is_empty()) {
            Some(t) => Some(
                t.parse::<EntityType>()
                    .map_err(|e| anyhow::anyhow!("{}:{line}: {e}", path.display()))?,
            ),
            None => None,
        };
        out.push(Query {
            name: name.to_owned(),
            country: country.map(str::to_owned),
            entity_type,
            dob: None,
        });
    }
    Ok(out)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn run_batch(args: BatchArgs) -> ExitCode {
    let load_started = Instant::now();
    let (screener, _) = match build(&args.lists) {
        Ok(s) => s,
        Err(e) => return usage(e),
    };
    let load_time = load_started.elapsed();
    let queries = match read_batch(&args.input) {
        Ok(q) => q,
        Err(e) => return usage(e),
    };
    let mut writer = match &args.output {
        Some(p) => match csv::Writer::from_path(p) {
            Ok(w) => Some(w),
            Err(e) => return usage(anyhow::anyhow!("{}: {e}", p.display())),
        },
        None => None,
    };
    if let Some(w) = writer.as_mut() {
        let _ = w.write_record([
            "name",
            "country",
            "type",
            "outcome",
            "hits",
            "list",
            "entity_id",
            "matched",
            "score",
        ]);
    }
    let mut latencies = Vec::with_capacity(queries.len());
    let mut with_hits = 0usize;
    let mut candidates = 0usize;
    let started = Instant::now();
    for q in &queries {
        let t = Instant::now();
        let out = screener.screen(q);
        latencies.push(t.elapsed());
        candidates += out.stats.candidates;
        if !out.hits.is_empty() {
            with_hits += 1;
        }
        if let Some(w) = writer.as_mut() {
            let top = out.hits.first();
            let outcome = if out.hits.is_empty() {
                "clear"
            } else {
                "potential_match"
            };
            let _ = w.write_record([
                q.name.as_str(),
                q.country.as_deref().unwrap_or(""),
                q.entity_type
                    .map(|t| {
                        serde_json::to_value(t)
                            .ok()
                            .and_then(|v| v.as_str().map(str::to_owned))
                            .unwrap_or_default()
                    })
                    .unwrap_or_default()
                    .as_str(),
                outcome,
                &out.hits.len().to_string(),
                top.map_or("", |h| h.list.as_str()),
                top.map_or("", |h| h.entity_id.as_str()),
                top.map_or("", |h| h.explanation.matched_name.as_str()),
                &top.map_or(String::new(), |h| format!("{:.4}", h.score)),
            ]);
        }
    }
    let total = started.elapsed();
    if let Some(mut w) = writer
        && let Err(e) = w.flush()
    {
        return usage(anyhow::anyhow!("cannot write output: {e}"));
    }
    latencies.sort_unstable();
    let n = queries.len().max(1);
    let qps = queries.len() as f64 / total.as_secs_f64().max(1e-9);
    let sample = args.linear_sample.min(queries.len());
    let linear = (sample > 0).then(|| {
        let t = Instant::now();
        let mut agree = 0usize;
        for q in &queries[..sample] {
            let a = screener.screen(q);
            let b = screener.screen_linear(q);
            let top = |o: &crate::screening::ScreenOutput| {
                o.hits
                    .first()
                    .map(|h| (h.list.clone(), h.entity_id.clone()))
            };
            if top(&a) == top(&b) {
                agree += 1;
            }
        }
        let linear_total = t.elapsed();
        // The loop above ran both searches; take out the indexed part measured earlier.
        let indexed_per_query = total.as_secs_f64() / n as f64;
        let linear_per_query =
            (linear_total.as_secs_f64() / sample as f64 - indexed_per_query).max(0.0);
        (sample, linear_per_query, indexed_per_query, agree)
    });
    let doc = json!({
        "queries": queries.len(),
        "with_hits": with_hits,
        "names_indexed": screener.index().len(),
        "entities": screener.entity_count(),
        "load_ms": load_time.as_millis() as u64,
        "total_ms": total.as_millis() as u64,
        "queries_per_second": qps.round(),
        "p50_us": percentile(&latencies, 0.50).as_secs_f64() * 1e6,
        "p99_us": percentile(&latencies, 0.99).as_secs_f64() * 1e6,
        "max_us": latencies.last().copied().unwrap_or_default().as_secs_f64() * 1e6,
        "mean_candidates": candidates as f64 / n as f64,
        "linear_scan": linear.map(|(s, l, i, agree)| json!({
            "sample": s,
            "per_query_us": l * 1e6,
            "indexed_per_query_us": i * 1e6,
            "speedup": if i > 0.0 { l / i } else { 0.0 },
            "same_top_hit": agree,
        })),
    });
    if args.json {
        println!("{doc}");
    } else {
        println!(
            "{} queries, {} with hits; {} names indexed; load {} ms; {:.0} q/s; p50 {:.1} µs, p99 {:.1} µs, max {:.1} µs; {:.1} candidates/query",
            doc["queries"],
            doc["with_hits"],
            doc["names_indexed"],
            doc["load_ms"],
            qps,
            doc["p50_us"].as_f64().unwrap_or(0.0),
            doc["p99_us"].as_f64().unwrap_or(0.0),
            doc["max_us"].as_f64().unwrap_or(0.0),
            doc["mean_candidates"].as_f64().unwrap_or(0.0)
        );
        if let Some((s, l, i, agree)) = linear {
            println!(
                "linear scan of every name ({s} queries): {:.0} µs/query vs {:.1} µs indexed: speed-up {:.0}x; same top hit in {agree}/{s}",
                l * 1e6,
                i * 1e6,
                if i > 0.0 { l / i } else { 0.0 }
            );
        }
    }
    if with_hits > 0 {
        ExitCode::from(EXIT_PROBLEMS)
    } else {
        ExitCode::SUCCESS
    }
}

fn run_eval(args: EvalArgs) -> ExitCode {
    let (screener, cfg) = match build(&args.lists) {
        Ok(s) => s,
        Err(e) => return usage(e),
    };
    let set = match eval::read_set(&args.pairs) {
        Ok(s) => s,
        Err(e) => return usage(e.into()),
    };
    let (kind, scored) = match &set {
        EvalSet::Queries(rows) => (
            "queries",
            eval::score_queries(&screener, rows, cfg.threshold),
        ),
        EvalSet::Pairs(pairs) => ("pairs", eval::score_pairs(&screener, pairs)),
    };
    let report = eval::report(scored, cfg.threshold);
    let m = report.metrics;
    if args.json {
        let mut doc = serde_json::to_value(&report).unwrap_or_default();
        doc["kind"] = json!(kind);
        println!("{doc}");
    } else {
        println!(
            "{kind}: {} labelled; threshold {}: tp {} fp {} fn {} tn {}; precision {:.4} recall {:.4} f1 {:.4}",
            report.queries, m.threshold, m.tp, m.fp, m.fn_, m.tn, m.precision, m.recall, m.f1
        );
        println!("threshold curve:");
        for c in &report.curve {
            println!(
                "  {:.2}  precision {:.4}  recall {:.4}  f1 {:.4}  (tp {} fp {} fn {} tn {})",
                c.threshold, c.precision, c.recall, c.f1, c.tp, c.fp, c.fn_, c.tn
            );
        }
        let mut out = std::io::stdout().lock();
        for s in report.misses.iter().take(30) {
            let _ = writeln!(
                out,
                "  miss: {:?} [{}] expected {} (score {:.3}); best {}",
                s.query,
                s.country,
                s.expected,
                s.expected_score,
                s.best_hit.as_deref().unwrap_or("-")
            );
        }
        for s in report.false_alarms.iter().take(30) {
            let _ = writeln!(
                out,
                "  false alarm: {:?} [{}] -> {}",
                s.query,
                s.country,
                s.best_hit.as_deref().unwrap_or("-")
            );
        }
    }
    if m.precision < args.min_precision || m.recall < args.min_recall {
        ExitCode::from(EXIT_PROBLEMS)
    } else {
        ExitCode::SUCCESS
    }
}

fn run_gen(args: GenEvalArgs) -> ExitCode {
    let (screener, _) = match build(&args.lists) {
        Ok(s) => s,
        Err(e) => return usage(e),
    };
    let rows = eval::synth::generate(screener.lists(), args.positives, args.negatives, args.seed);
    let write = || -> anyhow::Result<()> {
        let mut w = csv::Writer::from_path(&args.output)
            .with_context(|| format!("{}: cannot write", args.output.display()))?;
        for r in &rows {
            w.serialize(r)?;
        }
        w.flush()?;
        Ok(())
    };
    if let Err(e) = write() {
        return usage(e);
    }
    println!("{} rows written to {}", rows.len(), args.output.display());
    ExitCode::SUCCESS
}

/// Runs `tradehub lists`.
pub fn lists(args: ListsArgs) -> ExitCode {
    match args.command {
        ListsCommand::Fetch(f) => run_fetch(f),
        ListsCommand::Show(s) => run_show(s),
    }
}

fn run_fetch(args: FetchArgs) -> ExitCode {
    let cfg = match load_config(args.config.as_deref()) {
        Ok(c) => c,
        Err(e) => return usage(e),
    };
    if cfg.fetch.is_empty() {
        return usage(anyhow::anyhow!("no [[screening.fetch]] sources configured"));
    }
    let dir = args.dir.unwrap_or_else(|| cfg.fetch_dir.clone());
    let mut results = Vec::new();
    let mut failed = false;
    for source in &cfg.fetch {
        match fetch::fetch(source, &dir) {
            Ok(installed) => {
                if !args.json {
                    println!(
                        "{}: {} ({} entities, published {}){}",
                        source.list,
                        &installed.version.content_hash[..16],
                        installed.version.entities,
                        installed.version.published.as_deref().unwrap_or("?"),
                        if installed.swapped {
                            ", installed"
                        } else {
                            ", unchanged"
                        }
                    );
                }
                results.push(json!({"list": source.list, "ok": true, "installed": installed}));
            }
            Err(e) => {
                failed = true;
                if !args.json {
                    eprintln!("{}: {e} (previous version kept)", source.list);
                }
                results.push(json!({"list": source.list, "ok": false, "error": e.to_string()}));
            }
        }
    }
    if args.json {
        println!("{}", json!({ "lists": results }));
    }
    if failed {
        ExitCode::from(EXIT_PROBLEMS)
    } else {
        ExitCode::SUCCESS
    }
}

fn run_show(args: ShowArgs) -> ExitCode {
    let started = Instant::now();
    let (screener, _) = match build(&args.lists) {
        Ok(s) => s,
        Err(e) => return usage(e),
    };
    let elapsed = started.elapsed();
    let versions = screener.versions();
    if args.json {
        println!(
            "{}",
            json!({
                "lists": versions,
                "names_indexed": screener.index().len(),
                "vocabulary": screener.index().vocabulary_len(),
                "load_ms": elapsed.as_millis() as u64,
            })
        );
    } else {
        for v in &versions {
            println!(
                "{:<12} {:<14} {:>6} entities {:>6} names  published {} ({:?})  sha256 {}",
                v.list,
                v.format.as_str(),
                v.entities,
                v.names,
                v.published.as_deref().unwrap_or("?"),
                v.published_from,
                &v.content_hash[..16]
            );
        }
        println!(
            "{} names indexed, {} distinct tokens, loaded in {} ms",
            screener.index().len(),
            screener.index().vocabulary_len(),
            elapsed.as_millis()
        );
    }
    ExitCode::SUCCESS
}
