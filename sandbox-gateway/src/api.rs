//! The sandbox's HTTP API, shaped like the real gateway's.

use crate::state::{Order, Payment, Refund, Sandbox, new_id, now};
use axum::{
    Json, Router,
    extract::{FromRequestParts, Path, State},
    http::{HeaderMap, StatusCode, request::Parts},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use base64::Engine;
use serde::Deserialize;
use serde_json::json;

pub fn router(sandbox: Sandbox) -> Router {
    Router::new()
        .route("/v1/orders", post(create_order))
        .route("/v1/orders/{id}", get(get_order))
        .route("/v1/orders/{id}/payments", get(order_payments))
        .route("/v1/payments/create/json", post(create_payment))
        .route("/v1/payments/{id}", get(get_payment))
        .route("/v1/payments/{id}/capture", post(capture))
        .route("/v1/payments/{id}/refund", post(refund))
        .route("/v1/payments/{id}/refunds", get(payment_refunds))
        .route("/healthz", get(|| async { "ok" }))
        .with_state(sandbox)
}

/// Gateway-style errors: `{"error": {"code", "description", "reason", ...}}`.
struct GatewayError {
    status: StatusCode,
    code: &'static str,
    description: String,
    reason: &'static str,
}

impl GatewayError {
    fn bad_request(description: impl Into<String>, reason: &'static str) -> Self {
        GatewayError {
            status: StatusCode::BAD_REQUEST,
            code: "BAD_REQUEST_ERROR",
            description: description.into(),
            reason,
        }
    }
    fn not_found(what: &str) -> Self {
        GatewayError {
            status: StatusCode::BAD_REQUEST,
            code: "BAD_REQUEST_ERROR",
            description: format!("The id provided does not exist: {what}"),
            reason: "input_validation_failed",
        }
    }
}

impl IntoResponse for GatewayError {
    fn into_response(self) -> Response {
        let body = json!({ "error": {
            "code": self.code, "description": self.description, "reason": self.reason,
            "source": "business", "step": "payment_initiation", "metadata": {},
        }});
        (self.status, Json(body)).into_response()
    }
}

/// HTTP Basic authentication with the merchant's key id and secret.
struct Merchant;

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
            Ok(Merchant)
        } else {
            Err(GatewayError {
                status: StatusCode::UNAUTHORIZED,
                code: "BAD_REQUEST_ERROR",
                description: "Authentication failed".into(),
                reason: "authentication_failed",
            })
        }
    }
}

#[derive(Deserialize)]
struct NewOrder {
    amount: i64,
    currency: String,
    receipt: Option<String>,
}

async fn create_order(
    _: Merchant,
    State(sandbox): State<Sandbox>,
    Json(body): Json<NewOrder>,
) -> Result<Json<Order>, GatewayError> {
    if body.amount < 100 {
        return Err(GatewayError::bad_request("The amount must be at least INR 1.00", "input_validation_failed"));
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
        created_at: now(),
    };
    sandbox.books().orders.insert(order.id.clone(), order.clone());
    Ok(Json(order))
}

async fn get_order(
    _: Merchant,
    State(sandbox): State<Sandbox>,
    Path(id): Path<String>,
) -> Result<Json<Order>, GatewayError> {
    sandbox.books().orders.get(&id).cloned().map(Json).ok_or_else(|| GatewayError::not_found(&id))
}

