//! API settings from `TT_*` environment variables, with development defaults.

use crate::proxies::TrustedProxies;
use platform::{EnvError, Environment, env::var_or, temporal::TemporalSettings};
use std::{net::SocketAddr, path::PathBuf, str::FromStr, time::Duration};

/// The route families one API process can serve. Production runs one deployment per service
/// behind the Ingress (`TT_API_SERVICES=bookings`); development runs them all in one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiService {
    Auth,
    Catalog,
    Inventory,
    Bookings,
    Payments,
    Partners,
}

impl ApiService {
    pub const ALL: [ApiService; 6] = [
        ApiService::Auth,
        ApiService::Catalog,
        ApiService::Inventory,
        ApiService::Bookings,
        ApiService::Payments,
        ApiService::Partners,
    ];
}

impl FromStr for ApiService {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        // Context names and route prefixes both work: `booking` and `bookings` are the same.
        Ok(match s.trim() {
            "auth" => ApiService::Auth,
            "catalog" => ApiService::Catalog,
            "inventory" => ApiService::Inventory,
            "booking" | "bookings" => ApiService::Bookings,
            "payment" | "payments" => ApiService::Payments,
            "partner" | "partners" => ApiService::Partners,
            other => {
                return Err(format!(
                    "unknown API service `{other}` (auth, catalog, inventory, booking, payment, partner)"
                ));
            }
        })
    }
}

/// A comma-separated list of services.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiServices(pub(crate) Vec<ApiService>);

impl FromStr for ApiServices {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let services = s.split(',').filter(|p| !p.trim().is_empty()).map(str::parse).collect::<Result<Vec<_>, _>>()?;
        if services.is_empty() { Err("name at least one API service".into()) } else { Ok(ApiServices(services)) }
    }
}

#[derive(Debug, Clone)]
pub struct ApiSettings {
    /// `TT_API_ADDR`, default `127.0.0.1:8080`.
    pub addr: SocketAddr,
    /// `TT_API_SERVICES`, default every service.
    pub services: Vec<ApiService>,
    pub temporal: TemporalSettings,
    /// Per context: `TT_<CONTEXT>_DATABASE_URL`, else `TT_DATABASE_URL`.
    pub catalog_database_url: String,
    pub booking_database_url: String,
    pub inventory_database_url: String,
    pub auth_database_url: String,
    pub partner_database_url: String,
    /// `TT_DB_POOL_SIZE`, per context pool.
    pub db_pool_size: u32,
    pub auth: AuthConfig,
    /// `TT_CORS_ORIGINS`: browser origins allowed to call the API (comma-separated; none
    /// by default, so only same-origin pages and non-browser clients call it).
    pub cors_origins: Vec<String>,
    /// `TT_TRUSTED_PROXIES`: CIDRs of the proxies (the Ingress) whose `X-Forwarded-For` is
    /// believed; empty by default, so the socket peer is the client.
    pub trusted_proxies: TrustedProxies,
    pub payment_database_url: String,
    pub payments: PaymentsConfig,
    /// `TT_TEMPORAL_UI_URL`, default `http://127.0.0.1:8233`: the Temporal Web UI, which
    /// operators' booking views link to.
    pub temporal_ui_url: String,
}

/// The gateway's side of payments, as the API sees it.
#[derive(Debug, Clone)]
pub struct PaymentsConfig {
    /// `TT_GATEWAY_WEBHOOK_SECRET`: verifies the gateway's webhook signatures (the sandbox
    /// gateway's default in development).
    pub webhook_secret: platform::Secret,
    /// `TT_GATEWAY_CHECKOUT_URL`: where travellers pay; the order id is appended.
    pub checkout_url: String,
    /// `TT_PAYMENT_WINDOW_SECS`, default 900: how long a checkout may take before the
    /// booking expires and its rooms are released.
    pub payment_window: Duration,
    /// `TT_PAYOUT_RETRY_SECS`, default 900: how long a settlement's payout waits before
    /// paying again after the bank turned a payout back.
    pub payout_retry_after: Duration,
}

