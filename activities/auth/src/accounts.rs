//! Sign-up, login, refresh, logout and request authentication: the auth context's
//! behaviour, over its store, its password hasher and its token keys.

use crate::{
    limits::{ClientRateLimiter, GateError, HashGate},
    password::{self, Passwords},
    store::{
        self, Activity, ActivityRow, LoginOutcome, NewSession, NewUser, Profile, Reservation, RoleRow, Rotation,
        StoreError, UserSummary,
    },
    tokens::{IssuedToken, TokenError, TokenSettings, Tokens},
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use contracts::EmailAddress;
use serde_json::json;
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use std::{net::IpAddr, time::Duration};
use uuid::Uuid;

/// How failed logins are slowed down: per (e-mail, client address) pair, never per e-mail
/// alone, so failures from an attacker's addresses slow down the attacker only.
#[derive(Debug, Clone)]
pub struct ThrottlePolicy {
    /// Failures of one pair answered at once; from then on each attempt of the pair waits
    /// `first_delay`, then twice as long each time, up to `max_delay`.
    pub free_failures: i32,
    pub first_delay: Duration,
    pub max_delay: Duration,
    /// A pair's failures are forgotten after this long without an attempt.
    pub window: Duration,
    /// Failures of one e-mail from all addresses within `window` above which a client
    /// that has already failed for it gets no free failure (distributed guessing). A client
    /// that has not failed, such as the account's owner, still gets its attempt.
    pub email_ceiling: i64,
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        ThrottlePolicy {
            free_failures: 5,
            first_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(300),
            window: Duration::from_secs(900),
            email_ceiling: 50,
        }
    }
}

#[derive(Debug, Clone)]
pub struct SessionSettings {
    /// How long one refresh token lives unused.
    pub refresh_ttl: Duration,
    /// How long a login's refresh tokens may renew it, from the login: no refresh after.
    pub session_lifetime: Duration,
    /// How long a refresh token just exchanged may be exchanged again (two tabs refreshing
    /// at once) before a second use counts as a replay that ends the login.
    pub refresh_grace: Duration,
    /// How long the Web UI's codec token lives.
    pub codec_ttl: Duration,
    pub throttle: ThrottlePolicy,
    /// Argon2 computations at once, and how long a request waits for a turn (then 503).
    pub hash_permits: usize,
    pub hash_wait: Duration,
    /// Sign-ups and sign-ins a minute per client address (0: no limit), in this process.
    pub client_rate_per_minute: u32,
}

impl Default for SessionSettings {
    fn default() -> Self {
        SessionSettings {
            refresh_ttl: Duration::from_secs(30 * 24 * 3600),
            session_lifetime: Duration::from_secs(30 * 24 * 3600),
            refresh_grace: Duration::from_secs(20),
            codec_ttl: Duration::from_secs(600),
            throttle: ThrottlePolicy::default(),
            hash_permits: HashGate::default_permits(),
            hash_wait: Duration::from_secs(2),
            client_rate_per_minute: 30,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// Unknown email or wrong password: one answer for both.
    #[error("the email or password is not right")]
    InvalidCredentials,
    #[error("too many failed logins; try again later")]
    Throttled { retry_after: Duration },
    /// Too many sign-ups or sign-ins from one client address.
    #[error("too many requests from this address; try again later")]
    RateLimited { retry_after: Duration },
    /// Every password-hashing turn stayed taken.
    #[error("too many sign-ins at once; try again shortly")]
    Busy,
    #[error("this account is disabled")]
    AccountDisabled,
    #[error("an account with this email exists")]
    EmailTaken,
    #[error("{message}")]
    Invalid { field: &'static str, message: String },
    #[error("the refresh token is not valid")]
    InvalidRefreshToken,
    #[error("the refresh token was already used; the session has been ended")]
    RefreshTokenReused,
    #[error("{0}")]
    Unauthenticated(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error("{0}")]
    Internal(String),
}

impl From<StoreError> for AuthError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::EmailTaken => AuthError::EmailTaken,
            StoreError::UnknownRole(role) => AuthError::Internal(format!("role `{role}` is not seeded")),
            StoreError::Database(e) => AuthError::Database(e),
        }
    }
}

