//! Partners end to end: API keys through their whole life, partner isolation, rate limits
//! shared by two API instances, the access log, and settlements run by hand and by their
//! Temporal Schedule — real API, workers, Temporal dev server and PostgreSQL.

use chrono::{Duration as Span, Utc};
use contracts::{
    BookingRef, Money, StayDates,
    activities::{BookingConfirmation, CancellationCompletion, CancellationRequest, NewBookingRecord},
    cancellation::CancellationInput,
    saga::LeadTraveller,
    settlement::{SettlementCycle, SettlementInput, SettlementRecord},
    temporal::task_queue,
};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use temporalio_client::{WorkflowGetResultOptions, WorkflowStartOptions};
use tests::{Session, TestPlatform, TestPlatformOptions, body_of, booking_body, error_code, eventually};
use uuid::Uuid;
use workers::WorkerContext;

/// An admin's view of the partner API.
struct Admin<'a> {
    platform: &'a TestPlatform,
    http: reqwest::Client,
}

impl<'a> Admin<'a> {
    async fn new(platform: &'a TestPlatform) -> Admin<'a> {
        let session: Session = platform.user_with_role("admin").await.unwrap();
        Admin { platform, http: platform.http_as(&session) }
    }

    fn url(&self, path: &str) -> String {
        format!("{}/api/partners{path}", self.platform.api_url)
    }

    async fn onboard(&self, code: &str, commission_bp: i64, rate_limit: i64) -> Value {
        let body = json!({ "code": code, "name": format!("{code} travels"), "contact_email": format!("ops@{code}.in"),
                           "commission_bp": commission_bp, "rate_limit_per_minute": rate_limit });
        let (status, partner) = body_of(self.http.post(self.url("")).json(&body).send().await.unwrap()).await;
        assert_eq!(status, 201, "{partner}");
        partner
    }

    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        body_of(self.http.post(self.url(path)).json(&body).send().await.unwrap()).await
    }

    async fn issue_key(&self, partner: &str, body: Value) -> String {
        let (status, issued) = self.post(&format!("/{partner}/keys"), body).await;
        assert_eq!(status, 201, "{issued}");
        issued["key"].as_str().unwrap().to_string()
    }
}

fn partner_id(partner: &Value) -> Uuid {
    partner["partner_id"].as_str().unwrap().parse().unwrap()
}

/// A GET on the partner API of `base` with `key` as a Bearer token.
async fn partner_get(platform: &TestPlatform, base: &str, key: &str, path: &str) -> (u16, Value) {
    let url = format!("{base}/api/partners/v1{path}");
    body_of(platform.http.get(url).bearer_auth(key).send().await.unwrap()).await
}

fn quote_path() -> String {
    let check_in = contracts::india::today() + Span::days(10);
    format!(
        "/quote?accommodation=ujjayanta-heritage-hotel&room_type=deluxe_double&check_in={check_in}&check_out={}",
        check_in + Span::days(2)
    )
}

fn prefix_of(key: &str) -> &str {
    &key["tt_live_".len().."tt_live_".len() + 10]
}

/// Waits until the partner API refuses `key` as expired.
async fn wait_until_expired(platform: &TestPlatform, base: &str, key: &str, what: &str) {
    eventually(what, async || {
        let (status, body) = partner_get(platform, base, key, &quote_path()).await;
        if status == 401 && error_code(&body) == "api_key_expired" { Ok(()) } else { Err(format!("{status} {body}")) }
    })
    .await
}

/// Waits until the partner API shows the booking at `path` in `status`; returns that view.
async fn wait_for_partner_view(platform: &TestPlatform, base: &str, key: &str, path: &str, status: &str) -> Value {
    eventually(&format!("{path} to be {status}"), async || {
        let (code, view) = partner_get(platform, base, key, path).await;
        if code == 200 && view["status"] == status { Ok(view) } else { Err(format!("{code} {view}")) }
    })
    .await
}

/// An access log line: key prefix, method, route, status, client address.
type LogLine = (Option<String>, String, String, i32, Option<String>);

