//! Every SQL statement of the partner context.

use crate::rate_limit::WindowCount;
use chrono::{DateTime, NaiveDate, Utc};
use contracts::settlement::NewSettlement;
use sqlx::{PgPool, Row};
use std::net::IpAddr;
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("a partner with this code exists")]
    CodeTaken,
    #[error("this key prefix is taken")]
    PrefixTaken,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

fn constraint_of(e: &sqlx::Error) -> Option<&str> {
    match e {
        sqlx::Error::Database(db) => db.constraint(),
        _ => None,
    }
}

// ---------------------------------------------------------------- partners

/// Whether a partner's keys are accepted, as stored in `api_partners.status`
/// (`api_partners_status_known`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::Type)]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum PartnerStatus {
    /// The only status whose keys are accepted.
    Active,
    Suspended,
    /// Also pauses the partner's settlement schedule.
    Closed,
}

impl PartnerStatus {
    pub const ALL: [PartnerStatus; 3] = [PartnerStatus::Active, PartnerStatus::Suspended, PartnerStatus::Closed];

    /// The stored value, also the API's.
    pub fn as_str(self) -> &'static str {
        match self {
            PartnerStatus::Active => "active",
            PartnerStatus::Suspended => "suspended",
            PartnerStatus::Closed => "closed",
        }
    }

    /// The status named `name`, if there is one.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PartnerRow {
    pub partner_id: Uuid,
    pub code: String,
    pub name: String,
    pub contact_email: String,
    pub commission_bp: i32,
    pub settlement_cycle: String,
    pub status: PartnerStatus,
    pub rate_limit_per_minute: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const PARTNER_COLUMNS: &str = "partner_id, code, name, contact_email, commission_bp, settlement_cycle, status,
     rate_limit_per_minute, created_at, updated_at";

#[derive(Debug, Clone)]
pub struct NewPartner<'a> {
    pub code: &'a str,
    pub name: &'a str,
    pub contact_email: &'a str,
    pub commission_bp: i32,
    pub settlement_cycle: &'a str,
    pub status: PartnerStatus,
    pub rate_limit_per_minute: i32,
}

pub async fn create_partner(pool: &PgPool, partner: &NewPartner<'_>) -> Result<PartnerRow, StoreError> {
    let created = sqlx::query_as(&format!(
        "INSERT INTO api_partners (partner_id, code, name, contact_email, commission_bp, settlement_cycle, status,
                                   rate_limit_per_minute)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {PARTNER_COLUMNS}"
    ))
    .bind(Uuid::new_v4())
    .bind(partner.code)
    .bind(partner.name)
    .bind(partner.contact_email)
    .bind(partner.commission_bp)
    .bind(partner.settlement_cycle)
    .bind(partner.status)
    .bind(partner.rate_limit_per_minute)
    .fetch_one(pool)
    .await;
    match created {
        Err(e) if constraint_of(&e) == Some("api_partners_code_key") => Err(StoreError::CodeTaken),
        other => Ok(other?),
    }
}

pub async fn find_partner_by_code(pool: &PgPool, code: &str) -> Result<Option<PartnerRow>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {PARTNER_COLUMNS} FROM api_partners WHERE code = $1"))
        .bind(code)
        .fetch_optional(pool)
        .await
}

pub async fn find_partner(pool: &PgPool, partner_id: Uuid) -> Result<Option<PartnerRow>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {PARTNER_COLUMNS} FROM api_partners WHERE partner_id = $1"))
        .bind(partner_id)
        .fetch_optional(pool)
        .await
}

/// Partners in code order, after `after_code`.
pub async fn list_partners(
    pool: &PgPool,
    after_code: Option<&str>,
    limit: i64,
) -> Result<Vec<PartnerRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {PARTNER_COLUMNS} FROM api_partners WHERE ($1::text IS NULL OR code > $1) ORDER BY code LIMIT $2"
    ))
    .bind(after_code)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// Every partner, for the settlement schedules.
pub async fn all_partners(pool: &PgPool) -> Result<Vec<PartnerRow>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {PARTNER_COLUMNS} FROM api_partners ORDER BY code")).fetch_all(pool).await
}

