//! Applies every context's migrations, then (with `TT_DB_ROLES`) gives each context's login
//! role its own schema and nothing else (see `ops::roles`). In development it first creates
//! the database (`TT_CREATE_DATABASES`, default true); deployments set it to false, so the
//! migration role needs no access to the server's `postgres` database.
//!
//! It connects as the DDL role: `TT_<CONTEXT>_MIGRATE_DATABASE_URL`, else
//! `TT_MIGRATE_DATABASE_URL`, else the context's own URL (`TT_<CONTEXT>_DATABASE_URL`, else
//! `TT_DATABASE_URL`: development, where one role does everything). With `TT_DB_ROLES` set
//! to `grant` or `create`, each context's role is the user of `TT_<CONTEXT>_DATABASE_URL`.
//!
//! With `TT_BOOTSTRAP_ADMIN_EMAIL` and `TT_BOOTSTRAP_ADMIN_PASSWORD` set (from a Secret, or
//! from the files `TT_BOOTSTRAP_ADMIN_EMAIL_FILE` and `TT_BOOTSTRAP_ADMIN_PASSWORD_FILE` name),
//! it then creates the first admin unless an admin exists.

use ops::roles::RolesMode;
use platform::env::{Secret, optional};

/// The URL the migration connects to `context`'s database with.
fn migration_url(context: &str) -> anyhow::Result<String> {
    let own = format!("{}_MIGRATE_DATABASE_URL", context.to_ascii_uppercase());
    if let Some(url) = optional::<String>(&own)? {
        return Ok(url);
    }
    if let Some(url) = optional::<String>("MIGRATE_DATABASE_URL")? {
        return Ok(url);
    }
    Ok(platform::db::database_url(context)?)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    platform::telemetry::init("migrate");
    let create_databases = platform::env::var_or("CREATE_DATABASES", true)?;
    let roles = platform::env::var_or("DB_ROLES", RolesMode::Off)?;
    ops::migrate_all(migration_url, create_databases).await?;
    ops::roles::apply(roles, migration_url, |schema| Ok(platform::db::database_url(schema)?)).await?;
    let email = optional::<String>("BOOTSTRAP_ADMIN_EMAIL")?;
    let password = optional::<Secret>("BOOTSTRAP_ADMIN_PASSWORD")?;
    match (email, password) {
        (Some(email), Some(password)) => {
            let auth_db = platform::db::context_pool(&migration_url("auth")?, auth::SCHEMA, 1)?;
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
