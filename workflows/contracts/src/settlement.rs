//! Partner settlements: settlement cycles and their periods, the commission arithmetic, and
//! the contracts of the settlement workflows and their activities.
//!
//! The arithmetic, once per settlement (one `partner_settlements` row, one line of a
//! statement):
//!
//! - `net = collected − refunded`, where *collected* is what was captured for the partner's
//!   bookings confirmed in the period and *refunded* what was given back, in the period, on
//!   any of the partner's bookings;
//! - `commission = net × commission rate`, rounded once to the paisa;
//! - `TDS = commission × 2 %` (Income-tax Act section 194H), rounded once to the paisa;
//! - `payout = commission − TDS` (exact, no rounding).
//!
//! Rounding rule: half up, meaning half away from zero, to the paisa. A period whose refunds
//! exceed its collections settles negative (commission earned earlier is clawed back, and
//! the TDS deducted on it reversed); the rule is symmetric, so a refund of a whole booking in
//! a later period takes back exactly the commission that booking earned.
#![allow(clippy::unused_async)]

use crate::Money;
use chrono::{Datelike, Duration, NaiveDate};
use serde::{Deserialize, Serialize};
use temporalio_common::ActivityError;
use temporalio_macros::activity_definitions;
use uuid::Uuid;

/// TDS on commission under section 194H: 2 %, in basis points.
pub const TDS_194H_BP: i64 = 200;
/// Basis points in one whole.
const BP_PER_WHOLE: i128 = 10_000;

/// How often a partner is settled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SettlementCycle {
    /// Monday to Monday (Indian Standard Time).
    Weekly,
    /// Two weeks from Monday to Monday, on the fortnights counted from Monday 5 January 1970.
    Fortnightly,
    /// First of the month to first of the next.
    Monthly,
}

/// Monday 5 January 1970: the first Monday of the Unix epoch, which anchors fortnights.
fn fortnight_anchor() -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 5).expect("valid date")
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeriodError {
    #[error("a {cycle} period starts on {expected}, not on {start}")]
    Misaligned { cycle: &'static str, start: NaiveDate, expected: &'static str },
    #[error("unknown settlement cycle `{0}` (weekly, fortnightly, monthly)")]
    UnknownCycle(String),
}

impl SettlementCycle {
    pub const ALL: [SettlementCycle; 3] =
        [SettlementCycle::Weekly, SettlementCycle::Fortnightly, SettlementCycle::Monthly];

    pub fn as_str(self) -> &'static str {
        match self {
            SettlementCycle::Weekly => "weekly",
            SettlementCycle::Fortnightly => "fortnightly",
            SettlementCycle::Monthly => "monthly",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, PeriodError> {
        Self::ALL.into_iter().find(|c| c.as_str() == raw).ok_or_else(|| PeriodError::UnknownCycle(raw.to_string()))
    }

    /// The period that starts on `start`, which must be a period boundary of this cycle.
    pub fn period_starting(self, start: NaiveDate) -> Result<SettlementPeriod, PeriodError> {
        let end = match self {
            SettlementCycle::Weekly if start.weekday().num_days_from_monday() == 0 => start + Duration::days(7),
            SettlementCycle::Fortnightly if (start - fortnight_anchor()).num_days().rem_euclid(14) == 0 => {
                start + Duration::days(14)
            }
            SettlementCycle::Monthly if start.day() == 1 => next_month(start),
            SettlementCycle::Weekly => {
                return Err(PeriodError::Misaligned { cycle: "weekly", start, expected: "a Monday" });
            }
            SettlementCycle::Fortnightly => {
                return Err(PeriodError::Misaligned {
                    cycle: "fortnightly",
                    start,
                    expected: "a Monday an even number of weeks after 5 January 1970",
                });
            }
            SettlementCycle::Monthly => {
                return Err(PeriodError::Misaligned { cycle: "monthly", start, expected: "the first of a month" });
            }
        };
        Ok(SettlementPeriod { start, end })
    }

    /// The last period that ended on or before `today` (a date in India): the one a
    /// settlement run on `today` settles.
    pub fn last_completed_period(self, today: NaiveDate) -> SettlementPeriod {
        let end = match self {
            SettlementCycle::Weekly => today - Duration::days(i64::from(today.weekday().num_days_from_monday())),
            SettlementCycle::Fortnightly => {
                today - Duration::days((today - fortnight_anchor()).num_days().rem_euclid(14))
            }
            SettlementCycle::Monthly => today.with_day(1).expect("the first exists"),
        };
        let start = match self {
            SettlementCycle::Weekly => end - Duration::days(7),
            SettlementCycle::Fortnightly => end - Duration::days(14),
            SettlementCycle::Monthly => previous_month(end),
        };
        SettlementPeriod { start, end }
    }
}

impl std::fmt::Display for SettlementCycle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

fn next_month(first: NaiveDate) -> NaiveDate {
    let (y, m) = if first.month() == 12 { (first.year() + 1, 1) } else { (first.year(), first.month() + 1) };
    NaiveDate::from_ymd_opt(y, m, 1).expect("valid date")
}

fn previous_month(first: NaiveDate) -> NaiveDate {
    let (y, m) = if first.month() == 1 { (first.year() - 1, 12) } else { (first.year(), first.month() - 1) };
    NaiveDate::from_ymd_opt(y, m, 1).expect("valid date")
}

/// Dates in India; `end` is exclusive, like a stay's check-out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettlementPeriod {
    pub start: NaiveDate,
    pub end: NaiveDate,
}

