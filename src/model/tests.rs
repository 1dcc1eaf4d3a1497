use std::fmt::Debug;
use std::str::FromStr;

use proptest::prelude::*;
use proptest::sample::select;
use rust_decimal::Decimal;

use super::*;

mod arbitrary;

#[test]
fn hs_code_forms() {
    for (text, canonical, sub, heading, chapter) in [
        ("847130", "847130", 847_130, 8471, 84),
        ("8471.30", "847130", 847_130, 8471, 84),
        ("8471 30 00", "84713000", 847_130, 8471, 84),
        ("8471.30.00.00", "8471300000", 847_130, 8471, 84),
        (" 010121 ", "010121", 10_121, 101, 1),
    ] {
        let c: HsCode = text.parse().unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(c.to_string(), canonical);
        assert_eq!(
            (c.subheading(), c.heading(), c.chapter()),
            (sub, heading, chapter),
            "{text}"
        );
        assert_eq!(c.digit_count(), canonical.len());
        assert_eq!(c.is_national(), canonical.len() > 6);
    }
    for bad in [
        "",
        "8471",
        "84713",
        "8471300",
        "847130000",
        "84713000000",
        "8471..30",
        ".847130",
        "847130.",
        "84713a",
        "84-71-30",
    ] {
        let err = bad.parse::<HsCode>().expect_err(bad);
        assert!(err.to_string().contains(&format!("{bad:?}")), "{err}");
    }
}

#[test]
fn hs_prefixes() {
    let code: HsCode = "8471300000".parse().unwrap();
    assert!("847130".parse::<HsCode>().unwrap().is_prefix_of(code));
    assert!("84713000".parse::<HsCode>().unwrap().is_prefix_of(code));
    assert!(!"847141".parse::<HsCode>().unwrap().is_prefix_of(code));
    assert!(!code.is_prefix_of("847130".parse().unwrap()));
}

#[test]
fn country_currency_locode_forms() {
    assert_eq!("de".parse::<CountryCode>().unwrap().as_str(), "DE");
    for bad in ["D", "DEU", "D1", "", "Ä1"] {
        assert!(bad.parse::<CountryCode>().is_err(), "{bad}");
    }
    assert_eq!("eur".parse::<Currency>().unwrap().to_string(), "EUR");
    for bad in ["EU", "EURO", "E1R"] {
        assert!(bad.parse::<Currency>().is_err(), "{bad}");
    }
    assert_eq!("DE HAM".parse::<UnLocode>().unwrap().as_str(), "DEHAM");
    assert_eq!("deb90".parse::<UnLocode>().unwrap().as_str(), "DEB90");
    assert_eq!(
        "DEHAM".parse::<UnLocode>().unwrap().country().as_str(),
        "DE"
    );
    for bad in ["DEHA", "DE-HAM", "1EHAM", "DEHAMB", "DE  HAM"] {
        assert!(bad.parse::<UnLocode>().is_err(), "{bad}");
    }
    assert_ne!(
        "DEHAM".parse::<UnLocode>().unwrap().key(),
        "DEHAN".parse::<UnLocode>().unwrap().key()
    );
}

#[test]
fn incoterm_forms() {
    assert_eq!("fob".parse::<Incoterm>().unwrap(), Incoterm::Fob);
    for rule in Incoterm::ALL {
        assert_eq!(rule.code().parse::<Incoterm>().unwrap(), rule);
    }
    let err = "DAT".parse::<Incoterm>().unwrap_err().to_string();
    assert!(err.contains("DPU"), "{err}");
    assert!("XYZ".parse::<Incoterm>().is_err());
    assert!(
        Incoterm::Cif.seller_insures()
            && Incoterm::Cip.seller_insures()
            && !Incoterm::Cpt.seller_insures()
    );
    assert!(Incoterm::Fob.is_maritime_only() && !Incoterm::Fca.is_maritime_only());
    assert!(
        !Incoterm::Exw.seller_pays_main_carriage() && Incoterm::Ddp.seller_pays_main_carriage()
    );
}

