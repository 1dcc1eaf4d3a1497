//! Worked examples, each computed by hand in the comments, against a small test tariff.

use std::str::FromStr;

use proptest::prelude::*;
use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::*;
use crate::model::Shipment;

const JURISDICTIONS: &str = r#"
[[jurisdiction]]
id = "EU"
countries = ["DE", "FR"]
currency = "EUR"
value_basis = "cif"
fx_date = "shipment"
rounding = { scale = 2, mode = "half_up", per = "line" }
rates = "eu.csv"
vat_recoverable = true
vat_pct = { DE = "19", FR = "20" }
[[jurisdiction.de_minimis]]
valid_from = "2021-07-01"
duty = "150"

[[jurisdiction]]
id = "GB"
countries = ["GB"]
currency = "GBP"
value_basis = "cif"
fx_date = "shipment"
rounding = { scale = 2, mode = "down", per = "total" }
rates = "gb.csv"
vat_pct = { GB = "20" }
[[jurisdiction.de_minimis]]
valid_from = "2021-01-01"
duty = "135"
tax = "135"

[[jurisdiction]]
id = "US"
countries = ["US"]
currency = "USD"
value_basis = "fob"
fx_date = "departure"
rounding = { scale = 2, mode = "half_up", per = "line" }
rates = "us.csv"
[[jurisdiction.de_minimis]]
valid_from = "2016-03-10"
duty = "800"
tax = "800"
[[jurisdiction.de_minimis]]
valid_from = "2025-08-29"
[[jurisdiction.fee]]
name = "MPF"
rate_pct = "0.3464"
min = "32.71"
max = "634.62"
valid_from = "2024-10-01"
[[jurisdiction.fee]]
name = "HMF"
rate_pct = "0.125"
modes = ["sea"]
valid_from = "2000-01-01"
"#;

const EU: &str = "prefix,measure,origin,rate,proof_required,valid_from,valid_to,description
84,mfn,,1.7%,,,,
847130,mfn,,free,,,,
6109,mfn,,12%,,,,
6109,preferential,JP,free,true,,,EU-Japan EPA
640219,mfn,,17% MIN 1.5/pa,,,,
220421,mfn,,13.1/100l,,,,
";
const GB: &str = "prefix,measure,origin,rate,proof_required,valid_from,valid_to,description
6109,mfn,,12%,,,,
";
const US: &str = "prefix,measure,origin,rate,proof_required,valid_from,valid_to,description
850760,mfn,,3.4%,,,,
850760,additional,CN,25%,,2026-01-01,,Section 301
6109,mfn,,16.5%,,,,
";
const FX: &str = "date,from,to,rate
2026-11-01,USD,EUR,0.9
2026-11-01,JPY,EUR,0.0060
2026-12-01,JPY,EUR,0.0062
2026-11-20,EUR,USD,1.25
";

