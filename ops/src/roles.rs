//! Database roles: least privilege per context.
//!
//! The migration connects as the DDL role, which owns every schema and table it creates.
//! Each context connects as a login role of its own (the user of its
//! `TT_<CONTEXT>_DATABASE_URL`), which gets `USAGE` on its own schema, `SELECT`, `INSERT`,
//! `UPDATE` and `DELETE` on its tables (only `SELECT` on the migration history),
//! `USAGE` and `SELECT` on its sequences, the same on whatever later migrations create
//! (`ALTER DEFAULT PRIVILEGES`), and nothing on any other context's schema.
//!
//! `TT_DB_ROLES` says what `migrate` does about them:
//! - `off` (the default, development): every process connects as one role; nothing granted.
//! - `grant`: the roles exist (a DBA created them); `migrate` grants and revokes only.
//! - `create`: `migrate` also creates each role, or sets its password, from the URL.
//!
//! Every run applies the grants again, so tables added since are covered either way.

use anyhow::{Context as _, bail};
use sqlx::{PgPool, postgres::PgConnectOptions};
use std::str::FromStr;

/// What `migrate` does about the contexts' login roles (`TT_DB_ROLES`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RolesMode {
    /// One role does everything (development).
    Off,
    /// The roles exist; grant each its own schema and revoke the others.
    Grant,
    /// Create each role (or set its password) from its URL, then grant.
    Create,
}

impl FromStr for RolesMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "off" | "" => Ok(RolesMode::Off),
            "grant" => Ok(RolesMode::Grant),
            "create" => Ok(RolesMode::Create),
            other => Err(format!("`{other}` is not off, grant or create")),
        }
    }
}

/// A context's login role, as its connection URL names it.
#[derive(Clone)]
pub struct ContextRole {
    pub name: String,
    password: Option<String>,
}

impl std::fmt::Debug for ContextRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ContextRole").field("name", &self.name).finish_non_exhaustive()
    }
}

impl ContextRole {
    /// The user and password of `url` (the password percent-decoded).
    pub fn from_url(url: &str) -> anyhow::Result<Self> {
        let parsed = url::Url::parse(url).context("a context's database URL does not parse")?;
        let decode = |s: &str| -> anyhow::Result<String> {
            percent_decode(s).context("the URL's user or password is not valid percent-encoded UTF-8")
        };
        let name = decode(parsed.username())?;
        anyhow::ensure!(!name.is_empty(), "a context's database URL names no user");
        let password = parsed.password().map(decode).transpose()?;
        Ok(ContextRole { name, password })
    }
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Whether two URLs name the same database on the same server.
pub fn same_database(a: &str, b: &str) -> anyhow::Result<bool> {
    let (a, b) = (PgConnectOptions::from_str(a)?, PgConnectOptions::from_str(b)?);
    Ok(a.get_host() == b.get_host() && a.get_port() == b.get_port() && a.get_database() == b.get_database())
}

fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Makes `role` exist as a login role with its URL's password (mode `create`), or checks
/// that it exists (mode `grant`). Either way it must be another role than the migration's
/// and no superuser, or the separation would be void.
pub async fn ensure_role(ddl: &PgPool, role: &ContextRole, mode: RolesMode) -> anyhow::Result<()> {
    let me: String = sqlx::query_scalar("SELECT current_user::text").fetch_one(ddl).await?;
    if me == role.name {
        bail!("role {} is the migration's own role: give each context a login role of its own", role.name);
    }
    let found: Option<bool> = sqlx::query_scalar("SELECT rolsuper FROM pg_roles WHERE rolname = $1")
        .bind(&role.name)
        .fetch_optional(ddl)
        .await?;
    if found == Some(true) {
        bail!("role {} is a superuser: a context's role must reach its own schema only", role.name);
    }
    match (mode, found) {
        (RolesMode::Off, _) => Ok(()),
        (RolesMode::Grant, Some(_)) => Ok(()),
        (RolesMode::Grant, None) => bail!(
            "role {} does not exist: create it (CREATE ROLE … LOGIN PASSWORD …), or run migrate with TT_DB_ROLES=create",
            role.name
        ),
        (RolesMode::Create, found) => {
            let Some(password) = role.password.as_deref() else {
                bail!("TT_DB_ROLES=create needs a password in the URL of role {}", role.name)
            };
            // Utility statements take no parameters: the server quotes the name and the
            // password itself (format's %I and %L), so neither can break out.
            let verb = if found.is_some() { "ALTER" } else { "CREATE" };
            let statement: String = sqlx::query_scalar(&format!(
                "SELECT format('{verb} ROLE %I WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD %L', $1::text, $2::text)"
            ))
            .bind(&role.name)
            .bind(password)
            .fetch_one(ddl)
            .await?;
            match sqlx::query(&statement).execute(ddl).await {
                Ok(_) => {}
                // Another migrate created it meanwhile (duplicate_object): set the password.
                Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42710") => {
                    let alter = statement.replacen("CREATE ROLE", "ALTER ROLE", 1);
                    sqlx::query(&alter).execute(ddl).await?;
                }
                Err(e) => return Err(e.into()),
            }
            Ok(())
        }
    }
}

