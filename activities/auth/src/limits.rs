//! What keeps sign-up and sign-in from being turned against the process: a bound on
//! concurrent Argon2 work (each hash holds about 19 MiB), and a per-client token bucket on
//! the routes that hash. Both are in-process: each API replica counts alone.

use crate::password::Block;
use std::{
    collections::HashMap,
    net::IpAddr,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// At most `permits` Argon2 computations at once; a caller waits up to `wait` for a turn.
/// Each turn works in memory kept for the turns (see `Passwords::memory`), so the process
/// never holds more than `permits` hashes' worth.
#[derive(Debug, Clone)]
pub struct HashGate {
    permits: Arc<Semaphore>,
    wait: Duration,
    memory: Arc<Mutex<Vec<Vec<Block>>>>,
}

/// The gate stayed full for longer than its wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GateFull;

impl HashGate {
    pub fn new(permits: usize, wait: Duration) -> Self {
        HashGate { permits: Arc::new(Semaphore::new(permits.max(1))), wait, memory: Arc::default() }
    }

    /// Twice the cores this process may use.
    pub fn default_permits() -> usize {
        2 * std::thread::available_parallelism().map_or(1, |n| n.get())
    }

    /// A turn to hash, held until the permit drops.
    pub async fn enter(&self) -> Result<OwnedSemaphorePermit, GateFull> {
        match tokio::time::timeout(self.wait, self.permits.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err(GateFull),
        }
    }

    /// Runs `work` on the blocking pool inside a turn, with the turn's memory.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Vec<Block>) -> T + Send + 'static,
    ) -> Result<T, GateError> {
        let permit = self.enter().await.map_err(|_| GateError::Full)?;
        let kept = self.memory.clone();
        tokio::task::spawn_blocking(move || {
            let mut memory = kept.lock().unwrap_or_else(|e| e.into_inner()).pop().unwrap_or_default();
            let result = work(&mut memory);
            kept.lock().unwrap_or_else(|e| e.into_inner()).push(memory);
            drop(permit);
            result
        })
        .await
        .map_err(|e| GateError::Failed(e.to_string()))
    }
}

impl Default for HashGate {
    fn default() -> Self {
        HashGate::new(HashGate::default_permits(), Duration::from_secs(2))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GateError {
    Full,
    Failed(String),
}

/// A token bucket per client address: `per_minute` requests a minute, in bursts of as many.
#[derive(Debug, Clone)]
pub struct ClientRateLimiter {
    per_minute: u32,
    buckets: Arc<Mutex<HashMap<IpAddr, Bucket>>>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Buckets kept before full ones are dropped (a full bucket is the same as none).
const MAX_BUCKETS: usize = 10_000;

impl ClientRateLimiter {
    /// `per_minute` 0 turns the limit off.
    pub fn new(per_minute: u32) -> Self {
        ClientRateLimiter { per_minute, buckets: Arc::default() }
    }

    /// Takes one token of `client`'s bucket, or says how long until one is there.
    pub fn admit(&self, client: IpAddr) -> Result<(), Duration> {
        self.admit_at(client, Instant::now())
    }

    fn admit_at(&self, client: IpAddr, now: Instant) -> Result<(), Duration> {
        if self.per_minute == 0 {
            return Ok(());
        }
        let capacity = f64::from(self.per_minute);
        let per_sec = capacity / 60.0;
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() >= MAX_BUCKETS {
            buckets.retain(|_, b| b.tokens + now.saturating_duration_since(b.at).as_secs_f64() * per_sec < capacity);
        }
        let bucket = buckets.entry(client).or_insert(Bucket { tokens: capacity, at: now });
        bucket.tokens =
            (bucket.tokens + now.saturating_duration_since(bucket.at).as_secs_f64() * per_sec).min(capacity);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - bucket.tokens) / per_sec))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_gets_its_burst_then_waits_while_others_do_not() {
        let limiter = ClientRateLimiter::new(6);
        let (a, b): (IpAddr, IpAddr) = ("203.0.113.1".parse().unwrap(), "203.0.113.2".parse().unwrap());
        let start = Instant::now();
        for _ in 0..6 {
            assert!(limiter.admit_at(a, start).is_ok());
        }
        let wait = limiter.admit_at(a, start).unwrap_err();
        assert!((9..=10).contains(&wait.as_secs()), "{wait:?}");
        assert!(limiter.admit_at(b, start).is_ok());
        assert!(limiter.admit_at(a, start + Duration::from_secs(10)).is_ok());
        assert!(ClientRateLimiter::new(0).admit_at(a, start).is_ok());
    }

    #[tokio::test]
    async fn the_gate_admits_its_permits_and_refuses_after_the_wait() {
        let gate = HashGate::new(2, Duration::from_millis(50));
        let (one, two) = (gate.enter().await.unwrap(), gate.enter().await.unwrap());
        assert_eq!(gate.enter().await.unwrap_err(), GateFull);
        drop(one);
        assert!(gate.run(|_| 7).await == Ok(7));
        drop(two);
    }
}
