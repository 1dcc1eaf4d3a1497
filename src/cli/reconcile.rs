//! `tradehub reconcile`: the reconciliation batch once over a folder of settlement documents,
//! without Redis or Odoo (nothing is posted).
#![allow(clippy::print_stdout)] // the CLI is where output goes to stdout

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::{EXIT_PROBLEMS, EXIT_USAGE};
use crate::finance::batch::{self, Dossier, Outcome, Status};
use crate::finance::inbox::{broker_dirs, is_document};
use crate::finance::{ReconcileSettings, documents};
use crate::partners::config::Layout;
use crate::partners::file_drop;
use crate::tariff::duty::{TariffBook, default_dir};

/// Arguments of `tradehub reconcile`.
#[derive(Debug, clap::Args)]
pub struct ReconcileArgs {
    /// Folder with one subfolder per broker (named as its partner template) holding CUSRES
    /// (.edi), DMSTAX (.xml), broker invoices (.csv) and declaration copies (.json).
    #[arg(long, value_name = "DIR", default_value = "/var/lib/tradehub/finance")]
    folder: PathBuf,
    /// Reconciliation settings (tolerances, agreed fees).
    #[arg(long, value_name = "FILE")]
    settings: Option<PathBuf>,
    /// Tariff folder for the estimate; default: the shipped config/tariffs.
    #[arg(long, value_name = "DIR")]
    tariffs: Option<PathBuf>,
    /// Print one JSON object: {declarations: [...], unreadable: [...]}.
    #[arg(long)]
    json: bool,
}

/// 0 every complete declaration reconciled, 1 a variance (or a declaration still missing a
/// document), 2 bad usage or an unreadable document.
pub fn reconcile(args: ReconcileArgs) -> ExitCode {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let settings_path = args
        .settings
        .clone()
        .unwrap_or_else(|| root.join("config/reconcile.toml"));
    let settings = match ReconcileSettings::load(&settings_path) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("tradehub reconcile: {e}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let tariffs = args.tariffs.clone().unwrap_or_else(default_dir);
    let book = match TariffBook::load(&tariffs) {
        Ok(b) => b,
        Err(e) => {
            eprintln!(
                "tradehub reconcile: tariff tables in {}: {e}",
                tariffs.display()
            );
            return ExitCode::from(EXIT_USAGE);
        }
    };
    if !args.folder.is_dir() {
        eprintln!(
            "tradehub reconcile: {} is not a folder",
            args.folder.display()
        );
        return ExitCode::from(EXIT_USAGE);
    }
    let (dossiers, unreadable) = gather(&args.folder, &Layout::new(root));
    let outcomes: Vec<Outcome> = dossiers
        .values()
        .map(|d| batch::settle(d, &book, &settings))
        .collect();
    if args.json {
        let doc = serde_json::json!({ "declarations": outcomes, "unreadable": unreadable });
        println!("{doc}");
    } else {
        print_outcomes(&outcomes, &unreadable);
    }
    if !unreadable.is_empty() {
        ExitCode::from(EXIT_USAGE)
    } else if outcomes.iter().any(|o| o.status != Status::Reconciled) {
        ExitCode::from(EXIT_PROBLEMS)
    } else {
        ExitCode::SUCCESS
    }
}

/// Every readable document of every broker folder, by LRN; and why the others are unreadable.
fn gather(folder: &Path, layout: &Layout) -> (BTreeMap<String, Dossier>, Vec<String>) {
    let mut dossiers: BTreeMap<String, Dossier> = BTreeMap::new();
    let mut unreadable = Vec::new();
    for (broker, dir) in broker_dirs(folder) {
        for name in file_drop::waiting(&dir, is_document) {
            let read = file_drop::read_regular(&dir, &name, file_drop::DEFAULT_MAX_FILE_BYTES)
                .map_err(|e| format!("{broker}/{e}"))
                .and_then(|bytes| {
                    documents::read(&name, &bytes, &broker, layout)
                        .map_err(|e| format!("{broker}/{e}"))
                });
            match read {
                Ok(settlements) => {
                    for s in settlements {
                        dossiers
                            .entry(s.lrn().to_owned())
                            .or_insert_with(|| Dossier::new(s.lrn()))
                            .add(s);
                    }
                }
                Err(reason) => unreadable.push(reason),
            }
        }
    }
    (dossiers, unreadable)
}

fn amount(v: Option<rust_decimal::Decimal>) -> String {
    v.map_or_else(|| "-".to_owned(), |v| v.to_string())
}

fn print_outcomes(outcomes: &[Outcome], unreadable: &[String]) {
    for o in outcomes {
        let status = match o.status {
            Status::Waiting => "WAITING",
            Status::Reconciled => "RECONCILED",
            Status::Variance => "DUTY_VARIANCE",
        };
        println!(
            "{} ({}): {status}",
            o.lrn,
            o.shipment.as_deref().unwrap_or("shipment unknown")
        );
        if !o.missing.is_empty() {
            println!("  missing: {}", o.missing.join(", "));
        }
        if let Some(c) = &o.comparison {
            let currency = c.currency.map(|c| c.to_string()).unwrap_or_default();
            println!(
                "  duty      estimate {:>12}  assessed {:>12}  invoiced {:>12} {currency}",
                amount(c.estimate_duty),
                amount(c.assessed_duty),
                c.invoiced_duty
            );
            println!(
                "  tax       estimate {:>12}  assessed {:>12}  invoiced {:>12} {currency}",
                amount(c.estimate_tax),
                amount(c.assessed_tax),
                c.invoiced_tax
            );
            println!("  fees      invoiced {:>12} {currency}", c.invoiced_fees);
        }
        for r in &o.reasons {
            println!("  - {r}");
        }
    }
    for u in unreadable {
        println!("UNREADABLE {u}");
    }
    let count = |s: Status| outcomes.iter().filter(|o| o.status == s).count();
    println!(
        "{} declarations: {} reconciled, {} with variances, {} waiting; {} unreadable files",
        outcomes.len(),
        count(Status::Reconciled),
        count(Status::Variance),
        count(Status::Waiting),
        unreadable.len()
    );
}
