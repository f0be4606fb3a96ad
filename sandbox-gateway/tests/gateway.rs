//! The sandbox over HTTP, as its callers see it: refunds, the hosted checkout, signed
//! webhooks, the fault switches and the ledger. Each test runs its own sandbox (and, where
//! webhooks matter, its own receiver) on free local ports.

use axum::{Router, body::Bytes, extract::State, http::HeaderMap, http::StatusCode, routing::post};
use hmac::{Hmac, Mac};
use sandbox_gateway::{DEFAULT_KEY_ID, DEFAULT_KEY_SECRET, DEFAULT_WEBHOOK_SECRET, SandboxSettings};
use serde_json::{Value, json};
use sha2::Sha256;
use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

struct Gateway {
    base: String,
    http: reqwest::Client,
    /// A browser's requests, with redirects left for the test to read rather than followed.
    browser: reqwest::Client,
}

async fn start(settings: SandboxSettings) -> Gateway {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(sandbox_gateway::run(listener, settings, std::future::pending()));
    let browser = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    Gateway { base, http: reqwest::Client::new(), browser }
}

/// What a browser navigating to a page sends as `Accept`.
const BROWSER_ACCEPT: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

/// A page or redirect as the browser got it.
struct Page {
    status: u16,
    headers: reqwest::header::HeaderMap,
    html: String,
}

impl Page {
    async fn from(response: reqwest::Response) -> Page {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        Page { status, headers, html: response.text().await.unwrap() }
    }

    fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
    }

    fn assert_html(&self) {
        assert!(self.header("content-type").starts_with("text/html"), "{:?}", self.headers);
        assert!(self.html.starts_with("<!doctype html>") && self.html.contains("<html lang=\"en\">"), "{}", self.html);
    }

    /// The redirect's target: the URL without its query, and the query's fields decoded.
    fn redirect(&self) -> (String, HashMap<String, String>) {
        assert_eq!(self.status, 303, "{}", self.html);
        let location = reqwest::Url::parse(self.header("location")).unwrap();
        let fields = location.query_pairs().into_owned().collect();
        let mut target = location.clone();
        target.set_query(None);
        (target.to_string(), fields)
    }
}

/// A merchant endpoint that answers 500 to the first `fail_first` webhooks, and a sandbox
/// that delivers its webhooks there with a short backoff so retries finish quickly.
async fn start_with_receiver(fail_first: usize) -> (Gateway, Receiver) {
    let receiver = Receiver::start(fail_first).await;
    let settings = SandboxSettings {
        webhook_url: Some(receiver.url.clone()),
        webhook_backoff: Duration::from_millis(20),
        ..SandboxSettings::default()
    };
    (start(settings).await, receiver)
}

