//! Worker processes: one per bounded context, each polling only its context's task queue,
//! and an all-in-one mode that runs them side by side in one process for development.
//!
//! Architecture invariants:
//! - Binaries in `src/bin` only parse settings and call [`run`].
//! - Workflows run on the `booking` worker (bookings, the hold sweep) and on the `partner`
//!   worker (settlements, which have their own queue so that a settlement backlog never
//!   delays bookings); every worker runs activities of its own context only.

mod business_metrics;
mod schedules;
mod settings;

pub use schedules::{SettlementSchedulesReport, settlement_spec, sync_settlement_schedules};
pub use settings::{WorkerContext, WorkerSettings};

use contracts::temporal::task_queue;
use futures::future::try_join_all;
use payment::GatewayClient;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use temporalio_client::Client;
use temporalio_common::telemetry::{PrometheusExporterOptions, TelemetryOptions, start_prometheus_metric_exporter};
use temporalio_sdk::{
    Runtime, Worker, WorkerOptions,
    runtime::{
        RuntimeOptions,
        worker_tuner::{FixedSizeSlotSupplier, TunerHolder, WorkerTuner},
    },
};

/// Runs the workers of `contexts` until `shutdown` resolves, then lets in-flight tasks
/// finish (within the graceful shutdown period) before returning.
///
/// Temporal workers are not `Send`: call this from the task that owns the runtime
/// (`#[tokio::main]`, or a thread with its own runtime in tests).
pub async fn run(
    settings: &WorkerSettings,
    contexts: &[WorkerContext],
    client: Client,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    if contexts.contains(&WorkerContext::Booking) {
        schedules::ensure_schedules(&client, settings).await?;
    }
    // Settlement schedules follow the partners table: at start-up, then now and then, so a
    // partner onboarded or changed meanwhile gets its schedule without a restart.
    let schedule_sync = if contexts.contains(&WorkerContext::Partner) {
        let partner_db = partner_pool(settings)?;
        let report = schedules::sync_settlement_schedules(&client, &partner_db).await?;
        tracing::info!(?report, "settlement schedules in line with the partners table");
        Some(tokio::spawn(keep_settlement_schedules_in_line(
            client.clone(),
            partner_db,
            settings.settlement_sync_every,
        )))
    } else {
        None
    };
    let runtime = Runtime::from_current_tokio(runtime_options(settings)?)?;
    let mut workers = Vec::with_capacity(contexts.len());
    for context in contexts {
        let options = worker_options(settings, *context, &client)?;
        workers.push(Worker::new(&runtime, client.clone(), options)?);
        tracing::info!(context = context.name(), "worker ready");
    }
    let stop_handles: Vec<_> = workers.iter().map(Worker::shutdown_handle).collect();
    let all = try_join_all(workers.iter_mut().map(Worker::run));
    tokio::pin!(all);
    tokio::select! {
        result = &mut all => { result?; return Ok(()); }
        () = shutdown => {
            tracing::info!("stopping workers: finishing in-flight tasks");
            for stop in &stop_handles { stop(); }
        }
    }
    if let Some(task) = schedule_sync {
        task.abort();
    }
    all.await?;
    Ok(())
}

fn partner_pool(settings: &WorkerSettings) -> anyhow::Result<sqlx::PgPool> {
    let url = settings.database_url(WorkerContext::Partner)?;
    Ok(platform::db::context_pool(&url, partner::SCHEMA, settings.db_pool_size)?)
}

