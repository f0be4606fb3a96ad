//! Paying on the gateway's checkout: the saga opens an order, the traveller pays on the
//! sandbox gateway's page, its signed webhook reaches the API, the saga confirms — or the
//! window closes, the rooms go back, and a payment that comes late is refunded by itself.

use serde_json::{Value, json};
use std::time::Duration;
use tests::{
    TestPlatform, TestPlatformOptions, body_of, booking_body, eventually, eventually_within, gateway_signature,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paying_on_the_checkout_confirms_the_booking_through_the_webhook() {
    let platform = TestPlatform::spawn().await.unwrap();
    // Webhooks arrive twice and in reverse order: each is still applied once.
    platform.set_gateway_faults(json!({ "duplicate_webhooks": true, "reorder_webhooks": true })).await;
    let (booking_ref, waiting) = platform.start_checkout_booking(20).await;
    assert_eq!(waiting["status"], "awaiting_payment", "{waiting}");
    let checkout = &waiting["checkout"];
    assert_eq!(checkout["amount"], waiting["total"], "the order is for the exact total");
    assert_eq!(waiting["amount_due"], waiting["total"], "{waiting}");
    let pay_url = checkout["pay_url"].as_str().unwrap();
    assert!(pay_url.ends_with(checkout["gateway_order_id"].as_str().unwrap()), "{pay_url}");

    let (status, paid) = platform.pay_checkout(pay_url, "tok_visa").await;
    assert_eq!(status, 200, "{paid}");
    let confirmed = platform.wait_for_status(&booking_ref, &["confirmed"]).await.unwrap();
    assert_eq!(confirmed["amount_charged"], confirmed["total"], "{confirmed}");
    assert!(confirmed["checkout"].is_null());
    assert_eq!(confirmed["amount_due"]["amount"], 0, "{confirmed}");

    let books = platform.gateway_ledger().await;
    assert_eq!(
        (books["totals"]["captures"].as_i64(), books["totals"]["refunds"].as_i64()),
        (Some(1), Some(0)),
        "{books}"
    );
    // Wait until the gateway has delivered every copy, then look at what was applied.
    let delivered = platform.all_webhooks_delivered().await;
    let applied = platform.webhook_outcomes().await;
    assert!(applied.iter().any(|(_, o)| o == "signalled"), "{applied:?}");
    let copies = delivered.iter().filter(|d| d["copy"] == 2).count();
    assert!(
        copies >= 1 && delivered.len() == 2 * applied.len(),
        "{} deliveries, {} events stored once: {delivered:?}",
        delivered.len(),
        applied.len()
    );
    let still = platform.gateway_ledger().await;
    assert_eq!(still["totals"]["captures"], 1, "redeliveries capture nothing more: {still}");
    platform.replay_history(&booking_ref, "checkout_confirmed").await.unwrap();
    platform.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unpaid_checkout_expires_and_a_late_payment_is_refunded_by_itself() {
    let options = TestPlatformOptions { payment_window: Duration::from_secs(3), ..Default::default() };
    let platform = TestPlatform::spawn_with(options).await.unwrap();
    let check_in = contracts::india::today() + chrono::Duration::days(25);
    let before = platform.availability(check_in, check_in + chrono::Duration::days(2)).await.unwrap();
    let (booking_ref, waiting) = platform.start_checkout_booking(25).await;
    let pay_url = waiting["checkout"]["pay_url"].as_str().unwrap().to_string();

    let expired = platform.wait_for_status(&booking_ref, &["expired"]).await.unwrap();
    assert_eq!(expired["failure"]["code"], "expired", "{expired}");
    assert_eq!(platform.availability(check_in, check_in + chrono::Duration::days(2)).await.unwrap(), before);

    // The traveller pays anyway, after the window: the money goes back without anyone asking.
    let (status, paid) = platform.pay_checkout(&pay_url, "tok_visa").await;
    assert_eq!(status, 200, "{paid}");
    let refunded = eventually_within(Duration::from_secs(60), "the late payment to be refunded", async || {
        let (_, view) = platform.get_booking(&booking_ref, 0).await.unwrap();
        if view["amount_refunded"]["amount"] == view["total"]["amount"] { Ok(view) } else { Err(view) }
    })
    .await;
    assert_eq!(refunded["status"], "expired", "{refunded}");
    let books = platform.gateway_ledger().await;
    assert_eq!(books["totals"]["captured_amount"], books["totals"]["refunded_amount"], "{books}");
    assert_eq!(books["totals"]["refunds"], 1, "{books}");
    assert!(platform.webhook_outcomes().await.iter().any(|(_, o)| o == "refund_started"));
    platform.replay_history(&booking_ref, "checkout_expired").await.unwrap();
    let late_payment = paid["id"].as_str().unwrap();
    platform.replay_workflow_history(&format!("refund-{late_payment}"), "auto_refund").await.unwrap();
    platform.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paid_checkout_whose_webhooks_are_lost_is_confirmed_when_its_window_closes() {
    let options = TestPlatformOptions { payment_window: Duration::from_secs(8), ..Default::default() };
    let platform = TestPlatform::spawn_with(options).await.unwrap();
    let (booking_ref, waiting) = platform.start_checkout_booking(27).await;
    platform.set_gateway_faults(json!({ "lose_webhooks": true })).await;

    let (status, paid) = platform.pay_checkout(waiting["checkout"]["pay_url"].as_str().unwrap(), "tok_visa").await;
    assert_eq!(status, 200, "{paid}");

    // No notice ever reaches the saga: its last read of the gateway, as the window closes,
    // finds the payment, so the traveller's money books the stay instead of coming back.
    let done = platform.wait_for_status(&booking_ref, &["confirmed", "expired", "failed"]).await.unwrap();
    assert_eq!(done["status"], "confirmed", "{done}");
    assert!(done["amount_refunded"].is_null(), "{done}");
    let books = platform.gateway_ledger().await;
    assert_eq!(
        (books["totals"]["captures"].as_i64(), books["totals"]["refunds"].as_i64()),
        (Some(1), Some(0)),
        "{books}"
    );
    let deliveries = platform.gateway_webhooks().await;
    let states: Vec<&str> =
        deliveries["items"].as_array().unwrap().iter().filter_map(|d| d["state"].as_str()).collect();
    assert!(!states.is_empty() && states.iter().all(|s| *s == "lost"), "the webhooks were not lost: {deliveries}");
    assert!(platform.webhook_outcomes().await.is_empty(), "no webhook reached the API");
    platform.replay_history(&booking_ref, "checkout_paid_webhook_lost").await.unwrap();
    platform.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_replayed_and_wrong_amount_webhooks_change_nothing() {
    let platform = TestPlatform::spawn().await.unwrap();
    let (booking_ref, waiting) = platform.start_checkout_booking(30).await;
    let order_id = waiting["checkout"]["gateway_order_id"].as_str().unwrap().to_string();
    let amount = waiting["total"]["amount"].as_i64().unwrap();

    let event = tests::captured_event(&order_id, "pay_forged000001", amount);
    let (status, body) = platform.post_webhook(&event, "evt_forged_1", None).await;
    assert_eq!((status, body["error"]["code"].as_str()), (401, Some("invalid_signature")), "unsigned");
    let (status, _) = platform.post_webhook(&event, "evt_forged_2", Some(gateway_signature(b"another body"))).await;
    assert_eq!(status, 401, "signed over another body");
    let mut tampered = event.clone();
    tampered["payload"]["payment"]["entity"]["amount"] = json!(1);
    let (status, _) = platform
        .post_webhook(&tampered, "evt_forged_3", Some(gateway_signature(&serde_json::to_vec(&event).unwrap())))
        .await;
    assert_eq!(status, 401, "tampered after signing");

    // Correctly signed, but for another amount than the order's: refused and flagged.
    let wrong = tests::captured_event(&order_id, "pay_wrongamount01", amount - 100);
    let (status, body) = platform.post_signed_webhook(&wrong, "evt_wrong_amount").await;
    assert_eq!((status, body["status"].as_str()), (200, Some("amount_mismatch")), "{body}");
    // A stale event is a replay.
    let mut stale = tests::captured_event(&order_id, "pay_stale00000001", amount);
    stale["created_at"] = json!(chrono::Utc::now().timestamp() - 3 * 86400);
    let (status, _) = platform.post_signed_webhook(&stale, "evt_stale").await;
    assert_eq!(status, 400);
    // So is one from the future, and one that does not say when it was made.
    let mut future = tests::captured_event(&order_id, "pay_future0000001", amount);
    future["created_at"] = json!(chrono::Utc::now().timestamp() + 3600);
    let (status, body) = platform.post_signed_webhook(&future, "evt_future").await;
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("stale_event")), "{body}");
    let mut undated = tests::captured_event(&order_id, "pay_undated000001", amount);
    undated.as_object_mut().unwrap().remove("created_at");
    let (status, body) = platform.post_signed_webhook(&undated, "evt_undated").await;
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("missing_created_at")), "{body}");

    // A correctly signed notice with no payment behind it at the gateway wakes the saga,
    // which asks the gateway, finds nothing and keeps waiting; replaying it changes nothing.
    let unfounded = tests::captured_event(&order_id, "pay_notatgateway1", amount);
    let raw = serde_json::to_vec(&unfounded).unwrap();
    let (status, body) = platform.post_webhook(&unfounded, "evt_unfounded", Some(gateway_signature(&raw))).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("signalled")), "{body}");
    let (status, body) = platform.post_webhook(&unfounded, "evt_unfounded", Some(gateway_signature(&raw))).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("duplicate")), "{body}");
    // The id is not signed: the same signed body under a fresh id is the same event.
    let (status, body) = platform.post_webhook(&unfounded, "evt_unfounded_again", Some(gateway_signature(&raw))).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("duplicate")), "{body}");
    // The saga has asked the gateway once its settlement step failed (no payment there).
    let saga_id = contracts::BookingRef::parse(&booking_ref).unwrap().workflow_id();
    eventually("the saga to check the notice with the gateway", async || {
        let history = platform.raw_history_json(&saga_id).await.unwrap();
        let asked = String::from_utf8_lossy(&history).contains("ActivityTaskFailedEventAttributes");
        if asked { Ok(()) } else { Err("not yet") }
    })
    .await;
    let (_, view) = platform.get_booking(&booking_ref, 0).await.unwrap();
    assert_eq!(view["status"], "awaiting_payment", "{view}");
    assert!(view["amount_charged"].is_null(), "{view}");

    let flagged: Vec<(String, String)> = platform.webhook_outcomes().await;
    assert!(flagged.contains(&("payment.captured".into(), "amount_mismatch".into())), "{flagged:?}");
    assert_eq!(platform.gateway_ledger().await["totals"]["captures"], 0);

    // And the real payment still confirms it.
    let (status, _) = platform.pay_checkout(waiting["checkout"]["pay_url"].as_str().unwrap(), "tok_visa").await;
    assert_eq!(status, 200);
    platform.wait_for_status(&booking_ref, &["confirmed"]).await.unwrap();
    platform.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_card_payments_webhooks_leave_its_saga_alone() {
    let platform = TestPlatform::spawn().await.unwrap();
    // Every gateway call takes 300 ms, so the payment's first webhook (sent when the card is
    // authorised) arrives while the charge step is still capturing it.
    platform.set_gateway_faults(json!({ "latency_ms": 300 })).await;

    let booking_ref = platform.book(&booking_body(25, 2, 1, "tok_visa")).await;
    let confirmed = platform.wait_for_status(&booking_ref, &["confirmed"]).await.unwrap();
    assert_eq!(confirmed["amount_charged"], confirmed["total"], "{confirmed}");

    let delivered = platform.all_webhooks_delivered().await;
    let applied = platform.webhook_outcomes().await;
    assert_eq!(applied.len(), delivered.len(), "each event stored once: {delivered:?} {applied:?}");
    assert!(
        applied.contains(&("payment.authorized".into(), "charge_in_progress".into())),
        "the authorisation arrived during the charge step: {applied:?}"
    );
    for (event, outcome) in &applied {
        assert!(
            ["charge_in_progress", "settled", "ignored"].contains(&outcome.as_str()),
            "{event} was {outcome}, a card charge's webhooks must not wake the saga: {applied:?}"
        );
    }
    // The saga's history has no signal: its workflow ran only for its own steps.
    let workflow_id = contracts::BookingRef::parse(&booking_ref).unwrap().workflow_id();
    let history = String::from_utf8(platform.raw_history_json(&workflow_id).await.unwrap()).unwrap();
    assert!(history.contains("WorkflowExecutionCompletedEventAttributes"), "the saga ended");
    assert!(!history.contains("WorkflowExecutionSignaledEventAttributes"), "no signal reached the saga");
    let books = platform.gateway_ledger().await;
    assert_eq!(books["totals"]["captures"], 1, "{books}");
    platform.stop().await.unwrap();
}

