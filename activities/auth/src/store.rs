//! Every SQL statement of the auth context.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::{PgPool, Postgres, Row, Transaction};
use std::net::IpAddr;
use uuid::Uuid;

#[derive(Debug, Clone)]
pub struct NewUser<'a> {
    pub email: &'a str,
    pub full_name: &'a str,
    pub phone: Option<&'a str>,
    pub password_hash: &'a str,
    pub role: &'a str,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("an account with this email exists")]
    EmailTaken,
    #[error("no role `{0}`")]
    UnknownRole(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Creates a user with its credentials and one role, in one transaction.
pub async fn create_user(pool: &PgPool, user: &NewUser<'_>) -> Result<Uuid, StoreError> {
    let mut tx = pool.begin().await?;
    let user_id = Uuid::new_v4();
    sqlx::query("INSERT INTO users (user_id, email, full_name, phone) VALUES ($1, $2, $3, $4)")
        .bind(user_id)
        .bind(user.email)
        .bind(user.full_name)
        .bind(user.phone)
        .execute(&mut *tx)
        .await
        .map_err(|e| match &e {
            sqlx::Error::Database(db) if db.constraint() == Some("users_email_key") => StoreError::EmailTaken,
            _ => e.into(),
        })?;
    sqlx::query("INSERT INTO user_credentials (user_id, password_hash) VALUES ($1, $2)")
        .bind(user_id)
        .bind(user.password_hash)
        .execute(&mut *tx)
        .await?;
    grant_role_in(&mut tx, user_id, user.role, None).await?;
    tx.commit().await?;
    Ok(user_id)
}

async fn grant_role_in(
    tx: &mut Transaction<'_, Postgres>,
    user_id: Uuid,
    role: &str,
    granted_by: Option<Uuid>,
) -> Result<bool, StoreError> {
    let result = sqlx::query(
        "INSERT INTO user_roles (user_id, role_id, granted_by)
         SELECT $1, role_id, $3 FROM roles WHERE code = $2
         ON CONFLICT (user_id, role_id) DO NOTHING",
    )
    .bind(user_id)
    .bind(role)
    .bind(granted_by)
    .execute(&mut **tx)
    .await?;
    if result.rows_affected() == 0 {
        let known: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM roles WHERE code = $1)")
            .bind(role)
            .fetch_one(&mut **tx)
            .await?;
        if !known {
            return Err(StoreError::UnknownRole(role.to_string()));
        }
    }
    Ok(result.rows_affected() > 0)
}

/// Grants `role`; `false` when the user already had it.
pub async fn grant_role(
    pool: &PgPool,
    user_id: Uuid,
    role: &str,
    granted_by: Option<Uuid>,
) -> Result<bool, StoreError> {
    let mut tx = pool.begin().await?;
    let changed = grant_role_in(&mut tx, user_id, role, granted_by).await?;
    tx.commit().await?;
    Ok(changed)
}

/// Revokes `role`; `false` when the user did not have it.
pub async fn revoke_role(pool: &PgPool, user_id: Uuid, role: &str) -> Result<bool, StoreError> {
    let known: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM roles WHERE code = $1)").bind(role).fetch_one(pool).await?;
    if !known {
        return Err(StoreError::UnknownRole(role.to_string()));
    }
    let result = sqlx::query(
        "DELETE FROM user_roles WHERE user_id = $1 AND role_id = (SELECT role_id FROM roles WHERE code = $2)",
    )
    .bind(user_id)
    .bind(role)
    .execute(pool)
    .await?;
    Ok(result.rows_affected() > 0)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LoginRow {
    pub user_id: Uuid,
    pub status: String,
    pub password_hash: String,
}

pub async fn find_login(pool: &PgPool, email: &str) -> Result<Option<LoginRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT u.user_id, u.status, c.password_hash
         FROM users u JOIN user_credentials c USING (user_id) WHERE u.email = $1",
    )
    .bind(email)
    .fetch_optional(pool)
    .await
}

/// How a login attempt on a known account ended, as its credentials record it for operators.
#[derive(Debug, Clone, Copy)]
pub enum LoginOutcome<'a> {
    /// Clears the failure count and the lock, and stores the rehashed password, if any.
    Succeeded { rehashed: Option<&'a str> },
    /// A wrong password: one more failure, and the lock it set, if any.
    Failed { locked_until: Option<DateTime<Utc>> },
}

