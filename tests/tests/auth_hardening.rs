//! The holes an attacker tries first on sign-in, closed: the bootstrap admin cannot be
//! captured by registering its e-mail first; failed logins from attacker addresses never
//! lock the real user out, and a burst gets no more password checks than allowed; Argon2
//! work is bounded, so a flood of registrations answers 503 or 429 instead of exhausting
//! memory; the codec cookie holds a token no other route accepts; CORS credentials only on
//! the codec; concurrent refreshes keep the session, and a login's refresh tokens end.
//!
//! The API here runs without Temporal (the auth routes need none), trusting 127.0.0.1 as
//! its proxy, so each request names its client with `X-Forwarded-For`, as the Ingress does.

use futures::future::join_all;
use serde_json::{Value, json};
use std::{process::Child, time::Duration};
use tests::{
    TEST_PASSWORD, TestDatabase, WEB_UI_ORIGIN, body_of, error_code, test_keys_file, test_payload_keys,
    workspace_binary,
};
use tokio::sync::oneshot;

/// One API process's worth of routes, in this test process.
struct Api {
    url: String,
    db: TestDatabase,
    http: reqwest::Client,
    _stop: oneshot::Sender<()>,
}

fn temporal_nowhere() -> platform::temporal::TemporalSettings {
    platform::temporal::TemporalSettings {
        address: "http://127.0.0.1:1".parse().unwrap(),
        namespace: "default".into(),
        payload_keys: Some(test_payload_keys()),
        environment: platform::Environment::Development,
        grpc_gzip: false,
    }
}

impl Api {
    async fn start() -> Api {
        Self::start_with(|_| {}).await
    }

    async fn start_with(configure: impl FnOnce(&mut api::ApiSettings)) -> Api {
        platform::telemetry::init_for_tests();
        let db = TestDatabase::create(1).await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut settings = api::ApiSettings::single_database(
            addr,
            api::ApiService::ALL.to_vec(),
            temporal_nowhere(),
            &db.url,
            test_keys_file().unwrap(),
        );
        settings.db_pool_size = 4;
        settings.cors_origins = vec![WEB_UI_ORIGIN.to_string()];
        // The test client stands for the Ingress: what it forwards names the client.
        settings.trusted_proxies = "127.0.0.1".parse().unwrap();
        configure(&mut settings);
        let state = api::AppState::connect(&settings).await.unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            api::run(state, &api::ApiService::ALL, listener, async {
                stopped.await.ok();
            })
            .await
        });
        let http = reqwest::Client::builder().timeout(Duration::from_secs(60)).build().unwrap();
        Api { url: format!("http://{addr}"), db, http, _stop: stop }
    }

    fn post(&self, path: &str, client: Option<&str>) -> reqwest::RequestBuilder {
        let request = self.http.post(format!("{}{path}", self.url));
        match client {
            Some(addr) => request.header("x-forwarded-for", addr),
            None => request,
        }
    }

    async fn log_in(&self, email: &str, password: &str, client: Option<&str>) -> (u16, Value, Option<u64>) {
        let response = self
            .post("/api/auth/login", client)
            .json(&json!({ "email": email, "password": password }))
            .send()
            .await
            .unwrap();
        let retry_after = response.headers().get("retry-after").map(|v| v.to_str().unwrap().parse().unwrap());
        let (status, body) = body_of(response).await;
        (status, body, retry_after)
    }

    async fn register(&self, email: &str, client: Option<&str>) -> (u16, Value) {
        let body = json!({ "email": email, "password": TEST_PASSWORD, "full_name": "Test Traveller" });
        body_of(self.post("/api/auth/register", client).json(&body).send().await.unwrap()).await
    }

    async fn user_with_role(&self, role: &str) -> String {
        let email = format!("{role}-{}@example.in", uuid::Uuid::new_v4().simple());
        let passwords = auth::password::Passwords::default();
        auth::accounts::ensure_user(&self.db.auth, &passwords, &email, "Test User", TEST_PASSWORD, role).await.unwrap();
        email
    }

    async fn roles_of(&self, email: &str) -> Vec<String> {
        sqlx::query_scalar(
            "SELECT r.code FROM users u JOIN user_roles ur USING (user_id) JOIN roles r USING (role_id)
             WHERE u.email = $1 ORDER BY r.code",
        )
        .bind(email)
        .fetch_all(&self.db.auth)
        .await
        .unwrap()
    }

    async fn stop(self) {
        drop(self._stop);
        self.db.drop_database().await.unwrap();
    }
}

