//! Who may call what. Every route under `/api/<context>` declares its access rule with one
//! extractor as its first argument: [`Public`], or [`Require<P>`] for a permission `P`
//! ([`Verified<P>`] when the handler checks the login alongside its own first round trips).
//! [`enforce`] wraps those routes and refuses to send a successful answer from a handler
//! that made no access decision, so a route that forgets to declare one fails closed.
//!
//! Object-level checks (whose booking, which property) are the handlers' job, on top of the
//! permission: a traveller asking for someone else's booking gets 404, an asset manager
//! changing a property not assigned to them gets 403.

use crate::{error::ApiError, state::AppState};
use auth::{AuthError, Principal};
use axum::{
    extract::{ConnectInfo, FromRef, FromRequestParts, OriginalUri, Request},
    http::{HeaderMap, header, request::Parts},
    middleware::Next,
    response::{IntoResponse, Response},
};
use std::{
    marker::PhantomData,
    net::SocketAddr,
    ops::Deref,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
};

/// A permission a route may require: granted when the caller holds any of `ANY_OF`.
pub(crate) trait Permission: Send + Sync + 'static {
    const ANY_OF: &'static [&'static str];
}

macro_rules! permissions {
    ($($(#[$doc:meta])* $name:ident => [$($code:literal),+ $(,)?];)+) => {
        $($(#[$doc])* pub(crate) struct $name;
        impl Permission for $name {
            const ANY_OF: &'static [&'static str] = &[$($code),+];
        })+
    };
}

permissions! {
    /// A signed-in user's own profile and sessions.
    ProfileRead => ["profile:read"];
    BookingsCreate => ["bookings:create"];
    /// Own bookings, or every booking; the handler checks which.
    BookingsRead => ["bookings:read_own", "bookings:read_any"];
    /// Every booking, whole: the operators' back office.
    BookingsReadAny => ["bookings:read_any"];
    /// Own bookings, or every booking; the handler checks which.
    BookingsCancel => ["bookings:cancel_own", "bookings:cancel_any"];
    /// Steering a booking's saga by hand (force-cancel): operators and admins.
    BookingsOverride => ["bookings:override"];
    /// Refunding a paid booking by hand: operators and admins.
    BookingsRefund => ["bookings:refund"];
    UsersRead => ["users:read"];
    UsersManage => ["users:manage"];
    /// Adding properties to the catalog.
    CatalogCreate => ["catalog:manage_any"];
    /// Details of assigned properties, or of every property; the handler checks which.
    CatalogManage => ["catalog:manage_assigned", "catalog:manage_any"];
    /// Allotments of assigned properties, or of every property; the handler checks which.
    InventoryManage => ["inventory:manage_assigned", "inventory:manage_any"];
    /// Package departures' seats: packages are assigned to no asset manager.
    DeparturesManage => ["inventory:manage_any"];
    /// Onboarding partners, their keys and their settlement statements.
    PartnersManage => ["partners:manage"];
    /// Reading travellers' details sealed in Temporal payloads: whoever may read every booking.
    PayloadsDecode => ["bookings:read_any"];
}

/// Set by the access extractors on the request, read back by [`enforce`].
#[derive(Clone, Default)]
struct AccessDecided(Arc<AtomicBool>);

fn mark_decided(parts: &Parts) {
    if let Some(decided) = parts.extensions.get::<AccessDecided>() {
        decided.0.store(true, Ordering::Release);
    }
}

/// Middleware on every context router: a 2xx or 3xx from a handler that declared no access
/// rule is a bug, answered 500 and logged instead of served.
pub(crate) async fn enforce(mut request: Request, next: Next) -> Response {
    let decided = AccessDecided::default();
    request.extensions_mut().insert(decided.clone());
    let path = request.uri().path().to_string();
    let response = next.run(request).await;
    let status = response.status();
    if !decided.0.load(Ordering::Acquire) && (status.is_success() || status.is_redirection()) {
        tracing::error!(%path, "route answered without declaring an access rule");
        return ApiError::Internal(anyhow::anyhow!("route {path} declares no access rule")).into_response();
    }
    response
}

/// The caller is a partner whose API key the partner gate accepted (and counted against its
/// rate limits); derefs to the [`partner::PartnerCaller`]. Only routes behind the gate
/// (`/api/partners/v1`) can use it: anywhere else it refuses every request.
pub(crate) struct PartnerKey(pub(crate) partner::PartnerCaller);

impl Deref for PartnerKey {
    type Target = partner::PartnerCaller;
    fn deref(&self) -> &partner::PartnerCaller {
        &self.0
    }
}

impl<S: Send + Sync> FromRequestParts<S> for PartnerKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        mark_decided(parts);
        parts.extensions.get::<partner::PartnerCaller>().cloned().map(PartnerKey).ok_or_else(|| {
            ApiError::unauthorized(
                "missing_api_key",
                "Send the API key as `Authorization: Bearer <key>` or `X-Api-Key`",
            )
        })
    }
}

