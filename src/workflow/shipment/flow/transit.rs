//! RELEASED → IN_TRANSIT → DELIVERED: carrier milestones move the shipment along its journey,
//! and delivery starts settling.

use serde_json::json;

use crate::workflow::shipment::inputs::{Milestone, MilestoneReport};
use crate::workflow::shipment::step::Step;
use crate::workflow::shipment::{MilestoneSeen, Stage};

impl Step<'_> {
    pub(super) fn on_milestone(&mut self, report: MilestoneReport) {
        let seen = MilestoneSeen {
            code: report.code,
            at: report.at,
            location: report.location,
        };
        if self.state.milestones.contains(&seen) {
            return self.ignore("duplicate milestone");
        }
        self.event(
            "milestone",
            json!({ "code": seen.code, "at": seen.at, "location": seen.location, "carrier": report.carrier }),
        );
        self.state.milestones.insert(seen);
        self.progress();
    }

    /// Move along the journey as far as the milestones seen allow. Only forward: a late or
    /// earlier milestone never moves the stage back.
    pub(super) fn progress(&mut self) {
        if !matches!(self.state.stage, Stage::Released | Stage::InTransit) {
            return;
        }
        let Some(furthest) = self.state.furthest_milestone() else {
            return;
        };
        self.goto(Stage::InTransit, "carrier reports progress");
        if furthest == Milestone::Delivered {
            self.goto(Stage::Delivered, "delivered");
            self.goto(
                Stage::Settling,
                "waiting for assessed duty and the broker's invoice",
            );
            self.try_reconcile();
        }
    }
}
