//! `tradehub validate` and `tradehub schema`: the canonical model on the command line.
#![allow(clippy::print_stdout)] // the CLI is where output goes to stdout

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use serde_json::json;

use super::{EXIT_PROBLEMS, EXIT_USAGE};
use crate::model::{SCHEMA_NAMES, Shipment, schema_json};
use crate::tariff::{self, ReferenceData, Report, Rules, Severity};

/// Arguments of `tradehub validate`.
#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    /// Canonical shipment JSON file ("-" reads standard input).
    file: PathBuf,
    /// Print one JSON object: {"valid", "issues": [{"path", "code", "severity", "message"}], "nomenclature"}.
    #[arg(long)]
    json: bool,
    /// Validation rules (TOML); default: the rules of the shipped config/validation.toml.
    #[arg(long, value_name = "FILE")]
    rules: Option<PathBuf>,
    /// Reference data folder with the layout of the project's data/; default: the bundled data.
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
}

/// Arguments of `tradehub schema`.
#[derive(Debug, clap::Args)]
pub struct SchemaArgs {
    /// One of: shipment, party, product, document, declaration, validation_report.
    name: String,
}

/// Why a shipment file could not be used, with where it broke.
pub(super) struct Unreadable {
    pub(super) message: String,
    pub(super) line: Option<usize>,
    pub(super) column: Option<usize>,
}

pub(super) fn read_shipment(file: &Path) -> Result<Shipment, Unreadable> {
    let mut text = String::new();
    let read = if file == Path::new("-") {
        std::io::stdin().read_to_string(&mut text).map(|_| ())
    } else {
        std::fs::read_to_string(file).map(|t| text = t)
    };
    read.map_err(|e| Unreadable {
        message: format!("cannot read {}: {e}", file.display()),
        line: None,
        column: None,
    })?;
    serde_json::from_str(&text).map_err(|e| {
        let full = e.to_string();
        let suffix = format!(" at line {} column {}", e.line(), e.column());
        let reason = full.strip_suffix(&suffix).unwrap_or(&full);
        Unreadable {
            message: format!(
                "{}:{}:{}: not a readable canonical shipment: {reason}",
                file.display(),
                e.line(),
                e.column()
            ),
            line: Some(e.line()),
            column: Some(e.column()),
        }
    })
}

fn load_context(args: &ValidateArgs) -> anyhow::Result<(Rules, Option<ReferenceData>)> {
    let rules = match &args.rules {
        Some(path) => Rules::load(path)?,
        None => Rules::default(),
    };
    let data = match &args.data {
        Some(dir) => Some(
            ReferenceData::load(dir)
                .with_context(|| format!("reference data in {}", dir.display()))?,
        ),
        None => None,
    };
    Ok((rules, data))
}

/// `tradehub validate FILE [--json]`: 0 valid, 1 problems found, 2 unreadable input.
pub fn validate(args: ValidateArgs) -> ExitCode {
    let (rules, data) = match load_context(&args) {
        Ok(ctx) => ctx,
        Err(e) => {
            eprintln!("tradehub validate: {e:#}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let shipment = match read_shipment(&args.file) {
        Ok(s) => s,
        Err(u) => {
            eprintln!("tradehub validate: {}", u.message);
            if args.json {
                let doc = json!({
                    "valid": false,
                    "error": {"message": u.message, "line": u.line, "column": u.column},
                    "issues": [],
                });
                println!("{doc}");
            }
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let reference = data.as_ref().unwrap_or_else(|| ReferenceData::bundled());
    let report = tariff::validate(&shipment, reference, &rules);
    if args.json {
        match serde_json::to_string(&report) {
            Ok(text) => println!("{text}"),
            Err(e) => {
                eprintln!("tradehub validate: cannot encode the report: {e}");
                return ExitCode::from(EXIT_USAGE);
            }
        }
    } else {
        print_report(&shipment, &report);
    }
    if report.valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_PROBLEMS)
    }
}

fn print_report(shipment: &Shipment, report: &Report) {
    let (errors, warnings) = (
        report.count(Severity::Error),
        report.count(Severity::Warning),
    );
    let verdict = if report.valid { "valid" } else { "INVALID" };
    println!(
        "shipment {}: {verdict} ({errors} errors, {warnings} warnings; checked against {})",
        shipment.id, report.nomenclature
    );
    for issue in &report.issues {
        let severity = match issue.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        println!(
            "  {severity:<7} {:<30} {}\n          {}",
            issue.code.as_str(),
            issue.path,
            issue.message
        );
    }
}

/// `tradehub schema NAME`: prints the JSON Schema of a model type.
pub fn schema(args: SchemaArgs) -> ExitCode {
    let schema = if args.name == "validation_report" {
        Some(
            schemars::generate::SchemaSettings::draft2020_12()
                .into_generator()
                .into_root_schema_for::<Report>()
                .to_value(),
        )
    } else {
        schema_json(&args.name)
    };
    match schema.map(|s| serde_json::to_string_pretty(&s)) {
        Some(Ok(text)) => {
            println!("{text}");
            ExitCode::SUCCESS
        }
        Some(Err(e)) => {
            eprintln!("tradehub schema: cannot encode the schema: {e}");
            ExitCode::from(EXIT_USAGE)
        }
        None => {
            eprintln!(
                "tradehub schema: unknown schema {:?}; known: {}, validation_report",
                args.name,
                SCHEMA_NAMES.join(", ")
            );
            ExitCode::from(EXIT_USAGE)
        }
    }
}