/// Fields to change; `None` keeps the current value.
#[derive(Debug, Clone, Default)]
pub struct PartnerChanges<'a> {
    pub name: Option<&'a str>,
    pub contact_email: Option<&'a str>,
    pub commission_bp: Option<i32>,
    pub settlement_cycle: Option<&'a str>,
    pub status: Option<PartnerStatus>,
    pub rate_limit_per_minute: Option<i32>,
}

pub async fn update_partner(
    pool: &PgPool,
    code: &str,
    changes: &PartnerChanges<'_>,
) -> Result<Option<PartnerRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "UPDATE api_partners SET
             name = COALESCE($2, name), contact_email = COALESCE($3, contact_email),
             commission_bp = COALESCE($4, commission_bp), settlement_cycle = COALESCE($5, settlement_cycle),
             status = COALESCE($6, status), rate_limit_per_minute = COALESCE($7, rate_limit_per_minute),
             updated_at = now()
         WHERE code = $1 RETURNING {PARTNER_COLUMNS}"
    ))
    .bind(code)
    .bind(changes.name)
    .bind(changes.contact_email)
    .bind(changes.commission_bp)
    .bind(changes.settlement_cycle)
    .bind(changes.status)
    .bind(changes.rate_limit_per_minute)
    .fetch_optional(pool)
    .await
}

// ---------------------------------------------------------------- API keys

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CredentialRow {
    pub api_credential_id: Uuid,
    pub partner_id: Uuid,
    pub key_prefix: String,
    pub label: Option<String>,
    pub rate_limit_per_minute: Option<i32>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub replaced_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    /// Neither revoked nor past its expiry, by the database's clock.
    pub active: bool,
}

const CREDENTIAL_COLUMNS: &str = "api_credential_id, partner_id, key_prefix, label, rate_limit_per_minute,
     expires_at, revoked_at, last_used_at, replaced_by, created_at,
     (revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())) AS active";

#[derive(Debug, Clone)]
pub struct NewCredential<'a> {
    pub partner_id: Uuid,
    pub key_prefix: &'a str,
    pub key_hash: &'a [u8],
    pub label: Option<&'a str>,
    pub rate_limit_per_minute: Option<i32>,
    pub expires_at: Option<DateTime<Utc>>,
}

async fn insert_credential_in(
    conn: &mut sqlx::PgConnection,
    key: &NewCredential<'_>,
) -> Result<CredentialRow, StoreError> {
    let inserted = sqlx::query_as(&format!(
        "INSERT INTO api_credentials (api_credential_id, partner_id, key_prefix, key_hash, label,
                                      rate_limit_per_minute, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {CREDENTIAL_COLUMNS}"
    ))
    .bind(Uuid::new_v4())
    .bind(key.partner_id)
    .bind(key.key_prefix)
    .bind(key.key_hash)
    .bind(key.label)
    .bind(key.rate_limit_per_minute)
    .bind(key.expires_at)
    .fetch_one(&mut *conn)
    .await;
    match inserted {
        Err(e) if constraint_of(&e) == Some("api_credentials_key_prefix_key") => Err(StoreError::PrefixTaken),
        other => Ok(other?),
    }
}

pub async fn insert_credential(pool: &PgPool, key: &NewCredential<'_>) -> Result<CredentialRow, StoreError> {
    let mut conn = pool.acquire().await?;
    insert_credential_in(&mut conn, key).await
}

pub async fn credentials_of(pool: &PgPool, partner_id: Uuid) -> Result<Vec<CredentialRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {CREDENTIAL_COLUMNS} FROM api_credentials WHERE partner_id = $1 ORDER BY created_at DESC, key_prefix"
    ))
    .bind(partner_id)
    .fetch_all(pool)
    .await
}

#[derive(Debug)]
pub enum Rotation {
    Rotated {
        old: CredentialRow,
        new: CredentialRow,
    },
    /// No such key of this partner.
    NotFound,
    /// The key is revoked or expired already: there is nothing to hand over from.
    NotActive(CredentialRow),
}

