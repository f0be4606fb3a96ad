//! Creates or updates every partner's settlement schedule (`settlement-<code>`) from the
//! partners table, once. Safe to run at any time; the partner worker does the same at
//! start-up and every `TT_SETTLEMENT_SCHEDULE_SYNC_SECS`.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    workers::sync_settlement_schedules_once().await
}
