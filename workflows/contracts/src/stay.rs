//! Stay dates: check-in inclusive, check-out exclusive.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// The longest stay sold in one booking.
pub const MAX_NIGHTS: i64 = 30;
/// How far ahead a stay may start.
pub const MAX_DAYS_AHEAD: i64 = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StayDates {
    pub check_in: NaiveDate,
    pub check_out: NaiveDate,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum StayError {
    #[error("check_in {check_in} is in the past (today is {today})")]
    CheckInInPast { check_in: NaiveDate, today: NaiveDate },
    #[error("check_out must be after check_in")]
    CheckOutNotAfterCheckIn,
    #[error("a stay is at most {MAX_NIGHTS} nights")]
    TooLong,
    #[error("check_in may be at most {MAX_DAYS_AHEAD} days ahead")]
    TooFarAhead,
}

impl StayError {
    pub fn code(&self) -> &'static str {
        match self {
            StayError::CheckInInPast { .. } => "check_in_in_past",
            StayError::CheckOutNotAfterCheckIn => "check_out_not_after_check_in",
            StayError::TooLong => "stay_too_long",
            StayError::TooFarAhead => "check_in_too_far_ahead",
        }
    }
}

impl StayDates {
    /// Validates a stay requested on `today` (the property's local date).
    pub fn parse(check_in: NaiveDate, check_out: NaiveDate, today: NaiveDate) -> Result<Self, StayError> {
        if check_in < today {
            return Err(StayError::CheckInInPast { check_in, today });
        }
        if check_out <= check_in {
            return Err(StayError::CheckOutNotAfterCheckIn);
        }
        if (check_out - check_in).num_days() > MAX_NIGHTS {
            return Err(StayError::TooLong);
        }
        if (check_in - today).num_days() > MAX_DAYS_AHEAD {
            return Err(StayError::TooFarAhead);
        }
        Ok(StayDates { check_in, check_out })
    }

    pub fn nights(&self) -> i64 {
        (self.check_out - self.check_in).num_days()
    }

    /// Every night of the stay, in order.
    pub fn each_night(&self) -> impl Iterator<Item = NaiveDate> + '_ {
        self.check_in.iter_days().take_while(move |d| *d < self.check_out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::date as d;

    #[test]
    fn a_stay_counts_nights_with_check_out_exclusive() {
        let stay = StayDates::parse(d("2026-12-24"), d("2026-12-27"), d("2026-12-01")).unwrap();
        assert_eq!(stay.nights(), 3);
        assert_eq!(stay.each_night().collect::<Vec<_>>(), vec![d("2026-12-24"), d("2026-12-25"), d("2026-12-26")]);
    }

    #[test]
    fn check_in_today_is_allowed_but_yesterday_is_not() {
        assert!(StayDates::parse(d("2026-12-01"), d("2026-12-02"), d("2026-12-01")).is_ok());
        assert_eq!(
            StayDates::parse(d("2026-11-30"), d("2026-12-02"), d("2026-12-01")).unwrap_err().code(),
            "check_in_in_past"
        );
    }

    #[test]
    fn check_out_must_follow_check_in() {
        for out in ["2026-12-24", "2026-12-20"] {
            assert_eq!(
                StayDates::parse(d("2026-12-24"), d(out), d("2026-12-01")),
                Err(StayError::CheckOutNotAfterCheckIn)
            );
        }
    }

    #[test]
    fn stays_are_bounded_in_length_and_lead_time() {
        assert_eq!(StayDates::parse(d("2026-12-01"), d("2027-01-01"), d("2026-12-01")), Err(StayError::TooLong));
        assert!(StayDates::parse(d("2026-12-01"), d("2026-12-31"), d("2026-12-01")).is_ok());
        assert_eq!(StayDates::parse(d("2028-12-01"), d("2028-12-02"), d("2026-12-01")), Err(StayError::TooFarAhead));
    }
}
