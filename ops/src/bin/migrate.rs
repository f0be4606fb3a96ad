//! Applies every context's migrations. In development it first creates the database
//! (`TT_CREATE_DATABASES`, default true); deployments set it to false, so the migration
//! role needs no access to the server's `postgres` database.
//!
//! With `TT_BOOTSTRAP_ADMIN_EMAIL` and `TT_BOOTSTRAP_ADMIN_PASSWORD` set (from a Secret, or
//! from the files `TT_BOOTSTRAP_ADMIN_EMAIL_FILE` and `TT_BOOTSTRAP_ADMIN_PASSWORD_FILE` name),
//! it then creates the first admin unless an admin exists.

use platform::env::{Secret, optional};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    platform::telemetry::init("migrate");
    let create_databases = platform::env::var_or("CREATE_DATABASES", true)?;
    ops::migrate_all(|schema| Ok(platform::db::database_url(schema)?), create_databases).await?;
    let email = optional::<String>("BOOTSTRAP_ADMIN_EMAIL")?;
    let password = optional::<Secret>("BOOTSTRAP_ADMIN_PASSWORD")?;
    match (email, password) {
        (Some(email), Some(password)) => {
            let auth_db = platform::db::context_pool(&platform::db::database_url("auth")?, auth::SCHEMA, 1)?;
            if ops::bootstrap_admin(&auth_db, &email, password.expose()).await? {
                // Without the address: it may come from a mounted Secret, whose values stay out of logs.
                tracing::info!("first admin created (TT_BOOTSTRAP_ADMIN_EMAIL)");
            }
        }
        (None, None) => {}
        _ => anyhow::bail!("set both TT_BOOTSTRAP_ADMIN_EMAIL and TT_BOOTSTRAP_ADMIN_PASSWORD, or neither"),
    }
    Ok(())
}