async fn answer(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

impl Gateway {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Sends a request with the merchant's credentials, as the platform's adapter does.
    async fn as_merchant(&self, request: reqwest::RequestBuilder) -> (u16, Value) {
        answer(request.basic_auth(DEFAULT_KEY_ID, Some(DEFAULT_KEY_SECRET)).send().await.unwrap()).await
    }

    async fn merchant_post(&self, path: &str, body: Value) -> (u16, Value) {
        self.as_merchant(self.http.post(self.url(path)).json(&body)).await
    }

    async fn merchant_get(&self, path: &str) -> (u16, Value) {
        self.as_merchant(self.http.get(self.url(path))).await
    }

    async fn public_post(&self, path: &str, body: Value) -> (u16, Value) {
        answer(self.http.post(self.url(path)).json(&body).send().await.unwrap()).await
    }

    async fn public_get(&self, path: &str) -> (u16, Value) {
        answer(self.http.get(self.url(path)).send().await.unwrap()).await
    }

    async fn set_faults(&self, faults: Value) {
        let (status, body) = self.public_post("/v1/sandbox/faults", faults).await;
        assert_eq!(status, 200, "{body}");
    }

    async fn ledger(&self) -> Value {
        let (status, body) = self.public_get("/v1/sandbox/ledger").await;
        assert_eq!(status, 200, "{body}");
        body
    }

    async fn ledger_of(&self, order_id: &str) -> Value {
        let ledger = self.ledger().await;
        ledger["orders"].as_array().unwrap().iter().find(|o| o["order_id"] == order_id).cloned().unwrap()
    }

    async fn deliveries(&self) -> Vec<Value> {
        let (status, body) = self.public_get("/v1/sandbox/webhooks").await;
        assert_eq!(status, 200, "{body}");
        body["items"].as_array().unwrap().clone()
    }

    async fn order(&self, amount: i64, payment_capture: Value) -> String {
        let body =
            json!({ "amount": amount, "currency": "INR", "receipt": "TRP-TEST", "payment_capture": payment_capture });
        let (status, order) = self.merchant_post("/v1/orders", body).await;
        assert_eq!(status, 200, "{order}");
        order["id"].as_str().unwrap().to_owned()
    }

    async fn pay(&self, order_id: &str, amount: i64, token: &str) -> (u16, Value) {
        let body =
            json!({ "order_id": order_id, "amount": amount, "currency": "INR", "method": "card", "token": token });
        self.merchant_post("/v1/payments/create/json", body).await
    }

    async fn capture(&self, payment_id: &str, amount: i64) -> (u16, Value) {
        self.merchant_post(
            &format!("/v1/payments/{payment_id}/capture"),
            json!({ "amount": amount, "currency": "INR" }),
        )
        .await
    }

    /// An order paid and captured through the merchant API: (order id, payment id).
    async fn captured_order(&self, amount: i64) -> (String, String) {
        let order_id = self.order(amount, json!(false)).await;
        let (status, payment) = self.pay(&order_id, amount, "tok_visa").await;
        assert_eq!(status, 200, "{payment}");
        let payment_id = payment["id"].as_str().unwrap().to_owned();
        let (status, captured) = self.capture(&payment_id, amount).await;
        assert_eq!(status, 200, "{captured}");
        (order_id, payment_id)
    }

    async fn refund(&self, payment_id: &str, body: Value, key: &str) -> (u16, Value) {
        let url = self.url(&format!("/v1/payments/{payment_id}/refund"));
        self.as_merchant(self.http.post(url).header("X-Refund-Idempotency", key).json(&body)).await
    }

    /// The traveller pays `order_id` on the hosted checkout page with `card_token`.
    async fn checkout_pay(&self, order_id: &str, card_token: &str) -> (u16, Value) {
        self.public_post(&format!("/v1/checkout/{order_id}/pay"), json!({ "card_token": card_token })).await
    }

    /// Opens `path` as a browser's navigation does.
    async fn browse(&self, path: &str) -> Page {
        Page::from(self.browser.get(self.url(path)).header("Accept", BROWSER_ACCEPT).send().await.unwrap()).await
    }

    /// Submits the checkout page's form for `order_id` with `fields`, form-encoded.
    async fn submit_pay_form(&self, order_id: &str, fields: &[(&str, &str)]) -> Page {
        let request = self.browser.post(self.url(&format!("/v1/checkout/{order_id}/pay")));
        Page::from(request.header("Accept", BROWSER_ACCEPT).form(fields).send().await.unwrap()).await
    }

    /// An order that asks for capture, with the merchant's `receipt`: its id.
    async fn order_with_receipt(&self, amount: i64, receipt: &str) -> String {
        let body = json!({ "amount": amount, "currency": "INR", "receipt": receipt, "payment_capture": true });
        let (status, order) = self.merchant_post("/v1/orders", body).await;
        assert_eq!(status, 200, "{order}");
        order["id"].as_str().unwrap().to_owned()
    }

    /// The order's payments as the merchant sees them.
    async fn payments_of(&self, order_id: &str) -> Vec<Value> {
        let (status, payments) = self.merchant_get(&format!("/v1/orders/{order_id}/payments")).await;
        assert_eq!(status, 200, "{payments}");
        payments["items"].as_array().unwrap().clone()
    }

    /// An order that asks for capture, paid on the checkout page with a good card: its id.
    async fn paid_at_checkout(&self, amount: i64) -> String {
        let order_id = self.order(amount, json!(true)).await;
        let (status, paid) = self.checkout_pay(&order_id, "tok_visa").await;
        assert_eq!(status, 200, "{paid}");
        order_id
    }
}

/// A webhook as the receiver saw it.
#[derive(Clone, Debug)]
struct Received {
    event_id: String,
    signature: String,
    content_type: String,
    body: Bytes,
}

impl Received {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
    fn event(&self) -> String {
        self.json()["event"].as_str().unwrap().to_owned()
    }
}

/// A merchant endpoint that records every webhook and answers 500 to the first `fail_first`.
struct Receiver {
    url: String,
    received: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    async fn start(fail_first: usize) -> Receiver {
        let received: Arc<Mutex<Vec<Received>>> = Arc::default();
        let app = Router::new()
            .route(
                "/webhooks",
                post(
                    |State((log, fail_first)): State<(Arc<Mutex<Vec<Received>>>, usize)>,
                     headers: HeaderMap,
                     body: Bytes| async move {
                        let header =
                            |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
                        let mut log = log.lock().unwrap();
                        log.push(Received {
                            event_id: header("x-razorpay-event-id"),
                            signature: header("x-razorpay-signature"),
                            content_type: header("content-type"),
                            body,
                        });
                        if log.len() <= fail_first { StatusCode::INTERNAL_SERVER_ERROR } else { StatusCode::OK }
                    },
                ),
            )
            .with_state((received.clone(), fail_first));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/webhooks", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver { url, received }
    }

    /// Waits for `count` webhooks, then a little longer to catch any beyond it.
    async fn exactly(&self, count: usize) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.received.lock().unwrap().len() < count {
            assert!(
                Instant::now() < deadline,
                "only {} of {count} webhooks arrived",
                self.received.lock().unwrap().len()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        let received = self.received.lock().unwrap().clone();
        assert_eq!(received.len(), count, "{:?}", received.iter().map(Received::event).collect::<Vec<_>>());
        received
    }

    /// The names of exactly `count` webhooks, in the order they arrived.
    async fn events(&self, count: usize) -> Vec<String> {
        self.exactly(count).await.iter().map(Received::event).collect()
    }
}

fn hmac_hex(secret: &str, message: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(message);
    hex::encode(mac.finalize().into_bytes())
}

fn assert_signed(webhook: &Received) {
    assert_eq!(webhook.signature, hmac_hex(DEFAULT_WEBHOOK_SECRET, &webhook.body), "bad signature on {webhook:?}");
    assert_eq!(webhook.content_type, "application/json");
    assert!(!webhook.event_id.is_empty());
}

fn is_server_error(status: u16) -> bool {
    (500..600).contains(&status)
}

async fn wait_for_deliveries(gateway: &Gateway, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let deliveries = gateway.deliveries().await;
        if done(&deliveries) {
            return deliveries;
        }
        assert!(Instant::now() < deadline, "deliveries never settled: {deliveries:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_refund_key_is_one_refund_and_refunds_never_exceed_the_capture() {
    let (gateway, receiver) = start_with_receiver(0).await;
    let (order_id, payment_id) = gateway.captured_order(10_000).await;

    let (status, first) = gateway.refund(&payment_id, json!({ "amount": 4000 }), "booking-TRP-1_refund_a").await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["amount"], 4000);
    assert_eq!(first["status"], "processed");

    let (status, replay) = gateway.refund(&payment_id, json!({ "amount": 4000 }), "booking-TRP-1_refund_a").await;
    assert_eq!(status, 200, "{replay}");
    assert_eq!(replay["id"], first["id"], "the same key and body return the first refund");

    let (status, other) = gateway.refund(&payment_id, json!({ "amount": 3000 }), "booking-TRP-1_refund_a").await;
    assert_eq!(status, 400, "{other}");
    assert_eq!(other["error"]["code"], "BAD_REQUEST_ERROR");
    assert!(other["error"]["description"].as_str().unwrap().contains("idempotency key"));

    let (_, second_payment) = gateway.captured_order(5000).await;
    let (status, elsewhere) =
        gateway.refund(&second_payment, json!({ "amount": 4000 }), "booking-TRP-1_refund_a").await;
    assert_eq!(status, 400, "a key belongs to one payment: {elsewhere}");

    let (status, over) = gateway.refund(&payment_id, json!({ "amount": 6001 }), "booking-TRP-1_refund_b").await;
    assert_eq!(status, 400, "{over}");
    assert_eq!(over["error"]["code"], "BAD_REQUEST_ERROR");

    let (status, rest) = gateway.refund(&payment_id, json!({}), "booking-TRP-1_refund_c").await;
    assert_eq!(status, 200, "{rest}");
    assert_eq!(rest["amount"], 6000, "no amount refunds what is left");
    let (status, replay) = gateway.refund(&payment_id, json!({}), "booking-TRP-1_refund_c").await;
    assert_eq!((status, &replay["id"]), (200, &rest["id"]), "a replay of 'the rest' is still the same request");
    let (status, nothing_left) = gateway.refund(&payment_id, json!({ "amount": 1 }), "booking-TRP-1_refund_d").await;
    assert_eq!(status, 400, "{nothing_left}");

    let (_, refunds) = gateway.merchant_get(&format!("/v1/payments/{payment_id}/refunds")).await;
    assert_eq!(refunds["count"], 2);
    let (_, payment) = gateway.merchant_get(&format!("/v1/payments/{payment_id}")).await;
    assert_eq!((payment["status"].as_str(), payment["amount_refunded"].as_i64()), (Some("refunded"), Some(10_000)));

    let ledger = gateway.ledger_of(&order_id).await;
    assert_eq!((ledger["captures"].as_u64(), ledger["captured_amount"].as_i64()), (Some(1), Some(10_000)));
    assert_eq!((ledger["refunds"].as_u64(), ledger["refunded_amount"].as_i64()), (Some(2), Some(10_000)));
    let totals = gateway.ledger().await["totals"].clone();
    assert_eq!((totals["captures"].as_u64(), totals["captured_amount"].as_i64()), (Some(2), Some(15_000)));

    // Two orders paid and captured through the API (three events each) and two refunds:
    // the replays raised nothing.
    let webhooks = receiver.exactly(8).await;
    let refunds: Vec<Value> = webhooks.iter().filter(|w| w.event() == "refund.processed").map(Received::json).collect();
    assert_eq!(refunds.len(), 2);
    for refund in &refunds {
        assert_eq!(refund["contains"], json!(["refund", "payment"]));
        assert_eq!(refund["payload"]["payment"]["entity"]["id"], payment_id.as_str());
    }
    assert_eq!(refunds[0]["payload"]["refund"]["entity"]["id"], first["id"]);
    webhooks.iter().for_each(assert_signed);
}

#[tokio::test]
async fn the_checkout_captures_when_the_order_asks_and_sends_signed_webhooks() {
    let (gateway, receiver) = start_with_receiver(0).await;
    let order_id = gateway.order(250_000, json!(true)).await;

    let (status, page) = gateway.public_get(&format!("/v1/checkout/{order_id}")).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!((page["amount"].as_i64(), page["currency"].as_str()), (Some(250_000), Some("INR")));
    assert_eq!(page["status"], "created");

    let (status, paid) = gateway.checkout_pay(&order_id, "tok_visa").await;
    assert_eq!(status, 200, "{paid}");
    assert_eq!((paid["status"].as_str(), paid["captured"].as_bool()), (Some("captured"), Some(true)));
    let payment_id = paid["id"].as_str().unwrap();
    assert_eq!(paid["razorpay_payment_id"], payment_id);
    assert_eq!(paid["razorpay_order_id"], order_id.as_str());
    let expected = hmac_hex(DEFAULT_KEY_SECRET, format!("{order_id}|{payment_id}").as_bytes());
    assert_eq!(paid["razorpay_signature"], expected.as_str());

    let (status, again) = gateway.checkout_pay(&order_id, "tok_visa").await;
    assert_eq!(status, 400, "{again}");
    assert_eq!(again["error"]["code"], "BAD_REQUEST_ERROR");

    let (_, page) = gateway.public_get(&format!("/v1/checkout/{order_id}")).await;
    assert_eq!((page["status"].as_str(), page["amount_due"].as_i64()), (Some("paid"), Some(0)));
    let ledger = gateway.ledger_of(&order_id).await;
    assert_eq!((ledger["captures"].as_u64(), ledger["captured_amount"].as_i64()), (Some(1), Some(250_000)));

    let webhooks = receiver.exactly(3).await;
    let names: Vec<String> = webhooks.iter().map(Received::event).collect();
    assert_eq!(names, ["payment.authorized", "payment.captured", "order.paid"]);
    webhooks.iter().for_each(assert_signed);
    let ids: std::collections::HashSet<&str> = webhooks.iter().map(|w| w.event_id.as_str()).collect();
    assert_eq!(ids.len(), 3, "every event has its own id");

    let authorized = webhooks[0].json();
    assert_eq!(
        (authorized["entity"].as_str(), authorized["account_id"].as_str()),
        (Some("event"), Some("acc_sandbox"))
    );
    assert_eq!(authorized["contains"], json!(["payment"]));
    assert_eq!(authorized["payload"]["payment"]["entity"]["id"], payment_id);
    assert_eq!(authorized["payload"]["payment"]["entity"]["status"], "authorized");
    assert!(authorized["created_at"].as_i64().unwrap() > 1_600_000_000);
    let order_paid = webhooks[2].json();
    assert_eq!(order_paid["contains"], json!(["payment", "order"]));
    assert_eq!(order_paid["payload"]["order"]["entity"]["id"], order_id.as_str());
    assert_eq!(order_paid["payload"]["order"]["entity"]["status"], "paid");
    assert_eq!(order_paid["payload"]["payment"]["entity"]["status"], "captured");

    let deliveries = wait_for_deliveries(&gateway, |d| d.iter().all(|d| d["state"] == "delivered")).await;
    assert_eq!(deliveries.len(), 3);
    assert!(deliveries.iter().all(|d| d["attempts"] == 1 && d["last_status"] == 200), "{deliveries:?}");
}

#[tokio::test]
async fn without_payment_capture_the_checkout_only_authorises() {
    let (gateway, receiver) = start_with_receiver(0).await;
    let order_id = gateway.order(50_000, json!(0)).await;

    let (status, paid) = gateway.checkout_pay(&order_id, "tok_visa").await;
    assert_eq!(status, 200, "{paid}");
    assert_eq!(paid["status"], "authorized");
    assert_eq!(gateway.ledger_of(&order_id).await["captures"], 0);
    assert_eq!(receiver.exactly(1).await[0].event(), "payment.authorized");

    let (status, captured) = gateway.capture(paid["id"].as_str().unwrap(), 50_000).await;
    assert_eq!((status, captured["status"].as_str()), (200, Some("captured")));
    let names = receiver.events(3).await;
    assert_eq!(names, ["payment.authorized", "payment.captured", "order.paid"]);
}

#[tokio::test]
async fn duplicate_webhooks_deliver_every_event_twice_under_one_id() {
    let (gateway, receiver) = start_with_receiver(0).await;
    gateway.set_faults(json!({ "duplicate_webhooks": true })).await;
    let order_id = gateway.order(10_000, json!(1)).await;
    // `1` rather than `true`: the gateway takes both spellings of the capture flag.
    let (status, _) = gateway.checkout_pay(&order_id, "tok_visa").await;
    assert_eq!(status, 200);

    let webhooks = receiver.exactly(6).await;
    let mut by_id: HashMap<&str, Vec<&Received>> = HashMap::new();
    for webhook in &webhooks {
        assert_signed(webhook);
        by_id.entry(webhook.event_id.as_str()).or_default().push(webhook);
    }
    assert_eq!(by_id.len(), 3);
    for copies in by_id.values() {
        assert_eq!(copies.len(), 2);
        assert_eq!(copies[0].body, copies[1].body, "a duplicate is the same event, byte for byte");
    }
    let deliveries = gateway.deliveries().await;
    assert_eq!(deliveries.iter().filter(|d| d["copy"] == 2).count(), 3);
}

#[tokio::test]
async fn reordered_webhooks_arrive_last_first() {
    let (gateway, receiver) = start_with_receiver(0).await;
    gateway.set_faults(json!({ "reorder_webhooks": true })).await;
    gateway.paid_at_checkout(10_000).await;

    let names = receiver.events(3).await;
    assert_eq!(names, ["order.paid", "payment.captured", "payment.authorized"]);
}

#[tokio::test]
async fn webhooks_are_retried_until_acknowledged_and_then_given_up() {
    let (gateway, receiver) = start_with_receiver(2).await;
    let order_id = gateway.order(10_000, json!(false)).await;
    let (status, _) = gateway.pay(&order_id, 10_000, "tok_visa").await;
    assert_eq!(status, 200);

    let attempts = receiver.exactly(3).await;
    assert!(attempts.iter().all(|a| a.event_id == attempts[0].event_id && a.body == attempts[0].body));
    let deliveries = wait_for_deliveries(&gateway, |d| d.first().is_some_and(|d| d["state"] == "delivered")).await;
    assert_eq!((deliveries[0]["attempts"].as_u64(), deliveries[0]["last_status"].as_u64()), (Some(3), Some(200)));

    // Nobody listening: bounded attempts, then the delivery is given up.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let nowhere = format!("http://{}/webhooks", closed.local_addr().unwrap());
    drop(closed);
    let settings = SandboxSettings {
        webhook_url: Some(nowhere),
        webhook_max_attempts: 3,
        webhook_backoff: Duration::from_millis(10),
        ..SandboxSettings::default()
    };
    let gateway = start(settings).await;
    let order_id = gateway.order(10_000, json!(false)).await;
    let started = Instant::now();
    let (status, _) = gateway.pay(&order_id, 10_000, "tok_visa").await;
    assert_eq!(status, 200);
    assert!(started.elapsed() < Duration::from_secs(2), "the payment does not wait for its webhook");
    let deliveries = wait_for_deliveries(&gateway, |d| d.first().is_some_and(|d| d["state"] == "failed")).await;
    assert_eq!(deliveries[0]["attempts"], 3);
    assert!(deliveries[0]["last_error"].is_string(), "{deliveries:?}");
}

#[tokio::test]
async fn without_a_webhook_url_events_are_only_logged() {
    let gateway = start(SandboxSettings::default()).await;
    gateway.paid_at_checkout(10_000).await;
    let deliveries = gateway.deliveries().await;
    assert_eq!(deliveries.len(), 3);
    assert!(deliveries.iter().all(|d| d["state"] == "not_sent" && d["attempts"] == 0), "{deliveries:?}");
}

#[tokio::test]
async fn error_rate_fails_calls_without_acting() {
    let gateway = start(SandboxSettings::default()).await;
    let order_id = gateway.order(10_000, json!(false)).await;
    let (_, payment) = gateway.pay(&order_id, 10_000, "tok_visa").await;
    let payment_id = payment["id"].as_str().unwrap();
    gateway.set_faults(json!({ "error_rate": 1.0, "seed": 7 })).await;

    let mut statuses = Vec::new();
    for _ in 0..6 {
        let (status, _) = gateway
            .merchant_post("/v1/orders", json!({ "amount": 10_000, "currency": "INR", "receipt": "TRP-X" }))
            .await;
        statuses.push(status);
    }
    let (capture, _) = gateway.capture(payment_id, 10_000).await;
    statuses.push(capture);
    let (read, _) = gateway.merchant_get(&format!("/v1/payments/{payment_id}")).await;
    statuses.push(read);
    assert!(statuses.iter().all(|s| [500, 502, 503].contains(s)), "{statuses:?}");

    // The controls, the health check and the checkout page are never failed.
    assert_eq!(gateway.public_get("/healthz").await.0, 200);
    assert_eq!(gateway.public_get(&format!("/v1/checkout/{order_id}")).await.0, 200);
    let ledger = gateway.ledger().await;
    assert_eq!(ledger["totals"]["orders"], 1, "no order was created");
    assert_eq!(ledger["totals"]["captures"], 0, "nothing was captured");

    gateway.set_faults(json!({})).await;
    let (_, payment) = gateway.merchant_get(&format!("/v1/payments/{payment_id}")).await;
    assert_eq!(payment["status"], "authorized");
}

#[tokio::test]
async fn lost_responses_still_act() {
    let (gateway, receiver) = start_with_receiver(0).await;
    let order_id = gateway.order(10_000, json!(false)).await;
    let (_, payment) = gateway.pay(&order_id, 10_000, "tok_visa").await;
    let payment_id = payment["id"].as_str().unwrap();
    gateway.set_faults(json!({ "lose_response_rate": 1.0 })).await;

    let (status, _) = gateway.capture(payment_id, 10_000).await;
    assert!([500, 504].contains(&status), "{status}");
    let ledger = gateway.ledger_of(&order_id).await;
    assert_eq!((ledger["captures"].as_u64(), ledger["captured_amount"].as_i64()), (Some(1), Some(10_000)));
    // Reads are not state-changing: they still answer, and show the capture.
    let (status, read) = gateway.merchant_get(&format!("/v1/payments/{payment_id}")).await;
    assert_eq!((status, read["status"].as_str()), (200, Some("captured")));

    let (status, _) = gateway
        .merchant_post("/v1/orders", json!({ "amount": 20_000, "currency": "INR", "receipt": "TRP-LOST" }))
        .await;
    assert!(is_server_error(status), "{status}");
    assert_eq!(gateway.ledger().await["totals"]["orders"], 2, "the order exists though its answer was lost");

    // A retried capture must not capture twice.
    let (status, _) = gateway.capture(payment_id, 10_000).await;
    assert!(is_server_error(status));
    assert_eq!(gateway.ledger_of(&order_id).await["captures"], 1);
    // The webhooks went out even though the answer did not.
    let names = receiver.events(3).await;
    assert_eq!(names, ["payment.authorized", "payment.captured", "order.paid"]);
}

#[tokio::test]
async fn latency_slows_the_api_but_not_the_controls() {
    let gateway = start(SandboxSettings::default()).await;
    let order_id = gateway.order(10_000, json!(false)).await;
    gateway.set_faults(json!({ "latency_ms": 600 })).await;

    let started = Instant::now();
    let (status, _) = gateway.merchant_get(&format!("/v1/orders/{order_id}")).await;
    assert_eq!(status, 200);
    assert!(started.elapsed() >= Duration::from_millis(600), "{:?}", started.elapsed());

    let started = Instant::now();
    assert_eq!(gateway.public_get("/healthz").await.0, 200);
    gateway.ledger().await;
    assert!(started.elapsed() < Duration::from_millis(600), "{:?}", started.elapsed());
}

#[tokio::test]
async fn decline_rate_declines_good_cards() {
    let (gateway, receiver) = start_with_receiver(0).await;
    gateway.set_faults(json!({ "decline_rate": 1.0 })).await;
    let order_id = gateway.order(10_000, json!(true)).await;

    let (status, declined) = gateway.pay(&order_id, 10_000, "tok_visa").await;
    assert_eq!(status, 400, "{declined}");
    assert_eq!(declined["error"]["reason"], "payment_declined");
    let (status, declined) = gateway.checkout_pay(&order_id, "tok_visa").await;
    assert_eq!((status, declined["error"]["reason"].as_str()), (400, Some("payment_declined")));

    let (_, payments) = gateway.merchant_get(&format!("/v1/orders/{order_id}/payments")).await;
    assert_eq!(payments["count"], 2);
    assert!(payments["items"].as_array().unwrap().iter().all(|p| p["status"] == "failed"));
    assert_eq!(gateway.ledger_of(&order_id).await["captures"], 0);
    let webhooks = receiver.exactly(2).await;
    assert!(webhooks.iter().all(|w| w.event() == "payment.failed"));

    gateway.set_faults(json!({})).await;
    let (status, paid) = gateway.checkout_pay(&order_id, "tok_visa").await;
    assert_eq!((status, paid["status"].as_str()), (200, Some("captured")));
}

#[tokio::test]
async fn a_seed_makes_the_faults_reproducible() {
    let gateway = start(SandboxSettings::default()).await;
    let mut runs = Vec::new();
    for _ in 0..2 {
        gateway.set_faults(json!({ "decline_rate": 0.5, "seed": 42 })).await;
        let mut outcomes = Vec::new();
        for _ in 0..12 {
            let order_id = gateway.order(10_000, json!(false)).await;
            outcomes.push(gateway.pay(&order_id, 10_000, "tok_visa").await.0);
        }
        runs.push(outcomes);
    }
    assert_eq!(runs[0], runs[1]);
    assert!(runs[0].contains(&200) && runs[0].contains(&400), "{:?}", runs[0]);
}

#[tokio::test]
async fn each_fault_call_replaces_the_whole_set_and_bad_ones_are_refused() {
    let gateway = start(SandboxSettings::default()).await;
    gateway.set_faults(json!({ "error_rate": 0.25, "duplicate_webhooks": true, "seed": 3 })).await;
    let (_, faults) = gateway.public_get("/v1/sandbox/faults").await;
    assert_eq!((faults["error_rate"].as_f64(), faults["duplicate_webhooks"].as_bool()), (Some(0.25), Some(true)));
    assert_eq!(faults["seed"], 3);

    gateway.set_faults(json!({ "latency_ms": 5 })).await;
    let (_, faults) = gateway.public_get("/v1/sandbox/faults").await;
    assert_eq!((faults["error_rate"].as_f64(), faults["duplicate_webhooks"].as_bool()), (Some(0.0), Some(false)));
    assert_eq!(faults["latency_ms"], 5);

    let (status, refused) = gateway.public_post("/v1/sandbox/faults", json!({ "decline_rate": 1.5 })).await;
    assert_eq!((status, refused["error"]["code"].as_str()), (400, Some("BAD_REQUEST_ERROR")));
    let (status, _) = gateway.public_post("/v1/sandbox/faults", json!({ "error_rat": 0.5 })).await;
    assert_eq!(status, 400, "a misspelt switch is refused");
    assert_eq!(gateway.public_get("/v1/sandbox/faults").await.1["latency_ms"], 5, "a refused call changes nothing");
}

#[tokio::test]
async fn the_merchant_api_needs_credentials_and_answers_in_the_gateway_shape() {
    let gateway = start(SandboxSettings::default()).await;
    let (status, body) = gateway.public_post("/v1/orders", json!({ "amount": 10_000, "currency": "INR" })).await;
    assert_eq!((status, body["error"]["reason"].as_str()), (401, Some("authentication_failed")));

    let (status, body) = gateway.merchant_post("/v1/orders", json!({ "amount": "lots" })).await;
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("BAD_REQUEST_ERROR")));
    let (status, _) =
        gateway.merchant_post("/v1/orders", json!({ "amount": 10_000, "currency": "INR", "payment_capture": 2 })).await;
    assert_eq!(status, 400);

    let (status, body) = gateway.public_get("/v1/checkout/order_missing").await;
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("BAD_REQUEST_ERROR")));
}