/// Records how a login attempt on `user_id` ended.
pub async fn note_login(pool: &PgPool, user_id: Uuid, outcome: LoginOutcome<'_>) -> Result<(), sqlx::Error> {
    let update = match outcome {
        LoginOutcome::Succeeded { rehashed } => sqlx::query(
            "UPDATE user_credentials
             SET failed_attempts = 0, locked_until = NULL, updated_at = now(),
                 password_hash = COALESCE($2, password_hash)
             WHERE user_id = $1",
        )
        .bind(user_id)
        .bind(rehashed),
        LoginOutcome::Failed { locked_until } => sqlx::query(
            "UPDATE user_credentials SET failed_attempts = failed_attempts + 1,
                 locked_until = COALESCE($2, locked_until), updated_at = now()
             WHERE user_id = $1",
        )
        .bind(user_id)
        .bind(locked_until),
    };
    update.execute(pool).await?;
    Ok(())
}

/// Whether a login attempt may check its password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reservation {
    /// Counted as a failure until a success clears it.
    Reserved,
    /// The pair must wait this long.
    Refused { retry_after: std::time::Duration },
}

/// A pair's failures start over after this long without an attempt (`$4`, seconds).
const PAIR_FAILURES: &str = "CASE WHEN t.last_attempt_at < clock_timestamp() - make_interval(secs => $4) \
                             THEN 1 ELSE t.failures + 1 END";

/// The delay after `failures` (`$3` free failures, `$5` first delay, `$6` longest, seconds).
fn delay_after(failures: &str) -> String {
    format!(
        "make_interval(secs => CASE WHEN ({failures}) < $3 THEN 0 \
         ELSE least($5 * power(2, ({failures}) - $3), $6) END)"
    )
}

/// Reserves one login attempt for (`email`, `client`): in one statement, it is refused if
/// the pair must still wait, and otherwise counted as a failure (a success clears it) and
/// the pair's next wait set. Concurrent attempts queue on the pair's row, so a burst gets
/// no more password checks than the policy allows. An e-mail failing from many addresses
/// (over `email_ceiling`) leaves clients that have failed for it no free failure.
pub async fn reserve_login_attempt(
    pool: &PgPool,
    email: &str,
    client: IpAddr,
    policy: &crate::accounts::ThrottlePolicy,
) -> Result<Reservation, sqlx::Error> {
    let window = policy.window.as_secs_f64();
    let recent: i64 = sqlx::query_scalar(
        "SELECT coalesce(sum(failures), 0)::bigint FROM login_attempts
         WHERE email = $1 AND last_attempt_at > clock_timestamp() - make_interval(secs => $2)",
    )
    .bind(email)
    .bind(window)
    .fetch_one(pool)
    .await?;
    let free = if recent >= policy.email_ceiling { 1 } else { policy.free_failures.max(1) };
    let reserve = format!(
        "INSERT INTO login_attempts AS t (email, client_addr, failures, last_attempt_at, next_attempt_at)
         VALUES ($1, $2::inet, 1, clock_timestamp(), clock_timestamp() + {first})
         ON CONFLICT (email, client_addr) DO UPDATE SET
             failures = {PAIR_FAILURES},
             last_attempt_at = clock_timestamp(),
             next_attempt_at = clock_timestamp() + {next}
         WHERE t.next_attempt_at <= clock_timestamp()
         RETURNING failures",
        first = delay_after("1"),
        next = delay_after(PAIR_FAILURES),
    );
    let reserved: Option<i32> = sqlx::query_scalar(&reserve)
        .bind(email)
        .bind(client.to_string())
        .bind(free)
        .bind(window)
        .bind(policy.first_delay.as_secs_f64())
        .bind(policy.max_delay.as_secs_f64())
        .fetch_optional(pool)
        .await?;
    if reserved.is_some() {
        return Ok(Reservation::Reserved);
    }
    let wait: Option<f64> = sqlx::query_scalar(
        "SELECT greatest(extract(epoch FROM next_attempt_at - clock_timestamp()), 0)::float8
         FROM login_attempts WHERE email = $1 AND client_addr = $2::inet",
    )
    .bind(email)
    .bind(client.to_string())
    .fetch_optional(pool)
    .await?;
    let retry_after = std::time::Duration::from_secs_f64(wait.unwrap_or(1.0).ceil().max(1.0));
    Ok(Reservation::Refused { retry_after })
}

