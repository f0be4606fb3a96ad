//! The booking saga end to end: real API, workers, Temporal dev server, PostgreSQL and the
//! sandbox gateway.

use chrono::{Duration as Days, NaiveDate};
use contracts::saga::BookingStatus;
use inventory::store::NightAvailability;
use serde_json::Value;
use temporalio_client::WorkflowGetResultOptions;
use tests::{TestPlatform, TestPlatformOptions, booking_body, eventually};
use workers::WorkerContext;

fn stay(body: &Value) -> (NaiveDate, NaiveDate) {
    let parse = |k: &str| body[k].as_str().unwrap().parse::<NaiveDate>().unwrap();
    (parse("check_in"), parse("check_out"))
}

/// A booking followed from its request to its end, and its nights as they were before it.
struct Ended {
    booking_ref: String,
    booking: Value,
    r: contracts::BookingRef,
    check_in: NaiveDate,
    check_out: NaiveDate,
    before: Vec<NightAvailability>,
}

/// The check-in and check-out of `body`, and its nights as they are before it is booked.
async fn nights_before(platform: &TestPlatform, body: &Value) -> (NaiveDate, NaiveDate, Vec<NightAvailability>) {
    let (check_in, check_out) = stay(body);
    (check_in, check_out, platform.availability(check_in, check_out).await.unwrap())
}

/// Reads the stay's nights, books `body` and waits until the booking is confirmed or failed.
async fn book_until_it_ends(platform: &TestPlatform, body: &Value) -> Ended {
    let (check_in, check_out, before) = nights_before(platform, body).await;
    let booking_ref = accepted_ref(platform.post_booking(body, None).await.unwrap()).await;
    let booking = platform.wait_for_status(&booking_ref, &["confirmed", "failed"]).await.unwrap();
    let r = contracts::BookingRef::parse(&booking_ref).unwrap();
    Ended { booking_ref, booking, r, check_in, check_out, before }
}

