//! Whether a context's schema is at the version this build's migrations end at: what a
//! pod checks before it starts, reading `_sqlx_migrations` with its own context role (which
//! may read it and nothing more), so that no process starts on an older schema and none but
//! the migrate Job holds the DDL role.

use sqlx::{PgPool, migrate::Migrator};

/// The version of `migrator`'s last migration.
pub fn expected_version(migrator: &Migrator) -> i64 {
    migrator.iter().map(|m| m.version).max().unwrap_or(0)
}

/// The latest version applied in `pool`'s schema (0 before any), or an error the caller
/// cannot wait out (no permission, for one).
pub async fn applied_version(pool: &PgPool) -> Result<i64, sqlx::Error> {
    match sqlx::query_scalar::<_, Option<i64>>("SELECT max(version) FROM _sqlx_migrations WHERE success")
        .fetch_one(pool)
        .await
    {
        Ok(version) => Ok(version.unwrap_or(0)),
        // undefined_table: nothing migrated yet.
        Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42P01") => Ok(0),
        Err(e) => Err(e),
    }
}
