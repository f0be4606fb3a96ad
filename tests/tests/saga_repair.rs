//! Sagas that stop part-way — terminated by an operator, or by the history limit, or failed
//! because a compensation gave up — are found by the repair sweep and finished by a
//! `RepairBooking` workflow: confirmed when the money and the rooms are both there,
//! compensated otherwise. Nothing is left charged without a booking, or held for nobody.
//! Also here: the hold lost under a charge, and a refund the gateway refuses for a while.

use contracts::{
    BookingRef,
    saga::{RepairOutcome, RepairReport},
    temporal::REPAIR_SWEEP_SCHEDULE_ID,
};
use serde_json::{Value, json};
use std::time::Duration;
use temporalio_client::{WorkflowGetResultOptions, WorkflowTerminateOptions};
use tests::{TestPlatform, booking_body, eventually, eventually_within};

fn checkout_body(days_ahead: i64) -> Value {
    let mut body = booking_body(days_ahead, 2, 1, "tok_unused");
    body["payment"] = json!({ "method": "checkout" });
    body
}

async fn terminate_saga(platform: &TestPlatform, booking_ref: &str) {
    let saga = platform
        .client
        .get_workflow_handle::<sagas::BookingWorkflow>(BookingRef::parse(booking_ref).unwrap().workflow_id());
    let options =
        WorkflowTerminateOptions::builder().reason("stopped by a test, as an operator would".to_string()).build();
    saga.terminate(options).await.unwrap();
    // The sweep reads visibility, which follows the history by a moment.
    let query = format!("WorkflowId = 'booking-{booking_ref}' AND ExecutionStatus = 'Terminated'");
    eventually("the termination in visibility", async || {
        if platform.find_workflows(&query).await.is_empty() { Err("not yet") } else { Ok(()) }
    })
    .await;
}

async fn hold_status(platform: &TestPlatform, booking_ref: &str) -> String {
    sqlx::query_scalar("SELECT status FROM inventory_holds WHERE hold_id = $1")
        .bind(format!("booking-{booking_ref}/hold"))
        .fetch_one(&platform.inventory_db)
        .await
        .unwrap()
}

async fn payment_status(platform: &TestPlatform, booking_ref: &str) -> Option<String> {
    sqlx::query_scalar("SELECT status FROM payments WHERE idempotency_key = $1")
        .bind(format!("booking-{booking_ref}/charge"))
        .fetch_optional(&platform.payment_db)
        .await
        .unwrap()
}

/// Runs the repair sweep and waits for the booking's repair to finish.
async fn sweep_and_repair(platform: &TestPlatform, booking_ref: &str) -> RepairReport {
    platform.trigger_schedule(REPAIR_SWEEP_SCHEDULE_ID).await;
    let repair_id = BookingRef::parse(booking_ref).unwrap().repair_workflow_id();
    let repair = platform.client.get_workflow_handle::<sagas::RepairBookingWorkflow>(repair_id.clone());
    let report = eventually("the repair to finish", async || {
        repair.get_result(WorkflowGetResultOptions::default()).await.map_err(|e| e.to_string())
    })
    .await;
    platform.replay_workflow_history(&repair_id, &format!("repair_{}", report.outcome.as_str())).await.unwrap();
    report
}

/// Waits until the saga's charge step has opened its gateway order (its row is written).
async fn charge_in_flight(platform: &TestPlatform, booking_ref: &str) {
    eventually("the charge to start", async || payment_status(platform, booking_ref).await.ok_or("no row yet")).await;
}

