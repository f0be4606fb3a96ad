//! Partner settlements. `PartnerSettlement` (id `settle-<partner code>-<period start>`)
//! settles one partner for one period: it reads the partner's terms (partner queue), the
//! period's sales and refunds (booking queue, from the booking context), computes the
//! figures with `contracts::settlement::settle` and writes them once (partner queue).
//! Running it again for the same period returns the stored settlement unchanged.
//!
//! `PartnerSettlementCycle` is what a partner's Temporal Schedule starts: it works out the
//! period that ended last at the scheduled time and runs `PartnerSettlement` for it as a
//! child, so the settlement keeps its business-key id whichever way it was started.

use crate::options::on_queue;
use contracts::{
    settlement::{
        self, NewSettlement, PartnerActivities, PartnerSalesActivities, PartnerSalesRequest, SettlementCycleInput,
        SettlementInput, SettlementRecord,
    },
    temporal::task_queue,
};
use std::time::Duration;
use temporalio_common::{
    error::ApplicationFailure,
    search_attributes::{SearchAttributeKey, Timestamp},
};
use temporalio_macros::{workflow, workflow_methods};
use temporalio_sdk::{ChildWorkflowOptions, WorkflowContext, WorkflowResult};

const STEP: Duration = Duration::from_secs(60);
/// Set by the server on every workflow a schedule starts (also by trigger and backfill).
const SCHEDULED_START_TIME: SearchAttributeKey<Timestamp> = SearchAttributeKey::datetime("TemporalScheduledStartTime");

#[workflow]
#[derive(Default)]
pub struct PartnerSettlementWorkflow;

#[workflow_methods]
impl PartnerSettlementWorkflow {
    #[run(name = "PartnerSettlement")]
    pub async fn run(ctx: &mut WorkflowContext<Self>, input: SettlementInput) -> WorkflowResult<SettlementRecord> {
        let terms = ctx
            .execute_activity(
                PartnerActivities::settlement_terms,
                input.partner_id,
                on_queue(task_queue::PARTNER, STEP),
            )
            .await?;
        let sales = ctx
            .execute_activity(
                PartnerSalesActivities::total_partner_sales,
                PartnerSalesRequest { partner_id: input.partner_id, period: input.period },
                on_queue(task_queue::BOOKING, STEP),
            )
            .await?;
        let figures =
            settlement::settle(sales.collected.amount, sales.refunded.amount, terms.commission_bp).map_err(|e| {
                ApplicationFailure::builder(e.to_string())
                    .type_name(settlement::failure_type::UNSETTLEABLE.to_string())
                    .non_retryable(true)
                    .build()
            })?;
        let record = NewSettlement {
            partner_id: input.partner_id,
            period: input.period,
            bookings: sales.bookings,
            refunds: sales.refunds,
            commission_bp: terms.commission_bp,
            figures,
        };
        let stored = ctx
            .execute_activity(PartnerActivities::record_settlement, record, on_queue(task_queue::PARTNER, STEP))
            .await?;
        if !ctx.is_replaying() {
            tracing::info!(partner = %input.partner_code, period_start = %input.period.start,
                payout = stored.payout.amount, "partner settled");
        }
        Ok(stored)
    }
}

#[workflow]
#[derive(Default)]
pub struct PartnerSettlementCycleWorkflow;

#[workflow_methods]
impl PartnerSettlementCycleWorkflow {
    #[run(name = "PartnerSettlementCycle")]
    pub async fn run(ctx: &mut WorkflowContext<Self>, input: SettlementCycleInput) -> WorkflowResult<SettlementRecord> {
        let period = match input.period_start {
            Some(start) => input.cycle.period_starting(start).map_err(|e| {
                ApplicationFailure::builder(e.to_string())
                    .type_name(settlement::failure_type::UNSETTLEABLE.to_string())
                    .non_retryable(true)
                    .build()
            })?,
            None => input.cycle.last_completed_period(scheduled_date_in_india(ctx)),
        };
        let child = SettlementInput { partner_id: input.partner_id, partner_code: input.partner_code, period };
        let options = ChildWorkflowOptions::workflow_id(child.workflow_id());
        let started = ctx.start_child_workflow(PartnerSettlementWorkflow::run, child, options).await?;
        Ok(started.result().await?)
    }
}

/// The date in India at which this run was scheduled: the schedule's (or backfill's) time,
/// else the workflow's own start. Both come from history, so replay sees the same date.
fn scheduled_date_in_india(ctx: &WorkflowContext<PartnerSettlementCycleWorkflow>) -> chrono::NaiveDate {
    let seconds = ctx
        .search_attributes()
        .get(&SCHEDULED_START_TIME)
        .map(|t| t.seconds())
        .or_else(|| {
            ctx.workflow_time()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .and_then(|d| i64::try_from(d.as_secs()).ok())
        })
        .unwrap_or_default();
    contracts::india::date_at_unix(seconds)
}
