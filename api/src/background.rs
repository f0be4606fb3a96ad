//! Writes that a request leaves behind after it has answered (the mark that a saga started,
//! an activity-log line): they run off the request path, and graceful shutdown waits for
//! them, so a deploy does not lose them.

use std::{future::Future, time::Duration};
use tokio_util::task::TaskTracker;
use tracing::Instrument;

/// The writes in flight after their requests answered.
#[derive(Clone, Default)]
pub struct BackgroundWrites {
    tracker: TaskTracker,
}

impl BackgroundWrites {
    /// Runs `write` off the request path, in the request's span (its log lines keep the
    /// booking reference and the trace).
    pub(crate) fn spawn(&self, write: impl Future<Output = ()> + Send + 'static) {
        self.tracker.spawn(write.in_current_span());
    }

    /// Takes no more writes and waits up to `limit` for those in flight; `false` if some
    /// were still running then.
    pub(crate) async fn drain(&self, limit: Duration) -> bool {
        self.tracker.close();
        let drained = tokio::time::timeout(limit, self.tracker.wait()).await.is_ok();
        if !drained {
            tracing::warn!(left = self.tracker.len(), "writes still running at shutdown were abandoned");
        }
        drained
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    };

    #[tokio::test]
    async fn a_write_spawned_just_before_shutdown_finishes_before_the_drain_returns() {
        let writes = BackgroundWrites::default();
        let written = Arc::new(AtomicBool::new(false));
        let flag = written.clone();
        writes.spawn(async move {
            tokio::time::sleep(Duration::from_millis(200)).await;
            flag.store(true, Ordering::SeqCst);
        });
        assert!(writes.drain(Duration::from_secs(5)).await);
        assert!(written.load(Ordering::SeqCst), "the drain returned before the write finished");
    }

    #[tokio::test]
    async fn a_write_longer_than_the_limit_is_reported() {
        let writes = BackgroundWrites::default();
        writes.spawn(tokio::time::sleep(Duration::from_secs(60)));
        assert!(!writes.drain(Duration::from_millis(50)).await);
    }
}
