//! Operators' refunds on the real dev server: in part and in full, idempotent by key, never
//! more than captured less refunded (also when two are asked at once, and when a
//! cancellation follows), each checked on the gateway's own ledger and the audit trail.

use serde_json::{Value, json};
use tests::{Session, TestPlatform, body_of, booking_body, error_code, json_of};

async fn refund(
    platform: &TestPlatform,
    session: &Session,
    booking_ref: &str,
    key: Option<&str>,
    body: Value,
) -> (u16, Value) {
    let url = format!("{}/api/bookings/{booking_ref}/refunds", platform.api_url);
    let mut request = platform.http_as(session).post(url).json(&body);
    if let Some(key) = key {
        request = request.header("Idempotency-Key", key);
    }
    body_of(request.send().await.unwrap()).await
}

async fn refunds(platform: &TestPlatform, operator: &Session, booking_ref: &str) -> Vec<Value> {
    let url = format!("{}/api/bookings/{booking_ref}/refunds", platform.api_url);
    json_of(platform.http_as(operator).get(url)).await["items"].as_array().cloned().unwrap_or_default()
}

/// Waits until every refund of the booking is made; returns them.
async fn all_refunded(platform: &TestPlatform, operator: &Session, booking_ref: &str) -> Vec<Value> {
    tests::eventually("every refund made", async || {
        let items = refunds(platform, operator, booking_ref).await;
        if !items.is_empty() && items.iter().all(|r| r["status"] == "refunded" && r["gateway_refund_id"].is_string()) {
            Ok(items)
        } else {
            Err(Value::Array(items))
        }
    })
    .await
}

async fn confirmed_booking(platform: &TestPlatform, days_ahead: i64) -> (String, i64) {
    let booking_ref = platform.book(&booking_body(days_ahead, 2, 1, "tok_success")).await;
    let confirmed = platform.wait_for_status(&booking_ref, &["confirmed"]).await.unwrap();
    (booking_ref, confirmed["total"]["amount"].as_i64().unwrap())
}

