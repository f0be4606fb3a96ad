//! Worker settings from `TT_*` environment variables, with development defaults.

use payment::GatewaySettings;
use platform::{
    EnvError, Environment, Secret,
    env::{optional, var_or},
    temporal::TemporalSettings,
};
use std::{net::SocketAddr, str::FromStr, time::Duration};
use url::Url;

/// The contexts that have activities or workflows to run today.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkerContext {
    Booking,
    Inventory,
    Payment,
    /// Partner settlements: their workflows and the partner context's activities.
    Partner,
}

impl WorkerContext {
    pub const ALL: [WorkerContext; 4] =
        [WorkerContext::Booking, WorkerContext::Inventory, WorkerContext::Payment, WorkerContext::Partner];

    pub fn name(self) -> &'static str {
        match self {
            WorkerContext::Booking => "booking",
            WorkerContext::Inventory => "inventory",
            WorkerContext::Payment => "payment",
            WorkerContext::Partner => "partner",
        }
    }
}

/// The sandbox merchant's payout account; the real one is the gateway account's number.
const DEFAULT_PAYOUT_ACCOUNT: &str = "2323230041626905";

#[derive(Debug, Clone)]
pub struct WorkerSettings {
    pub temporal: TemporalSettings,
    /// `TT_DATABASE_URL`, overridable per context with `TT_<CONTEXT>_DATABASE_URL`.
    pub database_urls: Vec<(WorkerContext, String)>,
    pub db_pool_size: u32,
    pub gateway: GatewaySettings,
    pub hold_ttl: Duration,
    /// How often the hold sweep runs (`TT_HOLD_SWEEP_SECS`), when the booking worker
    /// creates its schedule. An existing schedule keeps its own interval.
    pub hold_sweep_every: Duration,
    /// How often the payment reconciliation runs (`TT_RECONCILE_SECS`, default 900), and
    /// after how long a payment without an outcome counts as stale (`TT_RECONCILE_STALE_SECS`,
    /// default 6 hours: longer than any checkout window and the sagas' retries).
    pub reconcile_every: Duration,
    pub reconcile_stale_after: Duration,
    /// How often the repair sweep looks for booking sagas that stopped without finishing
    /// (`TT_REPAIR_SWEEP_SECS`, default 600), when the booking worker creates its schedule.
    pub repair_sweep_every: Duration,
    pub graceful_shutdown: Duration,
    /// How often the partner worker brings the settlement schedules in line with the
    /// partners table (`TT_SETTLEMENT_SCHEDULE_SYNC_SECS`), besides at start-up.
    pub settlement_sync_every: Duration,
    /// `TT_METRICS_ADDR`: where the Temporal SDK's Prometheus metrics are served (`/metrics`);
    /// unset, no metrics endpoint is opened.
    pub metrics_addr: Option<SocketAddr>,
}

pub(crate) const DEFAULT_GATEWAY_URL: &str = "http://127.0.0.1:8090/";

impl WorkerSettings {
    /// The settings of a process that runs no payment worker (the gateway key is not read).
    pub fn from_env() -> Result<Self, EnvError> {
        Self::from_env_for(&[])
    }

    /// The settings of a process running the workers of `contexts`. In production
    /// (`TT_ENVIRONMENT`) the payment context needs `TT_GATEWAY_KEY_SECRET`; in development
    /// it falls back to the sandbox gateway's.
    pub fn from_env_for(contexts: &[WorkerContext]) -> Result<Self, EnvError> {
        let mut database_urls = Vec::new();
        for context in WorkerContext::ALL {
            database_urls.push((context, platform::db::database_url(context.name())?));
        }
        let (environment, calls_gateway) = (Environment::from_env()?, contexts.contains(&WorkerContext::Payment));
        let key_secret = gateway_key_secret(environment, calls_gateway)?;
        let hold_ttl = Duration::from_secs(var_or("HOLD_TTL_SECS", 30 * 60)?);
        // The API's checkout window (the same variable, read by both): checked here with the
        // hold it must fit in, so a mismatched pair refuses to start instead of charging
        // travellers for rooms whose hold was swept.
        hold_outlives_checkout(hold_ttl, Duration::from_secs(var_or("PAYMENT_WINDOW_SECS", 900)?))?;
        Ok(WorkerSettings {
            temporal: TemporalSettings::from_env()?,
            database_urls,
            db_pool_size: var_or("DB_POOL_SIZE", 10)?,
            gateway: GatewaySettings {
                base_url: var_or("GATEWAY_URL", Url::from_str(DEFAULT_GATEWAY_URL).expect("valid default"))?,
                key_id: var_or("GATEWAY_KEY_ID", "rzp_test_sandbox".to_string())?,
                key_secret: key_secret.expose().to_string(),
                timeout: Duration::from_secs(var_or("GATEWAY_TIMEOUT_SECS", 15)?),
                payout_account: payout_account(environment, calls_gateway)?,
            },
            hold_ttl,
            hold_sweep_every: Duration::from_secs(var_or("HOLD_SWEEP_SECS", 5 * 60)?),
            reconcile_every: Duration::from_secs(var_or("RECONCILE_SECS", 15 * 60)?),
            reconcile_stale_after: Duration::from_secs(var_or("RECONCILE_STALE_SECS", 6 * 3600)?),
            repair_sweep_every: Duration::from_secs(var_or("REPAIR_SWEEP_SECS", 10 * 60)?),
            graceful_shutdown: Duration::from_secs(optional("WORKER_SHUTDOWN_SECS")?.unwrap_or(20)),
            settlement_sync_every: Duration::from_secs(var_or("SETTLEMENT_SCHEDULE_SYNC_SECS", 300)?),
            metrics_addr: optional("METRICS_ADDR")?,
        })
    }

