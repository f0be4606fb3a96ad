//! Onboarding partners, issuing, rotating and revoking their API keys, authenticating a
//! request's key and counting it against the rate limits: the partner context's behaviour
//! over its store.

use crate::{
    keys,
    store::{
        self, CredentialRow, NewCredential, PartnerChanges, PartnerRow, PartnerStatus, PayoutAccountRow, Rotation,
        SettlementChange, SettlementRow, SettlementStatus, StoreError,
    },
    unauthenticated::UnauthenticatedBudget,
};
use chrono::{DateTime, NaiveDate, Utc};
use contracts::settlement::SettlementCycle;
use sqlx::PgPool;
use std::{sync::Arc, time::Duration};
use uuid::Uuid;

/// The partner's limit when onboarding names none.
pub const DEFAULT_RATE_LIMIT_PER_MINUTE: i32 = 600;
pub const MAX_RATE_LIMIT_PER_MINUTE: i32 = 100_000;
/// The longest a rotated key keeps working beside its replacement.
pub const MAX_GRACE: Duration = Duration::from_secs(30 * 24 * 3600);

#[derive(Debug, thiserror::Error)]
pub enum PartnerError {
    #[error("{message}")]
    Invalid { field: &'static str, message: String },
    #[error("a partner with code `{0}` exists")]
    CodeTaken(String),
    #[error("no partner `{0}`")]
    PartnerNotFound(String),
    #[error("partner `{partner}` has no key `{prefix}`")]
    KeyNotFound { partner: String, prefix: String },
    #[error("key `{0}` is revoked or expired; issue a new key instead")]
    KeyNotActive(String),
    #[error("partner `{partner}` has no settlement starting {period_start}")]
    SettlementNotFound { partner: String, period_start: NaiveDate },
    #[error("the settlement is {status}; this needs it {needed}")]
    SettlementStatus { status: &'static str, needed: &'static str },
    #[error("the settlement was adjusted by this admin; another admin approves it")]
    ApproverChangedIt,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

fn invalid(field: &'static str, message: impl Into<String>) -> PartnerError {
    PartnerError::Invalid { field, message: message.into() }
}

impl From<StoreError> for PartnerError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Database(e) => PartnerError::Database(e),
            // Both are retried or reported by the callers before they get here.
            StoreError::CodeTaken => invalid("code", "a partner with this code exists"),
            StoreError::PrefixTaken => PartnerError::Database(sqlx::Error::Protocol("key prefix collision".into())),
        }
    }
}

/// What onboarding asks for.
#[derive(Debug, Clone)]
pub struct Onboarding<'a> {
    pub code: &'a str,
    pub name: &'a str,
    pub contact_email: &'a str,
    pub commission_bp: i64,
    pub settlement_cycle: Option<&'a str>,
    pub status: Option<&'a str>,
    pub rate_limit_per_minute: Option<i64>,
}

/// Changes to a partner; `None` keeps a field.
#[derive(Debug, Clone, Default)]
pub struct Changes<'a> {
    pub name: Option<&'a str>,
    pub contact_email: Option<&'a str>,
    pub commission_bp: Option<i64>,
    pub settlement_cycle: Option<&'a str>,
    pub status: Option<&'a str>,
    pub rate_limit_per_minute: Option<i64>,
}

/// A key as issued: `key` is shown to the partner this once.
#[derive(Debug, Clone)]
pub struct IssuedKey {
    pub key: String,
    pub credential: CredentialRow,
}

/// The partner behind a request whose key was accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartnerCaller {
    pub partner_id: Uuid,
    pub partner_code: String,
    pub credential_id: Uuid,
    pub key_prefix: String,
    pub key_rate_limit: i32,
    pub partner_rate_limit: i32,
}

