//! Travellers' personal data reaches the Temporal server only sealed: the real platform
//! books with distinctive details, the server's own copy of the history never shows them,
//! the platform's clients and an operator's codec endpoint do, and keys rotate.

use base64::{Engine, engine::general_purpose::STANDARD};
use serde_json::{Value, json};
use temporalio_common::protos::temporal::api::common::v1::Payload;
use tests::{TestPlatform, TestPlatformOptions, booking_body, decrypt_history, json_of};

const NAME: &str = "Zorawar Quillfeather";
const EMAIL: &str = "zq.codec-check@example.in";
const PHONE: &str = "+919812340987";

/// Every string of a JSON document, and what each decodes to when it is base64 (payload
/// bytes travel base64 in a history's JSON): where a traveller's details would show.
fn readable_text(value: &Value) -> String {
    let mut out = String::new();
    fn walk(value: &Value, out: &mut String) {
        match value {
            Value::String(s) => {
                out.push_str(s);
                out.push('\n');
                if let Ok(bytes) = STANDARD.decode(s) {
                    out.push_str(&String::from_utf8_lossy(&bytes));
                    out.push('\n');
                }
            }
            Value::Array(items) => items.iter().for_each(|v| walk(v, out)),
            Value::Object(map) => map.iter().for_each(|(k, v)| {
                out.push_str(k);
                out.push('\n');
                walk(v, out);
            }),
            _ => {}
        }
    }
    walk(value, &mut out);
    out
}

/// A payload in the JSON form the codec endpoint takes.
fn as_json(p: &Payload) -> Value {
    json!({
        "metadata": p.metadata.iter().map(|(k, v)| (k.clone(), json!(STANDARD.encode(v)))).collect::<serde_json::Map<_, _>>(),
        "data": STANDARD.encode(&p.data),
    })
}

/// A plain payload holding the traveller's name.
fn plain_name() -> Payload {
    Payload {
        metadata: [("encoding".to_string(), b"json/plain".to_vec())].into(),
        data: format!("\"{NAME}\"").into_bytes(),
        ..Default::default()
    }
}

