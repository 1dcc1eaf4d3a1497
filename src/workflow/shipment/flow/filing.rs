//! RATING → FILING: the duty estimate, routing and filing of each version of the declaration,
//! the broker's acknowledgement, and queries to the broker when the filing's fate is unknown.

use serde_json::{Value, json};

use crate::model::{DeclarationStatus, Direction};
use crate::tariff::duty;
use crate::workflow::exceptions::ExceptionType;
use crate::workflow::shipment::commands::{FileDeclaration, QueryStatus};
use crate::workflow::shipment::inputs::{BrokerAnswer, StatusReport};
use crate::workflow::shipment::step::Step;
use crate::workflow::shipment::{Estimate, Filing, Pending, Stage, lrn_for};

use super::FromResult;

impl Step<'_> {
    /// Failed reads and screenings that no longer matter once the saga moved past them.
    pub(super) fn drop_stale_lookups(&mut self, how: &str) {
        self.state
            .pending
            .retain(|_, pending| *pending != Pending::Read);
        self.resolve_where(
            |exception| {
                exception.kind == ExceptionType::PartnerFailed
                    && matches!(
                        &exception.about,
                        Some(Pending::Read | Pending::Screen { .. })
                    )
            },
            how,
        );
    }

    pub(super) fn rate_and_file(&mut self) {
        self.drop_stale_lookups("superseded: screening is complete");
        self.goto(Stage::Rating, "screening passed");
        self.estimate();
        self.file_new_version();
    }

    fn estimate(&mut self) {
        let Some(shipment) = self.state.shipment.as_ref() else {
            return;
        };
        let (estimate, working) = match (&self.saga.deps.tariff, shipment.direction) {
            (_, Direction::Export | Direction::Transit) => (
                Estimate::NotMade {
                    reason: "duty is estimated for imports only".into(),
                },
                Value::Null,
            ),
            (None, Direction::Import) => (
                Estimate::NotMade {
                    reason: "no tariff book is configured".into(),
                },
                Value::Null,
            ),
            (Some(book), Direction::Import) => match duty::compute(shipment, book) {
                Ok(rated) => (
                    Estimate::Computed {
                        jurisdiction: rated.jurisdiction.clone(),
                        currency: rated.currency,
                        customs_value: rated.customs_value,
                        total_duty: rated.total_duty,
                        total_taxes: rated.total_taxes,
                        total_fees: rated.total_fees,
                        landed_cost: rated.landed_cost,
                    },
                    serde_json::to_value(&rated).unwrap_or(Value::Null),
                ),
                Err(error) => (
                    Estimate::NotMade {
                        reason: error.to_string(),
                    },
                    Value::Null,
                ),
            },
        };
        self.event(
            "duty_estimate",
            json!({ "estimate": estimate, "working": working }),
        );
        self.state.estimate = Some(estimate);
    }

    /// File the next version of the declaration (the first, or an amendment after a rejection).
    fn file_new_version(&mut self) {
        let Some(shipment) = self.state.shipment.as_ref() else {
            return;
        };
        let previous = self
            .state
            .declaration
            .as_ref()
            .map(|declaration| declaration.lrn.clone());
        let version = self
            .state
            .declaration
            .as_ref()
            .map_or(1, |declaration| declaration.version + 1);
        let lrn = lrn_for(&self.input.key, version);
        let destination = shipment
            .destination_country
            .as_ref()
            .and_then(|country| country.valid().copied());
        let mode = shipment
            .transport
            .as_ref()
            .and_then(|transport| transport.mode);
        let decision = self
            .saga
            .deps
            .routing
            .route(destination, shipment.direction, mode);
        self.state.declaration = Some(Filing {
            lrn: lrn.clone(),
            version,
            partner: decision.partner.to_owned(),
            route: decision.route.map(str::to_owned),
            routing_version: decision.version.to_owned(),
            acked: false,
            mrn: None,
            status: None,
        });
        self.audited(
            "routed",
            json!({
                "lrn": lrn,
                "version": version,
                "previous_lrn": previous,
                "partner": decision.partner,
                "route": decision.route,
                "routing_version": decision.version,
            }),
        );
        self.goto(Stage::Filing, "declaration filed");
        self.send_file();
        if let Some(previous) = previous {
            self.resolve_kind(
                ExceptionType::RejectedDeclaration,
                &format!("amended: {previous} refiled as {lrn}"),
            );
        }
    }

    /// Send the current declaration (again, with the same LRN: the broker dedupes on it).
    pub(super) fn send_file(&mut self) {
        let (Some(declaration), Some(shipment)) =
            (self.state.declaration.clone(), self.state.shipment.as_ref())
        else {
            return;
        };
        let file = FileDeclaration {
            lrn: declaration.lrn.clone(),
            shipment: shipment.clone(),
            version: declaration.version,
            previous_lrn: (declaration.version > 1)
                .then(|| lrn_for(&self.input.key, declaration.version - 1)),
            estimate: self.state.estimate.clone(),
            route: declaration.route,
        };
        self.state
            .pending
            .retain(|_, pending| !matches!(pending, Pending::File { .. } | Pending::Query { .. }));
        self.send_pending(
            &declaration.partner,
            &format!("file:{}", declaration.lrn),
            &file,
            Pending::File {
                lrn: declaration.lrn,
            },
        );
        self.arm_ack();
    }

    /// Ask the broker what it knows about `lrn`.
    pub(super) fn query(&mut self, lrn: &str) {
        let Some(partner) = self
            .state
            .declaration
            .as_ref()
            .map(|declaration| declaration.partner.clone())
        else {
            return;
        };
        self.state
            .pending
            .retain(|_, pending| !matches!(pending, Pending::Query { .. }));
        self.send_pending(
            &partner,
            &format!("query:{lrn}"),
            &QueryStatus {
                lrn: lrn.to_owned(),
            },
            Pending::Query {
                lrn: lrn.to_owned(),
            },
        );
    }

    /// The broker acknowledged the filing of `lrn`.
    pub(super) fn on_filed(&mut self, lrn: String, result: &Value) {
        self.resolve_where(
            |exception| {
                exception.kind == ExceptionType::PartnerFailed
                    && matches!(&exception.about, Some(Pending::File { .. }))
            },
            "filing acknowledged",
        );
        let answer = BrokerAnswer::deserialize_from(result).unwrap_or(BrokerAnswer {
            lrn: None,
            status: None,
            mrn: None,
            reasons: Vec::new(),
        });
        let status = answer.status.unwrap_or(DeclarationStatus::Submitted);
        self.apply_status(StatusReport {
            lrn,
            status,
            mrn: answer.mrn,
            reasons: answer.reasons,
            source_code: None,
            caller: None,
        });
    }

    /// The broker answered a query about `lrn`.
    pub(super) fn on_query_answer(&mut self, lrn: String, answer: BrokerAnswer) {
        let current = self
            .state
            .declaration
            .as_ref()
            .map(|declaration| declaration.lrn.clone());
        if current.as_deref() != Some(lrn.as_str()) {
            return self.ignore(format!(
                "query answer for {lrn}, not the current declaration"
            ));
        }
        match answer.status {
            Some(status) => self.apply_status(StatusReport {
                lrn,
                status,
                mrn: answer.mrn,
                reasons: answer.reasons,
                source_code: None,
                caller: None,
            }),
            None => match self.state.stage {
                Stage::Cancelling => {
                    self.finish_cancel("the broker holds no declaration to withdraw")
                }
                Stage::OutcomeUnknown | Stage::Filing => {
                    let how = format!("the broker has no declaration {lrn}: filed again");
                    self.resolve_where(
                        |exception| {
                            matches!(
                                exception.kind,
                                ExceptionType::OutcomeUnknown | ExceptionType::AckTimeout
                            ) && matches!(&exception.about, Some(Pending::File { .. }) | None)
                        },
                        &how,
                    );
                    self.goto(Stage::Filing, "declaration unknown to the broker");
                    self.send_file();
                }
                other => self.event(
                    "query_answer",
                    json!({ "lrn": lrn, "status": null, "stage": other.as_str() }),
                ),
            },
        }
    }
}
