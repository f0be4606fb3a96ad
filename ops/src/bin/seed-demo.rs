//! Loads the demo catalog with 8 rooms a night for the next 180 nights, and one demo user
//! per role (see `ops::DEMO_USERS`; development only).

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    platform::telemetry::init("seed-demo");
    let catalog = platform::db::context_pool(&platform::db::database_url("catalog")?, catalog::SCHEMA, 2)?;
    let inventory = platform::db::context_pool(&platform::db::database_url("inventory")?, inventory::SCHEMA, 2)?;
    let auth_db = platform::db::context_pool(&platform::db::database_url("auth")?, auth::SCHEMA, 2)?;
    let today = chrono::Utc::now().date_naive();
    ops::seed_demo(&catalog, &inventory, today, 180, 8).await?;
    ops::seed_demo_users(&auth_db).await?;
    tracing::info!("demo catalog, availability and users loaded");
    Ok(())
}
