//! Shared state: one facade per context (each owns its pool; no handler holds a pool) and
//! the Temporal client.

use crate::catalog_pages::CatalogPages;
use crate::{
    background::BackgroundWrites,
    error::ApiError,
    proxies::TrustedProxies,
    settings::{ApiService, ApiSettings, PaymentsConfig},
};
use auth::{Accounts, keys::KeyRing, password::Passwords, tokens::TokenSettings, tokens::Tokens};
use axum::extract::FromRef;
use platform::temporal::TemporalSettings;
use std::{sync::Arc, time::Duration};
use temporalio_client::Client;
use tokio::sync::OnceCell;

/// The Temporal client, connected on first use: the API starts (and serves what needs no
/// Temporal, and answers 503 for what does) while the Temporal frontend is still away.
#[derive(Clone)]
pub struct Temporal {
    settings: TemporalSettings,
    client: Arc<OnceCell<Client>>,
}

/// Where operators open a workflow in the Temporal Web UI.
#[derive(Clone, Debug)]
pub struct TemporalUi {
    /// `TT_TEMPORAL_UI_URL`, without a trailing slash.
    pub base_url: String,
    pub namespace: String,
}

impl TemporalUi {
    /// The workflow's page; the id is one path segment, so a `/` in it is escaped.
    pub fn workflow_url(&self, workflow_id: &str) -> String {
        let segment: String = workflow_id
            .bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => char::from(b).to_string(),
                other => format!("%{other:02X}"),
            })
            .collect();
        format!("{}/namespaces/{}/workflows/{segment}", self.base_url, self.namespace)
    }
}

impl Temporal {
    pub fn connected(settings: TemporalSettings, client: Client) -> Self {
        Temporal { settings, client: Arc::new(OnceCell::new_with(Some(client))) }
    }

    pub fn lazy(settings: TemporalSettings) -> Self {
        Temporal { settings, client: Arc::new(OnceCell::new()) }
    }

    /// The key ring the client seals payloads with, for the codec endpoint.
    pub fn payload_keys(&self) -> Option<&platform::payload_codec::PayloadKeys> {
        self.settings.payload_keys.as_ref()
    }

    /// The client, connecting now if no earlier request could. Once connected, the client
    /// itself reconnects after an outage.
    pub async fn client(&self) -> Result<Client, ApiError> {
        let connect = async {
            tokio::time::timeout(Duration::from_secs(3), platform::temporal::connect(&self.settings))
                .await
                .map_err(|_| "connecting timed out".to_string())?
                .map_err(|e| e.to_string())
        };
        self.client.get_or_try_init(|| connect).await.cloned().map_err(|e| {
            tracing::warn!(error = %e, "Temporal unreachable");
            ApiError::unavailable("temporal_unavailable", "Bookings cannot be reached right now; try again shortly")
        })
    }
}

#[derive(Clone, FromRef)]
pub struct AppState {
    pub catalog: catalog::Catalog,
    /// Published catalog pages kept under the catalog's version.
    pub catalog_pages: CatalogPages,
    pub bookings: booking::Bookings,
    pub inventory: inventory::Inventory,
    pub payments: payment::Payments,
    /// What the API needs to know of payments (the checkout window).
    pub payments_config: PaymentsConfig,
    pub temporal: Temporal,
    pub temporal_ui: TemporalUi,
    /// The auth context: accounts, sessions and token checks (its own pool inside).
    pub accounts: Accounts,
    pub proxies: TrustedProxies,
    /// Browser origins allowed to call the API.
    pub cors_origins: Arc<[String]>,
    /// The partner context: partners, keys, rate limits (its own pool inside).
    pub partners: partner::Partners,
    /// The partner API's access log, written off the request path.
    pub partner_log: partner::AccessLog,
    /// Writes requests leave behind after answering; shutdown waits for them.
    pub background: BackgroundWrites,
    /// The pools this process opened, for readiness.
    pub databases: OpenedDatabases,
}

/// The pools an API process opened, by context, in the order of [`database_contexts`].
#[derive(Clone, Default)]
pub struct OpenedDatabases(pub(crate) Arc<[(&'static str, sqlx::PgPool)]>);

impl OpenedDatabases {
    /// The contexts whose pools are open.
    pub fn contexts(&self) -> Vec<&'static str> {
        self.0.iter().map(|(context, _)| *context).collect()
    }
}

/// The contexts whose tables the routes of `service` read or write: its own, and those it
/// reads across contexts through their facades (each such read needs that context's
/// credentials). An API process opens the pools of its services' contexts only.
pub fn contexts_of(service: ApiService) -> &'static [&'static str] {
    match service {
        // Assigning a property to an asset manager checks the catalog knows it.
        ApiService::Auth => &[auth::SCHEMA, catalog::SCHEMA],
        // Availability filters the catalog's search; staff routes confirm the login (auth).
        ApiService::Catalog => &[auth::SCHEMA, catalog::SCHEMA, inventory::SCHEMA],
        // Nights are addressed by the catalog's codes; staff routes confirm the login.
        ApiService::Inventory => &[auth::SCHEMA, catalog::SCHEMA, inventory::SCHEMA],
        // A booking is quoted from the catalog, a package booking checked against its
        // departure's seats (inventory); its money is read from the payment context; every
        // route confirms the login.
        ApiService::Bookings => &[auth::SCHEMA, catalog::SCHEMA, inventory::SCHEMA, booking::SCHEMA, payment::SCHEMA],
        // Webhooks only: the payment context's records (and Temporal).
        ApiService::Payments => &[payment::SCHEMA],
        // Partners book, read and cancel through the booking use cases (catalog, inventory,
        // booking, payment); the admin routes confirm the staff login.
        ApiService::Partners => {
            &[auth::SCHEMA, catalog::SCHEMA, inventory::SCHEMA, booking::SCHEMA, payment::SCHEMA, partner::SCHEMA]
        }
    }
}

/// The contexts whose pools a process serving `services` opens.
pub fn database_contexts(services: &[ApiService]) -> Vec<&'static str> {
    let mut contexts: Vec<&'static str> = Vec::new();
    for context in services.iter().flat_map(|s| contexts_of(*s)) {
        if !contexts.contains(context) {
            contexts.push(context);
        }
    }
    contexts
}