/// The partner's access log in the order it was written, once it has `lines` lines or more
/// (API instances write theirs in the background).
async fn access_log(platform: &TestPlatform, partner_id: Uuid, lines: usize) -> Vec<LogLine> {
    eventually(&format!("{lines} access log lines"), async || {
        let rows: Vec<LogLine> = sqlx::query_as(
            "SELECT key_prefix, method, route, status, host(client_addr) FROM api_access_logs
             WHERE partner_id = $1 ORDER BY api_access_log_id",
        )
        .bind(partner_id)
        .fetch_all(&platform.partner_db)
        .await
        .unwrap();
        if rows.len() >= lines { Ok(rows) } else { Err(format!("{rows:?}")) }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_keys_are_shown_once_rotated_with_grace_revoked_at_once_and_expire() {
    let platform = TestPlatform::spawn_with(TestPlatformOptions::without_workers()).await.unwrap();
    let admin = Admin::new(&platform).await;
    let base = platform.api_url.clone();

    // Onboarding: admins only, codes unique, fields checked.
    let traveller = platform.http_as(&platform.traveller);
    let refused = traveller.post(admin.url("")).json(&json!({})).send().await.unwrap();
    assert_eq!(refused.status(), 403);
    let partner = admin.onboard("tripura-trails", 1_000, 600).await;
    assert_eq!(
        (partner["settlement_cycle"].as_str(), partner["status"].as_str()),
        (Some("weekly"), Some("active")),
        "{partner}"
    );
    let again = json!({ "code": "tripura-trails", "name": "x", "contact_email": "a@b.in", "commission_bp": 1 });
    let (status, body) = admin.post("", again).await;
    assert_eq!((status, error_code(&body)), (409, "partner_code_taken"));
    let bad = json!({ "code": "other-one", "name": "x", "contact_email": "a@b.in", "commission_bp": 10_001 });
    let (status, body) = admin.post("", bad).await;
    assert_eq!((status, body["error"]["details"]["field"].as_str()), (422, Some("commission_bp")), "{body}");

    // Issue: the key is shown once, never cached, and works as Bearer or X-Api-Key.
    let issued = admin.http.post(admin.url("/tripura-trails/keys")).json(&json!({ "label": "site" })).send();
    let issued = issued.await.unwrap();
    assert_eq!(issued.headers()["cache-control"], "no-store");
    let (status, issued) = body_of(issued).await;
    assert_eq!(status, 201, "{issued}");
    let k1 = issued["key"].as_str().unwrap().to_string();
    assert!(k1.starts_with(&format!("tt_live_{}_", issued["key_prefix"].as_str().unwrap())), "{k1}");
    assert_eq!(partner_get(&platform, &base, &k1, &quote_path()).await.0, 200);
    let by_header = platform.http.get(format!("{base}/api/partners/v1{}", quote_path())).header("X-Api-Key", &k1);
    assert_eq!(by_header.send().await.unwrap().status(), 200);
    let listed: Value = admin.http.get(admin.url("/tripura-trails/keys")).send().await.unwrap().json().await.unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!((listed[0]["status"].as_str(), listed[0].get("key")), (Some("active"), None), "{listed}");

    // Anything but a live key is 401 in the API's error shape.
    let no_key = platform.http.get(format!("{base}/api/partners/v1{}", quote_path())).send().await.unwrap();
    assert_eq!(no_key.headers()["www-authenticate"], "Bearer");
    let (status, body) = body_of(no_key).await;
    assert_eq!((status, error_code(&body)), (401, "missing_api_key"));
    let mut tampered = k1.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'a' { 'b' } else { 'a' });
    for wrong in [tampered.as_str(), "tt_live_nope", "not a key at all"] {
        let (status, body) = partner_get(&platform, &base, wrong, &quote_path()).await;
        assert_eq!((status, error_code(&body)), (401, "invalid_api_key"), "{wrong}");
    }

    // Rotate with a grace period: both keys work until the old one's grace ends.
    let (status, rotated) = admin
        .post(&format!("/tripura-trails/keys/{}/rotate", prefix_of(&k1)), json!({ "grace_period_secs": 600 }))
        .await;
    assert_eq!(status, 201, "{rotated}");
    let k2 = rotated["new_key"]["key"].as_str().unwrap().to_string();
    assert_eq!(rotated["new_key"]["label"], "site", "the replacement keeps the label");
    let grace_ends: chrono::DateTime<Utc> = rotated["previous"]["expires_at"].as_str().unwrap().parse().unwrap();
    let left = grace_ends - Utc::now();
    assert!(left > Span::seconds(590) && left <= Span::seconds(600), "{left}");
    assert_eq!(partner_get(&platform, &base, &k1, &quote_path()).await.0, 200, "old key within its grace period");
    assert_eq!(partner_get(&platform, &base, &k2, &quote_path()).await.0, 200, "new key");

    // A short grace: the old key expires by itself, and stays expired.
    let (status, rotated) =
        admin.post(&format!("/tripura-trails/keys/{}/rotate", prefix_of(&k2)), json!({ "grace_period_secs": 1 })).await;
    assert_eq!(status, 201, "{rotated}");
    let k3 = rotated["new_key"]["key"].as_str().unwrap().to_string();
    wait_until_expired(&platform, &base, &k2, "the rotated key to expire").await;
    assert_eq!(partner_get(&platform, &base, &k3, &quote_path()).await.0, 200);
    let (status, body) =
        admin.post(&format!("/tripura-trails/keys/{}/rotate", prefix_of(&k2)), json!({ "grace_period_secs": 1 })).await;
    assert_eq!((status, error_code(&body)), (409, "api_key_not_active"), "an expired key cannot be rotated");

    // Revoke: refused from the very next request.
    let revoked = admin.http.delete(admin.url(&format!("/tripura-trails/keys/{}", prefix_of(&k3)))).send();
    let (status, body) = body_of(revoked.await.unwrap()).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("revoked")), "{body}");
    let (status, body) = partner_get(&platform, &base, &k3, &quote_path()).await;
    assert_eq!((status, error_code(&body)), (401, "api_key_revoked"));

    // Each key's issue, rotations and revocation are in the stored activity log, with the
    // admin who did it and the key's prefix (never the key).
    let logged: Vec<(String, Option<Uuid>, Value)> = sqlx::query_as(
        "SELECT action, user_id, details FROM user_activity_logs WHERE action LIKE 'partner_key_%' ORDER BY created_at",
    )
    .fetch_all(&platform.auth_db)
    .await
    .unwrap();
    let actions: Vec<(&str, Option<&str>)> =
        logged.iter().map(|(a, _, d)| (a.as_str(), d["key_prefix"].as_str())).collect();
    assert_eq!(
        actions,
        [
            ("partner_key_issue", Some(prefix_of(&k1))),
            ("partner_key_rotate", Some(prefix_of(&k1))),
            ("partner_key_rotate", Some(prefix_of(&k2))),
            ("partner_key_revoke", Some(prefix_of(&k3))),
        ],
        "{logged:?}"
    );
    assert!(logged.iter().all(|(_, by, d)| by.is_some() && d["partner"] == "tripura-trails"), "{logged:?}");
    let written = serde_json::to_string(&logged.iter().map(|(_, _, d)| d).collect::<Vec<_>>()).unwrap();
    assert!(![&k1, &k2, &k3].iter().any(|k| written.contains(k.as_str())), "no key in the log: {written}");

    // Expiry set at issue: in the past is refused; a near one works, then expires.
    let past = (Utc::now() - Span::minutes(1)).to_rfc3339();
    let (status, body) = admin.post("/tripura-trails/keys", json!({ "expires_at": past })).await;
    assert_eq!((status, body["error"]["details"]["field"].as_str()), (422, Some("expires_at")));
    let soon = (Utc::now() + Span::seconds(2)).to_rfc3339();
    let k4 = admin.issue_key("tripura-trails", json!({ "expires_at": soon })).await;
    wait_until_expired(&platform, &base, &k4, "the key to expire at its expiry").await;

    // A suspended partner's keys are refused; reopened, they work again.
    let suspend = admin.http.patch(admin.url("/tripura-trails")).json(&json!({ "status": "suspended" })).send();
    assert_eq!(suspend.await.unwrap().status(), 200);
    let (status, body) = partner_get(&platform, &base, &k1, &quote_path()).await;
    assert_eq!((status, error_code(&body)), (403, "partner_inactive"));
    let reopen = admin.http.patch(admin.url("/tripura-trails")).json(&json!({ "status": "active" })).send();
    assert_eq!(reopen.await.unwrap().status(), 200);
    assert_eq!(partner_get(&platform, &base, &k1, &quote_path()).await.0, 200);

    // No key in clear text anywhere in the database; each one's SHA-256 is stored.
    let everything = platform.whole_database_text().await;
    assert!(everything.contains(prefix_of(&k1)), "the dump covers the partner tables");
    for key in [&k1, &k2, &k3, &k4] {
        let secret = &key["tt_live_".len() + 11..];
        assert!(!everything.contains(secret), "a key's secret is stored in clear text");
        let stored: Vec<u8> = sqlx::query_scalar("SELECT key_hash FROM api_credentials WHERE key_prefix = $1")
            .bind(prefix_of(key))
            .fetch_one(&platform.partner_db)
            .await
            .unwrap();
        assert_eq!(stored, Sha256::digest(key.as_bytes()).to_vec());
    }

    // Every partner request is logged, refused ones too, under its route template, with the
    // socket's address: an X-Forwarded-For from a client that is not a trusted proxy is ignored.
    let forged = platform
        .http
        .get(format!("{base}/api/partners/v1{}", quote_path()))
        .bearer_auth(&k1)
        .header("X-Forwarded-For", "6.6.6.6")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 200);
    let logged = access_log(&platform, partner_id(&partner), 11).await;
    assert!(logged.iter().all(|(_, method, route, _, addr)| method == "GET"
        && route == "/api/partners/v1/quote"
        && addr.as_deref() == Some("127.0.0.1")));
    let statuses: std::collections::BTreeSet<i32> = logged.iter().map(|r| r.3).collect();
    assert_eq!(statuses, [200, 401, 403].into(), "{logged:?}");
    assert!(logged.iter().any(|r| r.0.as_deref() == Some(prefix_of(&k3)) && r.3 == 401), "revoked key's refusal");
    let unknown: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM api_access_logs WHERE partner_id IS NULL AND route = '/api/partners/v1/quote'",
    )
    .fetch_one(&platform.partner_db)
    .await
    .unwrap();
    assert!(unknown >= 4, "requests without a valid key are logged too");
    let used: Option<chrono::DateTime<Utc>> =
        sqlx::query_scalar("SELECT last_used_at FROM api_credentials WHERE key_prefix = $1")
            .bind(prefix_of(&k1))
            .fetch_one(&platform.partner_db)
            .await
            .unwrap();
    assert!(used.is_some(), "a used key shows when it was last used");
    platform.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partner_books_through_the_saga_and_sees_only_its_own_bookings() {
    let platform = TestPlatform::spawn().await.unwrap();
    let admin = Admin::new(&platform).await;
    let base = platform.api_url.clone();
    let a = admin.onboard("neermahal-holidays", 1_200, 600).await;
    admin.onboard("unakoti-tours", 1_000, 600).await;
    let key_a = admin.issue_key("neermahal-holidays", json!({})).await;
    let key_b = admin.issue_key("unakoti-tours", json!({})).await;
    let book = |key: &str, body: &Value, idempotency_key: &str| {
        platform
            .http
            .post(format!("{base}/api/partners/v1/bookings"))
            .bearer_auth(key)
            .header("Idempotency-Key", idempotency_key)
            .json(body)
            .send()
    };

    // What a partner sees before booking: the room free, at the price it will pay.
    let body = booking_body(15, 2, 1, "tok_success");
    let (check_in, check_out) = (body["check_in"].as_str().unwrap(), body["check_out"].as_str().unwrap());
    let (status, free) = partner_get(
        &platform,
        &base,
        &key_a,
        &format!("/availability?accommodation=ujjayanta-heritage-hotel&check_in={check_in}&check_out={check_out}"),
    )
    .await;
    assert_eq!(status, 200, "{free}");
    let room = free["room_types"].as_array().unwrap().iter().find(|r| r["room_type"] == "deluxe_double").unwrap();
    assert_eq!((room["bookable"].as_bool(), room["available_rooms"].as_i64()), (Some(true), Some(8)), "{room}");
    assert_eq!(room["total"]["amount"], 945_000);

    // A books for its customer; the same key and body again find the same booking.
    let (status, accepted) = body_of(book(&key_a, &body, "order-1").await.unwrap()).await;
    assert_eq!(status, 202, "{accepted}");
    let ref_a = accepted["booking_ref"].as_str().unwrap().to_string();
    assert_eq!(accepted["status_url"], format!("/api/partners/v1/bookings/{ref_a}"));
    let (status, repeated) = body_of(book(&key_a, &body, "order-1").await.unwrap()).await;
    assert_eq!((status, repeated["booking_ref"].as_str()), (202, Some(ref_a.as_str())));
    let mut other_body = body.clone();
    other_body["guests"] = json!(2);
    let (status, reused) = body_of(book(&key_a, &other_body, "order-1").await.unwrap()).await;
    assert_eq!((status, error_code(&reused)), (422, "idempotency_key_reused"));
    // B's key named the same is B's own.
    let (status, theirs) = body_of(book(&key_b, &body, "order-1").await.unwrap()).await;
    assert_eq!(status, 202, "{theirs}");
    let ref_b = theirs["booking_ref"].as_str().unwrap().to_string();
    assert_ne!(ref_a, ref_b);

    let confirmed =
        wait_for_partner_view(&platform, &base, &key_a, &format!("/bookings/{ref_a}?wait=5"), "confirmed").await;
    assert_eq!(confirmed["amount_charged"]["amount"], 945_000, "{confirmed}");
    assert_eq!(confirmed["status_url"], format!("/api/partners/v1/bookings/{ref_a}"));

    // Isolation: another partner's booking, or a traveller's, does not exist for you.
    let (status, body_404) = partner_get(&platform, &base, &key_b, &format!("/bookings/{ref_a}")).await;
    assert_eq!((status, error_code(&body_404)), (404, "booking_not_found"));
    let traveller_ref = platform.book(&booking_body(16, 1, 1, "tok_success")).await;
    assert_eq!(partner_get(&platform, &base, &key_a, &format!("/bookings/{traveller_ref}")).await.0, 404);
    let (status, _) = platform.get_booking(&ref_a, 0).await.unwrap();
    assert_eq!(status, 404, "a traveller cannot read a partner's booking either");
    for (key, own, other) in [(&key_a, &ref_a, &ref_b), (&key_b, &ref_b, &ref_a)] {
        let (status, list) = partner_get(&platform, &base, key, "/bookings").await;
        assert_eq!(status, 200);
        let refs: Vec<&str> =
            list["items"].as_array().unwrap().iter().map(|b| b["booking_ref"].as_str().unwrap()).collect();
        assert_eq!(refs, vec![own.as_str()], "{list}");
        assert!(!refs.contains(&other.as_str()));
    }

    // Cancelling: never another partner's booking; the partner's own through the cancellation saga.
    let cancel = |key: &str, r: &str| {
        platform
            .http
            .post(format!("{base}/api/partners/v1/bookings/{r}/cancel"))
            .bearer_auth(key)
            .json(&json!({ "reason": "the customer's plans changed" }))
            .send()
    };
    let (status, body) = body_of(cancel(&key_b, &ref_a).await.unwrap()).await;
    assert_eq!((status, error_code(&body)), (404, "booking_not_found"));
    let (status, body) = body_of(cancel(&key_a, &ref_a).await.unwrap()).await;
    assert_eq!((status, body["status"].as_str()), (202, Some("cancelling")), "{body}");
    assert_eq!(body["status_url"], format!("/api/partners/v1/bookings/{ref_a}"));
    let cancelled = wait_for_partner_view(&platform, &base, &key_a, &format!("/bookings/{ref_a}"), "cancelled").await;
    // Fifteen days ahead, the standard policy gives everything back.
    assert_eq!(cancelled["amount_refunded"]["amount"], 945_000, "{cancelled}");
    let requested_by: String = sqlx::query_scalar(
        "SELECT requested_by FROM booking_cancellations JOIN bookings USING (booking_id) WHERE booking_ref = $1",
    )
    .bind(&ref_a)
    .fetch_one(&platform.booking_db)
    .await
    .unwrap();
    assert_eq!(requested_by, format!("partner:{}", partner_id(&a)));
    let (status, again) = body_of(cancel(&key_a, &ref_a).await.unwrap()).await;
    assert_eq!((status, again["status"].as_str()), (202, Some("cancelled")), "asking again starts nothing new");

    // The booking context knows the channel and the partner; operators find it by partner.
    let (channel, owner): (String, Option<Uuid>) =
        sqlx::query_as("SELECT channel, partner_id FROM bookings WHERE booking_ref = $1")
            .bind(&ref_a)
            .fetch_one(&platform.booking_db)
            .await
            .unwrap();
    assert_eq!((channel.as_str(), owner), ("partner", Some(partner_id(&a))));
    let query = format!("BookingPartner = '{}'", partner_id(&a));
    let found = eventually("the saga to be found by its partner", async || {
        let ids = platform.find_workflows(&query).await;
        if ids.is_empty() { Err("nothing found yet") } else { Ok(ids) }
    })
    .await;
    assert_eq!(found, vec![format!("booking-{ref_a}")]);
    platform.replay_history(&ref_a, "partner_booking_confirmed").await.unwrap();
    platform.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_api_instances_share_one_rate_limit_per_partner_and_per_key() {
    let mut platform = TestPlatform::spawn_with(TestPlatformOptions::without_workers()).await.unwrap();
    let second = platform.spawn_api(&[api::ApiService::Partners]).await.unwrap();
    let first = platform.api_url.clone();
    let admin = Admin::new(&platform).await;

    // The partner's limit: 5 a minute over all its keys and both instances.
    let partner = admin.onboard("jampui-journeys", 1_000, 5).await;
    let key_1 = admin.issue_key("jampui-journeys", json!({})).await;
    let key_2 = admin.issue_key("jampui-journeys", json!({})).await;
    for n in 0..5 {
        let (base, key) = if n % 2 == 0 { (&first, &key_1) } else { (&second, &key_2) };
        let (status, body) = partner_get(&platform, base, key, &quote_path()).await;
        assert_eq!(status, 200, "request {n}: {body}");
    }
    for (base, key) in [(&first, &key_1), (&second, &key_2)] {
        let response =
            platform.http.get(format!("{base}/api/partners/v1{}", quote_path())).bearer_auth(key).send().await.unwrap();
        let retry_after: u64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=120).contains(&retry_after), "{retry_after}");
        let (status, body) = body_of(response).await;
        assert_eq!((status, error_code(&body)), (429, "rate_limited"), "{body}");
        assert!(body["error"]["message"].as_str().unwrap().contains("partner"), "{body}");
    }

    // A key's own limit: 3 a minute for this key, while the partner's other key goes on.
    admin.onboard("sepahijala-stays", 1_000, 100).await;
    let slow = admin.issue_key("sepahijala-stays", json!({ "rate_limit_per_minute": 3 })).await;
    let other = admin.issue_key("sepahijala-stays", json!({})).await;
    for (n, base) in [&first, &second, &first].into_iter().enumerate() {
        assert_eq!(partner_get(&platform, base, &slow, &quote_path()).await.0, 200, "request {n}");
    }
    let (status, body) = partner_get(&platform, &second, &slow, &quote_path()).await;
    assert_eq!((status, error_code(&body)), (429, "rate_limited"));
    assert!(body["error"]["message"].as_str().unwrap().contains("key"), "{body}");
    assert_eq!(partner_get(&platform, &second, &other, &quote_path()).await.0, 200);

    // Both instances logged their share of the first partner's seven requests.
    let statuses: Vec<i32> = access_log(&platform, partner_id(&partner), 7).await.iter().map(|r| r.3).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 5);
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 2);
    platform.stop().await.unwrap();
}

