//! HTTP adapter for a Razorpay-shaped payment gateway: orders, payments, capture, refunds,
//! and payouts to partners' bank accounts.
//! The same adapter talks to the local sandbox gateway and to the real one; only the
//! settings differ.

use serde::{Deserialize, Serialize};
use std::time::Duration;
use url::Url;

#[derive(Clone)]
pub struct GatewaySettings {
    pub base_url: Url,
    pub key_id: String,
    pub key_secret: String,
    pub timeout: Duration,
    /// The merchant's own account payouts are paid from (`TT_GATEWAY_PAYOUT_ACCOUNT`).
    pub payout_account: String,
}

impl std::fmt::Debug for GatewaySettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GatewaySettings")
            .field("base_url", &self.base_url.as_str())
            .field("key_id", &self.key_id)
            .field("key_secret", &"***")
            .field("timeout", &self.timeout)
            .field("payout_account", &self.payout_account)
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    /// The card or bank refused the payment: a business outcome, final for this attempt.
    #[error("payment declined: {description}")]
    Declined { code: String, description: String },
    /// The gateway refused the request itself (bad credentials, bad parameters, rate limit).
    #[error("gateway rejected the request ({status}): {code}: {description}")]
    Rejected { status: u16, code: String, description: String, reason: Option<String> },
    /// No answer, or an answer we could not read: the outcome is unknown.
    #[error("gateway unreachable or unreadable: {0}")]
    Transport(#[from] reqwest::Error),
    #[error("gateway answered {status}: {body}")]
    Unexpected { status: u16, body: String },
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Order {
    pub id: String,
    pub amount: i64,
    pub currency: String,
    pub receipt: Option<String>,
    pub status: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Payment {
    pub id: String,
    pub order_id: String,
    pub amount: i64,
    pub currency: String,
    /// As the gateway wrote it; [`Payment::gateway_status`] reads it.
    pub status: String,
    #[serde(default)]
    pub amount_refunded: i64,
    #[serde(default)]
    pub error_code: Option<String>,
    #[serde(default)]
    pub error_description: Option<String>,
}

/// Where a payment stands at the gateway.
/// A payout to make: to whom, how much, and the caller's reference.
pub struct NewPayout<'a> {
    pub amount: i64,
    pub currency: &'a str,
    pub account_name: &'a str,
    pub ifsc: &'a str,
    pub account_number: &'a str,
    pub contact_name: &'a str,
    /// At most 40 characters.
    pub reference_id: &'a str,
    /// At most 30 letters, digits and spaces, shown on the beneficiary's statement.
    pub narration: &'a str,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Payout {
    pub id: String,
    pub amount: i64,
    pub currency: String,
    /// `queued`, `pending`, `processing`, then `processed`, or `reversed`, `failed`,
    /// `rejected`, `cancelled` (no money moved).
    pub status: String,
    #[serde(default)]
    pub utr: Option<String>,
    #[serde(default)]
    pub reference_id: Option<String>,
    #[serde(default)]
    pub failure_reason: Option<String>,
}

impl Payout {
    /// The gateway will not change the payout any more.
    pub fn is_final(&self) -> bool {
        matches!(self.status.as_str(), "processed" | "reversed" | "failed" | "rejected" | "cancelled")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GatewayStatus {
    Created,
    /// Paid; the money is held until a capture takes it (or the authorisation lapses).
    Authorized,
    Captured,
    /// Captured, then refunded in full.
    Refunded,
    Failed,
    /// A status this adapter does not know: never read as money taken or held.
    Unknown,
}

impl GatewayStatus {
    /// The gateway's name for the status.
    fn parse(status: &str) -> Self {
        match status {
            "created" => GatewayStatus::Created,
            "authorized" => GatewayStatus::Authorized,
            "captured" => GatewayStatus::Captured,
            "refunded" => GatewayStatus::Refunded,
            "failed" => GatewayStatus::Failed,
            _ => GatewayStatus::Unknown,
        }
    }

    /// The payment's money was captured, whether or not it was refunded since.
    pub fn was_captured(self) -> bool {
        matches!(self, GatewayStatus::Captured | GatewayStatus::Refunded)
    }
}

impl Payment {
    pub fn gateway_status(&self) -> GatewayStatus {
        GatewayStatus::parse(&self.status)
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Refund {
    pub id: String,
    pub payment_id: String,
    pub amount: i64,
    pub currency: String,
    pub status: String,
}

#[derive(Deserialize)]
struct Collection<T> {
    items: Vec<T>,
}

#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Deserialize)]
struct ErrorDetail {
    code: String,
    description: String,
    #[serde(default)]
    reason: Option<String>,
}

impl GatewayError {
    /// The request itself is unusable (an invalid card token, say): sending it again cannot
    /// succeed. Authentication, permission, conflict and rate-limit answers are not final:
    /// they are fixed by configuration or time, so the caller retries them.
    pub fn is_final_rejection(&self) -> bool {
        matches!(self, GatewayError::Rejected { status: 400, reason: Some(reason), .. } if reason == "input_validation_failed")
    }
}

#[derive(Clone)]
pub struct GatewayClient {
    http: reqwest::Client,
    settings: GatewaySettings,
}

impl GatewayClient {
    pub fn new(settings: GatewaySettings) -> Result<Self, GatewayError> {
        let http = reqwest::Client::builder().timeout(settings.timeout).build()?;
        Ok(GatewayClient { http, settings })
    }

    /// Creates an order. With `capture_on_payment`, a payment made on the hosted checkout
    /// is captured by the gateway at once (nothing else would capture it).
    pub async fn create_order(
        &self,
        amount: i64,
        currency: &str,
        receipt: &str,
        capture_on_payment: bool,
    ) -> Result<Order, GatewayError> {
        let body = serde_json::json!({
            "amount": amount, "currency": currency, "receipt": receipt, "payment_capture": capture_on_payment,
        });
        self.send(self.http.post(self.url("v1/orders")).json(&body)).await
    }

    pub async fn order_payments(&self, order_id: &str) -> Result<Vec<Payment>, GatewayError> {
        let list: Collection<Payment> =
            self.send(self.http.get(self.url(&format!("v1/orders/{order_id}/payments")))).await?;
        Ok(list.items)
    }

    /// Pays an order with a card token (server-to-server); the payment ends `authorized`.
    pub async fn pay_with_card(
        &self,
        order_id: &str,
        amount: i64,
        currency: &str,
        card_token: &str,
    ) -> Result<Payment, GatewayError> {
        let body = serde_json::json!({
            "order_id": order_id, "amount": amount, "currency": currency, "method": "card", "token": card_token,
        });
        self.send(self.http.post(self.url("v1/payments/create/json")).json(&body)).await
    }

    pub async fn capture(&self, payment_id: &str, amount: i64, currency: &str) -> Result<Payment, GatewayError> {
        let body = serde_json::json!({ "amount": amount, "currency": currency });
        self.send(self.http.post(self.url(&format!("v1/payments/{payment_id}/capture"))).json(&body)).await
    }

    pub async fn payment(&self, payment_id: &str) -> Result<Payment, GatewayError> {
        self.send(self.http.get(self.url(&format!("v1/payments/{payment_id}")))).await
    }

    /// Refunds `amount` of a captured payment. The gateway applies one refund per
    /// idempotency key (at least 10 characters of letters, digits, `-` and `_`).
    pub async fn refund(&self, payment_id: &str, amount: i64, idempotency_key: &str) -> Result<Refund, GatewayError> {
        let body = serde_json::json!({ "amount": amount });
        let request = self
            .http
            .post(self.url(&format!("v1/payments/{payment_id}/refund")))
            .header("X-Refund-Idempotency", gateway_idempotency_key(idempotency_key))
            .json(&body);
        self.send(request).await
    }

    /// Every refund of a payment, including ones whose answer was lost on the way back.
    pub async fn payment_refunds(&self, payment_id: &str) -> Result<Vec<Refund>, GatewayError> {
        let list: Collection<Refund> =
            self.send(self.http.get(self.url(&format!("v1/payments/{payment_id}/refunds")))).await?;
        Ok(list.items)
    }

    /// Pays `amount` paise to a bank account, once per `idempotency_key` (4 to 36 letters,
    /// digits, `-` or `_`): the same key and body answer the same payout.
    pub async fn create_payout(&self, payout: &NewPayout<'_>, idempotency_key: &str) -> Result<Payout, GatewayError> {
        let body = serde_json::json!({
            "account_number": self.settings.payout_account,
            "amount": payout.amount,
            "currency": payout.currency,
            "mode": "NEFT",
            "purpose": "payout",
            "queue_if_low_balance": true,
            "reference_id": payout.reference_id,
            "narration": payout.narration,
            "fund_account": {
                "account_type": "bank_account",
                "bank_account": { "name": payout.account_name, "ifsc": payout.ifsc, "account_number": payout.account_number },
                "contact": { "name": payout.contact_name, "type": "vendor", "reference_id": payout.reference_id },
            },
        });
        let request =
            self.http.post(self.url("v1/payouts")).header("X-Payout-Idempotency", idempotency_key).json(&body);
        self.send(request).await
    }

    pub async fn payout(&self, payout_id: &str) -> Result<Payout, GatewayError> {
        self.send(self.http.get(self.url(&format!("v1/payouts/{payout_id}")))).await
    }

    fn url(&self, path: &str) -> Url {
        self.settings.base_url.join(path).unwrap_or_else(|_| self.settings.base_url.clone())
    }

    async fn send<T: for<'de> Deserialize<'de>>(&self, request: reqwest::RequestBuilder) -> Result<T, GatewayError> {
        let response = request.basic_auth(&self.settings.key_id, Some(&self.settings.key_secret)).send().await?;
        let status = response.status();
        if status.is_success() {
            return Ok(response.json().await?);
        }
        let body = response.text().await.unwrap_or_default();
        match serde_json::from_str::<ErrorBody>(&body) {
            Ok(ErrorBody { error }) if error.reason.as_deref() == Some("payment_declined") => {
                Err(GatewayError::Declined { code: error.code, description: error.description })
            }
            Ok(ErrorBody { error }) if status.is_client_error() => Err(GatewayError::Rejected {
                status: status.as_u16(),
                code: error.code,
                description: error.description,
                reason: error.reason,
            }),
            _ => Err(GatewayError::Unexpected { status: status.as_u16(), body: body.chars().take(500).collect() }),
        }
    }
}

/// Maps a workflow-derived key onto the gateway's alphabet (letters, digits, `-`, `_`),
/// keeping it deterministic so a retry sends the same key.
pub fn gateway_idempotency_key(key: &str) -> String {
    let mapped: String =
        key.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect();
    if mapped.len() >= 10 { mapped } else { format!("{mapped:_<10}") }
}

#[cfg(test)]
mod tests {
    use super::{GatewayStatus, gateway_idempotency_key};

    #[test]
    fn gateway_statuses_read_by_their_names() {
        let read = |name| GatewayStatus::parse(name);
        assert_eq!(read("authorized"), GatewayStatus::Authorized);
        assert!(read("captured").was_captured() && read("refunded").was_captured());
        assert!(!read("authorized").was_captured() && !read("failed").was_captured());
        assert_eq!(read("disputed"), GatewayStatus::Unknown);
        assert!(!read("disputed").was_captured());
    }

    #[test]
    fn idempotency_keys_fit_the_gateway_alphabet_and_length() {
        assert_eq!(gateway_idempotency_key("booking-TRP-ABCDEF/charge/pay_1"), "booking-TRP-ABCDEF_charge_pay_1");
        assert_eq!(gateway_idempotency_key("a/b"), "a_b_______");
    }
}
