//! The use cases that start or steer workflows, one home for each, shared by the traveller,
//! partner and operator routes. A handler parses, authorizes, calls one use case here and
//! maps its result to HTTP; the use case speaks to the contexts through their facades and to
//! Temporal through the client.
//!
//! Module invariant: nothing here depends on `crate::routes` (routes depend on use cases,
//! never the reverse).

pub(crate) mod booking;
pub(crate) mod cancellation;
pub(crate) mod force_cancel;
pub(crate) mod payment_event;
pub(crate) mod payment_window;
pub(crate) mod payout;
pub(crate) mod refund;
pub(crate) mod step_repair;

use crate::error::ApiError;
use temporalio_client::errors::WorkflowStartError;

/// Whether a gRPC failure means "Temporal is away for now" (503, try again) rather than a bug.
fn is_unavailable(status: &temporalio_client::tonic::Status) -> bool {
    use temporalio_client::tonic::Code;
    matches!(status.code(), Code::Unavailable | Code::DeadlineExceeded | Code::ResourceExhausted)
}

/// A workflow start that answered "already started" found the process running or done:
/// for a business-keyed workflow id that is success. `what` names the process in the 503.
pub(crate) fn started_or_running(outcome: Result<(), WorkflowStartError>, what: &str) -> Result<(), ApiError> {
    match outcome {
        Ok(()) | Err(WorkflowStartError::AlreadyStarted { .. }) => Ok(()),
        Err(WorkflowStartError::Rpc(status)) if is_unavailable(&status) => Err(ApiError::unavailable(
            "temporal_unavailable",
            format!("{what} cannot be started right now; try again shortly"),
        )),
        Err(e) => Err(ApiError::Internal(e.into())),
    }
}
