//! The payment worker killed in the middle of charges, again and again: no booking is
//! charged twice, and every booking with a good card ends confirmed.

use serde_json::{Value, json};
use std::{process::Child, time::Duration};
use tests::{TestPlatform, TestPlatformOptions, booking_body, workspace_binary};
use workers::WorkerContext;

/// The worker process, killed when dropped: a failing assertion leaves no process behind.
struct WorkerProcess(Child);

impl WorkerProcess {
    fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for WorkerProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

fn start_payment_worker(platform: &TestPlatform) -> WorkerProcess {
    WorkerProcess(
        std::process::Command::new(workspace_binary("payment-worker"))
            .envs(platform.worker_process_env())
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_payment_worker_mid_charge_never_charges_twice() {
    let options = TestPlatformOptions::with_workers(&[WorkerContext::Booking, WorkerContext::Inventory]);
    let platform = TestPlatform::spawn_with(options).await.unwrap();
    // Slow gateway answers keep charges in flight long enough to be killed in the middle.
    platform.set_gateway_faults(json!({ "latency_ms": 400 })).await;

    let mut worker = start_payment_worker(&platform);
    let mut refs = Vec::new();
    for n in 0..6 {
        refs.push(platform.book(&booking_body(40 + n, 1, 1, "tok_success")).await);
    }
    for round in 0..6u64 {
        tokio::time::sleep(Duration::from_millis(300 + 150 * (round % 3))).await;
        worker.kill();
        worker = start_payment_worker(&platform);
    }

    // The last worker stays; charges cut off by a kill are retried after their timeout.
    let mut ended = Vec::new();
    for booking_ref in &refs {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(180);
        loop {
            let (_, view) = platform.get_booking(booking_ref, 10).await.unwrap();
            if matches!(view["status"].as_str(), Some("confirmed" | "failed")) {
                ended.push(view);
                break;
            }
            assert!(tokio::time::Instant::now() < deadline, "{booking_ref} never ended: {view}");
        }
    }
    worker.kill();

    // The kills did cut steps off: some activity needed another attempt.
    let mut retried = 0;
    for booking_ref in &refs {
        let id = contracts::BookingRef::parse(booking_ref).unwrap().workflow_id();
        let handle = platform.client.get_workflow_handle::<sagas::BookingWorkflow>(id);
        let history =
            handle.fetch_history(temporalio_client::WorkflowFetchHistoryOptions::default()).to_json().await.unwrap();
        let history: Value = serde_json::from_slice(&history).unwrap();
        retried += history["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| {
                e["attributes"]["ActivityTaskStartedEventAttributes"]["attempt"].as_i64().is_some_and(|a| a > 1)
            })
            .count();
    }
    assert!(retried > 0, "no step was interrupted; the test proved nothing");

    platform.set_gateway_faults(json!({})).await;
    let books = platform.gateway_ledger().await;
    for order in books["orders"].as_array().unwrap() {
        assert!(order["captures"].as_i64().unwrap() <= 1, "two captures on one order: {order}");
    }
    for view in ended {
        let booking_ref = view["booking_ref"].as_str().unwrap();
        let payments = platform.gateway_payments(booking_ref).await.unwrap();
        let captured: i64 =
            payments.iter().filter(|p| p.status == "captured" || p.status == "refunded").map(|p| p.amount).sum();
        let refunded: i64 = payments.iter().map(|p| p.amount_refunded).sum();
        // A crash delays a booking, it never compensates one: every good card ends confirmed,
        // charged exactly once.
        assert_eq!(view["status"], "confirmed", "{view} {payments:?}");
        assert_eq!((Some(captured), refunded), (view["total"]["amount"].as_i64(), 0), "{view} {payments:?}");
    }
    platform.stop().await.unwrap();
}