/// Issues `replacement` and lets the key `old_prefix` expire `grace` from now (or earlier, if
/// it was to expire before that), in one transaction.
pub async fn rotate_credential(
    pool: &PgPool,
    partner_id: Uuid,
    old_prefix: &str,
    replacement: &NewCredential<'_>,
    grace: std::time::Duration,
) -> Result<Rotation, StoreError> {
    let mut tx = pool.begin().await?;
    let old: Option<CredentialRow> = sqlx::query_as(&format!(
        "SELECT {CREDENTIAL_COLUMNS} FROM api_credentials WHERE partner_id = $1 AND key_prefix = $2 FOR UPDATE"
    ))
    .bind(partner_id)
    .bind(old_prefix)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(old) = old else { return Ok(Rotation::NotFound) };
    if !old.active {
        return Ok(Rotation::NotActive(old));
    }
    let new = insert_credential_in(&mut tx, replacement).await?;
    let old: CredentialRow = sqlx::query_as(&format!(
        "UPDATE api_credentials SET expires_at = LEAST(COALESCE(expires_at, 'infinity'), now() + $2),
                replaced_by = $3, updated_at = now()
         WHERE api_credential_id = $1 RETURNING {CREDENTIAL_COLUMNS}"
    ))
    .bind(old.api_credential_id)
    .bind(grace)
    .bind(new.api_credential_id)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Rotation::Rotated { old, new })
}

/// Revokes a key at once (a second revoke keeps the first time); `None` if there is no such key.
pub async fn revoke_credential(
    pool: &PgPool,
    partner_id: Uuid,
    prefix: &str,
) -> Result<Option<CredentialRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "UPDATE api_credentials SET revoked_at = COALESCE(revoked_at, now()), updated_at = now()
         WHERE partner_id = $1 AND key_prefix = $2 RETURNING {CREDENTIAL_COLUMNS}"
    ))
    .bind(partner_id)
    .bind(prefix)
    .fetch_optional(pool)
    .await
}

/// A key found by its prefix, with its partner, as a request presents it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct KeyLookup {
    pub api_credential_id: Uuid,
    pub key_hash: Vec<u8>,
    pub revoked: bool,
    pub expired: bool,
    pub key_rate_limit: Option<i32>,
    pub partner_id: Uuid,
    pub partner_code: String,
    pub partner_status: PartnerStatus,
    pub partner_rate_limit: i32,
}

pub async fn key_for_request(pool: &PgPool, prefix: &str) -> Result<Option<KeyLookup>, sqlx::Error> {
    sqlx::query_as(
        "SELECT c.api_credential_id, c.key_hash, c.revoked_at IS NOT NULL AS revoked,
                (c.expires_at IS NOT NULL AND c.expires_at <= now()) AS expired,
                c.rate_limit_per_minute AS key_rate_limit, p.partner_id, p.code AS partner_code,
                p.status AS partner_status, p.rate_limit_per_minute AS partner_rate_limit
         FROM api_credentials c JOIN api_partners p USING (partner_id) WHERE c.key_prefix = $1",
    )
    .bind(prefix)
    .fetch_optional(pool)
    .await
}

// ---------------------------------------------------------------- rate limits

/// Adds one hit to each of `subjects` in the current minute, in one statement, and returns
/// each counter with the previous minute's. Subjects are locked in sorted order, so
/// concurrent requests on several replicas queue rather than deadlock.
pub async fn count_hits(pool: &PgPool, subjects: &[String]) -> Result<Vec<(String, WindowCount)>, sqlx::Error> {
    let mut sorted = subjects.to_vec();
    sorted.sort();
    sorted.dedup();
    let rows = sqlx::query(
        "WITH hit AS (
             INSERT INTO api_rate_windows AS w (subject, window_start, hits)
             SELECT s, date_trunc('minute', now()), 1 FROM unnest($1::text[]) WITH ORDINALITY AS t (s, n) ORDER BY n
             ON CONFLICT (subject, window_start) DO UPDATE SET hits = w.hits + 1
             RETURNING subject, hits, window_start
         )
         SELECT hit.subject, hit.hits::bigint AS hits, COALESCE(prev.hits, 0)::bigint AS previous,
                extract(epoch FROM now() - hit.window_start)::float8 AS elapsed
         FROM hit LEFT JOIN api_rate_windows prev
           ON prev.subject = hit.subject AND prev.window_start = hit.window_start - interval '1 minute'",
    )
    .bind(&sorted)
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok((
                r.try_get("subject")?,
                WindowCount {
                    current: r.try_get("hits")?,
                    previous: r.try_get("previous")?,
                    elapsed_secs: r.try_get("elapsed")?,
                },
            ))
        })
        .collect()
}

