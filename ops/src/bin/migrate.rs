//! Applies every context's migrations (creating the database in development).

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    platform::telemetry::init("migrate");
    ops::migrate_all(|schema| Ok(platform::db::database_url(schema)?), true).await
}
