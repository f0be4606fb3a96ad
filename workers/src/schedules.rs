//! The Temporal Schedules the platform relies on, created at start-up of the worker that
//! runs their workflows: the hold sweep, the payment reconciliation and the repair sweep by
//! the booking worker, the partners' settlements by the partner worker (and by the `settlement-schedules` command).
//!
//! Creating the hold sweep is idempotent: a schedule that exists already — made by another
//! replica, or changed by an operator in the Web UI (paused, say) — is left as it is.
//! Settlement schedules follow the partners table: a partner's changed cycle updates its
//! schedule's timing and action; a pause an operator made is never undone.

use contracts::{
    activities::ReconcileRequest,
    settlement::{SettlementCycle, SettlementCycleInput, settlement_schedule_id},
    temporal::{
        HOLD_SWEEP_SCHEDULE_ID, HOLD_SWEEP_WORKFLOW_ID, RECONCILE_SCHEDULE_ID, RECONCILE_WORKFLOW_ID,
        REPAIR_SWEEP_SCHEDULE_ID, REPAIR_SWEEP_WORKFLOW_ID, task_queue,
    },
};
use sqlx::PgPool;
use std::time::Duration;
use temporalio_client::{
    Client,
    schedules::{
        CreateScheduleOptions, ScheduleAction, ScheduleCalendarSpec, ScheduleDescriptionAction, ScheduleError,
        ScheduleIntervalSpec, ScheduleOverlapPolicy, ScheduleSpec,
    },
    tonic::Code,
};

/// Creates the booking worker's schedules (hold sweep, payment reconciliation, repair
/// sweep) unless they exist.
pub(crate) async fn ensure_schedules(client: &Client, settings: &crate::WorkerSettings) -> Result<(), ScheduleError> {
    ensure_hold_sweep(client, settings.hold_sweep_every).await?;
    ensure_repair_sweep(client, settings.repair_sweep_every).await?;
    let request =
        ReconcileRequest { stale_after_secs: settings.reconcile_stale_after.as_secs(), limit: RECONCILE_BATCH };
    let options = CreateScheduleOptions::builder()
        .action(ScheduleAction::start_workflow(
            sagas::ReconcilePaymentsWorkflow::run,
            request,
            task_queue::BOOKING,
            RECONCILE_WORKFLOW_ID,
        ))
        .spec(ScheduleSpec::from_interval(settings.reconcile_every))
        .overlap_policy(ScheduleOverlapPolicy::Skip)
        .note(
            "Resolves payments left without an outcome by asking the gateway; refunds what no booking uses."
                .to_string(),
        )
        .build();
    create_unless_exists(client, RECONCILE_SCHEDULE_ID, options, settings.reconcile_every).await
}

