//! Cancel a confirmed booking: one cancellation saga per booking (`cancel-<ref>`), whoever
//! asks — the traveller, an operator or the partner that sold it.

use super::{booking::BookingState, started_or_running};
use crate::{error::ApiError, state::AppState};
use booking::RecordStatus;
use contracts::{
    BookingRef,
    cancellation::{CancellationInput, RefundOverride},
    temporal::task_queue,
};
use temporalio_client::{WorkflowIdConflictPolicy, WorkflowIdReusePolicy, WorkflowStartOptions};

/// The longest reason kept with a cancellation.
const MAX_REASON_CHARS: usize = 500;

/// A cancellation, asked for by someone allowed to (the handler checked).
pub(crate) struct CancellationOrder {
    pub(crate) booking_ref: BookingRef,
    /// `user:<id>` or `partner:<id>`, for the audit trail.
    pub(crate) requested_by: String,
    pub(crate) reason: String,
    pub(crate) override_refund: Option<RefundOverride>,
}

/// Starts (or finds) the booking's cancellation saga; answers where the booking stands:
/// `cancelled` when an earlier cancellation finished, else `cancelling`.
pub(crate) async fn start_cancellation(state: &AppState, order: CancellationOrder) -> Result<BookingState, ApiError> {
    let booking_ref = order.booking_ref;
    // Stays and packages alike: the saga reads the booking's own policy and holds.
    let status = state
        .bookings
        .record_status(&booking_ref)
        .await?
        .ok_or_else(|| ApiError::not_found("booking_not_found", format!("No booking {booking_ref}")))?;
    if !matches!(status, RecordStatus::Confirmed | RecordStatus::Cancelled) {
        return Err(ApiError::conflict(
            "not_cancellable",
            format!("Booking {booking_ref} is {status}; only a confirmed booking can be cancelled"),
        ));
    }
    let input = CancellationInput {
        booking_ref: booking_ref.clone(),
        requested_by: order.requested_by,
        reason: order.reason.chars().take(MAX_REASON_CHARS).collect(),
        override_refund: order.override_refund,
    };
    let client = state.temporal.client().await?;
    // One cancellation per booking: repeats attach to the running one or find it done; a
    // cancellation that failed may run again.
    let options = WorkflowStartOptions::new(task_queue::BOOKING, input.workflow_id())
        .id_conflict_policy(WorkflowIdConflictPolicy::UseExisting)
        .id_reuse_policy(WorkflowIdReusePolicy::AllowDuplicateFailedOnly)
        .build();
    let started = client.start_workflow(sagas::CancellationWorkflow::run, input, options).await.map(drop);
    started_or_running(started, "Cancellations")?;
    Ok(if status == RecordStatus::Cancelled { BookingState::Cancelled } else { BookingState::Cancelling })
}
