//! Operators repair a cancellation whose refund the gateway keeps refusing, on the real dev
//! server: the refund tried again now (`retry-step`), or taken over and owed to the traveller
//! (`hand-refund-over`), each an Update refused before it enters the history when there is
//! nothing to repair.

use serde_json::{Value, json};
use tests::{Session, TestPlatform, body_of, booking_body, error_code, eventually};

async fn confirmed_booking(platform: &TestPlatform, days_ahead: i64) -> (String, Value) {
    let booking_ref = platform.book(&booking_body(days_ahead, 2, 1, "tok_success")).await;
    let view = platform.wait_for_status(&booking_ref, &["confirmed"]).await.unwrap();
    (booking_ref, view)
}

/// A cancellation whose refund the gateway has refused `refusals` times, and refuses still.
async fn cancellation_stuck_on_its_refund(platform: &TestPlatform, days_ahead: i64, refusals: u64) -> String {
    let (booking_ref, _) = confirmed_booking(platform, days_ahead).await;
    platform.set_gateway_faults(json!({ "refuse_refunds": 1000 })).await;
    let url = format!("{}/api/bookings/{booking_ref}/cancel", platform.api_url);
    let request = platform.http_as(&platform.traveller).post(url).json(&json!({ "reason": "plans changed" }));
    let (status, body) = body_of(request.send().await.unwrap()).await;
    assert_eq!(status, 202, "{body}");
    eventually("the gateway to refuse the refund", async || {
        let injected = platform.gateway_faults_injected().await;
        if injected["refused_refunds"].as_u64() >= Some(refusals) { Ok(()) } else { Err(injected) }
    })
    .await;
    booking_ref
}

async fn repair(
    platform: &TestPlatform,
    session: &Session,
    booking_ref: &str,
    action: &str,
    key: &str,
) -> (u16, Value) {
    let url = format!("{}/api/bookings/{booking_ref}/{action}", platform.api_url);
    let body = json!({ "reason": "gateway support ticket 4411" });
    let request = platform.http_as(session).post(url).header("Idempotency-Key", key).json(&body);
    body_of(request.send().await.unwrap()).await
}

