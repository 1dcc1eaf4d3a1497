use std::str::FromStr;

use rust_decimal::Decimal;

use super::documents::container_problem;
use super::parties::lei_problem;
use super::*;
use crate::model::{
    Date, Document, DocumentKind, ExportControl, ExportControlRegime, Lenient, Mass, Money,
    PartyId, Quantity, Shipment, TransportMode, Unit,
};

const BASE: &str = include_str!("../../../tests/fixtures/shipments/valid_export_de_us_sea.json");

fn base() -> Shipment {
    serde_json::from_str(BASE).expect("base fixture parses")
}

fn money(amount: &str, currency: &str) -> Money {
    Money::new(
        Decimal::from_str(amount).unwrap(),
        currency.parse().unwrap(),
    )
}

fn kg(v: &str) -> Mass {
    v.parse().unwrap()
}

fn date(s: &str) -> Date {
    s.parse().unwrap()
}

fn run(s: &Shipment) -> Report {
    validate(s, ReferenceData::bundled(), &Rules::default())
}

fn found(report: &Report) -> Vec<(&'static str, String)> {
    let mut v: Vec<_> = report
        .issues
        .iter()
        .map(|i| (i.code.as_str(), i.path.clone()))
        .collect();
    v.sort();
    v
}

struct Case {
    name: &'static str,
    mutate: fn(&mut Shipment),
    expect: &'static [(IssueCode, &'static str)],
}

use IssueCode as C;