    pub fn database_url(&self, context: WorkerContext) -> Result<String, EnvError> {
        self.database_urls.iter().find(|(c, _)| *c == context).map(|(_, url)| url.clone()).ok_or_else(|| EnvError {
            name: format!("TT_{}_DATABASE_URL", context.name().to_ascii_uppercase()),
            problem: "not set".into(),
        })
    }
}

/// `TT_GATEWAY_KEY_SECRET`: required in production by a process that calls the gateway; in
/// development the sandbox gateway's; in a production process that never calls the gateway,
/// empty when unset.
fn gateway_key_secret(environment: Environment, calls_gateway: bool) -> Result<Secret, EnvError> {
    if calls_gateway {
        return environment.secret(
            "GATEWAY_KEY_SECRET",
            SANDBOX_GATEWAY_KEY_SECRET,
            "the payment gateway's API key secret",
        );
    }
    Ok(optional("GATEWAY_KEY_SECRET")?.unwrap_or_else(|| Secret::new("")))
}

/// The account settlements are paid from: required in production by the payment worker,
/// the sandbox's in development.
fn payout_account(environment: Environment, calls_gateway: bool) -> Result<String, EnvError> {
    match optional("GATEWAY_PAYOUT_ACCOUNT")? {
        Some(account) => Ok(account),
        None if environment == Environment::Development || !calls_gateway => Ok(DEFAULT_PAYOUT_ACCOUNT.to_string()),
        None => Err(EnvError {
            name: "TT_GATEWAY_PAYOUT_ACCOUNT".into(),
            problem: "not set: the payment worker pays partners' settlements from this account".into(),
        }),
    }
}

/// The sandbox gateway's key secret: public, for development only.
const SANDBOX_GATEWAY_KEY_SECRET: &str = "sandbox_secret";

/// What a saga does after its checkout window closes before it confirms the rooms: the last
/// read of the gateway, the capture, the confirmation — with retries through a blip.
const CONFIRMATION_MARGIN: Duration = Duration::from_secs(5 * 60);

/// A hold must outlive the checkout window by [`CONFIRMATION_MARGIN`]: a payment made at the
/// window's last second still finds its rooms held.
fn hold_outlives_checkout(hold_ttl: Duration, payment_window: Duration) -> Result<(), EnvError> {
    if hold_ttl >= payment_window + CONFIRMATION_MARGIN {
        return Ok(());
    }
    Err(EnvError {
        name: "TT_HOLD_TTL_SECS".into(),
        problem: format!(
            "a hold of {} s does not outlive the checkout window (TT_PAYMENT_WINDOW_SECS = {} s) by {} s",
            hold_ttl.as_secs(),
            payment_window.as_secs(),
            CONFIRMATION_MARGIN.as_secs()
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn production_needs_the_gateway_key_only_where_the_gateway_is_called() {
        // The test process sets no `TT_GATEWAY_KEY_SECRET`.
        let refused = gateway_key_secret(Environment::Production, true).unwrap_err();
        assert_eq!(refused.name, "TT_GATEWAY_KEY_SECRET");
        assert!(refused.problem.contains("TT_ENVIRONMENT=development"), "{}", refused.problem);
        assert_eq!(gateway_key_secret(Environment::Development, true).unwrap().expose(), SANDBOX_GATEWAY_KEY_SECRET);
        assert_eq!(gateway_key_secret(Environment::Production, false).unwrap().expose(), "");
    }

    #[test]
    fn a_hold_must_outlive_the_checkout_window_by_the_margin() {
        let minutes = |m: u64| Duration::from_secs(m * 60);
        assert!(hold_outlives_checkout(minutes(30), minutes(15)).is_ok());
        assert!(hold_outlives_checkout(minutes(20), minutes(15)).is_ok());
        let refused = hold_outlives_checkout(minutes(19), minutes(15)).unwrap_err();
        assert_eq!(refused.name, "TT_HOLD_TTL_SECS");
        assert!(refused.problem.contains("900 s"), "{}", refused.problem);
    }
}