/// Where a request came from, for sessions, the activity log and throttling.
#[derive(Debug, Clone, Default)]
pub struct Client {
    pub addr: Option<IpAddr>,
    pub user_agent: Option<String>,
    /// `addr` is a trusted proxy's own: the client behind it is unknown, so it is no
    /// throttling subject (it would stand for every client at once).
    pub trusted_proxy: bool,
}

impl Client {
    /// The address throttling and rate limits count against, if any.
    pub fn subject(&self) -> Option<IpAddr> {
        self.addr.filter(|_| !self.trusted_proxy)
    }
}

/// What a login or refresh hands back.
#[derive(Debug, Clone)]
pub struct SessionTokens {
    pub user_id: Uuid,
    pub access: IssuedToken,
    /// Shown to the client once; only its hash is stored.
    pub refresh_token: String,
    pub refresh_expires_at: DateTime<Utc>,
}

/// An access token whose signature and expiry were checked, but not yet whether its
/// account and login are still live ([`Accounts::confirm`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerifiedToken {
    /// The user id the token was issued to.
    pub user_id: Uuid,
    /// The login (session family) it belongs to.
    pub session_family: Uuid,
}

/// The signed-in user behind a request.
#[derive(Debug, Clone)]
pub struct Principal {
    pub user_id: Uuid,
    pub session_family: Uuid,
    pub profile: Profile,
    pub permissions: Vec<String>,
}

impl Principal {
    pub fn can(&self, permission: &str) -> bool {
        self.permissions.iter().any(|p| p == permission)
    }
}

pub struct Registration<'a> {
    pub email: &'a str,
    pub password: &'a str,
    pub full_name: &'a str,
    pub phone: Option<&'a str>,
}

#[derive(Clone)]
pub struct Accounts {
    pool: PgPool,
    passwords: Passwords,
    tokens: Tokens,
    settings: SessionSettings,
    gate: HashGate,
    rate: ClientRateLimiter,
}

impl std::fmt::Debug for Accounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Accounts").field("tokens", &self.tokens).finish_non_exhaustive()
    }
}

impl Accounts {
    pub fn new(pool: PgPool, passwords: Passwords, tokens: Tokens, settings: SessionSettings) -> Self {
        let gate = HashGate::new(settings.hash_permits, settings.hash_wait);
        let rate = ClientRateLimiter::new(settings.client_rate_per_minute);
        Accounts { pool, passwords, tokens, settings, gate, rate }
    }

    pub fn tokens(&self) -> &Tokens {
        &self.tokens
    }

    pub fn token_settings(&self) -> &TokenSettings {
        self.tokens.settings()
    }

    /// Creates a traveller account and signs it in.
    pub async fn register(&self, registration: &Registration<'_>, client: &Client) -> Result<SessionTokens, AuthError> {
        self.admit(client)?;
        let email = normalize_email(registration.email)?;
        let full_name = registration.full_name.trim();
        if full_name.is_empty() || full_name.chars().count() > 100 {
            return Err(invalid("full_name", "Give a name of 1 to 100 characters"));
        }
        let phone = registration.phone.map(str::trim).filter(|p| !p.is_empty());
        if let Some(phone) = phone
            && !valid_phone(phone)
        {
            return Err(invalid("phone", "Give the phone number in international form, e.g. +919876543210"));
        }
        password::check_policy(registration.password, &email).map_err(|m| invalid("password", m))?;
        let hash = self.hash(registration.password).await?;
        let created = store::create_user(
            &self.pool,
            &NewUser { email: &email, full_name, phone, password_hash: &hash, role: "traveller" },
        )
        .await;
        let user_id = match created {
            Ok(id) => id,
            Err(StoreError::EmailTaken) => {
                self.log(None, "signup", "failure", client, json!({ "reason": "email_taken" })).await;
                return Err(AuthError::EmailTaken);
            }
            Err(e) => return Err(e.into()),
        };
        self.log(Some(user_id), "signup", "success", client, json!({})).await;
        self.start_session(user_id, client).await
    }

