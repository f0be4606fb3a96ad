//! Cancelling a confirmed booking: the policy's refund tiers, the one function that turns
//! them into money, and the cancellation saga's input and outcome.

use crate::{BookingRef, Money, pricing::apply_bp};
use serde::{Deserialize, Serialize};

/// One tier: cancelling at least `min_days_before_check_in` days ahead refunds `refund_bp`
/// basis points of what was paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CancellationTier {
    pub min_days_before_check_in: i64,
    pub refund_bp: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CancellationPolicy {
    pub code: String,
    pub tiers: Vec<CancellationTier>,
    /// Whether the GST paid is refunded in the same proportion (it is, when the stay is
    /// cancelled before the service is supplied); otherwise only the base is.
    pub refund_gst: bool,
}

impl CancellationPolicy {
    /// The tier that applies `days_before_check_in` days ahead: the one with the highest
    /// threshold still met. No tier met (cancelling after check-in) refunds nothing.
    pub fn refund_bp(&self, days_before_check_in: i64) -> u32 {
        self.tiers
            .iter()
            .filter(|t| days_before_check_in >= t.min_days_before_check_in)
            .max_by_key(|t| t.min_days_before_check_in)
            .map_or(0, |t| t.refund_bp.min(10_000))
    }
}

/// The refund for cancelling: `refund_bp` of the base and (if the policy says so) of the
/// GST, each rounded half up once, never more than was charged.
pub fn cancellation_refund(charged: Money, base_paise: i64, gst_paise: i64, refund_bp: u32, refund_gst: bool) -> Money {
    let bp = i64::from(refund_bp.min(10_000));
    let gst_part = if refund_gst { apply_bp(gst_paise, bp) } else { 0 };
    let amount = (apply_bp(base_paise, bp) + gst_part).clamp(0, charged.amount.max(0));
    Money { amount, ..charged }
}

/// Who cancels and why; an override (operators with `bookings:override`) replaces the
/// policy's refund rate and is recorded with its reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CancellationInput {
    pub booking_ref: BookingRef,
    /// `user:<id>` of whoever asked.
    pub requested_by: String,
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub override_refund: Option<RefundOverride>,
}

impl CancellationInput {
    pub fn workflow_id(&self) -> String {
        format!("cancel-{}", self.booking_ref)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundOverride {
    pub refund_bp: u32,
    pub reason: String,
    /// The operator's user id.
    pub by: uuid::Uuid,
}

/// What a cancellation came to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CancellationOutcome {
    pub booking_ref: BookingRef,
    pub policy: String,
    pub days_before_check_in: i64,
    pub refund_bp: u32,
    pub refunded: Money,
    /// The refund an operator took over (`hand_refund_over`), owed to the traveller.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owed: Option<Money>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn standard() -> CancellationPolicy {
        CancellationPolicy {
            code: "standard".into(),
            tiers: vec![
                CancellationTier { min_days_before_check_in: 7, refund_bp: 10_000 },
                CancellationTier { min_days_before_check_in: 2, refund_bp: 5_000 },
                CancellationTier { min_days_before_check_in: 0, refund_bp: 0 },
            ],
            refund_gst: true,
        }
    }

    #[test]
    fn each_tier_starts_exactly_at_its_threshold() {
        let policy = standard();
        assert_eq!(policy.refund_bp(30), 10_000);
        assert_eq!(policy.refund_bp(7), 10_000);
        assert_eq!(policy.refund_bp(6), 5_000);
        assert_eq!(policy.refund_bp(2), 5_000);
        assert_eq!(policy.refund_bp(1), 0);
        assert_eq!(policy.refund_bp(0), 0);
        assert_eq!(policy.refund_bp(-1), 0, "after check-in nothing is refunded");
    }

    #[test]
    fn the_refund_rounds_base_and_gst_once_each_and_never_exceeds_the_charge() {
        let charged = Money::inr(945_000);
        assert_eq!(cancellation_refund(charged, 900_000, 45_000, 10_000, true).amount, 945_000);
        assert_eq!(cancellation_refund(charged, 900_000, 45_000, 5_000, true).amount, 472_500);
        assert_eq!(cancellation_refund(charged, 900_000, 45_000, 5_000, false).amount, 450_000);
        // 3 333 bp of 1 paisa rounds to 0; of 3 paise rounds to 1.
        assert_eq!(cancellation_refund(Money::inr(4), 3, 1, 3_333, true).amount, 1);
        assert_eq!(cancellation_refund(Money::inr(100), 900_000, 45_000, 10_000, true).amount, 100);
    }
}
