//! Reference data the hub ships with, parsed once into compact lookup tables.
//!
//! Membership tests are what validation does millions of times, so codes are mapped to dense
//! integers and kept in bit sets or sorted integer arrays rather than hash maps of strings:
//! an HS subheading is one bit in a 125 KB set, a currency one byte in a 17,576-entry table.

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use crate::model::{CountryCode, Currency, HsCode, Incoterm, UnLocode};

/// Paths of the data files inside a reference data folder (the layout of the project's `data/`).
pub const HS_FILE: &str = "hs2022/harmonized-system.csv";
/// ISO 3166 country table.
pub const COUNTRIES_FILE: &str = "countries/country-codes.csv";
/// ISO 4217 currency table.
pub const CURRENCIES_FILE: &str = "currencies/codes-all.csv";
/// Incoterms 2020 as Odoo ships them.
pub const INCOTERMS_FILE: &str = "incoterms/odoo_account_incoterms_data.xml";
/// UN/LOCODE name-to-code list.
pub const LOCODE_FILE: &str = "un_locode/locations_2015_name_to_locode.csv";

/// The HS edition the bundled nomenclature holds; recorded with every validation result.
pub const HS_EDITION: &str = "HS 2022";

/// Why reference data could not be loaded. Each variant names the file and, where it applies,
/// the line.
#[derive(Debug, thiserror::Error)]
pub enum ReferenceError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{file}: {source}")]
    Csv {
        file: &'static str,
        source: csv::Error,
    },
    #[error("{file}: no column {column:?} in the header")]
    MissingColumn {
        file: &'static str,
        column: &'static str,
    },
    #[error("{file} line {line}: {reason}")]
    BadRow {
        file: &'static str,
        line: u64,
        reason: String,
    },
    #[error("{file}: {reason}")]
    Incoterms { file: &'static str, reason: String },
}

struct BitSet(Vec<u64>);

impl BitSet {
    fn new(bits: usize) -> Self {
        Self(vec![0; bits.div_ceil(64)])
    }

    fn insert(&mut self, i: usize) -> bool {
        let (w, b) = (i / 64, 1u64 << (i % 64));
        let fresh = self.0[w] & b == 0;
        self.0[w] |= b;
        fresh
    }

    fn contains(&self, i: usize) -> bool {
        self.0
            .get(i / 64)
            .is_some_and(|w| w & (1u64 << (i % 64)) != 0)
    }
}

/// Whether a currency code is in use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CurrencyStatus {
    /// In use; `minor_units` is the number of decimals (absent for funds and metals).
    Active {
        minor_units: Option<u8>,
    },
    /// Listed by ISO 4217 only with a withdrawal date.
    Withdrawn,
    Unknown,
}

const CURRENCY_UNKNOWN: u8 = 0;
const CURRENCY_WITHDRAWN: u8 = 1;
const CURRENCY_ACTIVE_NO_MINOR: u8 = 2;
// Active with n minor units is stored as CURRENCY_ACTIVE_BASE + n.
const CURRENCY_ACTIVE_BASE: u8 = 3;

/// The bundled reference data, loaded.
pub struct ReferenceData {
    subheadings: BitSet,
    headings: BitSet,
    chapters: BitSet,
    /// (level, code) -> description, sorted for binary search.
    hs_descriptions: Vec<((u8, u32), Box<str>)>,
    subheading_count: usize,
    heading_count: usize,
    chapter_count: usize,
    countries: Vec<Option<Box<str>>>,
    currencies: Vec<u8>,
    incoterm_names: Vec<(Incoterm, Box<str>)>,
    locodes: Vec<u32>,
}

/// The raw bytes of each reference file.
struct Sources<'a> {
    hs: &'a [u8],
    countries: &'a [u8],
    currencies: &'a [u8],
    incoterms: &'a [u8],
    locodes: &'a [u8],
}

static BUNDLED: LazyLock<ReferenceData> = LazyLock::new(|| {
    let sources = Sources {
        hs: include_bytes!("../../data/hs2022/harmonized-system.csv"),
        countries: include_bytes!("../../data/countries/country-codes.csv"),
        currencies: include_bytes!("../../data/currencies/codes-all.csv"),
        incoterms: include_bytes!("../../data/incoterms/odoo_account_incoterms_data.xml"),
        locodes: include_bytes!("../../data/un_locode/locations_2015_name_to_locode.csv"),
    };
    // The bundled files are fixed at build time and checked by the test suite, so a failure
    // here is a defect in the build, not an operational condition.
    ReferenceData::parse(&sources)
        .unwrap_or_else(|e| panic!("bundled reference data is corrupt: {e}"))
});