const SHOP: &str = "https://shop.example/bookings/TRP-7?lang=en";

#[tokio::test]
async fn the_checkout_page_is_html_for_browsers_and_json_for_other_callers() {
    let gateway = start(SandboxSettings::default()).await;
    let order_id = gateway.order_with_receipt(1_234_567, "TRP-2024-0042").await;

    let page = gateway.browse(&format!("/v1/checkout/{order_id}?callback_url={}", encode(SHOP))).await;
    assert_eq!(page.status, 200, "{}", page.html);
    page.assert_html();
    for part in [
        "<meta name=\"viewport\"",
        "<title>",
        "<main>",
        "<h1>",
        "Tripura Tourism",
        "₹12,345.67",
        "TRP-2024-0042",
        &order_id,
        &format!("<form method=\"post\" action=\"/v1/checkout/{order_id}/pay\""),
        "<fieldset>",
        "<legend>",
        "name=\"card_token\" value=\"tok_success\" checked",
        "name=\"card_token\" value=\"tok_decline\"",
        "Visa •••• 1111 — pays",
        "Mastercard •••• 0002 — declined",
        "<input type=\"hidden\" name=\"callback_url\" value=\"https://shop.example/bookings/TRP-7?lang=en\">",
        "Pay ₹12,345.67</button>",
        "src=\"/v1/checkout/assets/checkout.js\"",
    ] {
        assert!(page.html.contains(part), "no {part:?} in {}", page.html);
    }
    assert_eq!(page.html.matches("<h1>").count(), 1);
    assert!(!page.html.contains("<script>") && !page.html.contains("style="), "no inline script or style");
    let policy = page.header("content-security-policy");
    assert!(policy.contains("script-src 'self'") && policy.contains("style-src 'self'"), "{policy}");
    assert!(policy.contains("form-action 'self' https://shop.example"), "the redirect back is allowed: {policy}");

    let script =
        Page::from(gateway.browser.get(gateway.url("/v1/checkout/assets/checkout.js")).send().await.unwrap()).await;
    assert_eq!((script.status, script.header("content-type")), (200, "text/javascript; charset=utf-8"));
    assert!(script.html.contains("disabled = true"), "{}", script.html);
    let style =
        Page::from(gateway.browser.get(gateway.url("/v1/checkout/assets/checkout.css")).send().await.unwrap()).await;
    assert_eq!((style.status, style.header("content-type")), (200, "text/css; charset=utf-8"));

    // API clients keep the JSON: no Accept, or JSON asked for.
    let (status, json) = gateway.public_get(&format!("/v1/checkout/{order_id}?callback_url=nonsense")).await;
    assert_eq!((status, json["amount"].as_i64(), json["status"].as_str()), (200, Some(1_234_567), Some("created")));
    let request =
        gateway.http.get(gateway.url(&format!("/v1/checkout/{order_id}"))).header("Accept", "application/json");
    let (status, json) = answer(request.send().await.unwrap()).await;
    assert_eq!((status, json["receipt"].as_str()), (200, Some("TRP-2024-0042")));

    let missing = gateway.browse("/v1/checkout/order_missing").await;
    assert_eq!(missing.status, 404);
    missing.assert_html();
    assert!(missing.html.contains("Order not found"), "{}", missing.html);
}

