//! Activity options per context. Every activity is routed to its owning context's task
//! queue so each context's worker deployment scales and fails on its own.

use std::time::Duration;
use temporalio_common::RetryPolicy;
use temporalio_sdk::{ActivityCloseTimeouts, ActivityOptions, LocalActivityOptions, WorkflowCancellationToken};

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
    queue_options(queue, ActivityCloseTimeouts::StartToClose(start_to_close))
}

fn queue_options(queue: &str, timeouts: ActivityCloseTimeouts) -> ActivityOptions {
    ActivityOptions::with_close_timeouts(timeouts)
        .task_queue(queue.to_string())
        .retry_policy(retry_forever())
        .maybe_heartbeat_timeout(heartbeat_timeout(queue))
        .cancellation_token(WorkflowCancellationToken::new())
        .build()
}

/// Payment activities heartbeat (every few seconds) while they wait on the gateway: a
/// worker that died under one is noticed after this, not after the step's whole timeout,
/// and an attempt Temporal gave up on learns it and lets go of its charge's lock.
const PAYMENT_HEARTBEAT_TIMEOUT: Duration = Duration::from_secs(20);

fn heartbeat_timeout(queue: &str) -> Option<Duration> {
    (queue == contracts::temporal::task_queue::PAYMENT).then_some(PAYMENT_HEARTBEAT_TIMEOUT)
}

/// [`on_queue_within`] when `within` is given, [`on_queue`] otherwise.
pub(crate) fn on_queue_bounded(queue: &str, start_to_close: Duration, within: Option<Duration>) -> ActivityOptions {
    match within {
        Some(within) => on_queue_within(queue, start_to_close, within),
        None => on_queue(queue, start_to_close),
    }
}

/// Options for an activity on `queue` that must succeed within `within`, retries included:
/// for work that has a later chance (a repair the next sweep starts again), where a step
/// failing for good should end the workflow, visibly, rather than retry for ever.
pub(crate) fn on_queue_within(queue: &str, start_to_close: Duration, within: Duration) -> ActivityOptions {
    queue_options(queue, ActivityCloseTimeouts::ScheduleAndStartToClose { schedule_to_close: within, start_to_close })
}

/// See [`own_step`].
const LOCAL_RETRY_TIMER_THRESHOLD: Duration = Duration::from_secs(5);

/// Options for a step of the saga's own context (booking), run as a local activity by the
/// booking worker that runs the saga: no task queue round trip through the server, and no
/// workflow task to hand its result back. Same timeout, retries and detached cancellation
/// as [`on_queue`]; `summary` names the step in the Web UI, whose history shows it as a
/// marker rather than as scheduled, started and completed events.
///
/// With `within`, the step gives up (a timeout failure) once that time has passed, retries
/// included.
pub(crate) fn own_step(start_to_close: Duration, within: Option<Duration>, summary: &str) -> LocalActivityOptions {
    LocalActivityOptions::builder()
        .start_to_close_timeout(start_to_close)
        .maybe_schedule_to_close_timeout(within)
        .retry_policy(retry_forever())
        // Retries backing off longer than this wait on a workflow timer instead of inside
        // one workflow task, whose heartbeats would add events all the while: an outage of
        // the booking database costs two events per retry, not a stream of task events.
        .timer_backoff_threshold(LOCAL_RETRY_TIMER_THRESHOLD)
        .cancellation_token(WorkflowCancellationToken::new())
        .summary(summary.to_string())
        .build()
}
