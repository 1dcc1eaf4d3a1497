use std::str::FromStr;

use rust_decimal::Decimal;

use super::*;
use crate::model::{Quantity, Shipment, Unit};
use crate::tariff::duty::{TariffBook, compute, default_dir};

const FIXTURE: &str =
    include_str!("../../../tests/fixtures/shipments/valid_import_jp_gb_air_preference.json");

fn d(v: &str) -> Decimal {
    Decimal::from_str(v).unwrap()
}

fn shipment() -> Shipment {
    serde_json::from_str(FIXTURE).unwrap()
}

fn estimate(s: &Shipment) -> DutyResult {
    compute(s, &TariffBook::load(&default_dir()).unwrap()).unwrap()
}

/// What customs would assess if it agreed with us: our estimate of the fixture, rounded to pence.
fn assessment() -> Assessment {
    Assessment {
        source: AssessmentSource::Dmstax,
        currency: "GBP".parse().unwrap(),
        value_basis: Some(ValueBasis::Cif),
        fx: vec![AssessedFx {
            from: "JPY".parse().unwrap(),
            rate: d("0.005290"),
            date: "2026-11-25".parse().unwrap(),
        }],
        lines: vec![
            AssessedLine {
                line: 10,
                hs_code: Some("9018908490".parse().unwrap()),
                preference: Some(true),
                quantity: Some(Quantity::new(d("4"), Unit::Piece).unwrap()),
                customs_value: Some(d("28989.20")),
                duty: d("0"),
                tax: d("5797.84"),
            },
            AssessedLine {
                line: 20,
                hs_code: Some("850760".parse().unwrap()),
                preference: Some(false),
                quantity: None,
                customs_value: Some(d("3385.60")),
                duty: d("91.41"),
                tax: d("695.40"),
            },
        ],
        totals: None,
    }
}

fn item(kind: InvoiceItemKind, code: Option<&str>, description: &str, amount: &str) -> InvoiceItem {
    InvoiceItem {
        kind,
        code: code.map(str::to_owned),
        description: description.into(),
        amount: d(amount),
    }
}

/// Duty 91.41 and VAT 6,493.24 advanced, clearance 45.00, disbursement fee 2% of 6,584.65 =
/// 131.69.
fn invoice() -> BrokerInvoice {
    BrokerInvoice {
        broker: "Thames Customs Brokers".into(),
        number: "TCB-5521".into(),
        currency: "GBP".parse().unwrap(),
        items: vec![
            item(InvoiceItemKind::Duty, None, "Import duty advanced", "91.41"),
            item(InvoiceItemKind::Tax, None, "Import VAT advanced", "6493.24"),
            item(
                InvoiceItemKind::Fee,
                Some("CLEARANCE"),
                "Customs clearance",
                "45.00",
            ),
            item(
                InvoiceItemKind::Fee,
                Some("DISB"),
                "Disbursement fee",
                "131.69",
            ),
        ],
    }
}

fn fees() -> Vec<AgreedFee> {
    vec![
        AgreedFee {
            code: "CLEARANCE".into(),
            fixed: Some(d("45.00")),
            pct_of_disbursements: None,
            min: None,
        },
        AgreedFee {
            code: "DISB".into(),
            fixed: None,
            pct_of_disbursements: Some(d("2")),
            min: Some(d("15")),
        },
    ]
}

const TOLERANCE: Tolerance = Tolerance {
    absolute: Decimal::ONE,
    percent: Decimal::from_parts(5, 0, 0, false, 1),
};

fn run(
    mutate: impl FnOnce(&mut Shipment, &mut Assessment, &mut BrokerInvoice, &mut Vec<AgreedFee>),
) -> Reconciliation {
    let (mut s, mut a, mut inv, mut f) = (shipment(), assessment(), invoice(), fees());
    mutate(&mut s, &mut a, &mut inv, &mut f);
    let e = estimate(&s);
    reconcile(
        &ReconcileInput {
            shipment: &s,
            estimate: &e,
            assessed: &a,
            invoice: &inv,
            fees: &f,
        },
        TOLERANCE,
    )
}

fn kinds(r: &Reconciliation) -> Vec<VarianceKind> {
    r.variances.iter().map(|v| v.kind).collect()
}

#[test]
fn agreeing_three_way_posts_bill_and_landed_cost() {
    let r = run(|_, _, _, _| {});
    assert!(r.reconciled, "{:?}", r.variances);
    let p = r.posting.expect("posting");
    assert_eq!(p.vendor_bill.len(), 4);
    assert_eq!(p.recoverable_vat, d("6493.24"));
    // 91.41 duty + 45.00 + 131.69 fees; VAT is recoverable.
    assert_eq!(p.landed_cost, d("268.10"));
}