/// Why a presented key was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyRejection {
    #[error("send the API key as `Authorization: Bearer <key>` or `X-Api-Key: <key>`")]
    Missing,
    #[error("the API key is not valid")]
    Invalid {
        /// The visible prefix, when the key had the right shape (for the access log).
        prefix: Option<String>,
    },
    #[error("the API key was revoked")]
    Revoked { prefix: String, partner_id: Uuid },
    #[error("the API key has expired")]
    Expired { prefix: String, partner_id: Uuid },
    #[error("the partner account is {}", status.as_str())]
    PartnerInactive { prefix: String, partner_id: Uuid, status: PartnerStatus },
}

/// Which limit a request went over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimited {
    pub scope: &'static str,
    pub limit: i32,
    pub retry_after: Duration,
}

#[derive(Clone, Debug)]
pub struct Partners {
    pool: PgPool,
    /// Failed authentications per client address (this process's count).
    unauthenticated: Arc<UnauthenticatedBudget>,
}

impl Partners {
    pub fn new(pool: PgPool) -> Self {
        Partners { pool, unauthenticated: Arc::new(UnauthenticatedBudget::default()) }
    }

    /// What requests without a valid key may still cost, per client address.
    pub fn unauthenticated(&self) -> &UnauthenticatedBudget {
        &self.unauthenticated
    }

    pub async fn onboard(&self, o: &Onboarding<'_>) -> Result<PartnerRow, PartnerError> {
        let code = o.code.trim();
        if !valid_code(code) {
            return Err(invalid(
                "code",
                "The code is 3 to 40 lowercase letters, digits and dashes, starting with a letter",
            ));
        }
        let name = valid_name(o.name)?;
        let email = valid_email(o.contact_email)?;
        let cycle = match o.settlement_cycle {
            Some(c) => valid_cycle(c)?,
            None => SettlementCycle::Weekly,
        };
        let partner = store::NewPartner {
            code,
            name: &name,
            contact_email: &email,
            commission_bp: valid_commission(o.commission_bp)?,
            settlement_cycle: cycle.as_str(),
            status: o.status.map_or(Ok(PartnerStatus::Active), valid_status)?,
            rate_limit_per_minute: o.rate_limit_per_minute.map_or(Ok(DEFAULT_RATE_LIMIT_PER_MINUTE), valid_rate)?,
        };
        match store::create_partner(&self.pool, &partner).await {
            Err(StoreError::CodeTaken) => Err(PartnerError::CodeTaken(code.to_string())),
            other => Ok(other?),
        }
    }

    pub async fn update(&self, code: &str, c: &Changes<'_>) -> Result<PartnerRow, PartnerError> {
        let name = c.name.map(valid_name).transpose()?;
        let email = c.contact_email.map(valid_email).transpose()?;
        let changes = PartnerChanges {
            name: name.as_deref(),
            contact_email: email.as_deref(),
            commission_bp: c.commission_bp.map(valid_commission).transpose()?,
            settlement_cycle: c.settlement_cycle.map(valid_cycle).transpose()?.map(SettlementCycle::as_str),
            status: c.status.map(valid_status).transpose()?,
            rate_limit_per_minute: c.rate_limit_per_minute.map(valid_rate).transpose()?,
        };
        store::update_partner(&self.pool, code, &changes)
            .await?
            .ok_or_else(|| PartnerError::PartnerNotFound(code.to_string()))
    }

    pub async fn partner(&self, code: &str) -> Result<PartnerRow, PartnerError> {
        store::find_partner_by_code(&self.pool, code)
            .await?
            .ok_or_else(|| PartnerError::PartnerNotFound(code.to_string()))
    }

    /// Up to `limit` partners in code order, after the code `after_code`.
    pub async fn list_partners(&self, after_code: Option<&str>, limit: i64) -> Result<Vec<PartnerRow>, sqlx::Error> {
        store::list_partners(&self.pool, after_code, limit).await
    }

    /// Every partner in code order: what the settlement schedules follow.
    pub async fn all_partners(&self) -> Result<Vec<PartnerRow>, sqlx::Error> {
        store::all_partners(&self.pool).await
    }