/// Drops counters no window looks at any more.
pub async fn delete_old_windows(pool: &PgPool) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query("DELETE FROM api_rate_windows WHERE window_start < now() - interval '2 minutes'")
        .execute(pool)
        .await?
        .rows_affected())
}

// ---------------------------------------------------------------- access logs

/// Who sent a request to the partner API, as far as its key told.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyIdentity {
    pub partner_id: Option<Uuid>,
    pub key_prefix: Option<String>,
    /// The key was valid: its `last_used_at` moves.
    pub authenticated: bool,
}

/// One request to the partner API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessLogEntry {
    pub caller: KeyIdentity,
    pub method: String,
    /// The route template (`/api/partners/v1/bookings/{booking_ref}`), never the raw path.
    pub route: String,
    pub status: u16,
    pub latency_ms: u32,
    pub client_addr: Option<IpAddr>,
    pub at: DateTime<Utc>,
}

/// Writes a batch of access log entries with one INSERT, and moves the `last_used_at` of the
/// keys that authenticated with one UPDATE.
pub async fn insert_access_logs(pool: &PgPool, entries: &[AccessLogEntry]) -> Result<(), sqlx::Error> {
    if entries.is_empty() {
        return Ok(());
    }
    let mut partner_ids = Vec::with_capacity(entries.len());
    let mut prefixes = Vec::with_capacity(entries.len());
    let mut methods = Vec::with_capacity(entries.len());
    let mut routes = Vec::with_capacity(entries.len());
    let mut statuses = Vec::with_capacity(entries.len());
    let mut latencies = Vec::with_capacity(entries.len());
    let mut addrs = Vec::with_capacity(entries.len());
    let mut times = Vec::with_capacity(entries.len());
    let mut used: std::collections::BTreeMap<&str, DateTime<Utc>> = Default::default();
    for e in entries {
        partner_ids.push(e.caller.partner_id);
        prefixes.push(e.caller.key_prefix.clone());
        methods.push(e.method.clone());
        routes.push(e.route.clone());
        statuses.push(i32::from(e.status));
        latencies.push(i32::try_from(e.latency_ms).unwrap_or(i32::MAX));
        addrs.push(e.client_addr.map(|a| a.to_string()));
        times.push(e.at);
        if let (true, Some(prefix)) = (e.caller.authenticated, e.caller.key_prefix.as_deref()) {
            let last = used.entry(prefix).or_insert(e.at);
            *last = (*last).max(e.at);
        }
    }
    let mut tx = pool.begin().await?;
    sqlx::query(
        "INSERT INTO api_access_logs (partner_id, key_prefix, method, route, status, latency_ms, client_addr, created_at)
         SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::int[], $6::int[], $7::inet[],
                              $8::timestamptz[])",
    )
    .bind(&partner_ids)
    .bind(&prefixes)
    .bind(&methods)
    .bind(&routes)
    .bind(&statuses)
    .bind(&latencies)
    .bind(&addrs)
    .bind(&times)
    .execute(&mut *tx)
    .await?;
    if !used.is_empty() {
        let (used_prefixes, used_at): (Vec<&str>, Vec<DateTime<Utc>>) = used.into_iter().unzip();
        sqlx::query(
            "UPDATE api_credentials c SET last_used_at = u.at
             FROM unnest($1::text[], $2::timestamptz[]) AS u (prefix, at)
             WHERE c.key_prefix = u.prefix AND (c.last_used_at IS NULL OR c.last_used_at < u.at)",
        )
        .bind(&used_prefixes)
        .bind(&used_at)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

// ---------------------------------------------------------------- settlements

/// Where a settlement stands, as stored in `partner_settlements.status`
/// (`partner_settlements_status_known`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::Type)]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum SettlementStatus {
    /// Written by the settlement workflow; nobody has looked at it yet.
    Computed,
    Approved,
    Paid,
}

