//! Readers of the settlement documents: what customs assessed (EDIFACT CUSRES with TAX/MOA,
//! UK CDS DMSTAX notifications) and what the broker invoiced (the `broker-invoice-csv`
//! template), plus the broker's copy of the declaration it filed.
//!
//! Each reader goes through the project's codecs (EDIFACT, XML, CSV with the template's
//! column map) and returns one [`Settlement`] per declaration the file speaks of. Bad input is
//! a [`ReadError`] naming the file, the place (segment, element path, row) and the field.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::formats::{self, CodecSettings, Limits, Tree, csv, edifact, xml};
use crate::model::{Currency, HsCode, Shipment};
use crate::partners::config::Layout;
use crate::partners::filing;
use crate::tariff::reconcile::{
    AssessedLine, AssessedTotals, Assessment, AssessmentSource, BrokerInvoice, InvoiceItem,
    InvoiceItemKind,
};

/// The template whose CSV settings (delimiter, column names) broker invoices are read with.
pub const INVOICE_TEMPLATE: &str = "broker-invoice-csv";

/// A settlement document was unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {at}: {field}: {reason}")]
pub struct ReadError {
    /// The file name.
    pub file: String,
    /// Where in it: `segment 9 (TAX)`, `Response/Declaration`, `row 3`.
    pub at: String,
    /// The field or element.
    pub field: String,
    /// What is wrong.
    pub reason: String,
}

fn err(
    file: &str,
    at: impl Into<String>,
    field: impl Into<String>,
    reason: impl Into<String>,
) -> ReadError {
    ReadError {
        file: file.to_owned(),
        at: at.into(),
        field: field.into(),
        reason: reason.into(),
    }
}

/// What one document says about one declaration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Settlement {
    /// Duty and tax customs assessed.
    Assessment {
        lrn: String,
        #[serde(default)]
        mrn: Option<String>,
        /// The document it came from (file name and reference), for the audit trail.
        reference: String,
        assessment: Assessment,
    },
    /// The broker's invoice for the declaration.
    Invoice {
        lrn: String,
        #[serde(default)]
        mrn: Option<String>,
        invoice: BrokerInvoice,
    },
    /// The broker's copy of the declaration it filed: `{lrn, shipment, …}` as the hub sent it.
    Declaration {
        lrn: String,
        shipment: Box<Shipment>,
    },
}

impl Settlement {
    /// The declaration's LRN.
    pub fn lrn(&self) -> &str {
        match self {
            Self::Assessment { lrn, .. }
            | Self::Invoice { lrn, .. }
            | Self::Declaration { lrn, .. } => lrn,
        }
    }

    /// `assessment`, `invoice` or `declaration`.
    pub fn slot(&self) -> &'static str {
        match self {
            Self::Assessment { .. } => "assessment",
            Self::Invoice { .. } => "invoice",
            Self::Declaration { .. } => "declaration",
        }
    }
}

/// Reads one file by its name's extension: `.edi` CUSRES, `.xml` DMSTAX, `.csv` broker invoice,
/// `.json` a declaration copy. `broker` names the invoicing broker (the folder's partner).
pub fn read(
    file: &str,
    bytes: &[u8],
    broker: &str,
    layout: &Layout,
) -> Result<Vec<Settlement>, ReadError> {
    let extension = file.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    match extension.as_deref() {
        Some("edi" | "edifact") => read_cusres(file, bytes).map(|s| vec![s]),
        Some("xml") => read_dmstax(file, bytes).map(|s| vec![s]),
        Some("csv") => {
            let settings = invoice_settings(layout)
                .map_err(|reason| err(file, "template", INVOICE_TEMPLATE, reason))?;
            read_invoice_csv(file, bytes, broker, &settings)
        }
        Some("json") => read_declaration(file, bytes).map(|s| vec![s]),
        _ => Err(err(
            file,
            "file name",
            "extension",
            "expected .edi (CUSRES), .xml (DMSTAX), .csv (broker invoice) or .json (declaration copy)",
        )),
    }
}

/// [`read`], off the async workers when the file is large (see [`formats::off_worker`]).
pub async fn read_off_worker(
    file: &str,
    bytes: &[u8],
    broker: &str,
    layout: &Layout,
) -> Result<Vec<Settlement>, ReadError> {
    let (file, bytes, broker, layout) = (
        file.to_owned(),
        bytes.to_vec(),
        broker.to_owned(),
        layout.clone(),
    );
    formats::off_worker(bytes.len(), move || read(&file, &bytes, &broker, &layout)).await
}