/// Waits until the gateway shows `refunds` refunds in all.
async fn refunds_reach(platform: &TestPlatform, refunds: i64) -> Value {
    eventually_within(Duration::from_secs(60), &format!("{refunds} refunds at the gateway"), async || {
        let books = platform.gateway_ledger().await;
        if books["totals"]["refunds"].as_i64() == Some(refunds) { Ok(books) } else { Err(books) }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extra_payments_on_a_confirmed_or_cancelled_booking_are_refunded_by_themselves() {
    let platform = TestPlatform::spawn().await.unwrap();
    let (booking_ref, waiting) = platform.start_checkout_booking(26).await;
    let pay_url = waiting["checkout"]["pay_url"].as_str().unwrap().to_string();
    let total = waiting["total"]["amount"].as_i64().unwrap();
    assert_eq!(platform.pay_checkout(&pay_url, "tok_visa").await.0, 200);
    platform.wait_for_status(&booking_ref, &["confirmed"]).await.unwrap();

    // The traveller pays again from a second tab; this gateway takes it.
    platform.set_gateway_faults(json!({ "allow_second_payment": true })).await;
    assert_eq!(platform.pay_checkout(&pay_url, "tok_visa").await.0, 200);
    let books = refunds_reach(&platform, 1).await;
    assert_eq!(
        (books["totals"]["captures"].as_i64(), books["totals"]["refunded_amount"].as_i64()),
        (Some(2), Some(total))
    );
    // The booking stands; its money shows both payments and the refund of the second.
    let (_, still) = platform.get_booking(&booking_ref, 0).await.unwrap();
    assert_eq!(still["status"], "confirmed", "{still}");
    assert_eq!(
        (still["amount_charged"]["amount"].as_i64(), still["amount_refunded"]["amount"].as_i64()),
        (Some(2 * total), Some(total)),
        "{still}"
    );

    // Cancelled (in full, weeks ahead), then paid once more: that payment goes back too.
    let cancel_url = format!("{}/api/bookings/{booking_ref}/cancel", platform.api_url);
    let (status, body) =
        body_of(platform.http_as(&platform.traveller).post(cancel_url).json(&json!({})).send().await.unwrap()).await;
    assert_eq!(status, 202, "{body}");
    platform.wait_for_status(&booking_ref, &["cancelled"]).await.unwrap();
    assert_eq!(platform.pay_checkout(&pay_url, "tok_visa").await.0, 200);
    let books = refunds_reach(&platform, 3).await;
    assert_eq!(books["totals"]["captured_amount"], books["totals"]["refunded_amount"], "{books}");
    platform.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payment_after_the_booking_was_given_up_is_refunded_by_itself() {
    let platform = TestPlatform::spawn().await.unwrap();
    let (booking_ref, waiting) = platform.start_checkout_booking(27).await;
    let pay_url = waiting["checkout"]["pay_url"].as_str().unwrap().to_string();
    // An operator gives the booking up (cancels its saga, as the runbook says).
    let saga = platform.client.get_workflow_handle::<sagas::BookingWorkflow>(
        contracts::BookingRef::parse(&booking_ref).unwrap().workflow_id(),
    );
    saga.cancel(temporalio_client::WorkflowCancelOptions::default()).await.unwrap();
    let failed = platform.wait_for_status(&booking_ref, &["failed"]).await.unwrap();
    assert_eq!(failed["failure"]["code"], "cancelled", "{failed}");

    assert_eq!(platform.pay_checkout(&pay_url, "tok_visa").await.0, 200);
    let books = refunds_reach(&platform, 1).await;
    assert_eq!(books["totals"]["captured_amount"], books["totals"]["refunded_amount"], "{books}");
    let refunded = eventually("the refund on the booking", async || {
        let (_, view) = platform.get_booking(&booking_ref, 0).await.unwrap();
        if view["amount_refunded"] == waiting["total"] { Ok(view) } else { Err(view) }
    })
    .await;
    assert_eq!(refunded["status"], "failed", "{refunded}");
    platform.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_checkout_closes_while_its_rooms_are_still_held() {
    // A hold shorter than the payment window (the steps before the checkout took long, say).
    let options = TestPlatformOptions {
        hold_ttl: Duration::from_secs(120),
        payment_window: Duration::from_secs(900),
        ..Default::default()
    };
    let platform = TestPlatform::spawn_with(options).await.unwrap();
    let (booking_ref, waiting) = platform.start_checkout_booking(28).await;
    let closes: chrono::DateTime<chrono::Utc> = waiting["checkout"]["expires_at"].as_str().unwrap().parse().unwrap();
    let hold_expires: chrono::DateTime<chrono::Utc> =
        sqlx::query_scalar("SELECT expires_at FROM inventory_holds WHERE hold_id = $1")
            .bind(format!("booking-{booking_ref}/hold"))
            .fetch_one(&platform.inventory_db)
            .await
            .unwrap();
    // A minute before the hold ends, to leave time to book the rooms once paid.
    let margin = hold_expires - closes;
    assert!(
        margin >= chrono::Duration::seconds(59) && margin <= chrono::Duration::seconds(61),
        "{closes} vs {hold_expires}"
    );
    platform.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_capture_webhook_after_a_partial_cancellation_refunds_nothing_more() {
    let platform = TestPlatform::spawn().await.unwrap();
    // Four days ahead: the policy refunds half.
    let booking_ref = platform.book(&tests::booking_body(4, 2, 1, "tok_success")).await;
    let confirmed = platform.wait_for_status(&booking_ref, &["confirmed"]).await.unwrap();
    let total = confirmed["total"]["amount"].as_i64().unwrap();
    let url = format!("{}/api/bookings/{booking_ref}/cancel", platform.api_url);
    let (status, _) =
        body_of(platform.http_as(&platform.traveller).post(url).json(&json!({})).send().await.unwrap()).await;
    assert_eq!(status, 202);
    let cancelled = platform.wait_for_status(&booking_ref, &["cancelled"]).await.unwrap();
    assert_eq!(cancelled["amount_refunded"]["amount"].as_i64(), Some(total / 2), "{cancelled}");

    // The gateway's capture webhook arrives late, after the half refund: the booking stood
    // on that payment, so it is settled, not refunded a second time.
    let payment = platform.gateway_payments(&booking_ref).await.unwrap().remove(0);
    let late = tests::captured_event(&payment.order_id, &payment.id, total);
    let (status, body) = platform.post_signed_webhook(&late, "evt_late_capture").await;
    assert_eq!((status, body["status"].as_str()), (200, Some("settled")), "{body}");
    let books = platform.gateway_ledger().await;
    assert_eq!(
        (books["totals"]["refunds"].as_i64(), books["totals"]["refunded_amount"].as_i64()),
        (Some(1), Some(total / 2)),
        "{books}"
    );
    platform.stop().await.unwrap();
}
