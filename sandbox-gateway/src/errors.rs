//! The gateway's error answers, `{"error": {"code", "description", "reason", ...}}`, and the
//! JSON body extractor that refuses bad input in that same shape. Both the merchant API and
//! the sandbox controls answer this way, so the shape is defined once, below both.

use axum::{
    Json,
    extract::{FromRequest, Request},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::de::DeserializeOwned;
use serde_json::json;

/// What the "bank" says when it declines a card, in the error answer and on the failed
/// payment alike.
pub(crate) const DECLINED: &str = "Your payment has been declined by the bank";

/// What every handler answers: the entity as JSON, or the gateway's error.
pub(crate) type Answer<T> = Result<Json<T>, GatewayError>;

/// Gateway-style errors: `{"error": {"code", "description", "reason", ...}}`, with `field`
/// when one request field (or header) is to blame, as the real payouts API names it.
pub(crate) struct GatewayError {
    status: StatusCode,
    code: &'static str,
    description: String,
    reason: &'static str,
    field: Option<&'static str>,
}

impl GatewayError {
    pub(crate) fn bad_request(description: impl Into<String>, reason: &'static str) -> Self {
        GatewayError {
            status: StatusCode::BAD_REQUEST,
            code: "BAD_REQUEST_ERROR",
            description: description.into(),
            reason,
            field: None,
        }
    }

    /// A refusal that names the one field (or header) at fault, so a caller can tell which
    /// of many fields to fix without parsing the description.
    pub(crate) fn invalid_field(field: &'static str, description: impl Into<String>) -> Self {
        GatewayError { field: Some(field), ..GatewayError::invalid(description) }
    }

    /// A request the gateway refuses as it stands: almost every refusal carries this reason.
    pub(crate) fn invalid(description: impl Into<String>) -> Self {
        GatewayError::bad_request(description, "input_validation_failed")
    }

    /// The real gateway answers an unknown id with a 400, not a 404.
    pub(crate) fn not_found(what: &str) -> Self {
        GatewayError::invalid(format!("The id provided does not exist: {what}"))
    }

    pub(crate) fn declined() -> Self {
        GatewayError::bad_request(DECLINED, "payment_declined")
    }

    /// The gateway's own words for the refusal, which the hosted checkout passes on to the
    /// traveller and the merchant's page.
    pub(crate) fn description(&self) -> &str {
        &self.description
    }

    pub(crate) fn code(&self) -> &'static str {
        self.code
    }

    pub(crate) fn status(&self) -> StatusCode {
        self.status
    }

    /// Whether the bank declined the card, as opposed to the gateway refusing the request.
    pub(crate) fn is_decline(&self) -> bool {
        self.reason == "payment_declined"
    }

    pub(crate) fn unauthorized() -> Self {
        GatewayError {
            status: StatusCode::UNAUTHORIZED,
            code: "BAD_REQUEST_ERROR",
            description: "Authentication failed".into(),
            reason: "authentication_failed",
            field: None,
        }
    }
}

impl IntoResponse for GatewayError {
    fn into_response(self) -> Response {
        let mut body = json!({ "error": {
            "code": self.code, "description": self.description, "reason": self.reason,
            "source": "business", "step": "payment_initiation", "metadata": {},
        }});
        if let Some(field) = self.field {
            body["error"]["field"] = json!(field);
        }
        (self.status, Json(body)).into_response()
    }
}

/// A JSON body whose rejection (malformed JSON, a missing field, a wrong type) is answered
/// in the gateway's error shape, as the real gateway does, rather than in the framework's.
pub(crate) struct Body<T>(pub(crate) T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Body<T> {
    type Rejection = GatewayError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        Json::<T>::from_request(request, state)
            .await
            .map(|Json(body)| Body(body))
            .map_err(|rejection| GatewayError::invalid(rejection.body_text()))
    }
}
