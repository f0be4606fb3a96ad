//! Dates in India. Tripura keeps Indian Standard Time all year (UTC+05:30, no daylight
//! saving), and every business date — check-in, the cancellation tier, a settlement
//! period, the start of a season — is a date there, whatever the server's time zone.

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};

/// India's offset from UTC, in seconds.
pub const OFFSET_SECS: i32 = 5 * 3600 + 30 * 60;

/// India's offset from UTC.
pub fn offset() -> FixedOffset {
    FixedOffset::east_opt(OFFSET_SECS).expect("+05:30 is a valid offset")
}

/// The date in India at `instant`.
pub fn date_at(instant: DateTime<Utc>) -> NaiveDate {
    instant.with_timezone(&offset()).date_naive()
}

/// The date in India at `unix_secs` seconds after the epoch: for workflows, which read
/// their own deterministic clock as seconds.
pub fn date_at_unix(unix_secs: i64) -> NaiveDate {
    date_at(DateTime::from_timestamp(unix_secs, 0).unwrap_or_default())
}

/// The instant `date` begins in India.
pub fn start_of_day(date: NaiveDate) -> DateTime<Utc> {
    date.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc() - chrono::Duration::seconds(i64::from(OFFSET_SECS))
}

/// Today in India by the system clock. Workflows never call this: they use [`date_at_unix`]
/// with the workflow's clock, which replays the same.
pub fn today() -> NaiveDate {
    date_at(Utc::now())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn the_date_in_india_turns_at_18_30_utc() {
        assert_eq!(date_at(utc("2026-12-24T18:29:59Z")), NaiveDate::from_ymd_opt(2026, 12, 24).unwrap());
        assert_eq!(date_at(utc("2026-12-24T18:30:00Z")), NaiveDate::from_ymd_opt(2026, 12, 25).unwrap());
        assert_eq!(
            date_at_unix(utc("2026-12-24T18:30:00Z").timestamp()),
            NaiveDate::from_ymd_opt(2026, 12, 25).unwrap()
        );
    }

    #[test]
    fn a_day_in_india_starts_at_18_30_utc_the_day_before() {
        let christmas = NaiveDate::from_ymd_opt(2026, 12, 25).unwrap();
        assert_eq!(start_of_day(christmas), utc("2026-12-24T18:30:00Z"));
        assert_eq!(date_at(start_of_day(christmas)), christmas);
    }
}