/// The figures of one settlement, all in paise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettlementFigures {
    pub collected: i64,
    pub refunded: i64,
    pub commission: i64,
    pub tds: i64,
    pub payout: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettlementError {
    #[error("amounts must not be negative (collected {collected}, refunded {refunded})")]
    NegativeAmount { collected: i64, refunded: i64 },
    #[error("the commission rate must be 0 to 10000 basis points, not {0}")]
    RateOutOfRange(i64),
    #[error("the amounts are too large to settle")]
    Overflow,
}

/// `amount × bp / 10 000`, rounded half away from zero to the paisa.
pub fn apply_bp_half_up(amount: i64, bp: i64) -> Result<i64, SettlementError> {
    let product = i128::from(amount) * i128::from(bp);
    let magnitude = (product.abs() + BP_PER_WHOLE / 2) / BP_PER_WHOLE;
    i64::try_from(product.signum() * magnitude).map_err(|_| SettlementError::Overflow)
}

/// Settles one partner for one period: see the module documentation for the rule.
pub fn settle(collected: i64, refunded: i64, commission_bp: i64) -> Result<SettlementFigures, SettlementError> {
    if collected < 0 || refunded < 0 {
        return Err(SettlementError::NegativeAmount { collected, refunded });
    }
    if !(0..=10_000).contains(&commission_bp) {
        return Err(SettlementError::RateOutOfRange(commission_bp));
    }
    let net = collected.checked_sub(refunded).ok_or(SettlementError::Overflow)?;
    let commission = apply_bp_half_up(net, commission_bp)?;
    let tds = apply_bp_half_up(commission, TDS_194H_BP)?;
    let payout = commission.checked_sub(tds).ok_or(SettlementError::Overflow)?;
    Ok(SettlementFigures { collected, refunded, commission, tds, payout })
}

// ---------------------------------------------------------------- workflows

/// Input of `PartnerSettlement` (workflow id `settle-<partner code>-<period start>`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettlementInput {
    pub partner_id: Uuid,
    pub partner_code: String,
    pub period: SettlementPeriod,
}

impl SettlementInput {
    pub fn workflow_id(&self) -> String {
        settlement_workflow_id(&self.partner_code, self.period.start)
    }
}

pub fn settlement_workflow_id(partner_code: &str, period_start: NaiveDate) -> String {
    format!("settle-{partner_code}-{period_start}")
}

/// The Temporal Schedule of a partner's settlements.
pub fn settlement_schedule_id(partner_code: &str) -> String {
    format!("settlement-{partner_code}")
}

/// Input of `PartnerSettlementCycle`, the workflow a partner's schedule starts: it settles
/// the last period completed at the scheduled time (a backfill settles the periods of the
/// times it replays), or `period_start` when given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettlementCycleInput {
    pub partner_id: Uuid,
    pub partner_code: String,
    pub cycle: SettlementCycle,
    /// Settle this period instead of the last completed one (operators, by hand).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period_start: Option<NaiveDate>,
}

/// A settlement as stored: the outcome of `PartnerSettlement`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettlementRecord {
    pub settlement_id: Uuid,
    pub partner_id: Uuid,
    pub period: SettlementPeriod,
    pub bookings: u32,
    pub refunds: u32,
    pub commission_bp: i64,
    pub collected: Money,
    pub refunded: Money,
    pub commission: Money,
    pub tds: Money,
    pub payout: Money,
}

