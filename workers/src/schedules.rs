//! The Temporal Schedules the platform relies on, created at start-up of the booking
//! worker (the one that runs the scheduled workflows). Creating is idempotent: a schedule
//! that exists already — made by another replica, or changed by an operator in the Web UI
//! (paused, say) — is left as it is.

use contracts::temporal::{HOLD_SWEEP_SCHEDULE_ID, HOLD_SWEEP_WORKFLOW_ID, task_queue};
use std::time::Duration;
use temporalio_client::{
    Client,
    schedules::{CreateScheduleOptions, ScheduleAction, ScheduleError, ScheduleOverlapPolicy, ScheduleSpec},
    tonic::Code,
};

pub(crate) async fn ensure_schedules(client: &Client, hold_sweep_every: Duration) -> Result<(), ScheduleError> {
    let options = CreateScheduleOptions::builder()
        .action(ScheduleAction::start_workflow(
            sagas::HoldSweepWorkflow::run,
            (),
            task_queue::BOOKING,
            HOLD_SWEEP_WORKFLOW_ID,
        ))
        .spec(ScheduleSpec::from_interval(hold_sweep_every))
        // A sweep still running when the next is due makes the next one pointless.
        .overlap_policy(ScheduleOverlapPolicy::Skip)
        .note("Releases inventory holds past their expiry that no booking saga will release.".to_string())
        .build();
    match client.create_schedule(HOLD_SWEEP_SCHEDULE_ID, options).await {
        Ok(_) => {
            tracing::info!(schedule = HOLD_SWEEP_SCHEDULE_ID, every = ?hold_sweep_every, "schedule created");
            Ok(())
        }
        Err(ScheduleError::Rpc(status)) if status.code() == Code::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}
