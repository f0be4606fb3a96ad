//! The hold sweep: releases holds past their expiry that no saga will release. Started by
//! the Temporal Schedule `inventory-hold-sweep`; safe to run at any time, any number of
//! times.

use crate::options::on_queue;
use contracts::{activities::InventoryActivities, temporal::task_queue};
use std::time::Duration;
use temporalio_macros::{workflow, workflow_methods};
use temporalio_sdk::{WorkflowContext, WorkflowResult};

/// Holds released per activity call, so one call stays short.
const BATCH: u32 = 200;
/// Batches per run; what is left waits for the next run of the schedule.
const MAX_BATCHES: u32 = 25;
/// One batch's time limit.
const BATCH_STEP: Duration = Duration::from_secs(60);

#[workflow]
#[derive(Default)]
pub struct HoldSweepWorkflow;

#[workflow_methods]
impl HoldSweepWorkflow {
    /// Returns how many holds were released.
    #[run(name = "HoldSweep")]
    pub async fn run(ctx: &mut WorkflowContext<Self>) -> WorkflowResult<u32> {
        let mut released = 0;
        for _ in 0..MAX_BATCHES {
            let step = on_queue(task_queue::INVENTORY, BATCH_STEP);
            let n = ctx.execute_activity(InventoryActivities::release_expired_holds, BATCH, step).await?;
            released += n;
            if n < BATCH {
                break;
            }
        }
        Ok(released)
    }
}