/// Input of `SettlementPayout` (workflow id `payout-<partner code>-<period start>`): pays an
/// approved settlement to the partner's bank account through the gateway's payouts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayoutInput {
    pub settlement_id: Uuid,
    pub partner_code: String,
    pub period_start: NaiveDate,
    /// How long to wait before paying again after the bank turned a payout back.
    pub retry_after_secs: u64,
    /// Payouts tried by this run before the settlement is left to an operator.
    pub attempts: u32,
}

impl PayoutInput {
    pub fn workflow_id(&self) -> String {
        payout_workflow_id(&self.partner_code, self.period_start)
    }
}

pub fn payout_workflow_id(partner_code: &str, period_start: NaiveDate) -> String {
    format!("payout-{partner_code}-{period_start}")
}

/// How `SettlementPayout` ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
pub enum PayoutOutcome {
    /// Paid now, or found paid.
    Paid { payout_id: String, utr: Option<String> },
    /// Every attempt was turned back; the settlement stays approved with the last reason.
    LeftToOperator { attempts: u32, reason: String },
}

/// Where a partner's money goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BankAccount {
    pub name: String,
    pub ifsc: String,
    pub account_number: String,
}

/// What paying a settlement needs, read from the partner context.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayoutInstruction {
    pub settlement_id: Uuid,
    pub partner_code: String,
    pub partner_name: String,
    pub amount: Money,
    pub account: BankAccount,
    /// Set when the settlement is paid already.
    pub paid: Option<PaidPayout>,
    /// Payouts tried before, by any run: the next one's idempotency key follows them.
    pub attempts_before: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaidPayout {
    pub payout_id: String,
    pub utr: Option<String>,
}

/// One payout through the gateway, once per `idempotency_key`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayoutRequest {
    /// At most 36 characters of letters, digits and `-` (the gateway's rule).
    pub idempotency_key: String,
    /// The settlement id: where the payout is looked up.
    pub reference_id: String,
    pub amount: Money,
    pub account: BankAccount,
    pub contact_name: String,
    pub narration: String,
}

/// How the gateway ended a payout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayoutResult {
    pub payout_id: String,
    /// `processed`, or `failed`/`reversed`/`rejected`/`cancelled` (no money moved).
    pub status: String,
    pub utr: Option<String>,
    pub failure_reason: Option<String>,
}

impl PayoutResult {
    pub fn is_processed(&self) -> bool {
        self.status == "processed"
    }
}

/// What the payout step records on the settlement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayoutRecord {
    pub settlement_id: Uuid,
    /// The settlement's payout attempt this was (from 1, across runs).
    pub attempt: u32,
    pub result: PayoutResult,
}

/// The idempotency key of a settlement's `attempt`-th payout (from 1): the settlement id
/// without dashes (32) and the attempt, within the gateway's 36 characters.
pub fn payout_idempotency_key(settlement_id: Uuid, attempt: u32) -> String {
    format!("{}-{attempt}", settlement_id.simple())
}

// ---------------------------------------------------------------- activities

/// A partner's terms as the settlement reads them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartnerTerms {
    pub partner_id: Uuid,
    pub partner_code: String,
    pub commission_bp: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartnerSalesRequest {
    pub partner_id: Uuid,
    pub period: SettlementPeriod,
}

/// The booking context's totals of one partner's sales in one period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartnerSales {
    /// Bookings confirmed in the period.
    pub bookings: u32,
    /// What was captured for them.
    pub collected: Money,
    /// Refunds made in the period, on any of the partner's bookings.
    pub refunds: u32,
    pub refunded: Money,
}

/// What the settlement writes: figures computed by [`settle`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewSettlement {
    pub partner_id: Uuid,
    pub period: SettlementPeriod,
    pub bookings: u32,
    pub refunds: u32,
    pub commission_bp: i64,
    pub figures: SettlementFigures,
}

/// Type names of the settlement's business failures.
pub mod failure_type {
    /// The partner of a settlement does not exist.
    pub const UNKNOWN_PARTNER: &str = "UnknownPartner";
    /// The figures cannot be computed (out-of-range rate, overflow).
    pub const UNSETTLEABLE: &str = "Unsettleable";
    /// A payout was asked for a settlement that is not approved, has nothing to pay, or
    /// whose partner has no bank account on record.
    pub const NOT_PAYABLE: &str = "NotPayable";
}

pub struct PartnerActivities;

