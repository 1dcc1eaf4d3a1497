//! The tariff book: per-jurisdiction settings, duty rate tables and exchange rates, read from
//! `config/tariffs/` (see its README.md for the columns).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::rate::Rate;
use crate::model::{CountryCode, Currency, Date, HsCode, TransportMode};

/// Why the tariff book could not be loaded; names the file and, for CSV rows, the line.
#[derive(Debug, thiserror::Error)]
pub enum TableError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{file}: {source}")]
    Toml {
        file: String,
        source: Box<toml::de::Error>,
    },
    #[error("{file}: {source}")]
    Csv { file: String, source: csv::Error },
    #[error("{file} line {line}: {reason}")]
    Row {
        file: String,
        line: u64,
        reason: String,
    },
    #[error("{file}: {reason}")]
    Invalid { file: String, reason: String },
}

/// Whether freight and insurance to the border are part of the customs value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ValueBasis {
    /// Cost, insurance and freight to the border (EU, UK, China, Japan).
    Cif,
    /// Free on board at export: international freight and insurance excluded (US, Canada,
    /// Australia).
    Fob,
}

/// Which date's exchange rate converts foreign amounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FxDate {
    /// The shipment (declaration) date.
    Shipment,
    /// The date of exportation (departure), falling back to the shipment date (US CBP rule).
    Departure,
}

/// How amounts are rounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoundingMode {
    HalfUp,
    HalfEven,
    Down,
}

/// Whether each line's charges are rounded before summing, or only the totals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoundingPer {
    Line,
    Total,
}

/// The rounding rule of a jurisdiction; recorded in every result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rounding {
    pub scale: u32,
    pub mode: RoundingMode,
    pub per: RoundingPer,
}

impl Rounding {
    /// Rounds an amount by this rule.
    pub fn apply(&self, v: Decimal) -> Decimal {
        use rust_decimal::RoundingStrategy as S;
        let strategy = match self.mode {
            RoundingMode::HalfUp => S::MidpointAwayFromZero,
            RoundingMode::HalfEven => S::MidpointNearestEven,
            RoundingMode::Down => S::ToZero,
        };
        let mut r = v.round_dp_with_strategy(self.scale, strategy);
        // Amounts print with the jurisdiction's decimals ("9660.00", not "9660.0").
        if r.scale() < self.scale {
            r.rescale(self.scale);
        }
        r
    }
}

/// A de minimis threshold in force from a date: goods of an intrinsic value at or below it pay no
/// duty (and, when `tax` is set, no import tax at the border).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeMinimis {
    pub valid_from: Date,
    /// Duty threshold; absent means duty from the first unit of currency.
    #[serde(default, with = "rust_decimal::serde::str_option")]
    pub duty: Option<Decimal>,
    /// Import-tax threshold; absent means tax from the first unit of currency.
    #[serde(default, with = "rust_decimal::serde::str_option")]
    pub tax: Option<Decimal>,
}

/// A fee charged per entry as a percentage of the customs value, within bounds.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fee {
    pub name: String,
    #[serde(with = "rust_decimal::serde::str")]
    pub rate_pct: Decimal,
    #[serde(default, with = "rust_decimal::serde::str_option")]
    pub min: Option<Decimal>,
    #[serde(default, with = "rust_decimal::serde::str_option")]
    pub max: Option<Decimal>,
    /// Only for these transport modes (empty: all).
    #[serde(default)]
    pub modes: Vec<TransportMode>,
    pub valid_from: Date,
    #[serde(default)]
    pub valid_to: Option<Date>,
}

/// One importing jurisdiction's rules, as written in `jurisdictions.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JurisdictionConfig {
    /// Key used in results, e.g. "EU", "GB", "US".
    pub id: String,
    /// Destination countries whose imports this jurisdiction's tariff governs.
    pub countries: Vec<CountryCode>,
    pub currency: Currency,
    pub value_basis: ValueBasis,
    pub fx_date: FxDate,
    pub rounding: Rounding,
    /// Rate table file, relative to the tariff folder.
    pub rates: String,
    /// Import VAT/GST percentage per destination country (absent: no import tax).
    #[serde(default)]
    pub vat_pct: BTreeMap<CountryCode, String>,
    /// Whether import VAT is recovered as input tax (then it is a receivable, not landed cost).
    #[serde(default)]
    pub vat_recoverable: bool,
    #[serde(default)]
    pub de_minimis: Vec<DeMinimis>,
    #[serde(default, rename = "fee")]
    pub fees: Vec<Fee>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct JurisdictionsFile {
    #[serde(rename = "jurisdiction")]
    jurisdictions: Vec<JurisdictionConfig>,
}