#[test]
fn each_kind_of_variance_is_flagged() {
    use VarianceKind as V;
    type Mutation = fn(&mut Shipment, &mut Assessment, &mut BrokerInvoice, &mut Vec<AgreedFee>);
    let cases: Vec<(&str, Mutation, Vec<VarianceKind>)> = vec![
        (
            "invoice in another currency",
            |_, _, inv, _| inv.currency = "EUR".parse().unwrap(),
            vec![V::Currency],
        ),
        (
            "valued FOB",
            |_, a, _, _| a.value_basis = Some(ValueBasis::Fob),
            vec![V::ValueBasis],
        ),
        (
            "other FX rate",
            |_, a, _, _| a.fx[0].rate = d("0.005300"),
            vec![V::FxRate],
        ),
        (
            "FX of another date",
            |_, a, _, _| a.fx[0].date = "2026-11-24".parse().unwrap(),
            vec![V::FxDate],
        ),
        (
            "line not assessed",
            |_, a, inv, _| {
                a.lines.retain(|l| l.line != 20);
                inv.items[0].amount = d("0");
                inv.items[1].amount = d("5797.84");
                inv.items[3].amount = d("115.96");
            },
            vec![V::LineMissing],
        ),
        (
            "line we did not declare",
            |_, a, _, _| {
                let mut extra = a.lines[1].clone();
                extra.line = 30;
                extra.duty = d("0");
                extra.tax = d("0");
                a.lines.push(extra);
            },
            vec![V::UnexpectedLine],
        ),
        (
            "reclassified",
            |_, a, _, _| a.lines[1].hs_code = Some("850780".parse().unwrap()),
            vec![V::HsCode],
        ),
        (
            "preference denied",
            |_, a, _, _| a.lines[0].preference = Some(false),
            vec![V::Preference],
        ),
        (
            "supplementary quantity differs",
            |_, a, _, _| a.lines[0].quantity = Some(Quantity::new(d("5"), Unit::Piece).unwrap()),
            vec![V::Quantity],
        ),
        (
            "duty beyond tolerance, invoiced as assessed",
            |_, a, inv, _| {
                a.lines[1].duty = d("120.00");
                inv.items[0].amount = d("120.00");
                inv.items[3].amount = d("132.26");
            },
            vec![V::Duty],
        ),
        (
            "tax beyond tolerance",
            |_, a, inv, _| {
                a.lines[0].tax = d("5900.00");
                inv.items[1].amount = d("6595.40");
                inv.items[3].amount = d("133.74");
            },
            vec![V::Tax],
        ),
        (
            "customs value beyond tolerance",
            |_, a, _, _| a.lines[0].customs_value = Some(d("30000")),
            vec![V::CustomsValue],
        ),
        (
            "broker advanced more than assessed",
            |_, _, inv, _| {
                inv.items[0].amount = d("95.00");
                inv.items[3].amount = d("131.76");
            },
            vec![V::Disbursement],
        ),
        (
            "fee not in the agreed table",
            |_, _, inv, _| {
                inv.items.push(item(
                    InvoiceItemKind::Fee,
                    Some("STORAGE"),
                    "Storage",
                    "30.00",
                ))
            },
            vec![V::Fee],
        ),
        (
            "fee above the agreed amount",
            |_, _, inv, _| inv.items[2].amount = d("50.00"),
            vec![V::Fee],
        ),
    ];
    for (name, mutate, want) in cases {
        let r = run(mutate);
        assert!(!r.reconciled, "{name}");
        assert!(r.posting.is_none(), "{name}");
        assert_eq!(kinds(&r), want, "{name}: {:?}", r.variances);
        assert!(r.variances.iter().all(|v| !v.message.is_empty()), "{name}");
    }
}

#[test]
fn differences_within_tolerance_reconcile() {
    // 0.49 on 91.41 is within the 1.00 absolute allowance.
    let r = run(|_, a, inv, _| {
        a.lines[1].duty = d("91.90");
        inv.items[0].amount = d("91.90");
        inv.items[3].amount = d("131.70");
    });
    assert!(r.reconciled, "{:?}", r.variances);
}

#[test]
fn batch_keeps_one_result_per_declaration() {
    let s = shipment();
    let e = estimate(&s);
    let (a, inv, f) = (assessment(), invoice(), fees());
    let mut wrong = invoice();
    wrong.items[2].amount = d("60.00");
    let inputs = [
        ReconcileInput {
            shipment: &s,
            estimate: &e,
            assessed: &a,
            invoice: &inv,
            fees: &f,
        },
        ReconcileInput {
            shipment: &s,
            estimate: &e,
            assessed: &a,
            invoice: &wrong,
            fees: &f,
        },
    ];
    let out = reconcile_batch(&inputs, TOLERANCE);
    assert_eq!(
        out.iter().map(|r| r.reconciled).collect::<Vec<_>>(),
        vec![true, false]
    );
}