const CASES: &[Case] = &[
    Case {
        name: "date missing",
        mutate: |s| s.date = None,
        expect: &[(C::DateMissing, "$.date")],
    },
    Case {
        name: "no lines",
        mutate: |s| s.lines.clear(),
        expect: &[(C::LinesMissing, "$.lines")],
    },
    Case {
        name: "duplicate line number",
        mutate: |s| s.lines[1].number = 1,
        expect: &[(C::LineNumberDuplicate, "$.lines[1].number")],
    },
    Case {
        name: "no code on line nor product",
        mutate: |s| s.lines[0].product.classifications.clear(),
        expect: &[(C::HsCodeMissing, "$.lines[0].hs_code")],
    },
    Case {
        name: "five digits",
        mutate: |s| s.lines[2].hs_code = Some(Lenient::parse("22042")),
        expect: &[(C::HsCodeMalformed, "$.lines[2].hs_code")],
    },
    Case {
        name: "letters in code",
        mutate: |s| s.lines[2].hs_code = Some(Lenient::parse("2204-21")),
        expect: &[(C::HsCodeMalformed, "$.lines[2].hs_code")],
    },
    Case {
        name: "subheading not in HS 2022, differing from the product's",
        mutate: |s| s.lines[2].hs_code = Some(Lenient::parse("220499")),
        expect: &[
            (C::HsCodeUnknown, "$.lines[2].hs_code"),
            (C::HsCodeMismatch, "$.lines[2].hs_code"),
        ],
    },
    Case {
        name: "HS 2017 drone code removed in HS 2022, on the product",
        mutate: |s| {
            s.lines[0].product.classifications[0].code = Lenient::parse("880600");
            s.lines[0].product.classifications.truncate(1);
        },
        expect: &[(
            C::HsCodeUnknown,
            "$.lines[0].product.classifications[0].code",
        )],
    },
    Case {
        name: "heading instead of subheading",
        mutate: |s| s.lines[2].hs_code = Some(Lenient::parse("2204")),
        expect: &[(C::HsCodeNotDeclarable, "$.lines[2].hs_code")],
    },
    Case {
        name: "chapter instead of subheading",
        mutate: |s| s.lines[2].hs_code = Some(Lenient::parse("22")),
        expect: &[(C::HsCodeNotDeclarable, "$.lines[2].hs_code")],
    },
    Case {
        name: "national 10-digit code with a valid HS 2022 subheading",
        mutate: |s| s.lines[2].hs_code = Some(Lenient::parse("2204.21.79.10")),
        expect: &[],
    },
    Case {
        name: "classifications all expired before the shipment date",
        mutate: |s| {
            for c in &mut s.lines[0].product.classifications {
                c.valid_from = None;
                c.valid_to = Some(date("2021-12-31"));
            }
        },
        expect: &[(C::HsCodeNotInForce, "$.lines[0].product.classifications")],
    },
    Case {
        name: "line code differs from product classification",
        mutate: |s| s.lines[2].hs_code = Some(Lenient::parse("220422")),
        expect: &[(C::HsCodeMismatch, "$.lines[2].hs_code")],
    },
    Case {
        name: "classification period ends before it starts",
        mutate: |s| s.lines[0].product.classifications[1].valid_to = Some(date("2021-01-01")),
        expect: &[(
            C::ClassificationPeriodInvalid,
            "$.lines[0].product.classifications[1]",
        )],
    },
    Case {
        name: "origin missing on line and product",
        mutate: |s| s.lines[0].product.origin = None,
        expect: &[(C::OriginMissing, "$.lines[0].origin")],
    },
    Case {
        name: "origin as a country name",
        mutate: |s| s.lines[0].origin = Some(Lenient::parse("China")),
        expect: &[(C::CountryMalformed, "$.lines[0].origin")],
    },
    Case {
        name: "product origin not an ISO country",
        mutate: |s| s.lines[1].product.origin = Some(Lenient::parse("XX")),
        expect: &[(C::CountryUnknown, "$.lines[1].product.origin")],
    },
    Case {
        name: "dispatch country missing on an export",
        mutate: |s| s.dispatch_country = None,
        expect: &[(C::CountryMissing, "$.dispatch_country")],
    },
    Case {
        name: "destination missing on an export",
        mutate: |s| s.destination_country = None,
        expect: &[(C::CounterpartCountryMissing, "$.destination_country")],
    },
    Case {
        name: "unassigned country in an address",
        mutate: |s| s.parties[1].addresses[0].country = Some(Lenient::parse("XK")),
        expect: &[(C::CountryUnknown, "$.parties[1].addresses[0].country")],
    },
    Case {
        name: "value missing",
        mutate: |s| s.lines[0].value = None,
        expect: &[(C::ValueMissing, "$.lines[0].value")],
    },
    Case {
        name: "value zero",
        mutate: |s| s.lines[0].value = Some(money("0.00", "EUR")),
        expect: &[(C::ValueNotPositive, "$.lines[0].value.amount")],
    },
    Case {
        name: "value negative",
        mutate: |s| s.lines[0].value = Some(money("-1", "EUR")),
        expect: &[(C::ValueNotPositive, "$.lines[0].value.amount")],
    },
    Case {
        name: "negative freight",
        mutate: |s| s.freight = Some(money("-1", "EUR")),
        expect: &[(C::CostNegative, "$.freight.amount")],
    },
    Case {
        name: "import under FOB with no freight",
        mutate: |s| {
            s.direction = crate::model::Direction::Import;
            s.freight = None;
        },
        expect: &[(C::FreightMissing, "$.freight")],
    },
    Case {
        name: "import under CIF needs no freight",
        mutate: |s| {
            s.direction = crate::model::Direction::Import;
            s.freight = None;
            s.incoterm.as_mut().unwrap().rule = Some(Lenient::parse("CIF"));
        },
        expect: &[],
    },
    Case {
        name: "currency missing",
        mutate: |s| s.currency = None,
        expect: &[(C::CurrencyMissing, "$.currency")],
    },
    Case {
        name: "currency as a word",
        mutate: |s| s.currency = Some(Lenient::parse("EURO")),
        expect: &[(C::CurrencyMalformed, "$.currency")],
    },
    Case {
        name: "unknown currency on freight",
        mutate: |s| s.freight = Some(money("10", "XYZ")),
        expect: &[(C::CurrencyUnknown, "$.freight.currency")],
    },
    Case {
        name: "withdrawn currency on a line",
        mutate: |s| s.lines[0].value = Some(money("10", "DEM")),
        expect: &[
            (C::CurrencyWithdrawn, "$.lines[0].value.currency"),
            (C::CurrencyMismatch, "$.lines[0].value.currency"),
        ],
    },
    Case {
        name: "line in another currency than the invoice",
        mutate: |s| s.lines[1].value = Some(money("10", "USD")),
        expect: &[(C::CurrencyMismatch, "$.lines[1].value.currency")],
    },
    Case {
        name: "no Incoterm",
        mutate: |s| s.incoterm = None,
        expect: &[(C::IncotermMissing, "$.incoterm")],
    },
    Case {
        name: "Incoterm without rule",
        mutate: |s| s.incoterm.as_mut().unwrap().rule = None,
        expect: &[(C::IncotermMissing, "$.incoterm.rule")],
    },
    Case {
        name: "Incoterm not a rule",
        mutate: |s| s.incoterm.as_mut().unwrap().rule = Some(Lenient::parse("FOX")),
        expect: &[(C::IncotermUnknown, "$.incoterm.rule")],
    },
    Case {
        name: "Incoterms 2010 DAT",
        mutate: |s| s.incoterm.as_mut().unwrap().rule = Some(Lenient::parse("DAT")),
        expect: &[(C::IncotermUnknown, "$.incoterm.rule")],
    },
    Case {
        name: "named place missing",
        mutate: |s| s.incoterm.as_mut().unwrap().place = None,
        expect: &[(C::IncotermPlaceMissing, "$.incoterm.place")],
    },
    Case {
        name: "named place blank",
        mutate: |s| s.incoterm.as_mut().unwrap().place = Some("  ".into()),
        expect: &[(C::IncotermPlaceMissing, "$.incoterm.place")],
    },
    Case {
        name: "FOB by air",
        mutate: |s| s.transport.as_mut().unwrap().mode = Some(TransportMode::Air),
        expect: &[
            (C::IncotermModeMismatch, "$.incoterm.rule"),
            (C::DocumentMissing, "$.documents"),
        ],
    },
    Case {
        name: "malformed UN/LOCODE",
        mutate: |s| {
            s.transport
                .as_mut()
                .unwrap()
                .loading
                .as_mut()
                .unwrap()
                .locode = Some(Lenient::parse("DE-HAM"))
        },
        expect: &[(C::LocationMalformed, "$.transport.loading.locode")],
    },
    Case {
        name: "UN/LOCODE of an unassigned country",
        mutate: |s| s.incoterm.as_mut().unwrap().place_locode = Some(Lenient::parse("XXHAM")),
        expect: &[(C::LocationMalformed, "$.incoterm.place_locode")],
    },
    Case {
        name: "UN/LOCODE absent from the bundled list",
        mutate: |s| {
            s.transport
                .as_mut()
                .unwrap()
                .discharge
                .as_mut()
                .unwrap()
                .locode = Some(Lenient::parse("SGSIN"))
        },
        expect: &[(C::LocationUnknown, "$.transport.discharge.locode")],
    },
    Case {
        name: "quantity zero",
        mutate: |s| s.lines[0].quantity = Quantity::new(Decimal::ZERO, Unit::Piece).unwrap(),
        expect: &[(C::QuantityNotPositive, "$.lines[0].quantity.value")],
    },
    Case {
        name: "supplementary quantity missing",
        mutate: |s| s.lines[2].supplementary_quantity = None,
        expect: &[(
            C::SupplementaryQuantityMissing,
            "$.lines[2].supplementary_quantity",
        )],
    },
    Case {
        name: "supplementary quantity in the wrong unit",
        mutate: |s| {
            s.lines[2].supplementary_quantity =
                Some(Quantity::new(Decimal::from(360), Unit::Kilogram).unwrap())
        },
        expect: &[(
            C::SupplementaryUnitMismatch,
            "$.lines[2].supplementary_quantity.unit",
        )],
    },
    Case {
        name: "line quantity already in the supplementary unit",
        mutate: |s| s.lines[1].supplementary_quantity = None,
        expect: &[],
    },
    Case {
        name: "net mass missing, not derivable",
        mutate: |s| s.lines[1].net_mass_kg = None,
        expect: &[(C::NetMassMissing, "$.lines[1].net_mass_kg")],
    },
    Case {
        name: "net mass derived from the product's unit mass",
        mutate: |s| s.lines[0].net_mass_kg = None,
        expect: &[],
    },
    Case {
        name: "net mass zero",
        mutate: |s| s.lines[0].net_mass_kg = Some(kg("0")),
        expect: &[(C::MassNotPositive, "$.lines[0].net_mass_kg")],
    },
    Case {
        name: "net above gross",
        mutate: |s| s.lines[0].gross_mass_kg = Some(kg("100")),
        expect: &[(C::NetMassExceedsGross, "$.lines[0].net_mass_kg")],
    },
    Case {
        name: "preference claimed for a product that is not eligible, without proof",
        mutate: |s| s.lines[0].preference_claimed = true,
        expect: &[
            (C::PreferenceNotEligible, "$.lines[0].preference_claimed"),
            (C::DocumentMissing, "$.lines[0]"),
        ],
    },
    Case {
        name: "preference claimed, proof covers another line",
        mutate: |s| {
            s.lines[1].preference_claimed = true;
            s.documents.push(Document {
                kind: DocumentKind::CertificateOfOrigin,
                number: "EUR1-0042".into(),
                date: None,
                issuer: None,
                content_hash: None,
                uri: None,
                lines: vec![1],
            });
        },
        expect: &[(C::DocumentMissing, "$.lines[1]")],
    },
    Case {
        name: "preference claimed, proof covers the line",
        mutate: |s| {
            s.lines[1].preference_claimed = true;
            s.documents.push(Document {
                kind: DocumentKind::OriginStatement,
                number: "INV/2026/00905".into(),
                date: None,
                issuer: None,
                content_hash: None,
                uri: None,
                lines: vec![2],
            });
        },
        expect: &[],
    },
    Case {
        name: "party without name",
        mutate: |s| s.parties[2].name = String::new(),
        expect: &[(C::PartyNameMissing, "$.parties[2].name")],
    },
    Case {
        name: "party without address or country",
        mutate: |s| s.parties[2].addresses.clear(),
        expect: &[
            (C::PartyAddressMissing, "$.parties[2].addresses"),
            (C::PartyCountryMissing, "$.parties[2].country"),
        ],
    },
    Case {
        name: "party without address but with a country",
        mutate: |s| {
            s.parties[2].addresses.clear();
            s.parties[2].country = Some(Lenient::parse("DE"));
        },
        expect: &[(C::PartyAddressMissing, "$.parties[2].addresses")],
    },
    Case {
        name: "two parties share an id",
        mutate: |s| s.parties[2].id = "p-consignee".parse().unwrap(),
        expect: &[
            (C::PartyIdDuplicate, "$.parties[2].id"),
            (C::PartyReferenceUnknown, "$.transport.carrier"),
        ],
    },
    Case {
        name: "required role missing",
        mutate: |s| {
            s.parties[1]
                .roles
                .retain(|r| *r != crate::model::PartyRole::Consignee)
        },
        expect: &[(C::PartyRoleMissing, "$.parties")],
    },
    Case {
        name: "carrier is not a party",
        mutate: |s| s.transport.as_mut().unwrap().carrier = Some(PartyId::from_str("p-x").unwrap()),
        expect: &[(C::PartyReferenceUnknown, "$.transport.carrier")],
    },
    Case {
        name: "LEI with a wrong check digit",
        mutate: |s| s.parties[0].identifiers[2].value = "529900T8BM49AURSDO56".into(),
        expect: &[(C::IdentifierMalformed, "$.parties[0].identifiers[2].value")],
    },
    Case {
        name: "EORI without number",
        mutate: |s| s.parties[0].identifiers[0].value = "DE".into(),
        expect: &[(C::IdentifierMalformed, "$.parties[0].identifiers[0].value")],
    },
    Case {
        name: "no transport",
        mutate: |s| s.transport = None,
        expect: &[(C::TransportMissing, "$.transport")],
    },
    Case {
        name: "arrival before departure",
        mutate: |s| s.transport.as_mut().unwrap().arrival = Some(date("2026-11-01")),
        expect: &[(C::TransportDatesInverted, "$.transport.arrival")],
    },
    Case {
        name: "container check digit wrong",
        mutate: |s| s.transport.as_mut().unwrap().equipment[0].id = "CSQU3054384".into(),
        expect: &[(C::EquipmentIdInvalid, "$.transport.equipment[0].id")],
    },
    Case {
        name: "container number of the wrong shape",
        mutate: |s| s.transport.as_mut().unwrap().equipment[0].id = "CSQ-305438".into(),
        expect: &[(C::EquipmentIdInvalid, "$.transport.equipment[0].id")],
    },
    Case {
        name: "document without number",
        mutate: |s| s.documents[1].number = " ".into(),
        expect: &[(C::DocumentNumberMissing, "$.documents[1].number")],
    },
    Case {
        name: "document covering an absent line",
        mutate: |s| s.documents[1].lines = vec![9],
        expect: &[(C::DocumentLineUnknown, "$.documents[1].lines")],
    },
    Case {
        name: "no commercial invoice",
        mutate: |s| {
            s.documents
                .retain(|d| d.kind != DocumentKind::CommercialInvoice)
        },
        expect: &[(C::DocumentMissing, "$.documents")],
    },
    Case {
        name: "controlled product exported without licence",
        mutate: |s| {
            s.lines[0].product.export_controls = vec![ExportControl {
                regime: ExportControlRegime::EuDualUse,
                classification: "5A002".into(),
            }]
        },
        expect: &[(C::DocumentMissing, "$.lines[0]")],
    },
];

