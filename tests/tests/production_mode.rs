//! Production is the default: the real `api` and worker executables refuse to start without
//! their secrets unless `TT_ENVIRONMENT=development`, placeholder payload keys are refused in
//! every environment, and a partner booking leaves nothing personal readable in the history
//! the Temporal server stores — not in payloads, not in failure messages.

use contracts::{BookingRef, cancellation::CancellationInput, temporal::task_queue};
use prost::Message;
use serde_json::{Value, json};
use std::{
    path::Path,
    process::{Child, Command, Stdio},
    time::Duration,
};
use temporalio_client::WorkflowStartOptions;
use temporalio_common::protos::temporal::api::history::v1::History;
use tests::{Session, TestPlatform, TestPlatformOptions, body_of, booking_body, test_keys_file, workspace_binary};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A process of the test, killed when dropped.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// How a process fared in its first seconds.
#[derive(Debug)]
enum Outcome {
    /// It exited on its own, with this status and output.
    Exited { success: bool, output: String },
    /// It was still running (and, for the API, answering `/healthz`).
    Running,
}

/// The settings a process of `platform` runs with, without payload keys and without the
/// development switch: what a Deployment gets when a Secret is not mounted.
fn production_env(platform: &TestPlatform, keys_file: &Path) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = platform
        .worker_process_env()
        .into_iter()
        .filter(|(k, _)| !matches!(k.as_str(), "TT_PAYLOAD_KEYS" | "TT_ENVIRONMENT" | "TT_GATEWAY_KEY_SECRET"))
        .collect();
    env.push(("TT_AUTH_KEYS_FILE".into(), keys_file.display().to_string()));
    env.push(("RUST_LOG".into(), "warn".into()));
    env
}

fn with(env: &[(String, String)], extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut all: Vec<(String, String)> =
        env.iter().filter(|(k, _)| !extra.iter().any(|(name, _)| name == k)).cloned().collect();
    all.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    all
}

