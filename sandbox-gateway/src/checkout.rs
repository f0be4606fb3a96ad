//! The hosted checkout: what the traveller's browser talks to, without credentials (the order
//! id is all it knows). Each route answers two kinds of caller: a JSON client (the platform's
//! tests, scripts) gets the gateway's JSON, and a browser gets pages and, after paying, a
//! `303 See Other` back to the merchant's `callback_url`, as the real gateway's redirect flow
//! does. Both pay through the same payment rules in `api`.

use crate::{
    api::checkout_payment,
    errors::{Answer, Body, GatewayError},
    pages::{self, OrderView},
    state::{Payment, Sandbox},
    webhooks::sign,
};
use axum::{
    Form, Json, Router,
    extract::{FromRequest, Path, Query, Request, State, rejection::QueryRejection},
    http::{
        HeaderMap, HeaderValue, StatusCode,
        header::{ACCEPT, CONTENT_TYPE, LOCATION},
    },
    response::{IntoResponse, Response},
    routing::{get, post},
};
use reqwest::Url;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

pub(crate) fn routes() -> Router<Sandbox> {
    Router::new()
        .route(pages::STYLESHEET_PATH, get(pages::stylesheet))
        .route(pages::SCRIPT_PATH, get(pages::script))
        .route("/v1/checkout/{order_id}", get(checkout_page))
        .route("/v1/checkout/{order_id}/pay", post(checkout_pay))
}

/// What the merchant's page appends to the checkout link.
#[derive(Deserialize)]
struct PageQuery {
    callback_url: Option<String>,
}

/// The checkout page: HTML for a browser, the order's JSON for anyone else. A query the
/// browser's page cannot read is only a problem for the page; the JSON answer ignores it.
async fn checkout_page(
    State(sandbox): State<Sandbox>,
    Path(order_id): Path<String>,
    headers: HeaderMap,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> Response {
    if !prefers_html(&headers) {
        return order_json(&sandbox, &order_id).into_response();
    }
    let callback = query
        .map_err(|rejection| format!("The checkout link's query cannot be read: {}", rejection.body_text()))
        .and_then(|Query(query)| callback_url(query.callback_url.as_deref()));
    match callback {
        Ok(callback) => order_page(&sandbox, &order_id, callback.as_ref()),
        Err(problem) => pages::bad_request(&problem),
    }
}

/// What the hosted checkout shows about the order, as JSON.
fn order_json(sandbox: &Sandbox, order_id: &str) -> Answer<Value> {
    let books = sandbox.books();
    let order = books.orders.get(order_id).ok_or_else(|| GatewayError::not_found(order_id))?;
    Ok(Json(json!({
        "order_id": order.id,
        "amount": order.amount,
        "amount_paid": order.amount_paid,
        "amount_due": order.amount_due,
        "currency": order.currency,
        "status": order.status,
        "receipt": order.receipt,
    })))
}

/// The page for the order: the form to pay it, or, once it is paid, the word that it is.
fn order_page(sandbox: &Sandbox, order_id: &str, callback: Option<&Url>) -> Response {
    let (view, paid) = {
        let books = sandbox.books();
        let Some(order) = books.orders.get(order_id) else { return pages::not_found(order_id) };
        let view = OrderView {
            id: order.id.clone(),
            amount: order.amount,
            currency: order.currency.clone(),
            receipt: order.receipt.clone(),
        };
        (view, order.status == "paid")
    };
    if paid { pages::paid(&view, callback) } else { pages::checkout(&view, callback) }
}

/// A browser navigating asks for `text/html`; API clients send no `Accept`, `*/*` or
/// `application/json`, and keep getting JSON.
fn prefers_html(headers: &HeaderMap) -> bool {
    headers
        .get_all(ACCEPT)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .any(|value| value.to_ascii_lowercase().contains("text/html"))
}

/// The longest `callback_url` taken: far more than any merchant page needs, and short enough
/// that the redirect built on it stays within what browsers and proxies accept.
const MAX_CALLBACK_LEN: usize = 2000;

/// Where the traveller returns after paying: the merchant's own page, so an absolute
/// `http://` or `https://` URL and nothing else. A bad one is the merchant's bug, better
/// shown on the page at once than found after the traveller has paid. No `callback_url` is
/// fine: the payment then ends on the gateway's own result page.
fn callback_url(raw: Option<&str>) -> Result<Option<Url>, String> {
    let Some(raw) = raw else { return Ok(None) };
    let shown: String = raw.chars().take(200).collect();
    let ellipsis = if shown.len() < raw.len() { "…" } else { "" };
    let problem = |what: &str| {
        format!(
            "The callback_url {what}: it must be the absolute http:// or https:// URL of the merchant's page. \
             Given: {shown}{ellipsis}"
        )
    };
    if raw.is_empty() {
        return Err(problem("is empty"));
    }
    if raw.len() > MAX_CALLBACK_LEN {
        return Err(problem(&format!("is longer than {MAX_CALLBACK_LEN} characters")));
    }
    // The URL parser forgives spaces, tabs and newlines and a missing `//`; a link that
    // needed forgiving is not one to send the traveller to.
    if raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(problem("contains spaces or control characters"));
    }
    let lower = raw.to_ascii_lowercase();
    if !(lower.starts_with("http://") || lower.starts_with("https://")) {
        return Err(problem("does not start with http:// or https://"));
    }
    let url = Url::parse(raw).map_err(|e| problem(&format!("is not a valid URL ({e})")))?;
    if url.host_str().is_none_or(str::is_empty) {
        return Err(problem("has no host"));
    }
    Ok(Some(url))
}

