//! The booking saga: hold → record → charge → confirm, or compensate in reverse.

use crate::options::on_queue;
use contracts::{
    activities::{
        BookingActivities, BookingConfirmation, BookingFailure, ChargeRequest, HoldRequest, InventoryActivities,
        NewBookingRecord, PaymentActivities, RefundRequest, failure_type,
    },
    saga::{BookingProgress, BookingSagaInput, BookingStatus, FailureReason},
    temporal::{self, task_queue},
};
use std::time::Duration;
use temporalio_common::{error::IncomingError, search_attributes::Timestamp};
use temporalio_macros::{workflow, workflow_methods};
use temporalio_sdk::{
    ActivityExecutionError, WorkflowContext, WorkflowContextView, WorkflowResult, WorkflowTermination,
};

const SHORT_STEP: Duration = Duration::from_secs(15);
/// A gateway call may be slow; the charge activity resolves unknown outcomes itself.
const PAYMENT_STEP: Duration = Duration::from_secs(60);

#[workflow]
pub struct BookingWorkflow {
    input: BookingSagaInput,
    progress: BookingProgress,
}

/// What must be undone, in the order it was registered. Registered *before* the step that
/// makes it necessary runs, because a timed-out step may have acted anyway; every
/// compensation is a no-op when its step never took effect.
#[derive(Debug, Clone)]
enum Compensation {
    ReleaseHold { hold_id: String },
    UnbookHold { hold_id: String },
    FailBookingRecord,
    RefundCharge { charge_idempotency_key: String },
}

/// Why the forward path stopped.
enum Stop {
    Business(FailureReason),
    Cancelled,
}

#[workflow_methods]
impl BookingWorkflow {
    #[init]
    pub fn new(_ctx: &WorkflowContextView, input: BookingSagaInput) -> Self {
        let progress = BookingProgress {
            booking_ref: input.booking_ref.clone(),
            status: BookingStatus::Pending,
            stay: input.stay.clone(),
            total: input.quote.total,
            amount_charged: None,
            amount_refunded: None,
            failure: None,
        };
        BookingWorkflow { input, progress }
    }

    #[run(name = "BookingSaga")]
    pub async fn run(ctx: &mut WorkflowContext<Self>) -> WorkflowResult<BookingProgress> {
        let input = ctx.state(|s| s.input.clone());
        ctx.upsert_search_attributes(
            [
                temporal::BOOKING_REF.value_set(input.booking_ref.to_string()),
                temporal::BOOKING_STATUS.value_set(BookingStatus::Pending.as_str().to_string()),
                temporal::BOOKING_CUSTOMER.value_set(input.lead_traveller.email.to_lowercase()),
                temporal::BOOKING_CHECK_IN.value_set(check_in_timestamp(&input)),
            ]
            .into_iter()
            // Partner bookings carry their partner, so operators can filter a partner's sagas.
            .chain(input.partner_id.map(|p| temporal::BOOKING_PARTNER.value_set(p.to_string()))),
        );

        let mut compensations = Vec::new();
        match Self::forward(ctx, &input, &mut compensations).await {
            Ok(()) => Ok(ctx.state(|s| s.progress.clone())),
            Err(stop) => {
                let reason = match &stop {
                    Stop::Business(reason) => reason.clone(),
                    Stop::Cancelled => FailureReason {
                        code: "cancelled".into(),
                        message: "The booking was cancelled before it was confirmed".into(),
                    },
                };
                if !ctx.is_replaying() {
                    tracing::info!(booking_ref = %input.booking_ref, code = %reason.code, "compensating booking saga");
                }
                ctx.state_mut(|s| s.progress.failure = Some(reason.clone()));
                set_status(ctx, BookingStatus::Compensating);
                Self::compensate(ctx, &input, compensations, &reason).await?;
                set_status(ctx, BookingStatus::Failed);
                match stop {
                    Stop::Cancelled => Err(WorkflowTermination::cancelled()),
                    Stop::Business(_) => Ok(ctx.state(|s| s.progress.clone())),
                }
            }
        }
    }

    /// The saga's live progress, for the API and for operators.
    #[query(name = "status")]
    pub fn status(&self, _ctx: &WorkflowContextView) -> BookingProgress {
        self.progress.clone()
    }
}

