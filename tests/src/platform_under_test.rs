use crate::database::{
    DatabaseLayout, TestDatabase, spawn_sandbox_gateway_with_webhooks, test_keys_file, test_payload_keys,
};
use crate::helpers::{body_of, booking_ref_of, eventually, json_of};
use anyhow::Context;
use chrono::{Duration as Days, NaiveDate};
use contracts::temporal::SEARCH_ATTRIBUTES;
use futures::TryStreamExt;
use payment::{GatewayClient, GatewaySettings};
use platform::temporal::TemporalSettings;
use serde_json::{Value, json};
use sqlx::PgPool;
use std::{net::SocketAddr, path::PathBuf, str::FromStr, thread::JoinHandle, time::Duration};
use temporalio_client::{
    Client, WorkflowFetchHistoryOptions, WorkflowHistory, WorkflowListOptions, schedules::ScheduleOverlapPolicy,
};
use temporalio_sdk::{
    testing::{EphemeralExe, LocalServer, LocalWorkflowEnvironmentOptions, WorkflowEnvironment},
    workflow_replayer::{WorkflowReplayer, WorkflowReplayerOptions},
};
use tokio::sync::oneshot;
use url::Url;
use workers::{WorkerContext, WorkerSettings};

/// The accommodation and room type the tests book: 4 500 ₹ a night, two guests a room.
pub fn demo_room() -> (&'static str, &'static str) {
    ("ujjayanta-heritage-hotel", "deluxe_double")
}

/// A booking request body for the demo room paid on the gateway's hosted checkout.
pub fn checkout_body(days_ahead: i64, nights: i64) -> Value {
    let mut body = booking_body(days_ahead, nights, 1, "tok_unused");
    body["payment"] = json!({ "method": "checkout" });
    body
}

