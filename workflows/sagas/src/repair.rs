//! The repair of a booking (a stay or a package) whose saga stopped without finishing:
//! terminated by an operator,
//! ended by the history limit, or failed because a compensation gave up. Such a saga may have
//! left money captured with no booking, rooms held or booked for nobody, or a record still
//! pending. The repair reads what each context has, then finishes the booking one way or the
//! other with the saga's own idempotency keys (`booking-<ref>/hold`, or a package's seat and
//! stay holds, and `booking-<ref>/charge`), so a step the saga did run is not run twice:
//!
//! - paid in full (the gateway's record decides) and the rooms still held or booked: it
//!   confirms, as the saga would have;
//! - otherwise it compensates: refunds whatever the charge captured, gives the rooms back and
//!   marks the record failed (`saga_stopped`).
//!
//! A booking already cancelled is left to its cancellation. The `RepairSweep` workflow, on
//! the Temporal Schedule `booking-repair-sweep`, starts one repair per stopped saga
//! (`repair-<ref>`); an operator can start one the same way. Every step is bounded: a repair
//! that cannot finish (the gateway refusing a refund all along) fails, and the next sweep
//! starts it again.

use crate::{
    failures::is_failure_type,
    options::{on_queue, on_queue_within},
};
use contracts::{
    BookingRef, Money,
    activities::{
        BookingActivities, BookingConfirmation, BookingFailure, BookingOnRecord, InventoryActivities,
        PaymentActivities, RecordedStatus, RefundRequest, SettleRequest, StoppedSagasRequest, failure_type,
    },
    saga::{RepairOutcome, RepairReport, RepairSweepReport, SAGA_STOPPED},
    temporal::{self, task_queue},
};
use std::time::Duration;
use temporalio_macros::{workflow, workflow_methods};
use temporalio_sdk::{
    ActivityExecutionError, ChildWorkflowOptions, ParentClosePolicy, WorkflowContext, WorkflowContextView,
    WorkflowIdReusePolicy, WorkflowResult,
};

const STEP: Duration = Duration::from_secs(60);
/// How long one step of a repair may keep retrying before the repair gives up until the
/// next sweep.
const STEP_WITHIN: Duration = Duration::from_secs(30 * 60);
/// The sweep looks at sagas closed within this window: a week covers a long weekend's
/// outage of the sweep itself.
const SWEEP_WINDOW: Duration = Duration::from_secs(7 * 86_400);
/// Repairs started per sweep; the rest wait for the next run.
const SWEEP_LIMIT: u32 = 100;

#[workflow]
pub struct RepairBookingWorkflow {
    booking_ref: BookingRef,
}

#[workflow_methods]
impl RepairBookingWorkflow {
    #[init]
    pub fn new(_ctx: &WorkflowContextView, booking_ref: BookingRef) -> Self {
        RepairBookingWorkflow { booking_ref }
    }

    #[run(name = "RepairBooking")]
    pub async fn run(ctx: &mut WorkflowContext<Self>) -> WorkflowResult<RepairReport> {
        let booking_ref = ctx.state(|s| s.booking_ref.clone());
        ctx.upsert_search_attributes([
            temporal::BOOKING_REF.value_set(booking_ref.to_string()),
            temporal::BOOKING_STATUS.value_set("repairing".to_string()),
        ]);
        let saga_id = booking_ref.workflow_id();
        let charge_key = format!("{saga_id}/charge");

        let record = ctx
            .execute_activity(BookingActivities::booking_on_record, booking_ref.clone(), step(task_queue::BOOKING))
            .await?;
        let found = record.as_ref().map(|r| r.status);
        // A record read before it named its holds, or no record at all (the saga stopped
        // before writing one): a stay's one hold. A package saga that stopped before its
        // record has no charge either, and its holds lapse by the hold sweep.
        let holds = match record.as_ref().map(|r| r.hold_ids.clone()).unwrap_or_default() {
            named if !named.is_empty() => named,
            _ => vec![format!("{saga_id}/hold")],
        };
        let outcome = match &record {
            Some(BookingOnRecord { status: RecordedStatus::Cancelled, .. }) => RepairOutcome::LeftCancelled,
            Some(BookingOnRecord { status: RecordedStatus::Confirmed, .. }) => {
                // Confirmed, so paid: make sure its rooms (and seats) are booked, not left held.
                for hold_id in &holds {
                    ctx.execute_activity(
                        InventoryActivities::confirm_hold,
                        hold_id.clone(),
                        step(task_queue::INVENTORY),
                    )
                    .await?;
                }
                RepairOutcome::Confirmed
            }
            Some(BookingOnRecord { status: RecordedStatus::PendingPayment, total, .. }) => {
                if Self::confirm_if_paid(ctx, &booking_ref, &holds, &charge_key, *total).await? {
                    RepairOutcome::Confirmed
                } else {
                    RepairOutcome::Compensated
                }
            }
            Some(BookingOnRecord { status: RecordedStatus::Failed, .. }) | None => RepairOutcome::Compensated,
        };
        let mut refunded = Money::inr(0);
        if outcome == RepairOutcome::Compensated {
            refunded = Self::compensate(ctx, &booking_ref, &holds, &charge_key).await?;
        }
        ctx.upsert_search_attributes([temporal::BOOKING_STATUS.value_set(
            match outcome {
                RepairOutcome::Confirmed => "confirmed",
                RepairOutcome::Compensated => "failed",
                RepairOutcome::LeftCancelled => "cancelled",
            }
            .to_string(),
        )]);
        if !ctx.is_replaying() {
            tracing::info!(%booking_ref, outcome = outcome.as_str(), refunded = refunded.amount, "booking repaired");
        }
        Ok(RepairReport { booking_ref, found, outcome, refunded })
    }
}

