//! One picking's records (moves, products, partners, orders, invoices) into a canonical shipment.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use crate::model::{
    Address, Classification, CountryCode, Currency, DeliveryTerms, Direction, Document,
    DocumentKind, HsCode, Identifier, IdentifierScheme, Jurisdiction, Lenient, Line, Mass, Money,
    OdooRef, OdooRefs, Party, PartyId, PartyKind, PartyRole, Product, ProductId, Quantity,
    SchemaVersion, Shipment, ShipmentId, Unit,
};

use super::{BuildError, RefData, shipment_key};
use crate::partners::odoo::value::Rec;

pub(super) struct Context<'a> {
    pub(super) refs: &'a RefData,
    pub(super) db: &'a str,
    pub(super) moves: &'a BTreeMap<u64, Rec>,
    pub(super) products: &'a BTreeMap<u64, Rec>,
    pub(super) partners: &'a BTreeMap<u64, Rec>,
    pub(super) sales: &'a BTreeMap<u64, Rec>,
    pub(super) purchases: &'a BTreeMap<u64, Rec>,
    pub(super) sale_lines: &'a BTreeMap<u64, Rec>,
    pub(super) purchase_lines: &'a BTreeMap<u64, Rec>,
    pub(super) invoices: &'a BTreeMap<u64, Rec>,
}

/// The invoice behind the declaration: the posted invoice as the commercial invoice, or, before
/// one is posted, the confirmed order as the pro forma invoice the declaration is made on.
fn invoice_document(invoice: Option<&Rec>, order: Option<&Rec>) -> Vec<Document> {
    let (kind, rec) = match (invoice, order) {
        (Some(invoice), _) => (DocumentKind::CommercialInvoice, invoice),
        (None, Some(order)) => (DocumentKind::ProformaInvoice, order),
        (None, None) => return Vec::new(),
    };
    rec.text("name")
        .map(|number| Document {
            kind,
            number: number.to_owned(),
            date: None,
            issuer: None,
            content_hash: None,
            uri: None,
            lines: Vec::new(),
        })
        .into_iter()
        .collect()
}

fn odoo_ref(rec: &Rec) -> OdooRef {
    OdooRef {
        id: rec.id(),
        name: rec.text("name").map(str::to_owned),
    }
}

