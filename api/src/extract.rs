//! Extractors that turn axum's rejections into the API's error shape.

use crate::error::ApiError;
use axum::{
    extract::{
        FromRequest, FromRequestParts, Query, Request,
        rejection::{JsonRejection, QueryRejection},
    },
    http::{StatusCode, request::Parts},
};
use serde::de::DeserializeOwned;
use serde_json::Value;

/// JSON body: malformed JSON is 400, a well-formed body of the wrong shape (unknown or
/// missing field, wrong type) is 422 naming the problem, a non-JSON body is 415.
///
/// The body is read as JSON values first, so that what JSON Schema calls an integer is
/// one here too (`3.0` is read as `3`), and text PostgreSQL cannot hold (a NUL character)
/// is refused before any handler sees it.
/// `STORED` is false for a body whose text goes nowhere a NUL cannot (the payload codec's).
pub(crate) struct ApiJson<T, const STORED: bool = true>(pub T);

/// A JSON body whose text is never stored: NUL characters are taken as they are.
pub(crate) type UnstoredJson<T> = ApiJson<T, false>;

impl<S: Send + Sync, T: DeserializeOwned, const STORED: bool> FromRequest<S> for ApiJson<T, STORED> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let mut value = match axum::Json::<Value>::from_request(req, state).await {
            Ok(axum::Json(value)) => value,
            Err(rejection) => return Err(json_rejection(rejection)),
        };
        if !normalize(&mut value) && STORED {
            return Err(ApiError::invalid("invalid_body", "Text in the body may not contain the NUL character"));
        }
        serde_json::from_value(value).map(ApiJson).map_err(|e| ApiError::invalid("invalid_body", e.to_string()))
    }
}

/// Turns whole-number floats into integers, in place; false when a string holds a NUL
/// character. (Keys are not checked: no map of a request is stored as text.)
fn normalize(value: &mut Value) -> bool {
    /// Floats up to here are exact integers.
    const EXACT: f64 = 9_007_199_254_740_992.0;
    match value {
        Value::String(text) => !text.contains('\0'),
        Value::Number(n) if !n.is_i64() && !n.is_u64() => {
            if let Some(f) = n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() <= EXACT) {
                #[allow(clippy::cast_possible_truncation)] // whole and within ±2^53: exact
                let whole = f as i64;
                *value = Value::from(whole);
            }
            true
        }
        // Every value is visited, NUL or not: a body that may hold NUL is still normalized.
        Value::Array(items) => items.iter_mut().map(normalize).filter(|clean| !clean).count() == 0,
        Value::Object(fields) => fields.values_mut().map(normalize).filter(|clean| !clean).count() == 0,
        _ => true,
    }
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    match rejection {
        JsonRejection::JsonDataError(e) => ApiError::invalid("invalid_body", e.body_text()),
        JsonRejection::JsonSyntaxError(e) => ApiError::bad_request("malformed_json", e.body_text()),
        JsonRejection::MissingJsonContentType(_) => ApiError::UnsupportedMediaType {
            message: "Send the body as JSON with Content-Type: application/json".into(),
        },
        JsonRejection::BytesRejection(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge,
        other => ApiError::bad_request("unreadable_body", other.body_text()),
    }
}

/// Whether a percent-encoded URI part carries a NUL character.
fn has_encoded_nul(part: &str) -> bool {
    part.as_bytes().windows(3).any(|w| w == b"%00")
}

/// Query string: anything unreadable is 400 naming the problem.
pub(crate) struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if parts.uri.query().is_some_and(has_encoded_nul) {
            return Err(ApiError::bad_request("invalid_query", "The query may not contain the NUL character"));
        }
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(v)| ApiQuery(v))
            .map_err(|e: QueryRejection| ApiError::bad_request("invalid_query", e.body_text()))
    }
}

/// Path parameters: an identifier that does not parse names nothing, so it is 404.
pub(crate) struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if has_encoded_nul(parts.uri.path()) {
            return Err(ApiError::not_found("not_found", "Nothing here: no identifier holds the NUL character"));
        }
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(v)| ApiPath(v))
            .map_err(|e| ApiError::not_found("not_found", format!("Nothing here: {}", e.body_text())))
    }
}

/// Form body (the codec's sign-in page): a body of another type is 415, one of the wrong
/// shape 422, in the API's error shape.
pub(crate) struct ApiForm<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiForm<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        use axum::extract::rejection::FormRejection;
        match axum::Form::<T>::from_request(req, state).await {
            Ok(axum::Form(value)) => Ok(ApiForm(value)),
            Err(FormRejection::InvalidFormContentType(_)) => Err(ApiError::UnsupportedMediaType {
                message: "Send the form with Content-Type: application/x-www-form-urlencoded".into(),
            }),
            Err(FormRejection::FailedToDeserializeForm(e)) => Err(ApiError::invalid("invalid_body", e.body_text())),
            Err(FormRejection::FailedToDeserializeFormBody(e)) => Err(ApiError::invalid("invalid_body", e.body_text())),
            Err(FormRejection::BytesRejection(e)) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Err(ApiError::PayloadTooLarge)
            }
            Err(other) => Err(ApiError::bad_request("unreadable_body", other.body_text())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn whole_floats_become_integers_and_nul_is_refused() {
        let mut body = json!({"a": 823.0, "b": [2.5, -4.0], "c": {"d": 1e300, "e": "ok"}});
        assert!(normalize(&mut body));
        assert_eq!(body, json!({"a": 823, "b": [2.5, -4], "c": {"d": 1e300, "e": "ok"}}));
        assert!(!normalize(&mut json!({"name": "Asha\u{0}"})));
        assert!(!normalize(&mut json!([{"a": ["\u{0}"]}])));
        // The codec takes NUL: what follows it is normalized all the same.
        let mut payload = json!(["\u{0}", 2.0]);
        assert!(!normalize(&mut payload));
        assert_eq!(payload, json!(["\u{0}", 2]));
    }
}