#[derive(Deserialize)]
struct CheckoutPayment {
    card_token: String,
}

/// The checkout's answer: the payment, plus what the gateway's checkout hands the
/// merchant's page to prove the payment came from it (`razorpay_signature` is hex
/// HMAC-SHA256 of `order_id|payment_id` under the key secret).
#[derive(Serialize)]
struct CheckoutResult {
    #[serde(flatten)]
    payment: Payment,
    razorpay_payment_id: String,
    razorpay_order_id: String,
    razorpay_signature: String,
}

/// The traveller pays: the page's form (form-encoded) is answered with a redirect or a
/// result page, anything else as the JSON API.
async fn checkout_pay(State(sandbox): State<Sandbox>, Path(order_id): Path<String>, request: Request) -> Response {
    if is_form(request.headers()) {
        pay_from_form(&sandbox, &order_id, request).await
    } else {
        pay_from_json(&sandbox, &order_id, request).await.into_response()
    }
}

fn is_form(headers: &HeaderMap) -> bool {
    let content_type = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim();
    essence.eq_ignore_ascii_case("application/x-www-form-urlencoded")
}

/// `{"card_token": "tok_…"}`: the payment and its signature, or the gateway's error (a
/// declined card, a paid order) as a 400.
async fn pay_from_json(sandbox: &Sandbox, order_id: &str, request: Request) -> Answer<CheckoutResult> {
    let Body(body) = Body::<CheckoutPayment>::from_request(request, sandbox).await?;
    pay(sandbox, order_id, &body.card_token).map(Json)
}

/// The page's form. A missing card token is left empty so the payment rules refuse it as
/// they refuse any invalid token.
#[derive(Deserialize)]
struct FormPayment {
    #[serde(default)]
    card_token: String,
    callback_url: Option<String>,
}

/// The form's payment, answered as the real gateway's redirect flow does: `303 See Other` to
/// the merchant's `callback_url` with the signed payment or the error in the query. Without
/// a `callback_url`, the gateway's own result page. A bad `callback_url` is refused before
/// anything is paid: the traveller could not be sent back.
async fn pay_from_form(sandbox: &Sandbox, order_id: &str, request: Request) -> Response {
    let form = match Form::<FormPayment>::from_request(request, sandbox).await {
        Ok(Form(form)) => form,
        Err(rejection) => {
            return pages::bad_request(&format!("The payment form cannot be read: {}", rejection.body_text()));
        }
    };
    let callback = match callback_url(form.callback_url.as_deref()) {
        Ok(callback) => callback,
        Err(problem) => return pages::bad_request(&problem),
    };
    let outcome = pay(sandbox, order_id, &form.card_token);
    match (outcome, callback) {
        (Ok(paid), Some(callback)) => see_other(&paid_redirect(&callback, &paid)),
        (Err(error), Some(callback)) => see_other(&refused_redirect(&callback, order_id, &error)),
        (Ok(paid), None) => {
            let payment = &paid.payment;
            pages::payment_taken(order_id, &payment.id, payment.amount, &payment.currency)
        }
        (Err(error), None) => pages::payment_refused(error.status(), order_id, error.is_decline(), error.description()),
    }
}

