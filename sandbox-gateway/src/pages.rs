//! The hosted checkout's pages for the traveller's browser: plain HTML built from escaped
//! strings, one served stylesheet and one served script, so the page can run under a strict
//! Content-Security-Policy with no inline code. It only renders what it is given; which page
//! to show, and the payment behind it, are decided in `checkout`.

use axum::{
    http::{
        HeaderValue, StatusCode,
        header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, X_CONTENT_TYPE_OPTIONS},
    },
    response::{IntoResponse, Response},
};
use reqwest::Url;

/// Who the traveller is paying: the sandbox stands in for this one merchant's account.
const MERCHANT: &str = "Tripura Tourism";

pub(crate) const STYLESHEET_PATH: &str = "/v1/checkout/assets/checkout.css";
pub(crate) const SCRIPT_PATH: &str = "/v1/checkout/assets/checkout.js";

/// The sandbox's test cards as the page offers them: (token, label). The tokens are ones the
/// payment rules already know: `tok_decline` and `tok_insufficient_funds` are declined, any
/// other is authorised.
const TEST_CARDS: &[(&str, &str)] = &[
    ("tok_success", "Visa •••• 1111 — pays"),
    ("tok_decline", "Mastercard •••• 0002 — declined"),
    ("tok_insufficient_funds", "Visa •••• 9995 — declined, insufficient funds"),
];

/// What the pages show of an order.
pub(crate) struct OrderView {
    pub id: String,
    pub amount: i64,
    pub currency: String,
    pub receipt: Option<String>,
}

/// The page to pay the order on: its summary and a form with the test cards. The form posts
/// back to the gateway, carrying the merchant's `callback_url` along.
pub(crate) fn checkout(order: &OrderView, callback: Option<&Url>) -> Response {
    let amount = money(order.amount, &order.currency);
    let cards: String = TEST_CARDS
        .iter()
        .enumerate()
        .map(|(i, (token, label))| {
            let checked = if i == 0 { " checked" } else { "" };
            format!(
                "<div class=\"card\"><input type=\"radio\" id=\"card-{i}\" name=\"card_token\" value=\"{}\"{checked}>\
                 <label for=\"card-{i}\">{}</label></div>\n",
                escape_html(token),
                escape_html(label),
            )
        })
        .collect();
    let hidden = callback.map_or_else(String::new, |url| {
        format!("<input type=\"hidden\" name=\"callback_url\" value=\"{}\">\n", escape_html(url.as_str()))
    });
    let content = format!(
        "<h1>Pay {merchant}</h1>\n{summary}\
         <form method=\"post\" action=\"/v1/checkout/{id}/pay\" data-pay>\n{hidden}\
         <fieldset>\n<legend>Choose a test card</legend>\n{cards}</fieldset>\n\
         <button type=\"submit\">Pay {amount}</button>\n</form>\n",
        merchant = escape_html(MERCHANT),
        summary = summary(order),
        id = escape_html(&order.id),
        amount = escape_html(&amount),
    );
    let title = format!("Pay {amount} — {MERCHANT}");
    page(StatusCode::OK, &title, &content, callback)
}

/// An order already paid: nothing left to pay, so no form, and the way back to the merchant.
pub(crate) fn paid(order: &OrderView, callback: Option<&Url>) -> Response {
    let content = format!(
        "<h1>This order is paid</h1>\n<p class=\"status ok\">{merchant} has received the payment. \
         There is nothing more to pay.</p>\n{summary}{back}",
        merchant = escape_html(MERCHANT),
        summary = summary(order),
        back = back_to_merchant(callback),
    );
    page(StatusCode::OK, "Order paid — Tripura Tourism", &content, None)
}

/// Where a payment made without a `callback_url` ends: the gateway's own word on it.
pub(crate) fn payment_taken(order_id: &str, payment_id: &str, amount: i64, currency: &str) -> Response {
    let content = format!(
        "<h1>Payment successful</h1>\n<p class=\"status ok\">{amount} paid to {merchant}.</p>\n\
         <dl class=\"summary\">\n<div><dt>Payment</dt><dd><code>{payment}</code></dd></div>\n\
         <div><dt>Order</dt><dd><code>{order}</code></dd></div>\n</dl>\n",
        amount = escape_html(&money(amount, currency)),
        merchant = escape_html(MERCHANT),
        payment = escape_html(payment_id),
        order = escape_html(order_id),
    );
    page(StatusCode::OK, "Payment successful — Tripura Tourism", &content, None)
}