impl AppState {
    /// State for the API process: pools connect lazily, Temporal on first use (tried once
    /// here so a healthy start logs no warning later).
    pub async fn connect(settings: &ApiSettings) -> anyhow::Result<Self> {
        let state = Self::with_temporal(settings, Temporal::lazy(settings.temporal.clone()))?;
        if state.temporal.client().await.is_err() {
            tracing::warn!(address = %settings.temporal.address, "Temporal is not reachable yet; bookings answer 503 until it is");
        }
        Ok(state)
    }

    /// State around an already connected client (tests).
    pub fn new(settings: &ApiSettings, temporal: Client) -> anyhow::Result<Self> {
        Self::with_temporal(settings, Temporal::connected(settings.temporal.clone(), temporal))
    }

    fn with_temporal(settings: &ApiSettings, temporal: Temporal) -> anyhow::Result<Self> {
        let size = settings.db_pool_size;
        let ring = KeyRing::load(&settings.auth.keys_file).map_err(|e| {
            anyhow::anyhow!("{e} (set TT_AUTH_KEYS_FILE; `cargo run -p ops --bin auth-keys -- init <file>` makes one)")
        })?;
        let tokens = Tokens::new(
            ring,
            TokenSettings {
                issuer: settings.auth.issuer.clone(),
                audience: settings.auth.audience.clone(),
                access_ttl: settings.auth.access_ttl,
            },
        );
        // Only the pools of the contexts this process's routes reach; the others stay unopened,
        // and their credentials need not be given to it.
        let needed = database_contexts(&settings.services);
        let mut opened = Vec::new();
        let mut pool = |context: &'static str, url: &str| -> anyhow::Result<sqlx::PgPool> {
            if !needed.contains(&context) {
                return Ok(platform::db::unopened_pool());
            }
            let pool = platform::db::context_pool(url, context, size)?;
            opened.push((context, pool.clone()));
            Ok(pool)
        };
        let auth_pool = pool(auth::SCHEMA, &settings.auth_database_url)?;
        let catalog_pool = pool(catalog::SCHEMA, &settings.catalog_database_url)?;
        let inventory_pool = pool(inventory::SCHEMA, &settings.inventory_database_url)?;
        let booking_pool = pool(booking::SCHEMA, &settings.booking_database_url)?;
        let payment_pool = pool(payment::SCHEMA, &settings.payment_database_url)?;
        let partner_pool = pool(partner::SCHEMA, &settings.partner_database_url)?;
        let sessions = settings.auth.session_settings();
        // Only a process that serves the partner routes writes their access log.
        let partner_log = if settings.services.contains(&ApiService::Partners) {
            partner::AccessLog::start(partner_pool.clone(), partner::access_log::DEFAULT_CAPACITY)
        } else {
            partner::AccessLog::disabled()
        };
        let catalog = catalog::Catalog::new(catalog_pool);
        // Only a process that serves the catalog's routes keeps its pages, and listens for
        // its changes on a connection of its own.
        let catalog_pages = if settings.services.contains(&ApiService::Catalog) {
            CatalogPages::new(catalog.follow_version())
        } else {
            CatalogPages::default()
        };
        Ok(AppState {
            catalog_pages,
            partners: partner::Partners::new(partner_pool),
            partner_log,
            accounts: Accounts::new(auth_pool, Passwords::default(), tokens, sessions),
            proxies: settings.trusted_proxies.clone(),
            cors_origins: settings.cors_origins.clone().into(),
            payments: payment::Payments::new(payment_pool),
            payments_config: settings.payments.clone(),
            catalog,
            bookings: booking::Bookings::new(booking_pool),
            inventory: inventory::Inventory::new(inventory_pool),
            databases: OpenedDatabases(opened.into()),
            temporal_ui: TemporalUi {
                base_url: settings.temporal_ui_url.trim_end_matches('/').to_string(),
                namespace: settings.temporal.namespace.clone(),
            },
            temporal,
            background: BackgroundWrites::default(),
        })
    }
}
