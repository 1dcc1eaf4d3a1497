use std::str::FromStr;

use rust_decimal::Decimal;

use super::*;

fn d(v: &str) -> Decimal {
    Decimal::from_str(v).expect("decimal")
}

fn fixture(rel: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{rel}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn layout() -> Layout {
    Layout::new(env!("CARGO_MANIFEST_DIR"))
}

fn assessment(s: Settlement) -> (String, Option<String>, Assessment) {
    match s {
        Settlement::Assessment {
            lrn,
            mrn,
            assessment,
            ..
        } => (lrn, mrn, assessment),
        other => panic!("not an assessment: {other:?}"),
    }
}

#[test]
fn dmstax_sample_gives_duty_vat_and_customs_value_of_its_item() {
    let s = read_dmstax(
        "13_DMSTAX.xml",
        &fixture("partners/uk-cds/inbound/13_DMSTAX.xml"),
    )
    .expect("reads");
    let (lrn, mrn, a) = assessment(s);
    assert_eq!(lrn, "IM08a_PHYCTL_002");
    assert_eq!(mrn.as_deref(), Some("20GB1Q3RTK463FGVR4"));
    assert_eq!(a.source, AssessmentSource::Dmstax);
    assert_eq!(a.currency.as_str(), "GBP");
    assert_eq!(a.lines.len(), 1);
    let l = &a.lines[0];
    assert_eq!((l.line, l.duty, l.tax), (1, d("270.00"), d("2054.00")));
    assert_eq!(l.customs_value, Some(d("10000.00")));
    assert_eq!(l.hs_code, None, "a DMSTAX names no commodity code");
}

#[test]
fn dmstax_with_two_items_keeps_their_sequence_numbers() {
    let s = read_dmstax("x.xml", &fixture("finance/TT_IM017a_08_DMSTAX.xml")).expect("reads");
    let (lrn, _, a) = assessment(s);
    assert_eq!(lrn, "TT_IM17a_v1.4_1907_01");
    let got: Vec<_> = a
        .lines
        .iter()
        .map(|l| (l.line, l.duty, l.tax, l.customs_value))
        .collect();
    assert_eq!(
        got,
        vec![
            (1, d("20.00"), d("204.00"), Some(d("1000.00"))),
            (3, d("2.00"), d("20.40"), Some(d("100.00"))),
        ]
    );
    assert_eq!(a.total().duty, d("22.00"));
    assert_eq!(a.total().tax, d("224.40"));
}

#[test]
fn dmstax_without_lrn_names_the_field() {
    let xml = String::from_utf8(fixture("partners/uk-cds/inbound/13_DMSTAX.xml"))
        .expect("utf-8")
        .replace(
            "<FunctionalReferenceID>IM08a_PHYCTL_002</FunctionalReferenceID>",
            "",
        );
    let e = read_dmstax("bad.xml", xml.as_bytes()).expect_err("no LRN");
    assert_eq!(e.file, "bad.xml");
    assert_eq!(e.field, "FunctionalReferenceID");
    assert!(
        e.to_string()
            .contains("bad.xml: Response/Declaration: FunctionalReferenceID"),
        "{e}"
    );
}

#[test]
fn dmstax_with_a_bad_amount_names_item_and_field() {
    let xml = String::from_utf8(fixture("partners/uk-cds/inbound/13_DMSTAX.xml"))
        .expect("utf-8")
        .replacen(
            ">270.00</TaxAssessedAmount>",
            ">27O.00</TaxAssessedAmount>",
            1,
        );
    let e = read_dmstax("bad.xml", xml.as_bytes()).expect_err("bad amount");
    assert_eq!(e.at, "GovernmentAgencyGoodsItem[1]/DutyTaxFee[1]");
    assert_eq!(e.field, "Payment/TaxAssessedAmount");
    assert!(e.reason.contains("27O.00"), "{e}");
}

#[test]
fn cusres_sample_with_totals_only() {
    let s = read_cusres(
        "r.edi",
        &fixture("partners/edifact-broker/inbound/cusres_released.edi"),
    )
    .expect("reads");
    let (lrn, mrn, a) = assessment(s);
    assert_eq!(lrn, "TH-2026-000123");
    assert_eq!(mrn.as_deref(), Some("26GB4F7A2C9D1E0B3A"));
    assert!(a.lines.is_empty());
    assert_eq!(
        a.totals,
        Some(AssessedTotals {
            duty: d("0.00"),
            tax: d("2500.00")
        })
    );
    assert_eq!(a.total().tax, d("2500.00"));
}

#[test]
fn cusres_items_give_lines_with_hs_code_and_value() {
    let s = read_cusres("i.edi", &fixture("finance/cusres_items.edi")).expect("reads");
    let (lrn, _, a) = assessment(s);
    assert_eq!(lrn, "TH-2026-000101");
    let got: Vec<_> = a
        .lines
        .iter()
        .map(|l| {
            (
                l.line,
                l.hs_code.map(|h| h.to_string()),
                l.customs_value,
                l.duty,
                l.tax,
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (
                10,
                Some("8467292000".into()),
                Some(d("8000.00")),
                d("136.00"),
                d("1627.20")
            ),
            (
                20,
                Some("8205598000".into()),
                Some(d("2500.00")),
                d("12.50"),
                d("502.50")
            ),
        ]
    );
}

#[test]
fn cusres_whose_totals_disagree_with_its_items_is_refused() {
    let text = String::from_utf8(fixture("finance/cusres_items.edi"))
        .expect("utf-8")
        .replace("MOA+161:148,50:GBP", "MOA+161:150,00:GBP");
    let e = read_cusres("t.edi", text.as_bytes()).expect_err("totals differ");
    assert_eq!(
        (e.at.as_str(), e.field.as_str()),
        ("TAX+3", "declaration totals")
    );
}

#[test]
fn cusres_errors_name_the_segment() {
    let text = String::from_utf8(fixture("finance/cusres_items.edi"))
        .expect("utf-8")
        .replace("MOA+161:12,50:GBP", "MOA+161:12,5x:GBP");
    let e = read_cusres("m.edi", text.as_bytes()).expect_err("bad amount");
    assert_eq!(e.at, "segment 19 (MOA)");
    assert_eq!(e.field, "amount (5004)");
    let text = String::from_utf8(fixture(
        "partners/edifact-broker/inbound/contrl_accepted.edi",
    ))
    .expect("utf-8");
    let e = read_cusres("c.edi", text.as_bytes()).expect_err("a CONTRL");
    assert_eq!(e.field, "message type (0065)");
}

#[test]
fn invoice_csv_template_sample_gives_one_invoice_per_lrn() {
    let settings = invoice_settings(&layout()).expect("template");
    let out = read_invoice_csv(
        "statement.csv",
        &fixture("partners/broker-invoice-csv/inbound/statement_2026_11.csv"),
        "rest-broker",
        &settings,
    )
    .expect("reads");
    assert_eq!(out.len(), 2);
    let Settlement::Invoice { lrn, mrn, invoice } = &out[1] else {
        panic!("not an invoice: {:?}", out[1]);
    };
    assert_eq!(lrn, "TH-2026-000102");
    assert_eq!(mrn.as_deref(), Some("26GB9Z8Y7X6W5V4U30"));
    assert_eq!(invoice.number, "BRK-2026-1187");
    assert_eq!(invoice.broker, "rest-broker");
    let items: Vec<_> = invoice
        .items
        .iter()
        .map(|i| (i.kind, i.code.as_deref(), i.amount))
        .collect();
    assert_eq!(
        items,
        vec![
            (InvoiceItemKind::Duty, None, d("0.00")),
            (InvoiceItemKind::Tax, None, d("900.00")),
            (InvoiceItemKind::Fee, Some("Clearance fee"), d("45.00")),
        ]
    );
    let Settlement::Invoice { invoice, .. } = &out[0] else {
        panic!("not an invoice");
    };
    assert_eq!(invoice.items[0].amount, d("136.00"));
    assert_eq!(invoice.items[1].amount, d("1627.20"));
}

#[test]
fn invoice_csv_errors_name_row_and_column() {
    let settings = invoice_settings(&layout()).expect("template");
    let text = String::from_utf8(fixture(
        "partners/broker-invoice-csv/inbound/statement_2026_11.csv",
    ))
    .expect("utf-8")
    .replace(";1627,20;", ";16x7,20;");
    let e = read_invoice_csv("s.csv", text.as_bytes(), "rest-broker", &settings).expect_err("bad");
    assert_eq!(
        (e.at.as_str(), e.field.as_str()),
        ("row 2 (line 3)", "amount")
    );
    let text = String::from_utf8(fixture(
        "partners/broker-invoice-csv/inbound/statement_2026_11.csv",
    ))
    .expect("utf-8")
    .replace(
        ";TH-2026-000102;26GB9Z8Y7X6W5V4U30;0;",
        ";;26GB9Z8Y7X6W5V4U30;0;",
    );
    let e =
        read_invoice_csv("s.csv", text.as_bytes(), "rest-broker", &settings).expect_err("no lrn");
    assert_eq!((e.at.as_str(), e.field.as_str()), ("row 5 (line 6)", "lrn"));
}

#[test]
fn read_chooses_the_reader_by_extension_and_refuses_others() {
    let bytes = fixture("finance/cusres_items.edi");
    let out = read("a.edi", &bytes, "edifact-broker", &layout()).expect("reads");
    assert_eq!(out[0].slot(), "assessment");
    let e = read("a.pdf", b"%PDF", "edifact-broker", &layout()).expect_err("pdf");
    assert_eq!(e.field, "extension");
}