/// Writes a confirmed booking of `partner_id` (none: a traveller's) through the booking
/// store, confirmed at `confirmed_at`.
async fn seed_confirmed_booking(
    platform: &TestPlatform,
    partner_id: Option<Uuid>,
    nights: i64,
    rooms: u32,
    confirmed_at: chrono::DateTime<Utc>,
) -> (BookingRef, i64) {
    let offer = catalog::store::find_offer(&platform.catalog_db, "ujjayanta-heritage-hotel", "deluxe_double")
        .await
        .unwrap()
        .unwrap();
    let check_in = contracts::india::today() + Span::days(30);
    let dates = StayDates { check_in, check_out: check_in + Span::days(nights) };
    let quote = offer.quote(&dates, rooms).unwrap();
    let booking_ref = BookingRef::from_random(rand::random());
    let record = NewBookingRecord {
        booking_ref: booking_ref.clone(),
        accommodation_id: offer.accommodation_id,
        room_type: offer.room_type.clone(),
        dates,
        rooms,
        guests: rooms,
        lead_traveller: LeadTraveller {
            name: "Mou Saha".into(),
            email: "mou@example.in".into(),
            phone: "+919800000000".into(),
        },
        quote: quote.clone(),
        hold_id: format!("booking-{booking_ref}/hold"),
        user_id: None,
        partner_id,
        request: None,
    };
    let recorded = booking::store::create_booking(&platform.booking_db, &record, "test").await.unwrap();
    assert_eq!(recorded, booking::store::Recorded::New);
    let confirmation = BookingConfirmation {
        booking_ref: booking_ref.clone(),
        amount_charged: quote.total,
        payment_id: Uuid::new_v4(),
    };
    booking::store::confirm_booking(&platform.booking_db, &confirmation, "test").await.unwrap();
    sqlx::query(
        "UPDATE booking_versions SET created_at = $2
         WHERE status = 'confirmed' AND booking_id = (SELECT booking_id FROM bookings WHERE booking_ref = $1)",
    )
    .bind(booking_ref.as_str())
    .bind(confirmed_at)
    .execute(&platform.booking_db)
    .await
    .unwrap();
    (booking_ref, quote.total.amount)
}