/// The dev server's Web UI.
const DEV_TEMPORAL_UI: &str = "http://127.0.0.1:8233";

/// The sandbox gateway's webhook secret: public, for development only.
const SANDBOX_WEBHOOK_SECRET: &str = "sandbox_webhook_secret";

impl PaymentsConfig {
    /// In production (`TT_ENVIRONMENT`) a process serving the payment routes needs
    /// `TT_GATEWAY_WEBHOOK_SECRET`; in development it falls back to the sandbox gateway's.
    /// A production process that serves no webhook and has none gets a random one, which
    /// no signature matches.
    pub fn from_env(environment: Environment, services: &[ApiService]) -> Result<Self, EnvError> {
        let webhook_secret = if services.contains(&ApiService::Payments) {
            environment.secret(
                "GATEWAY_WEBHOOK_SECRET",
                SANDBOX_WEBHOOK_SECRET,
                "verifies the payment gateway's webhook signatures",
            )?
        } else {
            match platform::env::optional("GATEWAY_WEBHOOK_SECRET")? {
                Some(secret) => secret,
                None if environment.is_development() => platform::Secret::new(SANDBOX_WEBHOOK_SECRET),
                None => platform::Secret::new(uuid::Uuid::new_v4().simple().to_string()),
            }
        };
        Ok(PaymentsConfig {
            webhook_secret,
            checkout_url: var_or("GATEWAY_CHECKOUT_URL", "http://127.0.0.1:8090/v1/checkout/".to_string())?,
            payment_window: Duration::from_secs(var_or("PAYMENT_WINDOW_SECS", 900)?),
            payout_retry_after: Duration::from_secs(var_or("PAYOUT_RETRY_SECS", 900)?),
        })
    }
}

/// Access tokens and sessions.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// `TT_AUTH_KEYS_FILE`: the token key ring (see `auth::keys`), default
    /// `.data/auth-keys.json` (made by `make up`; a Secret in Kubernetes).
    pub keys_file: PathBuf,
    /// `TT_AUTH_ISSUER`, the tokens' `iss`.
    pub issuer: String,
    /// `TT_AUTH_AUDIENCE`, the tokens' `aud`.
    pub audience: String,
    /// `TT_AUTH_ACCESS_TTL_SECS`, default 900 (15 minutes).
    pub access_ttl: Duration,
    /// `TT_AUTH_REFRESH_TTL_DAYS`, default 30.
    pub refresh_ttl: Duration,
    /// `TT_AUTH_SESSION_LIFETIME_DAYS`, default 30: no refresh renews a login after this
    /// long from the login itself.
    pub session_lifetime: Duration,
    /// `TT_AUTH_REFRESH_GRACE_SECS`, default 20: a refresh token just exchanged may be
    /// exchanged again this long (concurrent refreshes) before it counts as a replay.
    pub refresh_grace: Duration,
    /// `TT_AUTH_CODEC_TTL_SECS`, default 600: the Web UI's codec token.
    pub codec_ttl: Duration,
    /// `TT_AUTH_HASH_PERMITS`, default twice the cores: Argon2 computations at once.
    pub hash_permits: usize,
    /// `TT_AUTH_HASH_WAIT_MS`, default 2000: how long a request waits for one (then 503).
    pub hash_wait: Duration,
    /// `TT_AUTH_RATE_PER_MINUTE`, default 30: sign-ups and sign-ins a minute per client
    /// address, counted by each process alone (0: no limit).
    pub rate_per_minute: u32,
    /// `TT_AUTH_LOGIN_FREE_FAILURES` (5), `TT_AUTH_LOGIN_MAX_DELAY_SECS` (300),
    /// `TT_AUTH_LOGIN_EMAIL_CEILING` (50): the login throttle per (e-mail, client) pair.
    pub throttle: auth::ThrottlePolicy,
}

