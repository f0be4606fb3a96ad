//! A payment the gateway reports (by webhook): it wakes the booking saga that waits for it,
//! or, when nothing will ever use it — no saga waits any more, or the order was paid twice —
//! starts its automatic refund (`refund-<payment id>`). A failed payment took nothing: it
//! only wakes a checkout's waiting saga, which then ends the booking with the decline.

use super::started_or_running;
use crate::{error::ApiError, state::AppState};
use contracts::{
    BookingRef,
    saga::{AutoRefundInput, PaymentNotice},
    temporal::task_queue,
};
use payment::{ChargeMethod, PaymentRow, WebhookOutcome};
use sagas::{AutoRefundWorkflow, BookingWorkflow};
use serde_json::Value;
use temporalio_client::{
    Client, WorkflowIdConflictPolicy, WorkflowIdReusePolicy, WorkflowSignalOptions, WorkflowStartOptions,
    errors::WorkflowInteractionError,
};

/// The payment (and order) an event is about.
pub(crate) struct PaymentFacts {
    pub(crate) order_id: Option<String>,
    pub(crate) payment_id: Option<String>,
    pub(crate) amount: Option<i64>,
}

impl PaymentFacts {
    /// Reads them from an event's `payload` (a payment entity, or an order entity).
    pub(crate) fn of(payload: &Value) -> Self {
        let payment = &payload["payment"]["entity"];
        let order = &payload["order"]["entity"];
        PaymentFacts {
            order_id: payment["order_id"].as_str().or_else(|| order["id"].as_str()).map(str::to_owned),
            payment_id: payment["id"].as_str().map(str::to_owned),
            amount: payment["amount"].as_i64(),
        }
    }
}

/// Applies one payment event (`payment.authorized`, `payment.captured`, `order.paid`,
/// `payment.failed`; others need nothing), answering its outcome and a line for the log.
pub(crate) async fn apply_payment_event(
    state: &AppState,
    event: &str,
    facts: PaymentFacts,
) -> Result<(WebhookOutcome, String), ApiError> {
    if event == "payment.failed" {
        return apply_failed_payment(state, facts).await;
    }
    if !matches!(event, "payment.authorized" | "payment.captured" | "order.paid") {
        return Ok((WebhookOutcome::Ignored, format!("{event} needs no action")));
    }
    let (Some(order_id), Some(payment_id), Some(amount)) = (facts.order_id, facts.payment_id, facts.amount) else {
        return Ok((WebhookOutcome::Ignored, "the event names no payment".into()));
    };
    let Some(charge) = state.payments.find_by_order(&order_id).await? else {
        tracing::error!(%order_id, "payment for an order no booking opened; flagged for an operator");
        return Ok((WebhookOutcome::UnknownOrder, format!("no booking has order {order_id}")));
    };
    if amount != charge.amount_paise {
        tracing::error!(%order_id, paid = amount, expected = charge.amount_paise, "payment amount differs; flagged");
        return Ok((WebhookOutcome::AmountMismatch, format!("paid {amount}, order is for {}", charge.amount_paise)));
    }
    if charge.stands_on(&payment_id) {
        return Ok((WebhookOutcome::Settled, "the booking already stands on this payment".into()));
    }
    // A card charge's step is paying this order right now and reads the payment back from
    // the gateway: a signal would only wake the saga for nothing. Should the saga never
    // finish the step (an operator ended it), the reconciliation schedule refunds the money.
    if charge.card_charge_in_progress() {
        return Ok((WebhookOutcome::ChargeInProgress, "the booking's charge step records this payment".into()));
    }
    let booking_ref = charge.booking_ref.clone();
    tracing::Span::current().record("booking_ref", tracing::field::display(&booking_ref));
    let client = state.temporal.client().await?;
    // The booking already stands on another capture of this order: this one was paid twice,
    // and the saga, waiting or not, would never give it back.
    if charge.stands_on_another(&payment_id) {
        start_refund(&client, &booking_ref, &charge, payment_id, "paid_twice").await?;
        return Ok((
            WebhookOutcome::RefundStarted,
            format!("{booking_ref} is paid already; refunding the second payment"),
        ));
    }
    let notice = PaymentNotice { gateway_order_id: order_id, gateway_payment_id: payment_id.clone(), amount };
    let saga = client.get_workflow_handle::<BookingWorkflow>(booking_ref.workflow_id());
    match saga.signal(BookingWorkflow::payment_received, notice, WorkflowSignalOptions::default()).await {
        Ok(()) => return Ok((WebhookOutcome::Signalled, format!("woke the saga of {booking_ref}"))),
        // The saga has ended: nothing will ever use this money.
        Err(WorkflowInteractionError::NotFound(_)) => {}
        Err(e) => {
            tracing::warn!(error = %e, "signalling the booking saga failed");
            return Err(ApiError::unavailable("temporal_unavailable", "The payment cannot be applied right now"));
        }
    }
    start_refund(&client, &booking_ref, &charge, payment_id, "no_booking_waiting").await?;
    Ok((WebhookOutcome::RefundStarted, format!("the saga of {booking_ref} has ended; refunding")))
}