/// The signature the sandbox gateway puts on a webhook `body` (hex HMAC-SHA256 under its
/// default webhook secret).
pub fn gateway_signature(body: &[u8]) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(sandbox_gateway::DEFAULT_WEBHOOK_SECRET.as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// A valid booking request body for the demo room, `days_ahead` from today.
pub fn booking_body(days_ahead: i64, nights: i64, rooms: u32, card_token: &str) -> Value {
    let (accommodation, room_type) = demo_room();
    let check_in = contracts::india::today() + Days::days(days_ahead);
    json!({
        "accommodation": accommodation,
        "room_type": room_type,
        "check_in": check_in,
        "check_out": check_in + Days::days(nights),
        "rooms": rooms,
        "guests": rooms,
        "lead_traveller": { "name": "Ananya Debbarma", "email": "ananya@example.in", "phone": "+919876543210" },
        "payment": { "method": "card", "card_token": card_token },
    })
}

pub struct TestPlatformOptions {
    /// Rooms per night of every demo room type.
    pub rooms_per_night: i32,
    /// The worker contexts started with the platform.
    pub worker_contexts: Vec<WorkerContext>,
    /// How long a checkout payment may take before the booking expires.
    pub payment_window: Duration,
    /// How long a hold counts (the inventory worker's `TT_HOLD_TTL_SECS`).
    pub hold_ttl: Duration,
    /// One database or one per context; one role or one per context.
    pub databases: DatabaseLayout,
}

impl Default for TestPlatformOptions {
    fn default() -> Self {
        TestPlatformOptions {
            rooms_per_night: 8,
            worker_contexts: WorkerContext::ALL.to_vec(),
            payment_window: Duration::from_secs(900),
            hold_ttl: Duration::from_secs(1200),
            databases: DatabaseLayout::default(),
        }
    }
}

impl TestPlatformOptions {
    /// The defaults, with workers for `contexts` only.
    pub fn with_workers(contexts: &[WorkerContext]) -> Self {
        TestPlatformOptions { worker_contexts: contexts.to_vec(), ..Default::default() }
    }

    /// The defaults without any worker: the test starts them when it needs them, or never.
    pub fn without_workers() -> Self {
        Self::with_workers(&[])
    }
}

/// The password of every user the tests create.
/// The browser origin the API allows in tests, as the dev stack allows its Web UI's.
pub const WEB_UI_ORIGIN: &str = "http://127.0.0.1:8233";

pub const TEST_PASSWORD: &str = "Tripura-test-password";

/// A signed-in user of the platform under test.
#[derive(Debug, Clone, Default)]
pub struct Session {
    pub user_id: String,
    pub email: String,
    pub access_token: String,
    pub refresh_token: String,
}

impl Session {
    fn from_tokens(email: &str, body: &Value) -> anyhow::Result<Self> {
        let field = |name: &str| body[name].as_str().map(str::to_owned).with_context(|| format!("no {name} in {body}"));
        Ok(Session {
            user_id: field("user_id")?,
            email: email.to_string(),
            access_token: field("access_token")?,
            refresh_token: field("refresh_token")?,
        })
    }
}

/// One running platform with its own database and Temporal server.
pub struct TestPlatform {
    pub api_url: String,
    pub http: reqwest::Client,
    /// A client as the platform's processes have it: payloads sealed and opened with the
    /// test key ring.
    pub client: Client,
    /// A client without the key ring: it sees what the Temporal server stores.
    pub raw_client: Client,
    pub gateway: GatewayClient,
    pub catalog_db: PgPool,
    pub inventory_db: PgPool,
    pub booking_db: PgPool,
    pub payment_db: PgPool,
    pub auth_db: PgPool,
    pub partner_db: PgPool,
    /// The traveller `post_booking` and `get_booking` act as.
    pub traveller: Session,
    database: Option<TestDatabase>,
    temporal_address: Url,
    gateway_settings: GatewaySettings,
    payment_window: Duration,
    hold_ttl: Duration,
    env: Option<WorkflowEnvironment<LocalServer>>,
    stops: Vec<oneshot::Sender<()>>,
    worker_threads: Vec<(oneshot::Sender<()>, JoinHandle<()>)>,
}

/// A replayer of every workflow of the platform, decoding payloads with the test key.
pub fn codec_replayer() -> anyhow::Result<WorkflowReplayer> {
    Ok(WorkflowReplayer::new(
        WorkflowReplayerOptions::new()
            .register_workflow::<sagas::BookingWorkflow>()?
            .register_workflow::<sagas::PackageBookingWorkflow>()?
            .register_workflow::<sagas::HoldSweepWorkflow>()?
            .register_workflow::<sagas::AutoRefundWorkflow>()?
            .register_workflow::<sagas::ManualRefundWorkflow>()?
            .register_workflow::<sagas::WebhookResolutionWorkflow>()?
            .register_workflow::<sagas::CancellationWorkflow>()?
            .register_workflow::<sagas::ReconcilePaymentsWorkflow>()?
            .register_workflow::<sagas::RepairBookingWorkflow>()?
            .register_workflow::<sagas::RepairSweepWorkflow>()?
            .register_workflow::<sagas::PartnerSettlementWorkflow>()?
            .register_workflow::<sagas::SettlementPayoutWorkflow>()?
            .register_workflow::<sagas::PartnerSettlementCycleWorkflow>()?
            .data_converter(platform::temporal::data_converter(Some(&test_payload_keys())))
            .build(),
    )?)
}

pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The dev server's flags, shared with the dev stack (`temporal/dev-server.flags`).
pub fn dev_server_flags() -> anyhow::Result<Vec<String>> {
    let text = std::fs::read_to_string(workspace_root().join("temporal/dev-server.flags"))?;
    let mut args = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
        let (flag, value) = line.split_once(' ').context("each flag line is `--flag value`")?;
        args.push(flag.to_string());
        args.push(value.trim().to_string());
    }
    Ok(args)
}

/// Every search attribute the contracts name is registered by the shared flags.
pub fn registered_search_attributes() -> anyhow::Result<Vec<String>> {
    let flags = dev_server_flags()?;
    Ok(flags.chunks(2).filter(|p| p[0] == "--search-attribute").map(|p| p[1].clone()).collect())
}

#[doc(hidden)]
pub fn contract_search_attributes() -> Vec<String> {
    SEARCH_ATTRIBUTES.iter().map(|(n, t)| format!("{n}={t}")).collect()
}

/// How every process of the test platform reaches Temporal: the test payload keys, and gRPC
/// compression as deployed (off) unless `TT_TEMPORAL_GRPC_GZIP` is set.
fn temporal_settings(address: Url) -> TemporalSettings {
    TemporalSettings {
        address,
        namespace: "default".into(),
        payload_keys: Some(test_payload_keys()),
        environment: platform::Environment::Development,
        grpc_gzip: platform::temporal::grpc_gzip_from_env().expect("TT_TEMPORAL_GRPC_GZIP is true or false"),
    }
}

