//! The cancellation saga (`cancel-<booking ref>`): fix the terms by the booking's policy (or
//! an operator's override), refund through the gateway under one key, give the rooms (and a
//! package's seats) back,
//! and mark the booking cancelled. One workflow per booking: cancelling twice, or ten
//! times at once, runs it once and refunds once.
//!
//! Every step only moves forward and is retried until it succeeds: a cancellation that gave
//! up half-way would keep the money or the rooms. A refund the gateway keeps refusing leaves
//! the saga open, visible as `BookingStatus = 'cancelling'` in the Temporal UI.

use crate::options::on_queue;
use contracts::{
    activities::{
        BookingActivities, CancellationCompletion, CancellationRequest, InventoryActivities, PaymentActivities,
        RefundAmountRequest,
    },
    cancellation::{CancellationInput, CancellationOutcome},
    temporal::{self, task_queue},
};
use std::time::Duration;
use temporalio_macros::{workflow, workflow_methods};
use temporalio_sdk::{WorkflowContext, WorkflowContextView, WorkflowResult};

const SHORT_STEP: Duration = Duration::from_secs(15);
const REFUND_STEP: Duration = Duration::from_secs(60);

#[workflow]
pub struct CancellationWorkflow {
    input: CancellationInput,
}

#[workflow_methods]
impl CancellationWorkflow {
    #[init]
    pub fn new(_ctx: &WorkflowContextView, input: CancellationInput) -> Self {
        CancellationWorkflow { input }
    }

    #[run(name = "CancellationSaga")]
    pub async fn run(ctx: &mut WorkflowContext<Self>) -> WorkflowResult<CancellationOutcome> {
        let input = ctx.state(|s| s.input.clone());
        ctx.upsert_search_attributes([
            temporal::BOOKING_REF.value_set(input.booking_ref.to_string()),
            temporal::BOOKING_STATUS.value_set("cancelling".to_string()),
        ]);
        let today = ist_today(ctx);
        let request = CancellationRequest { cancellation: input.clone(), today };
        let terms = ctx
            .execute_activity(BookingActivities::begin_cancellation, request, on_queue(task_queue::BOOKING, SHORT_STEP))
            .await?;
        let booking_workflow = input.booking_ref.workflow_id();
        let mut refunded = contracts::Money { amount: 0, ..terms.refund };
        if terms.refund.amount > 0 {
            let refund = RefundAmountRequest {
                booking_ref: input.booking_ref.clone(),
                charge_idempotency_key: format!("{booking_workflow}/charge"),
                amount: terms.refund,
                refund_key: format!("{}/refund", ctx.workflow_id()),
                reason: input.reason.clone(),
            };
            refunded = ctx
                .execute_activity(PaymentActivities::refund_amount, refund, on_queue(task_queue::PAYMENT, REFUND_STEP))
                .await?
                .refunded;
        }
        // A stay's rooms, or a package's seats and then the rooms of its included stays
        // (terms fixed before this change carry no other holds).
        for hold_id in std::iter::once(&terms.hold_id).chain(&terms.other_holds) {
            ctx.execute_activity(
                InventoryActivities::unbook_hold,
                hold_id.clone(),
                on_queue(task_queue::INVENTORY, SHORT_STEP),
            )
            .await?;
        }
        let completion = CancellationCompletion { booking_ref: input.booking_ref.clone(), refunded };
        ctx.execute_activity(
            BookingActivities::complete_cancellation,
            completion,
            on_queue(task_queue::BOOKING, SHORT_STEP),
        )
        .await?;
        ctx.upsert_search_attributes([temporal::BOOKING_STATUS.value_set("cancelled".to_string())]);
        if !ctx.is_replaying() {
            tracing::info!(booking_ref = %input.booking_ref, refunded = refunded.amount, "booking cancelled");
        }
        Ok(CancellationOutcome {
            booking_ref: input.booking_ref,
            policy: terms.policy,
            days_before_check_in: terms.days_before_check_in,
            refund_bp: terms.refund_bp,
            refunded,
        })
    }
}

/// Today's date in IST by the workflow's clock (deterministic on replay).
fn ist_today(ctx: &WorkflowContext<CancellationWorkflow>) -> chrono::NaiveDate {
    let secs = ctx
        .workflow_time()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0));
    contracts::india::date_at_unix(secs)
}
