//! RECEIVED → ENRICHING → VALIDATING: the Odoo hints, a directly submitted shipment, the read
//! of the picking and the validation of its master data.

use serde_json::json;

use crate::model::Shipment;
use crate::tariff::{Severity, validate};
use crate::workflow::exceptions::ExceptionType;
use crate::workflow::shipment::commands::ReadShipment;
use crate::workflow::shipment::step::Step;
use crate::workflow::shipment::{ODOO, Pending, Stage};

impl Step<'_> {
    /// The picking is confirmed: the first hint starts the saga; later ones say "confirmed,
    /// perhaps changed" (the poller cannot tell the two apart) and count as a change.
    pub(super) fn on_confirmed(&mut self, picking_id: u64) {
        if self.state.stage != Stage::Received {
            return self.on_changed(picking_id);
        }
        self.state.picking_id = Some(picking_id);
        self.enrich("picking confirmed in Odoo");
    }

    pub(super) fn on_changed(&mut self, picking_id: u64) {
        if self.state.picking_id != Some(picking_id) {
            return self.ignore(format!(
                "change hint for picking {picking_id}, not this shipment's"
            ));
        }
        match self.state.stage {
            Stage::Enriching | Stage::Validating | Stage::Screening | Stage::Rejected => {
                self.enrich("picking changed in Odoo")
            }
            other => self.ignore(format!(
                "change noted; no effect in {} (data is re-read only before filing or after a rejection)",
                other.as_str()
            )),
        }
    }

    pub(super) fn on_submitted(&mut self, shipment: Shipment) {
        if shipment.id.as_str() != self.input.key {
            return self.ignore(format!(
                "shipment id {} differs from the key {}",
                shipment.id, self.input.key
            ));
        }
        let stage = self.state.stage;
        if !stage.accepts_submission() {
            return self.ignore(format!(
                "a submitted shipment has no effect in {}",
                stage.as_str()
            ));
        }
        if self.state.picking_id.is_none() {
            self.state.picking_id = shipment.odoo.picking.as_ref().map(|picking| picking.id);
        }
        self.take_shipment(shipment);
    }

    /// Read the picking from Odoo (again), superseding any read in flight.
    ///
    /// Only the first read moves the stage to ENRICHING. A re-read keeps the stage, so that
    /// the hub's own write-back (which bumps the picking's `write_date` and comes back as a
    /// change hint) does not flip `x_trade_status` and cause yet another write and hint.
    pub(super) fn enrich(&mut self, why: &str) {
        // Every caller has a picking: a hint set it, or an earlier read of it was sent.
        let Some(picking_id) = self.state.picking_id else {
            return self.ignore("no Odoo picking to read");
        };
        self.state
            .pending
            .retain(|_, pending| *pending != Pending::Read);
        let read = ReadShipment {
            shipment_id: self.input.key.clone(),
            picking_id,
        };
        self.send_pending(ODOO, "read", &read, Pending::Read);
        if self.state.stage == Stage::Received {
            self.goto(Stage::Enriching, why);
        } else {
            self.event("read_again", json!({ "why": why }));
        }
    }

    /// Odoo answered the read.
    pub(super) fn on_read(&mut self, shipment: Shipment) {
        if !matches!(
            self.state.stage,
            Stage::Enriching | Stage::Validating | Stage::Screening | Stage::Rejected
        ) {
            return self.ignore(format!(
                "shipment data read in {}: too late to change the filing",
                self.state.stage.as_str()
            ));
        }
        if shipment.id.as_str() != self.input.key {
            return self.partner_failed(
                Pending::Read,
                format!(
                    "Odoo returned shipment {} for key {}",
                    shipment.id, self.input.key
                ),
            );
        }
        self.resolve_where(
            |exception| {
                exception.kind == ExceptionType::PartnerFailed
                    && exception.about == Some(Pending::Read)
            },
            "read succeeded",
        );
        self.take_shipment(shipment);
    }

    fn take_shipment(&mut self, shipment: Shipment) {
        self.state
            .pending
            .retain(|_, pending| !matches!(pending, Pending::Screen { .. }));
        self.resolve_where(
            |exception| {
                exception.kind == ExceptionType::PartnerFailed
                    && matches!(&exception.about, Some(Pending::Screen { .. }))
            },
            "superseded: the shipment is screened again",
        );
        self.state.screening.clear();
        self.state.shipment = Some(shipment);
        self.goto(Stage::Validating, "shipment data read");
        self.validate();
    }

    pub(super) fn validate(&mut self) {
        let Some(shipment) = self.state.shipment.as_ref() else {
            return;
        };
        let deps = &self.saga.deps;
        let report = validate(shipment, deps.reference.get(), &deps.rules);
        if report.valid {
            self.event(
                "validated",
                json!({ "valid": true, "warnings": report.issues, "nomenclature": report.nomenclature }),
            );
            self.resolve_kind(ExceptionType::MissingData, "validation passed");
            self.screen();
            return;
        }
        let errors: Vec<_> = report
            .issues
            .iter()
            .filter(|issue| issue.severity == Severity::Error)
            .collect();
        let detail = errors
            .iter()
            .map(|issue| format!("{} {}", issue.path, issue.code))
            .collect::<Vec<_>>()
            .join(", ");
        let data = json!({ "issues": report.issues, "nomenclature": report.nomenclature });
        self.goto(Stage::Validating, "master data invalid");
        self.open(ExceptionType::MissingData, detail, data, None);
    }
}
