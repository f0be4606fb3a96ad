//! An operator gives up a booking stuck before confirmation: the booking saga is asked to
//! cancel (Temporal's cancellation request, which the saga observes between steps) and runs
//! its compensations in reverse — the refund of anything captured, the record marked
//! `failed` (`cancelled`), the rooms released. A confirmed booking is cancelled by its policy
//! instead (`POST /api/bookings/{ref}/cancel`).

use crate::{error::ApiError, state::AppState};
use booking::RecordStatus;
use contracts::BookingRef;
use sagas::BookingWorkflow;
use temporalio_client::{WorkflowCancelOptions, errors::WorkflowInteractionError};

/// A force-cancel, asked for by an operator (the handler checked the permission and input).
pub(crate) struct ForceCancel {
    pub(crate) booking_ref: BookingRef,
    pub(crate) reason: String,
    /// `user:<id>`.
    pub(crate) requested_by: String,
}

/// Asks the booking's saga to cancel; asking again is the same request (one cancellation).
pub(crate) async fn force_cancel(state: &AppState, order: ForceCancel) -> Result<(), ApiError> {
    let booking_ref = &order.booking_ref;
    match state.bookings.record_status(booking_ref).await? {
        Some(RecordStatus::Confirmed | RecordStatus::Cancelled) => {
            return Err(ApiError::conflict(
                "already_confirmed",
                format!(
                    "Booking {booking_ref} is confirmed; cancel it by its policy with POST /api/bookings/{booking_ref}/cancel"
                ),
            ));
        }
        Some(RecordStatus::Failed) => {
            return Err(ApiError::conflict("not_in_flight", format!("Booking {booking_ref} has already failed")));
        }
        Some(RecordStatus::PendingPayment) | None => {}
    }
    let client = state.temporal.client().await?;
    let saga = client.get_workflow_handle::<BookingWorkflow>(booking_ref.workflow_id());
    let options = WorkflowCancelOptions::builder()
        .reason(format!("force-cancel by {}: {}", order.requested_by, order.reason))
        // The server keeps one cancellation per request id: asked twice, cancelled once.
        .request_id(format!("force-cancel-{booking_ref}"))
        .build();
    match saga.cancel(options).await {
        Ok(()) => {}
        Err(WorkflowInteractionError::NotFound(_)) => {
            return Err(ApiError::not_found(
                "no_saga_in_flight",
                format!("No booking saga of {booking_ref} is running (it finished, or never started)"),
            ));
        }
        Err(e) => {
            tracing::warn!(error = %e, "asking the booking saga to cancel failed");
            return Err(ApiError::unavailable("temporal_unavailable", "The booking cannot be cancelled right now"));
        }
    }
    let details = serde_json::json!({ "reason": order.reason });
    state.bookings.note(booking_ref, "force_cancel_requested", &order.requested_by, details).await?;
    tracing::warn!(%booking_ref, by = %order.requested_by, reason = %order.reason, "booking force-cancelled");
    Ok(())
}
