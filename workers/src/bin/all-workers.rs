//! Every context's worker in one process, for local development.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    workers::main_for(&workers::WorkerContext::ALL).await
}