/// A successful login clears its pair.
pub async fn clear_login_attempts(pool: &PgPool, email: &str, client: IpAddr) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM login_attempts WHERE email = $1 AND client_addr = $2::inet")
        .bind(email)
        .bind(client.to_string())
        .execute(pool)
        .await?;
    Ok(())
}

/// Forgets pairs quiet for longer than `window` that are not waiting.
pub async fn prune_login_attempts(pool: &PgPool, window: std::time::Duration) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(
        "DELETE FROM login_attempts
         WHERE last_attempt_at < clock_timestamp() - make_interval(secs => $1) AND next_attempt_at < clock_timestamp()",
    )
    .bind(window.as_secs_f64())
    .execute(pool)
    .await?
    .rows_affected())
}

#[derive(Debug, Clone)]
pub struct NewSession<'a> {
    pub user_id: Uuid,
    pub family_id: Uuid,
    pub refresh_token_hash: &'a [u8],
    pub user_agent: Option<&'a str>,
    pub client_addr: Option<IpAddr>,
    pub expires_at: DateTime<Utc>,
}

pub async fn insert_session(pool: &PgPool, session: &NewSession<'_>) -> Result<Uuid, sqlx::Error> {
    let mut conn = pool.acquire().await?;
    insert_session_on(&mut conn, session).await
}

async fn insert_session_on(conn: &mut sqlx::PgConnection, session: &NewSession<'_>) -> Result<Uuid, sqlx::Error> {
    let session_id = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO user_sessions (session_id, user_id, family_id, refresh_token_hash, user_agent, client_addr, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6::inet, $7)",
    )
    .bind(session_id)
    .bind(session.user_id)
    .bind(session.family_id)
    .bind(session.refresh_token_hash)
    .bind(session.user_agent)
    .bind(session.client_addr.map(|a| a.to_string()))
    .bind(session.expires_at)
    .execute(conn)
    .await?;
    Ok(session_id)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rotation {
    /// The old token was live (or had just been exchanged, within the grace): a new one
    /// joins the same family, expiring at `expires_at`.
    Rotated {
        user_id: Uuid,
        family_id: Uuid,
        expires_at: DateTime<Utc>,
    },
    /// The old token had already been exchanged, before the grace: someone replays it, so
    /// the whole family is revoked now.
    Reused {
        user_id: Uuid,
        family_id: Uuid,
    },
    /// The login was ended (logout, or a reuse detected earlier).
    Revoked {
        user_id: Uuid,
    },
    /// The token, or its login's absolute lifetime, has expired.
    Expired {
        user_id: Uuid,
    },
    Unknown,
}

/// The new refresh token of a rotation, and its rules.
#[derive(Debug, Clone)]
pub struct Renewal<'a> {
    pub new_hash: &'a [u8],
    pub user_agent: Option<&'a str>,
    pub client_addr: Option<IpAddr>,
    /// The new token's own expiry, before the login's lifetime caps it.
    pub expires_at: DateTime<Utc>,
    /// How long after its exchange a token may be exchanged again (concurrent refreshes).
    pub grace: std::time::Duration,
    /// How long after the login (its family's first session) any token of it is refreshed.
    pub session_lifetime: std::time::Duration,
}