impl BookingWorkflow {
    async fn forward(
        ctx: &mut WorkflowContext<Self>,
        input: &BookingSagaInput,
        compensations: &mut Vec<Compensation>,
    ) -> Result<(), Stop> {
        let workflow_id = ctx.workflow_id().to_string();
        let hold_id = format!("{workflow_id}/hold");
        let charge_key = format!("{workflow_id}/charge");

        stop_if_cancelled(ctx)?;
        compensations.push(Compensation::ReleaseHold { hold_id: hold_id.clone() });
        let hold = HoldRequest {
            hold_id: hold_id.clone(),
            booking_ref: input.booking_ref.clone(),
            accommodation_id: input.stay.accommodation_id,
            room_type: input.stay.room_type.clone(),
            dates: input.stay.dates,
            rooms: input.stay.rooms,
        };
        ctx.execute_activity(InventoryActivities::hold_rooms, hold, on_queue(task_queue::INVENTORY, SHORT_STEP))
            .await
            .map_err(business_stop)?;
        set_status(ctx, BookingStatus::Held);

        stop_if_cancelled(ctx)?;
        compensations.push(Compensation::FailBookingRecord);
        let record = NewBookingRecord {
            booking_ref: input.booking_ref.clone(),
            accommodation_id: input.stay.accommodation_id,
            room_type: input.stay.room_type.clone(),
            dates: input.stay.dates,
            rooms: input.stay.rooms,
            guests: input.stay.guests,
            lead_traveller: input.lead_traveller.clone(),
            quote: input.quote.clone(),
            hold_id: hold_id.clone(),
            user_id: input.user_id,
            partner_id: input.partner_id,
        };
        ctx.execute_activity(BookingActivities::create_booking, record, on_queue(task_queue::BOOKING, SHORT_STEP))
            .await
            .map_err(business_stop)?;
        set_status(ctx, BookingStatus::AwaitingPayment);

        stop_if_cancelled(ctx)?;
        compensations.push(Compensation::RefundCharge { charge_idempotency_key: charge_key.clone() });
        let charge = ChargeRequest {
            booking_ref: input.booking_ref.clone(),
            idempotency_key: charge_key,
            amount: input.quote.total,
            card_token: input.payment_method.card_token.clone(),
        };
        let charge = ctx
            .execute_activity(PaymentActivities::charge, charge, on_queue(task_queue::PAYMENT, PAYMENT_STEP))
            .await
            .map_err(business_stop)?;
        ctx.state_mut(|s| s.progress.amount_charged = Some(charge.captured));

        // A cancellation that arrived while the card was being charged still wins: the
        // refund registered above gives the money back. After this point the booking is
        // confirmed, and cancelling it is a cancellation with its own policy and saga.
        stop_if_cancelled(ctx)?;
        compensations.push(Compensation::UnbookHold { hold_id: hold_id.clone() });
        ctx.execute_activity(InventoryActivities::confirm_hold, hold_id, on_queue(task_queue::INVENTORY, SHORT_STEP))
            .await
            .map_err(business_stop)?;
        let confirmation = BookingConfirmation {
            booking_ref: input.booking_ref.clone(),
            amount_charged: charge.captured,
            payment_id: charge.payment_id,
        };
        ctx.execute_activity(
            BookingActivities::confirm_booking,
            confirmation,
            on_queue(task_queue::BOOKING, SHORT_STEP),
        )
        .await
        .map_err(business_stop)?;
        set_status(ctx, BookingStatus::Confirmed);
        Ok(())
    }

    /// Runs the compensations in reverse. Each is retried until it succeeds: a compensation
    /// that gave up would leave a room held or money taken, which is worse than a delay. One
    /// that fails for good (a bug) does not stop the others; the saga then fails, still
    /// marked compensating, for an operator to finish.
    async fn compensate(
        ctx: &mut WorkflowContext<Self>,
        input: &BookingSagaInput,
        compensations: Vec<Compensation>,
        reason: &FailureReason,
    ) -> Result<(), ActivityExecutionError> {
        let mut first_failure = None;
        for compensation in compensations.into_iter().rev() {
            if let Err(e) = Self::run_compensation(ctx, input, compensation, reason).await {
                if !ctx.is_replaying() {
                    tracing::error!(booking_ref = %input.booking_ref, error = %e, "compensation failed");
                }
                first_failure.get_or_insert(e);
            }
        }
        first_failure.map_or(Ok(()), Err)
    }

