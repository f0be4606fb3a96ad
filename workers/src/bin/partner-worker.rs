//! The partner context's worker: polls the `partner` task queue only (settlement workflows
//! and the partner context's activities) and keeps the settlement schedules in line.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    workers::main_for(&[workers::WorkerContext::Partner]).await
}
