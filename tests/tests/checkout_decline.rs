//! A declined payment on the gateway's checkout: the booking fails at once with the
//! decline's reason and its rooms go back on sale, nothing is taken and nothing refunded; a
//! payment made on the same order afterwards is refunded by itself; a decline for a booking
//! already paid changes nothing.

use contracts::{
    BookingRef, Money,
    activities::{CheckoutOpened, CheckoutRequest, RefundPaymentRequest, SettleRequest},
    temporal::BOOKING_SAGA_TYPE,
};
use payment::PaymentActivitiesImpl;
use serde_json::{Value, json};
use std::time::Duration;
use temporalio_sdk::testing::{ActivityEnvironment, TestActivityInfoOptions};
use tests::{TestDatabase, TestPlatform, TestPlatformOptions, body_of, eventually_within, spawn_sandbox_gateway};

fn failed_event(order_id: &str, payment_id: &str, amount: i64) -> Value {
    json!({
        "entity": "event", "account_id": "acc_sandbox", "event": "payment.failed", "contains": ["payment"],
        "created_at": chrono::Utc::now().timestamp(),
        "payload": { "payment": { "entity": {
            "id": payment_id, "entity": "payment", "order_id": order_id, "amount": amount, "currency": "INR",
            "status": "failed", "captured": false, "error_code": "BAD_REQUEST_ERROR",
            "error_description": "Your payment has been declined by the bank" } } }
    })
}