impl ReferenceData {
    /// The reference data compiled into the binary, parsed on first use and then shared by the
    /// whole process.
    pub fn bundled() -> &'static ReferenceData {
        &BUNDLED
    }

    /// Loads reference data from a folder with the layout of the project's `data/` (use it to
    /// run with newer lists than the bundled ones).
    pub fn load(dir: &Path) -> Result<Self, ReferenceError> {
        let read = |rel: &str| {
            let path = dir.join(rel);
            std::fs::read(&path).map_err(|source| ReferenceError::Io { path, source })
        };
        let (hs, countries, currencies, incoterms, locodes) = (
            read(HS_FILE)?,
            read(COUNTRIES_FILE)?,
            read(CURRENCIES_FILE)?,
            read(INCOTERMS_FILE)?,
            read(LOCODE_FILE)?,
        );
        Self::parse(&Sources {
            hs: &hs,
            countries: &countries,
            currencies: &currencies,
            incoterms: &incoterms,
            locodes: &locodes,
        })
    }

    fn parse(s: &Sources<'_>) -> Result<Self, ReferenceError> {
        let mut data = Self {
            subheadings: BitSet::new(1_000_000),
            headings: BitSet::new(10_000),
            chapters: BitSet::new(100),
            hs_descriptions: Vec::with_capacity(7_000),
            subheading_count: 0,
            heading_count: 0,
            chapter_count: 0,
            countries: vec![None; 26 * 26],
            currencies: vec![CURRENCY_UNKNOWN; 26 * 26 * 26],
            incoterm_names: Vec::with_capacity(11),
            locodes: Vec::with_capacity(82_000),
        };
        data.parse_hs(s.hs)?;
        data.parse_countries(s.countries)?;
        data.parse_currencies(s.currencies)?;
        data.parse_incoterms(s.incoterms)?;
        data.parse_locodes(s.locodes)?;
        Ok(data)
    }

    fn parse_hs(&mut self, bytes: &[u8]) -> Result<(), ReferenceError> {
        const FILE: &str = HS_FILE;
        let mut rows = Table::open(FILE, bytes, &["hscode", "description", "level"])?;
        while let Some((line, rec)) = rows.next()? {
            let (code, description, level) = (rec.get(0), rec.get(1), rec.get(2));
            if code == "TOTAL" {
                continue;
            }
            let bad = |reason: String| ReferenceError::BadRow {
                file: FILE,
                line,
                reason,
            };
            let n: u32 = code
                .parse()
                .ok()
                .filter(|_| code.bytes().all(|b| b.is_ascii_digit()))
                .ok_or_else(|| bad(format!("HS code {code:?} is not numeric")))?;
            let level: u8 = match (level, code.len()) {
                ("2", 2) => 2,
                ("4", 4) => 4,
                ("6", 6) => 6,
                _ => return Err(bad(format!("code {code:?} does not match level {level:?}"))),
            };
            let fresh = match level {
                2 => self.chapters.insert(n as usize),
                4 => self.headings.insert(n as usize),
                _ => self.subheadings.insert(n as usize),
            };
            if !fresh {
                return Err(bad(format!("HS code {code} listed twice")));
            }
            match level {
                2 => self.chapter_count += 1,
                4 => self.heading_count += 1,
                _ => self.subheading_count += 1,
            }
            self.hs_descriptions.push(((level, n), description.into()));
        }
        self.hs_descriptions.sort_unstable_by_key(|(k, _)| *k);
        Ok(())
    }

    fn parse_countries(&mut self, bytes: &[u8]) -> Result<(), ReferenceError> {
        const FILE: &str = COUNTRIES_FILE;
        let mut rows = Table::open(
            FILE,
            bytes,
            &["ISO3166-1-Alpha-2", "CLDR display name", "official_name_en"],
        )?;
        while let Some((line, rec)) = rows.next()? {
            let code: CountryCode = rec.get(0).parse().map_err(|e| ReferenceError::BadRow {
                file: FILE,
                line,
                reason: format!("{e}"),
            })?;
            let name = [rec.get(1), rec.get(2)]
                .into_iter()
                .find(|n| !n.trim().is_empty())
                .unwrap_or(code.as_str());
            self.countries[code.index()] = Some(name.into());
        }
        Ok(())
    }

    fn parse_currencies(&mut self, bytes: &[u8]) -> Result<(), ReferenceError> {
        const FILE: &str = CURRENCIES_FILE;
        let mut rows = Table::open(
            FILE,
            bytes,
            &["AlphabeticCode", "MinorUnit", "WithdrawalDate"],
        )?;
        while let Some((line, rec)) = rows.next()? {
            let text = rec.get(0);
            if text.is_empty() {
                // Territories with no universal currency (Antarctica, ...).
                continue;
            }
            let code: Currency = text.parse().map_err(|e| ReferenceError::BadRow {
                file: FILE,
                line,
                reason: format!("{e}"),
            })?;
            let slot = &mut self.currencies[code.index()];
            let status = if !rec.get(2).is_empty() {
                CURRENCY_WITHDRAWN
            } else {
                match rec.get(1).parse::<u8>() {
                    Ok(n) if n < 10 => CURRENCY_ACTIVE_BASE + n,
                    _ => CURRENCY_ACTIVE_NO_MINOR,
                }
            };
            // A code listed as withdrawn for one country can still be current in another (ZWL).
            if *slot < CURRENCY_ACTIVE_NO_MINOR {
                *slot = status;
            }
        }
        Ok(())
    }

    fn parse_incoterms(&mut self, bytes: &[u8]) -> Result<(), ReferenceError> {
        const FILE: &str = INCOTERMS_FILE;
        let bad = |reason: String| ReferenceError::Incoterms { file: FILE, reason };
        let mut reader = quick_xml::Reader::from_reader(bytes);
        let mut field: Option<Vec<u8>> = None;
        let (mut code, mut name) = (None::<String>, None::<String>);
        loop {
            use quick_xml::events::Event;
            match reader.read_event().map_err(|e| bad(e.to_string()))? {
                Event::Start(e) if e.name().as_ref() == b"field" => {
                    let attr = e
                        .try_get_attribute("name")
                        .map_err(|e| bad(e.to_string()))?
                        .map(|a| a.value.into_owned());
                    field = attr;
                }
                Event::Text(t) => {
                    let text = t
                        .decode()
                        .map_err(|e| bad(e.to_string()))?
                        .trim()
                        .to_owned();
                    match field.as_deref() {
                        Some(b"code") => code = Some(text),
                        Some(b"name") => name = Some(text),
                        _ => {}
                    }
                }
                Event::End(e) if e.name().as_ref() == b"field" => field = None,
                Event::End(e) if e.name().as_ref() == b"record" => {
                    let c = code
                        .take()
                        .ok_or_else(|| bad("a record has no code".into()))?;
                    let rule: Incoterm = c.parse().map_err(|e| bad(format!("{e}")))?;
                    let n = name.take().unwrap_or_default();
                    self.incoterm_names.push((rule, n.into()));
                }
                Event::Eof => break,
                _ => {}
            }
        }
        for rule in Incoterm::ALL {
            if !self.incoterm_names.iter().any(|(r, _)| *r == rule) {
                return Err(bad(format!("rule {rule} is missing")));
            }
        }
        Ok(())
    }

    fn parse_locodes(&mut self, bytes: &[u8]) -> Result<(), ReferenceError> {
        const FILE: &str = LOCODE_FILE;
        let mut rows = Table::open(FILE, bytes, &["unlocode"])?;
        while let Some((line, rec)) = rows.next()? {
            let code: UnLocode = rec.get(0).parse().map_err(|e| ReferenceError::BadRow {
                file: FILE,
                line,
                reason: format!("{e}"),
            })?;
            self.locodes.push(code.key());
        }
        self.locodes.sort_unstable();
        self.locodes.dedup();
        self.locodes.shrink_to_fit();
        Ok(())
    }

    /// The HS edition of the nomenclature, e.g. "HS 2022".
    pub fn hs_edition(&self) -> &'static str {
        HS_EDITION
    }

    /// Whether the code's first six digits are a subheading of the nomenclature.
    pub fn has_subheading(&self, code: HsCode) -> bool {
        self.subheadings.contains(code.subheading() as usize)
    }

    /// Whether `code` (4 digits) is a heading of the nomenclature.
    pub fn has_heading(&self, heading: u16) -> bool {
        self.headings.contains(usize::from(heading))
    }

    /// Whether `chapter` (2 digits) is a chapter of the nomenclature.
    pub fn has_chapter(&self, chapter: u8) -> bool {
        self.chapters.contains(usize::from(chapter))
    }

    /// The description of a chapter (2 digits), heading (4) or subheading (6); `digits` says which.
    pub fn hs_description(&self, digits: u8, code: u32) -> Option<&str> {
        self.hs_descriptions
            .binary_search_by_key(&(digits, code), |(k, _)| *k)
            .ok()
            .map(|i| &*self.hs_descriptions[i].1)
    }

    /// Number of 6-digit subheadings.
    pub fn subheading_count(&self) -> usize {
        self.subheading_count
    }

    /// Number of 4-digit headings.
    pub fn heading_count(&self) -> usize {
        self.heading_count
    }

    /// Number of chapters.
    pub fn chapter_count(&self) -> usize {
        self.chapter_count
    }

    /// The country's English short name, when the code is assigned.
    pub fn country_name(&self, code: CountryCode) -> Option<&str> {
        self.countries[code.index()].as_deref()
    }

    /// Number of assigned country codes.
    pub fn country_count(&self) -> usize {
        self.countries.iter().filter(|c| c.is_some()).count()
    }

    /// Whether the currency is in use, withdrawn or unknown.
    pub fn currency_status(&self, code: Currency) -> CurrencyStatus {
        match self.currencies[code.index()] {
            CURRENCY_UNKNOWN => CurrencyStatus::Unknown,
            CURRENCY_WITHDRAWN => CurrencyStatus::Withdrawn,
            CURRENCY_ACTIVE_NO_MINOR => CurrencyStatus::Active { minor_units: None },
            n => CurrencyStatus::Active {
                minor_units: Some(n - CURRENCY_ACTIVE_BASE),
            },
        }
    }

    /// The name Odoo gives the rule ("COST, INSURANCE AND FREIGHT").
    pub fn incoterm_name(&self, rule: Incoterm) -> Option<&str> {
        self.incoterm_names
            .iter()
            .find(|(r, _)| *r == rule)
            .map(|(_, n)| &**n)
    }

    /// Whether the UN/LOCODE is in the bundled list (which is incomplete: see data/un_locode).
    pub fn has_locode(&self, code: UnLocode) -> bool {
        self.locodes.binary_search(&code.key()).is_ok()
    }

    /// Number of distinct UN/LOCODEs loaded.
    pub fn locode_count(&self) -> usize {
        self.locodes.len()
    }
}