async fn keep_settlement_schedules_in_line(client: Client, partner_db: sqlx::PgPool, every: Duration) {
    let mut tick = tokio::time::interval(every.max(Duration::from_secs(1)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tick.tick().await;
        if let Err(e) = schedules::sync_settlement_schedules(&client, &partner_db).await {
            tracing::warn!(error = %e, "could not bring the settlement schedules in line; trying again later");
        }
    }
}

/// The `settlement-schedules` command: brings every partner's settlement schedule in line
/// with the partners table once, and prints what it did.
pub async fn sync_settlement_schedules_once() -> anyhow::Result<()> {
    platform::telemetry::init("settlement-schedules");
    let settings = WorkerSettings::from_env()?;
    let client = platform::temporal::connect(&settings.temporal).await?;
    let report = schedules::sync_settlement_schedules(&client, &partner_pool(&settings)?).await?;
    println!(
        "settlement schedules: {} created, {} updated, {} unchanged, {} paused, {} resumed",
        report.created.len(),
        report.updated.len(),
        report.unchanged.len(),
        report.paused.len(),
        report.unpaused.len()
    );
    for (what, ids) in [("created", &report.created), ("updated", &report.updated), ("paused", &report.paused)] {
        for id in ids {
            println!("  {what} {id}");
        }
    }
    Ok(())
}

/// Runtime options: with `metrics_addr`, the SDK's worker metrics (task latencies, slots,
/// sticky cache, polls) are served for Prometheus there.
fn runtime_options(settings: &WorkerSettings) -> anyhow::Result<RuntimeOptions> {
    let Some(addr) = settings.metrics_addr else { return Ok(RuntimeOptions::default()) };
    let exporter = start_prometheus_metric_exporter(PrometheusExporterOptions::builder().socket_addr(addr).build())?;
    tracing::info!(addr = %exporter.bound_addr, "worker metrics at /metrics");
    let meter: Arc<dyn temporalio_common::telemetry::metrics::CoreMeter> = exporter.meter;
    platform::metrics::add_recorder(business_metrics::CoreMeterRecorder::new(meter.clone()));
    RuntimeOptions::builder()
        .telemetry_options(TelemetryOptions::builder().metrics(meter).build())
        .build()
        .map_err(|e| anyhow::anyhow!(e))
}

/// Slots for workflow tasks, which hold no database connection.
const WORKFLOW_TASK_SLOTS: usize = 100;

/// A worker runs at most as many activities (and local activities) at once as its context's
/// pool has connections: each holds one while it runs, some across a gateway call, so more
/// slots would only queue attempts on the pool until they time out.
fn pool_sized_tuner(settings: &WorkerSettings) -> WorkerTuner {
    let slots = usize::try_from(settings.db_pool_size).unwrap_or(1).max(1);
    TunerHolder::builder()
        .workflow_task_slot_supplier(FixedSizeSlotSupplier::new(WORKFLOW_TASK_SLOTS))
        .activity_task_slot_supplier(FixedSizeSlotSupplier::new(slots))
        .local_activity_task_slot_supplier(FixedSizeSlotSupplier::new(slots))
        .nexus_task_slot_supplier(FixedSizeSlotSupplier::new(1))
        .build()
        .into()
}

fn worker_options(settings: &WorkerSettings, context: WorkerContext, client: &Client) -> anyhow::Result<WorkerOptions> {
    let period = settings.graceful_shutdown;
    let tuner = pool_sized_tuner(settings);
    Ok(match context {
        WorkerContext::Booking => {
            let pool =
                platform::db::context_pool(&settings.database_url(context)?, booking::SCHEMA, settings.db_pool_size)?;
            WorkerOptions::new(task_queue::BOOKING)
                .tuner(tuner.clone())
                .register_workflow::<sagas::BookingWorkflow>()?
                .register_workflow::<sagas::PackageBookingWorkflow>()?
                .register_workflow::<sagas::HoldSweepWorkflow>()?
                .register_workflow::<sagas::AutoRefundWorkflow>()?
                .register_workflow::<sagas::ManualRefundWorkflow>()?
                .register_workflow::<sagas::WebhookResolutionWorkflow>()?
                .register_workflow::<sagas::CancellationWorkflow>()?
                .register_workflow::<sagas::ReconcilePaymentsWorkflow>()?
                .register_workflow::<sagas::RepairBookingWorkflow>()?
                .register_workflow::<sagas::RepairSweepWorkflow>()?
                .register_activities(booking::BookingActivitiesImpl::new(pool.clone()))
                .register_activities(booking::StoppedSagasActivitiesImpl::new(client.clone()))
                .register_activities(booking::PartnerSalesActivitiesImpl::new(pool))
                .graceful_shutdown_period(period)
                .build()
        }
        WorkerContext::Inventory => {
            let pool =
                platform::db::context_pool(&settings.database_url(context)?, inventory::SCHEMA, settings.db_pool_size)?;
            WorkerOptions::new(task_queue::INVENTORY)
                .tuner(tuner.clone())
                .register_activities(inventory::InventoryActivitiesImpl::new(pool, settings.hold_ttl))
                .graceful_shutdown_period(period)
                .build()
        }
        WorkerContext::Payment => {
            let pool =
                platform::db::context_pool(&settings.database_url(context)?, payment::SCHEMA, settings.db_pool_size)?;
            let gateway = GatewayClient::new(settings.gateway.clone())?;
            WorkerOptions::new(task_queue::PAYMENT)
                .tuner(tuner.clone())
                .register_activities(payment::PaymentActivitiesImpl::new(pool, gateway.clone()))
                .register_activities(payment::PayoutActivitiesImpl::new(gateway))
                .graceful_shutdown_period(period)
                .build()
        }
        WorkerContext::Partner => WorkerOptions::new(task_queue::PARTNER)
            .tuner(tuner.clone())
            .register_workflow::<sagas::PartnerSettlementWorkflow>()?
            .register_workflow::<sagas::SettlementPayoutWorkflow>()?
            .register_workflow::<sagas::PartnerSettlementCycleWorkflow>()?
            .register_activities(partner::PartnerActivitiesImpl::new(partner_pool(settings)?))
            .graceful_shutdown_period(period)
            .build(),
    })
}

/// Entry point shared by the worker binaries.
pub async fn main_for(contexts: &[WorkerContext]) -> anyhow::Result<()> {
    let names: Vec<&str> = contexts.iter().map(|c| c.name()).collect();
    platform::telemetry::init(&format!("worker-{}", names.join("+")));
    let settings = WorkerSettings::from_env_for(contexts)?;
    let client = platform::temporal::connect(&settings.temporal).await?;
    run(&settings, contexts, client, platform::shutdown::signal()).await
}
