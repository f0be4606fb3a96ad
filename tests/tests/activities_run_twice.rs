//! Every activity run twice with the same input holds, writes, charges or refunds once —
//! as happens when a worker dies after acting but before reporting.

use catalog::store::RoomOffer;
use chrono::Duration as Days;
use contracts::{
    BookingRef, Money, StayDates,
    activities::{
        BookingConfirmation, BookingFailure, Charge, ChargeRequest, HoldRequest, NewBookingRecord, RefundOutcome,
        RefundRequest,
    },
    saga::{BookingRequestKey, LeadTraveller},
};
use payment::{PaymentActivitiesImpl, store::PaymentRow};
use temporalio_sdk::testing::{ActivityEnvironment, ActivityEnvironmentError, TestActivityInfoOptions};
use tests::{TestDatabase, demo_room, spawn_sandbox_gateway};

fn environment_for<A>(activities: A, workflow_id: &str) -> ActivityEnvironment
where
    A: temporalio_sdk::activities::ActivityImplementer + Send + Sync + 'static,
{
    ActivityEnvironment::builder()
        .register_activities(activities)
        .info(TestActivityInfoOptions::builder().workflow_id(Some(workflow_id.to_string())).build())
        .build()
}

/// A payment context on a fresh database and its own sandbox gateway, running the steps of
/// one booking's charge as a worker of the booking's saga would.
struct PaymentFixture {
    db: TestDatabase,
    gateway: payment::GatewayClient,
    env: ActivityEnvironment,
    stop_gateway: tokio::sync::oneshot::Sender<()>,
    booking_ref: BookingRef,
    /// The saga's charge of the booking: the same request on every attempt.
    charge: ChargeRequest,
}

impl PaymentFixture {
    /// The fixture of booking `booking_ref`, whose charge is of `paise` on `card_token`.
    async fn new(booking_ref: &str, paise: i64, card_token: &str) -> Self {
        let db = TestDatabase::create(5).await.unwrap();
        let (gateway_settings, stop_gateway) = spawn_sandbox_gateway().await.unwrap();
        let gateway = payment::GatewayClient::new(gateway_settings).unwrap();
        let booking_ref = BookingRef::parse(booking_ref).unwrap();
        let env = environment_for(
            PaymentActivitiesImpl::new(db.payment.clone(), gateway.clone()),
            &booking_ref.workflow_id(),
        );
        let charge = ChargeRequest {
            booking_ref: booking_ref.clone(),
            idempotency_key: format!("{}/charge", booking_ref.workflow_id()),
            amount: Money::inr(paise),
            card_token: card_token.into(),
        };
        PaymentFixture { db, gateway, env, stop_gateway, booking_ref, charge }
    }

    /// One attempt of the charge step.
    async fn run_charge(&self) -> Result<Charge, ActivityEnvironmentError> {
        self.env.run(PaymentActivitiesImpl::charge, self.charge.clone()).await
    }

    /// One attempt of the step that refunds the charge.
    async fn run_refund(&self) -> Result<RefundOutcome, ActivityEnvironmentError> {
        let refund = RefundRequest {
            booking_ref: self.booking_ref.clone(),
            charge_idempotency_key: self.charge.idempotency_key.clone(),
            reason: "test".into(),
        };
        self.env.run(PaymentActivitiesImpl::refund_charge, refund).await
    }

    /// The payment context's row of the charge.
    async fn payment_row(&self) -> PaymentRow {
        payment::store::find_by_key(&self.db.payment, &self.charge.idempotency_key).await.unwrap().unwrap()
    }

    async fn stop(self) {
        let _ = self.stop_gateway.send(());
        self.db.drop_database().await.unwrap();
    }
}

