//! Partner settlements. `PartnerSettlement` (id `settle-<partner code>-<period start>`)
//! settles one partner for one period: it reads the partner's terms (partner queue), the
//! period's sales and refunds (booking queue, from the booking context), computes the
//! figures with `contracts::settlement::settle` and writes them once (partner queue).
//! Running it again for the same period returns the stored settlement unchanged.
//!
//! `SettlementPayout` (id `payout-<partner code>-<period start>`) pays an approved settlement
//! through the gateway's payouts, each attempt under its own idempotency key (a lost answer
//! asked again is never paid twice); a payout the bank turns back is tried again after a
//! pause, and after the last attempt the settlement stays approved with the reason, for an
//! operator.
//!
//! `PartnerSettlementCycle` is what a partner's Temporal Schedule starts: it works out the
//! period that ended last at the scheduled time and runs `PartnerSettlement` for it as a
//! child, so the settlement keeps its business-key id whichever way it was started.

use crate::options::on_queue;
use contracts::{
    settlement::{
        self, NewSettlement, PartnerActivities, PartnerSalesActivities, PartnerSalesRequest, PayoutActivities,
        PayoutInput, PayoutOutcome, PayoutRecord, PayoutRequest, SettlementCycleInput, SettlementInput,
        SettlementRecord, payout_idempotency_key,
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

#[workflow]
#[derive(Default)]
pub struct SettlementPayoutWorkflow;

#[workflow_methods]
impl SettlementPayoutWorkflow {
    #[run(name = "SettlementPayout")]
    pub async fn run(ctx: &mut WorkflowContext<Self>, input: PayoutInput) -> WorkflowResult<PayoutOutcome> {
        let order = ctx
            .execute_activity(
                PartnerActivities::settlement_to_pay,
                input.settlement_id,
                on_queue(task_queue::PARTNER, STEP),
            )
            .await?;
        if let Some(paid) = order.paid {
            return Ok(PayoutOutcome::Paid { payout_id: paid.payout_id, utr: paid.utr });
        }
        let mut reason = String::new();
        for attempt in 1..=input.attempts.max(1) {
            if attempt > 1 {
                ctx.timer(Duration::from_secs(input.retry_after_secs)).await;
            }
            let number = order.attempts_before + attempt;
            let request = PayoutRequest {
                idempotency_key: payout_idempotency_key(order.settlement_id, number),
                reference_id: order.settlement_id.to_string(),
                amount: order.amount,
                account: order.account.clone(),
                contact_name: order.partner_name.clone(),
                narration: "Tripura Tourism commission".to_string(),
            };
            let result =
                ctx.execute_activity(PayoutActivities::pay_out, request, on_queue(task_queue::PAYMENT, STEP)).await?;
            let record = PayoutRecord { settlement_id: order.settlement_id, attempt: number, result: result.clone() };
            ctx.execute_activity(PartnerActivities::record_payout, record, on_queue(task_queue::PARTNER, STEP)).await?;
            if result.is_processed() {
                if !ctx.is_replaying() {
                    tracing::info!(partner = %input.partner_code, payout = %result.payout_id, "settlement paid");
                }
                return Ok(PayoutOutcome::Paid { payout_id: result.payout_id, utr: result.utr });
            }
            reason = result.failure_reason.unwrap_or_else(|| format!("payout {}", result.status));
            if !ctx.is_replaying() {
                tracing::warn!(partner = %input.partner_code, attempt, %reason, "payout turned back");
            }
        }
        Ok(PayoutOutcome::LeftToOperator { attempts: input.attempts.max(1), reason })
    }
}
