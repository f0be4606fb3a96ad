//! A local stand-in for the payment gateway: the same Razorpay-shaped HTTP API the payment
//! context's adapter speaks, kept in memory, for development and tests — including the ways
//! the real gateway misbehaves, so the platform can be tested against them.
//!
//! Merchant API (HTTP Basic auth with the key id and secret):
//! - `POST /v1/orders` — `amount`, `currency`, `receipt`, `payment_capture` (`true`/`1`:
//!   payments made through the checkout are captured at once; default off);
//!   `GET /v1/orders/{id}`, `GET /v1/orders/{id}/payments`.
//! - `POST /v1/payments/create/json` — a card payment on an order; it ends `authorized`, or
//!   `failed` with a 400 `payment_declined` answer. `GET /v1/payments/{id}`.
//! - `POST /v1/payments/{id}/capture` — at most one capture per order.
//! - `POST /v1/payments/{id}/refund` — with the optional `X-Refund-Idempotency` header: the
//!   same key and body return the first refund, the same key with another body is a 400;
//!   refunds never exceed the captured amount. `GET /v1/payments/{id}/refunds`.
//!
//! Payouts (the same Basic auth), shaped like the real gateway's composite payouts:
//! - `POST /v1/payouts` — header `X-Payout-Idempotency` (mandatory; 4–36 letters, digits,
//!   `-`, `_` or spaces); body `account_number` (the merchant's own account), `amount` (paise,
//!   at least 100), `currency` (`INR`), `mode` (`NEFT`, `RTGS`, `IMPS`, `UPI`), `purpose`
//!   (`refund`, `cashback`, `payout`, `salary`, `utility bill`, `vendor bill`),
//!   `fund_account` {`account_type`: `bank_account`, `bank_account` {`name`, `ifsc`
//!   (`^[A-Z]{4}0[A-Z0-9]{6}$`), `account_number` (5–35 letters and digits)}, `contact`
//!   {`name`, optional `email`, `contact` (phone), `type` (`vendor`, `customer`, `employee`,
//!   `self`), `reference_id`, `notes`}}, optional `queue_if_low_balance`, `reference_id`
//!   (≤ 40), `narration` (≤ 30 letters, digits, spaces) and `notes`. Unknown fields are
//!   refused; a refusal names its field in `error.field`. It answers the payout with its
//!   `fund_account` (the contact and fund account are reused when their details match),
//!   `processed` at once with a `utr`, fees and tax 0. The same key and request answer that
//!   same payout again; the same key with another request is a 400. Keys are per merchant.
//! - `GET /v1/payouts/{id}`; `GET /v1/payouts?account_number=…` (mandatory) with optional
//!   `reference_id`, `status`, `mode`, `fund_account_id`, `contact_id`, `count` (1–100,
//!   default 10) and `skip`: newest first. A fetched payout names its fund account by
//!   `fund_account_id` only, as the real gateway's does.
//!
//! Hosted checkout (no auth: the traveller's browser calls it). A browser gets pages and
//! redirects; a JSON caller keeps getting JSON:
//! - `GET /v1/checkout/{order_id}` — with `Accept: text/html` (a browser's navigation), the
//!   page to pay on: the merchant, the amount in rupees, the receipt and order id, and a form
//!   of the test cards below that posts to `/pay`. The merchant's page links to it with
//!   `?callback_url=<absolute http(s) URL of its own page>`, carried along in the form; any
//!   other `callback_url` is a 400 page naming the problem. A paid order shows that it is
//!   paid (and a link back to `callback_url`), an unknown one a 404 page. Otherwise (no
//!   `Accept`, `application/json`): amount, currency and status as JSON, an unknown order a
//!   400 in the gateway's error shape.
//! - `POST /v1/checkout/{order_id}/pay` — `{"card_token": "tok_…"}`: pays the order (a paid
//!   order is a 400), captures when the order asked for it, and answers the payment with
//!   `razorpay_payment_id`, `razorpay_order_id` and `razorpay_signature`. The page's form
//!   (`application/x-www-form-urlencoded`: `card_token`, optional `callback_url`) pays the
//!   same way and answers `303 See Other`, as the real gateway's redirect flow does: to
//!   `<callback_url>?razorpay_payment_id=…&razorpay_order_id=…&razorpay_signature=…` when
//!   paid; when declined or refused (a paid order, say), to
//!   `<callback_url>?error[code]=BAD_REQUEST_ERROR&error[description]=<the gateway's message>&error[reason]=payment_failed&razorpay_order_id=…`.
//!   The fields are form-encoded and appended to the callback's own query, if any. Without
//!   a `callback_url` it answers a result page instead ("Payment successful", or a 400
//!   "Payment declined: …").
//! - `GET /v1/checkout/assets/checkout.css` and `…/checkout.js` — the page's stylesheet and
//!   its one script, which disables the pay button on submit so a double click pays once
//!   (the gateway refuses a second payment on a paid order anyway). The pages carry a
//!   Content-Security-Policy that runs only these, and lets forms post to the gateway and
//!   to the callback's origin, where the redirect goes.
//!
//! Card tokens decide the outcome: `tok_decline`, `tok_declined` and
//! `tok_insufficient_funds` are declined by the "bank"; any other `tok_…` token is authorised.
//! The page offers `tok_success` (Visa •••• 1111, pays), `tok_decline` (Mastercard •••• 0002)
//! and `tok_insufficient_funds` (Visa •••• 9995).
//!
//! Webhooks: `payment.authorized`, `payment.failed`, `payment.captured`, `order.paid` and
//! `refund.processed` are POSTed to the configured URL as Razorpay-shaped events, signed in
//! `X-Razorpay-Signature` (hex HMAC-SHA256 of the raw body under the webhook secret) and
//! identified by `X-Razorpay-Event-Id`. Delivery runs in the background and is retried with
//! doubling backoff on a non-2xx answer or no answer, up to a bounded number of attempts.
//! Payouts raise none: the real gateway sends its payout events to endpoints set up apart
//! from the payments', and a caller reads a payout back with `GET /v1/payouts`.
//!
//! Controls for tests (no auth, never subject to faults):
//! - `GET`/`POST /v1/sandbox/faults` — read or replace the whole set of fault switches:
//!   `decline_rate` (fraction of payments declined whatever the token), `error_rate`
//!   (fraction of API calls answered 500/502/503 without acting; not the checkout page),
//!   `lose_response_rate` (fraction of state-changing calls — every POST — that act and then
//!   answer 500/504), `latency_ms` (delay before every API call), `duplicate_webhooks`
//!   (every event delivered twice, same event id), `reorder_webhooks` (the events one call
//!   raises delivered last-first), `lose_webhooks` (every event recorded as `lost`, never
//!   sent), `allow_second_payment` (a paid order takes another payment), `refuse_refunds`
//!   (the next N refunds are refused with a 400, then accepted), `fail_payouts` (the next N
//!   new payouts are accepted, then refused by the beneficiary's bank: no `utr`,
//!   `status_details.reason` `beneficiary_bank_rejected`; later ones are processed),
//!   `payout_failure` (how those end: `reversed`, the default, or `failed`), `seed` (makes
//!   the draws reproducible) and `only_paths` (aims the error and lost-response faults at
//!   calls whose path contains one of them, e.g. `/payouts`).
//! - `GET /v1/sandbox/faults/injected` — how many errors, lost responses, declines, refused
//!   refunds and failed payouts the switches injected since they were last set.
//! - `GET /v1/sandbox/webhooks` — every delivery: event, attempts, last status, state.
//! - `GET /v1/sandbox/ledger` — per order and in total: payments, captures, captured and
//!   refunded amounts.
//! - `GET /v1/sandbox/payouts` — every payout in the order made (id, reference, idempotency
//!   key, accounts, amount, mode, status, utr) and in total: payouts, processed, the amount
//!   processed, and failed (`failed` or `reversed`: no money moved).
//!
//! Architecture invariant: shares no code with the payment context, so the adapter is tested
//! against an independent implementation of the protocol.
//!
//! Inside the crate, modules depend on each other in one direction only, so each can be read
//! and changed without the ones built on it. At the bottom, `settings`, `ids`, `errors`,
//! `faults` and `pages` (the checkout's HTML, stylesheet and script) use no other module;
//! `webhooks` builds on `settings`, `ids` and `faults`; `state` gathers the settings, the
//! fault switches and the webhook dispatcher into one [`Sandbox`]; the handlers in `api` and
//! `control` work on `state`; `payouts` pays out on `state` behind `api`'s merchant
//! authentication; `checkout` answers the hosted checkout with `api`'s payment rules and
//! `pages`; and this root assembles the router.

