//! The platform against a misbehaving gateway: failed calls, answers lost after the gateway
//! acted. Every booking still ends, and the gateway's own books show at most one capture
//! per order and never a refund above a capture.

use serde_json::{Value, json};
use std::time::Duration;
use tests::{TestPlatform, TestPlatformOptions, booking_body, eventually, eventually_within};

/// Waits up to `limit` for a final status (the saga backs off while the gateway fails).
async fn final_status(platform: &TestPlatform, booking_ref: &str, limit: Duration) -> Value {
    eventually_within(limit, &format!("booking {booking_ref} to end"), async || {
        match platform.get_booking(booking_ref, 5).await {
            Ok((200, view)) if matches!(view["status"].as_str(), Some("confirmed" | "failed")) => Ok(view),
            Ok((status, view)) => Err(format!("{status} {view}")),
            Err(e) => Err(e.to_string()),
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_a_flaky_gateway_every_booking_ends_and_the_money_adds_up() {
    let platform = TestPlatform::spawn().await.unwrap();
    platform.set_gateway_faults(json!({ "error_rate": 0.2, "lose_response_rate": 0.15, "seed": 11 })).await;
    let mut refs = Vec::new();
    for n in 0..8 {
        let token = if n % 4 == 3 { "tok_decline" } else { "tok_success" };
        refs.push((platform.book(&booking_body(10 + n, 1, 1, token)).await, token));
    }
    let mut outcomes = Vec::new();
    for (booking_ref, token) in &refs {
        let view = final_status(&platform, booking_ref, Duration::from_secs(120)).await;
        outcomes.push((booking_ref.clone(), *token, view));
    }
    // The faults happened: a quiet gateway would prove nothing. (Failed calls come by the
    // dozen here; lost answers are rarer, and the next test loses every capture's answer.)
    let injected = platform.gateway_faults_injected().await;
    assert!(injected["errors"].as_u64() >= Some(3), "{injected}");
    // The books are read without faults.
    platform.set_gateway_faults(json!({})).await;
    let books = platform.gateway_ledger().await;
    for order in books["orders"].as_array().unwrap() {
        assert!(order["captures"].as_i64().unwrap() <= 1, "two captures on one order: {order}");
        assert!(
            order["refunded_amount"].as_i64() <= order["captured_amount"].as_i64(),
            "refund above capture: {order}"
        );
    }
    for (booking_ref, token, view) in outcomes {
        let payments = platform.gateway_payments(&booking_ref).await.unwrap();
        let captured: i64 =
            payments.iter().filter(|p| p.status == "captured" || p.status == "refunded").map(|p| p.amount).sum();
        let refunded: i64 = payments.iter().map(|p| p.amount_refunded).sum();
        // A blip delays a booking, it never compensates one: a good card ends confirmed,
        // charged once; a declined one ends failed, with nothing kept.
        if token == "tok_success" {
            assert_eq!(view["status"], "confirmed", "{view} {payments:?}");
            assert_eq!(Some(captured), view["total"]["amount"].as_i64(), "{view} {payments:?}");
            assert_eq!(refunded, 0, "{view}");
        } else {
            assert_eq!(view["status"], "failed", "{view}");
            assert_eq!(captured, refunded, "a failed booking keeps no money: {view} {payments:?}");
        }
    }
    platform.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_lost_after_the_capture_is_retried_and_charges_once() {
    let platform = TestPlatform::spawn().await.unwrap();
    // Every capture acts, and its answer never arrives.
    platform.set_gateway_faults(json!({ "lose_response_rate": 1.0, "only_paths": ["/capture"] })).await;
    let booking_ref = platform.book(&booking_body(15, 2, 1, "tok_success")).await;
    let view = final_status(&platform, &booking_ref, Duration::from_secs(60)).await;
    assert_eq!(view["status"], "confirmed", "{view}");
    assert!(platform.gateway_faults_injected().await["lost_responses"].as_u64() >= Some(1));
    platform.set_gateway_faults(json!({})).await;
    let books = platform.gateway_ledger().await;
    assert_eq!(books["totals"]["captures"], 1, "{books}");
    assert_eq!(books["totals"]["captured_amount"], view["total"]["amount"], "{books}");
    platform.stop().await.unwrap();
}

/// A charge left `created` for two hours, as a saga that died would leave it, with its
/// gateway order; returns the order's id.
async fn stale_charge(platform: &TestPlatform, booking_ref: &str, amount: i64) -> String {
    let order = platform.gateway.create_order(amount, "INR", booking_ref, true).await.unwrap();
    sqlx::query(
        "INSERT INTO payments (payment_id, booking_ref, idempotency_key, amount_paise, gateway_order_id, updated_at)
         VALUES ($1, $2, $3, $4, $5, now() - interval '2 hours')",
    )
    .bind(uuid::Uuid::new_v4())
    .bind(booking_ref)
    .bind(format!("booking-{booking_ref}/charge"))
    .bind(amount)
    .bind(&order.id)
    .execute(&platform.payment_db)
    .await
    .unwrap();
    order.id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reconciliation_refunds_a_payment_nobody_recorded() {
    let platform = TestPlatform::spawn().await.unwrap();
    // A charge whose saga died after the traveller paid: the gateway captured the order,
    // and the payment row still says `created`, untouched for hours.
    let order = stale_charge(&platform, "TRP-L0STPY", 472_500).await;
    let pay_url = format!("{}v1/checkout/{order}/pay", platform.gateway_url());
    let paid = platform.http.post(pay_url).json(&json!({ "card_token": "tok_visa" })).send().await.unwrap();
    assert_eq!(paid.status(), 200);
    // And one whose traveller never paid: its order has no payment at all.
    let unpaid = stale_charge(&platform, "TRP-N0PAID", 310_000).await;

    platform.trigger_schedule(contracts::temporal::RECONCILE_SCHEDULE_ID).await;
    let refunded = eventually("the reconciliation to refund the payment", async || {
        let (status, refunded): (String, i64) =
            sqlx::query_as("SELECT status, refunded_paise FROM payments WHERE gateway_order_id = $1")
                .bind(&order)
                .fetch_one(&platform.payment_db)
                .await
                .unwrap();
        if status == "refunded" { Ok(refunded) } else { Err(status) }
    })
    .await;
    assert_eq!(refunded, 472_500);
    // The unpaid one is closed, with nothing captured or refunded.
    let closed = eventually("the reconciliation to close the unpaid charge", async || {
        let row: (String, i64, i64) =
            sqlx::query_as("SELECT status, captured_paise, refunded_paise FROM payments WHERE gateway_order_id = $1")
                .bind(&unpaid)
                .fetch_one(&platform.payment_db)
                .await
                .unwrap();
        if row.0 == "created" { Err(row.0) } else { Ok(row) }
    })
    .await;
    assert_eq!(closed, ("voided".to_string(), 0, 0));
    let books = platform.gateway_ledger().await;
    assert_eq!(
        (books["totals"]["captured_amount"].clone(), books["totals"]["refunded_amount"].clone()),
        (json!(472_500), json!(472_500))
    );
    // The schedule's run (its id carries the scheduled time) replays like any workflow.
    let run_id = platform.completed_run_id("ReconcilePayments").await;
    platform.replay_workflow_history(&run_id, "reconciliation").await.unwrap();
    platform.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_down_for_longer_than_the_hold_gives_the_booking_up_without_charging() {
    // A hold of 75 s leaves the steps before the payment 15 s (the rest is for booking
    // the rooms and confirming once paid).
    let options = TestPlatformOptions { hold_ttl: Duration::from_secs(75), ..Default::default() };
    let platform = TestPlatform::spawn_with(options).await.unwrap();
    platform.set_gateway_faults(json!({ "error_rate": 1.0 })).await;
    let booking_ref = platform.book(&booking_body(16, 1, 1, "tok_success")).await;
    let view = final_status(&platform, &booking_ref, Duration::from_secs(90)).await;
    assert_eq!(
        (view["status"].as_str(), view["failure"]["code"].as_str()),
        (Some("failed"), Some("hold_expired")),
        "{view}"
    );
    assert!(platform.gateway_faults_injected().await["errors"].as_u64() > Some(1));
    platform.set_gateway_faults(json!({})).await;
    assert_eq!(platform.gateway_ledger().await["totals"]["captures"], 0);
    let hold: String = sqlx::query_scalar("SELECT status FROM inventory_holds WHERE hold_id = $1")
        .bind(format!("booking-{booking_ref}/hold"))
        .fetch_one(&platform.inventory_db)
        .await
        .unwrap();
    assert_eq!(hold, "released");
    platform.replay_history(&booking_ref, "hold_expired").await.unwrap();
    platform.stop().await.unwrap();
}
