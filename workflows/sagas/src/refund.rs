//! The automatic refund: money that reaches a booking whose saga has already ended (expired,
//! failed, cancelled) goes back to the traveller. Started by the API when a payment webhook
//! finds no saga waiting, one workflow per gateway payment (`refund-<payment id>`), so a
//! webhook delivered many times refunds once.

use crate::options::on_queue;
use contracts::{
    activities::{PaymentActivities, RefundPaymentRequest},
    saga::{AutoRefundInput, WebhookResolutionInput, WebhookResolved},
    temporal::{self, task_queue},
};
use std::time::Duration;
use temporalio_macros::{workflow, workflow_methods};
use temporalio_sdk::{WorkflowContext, WorkflowContextView, WorkflowResult};

const REFUND_STEP: Duration = Duration::from_secs(60);

#[workflow]
pub struct AutoRefundWorkflow {
    input: AutoRefundInput,
}

#[workflow_methods]
impl AutoRefundWorkflow {
    #[init]
    pub fn new(_ctx: &WorkflowContextView, input: AutoRefundInput) -> Self {
        AutoRefundWorkflow { input }
    }

    /// Returns the paise refunded now (zero when the payment was already given back).
    #[run(name = "AutoRefund")]
    pub async fn run(ctx: &mut WorkflowContext<Self>) -> WorkflowResult<i64> {
        let input = ctx.state(|s| s.input.clone());
        ctx.upsert_search_attributes([
            temporal::BOOKING_REF.value_set(input.booking_ref.to_string()),
            temporal::BOOKING_STATUS.value_set("refunding".to_string()),
        ]);
        let request = RefundPaymentRequest {
            booking_ref: input.booking_ref.clone(),
            charge_idempotency_key: input.charge_idempotency_key.clone(),
            gateway_payment_id: input.gateway_payment_id.clone(),
            reason: input.reason.clone(),
        };
        // Retried until the gateway accepts it: while it keeps refusing, the workflow stays
        // open and visible (BookingStatus = 'refunding') for an operator.
        let outcome = ctx
            .execute_activity(PaymentActivities::refund_payment, request, on_queue(task_queue::PAYMENT, REFUND_STEP))
            .await?;
        ctx.upsert_search_attributes([temporal::BOOKING_STATUS.value_set("refunded".to_string())]);
        Ok(outcome.refunded.amount)
    }
}

/// An operator's resolution of a gateway event the webhook could not apply
/// (`resolve-webhook-<event id>`): its payment refunded, or kept on its booking's ledger.
/// One workflow per event, so asking twice resolves once.
#[workflow]
pub struct WebhookResolutionWorkflow {
    input: WebhookResolutionInput,
}

#[workflow_methods]
impl WebhookResolutionWorkflow {
    #[init]
    pub fn new(_ctx: &WorkflowContextView, input: WebhookResolutionInput) -> Self {
        WebhookResolutionWorkflow { input }
    }

    #[run(name = "WebhookResolution")]
    pub async fn run(ctx: &mut WorkflowContext<Self>) -> WorkflowResult<WebhookResolved> {
        let input = ctx.state(|s| s.input.clone());
        // Retried until the gateway answers; a payment a booking stands on, or an order no
        // booking opened for a payment to keep, fails the workflow with its reason.
        let resolved = ctx
            .execute_activity(PaymentActivities::resolve_webhook, input, on_queue(task_queue::PAYMENT, REFUND_STEP))
            .await?;
        Ok(resolved)
    }
}
