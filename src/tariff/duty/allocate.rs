//! Splitting a cost over lines the way Odoo's `stock.landed.cost` does: equal, by quantity, by
//! current cost price, by weight or by volume, rounded to the currency's scale with the rounding
//! remainder put on the first line, so that the parts always add up to the total exactly.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Odoo's `split_method` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SplitMethod {
    Equal,
    ByQuantity,
    ByCurrentCostPrice,
    ByWeight,
    ByVolume,
}

/// What a line contributes to each split method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LineBasis {
    pub quantity: Decimal,
    pub cost: Decimal,
    pub weight: Decimal,
    pub volume: Decimal,
}

/// Why a cost cannot be split.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AllocationError {
    #[error("no lines to split the cost over")]
    NoLines,
    #[error("split {0:?}: the lines' total is zero")]
    ZeroBasis(SplitMethod),
}

/// Splits `total` over `lines` by `method`, rounded to `scale` decimals. The parts sum exactly to
/// `total` rounded to `scale`; the rounding remainder goes to the first line (Odoo's rule).
pub fn allocate(
    total: Decimal,
    method: SplitMethod,
    lines: &[LineBasis],
    scale: u32,
) -> Result<Vec<Decimal>, AllocationError> {
    if lines.is_empty() {
        return Err(AllocationError::NoLines);
    }
    let weight = |l: &LineBasis| match method {
        SplitMethod::Equal => Decimal::ONE,
        SplitMethod::ByQuantity => l.quantity,
        SplitMethod::ByCurrentCostPrice => l.cost,
        SplitMethod::ByWeight => l.weight,
        SplitMethod::ByVolume => l.volume,
    };
    let sum: Decimal = lines.iter().map(weight).sum();
    if sum.is_zero() {
        return Err(AllocationError::ZeroBasis(method));
    }
    let total = total.round_dp(scale);
    // One division for all lines; an error in the last of 28 digits is absorbed by the
    // remainder below, so the parts still add up exactly.
    let factor = total / sum;
    let mut parts: Vec<Decimal> = lines
        .iter()
        .map(|l| (weight(l) * factor).round_dp(scale))
        .collect();
    let remainder = total - parts.iter().copied().sum::<Decimal>();
    parts[0] += remainder;
    Ok(parts)
}