async fn accepted_ref(response: reqwest::Response) -> String {
    assert_eq!(response.status(), 202, "expected 202 Accepted");
    let location = response.headers().get("location").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let body: Value = response.json().await.unwrap();
    let booking_ref = body["booking_ref"].as_str().unwrap().to_string();
    assert_eq!(body["status_url"], format!("/api/bookings/{booking_ref}"));
    assert_eq!(location.as_deref(), Some(format!("/api/bookings/{booking_ref}").as_str()));
    booking_ref
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paid_booking_ends_confirmed_with_exactly_one_capture() {
    let platform = TestPlatform::spawn().await.unwrap();
    let Ended { booking_ref, booking, r, check_in, check_out, before } =
        book_until_it_ends(&platform, &booking_body(10, 2, 2, "tok_success")).await;

    assert_eq!(booking["status"], "confirmed", "{booking}");
    // 2 rooms × 2 nights × ₹4,500 = ₹18,000, plus 5 % GST = ₹18,900.
    assert_eq!(booking["total"]["amount"], 1_890_000);
    assert_eq!(booking["amount_charged"], booking["total"]);
    assert!(booking["failure"].is_null());

    let after = platform.availability(check_in, check_out).await.unwrap();
    assert_eq!(after.len(), 2);
    for (b, a) in before.iter().zip(&after) {
        assert_eq!((a.booked, a.held), (b.booked + 2, b.held), "night {}", a.night);
        assert_eq!(a.available(), b.available() - 2);
    }

    let at_gateway = platform.gateway_payments(&booking_ref).await.unwrap();
    let captured: Vec<_> = at_gateway.iter().filter(|p| p.status == "captured").collect();
    assert_eq!(captured.len(), 1, "{at_gateway:?}");
    assert_eq!(captured[0].amount, 1_890_000);
    assert_eq!(at_gateway.len(), 1, "no other payment attempts: {at_gateway:?}");

    let row = booking::store::find_booking(&platform.booking_db, &r).await.unwrap().unwrap();
    assert_eq!(row.status, booking::RecordStatus::Confirmed);
    assert_eq!(row.amount_charged_paise, Some(1_890_000));
    let payments = payment::store::payments_of_booking(&platform.payment_db, &r).await.unwrap();
    assert_eq!(payments.len(), 1);
    assert_eq!((payments[0].status.as_str(), payments[0].captured_paise), ("captured", 1_890_000));
    assert_eq!(Some(payments[0].payment_id), row.payment_id);
    assert_eq!(payments[0].gateway_payment_id.as_deref(), Some(captured[0].id.as_str()));
    assert_eq!(
        booking::store::version_statuses(&platform.booking_db, &r).await.unwrap(),
        vec![booking::RecordStatus::PendingPayment, booking::RecordStatus::Confirmed]
    );

    platform.replay_history(&booking_ref, "confirmed").await.unwrap();
    platform.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declined_card_is_compensated_and_nothing_is_captured() {
    let platform = TestPlatform::spawn().await.unwrap();
    let Ended { booking_ref, booking, r, check_in, check_out, before } =
        book_until_it_ends(&platform, &booking_body(12, 3, 1, "tok_decline")).await;

    assert_eq!(booking["status"], "failed", "{booking}");
    assert_eq!(booking["failure"]["code"], "card_declined");
    assert!(booking["amount_charged"].is_null());
    assert_eq!(platform.availability(check_in, check_out).await.unwrap(), before, "hold released");

    let row = booking::store::find_booking(&platform.booking_db, &r).await.unwrap().unwrap();
    assert_eq!((row.status.as_str(), row.failure_code.as_deref()), ("failed", Some("card_declined")));
    assert!(platform.gateway_payments(&booking_ref).await.unwrap().iter().all(|p| p.status != "captured"));
    let payments = payment::store::payments_of_booking(&platform.payment_db, &r).await.unwrap();
    assert_eq!((payments.len(), payments[0].status.as_str(), payments[0].captured_paise), (1, "declined", 0));

    platform.replay_history(&booking_ref, "card_declined").await.unwrap();
    platform.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sold_out_stay_fails_before_any_charge() {
    let platform = TestPlatform::spawn().await.unwrap();
    let body = booking_body(20, 3, 2, "tok_success");
    // Only one room left on the middle night.
    let middle = stay(&body).0 + Days::days(1);
    platform.set_allotment(middle, middle + Days::days(1), 1).await.unwrap();
    let Ended { booking_ref, booking, r, check_in, check_out, before } = book_until_it_ends(&platform, &body).await;

    assert_eq!(booking["status"], "failed", "{booking}");
    assert_eq!(booking["failure"]["code"], "sold_out");
    assert!(booking["failure"]["message"].as_str().unwrap().contains(&middle.to_string()), "{booking}");
    assert_eq!(platform.availability(check_in, check_out).await.unwrap(), before, "nothing held");
    assert!(
        payment::store::payments_of_booking(&platform.payment_db, &r).await.unwrap().is_empty(),
        "no charge attempted"
    );
    assert!(booking::store::find_booking(&platform.booking_db, &r).await.unwrap().is_none(), "no record written");

    platform.replay_history(&booking_ref, "sold_out").await.unwrap();
    platform.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_idempotency_key_twice_makes_one_booking_and_one_charge() {
    let platform = TestPlatform::spawn().await.unwrap();
    let body = booking_body(30, 1, 1, "tok_success");
    let (check_in, check_out, before) = nights_before(&platform, &body).await;

    // Sent twice at once, as a client retrying after a timeout would.
    let (first, second) = tokio::join!(
        platform.post_booking(&body, Some("checkout-7f3a91")),
        platform.post_booking(&body, Some("checkout-7f3a91")),
    );
    let first = accepted_ref(first.unwrap()).await;
    let second = accepted_ref(second.unwrap()).await;
    assert_eq!(first, second);
    let booking = platform.wait_for_status(&first, &["confirmed", "failed"]).await.unwrap();
    assert_eq!(booking["status"], "confirmed", "{booking}");

    // And once more after it finished, when the room type is no longer on sale: the same
    // key and body still get the first answer, and no second saga.
    sqlx::query("UPDATE accommodations SET published = false").execute(&platform.catalog_db).await.unwrap();
    let third = platform.post_booking(&body, Some("checkout-7f3a91")).await.unwrap();
    assert_eq!(third.status(), 202);
    let third: Value = third.json().await.unwrap();
    assert_eq!((third["booking_ref"].as_str(), third["status"].as_str()), (Some(first.as_str()), Some("confirmed")));
    sqlx::query("UPDATE accommodations SET published = true").execute(&platform.catalog_db).await.unwrap();

    let captured =
        platform.gateway_payments(&first).await.unwrap().into_iter().filter(|p| p.status == "captured").count();
    assert_eq!(captured, 1);
    let r = contracts::BookingRef::parse(&first).unwrap();
    assert_eq!(payment::store::payments_of_booking(&platform.payment_db, &r).await.unwrap().len(), 1);
    let after = platform.availability(check_in, check_out).await.unwrap();
    assert_eq!(after[0].booked, before[0].booked + 1);
    let bookings: i64 =
        sqlx::query_scalar("SELECT count(*) FROM bookings").fetch_one(&platform.booking_db).await.unwrap();
    assert_eq!(bookings, 1);

    // The same key with another body is refused.
    let other = booking_body(31, 1, 1, "tok_success");
    let response = platform.post_booking(&other, Some("checkout-7f3a91")).await.unwrap();
    assert_eq!(response.status(), 422);
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["error"]["code"], "idempotency_key_reused");

    platform.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_the_saga_during_payment_refunds_and_releases_everything() {
    // Without a payment worker the saga stops at the charge, where the test can cancel it.
    let options = TestPlatformOptions::with_workers(&[WorkerContext::Booking, WorkerContext::Inventory]);
    let mut platform = TestPlatform::spawn_with(options).await.unwrap();
    let body = booking_body(40, 2, 1, "tok_success");
    let (check_in, check_out, before) = nights_before(&platform, &body).await;

    let booking_ref = accepted_ref(platform.post_booking(&body, None).await.unwrap()).await;
    platform.wait_for_status(&booking_ref, &["awaiting_payment"]).await.unwrap();
    let held = platform.availability(check_in, check_out).await.unwrap();
    assert!(held.iter().zip(&before).all(|(h, b)| h.held == b.held + 1), "rooms held while paying");

    let r = contracts::BookingRef::parse(&booking_ref).unwrap();
    let handle = platform.client.get_workflow_handle::<sagas::BookingWorkflow>(r.workflow_id());
    handle.cancel(Default::default()).await.unwrap();
    // The payment worker comes up: the charge it was waiting for goes through, then the
    // cancellation takes effect and the money goes back.
    platform.start_workers(&[WorkerContext::Payment]).unwrap();

    let booking = platform.wait_for_status(&booking_ref, &["confirmed", "failed"]).await.unwrap();
    assert_eq!(booking["status"], "failed", "{booking}");
    assert_eq!(booking["failure"]["code"], "cancelled");
    assert_eq!(booking["amount_refunded"], booking["total"], "{booking}");
    assert_eq!(platform.availability(check_in, check_out).await.unwrap(), before, "hold released");
    let at_gateway = platform.gateway_payments(&booking_ref).await.unwrap();
    assert_eq!(at_gateway.len(), 1);
    assert_eq!((at_gateway[0].status.as_str(), at_gateway[0].amount_refunded), ("refunded", at_gateway[0].amount));
    let payments = payment::store::payments_of_booking(&platform.payment_db, &r).await.unwrap();
    assert_eq!((payments[0].status.as_str(), payments[0].refunded_paise), ("refunded", payments[0].captured_paise));
    let row = booking::store::find_booking(&platform.booking_db, &r).await.unwrap().unwrap();
    assert_eq!((row.status.as_str(), row.failure_code.as_deref()), ("failed", Some("cancelled")));

    platform.replay_history(&booking_ref, "cancelled_during_payment").await.unwrap();
    platform.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_finds_the_booking_by_reference_and_status() {
    // The operator's view: the saga tags its workflow with the booking's reference and
    // status, which the Web UI's search filters on.
    let platform = TestPlatform::spawn().await.unwrap();
    let body = booking_body(15, 1, 1, "tok_success");
    let booking_ref = accepted_ref(platform.post_booking(&body, None).await.unwrap()).await;
    platform.wait_for_status(&booking_ref, &["confirmed"]).await.unwrap();

    let query = format!("BookingRef = '{booking_ref}' AND BookingStatus = 'confirmed'");
    let found = eventually("the UI's search to find the booking", async || {
        let found = platform.find_workflows(&query).await;
        if found.is_empty() { Err("nothing found yet") } else { Ok(found) }
    })
    .await;
    assert_eq!(found.len(), 1, "the UI's search finds the booking by reference and status");
    assert_eq!(found[0], format!("booking-{booking_ref}"));

    // The reference, customer and check-in came with the start; the saga wrote only where it
    // came to rest (confirmed), not each step it passed.
    let workflow_id = format!("booking-{booking_ref}");
    let history: serde_json::Value =
        serde_json::from_slice(&platform.raw_history_json(&workflow_id).await.unwrap()).unwrap();
    let events = history["events"].as_array().unwrap();
    let started = &events[0]["attributes"]["WorkflowExecutionStartedEventAttributes"];
    let at_start = started["search_attributes"]["indexedFields"]
        .as_object()
        .unwrap_or_else(|| panic!("no search attributes at the start: {started}"));
    for name in ["BookingRef", "BookingStatus", "BookingCustomer", "BookingCheckIn"] {
        assert!(at_start.contains_key(name), "{name} is set at the start: {at_start:?}");
    }
    let mut updated: Vec<String> = events
        .iter()
        .filter_map(|e| {
            e["attributes"]["UpsertWorkflowSearchAttributesEventAttributes"]["search_attributes"].as_object()
        })
        .flat_map(|sa| sa["indexedFields"].as_object().unwrap().keys().cloned())
        .collect();
    updated.sort();
    // The status once, to confirmed. The input chose the local steps below, so no patch
    // was asked for: no patch marker, and no `TemporalChangeVersion` update with it.
    assert_eq!(updated, ["BookingStatus"], "{updated:?}");
    let markers: Vec<&str> = events
        .iter()
        .filter_map(|e| e["attributes"]["MarkerRecordedEventAttributes"]["marker_name"].as_str())
        .collect();
    assert!(!markers.contains(&"core_patch"), "no patch marker: {markers:?}");
    // The booking context's own steps run in the worker that runs the saga, as local
    // activities (markers); the other contexts' steps go through their task queues.
    let scheduled: Vec<&str> = events
        .iter()
        .filter_map(|e| e["attributes"]["ActivityTaskScheduledEventAttributes"]["activity_type"]["name"].as_str())
        .collect();
    assert_eq!(scheduled, ["inventory.hold_rooms", "payment.charge", "inventory.confirm_hold"], "{scheduled:?}");
    let local_steps = events
        .iter()
        .filter(|e| e["attributes"]["MarkerRecordedEventAttributes"]["marker_name"] == "core_local_activity")
        .count();
    assert_eq!(local_steps, 2, "recording and confirming the booking each leave a local activity marker");
    platform.replay_history(&booking_ref, "confirmed_local_steps_by_input").await.unwrap();
    platform.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_process_serves_the_sdk_metrics_of_its_tasks() {
    let mut platform = TestPlatform::spawn_with(TestPlatformOptions::without_workers()).await.unwrap();
    let addr = platform.start_workers_serving_metrics(&WorkerContext::ALL).unwrap();

    let booking_ref =
        accepted_ref(platform.post_booking(&booking_body(16, 1, 1, "tok_success"), None).await.unwrap()).await;
    platform.wait_for_status(&booking_ref, &["confirmed"]).await.unwrap();

    // The booking reads confirmed once it is recorded; the saga's own completion (and its
    // counter) may come a moment later.
    let series = ["temporal_activity_execution_latency", "temporal_workflow_completed"];
    let metrics = eventually("the worker metrics to count the saga's tasks", async || {
        let metrics = platform.http.get(format!("http://{addr}/metrics")).send().await.unwrap().text().await.unwrap();
        if series.iter().all(|s| metrics.contains(s)) { Ok(metrics) } else { Err(metrics) }
    })
    .await;
    assert!(metrics.contains("task_queue=\"payment\""), "activities are labelled with their context's queue");
    platform.stop().await.unwrap();
}

/// The API binds an idempotency key with an asynchronous commit. Should PostgreSQL crash
/// and lose the binding after the saga started, a retry of the request binds a new
/// reference and starts a second saga: only the saga the key is bound to books and pays.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_after_a_lost_binding_books_and_pays_once() {
    let mut platform = TestPlatform::spawn_with(TestPlatformOptions::without_workers()).await.unwrap();
    let body = booking_body(33, 1, 1, "tok_success");
    let (check_in, check_out, before) = nights_before(&platform, &body).await;

    // The sagas wait for workers, so both are started before either records its booking.
    let first = accepted_ref(platform.post_booking(&body, Some("lost-binding-1")).await.unwrap()).await;
    sqlx::query("DELETE FROM booking_requests").execute(&platform.booking_db).await.unwrap();
    let retry = accepted_ref(platform.post_booking(&body, Some("lost-binding-1")).await.unwrap()).await;
    assert_ne!(first, retry, "the binding was lost, so the retry made a new reference");

    platform.start_workers(&WorkerContext::ALL).unwrap();
    let booked = platform.wait_for_status(&retry, &["confirmed", "failed"]).await.unwrap();
    assert_eq!(booked["status"], "confirmed", "{booked}");
    // The first saga's reference is bound to nothing now, so it is the saga that tells.
    let first_ref = contracts::BookingRef::parse(&first).unwrap();
    let first_saga = platform.client.get_workflow_handle::<sagas::BookingWorkflow>(first_ref.workflow_id());
    let stopped = tokio::time::timeout(
        std::time::Duration::from_secs(90),
        first_saga.get_result(WorkflowGetResultOptions::default()),
    )
    .await
    .unwrap_or_else(|_| panic!("the first saga ({first}) did not end within 90 s of the retry's confirmation"))
    .unwrap();
    let failure = stopped.failure.expect("the first saga failed");
    assert_eq!((stopped.status, failure.code.as_str()), (BookingStatus::Failed, "duplicate_request"));
    assert!(failure.message.contains(&retry), "{}", failure.message);

    assert!(payment::store::payments_of_booking(&platform.payment_db, &first_ref).await.unwrap().is_empty());
    assert!(booking::store::find_booking(&platform.booking_db, &first_ref).await.unwrap().is_none());
    let captured =
        platform.gateway_payments(&retry).await.unwrap().into_iter().filter(|p| p.status == "captured").count();
    assert_eq!(captured, 1);
    let after = platform.availability(check_in, check_out).await.unwrap();
    assert_eq!((after[0].booked, after[0].held), (before[0].booked + 1, before[0].held), "one booked, none held");

    // The key's next retry answers with the booking.
    let again: Value = platform.post_booking(&body, Some("lost-binding-1")).await.unwrap().json().await.unwrap();
    assert_eq!((again["booking_ref"].as_str(), again["status"].as_str()), (Some(retry.as_str()), Some("confirmed")));
    platform.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_booking_taken_while_every_worker_is_down_completes_when_they_return() {
    let mut platform = TestPlatform::spawn_with(TestPlatformOptions::without_workers()).await.unwrap();
    let body = booking_body(18, 1, 1, "tok_success");
    let booking_ref = accepted_ref(platform.post_booking(&body, None).await.unwrap()).await;

    // With no worker the saga cannot answer its query, and has recorded nothing: the API
    // answers with what it knows for sure, the accepted request, and says when to ask again.
    for wait in [0, 2] {
        let response = platform.read_booking_at(&platform.api_url, &booking_ref, wait).await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers().get("retry-after").map(|v| v.to_str().unwrap()), Some("2"));
        let view: Value = response.json().await.unwrap();
        assert_eq!(view["status"], "pending", "{view}");
        assert_eq!((&view["check_in"], &view["room_type"]), (&body["check_in"], &body["room_type"]), "{view}");
        assert_eq!(view["amount_due"], view["total"], "{view}");
        assert!(view["total"]["amount"].as_i64().unwrap() > 0, "{view}");
    }

    platform.start_workers(&WorkerContext::ALL).unwrap();
    let booking = platform.wait_for_status(&booking_ref, &["confirmed", "failed"]).await.unwrap();
    assert_eq!(booking["status"], "confirmed", "{booking}");
    // The saga answers again: a live answer carries no Retry-After.
    let response = platform.read_booking_at(&platform.api_url, &booking_ref, 0).await.unwrap();
    assert_eq!((response.status().as_u16(), response.headers().get("retry-after")), (200, None));
    platform.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hold_sweep_schedule_releases_holds_no_saga_will_release() {
    let platform = TestPlatform::spawn().await.unwrap();
    let (accommodation, room_type) = tests::demo_room();
    let offer = catalog::store::find_offer(&platform.catalog_db, accommodation, room_type).await.unwrap().unwrap();
    let check_in = contracts::india::today() + Days::days(25);
    let abandoned = contracts::activities::HoldRequest {
        hold_id: "booking-TRP-0RPHAN/hold".into(),
        booking_ref: contracts::BookingRef::parse("TRP-0RPHAN").unwrap(),
        accommodation_id: offer.accommodation_id,
        room_type: room_type.into(),
        dates: contracts::StayDates { check_in, check_out: check_in + Days::days(1) },
        rooms: 3,
    };
    let past = chrono::Utc::now() - Days::minutes(5);
    inventory::store::hold_rooms(&platform.inventory_db, &abandoned, past).await.unwrap();

    // The booking worker creates the schedule as it starts (in the background); once it
    // exists, an operator can trigger it.
    platform.trigger_schedule(contracts::temporal::HOLD_SWEEP_SCHEDULE_ID).await;
    eventually("the sweep to release the hold", async || {
        let status: String = sqlx::query_scalar("SELECT status FROM inventory_holds WHERE hold_id = $1")
            .bind(&abandoned.hold_id)
            .fetch_one(&platform.inventory_db)
            .await
            .unwrap();
        if status == "released" { Ok(()) } else { Err(status) }
    })
    .await;
    let night = platform.availability(check_in, check_in + Days::days(1)).await.unwrap();
    assert_eq!(night[0].held, 0);

    // The sweep's run replays like any workflow.
    let sweep_id = platform.completed_run_id("HoldSweep").await;
    platform.replay_workflow_history(&sweep_id, "hold_sweep").await.unwrap();
    platform.stop().await.unwrap();
}
