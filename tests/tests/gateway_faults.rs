//! The platform against a misbehaving gateway: failed calls, answers lost after the gateway
//! acted. Every booking still ends, and the gateway's own books show at most one capture
//! per order and never a refund above a capture.

use serde_json::{Value, json};
use std::time::Duration;
use tests::{TestPlatform, booking_body};

async fn set_faults(platform: &TestPlatform, faults: Value) {
    let url = format!("{}v1/sandbox/faults", platform.gateway_url());
    let response = platform.http.post(url).json(&faults).send().await.unwrap();
    assert!(response.status().is_success(), "faults refused: {}", response.text().await.unwrap());
}

async fn ledger(platform: &TestPlatform) -> Value {
    let url = format!("{}v1/sandbox/ledger", platform.gateway_url());
    platform.http.get(url).send().await.unwrap().json().await.unwrap()
}

/// Waits up to `limit` for a final status (the saga backs off while the gateway fails).
async fn final_status(platform: &TestPlatform, booking_ref: &str, limit: Duration) -> Value {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if let Ok((200, view)) = platform.get_booking(booking_ref, 5).await
            && matches!(view["status"].as_str(), Some("confirmed" | "failed"))
        {
            return view;
        }
        assert!(tokio::time::Instant::now() < deadline, "booking {booking_ref} never ended");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_a_flaky_gateway_every_booking_ends_and_the_money_adds_up() {
    let platform = TestPlatform::spawn().await.unwrap();
    set_faults(&platform, json!({ "error_rate": 0.3, "lose_response_rate": 0.2, "seed": 11 })).await;
    let mut refs = Vec::new();
    for n in 0..8 {
        let token = if n % 4 == 3 { "tok_decline" } else { "tok_success" };
        let response = platform.post_booking(&booking_body(10 + n, 1, 1, token), None).await.unwrap();
        assert_eq!(response.status(), 202);
        refs.push((response.json::<Value>().await.unwrap()["booking_ref"].as_str().unwrap().to_string(), token));
    }
    let mut outcomes = Vec::new();
    for (booking_ref, token) in &refs {
        let view = final_status(&platform, booking_ref, Duration::from_secs(120)).await;
        outcomes.push((booking_ref.clone(), *token, view));
    }
    // The books are read without faults.
    set_faults(&platform, json!({})).await;
    let books = ledger(&platform).await;
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
        match view["status"].as_str() {
            Some("confirmed") => {
                assert_eq!(token, "tok_success");
                assert_eq!(Some(captured), view["total"]["amount"].as_i64(), "{view} {payments:?}");
                assert_eq!(refunded, 0, "{view}");
            }
            _ => assert_eq!(captured, refunded, "a failed booking keeps no money: {view} {payments:?}"),
        }
        if token == "tok_decline" {
            assert_eq!(view["status"], "failed", "{view}");
        }
    }
    platform.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_lost_after_the_capture_is_retried_and_charges_once() {
    let platform = TestPlatform::spawn().await.unwrap();
    // Every capture acts, and its answer never arrives.
    set_faults(&platform, json!({ "lose_response_rate": 1.0, "only_paths": ["/capture"] })).await;
    let response = platform.post_booking(&booking_body(15, 2, 1, "tok_success"), None).await.unwrap();
    let booking_ref = response.json::<Value>().await.unwrap()["booking_ref"].as_str().unwrap().to_string();
    let view = final_status(&platform, &booking_ref, Duration::from_secs(60)).await;
    assert_eq!(view["status"], "confirmed", "{view}");
    set_faults(&platform, json!({})).await;
    let books = ledger(&platform).await;
    assert_eq!(books["totals"]["captures"], 1, "{books}");
    assert_eq!(books["totals"]["captured_amount"], view["total"]["amount"], "{books}");
    platform.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reconciliation_refunds_a_payment_nobody_recorded() {
    let platform = TestPlatform::spawn().await.unwrap();
    // A charge whose saga died after the traveller paid: the gateway captured the order,
    // and the payment row still says `created`, untouched for hours.
    let order = platform.gateway.create_order(472_500, "INR", "TRP-L0STPY", true).await.unwrap();
    let pay_url = format!("{}v1/checkout/{}/pay", platform.gateway_url(), order.id);
    let paid = platform.http.post(pay_url).json(&json!({ "card_token": "tok_visa" })).send().await.unwrap();
    assert_eq!(paid.status(), 200);
    sqlx::query(
        "INSERT INTO payments (payment_id, booking_ref, idempotency_key, amount_paise, gateway_order_id, updated_at)
         VALUES ($1, 'TRP-L0STPY', 'booking-TRP-L0STPY/charge', 472500, $2, now() - interval '2 hours')",
    )
    .bind(uuid::Uuid::new_v4())
    .bind(&order.id)
    .execute(&platform.payment_db)
    .await
    .unwrap();

    let schedule = platform.client.get_schedule_handle(contracts::temporal::RECONCILE_SCHEDULE_ID);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while let Err(e) =
        schedule.trigger(temporalio_client::schedules::ScheduleOverlapPolicy::Unspecified, Default::default()).await
    {
        assert!(tokio::time::Instant::now() < deadline, "the reconciliation schedule never appeared: {e}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let (status, refunded): (String, i64) =
            sqlx::query_as("SELECT status, refunded_paise FROM payments WHERE gateway_order_id = $1")
                .bind(&order.id)
                .fetch_one(&platform.payment_db)
                .await
                .unwrap();
        if status == "refunded" {
            assert_eq!(refunded, 472_500);
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "never reconciled: {status}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let books = ledger(&platform).await;
    assert_eq!(
        (books["totals"]["captured_amount"].clone(), books["totals"]["refunded_amount"].clone()),
        (json!(472_500), json!(472_500))
    );
    // The schedule's run (its id carries the scheduled time) replays like any workflow.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let run_id = loop {
        use futures::TryStreamExt;
        let runs: Vec<_> = platform
            .client
            .list_workflows(
                "WorkflowType = 'ReconcilePayments' AND ExecutionStatus = 'Completed'",
                temporalio_client::WorkflowListOptions::builder().limit(1).build(),
            )
            .try_collect()
            .await
            .unwrap();
        if let Some(run) = runs.first() {
            break run.id().to_string();
        }
        assert!(tokio::time::Instant::now() < deadline, "the reconciliation's run never showed as completed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    platform.replay_workflow_history(&run_id, "reconciliation").await.unwrap();
    platform.stop().await.unwrap();
}