/// The CSV settings of the broker-invoice template.
pub fn invoice_settings(layout: &Layout) -> Result<csv::Settings, String> {
    let codec = filing::with_template(layout, INVOICE_TEMPLATE, |p| p.template.codec.clone())
        .map_err(|e| e.to_string())?;
    match codec {
        CodecSettings::Csv(settings) => Ok(settings),
        other => Err(format!(
            "the template's codec is {:?}, not csv",
            other.format()
        )),
    }
}

fn decimal(file: &str, at: &str, field: &str, text: Option<&str>) -> Result<Decimal, ReadError> {
    let text = text
        .filter(|t| !t.is_empty())
        .ok_or_else(|| err(file, at, field, "missing"))?;
    edifact::parse_decimal(text.trim())
        .ok_or_else(|| err(file, at, field, format!("{text:?} is not a decimal number")))
}

fn currency(file: &str, at: &str, field: &str, text: Option<&str>) -> Result<Currency, ReadError> {
    let text = text
        .filter(|t| !t.is_empty())
        .ok_or_else(|| err(file, at, field, "missing"))?;
    text.parse().map_err(|_| {
        err(
            file,
            at,
            field,
            format!("{text:?} is not an ISO 4217 currency"),
        )
    })
}

/// Keeps the one currency a document uses; a second one is an error.
fn same_currency(
    file: &str,
    at: &str,
    field: &str,
    seen: &mut Option<Currency>,
    c: Currency,
) -> Result<(), ReadError> {
    match seen {
        Some(first) if *first != c => Err(err(
            file,
            at,
            field,
            format!("{c} where the document used {first}; one currency per declaration"),
        )),
        _ => {
            *seen = Some(c);
            Ok(())
        }
    }
}

/// Duty or tax: VAT/GST are taxes, every other duty type (customs duty, additional and
/// anti-dumping duties, excise) counts as duty, as the estimate counts them.
fn is_tax(code: &str) -> bool {
    matches!(code, "VAT" | "GST") || code.starts_with('B')
}

fn line_entry(lines: &mut BTreeMap<u32, AssessedLine>, line: u32) -> &mut AssessedLine {
    lines.entry(line).or_insert_with(|| AssessedLine {
        line,
        hs_code: None,
        preference: None,
        quantity: None,
        customs_value: None,
        duty: Decimal::ZERO,
        tax: Decimal::ZERO,
    })
}

