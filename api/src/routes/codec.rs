//! The remote payload codec of the Temporal Web UI and CLI (`POST /api/codec/decode` and
//! `/encode`, bodies `{"payloads": [{"metadata": {k: base64}, "data": base64}]}`): operators
//! read travellers' details in a workflow's history here, and nowhere else, with a token
//! that may read every booking. Sealed payloads carry personal data, so the answer is never
//! cached and the request body is never logged.
//!
//! The Web UI cannot send a bearer token unless it signs its users in itself, so an
//! operator may instead sign in at `/api/codec/sign-in`: the API answers with a cookie that
//! holds a codec token (an access token of its own audience, short-lived), scoped to
//! `/api/codec`, `HttpOnly` and `SameSite=Strict`. The Web UI is served on an origin that
//! also routes `/api/codec` here (`web-ui-proxy` in development, an Ingress on the UI's host
//! in Kubernetes), so the UI's codec requests are same-origin and carry the cookie with no
//! setting in the browser. The codec routes, and only they,
//! accept that cookie in place of the `Authorization` header; every route, the codec's
//! included, refuses a codec token as a bearer token. Only the codec routes allow CORS
//! credentials.

use crate::{
    access::{CODEC_COOKIE, ClientInfo, PayloadsDecode, Permission, Public, Require, auth_error},
    error::ApiError,
    extract::{ApiForm, ApiJson, UnstoredJson},
    state::{AppState, Temporal},
};
use auth::Accounts;
use axum::{
    Json,
    extract::{DefaultBodyLimit, State},
    http::{HeaderValue, header},
    response::{Html, IntoResponse, Response},
};
use base64::{Engine, engine::general_purpose::STANDARD};
use platform::payload_codec::PayloadKeys;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use temporalio_common::protos::temporal::api::common::v1::Payload;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

/// A page of a workflow's history can hold many payloads: more than a booking request's limit.
const CODEC_BODY_LIMIT_BYTES: usize = 4 * 1024 * 1024;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(decode))
        .routes(routes!(encode))
        .routes(routes!(sign_in_page, sign_in))
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
    #[schema(value_type = BTreeMap<String, Base64>)]
    pub metadata: BTreeMap<String, String>,
    /// The payload's bytes, base64.
    #[serde(default)]
    #[schema(pattern = "^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/][AQgw]==|[A-Za-z0-9+/]{2}[AEIMQUYcgkosw048]=)?$")]
    pub data: String,
}

/// Bytes in standard base64, padded, as the codec protocol carries them.
#[derive(ToSchema)]
#[schema(pattern = "^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/][AQgw]==|[A-Za-z0-9+/]{2}[AEIMQUYcgkosw048]=)?$")]
#[allow(dead_code)] // Describes the metadata values of `JsonPayload`; never built.
pub(crate) struct Base64(String);

#[utoipa::path(post, path = "/decode", tag = "codec", request_body = CodecPayloads,
    security(("bearer" = ["bookings:read_any"])),
    responses((status = 200, body = CodecPayloads, description = "Sealed payloads opened; others unchanged"),
        (status = 401, description = "Not signed in"), (status = 403, description = "Not an operator"),
        (status = 422, description = "A payload is not base64, or does not open with any key")))]
pub(crate) async fn decode(
    _operator: Require<PayloadsDecode>,
    State(temporal): State<Temporal>,
    ApiJson(body): UnstoredJson<CodecPayloads>,
) -> Result<Response, ApiError> {
    let keys = keys_of(&temporal)?;
    transform(body, |p| keys.decrypt(p))
}

#[utoipa::path(post, path = "/encode", tag = "codec", request_body = CodecPayloads,
    security(("bearer" = ["bookings:read_any"])),
    responses((status = 200, body = CodecPayloads, description = "Payloads sealed under the active key"),
        (status = 401, description = "Not signed in"), (status = 403, description = "Not an operator"),
        (status = 422, description = "A payload is not base64")))]
pub(crate) async fn encode(
    _operator: Require<PayloadsDecode>,
    State(temporal): State<Temporal>,
    ApiJson(body): UnstoredJson<CodecPayloads>,
) -> Result<Response, ApiError> {
    let keys = keys_of(&temporal)?;
    transform(body, |p| keys.encrypt(p))
}

/// The sign-in form for operators who read payloads in the Temporal Web UI.
#[utoipa::path(get, path = "/sign-in", tag = "codec", security(()),
    responses((status = 200, description = "An HTML sign-in form", content_type = "text/html")))]
pub(crate) async fn sign_in_page(_: Public) -> Response {
    ([(header::CACHE_CONTROL, "no-store")], Html(SIGN_IN_PAGE)).into_response()
}

const SIGN_IN_PAGE: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Tripura Tourism: read payloads in the Temporal Web UI</title></head>
<body>
<h1>Read travellers' details in the Temporal Web UI</h1>
<p>Sign in as an operator. The Web UI on this address then opens sealed payloads through this
codec while the sign-in lasts; there is nothing to set in the browser.</p>
<form method="post" action="/api/codec/sign-in">
<p><label>Email <input name="email" type="email" autocomplete="username" required></label></p>
<p><label>Password <input name="password" type="password" autocomplete="current-password" required></label></p>
<p><button type="submit">Sign in</button></p>
</form>
</body></html>
"#;

#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct CodecSignIn {
    email: String,
    password: String,
}

/// Sign an operator in for the Web UI's codec requests: sets the codec cookie, holding a
/// codec-only token, for as long as that token lives. Someone who may not read payloads
/// gets 403 and no cookie.
#[utoipa::path(post, path = "/sign-in", tag = "codec", security(()),
    request_body(content = CodecSignIn, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "Signed in; the codec cookie is set", content_type = "text/html"),
        (status = 401, description = "Wrong email or password"), (status = 403, description = "Not an operator"),
        (status = 429, description = "Too many failed attempts, or sign-ins from this address (`Retry-After`)"),
        (status = 503, description = "Too many sign-ins at once (`Retry-After`)")))]
pub(crate) async fn sign_in(
    _: Public,
    State(accounts): State<Accounts>,
    ClientInfo(client): ClientInfo,
    ApiForm(body): ApiForm<CodecSignIn>,
) -> Result<Response, ApiError> {
    let tokens = accounts.login(&body.email, &body.password, &client).await.map_err(auth_error)?;
    let principal = accounts.authenticate(&tokens.access.token).await.map_err(auth_error)?;
    if !PayloadsDecode::ANY_OF.iter().any(|p| principal.can(p)) {
        // No session is left behind for someone who cannot use it.
        accounts.logout(&tokens.refresh_token, &client).await.map_err(auth_error)?;
        return Err(ApiError::forbidden("forbidden", "Only operators read payloads"));
    }
    let codec = accounts.issue_codec_token(&principal).map_err(auth_error)?;
    let minutes = codec.expires_in.as_secs() / 60;
    // Browsers accept `Secure` cookies from http://localhost and http://127.0.0.1 too.
    let cookie = format!(
        "{CODEC_COOKIE}={}; Path=/api/codec; Max-Age={}; HttpOnly; Secure; SameSite=Strict",
        codec.token,
        codec.expires_in.as_secs()
    );
    let page = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Signed in</title></head>\
         <body><p>Signed in for {minutes} minutes: the Temporal Web UI can open payloads now.</p></body></html>"
    );
    let cookie = HeaderValue::from_str(&cookie).map_err(|e| ApiError::Internal(e.into()))?;
    Ok(([(header::SET_COOKIE, cookie), (header::CACHE_CONTROL, HeaderValue::from_static("no-store"))], Html(page))
        .into_response())
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