/// A CSV file read by column name, reporting 1-based line numbers.
struct Table<'a> {
    file: &'static str,
    reader: csv::Reader<&'a [u8]>,
    columns: Vec<usize>,
    record: csv::StringRecord,
    picked: Picked,
}

/// The wanted columns of the current row, in the order they were asked for.
struct Picked(Vec<String>);

impl Picked {
    fn get(&self, i: usize) -> &str {
        &self.0[i]
    }
}

impl<'a> Table<'a> {
    fn open(
        file: &'static str,
        bytes: &'a [u8],
        wanted: &[&'static str],
    ) -> Result<Self, ReferenceError> {
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(bytes);
        let headers = reader
            .headers()
            .map_err(|source| ReferenceError::Csv { file, source })?
            .clone();
        let columns = wanted
            .iter()
            .map(|w| {
                headers
                    .iter()
                    .position(|h| h == *w)
                    .ok_or(ReferenceError::MissingColumn { file, column: w })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            file,
            reader,
            picked: Picked(vec![String::new(); columns.len()]),
            columns,
            record: csv::StringRecord::new(),
        })
    }

    fn next(&mut self) -> Result<Option<(u64, &Picked)>, ReferenceError> {
        let more = self
            .reader
            .read_record(&mut self.record)
            .map_err(|source| ReferenceError::Csv {
                file: self.file,
                source,
            })?;
        if !more {
            return Ok(None);
        }
        let line = self.record.position().map_or(0, |p| p.line());
        for (slot, &col) in self.picked.0.iter_mut().zip(&self.columns) {
            slot.clear();
            slot.push_str(self.record.get(col).unwrap_or(""));
        }
        Ok(Some((line, &self.picked)))
    }
}

#[cfg(test)]
mod tests;