#[test]
fn base_fixture_is_valid_without_any_issue() {
    let report = run(&base());
    assert!(report.valid);
    assert_eq!(found(&report), vec![]);
    assert_eq!(report.nomenclature, "HS 2022");
}

#[test]
fn each_rule_reports_exactly_its_problem() {
    let mut failures = Vec::new();
    for case in CASES {
        let mut s = base();
        (case.mutate)(&mut s);
        let report = run(&s);
        let mut want: Vec<_> = case
            .expect
            .iter()
            .map(|(c, p)| (c.as_str(), (*p).to_owned()))
            .collect();
        want.sort();
        let got = found(&report);
        if got != want {
            failures.push(format!("{}:\n  want {want:?}\n  got  {got:?}", case.name));
        }
        let has_error = report.issues.iter().any(|i| i.severity == Severity::Error);
        assert_eq!(report.valid, !has_error, "{}", case.name);
        for issue in &report.issues {
            assert!(!issue.message.is_empty(), "{}: empty message", case.name);
            if issue.code != C::DocumentMissing {
                assert_eq!(issue.severity, issue.code.severity(), "{}", case.name);
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_issue_code_has_a_table_case() {
    let covered: Vec<IssueCode> = CASES
        .iter()
        .flat_map(|c| c.expect.iter().map(|(code, _)| *code))
        .collect();
    let missing: Vec<_> = IssueCode::ALL
        .iter()
        .filter(|c| !covered.contains(c))
        .collect();
    assert!(
        missing.is_empty(),
        "codes without a table case: {missing:?}"
    );
}

#[test]
fn issue_codes_are_unique_screaming_snake_text() {
    let mut texts: Vec<_> = IssueCode::ALL.iter().map(|c| c.as_str()).collect();
    for t in &texts {
        assert!(
            t.bytes().all(|b| b.is_ascii_uppercase() || b == b'_'),
            "{t}"
        );
        assert_eq!(
            serde_json::to_value(IssueCode::ALL[texts.iter().position(|x| x == t).unwrap()])
                .unwrap(),
            *t
        );
    }
    texts.sort();
    texts.dedup();
    assert_eq!(texts.len(), IssueCode::ALL.len());
}

#[test]
fn document_rule_severity_comes_from_the_rule() {
    let mut s = base();
    s.documents.retain(|d| d.kind != DocumentKind::BillOfLading);
    let report = run(&s);
    assert!(
        report.valid,
        "a missing bill of lading is only a warning by the shipped rules"
    );
    let issue = report
        .with_code(C::DocumentMissing)
        .next()
        .expect("reported");
    assert_eq!(issue.severity, Severity::Warning);
    assert!(
        issue.message.contains("bill of lading"),
        "{}",
        issue.message
    );
}

#[test]
fn malformed_codes_keep_their_text_in_the_message() {
    let mut s = base();
    s.lines[2].hs_code = Some(Lenient::parse("2204-21"));
    let report = run(&s);
    let issue = report
        .with_code(C::HsCodeMalformed)
        .next()
        .expect("reported");
    assert!(issue.message.contains("\"2204-21\""), "{}", issue.message);
}

#[test]
fn export_licence_covering_the_line_satisfies_the_rule() {
    let mut s = base();
    s.lines[0].product.export_controls = vec![ExportControl {
        regime: ExportControlRegime::UsEar,
        classification: "5A992".into(),
    }];
    s.documents.push(Document {
        kind: DocumentKind::ExportLicence,
        number: "DE-BAFA-2026-1".into(),
        date: None,
        issuer: Some("BAFA".into()),
        content_hash: None,
        uri: None,
        lines: vec![1],
    });
    assert_eq!(found(&run(&s)), vec![]);
}

#[test]
fn rules_none_skips_configured_requirements_only() {
    let mut s = base();
    s.documents.clear();
    s.parties[1].roles.clear();
    let report = validate(&s, ReferenceData::bundled(), &Rules::none());
    assert_eq!(found(&report), vec![]);
    let report = run(&s);
    assert!(report.with_code(C::DocumentMissing).count() >= 1);
    assert_eq!(report.with_code(C::PartyRoleMissing).count(), 1);
}

#[test]
fn shipped_rules_parse_and_hold_the_documented_rules() {
    let rules = Rules::default();
    assert_eq!(
        rules.required_roles.export,
        vec![
            crate::model::PartyRole::Exporter,
            crate::model::PartyRole::Consignee
        ]
    );
    let names: Vec<_> = rules.documents.iter().map(|r| r.name.as_str()).collect();
    assert!(names.contains(&"proof of preferential origin"), "{names:?}");
    assert!(
        names.contains(&"export licence for controlled goods"),
        "{names:?}"
    );
}

#[test]
fn rules_refuse_unknown_keys_and_empty_any_of() {
    let err = Rules::from_toml("[[document]]\nname = \"x\"\nany_of = []\n", "t.toml").unwrap_err();
    assert!(
        err.to_string().contains("any_of lists no document kind"),
        "{err}"
    );
    let err = Rules::from_toml(
        "[[document]]\nname = \"x\"\nany_off = [\"packing_list\"]\n",
        "t.toml",
    )
    .unwrap_err();
    assert!(err.to_string().contains("any_off"), "{err}");
    let err = Rules::from_toml("[required_roles]\nexport = [\"shipper\"]\n", "t.toml").unwrap_err();
    assert!(err.to_string().contains("shipper"), "{err}");
}

#[test]
fn destination_condition_restricts_a_rule() {
    let rules = Rules::from_toml(
        "[[document]]\nname = \"Swiss rule\"\nany_of = [\"import_licence\"]\n[document.when]\ndestination = [\"CH\"]\n",
        "t.toml",
    )
    .unwrap();
    let mut s = base();
    assert_eq!(
        validate(&s, ReferenceData::bundled(), &rules).issues,
        vec![]
    );
    s.destination_country = Some(Lenient::parse("CH"));
    let report = validate(&s, ReferenceData::bundled(), &rules);
    assert_eq!(
        found(&report),
        vec![("DOCUMENT_MISSING", "$.documents".to_owned())]
    );
}

#[test]
fn container_and_lei_checks_accept_known_good_values() {
    assert_eq!(container_problem("CSQU3054383"), None);
    assert!(container_problem("MSCU1234567").is_some());
    assert_eq!(lei_problem("529900T8BM49AURSDO55"), None);
    assert!(lei_problem("529900T8BM49AURSDO5").is_some());
}
