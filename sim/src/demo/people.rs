//! The people around the hub, as the demo plays them. They work where such people work: in
//! Odoo (which shows the hub's `x_trade_status` on every picking) and, for decisions the hub
//! asks of them, through its API.
//!
//! | status in Odoo | who | what they do |
//! |---|---|---|
//! | VALIDATING | data steward | fills the product's missing HS code or origin, then reschedules the picking |
//! | ON_HOLD | compliance officer | confirms a potential match on an SDN-listed customer, clears the rest |
//! | REJECTED | customs operator | amends the picking (tracking reference), which makes the hub refile |
//! | RELEASED | warehouse | ships: books the carrier under the shipment id with the hub, then the carrier starts posting milestones |
//! | FILING … RELEASED | sales | cancels the orders picked for cancellation |
//!
//! Each acts once per episode (again only if the status has not moved after a while).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::Outcome;
use super::world::{CARRIERS, DemoError, DemoOptions, World};
use crate::carrier::CarrierFormat;
use crate::odoo::SDN_CUSTOMERS;
use tradehub::partners::odoo::shipment_key;

/// What the data steward knows: the right HS code and origin of the products seeded without.
const PRODUCT_FIXES: [(&str, &str, &str); 3] = [
    ("RW-KIT-SEAL", "848420", "DE"),
    ("RW-SPR-MIX", "841391", "DE"),
    ("RW-FLT-200", "842199", "DE"),
];

/// A person acts again on an unchanged status after this long.
const PATIENCE: Duration = Duration::from_secs(3);

/// The terminal statuses.
const TERMINAL: [&str; 3] = ["CLOSED", "CANCELLED", "BLOCKED"];

struct Tracked {
    picking: u64,
    key: String,
    created: Instant,
    expected: &'static str,
    cancel: bool,
    last_action: Option<(String, Instant)>,
    shipped: bool,
    cancelled: bool,
    finished: Option<Instant>,
    touches: u32,
}

/// The people and what they know about each shipment.
pub struct People {
    tracked: Vec<Tracked>,
    actions: BTreeMap<String, u64>,
    fixed_products: HashSet<u64>,
    seed: u64,
}

fn sim_err(what: &str) -> impl FnOnce(crate::odoo::SimError) -> DemoError + '_ {
    move |e| DemoError::Run(format!("{what}: {e:?}"))
}

fn m2o_name(record: &serde_json::Map<String, Value>, field: &str) -> Option<String> {
    record
        .get(field)
        .and_then(Value::as_array)
        .and_then(|pair| pair.get(1))
        .and_then(Value::as_str)
        .map(str::to_owned)
}

fn m2o_id(record: &serde_json::Map<String, Value>, field: &str) -> Option<u64> {
    record
        .get(field)
        .and_then(Value::as_array)
        .and_then(|pair| pair.first())
        .and_then(Value::as_u64)
}

fn is_sdn(name: &str) -> bool {
    SDN_CUSTOMERS
        .iter()
        .any(|s| s.eq_ignore_ascii_case(name.trim()))
}

impl People {
    /// Create the pickings in Odoo (three exports for each import receipt, one to four lines)
    /// and work out what each should end as.
    pub fn new(world: &World, options: &DemoOptions) -> Result<Self, DemoError> {
        let imports = options.shipments / 4;
        let exports = options.shipments - imports;
        // Each picking's clock starts just before the call that creates it: the hub may pick
        // up the first ones while the rest are still being created.
        let mut created_at = Vec::with_capacity(options.shipments);
        let mut pickings = Vec::with_capacity(options.shipments);
        let mut batch = 0;
        while pickings.len() < exports {
            let count = (exports - pickings.len()).min(10);
            let lines = 1 + batch % 4;
            let at = Instant::now();
            pickings.extend(
                world
                    .odoo
                    .create_pickings(count, lines)
                    .map_err(sim_err("creating export pickings"))?,
            );
            created_at.resize(pickings.len(), at);
            batch += 1;
        }
        if imports > 0 {
            let at = Instant::now();
            pickings.extend(
                world
                    .odoo
                    .create_receipts(imports, 2)
                    .map_err(sim_err("creating import receipts"))?,
            );
            created_at.resize(pickings.len(), at);
        }
        let records = world
            .odoo
            .read("stock.picking", &pickings, &["partner_id", "sale_id"])
            .map_err(sim_err("reading the pickings"))?;
        let orders: Vec<u64> = records
            .iter()
            .filter_map(|r| m2o_id(r, "sale_id"))
            .collect();
        let customers: HashMap<u64, String> = world
            .odoo
            .read("sale.order", &orders, &["partner_id"])
            .map_err(sim_err("reading the orders"))?
            .iter()
            .filter_map(|o| Some((o.get("id")?.as_u64()?, m2o_name(o, "partner_id")?)))
            .collect();
        let db = world.odoo.db().to_owned();
        let tracked = pickings
            .iter()
            .zip(&records)
            .zip(created_at)
            .map(|((&picking, record), created)| {
                let key = shipment_key(&db, picking);
                let ship_to = m2o_name(record, "partner_id").unwrap_or_default();
                let customer = m2o_id(record, "sale_id")
                    .and_then(|o| customers.get(&o).cloned())
                    .unwrap_or_default();
                let listed = is_sdn(&ship_to) || is_sdn(&customer);
                let cancel = !listed && chosen(options.seed, &key, options.cancel_percent);
                Tracked {
                    picking,
                    key,
                    created,
                    expected: if listed {
                        "BLOCKED"
                    } else if cancel {
                        "CANCELLED"
                    } else {
                        "CLOSED"
                    },
                    cancel,
                    last_action: None,
                    shipped: false,
                    cancelled: false,
                    finished: None,
                    touches: 0,
                }
            })
            .collect();
        Ok(Self {
            tracked,
            actions: BTreeMap::new(),
            fixed_products: HashSet::new(),
            seed: options.seed,
        })
    }

