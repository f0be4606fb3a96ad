//! An operator's refund of a paid booking, full or partial: reserved by the payment context
//! under the charge's lock (never more than captured less refunded), then made by the
//! `ManualRefund` workflow (`manual-refund-<ref>/<key>`), one per booking and key.

use super::started_or_running;
use crate::{error::ApiError, state::AppState};
use booking::RecordStatus;
use contracts::{BookingRef, Money, saga::ManualRefundInput, temporal::task_queue};
use payment::{RefundAsk, RefundRefused, RefundRequestRow};
use temporalio_client::{WorkflowIdConflictPolicy, WorkflowIdReusePolicy, WorkflowStartOptions};

/// A refund, asked for by an operator (the handler checked the permission and the input).
pub(crate) struct RefundOrder {
    pub(crate) booking_ref: BookingRef,
    /// The request's `Idempotency-Key`.
    pub(crate) client_key: String,
    /// Paise; `None` for everything still refundable.
    pub(crate) amount_paise: Option<i64>,
    pub(crate) reason: String,
    /// `user:<id>`.
    pub(crate) requested_by: String,
}

/// Reserves the refund and starts (or finds) its workflow; answers the reservation.
pub(crate) async fn start_refund(state: &AppState, order: RefundOrder) -> Result<RefundRequestRow, ApiError> {
    let booking_ref = order.booking_ref;
    let status = state
        .bookings
        .record_status(&booking_ref)
        .await?
        .ok_or_else(|| ApiError::not_found("booking_not_found", format!("No booking {booking_ref} is recorded")))?;
    if !matches!(status, RecordStatus::Confirmed | RecordStatus::Cancelled) {
        return Err(ApiError::conflict(
            "not_refundable",
            format!("Booking {booking_ref} is {status}; only a confirmed or cancelled booking is refunded by hand"),
        ));
    }
    let mut input = ManualRefundInput {
        booking_ref: booking_ref.clone(),
        client_key: order.client_key,
        amount: Money::inr(0),
        reason: order.reason,
        requested_by: order.requested_by,
    };
    let (charge_key, refund_key) = (input.charge_idempotency_key(), input.refund_key());
    let ask = RefundAsk {
        charge_key: &charge_key,
        refund_key: &refund_key,
        amount_paise: order.amount_paise,
        reason: &input.reason,
        requested_by: &input.requested_by,
    };
    let reserved = state.payments.reserve_refund(&ask).await.map_err(refused)?;
    input.amount = Money::inr(reserved.amount_paise);
    // Reserved first, started second: should the start fail, the same request again finds
    // the reservation and starts the workflow; nothing is refunded without one.
    let client = state.temporal.client().await?;
    let options = WorkflowStartOptions::new(task_queue::BOOKING, input.workflow_id())
        .id_conflict_policy(WorkflowIdConflictPolicy::UseExisting)
        .id_reuse_policy(WorkflowIdReusePolicy::RejectDuplicate)
        .build();
    let started = client.start_workflow(sagas::ManualRefundWorkflow::run, input, options).await.map(drop);
    started_or_running(started, "Refunds")?;
    Ok(reserved)
}

fn refused(refusal: RefundRefused) -> ApiError {
    match refusal {
        RefundRefused::NothingCaptured => {
            ApiError::conflict("nothing_captured", "The booking has no captured payment to refund")
        }
        RefundRefused::NothingLeft => ApiError::conflict(
            "nothing_to_refund",
            "Everything captured for this booking was refunded, or is being refunded",
        ),
        RefundRefused::MoreThanRefundable { refundable } => ApiError::Invalid {
            code: "exceeds_refundable",
            message: format!("At most {refundable} paise can still be refunded"),
            details: Some(serde_json::json!({ "field": "amount", "refundable": refundable })),
        },
        RefundRefused::KeyReused { existing } => ApiError::Invalid {
            code: "idempotency_key_reused",
            message: "This Idempotency-Key was used for another refund of this booking".into(),
            details: Some(serde_json::json!({ "field": "Idempotency-Key", "amount": existing.amount_paise })),
        },
        RefundRefused::Busy => ApiError::unavailable(
            "payment_busy",
            "Another payment step is working on this booking's charge; try again shortly",
        ),
        RefundRefused::Database(e) => e.into(),
    }
}