fn book() -> TariffBook {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in [
        ("jurisdictions.toml", JURISDICTIONS),
        ("eu.csv", EU),
        ("gb.csv", GB),
        ("us.csv", US),
        ("fx.csv", FX),
    ] {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    TariffBook::load(dir.path()).unwrap()
}

fn d(v: &str) -> Decimal {
    Decimal::from_str(v).unwrap()
}

fn line(
    number: u32,
    code: &str,
    origin: &str,
    amount: &str,
    currency: &str,
    qty: &str,
    unit: &str,
) -> Value {
    json!({
        "number": number,
        "product": {"id": format!("P{number}"), "description": "goods"},
        "quantity": {"value": qty, "unit": unit},
        "net_mass_kg": "10",
        "value": {"amount": amount, "currency": currency},
        "origin": origin,
        "hs_code": code
    })
}

fn import(dest: &str, date: &str, incoterm: &str, lines: Vec<Value>) -> Value {
    json!({
        "schema_version": "1",
        "id": "T-1",
        "direction": "import",
        "date": date,
        "destination_country": dest,
        "lines": lines,
        "incoterm": {"rule": incoterm, "place": "somewhere"}
    })
}

fn run(v: Value) -> DutyResult {
    let s: Shipment = serde_json::from_value(v).unwrap();
    compute(&s, &book()).unwrap_or_else(|e| panic!("{e}"))
}

fn run_err(v: Value) -> DutyError {
    let s: Shipment = serde_json::from_value(v).unwrap();
    compute(&s, &book()).expect_err("must fail")
}

#[test]
fn eu_import_cif_with_vat() {
    // FOB Shanghai, invoiced in USD at 0.9 EUR/USD: t-shirts 10,000 USD (12%), laptops 5,000 USD
    // (free). Goods 9,000 + 4,500 = 13,500 EUR. Freight 1,000 USD = 900 EUR and insurance 100 USD
    // = 90 EUR are added (CIF basis), split by value 2:1: 600/300 and 60/30.
    // Line 1: CV 9,660.00, duty 12% = 1,159.20, VAT 19% x 10,819.20 = 2,055.648 -> 2,055.65.
    // Line 2: CV 4,830.00, duty 0, VAT 19% x 4,830 = 917.70.
    // Landed: 13,500 + 900 + 90 + 1,159.20 (VAT recoverable) = 15,649.20.
    let mut s = import(
        "DE",
        "2026-11-15",
        "FOB",
        vec![
            line(1, "610910", "CN", "10000", "USD", "1000", "p/st"),
            line(2, "847130", "CN", "5000", "USD", "50", "p/st"),
        ],
    );
    s["freight"] = json!({"amount": "1000", "currency": "USD"});
    s["insurance"] = json!({"amount": "100", "currency": "USD"});
    let r = run(s);
    assert_eq!(r.jurisdiction, "EU");
    assert_eq!(r.goods_value, d("13500.00"));
    assert_eq!(r.lines[0].freight_adjustment, d("600.00"));
    assert_eq!(r.lines[1].insurance_adjustment, d("30.00"));
    assert_eq!(r.lines[0].customs_value, d("9660.00"));
    assert_eq!(r.lines[0].duty, d("1159.20"));
    assert_eq!(r.lines[0].tax, d("2055.65"));
    assert_eq!(r.lines[1].customs_value, d("4830.00"));
    assert_eq!(r.lines[1].duty, d("0"));
    assert_eq!(r.lines[1].tax, d("917.70"));
    assert_eq!(r.customs_value, d("14490.00"));
    assert_eq!(r.total_duty, d("1159.20"));
    assert_eq!(r.total_taxes, d("2973.35"));
    assert_eq!(r.recoverable_taxes, d("2973.35"));
    assert_eq!(r.landed_cost, d("15649.20"));
    assert_eq!(r.fx_rates.len(), 1);
    assert!(
        r.lines[0].duties[0]
            .formula
            .to_string()
            .contains("12% x 9660.00"),
        "{}",
        r.lines[0].duties[0].formula
    );
    assert_eq!(
        r.tables.len(),
        3,
        "config, rate table and FX versions recorded"
    );
}

#[test]
fn longest_prefix_wins() {
    // 847130 (free) beats 84 (1.7%); 847141 only matches 84.
    let r = run(import(
        "DE",
        "2026-11-15",
        "CIF",
        vec![
            line(1, "847130", "CN", "1000", "EUR", "1", "p/st"),
            line(2, "847141", "CN", "1000", "EUR", "1", "p/st"),
        ],
    ));
    assert_eq!(r.lines[0].duty, d("0"));
    assert_eq!(r.lines[1].duty, d("17.00"));
}

#[test]
fn us_import_fob_with_section_301_mpf_and_hmf() {
    // CIF into a FOB-basis country: the 500 USD freight and 50 USD insurance in the price come
    // off. CV = 20,000 - 500 - 50 = 19,450. Duty 3.4% = 661.30, Section 301 25% = 4,862.50.
    // MPF 0.3464% x 19,450 = 67.3748 -> 67.37 (within 32.71..634.62); HMF 0.125% = 24.3125 -> 24.31.
    // Landed: 20,000 + 661.30 + 4,862.50 + 91.68 = 25,615.48.
    let mut s = import(
        "US",
        "2026-11-20",
        "CIF",
        vec![line(1, "850760", "CN", "20000", "USD", "100", "p/st")],
    );
    s["freight"] = json!({"amount": "500", "currency": "USD"});
    s["insurance"] = json!({"amount": "50", "currency": "USD"});
    s["transport"] = json!({"mode": "sea", "departure": "2026-11-20"});
    let r = run(s);
    assert_eq!(r.customs_value, d("19450.00"));
    assert_eq!(r.lines[0].duties.len(), 2);
    assert_eq!(r.lines[0].duties[0].amount, d("661.30"));
    assert_eq!(r.lines[0].duties[1].amount, d("4862.50"));
    assert_eq!(
        r.fees
            .iter()
            .map(|f| (f.name.as_deref().unwrap_or(""), f.amount))
            .collect::<Vec<_>>(),
        vec![("MPF", d("67.37")), ("HMF", d("24.31"))]
    );
    assert_eq!(r.total_fees, d("91.68"));
    assert_eq!(r.total_taxes, d("0"));
    assert_eq!(r.landed_cost, d("25615.48"));
}

#[test]
fn us_mpf_minimum_and_maximum() {
    // 1,000 USD by air: 3.464 < 32.71 -> 32.71. 300,000 USD: 1,039.20 > 634.62 -> 634.62.
    let small = run(import(
        "US",
        "2026-11-20",
        "FCA",
        vec![line(1, "610910", "VN", "1000", "USD", "10", "p/st")],
    ));
    assert_eq!(small.total_fees, d("32.71"));
    assert_eq!(small.total_duty, d("165.00"));
    let large = run(import(
        "US",
        "2026-11-20",
        "FCA",
        vec![line(1, "610910", "VN", "300000", "USD", "10", "p/st")],
    ));
    assert_eq!(large.total_fees, d("634.62"));
    assert!(
        large.fees[0]
            .formula
            .to_string()
            .contains("above the maximum")
    );
}

#[test]
fn us_de_minimis_before_and_after_suspension() {
    // 500 USD: under Section 321 in June 2025, dutiable after 29 August 2025 (16.5% = 82.50).
    let before = run(import(
        "US",
        "2025-06-01",
        "FCA",
        vec![line(1, "610910", "VN", "500", "USD", "10", "p/st")],
    ));
    assert_eq!(before.total_duty, d("0"));
    assert!(before.notes.iter().any(|n| n.contains("de minimis")));
    let after = run(import(
        "US",
        "2025-09-01",
        "FCA",
        vec![line(1, "610910", "VN", "500", "USD", "10", "p/st")],
    ));
    assert_eq!(after.total_duty, d("82.50"));
}

#[test]
fn uk_import_under_de_minimis() {
    // 120 GBP of t-shirts: at or below 135, so no duty and no import VAT at the border.
    let r = run(import(
        "GB",
        "2026-11-25",
        "DAP",
        vec![line(1, "610910", "CN", "120", "GBP", "10", "p/st")],
    ));
    assert_eq!(r.total_duty, d("0"));
    assert_eq!(r.total_taxes, d("0"));
    assert_eq!(r.landed_cost, d("120"));
    // 200 GBP: duty 12% = 24, VAT 20% x 224 = 44.80.
    let r = run(import(
        "GB",
        "2026-11-25",
        "DAP",
        vec![line(1, "610910", "CN", "200", "GBP", "10", "p/st")],
    ));
    assert_eq!((r.total_duty, r.total_taxes), (d("24.00"), d("44.80")));
}

#[test]
fn uk_rounds_down_on_the_total() {
    // Two lines of 1,111.11 GBP. Duty 12% = 133.3332 per line, 266.6664 in total, rounded down
    // once: 266.66. VAT 20% x 1,244.4432 = 248.88864 per line, 497.77728 in total: 497.77 (per
    // line rounding down would give 248.88 x 2 = 497.76).
    let r = run(import(
        "GB",
        "2026-11-25",
        "CIF",
        vec![
            line(1, "610910", "CN", "1111.11", "GBP", "10", "p/st"),
            line(2, "610910", "CN", "1111.11", "GBP", "10", "p/st"),
        ],
    ));
    assert_eq!(r.total_duty, d("266.66"));
    assert_eq!(r.total_taxes, d("497.77"));
    assert_eq!(r.lines[0].taxes[0].exact, d("248.88864"));
    assert_eq!(r.rounding.per, RoundingPer::Total);
}

#[test]
fn compound_rate_with_minimum() {
    // 17% MIN 1.5 EUR/pair. 100 pairs worth 500 EUR: 85 < 150, so 150. Worth 2,000 EUR: 340.
    let cheap = run(import(
        "DE",
        "2026-11-15",
        "CIF",
        vec![line(1, "640219", "CN", "500", "EUR", "100", "pa")],
    ));
    assert_eq!(cheap.total_duty, d("150.00"));
    assert!(
        cheap.lines[0].duties[0]
            .formula
            .to_string()
            .contains("(applies)")
    );
    let dear = run(import(
        "DE",
        "2026-11-15",
        "CIF",
        vec![line(1, "640219", "CN", "2000", "EUR", "100", "pa")],
    ));
    assert_eq!(dear.total_duty, d("340.00"));
}

#[test]
fn specific_rate_per_100_litres_needs_the_litres() {
    // 13.1 EUR/100 l on 360 l = 47.16.
    let mut l = line(1, "220421", "ZA", "3000", "EUR", "480", "p/st");
    l["supplementary_quantity"] = json!({"value": "360", "unit": "l"});
    let r = run(import("DE", "2026-11-15", "CIF", vec![l]));
    assert_eq!(r.total_duty, d("47.16"));
    let err = run_err(import(
        "DE",
        "2026-11-15",
        "CIF",
        vec![line(1, "220421", "ZA", "3000", "EUR", "480", "p/st")],
    ));
    assert!(
        matches!(
            err,
            DutyError::QuantityMissing {
                line: 1,
                unit: "l",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn preference_with_and_without_proof() {
    // JP t-shirts, 1,000 EUR, preference claimed: free with an origin statement covering the
    // line, MFN 12% = 120 without.
    let mut l = line(1, "610910", "JP", "1000", "EUR", "10", "p/st");
    l["preference_claimed"] = json!(true);
    let mut s = import("DE", "2026-11-15", "CIF", vec![l]);
    let without = run(s.clone());
    assert_eq!(without.total_duty, d("120.00"));
    assert!(
        without.lines[0]
            .preference
            .to_string()
            .contains("without proof")
    );
    s["documents"] = json!([{"kind": "origin_statement", "number": "OS-1", "lines": [1]}]);
    let with = run(s.clone());
    assert_eq!(with.total_duty, d("0"));
    assert_eq!(with.lines[0].duties[0].kind, ChargeKind::Preferential);
    s["documents"] = json!([{"kind": "origin_statement", "number": "OS-1", "lines": [2]}]);
    assert_eq!(
        run(s).total_duty,
        d("120.00"),
        "proof for another line does not count"
    );
}

#[test]
fn currency_conversion_on_a_month_boundary() {
    // 1,000,000 JPY: 0.0060 for November (6,000 EUR), 0.0062 from 1 December (6,200 EUR).
    let nov = run(import(
        "DE",
        "2026-11-30",
        "CIF",
        vec![line(1, "847130", "JP", "1000000", "JPY", "1", "p/st")],
    ));
    let dec = run(import(
        "DE",
        "2026-12-01",
        "CIF",
        vec![line(1, "847130", "JP", "1000000", "JPY", "1", "p/st")],
    ));
    assert_eq!(nov.goods_value, d("6000.00"));
    assert_eq!(dec.goods_value, d("6200.00"));
    assert_eq!(nov.fx_rates[0].date.to_string(), "2026-11-01");
    assert_eq!(dec.fx_rates[0].date.to_string(), "2026-12-01");
}

#[test]
fn inverse_rate_and_departure_date_for_the_us() {
    // Only EUR->USD is listed (1.25); a EUR invoice into the US converts at 1.25 on the
    // departure date 2026-11-20 even though the shipment is dated later.
    let mut s = import(
        "US",
        "2026-11-28",
        "FCA",
        vec![line(1, "610910", "DE", "100", "EUR", "1", "p/st")],
    );
    s["transport"] = json!({"mode": "air", "departure": "2026-11-20"});
    let r = run(s);
    assert_eq!(r.fx_date.to_string(), "2026-11-20");
    assert_eq!(r.goods_value, d("125.00"));
    let mut s = import(
        "DE",
        "2026-11-15",
        "CIF",
        vec![line(1, "847130", "US", "125", "USD", "1", "p/st")],
    );
    s["lines"][0]["value"]["currency"] = json!("USD");
    assert_eq!(run(s).goods_value, d("112.50"));
}

#[test]
fn errors_name_what_to_fix() {
    let mut s = import(
        "DE",
        "2026-11-15",
        "CIF",
        vec![line(1, "010121", "CN", "100", "EUR", "1", "p/st")],
    );
    assert!(matches!(
        run_err(s.clone()),
        DutyError::NoMfnRate { line: 1, .. }
    ));
    s["direction"] = json!("export");
    assert_eq!(run_err(s.clone()), DutyError::NotImport("export"));
    let s = import(
        "CH",
        "2026-11-15",
        "CIF",
        vec![line(1, "847130", "CN", "100", "EUR", "1", "p/st")],
    );
    assert!(matches!(run_err(s), DutyError::NoJurisdiction(_)));
    let s = import(
        "DE",
        "2026-11-15",
        "CIF",
        vec![line(1, "847130", "CN", "100", "CHF", "1", "p/st")],
    );
    assert!(run_err(s).to_string().contains("CHF -> EUR"));
    let s = import(
        "DE",
        "2026-10-15",
        "CIF",
        vec![line(1, "847130", "CN", "100", "USD", "1", "p/st")],
    );
    assert!(
        matches!(run_err(s), DutyError::NoFxRate { .. }),
        "no USD rate before November"
    );
}

#[test]
fn rate_expressions_parse_and_print() {
    for text in [
        "free",
        "12%",
        "3.5/100kg",
        "8% + 2.1/100kg",
        "12% MIN 1.5/kg",
        "5% MIN 1/p/st MAX 3/p/st",
        "2.5/l alc. 100 %",
        "5/1000 kWh",
    ] {
        let r: Rate = text.parse().unwrap_or_else(|e| panic!("{e}"));
        let again: Rate = r.to_string().parse().unwrap();
        assert_eq!(again, r, "{text}");
    }
    let r: Rate = "12% MIN 1.5/kg".parse().unwrap();
    assert_eq!(r.ad_valorem_pct, Some(d("12")));
    assert_eq!(
        r.min.map(|m| (m.amount, m.unit)),
        Some((d("1.5"), crate::model::Unit::Kilogram))
    );
    for bad in ["12", "12%%", "1.5/furlong", "12% MIN", "12% + 13%", "x%"] {
        assert!(bad.parse::<Rate>().is_err(), "{bad}");
    }
}

#[test]
fn shipped_tariff_samples_load_and_rate_the_fixture() {
    let book = TariffBook::load(&default_dir()).expect("config/tariffs loads");
    assert_eq!(book.jurisdictions.len(), 3);
    let text =
        include_str!("../../../tests/fixtures/shipments/valid_import_jp_gb_air_preference.json");
    let s: Shipment = serde_json::from_str(text).unwrap();
    let r = compute(&s, &book).unwrap();
    // Hand check: 640,000 JPY x 0.005290 = 3,385.60 GBP; 2.7% = 91.4112, rounded down once.
    assert_eq!(r.total_duty, d("91.41"));
    assert_eq!(
        r.lines[0].duty,
        d("0"),
        "preference with proof under UK-Japan CEPA"
    );
}

#[test]
fn bad_rate_row_names_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("jurisdictions.toml"), JURISDICTIONS).unwrap();
    std::fs::write(
        dir.path().join("eu.csv"),
        format!("{EU}6110,mfn,,12 percent,,,,\n"),
    )
    .unwrap();
    std::fs::write(dir.path().join("gb.csv"), GB).unwrap();
    std::fs::write(dir.path().join("us.csv"), US).unwrap();
    std::fs::write(dir.path().join("fx.csv"), FX).unwrap();
    let err = TariffBook::load(dir.path()).unwrap_err().to_string();
    assert!(
        err.contains("eu.csv line 8") && err.contains("12 percent"),
        "{err}"
    );
}

proptest! {
    #[test]
    fn allocation_sums_exactly_and_no_share_has_the_wrong_sign(
        total in -10_000_000_000i64..10_000_000_000,
        weights in proptest::collection::vec((0i64..1_000, 0i64..1_000_000, 0i64..1_000, 0i64..1_000), 1..30),
        method in proptest::sample::select(vec![SplitMethod::Equal, SplitMethod::ByQuantity, SplitMethod::ByCurrentCostPrice, SplitMethod::ByWeight, SplitMethod::ByVolume]),
    ) {
        let total = Decimal::new(total, 2);
        let lines: Vec<LineBasis> = weights
            .iter()
            .map(|(q, c, w, v)| LineBasis { quantity: Decimal::new(*q, 0), cost: Decimal::new(*c, 2), weight: Decimal::new(*w, 3), volume: Decimal::new(*v, 3) })
            .collect();
        let weight = |l: &LineBasis| match method {
            SplitMethod::Equal => Decimal::ONE,
            SplitMethod::ByQuantity => l.quantity,
            SplitMethod::ByCurrentCostPrice => l.cost,
            SplitMethod::ByWeight => l.weight,
            SplitMethod::ByVolume => l.volume,
        };
        let sum: Decimal = lines.iter().map(weight).sum();
        let result = allocate(total, method, &lines, 2);
        if sum.is_zero() {
            prop_assert_eq!(result, Err(AllocationError::ZeroBasis(method)));
            return Ok(());
        }
        let parts = result.unwrap();
        prop_assert_eq!(parts.iter().copied().sum::<Decimal>(), total);
        prop_assert_eq!(parts.len(), lines.len());
        let cent = Decimal::new(1, 2);
        for (i, (p, l)) in parts.iter().zip(&lines).enumerate() {
            prop_assert!(p.scale() <= 2, "part {} = {} has more than 2 decimals", i, p);
            prop_assert!(p.is_zero() || p.is_sign_negative() == total.is_sign_negative(), "part {} = {} has the wrong sign for {}", i, p, total);
            let exact = total * weight(l) / sum;
            prop_assert!((*p - exact).abs() < cent, "part {} = {} vs exact {}", i, p, exact);
        }
    }

    #[test]
    fn line_rounding_never_drifts_from_line_sums(values in proptest::collection::vec(1i64..10_000_000, 1..20)) {
        let lines: Vec<Value> = values
            .iter()
            .enumerate()
            .map(|(i, v)| line(u32::try_from(i).unwrap() + 1, "610910", "CN", &Decimal::new(*v, 2).to_string(), "EUR", "1", "p/st"))
            .collect();
        let r = run(import("FR", "2026-11-15", "CIF", lines));
        prop_assert_eq!(r.total_duty, r.lines.iter().map(|l| l.duty).sum::<Decimal>());
        prop_assert_eq!(r.total_taxes, r.lines.iter().map(|l| l.tax).sum::<Decimal>());
        prop_assert_eq!(r.customs_value, r.lines.iter().map(|l| l.customs_value).sum::<Decimal>());
        for lc in &r.landed_cost_lines {
            prop_assert_eq!(lc.allocation.iter().map(|a| a.1).sum::<Decimal>(), lc.amount);
        }
    }
}

#[test]
fn a_small_first_line_never_carries_a_negative_remainder() {
    let lines: Vec<LineBasis> = [1, 17, 9, 3, 9]
        .iter()
        .map(|w| LineBasis {
            weight: Decimal::from(*w),
            ..LineBasis::default()
        })
        .collect();
    let parts = allocate(d("0.20"), SplitMethod::ByWeight, &lines, 2).unwrap();
    assert_eq!(parts.iter().copied().sum::<Decimal>(), d("0.20"));
    assert!(parts.iter().all(|p| *p >= Decimal::ZERO), "{parts:?}");
    assert_eq!(
        parts,
        vec![d("0"), d("0.09"), d("0.05"), d("0.01"), d("0.05")]
    );
}

#[test]
fn a_zero_or_negative_basis_is_refused_with_the_method_and_line() {
    let zero = [LineBasis::default(), LineBasis::default()];
    assert_eq!(
        allocate(d("10"), SplitMethod::ByVolume, &zero, 2),
        Err(AllocationError::ZeroBasis(SplitMethod::ByVolume))
    );
    let negative = [
        LineBasis {
            volume: d("1"),
            ..LineBasis::default()
        },
        LineBasis {
            volume: d("-1"),
            ..LineBasis::default()
        },
    ];
    let err = allocate(d("10"), SplitMethod::ByVolume, &negative, 2).unwrap_err();
    assert_eq!(
        err.to_string(),
        "split ByVolume: line 2 has a negative basis"
    );
}