#[test]
fn jurisdiction_coverage() {
    let de: CountryCode = "DE".parse().unwrap();
    let gb: CountryCode = "GB".parse().unwrap();
    assert!(Jurisdiction::Eu.covers(de));
    assert!(!Jurisdiction::Eu.covers(gb), "not since 2020");
    assert!(Jurisdiction::Country(gb).covers(gb));
    assert!(!Jurisdiction::Wco.covers(de));
    assert_eq!("EU".parse::<Jurisdiction>().unwrap(), Jurisdiction::Eu);
    assert_eq!(
        "eu".parse::<Jurisdiction>().unwrap(),
        Jurisdiction::Eu,
        "never the country EU"
    );
    assert_eq!("wco".parse::<Jurisdiction>().unwrap(), Jurisdiction::Wco);
}

#[test]
fn identifiers() {
    assert!("WH-OUT-00042".parse::<ShipmentId>().is_ok());
    assert!("WH/OUT/00042".parse::<ShipmentId>().is_ok());
    for bad in ["", "with space", "ü", &"x".repeat(65)] {
        assert!(bad.parse::<ShipmentId>().is_err(), "{bad:?}");
    }
    assert!(
        "26GB1234567890ABCDEF12".parse::<Lrn>().is_ok(),
        "22 characters"
    );
    assert!(
        "26GB1234567890ABCDEF123".parse::<Lrn>().is_err(),
        "23 characters"
    );
    assert!("26/GB".parse::<Lrn>().is_err());
    let h = "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    assert_eq!(h.parse::<ContentHash>().unwrap().to_string(), h);
    assert!(
        h.to_uppercase()
            .replace("SHA256", "sha256")
            .parse::<ContentHash>()
            .is_err()
    );
    assert!("md5:abcd".parse::<ContentHash>().is_err());
    assert!("4000".parse::<ProcedureCode>().is_ok() && "40".parse::<ProcedureCode>().is_err());
    assert!("GB000060".parse::<CustomsOffice>().is_ok() && "gb0".parse::<CustomsOffice>().is_err());
}