/// Environment every process started here shares: the development switch, the test keys.
fn process_env(database_url: &str) -> Vec<(&'static str, String)> {
    vec![
        ("TT_DATABASE_URL", database_url.to_string()),
        ("TT_AUTH_KEYS_FILE", test_keys_file().unwrap().display().to_string()),
        ("TT_PAYLOAD_KEYS", tests::TEST_PAYLOAD_KEYS.to_string()),
        ("TT_TEMPORAL_ADDRESS", "http://127.0.0.1:1".to_string()),
        ("TT_CREATE_DATABASES", "false".to_string()),
        ("TT_ENVIRONMENT", "development".to_string()),
        ("RUST_LOG", "warn".to_string()),
    ]
}

// 1. The bootstrap admin cannot be captured.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registered_bootstrap_email_does_not_become_admin() {
    let api = Api::start().await;
    let email = format!("root-{}@example.in", uuid::Uuid::new_v4().simple());
    // Someone registers the address the deployment will name as its first admin.
    assert_eq!(api.register(&email, Some("203.0.113.9")).await.0, 201);

    let refused = ops::bootstrap_admin(&api.db.auth, &email, "Bootstrap-admin-secret-1").await;
    let message = format!("{:#}", refused.expect_err("an existing account is not made admin"));
    assert!(message.contains("already exists"), "{message}");
    assert_eq!(api.roles_of(&email).await, ["traveller"], "the account gained nothing");

    // The migrate Job fails with that message, and grants nothing either.
    let migrate = std::process::Command::new(workspace_binary("migrate"))
        .envs(process_env(&api.db.url))
        .env("TT_BOOTSTRAP_ADMIN_EMAIL", &email)
        .env("TT_BOOTSTRAP_ADMIN_PASSWORD", "Bootstrap-admin-secret-1")
        .output()
        .unwrap();
    assert!(!migrate.status.success(), "migrate succeeded: {}", String::from_utf8_lossy(&migrate.stderr));
    assert!(String::from_utf8_lossy(&migrate.stderr).contains("already exists"), "{migrate:?}");
    assert_eq!(api.roles_of(&email).await, ["traveller"]);
    assert_eq!(api.log_in(&email, "Bootstrap-admin-secret-1", Some("203.0.113.10")).await.0, 401);

    // A fresh address becomes the first admin, once; running it again changes nothing.
    let admin = format!("admin-{}@example.in", uuid::Uuid::new_v4().simple());
    assert!(ops::bootstrap_admin(&api.db.auth, &admin, "Bootstrap-admin-secret-1").await.unwrap());
    assert!(!ops::bootstrap_admin(&api.db.auth, &admin, "Bootstrap-admin-secret-1").await.unwrap());
    assert_eq!(api.roles_of(&admin).await, ["admin"]);
    assert_eq!(api.log_in(&admin, "Bootstrap-admin-secret-1", Some("203.0.113.10")).await.0, 200);
    api.stop().await;
}

