//! The API's one error type. Clients always get `{"error": {"code", "message", "details"?}}`
//! with a stable snake_case code; internal errors never leak their text.

use axum::{
    Json,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the request could not be read (malformed JSON, bad header or query).
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    /// 401 with `WWW-Authenticate`: no credentials, or credentials that do not verify.
    #[error("{message}")]
    Unauthorized { code: &'static str, message: String },
    /// 403: authenticated, but not allowed to do this.
    #[error("{message}")]
    Forbidden { code: &'static str, message: String },
    /// 404: no such resource, or one the caller may not see.
    #[error("{message}")]
    NotFound { code: &'static str, message: String },
    /// 405: the route exists, but not for this method.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// 409: the request conflicts with the current state.
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// 413: the body is larger than the API accepts.
    #[error("request body too large")]
    PayloadTooLarge,
    /// 415: the body is not JSON.
    #[error("{message}")]
    UnsupportedMediaType { message: String },
    /// 422: well-formed but invalid; `details` may name the field.
    #[error("{message}")]
    Invalid { code: &'static str, message: String, details: Option<Value> },
    /// 429 with `Retry-After`: slow down.
    #[error("{message}")]
    TooManyRequests { code: &'static str, message: String, retry_after_secs: u64 },
    /// 503 with `Retry-After`: a dependency (database, Temporal) is unreachable.
    #[error("{message}")]
    Unavailable { code: &'static str, message: String },
    /// 500: a bug. Logged in full, answered without detail.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// `ApiError::name(code, message)` for each variant that carries only a code and a message.
macro_rules! constructors {
    ($($name:ident => $variant:ident),+ $(,)?) => {
        $(pub fn $name(code: &'static str, message: impl Into<String>) -> Self {
            ApiError::$variant { code, message: message.into() }
        })+
    };
}

impl ApiError {
    pub fn invalid(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::Invalid { code, message: message.into(), details: None }
    }

    pub fn invalid_field(code: &'static str, field: &str, message: impl Into<String>) -> Self {
        ApiError::Invalid { code, message: message.into(), details: Some(json!({ "field": field })) }
    }

    constructors! {
        bad_request => BadRequest,
        not_found => NotFound,
        unauthorized => Unauthorized,
        forbidden => Forbidden,
        conflict => Conflict,
        unavailable => Unavailable,
    }

    fn parts(&self) -> (StatusCode, &'static str, String, Option<&Value>) {
        match self {
            ApiError::BadRequest { code, message } => (StatusCode::BAD_REQUEST, code, message.clone(), None),
            ApiError::Unauthorized { code, message } => (StatusCode::UNAUTHORIZED, code, message.clone(), None),
            ApiError::Forbidden { code, message } => (StatusCode::FORBIDDEN, code, message.clone(), None),
            ApiError::NotFound { code, message } => (StatusCode::NOT_FOUND, code, message.clone(), None),
            ApiError::MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "This route does not take that method".into(),
                None,
            ),
            ApiError::Conflict { code, message } => (StatusCode::CONFLICT, code, message.clone(), None),
            ApiError::PayloadTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", self.to_string(), None),
            ApiError::UnsupportedMediaType { message } => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", message.clone(), None)
            }
            ApiError::Invalid { code, message, details } => {
                (StatusCode::UNPROCESSABLE_ENTITY, code, message.clone(), details.as_ref())
            }
            ApiError::TooManyRequests { code, message, .. } => {
                (StatusCode::TOO_MANY_REQUESTS, code, message.clone(), None)
            }
            ApiError::Unavailable { code, message } => (StatusCode::SERVICE_UNAVAILABLE, code, message.clone(), None),
            ApiError::Internal(_) => {
                (StatusCode::INTERNAL_SERVER_ERROR, "internal_error", "Something went wrong on our side".into(), None)
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match &self {
            ApiError::Internal(e) => tracing::error!(error = ?e, "internal error"),
            ApiError::Unavailable { message, .. } => tracing::warn!(%message, "dependency unavailable"),
            _ => {}
        }
        let retry_after = match &self {
            ApiError::TooManyRequests { retry_after_secs, .. } => Some(retry_after_secs.to_string()),
            ApiError::Unavailable { .. } => Some("5".to_string()),
            _ => None,
        };
        let (status, code, message, details) = self.parts();
        let mut error = json!({ "code": code, "message": message });
        if let Some(details) = details {
            error["details"] = details.clone();
        }
        let mut response = (status, Json(json!({ "error": error }))).into_response();
        if let Some(value) = retry_after.and_then(|v| HeaderValue::from_str(&v).ok()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            // The rest of the body is left unread, so the connection cannot carry another
            // request: say so, or a client may send its next request on it and lose it.
            response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        response
    }
}

/// Database errors: an unreachable or overloaded database is 503; anything else is a bug.
impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        let unavailable = match &e {
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) | sqlx::Error::Tls(_) => true,
            // SQLSTATE classes 08 (connection exception) and 53 (insufficient resources:
            // too many connections, out of memory), and 57P01-57P03 (shut down, starting up).
            sqlx::Error::Database(db) => db.code().is_some_and(|c| {
                c.starts_with("08") || c.starts_with("53") || matches!(c.as_ref(), "57P01" | "57P02" | "57P03")
            }),
            _ => false,
        };
        // SQLSTATE class 22 (data exception): a value from the request the database cannot
        // hold or compare, such as a NUL character in a text or a number out of range.
        if let sqlx::Error::Database(db) = &e
            && db.code().is_some_and(|c| c.starts_with("22"))
        {
            tracing::info!(error = %e, "request value refused by the database");
            return ApiError::invalid("invalid_value", "A value in the request cannot be stored or searched for");
        }
        if unavailable {
            tracing::warn!(error = %e, "database unavailable");
            ApiError::unavailable("database_unavailable", "The database is unreachable; try again shortly")
        } else {
            ApiError::Internal(e.into())
        }
    }
}

/// A panicking handler still answers in the API's shape, without the panic's text.
pub fn panic_response(_panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("handler panicked");
    ApiError::Internal(anyhow::anyhow!("handler panicked")).into_response()
}

/// Every error answer's body, as the OpenAPI document describes it.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // Describes the JSON `ApiError` writes; never built as a value.
pub(crate) struct ErrorBody {
    error: ErrorDetail,
}

#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub(crate) struct ErrorDetail {
    /// A stable snake_case code, e.g. `booking_not_found`.
    #[schema(example = "invalid_field")]
    code: String,
    /// For people; may change between releases.
    message: String,
    /// `{"field": "<name>"}` when one field is at fault.
    #[schema(value_type = Option<Object>)]
    details: Option<Value>,
}
