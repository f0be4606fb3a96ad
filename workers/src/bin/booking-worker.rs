//! The booking context's worker: polls the `booking` task queue only.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    workers::main_for(&[workers::WorkerContext::Booking]).await
}