/// Grants `role` what its context needs in `schema`, now and for what later migrations
/// create, and takes the migration history back out of its hands but for reading.
pub async fn grant_own_schema(ddl: &PgPool, schema: &str, role: &str) -> anyhow::Result<()> {
    let (s, r) = (ident(schema), ident(role));
    let statements = [
        format!("GRANT USAGE ON SCHEMA {s} TO {r}"),
        format!("REVOKE CREATE ON SCHEMA {s} FROM {r}"),
        format!("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {s} TO {r}"),
        format!("REVOKE TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA {s} FROM {r}"),
        format!("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {s} TO {r}"),
        format!("ALTER DEFAULT PRIVILEGES IN SCHEMA {s} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {r}"),
        format!("ALTER DEFAULT PRIVILEGES IN SCHEMA {s} GRANT USAGE, SELECT ON SEQUENCES TO {r}"),
        // The schema's version is readable (a start-up check may compare it); its history
        // is the migration's alone.
        format!("REVOKE INSERT, UPDATE, DELETE ON TABLE {s}._sqlx_migrations FROM {r}"),
    ];
    for statement in statements {
        sqlx::query(&statement).execute(ddl).await.with_context(|| format!("`{statement}`"))?;
    }
    Ok(())
}

/// Takes from `role` anything it was granted on `schema` (another context's), if that schema
/// is in this database.
pub async fn revoke_schema(ddl: &PgPool, schema: &str, role: &str) -> anyhow::Result<()> {
    let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)")
        .bind(schema)
        .fetch_one(ddl)
        .await?;
    if !exists {
        return Ok(());
    }
    let (s, r) = (ident(schema), ident(role));
    for statement in [
        format!("REVOKE ALL ON ALL TABLES IN SCHEMA {s} FROM {r}"),
        format!("REVOKE ALL ON ALL SEQUENCES IN SCHEMA {s} FROM {r}"),
        format!("ALTER DEFAULT PRIVILEGES IN SCHEMA {s} REVOKE ALL ON TABLES FROM {r}"),
        format!("ALTER DEFAULT PRIVILEGES IN SCHEMA {s} REVOKE ALL ON SEQUENCES FROM {r}"),
        format!("REVOKE ALL ON SCHEMA {s} FROM {r}"),
    ] {
        sqlx::query(&statement).execute(ddl).await.with_context(|| format!("`{statement}`"))?;
    }
    Ok(())
}

/// Gives every context's role its own schema, in that context's database, and takes every
/// other context's role off it. `ddl_url_of` is the migration's URL of a context,
/// `role_url_of` the URL the context's processes connect with. Nothing happens in mode
/// [`RolesMode::Off`].
pub async fn apply(
    mode: RolesMode,
    ddl_url_of: impl Fn(&str) -> anyhow::Result<String>,
    role_url_of: impl Fn(&str) -> anyhow::Result<String>,
) -> anyhow::Result<()> {
    if mode == RolesMode::Off {
        return Ok(());
    }
    let mut roles = Vec::new();
    for (schema, _) in crate::CONTEXTS {
        let role = ContextRole::from_url(&role_url_of(schema)?)
            .with_context(|| format!("TT_{}_DATABASE_URL", schema.to_ascii_uppercase()))?;
        if let Some((other, _)) = roles.iter().find(|(_, r): &&(&str, ContextRole)| r.name == role.name) {
            bail!("the contexts {other} and {schema} share the role {}: give each its own", role.name);
        }
        roles.push((schema, role));
    }
    for (schema, role) in &roles {
        let ddl_url = ddl_url_of(schema)?;
        if !same_database(&ddl_url, &role_url_of(schema)?)? {
            bail!("the migration's URL and TT_{}_DATABASE_URL name different databases", schema.to_ascii_uppercase());
        }
        let ddl = sqlx::postgres::PgPoolOptions::new().max_connections(1).connect(&ddl_url).await?;
        ensure_role(&ddl, role, mode).await?;
        grant_own_schema(&ddl, schema, &role.name).await?;
        for (_, other) in roles.iter().filter(|(s, _)| s != schema) {
            if role_exists(&ddl, &other.name).await? {
                revoke_schema(&ddl, schema, &other.name).await?;
            }
        }
        ddl.close().await;
        tracing::info!(schema, role = %role.name, "context role granted its schema only");
    }
    Ok(())
}

async fn role_exists(ddl: &PgPool, role: &str) -> anyhow::Result<bool> {
    Ok(sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)")
        .bind(role)
        .fetch_one(ddl)
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_role_comes_from_its_url_with_its_password_decoded() {
        let role = ContextRole::from_url("postgres://tt_catalog:p%40ss%2Fw0rd@db:5432/tripura").unwrap();
        assert_eq!(role.name, "tt_catalog");
        assert_eq!(role.password.as_deref(), Some("p@ss/w0rd"));
        assert!(ContextRole::from_url("postgres://db:5432/tripura").is_err());
        assert!(!format!("{role:?}").contains("p@ss"));
    }

    #[test]
    fn modes_parse() {
        assert_eq!("grant".parse(), Ok(RolesMode::Grant));
        assert_eq!("create".parse(), Ok(RolesMode::Create));
        assert_eq!("off".parse(), Ok(RolesMode::Off));
        assert!("yes".parse::<RolesMode>().is_err());
    }

    #[test]
    fn same_database_compares_host_port_and_name() {
        assert!(same_database("postgres://a:x@db:5432/t", "postgres://b:y@db/t").unwrap());
        assert!(!same_database("postgres://a@db/t", "postgres://a@db/u").unwrap());
    }
}
