//! The remote payload codec of the Temporal Web UI and CLI (`POST /api/codec/decode` and
//! `/encode`, bodies `{"payloads": [{"metadata": {k: base64}, "data": base64}]}`): operators
//! read travellers' details in a workflow's history here, and nowhere else, with a token
//! that may read every booking. Sealed payloads carry personal data, so the answer is never
//! cached and the request body is never logged.

use crate::{
    access::{PayloadsDecode, Require},
    error::ApiError,
    extract::ApiJson,
    state::{AppState, Temporal},
};
use axum::{
    Json, Router,
    extract::{DefaultBodyLimit, State},
    http::header,
    response::{IntoResponse, Response},
    routing::post,
};
use base64::{Engine, engine::general_purpose::STANDARD};
use platform::payload_codec::PayloadKeys;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use temporalio_common::protos::temporal::api::common::v1::Payload;
use utoipa::ToSchema;

/// A page of a workflow's history can hold many payloads: more than a booking request's limit.
const CODEC_BODY_LIMIT_BYTES: usize = 4 * 1024 * 1024;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/decode", post(decode))
        .route("/encode", post(encode))
        .layer(DefaultBodyLimit::max(CODEC_BODY_LIMIT_BYTES))
}

/// Payloads in the protobuf JSON form the Temporal UI and CLI send.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
pub(crate) struct CodecPayloads {
    #[serde(default)]
    pub payloads: Vec<JsonPayload>,
}

#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
pub(crate) struct JsonPayload {
    /// Metadata values, base64.
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    /// The payload's bytes, base64.
    #[serde(default)]
    pub data: String,
}

#[utoipa::path(post, path = "/api/codec/decode", tag = "codec", request_body = CodecPayloads,
    security(("bearer" = ["bookings:read_any"])),
    responses((status = 200, body = CodecPayloads, description = "Sealed payloads opened; others unchanged"),
        (status = 401, description = "Not signed in"), (status = 403, description = "Not an operator"),
        (status = 422, description = "A payload is not base64, or does not open with any key")))]
pub(crate) async fn decode(
    _operator: Require<PayloadsDecode>,
    State(temporal): State<Temporal>,
    ApiJson(body): ApiJson<CodecPayloads>,
) -> Result<Response, ApiError> {
    let keys = keys_of(&temporal)?;
    transform(body, |p| keys.decrypt(p))
}

#[utoipa::path(post, path = "/api/codec/encode", tag = "codec", request_body = CodecPayloads,
    security(("bearer" = ["bookings:read_any"])),
    responses((status = 200, body = CodecPayloads, description = "Payloads sealed under the active key"),
        (status = 401, description = "Not signed in"), (status = 403, description = "Not an operator"),
        (status = 422, description = "A payload is not base64")))]
pub(crate) async fn encode(
    _operator: Require<PayloadsDecode>,
    State(temporal): State<Temporal>,
    ApiJson(body): ApiJson<CodecPayloads>,
) -> Result<Response, ApiError> {
    let keys = keys_of(&temporal)?;
    transform(body, |p| keys.encrypt(p))
}

fn keys_of(temporal: &Temporal) -> Result<&PayloadKeys, ApiError> {
    temporal.payload_keys().ok_or_else(|| {
        ApiError::unavailable("codec_unavailable", "This deployment has no payload keys (TT_PAYLOAD_KEYS)")
    })
}

fn transform<E: std::fmt::Display>(
    body: CodecPayloads,
    each: impl Fn(Payload) -> Result<Payload, E>,
) -> Result<Response, ApiError> {
    let payloads = body
        .payloads
        .into_iter()
        .enumerate()
        .map(|(i, p)| {
            let payload = from_json(p).ok_or_else(|| {
                ApiError::invalid_field("invalid_payload", &format!("payloads[{i}]"), "metadata and data are base64")
            })?;
            each(payload)
                .map(to_json)
                .map_err(|e| ApiError::invalid_field("undecodable_payload", &format!("payloads[{i}]"), e.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(([(header::CACHE_CONTROL, "no-store")], Json(CodecPayloads { payloads })).into_response())
}

fn from_json(payload: JsonPayload) -> Option<Payload> {
    let metadata =
        payload.metadata.into_iter().map(|(k, v)| STANDARD.decode(v).ok().map(|v| (k, v))).collect::<Option<_>>()?;
    Some(Payload { metadata, data: STANDARD.decode(payload.data).ok()?, ..Default::default() })
}

fn to_json(payload: Payload) -> JsonPayload {
    JsonPayload {
        metadata: payload.metadata.into_iter().map(|(k, v)| (k, STANDARD.encode(v))).collect(),
        data: STANDARD.encode(payload.data),
    }
}