impl RepairBookingWorkflow {
    /// Confirms the booking when the gateway captured its price and its rooms (and seats) can
    /// still be booked; false when it must be compensated instead.
    async fn confirm_if_paid(
        ctx: &mut WorkflowContext<Self>,
        booking_ref: &BookingRef,
        holds: &[String],
        charge_key: &str,
        total: Money,
    ) -> Result<bool, ActivityExecutionError> {
        let settle =
            SettleRequest { booking_ref: booking_ref.clone(), idempotency_key: charge_key.to_string(), amount: total };
        let charge =
            match ctx.execute_activity(PaymentActivities::settle_checkout, settle, step(task_queue::PAYMENT)).await {
                Ok(charge) => charge,
                // Nothing captured, the charge already given back, or the wrong amount paid.
                Err(e) if is_business_failure(&e) => return Ok(false),
                Err(e) => return Err(e),
            };
        for hold_id in holds {
            match ctx
                .execute_activity(InventoryActivities::confirm_hold, hold_id.clone(), step(task_queue::INVENTORY))
                .await
            {
                Ok(()) => {}
                // The hold expired and was swept: the rooms may be someone else's now. Those
                // confirmed before it are given back by the compensation.
                Err(e) if is_business_failure(&e) => return Ok(false),
                Err(e) => return Err(e),
            }
        }
        let confirmation = BookingConfirmation {
            booking_ref: booking_ref.clone(),
            amount_charged: charge.captured,
            payment_id: charge.payment_id,
        };
        ctx.execute_activity(BookingActivities::confirm_booking, confirmation, step(task_queue::BOOKING)).await?;
        Ok(true)
    }

    /// The saga's compensations, all of them, in its reverse order: each is a no-op where its
    /// step never took effect. Returns what was refunded now.
    async fn compensate(
        ctx: &mut WorkflowContext<Self>,
        booking_ref: &BookingRef,
        holds: &[String],
        charge_key: &str,
    ) -> Result<Money, ActivityExecutionError> {
        for hold_id in holds.iter().rev() {
            ctx.execute_activity(InventoryActivities::unbook_hold, hold_id.clone(), step(task_queue::INVENTORY))
                .await?;
        }
        let refund = RefundRequest {
            booking_ref: booking_ref.clone(),
            charge_idempotency_key: charge_key.to_string(),
            reason: SAGA_STOPPED.to_string(),
        };
        let outcome = ctx.execute_activity(PaymentActivities::refund_charge, refund, step(task_queue::PAYMENT)).await?;
        let failure = BookingFailure {
            booking_ref: booking_ref.clone(),
            code: SAGA_STOPPED.to_string(),
            message: "The booking could not be completed; anything paid was refunded".to_string(),
        };
        ctx.execute_activity(BookingActivities::fail_booking, failure, step(task_queue::BOOKING)).await?;
        for hold_id in holds.iter().rev() {
            ctx.execute_activity(InventoryActivities::release_hold, hold_id.clone(), step(task_queue::INVENTORY))
                .await?;
        }
        Ok(outcome.refunded)
    }
}

/// The sweep: finds booking sagas that stopped without finishing and starts a repair for
/// each. Started by the Temporal Schedule `booking-repair-sweep`; safe to run at any time.
#[workflow]
#[derive(Default)]
pub struct RepairSweepWorkflow;

#[workflow_methods]
impl RepairSweepWorkflow {
    #[run(name = "RepairSweep")]
    pub async fn run(ctx: &mut WorkflowContext<Self>) -> WorkflowResult<RepairSweepReport> {
        let request = StoppedSagasRequest { closed_within_secs: SWEEP_WINDOW.as_secs(), limit: SWEEP_LIMIT };
        let stopped = ctx
            .execute_activity(BookingActivities::stopped_sagas, request, on_queue(task_queue::BOOKING, STEP))
            .await?;
        let mut report = RepairSweepReport { found: u32::try_from(stopped.len()).unwrap_or(u32::MAX), started: 0 };
        for booking_ref in stopped {
            // A repair outlives the sweep that started it. A repair that finished is not run
            // again; one that failed is.
            let options = ChildWorkflowOptions::builder()
                .workflow_id(booking_ref.repair_workflow_id())
                .parent_close_policy(ParentClosePolicy::Abandon)
                .id_reuse_policy(WorkflowIdReusePolicy::AllowDuplicateFailedOnly)
                .build();
            match ctx.start_child_workflow(RepairBookingWorkflow::run, booking_ref.clone(), options).await {
                Ok(_) => report.started += 1,
                Err(e) => {
                    if !ctx.is_replaying() {
                        tracing::info!(%booking_ref, error = %e, "repair not started (one is running or finished)");
                    }
                }
            }
        }
        Ok(report)
    }
}

fn step(queue: &str) -> temporalio_sdk::ActivityOptions {
    on_queue_within(queue, STEP, STEP_WITHIN)
}

/// Whether a step ended with one of the business failures that mean "compensate instead"
/// (as opposed to running out of time, which fails the repair for the next sweep to retry).
fn is_business_failure(err: &ActivityExecutionError) -> bool {
    // A declined checkout (`CardDeclined`) took nothing either. No recorded repair ever got
    // that answer (the checkout read learnt it later), so the histories replay unchanged.
    const COMPENSATE_ON: [&str; 5] = [
        failure_type::PAYMENT_NOT_FOUND,
        failure_type::PAYMENT_REJECTED,
        failure_type::CARD_DECLINED,
        failure_type::HOLD_NOT_FOUND,
        failure_type::CHARGE_CLOSED,
    ];
    COMPENSATE_ON.iter().any(|t| is_failure_type(err, t))
}