    /// Checks the password and starts a session. Unknown email and wrong password answer
    /// alike, after the same hashing work. Each attempt is first reserved against its
    /// (e-mail, client address) pair, in one statement: a pair that failed too often waits a
    /// growing delay (429), whatever other addresses do, and a burst gets no more checks.
    pub async fn login(&self, email: &str, password: &str, client: &Client) -> Result<SessionTokens, AuthError> {
        self.admit(client)?;
        // The normalisation of [`EmailAddress`], without its refusal: an address that cannot
        // be one is answered like an unknown one, after the same work.
        let email = email.trim().to_lowercase();
        if email.is_empty() {
            // No account has an empty address, and there is no address to throttle by.
            self.log(None, "login", "failure", client, json!({ "email": email })).await;
            return Err(AuthError::InvalidCredentials);
        }
        let subject = client.subject();
        if let Some(addr) = subject {
            let policy = &self.settings.throttle;
            if let Reservation::Refused { retry_after } =
                store::reserve_login_attempt(&self.pool, &email, addr, policy).await?
            {
                self.log(None, "login", "denied", client, json!({ "email": email, "reason": "throttled" })).await;
                return Err(AuthError::Throttled { retry_after: retry_after.max(Duration::from_secs(1)) });
            }
        }
        let account = store::find_login(&self.pool, &email).await?;
        let stored = account.as_ref().map(|a| a.password_hash.clone());
        let verified = {
            let (passwords, password) = (self.passwords.clone(), password.to_string());
            self.gate
                .run(move |memory| passwords.verify_in(stored.as_deref(), &password, memory))
                .await
                .map_err(gate_error)?
        };
        let known = account.as_ref().map(|a| a.user_id);
        let Some(account) = account.filter(|_| verified) else {
            if let Some(user_id) = known {
                store::note_login(&self.pool, user_id, LoginOutcome::Failed { locked_until: None }).await?;
            }
            if rand::random::<u8>() == 0 {
                // Now and then, forget pairs that have been quiet for a window.
                store::prune_login_attempts(&self.pool, self.settings.throttle.window).await?;
            }
            self.log(known, "login", "failure", client, json!({ "email": email })).await;
            return Err(AuthError::InvalidCredentials);
        };
        if account.status != "active" {
            self.log(Some(account.user_id), "login", "denied", client, json!({ "reason": "disabled" })).await;
            return Err(AuthError::AccountDisabled);
        }
        let rehashed = match self.passwords.needs_rehash(&account.password_hash) {
            true => Some(self.hash(password).await?),
            false => None,
        };
        if let Some(addr) = subject {
            store::clear_login_attempts(&self.pool, &email, addr).await?;
        }
        let succeeded = LoginOutcome::Succeeded { rehashed: rehashed.as_deref() };
        store::note_login(&self.pool, account.user_id, succeeded).await?;
        let tokens = self.start_session(account.user_id, client).await?;
        self.log(Some(account.user_id), "login", "success", client, json!({})).await;
        Ok(tokens)
    }

    /// Counts a sign-up or sign-in against its client's rate limit (a trusted proxy's own
    /// address, or none, is not counted).
    fn admit(&self, client: &Client) -> Result<(), AuthError> {
        match client.subject() {
            Some(addr) => self.rate.admit(addr).map_err(|wait| AuthError::RateLimited {
                retry_after: Duration::from_secs(wait.as_secs_f64().ceil() as u64).max(Duration::from_secs(1)),
            }),
            None => Ok(()),
        }
    }