#[test]
fn amounts_are_decimal_strings_only() {
    let m: Money = serde_json::from_str(r#"{"amount": "12.50", "currency": "EUR"}"#).unwrap();
    assert_eq!(m.amount(), Decimal::new(1250, 2));
    assert_eq!(
        serde_json::to_string(&m).unwrap(),
        r#"{"amount":"12.50","currency":"EUR"}"#
    );
    let err = serde_json::from_str::<Money>(r#"{"amount": 12.5, "currency": "EUR"}"#).unwrap_err();
    assert!(err.to_string().contains("floating point"), "{err}");
    let err = serde_json::from_str::<Money>(r#"{"amount": "1", "currency": "EURO"}"#).unwrap_err();
    assert!(err.to_string().contains("EURO"), "{err}");
    let err = serde_json::from_str::<Quantity>(r#"{"value": "-1", "unit": "kg"}"#).unwrap_err();
    assert!(err.to_string().contains("must not be negative"), "{err}");
    let err = serde_json::from_str::<Quantity>(r#"{"value": "1", "unit": "kilo"}"#).unwrap_err();
    assert!(err.to_string().contains("kilo"), "{err}");
    assert!("-0.5".parse::<Mass>().is_err());
    assert!("abc".parse::<Mass>().is_err());
    assert_eq!("0.500".parse::<Mass>().unwrap().to_string(), "0.500");
}

#[test]
fn lenient_keeps_malformed_text() {
    let v: Lenient<HsCode> = serde_json::from_str(r#""84-71""#).unwrap();
    assert_eq!(v, Lenient::Invalid("84-71".into()));
    assert!(v.valid().is_none());
    assert!(v.problem().unwrap().contains("6, 8 or 10 digits"));
    assert_eq!(serde_json::to_string(&v).unwrap(), r#""84-71""#);
    let v: Lenient<HsCode> = serde_json::from_str(r#""8471.30""#).unwrap();
    assert_eq!(v.valid().map(|c| c.to_string()).as_deref(), Some("847130"));
    assert_eq!(v.problem(), None);
    assert!(
        serde_json::from_str::<Lenient<HsCode>>("847130").is_err(),
        "numbers lose leading zeros"
    );
}

#[test]
fn unknown_fields_and_versions_are_refused_with_a_position() {
    let text = r#"{"schema_version": "1", "id": "A", "direction": "export", "lines": [], "hs_cod": "847130"}"#;
    let err = serde_json::from_str::<Shipment>(text).unwrap_err();
    assert!(err.to_string().contains("hs_cod"), "{err}");
    assert_eq!(err.line(), 1);
    let err = serde_json::from_str::<Shipment>(
        r#"{"schema_version": "2", "id": "A", "direction": "export"}"#,
    )
    .unwrap_err();
    assert!(err.to_string().contains("expected `1`"), "{err}");
}

#[test]
fn declaration_statuses_use_the_domain_names() {
    let names: Vec<String> = [
        DeclarationStatus::Submitted,
        DeclarationStatus::DocsRequired,
        DeclarationStatus::HoldRemoved,
        DeclarationStatus::HandledExternally,
    ]
    .iter()
    .map(|s| {
        serde_json::to_value(s)
            .unwrap()
            .as_str()
            .unwrap()
            .to_owned()
    })
    .collect();
    assert_eq!(
        names,
        [
            "SUBMITTED",
            "DOCS_REQUIRED",
            "HOLD_REMOVED",
            "HANDLED_EXTERNALLY"
        ]
    );
    assert!(DeclarationStatus::Cleared.is_final() && !DeclarationStatus::Released.is_final());
}

#[test]
fn schemas_are_generated_for_every_name() {
    for name in SCHEMA_NAMES {
        let s = schema_json(name).unwrap_or_else(|| panic!("{name}"));
        assert_eq!(
            s["$schema"], "https://json-schema.org/draft/2020-12/schema",
            "{name}"
        );
        assert_eq!(s["type"], "object", "{name}");
    }
    assert!(schema_json("nope").is_none());
    let shipment = schema_json("shipment").unwrap();
    let text = shipment.to_string();
    assert!(
        text.contains("^[0-9]{6}([0-9]{2}){0,2}$"),
        "HsCode pattern is in the shipment schema"
    );
    let required = shipment["required"].as_array().unwrap();
    for field in ["schema_version", "id", "direction"] {
        assert!(required.iter().any(|r| r == field), "{field} required");
    }
    assert!(shipment["properties"]["lines"].is_object());
}

fn lenient<T>(valid: impl Strategy<Value = T> + 'static) -> BoxedStrategy<Lenient<T>>
where
    T: FromStr + Debug + Clone + 'static,
{
    prop_oneof![
        4 => valid.prop_map(Lenient::Valid),
        1 => "[ -~]{0,10}"
            .prop_filter("must be malformed", |s| s.parse::<T>().is_err())
            .prop_map(Lenient::Invalid),
    ]
    .boxed()
}

fn parsed<T: FromStr + Debug>(pattern: &'static str) -> impl Strategy<Value = T>
where
    T::Err: Debug,
{
    pattern.prop_map(|s| s.parse::<T>().unwrap())
}

fn text() -> impl Strategy<Value = String> {
    "\\PC{0,12}"
}

fn decimal() -> impl Strategy<Value = Decimal> {
    (any::<i64>(), 0u32..8).prop_map(|(m, s)| Decimal::new(m, s))
}

fn non_negative() -> impl Strategy<Value = Decimal> {
    (0i64..i64::MAX, 0u32..8).prop_map(|(m, s)| Decimal::new(m, s))
}

fn date() -> impl Strategy<Value = Date> {
    (1990i32..2100, 1u8..=12, 1u8..=28).prop_map(|(y, m, d)| {
        Date::new(time::Date::from_calendar_date(y, time::Month::try_from(m).unwrap(), d).unwrap())
    })
}

fn country() -> impl Strategy<Value = CountryCode> {
    parsed("[A-Z]{2}")
}

fn money() -> impl Strategy<Value = Money> {
    (decimal(), parsed::<Currency>("[A-Z]{3}")).prop_map(|(a, c)| Money::new(a, c))
}

fn unit() -> impl Strategy<Value = Unit> {
    select(vec![
        Unit::Kilogram,
        Unit::Gram,
        Unit::Tonne,
        Unit::Litre,
        Unit::LitrePureAlcohol,
        Unit::Metre,
        Unit::SquareMetre,
        Unit::CubicMetre,
        Unit::Piece,
        Unit::Pair,
        Unit::Carat,
        Unit::ThousandKilowattHours,
    ])
}

fn quantity() -> impl Strategy<Value = Quantity> {
    (non_negative(), unit()).prop_map(|(v, u)| Quantity::new(v, u).unwrap())
}

fn mass() -> impl Strategy<Value = Mass> {
    non_negative().prop_map(|v| Mass::kg(v).unwrap())
}

fn opt<T: Debug>(s: impl Strategy<Value = T>) -> impl Strategy<Value = Option<T>> {
    proptest::option::of(s)
}

fn few<T: Debug>(s: impl Strategy<Value = T>) -> impl Strategy<Value = Vec<T>> {
    proptest::collection::vec(s, 0..3)
}

fn jurisdiction() -> impl Strategy<Value = Jurisdiction> {
    prop_oneof![
        Just(Jurisdiction::Wco),
        Just(Jurisdiction::Eu),
        // "EU" is reserved in ISO 3166 and reads back as the union, not as a country.
        country()
            .prop_filter("EU is the union", |c| c.as_str() != "EU")
            .prop_map(Jurisdiction::Country),
    ]
}

prop_compose! {
    fn product()(
        id in parsed::<ProductId>("[A-Za-z0-9._/-]{1,16}"),
        odoo_id in opt(any::<u64>()),
        description in text(),
        classifications in few((jurisdiction(), lenient(parsed::<HsCode>("[0-9]{6}([0-9]{2}){0,2}")), opt(date()), opt(date()))
            .prop_map(|(jurisdiction, code, valid_from, valid_to)| Classification { jurisdiction, code, valid_from, valid_to })),
        origin in opt(lenient(country())),
        preference_eligible in any::<bool>(),
        supplementary_unit in opt(unit()),
        net_mass_kg in opt(mass()),
        gross_mass_kg in opt(mass()),
        export_controls in few((select(vec![ExportControlRegime::EuDualUse, ExportControlRegime::UsEar, ExportControlRegime::UsItar, ExportControlRegime::UkStrategic, ExportControlRegime::Military]), text())
            .prop_map(|(regime, classification)| ExportControl { regime, classification })),
    ) -> Product {
        Product { id, odoo_id, description, classifications, origin, preference_eligible, supplementary_unit, net_mass_kg, gross_mass_kg, export_controls }
    }
}

prop_compose! {
    fn party()(
        id in parsed::<PartyId>("[a-z0-9-]{1,12}"),
        odoo_id in opt(any::<u64>()),
        kind in select(vec![PartyKind::Organisation, PartyKind::Individual]),
        name in text(),
        aliases in few(text()),
        addresses in few((few(text()), opt(text()), opt(text()), opt(text()), opt(lenient(country())))
            .prop_map(|(street, city, postal_code, subdivision, country)| Address { street, city, postal_code, subdivision, country })),
        country in opt(lenient(country())),
        identifiers in few((select(vec![IdentifierScheme::Eori, IdentifierScheme::Vat, IdentifierScheme::Duns, IdentifierScheme::Lei, IdentifierScheme::TaxId]), text(), opt(lenient(country())))
            .prop_map(|(scheme, value, country)| Identifier { scheme, value, country })),
        roles in few(select(vec![PartyRole::Seller, PartyRole::Buyer, PartyRole::Consignor, PartyRole::Consignee, PartyRole::ShipTo, PartyRole::Notify, PartyRole::EndUser, PartyRole::Declarant, PartyRole::Carrier, PartyRole::Supplier, PartyRole::Exporter, PartyRole::Importer])),
    ) -> Party {
        Party { id, odoo_id, kind, name, aliases, addresses, country, identifiers, roles }
    }
}

prop_compose! {
    fn line()(
        number in any::<u32>(),
        product in product(),
        quantity in quantity(),
        supplementary_quantity in opt(quantity()),
        net_mass_kg in opt(mass()),
        gross_mass_kg in opt(mass()),
        value in opt(money()),
        origin in opt(lenient(country())),
        hs_code in opt(lenient(parsed::<HsCode>("[0-9]{6}([0-9]{2}){0,2}"))),
        preference_claimed in any::<bool>(),
    ) -> Line {
        Line { number, product, quantity, supplementary_quantity, net_mass_kg, gross_mass_kg, value, origin, hs_code, preference_claimed }
    }
}

fn location() -> impl Strategy<Value = Location> {
    (
        opt(lenient(parsed::<UnLocode>("[A-Z]{2}[A-Z0-9]{3}"))),
        opt(text()),
    )
        .prop_map(|(locode, name)| Location { locode, name })
}

prop_compose! {
    fn transport()(
        mode in opt(select(vec![TransportMode::Sea, TransportMode::Rail, TransportMode::Road, TransportMode::Air, TransportMode::Post, TransportMode::Multimodal, TransportMode::FixedInstallation, TransportMode::InlandWaterway])),
        carrier in opt(parsed::<PartyId>("[a-z0-9-]{1,12}")),
        conveyance in opt(text()),
        voyage in opt(text()),
        equipment in few((text(), opt(text()), few(text())).prop_map(|(id, size_type, seals)| Equipment { id, size_type, seals })),
        loading in opt(location()),
        discharge in opt(location()),
        departure in opt(date()),
        arrival in opt(date()),
    ) -> Transport {
        Transport { mode, carrier, conveyance, voyage, equipment, loading, discharge, departure, arrival }
    }
}

fn document_kind() -> impl Strategy<Value = DocumentKind> {
    select(vec![
        DocumentKind::CommercialInvoice,
        DocumentKind::ProformaInvoice,
        DocumentKind::PackingList,
        DocumentKind::CertificateOfOrigin,
        DocumentKind::OriginStatement,
        DocumentKind::ExportLicence,
        DocumentKind::ImportLicence,
        DocumentKind::BillOfLading,
        DocumentKind::SeaWaybill,
        DocumentKind::AirWaybill,
        DocumentKind::RoadConsignmentNote,
        DocumentKind::RailConsignmentNote,
        DocumentKind::BrokerCommunication,
    ])
}

prop_compose! {
    fn document()(
        kind in document_kind(),
        number in text(),
        date in opt(date()),
        issuer in opt(text()),
        content_hash in opt(any::<[u8; 32]>().prop_map(ContentHash::from_bytes)),
        uri in opt(text()),
        lines in few(any::<u32>()),
    ) -> Document {
        Document { kind, number, date, issuer, content_hash, uri, lines }
    }
}

fn odoo_ref() -> impl Strategy<Value = OdooRef> {
    (any::<u64>(), opt(text())).prop_map(|(id, name)| OdooRef { id, name })
}

prop_compose! {
    fn shipment()(
        id in parsed::<ShipmentId>("[A-Za-z0-9._/-]{1,20}"),
        direction in select(vec![Direction::Export, Direction::Import, Direction::Transit]),
        date in opt(date()),
        odoo in (opt(odoo_ref()), opt(odoo_ref()), opt(odoo_ref()), opt(odoo_ref()))
            .prop_map(|(picking, sale_order, purchase_order, invoice)| OdooRefs { picking, sale_order, purchase_order, invoice }),
        countries in (opt(lenient(country())), opt(lenient(country()))),
        parties in few(party()),
        lines in proptest::collection::vec(line(), 0..4),
        incoterm in opt((opt(lenient(select(Incoterm::ALL.to_vec()))), opt(text()), opt(lenient(parsed::<UnLocode>("[A-Z]{2}[A-Z0-9]{3}"))))
            .prop_map(|(rule, place, place_locode)| DeliveryTerms { rule, place, place_locode })),
        costs in (opt(lenient(parsed::<Currency>("[A-Z]{3}"))), opt(money()), opt(money())),
        transport in opt(transport()),
        documents in few(document()),
    ) -> Shipment {
        let (dispatch_country, destination_country) = countries;
        let (currency, freight, insurance) = costs;
        Shipment {
            schema_version: SchemaVersion::V1, id, direction, date, odoo, dispatch_country, destination_country,
            parties, lines, incoterm, currency, freight, insurance, transport, documents,
        }
    }
}

prop_compose! {
    fn declaration()(
        lrn in parsed::<Lrn>("[A-Za-z0-9._-]{1,22}"),
        mrn in opt(parsed::<Mrn>("[A-Z0-9]{18}")),
        shipment in parsed::<ShipmentId>("[A-Za-z0-9-]{1,20}"),
        regime in select(vec![Regime::UkCds, Regime::UsAce, Regime::EuExport, Regime::EdifactCusdec]),
        declaration_type in opt(text()),
        procedure in parsed::<ProcedureCode>("[0-9]{4}"),
        additional_procedures in few(text()),
        customs_office in opt(parsed::<CustomsOffice>("[A-Z]{2}[0-9]{6}")),
        items in few((any::<u32>(), few(any::<u32>()), text(), parsed::<HsCode>("[0-9]{6}([0-9]{2}){0,2}"), country(), opt(parsed::<ProcedureCode>("[0-9]{4}")), opt(text()), opt(money()), opt(mass()), opt(mass()), opt(quantity()))
            .prop_map(|(number, lines, description, hs_code, origin, procedure, preference, customs_value, net_mass_kg, gross_mass_kg, supplementary_quantity)| DeclarationItem {
                number, lines, description, hs_code, origin, procedure, preference, customs_value, net_mass_kg, gross_mass_kg, supplementary_quantity,
            })),
        status in opt(select(vec![DeclarationStatus::Submitted, DeclarationStatus::Accepted, DeclarationStatus::Query, DeclarationStatus::Released, DeclarationStatus::Expired])),
        history in few((select(vec![DeclarationStatus::Received, DeclarationStatus::Control, DeclarationStatus::Cleared]), 0i64..4_000_000_000, opt(text()), opt(text()))
            .prop_map(|(status, secs, source_code, note)| StatusChange { status, at: time::OffsetDateTime::from_unix_timestamp(secs).unwrap(), source_code, note })),
    ) -> Declaration {
        Declaration { schema_version: SchemaVersion::V1, lrn, mrn, shipment, regime, declaration_type, procedure, additional_procedures, customs_office, declarant: None, items, status, history }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn shipment_json_round_trip_is_lossless(s in shipment()) {
        let text = serde_json::to_string(&s).unwrap();
        let back: Shipment = serde_json::from_str(&text).unwrap();
        prop_assert_eq!(&back, &s);
        prop_assert_eq!(serde_json::to_string(&back).unwrap(), text);
    }

    #[test]
    fn declaration_json_round_trip_is_lossless(d in declaration()) {
        let text = serde_json::to_string(&d).unwrap();
        let back: Declaration = serde_json::from_str(&text).unwrap();
        prop_assert_eq!(&back, &d);
        prop_assert_eq!(serde_json::to_string(&back).unwrap(), text);
    }

    #[test]
    fn hs_code_text_round_trip(digits in "[0-9]{6}([0-9]{2}){0,2}") {
        let code: HsCode = digits.parse().unwrap();
        prop_assert_eq!(code.to_string(), digits.clone());
        prop_assert_eq!(code.subheading(), digits[..6].parse::<u32>().unwrap());
    }

    #[test]
    fn malformed_codes_survive_a_round_trip(raw in "[ -~]{0,12}") {
        let v: Lenient<HsCode> = Lenient::parse(&raw);
        let text = serde_json::to_string(&v).unwrap();
        let back: Lenient<HsCode> = serde_json::from_str(&text).unwrap();
        prop_assert_eq!(back, v);
    }
}
