//! Undoing what a booking saga did, in reverse, whatever it sold.

use crate::{
    options::on_queue,
    payment_steps::{PAYMENT_STEP, PayingSaga, Stop, refund_late_payments, stop_reason},
    repairs::{HandedOverRefund, Step, StepEnd, hand_over, repairable},
};
use contracts::{
    BookingRef,
    activities::{BookingActivities, BookingFailure, InventoryActivities, PaymentActivities, RefundRequest},
    saga::{BookingStatus, FailureReason},
    temporal::task_queue,
};
use std::time::Duration;
use temporalio_sdk::{ActivityExecutionError, WorkflowContext, WorkflowTermination};

const SHORT_STEP: Duration = Duration::from_secs(15);

/// What must be undone, in the order it was registered. Registered *before* the step that
/// makes it necessary runs, because a timed-out step may have acted anyway; every
/// compensation is a no-op when its step never took effect.
#[derive(Debug, Clone)]
pub(crate) enum Compensation {
    /// Gives back held rooms or seats.
    ReleaseHold {
        hold_id: String,
    },
    /// Gives back booked rooms or sold seats.
    UnbookHold {
        hold_id: String,
    },
    FailBookingRecord,
    RefundCharge {
        charge_idempotency_key: String,
    },
}

/// Ends a saga whose forward path stopped: shows why, gives back everything registered in
/// `compensations` and any payment that came late, and settles on the status the stop
/// calls for. `released` says what went back on sale, for the expiry's message. A
/// cancelled saga ends cancelled; the others end with their progress.
pub(crate) async fn give_back<W: PayingSaga>(
    ctx: &mut WorkflowContext<W>,
    booking_ref: &BookingRef,
    stop: Stop,
    compensations: Vec<Compensation>,
    released: &str,
) -> Result<(), WorkflowTermination> {
    let reason = stop_reason(&stop, released);
    if !ctx.is_replaying() {
        tracing::info!(booking_ref = %booking_ref, code = %reason.code, "compensating booking saga");
    }
    ctx.state_mut(|s| s.record_stop(reason.clone()));
    W::set_status(ctx, BookingStatus::Compensating);
    let notices_seen = ctx.state(|s| s.payment_notices().len());
    compensate(ctx, booking_ref, compensations, &reason).await?;
    refund_late_payments(ctx, booking_ref, &reason, notices_seen).await?;
    match stop {
        Stop::Cancelled => {
            W::set_status(ctx, BookingStatus::Failed);
            Err(WorkflowTermination::cancelled())
        }
        Stop::Expired => {
            W::set_status(ctx, BookingStatus::Expired);
            Ok(())
        }
        Stop::Business(_) => {
            W::set_status(ctx, BookingStatus::Failed);
            Ok(())
        }
    }
}

/// Runs the compensations in reverse. Each is retried until it succeeds: a compensation
/// that gave up would leave a room held or money taken, which is worse than a delay. One
/// that fails for good (a bug) does not stop the others; the saga then fails, still
/// marked compensating, for an operator to finish.
async fn compensate<W: PayingSaga>(
    ctx: &mut WorkflowContext<W>,
    booking_ref: &BookingRef,
    compensations: Vec<Compensation>,
    reason: &FailureReason,
) -> Result<(), ActivityExecutionError> {
    let mut first_failure = None;
    for compensation in compensations.into_iter().rev() {
        if let Err(e) = run_compensation(ctx, booking_ref, compensation, reason).await {
            if !ctx.is_replaying() {
                tracing::error!(booking_ref = %booking_ref, error = %e, "compensation failed");
            }
            first_failure.get_or_insert(e);
        }
    }
    first_failure.map_or(Ok(()), Err)
}

async fn run_compensation<W: PayingSaga>(
    ctx: &mut WorkflowContext<W>,
    booking_ref: &BookingRef,
    compensation: Compensation,
    reason: &FailureReason,
) -> Result<(), ActivityExecutionError> {
    match compensation {
        Compensation::RefundCharge { charge_idempotency_key } => {
            let refund = RefundRequest {
                booking_ref: booking_ref.clone(),
                charge_idempotency_key: charge_idempotency_key.clone(),
                reason: reason.code.clone(),
            };
            let step = Step { name: "refund the charge", refund: true };
            let options = || on_queue(task_queue::PAYMENT, PAYMENT_STEP);
            match repairable(ctx, step, || PaymentActivities::refund_charge, refund, options).await? {
                StepEnd::Done(outcome) => {
                    if outcome.refunded.amount > 0 {
                        ctx.state_mut(|s| s.set_refunded(outcome.refunded));
                    }
                }
                StepEnd::HandedOver(repair) => {
                    let taken = HandedOverRefund {
                        booking_ref: booking_ref.clone(),
                        refund_key: format!("{charge_idempotency_key}/refund"),
                        charge_idempotency_key,
                        amount: None,
                    };
                    let outcome = hand_over(ctx, taken, repair, PAYMENT_STEP).await?;
                    if outcome.refunded.amount > 0 {
                        ctx.state_mut(|s| s.set_refunded(outcome.refunded));
                    }
                    if outcome.owed.amount > 0 {
                        ctx.state_mut(|s| s.set_owed(outcome.owed));
                    }
                }
            }
        }
        Compensation::FailBookingRecord => {
            let failure = BookingFailure {
                booking_ref: booking_ref.clone(),
                code: reason.code.clone(),
                message: reason.message.clone(),
            };
            let step = Step { name: "mark the booking failed", refund: false };
            let options = || on_queue(task_queue::BOOKING, SHORT_STEP);
            repairable(ctx, step, || BookingActivities::fail_booking, failure, options).await?;
        }
        Compensation::UnbookHold { hold_id } => {
            let step = Step { name: "give back the booked rooms or seats", refund: false };
            let options = || on_queue(task_queue::INVENTORY, SHORT_STEP);
            repairable(ctx, step, || InventoryActivities::unbook_hold, hold_id, options).await?;
        }
        Compensation::ReleaseHold { hold_id } => {
            let step = Step { name: "release the hold", refund: false };
            let options = || on_queue(task_queue::INVENTORY, SHORT_STEP);
            repairable(ctx, step, || InventoryActivities::release_hold, hold_id, options).await?;
        }
    }
    Ok(())
}