impl SettlementStatus {
    /// The stored value, also the API's and the statement's.
    pub fn as_str(self) -> &'static str {
        match self {
            SettlementStatus::Computed => "computed",
            SettlementStatus::Approved => "approved",
            SettlementStatus::Paid => "paid",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SettlementRow {
    pub partner_settlement_id: Uuid,
    pub partner_id: Uuid,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub bookings_count: i32,
    pub refunds_count: i32,
    pub commission_bp: i32,
    pub collected_paise: i64,
    pub refunded_paise: i64,
    pub commission_paise: i64,
    pub tds_paise: i64,
    pub payout_paise: i64,
    pub currency: String,
    pub status: SettlementStatus,
    pub created_at: DateTime<Utc>,
    /// An admin's signed correction of the payout, with its reason and author.
    pub adjustment_paise: i64,
    pub adjustment_reason: Option<String>,
    pub changed_by: Option<Uuid>,
    pub approved_by: Option<Uuid>,
    pub approved_at: Option<DateTime<Utc>>,
    /// The gateway's payout that paid it, and the bank's reference.
    pub payout_id: Option<String>,
    pub payout_utr: Option<String>,
    pub paid_at: Option<DateTime<Utc>>,
    pub payout_attempts: i32,
    /// Why the last payout was turned back, while it stays unpaid.
    pub payout_failure: Option<String>,
}

const SETTLEMENT_COLUMNS: &str = "partner_settlement_id, partner_id, period_start, period_end, bookings_count,
     refunds_count, commission_bp, collected_paise, refunded_paise, commission_paise, tds_paise, payout_paise,
     currency, status, created_at, adjustment_paise, adjustment_reason, changed_by, approved_by, approved_at,
     payout_id, payout_utr, paid_at, payout_attempts, payout_failure";

#[derive(Debug)]
pub enum SettlementWrite {
    /// Written now.
    Created(SettlementRow),
    /// This partner and period were settled before: the stored row, unchanged.
    Existing(SettlementRow),
    /// Another settlement of this partner covers some of the same days (the cycle changed).
    Overlaps(SettlementRow),
    NoSuchPartner,
}

/// A settlement of `s`'s partner whose period meets `condition`, in which `$2` and `$3` are
/// the start and the end of `s`'s period.
async fn settlement_where(
    conn: &mut sqlx::PgConnection,
    s: &NewSettlement,
    condition: &str,
) -> Result<Option<SettlementRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {SETTLEMENT_COLUMNS} FROM partner_settlements WHERE partner_id = $1 AND {condition} LIMIT 1"
    ))
    .bind(s.partner_id)
    .bind(s.period.start)
    .bind(s.period.end)
    .fetch_optional(conn)
    .await
}