mod api;
mod checkout;
mod control;
mod errors;
mod faults;
mod ids;
mod pages;
mod payouts;
mod settings;
mod state;
mod webhooks;

pub use settings::{
    DEFAULT_KEY_ID, DEFAULT_KEY_SECRET, DEFAULT_WEBHOOK_MAX_ATTEMPTS, DEFAULT_WEBHOOK_SECRET, SandboxSettings,
};
pub use state::Sandbox;

use axum::{Router, middleware, routing::get};
use std::future::Future;
use tokio::net::TcpListener;

/// The whole sandbox: the merchant API and hosted checkout, the test controls and the health
/// check, with the fault switches wrapped around all of them (the fault layer itself decides
/// which paths it leaves alone).
pub fn router(sandbox: Sandbox) -> Router {
    Router::new()
        .merge(api::routes())
        .merge(payouts::routes())
        .merge(checkout::routes())
        .merge(control::routes())
        .route("/healthz", get(|| async { "ok" }))
        .layer(middleware::from_fn_with_state(sandbox.faults.clone(), faults::inject))
        .with_state(sandbox)
}

/// Serves the sandbox on `listener` until `shutdown` resolves.
pub async fn run(
    listener: TcpListener,
    settings: SandboxSettings,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(Sandbox::new(settings));
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await
}
