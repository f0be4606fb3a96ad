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
//! `migrate --wait` changes nothing: it waits until the schema of every context it was given
//! a URL for (`TT_<CONTEXT>_DATABASE_URL`, or its `_FILE`) is at this build's last
//! migration, for at most `TT_SCHEMA_WAIT_SECS` (600). Pods run it as an init container with
//! their own contexts' roles; only the migrate Job holds the DDL role.
//!
//! With `TT_BOOTSTRAP_ADMIN_EMAIL` and `TT_BOOTSTRAP_ADMIN_PASSWORD` set (from a Secret, or
//! from the files `TT_BOOTSTRAP_ADMIN_EMAIL_FILE` and `TT_BOOTSTRAP_ADMIN_PASSWORD_FILE` name),
//! it then creates the first admin, as a new account, unless an admin exists; an account
//! that already has that e-mail and is not an admin makes it fail (see `ops::bootstrap_admin`).

use ops::roles::RolesMode;
use ops::schema_version::{applied_version, expected_version};
use platform::env::{Secret, optional};
use std::time::{Duration, Instant};

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
    if std::env::args().nth(1).as_deref() == Some("--wait") {
        return wait_for_schemas().await;
    }
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

/// `migrate --wait`: see the module's documentation.
async fn wait_for_schemas() -> anyhow::Result<()> {
    let limit = Duration::from_secs(platform::env::var_or("SCHEMA_WAIT_SECS", 600)?);
    let deadline = Instant::now() + limit;
    let mut given = Vec::new();
    for (schema, migrator) in ops::CONTEXTS {
        if let Some(url) = optional::<String>(&format!("{}_DATABASE_URL", schema.to_ascii_uppercase()))? {
            given.push((schema, migrator, platform::db::context_pool(&url, schema, 1)?));
        }
    }
    anyhow::ensure!(!given.is_empty(), "migrate --wait: no TT_<CONTEXT>_DATABASE_URL given, so nothing to wait for");
    for (schema, migrator, pool) in given {
        let expected = expected_version(migrator);
        loop {
            match applied_version(&pool).await {
                Ok(applied) if applied >= expected => {
                    tracing::info!(schema, applied, "schema current");
                    break;
                }
                Ok(applied) => tracing::info!(schema, applied, expected, "waiting for the migrate Job"),
                // insufficient_privilege: waiting will not help.
                Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42501") => {
                    anyhow::bail!(
                        "the {schema} role may not read {schema}._sqlx_migrations: run migrate with TT_DB_ROLES"
                    )
                }
                Err(e) => tracing::warn!(schema, error = %e, "cannot read the schema's version yet"),
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "the {schema} schema is not at version {expected} after {} s: has the migrate Job of this release run?",
                limit.as_secs()
            );
            tokio::time::sleep(Duration::from_secs(3)).await;
        }
        pool.close().await;
    }
    Ok(())
}