/// Writes one partner's settlement of one period, once. The partner's row is locked so two
/// runs of the same or overlapping periods cannot both write.
pub async fn record_settlement(pool: &PgPool, s: &NewSettlement) -> Result<SettlementWrite, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let exists: Option<Uuid> =
        sqlx::query_scalar("SELECT partner_id FROM api_partners WHERE partner_id = $1 FOR UPDATE")
            .bind(s.partner_id)
            .fetch_optional(&mut *tx)
            .await?;
    if exists.is_none() {
        return Ok(SettlementWrite::NoSuchPartner);
    }
    if let Some(row) = settlement_where(&mut tx, s, "period_start = $2 AND period_end = $3").await? {
        return Ok(SettlementWrite::Existing(row));
    }
    if let Some(row) = settlement_where(&mut tx, s, "period_start < $3 AND period_end > $2").await? {
        return Ok(SettlementWrite::Overlaps(row));
    }
    let f = &s.figures;
    let row: Option<SettlementRow> = sqlx::query_as(&format!(
        "INSERT INTO partner_settlements (partner_settlement_id, partner_id, period_start, period_end, bookings_count,
             refunds_count, commission_bp, collected_paise, refunded_paise, commission_paise, tds_paise, payout_paise)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
         ON CONFLICT (partner_id, period_start, period_end) DO NOTHING
         RETURNING {SETTLEMENT_COLUMNS}"
    ))
    .bind(Uuid::new_v4())
    .bind(s.partner_id)
    .bind(s.period.start)
    .bind(s.period.end)
    .bind(i32::try_from(s.bookings).unwrap_or(i32::MAX))
    .bind(i32::try_from(s.refunds).unwrap_or(i32::MAX))
    .bind(i32::try_from(s.commission_bp).unwrap_or(i32::MAX))
    .bind(f.collected)
    .bind(f.refunded)
    .bind(f.commission)
    .bind(f.tds)
    .bind(f.payout)
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    match row {
        Some(row) => Ok(SettlementWrite::Created(row)),
        // Unreachable while the partner row is locked, but the answer stays right without it.
        None => {
            let row = find_settlement(pool, s.partner_id, s.period.start).await?.ok_or(sqlx::Error::RowNotFound)?;
            Ok(SettlementWrite::Existing(row))
        }
    }
}

pub async fn find_settlement(
    pool: &PgPool,
    partner_id: Uuid,
    period_start: NaiveDate,
) -> Result<Option<SettlementRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {SETTLEMENT_COLUMNS} FROM partner_settlements WHERE partner_id = $1 AND period_start = $2
         ORDER BY period_end LIMIT 1"
    ))
    .bind(partner_id)
    .bind(period_start)
    .fetch_optional(pool)
    .await
}

/// A partner's settlements whose period starts in `[from, to)`, newest first.
pub async fn settlements_of(
    pool: &PgPool,
    partner_id: Uuid,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    limit: i64,
) -> Result<Vec<SettlementRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {SETTLEMENT_COLUMNS} FROM partner_settlements
         WHERE partner_id = $1 AND ($2::date IS NULL OR period_start >= $2) AND ($3::date IS NULL OR period_start < $3)
         ORDER BY period_start DESC LIMIT $4"
    ))
    .bind(partner_id)
    .bind(from)
    .bind(to)
    .bind(limit)
    .fetch_all(pool)
    .await
}

// ---------------------------------------------------------------- approval and payout

/// How a change to a settlement was met.
#[derive(Debug)]
pub enum SettlementChange {
    Done(SettlementRow),
    NotFound,
    /// Not in the status the change needs (approved or paid already, or not approved yet).
    WrongStatus(SettlementRow),
    /// The approver adjusted it: another admin must approve.
    ApproverChangedIt(SettlementRow),
}

async fn settlement_change(
    pool: &PgPool,
    partner_id: Uuid,
    period_start: NaiveDate,
    updated: Option<SettlementRow>,
    refused: impl FnOnce(SettlementRow) -> SettlementChange,
) -> Result<SettlementChange, sqlx::Error> {
    Ok(match updated {
        Some(row) => SettlementChange::Done(row),
        None => match find_settlement(pool, partner_id, period_start).await? {
            Some(row) => refused(row),
            None => SettlementChange::NotFound,
        },
    })
}

/// Corrects a computed settlement's payout by `adjustment_paise` (replacing an earlier
/// adjustment), recording who changed it and why.
pub async fn adjust_settlement(
    pool: &PgPool,
    partner_id: Uuid,
    period_start: NaiveDate,
    adjustment_paise: i64,
    reason: &str,
    by: Uuid,
) -> Result<SettlementChange, sqlx::Error> {
    let updated = sqlx::query_as(&format!(
        "UPDATE partner_settlements SET adjustment_paise = $3, adjustment_reason = $4, changed_by = $5,
             payout_paise = commission_paise - tds_paise + $3, updated_at = now()
         WHERE partner_id = $1 AND period_start = $2 AND status = 'computed' RETURNING {SETTLEMENT_COLUMNS}"
    ))
    .bind(partner_id)
    .bind(period_start)
    .bind(adjustment_paise)
    .bind(reason)
    .bind(by)
    .fetch_optional(pool)
    .await?;
    settlement_change(pool, partner_id, period_start, updated, SettlementChange::WrongStatus).await
}