/// Exchanges the session holding `old_hash` for a new one, atomically: concurrent
/// refreshes with one token queue on its row. A token exchanged within the last
/// `renewal.grace` gets another new token of the same family (two tabs refreshing at once
/// both stay signed in); after that, its use is a replay that revokes the family.
pub async fn rotate_session(pool: &PgPool, old_hash: &[u8], renewal: &Renewal<'_>) -> Result<Rotation, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let row = sqlx::query(
        "SELECT s.session_id, s.user_id, s.family_id, s.replaced_by IS NOT NULL AS spent,
                s.revoked_at IS NOT NULL AS revoked, s.expires_at <= now() AS expired,
                s.revoked_at > now() - make_interval(secs => $2) AS in_grace,
                (SELECT min(f.created_at) FROM user_sessions f WHERE f.family_id = s.family_id)
                    + make_interval(secs => $3) AS family_ends_at,
                EXISTS (SELECT 1 FROM user_sessions f WHERE f.family_id = s.family_id
                        AND f.revoked_at IS NULL AND f.expires_at > now()) AS family_live
         FROM user_sessions s WHERE s.refresh_token_hash = $1 FOR UPDATE OF s",
    )
    .bind(old_hash)
    .bind(renewal.grace.as_secs_f64())
    .bind(renewal.session_lifetime.as_secs_f64())
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = row else { return Ok(Rotation::Unknown) };
    let (session_id, user_id, family_id): (Uuid, Uuid, Uuid) =
        (row.try_get("session_id")?, row.try_get("user_id")?, row.try_get("family_id")?);
    let family_ends_at: DateTime<Utc> = row.try_get("family_ends_at")?;
    let spent: bool = row.try_get("spent")?;
    let in_grace = row.try_get::<Option<bool>, _>("in_grace")?.unwrap_or(false);
    let family_live: bool = row.try_get("family_live")?;
    if spent && !in_grace {
        revoke_family_on(&mut tx, family_id).await?;
        tx.commit().await?;
        return Ok(Rotation::Reused { user_id, family_id });
    }
    if family_ends_at <= Utc::now() || (!spent && row.try_get::<bool, _>("expired")?) {
        return Ok(Rotation::Expired { user_id });
    }
    if (spent && !family_live) || (!spent && row.try_get::<bool, _>("revoked")?) {
        return Ok(Rotation::Revoked { user_id });
    }
    let expires_at = renewal.expires_at.min(family_ends_at);
    let new_session = insert_session_on(
        &mut tx,
        &NewSession {
            user_id,
            family_id,
            refresh_token_hash: renewal.new_hash,
            user_agent: renewal.user_agent,
            client_addr: renewal.client_addr,
            expires_at,
        },
    )
    .await?;
    if !spent {
        sqlx::query(
            "UPDATE user_sessions SET revoked_at = now(), replaced_by = $2, updated_at = now() WHERE session_id = $1",
        )
        .bind(session_id)
        .bind(new_session)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(Rotation::Rotated { user_id, family_id, expires_at })
}

/// Ends sessions that are still live; callers add which (`AND ...`).
const REVOKE_LIVE_SESSIONS: &str =
    "UPDATE user_sessions SET revoked_at = now(), updated_at = now() WHERE revoked_at IS NULL";

async fn revoke_family_on(conn: &mut sqlx::PgConnection, family_id: Uuid) -> Result<u64, sqlx::Error> {
    let revoke = format!("{REVOKE_LIVE_SESSIONS} AND family_id = $1");
    Ok(sqlx::query(&revoke).bind(family_id).execute(conn).await?.rows_affected())
}

/// Revokes the login (family) the refresh token belongs to; its user, if the token is known.
pub async fn revoke_family_of_token(pool: &PgPool, hash: &[u8]) -> Result<Option<(Uuid, Uuid)>, sqlx::Error> {
    let row: Option<(Uuid, Uuid)> =
        sqlx::query_as("SELECT user_id, family_id FROM user_sessions WHERE refresh_token_hash = $1")
            .bind(hash)
            .fetch_optional(pool)
            .await?;
    if let Some((_, family_id)) = row {
        let mut conn = pool.acquire().await?;
        revoke_family_on(&mut conn, family_id).await?;
    }
    Ok(row)
}

/// Revokes the family `family_id` of `user_id`.
pub async fn revoke_family(pool: &PgPool, user_id: Uuid, family_id: Uuid) -> Result<u64, sqlx::Error> {
    let revoke = format!("{REVOKE_LIVE_SESSIONS} AND user_id = $1 AND family_id = $2");
    Ok(sqlx::query(&revoke).bind(user_id).bind(family_id).execute(pool).await?.rows_affected())
}

/// Revokes every session of `user_id` (log out everywhere).
pub async fn revoke_all_sessions(pool: &PgPool, user_id: Uuid) -> Result<u64, sqlx::Error> {
    let mut conn = pool.acquire().await?;
    revoke_all_sessions_on(&mut conn, user_id).await
}

