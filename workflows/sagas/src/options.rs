//! Activity options per context. Every activity is routed to its owning context's task
//! queue so each context's worker deployment scales and fails on its own.

use std::time::Duration;
use temporalio_common::RetryPolicy;
use temporalio_sdk::{ActivityOptions, WorkflowCancellationToken};

/// Infrastructure errors are retried without limit: a database blip or a redeploy must
/// delay a booking, never compensate it. Business failures are non-retryable by design.
fn retry_forever() -> RetryPolicy {
    RetryPolicy::builder()
        .initial_interval(Duration::from_millis(500))
        .backoff_coefficient(2.0)
        .maximum_interval(Duration::from_secs(30))
        .build()
}

/// Options for an activity on `queue`.
///
/// The cancellation token is detached from the workflow's: a forward step that has started
/// always finishes, so the saga knows its real outcome and compensates exactly what
/// happened. Cancellation of the saga is observed between steps.
pub(crate) fn on_queue(queue: &str, start_to_close: Duration) -> ActivityOptions {
    ActivityOptions::with_start_to_close_timeout(start_to_close)
        .task_queue(queue.to_string())
        .retry_policy(retry_forever())
        .cancellation_token(WorkflowCancellationToken::new())
        .build()
}