/// A payment the gateway refused (`payment.failed`). Nothing was taken, so it is never
/// refunded nor flagged (its amount is the order's, as any attempt's). A checkout whose saga
/// waits for its payment wakes that saga, which reads the gateway's order and, finding the
/// decline and no payment, ends the booking with it and gives the rooms back: `signalled`.
/// Otherwise it needs no action: `charge_in_progress` while a card charge's step is paying
/// the order (it records the decline itself), `ignored` for everything else — a booking paid
/// already, a charge over, a saga that has ended, an order no booking opened.
async fn apply_failed_payment(state: &AppState, facts: PaymentFacts) -> Result<(WebhookOutcome, String), ApiError> {
    let (Some(order_id), Some(payment_id)) = (facts.order_id, facts.payment_id) else {
        return Ok((WebhookOutcome::Ignored, "the event names no payment".into()));
    };
    let Some(charge) = state.payments.find_by_order(&order_id).await? else {
        return Ok((WebhookOutcome::Ignored, format!("a failed payment on order {order_id}, which no booking opened")));
    };
    if charge.card_charge_in_progress() {
        return Ok((WebhookOutcome::ChargeInProgress, "the booking's charge step records this decline".into()));
    }
    let booking_ref = charge.booking_ref.clone();
    tracing::Span::current().record("booking_ref", tracing::field::display(&booking_ref));
    // Only a checkout still open has a saga waiting for its payment; a card charge's step
    // recorded its outcome, a paid booking stands on its capture, a closed charge is over.
    if charge.method == Some(ChargeMethod::Card) || !charge.status.is_open() {
        return Ok((
            WebhookOutcome::Ignored,
            format!("{booking_ref} waits for no payment ({}); a failed one takes nothing", charge.status.as_str()),
        ));
    }
    let amount = facts.amount.unwrap_or(charge.amount_paise);
    let notice = PaymentNotice { gateway_order_id: order_id, gateway_payment_id: payment_id, amount };
    let client = state.temporal.client().await?;
    let saga = client.get_workflow_handle::<BookingWorkflow>(booking_ref.workflow_id());
    match saga.signal(BookingWorkflow::payment_received, notice, WorkflowSignalOptions::default()).await {
        Ok(()) => Ok((WebhookOutcome::Signalled, format!("woke the saga of {booking_ref} with a declined payment"))),
        Err(WorkflowInteractionError::NotFound(_)) => Ok((
            WebhookOutcome::Ignored,
            format!("the saga of {booking_ref} has ended; a failed payment takes nothing"),
        )),
        Err(e) => {
            tracing::warn!(error = %e, "signalling the booking saga failed");
            Err(ApiError::unavailable("temporal_unavailable", "The payment cannot be applied right now"))
        }
    }
}

/// Starts the automatic refund of one gateway payment: one workflow per payment, so a
/// webhook delivered many times refunds once; a refund that failed may run again.
async fn start_refund(
    client: &Client,
    booking_ref: &BookingRef,
    charge: &PaymentRow,
    gateway_payment_id: String,
    reason: &str,
) -> Result<(), ApiError> {
    let refund = AutoRefundInput {
        booking_ref: booking_ref.clone(),
        charge_idempotency_key: charge.idempotency_key.clone(),
        gateway_payment_id,
        reason: reason.into(),
    };
    let options = WorkflowStartOptions::new(task_queue::BOOKING, refund.workflow_id())
        .id_conflict_policy(WorkflowIdConflictPolicy::UseExisting)
        .id_reuse_policy(WorkflowIdReusePolicy::AllowDuplicateFailedOnly)
        .build();
    let started = client.start_workflow(AutoRefundWorkflow::run, refund, options).await.map(drop);
    started_or_running(started, "Refunds")
}
