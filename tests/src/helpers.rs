//! Small helpers the tests share: reading the API's answers, and waiting for a condition
//! with a deadline instead of sleeping for a guessed time.

use serde_json::Value;
use std::{fmt::Display, path::PathBuf, time::Duration};

/// A binary of the workspace (`api`, `payment-worker`, …), built next to the running test's
/// binary. `make test` builds every binary first; a test run alone needs
/// `cargo build --bins` before it, or it drives an old binary.
pub fn workspace_binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(|deps| deps.parent()).unwrap();
    let binary = dir.join(name);
    assert!(binary.exists(), "no {} (cargo build --bins)", binary.display());
    binary
}

/// The status and body of an answer: its JSON, or its text as a JSON string when it is not
/// JSON (an empty body is the empty string).
pub async fn body_of(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

/// The `error.code` of an error answer in the API's one error shape; empty when there is none.
pub fn error_code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("")
}

/// Sends `request` and reads its answer as JSON, whatever its status.
pub async fn json_of(request: reqwest::RequestBuilder) -> Value {
    request.send().await.unwrap().json().await.unwrap()
}

/// The reference of a booking the API accepted (202) from the answer to its request.
pub async fn booking_ref_of(response: reqwest::Response) -> String {
    assert_eq!(response.status(), 202, "the booking was not accepted");
    response.json::<Value>().await.unwrap()["booking_ref"].as_str().unwrap().to_string()
}

/// A 200 answer from `url` and its `ETag`; asked again with it, the API answers 304 with no
/// body, and with a stale one, 200 again. Returns the first answer's body.
pub async fn get_revalidated(http: &reqwest::Client, url: &str) -> Value {
    let first = http.get(url).send().await.unwrap();
    assert_eq!(first.status(), 200, "{url}");
    assert_eq!(first.headers()["cache-control"], "public, max-age=60", "{url}");
    let etag = first.headers()["etag"].to_str().unwrap().to_string();
    let body: Value = first.json().await.unwrap();
    let again = http.get(url).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(again.status(), 304, "{url}");
    assert_eq!(again.headers()["etag"].to_str().unwrap(), etag);
    assert!(again.bytes().await.unwrap().is_empty());
    let stale = http.get(url).header("if-none-match", "\"stale\"").send().await.unwrap();
    assert_eq!(stale.status(), 200, "{url}");
    body
}

/// Asks `probe` until it answers `Ok`, for at most 30 s; its `Err` says what it saw instead,
/// for the message when time runs out.
pub async fn eventually<T, E: Display>(what: &str, probe: impl AsyncFnMut() -> Result<T, E>) -> T {
    eventually_within(Duration::from_secs(30), what, probe).await
}

/// As [`eventually`], for at most `limit`.
pub async fn eventually_within<T, E: Display>(
    limit: Duration,
    what: &str,
    mut probe: impl AsyncFnMut() -> Result<T, E>,
) -> T {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        match probe().await {
            Ok(found) => return found,
            Err(seen) => assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}; last: {seen}"),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A gateway `payment.captured` event for `payment_id` on `order_id`, made now.
pub fn captured_event(order_id: &str, payment_id: &str, amount: i64) -> Value {
    serde_json::json!({
        "entity": "event", "account_id": "acc_sandbox", "event": "payment.captured", "contains": ["payment"],
        "created_at": chrono::Utc::now().timestamp(),
        "payload": { "payment": { "entity": {
            "id": payment_id, "entity": "payment", "order_id": order_id, "amount": amount, "currency": "INR",
            "status": "captured", "captured": true } } }
    })
}