/// What a rate row is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    /// Most-favoured-nation (third-country) duty.
    Mfn,
    /// Preferential duty for goods of listed origins with a claim.
    Preferential,
    /// Stacks on top (anti-dumping, countervailing, Section 301/232-style).
    Additional,
}

/// One row of a rate table.
#[derive(Debug, Clone)]
pub struct RateRow {
    /// The leading digits of the codes the row applies to, as a number, and how many there are
    /// (2 to 10).
    pub prefix: u64,
    pub prefix_len: usize,
    /// The codes the prefix covers, as 10-digit numbers: `range.0 <= code < range.1`.
    range: (u64, u64),
    pub measure: Measure,
    /// Empty: any origin.
    pub origins: Vec<CountryCode>,
    pub rate: Rate,
    pub proof_required: bool,
    pub valid_from: Option<Date>,
    pub valid_to: Option<Date>,
    pub description: Arc<str>,
    /// The table file, for the working.
    pub table: Arc<str>,
    /// 1-based line in the CSV, for the working.
    pub line: u64,
}

impl RateRow {
    fn applies(&self, code: HsCode, code10: u64, origin: Option<CountryCode>, date: Date) -> bool {
        (self.range.0..self.range.1).contains(&code10)
            && code.digit_count() >= self.prefix_len
            && (self.origins.is_empty() || origin.is_some_and(|o| self.origins.contains(&o)))
            && self.valid_from.is_none_or(|f| f <= date)
            && self.valid_to.is_none_or(|t| date <= t)
    }
}

/// A table's identity for the working: file name and content digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TableVersion {
    pub file: String,
    pub sha256: String,
}

fn version_of(file: &str, bytes: &[u8]) -> TableVersion {
    TableVersion {
        file: file.to_owned(),
        sha256: hex::encode(Sha256::digest(bytes)),
    }
}

/// A jurisdiction with its parsed rate table.
#[derive(Debug, Clone)]
pub struct Jurisdiction {
    pub config: JurisdictionConfig,
    pub vat_pct: BTreeMap<CountryCode, Decimal>,
    pub rows: Vec<RateRow>,
    pub table: TableVersion,
}

impl Jurisdiction {
    /// The rows of a measure applying to a code, origin and date, in table order.
    pub fn matching(
        &self,
        measure: Measure,
        code: HsCode,
        origin: Option<CountryCode>,
        date: Date,
    ) -> impl Iterator<Item = &RateRow> {
        let code10 = code.leading(code.digit_count()).unwrap_or(0)
            * 10u64.pow(10 - code.digit_count() as u32);
        self.rows
            .iter()
            .filter(move |r| r.measure == measure && r.applies(code, code10, origin, date))
    }

    /// The applicable row of a measure with the longest prefix (the first in the table on a tie).
    pub fn best(
        &self,
        measure: Measure,
        code: HsCode,
        origin: Option<CountryCode>,
        date: Date,
    ) -> Option<&RateRow> {
        self.matching(measure, code, origin, date).fold(
            None,
            |best: Option<&RateRow>, r| match best {
                Some(b) if b.prefix_len >= r.prefix_len => Some(b),
                _ => Some(r),
            },
        )
    }

    /// The de minimis rule in force on a date.
    pub fn de_minimis_on(&self, date: Date) -> Option<&DeMinimis> {
        self.config
            .de_minimis
            .iter()
            .filter(|d| d.valid_from <= date)
            .max_by_key(|d| d.valid_from)
    }
}

/// One exchange rate: 1 `from` = `rate` `to`, from `date` until the next row of the pair.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FxRate {
    pub date: Date,
    pub from: Currency,
    pub to: Currency,
    #[serde(with = "rust_decimal::serde::str")]
    pub rate: Decimal,
}

