//! Payments: the gateway's webhooks. An event is believed only with a valid signature over
//! its raw body and a recent `created_at` inside it; each event is applied once however
//! often it is delivered, by its id or (the id is not signed) by its body; a payment
//! event wakes the booking saga waiting for it, or, when no saga waits any more, starts the
//! automatic refund of that payment.

use crate::{
    access::Public,
    error::ApiError,
    state::AppState,
    use_cases::payment_event::{PaymentFacts, apply_payment_event},
};
use axum::{
    Json,
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode},
};
use chrono::Utc;
use hmac::{Hmac, Mac};
use payment::WebhookEvent;
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use utoipa_axum::{router::OpenApiRouter, routes};

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(gateway_webhook))
}

/// Events older than this are refused even with a valid signature: the gateway stops
/// redelivering after a day, so an older one can only be a replay.
const MAX_EVENT_AGE_SECS: i64 = 48 * 3600;
/// Clocks differ a little; an event from further in the future was not made by the gateway now.
const MAX_CLOCK_SKEW_SECS: i64 = 300;

#[derive(Debug, Deserialize)]
struct Event {
    event: String,
    /// When the gateway made the event (Unix seconds), inside the signed body: required,
    /// so that a signed event cannot be replayed for ever.
    #[serde(default)]
    created_at: Option<i64>,
    #[serde(default)]
    payload: Value,
}

/// Checks `X-Razorpay-Signature`: hex HMAC-SHA256 of the raw body, compared in constant time.
fn signature_is_valid(secret: &str, body: &[u8], headers: &HeaderMap) -> bool {
    let Some(given) = headers.get("x-razorpay-signature").and_then(|v| v.to_str().ok()) else { return false };
    let Ok(given) = hex::decode(given.trim()) else { return false };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else { return false };
    mac.update(body);
    mac.verify_slice(&given).is_ok()
}

/// Receives the gateway's webhooks (payment.authorized, payment.captured, order.paid, …).
/// Answers 2xx once the event is applied or known, so the gateway stops redelivering.
#[utoipa::path(post, path = "/webhooks/gateway", tag = "payments", security(("gateway_signature" = [])),
    request_body(content = Object, content_type = "application/json", description = "A Razorpay-shaped event"),
    params(("X-Razorpay-Signature" = String, Header, description = "hex HMAC-SHA256 of the raw body"),
        ("X-Razorpay-Event-Id" = String, Header, description = "The event's id; redeliveries repeat it")),
    responses((status = 200, description = "Applied, or already applied"),
        (status = 400, description = "Unreadable event, or created_at missing, stale or in the future"), (status = 401, description = "Bad or missing signature"),
        (status = 503, description = "Temporal or the database is away; the gateway redelivers")))]
pub(crate) async fn gateway_webhook(
    _: Public,
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    if !signature_is_valid(state.payments_config.webhook_secret.expose(), &body, &headers) {
        tracing::warn!(bytes = body.len(), "webhook refused: missing or invalid signature");
        metrics::counter!("payment_webhooks_total", "outcome" => "bad_signature").increment(1);
        // Counted for the operators' inbox too; a database blip must not turn the refusal
        // into a 5xx the gateway would redeliver.
        if let Err(e) = state.payments.count_bad_signature().await {
            tracing::warn!(error = %e, "could not count a webhook refused for its signature");
        }
        return Err(ApiError::unauthorized("invalid_signature", "The webhook signature does not verify"));
    }
    let event: Event = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request("malformed_event", format!("The event is not readable: {e}")))?;
    let event_id = headers
        .get("x-razorpay-event-id")
        .and_then(|v| v.to_str().ok())
        .filter(|id| !id.is_empty() && id.len() <= 100)
        .ok_or_else(|| ApiError::bad_request("missing_event_id", "X-Razorpay-Event-Id is required"))?
        .to_string();
    let created_at =
        event.created_at.ok_or_else(|| ApiError::bad_request("missing_created_at", "The event has no created_at"))?;
    let age = Utc::now().timestamp() - created_at;
    if !(-MAX_CLOCK_SKEW_SECS..=MAX_EVENT_AGE_SECS).contains(&age) {
        tracing::warn!(%event_id, age, "webhook refused: stale or future event (a replay?)");
        metrics::counter!("payment_webhooks_total", "outcome" => "stale").increment(1);
        return Err(ApiError::bad_request("stale_event", "The event's created_at is too old or in the future"));
    }
    let body_sha256 = Sha256::digest(&body);
    let facts = PaymentFacts::of(&event.payload);
    let record = WebhookEvent {
        event_id: &event_id,
        body_sha256: body_sha256.as_slice(),
        event: &event.event,
        gateway_order_id: facts.order_id.as_deref(),
        gateway_payment_id: facts.payment_id.as_deref(),
        amount_paise: facts.amount,
    };
    if !state.payments.receive_webhook(&record).await? {
        metrics::counter!("payment_webhooks_total", "outcome" => "duplicate").increment(1);
        return Ok((StatusCode::OK, Json(json!({ "status": "duplicate" }))));
    }
    let (outcome, detail) = apply_payment_event(&state, &event.event, facts).await?;
    state.payments.webhook_applied(&event_id, outcome, &detail).await?;
    metrics::counter!("payment_webhooks_total", "outcome" => outcome.as_str()).increment(1);
    tracing::info!(%event_id, event = %event.event, outcome = outcome.as_str(), %detail, "webhook applied");
    Ok((StatusCode::OK, Json(json!({ "status": outcome.as_str() }))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_signature_of_the_exact_body_verifies() {
        let body = br#"{"event":"payment.captured"}"#;
        let mut mac = Hmac::<Sha256>::new_from_slice(b"secret").unwrap();
        mac.update(body);
        let good = hex::encode(mac.finalize().into_bytes());
        let with = |sig: &str| {
            let mut h = HeaderMap::new();
            h.insert("x-razorpay-signature", sig.parse().unwrap());
            h
        };
        assert!(signature_is_valid("secret", body, &with(&good)));
        assert!(!signature_is_valid("other", body, &with(&good)));
        assert!(!signature_is_valid("secret", br#"{"event":"payment.captured" }"#, &with(&good)));
        assert!(!signature_is_valid("secret", body, &with("zz")));
        assert!(!signature_is_valid("secret", body, &HeaderMap::new()));
    }
}