    /// A codec token for the login `principal` signed in with (see [`Tokens::issue_codec`]).
    pub fn issue_codec_token(&self, principal: &Principal) -> Result<IssuedToken, AuthError> {
        self.tokens
            .issue_codec(principal.user_id, principal.session_family, self.settings.codec_ttl, Utc::now())
            .map_err(token_internal)
    }

    /// As [`Accounts::verify_token`], for a codec token: accepted by the codec routes only.
    pub fn verify_codec_token(&self, token: &str) -> Result<VerifiedToken, AuthError> {
        let claims =
            self.tokens.verify_codec(token, Utc::now()).map_err(|e| AuthError::Unauthenticated(e.to_string()))?;
        Ok(VerifiedToken { user_id: claims.sub, session_family: claims.sid })
    }

    /// Exchanges a refresh token for a new pair. A token used again within the grace gets
    /// another pair of the same login; used again later, it ends its whole login. No
    /// refresh renews a login past its absolute lifetime.
    pub async fn refresh(&self, refresh_token: &str, client: &Client) -> Result<SessionTokens, AuthError> {
        let (new_token, new_hash) = new_refresh_token();
        let expires_at = Utc::now() + self.refresh_ttl();
        let rotation = store::rotate_session(
            &self.pool,
            &hash_refresh_token(refresh_token),
            &store::Renewal {
                new_hash: &new_hash,
                user_agent: client.user_agent.as_deref(),
                client_addr: client.addr,
                expires_at,
                grace: self.settings.refresh_grace,
                session_lifetime: self.settings.session_lifetime,
            },
        )
        .await?;
        match rotation {
            Rotation::Rotated { user_id, family_id, expires_at } => {
                let principal = store::load_principal(&self.pool, user_id, family_id).await?;
                if principal.is_none_or(|p| p.user.status != "active") {
                    store::revoke_family(&self.pool, user_id, family_id).await?;
                    self.log(Some(user_id), "refresh", "denied", client, json!({ "reason": "disabled" })).await;
                    return Err(AuthError::InvalidRefreshToken);
                }
                let access = self.tokens.issue(user_id, family_id, Utc::now()).map_err(token_internal)?;
                self.log(Some(user_id), "refresh", "success", client, json!({})).await;
                Ok(SessionTokens { user_id, access, refresh_token: new_token, refresh_expires_at: expires_at })
            }
            Rotation::Reused { user_id, family_id } => {
                tracing::warn!(%user_id, %family_id, "refresh token reused; session family revoked");
                let details = json!({ "reason": "reused", "family_id": family_id });
                self.log(Some(user_id), "refresh", "denied", client, details).await;
                Err(AuthError::RefreshTokenReused)
            }
            Rotation::Expired { user_id } => {
                self.log(Some(user_id), "refresh", "failure", client, json!({ "reason": "expired" })).await;
                Err(AuthError::InvalidRefreshToken)
            }
            Rotation::Revoked { user_id } => {
                self.log(Some(user_id), "refresh", "failure", client, json!({ "reason": "revoked" })).await;
                Err(AuthError::InvalidRefreshToken)
            }
            Rotation::Unknown => Err(AuthError::InvalidRefreshToken),
        }
    }

    /// Ends the login the refresh token belongs to (this device). Unknown tokens are fine:
    /// logging out twice is not an error.
    pub async fn logout(&self, refresh_token: &str, client: &Client) -> Result<(), AuthError> {
        if let Some((user_id, _)) =
            store::revoke_family_of_token(&self.pool, &hash_refresh_token(refresh_token)).await?
        {
            self.log(Some(user_id), "logout", "success", client, json!({})).await;
        }
        Ok(())
    }

    /// Ends the caller's current login (the one its access token belongs to).
    pub async fn logout_session(&self, principal: &Principal, client: &Client) -> Result<(), AuthError> {
        store::revoke_family(&self.pool, principal.user_id, principal.session_family).await?;
        self.log(Some(principal.user_id), "logout", "success", client, json!({})).await;
        Ok(())
    }

