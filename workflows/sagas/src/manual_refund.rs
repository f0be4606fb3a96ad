//! An operator's refund of a paid booking (`manual-refund-<ref>/<key>`). The API reserves
//! the amount first, under the charge's lock, so what the workflow refunds was never more
//! than what was captured less what was refunded; the workflow asks the gateway under the
//! reservation's key (retried until it accepts: a refund refused three times and accepted
//! the fourth is made once) and writes the audit line with the operator's name.
//!
//! While the gateway refuses, the workflow stays open and visible as
//! `BookingStatus = 'refunding'` in the Temporal UI.

use crate::options::on_queue;
use contracts::{
    Money,
    activities::{BookingActivities, PaymentActivities, RefundAmountRequest, RefundIssued},
    saga::ManualRefundInput,
    temporal::{self, task_queue},
};
use std::time::Duration;
use temporalio_macros::{workflow, workflow_methods};
use temporalio_sdk::{WorkflowContext, WorkflowContextView, WorkflowResult};

const REFUND_STEP: Duration = Duration::from_secs(60);
const RECORD_STEP: Duration = Duration::from_secs(15);

#[workflow]
pub struct ManualRefundWorkflow {
    input: ManualRefundInput,
}

#[workflow_methods]
impl ManualRefundWorkflow {
    #[init]
    pub fn new(_ctx: &WorkflowContextView, input: ManualRefundInput) -> Self {
        ManualRefundWorkflow { input }
    }

    /// Returns what the gateway refunded.
    #[run(name = "ManualRefund")]
    pub async fn run(ctx: &mut WorkflowContext<Self>) -> WorkflowResult<Money> {
        let input = ctx.state(|s| s.input.clone());
        ctx.upsert_search_attributes([
            temporal::BOOKING_REF.value_set(input.booking_ref.to_string()),
            temporal::BOOKING_STATUS.value_set("refunding".to_string()),
        ]);
        let refund_key = input.refund_key();
        let request = RefundAmountRequest {
            booking_ref: input.booking_ref.clone(),
            charge_idempotency_key: input.charge_idempotency_key(),
            amount: input.amount,
            refund_key: refund_key.clone(),
            reason: input.reason.clone(),
        };
        let outcome = ctx
            .execute_activity(PaymentActivities::refund_amount, request, on_queue(task_queue::PAYMENT, REFUND_STEP))
            .await?;
        let issued = RefundIssued {
            booking_ref: input.booking_ref.clone(),
            refund_key,
            amount: outcome.refunded,
            reason: input.reason.clone(),
            requested_by: input.requested_by.clone(),
        };
        ctx.execute_activity(BookingActivities::record_refund, issued, on_queue(task_queue::BOOKING, RECORD_STEP))
            .await?;
        ctx.upsert_search_attributes([temporal::BOOKING_STATUS.value_set("refunded".to_string())]);
        if !ctx.is_replaying() {
            tracing::info!(booking_ref = %input.booking_ref, amount = outcome.refunded.amount,
                by = %input.requested_by, "operator's refund made");
        }
        Ok(outcome.refunded)
    }
}