/// Where a refused payment made without a `callback_url` ends: what the gateway said, and the
/// way back to the checkout to try again. `declined` tells a card the bank declined from a
/// payment the gateway would not take (the order already paid, say).
pub(crate) fn payment_refused(status: StatusCode, order_id: &str, declined: bool, description: &str) -> Response {
    let heading = if declined { "Payment declined" } else { "Payment not taken" };
    let content = format!(
        "<h1>{heading}</h1>\n<p class=\"status bad\">{heading}: {description}</p>\n\
         <p><a href=\"/v1/checkout/{order}\">Back to the checkout</a></p>\n",
        description = escape_html(description),
        order = escape_html(order_id),
    );
    page(status, &format!("{heading} — {MERCHANT}"), &content, None)
}

/// No such order: the link the traveller followed is wrong or from another gateway.
pub(crate) fn not_found(order_id: &str) -> Response {
    let content = format!(
        "<h1>Order not found</h1>\n<p>There is no order <code>{}</code> on this gateway. \
         Check the link you followed.</p>\n",
        escape_html(order_id),
    );
    page(StatusCode::NOT_FOUND, "Order not found — Tripura Tourism", &content, None)
}

/// A request the page cannot act on (a bad `callback_url`, an unreadable form), named so
/// the merchant's developer can fix the link.
pub(crate) fn bad_request(problem: &str) -> Response {
    let content =
        format!("<h1>This checkout link cannot be used</h1>\n<p class=\"status bad\">{}</p>\n", escape_html(problem),);
    page(StatusCode::BAD_REQUEST, "Checkout link not usable — Tripura Tourism", &content, None)
}

/// The order's amount, receipt and id, as every page about an order shows them.
fn summary(order: &OrderView) -> String {
    let receipt = order
        .receipt
        .as_deref()
        .map_or_else(String::new, |receipt| format!("<div><dt>Receipt</dt><dd>{}</dd></div>\n", escape_html(receipt)));
    format!(
        "<dl class=\"summary\">\n<div class=\"total\"><dt>Amount</dt><dd>{amount}</dd></div>\n{receipt}\
         <div><dt>Order</dt><dd><code>{id}</code></dd></div>\n</dl>\n",
        amount = escape_html(&money(order.amount, &order.currency)),
        id = escape_html(&order.id),
    )
}

fn back_to_merchant(callback: Option<&Url>) -> String {
    callback.map_or_else(String::new, |url| {
        format!("<p><a class=\"button\" href=\"{}\">Return to {MERCHANT}</a></p>\n", escape_html(url.as_str()))
    })
}

/// One whole page around `content`, with the headers every page carries: not cached (an
/// order's page changes once it is paid), not sniffed, and under a policy that lets only
/// the gateway's own stylesheet and script run.
fn page(status: StatusCode, title: &str, content: &str, form_to: Option<&Url>) -> Response {
    let html = format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n<link rel=\"stylesheet\" href=\"{STYLESHEET_PATH}\">\n\
         <script src=\"{SCRIPT_PATH}\" defer></script>\n</head>\n<body>\n\
         <header class=\"top\"><p><span class=\"merchant\">{merchant}</span> \
         <span class=\"tag\">Sandbox gateway</span></p></header>\n\
         <main>\n{content}</main>\n\
         <footer><p>A test payment page: only the sandbox's test cards work, and no money moves.</p></footer>\n\
         </body>\n</html>\n",
        title = escape_html(title),
        merchant = escape_html(MERCHANT),
    );
    let mut response = (status, html).into_response();
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if let Ok(policy) = HeaderValue::from_str(&content_security_policy(form_to)) {
        headers.insert(CONTENT_SECURITY_POLICY, policy);
    }
    response
}

