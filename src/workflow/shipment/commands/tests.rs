use serde_json::{Value, json};
use tradehub_actors::envelope::Envelope;

use super::*;
use crate::workflow::shipment::inputs::{PICKING_CANCELLED, PICKING_CONFIRMED};
use crate::workflow::shipment::tests::{IMPORT_KEY, Run, import_json};
use crate::workflow::shipment::{ODOO, SCREENING};

fn envelope(kind: &str, body: Value) -> Envelope {
    Envelope::new("c1", IMPORT_KEY, kind, body)
}

/// Decodes `body` under `T`'s kind through its transport's decoder (`decoded` takes it out of
/// the group) and checks that serialising it again gives `body` back: no field added, lost,
/// renamed or reshaped.
fn round_trip<T: CommandBody>(
    body: Value,
    decoded: impl FnOnce(&Envelope) -> Result<T, CommandError>,
) -> T {
    let command = decoded(&envelope(T::KIND, body.clone())).expect("decodes");
    assert_eq!(serde_json::to_value(&command).expect("serialises"), body);
    command
}

fn odoo(envelope: &Envelope) -> Result<OdooCommand, CommandError> {
    OdooCommand::from_envelope(envelope)
}

fn broker(envelope: &Envelope) -> Result<BrokerCommand, CommandError> {
    BrokerCommand::from_envelope(envelope)
}

#[test]
fn read_shipment_keeps_its_shape() {
    let read = round_trip(
        json!({ "shipment_id": "WH-IN-00107", "picking_id": 107 }),
        |e| match odoo(e)? {
            OdooCommand::ReadShipment(read) => Ok(read),
            other => panic!("{other:?}"),
        },
    );
    assert_eq!(read.picking_id, 107);
}

#[test]
fn write_picking_keeps_its_shape() {
    for values in [
        json!({
            "x_trade_status": "ON_HOLD",
            "x_trade_hold": true,
            "x_trade_hold_reason": "SCREENING_REVIEW: 1 party(ies) potentially match a restricted-party list",
            "x_trade_mrn": null,
        }),
        json!({
            "x_trade_status": "RELEASED",
            "x_trade_hold": false,
            "x_trade_hold_reason": "",
            "x_trade_mrn": "26GB0000000000001",
        }),
    ] {
        let write = round_trip(
            json!({ "picking_id": 107, "values": values }),
            |e| match odoo(e)? {
                OdooCommand::WritePicking(write) => Ok(write),
                other => panic!("{other:?}"),
            },
        );
        assert_eq!(write.picking_id, 107);
    }
}

#[test]
fn post_note_keeps_its_shape() {
    round_trip(
        json!({ "picking_id": 107, "body": "Customs released the goods (MRN 26GB0000000000001); dispatch may proceed." }),
        |e| match odoo(e)? {
            OdooCommand::PostNote(note) => Ok(note),
            other => panic!("{other:?}"),
        },
    );
}

#[test]
fn schedule_activity_keeps_its_shape() {
    let activity = round_trip(
        json!({
            "picking_id": 107,
            "exception_id": "missing_data-1",
            "exception_type": "MISSING_DATA",
            "owner_role": "operator",
            "summary": "MISSING_DATA on shipment WH-IN-00107",
            "note": "lines[0].hs_code MISSING",
            "deadline_ms": 1_800_086_401_000u64,
        }),
        |e| match odoo(e)? {
            OdooCommand::ScheduleActivity(activity) => Ok(activity),
            other => panic!("{other:?}"),
        },
    );
    assert_eq!(activity.exception_type, ExceptionType::MissingData);
    assert_eq!(activity.owner_role, OwnerRole::Operator);
}

#[test]
fn close_activity_keeps_its_shape() {
    round_trip(
        json!({ "picking_id": 107, "exception_id": "missing_data-1", "feedback": "validation passed" }),
        |e| match odoo(e)? {
            OdooCommand::CloseActivity(done) => Ok(done),
            other => panic!("{other:?}"),
        },
    );
}

#[test]
fn check_party_keeps_its_shape() {
    let check = round_trip(
        json!({
            "shipment_id": "WH-IN-00107",
            "direction": "import",
            "party": {
                "id": "p-supplier",
                "kind": "organisation",
                "name": "Kanto Seimitsu K.K.",
                "aliases": ["Kanto Precision"],
                "country": "JP",
                "addresses": [{ "street": ["3-1 Marunouchi"], "city": "Tokyo", "country": "JP" }],
                "roles": ["consignor", "seller", "supplier"],
            },
        }),
        CheckParty::from_envelope,
    );
    assert_eq!(check.direction, Direction::Import);
    assert_eq!(check.party.name, "Kanto Seimitsu K.K.");
}