/// Creates the schedule `id` unless it exists: one made by another replica, or changed by
/// an operator in the Web UI (paused, say), is left as it is.
async fn create_unless_exists(
    client: &Client,
    id: &str,
    options: CreateScheduleOptions,
    every: Duration,
) -> Result<(), ScheduleError> {
    match client.create_schedule(id, options).await {
        Ok(_) => {
            tracing::info!(schedule = id, ?every, "schedule created");
            Ok(())
        }
        Err(ScheduleError::Rpc(status)) if status.code() == Code::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

/// Payments looked at per reconciliation run; the rest wait for the next run.
const RECONCILE_BATCH: u32 = 100;

async fn ensure_hold_sweep(client: &Client, hold_sweep_every: Duration) -> Result<(), ScheduleError> {
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
    create_unless_exists(client, HOLD_SWEEP_SCHEDULE_ID, options, hold_sweep_every).await
}

async fn ensure_repair_sweep(client: &Client, every: Duration) -> Result<(), ScheduleError> {
    let options = CreateScheduleOptions::builder()
        .action(ScheduleAction::start_workflow(
            sagas::RepairSweepWorkflow::run,
            (),
            task_queue::BOOKING,
            REPAIR_SWEEP_WORKFLOW_ID,
        ))
        .spec(ScheduleSpec::from_interval(every))
        .overlap_policy(ScheduleOverlapPolicy::Skip)
        .note(
            "Finds booking sagas that stopped without finishing (terminated, failed) and starts a RepairBooking \
             workflow for each, which confirms or compensates the booking."
                .to_string(),
        )
        .build();
    create_unless_exists(client, REPAIR_SWEEP_SCHEDULE_ID, options, every).await
}

/// What one pass over the partners did to their settlement schedules.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SettlementSchedulesReport {
    pub created: Vec<String>,
    pub updated: Vec<String>,
    pub unchanged: Vec<String>,
    pub paused: Vec<String>,
    pub unpaused: Vec<String>,
}

/// Note on the schedule of a closed partner; a schedule paused with another note (by an
/// operator) stays paused until the operator resumes it.
fn closed_note(code: &str) -> String {
    format!("Paused because partner {code} is closed; it resumes when the partner is reopened.")
}

/// When a cycle's settlements run: half past midnight in India on the first day after each
/// period, so that the period's last confirmations have committed. Weekly and fortnightly
/// schedules are intervals counted from the Unix epoch (whose first Monday, 5 January 1970,
/// anchors fortnights, as `SettlementCycle` does); monthly ones are calendar times.
pub fn settlement_spec(cycle: SettlementCycle) -> ScheduleSpec {
    // Sunday 4 January 1970, 19:00 UTC = Monday 5 January, 00:30 in India.
    let first_monday = Duration::from_secs(3 * 86_400 + 19 * 3_600);
    match cycle {
        SettlementCycle::Weekly => ScheduleSpec::builder()
            .intervals(vec![ScheduleIntervalSpec::new(Duration::from_secs(7 * 86_400), Some(first_monday))])
            .build(),
        SettlementCycle::Fortnightly => ScheduleSpec::builder()
            .intervals(vec![ScheduleIntervalSpec::new(Duration::from_secs(14 * 86_400), Some(first_monday))])
            .build(),
        SettlementCycle::Monthly => ScheduleSpec::builder()
            .calendars(vec![ScheduleCalendarSpec::builder().day_of_month("1").hour("0").minute("30").build()])
            .timezone_name("Asia/Kolkata")
            .build(),
    }
}

fn settlement_action(input: SettlementCycleInput) -> ScheduleAction {
    let workflow_id = settlement_schedule_id(&input.partner_code);
    ScheduleAction::start_workflow(sagas::PartnerSettlementCycleWorkflow::run, input, task_queue::PARTNER, workflow_id)
}

/// Creates the settlement schedule of every partner (`settlement-<code>`), or brings an
/// existing one in line with the partner's cycle; pauses the schedules of closed partners.
/// Safe to run any number of times, from any number of processes at once.
pub async fn sync_settlement_schedules(
    client: &Client,
    partner_db: &PgPool,
) -> anyhow::Result<SettlementSchedulesReport> {
    let mut report = SettlementSchedulesReport::default();
    for partner in partner::Partners::new(partner_db.clone()).all_partners().await? {
        let cycle = SettlementCycle::parse(&partner.settlement_cycle)?;
        let id = settlement_schedule_id(&partner.code);
        let input = SettlementCycleInput {
            partner_id: partner.partner_id,
            partner_code: partner.code.clone(),
            cycle,
            period_start: None,
        };
        let closed = partner.status == partner::PartnerStatus::Closed;
        let options = CreateScheduleOptions::builder()
            .action(settlement_action(input.clone()))
            .spec(settlement_spec(cycle))
            // A run held up (workers away) is followed, not skipped: every period settles.
            .overlap_policy(ScheduleOverlapPolicy::BufferAll)
            .paused(closed)
            .note(if closed { closed_note(&partner.code) } else { format!("Settles partner {}.", partner.code) })
            .build();
        match client.create_schedule(id.clone(), options).await {
            Ok(_) => {
                tracing::info!(schedule = %id, %cycle, "settlement schedule created");
                report.created.push(id);
                continue;
            }
            Err(ScheduleError::Rpc(status)) if status.code() == Code::AlreadyExists => {}
            Err(e) => return Err(e.into()),
        }
        let handle = client.get_schedule_handle(id.clone());
        let description = handle.describe(Default::default()).await?;
        let current: Option<SettlementCycleInput> = match description.action() {
            ScheduleDescriptionAction::StartWorkflow(action) => action.args().await.ok().flatten(),
            _ => None,
        };
        if current.as_ref() == Some(&input) {
            report.unchanged.push(id.clone());
        } else {
            let (spec, action) = (settlement_spec(cycle), settlement_action(input));
            handle
                .update(
                    move |u| {
                        u.set_spec(spec).set_action(action);
                    },
                    Default::default(),
                )
                .await?;
            tracing::info!(schedule = %id, %cycle, "settlement schedule updated");
            report.updated.push(id.clone());
        }
        let ours = description.note() == Some(closed_note(&partner.code).as_str());
        if closed && !description.paused() {
            handle.pause(Some(closed_note(&partner.code)), Default::default()).await?;
            report.paused.push(id);
        } else if !closed && description.paused() && ours {
            handle.unpause(Some(format!("Partner {} reopened.", partner.code)), Default::default()).await?;
            report.unpaused.push(id);
        }
    }
    Ok(report)
}
