//! Code newtypes. Each checks the form of its code on construction and stores it in a few bytes,
//! so that a 50-line shipment validates without touching the heap.

use std::fmt;
use std::str::FromStr;

use super::ModelError;
use super::text::string_codec;

/// A Harmonized System code: the 6-digit WCO subheading, optionally extended by a national
/// tariff to 8 (EU CN, US HTS) or 10 digits (TARIC, UK commodity code, US statistical suffix).
///
/// Parsing accepts dots and spaces between digit groups ("8471.30.00") because that is how codes
/// are printed on invoices; the canonical form has digits only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HsCode {
    digits: u64,
    len: u8,
}

impl HsCode {
    /// The 6-digit HS subheading, e.g. 847130 for "8471300000".
    pub fn subheading(self) -> u32 {
        // Bounded: at most 10 digits, so the quotient fits six digits.
        (self.digits / 10u64.pow(u32::from(self.len) - 6)) as u32
    }

    /// The 4-digit heading.
    pub fn heading(self) -> u16 {
        (self.subheading() / 100) as u16
    }

    /// The 2-digit chapter.
    pub fn chapter(self) -> u8 {
        (self.subheading() / 10_000) as u8
    }

    /// Number of digits: 6, 8 or 10.
    pub fn digit_count(self) -> usize {
        usize::from(self.len)
    }

    /// True when the code carries a national extension beyond the six HS digits.
    pub fn is_national(self) -> bool {
        self.len > 6
    }

    /// Whether `other` starts with this code's digits (used for prefix-keyed tariff tables).
    pub fn is_prefix_of(self, other: HsCode) -> bool {
        other.leading(self.digit_count()) == Some(self.digits)
    }

    /// The first `n` digits as a number (`None` when the code is shorter than `n`), so that
    /// prefixes of any length compare without formatting the code.
    pub fn leading(self, n: usize) -> Option<u64> {
        let n = u8::try_from(n).ok().filter(|n| *n <= self.len)?;
        Some(self.digits / 10u64.pow(u32::from(self.len - n)))
    }
}

impl FromStr for HsCode {
    type Err = ModelError;

    fn from_str(s: &str) -> Result<Self, ModelError> {
        let mut digits = 0u64;
        let mut len = 0u8;
        let mut last_was_digit = false;
        for b in s.trim().bytes() {
            match b {
                b'0'..=b'9' => {
                    if len == 10 {
                        return Err(ModelError::HsCode(s.to_owned()));
                    }
                    digits = digits * 10 + u64::from(b - b'0');
                    len += 1;
                    last_was_digit = true;
                }
                b'.' | b' ' if last_was_digit => last_was_digit = false,
                _ => return Err(ModelError::HsCode(s.to_owned())),
            }
        }
        if !last_was_digit || !matches!(len, 6 | 8 | 10) {
            return Err(ModelError::HsCode(s.to_owned()));
        }
        Ok(Self { digits, len })
    }
}

impl fmt::Display for HsCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:0width$}", self.digits, width = usize::from(self.len))
    }
}

string_codec!(HsCode, "HsCode", "an HS code of 6, 8 or 10 digits", {
    "type": "string",
    "description": "HS 6-digit subheading, optionally extended to 8 or 10 digits by a national tariff",
    "pattern": "^[0-9]{6}([0-9]{2}){0,2}$",
    "examples": ["847130", "8471300000"]
});

fn upper_letters<const N: usize>(s: &str) -> Option<[u8; N]> {
    let b = s.as_bytes();
    if b.len() != N {
        return None;
    }
    let mut out = [0u8; N];
    for (o, c) in out.iter_mut().zip(b) {
        if !c.is_ascii_alphabetic() {
            return None;
        }
        *o = c.to_ascii_uppercase();
    }
    Some(out)
}

fn ascii(bytes: &[u8]) -> &str {
    // Only ever built from validated ASCII.
    std::str::from_utf8(bytes).unwrap_or("")
}

/// An ISO 3166-1 alpha-2 country code. Lower case input is upper-cased.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CountryCode([u8; 2]);

impl CountryCode {
    /// The code as text, e.g. "DE".
    pub fn as_str(&self) -> &str {
        ascii(&self.0)
    }

    /// Index 0..676 of the code in a dense table of all two-letter combinations.
    pub fn index(self) -> usize {
        usize::from(self.0[0] - b'A') * 26 + usize::from(self.0[1] - b'A')
    }
}

impl FromStr for CountryCode {
    type Err = ModelError;

    fn from_str(s: &str) -> Result<Self, ModelError> {
        upper_letters(s)
            .map(Self)
            .ok_or_else(|| ModelError::CountryCode(s.to_owned()))
    }
}