#[test]
fn file_declaration_keeps_its_shape() {
    let shipment: Shipment = serde_json::from_value(import_json()).expect("fixture");
    let shipment = serde_json::to_value(shipment).expect("serialises");
    for body in [
        json!({
            "lrn": "TH1E5A1A2D3C4B5F60001",
            "version": 1,
            "previous_lrn": null,
            "shipment": shipment,
            "estimate": { "kind": "not_made", "reason": "no tariff book is configured" },
            "route": null,
        }),
        json!({
            "lrn": "TH1E5A1A2D3C4B5F60002",
            "version": 2,
            "previous_lrn": "TH1E5A1A2D3C4B5F60001",
            "shipment": shipment,
            "estimate": {
                "kind": "computed",
                "jurisdiction": "GB",
                "currency": "GBP",
                "customs_value": "32143.20",
                "total_duty": "835.72",
                "total_taxes": "6595.78",
                "total_fees": "0",
                "landed_cost": "39574.70",
            },
            "route": "gb-imports",
        }),
    ] {
        round_trip(body, |e| match broker(e)? {
            BrokerCommand::File(file) => Ok(*file),
            other => panic!("{other:?}"),
        });
    }
}

#[test]
fn cancel_declaration_keeps_its_shape() {
    for mrn in [Value::Null, json!("26GB0000000000001")] {
        round_trip(
            json!({ "lrn": "TH1E5A1A2D3C4B5F60001", "mrn": mrn, "reason": "cancelled in Odoo" }),
            |e| match broker(e)? {
                BrokerCommand::Cancel(cancel) => Ok(cancel),
                other => panic!("{other:?}"),
            },
        );
    }
}

#[test]
fn query_status_keeps_its_shape() {
    round_trip(
        json!({ "lrn": "TH1E5A1A2D3C4B5F60001" }),
        |e| match broker(e)? {
            BrokerCommand::Query(query) => Ok(query),
            other => panic!("{other:?}"),
        },
    );
}

#[test]
fn a_file_command_without_shipment_is_named() {
    let command = Envelope::new("c1", "k", "customs.file", json!({ "lrn": "L1" }));
    let err = BrokerCommand::from_envelope(&command)
        .unwrap_err()
        .to_string();
    assert!(err.contains("L1") && err.contains("shipment"), "{err}");
    let command = Envelope::new("c1", "k", "customs.file", json!({}));
    let err = BrokerCommand::from_envelope(&command)
        .unwrap_err()
        .to_string();
    assert!(err.contains("no lrn"));
}

#[test]
fn a_kind_is_decoded_only_by_the_partner_that_executes_it() {
    let file = envelope(FILE_DECLARATION, json!({ "lrn": "L1" }));
    let err = OdooCommand::from_envelope(&file).unwrap_err();
    assert!(
        matches!(
            err,
            CommandError::UnknownKind {
                executor: "Odoo",
                ..
            }
        ),
        "{err}"
    );
    let err = CheckParty::from_envelope(&file).unwrap_err();
    assert!(err.to_string().contains(FILE_DECLARATION), "{err}");
    let note = envelope(POST_NOTE, json!({ "picking_id": 1, "body": "x" }));
    let err = BrokerCommand::from_envelope(&note).unwrap_err();
    assert!(err.to_string().contains(POST_NOTE), "{err}");
}

/// Every command the saga sends from confirmation to a filing, its ack timeout and a
/// cancellation decodes in the group of the partner it is sent to.
#[test]
fn the_saga_sends_what_the_transports_decode() {
    let mut run = Run::new(IMPORT_KEY);
    let mut sent = Vec::new();
    run.input(PICKING_CONFIRMED, json!({ "picking_id": 107 }));
    sent.extend(run.last.commands.clone());
    let read = run.one(READ_SHIPMENT);
    run.succeed(&read, json!({ "shipment": import_json() }));
    sent.extend(run.last.commands.clone());
    for check in run.sent(CHECK_PARTY) {
        run.succeed(&check, json!({ "outcome": "clear", "hits": [] }));
        sent.extend(run.last.commands.clone());
    }
    let ack = run.last.timers[0].clone();
    run.fire(&ack);
    sent.extend(run.last.commands.clone());
    run.input(PICKING_CANCELLED, json!({ "picking_id": 107 }));
    sent.extend(run.last.commands.clone());
    let cancel = run.one(CANCEL_DECLARATION);
    run.succeed(&cancel, json!({ "lrn": run.lrn(), "status": "CANCELLED" }));
    sent.extend(run.last.commands.clone());
    let mut kinds: Vec<&str> = Vec::new();
    for command in &sent {
        let kind = command.envelope.kind.as_str();
        let decoded = match command.partner.as_str() {
            ODOO => OdooCommand::from_envelope(&command.envelope).map(drop),
            SCREENING => CheckParty::from_envelope(&command.envelope).map(drop),
            _ => BrokerCommand::from_envelope(&command.envelope).map(drop),
        };
        assert!(decoded.is_ok(), "{kind}: {decoded:?}");
        kinds.push(kind);
    }
    for kind in [
        READ_SHIPMENT,
        WRITE_PICKING,
        POST_NOTE,
        SCHEDULE_ACTIVITY,
        CLOSE_ACTIVITY,
        CHECK_PARTY,
        FILE_DECLARATION,
        CANCEL_DECLARATION,
        QUERY_STATUS,
    ] {
        assert!(kinds.contains(&kind), "{kind} not seen in {kinds:?}");
    }
}