async fn order_payments(
    _: Merchant,
    State(sandbox): State<Sandbox>,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, GatewayError> {
    let books = sandbox.books();
    if !books.orders.contains_key(&id) {
        return Err(GatewayError::not_found(&id));
    }
    let mut items: Vec<&Payment> = books.payments.values().filter(|p| p.order_id == id).collect();
    items.sort_by_key(|p| (p.created_at, p.id.clone()));
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

async fn create_payment(
    _: Merchant,
    State(sandbox): State<Sandbox>,
    Json(body): Json<NewPayment>,
) -> Result<Json<Payment>, GatewayError> {
    if body.method != "card" {
        return Err(GatewayError::bad_request(
            "Only card payments are supported by the sandbox",
            "input_validation_failed",
        ));
    }
    let token_ok = body
        .token
        .strip_prefix("tok_")
        .is_some_and(|t| !t.is_empty() && t.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
    if !token_ok {
        return Err(GatewayError::bad_request("The card token is invalid", "input_validation_failed"));
    }
    let mut books = sandbox.books();
    let order = books.orders.get_mut(&body.order_id).ok_or_else(|| GatewayError::not_found(&body.order_id))?;
    if order.amount != body.amount || order.currency != body.currency {
        return Err(GatewayError::bad_request("The amount does not match the order", "input_validation_failed"));
    }
    if order.status == "paid" {
        return Err(GatewayError::bad_request("The order is already paid", "input_validation_failed"));
    }
    order.status = "attempted".into();
    let declined = DECLINING_TOKENS.contains(&body.token.as_str());
    let payment = Payment {
        id: new_id("pay"),
        entity: "payment",
        order_id: body.order_id,
        amount: body.amount,
        currency: body.currency,
        status: if declined { "failed" } else { "authorized" }.into(),
        method: body.method,
        captured: false,
        amount_refunded: 0,
        error_code: declined.then(|| "BAD_REQUEST_ERROR".to_string()),
        error_description: declined.then(|| "Your payment has been declined by the bank".to_string()),
        created_at: now(),
    };
    books.payments.insert(payment.id.clone(), payment.clone());
    if declined {
        return Err(GatewayError::bad_request("Your payment has been declined by the bank", "payment_declined"));
    }
    Ok(Json(payment))
}

async fn get_payment(
    _: Merchant,
    State(sandbox): State<Sandbox>,
    Path(id): Path<String>,
) -> Result<Json<Payment>, GatewayError> {
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
    Json(body): Json<CaptureBody>,
) -> Result<Json<Payment>, GatewayError> {
    let mut books = sandbox.books();
    let payment = books.payments.get_mut(&id).ok_or_else(|| GatewayError::not_found(&id))?;
    if payment.status != "authorized" {
        return Err(GatewayError::bad_request(
            format!("This payment has already been {}", payment.status),
            "input_validation_failed",
        ));
    }
    if payment.amount != body.amount || payment.currency != body.currency {
        return Err(GatewayError::bad_request(
            "Capture amount must be equal to the amount authorized",
            "input_validation_failed",
        ));
    }
    let order_id = payment.order_id.clone();
    if books.orders.get(&order_id).is_some_and(|o| o.status == "paid") {
        return Err(GatewayError::bad_request("The order is already paid", "input_validation_failed"));
    }
    let payment = books.payments.get_mut(&id).ok_or_else(|| GatewayError::not_found(&id))?;
    payment.status = "captured".into();
    payment.captured = true;
    let captured = payment.clone();
    if let Some(order) = books.orders.get_mut(&captured.order_id) {
        order.status = "paid".into();
        order.amount_paid = captured.amount;
        order.amount_due = 0;
    }
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
    Json(body): Json<RefundBody>,
) -> Result<Json<Refund>, GatewayError> {
    let key = headers.get("x-refund-idempotency").and_then(|v| v.to_str().ok()).map(str::to_owned);
    if let Some(key) = &key {
        let valid = key.len() >= 10 && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !valid {
            return Err(GatewayError::bad_request("The idempotency key is invalid", "input_validation_failed"));
        }
    }
    let mut books = sandbox.books();
    let payment = books.payments.get(&id).cloned().ok_or_else(|| GatewayError::not_found(&id))?;
    let amount = body.amount.unwrap_or(payment.amount - payment.amount_refunded);
    if let Some(key) = &key
        && let Some((paid, earlier_amount, refund_id)) = books.refund_keys.get(key).cloned()
    {
        if paid != id || earlier_amount != amount {
            return Err(GatewayError::bad_request(
                "Different request with the same idempotency key has already been processed.",
                "NA",
            ));
        }
        return Ok(Json(books.refunds[&refund_id].clone()));
    }
    if payment.status != "captured" && payment.status != "refunded" {
        return Err(GatewayError::bad_request("Only captured payments can be refunded", "input_validation_failed"));
    }
    if amount <= 0 || amount > payment.amount - payment.amount_refunded {
        return Err(GatewayError::bad_request(
            "The refund amount exceeds the amount left to refund",
            "input_validation_failed",
        ));
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
    if let Some(p) = books.payments.get_mut(&id) {
        p.amount_refunded += amount;
        if p.amount_refunded == p.amount {
            p.status = "refunded".into();
        }
    }
    if let Some(key) = key {
        books.refund_keys.insert(key, (id, amount, refund.id.clone()));
    }
    books.refunds.insert(refund.id.clone(), refund.clone());
    Ok(Json(refund))
}

async fn payment_refunds(
    _: Merchant,
    State(sandbox): State<Sandbox>,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, GatewayError> {
    let books = sandbox.books();
    if !books.payments.contains_key(&id) {
        return Err(GatewayError::not_found(&id));
    }
    let items: Vec<&Refund> = books.refunds.values().filter(|r| r.payment_id == id).collect();
    Ok(Json(json!({ "entity": "collection", "count": items.len(), "items": items })))
}