#[activity_definitions]
impl PartnerActivities {
    /// The partner's current commission rate. Fails `UnknownPartner`.
    #[activity(name = "partner.settlement_terms")]
    pub fn settlement_terms(partner_id: Uuid) -> Result<PartnerTerms, ActivityError> {
        unimplemented!()
    }

    /// Writes the settlement of one partner and period, once: when it exists already the
    /// stored one is returned unchanged.
    #[activity(name = "partner.record_settlement")]
    pub fn record_settlement(settlement: NewSettlement) -> Result<SettlementRecord, ActivityError> {
        unimplemented!()
    }

    /// What paying the settlement needs. Fails `NotPayable` unless it is approved (or paid
    /// already) with something to pay and the partner has a bank account on record.
    #[activity(name = "partner.settlement_to_pay")]
    pub fn settlement_to_pay(settlement_id: Uuid) -> Result<PayoutInstruction, ActivityError> {
        unimplemented!()
    }

    /// Records how a payout ended: `paid` with its reference, or the reason it was turned
    /// back (the settlement stays approved). Idempotent by payout id.
    #[activity(name = "partner.record_payout")]
    pub fn record_payout(record: PayoutRecord) -> Result<(), ActivityError> {
        unimplemented!()
    }
}

/// The gateway's payouts, on the `payment` queue: the payment context holds the gateway's
/// credentials.
pub struct PayoutActivities;

#[activity_definitions]
impl PayoutActivities {
    /// Pays once per idempotency key and waits for the gateway's outcome (processed, or
    /// turned back). A lost answer is asked again under the same key: never paid twice.
    #[activity(name = "payment.pay_out")]
    pub fn pay_out(request: PayoutRequest) -> Result<PayoutResult, ActivityError> {
        unimplemented!()
    }
}

/// Booking-context reads for settlements, on the `booking` queue: the partner context
/// never reads the booking tables itself.
pub struct PartnerSalesActivities;

#[activity_definitions]
impl PartnerSalesActivities {
    /// Totals of the partner's confirmed bookings and refunds in the period.
    #[activity(name = "booking.total_partner_sales")]
    pub fn total_partner_sales(request: PartnerSalesRequest) -> Result<PartnerSales, ActivityError> {
        unimplemented!()
    }
}

/// Marker types for `#[activity(definition = ...)]` in the implementing crates.
pub mod definitions {
    pub use super::partner_activities::{RecordPayout, RecordSettlement, SettlementTerms, SettlementToPay};
    pub use super::partner_sales_activities::TotalPartnerSales;
    pub use super::payout_activities::PayOut;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::date as d;

    #[test]
    fn ten_percent_of_a_whole_booking_with_two_percent_tds() {
        // ₹9,450 collected at 10 %: ₹945 commission, ₹18.90 TDS, ₹926.10 paid.
        let f = settle(945_000, 0, 1_000).unwrap();
        assert_eq!((f.commission, f.tds, f.payout), (94_500, 1_890, 92_610));
    }

    #[test]
    fn rounding_is_half_away_from_zero_once_per_figure() {
        // 12 345 × 12.5 % = 1 543.125 → 1 543; its 2 % = 30.86 → 31.
        assert_eq!(
            settle(12_345, 0, 1_250).unwrap(),
            SettlementFigures { collected: 12_345, refunded: 0, commission: 1_543, tds: 31, payout: 1_512 }
        );
        // Exactly half a paisa rounds up: 25 × 10 % = 2.5 → 3; 3 × 2 % = 0.06 → 0.
        assert_eq!(apply_bp_half_up(25, 1_000), Ok(3));
        assert_eq!(apply_bp_half_up(24, 1_000), Ok(2));
        // TDS at exactly half a paisa: 25 × 2 % = 0.5 → 1.
        assert_eq!(apply_bp_half_up(25, TDS_194H_BP), Ok(1));
        // Negative amounts mirror positive ones.
        assert_eq!(apply_bp_half_up(-25, 1_000), Ok(-3));
        assert_eq!(apply_bp_half_up(-24, 1_000), Ok(-2));
    }

    #[test]
    fn no_bookings_settle_to_zero() {
        assert_eq!(
            settle(0, 0, 1_500).unwrap(),
            SettlementFigures { collected: 0, refunded: 0, commission: 0, tds: 0, payout: 0 }
        );
    }