    /// Ends every login of the user (all devices).
    pub async fn logout_everywhere(&self, principal: &Principal, client: &Client) -> Result<u64, AuthError> {
        let ended = store::revoke_all_sessions(&self.pool, principal.user_id).await?;
        self.log(Some(principal.user_id), "logout_all", "success", client, json!({ "sessions": ended })).await;
        Ok(ended)
    }

    /// The user behind a bearer token, as the database sees them now: a deleted or disabled
    /// user, or a logged-out session, is refused even while the token has not expired.
    pub async fn authenticate(&self, bearer: &str) -> Result<Principal, AuthError> {
        let token = self.verify_token(bearer)?;
        self.confirm(&token).await
    }

    /// The first half of [`Accounts::authenticate`]: the token's signature, audience and
    /// expiry, checked without the database. Its user id may be used to prepare work that
    /// is undone unless [`Accounts::confirm`] then accepts the token.
    pub fn verify_token(&self, bearer: &str) -> Result<VerifiedToken, AuthError> {
        let claims = self.tokens.verify(bearer, Utc::now()).map_err(|e| AuthError::Unauthenticated(e.to_string()))?;
        Ok(VerifiedToken { user_id: claims.sub, session_family: claims.sid })
    }

    /// The second half of [`Accounts::authenticate`]: the account and the login behind a
    /// verified token, as the database sees them now.
    pub async fn confirm(&self, token: &VerifiedToken) -> Result<Principal, AuthError> {
        let row = store::load_principal(&self.pool, token.user_id, token.session_family)
            .await?
            .ok_or_else(|| AuthError::Unauthenticated("the token's account no longer exists".into()))?;
        if row.user.status != "active" {
            return Err(AuthError::Unauthenticated("the token's account is disabled".into()));
        }
        if !row.session_live {
            return Err(AuthError::Unauthenticated("the token's session has ended; log in again".into()));
        }
        Ok(Principal {
            user_id: row.user.user_id,
            session_family: token.session_family,
            profile: row.user.profile,
            permissions: row.permissions,
        })
    }

    /// Writes one activity line; a failure to log is reported, never fatal to the request.
    pub async fn log(
        &self,
        user_id: Option<Uuid>,
        action: &str,
        outcome: &str,
        client: &Client,
        details: serde_json::Value,
    ) {
        let activity = Activity { user_id, action, outcome, client_addr: client.addr, details };
        if let Err(e) = store::log_activity(&self.pool, &activity).await {
            tracing::error!(error = %e, action, "could not write the user activity log");
        }
    }

    async fn start_session(&self, user_id: Uuid, client: &Client) -> Result<SessionTokens, AuthError> {
        let (refresh_token, hash) = new_refresh_token();
        let family_id = Uuid::new_v4();
        let refresh_expires_at = Utc::now() + self.refresh_ttl().min(self.session_lifetime());
        store::insert_session(
            &self.pool,
            &NewSession {
                user_id,
                family_id,
                refresh_token_hash: &hash,
                user_agent: client.user_agent.as_deref(),
                client_addr: client.addr,
                expires_at: refresh_expires_at,
            },
        )
        .await?;
        let access = self.tokens.issue(user_id, family_id, Utc::now()).map_err(token_internal)?;
        Ok(SessionTokens { user_id, access, refresh_token, refresh_expires_at })
    }

    fn refresh_ttl(&self) -> chrono::Duration {
        chrono::Duration::from_std(self.settings.refresh_ttl).unwrap_or(chrono::Duration::days(30))
    }

    fn session_lifetime(&self) -> chrono::Duration {
        chrono::Duration::from_std(self.settings.session_lifetime).unwrap_or(chrono::Duration::days(30))
    }