/// Approves a computed settlement for payment, unless `by` adjusted it.
pub async fn approve_settlement(
    pool: &PgPool,
    partner_id: Uuid,
    period_start: NaiveDate,
    by: Uuid,
) -> Result<SettlementChange, sqlx::Error> {
    let updated = sqlx::query_as(&format!(
        "UPDATE partner_settlements SET status = 'approved', approved_by = $3, approved_at = now(), updated_at = now()
         WHERE partner_id = $1 AND period_start = $2 AND status = 'computed' AND changed_by IS DISTINCT FROM $3
         RETURNING {SETTLEMENT_COLUMNS}"
    ))
    .bind(partner_id)
    .bind(period_start)
    .bind(by)
    .fetch_optional(pool)
    .await?;
    settlement_change(pool, partner_id, period_start, updated, |row| {
        if row.status == SettlementStatus::Computed {
            SettlementChange::ApproverChangedIt(row)
        } else {
            SettlementChange::WrongStatus(row)
        }
    })
    .await
}

/// A partner's bank account for payouts.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PayoutAccountRow {
    pub payout_account_name: String,
    pub payout_ifsc: String,
    pub payout_account_number: String,
}

/// Sets (replaces) the bank account a partner is paid to; false when there is no such
/// partner.
pub async fn set_payout_account(pool: &PgPool, code: &str, account: &PayoutAccountRow) -> Result<bool, sqlx::Error> {
    let updated = sqlx::query(
        "UPDATE api_partners SET payout_account_name = $2, payout_ifsc = $3, payout_account_number = $4,
             updated_at = now()
         WHERE code = $1",
    )
    .bind(code)
    .bind(&account.payout_account_name)
    .bind(&account.payout_ifsc)
    .bind(&account.payout_account_number)
    .execute(pool)
    .await?;
    Ok(updated.rows_affected() == 1)
}

pub async fn payout_account_of(pool: &PgPool, partner_id: Uuid) -> Result<Option<PayoutAccountRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT payout_account_name, payout_ifsc, payout_account_number FROM api_partners
         WHERE partner_id = $1 AND payout_ifsc IS NOT NULL",
    )
    .bind(partner_id)
    .fetch_optional(pool)
    .await
}

pub async fn settlement_by_id(pool: &PgPool, settlement_id: Uuid) -> Result<Option<SettlementRow>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {SETTLEMENT_COLUMNS} FROM partner_settlements WHERE partner_settlement_id = $1"))
        .bind(settlement_id)
        .fetch_optional(pool)
        .await
}

/// Records how the settlement's `attempt`-th payout ended: paid (once; a paid settlement is
/// never changed again) or turned back with its reason. Safe to repeat.
pub async fn record_payout(
    pool: &PgPool,
    settlement_id: Uuid,
    attempt: i32,
    payout_id: &str,
    paid: bool,
    utr: Option<&str>,
    failure: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE partner_settlements SET
             payout_attempts = GREATEST(payout_attempts, $2),
             status = CASE WHEN $4 THEN 'paid' ELSE status END,
             payout_id = CASE WHEN $4 THEN $3 ELSE payout_id END,
             payout_utr = CASE WHEN $4 THEN $5 ELSE payout_utr END,
             paid_at = CASE WHEN $4 THEN now() ELSE paid_at END,
             payout_failure = CASE WHEN $4 THEN NULL ELSE $6 END,
             updated_at = now()
         WHERE partner_settlement_id = $1 AND status = 'approved'",
    )
    .bind(settlement_id)
    .bind(attempt)
    .bind(payout_id)
    .bind(paid)
    .bind(utr)
    .bind(failure)
    .execute(pool)
    .await?;
    Ok(())
}