/// Dated exchange rates.
#[derive(Debug, Clone, Default)]
pub struct FxTable {
    rates: Vec<FxRate>,
    pub version: Option<TableVersion>,
}

impl FxTable {
    /// A table from rows (any order).
    pub fn new(mut rates: Vec<FxRate>) -> Self {
        rates.sort_by_key(|r| (r.from, r.to, r.date));
        Self {
            rates,
            version: None,
        }
    }

    /// The rate in force on `date` for `from` → `to`: the latest row dated on or before it; the
    /// inverse row is used when only the opposite direction is listed.
    pub fn lookup(&self, from: Currency, to: Currency, date: Date) -> Option<FxRate> {
        if from == to {
            return Some(FxRate {
                date,
                from,
                to,
                rate: Decimal::ONE,
            });
        }
        let latest = |f: Currency, t: Currency| {
            self.rates
                .iter()
                .filter(|r| r.from == f && r.to == t && r.date <= date)
                .max_by_key(|r| r.date)
        };
        if let Some(r) = latest(from, to) {
            return Some(r.clone());
        }
        latest(to, from)
            .filter(|r| !r.rate.is_zero())
            .map(|r| FxRate {
                date: r.date,
                from,
                to,
                rate: Decimal::ONE / r.rate,
            })
    }
}

/// Everything the duty engine reads: jurisdictions with their rate tables, and FX rates.
#[derive(Debug, Clone)]
pub struct TariffBook {
    pub jurisdictions: Vec<Jurisdiction>,
    pub fx: FxTable,
    pub config_version: TableVersion,
}

/// The tariff folder shipped with the project.
pub fn default_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("config/tariffs")
}

fn read(dir: &Path, rel: &str) -> Result<Vec<u8>, TableError> {
    let path = dir.join(rel);
    std::fs::read(&path).map_err(|source| TableError::Io { path, source })
}

fn csv_reader(bytes: &[u8]) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .comment(Some(b'#'))
        .trim(csv::Trim::All)
        .from_reader(bytes)
}

impl TariffBook {
    /// Loads `jurisdictions.toml`, the rate tables it names, and `fx.csv` from a folder.
    pub fn load(dir: &Path) -> Result<Self, TableError> {
        const CONFIG: &str = "jurisdictions.toml";
        let bytes = read(dir, CONFIG)?;
        let text = String::from_utf8_lossy(&bytes);
        let file: JurisdictionsFile = toml::from_str(&text).map_err(|source| TableError::Toml {
            file: CONFIG.into(),
            source: Box::new(source),
        })?;
        let mut jurisdictions = Vec::new();
        for config in file.jurisdictions {
            let table_bytes = read(dir, &config.rates)?;
            let rows = parse_rates(&config.rates, &table_bytes)?;
            let mut vat_pct = BTreeMap::new();
            for (country, pct) in &config.vat_pct {
                let v = Decimal::from_str_exact(pct).map_err(|_| TableError::Invalid {
                    file: CONFIG.into(),
                    reason: format!(
                        "jurisdiction {}: VAT {pct:?} for {country} is not a decimal",
                        config.id
                    ),
                })?;
                vat_pct.insert(*country, v);
            }
            jurisdictions.push(Jurisdiction {
                table: version_of(&config.rates, &table_bytes),
                config,
                vat_pct,
                rows,
            });
        }
        const FX: &str = "fx.csv";
        let fx_bytes = read(dir, FX)?;
        let mut fx = FxTable::new(parse_fx(FX, &fx_bytes)?);
        fx.version = Some(version_of(FX, &fx_bytes));
        Ok(Self {
            jurisdictions,
            fx,
            config_version: version_of(CONFIG, &bytes),
        })
    }

    /// The jurisdiction whose tariff governs imports into `country`.
    pub fn for_country(&self, country: CountryCode) -> Option<&Jurisdiction> {
        self.jurisdictions
            .iter()
            .find(|j| j.config.countries.contains(&country))
    }
}

