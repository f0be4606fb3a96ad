//! Stay quotes with GST, line by line. The API quotes with this function and the saga
//! charges exactly what it returned, so the price a traveller saw is the price they pay.

use crate::money::{Currency, Money};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Room-night tariffs up to this amount (₹7,500) attract the lower GST slab.
pub const GST_LOWER_SLAB_LIMIT_PAISE: i64 = 750_000;
/// 5 % in basis points.
pub const GST_LOWER_RATE_BP: i64 = 500;
/// 18 % in basis points.
pub const GST_UPPER_RATE_BP: i64 = 1_800;

/// GST rate for one room-night at `tariff` (the slab follows the per-night tariff).
pub fn gst_rate_bp(tariff_paise: i64) -> i64 {
    if tariff_paise <= GST_LOWER_SLAB_LIMIT_PAISE { GST_LOWER_RATE_BP } else { GST_UPPER_RATE_BP }
}

/// `amount × bp / 10 000`, rounded half up to the paisa. Applied once per quote line.
pub fn apply_bp(amount_paise: i64, bp: i64) -> i64 {
    (amount_paise * bp + 5_000).div_euclid(10_000)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuoteLine {
    pub night: NaiveDate,
    pub rooms: u32,
    /// Tariff for one room for this night, before tax.
    pub tariff: Money,
    /// `tariff × rooms`.
    pub base: Money,
    pub gst_rate_bp: i64,
    pub gst: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StayQuote {
    pub lines: Vec<QuoteLine>,
    pub base_total: Money,
    pub gst_total: Money,
    pub total: Money,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum QuoteError {
    #[error("a stay needs at least one night")]
    NoNights,
    #[error("tariffs must be positive")]
    NonPositiveTariff,
    #[error("the amount is too large to quote")]
    Overflow,
}

/// Quotes `rooms` rooms for the given nights, each with its per-room tariff in paise.
pub fn quote_stay(
    nightly_tariffs: &[(NaiveDate, i64)],
    rooms: u32,
    currency: Currency,
) -> Result<StayQuote, QuoteError> {
    if nightly_tariffs.is_empty() {
        return Err(QuoteError::NoNights);
    }
    let mut lines = Vec::with_capacity(nightly_tariffs.len());
    let (mut base_total, mut gst_total) = (0i64, 0i64);
    for &(night, tariff) in nightly_tariffs {
        if tariff <= 0 {
            return Err(QuoteError::NonPositiveTariff);
        }
        let base = tariff.checked_mul(i64::from(rooms)).ok_or(QuoteError::Overflow)?;
        let rate = gst_rate_bp(tariff);
        let gst = apply_bp(base, rate);
        base_total = base_total.checked_add(base).ok_or(QuoteError::Overflow)?;
        gst_total = gst_total.checked_add(gst).ok_or(QuoteError::Overflow)?;
        lines.push(QuoteLine {
            night,
            rooms,
            tariff: Money { amount: tariff, currency },
            base: Money { amount: base, currency },
            gst_rate_bp: rate,
            gst: Money { amount: gst, currency },
        });
    }
    let total = base_total.checked_add(gst_total).ok_or(QuoteError::Overflow)?;
    Ok(StayQuote {
        lines,
        base_total: Money { amount: base_total, currency },
        gst_total: Money { amount: gst_total, currency },
        total: Money { amount: total, currency },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn night(day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, day).unwrap()
    }

    #[test]
    fn the_slab_boundary_is_inclusive_at_7500_rupees() {
        assert_eq!(gst_rate_bp(750_000), 500);
        assert_eq!(gst_rate_bp(750_001), 1_800);
    }

    #[test]
    fn a_two_night_two_room_quote_adds_gst_per_line() {
        let q = quote_stay(&[(night(24), 450_000), (night(25), 900_000)], 2, Currency::Inr).unwrap();
        assert_eq!(q.lines[0].base, Money::inr(900_000));
        assert_eq!(q.lines[0].gst, Money::inr(45_000));
        assert_eq!(q.lines[1].gst_rate_bp, 1_800);
        assert_eq!(q.lines[1].gst, Money::inr(324_000));
        assert_eq!(q.base_total, Money::inr(2_700_000));
        assert_eq!(q.gst_total, Money::inr(369_000));
        assert_eq!(q.total, Money::inr(3_069_000));
    }

    #[test]
    fn gst_rounds_half_up_to_the_paisa() {
        // 5 % of 10 paise is 0.5 paise: rounds up to 1.
        assert_eq!(apply_bp(10, 500), 1);
        assert_eq!(apply_bp(9, 500), 0);
    }

    #[test]
    fn bad_tariffs_are_refused() {
        assert_eq!(quote_stay(&[], 1, Currency::Inr), Err(QuoteError::NoNights));
        assert_eq!(quote_stay(&[(night(1), 0)], 1, Currency::Inr), Err(QuoteError::NonPositiveTariff));
        assert_eq!(quote_stay(&[(night(1), i64::MAX)], 2, Currency::Inr), Err(QuoteError::Overflow));
    }
}