/// Nothing but the gateway's own stylesheet and script, no framing, no `<base>`. Forms may
/// post to the gateway and, since browsers apply `form-action` to the redirect that follows
/// a submission too, to the origin of the merchant page the payment returns to. An origin
/// the policy's grammar cannot name (an IPv6 literal, a host with unusual characters) leaves
/// `form-action` out rather than block the way back.
fn content_security_policy(form_to: Option<&Url>) -> String {
    let base = "default-src 'none'; script-src 'self'; style-src 'self'; base-uri 'none'; frame-ancestors 'none'";
    let origin = form_to.map(|url| url.origin().ascii_serialization());
    match origin {
        None => format!("{base}; form-action 'self'"),
        Some(origin) if is_policy_source(&origin) => format!("{base}; form-action 'self' {origin}"),
        Some(_) => base.to_owned(),
    }
}

/// A `scheme://host[:port]` the policy can carry as it is: letters, digits, dots, dashes.
fn is_policy_source(origin: &str) -> bool {
    let Some((scheme, rest)) = origin.split_once("://") else { return false };
    let (host, port) = rest.split_once(':').unwrap_or((rest, "0"));
    matches!(scheme, "http" | "https")
        && !host.is_empty()
        && host.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
        && !port.is_empty()
        && port.chars().all(|c| c.is_ascii_digit())
}

/// The page's stylesheet: readable on a phone and on a desktop, AA contrast, and a focus
/// ring that shows where the keyboard is.
pub(crate) async fn stylesheet() -> Response {
    asset("text/css; charset=utf-8", STYLESHEET)
}

/// The page's script: it only keeps a double click from submitting the payment twice. The
/// gateway refuses a second payment on a paid order anyway; this spares the traveller the
/// refusal.
pub(crate) async fn script() -> Response {
    asset("text/javascript; charset=utf-8", SCRIPT)
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    response
}