/// A free port for a Temporal dev server's frontend, taken below the kernel's ephemeral
/// range. The dev server picks its own internal ports by binding port 0, which hands out
/// ephemeral ports: a frontend port from that range could be handed out again before the
/// server binds it, and the server then crashes on its own port.
fn free_port() -> anyhow::Result<u16> {
    let ephemeral_low = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|range| range.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32768);
    let low = 10_000u16.min(ephemeral_low.saturating_sub(1_000));
    for _ in 0..200 {
        let port = low + (rand::random::<u16>() % (ephemeral_low - low));
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return Ok(port);
        }
    }
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

impl TestPlatform {
    pub async fn spawn() -> anyhow::Result<Self> {
        Self::spawn_with(TestPlatformOptions::default()).await
    }

    pub async fn spawn_with(options: TestPlatformOptions) -> anyhow::Result<Self> {
        platform::telemetry::init_for_tests();
        let database = TestDatabase::create_with(options.rooms_per_night, options.databases).await?;

        // Temporal: the project's dev server, in memory, on a free port.
        let temporal_bin = std::env::var("TT_TEMPORAL_BIN")
            .map(PathBuf::from)
            .unwrap_or_else(|_| workspace_root().join(".tools/venv/bin/temporal"));
        anyhow::ensure!(temporal_bin.exists(), "no Temporal CLI at {} (run `make bootstrap`)", temporal_bin.display());
        let mut extra_args: Vec<String> = dev_server_flags()?.into_iter().collect();
        // Pragmas apply to a file database only; tests run in memory.
        strip_flag(&mut extra_args, "--sqlite-pragma");
        // The SDK gives the server 5 s to answer, which a 2-core machine starting several
        // test platforms at once can miss; it kills a server that missed it, so try again
        // on a fresh port.
        let mut attempt = 1;
        let (env, port) = loop {
            let port = free_port()?;
            let started = WorkflowEnvironment::start_local(
                LocalWorkflowEnvironmentOptions::builder()
                    .server_executable(EphemeralExe::ExistingPath(temporal_bin.to_string_lossy().into_owned()))
                    .port(port)
                    .extra_args(extra_args.clone())
                    .build(),
            )
            .await;
            match started {
                Ok(env) => break (env, port),
                Err(e) if attempt < 3 => {
                    eprintln!("the Temporal dev server did not start (attempt {attempt}), trying again: {e}");
                    attempt += 1;
                }
                Err(e) => return Err(e.into()),
            }
        };
        let raw_client = env.client().clone();
        let temporal_address = Url::from_str(&format!("http://127.0.0.1:{port}"))?;
        let client = platform::temporal::connect(&temporal_settings(temporal_address.clone())).await?;

        let mut stops = Vec::new();
        // The API's address is fixed first: the sandbox gateway sends its webhooks there.
        let api_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let webhook_url = format!("http://{}/api/payments/webhooks/gateway", api_listener.local_addr()?);
        let (gateway_settings, stop) = spawn_sandbox_gateway_with_webhooks(Some(webhook_url)).await?;
        stops.push(stop);

        let mut platform = TestPlatform {
            api_url: String::new(),
            http: reqwest::Client::builder().timeout(Duration::from_secs(40)).build()?,
            gateway: GatewayClient::new(gateway_settings.clone())?,
            client,
            raw_client,
            catalog_db: database.catalog.clone(),
            inventory_db: database.inventory.clone(),
            booking_db: database.booking.clone(),
            payment_db: database.payment.clone(),
            auth_db: database.auth.clone(),
            partner_db: database.partner.clone(),
            traveller: Session::default(),
            database: Some(database),
            temporal_address,
            gateway_settings,
            payment_window: options.payment_window,
            hold_ttl: options.hold_ttl,
            env: Some(env),
            stops,
            worker_threads: Vec::new(),
        };
        platform.api_url = platform.serve_api(api_listener, &api::ApiService::ALL, None, test_keys_file()?).await?;
        platform.traveller = platform.sign_up(&format!("traveller-{}@example.in", uuid::Uuid::new_v4())).await?;
        platform.start_workers(&options.worker_contexts)?;
        Ok(platform)
    }

    /// Starts one more API process serving `services`, like one deployment behind the
    /// Ingress; returns its base URL.
    pub async fn spawn_api(&mut self, services: &[api::ApiService]) -> anyhow::Result<String> {
        self.spawn_api_at(services, None).await
    }

    /// As [`Self::spawn_api`], but connecting to Temporal at `temporal_address` on its own,
    /// as the API process does (a dead address shows the API without Temporal).
    pub async fn spawn_api_at(
        &mut self,
        services: &[api::ApiService],
        temporal_address: Option<Url>,
    ) -> anyhow::Result<String> {
        self.spawn_api_with(services, temporal_address, test_keys_file()?).await
    }