/// Reads an EDIFACT CUSRES (D96B, our broker MIG v1): the LRN from `RFF+ABE` (or `BGM`), the
/// MRN from `RFF+ABT`; per goods item (`CST+<line>+<HS>`) its `TAX+1+<type>+++<basis>` with
/// `MOA+161:<amount>:<currency>`; declaration totals from `TAX+3+<type>` with `MOA+161`.
pub fn read_cusres(file: &str, bytes: &[u8]) -> Result<Settlement, ReadError> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        err(
            file,
            format!("byte {}", e.valid_up_to()),
            "interchange",
            "not UTF-8 text",
        )
    })?;
    let doc = edifact::parse(text, &Limits::default())
        .map_err(|e| err(file, "interchange", "syntax", e.to_string()))?;
    let mut lrn = None;
    let mut bgm = None;
    let mut mrn = None;
    let mut message = None;
    let mut lines: BTreeMap<u32, AssessedLine> = BTreeMap::new();
    let mut totals: Option<AssessedTotals> = None;
    let mut seen_currency = None;
    let mut item: Option<u32> = None;
    // The TAX segment the next MOA belongs to: (function qualifier, type, basis).
    let mut tax: Option<(String, String, Option<Decimal>)> = None;
    for seg in doc.segments() {
        let at = format!("segment {} ({})", seg.number(), seg.tag());
        match seg.tag() {
            "UNH" => message = seg.get(2, 0).map(str::to_owned),
            "BGM" => bgm = seg.get(2, 0).filter(|s| !s.is_empty()).map(str::to_owned),
            "RFF" => match seg.get(1, 0) {
                Some("ABE") => lrn = seg.get(1, 1).map(str::to_owned),
                Some("ABT") => mrn = seg.get(1, 1).map(str::to_owned),
                _ => {}
            },
            "CST" => {
                let n = seg.get(1, 0).unwrap_or_default();
                let line: u32 = n.parse().map_err(|_| {
                    err(
                        file,
                        &at,
                        "goods item number (1496)",
                        format!("{n:?} is not a number"),
                    )
                })?;
                let hs = match seg.get(2, 0).filter(|c| !c.is_empty()) {
                    Some(code) => Some(code.parse::<HsCode>().map_err(|e| {
                        err(file, &at, "commodity code (C246)", format!("{code:?}: {e}"))
                    })?),
                    None => None,
                };
                line_entry(&mut lines, line).hs_code = hs;
                item = Some(line);
                tax = None;
            }
            "TAX" => {
                let qualifier = seg.get(1, 0).unwrap_or_default().to_owned();
                let kind = seg.get(2, 0).unwrap_or_default().to_owned();
                if kind.is_empty() {
                    return Err(err(file, &at, "duty/tax type (5153)", "missing"));
                }
                let basis = match seg.get(4, 0).filter(|b| !b.is_empty()) {
                    Some(b) => Some(decimal(file, &at, "assessment basis (5286)", Some(b))?),
                    None => None,
                };
                tax = Some((qualifier, kind, basis));
            }
            "MOA" => {
                let Some((qualifier, kind, basis)) = tax.clone() else {
                    continue;
                };
                if seg.get(1, 0) != Some("161") {
                    continue;
                }
                let amount = decimal(file, &at, "amount (5004)", seg.get(1, 1))?;
                let c = currency(file, &at, "currency (6345)", seg.get(1, 2))?;
                same_currency(file, &at, "currency (6345)", &mut seen_currency, c)?;
                match (qualifier.as_str(), item) {
                    ("1", Some(line)) => {
                        let entry = line_entry(&mut lines, line);
                        if is_tax(&kind) {
                            entry.tax += amount;
                        } else {
                            entry.duty += amount;
                            if kind == "CUD" {
                                entry.customs_value = basis.or(entry.customs_value);
                            }
                        }
                    }
                    ("1", None) => {
                        return Err(err(
                            file,
                            &at,
                            "TAX function qualifier (5283)",
                            "item duty (1) before any CST goods item",
                        ));
                    }
                    ("3", _) => {
                        let t = totals.get_or_insert(AssessedTotals {
                            duty: Decimal::ZERO,
                            tax: Decimal::ZERO,
                        });
                        if is_tax(&kind) {
                            t.tax += amount;
                        } else {
                            t.duty += amount;
                        }
                    }
                    (other, _) => {
                        return Err(err(
                            file,
                            &at,
                            "TAX function qualifier (5283)",
                            format!("{other:?}: expected 1 (item) or 3 (total)"),
                        ));
                    }
                }
            }
            _ => {}
        }
    }
    if message.as_deref() != Some("CUSRES") {
        return Err(err(
            file,
            "UNH",
            "message type (0065)",
            format!(
                "{:?}: only CUSRES carries an assessment",
                message.unwrap_or_default()
            ),
        ));
    }
    let lrn = lrn.or(bgm).ok_or_else(|| {
        err(
            file,
            "RFF+ABE / BGM",
            "LRN",
            "the CUSRES names no declaration",
        )
    })?;
    let currency = seen_currency.ok_or_else(|| {
        err(
            file,
            "TAX/MOA",
            "MOA+161",
            "the CUSRES assesses no duty or tax",
        )
    })?;
    let lines: Vec<AssessedLine> = lines.into_values().collect();
    if let (Some(t), false) = (totals, lines.is_empty()) {
        let duty: Decimal = lines.iter().map(|l| l.duty).sum();
        let tax: Decimal = lines.iter().map(|l| l.tax).sum();
        if duty != t.duty || tax != t.tax {
            return Err(err(
                file,
                "TAX+3",
                "declaration totals",
                format!(
                    "duty {} and tax {} differ from the items' {duty} and {tax}",
                    t.duty, t.tax
                ),
            ));
        }
    }
    Ok(Settlement::Assessment {
        reference: format!("CUSRES {file}"),
        lrn,
        mrn,
        assessment: Assessment {
            source: AssessmentSource::Cusres,
            currency,
            value_basis: None,
            fx: Vec::new(),
            lines,
            totals,
        },
    })
}

/// The child `name` of a tree map, ignoring namespace prefixes (`ns2:Response`).
fn child<'t>(tree: &'t Tree, name: &str) -> Option<&'t Tree> {
    match tree {
        Tree::Map(entries) => entries
            .iter()
            .find(|(k, _)| k.rsplit(':').next() == Some(name))
            .map(|(_, v)| v),
        _ => None,
    }
}

/// One or several repetitions of an element as a list.
fn many(tree: Option<&Tree>) -> Vec<&Tree> {
    match tree {
        None => Vec::new(),
        Some(Tree::List(items)) => items.iter().collect(),
        Some(one) => vec![one],
    }
}