fn started_input(history: &Value) -> Value {
    history["events"][0]["attributes"]["WorkflowExecutionStartedEventAttributes"]["input"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_stores_a_travellers_details_only_encrypted_and_operators_can_read_them() {
    let platform = TestPlatform::spawn().await.unwrap();
    let mut body = booking_body(21, 1, 1, "tok_success");
    body["lead_traveller"] = json!({ "name": NAME, "email": EMAIL, "phone": PHONE });
    let booking_ref = platform.book(&body).await;
    let booking = platform.wait_for_status(&booking_ref, &["confirmed", "failed"]).await.unwrap();
    assert_eq!(booking["status"], "confirmed", "workflows and activities read the sealed input: {booking}");

    // What the server stores, read without keys: no trace of the traveller.
    let workflow_id = format!("booking-{booking_ref}");
    let raw = platform.raw_history_json(&workflow_id).await.unwrap();
    let raw_history: Value = serde_json::from_slice(&raw).unwrap();
    let stored = readable_text(&raw_history);
    for secret in [NAME, EMAIL, PHONE] {
        assert!(!stored.contains(secret), "the server's history shows `{secret}`");
    }
    let input = started_input(&raw_history);
    let metadata = &input["payloads"][0]["metadata"];
    assert_eq!(metadata["encoding"], STANDARD.encode("binary/encrypted"), "{input}");
    assert_eq!(metadata["encryption-key-id"], STANDARD.encode("test-2"), "{input}");

    // Through the codec: every detail is there, and the history still replays.
    let opened = readable_text(&serde_json::from_slice(&decrypt_history(&raw).await.unwrap()).unwrap());
    for secret in [NAME, EMAIL, PHONE] {
        assert!(opened.contains(secret), "the decoded history lacks `{secret}`");
    }
    platform.replay_history(&booking_ref, "confirmed").await.unwrap();

    // The codec endpoint the Web UI calls: an operator reads, a traveller and a stranger do not.
    let url = format!("{}/api/codec/decode", platform.api_url);
    let operator = platform.user_with_role("operator").await.unwrap();
    let decoded = platform.http_as(&operator).post(&url).json(&input).send().await.unwrap();
    assert_eq!(decoded.status(), 200);
    assert_eq!(decoded.headers()["cache-control"], "no-store");
    let decoded: Value = decoded.json().await.unwrap();
    assert_eq!(decoded["payloads"][0]["metadata"]["encoding"], STANDARD.encode("json/plain"));
    let text = readable_text(&decoded);
    assert!(text.contains(NAME) && text.contains(EMAIL) && text.contains(PHONE), "{text}");
    let as_traveller = platform.http_as(&platform.traveller).post(&url).json(&input).send().await.unwrap();
    assert_eq!(as_traveller.status(), 403);
    let anonymous = platform.http.post(&url).json(&input).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    platform.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payloads_sealed_under_a_retired_active_key_still_open_after_a_rotation() {
    let platform = TestPlatform::spawn_with(TestPlatformOptions::without_workers()).await.unwrap();
    let operator = platform.user_with_role("operator").await.unwrap();
    let http = platform.http_as(&operator);
    let (decode, encode) =
        (format!("{}/api/codec/decode", platform.api_url), format!("{}/api/codec/encode", platform.api_url));
    // Before the rotation only `test-old` existed, and it sealed this payload.
    let before: platform::payload_codec::PayloadKeys =
        tests::TEST_PAYLOAD_KEYS.split(',').nth(1).unwrap().parse().unwrap();
    assert_eq!(before.active_key_id(), "test-old");
    let sealed = before.encrypt(plain_name()).unwrap();

    let decoded = json_of(http.post(&decode).json(&json!({ "payloads": [as_json(&sealed)] }))).await;
    assert_eq!(decoded["payloads"][0]["data"], STANDARD.encode(format!("\"{NAME}\"")), "{decoded}");

    // New payloads are sealed under the active key, and what it sealed opens again.
    let plain_one = json!({ "metadata": { "encoding": STANDARD.encode("json/plain") }, "data": STANDARD.encode("1") });
    let encoded = json_of(http.post(&encode).json(&json!({ "payloads": [plain_one] }))).await;
    assert_eq!(encoded["payloads"][0]["metadata"]["encryption-key-id"], STANDARD.encode("test-2"), "{encoded}");
    let reopened = json_of(http.post(&decode).json(&encoded)).await;
    assert_eq!(reopened["payloads"][0]["data"], STANDARD.encode("1"));

    // A payload altered on the server does not open: refused, not passed on as garbage.
    let mut tampered = as_json(&sealed);
    tampered["data"] = json!(STANDARD.encode(b"0123456789abcdefghijklmnop"));
    let refused = http.post(&decode).json(&json!({ "payloads": [tampered] })).send().await.unwrap();
    assert_eq!(refused.status(), 422);
    platform.stop().await.unwrap();
}

/// The Web UI cannot send a bearer token: an operator signs in at the codec, and the UI's
/// requests carry the codec cookie across origins. Nobody else gets a cookie, and the cookie
/// opens nothing outside the codec.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operators_sign_in_for_the_web_ui_with_a_cookie_that_opens_only_the_codec() {
    let platform = TestPlatform::spawn_with(TestPlatformOptions::without_workers()).await.unwrap();
    let sealed = tests::test_payload_keys().encrypt(plain_name()).unwrap();
    let payloads = json!({ "payloads": [as_json(&sealed)] });
    let sign_in = format!("{}/api/codec/sign-in", platform.api_url);
    let decode = format!("{}/api/codec/decode", platform.api_url);

    let page = platform.http.get(&sign_in).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("<form method=\"post\" action=\"/api/codec/sign-in\">"));

    // A traveller is told no and gets no cookie, nor a session left behind.
    let traveller = [("email", platform.traveller.email.as_str()), ("password", tests::TEST_PASSWORD)];
    let refused = platform.http.post(&sign_in).form(&traveller).send().await.unwrap();
    assert_eq!(refused.status(), 403);
    assert!(refused.headers().get("set-cookie").is_none());
    let wrong = [("email", platform.traveller.email.as_str()), ("password", "not-the-password")];
    assert_eq!(platform.http.post(&sign_in).form(&wrong).send().await.unwrap().status(), 401);

    let operator = platform.user_with_role("operator").await.unwrap();
    let form = [("email", operator.email.as_str()), ("password", tests::TEST_PASSWORD)];
    let signed_in = platform.http.post(&sign_in).form(&form).send().await.unwrap();
    assert_eq!(signed_in.status(), 200);
    let cookie = signed_in.headers()["set-cookie"].to_str().unwrap().to_string();
    for attribute in ["Path=/api/codec", "HttpOnly", "Secure", "SameSite=Strict", "Max-Age=600"] {
        assert!(cookie.contains(attribute), "{attribute} missing from {cookie}");
    }
    let pair = cookie.split(';').next().unwrap().to_string();

    // The browser's preflight from the Web UI allows credentials for that origin.
    let preflight = platform
        .http
        .request(reqwest::Method::OPTIONS, &decode)
        .header("Origin", tests::WEB_UI_ORIGIN)
        .header("Access-Control-Request-Method", "POST")
        .header("Access-Control-Request-Headers", "content-type,x-namespace")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.headers()["access-control-allow-origin"], tests::WEB_UI_ORIGIN);
    assert_eq!(preflight.headers()["access-control-allow-credentials"], "true");

    // The UI's request: the cookie and no Authorization header.
    let decoded = platform
        .http
        .post(&decode)
        .header("Origin", tests::WEB_UI_ORIGIN)
        .header("Cookie", &pair)
        .json(&payloads)
        .send()
        .await
        .unwrap();
    assert_eq!(decoded.status(), 200);
    assert_eq!(decoded.headers()["access-control-allow-credentials"], "true");
    assert!(readable_text(&decoded.json().await.unwrap()).contains(NAME));

    // The same cookie anywhere else is no credential at all.
    let elsewhere =
        platform.http.get(format!("{}/api/bookings", platform.api_url)).header("Cookie", &pair).send().await.unwrap();
    assert_eq!(elsewhere.status(), 401);
    let unknown = platform.http.post(&decode).header("Cookie", "tt_codec=forged").json(&payloads).send().await.unwrap();
    assert_eq!(unknown.status(), 401);
    platform.stop().await.unwrap();
}