fn inr(amount: i64) -> Value {
    json!({ "amount": amount, "currency": "INR" })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_refunds_part_then_the_rest_and_never_more() {
    let platform = TestPlatform::spawn().await.unwrap();
    let operator = platform.user_with_role(auth::roles::OPERATOR).await.unwrap();
    let asset_manager = platform.user_with_role(auth::roles::ASSET_MANAGER).await.unwrap();
    let (booking_ref, total) = confirmed_booking(&platform, 30).await;
    let part = 100_000;
    let goodwill = json!({ "amount": inr(part), "reason": "the river-view room was not ready" });

    // Only operators refund; a bad request names its field before anything is reserved.
    let traveller = platform.traveller.clone();
    for session in [&traveller, &asset_manager] {
        let (status, body) = refund(&platform, session, &booking_ref, Some("k"), goodwill.clone()).await;
        assert_eq!(status, 403, "{body}");
    }
    for (key, body, code, field) in [
        (None, goodwill.clone(), "idempotency_key_required", "Idempotency-Key"),
        (Some("desk/1"), goodwill.clone(), "invalid_idempotency_key", "Idempotency-Key"),
        (Some("bad-1"), json!({ "reason": "  " }), "invalid_reason", "reason"),
        (Some("bad-2"), json!({ "amount": inr(50), "reason": "x" }), "amount_too_small", "amount.amount"),
        (
            Some("bad-3"),
            json!({ "amount": { "amount": 1000, "currency": "USD" }, "reason": "x" }),
            "unsupported_currency",
            "amount.currency",
        ),
        (Some("bad-4"), json!({ "amount": inr(total + 1), "reason": "x" }), "exceeds_refundable", "amount"),
    ] {
        let (status, refused) = refund(&platform, &operator, &booking_ref, key, body).await;
        assert_eq!(
            (status, error_code(&refused), refused["error"]["details"]["field"].as_str()),
            (422, code, Some(field)),
            "{refused}"
        );
    }
    let (status, _) = refund(&platform, &operator, "TRP-000000", Some("k"), goodwill.clone()).await;
    assert_eq!(status, 404);
    assert!(refunds(&platform, &operator, &booking_ref).await.is_empty(), "nothing reserved by refused requests");

    // A part, asked twice under one key: one refund. The key with another amount is refused.
    let (status, first) = refund(&platform, &operator, &booking_ref, Some("goodwill-1"), goodwill.clone()).await;
    assert_eq!(status, 202, "{first}");
    assert_eq!(first["amount"], inr(part));
    let (status, again) = refund(&platform, &operator, &booking_ref, Some("goodwill-1"), goodwill.clone()).await;
    assert_eq!((status, &again["refund_key"]), (202, &first["refund_key"]), "{again}");
    let other = json!({ "amount": inr(part + 100), "reason": "the river-view room was not ready" });
    let (status, reused) = refund(&platform, &operator, &booking_ref, Some("goodwill-1"), other).await;
    assert_eq!((status, error_code(&reused)), (422, "idempotency_key_reused"), "{reused}");
    let made = all_refunded(&platform, &operator, &booking_ref).await;
    assert_eq!(made.len(), 1, "{made:?}");
    assert_eq!(made[0]["requested_by"], format!("user:{}", operator.user_id));
    assert!(made[0]["ui_url"].as_str().unwrap().contains("manual-refund-"), "{}", made[0]);
    let books = platform.gateway_ledger().await;
    assert_eq!(
        (books["totals"]["refunds"].as_i64(), books["totals"]["refunded_amount"].as_i64()),
        (Some(1), Some(part)),
        "{books}"
    );
    let (_, view) = platform.get_booking(&booking_ref, 0).await.unwrap();
    assert_eq!(view["amount_refunded"], inr(part), "the traveller sees it: {view}");

    // The rest, with no amount: everything still refundable. Then nothing is left.
    let rest = json!({ "reason": "stay cut short by a flood warning" });
    let (status, second) = refund(&platform, &operator, &booking_ref, Some("rest"), rest.clone()).await;
    assert_eq!((status, &second["amount"]), (202, &inr(total - part)), "{second}");
    let made = all_refunded(&platform, &operator, &booking_ref).await;
    assert_eq!(made.len(), 2);
    let (status, none_left) = refund(&platform, &operator, &booking_ref, Some("more"), rest).await;
    assert_eq!((status, error_code(&none_left)), (409, "nothing_to_refund"), "{none_left}");

    // A cancellation afterwards refunds by its policy, but only what is left: nothing.
    let url = format!("{}/api/bookings/{booking_ref}/cancel", platform.api_url);
    let (status, _) = body_of(platform.http_as(&traveller).post(url).json(&json!({})).send().await.unwrap()).await;
    assert_eq!(status, 202);
    let cancelled = platform.wait_for_status(&booking_ref, &["cancelled"]).await.unwrap();
    assert_eq!(cancelled["amount_refunded"], inr(total), "{cancelled}");
    let books = platform.gateway_ledger().await;
    assert_eq!(
        (books["totals"]["refunds"].as_i64(), books["totals"]["refunded_amount"].as_i64()),
        (Some(2), Some(total)),
        "{books}"
    );

    // The audit trail names the operator, once per refund.
    let url = format!("{}/api/bookings/{booking_ref}/dossier", platform.api_url);
    let whole = json_of(platform.http_as(&operator).get(url)).await;
    let issued: Vec<&Value> =
        whole["audit"].as_array().unwrap().iter().filter(|a| a["action"] == "refund_issued").collect();
    assert_eq!(issued.len(), 2, "{whole}");
    assert!(issued.iter().all(|a| a["actor"] == format!("user:{}", operator.user_id)), "{issued:?}");
    assert_eq!(issued[0]["details"]["amount"], inr(part));
    assert_eq!(whole["refunds"].as_array().unwrap().len(), 2, "{whole}");

    // A booking not paid yet is refused.
    let (pending, _) = platform.start_checkout_booking(40).await;
    let (status, refused) = refund(&platform, &operator, &pending, Some("early"), goodwill).await;
    assert_eq!((status, error_code(&refused)), (409, "not_refundable"), "{refused}");
    platform.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_refunds_at_once_never_exceed_the_capture_and_a_refused_one_is_made_once() {
    let platform = TestPlatform::spawn().await.unwrap();
    let operator = platform.user_with_role(auth::roles::OPERATOR).await.unwrap();
    let (booking_ref, total) = confirmed_booking(&platform, 35).await;

    // Two operators ask for 60 % each at the same moment: one is reserved, one refused.
    let share = total * 6 / 10;
    let body = json!({ "amount": inr(share), "reason": "double complaint" });
    let (a, b) = tokio::join!(
        refund(&platform, &operator, &booking_ref, Some("desk-a"), body.clone()),
        refund(&platform, &operator, &booking_ref, Some("desk-b"), body.clone()),
    );
    let mut statuses = [a.0, b.0];
    statuses.sort_unstable();
    assert_eq!(statuses, [202, 422], "{a:?} {b:?}");
    let refused = if a.0 == 422 { &a.1 } else { &b.1 };
    assert_eq!(error_code(refused), "exceeds_refundable");
    assert_eq!(refused["error"]["details"]["refundable"], total - share, "{refused}");

    // The gateway refuses the next refund three times, then accepts it: made once.
    all_refunded(&platform, &operator, &booking_ref).await;
    platform.set_gateway_faults(json!({ "refuse_refunds": 3 })).await;
    let rest = json!({ "reason": "the remainder, as agreed" });
    let (status, body) = refund(&platform, &operator, &booking_ref, Some("rest"), rest).await;
    assert_eq!(status, 202, "{body}");
    let made = all_refunded(&platform, &operator, &booking_ref).await;
    assert_eq!(made.len(), 2, "{made:?}");
    assert_eq!(platform.gateway_faults_injected().await["refused_refunds"], 3, "the gateway did refuse");
    let books = platform.gateway_ledger().await;
    assert_eq!(
        (books["totals"]["refunds"].as_i64(), books["totals"]["refunded_amount"].as_i64()),
        (Some(2), Some(total)),
        "{books}"
    );
    let id = format!("manual-refund-{booking_ref}/rest");
    platform.replay_workflow_history(&id, "manual_refund").await.unwrap();
    platform.stop().await.unwrap();
}
