//! The sandbox's merchant API, shaped like the real gateway's (basic auth). It owns the
//! payment rules (what may be paid, captured or refunded, and which events each step
//! raises); the hosted checkout in `checkout` pays through them too, and the
//! `/v1/sandbox/*` controls are in `control`.

use crate::{
    errors::{Answer, Body, DECLINED, GatewayError},
    ids::{new_id, now},
    state::{Books, Order, Payment, Refund, RefundKey, Sandbox},
    webhooks::{Event, event},
};
use axum::{
    Json, Router,
    extract::{FromRequestParts, Path, State},
    http::{HeaderMap, request::Parts},
    routing::{get, post},
};
use base64::Engine;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Value, json};
use std::collections::HashMap;

pub(crate) fn routes() -> Router<Sandbox> {
    Router::new()
        .route("/v1/orders", post(create_order))
        .route("/v1/orders/{id}", get(get_order))
        .route("/v1/orders/{id}/payments", get(order_payments))
        .route("/v1/payments/create/json", post(create_payment))
        .route("/v1/payments/{id}", get(get_payment))
        .route("/v1/payments/{id}/capture", post(capture))
        .route("/v1/payments/{id}/refund", post(refund))
        .route("/v1/payments/{id}/refunds", get(payment_refunds))
}

/// HTTP Basic authentication with the merchant's key id and secret; the key id names the
/// merchant, whose payout idempotency keys are its own.
pub(crate) struct Merchant {
    pub(crate) key_id: String,
}

impl FromRequestParts<Sandbox> for Merchant {
    type Rejection = GatewayError;

    async fn from_request_parts(parts: &mut Parts, sandbox: &Sandbox) -> Result<Self, Self::Rejection> {
        let expected = format!("{}:{}", sandbox.settings.key_id, sandbox.settings.key_secret);
        let given = parts
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Basic "))
            .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok());
        if given.as_deref() == Some(expected.as_bytes()) {
            Ok(Merchant { key_id: sandbox.settings.key_id.clone() })
        } else {
            Err(GatewayError::unauthorized())
        }
    }
}

#[derive(Deserialize)]
struct NewOrder {
    amount: i64,
    currency: String,
    receipt: Option<String>,
    /// Capture payments on authorisation. The gateway takes `true`/`false` or `1`/`0`.
    #[serde(default, deserialize_with = "flag")]
    payment_capture: bool,
}

fn flag<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Flag {
        Bool(bool),
        Int(u8),
    }
    match Option::<Flag>::deserialize(deserializer)? {
        None | Some(Flag::Bool(false)) | Some(Flag::Int(0)) => Ok(false),
        Some(Flag::Bool(true)) | Some(Flag::Int(1)) => Ok(true),
        Some(Flag::Int(_)) => Err(serde::de::Error::custom("payment_capture must be 0 or 1")),
    }
}

async fn create_order(_: Merchant, State(sandbox): State<Sandbox>, Body(body): Body<NewOrder>) -> Answer<Order> {
    if body.amount < 100 {
        return Err(GatewayError::invalid("The amount must be at least INR 1.00"));
    }
    let order = Order {
        id: new_id("order"),
        entity: "order",
        amount: body.amount,
        amount_paid: 0,
        amount_due: body.amount,
        currency: body.currency,
        receipt: body.receipt,
        status: "created".into(),
        attempts: 0,
        payment_capture: body.payment_capture,
        created_at: now(),
    };
    let mut books = sandbox.books();
    books.orders.insert(order.id.clone(), order.clone());
    books.order_sequence.push(order.id.clone());
    Ok(Json(order))
}

async fn get_order(_: Merchant, State(sandbox): State<Sandbox>, Path(id): Path<String>) -> Answer<Order> {
    sandbox.books().orders.get(&id).cloned().map(Json).ok_or_else(|| GatewayError::not_found(&id))
}

async fn order_payments(_: Merchant, State(sandbox): State<Sandbox>, Path(id): Path<String>) -> Answer<Value> {
    let books = sandbox.books();
    collection(&books.orders, &id, books.payments.values().filter(|p| p.order_id == id), |p| (p.created_at, &p.id))
}

/// The gateway's list of what hangs off one order or payment, `{"entity": "collection",
/// "count", "items"}`, oldest first and by id within one second, so the order is stable. An
/// unknown parent is refused like any other unknown id, not answered with an empty list.
fn collection<'a, P, T: Serialize + 'a>(
    parents: &HashMap<String, P>,
    parent_id: &str,
    items: impl Iterator<Item = &'a T>,
    sort_key: impl Fn(&T) -> (i64, &str),
) -> Answer<Value> {
    if !parents.contains_key(parent_id) {
        return Err(GatewayError::not_found(parent_id));
    }
    let mut items: Vec<&T> = items.collect();
    items.sort_by(|a, b| sort_key(a).cmp(&sort_key(b)));
    Ok(Json(json!({ "entity": "collection", "count": items.len(), "items": items })))
}