#[tokio::test]
async fn the_checkout_page_escapes_what_it_shows() {
    let gateway = start(SandboxSettings::default()).await;
    let order_id = gateway.order_with_receipt(10_000, "<script>alert('r')</script>\"&").await;
    let callback = "https://shop.example/b?a=1&b='\"><img/src=x/onerror=alert(1)>";

    let page = gateway.browse(&format!("/v1/checkout/{order_id}?callback_url={}", encode(callback))).await;
    assert_eq!(page.status, 200, "{}", page.html);
    assert!(!page.html.contains("<script>alert") && !page.html.contains("<img"), "{}", page.html);
    assert!(page.html.contains("&lt;script&gt;alert(&#39;r&#39;)&lt;/script&gt;&quot;&amp;"), "{}", page.html);
    assert!(page.html.contains("value=\"https://shop.example/b?a=1&amp;b="), "{}", page.html);

    let refused =
        gateway.browse(&format!("/v1/checkout/{order_id}?callback_url={}", encode("javascript:<img src=x>"))).await;
    assert_eq!(refused.status, 400);
    assert!(
        refused.html.contains("javascript:&lt;img src=x&gt;") && !refused.html.contains("<img"),
        "{}",
        refused.html
    );
    let unknown = gateway.browse(&format!("/v1/checkout/{}", encode("<b>order</b>"))).await;
    assert_eq!(unknown.status, 404);
    assert!(unknown.html.contains("&lt;b&gt;order&lt;/b&gt;") && !unknown.html.contains("<b>"), "{}", unknown.html);
}