/// Cancels a confirmed booking through the booking store as the cancellation saga does,
/// with `paise` given back, completed at `at`.
async fn seed_cancellation(platform: &TestPlatform, booking_ref: &BookingRef, paise: i64, at: chrono::DateTime<Utc>) {
    let request = CancellationRequest {
        cancellation: CancellationInput {
            booking_ref: booking_ref.clone(),
            requested_by: "partner:test".into(),
            reason: "cancelled by the customer".into(),
            override_refund: None,
        },
        today: contracts::india::today(),
    };
    let terms = booking::store::begin_cancellation(&platform.booking_db, &request, "test").await.unwrap();
    assert!(matches!(terms, booking::store::BeginCancellation::Terms(_)), "{terms:?}");
    let completion =
        CancellationCompletion { booking_ref: booking_ref.clone(), refunded: Money::inr(paise), owed: None };
    booking::store::complete_cancellation(&platform.booking_db, &completion, "test").await.unwrap();
    sqlx::query(
        "UPDATE booking_cancellations SET completed_at = $2
         WHERE booking_id = (SELECT booking_id FROM bookings WHERE booking_ref = $1)",
    )
    .bind(booking_ref.as_str())
    .bind(at)
    .execute(&platform.booking_db)
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_settlement_balances_to_the_paisa_is_written_once_and_runs_on_its_schedule() {
    let platform =
        TestPlatform::spawn_with(TestPlatformOptions::with_workers(&[WorkerContext::Booking, WorkerContext::Partner]))
            .await
            .unwrap();
    let admin = Admin::new(&platform).await;
    let p = admin.onboard("agartala-travels", 1_250, 600).await;
    let other = admin.onboard("udaipur-yatra", 1_000, 600).await;
    let (p_id, other_id) = (partner_id(&p), partner_id(&other));

    // The last full week in India, and what happened in it and around it.
    let period = SettlementCycle::Weekly.last_completed_period(contracts::india::today());
    let start = contracts::india::start_of_day(period.start);
    let end = contracts::india::start_of_day(period.end);
    let (first, a1) = seed_confirmed_booking(&platform, Some(p_id), 1, 1, start).await; // the first instant counts
    let (_, a2) = seed_confirmed_booking(&platform, Some(p_id), 3, 1, start + Span::days(3)).await;
    let (_, a3) = seed_confirmed_booking(&platform, Some(p_id), 2, 2, end - Span::seconds(1)).await;
    let (earlier, _) = seed_confirmed_booking(&platform, Some(p_id), 1, 1, start - Span::seconds(1)).await;
    let (earliest, _) = seed_confirmed_booking(&platform, Some(p_id), 1, 1, start - Span::days(2)).await;
    seed_confirmed_booking(&platform, Some(p_id), 1, 1, end).await; // the next period's first instant
    seed_confirmed_booking(&platform, Some(other_id), 2, 1, start + Span::days(1)).await;
    seed_confirmed_booking(&platform, None, 2, 1, start + Span::days(1)).await;
    // Refunds of cancellations completed in the period count, whichever period their booking
    // was confirmed in; a booking confirmed and cancelled in the period counts both ways.
    seed_cancellation(&platform, &earlier, 100_000, start + Span::days(2)).await;
    seed_cancellation(&platform, &first, 23_457, end - Span::seconds(1)).await;
    seed_cancellation(&platform, &earliest, 1_000, end).await; // the next period's
    assert_eq!((a1, a2, a3), (472_500, 1_417_500, 1_890_000));

    // By hand: collected 37 800.00, refunded 1 234.57; 12.5 % of 36 565.43 is 4 570.67875,
    // 4 570.68 rounded half up; TDS 2 % of that is 91.4136, 91.41; payout 4 479.27.
    let input = SettlementInput { partner_id: p_id, partner_code: "agartala-travels".into(), period };
    let run = || async {
        let options = WorkflowStartOptions::new(task_queue::PARTNER, input.workflow_id()).build();
        let handle = platform
            .client
            .start_workflow(sagas::PartnerSettlementWorkflow::run, input.clone(), options)
            .await
            .unwrap();
        handle.get_result(WorkflowGetResultOptions::default()).await.unwrap()
    };
    let settled: SettlementRecord = run().await;
    assert_eq!(input.workflow_id(), format!("settle-agartala-travels-{}", period.start));
    assert_eq!((settled.bookings, settled.refunds, settled.commission_bp), (3, 2, 1_250));
    assert_eq!(
        [settled.collected, settled.refunded, settled.commission, settled.tds, settled.payout],
        [Money::inr(3_780_000), Money::inr(123_457), Money::inr(457_068), Money::inr(9_141), Money::inr(447_927)]
    );
    assert_eq!(settled.payout.amount, settled.commission.amount - settled.tds.amount);
    platform.replay_workflow_history(&input.workflow_id(), "partner_settlement").await.unwrap();

    // Again: the same row comes back and nothing new is written.
    let settlement_rows = || async {
        let sql = "SELECT partner_settlement_id, created_at FROM partner_settlements WHERE partner_id = $1";
        let rows: Vec<(Uuid, chrono::DateTime<Utc>)> =
            sqlx::query_as(sql).bind(p_id).fetch_all(&platform.partner_db).await.unwrap();
        rows
    };
    let rows_before = settlement_rows().await;
    let again = run().await;
    assert_eq!(again, settled);
    let rows_after = settlement_rows().await;
    assert_eq!(rows_before.len(), 1);
    assert_eq!(rows_after, rows_before);

    // The partner reads it; an admin downloads the statement.
    let key = admin.issue_key("agartala-travels", json!({})).await;
    let (status, mine) = partner_get(&platform, &platform.api_url, &key, "/settlements").await;
    assert_eq!(status, 200, "{mine}");
    assert_eq!(mine["items"].as_array().unwrap().len(), 1);
    assert_eq!(
        (mine["items"][0]["payout"]["amount"].as_i64(), mine["items"][0]["period_start"].as_str()),
        (Some(447_927), Some(period.start.to_string().as_str()))
    );
    let csv = admin.http.get(admin.url("/agartala-travels/settlements/statement.csv")).send().await.unwrap();
    assert_eq!(csv.status(), 200);
    assert!(csv.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let text = csv.text().await.unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert_eq!(lines[0], partner::statement::HEADER);
    assert!(
        lines[1].starts_with(&format!(
            "agartala-travels,{},{},3,2,37800.00,1234.57,12.50,4570.68,91.41,4479.27,computed,",
            period.start, period.end
        )),
        "{}",
        lines[1]
    );

    // The schedules follow the partners table: one command creates them, again changes nothing.
    // The partner worker syncs once as it starts, which may have been after the onboarding
    // above: start from no schedules, whichever came first.
    for id in ["settlement-agartala-travels", "settlement-udaipur-yatra"] {
        let _ = platform.client.get_schedule_handle(id).delete(Default::default()).await;
    }
    let report = workers::sync_settlement_schedules(&platform.client, &platform.partner_db).await.unwrap();
    assert_eq!(report.created, vec!["settlement-agartala-travels", "settlement-udaipur-yatra"]);
    let report = workers::sync_settlement_schedules(&platform.client, &platform.partner_db).await.unwrap();
    assert_eq!((report.created.len(), report.updated.len(), report.unchanged.len()), (0, 0, 2));

    // A trigger of the other partner's schedule settles its last week: one booking at 10 %.
    let schedule = platform.client.get_schedule_handle("settlement-udaipur-yatra");
    schedule.trigger(temporalio_client::schedules::ScheduleOverlapPolicy::AllowAll, Default::default()).await.unwrap();
    let cycle_id = eventually("the schedule to start its workflow", async || {
        let description = schedule.describe(Default::default()).await.unwrap();
        description.recent_actions().first().map(|a| a.workflow_id.clone()).ok_or("no action yet")
    })
    .await;
    assert!(cycle_id.starts_with("settlement-udaipur-yatra"), "{cycle_id}");
    let by_schedule: SettlementRecord = platform
        .client
        .get_workflow_handle::<sagas::PartnerSettlementCycleWorkflow>(cycle_id.clone())
        .get_result(WorkflowGetResultOptions::default())
        .await
        .unwrap();
    assert_eq!(by_schedule.period, period);
    assert_eq!(
        [by_schedule.collected, by_schedule.commission, by_schedule.tds, by_schedule.payout],
        [Money::inr(945_000), Money::inr(94_500), Money::inr(1_890), Money::inr(92_610)]
    );
    let stored = partner::store::find_settlement(&platform.partner_db, other_id, period.start).await.unwrap().unwrap();
    assert_eq!((stored.partner_settlement_id, stored.payout_paise), (by_schedule.settlement_id, 92_610));
    platform.replay_workflow_history(&cycle_id, "partner_settlement_cycle").await.unwrap();

    // A changed cycle moves the schedule: monthly, at 00:30 in India on the first.
    let monthly = admin.http.patch(admin.url("/udaipur-yatra")).json(&json!({ "settlement_cycle": "monthly" }));
    assert_eq!(monthly.send().await.unwrap().status(), 200);
    let report = workers::sync_settlement_schedules(&platform.client, &platform.partner_db).await.unwrap();
    assert_eq!(
        (report.updated, report.unchanged),
        (vec!["settlement-udaipur-yatra".to_string()], vec!["settlement-agartala-travels".to_string()])
    );
    let description = schedule.describe(Default::default()).await.unwrap();
    let temporalio_client::schedules::ScheduleDescriptionAction::StartWorkflow(action) = description.action() else {
        unreachable!("settlement schedules start workflows")
    };
    let input: contracts::settlement::SettlementCycleInput = action.args().await.unwrap().unwrap();
    assert_eq!(input.cycle, SettlementCycle::Monthly);
    let next = description.future_action_times();
    assert!(!next.is_empty());
    for at in next {
        let in_india = chrono::DateTime::<Utc>::from(at) + Span::minutes(330);
        assert_eq!(in_india.format("%d %H:%M").to_string(), "01 00:30", "{in_india}");
    }
    // A closed partner's schedule is paused.
    let close = admin.http.patch(admin.url("/udaipur-yatra")).json(&json!({ "status": "closed" }));
    assert_eq!(close.send().await.unwrap().status(), 200);
    let report = workers::sync_settlement_schedules(&platform.client, &platform.partner_db).await.unwrap();
    assert_eq!(report.paused, vec!["settlement-udaipur-yatra"]);
    assert!(schedule.describe(Default::default()).await.unwrap().paused());
    platform.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_without_a_valid_key_cannot_fill_the_access_log() {
    let platform = TestPlatform::spawn_with(TestPlatformOptions::without_workers()).await.unwrap();
    let admin = Admin::new(&platform).await;
    let base = platform.api_url.clone();
    admin.onboard("tripura-trails", 1_000, 600).await;
    let key = admin.issue_key("tripura-trails", json!({ "label": "site" })).await;

    // One address sends a hundred made-up keys: the first ones are refused and logged, then
    // the address is answered 429 without a line each.
    let mut statuses = Vec::new();
    for i in 0..100 {
        let forged = format!("tt_live_forged{i:04}_{}", "x".repeat(32));
        let (status, body) = partner_get(&platform, &base, &forged, &quote_path()).await;
        statuses.push((status, error_code(&body).to_string()));
    }
    let logged_401 = statuses.iter().take_while(|(s, _)| *s == 401).count();
    assert_eq!(logged_401, partner::unauthenticated::DEFAULT_PER_MINUTE as usize, "{statuses:?}");
    assert!(statuses[logged_401..].iter().all(|(s, code)| *s == 429 && code == "too_many_failed_keys"), "{statuses:?}");
    // A valid key from the same address is not held up.
    assert_eq!(partner_get(&platform, &base, &key, &quote_path()).await.0, 200);

    let unauthenticated_lines = async || -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM api_access_logs WHERE partner_id IS NULL")
            .fetch_one(&platform.partner_db)
            .await
            .unwrap()
    };
    eventually("the refused requests to be logged", async || {
        let n = unauthenticated_lines().await;
        if n >= logged_401 as i64 { Ok(n) } else { Err(n) }
    })
    .await;
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    assert_eq!(unauthenticated_lines().await, logged_401 as i64, "one line per refused key, none after the budget");
    platform.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_and_the_partner_read_its_access_log_by_time_route_and_status_in_pages() {
    let platform = TestPlatform::spawn_with(TestPlatformOptions::without_workers()).await.unwrap();
    let admin = Admin::new(&platform).await;
    let base = platform.api_url.clone();
    let trails = admin.onboard("tripura-trails", 1_000, 600).await;
    admin.onboard("hill-tours", 1_000, 600).await;
    let key = admin.issue_key("tripura-trails", json!({ "label": "site" })).await;
    let other = admin.issue_key("hill-tours", json!({ "label": "site" })).await;
    let started = Utc::now();

    // Three requests of the partner (two quotes, one unknown booking), one of another.
    for _ in 0..2 {
        assert_eq!(partner_get(&platform, &base, &key, &quote_path()).await.0, 200);
    }
    assert_eq!(partner_get(&platform, &base, &key, "/bookings/TRP-ZZZZZZ").await.0, 404);
    assert_eq!(partner_get(&platform, &base, &other, &quote_path()).await.0, 200);
    access_log(&platform, partner_id(&trails), 3).await;

    let read = async |query: &str| -> (u16, Value) {
        let url = admin.url(&format!("/tripura-trails/access-log{query}"));
        body_of(admin.http.get(url).send().await.unwrap()).await
    };
    let routes = |page: &Value| -> Vec<(String, i64)> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| (l["route"].as_str().unwrap().to_string(), l["status"].as_i64().unwrap()))
            .collect()
    };
    let quote = ("/api/partners/v1/quote".to_string(), 200);
    let booking = ("/api/partners/v1/bookings/{booking_ref}".to_string(), 404);

    // Newest first, the partner's own lines only, each with its key.
    let (status, all) = read("").await;
    assert_eq!(status, 200, "{all}");
    assert_eq!(routes(&all), [booking.clone(), quote.clone(), quote.clone()], "{all}");
    assert!(all["items"].as_array().unwrap().iter().all(|l| l["key_prefix"] == prefix_of(&key)), "{all}");
    assert!(all["next_cursor"].is_null(), "{all}");

    // By status, by route, by time.
    assert_eq!(routes(&read("?status=404").await.1), vec![booking.clone()]);
    assert_eq!(routes(&read("?route=/api/partners/v1/quote").await.1), [quote.clone(), quote.clone()]);
    let later = (Utc::now() + Span::hours(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let since = started.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    assert_eq!(routes(&read(&format!("?from={later}")).await.1), []);
    assert_eq!(routes(&read(&format!("?from={since}&to={later}")).await.1).len(), 3);

    // In pages: two, then the last one, and a cursor of another list is refused.
    let (_, first) = read("?limit=2").await;
    assert_eq!(routes(&first), [booking.clone(), quote.clone()], "{first}");
    let cursor = first["next_cursor"].as_str().unwrap();
    let (_, second) = read(&format!("?limit=2&cursor={cursor}")).await;
    assert_eq!(routes(&second), vec![quote.clone()], "{second}");
    assert!(second["next_cursor"].is_null(), "{second}");

    // Bad input names the problem; others may not look; an unknown partner is 404.
    let (status, body) = read(&format!("?from={later}&to={since}")).await;
    assert_eq!((status, error_code(&body)), (422, "invalid_date_range"), "{body}");
    let (status, body) = read("?status=700").await;
    assert_eq!((status, error_code(&body)), (422, "invalid_status"), "{body}");
    let traveller = platform.http_as(&platform.traveller);
    let refused = traveller.get(admin.url("/tripura-trails/access-log")).send().await.unwrap();
    assert_eq!(refused.status(), 403);
    let (status, _) = body_of(admin.http.get(admin.url("/no-such-partner/access-log")).send().await.unwrap()).await;
    assert_eq!(status, 404);

    // The partner reads its own, with the same filters, and never the other's.
    let (status, own) = partner_get(&platform, &base, &key, "/access-log?status=404").await;
    assert_eq!((status, routes(&own)), (200, vec![booking.clone()]), "{own}");
    let (_, theirs) =
        partner_get(&platform, &base, &other, "/access-log?route=/api/partners/v1/bookings/{booking_ref}").await;
    assert_eq!(routes(&theirs), [], "{theirs}");
    platform.stop().await.unwrap();
}