async fn revoke_all_sessions_on(conn: &mut sqlx::PgConnection, user_id: Uuid) -> Result<u64, sqlx::Error> {
    let revoke = format!("{REVOKE_LIVE_SESSIONS} AND user_id = $1");
    Ok(sqlx::query(&revoke).bind(user_id).execute(conn).await?.rows_affected())
}

/// What a request's token stands for, as the database sees it now.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PrincipalRow {
    #[sqlx(flatten)]
    pub user: UserSummary,
    pub permissions: Vec<String>,
    /// Whether the login the token belongs to is still live (not logged out).
    pub session_live: bool,
}

/// One round trip per request: the user, their roles and permissions, and their session.
pub async fn load_principal(
    pool: &PgPool,
    user_id: Uuid,
    family_id: Uuid,
) -> Result<Option<PrincipalRow>, sqlx::Error> {
    let principal = format!(
        "SELECT {USER_SUMMARY_COLUMNS},
            ARRAY(SELECT DISTINCT p.code FROM user_roles ur JOIN permissions p USING (role_id)
                  WHERE ur.user_id = u.user_id ORDER BY p.code) AS permissions,
            EXISTS (SELECT 1 FROM user_sessions s WHERE s.family_id = $2 AND s.user_id = u.user_id
                    AND s.revoked_at IS NULL AND s.expires_at > now()) AS session_live
         FROM users u WHERE u.user_id = $1"
    );
    sqlx::query_as(&principal).bind(user_id).bind(family_id).fetch_optional(pool).await
}

/// Whether `user_id` is assigned to manage `accommodation_id`.
pub async fn is_assigned(pool: &PgPool, user_id: Uuid, accommodation_id: Uuid) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM asset_manager_assignments WHERE user_id = $1 AND accommodation_id = $2)",
    )
    .bind(user_id)
    .bind(accommodation_id)
    .fetch_one(pool)
    .await
}

pub async fn assignments_of(pool: &PgPool, user_id: Uuid) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT accommodation_id FROM asset_manager_assignments WHERE user_id = $1 ORDER BY accommodation_id",
    )
    .bind(user_id)
    .fetch_all(pool)
    .await
}

/// Assigns a property to a manager; `false` when it already was.
pub async fn assign(
    pool: &PgPool,
    user_id: Uuid,
    accommodation_id: Uuid,
    by: Option<Uuid>,
) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query(
        "INSERT INTO asset_manager_assignments (user_id, accommodation_id, assigned_by) VALUES ($1, $2, $3)
         ON CONFLICT (user_id, accommodation_id) DO NOTHING",
    )
    .bind(user_id)
    .bind(accommodation_id)
    .bind(by)
    .execute(pool)
    .await?
    .rows_affected()
        > 0)
}

pub async fn unassign(pool: &PgPool, user_id: Uuid, accommodation_id: Uuid) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query("DELETE FROM asset_manager_assignments WHERE user_id = $1 AND accommodation_id = $2")
        .bind(user_id)
        .bind(accommodation_id)
        .execute(pool)
        .await?
        .rows_affected()
        > 0)
}

/// One line of `user_activity_logs`.
#[derive(Debug, Clone)]
pub struct Activity<'a> {
    pub user_id: Option<Uuid>,
    pub action: &'a str,
    /// `success`, `failure` or `denied`.
    pub outcome: &'a str,
    pub client_addr: Option<IpAddr>,
    pub details: Value,
}

/// Appends one line. The log is best effort (a failed write never fails the request it
/// describes), so the line commits asynchronously: the request does not wait for the disk,
/// and a crash of PostgreSQL itself may lose the last fraction of a second of lines (never
/// corrupt them). `set_config(.., true)` applies to this statement's own transaction only.
pub async fn log_activity(pool: &PgPool, activity: &Activity<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "WITH asynchronous AS (SELECT set_config('synchronous_commit', 'off', true))
         INSERT INTO user_activity_logs (user_id, action, outcome, client_addr, details)
         SELECT $1, $2, $3, $4::inet, $5 FROM asynchronous",
    )
    .bind(activity.user_id)
    .bind(activity.action)
    .bind(activity.outcome)
    .bind(activity.client_addr.map(|a| a.to_string()))
    .bind(&activity.details)
    .execute(pool)
    .await?;
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ActivityRow {
    pub user_id: Option<Uuid>,
    pub action: String,
    pub outcome: String,
    pub client_addr: Option<String>,
    pub details: Value,
    pub created_at: DateTime<Utc>,
}

