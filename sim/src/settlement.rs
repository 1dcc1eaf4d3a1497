//! The settlement documents the simulated brokers drop for each declaration customs released:
//! the broker's copy of the declaration, what customs assessed (a DMSTAX-style notification
//! from the REST broker, a CUSRES with TAX/MOA from the EDIFACT broker; imports only) and the
//! broker's invoice CSV. Amounts come from the hub's own tariff engine on the filed shipment,
//! so they agree with the hub's estimate, except for a seeded ~3% of declarations that carry a
//! deliberate duty variance ([`settlement_variance`]).

use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::Arc;

use futures::future::BoxFuture;
use rust_decimal::Decimal;
use serde_json::json;
use sha2::{Digest, Sha256};

use tradehub::finance::inbox::saga_shipment;
use tradehub::model::{Currency, Direction, Shipment};
use tradehub::partners::file_drop::write_atomically;
use tradehub::store::RedisMailbox;
use tradehub::store::lrn_ledger::Ledger;
use tradehub::tariff::duty::{self, TariffBook};

/// Resolves an LRN to the shipment the hub filed under it (e.g. from the saga state).
pub type ShipmentLookup = Arc<dyn Fn(String) -> BoxFuture<'static, Option<Shipment>> + Send + Sync>;

/// A [`ShipmentLookup`] for the broker simulators' `finance_drop`: LRN → saga key through the
/// ledger → the shipment in the saga's state.
pub fn saga_shipments(mailbox: RedisMailbox, partitions: u16) -> ShipmentLookup {
    let ledger = Ledger::of(&mailbox);
    Arc::new(move |lrn: String| {
        let (mailbox, ledger) = (mailbox.clone(), ledger.clone());
        Box::pin(async move {
            let key = ledger.lrn_key(&lrn).await.ok().flatten()?;
            saga_shipment(&mailbox, partitions, &key)
                .await
                .ok()
                .flatten()
        })
    })
}

/// Where and how a simulated broker writes settlement documents.
#[derive(Clone)]
pub struct FinanceDrop {
    /// The finance folder; documents go to `<folder>/<broker>/`.
    pub folder: PathBuf,
    /// The shipment behind an LRN: brokers receive the declaration in their own format only.
    pub shipments: ShipmentLookup,
    /// Tariff tables the assessed duty is computed with.
    pub book: Arc<TariffBook>,
}

impl std::fmt::Debug for FinanceDrop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FinanceDrop")
            .field("folder", &self.folder)
            .finish_non_exhaustive()
    }
}

/// Which broker writes: the format of its assessment and its folder name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BrokerStyle {
    /// `rest-broker`: a DMSTAX-style XML notification.
    Rest,
    /// `edifact-broker`: a CUSRES with TAX/MOA.
    Edifact,
}

impl BrokerStyle {
    /// The partner template name, also the subfolder.
    pub fn partner(self) -> &'static str {
        match self {
            Self::Rest => "rest-broker",
            Self::Edifact => "edifact-broker",
        }
    }
}

/// Share of declarations, in percent, settled with a deliberate variance.
pub const VARIANCE_PERCENT: u64 = 3;

/// The agreed clearance fee every simulated broker charges (`config/reconcile.toml`).
pub const CLEARANCE_FEE: Decimal = Decimal::from_parts(4500, 0, 0, false, 2);