/// One checkout payment, signed for the merchant's page when the bank took it.
fn pay(sandbox: &Sandbox, order_id: &str, card_token: &str) -> Result<CheckoutResult, GatewayError> {
    let payment = checkout_payment(sandbox, order_id, card_token)?;
    let signature = sign(&sandbox.settings.key_secret, format!("{}|{}", order_id, payment.id).as_bytes());
    Ok(CheckoutResult {
        razorpay_payment_id: payment.id.clone(),
        razorpay_order_id: order_id.to_owned(),
        razorpay_signature: signature,
        payment,
    })
}

/// `<callback_url>?razorpay_payment_id=…&razorpay_order_id=…&razorpay_signature=…`, the
/// three fields the merchant verifies the payment by.
fn paid_redirect(callback: &Url, paid: &CheckoutResult) -> Url {
    with_query(
        callback,
        &[
            ("razorpay_payment_id", &paid.razorpay_payment_id),
            ("razorpay_order_id", &paid.razorpay_order_id),
            ("razorpay_signature", &paid.razorpay_signature),
        ],
    )
}

/// `<callback_url>?error[code]=…&error[description]=…&error[reason]=payment_failed&razorpay_order_id=…`,
/// the gateway's error in the shape its redirect flow reports a failed payment in.
fn refused_redirect(callback: &Url, order_id: &str, error: &GatewayError) -> Url {
    with_query(
        callback,
        &[
            ("error[code]", error.code()),
            ("error[description]", error.description()),
            ("error[reason]", "payment_failed"),
            ("razorpay_order_id", order_id),
        ],
    )
}

/// The callback with `fields` appended to whatever query it already has, form-encoded
/// (brackets included).
fn with_query(callback: &Url, fields: &[(&str, &str)]) -> Url {
    let mut url = callback.clone();
    url.query_pairs_mut().extend_pairs(fields);
    url
}

/// The redirect back to the merchant. A parsed URL is always a valid header value; were it
/// not, the traveller gets a page rather than a panic.
fn see_other(location: &Url) -> Response {
    match HeaderValue::from_str(location.as_str()) {
        Ok(location) => (StatusCode::SEE_OTHER, [(LOCATION, location)]).into_response(),
        Err(_) => pages::bad_request("The callback_url cannot be used as a redirect"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callback_urls_are_absolute_web_addresses() {
        for good in
            ["http://127.0.0.1:8080/b/1", "https://shop.example/bookings/B1?lang=en#top", "HTTPS://Shop.Example/"]
        {
            assert!(matches!(callback_url(Some(good)), Ok(Some(_))), "{good}");
        }
        for bad in [
            "",
            "/bookings/1",
            "javascript:alert(1)",
            "ftp://shop.example/",
            "http:shop.example",
            "http:/shop.example",
            "https://",
            "https://shop.example/a b",
            "https://shop.example/\n",
            "data:text/html,<p>",
        ] {
            assert!(callback_url(Some(bad)).is_err(), "{bad:?}");
        }
        assert!(matches!(callback_url(None), Ok(None)));
    }

    #[test]
    fn redirect_fields_join_the_callback_query() {
        let callback = Url::parse("https://shop.example/b?lang=en#top").unwrap();
        let url = with_query(&callback, &[("error[code]", "BAD_REQUEST_ERROR"), ("error[description]", "a & b")]);
        assert_eq!(
            url.as_str(),
            "https://shop.example/b?lang=en&error%5Bcode%5D=BAD_REQUEST_ERROR&error%5Bdescription%5D=a+%26+b#top"
        );
        let bare = with_query(&Url::parse("https://shop.example/b").unwrap(), &[("razorpay_order_id", "order_1")]);
        assert_eq!(bare.as_str(), "https://shop.example/b?razorpay_order_id=order_1");
    }
}
