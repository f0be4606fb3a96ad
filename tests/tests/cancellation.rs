//! Cancelling confirmed bookings: the policy's tiers, operators' overrides, one refund for
//! any number of requests, and the rooms back on sale.

use serde_json::{Value, json};
use tests::{Session, TestPlatform, body_of, booking_body, json_of};

async fn confirmed_booking(platform: &TestPlatform, days_ahead: i64) -> (String, Value) {
    let booking_ref = platform.book(&booking_body(days_ahead, 2, 1, "tok_success")).await;
    let view = platform.wait_for_status(&booking_ref, &["confirmed"]).await.unwrap();
    (booking_ref, view)
}

async fn terms(platform: &TestPlatform, session: &Session, booking_ref: &str) -> (u16, Value) {
    let url = format!("{}/api/bookings/{booking_ref}/cancellation-terms", platform.api_url);
    body_of(platform.http_as(session).get(url).send().await.unwrap()).await
}

async fn cancel(platform: &TestPlatform, session: &Session, booking_ref: &str, body: Value) -> (u16, Value) {
    let response = platform
        .http_as(session)
        .post(format!("{}/api/bookings/{booking_ref}/cancel", platform.api_url))
        .json(&body)
        .send()
        .await
        .unwrap();
    body_of(response).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_early_refunds_everything_once_however_often_it_is_asked() {
    let platform = TestPlatform::spawn().await.unwrap();
    let check_in = contracts::india::today() + chrono::Duration::days(20);
    let nights = (check_in, check_in + chrono::Duration::days(2));
    let before = platform.availability(nights.0, nights.1).await.unwrap();
    let (booking_ref, confirmed) = confirmed_booking(&platform, 20).await;
    assert!(platform.availability(nights.0, nights.1).await.unwrap().iter().all(|n| n.booked == 1));

    // Ten requests at once: one cancellation, one refund.
    let traveller = platform.traveller.clone();
    let requests = (0..10).map(|_| cancel(&platform, &traveller, &booking_ref, json!({ "reason": "plans changed" })));
    for (status, body) in futures::future::join_all(requests).await {
        assert_eq!(status, 202, "{body}");
    }
    let cancelled = platform.wait_for_status(&booking_ref, &["cancelled"]).await.unwrap();
    assert_eq!(cancelled["amount_refunded"], confirmed["total"], "{cancelled}");
    let books = platform.gateway_ledger().await;
    assert_eq!(
        (books["totals"]["refunds"].as_i64(), books["totals"]["refunded_amount"].clone()),
        (Some(1), confirmed["total"]["amount"].clone()),
        "{books}"
    );
    assert_eq!(platform.availability(nights.0, nights.1).await.unwrap(), before, "the rooms are on sale again");
    let (status, again) = cancel(&platform, &traveller, &booking_ref, json!({})).await;
    assert_eq!((status, again["status"].as_str()), (202, Some("cancelled")));
    assert_eq!(platform.gateway_ledger().await["totals"]["refunds"], 1);

    let versions =
        booking::store::version_statuses(&platform.booking_db, &contracts::BookingRef::parse(&booking_ref).unwrap())
            .await
            .unwrap();
    use booking::RecordStatus::{Cancelled, Confirmed, PendingPayment};
    assert_eq!(versions, vec![PendingPayment, Confirmed, Cancelled]);
    let url = format!("{}/api/bookings/{booking_ref}/versions", platform.api_url);
    let listed = json_of(platform.http_as(&traveller).get(&url)).await;
    let statuses: Vec<&str> = listed.as_array().unwrap().iter().map(|v| v["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, vec!["pending_payment", "confirmed", "cancelled"], "{listed}");
    assert_eq!(cancelled["amount_due"]["amount"], 0, "{cancelled}");
    platform.replay_workflow_history(&format!("cancel-{booking_ref}"), "cancellation").await.unwrap();

    // The database holds the state machine too: a cancelled booking cannot be revived.
    let revive = sqlx::query("UPDATE bookings SET status = 'confirmed' WHERE booking_ref = $1")
        .bind(&booking_ref)
        .execute(&platform.booking_db)
        .await
        .unwrap_err();
    let constraint = revive.as_database_error().and_then(|e| e.constraint().map(str::to_owned));
    assert_eq!(constraint.as_deref(), Some("bookings_status_transition"), "{revive}");
    platform.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_policy_tier_and_operator_overrides_decide_the_refund() {
    let platform = TestPlatform::spawn().await.unwrap();
    let operator = platform.user_with_role("operator").await.unwrap();
    let stranger = platform.user_with_role("traveller").await.unwrap();

    // Four days ahead is in the 50 % tier (2 to 6 days), whichever side of midnight IST is.
    let (late_ref, late) = confirmed_booking(&platform, 4).await;
    let (status, _) = cancel(&platform, &stranger, &late_ref, json!({})).await;
    assert_eq!(status, 404, "someone else's booking");
    assert_eq!(terms(&platform, &stranger, &late_ref).await.0, 404, "someone else's terms");
    // The terms shown before cancelling are the ones the cancellation then applies.
    let (status, shown) = terms(&platform, &platform.traveller, &late_ref).await;
    assert_eq!(status, 200, "{shown}");
    assert_eq!((shown["cancellable"].as_bool(), shown["policy"].as_str()), (Some(true), Some("standard")), "{shown}");
    assert_eq!((shown["refund_bp"].as_u64(), &shown["charged"]), (Some(5000), &late["amount_charged"]), "{shown}");
    let (status, body) =
        cancel(&platform, &platform.traveller, &late_ref, json!({ "refund_bp": 10000, "override_reason": "please" }))
            .await;
    assert_eq!((status, body["error"]["code"].as_str()), (403, Some("override_not_allowed")));
    let (status, _) = cancel(&platform, &platform.traveller, &late_ref, json!({ "reason": "ill" })).await;
    assert_eq!(status, 202);
    let half = platform.wait_for_status(&late_ref, &["cancelled"]).await.unwrap();
    let total = late["total"]["amount"].as_i64().unwrap();
    assert_eq!(half["amount_refunded"]["amount"].as_i64(), Some(total / 2), "{half}");
    assert_eq!(half["amount_refunded"], shown["refund"], "the refund shown before is the refund made");
    let (status, after) = terms(&platform, &platform.traveller, &late_ref).await;
    assert_eq!((status, after["cancellable"].as_bool()), (200, Some(false)), "a cancelled booking: {after}");

    // An operator overrides the policy to 25 %, with a reason that is kept.
    let (override_ref, _) = confirmed_booking(&platform, 30).await;
    let (status, body) = cancel(&platform, &operator, &override_ref, json!({ "refund_bp": 2500 })).await;
    assert_eq!((status, body["error"]["code"].as_str()), (422, Some("override_reason_required")));
    let (status, _) = cancel(
        &platform,
        &operator,
        &override_ref,
        json!({ "refund_bp": 2500, "override_reason": "no-show agreed with the hotel" }),
    )
    .await;
    assert_eq!(status, 202);
    let quarter = platform.wait_for_status(&override_ref, &["cancelled"]).await.unwrap();
    let base_and_gst: (i64, i64) =
        sqlx::query_as("SELECT base_amount_paise, gst_amount_paise FROM bookings WHERE booking_ref = $1")
            .bind(&override_ref)
            .fetch_one(&platform.booking_db)
            .await
            .unwrap();
    let expected =
        contracts::pricing::apply_bp(base_and_gst.0, 2500) + contracts::pricing::apply_bp(base_and_gst.1, 2500);
    assert_eq!(quarter["amount_refunded"]["amount"].as_i64(), Some(expected), "{quarter}");
    let overrides: Vec<(String, String)> =
        sqlx::query_as("SELECT kind, reason FROM booking_overrides").fetch_all(&platform.booking_db).await.unwrap();
    assert_eq!(overrides, vec![("cancellation_refund".to_string(), "no-show agreed with the hotel".to_string())]);

    // A booking that never got confirmed cannot be cancelled.
    let declined_ref = platform.book(&booking_body(40, 1, 1, "tok_decline")).await;
    platform.wait_for_status(&declined_ref, &["failed"]).await.unwrap();
    let (status, body) = cancel(&platform, &platform.traveller, &declined_ref, json!({})).await;
    assert_eq!((status, body["error"]["code"].as_str()), (409, Some("not_cancellable")));
    let (status, declined) = terms(&platform, &platform.traveller, &declined_ref).await;
    assert_eq!(
        (status, declined["cancellable"].as_bool(), declined["refund"]["amount"].as_i64()),
        (200, Some(false), Some(0))
    );

    let books = platform.gateway_ledger().await;
    assert!(
        books["orders"]
            .as_array()
            .unwrap()
            .iter()
            .all(|o| o["refunded_amount"].as_i64() <= o["captured_amount"].as_i64()),
        "{books}"
    );
    platform.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refund_the_gateway_refuses_three_times_is_made_once_when_it_is_accepted() {
    let platform = TestPlatform::spawn().await.unwrap();
    let (booking_ref, confirmed) = confirmed_booking(&platform, 21).await;
    platform.set_gateway_faults(json!({ "refuse_refunds": 3 })).await;
    let traveller = platform.traveller.clone();
    let (status, body) = cancel(&platform, &traveller, &booking_ref, json!({ "reason": "plans changed" })).await;
    assert_eq!(status, 202, "{body}");
    let cancelled = platform.wait_for_status(&booking_ref, &["cancelled"]).await.unwrap();
    assert_eq!(cancelled["amount_refunded"], confirmed["total"], "{cancelled}");
    assert_eq!(platform.gateway_faults_injected().await["refused_refunds"], 3, "the gateway did refuse");
    let books = platform.gateway_ledger().await;
    assert_eq!(
        (books["totals"]["refunds"].as_i64(), books["totals"]["refunded_amount"].clone()),
        (Some(1), confirmed["total"]["amount"].clone()),
        "{books}"
    );
    platform.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_seeded_policy_refunds_by_tier_at_exactly_seven_six_two_and_one_days() {
    let platform = TestPlatform::spawn().await.unwrap();
    let traveller = platform.traveller.clone();
    let mut cases = Vec::new();
    for (days_ahead, refund_bp) in [(7, 10_000), (6, 5_000), (2, 5_000), (1, 0)] {
        let (booking_ref, _) = confirmed_booking(&platform, days_ahead).await;
        let (status, body) = cancel(&platform, &traveller, &booking_ref, json!({})).await;
        assert_eq!(status, 202, "{body}");
        cases.push((days_ahead, refund_bp, booking_ref));
    }
    for (days_ahead, refund_bp, booking_ref) in cases {
        let cancelled = platform.wait_for_status(&booking_ref, &["cancelled"]).await.unwrap();
        let (base, gst): (i64, i64) =
            sqlx::query_as("SELECT base_amount_paise, gst_amount_paise FROM bookings WHERE booking_ref = $1")
                .bind(&booking_ref)
                .fetch_one(&platform.booking_db)
                .await
                .unwrap();
        let expected = contracts::pricing::apply_bp(base, refund_bp) + contracts::pricing::apply_bp(gst, refund_bp);
        let refunded = cancelled["amount_refunded"]["amount"].as_i64().unwrap_or(0);
        assert_eq!(refunded, expected, "{days_ahead} days ahead refunds {refund_bp} bp: {cancelled}");
    }
    platform.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancellation_that_was_stopped_runs_again_when_asked_again() {
    let platform = TestPlatform::spawn().await.unwrap();
    let (booking_ref, confirmed) = confirmed_booking(&platform, 22).await;
    // The gateway refuses the refund, and an operator stops the cancellation meanwhile.
    platform.set_gateway_faults(json!({ "refuse_refunds": 1000 })).await;
    let traveller = platform.traveller.clone();
    let (status, _) = cancel(&platform, &traveller, &booking_ref, json!({})).await;
    assert_eq!(status, 202);
    tests::eventually("a refused refund", async || {
        let injected = platform.gateway_faults_injected().await;
        if injected["refused_refunds"].as_u64() >= Some(1) { Ok(()) } else { Err(injected) }
    })
    .await;
    let cancellation =
        platform.client.get_workflow_handle::<sagas::CancellationWorkflow>(format!("cancel-{booking_ref}"));
    let stop = temporalio_client::WorkflowTerminateOptions::builder().reason("stopped by a test".to_string()).build();
    cancellation.terminate(stop).await.unwrap();

    // Asked again once the gateway accepts refunds: a new run, which finishes the job.
    platform.set_gateway_faults(json!({})).await;
    let (status, body) = cancel(&platform, &traveller, &booking_ref, json!({})).await;
    assert_eq!(status, 202, "{body}");
    let cancelled = platform.wait_for_status(&booking_ref, &["cancelled"]).await.unwrap();
    assert_eq!(cancelled["amount_refunded"], confirmed["total"], "{cancelled}");
    assert_eq!(platform.gateway_ledger().await["totals"]["refunds"], 1);
    platform.stop().await.unwrap();
}
