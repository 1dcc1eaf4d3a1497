//! `tradehub duty`: duty, taxes and landed cost of a canonical shipment.
#![allow(clippy::print_stdout)] // the CLI is where output goes to stdout

use std::path::PathBuf;
use std::process::ExitCode;

use serde_json::json;

use super::model::read_shipment;
use super::{EXIT_PROBLEMS, EXIT_USAGE};
use crate::tariff::duty::{DutyResult, TariffBook, compute, default_dir};

/// Arguments of `tradehub duty`.
#[derive(Debug, clap::Args)]
pub struct DutyArgs {
    /// Canonical shipment JSON file ("-" reads standard input).
    file: PathBuf,
    /// Print one JSON object with currency, customs_value, total_duty, total_taxes, total_fees,
    /// landed_cost and each line's working.
    #[arg(long)]
    json: bool,
    /// Tariff folder (jurisdictions.toml, rates/, fx.csv); default: the shipped config/tariffs.
    #[arg(long, value_name = "DIR")]
    tariffs: Option<PathBuf>,
}

/// `tradehub duty FILE [--json]`: 0 computed, 1 the shipment cannot be rated, 2 unusable input.
pub fn duty(args: DutyArgs) -> ExitCode {
    let dir = args.tariffs.clone().unwrap_or_else(default_dir);
    let book = match TariffBook::load(&dir) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("tradehub duty: tariff tables in {}: {e}", dir.display());
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let shipment = match read_shipment(&args.file) {
        Ok(s) => s,
        Err(u) => {
            eprintln!("tradehub duty: {}", u.message);
            return ExitCode::from(EXIT_USAGE);
        }
    };
    match compute(&shipment, &book) {
        Ok(result) => {
            if args.json {
                match serde_json::to_string(&result) {
                    Ok(text) => println!("{text}"),
                    Err(e) => {
                        eprintln!("tradehub duty: cannot encode the result: {e}");
                        return ExitCode::from(EXIT_USAGE);
                    }
                }
            } else {
                print_result(&result);
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("tradehub duty: shipment {}: {e}", shipment.id);
            if args.json {
                println!("{}", json!({"error": e.to_string()}));
            }
            ExitCode::from(EXIT_PROBLEMS)
        }
    }
}

fn print_result(r: &DutyResult) {
    let c = r.currency;
    println!(
        "{} import on {} ({} basis, {}), amounts in {c}, FX date {}",
        r.jurisdiction,
        r.date,
        format!("{:?}", r.value_basis).to_uppercase(),
        r.incoterm,
        r.fx_date
    );
    for l in &r.lines {
        println!(
            "line {} {} origin {}: {} {} x {} = {} goods, customs value {}; {}",
            l.line,
            l.hs_code,
            l.origin
                .map(|o| o.to_string())
                .unwrap_or_else(|| "?".into()),
            l.value,
            l.value_currency,
            l.fx_rate,
            l.goods_value,
            l.customs_value,
            l.preference
        );
        for ch in l.duties.iter().chain(&l.taxes) {
            let label = match &ch.name {
                Some(name) => format!("{}: {name}", ch.kind),
                None => ch.kind.to_string(),
            };
            println!("    {label:<40} {:>12}   {}", ch.amount, ch.formula);
        }
    }
    for f in &r.fees {
        println!(
            "fee {:<36} {:>12}   {}",
            f.name.as_deref().unwrap_or(""),
            f.amount,
            f.formula
        );
    }
    println!("customs value  {:>14} {c}", r.customs_value);
    println!("duty           {:>14} {c}", r.total_duty);
    println!(
        "import taxes   {:>14} {c} (recoverable {})",
        r.total_taxes, r.recoverable_taxes
    );
    println!("fees           {:>14} {c}", r.total_fees);
    println!("landed cost    {:>14} {c}", r.landed_cost);
    for n in &r.notes {
        println!("note: {n}");
    }
}