    /// Hashes inside a turn of the hashing gate (503 when none comes).
    async fn hash(&self, password: &str) -> Result<String, AuthError> {
        let (passwords, password) = (self.passwords.clone(), password.to_string());
        self.gate.run(move |memory| passwords.hash_in(&password, memory)).await.map_err(gate_error)
    }
}

/// User administration: the reads and changes behind the admin routes, and the property
/// assignments that let an asset manager change a property.
impl Accounts {
    /// One user with their roles.
    pub async fn find_user(&self, user_id: Uuid) -> Result<Option<UserSummary>, sqlx::Error> {
        store::find_user(&self.pool, user_id).await
    }

    /// Users ordered by email, after `after_email`.
    pub async fn list_users(&self, after_email: Option<&str>, limit: i64) -> Result<Vec<UserSummary>, sqlx::Error> {
        store::list_users(&self.pool, after_email, limit).await
    }

    /// Every role with the permissions it grants.
    pub async fn roles(&self) -> Result<Vec<RoleRow>, sqlx::Error> {
        store::roles(&self.pool).await
    }

    /// The latest activity of a user, newest first.
    pub async fn activity_of(&self, user_id: Uuid, limit: i64) -> Result<Vec<ActivityRow>, sqlx::Error> {
        store::activity_of(&self.pool, user_id, limit).await
    }

    /// Sets a user's status; disabling also ends every session. `false` for an unknown user.
    pub async fn set_status(&self, user_id: Uuid, status: &str) -> Result<bool, sqlx::Error> {
        store::set_status(&self.pool, user_id, status).await
    }

    /// Deletes a user and everything of theirs in this context; `false` for an unknown user.
    pub async fn delete_user(&self, user_id: Uuid) -> Result<bool, sqlx::Error> {
        store::delete_user(&self.pool, user_id).await
    }

    /// Grants `role`; `false` when the user already had it.
    pub async fn grant_role(&self, user_id: Uuid, role: &str, by: Option<Uuid>) -> Result<bool, StoreError> {
        store::grant_role(&self.pool, user_id, role, by).await
    }

    /// Revokes `role`; `false` when the user did not have it.
    pub async fn revoke_role(&self, user_id: Uuid, role: &str) -> Result<bool, StoreError> {
        store::revoke_role(&self.pool, user_id, role).await
    }

    /// The accommodations a user manages.
    pub async fn assignments_of(&self, user_id: Uuid) -> Result<Vec<Uuid>, sqlx::Error> {
        store::assignments_of(&self.pool, user_id).await
    }

    /// Whether a user is assigned to manage an accommodation.
    pub async fn is_assigned(&self, user_id: Uuid, accommodation_id: Uuid) -> Result<bool, sqlx::Error> {
        store::is_assigned(&self.pool, user_id, accommodation_id).await
    }

    /// Assigns an accommodation to a manager; `false` when it already was.
    pub async fn assign(&self, user_id: Uuid, accommodation_id: Uuid, by: Option<Uuid>) -> Result<bool, sqlx::Error> {
        store::assign(&self.pool, user_id, accommodation_id, by).await
    }

    /// Takes an accommodation away from a manager; `false` when it was not theirs.
    pub async fn unassign(&self, user_id: Uuid, accommodation_id: Uuid) -> Result<bool, sqlx::Error> {
        store::unassign(&self.pool, user_id, accommodation_id).await
    }
}

/// Creates `email` with `role` unless it exists (demo users, tests); an existing account
/// keeps its password and gains the role, so it is never for an address the public could
/// have registered (the first admin uses [`create_user`]). Returns the user id and whether
/// it was created.
pub async fn ensure_user(
    pool: &PgPool,
    passwords: &Passwords,
    email: &str,
    full_name: &str,
    password: &str,
    role: &str,
) -> Result<(Uuid, bool), AuthError> {
    let email = normalize_email(email)?;
    if let Some(existing) = store::find_user_by_email(pool, &email).await? {
        store::grant_role(pool, existing.user_id, role, None).await?;
        return Ok((existing.user_id, false));
    }
    match create_user(pool, passwords, &email, full_name, password, role).await {
        Ok(user_id) => Ok((user_id, true)),
        // Another process created it meanwhile.
        Err(AuthError::EmailTaken) => {
            let user = store::find_user_by_email(pool, &email).await?;
            Ok((user.map(|u| u.user_id).ok_or(AuthError::EmailTaken)?, false))
        }
        Err(e) => Err(e),
    }
}

