//! Landed cost: what the goods cost once at the door, and its parts as Odoo's
//! `stock.landed.cost` lines, each split over the shipment's lines.

use rust_decimal::Decimal;

use super::DutyError;
use super::allocate::{LineBasis, SplitMethod, allocate};
use super::working::LandedCostLine;

/// The costs that land on the goods, in the jurisdiction's currency.
pub(super) struct Costs {
    pub(super) goods: Decimal,
    pub(super) freight: Decimal,
    pub(super) insurance: Decimal,
    pub(super) duty: Decimal,
    /// Import taxes not recovered as input tax.
    pub(super) taxes: Decimal,
    pub(super) fees: Decimal,
}

/// The landed cost and the lines that add it to the goods' cost, split over `basis` (one per
/// shipment line, numbered by `numbers`) and rounded to `scale` decimals. Freight is split by
/// weight where the lines have one, else by cost.
pub(super) fn landed_cost(
    costs: &Costs,
    numbers: &[u32],
    basis: &[LineBasis],
    scale: u32,
) -> Result<(Decimal, Vec<LandedCostLine>), DutyError> {
    let total =
        costs.goods + costs.freight + costs.insurance + costs.duty + costs.taxes + costs.fees;
    let mut lines = Vec::new();
    let mut add = |name: &str, amount: Decimal, method: SplitMethod| -> Result<(), DutyError> {
        if amount.is_zero() {
            return Ok(());
        }
        let parts = allocate(amount, method, basis, scale)?;
        lines.push(LandedCostLine {
            name: name.to_owned(),
            amount,
            split_method: method,
            allocation: numbers.iter().copied().zip(parts).collect(),
        });
        Ok(())
    };
    add("Freight", costs.freight, SplitMethod::ByWeight)
        .or_else(|_| add("Freight", costs.freight, SplitMethod::ByCurrentCostPrice))?;
    add(
        "Insurance",
        costs.insurance,
        SplitMethod::ByCurrentCostPrice,
    )?;
    add("Customs duty", costs.duty, SplitMethod::ByCurrentCostPrice)?;
    add(
        "Non-recoverable import taxes",
        costs.taxes,
        SplitMethod::ByCurrentCostPrice,
    )?;
    add("Customs fees", costs.fees, SplitMethod::ByCurrentCostPrice)?;
    Ok((total, lines))
}
