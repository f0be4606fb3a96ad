//! The payment reconciliation: payments left without a recorded outcome (a saga that died
//! with its row, an operator's termination) are resolved by asking the gateway. Started by
//! the Temporal Schedule `payment-reconciliation`; safe to run at any time.

use crate::options::on_queue;
use contracts::{
    activities::{PaymentActivities, ReconcileReport, ReconcileRequest},
    temporal::task_queue,
};
use std::time::Duration;
use temporalio_macros::{workflow, workflow_methods};
use temporalio_sdk::{WorkflowContext, WorkflowContextView, WorkflowResult};

/// One reconciliation batch's time limit: each payment in it is a gateway read.
const RECONCILE_STEP: Duration = Duration::from_secs(300);

#[workflow]
pub struct ReconcilePaymentsWorkflow {
    request: ReconcileRequest,
}

#[workflow_methods]
impl ReconcilePaymentsWorkflow {
    #[init]
    pub fn new(_ctx: &WorkflowContextView, request: ReconcileRequest) -> Self {
        ReconcilePaymentsWorkflow { request }
    }

    #[run(name = "ReconcilePayments")]
    pub async fn run(ctx: &mut WorkflowContext<Self>) -> WorkflowResult<ReconcileReport> {
        let request = ctx.state(|s| s.request);
        let step = on_queue(task_queue::PAYMENT, RECONCILE_STEP);
        let report = ctx.execute_activity(PaymentActivities::reconcile_stale, request, step).await?;
        Ok(report)
    }
}
