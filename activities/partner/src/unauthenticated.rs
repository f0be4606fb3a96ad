//! Requests to the partner API that present no valid key, counted per client address, so a
//! flood of them is refused before each costs a key lookup and an access-log line: without
//! this, anyone could fill the access log's queue and push out the partners' own lines.
//!
//! Counted in this process only (each API replica counts alone): partners with a valid key
//! never touch it, and an attacker spread over replicas still gets a bounded share each.

use std::{
    collections::HashMap,
    net::IpAddr,
    sync::Mutex,
    time::{Duration, Instant},
};

/// Failed authentications one client address may make per minute. A partner's integration
/// that fails this often is broken, and hears so from the 429.
pub const DEFAULT_PER_MINUTE: u32 = 30;
/// Addresses tracked at once; beyond it, windows that ended are dropped, and if none has,
/// new addresses are refused until one does.
const MAX_TRACKED: usize = 50_000;
const WINDOW: Duration = Duration::from_secs(60);

#[derive(Debug)]
pub struct UnauthenticatedBudget {
    per_minute: u32,
    windows: Mutex<HashMap<Option<IpAddr>, Window>>,
}

#[derive(Debug, Clone, Copy)]
struct Window {
    started: Instant,
    failures: u32,
}

impl UnauthenticatedBudget {
    pub fn new(per_minute: u32) -> Self {
        UnauthenticatedBudget { per_minute: per_minute.max(1), windows: Mutex::new(HashMap::new()) }
    }

    /// `Err(retry_after)` when `client` has spent its failed attempts for this minute: its
    /// request is to be refused unread and unlogged.
    pub fn check(&self, client: Option<IpAddr>, now: Instant) -> Result<(), Duration> {
        let windows = self.windows.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        match windows.get(&client) {
            Some(w) if now.duration_since(w.started) < WINDOW && w.failures >= self.per_minute => {
                Err((WINDOW - now.duration_since(w.started)).max(Duration::from_secs(1)))
            }
            _ => Ok(()),
        }
    }

    /// Counts one request of `client` that presented no valid key. Returns false when the
    /// address could not be tracked (too many at once): the caller refuses it.
    pub fn spend(&self, client: Option<IpAddr>, now: Instant) -> bool {
        let mut windows = self.windows.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if windows.len() >= MAX_TRACKED && !windows.contains_key(&client) {
            windows.retain(|_, w| now.duration_since(w.started) < WINDOW);
            if windows.len() >= MAX_TRACKED {
                return false;
            }
        }
        let window = windows.entry(client).or_insert(Window { started: now, failures: 0 });
        if now.duration_since(window.started) >= WINDOW {
            *window = Window { started: now, failures: 0 };
        }
        window.failures = window.failures.saturating_add(1);
        true
    }
}

impl Default for UnauthenticatedBudget {
    fn default() -> Self {
        UnauthenticatedBudget::new(DEFAULT_PER_MINUTE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(last: u8) -> Option<IpAddr> {
        Some(IpAddr::from([203, 0, 113, last]))
    }

    #[test]
    fn an_address_is_refused_once_it_has_failed_its_budget_for_the_minute() {
        let budget = UnauthenticatedBudget::new(3);
        let start = Instant::now();
        for _ in 0..3 {
            assert_eq!(budget.check(addr(1), start), Ok(()));
            assert!(budget.spend(addr(1), start));
        }
        let retry = budget.check(addr(1), start + Duration::from_secs(20)).unwrap_err();
        assert_eq!(retry, Duration::from_secs(40));
        assert_eq!(budget.check(addr(2), start), Ok(()), "another address has its own budget");
        assert_eq!(budget.check(addr(1), start + WINDOW), Ok(()), "a new minute, a new budget");
        assert!(budget.spend(addr(1), start + WINDOW));
        assert_eq!(budget.check(addr(1), start + WINDOW), Ok(()));
    }
}