/// Books with a good card on a slow gateway, and gives the rooms back while the card is
/// charged (as a sweep of an expired hold would).
async fn lose_the_hold_under_the_charge(platform: &TestPlatform, days_ahead: i64) -> String {
    platform.set_gateway_faults(json!({ "latency_ms": 1000 })).await;
    let booking_ref = platform.book(&booking_body(days_ahead, 2, 1, "tok_success")).await;
    charge_in_flight(platform, &booking_ref).await;
    let hold_id = format!("booking-{booking_ref}/hold");
    assert!(inventory::store::release_hold(&platform.inventory_db, &hold_id).await.unwrap());
    booking_ref
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saga_terminated_while_waiting_for_its_checkout_is_compensated_by_the_repair() {
    let platform = TestPlatform::spawn().await.unwrap();
    let booking_ref = platform.book(&checkout_body(30)).await;
    platform.wait_for_status(&booking_ref, &["awaiting_payment"]).await.unwrap();
    terminate_saga(&platform, &booking_ref).await;
    assert_eq!(hold_status(&platform, &booking_ref).await, "held", "the stopped saga left its rooms held");

    let report = sweep_and_repair(&platform, &booking_ref).await;
    assert_eq!(report.outcome, RepairOutcome::Compensated, "{report:?}");
    assert_eq!(report.found, Some(contracts::activities::RecordedStatus::PendingPayment));
    assert_eq!(report.refunded.amount, 0);
    assert_eq!(hold_status(&platform, &booking_ref).await, "released");
    assert_eq!(payment_status(&platform, &booking_ref).await.as_deref(), Some("voided"));
    let (_, view) = platform.get_booking(&booking_ref, 5).await.unwrap();
    assert_eq!(
        (view["status"].as_str(), view["failure"]["code"].as_str()),
        (Some("failed"), Some("saga_stopped")),
        "{view}"
    );

    // A repaired saga is not repaired again: the next sweep finds nothing to start.
    platform.trigger_schedule(REPAIR_SWEEP_SCHEDULE_ID).await;
    let query = "WorkflowType = 'RepairSweep' AND ExecutionStatus = 'Completed'";
    eventually("two completed sweeps", async || {
        let runs = platform.find_workflows(query).await.len();
        if runs >= 2 { Ok(()) } else { Err(format!("{runs} so far")) }
    })
    .await;
    let repairs = platform.find_workflows(&format!("WorkflowId = 'repair-{booking_ref}'")).await;
    assert_eq!(repairs.len(), 1, "{repairs:?}");
    platform.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saga_terminated_after_the_capture_is_confirmed_by_the_repair() {
    let platform = TestPlatform::spawn().await.unwrap();
    // A slow gateway keeps the charge in flight long enough to stop the saga under it.
    platform.set_gateway_faults(json!({ "latency_ms": 1500 })).await;
    let booking_ref = platform.book(&booking_body(31, 2, 1, "tok_success")).await;
    charge_in_flight(&platform, &booking_ref).await;
    terminate_saga(&platform, &booking_ref).await;
    // The charge activity finishes regardless: money taken, booking still pending.
    eventually_within(Duration::from_secs(60), "the capture", async || {
        match payment_status(&platform, &booking_ref).await.as_deref() {
            Some("captured") => Ok(()),
            other => Err(format!("{other:?}")),
        }
    })
    .await;
    platform.set_gateway_faults(json!({})).await;
    let (_, stuck) = platform.get_booking(&booking_ref, 0).await.unwrap();
    assert_ne!(stuck["status"], "confirmed", "{stuck}");

    let report = sweep_and_repair(&platform, &booking_ref).await;
    assert_eq!(report.outcome, RepairOutcome::Confirmed, "{report:?}");
    assert_eq!(hold_status(&platform, &booking_ref).await, "confirmed");
    let (_, view) = platform.get_booking(&booking_ref, 5).await.unwrap();
    assert_eq!(view["status"], "confirmed", "{view}");
    assert_eq!(view["amount_charged"], view["total"], "{view}");
    let books = platform.gateway_ledger().await;
    assert_eq!(
        (books["totals"]["captures"].as_i64(), books["totals"]["refunds"].as_i64()),
        (Some(1), Some(0)),
        "{books}"
    );
    platform.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hold_lost_under_the_charge_fails_the_booking_and_refunds_it() {
    let platform = TestPlatform::spawn().await.unwrap();
    let booking_ref = lose_the_hold_under_the_charge(&platform, 32).await;
    let view = eventually_within(Duration::from_secs(60), "the booking to fail", async || {
        let (_, view) = platform.get_booking(&booking_ref, 5).await.unwrap();
        if view["status"] == "failed" { Ok(view) } else { Err(view) }
    })
    .await;
    assert_eq!(view["failure"]["code"], "hold_lost", "{view}");
    assert_eq!(view["amount_refunded"], view["total"], "{view}");
    platform.set_gateway_faults(json!({})).await;
    let books = platform.gateway_ledger().await;
    assert_eq!(books["totals"]["captured_amount"], books["totals"]["refunded_amount"], "{books}");
    assert_eq!(books["totals"]["refunds"], 1, "{books}");
    platform.replay_history(&booking_ref, "hold_lost").await.unwrap();
    platform.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saga_stopped_while_its_refund_is_refused_is_finished_by_the_repair() {
    let platform = TestPlatform::spawn().await.unwrap();
    let booking_ref = lose_the_hold_under_the_charge(&platform, 33).await;
    // The gateway refuses every refund: the compensation retries, the saga stays compensating.
    platform.set_gateway_faults(json!({ "latency_ms": 1000, "refuse_refunds": 1000 })).await;
    eventually_within(Duration::from_secs(60), "a refused refund", async || {
        let injected = platform.gateway_faults_injected().await;
        if injected["refused_refunds"].as_u64() >= Some(1) { Ok(()) } else { Err(injected) }
    })
    .await;
    let (_, compensating) = platform.get_booking(&booking_ref, 0).await.unwrap();
    assert_eq!(compensating["status"], "compensating", "{compensating}");
    terminate_saga(&platform, &booking_ref).await;

    platform.set_gateway_faults(json!({})).await;
    let report = sweep_and_repair(&platform, &booking_ref).await;
    assert_eq!(report.outcome, RepairOutcome::Compensated, "{report:?}");
    let (_, view) = platform.get_booking(&booking_ref, 5).await.unwrap();
    assert_eq!(view["status"], "failed", "{view}");
    assert_eq!(view["amount_refunded"], view["total"], "{view}");
    let books = platform.gateway_ledger().await;
    assert_eq!(books["totals"]["captured_amount"], books["totals"]["refunded_amount"], "{books}");
    assert_eq!(books["totals"]["refunds"], 1, "{books}");
    platform.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saga_terminated_while_its_hold_waits_shows_failed_and_its_repair_finds_nothing_to_undo() {
    use workers::WorkerContext;
    // No inventory worker yet: the saga waits on its hold.
    let options = tests::TestPlatformOptions::with_workers(&[WorkerContext::Booking, WorkerContext::Payment]);
    let mut platform = TestPlatform::spawn_with(options).await.unwrap();
    let booking_ref = platform.book(&booking_body(34, 1, 1, "tok_success")).await;
    // Its first task has run (it answers queries), and it has asked for its hold.
    platform.wait_for_status(&booking_ref, &["pending"]).await.unwrap();
    terminate_saga(&platform, &booking_ref).await;
    let (_, view) = platform.get_booking(&booking_ref, 5).await.unwrap();
    assert_eq!(
        (view["status"].as_str(), view["failure"]["code"].as_str()),
        (Some("failed"), Some("saga_stopped")),
        "{view}"
    );

    platform.start_workers(&[WorkerContext::Inventory]).unwrap();
    let report = sweep_and_repair(&platform, &booking_ref).await;
    assert_eq!((report.found, report.outcome, report.refunded.amount), (None, RepairOutcome::Compensated, 0));
    let holds: i64 =
        sqlx::query_scalar("SELECT count(*) FROM inventory_holds").fetch_one(&platform.inventory_db).await.unwrap();
    assert_eq!(holds, 0, "the hold step never ran, and nothing ran it later");
    assert_eq!(platform.gateway_ledger().await["totals"]["captures"], 0);
    platform.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_compensation_refund_the_gateway_keeps_refusing_is_handed_over_and_the_saga_ends_with_it_owed() {
    let platform = TestPlatform::spawn().await.unwrap();
    let operator = platform.user_with_role(auth::roles::OPERATOR).await.unwrap();
    let booking_ref = lose_the_hold_under_the_charge(&platform, 35).await;
    platform.set_gateway_faults(json!({ "refuse_refunds": 1000 })).await;
    eventually_within(Duration::from_secs(60), "a refused refund", async || {
        let injected = platform.gateway_faults_injected().await;
        if injected["refused_refunds"].as_u64() >= Some(1) { Ok(()) } else { Err(injected) }
    })
    .await;
    let url = format!("{}/api/bookings/{booking_ref}/hand-refund-over", platform.api_url);
    let request = platform.http_as(&operator).post(url).json(&json!({ "reason": "payment under review for weeks" }));
    let (status, body) = tests::body_of(request.send().await.unwrap()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["workflow_id"].as_str(), body["step"].as_str()),
        (Some(&*format!("booking-{booking_ref}")), Some("refund the charge"))
    );

    // The saga gives the rest back and ends failed, what it captured owed to the traveller.
    let view = eventually_within(Duration::from_secs(60), "the booking to fail", async || {
        let (_, view) = platform.get_booking(&booking_ref, 5).await.unwrap();
        if view["status"] == "failed" { Ok(view) } else { Err(view) }
    })
    .await;
    assert_eq!(view["failure"]["code"], "hold_lost", "{view}");
    let url = format!("{}/api/bookings/{booking_ref}/refunds", platform.api_url);
    let listed = tests::json_of(platform.http_as(&operator).get(url)).await;
    assert_eq!(listed["owed"], view["total"], "{listed} {view}");
    assert_eq!(listed["items"][0]["status"], "owed", "{listed}");
    assert_eq!(listed["items"][0]["workflow_id"], format!("booking-{booking_ref}"), "{listed}");
    // The gateway accepts refunds again: the refund taken over is not made behind the
    // operator's back.
    platform.set_gateway_faults(json!({})).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let books = platform.gateway_ledger().await;
    assert_eq!(books["totals"]["refunds"], 0, "{books}");
    platform.stop().await.unwrap();
}