#[tokio::test]
async fn a_callback_url_must_be_an_absolute_web_address() {
    let gateway = start(SandboxSettings::default()).await;
    let order_id = gateway.order_with_receipt(10_000, "TRP-CB").await;
    for bad in ["/bookings/TRP-CB", "javascript:alert(1)", "ftp://shop.example/b", "shop.example/b", "https://", ""] {
        let page = gateway.browse(&format!("/v1/checkout/{order_id}?callback_url={}", encode(bad))).await;
        assert_eq!(page.status, 400, "{bad:?}: {}", page.html);
        page.assert_html();
        assert!(page.html.contains("callback_url"), "the page names the problem: {}", page.html);

        let paid = gateway.submit_pay_form(&order_id, &[("card_token", "tok_success"), ("callback_url", bad)]).await;
        assert_eq!(paid.status, 400, "{bad:?}: {}", paid.html);
    }
    assert!(gateway.payments_of(&order_id).await.is_empty(), "nothing is paid with a callback it cannot return to");
}

#[tokio::test]
async fn paying_on_the_page_redirects_to_the_callback_with_a_signed_payment() {
    let gateway = start(SandboxSettings::default()).await;
    let order_id = gateway.order_with_receipt(250_000, "TRP-PAID").await;

    let paid = gateway.submit_pay_form(&order_id, &[("card_token", "tok_success"), ("callback_url", SHOP)]).await;
    assert!(paid.header("location").starts_with(&format!("{SHOP}&razorpay_payment_id=pay_")), "{:?}", paid.headers);
    let (target, fields) = paid.redirect();
    assert_eq!((target.as_str(), fields["lang"].as_str()), ("https://shop.example/bookings/TRP-7", "en"));
    let payment_id = &fields["razorpay_payment_id"];
    assert_eq!(fields["razorpay_order_id"], order_id);
    let expected = hmac_hex(DEFAULT_KEY_SECRET, format!("{order_id}|{payment_id}").as_bytes());
    assert_eq!(fields["razorpay_signature"], expected, "the merchant can verify the payment");

    let payments = gateway.payments_of(&order_id).await;
    assert_eq!(payments.len(), 1);
    assert_eq!(
        (payments[0]["id"].as_str(), payments[0]["status"].as_str()),
        (Some(payment_id.as_str()), Some("captured"))
    );

    let page = gateway.browse(&format!("/v1/checkout/{order_id}?callback_url={}", encode(SHOP))).await;
    assert_eq!(page.status, 200);
    assert!(page.html.contains("This order is paid") && !page.html.contains("<form"), "{}", page.html);
    assert!(page.html.contains("href=\"https://shop.example/bookings/TRP-7?lang=en\""), "{}", page.html);
}