    /// When the first picking was created (now when there is none).
    pub fn started(&self) -> Instant {
        self.tracked
            .iter()
            .map(|t| t.created)
            .min()
            .unwrap_or_else(Instant::now)
    }

    /// Shipments in the run.
    pub fn len(&self) -> usize {
        self.tracked.len()
    }

    /// Whether the run has no shipments.
    pub fn is_empty(&self) -> bool {
        self.tracked.is_empty()
    }

    /// What the people did.
    pub fn actions(&self) -> BTreeMap<String, u64> {
        self.actions.clone()
    }

    /// One round: look at every unfinished picking in Odoo and act; returns how many finished.
    pub async fn round(&mut self, world: &World) -> Result<usize, DemoError> {
        let open: Vec<u64> = self
            .tracked
            .iter()
            .filter(|t| t.finished.is_none())
            .map(|t| t.picking)
            .collect();
        let statuses = statuses(world, &open)?;
        for index in 0..self.tracked.len() {
            let t = &self.tracked[index];
            if t.finished.is_some() {
                continue;
            }
            let Some(status) = statuses.get(&t.picking).cloned() else {
                continue;
            };
            if TERMINAL.contains(&status.as_str()) {
                self.tracked[index].finished = Some(Instant::now());
                continue;
            }
            let fresh = match &t.last_action {
                Some((s, at)) => *s != status || at.elapsed() > PATIENCE,
                None => true,
            };
            if !fresh {
                continue;
            }
            let acted = match self.act(world, index, &status).await {
                Ok(acted) => acted,
                Err(DemoError::HubBusy(reason)) => {
                    tracing::debug!(%reason, "a person will try again next round");
                    false
                }
                Err(e) => return Err(e),
            };
            if acted {
                self.tracked[index].last_action = Some((status, Instant::now()));
            }
        }
        Ok(self.tracked.iter().filter(|t| t.finished.is_some()).count())
    }

    fn count(&mut self, action: &str) {
        *self.actions.entry(action.to_owned()).or_insert(0) += 1;
    }

