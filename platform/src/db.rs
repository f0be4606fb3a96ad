//! PostgreSQL pools, one per bounded context.
//!
//! Every context owns a schema named after it. Its pool sets `search_path` to that schema,
//! so a context's SQL cannot reach another's tables by accident, and its migration history
//! (`_sqlx_migrations`) lives inside its own schema. In production each context may point at
//! its own database (`TT_<CONTEXT>_DATABASE_URL`); by default they share `TT_DATABASE_URL`.
//! In production each context's URL also names its own login role, which reaches its own
//! schema only (`ops::roles`), and a process opens the pools of the contexts it serves only:
//! the others are [`unopened_pool`]s.

use crate::env::{self, EnvError};
use sqlx::{
    PgPool,
    postgres::{PgConnectOptions, PgPoolOptions},
};
use std::{str::FromStr, time::Duration};

pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/tripura";

/// The database URL of `context`: its own variable, else the shared one, else the default.
pub fn database_url(context: &str) -> Result<String, EnvError> {
    let own = format!("{}_DATABASE_URL", context.to_ascii_uppercase());
    if let Some(url) = env::optional::<String>(&own)? {
        return Ok(url);
    }
    env::var_or("DATABASE_URL", DEFAULT_DATABASE_URL.to_string())
}

/// A pooled connection used this recently is handed out without a ping first.
///
/// sqlx pings every connection it hands out by default: one more round trip before every
/// query or transaction, about as long as this platform's short statements themselves.
/// A connection used moments ago is alive unless the server went away
/// in between, and then the query fails as any other would during that outage (activities
/// retry; the API answers 503 and the client retries). Longer-idle connections are still
/// pinged, so one the server dropped while it sat idle is replaced unseen. (HikariCP, the
/// JVM's common pool, skips its check the same way for connections used in the last 500 ms.)
pub const PING_IF_IDLE_FOR: Duration = Duration::from_millis(500);

/// Opens a lazily connecting pool for `schema` at `url`: a process starts even while the
/// database is down, and readiness probes report it.
pub fn context_pool(url: &str, schema: &str, max_connections: u32) -> Result<PgPool, sqlx::Error> {
    context_pool_pinging_after(url, schema, max_connections, PING_IF_IDLE_FOR)
}

/// [`context_pool`] with another threshold than [`PING_IF_IDLE_FOR`] (tests use it to
/// hold the rule without racing the clock).
pub fn context_pool_pinging_after(
    url: &str,
    schema: &str,
    max_connections: u32,
    ping_if_idle_for: Duration,
) -> Result<PgPool, sqlx::Error> {
    let options = PgConnectOptions::from_str(url)?.options([("search_path", schema)]);
    Ok(PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(5))
        .test_before_acquire(false)
        .before_acquire(move |conn, meta| {
            Box::pin(async move {
                if meta.idle_for >= ping_if_idle_for {
                    sqlx::Connection::ping(conn).await?;
                }
                Ok(true)
            })
        })
        .connect_lazy_with(options))
}

/// A pool for a context this process does not serve: it holds no address of the
/// context's database and none of its credentials, never connects, and fails every use
/// with [`sqlx::Error::PoolClosed`]. Code that reaches a context its process was not given
/// fails at once instead of reaching that context's tables under another role.
pub fn unopened_pool() -> PgPool {
    let nowhere = PgConnectOptions::new_without_pgpass().host("unopened.invalid").username("none").password("");
    let pool = PgPoolOptions::new().max_connections(1).connect_lazy_with(nowhere);
    // Closing marks the pool closed at once; with no connection there is nothing to await.
    std::mem::drop(pool.close());
    pool
}

/// Whether `pool`'s database answers (readiness probes).
pub async fn is_reachable(pool: &PgPool) -> bool {
    !pool.is_closed() && sqlx::query("SELECT 1").execute(pool).await.is_ok()
}

/// Creates the database named in `url` if it does not exist (development and tests only).
pub async fn ensure_database(url: &str) -> Result<(), sqlx::Error> {
    let options = PgConnectOptions::from_str(url)?;
    let Some(name) = options.get_database().map(str::to_owned) else { return Ok(()) };
    let admin = PgPoolOptions::new().max_connections(1).connect_with(options.database("postgres")).await?;
    let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
        .bind(&name)
        .fetch_one(&admin)
        .await?;
    if !exists {
        let quoted = name.replace('"', "\"\"");
        // Two processes may race to create it; the loser sees duplicate_database (42P04).
        match sqlx::query(&format!("CREATE DATABASE \"{quoted}\"")).execute(&admin).await {
            Ok(_) => {}
            Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42P04") => {}
            Err(e) => return Err(e),
        }
    }
    admin.close().await;
    Ok(())
}

/// Runs one context's migrations inside its own schema, creating the schema first.
pub async fn migrate_context(url: &str, schema: &str, migrator: &sqlx::migrate::Migrator) -> Result<(), sqlx::Error> {
    let pool = context_pool(url, schema, 1)?;
    sqlx::query(&format!("CREATE SCHEMA IF NOT EXISTS {schema}")).execute(&pool).await?;
    migrator.run(&pool).await?;
    pool.close().await;
    Ok(())
}
