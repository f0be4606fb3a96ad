//! The cancellation saga (`cancel-<booking ref>`): fix the terms by the booking's policy (or
//! an operator's override), refund through the gateway under one key, give the rooms (and a
//! package's seats) back,
//! and mark the booking cancelled. One workflow per booking: cancelling twice, or ten
//! times at once, runs it once and refunds once.
//!
//! Every step only moves forward and is retried until it succeeds: a cancellation that gave
//! up half-way would keep the money or the rooms. A refund the gateway keeps refusing leaves
//! the saga open, visible as `BookingStatus = 'cancelling'` in the Temporal UI, until an
//! operator has it tried again now (`retry_step_now`) or takes it over (`hand_refund_over`):
//! the refund is then owed, and the cancellation goes on without it.

use crate::{
    options::on_queue,
    repairs::{self, HandedOverRefund, Repairable, Step, StepEnd, StepRepairs, hand_over, repairable},
};
use contracts::{
    Money,
    activities::{
        BookingActivities, CancellationCompletion, CancellationRequest, InventoryActivities, PaymentActivities,
        RefundAmountRequest,
    },
    cancellation::{CancellationInput, CancellationOutcome},
    saga::{StepRepair, StepRepaired},
    temporal::{self, task_queue},
};
use std::time::Duration;
use temporalio_macros::{workflow, workflow_methods};
use temporalio_sdk::{SyncWorkflowContext, WorkflowContext, WorkflowContextView, WorkflowResult};

const SHORT_STEP: Duration = Duration::from_secs(15);
const REFUND_STEP: Duration = Duration::from_secs(60);

#[workflow]
pub struct CancellationWorkflow {
    input: CancellationInput,
    /// What operators asked of a step that keeps failing.
    repairs: StepRepairs,
}

impl Repairable for CancellationWorkflow {
    fn repairs(&self) -> &StepRepairs {
        &self.repairs
    }

    fn repairs_mut(&mut self) -> &mut StepRepairs {
        &mut self.repairs
    }
}

#[workflow_methods]
impl CancellationWorkflow {
    #[init]
    pub fn new(_ctx: &WorkflowContextView, input: CancellationInput) -> Self {
        CancellationWorkflow { input, repairs: StepRepairs::default() }
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
        let mut refunded = Money { amount: 0, ..terms.refund };
        let mut owed = None;
        if terms.refund.amount > 0 {
            let refund = RefundAmountRequest {
                booking_ref: input.booking_ref.clone(),
                charge_idempotency_key: format!("{booking_workflow}/charge"),
                amount: terms.refund,
                refund_key: format!("{}/refund", ctx.workflow_id()),
                reason: input.reason.clone(),
            };
            let step = Step { name: "refund", refund: true };
            let options = || on_queue(task_queue::PAYMENT, REFUND_STEP);
            match repairable(ctx, step, || PaymentActivities::refund_amount, refund.clone(), options).await? {
                StepEnd::Done(outcome) => refunded = outcome.refunded,
                StepEnd::HandedOver(repair) => {
                    let taken = HandedOverRefund {
                        booking_ref: refund.booking_ref,
                        charge_idempotency_key: refund.charge_idempotency_key,
                        refund_key: refund.refund_key,
                        amount: Some(refund.amount),
                    };
                    let outcome = hand_over(ctx, taken, repair, REFUND_STEP).await?;
                    refunded = outcome.refunded;
                    owed = Some(outcome.owed).filter(|o| o.amount > 0);
                }
            }
        }
        // A stay's rooms, or a package's seats and then the rooms of its included stays
        // (terms fixed before this change carry no other holds).
        for hold_id in std::iter::once(&terms.hold_id).chain(&terms.other_holds) {
            let step = Step { name: "give back the rooms or seats", refund: false };
            let options = || on_queue(task_queue::INVENTORY, SHORT_STEP);
            repairable(ctx, step, || InventoryActivities::unbook_hold, hold_id.clone(), options).await?;
        }
        let completion = CancellationCompletion { booking_ref: input.booking_ref.clone(), refunded, owed };
        let step = Step { name: "mark the booking cancelled", refund: false };
        let options = || on_queue(task_queue::BOOKING, SHORT_STEP);
        repairable(ctx, step, || BookingActivities::complete_cancellation, completion, options).await?;
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
            owed,
        })
    }

    /// An operator asks the step that keeps failing to be tried again now.
    #[update(name = "retry_step_now")]
    pub fn retry_step_now(&mut self, _ctx: &mut SyncWorkflowContext<Self>, _repair: StepRepair) -> StepRepaired {
        repairs::ask_retry(&mut self.repairs)
    }

    #[update_validator(retry_step_now)]
    pub fn validate_retry_step_now(
        &self,
        _ctx: &WorkflowContextView,
        repair: &StepRepair,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        repairs::validate_retry(&self.repairs, repair)
    }

    /// An operator takes over the refund the gateway keeps refusing: it is owed, not retried.
    #[update(name = "hand_refund_over")]
    pub fn hand_refund_over(&mut self, _ctx: &mut SyncWorkflowContext<Self>, repair: StepRepair) -> StepRepaired {
        repairs::ask_handover(&mut self.repairs, repair)
    }

    #[update_validator(hand_refund_over)]
    pub fn validate_hand_refund_over(
        &self,
        _ctx: &WorkflowContextView,
        repair: &StepRepair,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        repairs::validate_handover(&self.repairs, repair)
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
