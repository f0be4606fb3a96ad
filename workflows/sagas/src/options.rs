//! Activity options per context. Every activity is routed to its owning context's task
//! queue so each context's worker deployment scales and fails on its own.

use std::time::Duration;
use temporalio_common::RetryPolicy;
use temporalio_sdk::{ActivityOptions, LocalActivityOptions, WorkflowCancellationToken};

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

/// Options for a step of the saga's own context (booking), run as a local activity by the
/// booking worker that runs the saga: no task queue round trip through the server, and no
/// workflow task to hand its result back. Same timeout, retries and detached cancellation
/// as [`on_queue`]; `summary` names the step in the Web UI, whose history shows it as a
/// marker rather than as scheduled, started and completed events.
pub(crate) fn own_step(start_to_close: Duration, summary: &str) -> LocalActivityOptions {
    LocalActivityOptions::builder()
        .start_to_close_timeout(start_to_close)
        .retry_policy(retry_forever())
        .cancellation_token(WorkflowCancellationToken::new())
        .summary(summary.to_string())
        .build()
}