    /// Up to `limit` of a partner's settlements whose period starts in `[from, to)`, newest first.
    pub async fn settlements_of(
        &self,
        partner_id: Uuid,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        limit: i64,
    ) -> Result<Vec<SettlementRow>, sqlx::Error> {
        store::settlements_of(&self.pool, partner_id, from, to, limit).await
    }

    /// The settlement of partner `code` whose period starts on `period_start`.
    pub async fn settlement(
        &self,
        code: &str,
        period_start: NaiveDate,
    ) -> Result<(PartnerRow, SettlementRow), PartnerError> {
        let partner = self.partner(code).await?;
        let row = store::find_settlement(&self.pool, partner.partner_id, period_start)
            .await?
            .ok_or_else(|| PartnerError::SettlementNotFound { partner: code.to_string(), period_start })?;
        Ok((partner, row))
    }

    /// Corrects a computed settlement's payout by a signed amount, with a reason; the admin
    /// who did so cannot approve it.
    pub async fn adjust_settlement(
        &self,
        code: &str,
        period_start: NaiveDate,
        adjustment_paise: i64,
        reason: &str,
        by: Uuid,
    ) -> Result<SettlementRow, PartnerError> {
        let reason = reason.trim();
        if reason.is_empty() || reason.chars().count() > 500 {
            return Err(invalid("reason", "an adjustment needs a reason of 1 to 500 characters"));
        }
        let (partner, row) = self.settlement(code, period_start).await?;
        if row.commission_paise - row.tds_paise + adjustment_paise < 0 {
            return Err(invalid("adjustment.amount", "the adjusted payout cannot be negative"));
        }
        let change =
            store::adjust_settlement(&self.pool, partner.partner_id, period_start, adjustment_paise, reason, by)
                .await?;
        settlement_changed(change, code, period_start, "computed")
    }

    /// Approves a computed settlement for payment: never by the admin who adjusted it.
    pub async fn approve_settlement(
        &self,
        code: &str,
        period_start: NaiveDate,
        by: Uuid,
    ) -> Result<SettlementRow, PartnerError> {
        let partner = self.partner(code).await?;
        let change = store::approve_settlement(&self.pool, partner.partner_id, period_start, by).await?;
        settlement_changed(change, code, period_start, "computed")
    }

