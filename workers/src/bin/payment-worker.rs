//! The payment context's worker: polls the `payment` task queue only.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    workers::main_for(&[workers::WorkerContext::Payment]).await
}