impl Context<'_> {
    fn country(&self, rec: &Rec, field: &str) -> Option<Lenient<CountryCode>> {
        rec.m2o(field)
            .and_then(|id| self.refs.countries.get(&id))
            .map(|code| Lenient::parse(code))
    }

    pub(super) fn shipment(&self, p: &Rec) -> Result<Shipment, BuildError> {
        let picking = p.id();
        let invalid = |field: &str, reason: String| BuildError::Invalid {
            picking,
            field: field.to_owned(),
            reason,
        };
        let code = p.text("picking_type_code").unwrap_or_default();
        let direction = match code {
            "outgoing" => Direction::Export,
            "incoming" => Direction::Import,
            other => {
                return Err(BuildError::NotCrossBorder {
                    picking,
                    code: other.to_owned(),
                });
            }
        };
        let id: ShipmentId = shipment_key(self.db, picking)
            .parse()
            .map_err(|e| invalid("id", format!("{e}")))?;
        let sale = p
            .m2o("sale_id")
            .map(|id| {
                self.sales.get(&id).ok_or(BuildError::Missing {
                    picking,
                    model: "sale.order",
                    id,
                })
            })
            .transpose()?;
        let purchase = p
            .m2o("purchase_id")
            .map(|id| {
                self.purchases.get(&id).ok_or(BuildError::Missing {
                    picking,
                    model: "purchase.order",
                    id,
                })
            })
            .transpose()?;
        let order = sale.or(purchase);
        let currency_text = order
            .and_then(|o| o.m2o_name("currency_id"))
            .map(str::to_owned);
        let currency: Option<Lenient<Currency>> = currency_text.as_deref().map(Lenient::parse);
        let invoice = order.and_then(|o| {
            o.ids("invoice_ids")
                .into_iter()
                .filter_map(|id| self.invoices.get(&id))
                .find(|inv| inv.text("state") == Some("posted"))
        });

        let mut parties: Vec<Party> = Vec::new();
        let mut add = |partner_id: Option<u64>, roles: &[PartyRole]| -> Result<(), BuildError> {
            let Some(pid) = partner_id else { return Ok(()) };
            if let Some(existing) = parties.iter_mut().find(|party| party.odoo_id == Some(pid)) {
                for role in roles {
                    if !existing.roles.contains(role) {
                        existing.roles.push(*role);
                    }
                }
                return Ok(());
            }
            let rec = self.partners.get(&pid).ok_or(BuildError::Missing {
                picking,
                model: "res.partner",
                id: pid,
            })?;
            let party = self.party(rec, roles, picking)?;
            // A delivery contact is screened as its company: the same party, more roles.
            match parties.iter_mut().find(|known| known.id == party.id) {
                Some(known) => {
                    for role in party.roles {
                        if !known.roles.contains(&role) {
                            known.roles.push(role);
                        }
                    }
                    for alias in party.aliases {
                        if alias != known.name && !known.aliases.contains(&alias) {
                            known.aliases.push(alias);
                        }
                    }
                }
                None => parties.push(party),
            }
            Ok(())
        };
        let company = self.refs.company_partner;
        match direction {
            Direction::Export => {
                add(
                    company,
                    &[PartyRole::Seller, PartyRole::Exporter, PartyRole::Consignor],
                )?;
                add(sale.and_then(|s| s.m2o("partner_id")), &[PartyRole::Buyer])?;
                add(
                    p.m2o("partner_id"),
                    &[PartyRole::Consignee, PartyRole::ShipTo],
                )?;
            }
            _ => {
                add(
                    p.m2o("partner_id")
                        .or(purchase.and_then(|o| o.m2o("partner_id"))),
                    &[PartyRole::Supplier, PartyRole::Seller, PartyRole::Consignor],
                )?;
                add(
                    company,
                    &[PartyRole::Buyer, PartyRole::Importer, PartyRole::Consignee],
                )?;
            }
        }
        let country_of = |roles: PartyRole| {
            parties
                .iter()
                .find(|party| party.roles.contains(&roles))
                .and_then(|party| party.effective_country().cloned())
        };
        let company_country = self.refs.company_country.as_deref().map(Lenient::parse);
        let (dispatch_country, destination_country) = match direction {
            Direction::Export => (company_country.clone(), country_of(PartyRole::Consignee)),
            _ => (country_of(PartyRole::Consignor), company_country.clone()),
        };
        let customs_country = match direction {
            Direction::Export => dispatch_country.as_ref(),
            _ => destination_country.as_ref(),
        }
        .and_then(|c| c.valid().copied());

        let mut lines = Vec::new();
        for (index, move_id) in p.ids("move_ids").into_iter().enumerate() {
            let m = self.moves.get(&move_id).ok_or(BuildError::Missing {
                picking,
                model: "stock.move",
                id: move_id,
            })?;
            lines.push(self.line(picking, index, m, currency.as_ref(), customs_country)?);
        }
        let incoterm = order.and_then(|o| {
            let rule = o
                .m2o("incoterm")
                .or(o.m2o("incoterm_id"))
                .and_then(|id| self.refs.incoterms.get(&id))
                .map(|c| Lenient::parse(c));
            let place = o.text("incoterm_location").map(str::to_owned);
            (rule.is_some() || place.is_some()).then_some(DeliveryTerms {
                rule,
                place,
                place_locode: None,
            })
        });
        let date = p
            .datetime("scheduled_date")
            .map(|d| crate::model::Date::new(d.date()));
        Ok(Shipment {
            schema_version: SchemaVersion::V1,
            id,
            direction,
            date,
            odoo: OdooRefs {
                picking: Some(odoo_ref(p)),
                sale_order: sale.map(odoo_ref),
                purchase_order: purchase.map(odoo_ref),
                invoice: invoice.map(odoo_ref),
            },
            dispatch_country,
            destination_country,
            parties,
            lines,
            incoterm,
            currency,
            freight: None,
            insurance: None,
            transport: None,
            documents: invoice_document(invoice, order),
        })
    }

    fn party(&self, rec: &Rec, roles: &[PartyRole], picking: u64) -> Result<Party, BuildError> {
        // A delivery contact is screened under its company's name; the contact's own name is
        // kept as an alias so nothing Odoo holds is lost.
        let parent = rec.m2o("parent_id").and_then(|id| self.partners.get(&id));
        let own_name = rec.text("name").unwrap_or_default().to_owned();
        let (name, aliases) = match parent.and_then(|p| p.text("name")) {
            Some(company) => (company.to_owned(), vec![own_name]),
            None => (own_name, Vec::new()),
        };
        if name.is_empty() {
            return Err(BuildError::Invalid {
                picking,
                field: format!("res.partner {}.name", rec.id()),
                reason: "empty".to_owned(),
            });
        }
        let country = self
            .country(rec, "country_id")
            .or_else(|| parent.and_then(|p| self.country(p, "country_id")));
        let street: Vec<String> = ["street", "street2"]
            .iter()
            .filter_map(|f| rec.text(f).map(str::to_owned))
            .collect();
        let address = Address {
            street,
            city: rec.text("city").map(str::to_owned),
            postal_code: rec.text("zip").map(str::to_owned),
            subdivision: None,
            country: country.clone(),
        };
        let vat = rec
            .text("vat")
            .or_else(|| parent.and_then(|p| p.text("vat")));
        let is_company = rec.flag("is_company") || parent.is_some();
        Ok(Party {
            id: format!("odoo-partner-{}", parent.map_or(rec.id(), Rec::id))
                .parse::<PartyId>()
                .map_err(|e| BuildError::Invalid {
                    picking,
                    field: "party id".to_owned(),
                    reason: e.to_string(),
                })?,
            odoo_id: Some(rec.id()),
            kind: if is_company {
                PartyKind::Organisation
            } else {
                PartyKind::Individual
            },
            name,
            aliases,
            addresses: vec![address],
            country,
            identifiers: vat
                .map(|v| Identifier {
                    scheme: IdentifierScheme::Vat,
                    value: v.to_owned(),
                    country: None,
                })
                .into_iter()
                .collect(),
            roles: roles.to_vec(),
        })
    }

    fn line(
        &self,
        picking: u64,
        index: usize,
        m: &Rec,
        currency: Option<&Lenient<Currency>>,
        customs_country: Option<CountryCode>,
    ) -> Result<Line, BuildError> {
        let invalid = |field: String, reason: String| BuildError::Invalid {
            picking,
            field,
            reason,
        };
        let product_id = m.m2o("product_id").ok_or_else(|| {
            invalid(
                format!("stock.move {}.product_id", m.id()),
                "empty".to_owned(),
            )
        })?;
        let prod = self.products.get(&product_id).ok_or(BuildError::Missing {
            picking,
            model: "product.product",
            id: product_id,
        })?;
        let qty = m.decimal("product_uom_qty").unwrap_or_default();
        let unit_name = m
            .m2o("product_uom")
            .and_then(|id| self.refs.units.get(&id))
            .map_or("Units", String::as_str);
        let unit = unit_of(unit_name).ok_or_else(|| {
            invalid(
                format!("stock.move {}.product_uom", m.id()),
                format!("unit {unit_name:?} has no customs equivalent"),
            )
        })?;
        let quantity = Quantity::new(qty, unit).map_err(|e| {
            invalid(
                format!("stock.move {}.product_uom_qty", m.id()),
                e.to_string(),
            )
        })?;
        let weight = prod.decimal("weight").filter(|w| !w.is_zero());
        let unit_mass = weight.and_then(|w| Mass::kg(w).ok());
        let line_mass = weight.and_then(|w| Mass::kg((w * qty).round_dp(3)).ok());
        let hs = prod.text("hs_code").map(|code| {
            let parsed: Lenient<HsCode> = Lenient::parse(code);
            // Six digits are the WCO's; more are a national subdivision of the customs country.
            let jurisdiction = match (parsed.valid(), customs_country) {
                (Some(code), Some(country)) if code.is_national() => Jurisdiction::Country(country),
                _ => Jurisdiction::Wco,
            };
            Classification {
                jurisdiction,
                code: parsed,
                valid_from: None,
                valid_to: None,
            }
        });
        let price = if let Some(line) = m
            .m2o("sale_line_id")
            .and_then(|id| self.sale_lines.get(&id))
        {
            let discount = line.decimal("discount").unwrap_or_default();
            line.decimal("price_unit")
                .map(|p| p * (Decimal::ONE_HUNDRED - discount) / Decimal::ONE_HUNDRED)
        } else if let Some(line) = m
            .m2o("purchase_line_id")
            .and_then(|id| self.purchase_lines.get(&id))
        {
            line.decimal("price_unit")
        } else {
            prod.decimal("list_price")
        };
        let value = match (price, currency.and_then(Lenient::valid)) {
            (Some(price), Some(cur)) => Some(Money::new((price * qty).round_dp(2), *cur)),
            _ => None,
        };
        let code = prod
            .text("default_code")
            .map_or_else(|| format!("odoo-product-{product_id}"), str::to_owned);
        let product = Product {
            id: code
                .parse::<ProductId>()
                .or_else(|_| format!("odoo-product-{product_id}").parse())
                .map_err(|e: crate::model::ModelError| {
                    invalid("product id".to_owned(), e.to_string())
                })?,
            odoo_id: Some(product_id),
            description: prod.text("name").unwrap_or_default().to_owned(),
            classifications: hs.into_iter().collect(),
            origin: self.country(prod, "country_of_origin"),
            preference_eligible: false,
            supplementary_unit: None,
            net_mass_kg: unit_mass,
            gross_mass_kg: None,
            export_controls: Vec::new(),
        };
        Ok(Line {
            number: u32::try_from(index + 1).unwrap_or(u32::MAX),
            product,
            quantity,
            supplementary_quantity: None,
            net_mass_kg: line_mass,
            gross_mass_kg: None,
            value,
            origin: None,
            hs_code: None,
            preference_claimed: false,
        })
    }
}

/// Odoo's default units of measure and their customs equivalents.
fn unit_of(name: &str) -> Option<Unit> {
    Some(match name.to_ascii_lowercase().as_str() {
        "units" | "unit" | "unit(s)" | "pce" | "pc" => Unit::Piece,
        "kg" => Unit::Kilogram,
        "g" => Unit::Gram,
        "t" => Unit::Tonne,
        "l" => Unit::Litre,
        "m" => Unit::Metre,
        "m²" | "m2" => Unit::SquareMetre,
        "m³" | "m3" => Unit::CubicMetre,
        _ => return None,
    })
}