    /// As [`Self::spawn_api_at`], with the token key ring in `keys_file`.
    pub async fn spawn_api_with(
        &mut self,
        services: &[api::ApiService],
        temporal_address: Option<Url>,
        keys_file: PathBuf,
    ) -> anyhow::Result<String> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        self.serve_api(listener, services, temporal_address, keys_file).await
    }

    async fn serve_api(
        &mut self,
        listener: tokio::net::TcpListener,
        services: &[api::ApiService],
        temporal_address: Option<Url>,
        keys_file: PathBuf,
    ) -> anyhow::Result<String> {
        let url = format!("http://{}", listener.local_addr()?);
        let database_url = self.database_url();
        let temporal = temporal_settings(temporal_address.clone().unwrap_or_else(|| self.temporal_address.clone()));
        let mut settings = api::ApiSettings::single_database(
            listener.local_addr()?,
            services.to_vec(),
            temporal,
            &database_url,
            keys_file,
        );
        settings.db_pool_size = 4;
        settings.auth_database_url = self.context_url(auth::SCHEMA);
        settings.catalog_database_url = self.context_url(catalog::SCHEMA);
        settings.inventory_database_url = self.context_url(inventory::SCHEMA);
        settings.booking_database_url = self.context_url(booking::SCHEMA);
        settings.payment_database_url = self.context_url(payment::SCHEMA);
        settings.partner_database_url = self.context_url(partner::SCHEMA);
        // The dev stack's Temporal Web UI, whose codec requests cross origins.
        settings.cors_origins = vec![WEB_UI_ORIGIN.to_string()];
        settings.payments.checkout_url = format!("{}v1/checkout/", self.gateway_settings.base_url);
        settings.payments.payment_window = self.payment_window;
        // A payout the bank turned back is paid again after a second, not a quarter hour.
        settings.payments.payout_retry_after = std::time::Duration::from_secs(1);
        let state = match temporal_address {
            Some(_) => api::AppState::connect(&settings).await?,
            None => api::AppState::new(&settings, self.client.clone())?,
        };
        let (stop, stopped) = oneshot::channel();
        self.stops.push(stop);
        let services = services.to_vec();
        tokio::spawn(async move {
            api::run(state, &services, listener, async {
                stopped.await.ok();
            })
            .await
        });
        Ok(url)
    }

    /// Starts a worker process's worth of workers for `contexts`, on a thread of its own
    /// (Temporal workers are not `Send`).
    pub fn start_workers(&mut self, contexts: &[WorkerContext]) -> anyhow::Result<()> {
        self.start_workers_with_metrics(contexts, None)
    }

    /// As [`Self::start_workers`], serving the workers' Prometheus metrics at `metrics_addr`.
    pub fn start_workers_with_metrics(
        &mut self,
        contexts: &[WorkerContext],
        metrics_addr: Option<SocketAddr>,
    ) -> anyhow::Result<()> {
        if contexts.is_empty() {
            return Ok(());
        }
        let settings = WorkerSettings {
            temporal: temporal_settings(self.temporal_address.clone()),
            database_urls: WorkerContext::ALL.iter().map(|c| (*c, self.context_url(c.name()))).collect(),
            db_pool_size: 4,
            gateway: self.gateway_settings.clone(),
            hold_ttl: self.hold_ttl,
            hold_sweep_every: Duration::from_secs(300),
            reconcile_every: Duration::from_secs(900),
            reconcile_stale_after: Duration::from_secs(3600),
            repair_sweep_every: Duration::from_secs(600),
            graceful_shutdown: Duration::from_secs(2),
            settlement_sync_every: Duration::from_secs(300),
            metrics_addr,
        };
        // Named after the contexts, so a profile or a benchmark can tell each worker's CPU
        // (the kernel keeps 15 bytes of a thread's name).
        let thread_name = format!("tt-w-{}", contexts.iter().map(|c| c.name()).collect::<Vec<_>>().join("+"));
        let contexts = contexts.to_vec();
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new().name(thread_name.clone()).spawn(move || {
            // `TT_WORKER_THREADS=1`: one thread, as a worker on a one-core pod would run.
            let threads: usize = std::env::var("TT_WORKER_THREADS").ok().and_then(|t| t.parse().ok()).unwrap_or(2);
            let mut builder = if threads == 1 {
                tokio::runtime::Builder::new_current_thread()
            } else {
                let mut builder = tokio::runtime::Builder::new_multi_thread();
                builder.worker_threads(threads);
                builder
            };
            let runtime = builder.thread_name(thread_name).enable_all().build().expect("worker runtime");
            runtime.block_on(async move {
                let client =
                    platform::temporal::connect(&settings.temporal).await.expect("workers connect to Temporal");
                if let Err(e) = workers::run(&settings, &contexts, client, async {
                    stopped.await.ok();
                })
                .await
                {
                    eprintln!("workers stopped with an error: {e:#}");
                }
            });
        })?;
        self.worker_threads.push((stop, thread));
        Ok(())
    }

    /// As [`Self::start_workers_with_metrics`], on a free port; returns the metrics' address.
    pub fn start_workers_serving_metrics(&mut self, contexts: &[WorkerContext]) -> anyhow::Result<SocketAddr> {
        let addr = SocketAddr::from(([127, 0, 0, 1], free_port()?));
        self.start_workers_with_metrics(contexts, Some(addr))?;
        Ok(addr)
    }

    /// A Temporal client of its own, as the platform's processes connect, whose connection
    /// runs on the caller's runtime (the shared [`Self::client`] runs on the runtime that
    /// spawned the platform).
    pub async fn connect_temporal(&self) -> anyhow::Result<temporalio_client::Client> {
        Ok(platform::temporal::connect(&temporal_settings(self.temporal_address.clone())).await?)
    }

    /// The environment a worker process of this platform runs with (its `TT_*` settings).
    pub fn worker_process_env(&self) -> Vec<(String, String)> {
        vec![
            ("TT_TEMPORAL_ADDRESS".into(), self.temporal_address.to_string()),
            ("TT_TEMPORAL_NAMESPACE".into(), "default".into()),
            ("TT_DATABASE_URL".into(), self.database_url()),
            ("TT_DB_POOL_SIZE".into(), "4".into()),
            ("TT_GATEWAY_URL".into(), self.gateway_settings.base_url.to_string()),
            ("TT_GATEWAY_KEY_ID".into(), self.gateway_settings.key_id.clone()),
            ("TT_GATEWAY_KEY_SECRET".into(), self.gateway_settings.key_secret.clone()),
            ("TT_WORKER_SHUTDOWN_SECS".into(), "1".into()),
            ("TT_PAYLOAD_KEYS".into(), crate::database::TEST_PAYLOAD_KEYS.into()),
            // Processes of the tests may use development stand-ins for secrets they lack.
            ("TT_ENVIRONMENT".into(), "development".into()),
        ]
    }

    /// The sandbox gateway's base URL (ends with `/`).
    pub fn gateway_url(&self) -> String {
        self.gateway_settings.base_url.to_string()
    }

    /// Sets the sandbox gateway's faults (`{}` clears them).
    pub async fn set_gateway_faults(&self, faults: Value) {
        let url = format!("{}v1/sandbox/faults", self.gateway_url());
        let response = self.http.post(url).json(&faults).send().await.unwrap();
        assert!(response.status().is_success(), "faults refused: {}", response.text().await.unwrap());
    }

    /// How many faults the sandbox gateway injected since its switches were last set.
    pub async fn gateway_faults_injected(&self) -> Value {
        json_of(self.http.get(format!("{}v1/sandbox/faults/injected", self.gateway_url()))).await
    }

    /// The sandbox gateway's own books: every order with its captures and refunds, and the
    /// totals over all of them.
    pub async fn gateway_ledger(&self) -> Value {
        json_of(self.http.get(format!("{}v1/sandbox/ledger", self.gateway_url()))).await
    }

    /// Every webhook delivery the sandbox gateway made or is still making, with its state.
    pub async fn gateway_webhooks(&self) -> Value {
        json_of(self.http.get(format!("{}v1/sandbox/webhooks", self.gateway_url()))).await
    }

    /// Books two nights `days_ahead` on the checkout and waits for the checkout to open
    /// (once the saga has held the rooms and opened the order): the reference and the view.
    pub async fn start_checkout_booking(&self, days_ahead: i64) -> (String, Value) {
        let booking_ref = self.book(&checkout_body(days_ahead, 2)).await;
        let view = eventually("a checkout to open", async || {
            let (_, view) = self.get_booking(&booking_ref, 0).await.unwrap();
            if view["checkout"].is_object() { Ok(view) } else { Err(view) }
        })
        .await;
        (booking_ref, view)
    }

    /// The traveller pays on the checkout at `pay_url` with `card_token`.
    pub async fn pay_checkout(&self, pay_url: &str, card_token: &str) -> (u16, Value) {
        let request = self.http.post(format!("{pay_url}/pay")).json(&json!({ "card_token": card_token }));
        body_of(request.send().await.unwrap()).await
    }

    /// Every webhook event the API applied, `(event, outcome)`, in arrival order.
    pub async fn webhook_outcomes(&self) -> Vec<(String, String)> {
        sqlx::query_as("SELECT event, outcome FROM webhook_events ORDER BY received_at")
            .fetch_all(&self.payment_db)
            .await
            .unwrap()
    }

    /// Every webhook delivery the sandbox gateway made, once none is still pending.
    pub async fn all_webhooks_delivered(&self) -> Vec<Value> {
        eventually("every webhook to be delivered", async || {
            let log = self.gateway_webhooks().await;
            let items = log["items"].as_array().cloned().unwrap_or_default();
            if !items.is_empty() && items.iter().all(|d| d["state"] == "delivered") { Ok(items) } else { Err(log) }
        })
        .await
    }

    /// Posts `body` to the API's webhook as event `event_id`, signed as the gateway signs.
    pub async fn post_signed_webhook(&self, body: &Value, event_id: &str) -> (u16, Value) {
        let signature = gateway_signature(&serde_json::to_vec(body).unwrap());
        self.post_webhook(body, event_id, Some(signature)).await
    }

    /// Posts `body` to the API's webhook as event `event_id`, with `signature` (none: the
    /// header is left out).
    pub async fn post_webhook(&self, body: &Value, event_id: &str, signature: Option<String>) -> (u16, Value) {
        let raw = serde_json::to_vec(body).unwrap();
        let mut request = self
            .http
            .post(format!("{}/api/payments/webhooks/gateway", self.api_url))
            .header("content-type", "application/json")
            .header("x-razorpay-event-id", event_id)
            .body(raw);
        if let Some(signature) = signature {
            request = request.header("x-razorpay-signature", signature);
        }
        body_of(request.send().await.unwrap()).await
    }

    /// An HTTP client that sends `session`'s access token on every request.
    pub fn http_as(&self, session: &Session) -> reqwest::Client {
        let mut headers = reqwest::header::HeaderMap::new();
        let value = format!("Bearer {}", session.access_token);
        headers.insert(reqwest::header::AUTHORIZATION, value.parse().expect("a token is a valid header value"));
        reqwest::Client::builder()
            .timeout(Duration::from_secs(40))
            .default_headers(headers)
            .build()
            .expect("the TLS-free client builds")
    }

    /// Registers a traveller through the API and returns their session.
    pub async fn sign_up(&self, email: &str) -> anyhow::Result<Session> {
        let body = json!({ "email": email, "password": TEST_PASSWORD, "full_name": "Test Traveller" });
        let response = self.http.post(format!("{}/api/auth/register", self.api_url)).json(&body).send().await?;
        anyhow::ensure!(response.status() == 201, "sign-up answered {}", response.status());
        Session::from_tokens(email, &response.json().await?)
    }

    /// Logs in through the API.
    pub async fn log_in(&self, email: &str, password: &str) -> anyhow::Result<reqwest::Response> {
        let body = json!({ "email": email, "password": password });
        Ok(self.http.post(format!("{}/api/auth/login", self.api_url)).json(&body).send().await?)
    }

    /// A new user holding `role` (created in the auth context as an admin would), signed in
    /// through the API.
    pub async fn user_with_role(&self, role: &str) -> anyhow::Result<Session> {
        let email = format!("{role}-{}@example.in", uuid::Uuid::new_v4());
        let passwords = auth::password::Passwords::default();
        auth::accounts::ensure_user(&self.auth_db, &passwords, &email, "Test User", TEST_PASSWORD, role).await?;
        let response = self.log_in(&email, TEST_PASSWORD).await?;
        anyhow::ensure!(response.status() == 200, "login answered {}", response.status());
        Session::from_tokens(&email, &response.json().await?)
    }

    pub async fn post_booking(&self, body: &Value, idempotency_key: Option<&str>) -> anyhow::Result<reqwest::Response> {
        self.post_booking_as(&self.traveller, body, idempotency_key).await
    }

    pub async fn post_booking_as(
        &self,
        session: &Session,
        body: &Value,
        idempotency_key: Option<&str>,
    ) -> anyhow::Result<reqwest::Response> {
        let mut request =
            self.http.post(format!("{}/api/bookings", self.api_url)).bearer_auth(&session.access_token).json(body);
        if let Some(key) = idempotency_key {
            request = request.header("Idempotency-Key", key);
        }
        Ok(request.send().await?)
    }

    /// Posts `body` as the traveller without an idempotency key; returns the reference of the
    /// booking the API accepted.
    pub async fn book(&self, body: &Value) -> String {
        booking_ref_of(self.post_booking(body, None).await.unwrap()).await
    }

    pub async fn get_booking(&self, booking_ref: &str, wait_secs: u64) -> anyhow::Result<(u16, Value)> {
        let response = self.read_booking_at(&self.api_url, booking_ref, wait_secs).await?;
        Ok((response.status().as_u16(), response.json().await?))
    }

    /// The traveller's read of a booking through the API at `api_url`, headers and all.
    pub async fn read_booking_at(
        &self,
        api_url: &str,
        booking_ref: &str,
        wait_secs: u64,
    ) -> anyhow::Result<reqwest::Response> {
        Ok(self
            .http
            .get(format!("{api_url}/api/bookings/{booking_ref}?wait={wait_secs}"))
            .bearer_auth(&self.traveller.access_token)
            .send()
            .await?)
    }

    /// Polls the booking until its status is one of `statuses`, for at most a minute.
    pub async fn wait_for_status(&self, booking_ref: &str, statuses: &[&str]) -> anyhow::Result<Value> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            let (code, body) = self.get_booking(booking_ref, 5).await?;
            if code == 200 && statuses.iter().any(|s| body["status"] == *s) {
                return Ok(body);
            }
            anyhow::ensure!(
                tokio::time::Instant::now() < deadline,
                "booking {booking_ref} never reached {statuses:?}; last: {code} {body}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Nights of the demo room type in `[from, to)`.
    pub async fn availability(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> anyhow::Result<Vec<inventory::store::NightAvailability>> {
        let (accommodation, room_type) = demo_room();
        let offer = catalog::store::find_offer(&self.catalog_db, accommodation, room_type)
            .await?
            .context("demo room exists")?;
        Ok(inventory::store::availability(&self.inventory_db, offer.accommodation_id, room_type, from, to).await?)
    }

    /// Sets the demo room type's allotment for `[from, to)`.
    pub async fn set_allotment(&self, from: NaiveDate, to: NaiveDate, rooms: i32) -> anyhow::Result<()> {
        let (accommodation, room_type) = demo_room();
        let offer = catalog::store::find_offer(&self.catalog_db, accommodation, room_type)
            .await?
            .context("demo room exists")?;
        inventory::store::set_allotment(&self.inventory_db, offer.accommodation_id, room_type, from, to, rooms).await?;
        Ok(())
    }

    /// What the gateway itself holds for a booking: every payment on every order the
    /// payment context created for it.
    pub async fn gateway_payments(&self, booking_ref: &str) -> anyhow::Result<Vec<payment::gateway::Payment>> {
        let booking_ref = contracts::BookingRef::parse(booking_ref)?;
        let mut all = Vec::new();
        for row in payment::store::payments_of_booking(&self.payment_db, &booking_ref).await? {
            if let Some(order) = row.gateway_order_id {
                all.extend(self.gateway.order_payments(&order).await?);
            }
        }
        Ok(all)
    }

    /// Fetches the booking's workflow history and replays it against today's workflow code;
    /// with `TT_RECORD_HISTORIES=1`, also keeps it as a replay fixture under `name`.
    pub async fn replay_history(&self, booking_ref: &str, name: &str) -> anyhow::Result<()> {
        let booking_ref = contracts::BookingRef::parse(booking_ref)?;
        self.replay_workflow_history(&booking_ref.workflow_id(), name).await
    }

    /// As [`Self::replay_history`], for any of the platform's workflows by id.
    pub async fn replay_workflow_history(&self, workflow_id: &str, name: &str) -> anyhow::Result<()> {
        let handle = self.client.get_workflow_handle::<sagas::BookingWorkflow>(workflow_id.to_string());
        let json = handle.fetch_history(WorkflowFetchHistoryOptions::default()).to_json().await?;
        let replayer = codec_replayer()?;
        replayer.replay_workflow(WorkflowHistory::from_json(&json)?).await?;
        if std::env::var("TT_RECORD_HISTORIES").is_ok_and(|v| v == "1") {
            // Each fixture twice: in plaintext, which replays without any key (the sagas
            // crate's own test), and sealed as the server stored it, which replays through
            // the codec with the test key (`sealed_histories.rs`).
            let dir = workspace_root().join("workflows/sagas/tests/histories");
            std::fs::write(dir.join(format!("{name}.json")), decrypt_history(&json).await?)?;
            std::fs::write(dir.join(format!("sealed/{name}.json")), &json)?;
        }
        Ok(())
    }

    /// The raw history of a workflow, as the Temporal server stores it.
    pub async fn raw_history_json(&self, workflow_id: &str) -> anyhow::Result<Vec<u8>> {
        let handle = self.raw_client.get_workflow_handle::<sagas::BookingWorkflow>(workflow_id.to_string());
        Ok(handle.fetch_history(WorkflowFetchHistoryOptions::default()).to_json().await?)
    }

    /// Triggers the schedule `id` once it exists: workers create their schedules in the
    /// background as they start.
    pub async fn trigger_schedule(&self, id: &str) {
        let schedule = self.client.get_schedule_handle(id);
        eventually(&format!("the schedule {id} to exist"), async || {
            schedule.trigger(ScheduleOverlapPolicy::Unspecified, Default::default()).await.map_err(|e| e.to_string())
        })
        .await;
    }

    /// The ids of the workflows (ten at the most) the visibility query `query` finds now.
    pub async fn find_workflows(&self, query: &str) -> Vec<String> {
        let found: Vec<_> = self
            .client
            .list_workflows(query, WorkflowListOptions::builder().limit(10).build())
            .try_collect()
            .await
            .unwrap();
        found.iter().map(|w| w.id().to_string()).collect()
    }

    /// The id of a completed run of the workflow type `workflow_type`, once there is one.
    pub async fn completed_run_id(&self, workflow_type: &str) -> String {
        let query = format!("WorkflowType = '{workflow_type}' AND ExecutionStatus = 'Completed'");
        eventually(&format!("a completed {workflow_type} run"), async || {
            self.find_workflows(&query).await.into_iter().next().ok_or("none yet")
        })
        .await
    }

    /// Every row of every table of every context's schema, as text: where a secret stored
    /// in clear text would show.
    pub async fn whole_database_text(&self) -> String {
        let tables: Vec<(String, String)> = sqlx::query_as(
            "SELECT table_schema, table_name FROM information_schema.tables
             WHERE table_schema IN ('auth', 'catalog', 'inventory', 'booking', 'payment', 'partner')
               AND table_type = 'BASE TABLE'",
        )
        .fetch_all(&self.auth_db)
        .await
        .unwrap();
        let mut all = String::new();
        for (schema, table) in tables {
            let text: Option<String> =
                sqlx::query_scalar(&format!("SELECT string_agg(t::text, ' ') FROM \"{schema}\".\"{table}\" t"))
                    .fetch_one(&self.auth_db)
                    .await
                    .unwrap();
            all.push_str(&text.unwrap_or_default());
        }
        all
    }

    /// Stops everything it started and drops its database.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        for (stop, thread) in self.worker_threads.drain(..) {
            let _ = stop.send(());
            tokio::task::spawn_blocking(move || thread.join()).await?.ok();
        }
        for stop in self.stops.drain(..) {
            let _ = stop.send(());
        }
        if let Some(env) = self.env.take() {
            env.shutdown().await?;
        }
        match self.database.take() {
            Some(database) => database.drop_database().await,
            None => Ok(()),
        }
    }

    fn database_url(&self) -> String {
        self.database.as_ref().map(|d| d.url.clone()).unwrap_or_default()
    }

    /// The URL `context`'s processes connect with (its own database and role, if any).
    pub fn context_url(&self, context: &str) -> String {
        self.database.as_ref().map(|d| d.context_url(context)).unwrap_or_default()
    }
}

fn strip_flag(args: &mut Vec<String>, flag: &str) {
    let mut kept = Vec::with_capacity(args.len());
    let mut pairs = args.chunks(2);
    for pair in &mut pairs {
        if pair[0] != flag {
            kept.extend_from_slice(pair);
        }
    }
    *args = kept;
}

/// A history's JSON with every sealed payload opened with the test key ring.
pub async fn decrypt_history(json: &[u8]) -> anyhow::Result<Vec<u8>> {
    use temporalio_common::{
        data_converters::{SerializationContextData, WorkflowSerializationContext},
        payload_visitor::decode_payloads,
        protos::temporal::api::history::v1::History,
    };
    let mut history: History = serde_json::from_slice(json)?;
    let codec = platform::payload_codec::EncryptionCodec::accepting_unsealed(test_payload_keys());
    let context = SerializationContextData::Workflow(WorkflowSerializationContext::new());
    decode_payloads(&mut history, &codec, &context).await?;
    Ok(serde_json::to_vec(&history)?)
}
