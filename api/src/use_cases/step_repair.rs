//! An operator repairs a step that keeps failing while a booking is given back or
//! cancelled: `retry_step_now` (try it again now, not after its backoff) or
//! `hand_refund_over` (stop a refund the gateway keeps refusing; its amount is owed). Both
//! are Updates of the saga doing the giving back: the booking saga while it compensates, or
//! the cancellation saga of a confirmed booking. Their validators refuse, before anything
//! enters the history, a saga with no such step running.

use crate::{error::ApiError, state::AppState};
use booking::BookingKind;
use contracts::{
    BookingRef,
    saga::{StepRepair, StepRepaired},
};
use sagas::{BookingWorkflow, CancellationWorkflow, PackageBookingWorkflow};
use temporalio_client::{Client, WorkflowExecuteUpdateOptions, errors::WorkflowUpdateError};

/// The two repairs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Repair {
    RetryNow,
    HandRefundOver,
}

impl Repair {
    /// The update's name, also the prefix of its id and the audit row's action.
    fn name(self) -> &'static str {
        match self {
            Repair::RetryNow => "retry_step_now",
            Repair::HandRefundOver => "hand_refund_over",
        }
    }
}

pub(crate) struct RepairOrder {
    pub(crate) booking_ref: BookingRef,
    pub(crate) repair: Repair,
    pub(crate) request: StepRepair,
    /// The request's `Idempotency-Key`: the update's id, so a repeat is the same update.
    pub(crate) key: Option<String>,
}

/// What a repair acted on: the workflow and its step.
#[derive(Debug, Clone)]
pub(crate) struct Repaired {
    pub(crate) workflow_id: String,
    pub(crate) step: String,
}

/// Sends the repair to the saga giving the booking back; answers the step it acted on.
pub(crate) async fn repair_step(state: &AppState, order: RepairOrder) -> Result<Repaired, ApiError> {
    let booking_ref = &order.booking_ref;
    let kind = state.bookings.kind_of(booking_ref).await?;
    let client = state.temporal.client().await?;
    // A booking saga compensates before its booking is confirmed; a cancellation saga runs
    // only after. So the booking saga is asked first, and the cancellation once it is over.
    let sagas = [
        (booking_ref.workflow_id(), Saga::Booking(kind.unwrap_or(BookingKind::Stay))),
        (format!("cancel-{booking_ref}"), Saga::Cancellation),
    ];
    for (workflow_id, saga) in sagas {
        match send(&client, &order, &workflow_id, saga).await {
            Ok(repaired) => {
                let details = serde_json::json!({
                    "workflow_id": workflow_id,
                    "step": repaired.step,
                    "reason": order.request.reason,
                });
                state.bookings.note(booking_ref, order.repair.name(), &order.request.requested_by, details).await?;
                return Ok(Repaired { workflow_id, step: repaired.step });
            }
            Err(WorkflowUpdateError::NotFound(_)) => continue,
            Err(WorkflowUpdateError::Failed(failure)) => {
                return Err(ApiError::conflict(
                    "nothing_to_repair",
                    format!("Booking {booking_ref} cannot be repaired so: {}", failure.message),
                ));
            }
            Err(e) => {
                tracing::warn!(error = %e, repair = order.repair.name(), "repairing a saga's step failed");
                return Err(ApiError::unavailable("temporal_unavailable", "The saga cannot be repaired right now"));
            }
        }
    }
    Err(ApiError::conflict(
        "nothing_to_repair",
        format!("No saga of booking {booking_ref} is giving anything back: there is no step to repair"),
    ))
}

/// The sagas that give a booking back.
#[derive(Debug, Clone, Copy)]
enum Saga {
    Booking(BookingKind),
    Cancellation,
}

async fn send(
    client: &Client,
    order: &RepairOrder,
    workflow_id: &str,
    saga: Saga,
) -> Result<StepRepaired, WorkflowUpdateError> {
    let options = WorkflowExecuteUpdateOptions::builder()
        .maybe_update_id(order.key.as_ref().map(|key| format!("{}/{key}", order.repair.name())))
        .build();
    let request = order.request.clone();
    // The SDK types an update by its workflow: one arm per saga that takes repairs.
    macro_rules! update {
        ($workflow:ty) => {{
            let handle = client.get_workflow_handle::<$workflow>(workflow_id.to_string());
            match order.repair {
                Repair::RetryNow => handle.execute_update(<$workflow>::retry_step_now, request, options).await,
                Repair::HandRefundOver => handle.execute_update(<$workflow>::hand_refund_over, request, options).await,
            }
        }};
    }
    match saga {
        Saga::Cancellation => update!(CancellationWorkflow),
        Saga::Booking(BookingKind::Stay) => update!(BookingWorkflow),
        Saga::Booking(BookingKind::Package) => update!(PackageBookingWorkflow),
    }
}
