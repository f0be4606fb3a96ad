//! A fresh PostgreSQL database per test, with every context's migrations applied.

use sqlx::PgPool;
use url::Url;

pub struct TestDatabase {
    pub url: String,
    name: String,
    /// Per context: the URL its processes connect with (the shared `url` by default).
    pub context_urls: Vec<(&'static str, String)>,
    /// More databases than `name` (one per context), and the context roles made for them.
    more_databases: Vec<String>,
    roles: Vec<String>,
    pub catalog: PgPool,
    pub inventory: PgPool,
    pub booking: PgPool,
    pub payment: PgPool,
    pub auth: PgPool,
    pub partner: PgPool,
    /// Set once [`TestDatabase::drop_database`] has run.
    dropped: bool,
}

/// The server the test databases are created on (`TT_TEST_DATABASE_URL`).
pub fn admin_url() -> String {
    std::env::var("TT_TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// How the contexts' data is laid out on the test server.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DatabaseLayout {
    /// One database per context (`<name>_<context>`), each reached by its own URL.
    pub separate_databases: bool,
    /// Each context connects as a login role of its own (`<name>_<context>`), which
    /// `migrate` creates and grants its own schema only; otherwise as the server's admin.
    pub context_roles: bool,
}

impl TestDatabase {
    /// Creates `tt_test_<uuid>`, migrates every context and loads the demo catalog with
    /// `rooms_per_night` rooms of every room type from yesterday for 120 nights.
    pub async fn create(rooms_per_night: i32) -> anyhow::Result<Self> {
        Self::create_with(rooms_per_night, DatabaseLayout::default()).await
    }

    /// As [`Self::create`], laid out as `layout` says. The pools of the returned value
    /// connect as the server's admin whatever the layout (tests inspect every table).
    pub async fn create_with(rooms_per_night: i32, layout: DatabaseLayout) -> anyhow::Result<Self> {
        let name = format!("tt_test_{}", uuid::Uuid::new_v4().simple());
        let url_of_database = |database: &str| -> anyhow::Result<String> {
            let mut url = Url::parse(&admin_url())?;
            url.set_path(&format!("/{database}"));
            Ok(url.to_string())
        };
        let url = url_of_database(&name)?;
        let mut admin_urls = Vec::new();
        let mut context_urls = Vec::new();
        let mut more_databases = Vec::new();
        let mut roles = Vec::new();
        for (context, _) in ops::CONTEXTS {
            let admin = if layout.separate_databases {
                more_databases.push(format!("{name}_{context}"));
                url_of_database(&format!("{name}_{context}"))?
            } else {
                url.clone()
            };
            platform::db::ensure_database(&admin).await?;
            let mut own = Url::parse(&admin)?;
            if layout.context_roles {
                let role = format!("{name}_{context}");
                own.set_username(&role).map_err(|()| anyhow::anyhow!("no user in {admin}"))?;
                own.set_password(Some(&uuid::Uuid::new_v4().simple().to_string()))
                    .map_err(|()| anyhow::anyhow!("no password in {admin}"))?;
                roles.push(role);
            }
            admin_urls.push((context, admin));
            context_urls.push((context, own.to_string()));
        }
        let admin_of = |context: &str| -> anyhow::Result<String> {
            Ok(admin_urls.iter().find(|(c, _)| *c == context).map(|(_, u)| u.clone()).unwrap_or_default())
        };
        let own_of = |context: &str| -> anyhow::Result<String> {
            Ok(context_urls.iter().find(|(c, _)| *c == context).map(|(_, u)| u.clone()).unwrap_or_default())
        };
        platform::db::ensure_database(&url).await?;
        ops::migrate_all(admin_of, false).await?;
        if layout.context_roles {
            ops::roles::apply(ops::roles::RolesMode::Create, admin_of, own_of).await?;
        }
        let pool =
            |schema: &str| platform::db::context_pool(&admin_of(schema)?, schema, 3).map_err(anyhow::Error::from);
        let db = TestDatabase {
            catalog: pool(catalog::SCHEMA)?,
            inventory: pool(inventory::SCHEMA)?,
            booking: pool(booking::SCHEMA)?,
            payment: pool(payment::SCHEMA)?,
            auth: pool(auth::SCHEMA)?,
            partner: pool(partner::SCHEMA)?,
            url: url.clone(),
            name,
            context_urls,
            more_databases,
            roles,
            dropped: false,
        };
        let yesterday = contracts::india::today() - chrono::Duration::days(1);
        ops::seed_demo(&db.catalog, &db.inventory, yesterday, 120, rooms_per_night).await?;
        Ok(db)
    }

    pub async fn drop_database(mut self) -> anyhow::Result<()> {
        for pool in [&self.catalog, &self.inventory, &self.booking, &self.payment, &self.auth, &self.partner] {
            pool.close().await;
        }
        drop_named(&self.name).await?;
        drop_more(&self.more_databases, &self.roles).await?;
        self.dropped = true;
        Ok(())
    }

    /// The URL `context`'s processes connect with.
    pub fn context_url(&self, context: &str) -> String {
        self.context_urls.iter().find(|(c, _)| *c == context).map_or_else(|| self.url.clone(), |(_, u)| u.clone())
    }
}

/// Drops the databases of a separate layout, then the context roles (roles belong to the
/// server, not to a database: they outlive the databases unless dropped).
async fn drop_more(databases: &[String], roles: &[String]) -> anyhow::Result<()> {
    for name in databases {
        drop_named(name).await?;
    }
    if roles.is_empty() {
        return Ok(());
    }
    let admin = sqlx::postgres::PgPoolOptions::new().max_connections(1).connect(&admin_url()).await?;
    for role in roles {
        sqlx::query(&format!("DROP ROLE IF EXISTS \"{role}\"")).execute(&admin).await?;
    }
    admin.close().await;
    Ok(())
}

async fn drop_named(name: &str) -> anyhow::Result<()> {
    let admin = sqlx::postgres::PgPoolOptions::new().max_connections(1).connect(&admin_url()).await?;
    sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).execute(&admin).await?;
    admin.close().await;
    Ok(())
}

/// A test that failed never reached [`TestDatabase::drop_database`]: its database is
/// dropped here, as the test unwinds, on a thread with a runtime of its own (the test's own
/// runtime cannot be blocked on from inside).
impl Drop for TestDatabase {
    fn drop(&mut self) {
        if self.dropped {
            return;
        }
        let name = self.name.clone();
        let (more, roles) = (self.more_databases.clone(), self.roles.clone());
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            runtime.block_on(async {
                drop_named(&name).await?;
                drop_more(&more, &roles).await
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("could not drop the test database {}", self.name);
        }
    }
}

/// Starts the sandbox gateway on a free port; returns its settings and a stop switch.
pub async fn spawn_sandbox_gateway() -> anyhow::Result<(payment::GatewaySettings, tokio::sync::oneshot::Sender<()>)> {
    spawn_sandbox_gateway_with_webhooks(None).await
}

/// The sandbox gateway, sending its signed webhooks to `webhook_url`.
pub async fn spawn_sandbox_gateway_with_webhooks(
    webhook_url: Option<String>,
) -> anyhow::Result<(payment::GatewaySettings, tokio::sync::oneshot::Sender<()>)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base_url = Url::parse(&format!("http://{}/", listener.local_addr()?))?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let settings = sandbox_gateway::SandboxSettings {
        webhook_url,
        webhook_backoff: std::time::Duration::from_millis(200),
        ..Default::default()
    };
    tokio::spawn(sandbox_gateway::run(listener, settings, async {
        stopped.await.ok();
    }));
    let settings = payment::GatewaySettings {
        base_url,
        key_id: sandbox_gateway::DEFAULT_KEY_ID.into(),
        key_secret: sandbox_gateway::DEFAULT_KEY_SECRET.into(),
        timeout: std::time::Duration::from_secs(10),
        payout_account: "2323230041626905".into(),
    };
    Ok((settings, stop))
}

/// An API process serving only the catalog, for benchmarks: Temporal is never reached.
pub struct CatalogApi {
    pub url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl CatalogApi {
    pub fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

pub async fn spawn_catalog_api(database_url: &str) -> anyhow::Result<CatalogApi> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    // Nothing listens on the Temporal address; the catalog never asks.
    let temporal = platform::temporal::TemporalSettings {
        address: Url::parse("http://127.0.0.1:9")?,
        namespace: "default".into(),
        payload_keys: Some(test_payload_keys()),
        environment: platform::Environment::Development,
        grpc_gzip: false,
    };
    let mut settings = api::ApiSettings::single_database(
        addr,
        vec![api::ApiService::Catalog],
        temporal,
        database_url,
        test_keys_file()?,
    );
    settings.db_pool_size = 16;
    let state = api::AppState::connect(&settings).await?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        api::run(state, &[api::ApiService::Catalog], listener, async {
            stopped.await.ok();
        })
        .await
    });
    Ok(CatalogApi { url: format!("http://{addr}"), stop: Some(stop) })
}

/// The fixed payload key ring of the tests: `test-old` sealed payloads before `test-2`
/// became the active key, so both rotation directions are exercised.
pub const TEST_PAYLOAD_KEYS: &str =
    "test-2:dGVzdC1wYXlsb2FkLWtleS0yLXRyaXB1cmEtdG91ciE=,test-old:dGVzdC1wYXlsb2FkLWtleS1vbGQtdHJpcHVyYS10b3U=";

pub fn test_payload_keys() -> platform::payload_codec::PayloadKeys {
    TEST_PAYLOAD_KEYS.parse().expect("the test payload keys are valid")
}

/// A token key ring for this test process, written once.
pub fn test_keys_file() -> anyhow::Result<std::path::PathBuf> {
    static FILE: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    // Tests start at once: one of them writes the file, the others wait for it (two writers
    // of the same file race on its temporary name).
    static WRITING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _writing = WRITING.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(path) = FILE.get() {
        return Ok(path.clone());
    }
    let path = std::env::temp_dir().join(format!("tt-test-keys-{}.json", std::process::id()));
    auth::keys::write_ring_file(&path, &auth::keys::new_ring_file(chrono::Utc::now())?)?;
    Ok(FILE.get_or_init(|| path).clone())
}
