//! Applies every context's migrations. In development it first creates the database
//! (`TT_CREATE_DATABASES`, default true); deployments set it to false, so the migration
//! role needs no access to the server's `postgres` database.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    platform::telemetry::init("migrate");
    let create_databases = platform::env::var_or("CREATE_DATABASES", true)?;
    ops::migrate_all(|schema| Ok(platform::db::database_url(schema)?), create_databases).await
}