/// The route is open to anyone.
pub(crate) struct Public;

impl<S: Send + Sync> FromRequestParts<S> for Public {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        mark_decided(parts);
        Ok(Public)
    }
}

/// The caller is signed in and holds permission `P`; derefs to the [`Principal`].
pub(crate) struct Require<P: Permission> {
    pub(crate) principal: Principal,
    permission: PhantomData<P>,
}

impl<P: Permission> Deref for Require<P> {
    type Target = Principal;
    fn deref(&self) -> &Principal {
        &self.principal
    }
}

impl<P: Permission, S: Send + Sync> FromRequestParts<S> for Require<P>
where
    AppState: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        mark_decided(parts);
        Verified::<P>::from_request_parts(parts, state).await?.confirm().await
    }
}

/// The caller's access token is genuine and unexpired, but whether its account and login
/// are still live, and what the account may do, is not read yet: [`Verified::confirm`] reads
/// it. A handler with database work of its own starts that work alongside the confirmation,
/// knowing the caller only by [`Verified::user_id`], and undoes it if the confirmation
/// refuses. `confirm` makes the route's access decision: a handler that answers without
/// calling it fails closed, like one that declared no rule.
pub(crate) struct Verified<P: Permission> {
    token: auth::VerifiedToken,
    accounts: auth::Accounts,
    decided: Option<AccessDecided>,
    permission: PhantomData<P>,
}

impl<P: Permission> Verified<P> {
    /// The user the token was issued to: signed, but not yet confirmed as live.
    pub(crate) fn user_id(&self) -> uuid::Uuid {
        self.token.user_id
    }

    /// The caller as [`Require<P>`] would have found them.
    pub(crate) async fn confirm(self) -> Result<Require<P>, ApiError> {
        if let Some(decided) = &self.decided {
            decided.0.store(true, Ordering::Release);
        }
        let principal = self.accounts.confirm(&self.token).await.map_err(auth_error)?;
        if !P::ANY_OF.iter().any(|p| principal.can(p)) {
            return Err(ApiError::forbidden(
                "forbidden",
                format!("This needs the permission {}", P::ANY_OF.join(" or ")),
            ));
        }
        Ok(Require { principal, permission: PhantomData })
    }
}

impl<P: Permission, S: Send + Sync> FromRequestParts<S> for Verified<P>
where
    AppState: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let accounts = AppState::from_ref(state).accounts;
        // The codec cookie holds a codec token, which only the codec routes accept.
        let token = match bearer_token(&parts.headers) {
            Ok(bearer) => accounts.verify_token(bearer),
            Err(missing) => accounts.verify_codec_token(codec_cookie(parts).ok_or(missing)?),
        }
        .map_err(auth_error)?;
        let decided = parts.extensions.get::<AccessDecided>().cloned();
        Ok(Verified { token, accounts, decided, permission: PhantomData })
    }
}

fn bearer_token(headers: &HeaderMap) -> Result<&str, ApiError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Err(ApiError::unauthorized("missing_token", "Sign in and send Authorization: Bearer <access token>"));
    };
    let value = value.to_str().unwrap_or_default();
    match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() => Ok(token.trim()),
        _ => Err(ApiError::unauthorized("invalid_token", "The Authorization header must be `Bearer <access token>`")),
    }
}

