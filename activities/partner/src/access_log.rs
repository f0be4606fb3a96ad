//! The partner API's access log, written without slowing requests down: a request hands its
//! line to a bounded channel and goes on; a background task drains the channel and writes
//! the lines in batches. When the channel is full (the database is slow or away) lines are
//! dropped and counted (`partner_access_log_dropped_total`), never waited for.
//!
//! The same task deletes rate-limit counters that no window looks at any more.

use crate::store::{self, AccessLogEntry};
use sqlx::PgPool;
use std::{sync::Arc, time::Duration};
use tokio::{
    sync::{Mutex, mpsc},
    task::JoinHandle,
};

/// Lines waiting to be written before new ones are dropped.
pub const DEFAULT_CAPACITY: usize = 10_000;
/// Lines per INSERT.
const BATCH: usize = 500;
/// How often stale rate-limit counters are deleted.
const CLEANUP_EVERY: Duration = Duration::from_secs(60);

/// The request side: cheap to clone, never blocks.
#[derive(Clone, Debug)]
pub struct AccessLog {
    sender: mpsc::Sender<AccessLogEntry>,
    writer: Arc<Mutex<Option<JoinHandle<()>>>>,
}

/// Waits for the writer to finish what was queued; holds no sender, so the channel can close.
#[derive(Clone, Debug)]
pub struct AccessLogDrain {
    writer: Arc<Mutex<Option<JoinHandle<()>>>>,
}

impl AccessLog {
    /// Starts the writer task on the current Tokio runtime.
    pub fn start(pool: PgPool, capacity: usize) -> Self {
        let (sender, receiver) = mpsc::channel(capacity.max(1));
        let handle = tokio::spawn(write_batches(pool, receiver));
        AccessLog { sender, writer: Arc::new(Mutex::new(Some(handle))) }
    }

    /// A log whose lines go nowhere (but are still counted as dropped): for processes that
    /// serve no partner routes.
    pub fn disabled() -> Self {
        let (sender, _) = mpsc::channel(1);
        AccessLog { sender, writer: Arc::new(Mutex::new(None)) }
    }

    /// Queues one line, or drops it (and counts it) when the queue is full; never waits.
    /// Returns whether the line was queued.
    pub fn record(&self, entry: AccessLogEntry) -> bool {
        match self.sender.try_send(entry) {
            Ok(()) => {
                metrics::counter!("partner_access_log_queued_total").increment(1);
                true
            }
            Err(_) => {
                metrics::counter!("partner_access_log_dropped_total").increment(1);
                false
            }
        }
    }

    pub fn drain(&self) -> AccessLogDrain {
        AccessLogDrain { writer: self.writer.clone() }
    }
}

impl AccessLogDrain {
    /// Once every [`AccessLog`] is dropped, waits up to `timeout` for queued lines to be written.
    pub async fn wait(&self, timeout: Duration) {
        let handle = self.writer.lock().await.take();
        if let Some(handle) = handle
            && tokio::time::timeout(timeout, handle).await.is_err()
        {
            tracing::warn!("the partner access log did not finish writing in time");
        }
    }
}

async fn write_batches(pool: PgPool, mut receiver: mpsc::Receiver<AccessLogEntry>) {
    let mut batch = Vec::with_capacity(BATCH);
    let mut cleanup = tokio::time::interval(CLEANUP_EVERY);
    cleanup.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            received = receiver.recv_many(&mut batch, BATCH) => {
                if received == 0 {
                    return;
                }
                write(&pool, &batch).await;
                batch.clear();
            }
            _ = cleanup.tick() => {
                if let Err(e) = store::delete_old_windows(&pool).await {
                    tracing::warn!(error = %e, "could not delete old rate-limit counters");
                }
            }
        }
    }
}

/// Writes one batch, trying once more after a failure; then gives the batch up (counted as
/// dropped) rather than holding up the lines behind it.
async fn write(pool: &PgPool, batch: &[AccessLogEntry]) {
    for attempt in 0..2 {
        match store::insert_access_logs(pool, batch).await {
            Ok(()) => {
                metrics::counter!("partner_access_log_written_total").increment(batch.len() as u64);
                return;
            }
            Err(e) if attempt == 0 => {
                tracing::warn!(error = %e, lines = batch.len(), "writing the partner access log failed; retrying");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => tracing::error!(error = %e, lines = batch.len(), "partner access log lines dropped"),
        }
    }
    metrics::counter!("partner_access_log_dropped_total").increment(batch.len() as u64);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::KeyIdentity;

    fn line(n: u16) -> AccessLogEntry {
        AccessLogEntry {
            caller: KeyIdentity::default(),
            method: "GET".into(),
            route: "/api/partners/v1/quote".into(),
            status: 200 + n % 2,
            latency_ms: 1,
            client_addr: None,
            at: chrono::Utc::now(),
        }
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_full_queue_drops_lines_instead_of_waiting() {
        // Nothing listens on port 9: the writer could never keep up, and on this
        // single-threaded runtime it does not even run until the test yields.
        let options = "postgres://nobody@127.0.0.1:9/none".parse::<sqlx::postgres::PgConnectOptions>().unwrap();
        let pool = sqlx::postgres::PgPoolOptions::new().connect_lazy_with(options);
        let log = AccessLog::start(pool, 3);
        let queued = (0..100).filter(|n| log.record(line(*n))).count();
        assert_eq!(queued, 3);
        assert!(!AccessLog::disabled().record(line(0)), "a disabled log queues nothing");
    }
}