// 2. Login throttling that cannot be turned against users.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_logins_from_attacker_addresses_do_not_lock_out_the_real_user() {
    let api = Api::start().await;
    let admin = api.user_with_role("admin").await;
    let mut statuses = Vec::new();
    // 100 wrong passwords from twenty addresses, four at a time.
    for round in 0..25 {
        let attempts = (0..4).map(|i| {
            let attacker = format!("203.0.113.{}", (round * 4 + i) % 20 + 1);
            let api = &api;
            let admin = &admin;
            async move { api.log_in(admin, "guessing-wrong-1", Some(&attacker)).await }
        });
        for (status, body, retry_after) in join_all(attempts).await {
            assert!(matches!(status, 401 | 429), "{status} {body}");
            if status == 429 {
                assert_eq!(error_code(&body), "too_many_attempts");
                assert!(retry_after.is_some_and(|s| s >= 1), "429 without Retry-After");
            }
            statuses.push(status);
        }
    }
    assert!(statuses.contains(&429), "an attacker's address is slowed down: {statuses:?}");
    // The admin, from their own address, signs in at once.
    let (status, body, _) = api.log_in(&admin, TEST_PASSWORD, Some("198.51.100.7")).await;
    assert_eq!(status, 200, "{body}");
    // The proxy's own address (a request it forwarded without naming the client) is never
    // a throttling subject: failures through it lock nobody out.
    for _ in 0..8 {
        assert_eq!(api.log_in(&admin, "guessing-wrong-2", None).await.0, 401);
    }
    assert_eq!(api.log_in(&admin, TEST_PASSWORD, None).await.0, 200);
    api.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_concurrent_burst_gets_no_more_password_checks_than_allowed() {
    let api = Api::start().await;
    let victim = api.user_with_role("traveller").await;
    let burst = (0..20).map(|_| api.log_in(&victim, "guessing-wrong-1", Some("203.0.113.50")));
    let answers = join_all(burst).await;
    let checked = answers.iter().filter(|(status, _, _)| *status == 401).count();
    assert!(answers.iter().all(|(status, _, _)| matches!(status, 401 | 429)), "{answers:?}");
    assert!((1..=5).contains(&checked), "{checked} passwords checked in a burst of 20: {answers:?}");
    // What the database recorded agrees: no more failures than checks.
    let failed: i32 = sqlx::query_scalar(
        "SELECT c.failed_attempts FROM user_credentials c JOIN users u USING (user_id) WHERE u.email = $1",
    )
    .bind(&victim)
    .fetch_one(&api.db.auth)
    .await
    .unwrap();
    assert!(failed <= 5, "{failed} failures recorded");
    let logged: i64 =
        sqlx::query_scalar("SELECT count(*) FROM user_activity_logs WHERE action = 'login' AND outcome = 'failure'")
            .fetch_one(&api.db.auth)
            .await
            .unwrap();
    assert!(logged <= 5, "{logged} failed logins logged");
    // The pair waits a growing delay; another address is not slowed at all.
    let (status, _, retry_after) = api.log_in(&victim, TEST_PASSWORD, Some("203.0.113.50")).await;
    assert_eq!(status, 429);
    assert!(retry_after.is_some_and(|s| (1..=900).contains(&s)), "{retry_after:?}");
    assert_eq!(api.log_in(&victim, TEST_PASSWORD, Some("198.51.100.8")).await.0, 200);
    api.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_or_odd_email_is_a_client_error_never_a_500() {
    let api = Api::start().await;
    for (email, client) in [("", Some("203.0.113.60")), ("   ", Some("203.0.113.60")), ("", None)] {
        let (status, body, _) = api.log_in(email, "guessing-wrong-1", client).await;
        assert!(matches!(status, 401 | 422), "{email:?}: {status} {body}");
        let response = api
            .post("/api/codec/sign-in", client)
            .form(&[("email", email), ("password", "guessing-wrong-1")])
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        assert!(matches!(status, 401 | 422), "codec sign-in {email:?}: {status}");
    }
    api.stop().await;
}

// 3. Bounded hashing, and sign-up and sign-in rate-limited per client.

/// The API as its own process, so its memory is its own.
struct ApiProcess(Child);

impl Drop for ApiProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The process's peak resident memory (`VmHWM`), in KiB.
fn peak_resident_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_registrations_keep_memory_bounded_and_never_fail() {
    platform::telemetry::init_for_tests();
    let db = TestDatabase::create(1).await.unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = std::process::Command::new(workspace_binary("api"))
        .envs(process_env(&db.url))
        .env("TT_API_ADDR", format!("127.0.0.1:{port}"))
        .env("TT_API_SERVICES", "auth")
        .env("TT_TRUSTED_PROXIES", "127.0.0.1")
        .spawn()
        .unwrap();
    let process = ApiProcess(child);
    let url = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::builder().timeout(Duration::from_secs(60)).build().unwrap();
    tests::eventually("the API process answers", async || http.get(format!("{url}/healthz")).send().await).await;
    let before = peak_resident_kib(process.0.id());

    // 50 sign-ups at once, each from its own address: the rate limit does not hold them
    // back, the bound on hashing does.
    let sign_ups = (0..50).map(|i| {
        let (http, url) = (&http, &url);
        async move {
            let body = json!({ "email": format!("flood-{i}-{}@example.in", uuid::Uuid::new_v4().simple()),
                               "password": TEST_PASSWORD, "full_name": "Flood" });
            let response = http
                .post(format!("{url}/api/auth/register"))
                .header("x-forwarded-for", format!("192.0.2.{}", i + 1))
                .json(&body)
                .send()
                .await
                .unwrap();
            let retry_after = response.headers().contains_key("retry-after");
            let (status, body) = body_of(response).await;
            (status, body, retry_after)
        }
    });
    let answers = join_all(sign_ups).await;
    for (status, body, retry_after) in &answers {
        assert!(matches!(status, 201 | 429 | 503), "{status} {body}");
        if *status != 201 {
            assert!(*retry_after, "{status} without Retry-After");
            assert!(body["error"]["code"].is_string(), "{body}");
        }
    }
    assert!(answers.iter().any(|(status, _, _)| *status == 201), "some sign-ups succeed");
    let peak = peak_resident_kib(process.0.id());
    eprintln!("API peak resident memory: {before} KiB before, {peak} KiB after 50 concurrent sign-ups");
    assert!(peak < 512 * 1024, "the API peaked at {} MiB", peak / 1024);

    // One client signing in over and over is held back (each attempt names another email,
    // so the login throttle is not what answers).
    let mut limited = None;
    for i in 0..60 {
        let response = http
            .post(format!("{url}/api/auth/login"))
            .header("x-forwarded-for", "198.51.100.99")
            .json(&json!({ "email": format!("nobody-{i}@example.in"), "password": "guessing-wrong-1" }))
            .send()
            .await
            .unwrap();
        if response.status() == 429 {
            let retry_after = response.headers().get("retry-after").cloned();
            limited = Some((retry_after, body_of(response).await.1));
            break;
        }
        assert_eq!(response.status(), 401);
    }
    let (retry_after, body) = limited.expect("60 sign-ins a minute from one client are rate-limited");
    assert!(retry_after.is_some(), "{body}");
    assert_eq!(error_code(&body), "rate_limited");
    drop(process);
    db.drop_database().await.unwrap();
}

// 4. The codec cookie holds a codec-only token.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_codec_cookie_token_opens_the_codec_and_nothing_else() {
    let api = Api::start().await;
    let operator = api.user_with_role("operator").await;
    let response = api
        .post("/api/codec/sign-in", Some("198.51.100.20"))
        .form(&[("email", operator.as_str()), ("password", TEST_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let cookie = response.headers()["set-cookie"].to_str().unwrap().to_string();
    let token = cookie.split(';').next().unwrap().strip_prefix("tt_codec=").unwrap().to_string();
    let claims: Value = {
        use base64::Engine;
        let payload = token.split('.').nth(1).unwrap();
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
    };
    assert_ne!(claims["aud"], "tripura-tourism-api", "{claims}");

    // As a bearer token it opens nothing.
    for path in ["/api/bookings", "/api/auth/me", "/api/auth/users"] {
        let response = api.http.get(format!("{}{path}", api.url)).bearer_auth(&token).send().await.unwrap();
        assert_eq!(response.status(), 401, "{path}");
    }
    // As the cookie on the codec it does.
    let decoded = api
        .http
        .post(format!("{}/api/codec/decode", api.url))
        .header("cookie", format!("tt_codec={token}"))
        .json(&json!({ "payloads": [] }))
        .send()
        .await
        .unwrap();
    assert_eq!(decoded.status(), 200);
    api.stop().await;
}

// 5. CORS credentials only on the codec.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_allows_credentials_on_the_codec_only() {
    let api = Api::start().await;
    let preflight = |path: &str| {
        api.http
            .request(reqwest::Method::OPTIONS, format!("{}{path}", api.url))
            .header("origin", WEB_UI_ORIGIN)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .send()
    };
    for path in ["/api/auth/login", "/api/bookings", "/api/auth/refresh"] {
        let response = preflight(path).await.unwrap();
        assert_eq!(response.headers().get("access-control-allow-origin").unwrap(), WEB_UI_ORIGIN, "{path}");
        assert!(response.headers().get("access-control-allow-credentials").is_none(), "{path}: {response:?}");
    }
    let response = api
        .http
        .get(format!("{}/api/catalog/destinations", api.url))
        .header("origin", WEB_UI_ORIGIN)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers().get("access-control-allow-credentials").is_none(), "{response:?}");
    // The codec keeps them, for the Web UI's cookie.
    let response = preflight("/api/codec/decode").await.unwrap();
    assert_eq!(response.headers()["access-control-allow-credentials"], "true");
    api.stop().await;
}

// 6. Refresh tokens: a grace for concurrent refreshes, an absolute lifetime.

async fn refresh(api: &Api, token: &str) -> (u16, Value) {
    body_of(
        api.post("/api/auth/refresh", Some("198.51.100.30"))
            .json(&json!({ "refresh_token": token }))
            .send()
            .await
            .unwrap(),
    )
    .await
}

async fn me(api: &Api, access: &str) -> u16 {
    api.http.get(format!("{}/api/auth/me", api.url)).bearer_auth(access).send().await.unwrap().status().as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_concurrent_refreshes_keep_the_session_alive() {
    let api = Api::start().await;
    let email = api.user_with_role("traveller").await;
    let (status, login, _) = api.log_in(&email, TEST_PASSWORD, Some("198.51.100.30")).await;
    assert_eq!(status, 200);
    let first = login["refresh_token"].as_str().unwrap();
    let (a, b) = tokio::join!(refresh(&api, first), refresh(&api, first));
    assert_eq!((a.0, b.0), (200, 200), "{a:?} {b:?}");
    for pair in [&a.1, &b.1] {
        assert_eq!(me(&api, pair["access_token"].as_str().unwrap()).await, 200, "the session is alive");
    }
    // Each answer's refresh token keeps working.
    for pair in [&a.1, &b.1] {
        let (status, next) = refresh(&api, pair["refresh_token"].as_str().unwrap()).await;
        assert_eq!(status, 200, "{next}");
        assert_eq!(me(&api, next["access_token"].as_str().unwrap()).await, 200);
    }
    // Past the grace, the old token is a replay: the login ends.
    sqlx::query(
        "UPDATE user_sessions SET revoked_at = revoked_at - interval '10 minutes' WHERE replaced_by IS NOT NULL",
    )
    .execute(&api.db.auth)
    .await
    .unwrap();
    let (status, body) = refresh(&api, first).await;
    assert_eq!((status, error_code(&body)), (401, "refresh_token_reused"));
    assert_eq!(me(&api, a.1["access_token"].as_str().unwrap()).await, 401);
    api.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_cannot_be_refreshed_past_its_absolute_lifetime() {
    let api = Api::start().await;
    let email = api.user_with_role("traveller").await;
    let (_, login, _) = api.log_in(&email, TEST_PASSWORD, Some("198.51.100.31")).await;
    let (status, rotated) = refresh(&api, login["refresh_token"].as_str().unwrap()).await;
    assert_eq!(status, 200);
    // The login was 31 days ago; each refresh token alone has not expired.
    sqlx::query(
        "UPDATE user_sessions SET created_at = created_at - interval '31 days', updated_at = now()
         WHERE user_id = (SELECT user_id FROM users WHERE email = $1)",
    )
    .bind(&email)
    .execute(&api.db.auth)
    .await
    .unwrap();
    let (status, body) = refresh(&api, rotated["refresh_token"].as_str().unwrap()).await;
    assert_eq!((status, error_code(&body)), (401, "invalid_refresh_token"), "{body}");
    api.stop().await;
}