#[tokio::test]
async fn a_declined_card_on_the_page_redirects_with_the_gateway_error() {
    let gateway = start(SandboxSettings::default()).await;
    let order_id = gateway.order_with_receipt(10_000, "TRP-DECLINE").await;
    let callback = "http://127.0.0.1:3000/bookings/TRP-DECLINE";

    let declined =
        gateway.submit_pay_form(&order_id, &[("card_token", "tok_decline"), ("callback_url", callback)]).await;
    let location = declined.header("location");
    assert!(
        location.starts_with(&format!("{callback}?error%5Bcode%5D=BAD_REQUEST_ERROR&error%5Bdescription%5D=")),
        "{location}"
    );
    let (target, fields) = declined.redirect();
    assert_eq!(target, callback);
    assert_eq!(fields["error[description]"], "Your payment has been declined by the bank");
    assert_eq!(fields["error[reason]"], "payment_failed");
    assert_eq!(fields["razorpay_order_id"], order_id);
    assert!(!fields.contains_key("razorpay_payment_id") && !fields.contains_key("razorpay_signature"));

    let payments = gateway.payments_of(&order_id).await;
    assert_eq!((payments.len(), payments[0]["status"].as_str()), (1, Some("failed")));
    // The traveller may try again with another card.
    let page = gateway.browse(&format!("/v1/checkout/{order_id}")).await;
    assert!(page.html.contains("<form"), "{}", page.html);
}