impl fmt::Display for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

string_codec!(CountryCode, "CountryCode", "an ISO 3166-1 alpha-2 country code", {
    "type": "string",
    "description": "ISO 3166-1 alpha-2 country code",
    "pattern": "^[A-Z]{2}$"
});

/// Where a classification applies: a country's national tariff (ISO alpha-2), the EU's common
/// tariff ("EU"), or the bare 6-digit WCO nomenclature ("WCO").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Jurisdiction {
    Wco,
    Eu,
    Country(CountryCode),
}

/// EU member states (since 1 February 2020), whose imports and exports the EU's common tariff
/// governs.
const EU_MEMBERS: [CountryCode; 27] = [
    CountryCode(*b"AT"),
    CountryCode(*b"BE"),
    CountryCode(*b"BG"),
    CountryCode(*b"CY"),
    CountryCode(*b"CZ"),
    CountryCode(*b"DE"),
    CountryCode(*b"DK"),
    CountryCode(*b"EE"),
    CountryCode(*b"ES"),
    CountryCode(*b"FI"),
    CountryCode(*b"FR"),
    CountryCode(*b"GR"),
    CountryCode(*b"HR"),
    CountryCode(*b"HU"),
    CountryCode(*b"IE"),
    CountryCode(*b"IT"),
    CountryCode(*b"LT"),
    CountryCode(*b"LU"),
    CountryCode(*b"LV"),
    CountryCode(*b"MT"),
    CountryCode(*b"NL"),
    CountryCode(*b"PL"),
    CountryCode(*b"PT"),
    CountryCode(*b"RO"),
    CountryCode(*b"SE"),
    CountryCode(*b"SI"),
    CountryCode(*b"SK"),
];

impl Jurisdiction {
    /// Whether goods crossing the border of `country` are classified under this jurisdiction's
    /// tariff: the country's own, or the EU's for a member state. The bare WCO code covers no
    /// country in particular; it is the fallback.
    pub fn covers(self, country: CountryCode) -> bool {
        match self {
            Jurisdiction::Wco => false,
            Jurisdiction::Eu => EU_MEMBERS.contains(&country),
            Jurisdiction::Country(c) => c == country,
        }
    }
}

impl FromStr for Jurisdiction {
    type Err = ModelError;

    fn from_str(s: &str) -> Result<Self, ModelError> {
        match s.to_ascii_uppercase().as_str() {
            "WCO" => Ok(Self::Wco),
            "EU" => Ok(Self::Eu),
            _ => s
                .parse()
                .map(Self::Country)
                .map_err(|_| ModelError::Jurisdiction(s.to_owned())),
        }
    }
}

impl fmt::Display for Jurisdiction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Wco => f.write_str("WCO"),
            Self::Eu => f.write_str("EU"),
            Self::Country(c) => c.fmt(f),
        }
    }
}

string_codec!(Jurisdiction, "Jurisdiction", "\"WCO\", \"EU\" or an ISO 3166-1 alpha-2 code", {
    "type": "string",
    "description": "WCO (bare HS), EU (Combined Nomenclature / TARIC) or a country's national tariff",
    "pattern": "^(WCO|[A-Z]{2})$"
});

/// An ISO 4217 alphabetic currency code. Lower case input is upper-cased.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency([u8; 3]);

impl Currency {
    /// The code as text, e.g. "EUR".
    pub fn as_str(&self) -> &str {
        ascii(&self.0)
    }

    /// Index 0..17,576 of the code in a dense table of all three-letter combinations.
    pub fn index(self) -> usize {
        self.0
            .iter()
            .fold(0, |acc, &c| acc * 26 + usize::from(c - b'A'))
    }
}

impl FromStr for Currency {
    type Err = ModelError;

