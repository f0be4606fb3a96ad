//! Requests per minute per key and per partner, as a sliding window over two fixed
//! one-minute counters kept in PostgreSQL (`api_rate_windows`), so every API replica counts
//! into the same window. Each request adds one to both of its counters with one upsert,
//! refused requests included: a client that keeps calling while refused stays refused.
//!
//! The window's count is the current minute's hits plus the previous minute's, weighted by
//! how much of the previous minute still lies within the last sixty seconds. Unlike a fixed
//! window, it does not let a client send twice its limit across a minute boundary.

use std::time::Duration;

const WINDOW_SECS: f64 = 60.0;

/// One counter after this request was added to it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WindowCount {
    /// Hits in the current minute, this one included.
    pub current: i64,
    /// Hits in the minute before.
    pub previous: i64,
    /// Seconds since the current minute began.
    pub elapsed_secs: f64,
}

impl WindowCount {
    /// Requests in the last sixty seconds, by the sliding-window estimate.
    pub fn estimate(&self) -> f64 {
        let weight = (1.0 - self.elapsed_secs / WINDOW_SECS).clamp(0.0, 1.0);
        self.previous as f64 * weight + self.current as f64
    }

    /// `None` when this request is within `limit`; else how long until the estimate falls
    /// back to the limit if the client sends nothing more (at least one second).
    pub fn retry_after(&self, limit: i64) -> Option<Duration> {
        let limit_f = limit as f64;
        if self.estimate() <= limit_f {
            return None;
        }
        let left_in_minute = (WINDOW_SECS - self.elapsed_secs).max(0.0);
        let wait = if (self.current as f64) <= limit_f && self.previous > 0 {
            // The previous minute's share has to shrink: previous × (1 − (e + t)/60) + current ≤ limit.
            let t = WINDOW_SECS * (1.0 - (limit_f - self.current as f64) / self.previous as f64) - self.elapsed_secs;
            t.clamp(0.0, left_in_minute)
        } else {
            // This minute alone is over: wait for the next, and for this minute's share of
            // the window to shrink enough: current × (1 − e'/60) ≤ limit.
            left_in_minute + WINDOW_SECS * (1.0 - limit_f / self.current.max(1) as f64).max(0.0)
        };
        Some(Duration::from_secs((wait.ceil() as u64).clamp(1, 120)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(current: i64, previous: i64, elapsed_secs: f64) -> WindowCount {
        WindowCount { current, previous, elapsed_secs }
    }

    #[test]
    fn requests_up_to_the_limit_pass() {
        assert_eq!(count(5, 0, 10.0).retry_after(5), None);
        assert!(count(6, 0, 10.0).retry_after(5).is_some());
    }

    #[test]
    fn the_previous_minute_counts_for_what_is_left_of_it() {
        // 30 s into the minute, half of the previous minute's 10 hits still count.
        assert_eq!(count(1, 10, 30.0).estimate(), 6.0);
        assert_eq!(count(1, 10, 30.0).retry_after(6), None);
        // One over: wait until another tenth of the previous minute has passed (6 s).
        assert_eq!(count(2, 10, 30.0).retry_after(6), Some(Duration::from_secs(6)));
    }

    #[test]
    fn a_burst_across_the_minute_boundary_is_refused() {
        // Five at the end of one minute and one at the start of the next: still six.
        assert!(count(1, 5, 0.5).retry_after(5).is_some());
    }

    #[test]
    fn over_the_limit_within_the_minute_waits_into_the_next() {
        // 10 hits 20 s in, limit 5: 40 s to the next minute, then 30 s for half of them to age out.
        assert_eq!(count(10, 0, 20.0).retry_after(5), Some(Duration::from_secs(70)));
        // Never less than a second, never more than two minutes.
        assert_eq!(count(6, 0, 59.99).retry_after(5).map(|d| d.as_secs()), Some(11));
        assert_eq!(count(1_000, 0, 0.0).retry_after(1), Some(Duration::from_secs(120)));
    }
}