const STYLESHEET: &str = r#"*, *::before, *::after { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; text-size-adjust: 100%; }
body {
  margin: 0;
  font: 1rem/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif;
  color: #1b1f24;
  background: #eef1f4;
}
header.top, main, footer { max-width: 32rem; margin: 0 auto; }
header.top, footer { padding: 0.75rem 1.25rem; }
header.top p, footer p { margin: 0; }
.merchant { font-weight: 700; }
.tag {
  margin-left: 0.5rem; padding: 0.1rem 0.5rem; border-radius: 1rem;
  background: #fff; border: 1px solid #5c6570; font-size: 0.8125rem; color: #3d4550;
}
main {
  background: #fff; padding: 1.5rem 1.25rem; border-radius: 0.75rem;
  box-shadow: 0 1px 3px rgb(0 0 0 / 0.15);
}
footer { color: #3d4550; font-size: 0.875rem; }
h1 { font-size: 1.5rem; line-height: 1.25; margin: 0 0 1rem; }
code { font: 0.9375rem/1.4 ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; overflow-wrap: anywhere; }
.summary { margin: 0 0 1.25rem; }
.summary div { display: flex; justify-content: space-between; align-items: baseline; gap: 1rem; padding: 0.375rem 0; border-bottom: 1px solid #d5dae0; }
.summary dt { color: #3d4550; }
.summary dd { margin: 0; text-align: right; overflow-wrap: anywhere; min-width: 0; }
.summary .total dd { font-size: 1.25rem; font-weight: 700; }
fieldset { border: 0; margin: 0 0 1.25rem; padding: 0; min-width: 0; }
legend { font-weight: 700; margin-bottom: 0.5rem; padding: 0; }
.card { position: relative; display: flex; align-items: center; gap: 0.75rem; margin-bottom: 0.5rem; }
.card input { position: absolute; left: 1rem; width: 1.25rem; height: 1.25rem; margin: 0; accent-color: #0b5394; }
.card label {
  flex: 1; padding: 0.875rem 1rem 0.875rem 3rem; border: 1px solid #6b737d; border-radius: 0.5rem;
  cursor: pointer; min-height: 3rem;
}
.card input:checked + label { border: 2px solid #0b5394; background: #eef4fb; padding: calc(0.875rem - 1px) calc(1rem - 1px) calc(0.875rem - 1px) calc(3rem - 1px); }
button, .button {
  display: inline-block; width: 100%; padding: 0.875rem 1rem; border: 0; border-radius: 0.5rem;
  background: #0b5394; color: #fff; font: inherit; font-weight: 700; text-align: center;
  text-decoration: none; cursor: pointer; min-height: 3rem;
}
button:hover, .button:hover { background: #083d6e; }
button:disabled { background: #5c6570; cursor: progress; }
a { color: #0b5394; }
:focus-visible { outline: 3px solid #b34700; outline-offset: 2px; }
.card input:focus-visible + label { outline: 3px solid #b34700; outline-offset: 2px; }
.status { padding: 0.75rem 1rem; border-radius: 0.5rem; border-left: 4px solid; }
.status.ok { background: #e9f5ec; border-color: #1e6b3a; color: #14452a; }
.status.bad { background: #fbeceb; border-color: #a1261b; color: #6e1a12; }
@media (min-width: 40rem) {
  body { padding-top: 2rem; }
  main { padding: 2rem; }
}
@media (max-width: 30rem) {
  main { border-radius: 0; box-shadow: none; }
}
"#;

const SCRIPT: &str = r#"// Keeps a double click (or a second Enter) from submitting the payment twice: the first
// submission disables the button until the browser leaves the page. Coming back to the page
// from the history enables it again.
"use strict";
for (const form of document.querySelectorAll("form[data-pay]")) {
  form.addEventListener("submit", (event) => {
    if (form.dataset.submitted) {
      event.preventDefault();
      return;
    }
    form.dataset.submitted = "true";
    form.setAttribute("aria-busy", "true");
    const button = form.querySelector("button[type=submit]");
    if (button) {
      button.dataset.label = button.textContent;
      button.disabled = true;
      button.textContent = "Paying…";
    }
  });
}
window.addEventListener("pageshow", (event) => {
  if (!event.persisted) return;
  for (const form of document.querySelectorAll("form[data-pay]")) {
    delete form.dataset.submitted;
    form.removeAttribute("aria-busy");
    const button = form.querySelector("button[type=submit]");
    if (button) {
      button.disabled = false;
      button.textContent = button.dataset.label || button.textContent;
    }
  }
});
"#;

/// Escapes text for HTML element content and double- or single-quoted attribute values.
pub(crate) fn escape_html(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    escaped
}

/// An amount in the currency's minor unit (paise) as people read it: rupees with the Indian
/// grouping (1234567 → "₹12,345.67"); another currency by its code, grouped in thousands.
pub(crate) fn money(minor_units: i64, currency: &str) -> String {
    let sign = if minor_units < 0 { "-" } else { "" };
    let units = minor_units.unsigned_abs();
    let (whole, fraction) = (units / 100, units % 100);
    if currency.eq_ignore_ascii_case("INR") {
        format!("{sign}₹{}.{fraction:02}", grouped(whole, 2))
    } else {
        format!("{sign}{currency} {}.{fraction:02}", grouped(whole, 3))
    }
}

/// The digits with a comma before the last three and then every `size` digits: 2 gives the
/// Indian lakh/crore grouping, 3 the international one.
fn grouped(whole: u64, size: usize) -> String {
    let digits = whole.to_string();
    let (mut rest, last) = digits.split_at(digits.len().saturating_sub(3));
    let mut groups = vec![last];
    while !rest.is_empty() {
        let (head, group) = rest.split_at(rest.len().saturating_sub(size));
        groups.push(group);
        rest = head;
    }
    groups.reverse();
    groups.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_read_as_rupees_with_indian_grouping() {
        assert_eq!(money(1_234_567, "INR"), "₹12,345.67");
        assert_eq!(money(100, "INR"), "₹1.00");
        assert_eq!(money(5, "INR"), "₹0.05");
        assert_eq!(money(12_345_678_901, "INR"), "₹12,34,56,789.01");
        assert_eq!(money(123_456_789, "USD"), "USD 1,234,567.89");
        assert_eq!(money(-250_000, "INR"), "-₹2,500.00");
    }

    #[test]
    fn escaping_leaves_no_markup() {
        assert_eq!(
            escape_html(r#"<a href="x" title='y'>&</a>"#),
            "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;"
        );
    }

    #[test]
    fn form_action_names_the_callback_origin_when_the_policy_can() {
        let shop = Url::parse("https://shop.example:8443/bookings/1?x=1").ok();
        assert!(content_security_policy(shop.as_ref()).ends_with("form-action 'self' https://shop.example:8443"));
        assert!(content_security_policy(None).ends_with("form-action 'self'"));
        let ipv6 = Url::parse("http://[::1]:3000/b").ok();
        assert!(!content_security_policy(ipv6.as_ref()).contains("form-action"));
    }
}