fn text(tree: Option<&Tree>) -> Option<&str> {
    match tree? {
        Tree::Text(s) | Tree::Number(s) => Some(s.as_str()),
        map @ Tree::Map(_) => child(map, "#text").and_then(Tree::as_str),
        _ => None,
    }
}

/// An amount element with its `currencyID` attribute.
fn amount_of(
    file: &str,
    at: &str,
    field: &str,
    tree: Option<&Tree>,
) -> Result<(Decimal, Option<Currency>), ReadError> {
    let value = decimal(file, at, field, text(tree))?;
    let c = match tree
        .and_then(|t| child(t, "@currencyID"))
        .and_then(Tree::as_str)
    {
        Some(code) => Some(currency(
            file,
            at,
            &format!("{field}@currencyID"),
            Some(code),
        )?),
        None => None,
    };
    Ok((value, c))
}

/// Reads a UK CDS DMSTAX notification (function code 13): the LRN from
/// `Declaration/FunctionalReferenceID`, the MRN from `Declaration/ID`, and per goods item
/// (`SequenceNumeric`, our line number) each `DutyTaxFee`: type `A..` duty (A00 customs duty,
/// its base the customs value), `B..` VAT, amount `Payment/TaxAssessedAmount`.
pub fn read_dmstax(file: &str, bytes: &[u8]) -> Result<Settlement, ReadError> {
    let tree = xml::parse(bytes, &Limits::default())
        .map_err(|e| err(file, "document", "XML", e.to_string()))?;
    let root = child(&tree, "MetaData")
        .ok_or_else(|| err(file, "/", "MetaData", "not a CDS notification"))?;
    let response = many(child(root, "Response"))
        .into_iter()
        .find(|r| text(child(r, "FunctionCode")) == Some("13"))
        .ok_or_else(|| {
            err(
                file,
                "MetaData/Response",
                "FunctionCode",
                "no response with function code 13 (DMSTAX)",
            )
        })?;
    let declaration = child(response, "Declaration")
        .ok_or_else(|| err(file, "Response", "Declaration", "missing"))?;
    let lrn = text(child(declaration, "FunctionalReferenceID"))
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            err(
                file,
                "Response/Declaration",
                "FunctionalReferenceID",
                "missing: the LRN",
            )
        })?
        .to_owned();
    let mrn = text(child(declaration, "ID")).map(str::to_owned);
    let items = many(
        child(declaration, "GoodsShipment").and_then(|g| child(g, "GovernmentAgencyGoodsItem")),
    );
    if items.is_empty() {
        return Err(err(
            file,
            "Response/Declaration/GoodsShipment",
            "GovernmentAgencyGoodsItem",
            "no goods items",
        ));
    }
    let mut lines: BTreeMap<u32, AssessedLine> = BTreeMap::new();
    let mut seen_currency = None;
    for (i, item) in items.iter().enumerate() {
        let at = format!("GovernmentAgencyGoodsItem[{}]", i + 1);
        let seq = text(child(item, "SequenceNumeric")).unwrap_or_default();
        let line: u32 = seq.parse().map_err(|_| {
            err(
                file,
                &at,
                "SequenceNumeric",
                format!("{seq:?} is not a number"),
            )
        })?;
        let fees = many(child(item, "Commodity").and_then(|c| child(c, "DutyTaxFee")));
        for (j, fee) in fees.iter().enumerate() {
            let at = format!("{at}/DutyTaxFee[{}]", j + 1);
            let code = text(child(fee, "TypeCode"))
                .filter(|c| !c.is_empty())
                .ok_or_else(|| err(file, &at, "TypeCode", "missing"))?;
            let (amount, c) = amount_of(
                file,
                &at,
                "Payment/TaxAssessedAmount",
                child(fee, "Payment").and_then(|p| child(p, "TaxAssessedAmount")),
            )?;
            let c =
                c.ok_or_else(|| err(file, &at, "Payment/TaxAssessedAmount@currencyID", "missing"))?;
            same_currency(file, &at, "currencyID", &mut seen_currency, c)?;
            let entry = line_entry(&mut lines, line);
            if is_tax(code) {
                entry.tax += amount;
            } else {
                entry.duty += amount;
                if code == "A00"
                    && let Some(base) = child(fee, "AdValoremTaxBaseAmount")
                {
                    entry.customs_value =
                        Some(amount_of(file, &at, "AdValoremTaxBaseAmount", Some(base))?.0);
                }
            }
        }
    }
    let currency = seen_currency.ok_or_else(|| {
        err(
            file,
            "Response/Declaration/GoodsShipment",
            "DutyTaxFee",
            "no duty or tax assessed",
        )
    })?;
    Ok(Settlement::Assessment {
        reference: format!("DMSTAX {file}"),
        lrn,
        mrn,
        assessment: Assessment {
            source: AssessmentSource::Dmstax,
            currency,
            value_basis: None,
            fx: Vec::new(),
            lines: lines.into_values().collect(),
            totals: None,
        },
    })
}