#[derive(Deserialize)]
struct NewPayment {
    order_id: String,
    amount: i64,
    currency: String,
    method: String,
    token: String,
}

const DECLINING_TOKENS: &[&str] = &["tok_decline", "tok_declined", "tok_insufficient_funds"];

async fn create_payment(_: Merchant, State(sandbox): State<Sandbox>, Body(body): Body<NewPayment>) -> Answer<Payment> {
    if body.method != "card" {
        return Err(GatewayError::invalid("Only card payments are supported by the sandbox"));
    }
    let declined = card_declined(&sandbox, &body.token)?;
    let allow_second_payment = sandbox.faults.current().allow_second_payment;
    let (payment, events) = {
        let mut books = sandbox.books();
        let order = books.orders.get(&body.order_id).ok_or_else(|| GatewayError::not_found(&body.order_id))?;
        if order.amount != body.amount || order.currency != body.currency {
            return Err(GatewayError::invalid("The amount does not match the order"));
        }
        take_payment(&mut books, &body.order_id, declined, allow_second_payment)?
    };
    sandbox.dispatch(events);
    if payment.status == "failed" {
        return Err(GatewayError::declined());
    }
    Ok(Json(payment))
}

/// Checks the card token and decides whether the "bank" declines it: by the token, or by
/// the `decline_rate` fault.
fn card_declined(sandbox: &Sandbox, token: &str) -> Result<bool, GatewayError> {
    let token_ok = token
        .strip_prefix("tok_")
        .is_some_and(|t| !t.is_empty() && t.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
    if !token_ok {
        return Err(GatewayError::invalid("The card token is invalid"));
    }
    if DECLINING_TOKENS.contains(&token) {
        return Ok(true);
    }
    let declined = sandbox.faults.roll(|f| f.decline_rate);
    if declined {
        sandbox.faults.count_decline();
    }
    Ok(declined)
}

/// Records a card payment of the whole order, authorised or failed. Shared by the
/// server-to-server API and the hosted checkout so both decide payments the same way.
fn take_payment(
    books: &mut Books,
    order_id: &str,
    declined: bool,
    allow_second_payment: bool,
) -> Result<(Payment, Vec<Event>), GatewayError> {
    let order = books.orders.get_mut(order_id).ok_or_else(|| GatewayError::not_found(order_id))?;
    if order.status == "paid" && !allow_second_payment {
        return Err(GatewayError::invalid("The order is already paid"));
    }
    order.status = "attempted".into();
    order.attempts += 1;
    let payment = Payment {
        id: new_id("pay"),
        entity: "payment",
        order_id: order_id.to_owned(),
        amount: order.amount,
        currency: order.currency.clone(),
        status: if declined { "failed" } else { "authorized" }.into(),
        method: "card".into(),
        captured: false,
        amount_refunded: 0,
        error_code: declined.then(|| "BAD_REQUEST_ERROR".to_string()),
        error_description: declined.then(|| DECLINED.to_string()),
        created_at: now(),
    };
    books.payments.insert(payment.id.clone(), payment.clone());
    let name = if declined { "payment.failed" } else { "payment.authorized" };
    let events = vec![event(name, order_id, &[("payment", json!(payment))])];
    Ok((payment, events))
}

/// Captures an authorised payment and marks its order paid; the caller has checked the
/// amount. Refuses a second capture on an order, so an order is never paid twice, unless
/// the `allow_second_payment` switch plays a gateway that lets it happen.
fn capture_payment(
    books: &mut Books,
    id: &str,
    allow_second_payment: bool,
) -> Result<(Payment, Vec<Event>), GatewayError> {
    let payment = books.payments.get(id).ok_or_else(|| GatewayError::not_found(id))?;
    if payment.status != "authorized" {
        return Err(GatewayError::invalid(format!("This payment has already been {}", payment.status)));
    }
    let order_id = payment.order_id.clone();
    if books.orders.get(&order_id).is_some_and(|o| o.status == "paid") && !allow_second_payment {
        return Err(GatewayError::invalid("The order is already paid"));
    }
    let payment = books.payments.get_mut(id).ok_or_else(|| GatewayError::not_found(id))?;
    payment.status = "captured".into();
    payment.captured = true;
    let captured = payment.clone();
    let mut events = vec![event("payment.captured", &order_id, &[("payment", json!(captured))])];
    if let Some(order) = books.orders.get_mut(&order_id) {
        order.status = "paid".into();
        order.amount_paid = captured.amount;
        order.amount_due = 0;
        events.push(event("order.paid", &order_id, &[("payment", json!(captured)), ("order", json!(order))]));
    }
    Ok((captured, events))
}

async fn get_payment(_: Merchant, State(sandbox): State<Sandbox>, Path(id): Path<String>) -> Answer<Payment> {
    sandbox.books().payments.get(&id).cloned().map(Json).ok_or_else(|| GatewayError::not_found(&id))
}

#[derive(Deserialize)]
struct CaptureBody {
    amount: i64,
    currency: String,
}

async fn capture(
    _: Merchant,
    State(sandbox): State<Sandbox>,
    Path(id): Path<String>,
    Body(body): Body<CaptureBody>,
) -> Answer<Payment> {
    let allow_second_payment = sandbox.faults.current().allow_second_payment;
    let (captured, events) = {
        let mut books = sandbox.books();
        let payment = books.payments.get(&id).ok_or_else(|| GatewayError::not_found(&id))?;
        if payment.status == "authorized" && (payment.amount != body.amount || payment.currency != body.currency) {
            return Err(GatewayError::invalid("Capture amount must be equal to the amount authorized"));
        }
        capture_payment(&mut books, &id, allow_second_payment)?
    };
    sandbox.dispatch(events);
    Ok(Json(captured))
}

#[derive(Deserialize)]
struct RefundBody {
    amount: Option<i64>,
}

async fn refund(
    _: Merchant,
    State(sandbox): State<Sandbox>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Body(body): Body<RefundBody>,
) -> Answer<Refund> {
    let key = headers.get("x-refund-idempotency").and_then(|v| v.to_str().ok()).map(str::to_owned);
    if let Some(key) = &key {
        let valid = key.len() >= 10 && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !valid {
            return Err(GatewayError::invalid("The idempotency key is invalid"));
        }
    }
    if sandbox.faults.refuse_refund() {
        tracing::info!(payment = %id, "fault: refusing the refund");
        return Err(GatewayError::bad_request("Refunds for this payment are on hold; try again later.", "payment_id"));
    }
    let (refund, events) = {
        let mut books = sandbox.books();
        let payment = books.payments.get(&id).cloned().ok_or_else(|| GatewayError::not_found(&id))?;
        if let Some(key) = &key
            && let Some(earlier) = books.refund_keys.get(key)
        {
            // The same key is one refund: the same request gets the refund it made the first
            // time, and a different request under that key is refused rather than applied.
            if earlier.payment_id != id || earlier.requested_amount != body.amount {
                return Err(GatewayError::bad_request(
                    "Different request with the same idempotency key has already been processed.",
                    "NA",
                ));
            }
            return Ok(Json(books.refunds[&earlier.refund_id].clone()));
        }
        if payment.status != "captured" && payment.status != "refunded" {
            return Err(GatewayError::invalid("Only captured payments can be refunded"));
        }
        let left = payment.amount - payment.amount_refunded;
        let amount = body.amount.unwrap_or(left);
        if amount <= 0 || amount > left {
            return Err(GatewayError::invalid("The refund amount exceeds the amount left to refund"));
        }
        let refund = Refund {
            id: new_id("rfnd"),
            entity: "refund",
            payment_id: id.clone(),
            amount,
            currency: payment.currency.clone(),
            status: "processed".into(),
            created_at: now(),
        };
        let mut refunded = payment;
        refunded.amount_refunded += amount;
        if refunded.amount_refunded == refunded.amount {
            refunded.status = "refunded".into();
        }
        books.payments.insert(id.clone(), refunded.clone());
        if let Some(key) = key {
            let record = RefundKey { payment_id: id, requested_amount: body.amount, refund_id: refund.id.clone() };
            books.refund_keys.insert(key, record);
        }
        books.refunds.insert(refund.id.clone(), refund.clone());
        let events = vec![event(
            "refund.processed",
            &refunded.order_id,
            &[("refund", json!(refund)), ("payment", json!(refunded))],
        )];
        (refund, events)
    };
    sandbox.dispatch(events);
    Ok(Json(refund))
}

async fn payment_refunds(_: Merchant, State(sandbox): State<Sandbox>, Path(id): Path<String>) -> Answer<Value> {
    let books = sandbox.books();
    collection(&books.payments, &id, books.refunds.values().filter(|r| r.payment_id == id), |r| (r.created_at, &r.id))
}

/// The traveller pays on the hosted checkout: one card payment on the order, captured at
/// once when the order asked for it. A declined card is refused like the merchant API
/// refuses it. Both of the checkout's ways in (the JSON call and the page's form) pay through
/// here, so the page cannot drift from the API the tests exercise.
pub(crate) fn checkout_payment(sandbox: &Sandbox, order_id: &str, card_token: &str) -> Result<Payment, GatewayError> {
    let declined = card_declined(sandbox, card_token)?;
    let allow_second_payment = sandbox.faults.current().allow_second_payment;
    let (payment, events) = {
        let mut books = sandbox.books();
        let (mut payment, mut events) = take_payment(&mut books, order_id, declined, allow_second_payment)?;
        let auto_capture = books.orders.get(order_id).is_some_and(|o| o.payment_capture);
        if auto_capture && payment.status == "authorized" {
            let (captured, more) = capture_payment(&mut books, &payment.id, allow_second_payment)?;
            payment = captured;
            events.extend(more);
        }
        (payment, events)
    };
    sandbox.dispatch(events);
    if payment.status == "failed" {
        return Err(GatewayError::declined());
    }
    Ok(payment)
}
