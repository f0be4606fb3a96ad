//! An operator gives a traveller more time to pay on the checkout: the booking saga's
//! `extend_payment_window` update, whose validator refuses (before anything enters the
//! history) a saga that is not waiting on its checkout. The saga keeps its holds as long,
//! then waits on; the traveller pays on the same page.

use crate::{error::ApiError, state::AppState, use_cases::booking::CheckoutDto};
use booking::BookingKind;
use contracts::{BookingRef, saga::PaymentWindowExtension};
use sagas::{BookingWorkflow, PackageBookingWorkflow};
use temporalio_client::{WorkflowExecuteUpdateOptions, errors::WorkflowUpdateError};

pub(crate) struct WindowOrder {
    pub(crate) booking_ref: BookingRef,
    pub(crate) extension: PaymentWindowExtension,
    /// The request's `Idempotency-Key`: the update's id, so a repeat is the same update.
    pub(crate) key: Option<String>,
}

/// Extends the checkout's window; answers the checkout with its new end.
pub(crate) async fn extend_payment_window(state: &AppState, order: WindowOrder) -> Result<CheckoutDto, ApiError> {
    let booking_ref = &order.booking_ref;
    let kind = state.bookings.kind_of(booking_ref).await?.ok_or_else(|| not_in_flight(booking_ref))?;
    let client = state.temporal.client().await?;
    let options = WorkflowExecuteUpdateOptions::builder()
        .maybe_update_id(order.key.as_ref().map(|key| format!("extend-payment-window/{key}")))
        .build();
    let id = booking_ref.workflow_id();
    let extension = order.extension.clone();
    let answered = match kind {
        BookingKind::Stay => {
            client
                .get_workflow_handle::<BookingWorkflow>(id)
                .execute_update(BookingWorkflow::extend_payment_window, extension, options)
                .await
        }
        BookingKind::Package => {
            client
                .get_workflow_handle::<PackageBookingWorkflow>(id)
                .execute_update(PackageBookingWorkflow::extend_payment_window, extension, options)
                .await
        }
    };
    let checkout = match answered {
        Ok(checkout) => checkout,
        // The saga has ended: a booking on record is past its checkout, one way or the other.
        Err(WorkflowUpdateError::NotFound(_)) => {
            return Err(match state.bookings.record_status(booking_ref).await? {
                Some(status) => ApiError::conflict(
                    "not_awaiting_payment",
                    format!("Booking {booking_ref} is {status}; its saga waits for no payment"),
                ),
                None => not_in_flight(booking_ref),
            });
        }
        Err(WorkflowUpdateError::Failed(failure)) => {
            return Err(ApiError::conflict(
                "not_awaiting_payment",
                format!("Booking {booking_ref} cannot take more time: {}", failure.message),
            ));
        }
        Err(e) => {
            tracing::warn!(error = %e, "extending the payment window failed");
            return Err(ApiError::unavailable(
                "temporal_unavailable",
                "The payment window cannot be extended right now",
            ));
        }
    };
    let details = serde_json::json!({
        "minutes": order.extension.minutes,
        "reason": order.extension.reason,
        "until_ms": checkout.expires_at_ms,
    });
    state.bookings.note(booking_ref, "payment_window_extended", &order.extension.requested_by, details).await?;
    let mut dto = CheckoutDto::from(checkout);
    dto.pay_url = format!("{}{}", state.payments_config.checkout_url, dto.gateway_order_id);
    Ok(dto)
}

fn not_in_flight(booking_ref: &BookingRef) -> ApiError {
    ApiError::not_found("no_saga_in_flight", format!("No booking saga of {booking_ref} is running"))
}