/// One line of a partner's access log as read back.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AccessLogLine {
    pub api_access_log_id: i64,
    pub key_prefix: Option<String>,
    pub method: String,
    pub route: String,
    pub status: i32,
    pub latency_ms: i32,
    pub created_at: DateTime<Utc>,
}

/// Which lines of an access log to read: a time range `[from, to)`, one route template,
/// one status code; absent means any.
#[derive(Debug, Clone, Default)]
pub struct AccessLogFilter {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub route: Option<String>,
    pub status: Option<i32>,
}

/// Up to `limit` of a partner's access log lines, newest first, after the line `after`
/// (its time and id, the page's keyset) when given.
pub async fn access_log_of(
    pool: &PgPool,
    partner_id: Uuid,
    filter: &AccessLogFilter,
    after: Option<(DateTime<Utc>, i64)>,
    limit: i64,
) -> Result<Vec<AccessLogLine>, sqlx::Error> {
    sqlx::query_as(
        "SELECT api_access_log_id, key_prefix, method, route, status, latency_ms, created_at
         FROM api_access_logs
         WHERE partner_id = $1
           AND ($2::timestamptz IS NULL OR created_at >= $2)
           AND ($3::timestamptz IS NULL OR created_at < $3)
           AND ($4::text IS NULL OR route = $4)
           AND ($5::integer IS NULL OR status = $5)
           AND ($6::timestamptz IS NULL OR (created_at, api_access_log_id) < ($6, $7))
         ORDER BY created_at DESC, api_access_log_id DESC
         LIMIT $8",
    )
    .bind(partner_id)
    .bind(filter.from)
    .bind(filter.to)
    .bind(filter.route.as_deref())
    .bind(filter.status)
    .bind(after.map(|(at, _)| at))
    .bind(after.map(|(_, id)| id))
    .bind(limit)
    .fetch_all(pool)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::Connection;
    use std::collections::BTreeSet;

    const SETTLEMENT_STATUSES: [SettlementStatus; 3] =
        [SettlementStatus::Computed, SettlementStatus::Approved, SettlementStatus::Paid];

    /// The values the CHECK constraint `name` allows.
    fn allowed_by(name: &str) -> BTreeSet<&'static str> {
        let migrations: &'static str = include_str!("../../../migrations/partner/0001_partner_schema.sql");
        let definition = &migrations[migrations.rfind(&format!("{name} CHECK")).expect("the constraint exists")..];
        let definition = &definition[..definition.find("))").expect("the constraint ends")];
        definition.split('\'').skip(1).step_by(2).collect()
    }

    #[test]
    fn every_stored_value_is_one_the_database_allows() {
        assert_eq!(
            BTreeSet::from(PartnerStatus::ALL.map(PartnerStatus::as_str)),
            allowed_by("api_partners_status_known")
        );
        assert_eq!(
            BTreeSet::from(SETTLEMENT_STATUSES.map(SettlementStatus::as_str)),
            allowed_by("partner_settlements_status_known")
        );
    }

    /// Needs the PostgreSQL server of the end-to-end tests (`TT_TEST_DATABASE_URL`).
    #[tokio::test]
    async fn statuses_are_text_in_the_database() {
        let url = std::env::var("TT_TEST_DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
        let mut conn = sqlx::PgConnection::connect(&url).await.expect("the test database server answers");
        for status in SETTLEMENT_STATUSES {
            let stored: String = sqlx::query_scalar("SELECT $1").bind(status).fetch_one(&mut conn).await.unwrap();
            assert_eq!(stored, status.as_str());
            let read: SettlementStatus =
                sqlx::query_scalar("SELECT $1::text").bind(status.as_str()).fetch_one(&mut conn).await.unwrap();
            assert_eq!(read, status);
        }
        for status in PartnerStatus::ALL {
            let read: PartnerStatus = sqlx::query_scalar("SELECT $1").bind(status).fetch_one(&mut conn).await.unwrap();
            assert_eq!(read, status);
        }
        let unknown = sqlx::query_scalar::<_, SettlementStatus>("SELECT 'settled'::text").fetch_one(&mut conn).await;
        assert!(unknown.is_err(), "a value the enum does not know is an error, not a guess");
    }
}