    async fn run_compensation(
        ctx: &mut WorkflowContext<Self>,
        input: &BookingSagaInput,
        compensation: Compensation,
        reason: &FailureReason,
    ) -> Result<(), ActivityExecutionError> {
        match compensation {
            Compensation::RefundCharge { charge_idempotency_key } => {
                let refund = RefundRequest {
                    booking_ref: input.booking_ref.clone(),
                    charge_idempotency_key,
                    reason: reason.code.clone(),
                };
                let outcome = ctx
                    .execute_activity(
                        PaymentActivities::refund_charge,
                        refund,
                        on_queue(task_queue::PAYMENT, PAYMENT_STEP),
                    )
                    .await?;
                if outcome.refunded.amount > 0 {
                    ctx.state_mut(|s| s.progress.amount_refunded = Some(outcome.refunded));
                }
            }
            Compensation::FailBookingRecord => {
                let failure = BookingFailure {
                    booking_ref: input.booking_ref.clone(),
                    code: reason.code.clone(),
                    message: reason.message.clone(),
                };
                ctx.execute_activity(
                    BookingActivities::fail_booking,
                    failure,
                    on_queue(task_queue::BOOKING, SHORT_STEP),
                )
                .await?;
            }
            Compensation::UnbookHold { hold_id } => {
                ctx.execute_activity(
                    InventoryActivities::unbook_hold,
                    hold_id,
                    on_queue(task_queue::INVENTORY, SHORT_STEP),
                )
                .await?;
            }
            Compensation::ReleaseHold { hold_id } => {
                ctx.execute_activity(
                    InventoryActivities::release_hold,
                    hold_id,
                    on_queue(task_queue::INVENTORY, SHORT_STEP),
                )
                .await?;
            }
        }
        Ok(())
    }
}

fn set_status(ctx: &mut WorkflowContext<BookingWorkflow>, next: BookingStatus) {
    let current = ctx.state(|s| s.progress.status);
    // Only a bug can ask for another move; tests run debug builds and catch it here.
    debug_assert!(current.can_move_to(next), "booking status cannot move from {current:?} to {next:?}");
    ctx.state_mut(|s| s.progress.status = next);
    ctx.upsert_search_attributes([temporal::BOOKING_STATUS.value_set(next.as_str().to_string())]);
}

fn stop_if_cancelled(ctx: &WorkflowContext<BookingWorkflow>) -> Result<(), Stop> {
    if ctx.cancellation_token().is_cancelled() { Err(Stop::Cancelled) } else { Ok(()) }
}

/// Maps a failed step to the reason a traveller sees. Activities retry infrastructure errors
/// forever, so what reaches here is a business rejection (or a bug that made a step
/// non-retryable, which is compensated like one rather than left half-done).
fn business_stop(err: ActivityExecutionError) -> Stop {
    if err.as_cancelled().is_some() {
        return Stop::Cancelled;
    }
    let (type_name, message) = match err.cause() {
        Some(IncomingError::Application(app)) => (app.type_name().map(str::to_owned), app.to_string()),
        _ => (None, err.to_string()),
    };
    let code = match type_name.as_deref() {
        Some(failure_type::SOLD_OUT) => "sold_out",
        Some(failure_type::CARD_DECLINED) => "card_declined",
        Some(failure_type::PAYMENT_REJECTED) => "payment_rejected",
        Some(failure_type::HOLD_NOT_FOUND) => "hold_lost",
        _ => "booking_step_failed",
    };
    Stop::Business(FailureReason { code: code.into(), message })
}

fn check_in_timestamp(input: &BookingSagaInput) -> Timestamp {
    let midnight = input.stay.dates.check_in.and_hms_opt(0, 0, 0).map(|t| t.and_utc().timestamp());
    Timestamp::new(midnight.unwrap_or_default(), 0)
}