/// Reads a broker invoice / duty statement in the `broker-invoice-csv` template's layout (one
/// row per duty, tax or fee; `Duty Type` CUD and other duties, VAT, or FEE), one invoice per
/// LRN. A fee's code is its `Description`: the template has no fee-code column.
pub fn read_invoice_csv(
    file: &str,
    bytes: &[u8],
    broker: &str,
    settings: &csv::Settings,
) -> Result<Vec<Settlement>, ReadError> {
    let tree = csv::parse(bytes, settings).map_err(|e| err(file, "file", "CSV", e.to_string()))?;
    let rows = child(&tree, "rows")
        .and_then(Tree::as_list)
        .unwrap_or_default();
    if rows.is_empty() {
        return Err(err(file, "file", "rows", "the invoice has no rows"));
    }
    struct Draft {
        number: String,
        mrn: Option<String>,
        currency: Currency,
        items: Vec<InvoiceItem>,
    }
    let mut by_lrn: BTreeMap<String, Draft> = BTreeMap::new();
    for (i, row) in rows.iter().enumerate() {
        // Line 1 is the header.
        let at = format!("row {} (line {})", i + 1, i + 2);
        let field = |name: &str| {
            text(child(row, name))
                .map(str::trim)
                .filter(|s| !s.is_empty())
        };
        let required = |name: &str| field(name).ok_or_else(|| err(file, &at, name, "missing"));
        let number = required("invoice_number")?;
        let lrn = required("lrn")?;
        let duty_type = required("duty_type")?;
        let amount = decimal(file, &at, "amount", field("amount"))?;
        let c = currency(file, &at, "currency", field("currency"))?;
        let description = field("description").unwrap_or(duty_type).to_owned();
        let (kind, code) = match duty_type {
            "FEE" => (InvoiceItemKind::Fee, Some(description.clone())),
            t if is_tax(t) => (InvoiceItemKind::Tax, None),
            _ => (InvoiceItemKind::Duty, None),
        };
        let draft = by_lrn.entry(lrn.to_owned()).or_insert_with(|| Draft {
            number: number.to_owned(),
            mrn: field("entry_number").map(str::to_owned),
            currency: c,
            items: Vec::new(),
        });
        if draft.number != number {
            return Err(err(
                file,
                &at,
                "invoice_number",
                format!("{number} where earlier rows of {lrn} say {}", draft.number),
            ));
        }
        if draft.currency != c {
            return Err(err(
                file,
                &at,
                "currency",
                format!("{c} where earlier rows of {lrn} are in {}", draft.currency),
            ));
        }
        let what = match kind {
            InvoiceItemKind::Duty | InvoiceItemKind::Tax => format!("{duty_type} advanced"),
            InvoiceItemKind::Fee => description.clone(),
        };
        let line = field("line").filter(|l| *l != "0");
        draft.items.push(InvoiceItem {
            kind,
            code,
            description: match (kind, line) {
                (InvoiceItemKind::Fee, _) | (_, None) => what,
                (_, Some(l)) => format!("{what}, line {l}"),
            },
            amount,
        });
    }
    Ok(by_lrn
        .into_iter()
        .map(|(lrn, d)| Settlement::Invoice {
            lrn,
            mrn: d.mrn,
            invoice: BrokerInvoice {
                broker: broker.to_owned(),
                number: d.number,
                currency: d.currency,
                items: d.items,
            },
        })
        .collect())
}

/// Reads the broker's copy of a filed declaration: the `customs.file` body `{lrn, shipment, …}`.
pub fn read_declaration(file: &str, bytes: &[u8]) -> Result<Settlement, ReadError> {
    #[derive(Deserialize)]
    struct Copy {
        lrn: String,
        shipment: Box<Shipment>,
    }
    let copy: Copy = serde_json::from_slice(bytes).map_err(|e| {
        err(
            file,
            format!("line {} column {}", e.line(), e.column()),
            "declaration copy",
            e.to_string(),
        )
    })?;
    Ok(Settlement::Declaration {
        lrn: copy.lrn,
        shipment: copy.shipment,
    })
}

#[cfg(test)]
mod tests;
