//! `/v1/sandbox/*`: the controls and read-outs tests use. No real gateway has them, so they
//! need no credentials and no fault ever touches them.

use crate::{
    errors::{Answer, Body, GatewayError},
    faults::{Faults, Injected},
    state::Sandbox,
};
use axum::{Json, Router, extract::State, routing::get};
use serde::Serialize;
use serde_json::{Value, json};

pub(crate) fn routes() -> Router<Sandbox> {
    Router::new()
        .route("/v1/sandbox/faults", get(get_faults).post(set_faults))
        .route("/v1/sandbox/faults/injected", get(injected))
        .route("/v1/sandbox/webhooks", get(webhooks))
        .route("/v1/sandbox/ledger", get(ledger))
}

async fn get_faults(State(sandbox): State<Sandbox>) -> Json<Faults> {
    Json(sandbox.faults.current())
}

async fn set_faults(State(sandbox): State<Sandbox>, Body(faults): Body<Faults>) -> Answer<Faults> {
    faults.validate().map_err(GatewayError::invalid)?;
    tracing::info!(?faults, "fault switches set");
    sandbox.faults.replace(faults.clone());
    Ok(Json(faults))
}

async fn injected(State(sandbox): State<Sandbox>) -> Json<Injected> {
    Json(sandbox.faults.injected())
}

async fn webhooks(State(sandbox): State<Sandbox>) -> Json<Value> {
    Json(sandbox.webhooks.deliveries())
}

#[derive(Serialize, Default)]
struct OrderLedger {
    order_id: String,
    currency: String,
    amount: i64,
    status: String,
    payments: usize,
    captures: usize,
    captured_amount: i64,
    refunds: usize,
    refunded_amount: i64,
}

/// The gateway's own account of the money, per order in creation order and in total, so
/// tests can hold the platform to "at most one capture per order" and "never refund more
/// than was captured" from the side that actually moves the money.
async fn ledger(State(sandbox): State<Sandbox>) -> Json<Value> {
    let books = sandbox.books();
    let mut orders: Vec<OrderLedger> = books
        .order_sequence
        .iter()
        .filter_map(|id| books.orders.get(id))
        .map(|order| OrderLedger {
            order_id: order.id.clone(),
            currency: order.currency.clone(),
            amount: order.amount,
            status: order.status.clone(),
            ..OrderLedger::default()
        })
        .collect();
    for entry in &mut orders {
        for payment in books.payments.values().filter(|p| p.order_id == entry.order_id) {
            entry.payments += 1;
            // A payment is captured at most once, so captured payments count captures.
            if payment.captured {
                entry.captures += 1;
                entry.captured_amount += payment.amount;
            }
            for refund in books.refunds.values().filter(|r| r.payment_id == payment.id) {
                entry.refunds += 1;
                entry.refunded_amount += refund.amount;
            }
        }
    }
    let totals = json!({
        "orders": orders.len(),
        "payments": orders.iter().map(|o| o.payments).sum::<usize>(),
        "captures": orders.iter().map(|o| o.captures).sum::<usize>(),
        "captured_amount": orders.iter().map(|o| o.captured_amount).sum::<i64>(),
        "refunds": orders.iter().map(|o| o.refunds).sum::<usize>(),
        "refunded_amount": orders.iter().map(|o| o.refunded_amount).sum::<i64>(),
    });
    Json(json!({ "orders": orders, "totals": totals }))
}
