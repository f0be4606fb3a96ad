//! The inventory context's worker: polls the `inventory` task queue only.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    workers::main_for(&[workers::WorkerContext::Inventory]).await
}