impl AuthConfig {
    pub fn from_env() -> Result<Self, EnvError> {
        Ok(AuthConfig {
            keys_file: var_or("AUTH_KEYS_FILE", PathBuf::from(".data/auth-keys.json"))?,
            issuer: var_or("AUTH_ISSUER", "tripura-tourism".to_string())?,
            audience: var_or("AUTH_AUDIENCE", "tripura-tourism-api".to_string())?,
            access_ttl: Duration::from_secs(var_or("AUTH_ACCESS_TTL_SECS", 900)?),
            refresh_ttl: Duration::from_secs(var_or::<u64>("AUTH_REFRESH_TTL_DAYS", 30)? * 24 * 3600),
            session_lifetime: Duration::from_secs(var_or::<u64>("AUTH_SESSION_LIFETIME_DAYS", 30)? * 24 * 3600),
            refresh_grace: Duration::from_secs(var_or("AUTH_REFRESH_GRACE_SECS", 20)?),
            codec_ttl: Duration::from_secs(var_or("AUTH_CODEC_TTL_SECS", 600)?),
            hash_permits: var_or("AUTH_HASH_PERMITS", auth::limits::HashGate::default_permits())?,
            hash_wait: Duration::from_millis(var_or("AUTH_HASH_WAIT_MS", 2000)?),
            rate_per_minute: var_or("AUTH_RATE_PER_MINUTE", 30)?,
            throttle: auth::ThrottlePolicy {
                free_failures: var_or("AUTH_LOGIN_FREE_FAILURES", 5)?,
                max_delay: Duration::from_secs(var_or("AUTH_LOGIN_MAX_DELAY_SECS", 300)?),
                email_ceiling: var_or("AUTH_LOGIN_EMAIL_CEILING", 50)?,
                ..auth::ThrottlePolicy::default()
            },
        })
    }

    /// Development defaults, tokens from `keys_file` (tests and benchmarks).
    pub fn with_keys_file(keys_file: PathBuf) -> Self {
        let sessions = auth::SessionSettings::default();
        AuthConfig {
            keys_file,
            issuer: "tripura-tourism".into(),
            audience: "tripura-tourism-api".into(),
            access_ttl: Duration::from_secs(900),
            refresh_ttl: sessions.refresh_ttl,
            session_lifetime: sessions.session_lifetime,
            refresh_grace: sessions.refresh_grace,
            codec_ttl: sessions.codec_ttl,
            hash_permits: sessions.hash_permits,
            hash_wait: sessions.hash_wait,
            rate_per_minute: sessions.client_rate_per_minute,
            throttle: sessions.throttle,
        }
    }

    /// What the auth context needs of these settings.
    pub fn session_settings(&self) -> auth::SessionSettings {
        auth::SessionSettings {
            refresh_ttl: self.refresh_ttl,
            session_lifetime: self.session_lifetime,
            refresh_grace: self.refresh_grace,
            codec_ttl: self.codec_ttl,
            throttle: self.throttle.clone(),
            hash_permits: self.hash_permits,
            hash_wait: self.hash_wait,
            client_rate_per_minute: self.rate_per_minute,
        }
    }
}

impl ApiSettings {
    /// From `TT_*`. In production (`TT_ENVIRONMENT`), missing secrets stop the process here:
    /// payload keys, the webhook secret (serving payments), `TT_AUTH_KEYS_FILE` (whose
    /// development default is `make up`'s file) and, serving auth, its signing key.
    pub fn from_env() -> Result<Self, EnvError> {
        let environment = Environment::from_env()?;
        let services = var_or("API_SERVICES", ApiServices(ApiService::ALL.to_vec()))?.0;
        let settings = ApiSettings {
            addr: var_or("API_ADDR", SocketAddr::from(([127, 0, 0, 1], 8080)))?,
            services: services.clone(),
            temporal: TemporalSettings::from_env_for(sends_payloads(&services))?,
            catalog_database_url: platform::db::database_url("catalog")?,
            booking_database_url: platform::db::database_url("booking")?,
            inventory_database_url: platform::db::database_url("inventory")?,
            auth_database_url: platform::db::database_url("auth")?,
            partner_database_url: platform::db::database_url("partner")?,
            db_pool_size: var_or("DB_POOL_SIZE", 10)?,
            auth: AuthConfig::from_env()?,
            cors_origins: platform::env::optional::<String>("CORS_ORIGINS")?
                .map(|v| v.split(',').map(|o| o.trim().to_string()).filter(|o| !o.is_empty()).collect())
                .unwrap_or_default(),
            trusted_proxies: var_or("TRUSTED_PROXIES", TrustedProxies::default())?,
            payment_database_url: platform::db::database_url("payment")?,
            payments: PaymentsConfig::from_env(environment, &services)?,
            temporal_ui_url: var_or("TEMPORAL_UI_URL", DEV_TEMPORAL_UI.to_string())?,
        };
        if !environment.is_development() {
            token_keys_for_production(&settings, environment)?;
        }
        Ok(settings)
    }
}