    #[test]
    fn refunds_with_nothing_collected_claw_back_exactly_what_was_paid() {
        let earned = settle(12_345, 0, 1_250).unwrap();
        let clawed = settle(0, 12_345, 1_250).unwrap();
        assert_eq!((clawed.commission, clawed.tds, clawed.payout), (-earned.commission, -earned.tds, -earned.payout));
        assert_eq!(clawed.payout, clawed.commission - clawed.tds);
        // Refunds that exceed the period's collections leave it negative.
        let f = settle(100_000, 250_000, 1_000).unwrap();
        assert_eq!((f.commission, f.tds, f.payout), (-15_000, -300, -14_700));
    }

    #[test]
    fn refunds_net_off_collections_before_the_rate_applies() {
        let f = settle(1_890_000 + 945_000, 945_000, 800).unwrap();
        assert_eq!(f.commission, 151_200);
        assert_eq!(f.tds, 3_024);
        assert_eq!(f.payout, 148_176);
    }

    #[test]
    fn rates_at_the_bounds_and_outside_them() {
        assert_eq!(settle(999, 0, 0).unwrap().payout, 0);
        let all = settle(999, 0, 10_000).unwrap();
        assert_eq!((all.commission, all.tds, all.payout), (999, 20, 979));
        assert_eq!(settle(1, 0, -1), Err(SettlementError::RateOutOfRange(-1)));
        assert_eq!(settle(1, 0, 10_001), Err(SettlementError::RateOutOfRange(10_001)));
        assert!(matches!(settle(-1, 0, 100), Err(SettlementError::NegativeAmount { .. })));
        assert!(settle(i64::MAX, 0, 10_000).is_ok(), "the largest amount at the top rate still fits");
        assert_eq!(settle(0, i64::MAX, 10_000).unwrap().commission, -i64::MAX);
    }

    #[test]
    fn weekly_periods_run_monday_to_monday() {
        // Monday 5 Jan 2026 settles 29 Dec – 5 Jan; so does every day of that week after it.
        let week = SettlementPeriod { start: d("2025-12-29"), end: d("2026-01-05") };
        for today in ["2026-01-05", "2026-01-08", "2026-01-11"] {
            assert_eq!(SettlementCycle::Weekly.last_completed_period(d(today)), week, "{today}");
        }
        assert_eq!(SettlementCycle::Weekly.last_completed_period(d("2026-01-12")).start, d("2026-01-05"));
        assert_eq!(SettlementCycle::Weekly.period_starting(d("2025-12-29")), Ok(week));
        assert!(SettlementCycle::Weekly.period_starting(d("2025-12-30")).is_err());
    }

    #[test]
    fn fortnights_are_counted_from_the_first_monday_of_1970() {
        let p = SettlementCycle::Fortnightly.last_completed_period(d("2026-01-08"));
        assert_eq!((p.end - p.start).num_days(), 14);
        assert_eq!(p.end.weekday(), chrono::Weekday::Mon);
        assert_eq!((p.start - fortnight_anchor()).num_days() % 14, 0);
        assert!(p.end <= d("2026-01-08") && d("2026-01-08") < p.end + Duration::days(14));
        assert_eq!(SettlementCycle::Fortnightly.period_starting(p.start), Ok(p));
        assert!(SettlementCycle::Fortnightly.period_starting(p.start + Duration::days(7)).is_err());
    }

    #[test]
    fn months_run_first_to_first_across_the_year_end() {
        let p = SettlementCycle::Monthly.last_completed_period(d("2026-01-01"));
        assert_eq!(p, SettlementPeriod { start: d("2025-12-01"), end: d("2026-01-01") });
        assert_eq!(SettlementCycle::Monthly.last_completed_period(d("2026-03-31")).start, d("2026-02-01"));
        assert_eq!(SettlementCycle::Monthly.period_starting(d("2025-12-01")), Ok(p));
        assert!(SettlementCycle::Monthly.period_starting(d("2025-12-02")).is_err());
    }

    #[test]
    fn cycles_round_trip_through_their_names() {
        for cycle in SettlementCycle::ALL {
            assert_eq!(SettlementCycle::parse(cycle.as_str()), Ok(cycle));
            assert_eq!(serde_json::to_value(cycle).unwrap(), serde_json::json!(cycle.as_str()));
        }
        assert!(SettlementCycle::parse("daily").is_err());
    }

    #[test]
    fn settlement_ids_are_business_keys() {
        assert_eq!(settlement_workflow_id("agartala-travels", d("2026-01-05")), "settle-agartala-travels-2026-01-05");
        assert_eq!(settlement_schedule_id("agartala-travels"), "settlement-agartala-travels");
    }
}