/// The demo room's offer on `db`, and a stay of `nights` nights from `days_ahead` days on.
async fn demo_stay(db: &TestDatabase, days_ahead: i64, nights: i64) -> (RoomOffer, StayDates) {
    let (accommodation, room_type) = demo_room();
    let offer = catalog::store::find_offer(&db.catalog, accommodation, room_type).await.unwrap().unwrap();
    let check_in = contracts::india::today() + Days::days(days_ahead);
    (offer, StayDates { check_in, check_out: check_in + Days::days(nights) })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn charging_and_refunding_twice_moves_money_once() {
    let f = PaymentFixture::new("TRP-PAY2X2", 945_000, "tok_success").await;
    let db = &f.db;

    let first = f.run_charge().await.unwrap();
    let second = f.run_charge().await.unwrap();
    assert_eq!(first, second);
    assert_eq!(first.captured, Money::inr(945_000));
    let at_gateway = f.gateway.order_payments(&first.gateway_order_id).await.unwrap();
    assert_eq!(at_gateway.len(), 1, "{at_gateway:?}");
    assert_eq!(at_gateway[0].status, "captured");

    let refunded = f.run_refund().await.unwrap();
    let again = f.run_refund().await.unwrap();
    assert_eq!(refunded.refunded, Money::inr(945_000));
    assert_eq!(again.refunded, Money::inr(0), "nothing left to refund");
    let at_gateway = f.gateway.order_payments(&first.gateway_order_id).await.unwrap();
    assert_eq!((at_gateway[0].status.as_str(), at_gateway[0].amount_refunded), ("refunded", 945_000));

    let rows = payment::store::payments_of_booking(&db.payment, &f.booking_ref).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (rows[0].captured_paise, rows[0].refunded_paise, rows[0].status.as_str()),
        (945_000, 945_000, "refunded")
    );
    let movements: Vec<(String, i64)> = sqlx::query_as("SELECT kind, amount_paise FROM booking_payments ORDER BY kind")
        .fetch_all(&db.payment)
        .await
        .unwrap();
    assert_eq!(movements, vec![("capture".to_string(), 945_000), ("refund".to_string(), 945_000)]);

    // The database itself refuses a refund beyond the capture.
    let overdraw =
        sqlx::query("UPDATE payments SET refunded_paise = captured_paise + 1").execute(&db.payment).await.unwrap_err();
    assert_eq!(overdraw.as_database_error().and_then(|e| e.constraint()), Some("payments_refunds_within_capture"));

    f.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declined_charge_stays_declined_without_asking_the_bank_again() {
    let f = PaymentFixture::new("TRP-DEC1NE", 100_000, "tok_decline").await;
    for _ in 0..2 {
        let err = f.run_charge().await.unwrap_err();
        assert!(format!("{err:?}").contains("CardDeclined"), "{err:?}");
    }
    let row = f.payment_row().await;
    assert_eq!((row.status.as_str(), row.captured_paise), ("declined", 0));
    let attempts = f.gateway.order_payments(row.gateway_order_id.as_deref().unwrap()).await.unwrap();
    assert_eq!(attempts.len(), 1, "the card was tried once: {attempts:?}");
    f.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn holding_and_recording_twice_writes_once() {
    let db = TestDatabase::create(5).await.unwrap();
    let booking_ref = BookingRef::parse("TRP-TW1CE0").unwrap();
    let workflow_id = booking_ref.workflow_id();
    let (offer, dates) = demo_stay(&db, 20, 2).await;
    let room_type = offer.room_type.as_str();

    let inventory = environment_for(
        inventory::InventoryActivitiesImpl::new(db.inventory.clone(), std::time::Duration::from_secs(900)),
        &workflow_id,
    );
    let hold = HoldRequest {
        hold_id: format!("{workflow_id}/hold"),
        booking_ref: booking_ref.clone(),
        accommodation_id: offer.accommodation_id,
        room_type: room_type.into(),
        dates,
        rooms: 2,
    };
    for _ in 0..2 {
        inventory.run(inventory::InventoryActivitiesImpl::hold_rooms, hold.clone()).await.unwrap();
    }
    let nights = inventory::store::availability(
        &db.inventory,
        offer.accommodation_id,
        room_type,
        dates.check_in,
        dates.check_out,
    )
    .await
    .unwrap();
    assert!(nights.iter().all(|n| n.held == 2), "{nights:?}");

    let bookings = environment_for(booking::BookingActivitiesImpl::new(db.booking.clone()), &workflow_id);
    let record = NewBookingRecord {
        booking_ref: booking_ref.clone(),
        accommodation_id: offer.accommodation_id,
        room_type: room_type.into(),
        dates,
        rooms: 2,
        guests: 3,
        lead_traveller: LeadTraveller {
            name: "Bikram Jamatia".into(),
            email: "bikram@example.in".into(),
            phone: "+919812345678".into(),
        },
        quote: offer.quote(&dates, 2).unwrap(),
        hold_id: hold.hold_id.clone(),
        user_id: Some(uuid::Uuid::new_v4()),
        partner_id: None,
        request: None,
    };
    for _ in 0..2 {
        bookings.run(booking::BookingActivitiesImpl::create_booking, record.clone()).await.unwrap();
    }
    let confirmation = BookingConfirmation {
        booking_ref: booking_ref.clone(),
        amount_charged: record.quote.total,
        payment_id: uuid::Uuid::new_v4(),
    };
    for _ in 0..2 {
        bookings.run(booking::BookingActivitiesImpl::confirm_booking, confirmation.clone()).await.unwrap();
    }
    let counts: (i64, i64, i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM bookings), (SELECT count(*) FROM booking_items),
                (SELECT count(*) FROM booking_versions), (SELECT count(*) FROM booking_customer_contacts),
                (SELECT count(*) FROM booking_access_policies)",
    )
    .fetch_one(&db.booking)
    .await
    .unwrap();
    assert_eq!(counts, (1, 2, 2, 2, 1), "one booking, two nights, two versions, two contacts, one owner");
    let row = booking::store::find_booking(&db.booking, &booking_ref).await.unwrap().unwrap();
    assert_eq!((row.status.as_str(), row.amount_charged_paise), ("confirmed", Some(record.quote.total.amount)));

    // Failing a confirmed booking is a transition the saga never asks for: refused, final.
    let failure = BookingFailure { booking_ref, code: "late".into(), message: "late".into() };
    let err = bookings.run(booking::BookingActivitiesImpl::fail_booking, failure).await.unwrap_err();
    assert!(format!("{err:?}").contains("InvalidBookingTransition"), "{err:?}");
    db.drop_database().await.unwrap();
}

/// The API binds a request's key with an asynchronous commit, which a crash of PostgreSQL
/// can lose after the saga started; a retry of the request then binds a new reference and
/// starts a second saga. Recording the booking settles it: the binding is restored, and
/// the saga whose reference the key is not bound to records nothing and stops.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recording_a_booking_restores_a_lost_request_binding_and_stops_a_second_saga() {
    let db = TestDatabase::create(5).await.unwrap();
    let (offer, dates) = demo_stay(&db, 25, 1).await;
    let user_id = uuid::Uuid::new_v4();
    let key = format!("client:{user_id}:trip-7");
    let request_hash = [7_u8; 32];
    let record_for = |booking_ref: &BookingRef| NewBookingRecord {
        booking_ref: booking_ref.clone(),
        accommodation_id: offer.accommodation_id,
        room_type: offer.room_type.clone(),
        dates,
        rooms: 1,
        guests: 2,
        lead_traveller: LeadTraveller {
            name: "Rupa Reang".into(),
            email: "rupa@example.in".into(),
            phone: "+919811112222".into(),
        },
        quote: offer.quote(&dates, 1).unwrap(),
        hold_id: format!("{}/hold", booking_ref.workflow_id()),
        user_id: Some(user_id),
        partner_id: None,
        request: Some(BookingRequestKey { idempotency_key: key.clone(), request_hash: hex::encode(request_hash) }),
    };
    let first = BookingRef::parse("TRP-F1RST0").unwrap();
    let claimed = booking::store::claim_request(
        &db.booking,
        &key,
        &request_hash,
        &first,
        booking::store::RequestOwner::User(user_id),
        booking::store::BookingKind::Stay,
    )
    .await
    .unwrap();
    assert_eq!(claimed, booking::store::IdempotentRequest::New(first.clone()));
    sqlx::query("DELETE FROM booking_requests").execute(&db.booking).await.unwrap();

    let saga = environment_for(booking::BookingActivitiesImpl::new(db.booking.clone()), &first.workflow_id());
    for _ in 0..2 {
        saga.run(booking::BookingActivitiesImpl::create_booking, record_for(&first)).await.unwrap();
    }
    let restored = booking::store::find_request(&db.booking, &key).await.unwrap().expect("the binding is back");
    assert_eq!(
        (restored.booking_ref.clone(), restored.request_hash.as_slice(), restored.saga_started, restored.user_id),
        (first.clone(), request_hash.as_slice(), true, Some(user_id))
    );

    // A second saga for the same request, started by a retry before the binding was back.
    let second = BookingRef::parse("TRP-SEC0ND").unwrap();
    let duplicate = environment_for(booking::BookingActivitiesImpl::new(db.booking.clone()), &second.workflow_id());
    let err = duplicate.run(booking::BookingActivitiesImpl::create_booking, record_for(&second)).await.unwrap_err();
    assert!(format!("{err:?}").contains("DuplicateRequest"), "{err:?}");
    assert!(booking::store::find_booking(&db.booking, &second).await.unwrap().is_none(), "nothing recorded");
    let bookings: Vec<String> =
        sqlx::query_scalar("SELECT booking_ref FROM bookings").fetch_all(&db.booking).await.unwrap();
    assert_eq!(bookings, [first.to_string()]);
    db.drop_database().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payment_the_gateway_refuses_outright_is_final_not_retried() {
    let f = PaymentFixture::new("TRP-REJ3CT", 100_000, "not a token").await;
    let text = format!("{:?}", f.run_charge().await.unwrap_err());
    assert!(text.contains("PaymentRejected") && text.contains("non_retryable: true"), "{text}");
    let row = f.payment_row().await;
    assert_eq!((row.status.as_str(), row.captured_paise), ("declined", 0));
    f.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overlapping_charge_attempts_capture_once_and_a_late_one_after_the_refund_takes_nothing() {
    let f = PaymentFixture::new("TRP-0VERLP", 250_000, "tok_success").await;

    // Two attempts at once, as after a start-to-close timeout of a slow first attempt.
    let (a, b) = tokio::join!(f.run_charge(), f.run_charge());
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a, b);
    let at_gateway = f.gateway.order_payments(&a.gateway_order_id).await.unwrap();
    assert_eq!(at_gateway.len(), 1, "one payment on one order: {at_gateway:?}");
    assert_eq!(payment::store::payments_of_booking(&f.db.payment, &f.booking_ref).await.unwrap().len(), 1);

    f.run_refund().await.unwrap();
    let late = f.run_charge().await.unwrap_err();
    assert!(format!("{late:?}").contains("ChargeClosed"), "{late:?}");
    let at_gateway = f.gateway.order_payments(&a.gateway_order_id).await.unwrap();
    assert_eq!((at_gateway.len(), at_gateway[0].status.as_str()), (1, "refunded"));
    f.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refund_whose_answer_was_lost_is_recorded_by_the_retry_not_repeated() {
    let f = PaymentFixture::new("TRP-L0STRF", 180_000, "tok_success").await;
    let captured = f.run_charge().await.unwrap();
    // The gateway refunds, but the answer never reaches the payment context.
    f.gateway.refund(&captured.gateway_payment_id, 180_000, "lost-answer-refund-key").await.unwrap();

    let outcome = f.run_refund().await.unwrap();
    assert_eq!(outcome.refunded, Money::inr(180_000), "the refund that happened is reported");
    let row = f.payment_row().await;
    assert_eq!((row.status.as_str(), row.refunded_paise), ("refunded", 180_000));
    let refunds = f.gateway.payment_refunds(&captured.gateway_payment_id).await.unwrap();
    assert_eq!(refunds.len(), 1, "no second refund: {refunds:?}");
    f.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attempt_behind_a_charge_still_in_progress_waits_a_bounded_time_then_steps_aside() {
    use payment::store::lock_charge;
    use std::time::Duration;
    let db = TestDatabase::create(1).await.unwrap();
    let key = "booking-TRP-L0CK01/charge";
    let held = lock_charge(&db.payment, key, Duration::from_secs(1)).await.unwrap().expect("a free charge locks");

    // A retried attempt while the first one is stuck (on a gateway call, say): it gives up
    // its connection after its wait instead of queueing behind the first for ever.
    let started = tokio::time::Instant::now();
    let behind =
        tokio::time::timeout(Duration::from_secs(10), lock_charge(&db.payment, key, Duration::from_millis(300)))
            .await
            .expect("the wait for a charge's lock is bounded")
            .unwrap();
    assert!(behind.is_none(), "two attempts held one charge's lock");
    assert!(started.elapsed() >= Duration::from_millis(300), "it gave up before its wait");

    // Other charges are not held up, and the lock is free again once released.
    let other = lock_charge(&db.payment, "booking-TRP-L0CK02/charge", Duration::from_millis(300)).await.unwrap();
    assert!(other.is_some());
    other.unwrap().release().await.unwrap();
    held.release().await.unwrap();
    let after = lock_charge(&db.payment, key, Duration::from_millis(300)).await.unwrap();
    assert!(after.is_some(), "a released charge locks again");
    after.unwrap().release().await.unwrap();
    db.drop_database().await.unwrap();
}