/// Creates `email` with `role` as a new account; an existing account with that email is
/// [`AuthError::EmailTaken`] and is left as it is (the first admin: whoever registered the
/// address must not become admin).
pub async fn create_user(
    pool: &PgPool,
    passwords: &Passwords,
    email: &str,
    full_name: &str,
    password: &str,
    role: &str,
) -> Result<Uuid, AuthError> {
    let email = normalize_email(email)?;
    password::check_policy(password, &email).map_err(|m| invalid("password", m))?;
    let hash = hash_password(passwords, password).await?;
    let new = NewUser { email: &email, full_name, phone: None, password_hash: &hash, role };
    Ok(store::create_user(pool, &new).await?)
}

fn gate_error(e: GateError) -> AuthError {
    match e {
        GateError::Full => AuthError::Busy,
        GateError::Failed(message) => AuthError::Internal(message),
    }
}

/// Hashes on a blocking thread: a hash costs tens of milliseconds of CPU by design, which
/// would stall every other request on an async worker.
async fn hash_password(passwords: &Passwords, password: &str) -> Result<String, AuthError> {
    let (passwords, password) = (passwords.clone(), password.to_string());
    tokio::task::spawn_blocking(move || passwords.hash(&password)).await.map_err(|e| AuthError::Internal(e.to_string()))
}

fn invalid(field: &'static str, message: impl Into<String>) -> AuthError {
    AuthError::Invalid { field, message: message.into() }
}

fn token_internal(e: TokenError) -> AuthError {
    AuthError::Internal(format!("cannot issue tokens: {e}"))
}

/// An account's email as every context accepts an address ([`EmailAddress`]): lower-cased,
/// trimmed, and plausibly an address; otherwise an error naming the `email` field.
pub fn normalize_email(raw: &str) -> Result<String, AuthError> {
    EmailAddress::parse(raw).map(EmailAddress::into_string).map_err(|_| invalid("email", "Give a valid email address"))
}

fn valid_phone(phone: &str) -> bool {
    let digits = phone.strip_prefix('+').unwrap_or("");
    (8..=15).contains(&digits.len()) && digits.chars().all(|c| c.is_ascii_digit())
}

/// A new opaque refresh token and the hash stored for it.
fn new_refresh_token() -> (String, Vec<u8>) {
    let bytes: [u8; 32] = rand::random();
    let token = format!("rt_{}", URL_SAFE_NO_PAD.encode(bytes));
    let hash = hash_refresh_token(&token);
    (token, hash)
}

fn hash_refresh_token(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(normalize_email("  Asha@Tripura.IN ").unwrap(), "asha@tripura.in");
        for bad in ["", "asha", "@tripura.in", "asha@tripura", "asha@.in", "a sha@tripura.in", "a@b@c.in"] {
            assert!(matches!(normalize_email(bad), Err(AuthError::Invalid { field: "email", .. })), "{bad}");
        }
    }

    #[test]
    fn phones_are_international() {
        assert!(valid_phone("+919876543210"));
        assert!(!valid_phone("9876543210"));
        assert!(!valid_phone("+91 98765"));
    }

    #[test]
    fn refresh_tokens_are_random_and_stored_as_hashes() {
        let (a, hash_a) = new_refresh_token();
        let (b, _) = new_refresh_token();
        assert_ne!(a, b);
        assert_eq!(hash_a, hash_refresh_token(&a));
        assert!(!String::from_utf8_lossy(&hash_a).contains(&a));
    }
}