async fn refunds(platform: &TestPlatform, operator: &Session, booking_ref: &str) -> Value {
    let url = format!("{}/api/bookings/{booking_ref}/refunds", platform.api_url);
    let (status, body) = body_of(platform.http_as(operator).get(url).send().await.unwrap()).await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn audit_actions(platform: &TestPlatform, operator: &Session, booking_ref: &str, action: &str) -> Vec<Value> {
    let url = format!("{}/api/bookings/{booking_ref}/dossier", platform.api_url);
    let (_, whole) = body_of(platform.http_as(operator).get(url).send().await.unwrap()).await;
    whole["audit"].as_array().unwrap().iter().filter(|a| a["action"] == action).cloned().collect()
}

/// The names of the activities a workflow scheduled, in order, and whether it asked the
/// server to cancel one.
async fn scheduled_activities(platform: &TestPlatform, workflow_id: &str) -> (Vec<String>, bool) {
    let history: Value = serde_json::from_slice(&platform.raw_history_json(workflow_id).await.unwrap()).unwrap();
    let events = history["events"].as_array().unwrap();
    let scheduled = events
        .iter()
        .filter_map(|e| e["attributes"]["ActivityTaskScheduledEventAttributes"]["activity_type"]["name"].as_str())
        .map(str::to_string)
        .collect();
    let cancel_asked =
        events.iter().any(|e| e["attributes"].get("ActivityTaskCancelRequestedEventAttributes").is_some());
    (scheduled, cancel_asked)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_has_a_refused_refund_tried_again_now_and_it_is_made_once() {
    let platform = TestPlatform::spawn().await.unwrap();
    let operator = platform.user_with_role(auth::roles::OPERATOR).await.unwrap();
    let asset_manager = platform.user_with_role(auth::roles::ASSET_MANAGER).await.unwrap();
    let booking_ref = cancellation_stuck_on_its_refund(&platform, 24, 3).await;

    let traveller = platform.traveller.clone();
    for session in [&traveller, &asset_manager] {
        let (status, body) = repair(&platform, session, &booking_ref, "retry-step", "r-1").await;
        assert_eq!(status, 403, "{body}");
    }
    let url = format!("{}/api/bookings/{booking_ref}/retry-step", platform.api_url);
    let (status, body) =
        body_of(platform.http_as(&operator).post(url).json(&json!({ "reason": "  " })).send().await.unwrap()).await;
    assert_eq!((status, body["error"]["details"]["field"].as_str()), (422, Some("reason")), "{body}");
    let (status, body) = repair(&platform, &operator, "TRP-000000", "retry-step", "r-1").await;
    assert_eq!((status, error_code(&body)), (404, "booking_not_found"), "{body}");

    // The gateway is back; the step is tried at once instead of after its backoff. The same
    // key twice is one retry.
    platform.set_gateway_faults(json!({})).await;
    let (status, first) = repair(&platform, &operator, &booking_ref, "retry-step", "gateway-back-1").await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(
        (first["workflow_id"].as_str(), first["step"].as_str()),
        (Some(&*format!("cancel-{booking_ref}")), Some("refund"))
    );
    let cancelled = platform.wait_for_status(&booking_ref, &["cancelled"]).await.unwrap();
    let books = platform.gateway_ledger().await;
    assert_eq!(books["totals"]["refunds"], 1, "refunded once: {books}");
    assert_eq!(cancelled["amount_refunded"]["amount"], books["totals"]["refunded_amount"], "{cancelled}");

    // The waiting attempt was cancelled and the step scheduled again, once.
    let (scheduled, cancel_asked) = scheduled_activities(&platform, &format!("cancel-{booking_ref}")).await;
    let refunds_scheduled = scheduled.iter().filter(|a| *a == "payment.refund_amount").count();
    assert_eq!((refunds_scheduled, cancel_asked), (2, true), "{scheduled:?}");
    let noted = audit_actions(&platform, &operator, &booking_ref, "retry_step_now").await;
    assert_eq!(noted.len(), 1, "{noted:?}");
    assert_eq!(noted[0]["actor"], format!("user:{}", operator.user_id));

    // Nothing is being retried any more: refused, and nothing recorded.
    let (status, body) = repair(&platform, &operator, &booking_ref, "retry-step", "gateway-back-2").await;
    assert_eq!((status, error_code(&body)), (409, "nothing_to_repair"), "{body}");
    platform.replay_workflow_history(&format!("cancel-{booking_ref}"), "cancellation_step_retried").await.unwrap();
    platform.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_takes_over_a_refund_the_gateway_keeps_refusing_and_it_stays_owed() {
    let platform = TestPlatform::spawn().await.unwrap();
    let operator = platform.user_with_role(auth::roles::OPERATOR).await.unwrap();
    let booking_ref = cancellation_stuck_on_its_refund(&platform, 25, 2).await;
    let asset_manager = platform.user_with_role(auth::roles::ASSET_MANAGER).await.unwrap();
    let traveller = platform.traveller.clone();
    for session in [&traveller, &asset_manager] {
        let (status, body) = repair(&platform, session, &booking_ref, "hand-refund-over", "h-1").await;
        assert_eq!(status, 403, "{body}");
    }
    let url = format!("{}/api/bookings/{booking_ref}/hand-refund-over", platform.api_url);
    let request = platform.http_as(&operator).post(url).json(&json!({ "reason": "" }));
    let (status, body) = body_of(request.send().await.unwrap()).await;
    assert_eq!((status, body["error"]["details"]["field"].as_str()), (422, Some("reason")), "{body}");

    // Asked twice under one key: one hand-over.
    let (first, second) = tokio::join!(
        repair(&platform, &operator, &booking_ref, "hand-refund-over", "bank-closed-1"),
        repair(&platform, &operator, &booking_ref, "hand-refund-over", "bank-closed-1"),
    );
    assert_eq!((first.0, second.0), (200, 200), "{first:?} {second:?}");
    assert_eq!(first.1["step"], "refund");
    let cancelled = platform.wait_for_status(&booking_ref, &["cancelled"]).await.unwrap();

    // The refund is owed, in full, with who took it over; the gateway refunded nothing.
    let listed = refunds(&platform, &operator, &booking_ref).await;
    let items = listed["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{listed}");
    assert_eq!(items[0]["status"], "owed", "{listed}");
    assert_eq!(items[0]["handed_over_by"], format!("user:{}", operator.user_id));
    assert_eq!(listed["owed"]["amount"], items[0]["amount"]["amount"]);
    assert!(items[0]["amount"]["amount"].as_i64() > Some(0), "{listed}");
    assert!(cancelled["amount_refunded"]["amount"].as_i64().unwrap_or(0) == 0, "{cancelled}");

    // The gateway accepts refunds again: the refund taken over is never made.
    platform.set_gateway_faults(json!({})).await;
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    assert_eq!(platform.gateway_ledger().await["totals"]["refunds"], 0);
    let (scheduled, _) = scheduled_activities(&platform, &format!("cancel-{booking_ref}")).await;
    assert!(scheduled.contains(&"payment.hand_refund_over".to_string()), "{scheduled:?}");
    // Nor can a refund by hand give the same money back through the gateway.
    let url = format!("{}/api/bookings/{booking_ref}/refunds", platform.api_url);
    let request = platform
        .http_as(&operator)
        .post(url)
        .header("Idempotency-Key", "after-handover")
        .json(&json!({ "reason": "paid twice by mistake?" }));
    let (status, body) = body_of(request.send().await.unwrap()).await;
    assert_eq!((status, error_code(&body)), (409, "nothing_to_refund"), "{body}");

    let noted = audit_actions(&platform, &operator, &booking_ref, "hand_refund_over").await;
    assert!(!noted.is_empty() && noted.iter().all(|a| a["actor"] == format!("user:{}", operator.user_id)), "{noted:?}");
    let (status, body) = repair(&platform, &operator, &booking_ref, "hand-refund-over", "bank-closed-2").await;
    assert_eq!((status, error_code(&body)), (409, "nothing_to_repair"), "{body}");
    platform
        .replay_workflow_history(&format!("cancel-{booking_ref}"), "cancellation_refund_handed_over")
        .await
        .unwrap();
    platform.stop().await.unwrap();
}