/// The latest activity of `user_id`, newest first.
pub async fn activity_of(pool: &PgPool, user_id: Uuid, limit: i64) -> Result<Vec<ActivityRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT user_id, action, outcome, host(client_addr) AS client_addr, details, created_at
         FROM user_activity_logs WHERE user_id = $1 ORDER BY created_at DESC, user_activity_log_id DESC LIMIT $2",
    )
    .bind(user_id)
    .bind(limit)
    .fetch_all(pool)
    .await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserSummary {
    pub user_id: Uuid,
    #[sqlx(flatten)]
    pub profile: Profile,
    pub status: String,
    pub created_at: DateTime<Utc>,
}

/// A user as the people who work with them see them: how to reach them, and their roles.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Profile {
    pub email: String,
    pub full_name: String,
    pub phone: Option<String>,
    pub roles: Vec<String>,
}

/// The users `condition` picks, as [`UserSummary`]s.
fn user_summaries(condition: &str) -> String {
    format!("SELECT {USER_SUMMARY_COLUMNS} FROM users u {condition}")
}

/// A [`UserSummary`] of `users u`.
const USER_SUMMARY_COLUMNS: &str = "u.user_id, u.email, u.full_name, u.phone, u.status, u.created_at,
        ARRAY(SELECT r.code FROM user_roles ur JOIN roles r USING (role_id)
              WHERE ur.user_id = u.user_id ORDER BY r.code) AS roles";

/// Users ordered by email, after `after_email` (keyset pagination).
pub async fn list_users(pool: &PgPool, after_email: Option<&str>, limit: i64) -> Result<Vec<UserSummary>, sqlx::Error> {
    sqlx::query_as(&user_summaries("WHERE ($1::text IS NULL OR u.email > $1) ORDER BY u.email LIMIT $2"))
        .bind(after_email)
        .bind(limit)
        .fetch_all(pool)
        .await
}

pub async fn find_user(pool: &PgPool, user_id: Uuid) -> Result<Option<UserSummary>, sqlx::Error> {
    sqlx::query_as(&user_summaries("WHERE u.user_id = $1")).bind(user_id).fetch_optional(pool).await
}

pub async fn find_user_by_email(pool: &PgPool, email: &str) -> Result<Option<UserSummary>, sqlx::Error> {
    sqlx::query_as(&user_summaries("WHERE u.email = $1")).bind(email).fetch_optional(pool).await
}

/// Sets a user's status; disabling also ends every session. `false` for an unknown user.
pub async fn set_status(pool: &PgPool, user_id: Uuid, status: &str) -> Result<bool, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let found = sqlx::query("UPDATE users SET status = $2, updated_at = now() WHERE user_id = $1")
        .bind(user_id)
        .bind(status)
        .execute(&mut *tx)
        .await?
        .rows_affected()
        > 0;
    if found && status != "active" {
        revoke_all_sessions_on(&mut tx, user_id).await?;
    }
    tx.commit().await?;
    Ok(found)
}

/// Deletes a user and (by cascade) their credentials, roles and sessions.
pub async fn delete_user(pool: &PgPool, user_id: Uuid) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query("DELETE FROM users WHERE user_id = $1").bind(user_id).execute(pool).await?.rows_affected() > 0)
}

/// Whether any user holds `role`.
pub async fn role_is_held(pool: &PgPool, role: &str) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM user_roles ur JOIN roles r USING (role_id) WHERE r.code = $1)")
        .bind(role)
        .fetch_one(pool)
        .await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RoleRow {
    pub code: String,
    pub description: String,
    pub permissions: Vec<String>,
}

pub async fn roles(pool: &PgPool) -> Result<Vec<RoleRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT r.code, r.description,
            ARRAY(SELECT p.code FROM permissions p WHERE p.role_id = r.role_id ORDER BY p.code) AS permissions
         FROM roles r ORDER BY r.code",
    )
    .fetch_all(pool)
    .await
}