/// Runs `name` with exactly `env` (nothing inherited), and watches it for a few seconds: an
/// API must answer `/healthz`, a worker must stay up.
async fn run(name: &str, env: &[(String, String)]) -> Outcome {
    let mut env = env.to_vec();
    let api_port = free_port();
    if name == "api" {
        env.push(("TT_API_ADDR".into(), format!("127.0.0.1:{api_port}")));
    }
    let log = std::env::temp_dir().join(format!("tt-production-mode-{}.log", uuid::Uuid::new_v4()));
    let file = std::fs::File::create(&log).unwrap();
    let mut process = Process(
        Command::new(workspace_binary(name))
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(env)
            .current_dir(std::env::temp_dir())
            .stdout(Stdio::from(file.try_clone().unwrap()))
            .stderr(Stdio::from(file))
            .spawn()
            .unwrap(),
    );
    let http = reqwest::Client::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let mut up_since = None;
    loop {
        if let Some(status) = process.0.try_wait().unwrap() {
            let output = std::fs::read_to_string(&log).unwrap_or_default();
            let _ = std::fs::remove_file(&log);
            return Outcome::Exited { success: status.success(), output };
        }
        let up = if name == "api" {
            let url = format!("http://127.0.0.1:{api_port}/healthz");
            http.get(url).send().await.is_ok_and(|r| r.status().is_success())
        } else {
            true
        };
        let now = tokio::time::Instant::now();
        if up {
            let since = *up_since.get_or_insert(now);
            // A worker that cannot start stops within a second or two (settings, then the
            // connection to Temporal); five seconds up is a start.
            if now - since >= Duration::from_secs(5) {
                let _ = std::fs::remove_file(&log);
                return Outcome::Running;
            }
        }
        assert!(now < deadline, "{name} neither exited nor came up in 30 s");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[track_caller]
fn assert_refused(outcome: &Outcome, what: &str, names: &[&str]) {
    match outcome {
        Outcome::Exited { success: false, output } => {
            for name in names {
                assert!(output.contains(name), "{what}: the error names {name}: {output}");
            }
        }
        other => panic!("{what}: expected a refusal to start, got {other:?}"),
    }
}

#[track_caller]
fn assert_started(outcome: &Outcome, what: &str) {
    assert!(matches!(outcome, Outcome::Running), "{what}: expected it to start, got {outcome:?}");
}

const WORKERS: [&str; 4] = ["booking-worker", "inventory-worker", "payment-worker", "partner-worker"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn processes_without_their_secrets_start_only_with_the_development_switch() {
    let platform = TestPlatform::spawn_with(TestPlatformOptions::without_workers()).await.unwrap();
    let keys_file = test_keys_file().unwrap();
    let bare = production_env(&platform, &keys_file);
    let keys = [("TT_PAYLOAD_KEYS", tests::TEST_PAYLOAD_KEYS)];
    let development = [("TT_ENVIRONMENT", "development")];

    // No payload keys: every process that talks to Temporal refuses in production, and says
    // what is missing and how development runs without it.
    for name in ["api"].into_iter().chain(WORKERS) {
        let env = with(&bare, &[("TT_GATEWAY_KEY_SECRET", "gateway-secret")]);
        let outcome = run(name, &env).await;
        assert_refused(&outcome, &format!("{name} without payload keys"), &["TT_PAYLOAD_KEYS", "TT_ENVIRONMENT"]);
    }
    // With the development switch, the same processes start (and warn).
    for name in ["api", "payment-worker"] {
        assert_started(&run(name, &with(&bare, &development)).await, &format!("{name} in development"));
    }

    // The payment worker needs the gateway key; the booking worker, which never calls the
    // gateway, does not.
    let payment = run("payment-worker", &with(&bare, &keys)).await;
    assert_refused(&payment, "payment worker without the gateway key", &["TT_GATEWAY_KEY_SECRET"]);
    assert_started(&run("booking-worker", &with(&bare, &keys)).await, "booking worker in production");
    let no_account = with(&bare, &[keys[0], ("TT_GATEWAY_KEY_SECRET", "gateway-secret")]);
    let payment = run("payment-worker", &no_account).await;
    assert_refused(&payment, "payment worker without the payout account", &["TT_GATEWAY_PAYOUT_ACCOUNT"]);
    let ready = with(&no_account, &[("TT_GATEWAY_PAYOUT_ACCOUNT", "2323230041626905")]);
    assert_started(&run("payment-worker", &ready).await, "payment worker with its secrets");

    // The API serving payments needs the webhook secret; every API names its token keys,
    // and serving auth needs the signing key.
    let api = with(&bare, &keys);
    let no_webhook: Vec<_> = api.iter().filter(|(k, _)| k != "TT_GATEWAY_WEBHOOK_SECRET").cloned().collect();
    assert_refused(&run("api", &no_webhook).await, "api without the webhook secret", &["TT_GATEWAY_WEBHOOK_SECRET"]);
    let catalog_only = with(&no_webhook, &[("TT_API_SERVICES", "catalog")]);
    assert_started(&run("api", &catalog_only).await, "a catalog API, which takes no webhook");
    let with_webhook = with(&api, &[("TT_GATEWAY_WEBHOOK_SECRET", "webhook-secret")]);
    let no_token_keys: Vec<_> = with_webhook.iter().filter(|(k, _)| k != "TT_AUTH_KEYS_FILE").cloned().collect();
    assert_refused(&run("api", &no_token_keys).await, "api without token keys", &["TT_AUTH_KEYS_FILE"]);
    let public_keys = std::env::temp_dir().join(format!("tt-public-keys-{}.json", uuid::Uuid::new_v4()));
    let made =
        Command::new(workspace_binary("auth-keys")).arg("public").arg(&keys_file).arg(&public_keys).status().unwrap();
    assert!(made.success(), "auth-keys public");
    let public_only = with(&with_webhook, &[("TT_AUTH_KEYS_FILE", public_keys.to_str().unwrap())]);
    let auth = run("api", &with(&public_only, &[("TT_API_SERVICES", "auth")])).await;
    assert_refused(&auth, "auth API without a signing key", &["TT_AUTH_KEYS_FILE", "signing key"]);
    assert_started(&run("api", &with(&public_only, &[("TT_API_SERVICES", "booking")])).await, "booking API");
    assert_started(&run("api", &with_webhook).await, "api with every secret");
    let _ = std::fs::remove_file(&public_keys);

    // Placeholder keys are refused everywhere, development included.
    let template = "change-me:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    let zeros = "dev-1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    for (keys, says) in [(template, "template"), (zeros, "all zeros")] {
        let env = with(&bare, &[("TT_ENVIRONMENT", "development"), ("TT_PAYLOAD_KEYS", keys)]);
        assert_refused(&run("api", &env).await, &format!("api with {keys}"), &["TT_PAYLOAD_KEYS", says]);
        assert_refused(&run("booking-worker", &env).await, &format!("worker with {keys}"), &[says]);
    }
    platform.stop().await.unwrap();
}

/// The history the server stores for `workflow_id`, as raw protobuf bytes (where an unsealed
/// payload's data shows verbatim) followed by its JSON (where failure messages show).
async fn raw_history_bytes(platform: &TestPlatform, workflow_id: &str) -> Vec<u8> {
    let json = platform.raw_history_json(workflow_id).await.unwrap();
    let history: History = serde_json::from_slice(&json).unwrap();
    let mut bytes = history.encode_to_vec();
    bytes.extend_from_slice(&json);
    bytes
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

async fn partner_view_when_done(platform: &TestPlatform, key: &str, booking_ref: &str) -> Value {
    let url = format!("{}/api/partners/v1/bookings/{booking_ref}?wait=5", platform.api_url);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    loop {
        let (status, view) = body_of(platform.http.get(&url).bearer_auth(key).send().await.unwrap()).await;
        if status == 200 && matches!(view["status"].as_str(), Some("confirmed" | "failed")) {
            return view;
        }
        assert!(tokio::time::Instant::now() < deadline, "{booking_ref} never ended: {status} {view}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partner_booking_leaves_no_personal_data_readable_in_the_raw_history() {
    let platform = TestPlatform::spawn().await.unwrap();
    let admin: Session = platform.user_with_role("admin").await.unwrap();
    let admin_http = platform.http_as(&admin);
    let partners = format!("{}/api/partners", platform.api_url);
    let onboard = json!({ "code": "jampui-trails", "name": "Jampui Trails", "contact_email": "ops@jampui.in",
                          "commission_bp": 1_000, "rate_limit_per_minute": 600 });
    let (status, partner) = body_of(admin_http.post(&partners).json(&onboard).send().await.unwrap()).await;
    assert_eq!(status, 201, "{partner}");
    let (status, issued) =
        body_of(admin_http.post(format!("{partners}/jampui-trails/keys")).json(&json!({})).send().await.unwrap()).await;
    assert_eq!(status, 201, "{issued}");
    let key = issued["key"].as_str().unwrap().to_string();

    let unique = uuid::Uuid::new_v4().simple().to_string();
    let email = format!("rima.{}@example.in", &unique[..12]);
    let phone = format!("+9198{:08}", uuid::Uuid::new_v4().as_u128() % 100_000_000);
    let good_card = format!("tok_card{}", &unique[..16]);
    // Declined by the sandbox: its error body ends in a failure of the charge activity.
    let declined_card = "tok_insufficient_funds";
    let mut ended = Vec::new();
    for (n, card) in [good_card.as_str(), declined_card].into_iter().enumerate() {
        let mut body = booking_body(20 + n as i64, 1, 1, card);
        body["lead_traveller"] = json!({ "name": "Rima Jamatia", "email": email, "phone": phone });
        let response = platform
            .http
            .post(format!("{}/api/partners/v1/bookings", platform.api_url))
            .bearer_auth(&key)
            .header("Idempotency-Key", format!("order-{n}"))
            .json(&body)
            .send()
            .await
            .unwrap();
        let (status, accepted) = body_of(response).await;
        assert_eq!(status, 202, "{accepted}");
        let booking_ref = accepted["booking_ref"].as_str().unwrap().to_string();
        let view = partner_view_when_done(&platform, &key, &booking_ref).await;
        ended.push((booking_ref, view["status"].as_str().unwrap().to_string()));
    }
    assert_eq!(ended.iter().map(|(_, s)| s.as_str()).collect::<Vec<_>>(), ["confirmed", "failed"], "{ended:?}");

    for (booking_ref, status) in &ended {
        let workflow_id = BookingRef::parse(booking_ref).unwrap().workflow_id();
        let raw = raw_history_bytes(&platform, &workflow_id).await;
        assert!(contains(&raw, booking_ref), "the history is the booking's ({booking_ref})");
        for (what, secret) in [
            ("e-mail", email.as_str()),
            ("phone", phone.as_str()),
            ("card token", good_card.as_str()),
            ("card token", declined_card),
            ("name", "Rima Jamatia"),
            // The gateway's error body, which the failed charge's failure carried.
            ("gateway error", "declined by the bank"),
        ] {
            assert!(!contains(&raw, secret), "the {status} booking's raw history shows the {what} {secret}");
        }
        if status == "failed" {
            assert!(contains(&raw, "Encoded failure"), "the declined charge's failure is sealed, not absent");
        }
    }
    platform.stop().await.unwrap();
}

/// Whether the raw history of `workflow_id` has an event of the type `event` so far.
async fn has_event(platform: &TestPlatform, workflow_id: &str, event: &str) -> bool {
    let json = platform.raw_history_json(workflow_id).await.unwrap();
    contains(&json, event)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_production_worker_refuses_a_workflow_started_in_plaintext_and_development_reads_it() {
    let mut platform = TestPlatform::spawn_with(TestPlatformOptions::without_workers()).await.unwrap();
    // A client without the codec starts a cancellation: its input reaches the server in clear.
    let input = CancellationInput {
        booking_ref: BookingRef::from_random(rand::random()),
        requested_by: "user:plaintext".into(),
        reason: "started without the codec".into(),
        override_refund: None,
    };
    let workflow_id = input.workflow_id();
    let options = WorkflowStartOptions::new(task_queue::BOOKING, workflow_id.clone()).build();
    platform.raw_client.start_workflow(sagas::CancellationWorkflow::run, input, options).await.unwrap();

    // The booking worker, run as in production, does not take the plaintext: the workflow
    // task fails, and the workflow never gets as far as its first activity.
    let keys_file = test_keys_file().unwrap();
    let env = with(&production_env(&platform, &keys_file), &[("TT_PAYLOAD_KEYS", tests::TEST_PAYLOAD_KEYS)]);
    let mut worker = Process(
        Command::new(workspace_binary("booking-worker"))
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(env)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    tests::eventually("the production worker to fail the workflow task", async || {
        if has_event(&platform, &workflow_id, "WorkflowTaskFailedEventAttributes").await {
            Ok(())
        } else {
            Err("not yet")
        }
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(worker.0.try_wait().unwrap().is_none(), "the worker keeps running");
    assert!(
        !has_event(&platform, &workflow_id, "ActivityTaskScheduledEventAttributes").await,
        "a production worker ran a workflow from a plaintext input"
    );
    drop(worker);

    // A development worker reads it (older histories in clear keep working there).
    platform.start_workers(&[workers::WorkerContext::Booking]).unwrap();
    tests::eventually("the development worker to run the workflow", async || {
        if has_event(&platform, &workflow_id, "ActivityTaskScheduledEventAttributes").await {
            Ok(())
        } else {
            Err("not yet")
        }
    })
    .await;
    platform.stop().await.unwrap();
}