fn parse_rates(file: &str, bytes: &[u8]) -> Result<Vec<RateRow>, TableError> {
    let table: Arc<str> = file.into();
    let mut reader = csv_reader(bytes);
    let headers = reader
        .headers()
        .map_err(|source| TableError::Csv {
            file: file.into(),
            source,
        })?
        .clone();
    const COLUMNS: [&str; 8] = [
        "prefix",
        "measure",
        "origin",
        "rate",
        "proof_required",
        "valid_from",
        "valid_to",
        "description",
    ];
    let idx: Vec<usize> = COLUMNS
        .iter()
        .map(|c| {
            headers
                .iter()
                .position(|h| h == *c)
                .ok_or_else(|| TableError::Invalid {
                    file: file.into(),
                    reason: format!("no column {c:?} in the header"),
                })
        })
        .collect::<Result<_, _>>()?;
    let mut rows = Vec::new();
    for rec in reader.records() {
        let rec = rec.map_err(|source| TableError::Csv {
            file: file.into(),
            source,
        })?;
        let line = rec.position().map_or(0, |p| p.line());
        let get = |i: usize| rec.get(idx[i]).unwrap_or("");
        let bad = |reason: String| TableError::Row {
            file: file.into(),
            line,
            reason,
        };
        let prefix_text = get(0);
        if !prefix_text.bytes().all(|b| b.is_ascii_digit())
            || !(2..=10).contains(&prefix_text.len())
        {
            return Err(bad(format!("prefix {prefix_text:?} is not 2 to 10 digits")));
        }
        let prefix: u64 = prefix_text
            .parse()
            .map_err(|_| bad(format!("prefix {prefix_text:?} is not a number")))?;
        let prefix_len = prefix_text.len();
        let width = 10u64.pow(10 - prefix_len as u32);
        let range = (prefix * width, (prefix + 1) * width);
        let measure = match get(1) {
            "mfn" => Measure::Mfn,
            "preferential" => Measure::Preferential,
            "additional" => Measure::Additional,
            other => {
                return Err(bad(format!(
                    "measure {other:?} is not mfn, preferential or additional"
                )));
            }
        };
        let origins = get(2)
            .split(';')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| s.parse::<CountryCode>().map_err(|e| bad(e.to_string())))
            .collect::<Result<Vec<_>, _>>()?;
        if measure == Measure::Preferential && origins.is_empty() {
            return Err(bad("a preferential rate needs the origins it is for".into()));
        }
        let rate: Rate = get(3)
            .parse()
            .map_err(|e: super::rate::RateError| bad(e.to_string()))?;
        let proof_required = match get(4) {
            "" | "false" | "no" => false,
            "true" | "yes" => true,
            other => {
                return Err(bad(format!(
                    "proof_required {other:?} is not true or false"
                )));
            }
        };
        let date = |i: usize| -> Result<Option<Date>, TableError> {
            let t = get(i);
            if t.is_empty() {
                Ok(None)
            } else {
                t.parse()
                    .map(Some)
                    .map_err(|e: crate::model::ModelError| bad(e.to_string()))
            }
        };
        rows.push(RateRow {
            prefix,
            prefix_len,
            range,
            measure,
            origins,
            rate,
            proof_required,
            valid_from: date(5)?,
            valid_to: date(6)?,
            description: get(7).into(),
            table: table.clone(),
            line,
        });
    }
    Ok(rows)
}

fn parse_fx(file: &str, bytes: &[u8]) -> Result<Vec<FxRate>, TableError> {
    let mut reader = csv_reader(bytes);
    let mut out = Vec::new();
    for rec in reader.records() {
        let rec = rec.map_err(|source| TableError::Csv {
            file: file.into(),
            source,
        })?;
        let line = rec.position().map_or(0, |p| p.line());
        let bad = |reason: String| TableError::Row {
            file: file.into(),
            line,
            reason,
        };
        let field = |i: usize| rec.get(i).unwrap_or("");
        let rate = Decimal::from_str_exact(field(3))
            .map_err(|_| bad(format!("rate {:?} is not a decimal", field(3))))?;
        if rate <= Decimal::ZERO {
            return Err(bad("rate must be positive".into()));
        }
        out.push(FxRate {
            date: field(0)
                .parse()
                .map_err(|e: crate::model::ModelError| bad(e.to_string()))?,
            from: field(1)
                .parse()
                .map_err(|e: crate::model::ModelError| bad(e.to_string()))?,
            to: field(2)
                .parse()
                .map_err(|e: crate::model::ModelError| bad(e.to_string()))?,
            rate,
        });
    }
    Ok(out)
}