#[tokio::test]
async fn a_second_payment_on_the_page_is_refused_and_takes_nothing() {
    let gateway = start(SandboxSettings::default()).await;
    let order_id = gateway.order_with_receipt(10_000, "TRP-TWICE").await;
    let fields = [("card_token", "tok_success"), ("callback_url", SHOP)];

    let first = gateway.submit_pay_form(&order_id, &fields).await;
    assert!(first.redirect().1.contains_key("razorpay_payment_id"));
    let second = gateway.submit_pay_form(&order_id, &fields).await;
    let (_, refused) = second.redirect();
    assert_eq!(refused["error[code]"], "BAD_REQUEST_ERROR");
    assert_eq!(refused["error[description]"], "The order is already paid");
    assert_eq!(refused["razorpay_order_id"], order_id);
    assert!(!refused.contains_key("razorpay_payment_id"));

    let payments = gateway.payments_of(&order_id).await;
    assert_eq!(payments.len(), 1, "{payments:?}");
    assert_eq!(gateway.ledger_of(&order_id).await["captures"], 1);
}

#[tokio::test]
async fn without_a_callback_the_page_ends_on_the_gateway_result() {
    let gateway = start(SandboxSettings::default()).await;
    let order_id = gateway.order_with_receipt(10_000, "TRP-NOCB").await;

    let page = gateway.browse(&format!("/v1/checkout/{order_id}")).await;
    assert!(!page.html.contains("name=\"callback_url\""), "{}", page.html);
    assert!(page.header("content-security-policy").contains("form-action 'self'"));

    let declined = gateway.submit_pay_form(&order_id, &[("card_token", "tok_insufficient_funds")]).await;
    assert_eq!(declined.status, 400);
    declined.assert_html();
    assert!(
        declined.html.contains("Payment declined: Your payment has been declined by the bank"),
        "{}",
        declined.html
    );

    let paid = gateway.submit_pay_form(&order_id, &[("card_token", "tok_success")]).await;
    assert_eq!(paid.status, 200, "{}", paid.html);
    paid.assert_html();
    assert!(paid.html.contains("Payment successful") && paid.html.contains("₹100.00"), "{}", paid.html);
    let payments = gateway.payments_of(&order_id).await;
    assert_eq!(payments.iter().map(|p| p["status"].as_str().unwrap()).collect::<Vec<_>>().len(), 2);
}

/// Percent-encodes a query value.
fn encode(value: &str) -> String {
    reqwest::Url::parse_with_params("http://x/", [("v", value)]).unwrap().query().unwrap()[2..].to_owned()
}