/// The operator's access token from the codec cookie (see `routes::codec`), accepted on the
/// codec routes only: no other route reads credentials a browser sends by itself.
fn codec_cookie(parts: &Parts) -> Option<&str> {
    let path = parts.extensions.get::<OriginalUri>().map_or(parts.uri.path(), |uri| uri.0.path());
    if !path.starts_with("/api/codec/") {
        return None;
    }
    cookie(&parts.headers, CODEC_COOKIE)
}

/// The value of the cookie `name` among the request's cookies, when set and not empty.
pub(crate) fn cookie<'h>(headers: &'h axum::http::HeaderMap, name: &str) -> Option<&'h str> {
    headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';')).find_map(|pair| {
        let (key, value) = pair.trim().split_once('=')?;
        (key == name && !value.is_empty()).then_some(value)
    })
}

/// The auth context's errors in the API's shape.
pub(crate) fn auth_error(e: AuthError) -> ApiError {
    match e {
        AuthError::InvalidCredentials => ApiError::unauthorized("invalid_credentials", e.to_string()),
        AuthError::Throttled { retry_after } => ApiError::TooManyRequests {
            code: "too_many_attempts",
            message: e.to_string(),
            retry_after_secs: retry_after.as_secs().max(1),
        },
        AuthError::RateLimited { retry_after } => ApiError::TooManyRequests {
            code: "rate_limited",
            message: e.to_string(),
            retry_after_secs: retry_after.as_secs().max(1),
        },
        AuthError::Busy => ApiError::unavailable("busy", e.to_string()),
        AuthError::AccountDisabled => ApiError::forbidden("account_disabled", e.to_string()),
        AuthError::EmailTaken => ApiError::conflict("email_taken", e.to_string()),
        AuthError::Invalid { field, message } => ApiError::invalid_field("invalid_field", field, message),
        AuthError::InvalidRefreshToken => ApiError::unauthorized("invalid_refresh_token", e.to_string()),
        AuthError::RefreshTokenReused => ApiError::unauthorized("refresh_token_reused", e.to_string()),
        AuthError::Unauthenticated(message) => ApiError::unauthorized("invalid_token", message),
        AuthError::Database(e) => e.into(),
        AuthError::Internal(message) => ApiError::Internal(anyhow::anyhow!(message)),
    }
}

/// The cookie that carries an operator's access token to the codec routes (the Temporal
/// Web UI cannot send a bearer token).
pub(crate) const CODEC_COOKIE: &str = "tt_codec";

/// The cookie that carries a web page's refresh token to `/api/auth` (see `routes::auth`):
/// `HttpOnly`, so no script on the page can read it.
pub(crate) const SESSION_COOKIE: &str = "tt_session";

/// The caller's address and user agent, for sessions and the activity log.
pub(crate) struct ClientInfo(pub auth::Client);

impl<S: Send + Sync> FromRequestParts<S> for ClientInfo
where
    AppState: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
        let addr = state.proxies.client_addr(peer, &parts.headers);
        let user_agent = parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|ua| ua.chars().take(256).collect::<String>());
        let trusted_proxy = addr.is_some_and(|a| state.proxies.trusts(a));
        Ok(ClientInfo(auth::Client { addr, user_agent, trusted_proxy }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::{Router, body::Body, http::StatusCode, middleware, routing::get};
    use tower::ServiceExt;

    async fn status_of(router: Router, path: &str) -> StatusCode {
        router.oneshot(Request::builder().uri(path).body(Body::empty()).unwrap()).await.unwrap().status()
    }

    #[tokio::test]
    async fn a_route_without_an_access_rule_fails_closed() {
        let router = Router::new()
            .route("/declared", get(|_: Public| async { "ok" }))
            .route("/forgotten", get(|| async { "ok" }))
            .route_layer(middleware::from_fn(enforce));
        assert_eq!(status_of(router.clone(), "/declared").await, StatusCode::OK);
        assert_eq!(status_of(router, "/forgotten").await, StatusCode::INTERNAL_SERVER_ERROR);
    }
}