/// Whether declaration `lrn` is settled with a deliberate duty variance under `seed` (about
/// 3% of declarations; the same answer every run), so the demo knows which shipments should
/// end in DUTY_VARIANCE. Exports are never assessed, so only imports show the variance.
pub fn settlement_variance(seed: u64, lrn: &str) -> bool {
    let digest = Sha256::digest(format!("settlement:{seed}:{lrn}").as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(first) % 100 < VARIANCE_PERCENT
}

/// One assessed goods item.
struct Item {
    line: u32,
    hs: String,
    customs_value: Decimal,
    duty: Decimal,
    vat: Decimal,
    vat_base: Decimal,
}

/// The documents for a released declaration: `(file name, bytes)`.
pub fn documents(
    shipment: &Shipment,
    lrn: &str,
    style: BrokerStyle,
    seed: u64,
    book: &TariffBook,
) -> Vec<(String, Vec<u8>)> {
    let copy = json!({ "lrn": lrn, "shipment": shipment });
    let mut out = vec![(
        format!("{lrn}.declaration.json"),
        copy.to_string().into_bytes(),
    )];
    let mrn = crate::broker::mrn_for(lrn);
    let (currency, items) = match (shipment.direction, duty::compute(shipment, book)) {
        (Direction::Import, Ok(estimate)) => {
            let mut items: Vec<Item> = estimate
                .lines
                .iter()
                .map(|l| Item {
                    line: l.line,
                    hs: l.hs_code.to_string(),
                    customs_value: l.customs_value.round_dp(2),
                    duty: l.duty.round_dp(2),
                    vat: l.tax.round_dp(2),
                    vat_base: (l.customs_value + l.duty).round_dp(2),
                })
                .collect();
            if settlement_variance(seed, lrn)
                && let Some(first) = items.first_mut()
            {
                // Customs applied a higher rate: 5% of the value, at least 25.00 more.
                first.duty += (first.customs_value * Decimal::new(5, 2))
                    .round_dp(2)
                    .max(Decimal::new(2500, 2));
            }
            (estimate.currency, items)
        }
        _ => {
            let currency = shipment
                .currency
                .as_ref()
                .and_then(|c| c.valid().copied())
                .or_else(|| {
                    shipment
                        .lines
                        .iter()
                        .find_map(|l| l.value.map(|v| v.currency()))
                })
                .or_else(|| "EUR".parse().ok());
            let Some(currency) = currency else {
                return out;
            };
            (currency, Vec::new())
        }
    };
    if shipment.direction == Direction::Import && !items.is_empty() {
        out.push(match style {
            BrokerStyle::Rest => (
                format!("{lrn}.dmstax.xml"),
                dmstax(lrn, &mrn, currency, &items).into_bytes(),
            ),
            BrokerStyle::Edifact => (
                format!("{lrn}.cusres.edi"),
                cusres(lrn, &mrn, currency, &items).into_bytes(),
            ),
        });
    }
    out.push((
        format!("{lrn}.invoice.csv"),
        invoice(lrn, &mrn, currency, &items).into_bytes(),
    ));
    out
}

fn dmstax(lrn: &str, mrn: &str, currency: Currency, items: &[Item]) -> String {
    let mut goods = String::new();
    for i in items {
        let _ = write!(
            goods,
            "<GovernmentAgencyGoodsItem><SequenceNumeric>{line}</SequenceNumeric><Commodity>\
<DutyTaxFee><AdValoremTaxBaseAmount currencyID=\"{currency}\">{cv}</AdValoremTaxBaseAmount><TypeCode>A00</TypeCode>\
<Payment><TaxAssessedAmount currencyID=\"{currency}\">{duty}</TaxAssessedAmount></Payment></DutyTaxFee>\
<DutyTaxFee><AdValoremTaxBaseAmount currencyID=\"{currency}\">{base}</AdValoremTaxBaseAmount><TypeCode>B00</TypeCode>\
<Payment><TaxAssessedAmount currencyID=\"{currency}\">{vat}</TaxAssessedAmount></Payment></DutyTaxFee>\
</Commodity></GovernmentAgencyGoodsItem>",
            line = i.line,
            cv = i.customs_value,
            duty = i.duty,
            base = i.vat_base,
            vat = i.vat,
        );
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<MetaData><WCODataModelVersionCode>3.6</WCODataModelVersionCode>\
<WCOTypeName>RES</WCOTypeName><Response><FunctionCode>13</FunctionCode><Declaration>\
<FunctionalReferenceID>{lrn}</FunctionalReferenceID><ID>{mrn}</ID><GoodsShipment>{goods}</GoodsShipment>\
</Declaration></Response></MetaData>\n"
    )
}

fn edi_number(v: Decimal) -> String {
    v.to_string().replace('.', ",")
}

fn cusres(lrn: &str, mrn: &str, currency: Currency, items: &[Item]) -> String {
    let mut segments = vec![
        "UNH+1+CUSRES:D:96B:UN".to_owned(),
        format!("BGM+962+{lrn}+29"),
        "GIS+REL".to_owned(),
        format!("RFF+ABE:{lrn}"),
        format!("RFF+ABT:{mrn}"),
    ];
    let duty: Decimal = items.iter().map(|i| i.duty).sum();
    let vat: Decimal = items.iter().map(|i| i.vat).sum();
    segments.push("TAX+3+CUD".into());
    segments.push(format!("MOA+161:{}:{currency}", edi_number(duty)));
    segments.push("TAX+3+VAT".into());
    segments.push(format!("MOA+161:{}:{currency}", edi_number(vat)));
    for i in items {
        segments.push(format!("CST+{}+{}::9", i.line, i.hs));
        segments.push(format!("TAX+1+CUD++{}", edi_number(i.customs_value)));
        segments.push(format!("MOA+161:{}:{currency}", edi_number(i.duty)));
        segments.push(format!("TAX+1+VAT++{}", edi_number(i.vat_base)));
        segments.push(format!("MOA+161:{}:{currency}", edi_number(i.vat)));
    }
    let count = segments.len() + 1;
    let mut text =
        String::from("UNA:+,? '\nUNB+UNOC:4+BROKER01:ZZZ+TRADEHUB:ZZZ+20261127:1400+1'\n");
    for s in &segments {
        text.push_str(s);
        text.push_str("'\n");
    }
    let _ = write!(text, "UNT+{count}+1'\nUNZ+1+1'\n");
    text
}

fn csv_number(v: Decimal) -> String {
    v.to_string().replace('.', ",")
}

fn invoice(lrn: &str, mrn: &str, currency: Currency, items: &[Item]) -> String {
    let number = format!("SIM-{lrn}");
    let mut text = String::from(
        "Invoice No;Invoice Date;LRN;Entry No;Line;Commodity Code;Description;Duty Type;Tax Base;Rate %;Amount;Currency\n",
    );
    for i in items {
        for (kind, base, amount) in [("CUD", i.customs_value, i.duty), ("VAT", i.vat_base, i.vat)] {
            let _ = writeln!(
                text,
                "{number};2026-11-30;{lrn};{mrn};{};{};Goods line {};{kind};{};;{};{currency}",
                i.line,
                i.hs,
                i.line,
                csv_number(base),
                csv_number(amount),
            );
        }
    }
    let _ = writeln!(
        text,
        "{number};2026-11-30;{lrn};{mrn};0;;Clearance fee;FEE;;;{};{currency}",
        csv_number(CLEARANCE_FEE)
    );
    text
}

/// Looks the shipment up and writes the documents of a released declaration into
/// `<folder>/<broker>/`; a failure is logged (the simulator carries on).
pub async fn drop_documents(drop: &FinanceDrop, lrn: &str, style: BrokerStyle, seed: u64) {
    let Some(shipment) = (drop.shipments)(lrn.to_owned()).await else {
        tracing::warn!(
            lrn,
            "simulated broker knows no shipment for the LRN; no settlement documents"
        );
        return;
    };
    let dir = drop.folder.join(style.partner());
    if let Err(e) = std::fs::create_dir_all(&dir) {
        tracing::warn!(dir = %dir.display(), error = %e, "simulated broker cannot make its finance folder");
        return;
    }
    for (name, bytes) in documents(&shipment, lrn, style, seed, &drop.book) {
        if let Err(e) = write_atomically(&dir, &name, &bytes) {
            tracing::warn!(file = name, error = %e, "simulated broker cannot write a settlement document");
        }
    }
}

#[cfg(test)]
mod tests;