/// Whether a process serving `services` sends payloads to Temporal (starts, signals or
/// queries workflows, or opens payloads at `/api/codec`): only those need the payload keys.
fn sends_payloads(services: &[ApiService]) -> bool {
    services.iter().any(|s| matches!(s, ApiService::Bookings | ApiService::Payments | ApiService::Partners))
}

/// Production names its token key ring (`TT_AUTH_KEYS_FILE`), and a process serving the auth
/// routes needs its signing key: nothing falls back to a development file.
fn token_keys_for_production(settings: &ApiSettings, environment: Environment) -> Result<(), EnvError> {
    const NAME: &str = "TT_AUTH_KEYS_FILE";
    if platform::env::optional::<PathBuf>("AUTH_KEYS_FILE")?.is_none() {
        return Err(environment.missing(NAME, "the access-token key ring; `auth-keys init <file>` makes one"));
    }
    if settings.services.contains(&ApiService::Auth) {
        let ring = auth::keys::KeyRing::load(&settings.auth.keys_file)
            .map_err(|e| EnvError { name: NAME.into(), problem: e.to_string() })?;
        if ring.signing_kid().is_none() {
            return Err(EnvError {
                name: NAME.into(),
                problem: format!(
                    "{} holds no signing key, which the auth routes need to issue tokens",
                    settings.auth.keys_file.display()
                ),
            });
        }
    }
    Ok(())
}

impl ApiSettings {
    /// Every context in one database at `database_url`, tokens from `keys_file`, other
    /// settings at their defaults: for tests and benchmarks.
    pub fn single_database(
        addr: SocketAddr,
        services: Vec<ApiService>,
        temporal: TemporalSettings,
        database_url: &str,
        keys_file: PathBuf,
    ) -> Self {
        ApiSettings {
            addr,
            services,
            temporal,
            catalog_database_url: database_url.to_string(),
            booking_database_url: database_url.to_string(),
            inventory_database_url: database_url.to_string(),
            auth_database_url: database_url.to_string(),
            partner_database_url: database_url.to_string(),
            db_pool_size: 8,
            auth: AuthConfig::with_keys_file(keys_file),
            cors_origins: Vec::new(),
            trusted_proxies: TrustedProxies::default(),
            payment_database_url: database_url.to_string(),
            payments: PaymentsConfig {
                webhook_secret: platform::Secret::new(SANDBOX_WEBHOOK_SECRET),
                checkout_url: "http://127.0.0.1:8090/v1/checkout/".into(),
                payment_window: Duration::from_secs(900),
                payout_retry_after: Duration::from_secs(900),
            },
            temporal_ui_url: DEV_TEMPORAL_UI.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn services_parse_from_context_names_or_prefixes() {
        assert_eq!("booking, catalog".parse(), Ok(ApiServices(vec![ApiService::Bookings, ApiService::Catalog])));
        assert_eq!("partners".parse::<ApiServices>().map(|s| s.0), Ok(vec![ApiService::Partners]));
        assert!("billing".parse::<ApiServices>().is_err());
        assert!(" , ".parse::<ApiServices>().is_err());
    }
}
