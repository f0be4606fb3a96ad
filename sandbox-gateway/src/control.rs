//! `/v1/sandbox/*`: the controls and read-outs tests use. No real gateway has them, so they
//! need no credentials and no fault ever touches them.

use crate::{
    errors::{Answer, Body, GatewayError},
    faults::{Faults, Injected},
    state::{BankAccount, Sandbox},
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
        .route("/v1/sandbox/payouts", get(payouts))
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

#[derive(Serialize)]
struct PayoutLedger<'a> {
    id: &'a str,
    reference_id: Option<&'a str>,
    idempotency_key: &'a str,
    /// The merchant's account the money left.
    account_number: &'a str,
    fund_account_id: &'a str,
    /// Whom it was paid to.
    bank_account: Option<&'a BankAccount>,
    amount: i64,
    currency: &'a str,
    mode: &'a str,
    purpose: &'a str,
    status: &'a str,
    utr: Option<&'a str>,
    created_at: i64,
}

/// Every payout in the order it was made, with the idempotency key it was made under, and in
/// total, so tests can hold the platform to "each settlement paid exactly once" from the side
/// that pays. `failed` counts the payouts that moved no money: `failed` or `reversed`.
async fn payouts(State(sandbox): State<Sandbox>) -> Json<Value> {
    let books = sandbox.books();
    let payouts: Vec<PayoutLedger> = books
        .payout_sequence
        .iter()
        .filter_map(|id| books.payouts.get(id))
        .map(|payout| PayoutLedger {
            id: &payout.id,
            reference_id: payout.reference_id.as_deref(),
            idempotency_key: &payout.idempotency_key,
            account_number: &payout.account_number,
            fund_account_id: &payout.fund_account_id,
            bank_account: payout.fund_account.as_ref().map(|f| &f.bank_account),
            amount: payout.amount,
            currency: &payout.currency,
            mode: &payout.mode,
            purpose: &payout.purpose,
            status: &payout.status,
            utr: payout.utr.as_deref(),
            created_at: payout.created_at,
        })
        .collect();
    let processed = || payouts.iter().filter(|p| p.status == "processed");
    let totals = json!({
        "payouts": payouts.len(),
        "processed": processed().count(),
        "processed_amount": processed().map(|p| p.amount).sum::<i64>(),
        "failed": payouts.iter().filter(|p| p.status == "failed" || p.status == "reversed").count(),
    });
    Json(json!({ "payouts": payouts, "totals": totals }))
}