fn stay_of(days_ahead: i64) -> (chrono::NaiveDate, chrono::NaiveDate) {
    let check_in = contracts::india::today() + chrono::Duration::days(days_ahead);
    (check_in, check_in + chrono::Duration::days(2))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declined_checkout_fails_the_booking_at_once_and_gives_its_rooms_back() {
    // The default payment window (15 minutes): the booking must end long before it closes.
    let platform = TestPlatform::spawn().await.unwrap();
    let (check_in, check_out) = stay_of(22);
    let before = platform.availability(check_in, check_out).await.unwrap();
    let (booking_ref, waiting) = platform.start_checkout_booking(22).await;
    assert_ne!(platform.availability(check_in, check_out).await.unwrap(), before, "the rooms are held");
    let pay_url = waiting["checkout"]["pay_url"].as_str().unwrap().to_string();
    let started = std::time::Instant::now();

    let (status, declined) = platform.pay_checkout(&pay_url, "tok_decline").await;
    assert_eq!(status, 400, "the checkout page shows the decline: {declined}");

    let failed = platform.wait_for_status(&booking_ref, &["failed", "expired", "confirmed"]).await.unwrap();
    assert_eq!(failed["status"], "failed", "{failed}");
    assert_eq!(failed["failure"]["code"], "card_declined", "{failed}");
    assert!(failed["failure"]["message"].as_str().unwrap().contains("declined"), "{failed}");
    assert!(started.elapsed() < Duration::from_secs(60), "ended at once, not with the window");
    assert!(failed["checkout"].is_null(), "{failed}");
    assert!(failed["amount_charged"].is_null(), "{failed}");
    assert!(failed["amount_refunded"].is_null(), "{failed}");
    assert_eq!(platform.availability(check_in, check_out).await.unwrap(), before, "the rooms are back on sale");

    let r = BookingRef::parse(&booking_ref).unwrap();
    let record = booking::store::find_booking(&platform.booking_db, &r).await.unwrap().unwrap();
    assert_eq!((record.status.as_str(), record.failure_code.as_deref()), ("failed", Some("card_declined")));
    let charges = payment::store::payments_of_booking(&platform.payment_db, &r).await.unwrap();
    assert_eq!(charges.len(), 1, "{charges:?}");
    assert_eq!(
        (charges[0].status.as_str(), charges[0].failure_code.as_deref(), charges[0].captured_paise),
        ("declined", Some("card_declined"), 0)
    );
    let books = platform.gateway_ledger().await;
    assert_eq!(
        (books["totals"]["captures"].as_i64(), books["totals"]["refunds"].as_i64()),
        (Some(0), Some(0)),
        "nothing captured, nothing refunded: {books}"
    );
    platform.all_webhooks_delivered().await;
    let applied = platform.webhook_outcomes().await;
    assert_eq!(applied, [("payment.failed".to_string(), "signalled".to_string())], "the decline woke the saga");
    assert!(platform.find_workflows("WorkflowType = 'AutoRefund'").await.is_empty(), "no refund started");
    platform.replay_history(&booking_ref, "checkout_declined").await.unwrap();

    // The traveller pays the same order again from another tab, after the booking ended:
    // nothing waits for that money, and it goes back by itself.
    let (status, paid) = platform.pay_checkout(&pay_url, "tok_visa").await;
    assert_eq!(status, 200, "{paid}");
    let books = eventually_within(Duration::from_secs(60), "the later payment to be refunded", async || {
        let books = platform.gateway_ledger().await;
        if books["totals"]["refunds"] == 1 { Ok(books) } else { Err(books) }
    })
    .await;
    assert_eq!(books["totals"]["captured_amount"], books["totals"]["refunded_amount"], "{books}");
    assert!(platform.webhook_outcomes().await.iter().any(|(_, o)| o == "refund_started"));
    let (_, still) = platform.get_booking(&booking_ref, 0).await.unwrap();
    assert_eq!((still["status"].as_str(), still["failure"]["code"].as_str()), (Some("failed"), Some("card_declined")));
    assert_eq!(platform.availability(check_in, check_out).await.unwrap(), before, "{still}");
    platform.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_decline_for_a_booking_already_paid_changes_nothing() {
    let platform = TestPlatform::spawn().await.unwrap();
    let (booking_ref, waiting) = platform.start_checkout_booking(23).await;
    let order_id = waiting["checkout"]["gateway_order_id"].as_str().unwrap().to_string();
    let amount = waiting["total"]["amount"].as_i64().unwrap();
    let (status, paid) = platform.pay_checkout(waiting["checkout"]["pay_url"].as_str().unwrap(), "tok_visa").await;
    assert_eq!(status, 200, "{paid}");
    let confirmed = platform.wait_for_status(&booking_ref, &["confirmed"]).await.unwrap();
    platform.all_webhooks_delivered().await;
    let before = platform.webhook_outcomes().await;

    // A decline of another attempt on the paid order (the gateway's events may come late or
    // out of order), at the order's amount and at another: neither flagged nor refunded.
    for (event_id, paid) in [("evt_late_decline_1", amount), ("evt_late_decline_2", amount - 100)] {
        let event = failed_event(&order_id, &format!("pay_{event_id}"), paid);
        let (status, body) = platform.post_signed_webhook(&event, event_id).await;
        assert_eq!((status, body["status"].as_str()), (200, Some("ignored")), "{body}");
    }
    let after = platform.webhook_outcomes().await;
    assert_eq!(&after[..before.len()], &before[..]);
    assert_eq!(
        &after[before.len()..],
        [("payment.failed".to_string(), "ignored".to_string()), ("payment.failed".to_string(), "ignored".to_string())]
    );

    let (_, still) = platform.get_booking(&booking_ref, 0).await.unwrap();
    assert_eq!(still["status"], "confirmed", "{still}");
    assert_eq!(still["amount_charged"], confirmed["amount_charged"], "{still}");
    assert!(still["amount_refunded"].is_null(), "{still}");
    let books = platform.gateway_ledger().await;
    assert_eq!(
        (books["totals"]["captures"].as_i64(), books["totals"]["refunds"].as_i64()),
        (Some(1), Some(0)),
        "{books}"
    );
    assert!(platform.find_workflows("WorkflowType = 'AutoRefund'").await.is_empty(), "no refund started");
    platform.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_decline_whose_webhook_is_lost_ends_the_booking_with_it_when_the_window_closes() {
    let options = TestPlatformOptions { payment_window: Duration::from_secs(6), ..Default::default() };
    let platform = TestPlatform::spawn_with(options).await.unwrap();
    let (check_in, check_out) = stay_of(24);
    let before = platform.availability(check_in, check_out).await.unwrap();
    let (booking_ref, waiting) = platform.start_checkout_booking(24).await;
    platform.set_gateway_faults(json!({ "lose_webhooks": true })).await;

    let (status, _) = platform.pay_checkout(waiting["checkout"]["pay_url"].as_str().unwrap(), "tok_decline").await;
    assert_eq!(status, 400);
    // No notice reaches the saga; its last read of the gateway, as the window closes, finds
    // the decline: the traveller sees why, not a payment that never came.
    let ended = platform.wait_for_status(&booking_ref, &["failed", "expired", "confirmed"]).await.unwrap();
    assert_eq!((ended["status"].as_str(), ended["failure"]["code"].as_str()), (Some("failed"), Some("card_declined")));
    assert_eq!(platform.availability(check_in, check_out).await.unwrap(), before);
    assert!(platform.webhook_outcomes().await.is_empty(), "no webhook reached the API");
    assert_eq!(platform.gateway_ledger().await["totals"]["captures"], 0);
    platform.stop().await.unwrap();
}

/// The payment steps of one checkout, run as the booking saga's worker runs them.
struct Checkout {
    db: TestDatabase,
    gateway: payment::GatewayClient,
    gateway_url: url::Url,
    stop_gateway: tokio::sync::oneshot::Sender<()>,
    booking_ref: BookingRef,
    charge_key: String,
    amount: Money,
}

impl Checkout {
    async fn open(booking_ref: &str, paise: i64) -> (Self, CheckoutOpened) {
        let db = TestDatabase::create(5).await.unwrap();
        let (settings, stop_gateway) = spawn_sandbox_gateway().await.unwrap();
        let gateway_url = settings.base_url.clone();
        let gateway = payment::GatewayClient::new(settings).unwrap();
        let booking_ref = BookingRef::parse(booking_ref).unwrap();
        let charge_key = format!("{}/charge", booking_ref.workflow_id());
        let checkout =
            Checkout { db, gateway, gateway_url, stop_gateway, booking_ref, charge_key, amount: Money::inr(paise) };
        let request = CheckoutRequest {
            booking_ref: checkout.booking_ref.clone(),
            idempotency_key: checkout.charge_key.clone(),
            amount: checkout.amount,
        };
        let opened = checkout.env(BOOKING_SAGA_TYPE).run(PaymentActivitiesImpl::open_checkout, request).await.unwrap();
        (checkout, opened)
    }

    /// The payment activities, called from a workflow of type `workflow_type`.
    fn env(&self, workflow_type: &str) -> ActivityEnvironment {
        let info = TestActivityInfoOptions::builder()
            .workflow_type(Some(workflow_type.to_string()))
            .workflow_id(Some(self.booking_ref.workflow_id()))
            .build();
        ActivityEnvironment::builder()
            .register_activities(PaymentActivitiesImpl::new(self.db.payment.clone(), self.gateway.clone()))
            .info(info)
            .build()
    }

    /// What `settle_checkout` answers when called from a workflow of type `workflow_type`.
    async fn settle(&self, workflow_type: &str) -> String {
        let request = SettleRequest {
            booking_ref: self.booking_ref.clone(),
            idempotency_key: self.charge_key.clone(),
            amount: self.amount,
        };
        match self.env(workflow_type).run(PaymentActivitiesImpl::settle_checkout, request).await {
            Ok(charge) => format!("{charge:?}"),
            Err(e) => format!("{e:?}"),
        }
    }

    /// The traveller pays the order on the gateway's checkout page.
    async fn pay(&self, order_id: &str, card_token: &str) -> (u16, Value) {
        let url = self.gateway_url.join(&format!("v1/checkout/{order_id}/pay")).unwrap();
        body_of(reqwest::Client::new().post(url).json(&json!({ "card_token": card_token })).send().await.unwrap()).await
    }

    async fn row(&self) -> payment::PaymentRow {
        payment::store::find_by_key(&self.db.payment, &self.charge_key).await.unwrap().unwrap()
    }

    async fn stop(self) {
        let _ = self.stop_gateway.send(());
        self.db.drop_database().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declined_checkout_answers_the_same_decline_every_time_and_a_later_payment_is_refunded() {
    let (checkout, opened) = Checkout::open("TRP-CKD3CL", 320_000).await;
    let not_yet = checkout.settle(BOOKING_SAGA_TYPE).await;
    assert!(not_yet.contains("PaymentNotFound"), "nothing paid yet: {not_yet}");

    assert_eq!(checkout.pay(&opened.gateway_order_id, "tok_decline").await.0, 400);
    // The saga's look ends the checkout with the decline; a retry, or a second notice,
    // answers the same without asking the gateway again.
    let first = checkout.settle(BOOKING_SAGA_TYPE).await;
    assert!(first.contains("CardDeclined") && first.contains("non_retryable: true"), "{first}");
    assert!(first.contains("declined by the bank"), "the gateway's description: {first}");
    let row = checkout.row().await;
    assert_eq!(
        (row.status.as_str(), row.failure_code.as_deref(), row.captured_paise),
        ("declined", Some("card_declined"), 0)
    );
    let again = checkout.settle(BOOKING_SAGA_TYPE).await;
    assert!(again.contains("CardDeclined") && again.contains("declined by the bank"), "{again}");

    // Paid from another tab after the decline: the booking is over, and the automatic
    // refund the webhook starts gives that payment back in full.
    let (status, paid) = checkout.pay(&opened.gateway_order_id, "tok_visa").await;
    assert_eq!(status, 200, "{paid}");
    let payment_id = paid["id"].as_str().unwrap().to_string();
    let after = checkout.settle(BOOKING_SAGA_TYPE).await;
    assert!(after.contains("CardDeclined"), "the decline stands: {after}");
    let refund = RefundPaymentRequest {
        booking_ref: checkout.booking_ref.clone(),
        charge_idempotency_key: checkout.charge_key.clone(),
        gateway_payment_id: payment_id.clone(),
        reason: "no_booking_waiting".into(),
    };
    let env = checkout.env("AutoRefund");
    let outcome = env.run(PaymentActivitiesImpl::refund_payment, refund.clone()).await.unwrap();
    assert_eq!(outcome.refunded, checkout.amount);
    let again = env.run(PaymentActivitiesImpl::refund_payment, refund).await.unwrap();
    assert_eq!(again.refunded, Money::inr(0), "refunded once");
    let refunds = checkout.gateway.payment_refunds(&payment_id).await.unwrap();
    assert_eq!(refunds.len(), 1, "{refunds:?}");
    let row = checkout.row().await;
    assert_eq!((row.status.as_str(), row.captured_paise, row.refunded_paise), ("refunded", 320_000, 320_000));
    checkout.stop().await;
}
