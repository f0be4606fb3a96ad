//! The door to `/api/partners/v1`: checks the API key, counts the request against the key's
//! and the partner's rate limits, and hands every request's line to the access log — the
//! refused ones too, except a client address's requests without a valid key beyond its
//! budget ([`partner::UnauthenticatedBudget`]): those are answered 429 and only counted,
//! so nobody can fill the log's queue. The handlers behind it declare access
//! with [`PartnerKey`].
//!
//! [`PartnerKey`]: crate::access::PartnerKey

use crate::{access::ClientInfo, error::ApiError, state::AppState};
use axum::{
    extract::{MatchedPath, Request, State},
    http::{HeaderMap, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use chrono::Utc;
use partner::{AccessLogEntry, KeyIdentity, KeyRejection};
use std::time::Instant;

/// The key a request presents: `Authorization: Bearer <key>`, else `X-Api-Key: <key>`.
fn presented_key(headers: &HeaderMap) -> Result<Option<&str>, ApiError> {
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let value = value.to_str().unwrap_or_default();
        return match value.split_once(' ') {
            Some((scheme, key)) if scheme.eq_ignore_ascii_case("bearer") && !key.trim().is_empty() => {
                Ok(Some(key.trim()))
            }
            _ => Err(ApiError::unauthorized("invalid_api_key", "The Authorization header must be `Bearer <api key>`")),
        };
    }
    Ok(headers.get("x-api-key").and_then(|v| v.to_str().ok()).map(str::trim).filter(|k| !k.is_empty()))
}

fn rejection(e: &KeyRejection) -> ApiError {
    match e {
        KeyRejection::Missing => ApiError::unauthorized("missing_api_key", e.to_string()),
        KeyRejection::Invalid { .. } => ApiError::unauthorized("invalid_api_key", e.to_string()),
        KeyRejection::Revoked { .. } => ApiError::unauthorized("api_key_revoked", e.to_string()),
        KeyRejection::Expired { .. } => ApiError::unauthorized("api_key_expired", e.to_string()),
        KeyRejection::PartnerInactive { .. } => ApiError::forbidden("partner_inactive", e.to_string()),
    }
}

pub(crate) async fn gate(
    State(state): State<AppState>,
    ClientInfo(client): ClientInfo,
    mut request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let route =
        request.extensions().get::<MatchedPath>().map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let method = request.method().to_string();
    let mut who = KeyIdentity::default();
    let response = match admit(&state, &mut request, &mut who).await {
        Ok(()) => next.run(request).await,
        Err(refused) => refused.into_response(),
    };
    let key_refused = matches!(response.status(), StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN);
    if !who.authenticated && key_refused {
        // A valid key is never held up here; an address that keeps presenting none is
        // answered without a log line once it has spent its budget.
        let budget = state.partners.unauthenticated();
        let allowed = budget
            .check(client.addr, started)
            .and_then(|()| budget.spend(client.addr, started).then_some(()).ok_or(std::time::Duration::from_secs(60)));
        if let Err(retry_after) = allowed {
            metrics::counter!("partner_unauthenticated_refused_total").increment(1);
            return too_many_failures(retry_after).into_response();
        }
    }
    state.partner_log.record(AccessLogEntry {
        caller: who,
        method,
        route,
        status: response.status().as_u16(),
        latency_ms: u32::try_from(started.elapsed().as_millis()).unwrap_or(u32::MAX),
        client_addr: client.addr,
        at: Utc::now(),
    });
    response
}

fn too_many_failures(retry_after: std::time::Duration) -> ApiError {
    ApiError::TooManyRequests {
        code: "too_many_failed_keys",
        message: format!(
            "Too many requests without a valid API key from this address; retry after {} s",
            retry_after.as_secs()
        ),
        retry_after_secs: retry_after.as_secs().max(1),
    }
}

/// Lets the request through (with its [`partner::PartnerCaller`] attached) or says why not.
async fn admit(state: &AppState, request: &mut Request, who: &mut KeyIdentity) -> Result<(), ApiError> {
    let key = presented_key(request.headers())?.ok_or_else(|| rejection(&KeyRejection::Missing))?.to_string();
    let caller = match state.partners.authenticate(&key).await? {
        Ok(caller) => caller,
        Err(refused) => {
            match &refused {
                KeyRejection::Invalid { prefix } => who.key_prefix.clone_from(prefix),
                KeyRejection::Revoked { prefix, partner_id }
                | KeyRejection::Expired { prefix, partner_id }
                | KeyRejection::PartnerInactive { prefix, partner_id, .. } => {
                    who.key_prefix = Some(prefix.clone());
                    who.partner_id = Some(*partner_id);
                }
                KeyRejection::Missing => {}
            }
            return Err(rejection(&refused));
        }
    };
    who.partner_id = Some(caller.partner_id);
    who.key_prefix = Some(caller.key_prefix.clone());
    who.authenticated = true;
    if let Err(limited) = state.partners.count_request(&caller).await? {
        return Err(ApiError::TooManyRequests {
            code: "rate_limited",
            message: format!(
                "More than {} requests a minute for this {}; retry after {} s",
                limited.limit,
                limited.scope,
                limited.retry_after.as_secs()
            ),
            retry_after_secs: limited.retry_after.as_secs().max(1),
        });
    }
    request.extensions_mut().insert(caller);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_come_from_the_bearer_header_or_x_api_key() {
        let mut headers = HeaderMap::new();
        assert_eq!(presented_key(&headers).unwrap(), None);
        headers.insert("x-api-key", " tt_live_x ".parse().unwrap());
        assert_eq!(presented_key(&headers).unwrap(), Some("tt_live_x"));
        headers.insert(header::AUTHORIZATION, "Bearer tt_live_y".parse().unwrap());
        assert_eq!(presented_key(&headers).unwrap(), Some("tt_live_y"));
        headers.insert(header::AUTHORIZATION, "Basic dXNlcg==".parse().unwrap());
        assert!(presented_key(&headers).is_err());
    }
}