    /// Sets the bank account the partner is paid to.
    pub async fn set_payout_account(&self, code: &str, account: &PayoutAccountRow) -> Result<(), PartnerError> {
        let name = &account.payout_account_name;
        if !(4..=120).contains(&name.chars().count()) || name.trim().is_empty() {
            return Err(invalid("name", "the account holder's name is 4 to 120 characters, not only spaces"));
        }
        let ifsc = &account.payout_ifsc;
        let ifsc_shape = ifsc.len() == 11
            && ifsc[..4].chars().all(|c| c.is_ascii_uppercase())
            && ifsc.as_bytes()[4] == b'0'
            && ifsc[5..].chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
        if !ifsc_shape {
            return Err(invalid("ifsc", "an IFSC is four capital letters, 0, then six capital letters or digits"));
        }
        let number = &account.payout_account_number;
        if !(5..=35).contains(&number.len()) || !number.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(invalid("account_number", "an account number is 5 to 35 letters or digits"));
        }
        if store::set_payout_account(&self.pool, code, account).await? {
            Ok(())
        } else {
            Err(PartnerError::PartnerNotFound(code.to_string()))
        }
    }

    pub async fn payout_account(&self, partner_id: Uuid) -> Result<Option<PayoutAccountRow>, sqlx::Error> {
        store::payout_account_of(&self.pool, partner_id).await
    }

    /// Up to `limit` lines of a partner's access log, newest first, after the line `after`.
    pub async fn access_log_of(
        &self,
        partner_id: Uuid,
        filter: &store::AccessLogFilter,
        after: Option<(DateTime<Utc>, i64)>,
        limit: i64,
    ) -> Result<Vec<store::AccessLogLine>, sqlx::Error> {
        store::access_log_of(&self.pool, partner_id, filter, after, limit).await
    }

    /// Issues a new key for the partner `code`.
    pub async fn issue_key(
        &self,
        code: &str,
        label: Option<&str>,
        expires_at: Option<DateTime<Utc>>,
        rate_limit_per_minute: Option<i64>,
    ) -> Result<IssuedKey, PartnerError> {
        let partner = self.partner(code).await?;
        let settings = KeySettings::check(label, expires_at, rate_limit_per_minute)?;
        // A fresh prefix collides with an existing one about once in 3.6 × 10^15; try again.
        for _ in 0..5 {
            let key = keys::generate();
            match store::insert_credential(&self.pool, &settings.credential(partner.partner_id, &key)).await {
                Ok(credential) => return Ok(IssuedKey { key: key.plaintext, credential }),
                Err(StoreError::PrefixTaken) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(PartnerError::Database(sqlx::Error::Protocol("could not allocate a unique key prefix".into())))
    }

    /// Issues a replacement for the key `prefix`; the old key keeps working for `grace`,
    /// then expires. The replacement keeps the old key's label and limit unless given.
    pub async fn rotate_key(
        &self,
        code: &str,
        prefix: &str,
        grace: Duration,
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<(IssuedKey, CredentialRow), PartnerError> {
        if grace > MAX_GRACE {
            return Err(invalid("grace_period_secs", "The grace period is at most 30 days"));
        }
        let partner = self.partner(code).await?;
        let current = store::credentials_of(&self.pool, partner.partner_id)
            .await?
            .into_iter()
            .find(|c| c.key_prefix == prefix)
            .ok_or_else(|| PartnerError::KeyNotFound { partner: code.into(), prefix: prefix.into() })?;
        let settings =
            KeySettings::check(current.label.as_deref(), expires_at, current.rate_limit_per_minute.map(i64::from))?;
        for _ in 0..5 {
            let key = keys::generate();
            let replacement = settings.credential(partner.partner_id, &key);
            match store::rotate_credential(&self.pool, partner.partner_id, prefix, &replacement, grace).await {
                Ok(Rotation::Rotated { old, new }) => {
                    return Ok((IssuedKey { key: key.plaintext, credential: new }, old));
                }
                Ok(Rotation::NotFound) => {
                    return Err(PartnerError::KeyNotFound { partner: code.into(), prefix: prefix.into() });
                }
                Ok(Rotation::NotActive(_)) => return Err(PartnerError::KeyNotActive(prefix.into())),
                Err(StoreError::PrefixTaken) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(PartnerError::Database(sqlx::Error::Protocol("could not allocate a unique key prefix".into())))
    }

    /// Revokes the key `prefix` of partner `code`; it is refused from the next request on.
    pub async fn revoke_key(&self, code: &str, prefix: &str) -> Result<CredentialRow, PartnerError> {
        let partner = self.partner(code).await?;
        store::revoke_credential(&self.pool, partner.partner_id, prefix)
            .await?
            .ok_or_else(|| PartnerError::KeyNotFound { partner: code.into(), prefix: prefix.into() })
    }

    pub async fn keys(&self, code: &str) -> Result<Vec<CredentialRow>, PartnerError> {
        let partner = self.partner(code).await?;
        Ok(store::credentials_of(&self.pool, partner.partner_id).await?)
    }

    /// Checks a presented key: well formed, known, the hash matches, not revoked, not
    /// expired, and its partner active. Reads the database every time, so a revocation
    /// takes effect on the very next request.
    pub async fn authenticate(&self, presented: &str) -> Result<Result<PartnerCaller, KeyRejection>, sqlx::Error> {
        let Some((prefix, hash)) = keys::parse(presented.trim()) else {
            return Ok(Err(KeyRejection::Invalid { prefix: None }));
        };
        let Some(found) = store::key_for_request(&self.pool, &prefix).await? else {
            return Ok(Err(KeyRejection::Invalid { prefix: Some(prefix) }));
        };
        if !keys::same_hash(&found.key_hash, &hash) {
            return Ok(Err(KeyRejection::Invalid { prefix: Some(prefix) }));
        }
        let partner_id = found.partner_id;
        if found.revoked {
            return Ok(Err(KeyRejection::Revoked { prefix, partner_id }));
        }
        if found.expired {
            return Ok(Err(KeyRejection::Expired { prefix, partner_id }));
        }
        if found.partner_status != PartnerStatus::Active {
            return Ok(Err(KeyRejection::PartnerInactive { prefix, partner_id, status: found.partner_status }));
        }
        Ok(Ok(PartnerCaller {
            partner_id,
            partner_code: found.partner_code,
            credential_id: found.api_credential_id,
            key_prefix: prefix,
            key_rate_limit: found.key_rate_limit.unwrap_or(found.partner_rate_limit),
            partner_rate_limit: found.partner_rate_limit,
        }))
    }

    /// Counts this request against the key's and the partner's limits (shared by every API
    /// replica) and says whether it may proceed.
    pub async fn count_request(&self, caller: &PartnerCaller) -> Result<Result<(), RateLimited>, sqlx::Error> {
        let key_subject = format!("key:{}", caller.credential_id);
        let partner_subject = format!("partner:{}", caller.partner_id);
        let counts = store::count_hits(&self.pool, &[key_subject.clone(), partner_subject.clone()]).await?;
        let mut worst: Option<RateLimited> = None;
        for (subject, count) in counts {
            let (scope, limit) = if subject == key_subject {
                ("key", caller.key_rate_limit)
            } else {
                ("partner", caller.partner_rate_limit)
            };
            if let Some(retry_after) = count.retry_after(i64::from(limit))
                && worst.as_ref().is_none_or(|w| w.retry_after < retry_after)
            {
                worst = Some(RateLimited { scope, limit, retry_after });
            }
        }
        Ok(worst.map_or(Ok(()), Err))
    }
}

/// A new key's checked settings.
struct KeySettings {
    label: Option<String>,
    expires_at: Option<DateTime<Utc>>,
    rate_limit_per_minute: Option<i32>,
}

impl KeySettings {
    fn check(
        label: Option<&str>,
        expires_at: Option<DateTime<Utc>>,
        rate_limit_per_minute: Option<i64>,
    ) -> Result<Self, PartnerError> {
        let label = label.map(str::trim).filter(|l| !l.is_empty());
        if label.is_some_and(|l| l.chars().count() > 100) {
            return Err(invalid("label", "A label is at most 100 characters"));
        }
        if expires_at.is_some_and(|at| at <= Utc::now()) {
            return Err(invalid("expires_at", "The expiry must be in the future"));
        }
        Ok(KeySettings {
            label: label.map(str::to_string),
            expires_at,
            rate_limit_per_minute: rate_limit_per_minute.map(valid_rate).transpose()?,
        })
    }

    fn credential<'a>(&'a self, partner_id: Uuid, key: &'a keys::NewKey) -> NewCredential<'a> {
        NewCredential {
            partner_id,
            key_prefix: &key.prefix,
            key_hash: &key.hash,
            label: self.label.as_deref(),
            rate_limit_per_minute: self.rate_limit_per_minute,
            expires_at: self.expires_at,
        }
    }
}

/// 3 to 40 lowercase letters, digits and dashes, starting with a letter and not ending with
/// a dash. (`v1` can never be a code, so `/api/partners/v1` never names a partner.)
pub fn valid_code(code: &str) -> bool {
    let bytes = code.as_bytes();
    (3..=40).contains(&bytes.len())
        && bytes[0].is_ascii_lowercase()
        && bytes[bytes.len() - 1] != b'-'
        && bytes.iter().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
}

fn valid_name(name: &str) -> Result<String, PartnerError> {
    let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
    if name.is_empty() || name.chars().count() > 120 {
        return Err(invalid("name", "Give a name of 1 to 120 characters"));
    }
    Ok(name)
}

/// The one rule every context holds an address to.
fn valid_email(email: &str) -> Result<String, PartnerError> {
    contracts::EmailAddress::parse(email)
        .map(contracts::EmailAddress::into_string)
        .map_err(|_| invalid("contact_email", "Give a valid contact email address"))
}

fn valid_commission(bp: i64) -> Result<i32, PartnerError> {
    i32::try_from(bp)
        .ok()
        .filter(|bp| (0..=10_000).contains(bp))
        .ok_or_else(|| invalid("commission_bp", "The commission is 0 to 10000 basis points (100 bp = 1 %)"))
}

fn valid_cycle(cycle: &str) -> Result<SettlementCycle, PartnerError> {
    SettlementCycle::parse(cycle).map_err(|e| invalid("settlement_cycle", e.to_string()))
}

fn valid_status(status: &str) -> Result<PartnerStatus, PartnerError> {
    PartnerStatus::parse(status).ok_or_else(|| invalid("status", "The status is active, suspended or closed"))
}

fn valid_rate(rate: i64) -> Result<i32, PartnerError> {
    i32::try_from(rate).ok().filter(|r| (1..=MAX_RATE_LIMIT_PER_MINUTE).contains(r)).ok_or_else(|| {
        invalid("rate_limit_per_minute", format!("The limit is 1 to {MAX_RATE_LIMIT_PER_MINUTE} requests a minute"))
    })
}

fn settlement_changed(
    change: SettlementChange,
    code: &str,
    period_start: NaiveDate,
    needed: &'static str,
) -> Result<SettlementRow, PartnerError> {
    match change {
        SettlementChange::Done(row) => Ok(row),
        SettlementChange::NotFound => Err(PartnerError::SettlementNotFound { partner: code.to_string(), period_start }),
        SettlementChange::WrongStatus(row) => {
            Err(PartnerError::SettlementStatus { status: row.status.as_str(), needed })
        }
        SettlementChange::ApproverChangedIt(_) => Err(PartnerError::ApproverChangedIt),
    }
}

/// A settlement the payout workflow may be started for: approved, with something to pay.
pub fn payable(row: &SettlementRow) -> Result<(), PartnerError> {
    match row.status {
        SettlementStatus::Approved if row.payout_paise > 0 => Ok(()),
        SettlementStatus::Approved => Err(invalid("payout", "the settlement has nothing to pay")),
        SettlementStatus::Paid => Ok(()),
        SettlementStatus::Computed => Err(PartnerError::SettlementStatus { status: "computed", needed: "approved" }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partner_codes_are_url_safe_and_never_v1() {
        for good in ["abc", "agartala-travels", "ota-9"] {
            assert!(valid_code(good), "{good}");
        }
        for bad in ["v1", "ab", "Agartala", "9ota", "ota-", "ota_travels", "", &"a".repeat(41)] {
            assert!(!valid_code(bad), "{bad}");
        }
    }

    #[test]
    fn each_field_is_checked() {
        assert!(valid_commission(10_001).is_err() && valid_commission(-1).is_err() && valid_commission(0).is_ok());
        assert!(valid_rate(0).is_err() && valid_rate(1).is_ok() && valid_rate(100_001).is_err());
        assert!(valid_email("ops@agartala-travels.in").is_ok() && valid_email("ops@localhost").is_err());
        assert!(valid_status("suspended").is_ok() && valid_status("paused").is_err());
        assert!(valid_cycle("fortnightly").is_ok() && valid_cycle("daily").is_err());
        assert_eq!(valid_name("  Agartala   Travels ").unwrap(), "Agartala Travels");
    }
}
