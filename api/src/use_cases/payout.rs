//! Paying an approved partner settlement: one `SettlementPayout` workflow per settlement
//! (`payout-<partner>-<period start>`).

use super::started_or_running;
use crate::{error::ApiError, state::AppState};
use contracts::{settlement::PayoutInput, temporal::task_queue};
use partner::SettlementRow;
use temporalio_client::{WorkflowIdConflictPolicy, WorkflowIdReusePolicy, WorkflowStartOptions};

/// Payouts one run tries before leaving the settlement to an operator.
const ATTEMPTS: u32 = 3;

/// Starts (or finds running) the settlement's payout. A run that ended (paid, or left to an
/// operator) may be started again: it finds a paid settlement paid, and otherwise tries the
/// next payouts under new keys.
pub(crate) async fn start_payout(state: &AppState, partner_code: &str, row: &SettlementRow) -> Result<(), ApiError> {
    let input = PayoutInput {
        settlement_id: row.partner_settlement_id,
        partner_code: partner_code.to_string(),
        period_start: row.period_start,
        retry_after_secs: state.payments_config.payout_retry_after.as_secs(),
        attempts: ATTEMPTS,
    };
    let client = state.temporal.client().await?;
    let options = WorkflowStartOptions::new(task_queue::PARTNER, input.workflow_id())
        .id_conflict_policy(WorkflowIdConflictPolicy::UseExisting)
        .id_reuse_policy(WorkflowIdReusePolicy::AllowDuplicate)
        .build();
    let started = client.start_workflow(sagas::SettlementPayoutWorkflow::run, input, options).await.map(drop);
    started_or_running(started, "Payouts")
}