    fn from_str(s: &str) -> Result<Self, ModelError> {
        upper_letters(s)
            .map(Self)
            .ok_or_else(|| ModelError::Currency(s.to_owned()))
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

string_codec!(Currency, "Currency", "an ISO 4217 currency code", {
    "type": "string",
    "description": "ISO 4217 alphabetic currency code",
    "pattern": "^[A-Z]{3}$"
});

/// A UN/LOCODE: ISO country code plus a 3-character location code of letters and digits. The
/// standard reserves digits 2-9, but published lists contain a few codes with 0 and 1 ("DEB90"),
/// so any digit is accepted. The printed form "DE HAM" (with a space) is accepted too; the
/// canonical form has none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UnLocode([u8; 5]);

impl UnLocode {
    /// The code as text, e.g. "DEHAM".
    pub fn as_str(&self) -> &str {
        ascii(&self.0)
    }

    /// The country part.
    pub fn country(self) -> CountryCode {
        CountryCode([self.0[0], self.0[1]])
    }

    /// A dense 32-bit key (base 36 per character) for compact sorted tables.
    pub fn key(self) -> u32 {
        self.0.iter().fold(0u32, |acc, &c| {
            let v = if c.is_ascii_digit() {
                c - b'0'
            } else {
                c - b'A' + 10
            };
            acc * 36 + u32::from(v)
        })
    }
}

impl FromStr for UnLocode {
    type Err = ModelError;

    fn from_str(s: &str) -> Result<Self, ModelError> {
        let err = || ModelError::UnLocode(s.to_owned());
        let compact: Vec<u8> = match s.as_bytes() {
            [a, b, b' ', rest @ ..] if rest.len() == 3 => {
                [*a, *b].into_iter().chain(rest.iter().copied()).collect()
            }
            b if b.len() == 5 => b.to_vec(),
            _ => return Err(err()),
        };
        let mut out = [0u8; 5];
        for (i, (o, c)) in out.iter_mut().zip(&compact).enumerate() {
            let c = c.to_ascii_uppercase();
            let ok = c.is_ascii_uppercase() || (i >= 2 && c.is_ascii_digit());
            if !ok {
                return Err(err());
            }
            *o = c;
        }
        Ok(Self(out))
    }
}

impl fmt::Display for UnLocode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

string_codec!(UnLocode, "UnLocode", "a UN/LOCODE such as \"DEHAM\"", {
    "type": "string",
    "description": "UN/LOCODE: ISO country code and a 3-character location code",
    "pattern": "^[A-Z]{2}[A-Z0-9]{3}$"
});

/// The 11 rules of Incoterms 2020.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Incoterm {
    Exw,
    Fca,
    Fas,
    Fob,
    Cfr,
    Cif,
    Cpt,
    Cip,
    Dpu,
    Dap,
    Ddp,
}

impl Incoterm {
    /// All rules in the order the ICC lists them.
    pub const ALL: [Incoterm; 11] = [
        Self::Exw,
        Self::Fca,
        Self::Fas,
        Self::Fob,
        Self::Cfr,
        Self::Cif,
        Self::Cpt,
        Self::Cip,
        Self::Dpu,
        Self::Dap,
        Self::Ddp,
    ];

    /// The three-letter code.
    pub fn code(self) -> &'static str {
        match self {
            Self::Exw => "EXW",
            Self::Fca => "FCA",
            Self::Fas => "FAS",
            Self::Fob => "FOB",
            Self::Cfr => "CFR",
            Self::Cif => "CIF",
            Self::Cpt => "CPT",
            Self::Cip => "CIP",
            Self::Dpu => "DPU",
            Self::Dap => "DAP",
            Self::Ddp => "DDP",
        }
    }

    /// FAS, FOB, CFR and CIF are meant for sea and inland waterway transport only.
    pub fn is_maritime_only(self) -> bool {
        matches!(self, Self::Fas | Self::Fob | Self::Cfr | Self::Cif)
    }

    /// Whether the seller pays the main carriage to the destination (the C and D rules).
    pub fn seller_pays_main_carriage(self) -> bool {
        matches!(
            self,
            Self::Cfr | Self::Cif | Self::Cpt | Self::Cip | Self::Dpu | Self::Dap | Self::Ddp
        )
    }

    /// Whether the seller must insure the goods in transit (CIF and CIP).
    pub fn seller_insures(self) -> bool {
        matches!(self, Self::Cif | Self::Cip)
    }
}

impl FromStr for Incoterm {
    type Err = ModelError;

    fn from_str(s: &str) -> Result<Self, ModelError> {
        let upper = s.trim().to_ascii_uppercase();
        if let Some(rule) = Self::ALL.into_iter().find(|r| r.code() == upper) {
            return Ok(rule);
        }
        match upper.as_str() {
            "DAT" => Err(ModelError::IncotermWithdrawn(s.to_owned(), "DPU")),
            "DAF" | "DES" | "DDU" => Err(ModelError::IncotermWithdrawn(s.to_owned(), "DAP")),
            "DEQ" => Err(ModelError::IncotermWithdrawn(s.to_owned(), "DPU")),
            _ => Err(ModelError::Incoterm(s.to_owned())),
        }
    }
}

impl fmt::Display for Incoterm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

string_codec!(Incoterm, "Incoterm", "an Incoterms 2020 rule", {
    "type": "string",
    "description": "Incoterms 2020 rule",
    "enum": ["EXW", "FCA", "FAS", "FOB", "CFR", "CIF", "CPT", "CIP", "DPU", "DAP", "DDP"]
});
