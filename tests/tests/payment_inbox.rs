//! The operators' inbox of gateway events the webhook could not apply, on the real dev
//! server: a real payment on an order no booking opened is refunded once through
//! `WebhookResolution`, an event naming a payment the gateway never made resolves to
//! nothing, and webhooks refused for their signature are counted.

use serde_json::{Value, json};
use tests::{Session, TestPlatform, body_of, error_code, gateway_signature};

async fn inbox(platform: &TestPlatform, session: &Session, query: &str) -> (u16, Value) {
    let url = format!("{}/api/bookings/payment-inbox{query}", platform.api_url);
    body_of(platform.http_as(session).get(url).send().await.unwrap()).await
}

async fn resolve(platform: &TestPlatform, session: &Session, event_id: &str, body: Value) -> (u16, Value) {
    let url = format!("{}/api/bookings/payment-inbox/{event_id}/resolve", platform.api_url);
    body_of(platform.http_as(session).post(url).json(&body).send().await.unwrap()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operators_refund_a_stray_payment_once_and_see_refused_signatures_counted() {
    let platform = TestPlatform::spawn().await.unwrap();
    let operator = platform.user_with_role(auth::roles::OPERATOR).await.unwrap();
    let traveller = platform.traveller.clone();

    // Two webhooks whose signature does not verify: refused, and counted.
    let forged = tests::captured_event("order_nobody", "pay_forged000001", 100);
    for id in ["evt_forged_a", "evt_forged_b"] {
        let (status, _) = platform.post_webhook(&forged, id, Some(gateway_signature(b"another body"))).await;
        assert_eq!(status, 401);
    }

    // Real money on an order no booking opened (paid through the gateway directly).
    let order = platform.gateway.create_order(50_000, "INR", "stray", true).await.unwrap();
    let paid = platform.gateway.pay_with_card(&order.id, 50_000, "INR", "tok_success").await.unwrap();
    let captured = if paid.status == "authorized" {
        platform.gateway.capture(&paid.id, 50_000, "INR").await.unwrap()
    } else {
        paid
    };
    assert_eq!(captured.status, "captured", "{captured:?}");
    // The gateway tells of it by its own webhooks (authorised, captured, order paid): flagged.
    let stray_events = tests::eventually("the stray payment's webhooks", async || {
        let (_, open) = inbox(&platform, &operator, "").await;
        let of_order: Vec<Value> = open["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["gateway_order_id"] == order.id.as_str())
            .cloned()
            .collect();
        // All three, whatever order the gateway delivers them in.
        let told: std::collections::BTreeSet<&str> = of_order.iter().filter_map(|e| e["event"].as_str()).collect();
        if told == ["order.paid", "payment.authorized", "payment.captured"].into() { Ok(of_order) } else { Err(open) }
    })
    .await;
    assert!(
        stray_events.iter().all(|e| e["outcome"] == "unknown_order" && e["booking_ref"].is_null()),
        "{stray_events:?}"
    );
    let stray = stray_events.iter().find(|e| e["event"] == "payment.captured").unwrap()["event_id"]
        .as_str()
        .unwrap()
        .to_string();
    // And an event for a booking's order naming a payment the gateway never made.
    let (booking_ref, waiting) = platform.start_checkout_booking(30).await;
    let booking_order = waiting["checkout"]["gateway_order_id"].as_str().unwrap();
    let amount = waiting["total"]["amount"].as_i64().unwrap();
    let wrong = tests::captured_event(booking_order, "pay_wrongamount01", amount - 100);
    let (status, body) = platform.post_signed_webhook(&wrong, "evt_wrong_amount").await;
    assert_eq!((status, body["status"].as_str()), (200, Some("amount_mismatch")), "{body}");

    let (status, _) = inbox(&platform, &traveller, "").await;
    assert_eq!(status, 403, "a traveller sees no inbox");
    let (status, open) = inbox(&platform, &operator, "").await;
    assert_eq!(status, 200, "{open}");
    assert_eq!(open["bad_signatures_24h"], 2, "{open}");
    let ids: Vec<&str> = open["items"].as_array().unwrap().iter().map(|e| e["event_id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), stray_events.len() + 1, "{open}");
    assert_eq!((ids[0], &open["items"][0]["booking_ref"]), ("evt_wrong_amount", &json!(booking_ref)), "newest first");
    let (_, first_page) = inbox(&platform, &operator, "?limit=1").await;
    let cursor = first_page["next_cursor"].as_str().unwrap().to_string();
    let (_, second_page) = inbox(&platform, &operator, &format!("?limit=1&cursor={cursor}")).await;
    assert_eq!(second_page["items"][0]["event_id"], ids[1], "{second_page}");

    // Refused requests name their problem; a traveller resolves nothing.
    let refund = json!({ "action": "refund", "reason": "no booking behind this order" });
    let (status, _) = resolve(&platform, &traveller, &stray, refund.clone()).await;
    assert_eq!(status, 403);
    let (status, body) = resolve(&platform, &operator, &stray, json!({ "action": "keep", "reason": "x" })).await;
    assert_eq!((status, body["error"]["details"]["field"].as_str()), (422, Some("action")), "{body}");
    let (status, body) = resolve(&platform, &operator, "evt_nothing", refund.clone()).await;
    assert_eq!((status, error_code(&body)), (404, "event_not_in_inbox"), "{body}");

    // Refunded once, however often asked; another action is refused.
    let (status, body) = resolve(&platform, &operator, &stray, refund.clone()).await;
    assert_eq!((status, body["resolution"].as_str()), (202, Some("refunding")), "{body}");
    let (status, _) = resolve(&platform, &operator, &stray, refund.clone()).await;
    assert_eq!(status, 202);
    let (status, body) = resolve(&platform, &operator, &stray, json!({ "action": "attach", "reason": "x" })).await;
    assert_eq!((status, error_code(&body)), (409, "resolved_otherwise"), "{body}");
    let (status, body) = resolve(&platform, &operator, "evt_wrong_amount", refund.clone()).await;
    assert_eq!(status, 202, "{body}");
    let resolved = tests::eventually("both resolved", async || {
        let (_, page) = inbox(&platform, &operator, "?state=resolved").await;
        let done = page["items"].as_array().map_or(0, |items| {
            items.iter().filter(|e| matches!(e["resolution"].as_str(), Some("refunded" | "nothing_to_refund"))).count()
        });
        if done == stray_events.len() + 1 { Ok(page) } else { Err(page) }
    })
    .await;
    // The payment's other events are resolved with it.
    let of_stray: Vec<&Value> =
        resolved["items"].as_array().unwrap().iter().filter(|e| e["gateway_order_id"] == order.id.as_str()).collect();
    assert_eq!(of_stray.len(), stray_events.len(), "{resolved}");
    for event in &of_stray {
        assert_eq!(event["resolution"], "refunded", "{event}");
        assert!(event["resolution_refund"].as_str().unwrap().starts_with("rfnd_"), "{event}");
        assert_eq!(event["resolved_by"], format!("user:{}", operator.user_id));
    }
    let mismatch = resolved["items"].as_array().unwrap().iter().find(|e| e["event_id"] == "evt_wrong_amount").unwrap();
    assert_eq!(mismatch["resolution"], "nothing_to_refund", "the gateway never made that payment: {mismatch}");
    let (_, open) = inbox(&platform, &operator, "").await;
    assert!(open["items"].as_array().unwrap().is_empty(), "{open}");
    let books = platform.gateway_ledger().await;
    let stray_order = books["orders"].as_array().unwrap().iter().find(|o| o["order_id"] == order.id.as_str()).unwrap();
    assert_eq!((stray_order["refunds"].as_i64(), stray_order["refunded_amount"].as_i64()), (Some(1), Some(50_000)));
    platform.replay_workflow_history(&format!("resolve-webhook-{stray}"), "webhook_resolution").await.unwrap();
    platform.stop().await.unwrap();
}