    async fn act(&mut self, world: &World, index: usize, status: &str) -> Result<bool, DemoError> {
        let (picking, key, cancel) = {
            let t = &self.tracked[index];
            (t.picking, t.key.clone(), t.cancel)
        };
        if cancel && matches!(status, "FILING" | "AWAITING_RELEASE" | "RELEASED") {
            if self.tracked[index].cancelled {
                return Ok(false);
            }
            world
                .odoo
                .user_write("stock.picking", &[picking], json!({ "state": "cancel" }))
                .map_err(sim_err("cancelling a picking"))?;
            self.tracked[index].cancelled = true;
            self.count("sales cancelled an order after filing");
            return Ok(true);
        }
        match status {
            "VALIDATING" => {
                self.fix_products(world, picking)?;
                self.touch(world, index, "scheduled_date")?;
                self.count("data steward fixed master data");
                Ok(true)
            }
            "ON_HOLD" => {
                self.review(world, &key).await?;
                Ok(true)
            }
            "REJECTED" => {
                self.touch(world, index, "carrier_tracking_ref")?;
                self.count("customs operator amended a rejected declaration");
                Ok(true)
            }
            "SETTLING" => {
                self.resolve_open(
                    world,
                    &key,
                    "DUTY_VARIANCE",
                    "accept",
                    "checked against the customs assessment: the assessed figures stand",
                    "finance accepted a duty variance",
                )
                .await
            }
            "CANCELLING" => {
                self.resolve_open(
                    world,
                    &key,
                    "PARTNER_FAILED",
                    "force_cancel",
                    "the goods stay here; customs invalidates the unused declaration",
                    "customs operator closed a cancellation the broker refused",
                )
                .await
            }
            "RELEASED" if !self.tracked[index].shipped => {
                let format = CarrierFormat::for_shipment(self.seed, &key);
                // The hub takes a carrier's milestones only for bookings it knows.
                let carrier = match format {
                    CarrierFormat::Dcsa => CARRIERS[0],
                    CarrierFormat::X12 => CARRIERS[1],
                };
                post(
                    world,
                    &world.tokens.warehouse,
                    &format!("{}/v1/shipments/{key}/bookings", world.api),
                    json!({ "carrier": carrier, "reference": key }),
                )
                .await?;
                drop(world.carrier.dispatch(&key, format));
                self.tracked[index].shipped = true;
                self.count("warehouse shipped released goods");
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// Fill what the steward knows into the picking's products that lack it.
    fn fix_products(&mut self, world: &World, picking: u64) -> Result<(), DemoError> {
        let moves = world
            .odoo
            .read("stock.picking", &[picking], &["move_ids"])
            .map_err(sim_err("reading moves"))?;
        let move_ids: Vec<u64> = moves
            .first()
            .and_then(|p| p.get("move_ids"))
            .and_then(Value::as_array)
            .map(|ids| ids.iter().filter_map(Value::as_u64).collect())
            .unwrap_or_default();
        let products: Vec<u64> = world
            .odoo
            .read("stock.move", &move_ids, &["product_id"])
            .map_err(sim_err("reading move products"))?
            .iter()
            .filter_map(|m| m2o_id(m, "product_id"))
            .filter(|p| !self.fixed_products.contains(p))
            .collect();
        for record in world
            .odoo
            .read(
                "product.product",
                &products,
                &["default_code", "product_tmpl_id"],
            )
            .map_err(sim_err("reading products"))?
        {
            let (Some(id), Some(template)) = (
                record.get("id").and_then(Value::as_u64),
                m2o_id(&record, "product_tmpl_id"),
            ) else {
                continue;
            };
            let code = record
                .get("default_code")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let Some((_, hs, origin)) = PRODUCT_FIXES.iter().find(|(c, _, _)| *c == code) else {
                continue;
            };
            let country = world
                .odoo
                .search("res.country", json!([["code", "=", origin]]))
                .map_err(sim_err("finding a country"))?;
            let mut values = json!({ "hs_code": hs });
            if let Some(country) = country.first() {
                values["country_of_origin"] = json!(country);
            }
            world
                .odoo
                .user_write("product.template", &[template], values)
                .map_err(sim_err("fixing a product"))?;
            self.fixed_products.insert(id);
        }
        Ok(())
    }

    /// Change a watched field of the picking, as a person editing it does.
    fn touch(&mut self, world: &World, index: usize, field: &str) -> Result<(), DemoError> {
        let t = &mut self.tracked[index];
        t.touches += 1;
        let value = if field == "scheduled_date" {
            let at = time::OffsetDateTime::now_utc()
                + time::Duration::days(3)
                + time::Duration::minutes(i64::from(t.touches));
            json!(format!(
                "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
                at.year(),
                u8::from(at.month()),
                at.day(),
                at.hour(),
                at.minute(),
                at.second()
            ))
        } else {
            json!(format!("AMEND-{}-{}", t.picking, t.touches))
        };
        world
            .odoo
            .user_write("stock.picking", &[t.picking], json!({ field: value }))
            .map_err(sim_err("editing a picking"))
    }

    /// The compliance officer: read the parties under review, confirm SDN customers, clear others.
    async fn review(&mut self, world: &World, key: &str) -> Result<(), DemoError> {
        let officer = &world.tokens.compliance;
        let state = shipment(world, officer, key).await?;
        let under_review: Vec<String> = state["state"]["screening"]
            .as_object()
            .map(|parties| {
                parties
                    .values()
                    .filter(|c| c["outcome"] == "potential_match" && c["cleared_by"].is_null())
                    .filter_map(|c| c["name"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        if under_review.is_empty() {
            return Ok(());
        }
        let confirm = under_review.iter().any(|n| is_sdn(n));
        let (decision, reason, action) = if confirm {
            (
                "confirm",
                "the party is the listed entity (name, country and programme agree)",
                "compliance officer confirmed a match",
            )
        } else {
            (
                "clear",
                "different entity: name similarity only, country and business differ",
                "compliance officer cleared a false positive",
            )
        };
        let url = format!("{}/v1/shipments/{key}/screening/decision", world.api);
        post(
            world,
            officer,
            &url,
            json!({ "decision": decision, "reason": reason }),
        )
        .await?;
        self.count(action);
        Ok(())
    }

    /// Resolve the shipment's open exception of type `kind` with `action`, if there is one.
    async fn resolve_open(
        &mut self,
        world: &World,
        key: &str,
        kind: &str,
        action: &str,
        note: &str,
        done: &str,
    ) -> Result<bool, DemoError> {
        let operator = &world.tokens.operator;
        let state = shipment(world, operator, key).await?;
        let open = state["state"]["exceptions"].as_array().and_then(|e| {
            e.iter()
                .find(|x| x["type"] == kind && x["state"]["kind"] == "open")
                .and_then(|x| x["id"].as_str().map(str::to_owned))
        });
        let Some(exception) = open else {
            return Ok(false);
        };
        let url = format!(
            "{}/v1/shipments/{key}/exceptions/{exception}/resolve",
            world.api
        );
        post(
            world,
            operator,
            &url,
            json!({ "action": action, "note": note }),
        )
        .await?;
        self.count(done);
        Ok(true)
    }

    /// How every shipment ended, from the hub and from Odoo.
    pub async fn outcomes(&self, world: &World) -> Result<Vec<Outcome>, DemoError> {
        let ids: Vec<u64> = self.tracked.iter().map(|t| t.picking).collect();
        let statuses = statuses(world, &ids)?;
        let mut outcomes = Vec::with_capacity(self.tracked.len());
        for t in &self.tracked {
            let found = shipment(world, &world.tokens.viewer, &t.key).await.ok();
            let state = found.as_ref().map(|f| &f["state"]);
            outcomes.push(Outcome {
                shipment_id: t.key.clone(),
                expected: t.expected.to_owned(),
                hub_stage: state.and_then(|s| s["stage"].as_str()).map(str::to_owned),
                odoo_status: statuses.get(&t.picking).cloned(),
                exceptions: state
                    .and_then(|s| s["exceptions"].as_array())
                    .map(|e| {
                        e.iter()
                            .filter_map(|x| x["type"].as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default(),
                open_exceptions: state
                    .and_then(|s| s["exceptions"].as_array())
                    .map(|e| {
                        e.iter()
                            .filter(|x| x["state"]["kind"] == "open")
                            .map(|x| format!("{}: {}", x["type"], x["detail"]))
                            .collect()
                    })
                    .unwrap_or_default(),
                odoo_writebacks: world.odoo.api_changes("stock.picking", t.picking),
                declarations: state
                    .and_then(|s| s["declaration"]["version"].as_u64())
                    .map_or(0, |v| v as u32),
                latency_ms: t
                    .finished
                    .map(|f| f.duration_since(t.created).as_millis() as u64),
            });
        }
        Ok(outcomes)
    }
}

/// Odoo's `x_trade_status` of each of `pickings` that has one.
fn statuses(world: &World, pickings: &[u64]) -> Result<HashMap<u64, String>, DemoError> {
    Ok(world
        .odoo
        .read("stock.picking", pickings, &["x_trade_status"])
        .map_err(sim_err("reading statuses"))?
        .into_iter()
        .filter_map(|r| {
            Some((
                r.get("id")?.as_u64()?,
                r.get("x_trade_status")?.as_str()?.to_owned(),
            ))
        })
        .collect())
}

/// Whether the hub asks to be tried again later: a 5xx or a 429.
fn busy(status: reqwest::StatusCode) -> bool {
    status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS
}

/// POST `body` to the hub with `token`. No answer, a 5xx or a 429 is [`DemoError::HubBusy`]
/// (tried again later); any other answer but a 2xx stops the run.
async fn post(world: &World, token: &str, url: &str, body: Value) -> Result<(), DemoError> {
    let response = world
        .http
        .post(url)
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .map_err(|e| DemoError::HubBusy(format!("POST {url}: {e}")))?;
    if response.status().is_success() {
        return Ok(());
    }
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    let what = format!("POST {url}: {status}: {text}");
    Err(if busy(status) {
        DemoError::HubBusy(what)
    } else {
        DemoError::Run(what)
    })
}

/// `GET /v1/shipments/{key}` with `token`.
async fn shipment(world: &World, token: &str, key: &str) -> Result<Value, DemoError> {
    let url = format!("{}/v1/shipments/{key}", world.api);
    let response = world
        .http
        .get(&url)
        .bearer_auth(token)
        .send()
        .await
        .map_err(|e| DemoError::HubBusy(format!("GET {url}: {e}")))?;
    let status = response.status();
    if busy(status) {
        return Err(DemoError::HubBusy(format!("GET {url}: {status}")));
    }
    if !status.is_success() {
        return Err(DemoError::Run(format!("GET {url}: {status}")));
    }
    response
        .json()
        .await
        .map_err(|e| DemoError::Run(format!("GET {url}: {e}")))
}

/// Whether `key` is among the `percent` of shipments chosen under `seed`.
fn chosen(seed: u64, key: &str, percent: u64) -> bool {
    let digest = Sha256::digest(format!("cancel:{seed}:{key}").as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(first) % 100 < percent
}
