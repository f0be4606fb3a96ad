//! Auth: sign-up, login, refresh, logout, the caller's profile, the public keys, and user
//! administration (roles, status, property assignments).

use crate::{
    access::{ClientInfo, ProfileRead, Public, Require, SESSION_COOKIE, UsersManage, UsersRead, auth_error, cookie},
    error::ApiError,
    extract::{ApiJson, ApiPath, ApiQuery},
    paging::{self, Page, PageSize},
    state::AppState,
};
use auth::{Accounts, StoreError, accounts::Registration};
use axum::{
    Json,
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register))
        .routes(routes!(login))
        .routes(routes!(refresh))
        .routes(routes!(logout))
        .routes(routes!(logout_all))
        .routes(routes!(me))
        .routes(routes!(my_activity))
        .routes(routes!(jwks))
        .routes(routes!(list_roles))
        .routes(routes!(list_users))
        .routes(routes!(get_user, update_user, delete_user))
        .routes(routes!(grant_role, revoke_role))
        .routes(routes!(assign, unassign))
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RegisterRequest {
    #[schema(example = "asha@example.in", format = Email, max_length = 254)]
    email: String,
    /// 10 to 128 characters; not the e-mail address, nor one character repeated.
    #[schema(min_length = 10, max_length = 128)]
    password: String,
    /// 1 to 100 characters, not only spaces.
    #[schema(example = "Asha Debbarma", max_length = 100, format = "non-blank")]
    full_name: String,
    /// International form: `+` and 8 to 15 digits. Blank is the same as absent.
    #[schema(
        example = "+919876543210",
        pattern = "^[\\t-\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]*(?:\\+[0-9]{8,15})?[\\t-\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]*$"
    )]
    phone: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct LoginRequest {
    email: String,
    password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RefreshRequest {
    /// Absent for a session kept in the `tt_session` cookie (`?session=cookie`): the
    /// cookie's token is used, and the answer renews the cookie.
    refresh_token: Option<String>,
}

/// Where a new session's refresh token goes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum SessionDelivery {
    /// In the answer's body, for clients that keep it themselves.
    #[default]
    Body,
    /// In an `HttpOnly`, `Secure`, `SameSite=Strict` cookie (`tt_session`, path
    /// `/api/auth`) and not in the body: for the platform's web pages, whose scripts keep
    /// only the short-lived access token, in memory.
    Cookie,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct SessionQuery {
    /// `cookie` keeps the refresh token out of reach of the page's scripts (default `body`).
    session: Option<SessionDelivery>,
}

/// A signed-in session: a short-lived access token and the refresh token that renews it.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct TokenResponse {
    access_token: String,
    /// Always `Bearer`.
    token_type: &'static str,
    /// Seconds the access token stays valid.
    expires_in: u64,
    /// Opaque; each use returns a new one and retires this one. Absent when the session is
    /// kept in the `tt_session` cookie.
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
    refresh_expires_at: DateTime<Utc>,
    user_id: Uuid,
}

impl From<auth::accounts::SessionTokens> for TokenResponse {
    fn from(t: auth::accounts::SessionTokens) -> Self {
        TokenResponse {
            access_token: t.access.token,
            token_type: "Bearer",
            expires_in: t.access.expires_in.as_secs(),
            refresh_token: Some(t.refresh_token),
            refresh_expires_at: t.refresh_expires_at,
            user_id: t.user_id,
        }
    }
}

/// Tokens must never be cached by a browser or a proxy. A session delivered by cookie
/// sets its refresh token as the cookie and leaves it out of the body.
fn session_answer(
    status: StatusCode,
    mut body: TokenResponse,
    delivery: SessionDelivery,
) -> Result<Response, ApiError> {
    let cookie = match delivery {
        SessionDelivery::Body => None,
        SessionDelivery::Cookie => {
            let token = body.refresh_token.take().unwrap_or_default();
            let lifetime = (body.refresh_expires_at - Utc::now()).num_seconds().max(0);
            Some(session_cookie(&token, lifetime)?)
        }
    };
    let mut response = (status, [(header::CACHE_CONTROL, "no-store")], Json(body)).into_response();
    if let Some(cookie) = cookie {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    Ok(response)
}

/// The `tt_session` cookie: sent only to `/api/auth`, only by the site itself, never to a
/// script. (Browsers accept `Secure` cookies from http://localhost and 127.0.0.1 too.)
fn session_cookie(token: &str, max_age_secs: i64) -> Result<HeaderValue, ApiError> {
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={token}; Path=/api/auth; Max-Age={max_age_secs}; HttpOnly; Secure; SameSite=Strict"
    ))
    .map_err(|e| ApiError::Internal(e.into()))
}

/// The refresh token of a refresh or logout: the body's, else the session cookie's.
fn refresh_token_of<'a>(body: &'a RefreshRequest, headers: &'a HeaderMap) -> Option<(&'a str, SessionDelivery)> {
    match body.refresh_token.as_deref() {
        Some(token) => Some((token, SessionDelivery::Body)),
        None => cookie(headers, SESSION_COOKIE).map(|token| (token, SessionDelivery::Cookie)),
    }
}

/// Create a traveller account; answers with a signed-in session.
#[utoipa::path(post, path = "/register", tag = "auth", request_body = RegisterRequest, security(()),
    params(SessionQuery),
    responses((status = 201, body = TokenResponse), (status = 409, description = "The email is taken"),
        (status = 422, description = "Invalid email, name, phone or too weak a password"),
        (status = 429, description = "Too many sign-ups and sign-ins from this address (`Retry-After`)"),
        (status = 503, description = "Too many sign-ups and sign-ins at once (`Retry-After`)")))]
pub(crate) async fn register(
    _: Public,
    State(accounts): State<Accounts>,
    ClientInfo(client): ClientInfo,
    ApiQuery(query): ApiQuery<SessionQuery>,
    ApiJson(body): ApiJson<RegisterRequest>,
) -> Result<Response, ApiError> {
    let registration = Registration {
        email: &body.email,
        password: &body.password,
        full_name: &body.full_name,
        phone: body.phone.as_deref(),
    };
    let tokens = accounts.register(&registration, &client).await.map_err(auth_error)?;
    session_answer(StatusCode::CREATED, tokens.into(), query.session.unwrap_or_default())
}

/// Log in with email and password. A wrong password and an unknown email get the same
/// answer; repeated failures of one email from one client address wait a growing delay
/// (429 `too_many_attempts` with `Retry-After`), which other addresses do not share.
#[utoipa::path(post, path = "/login", tag = "auth", request_body = LoginRequest, security(()),
    params(SessionQuery),
    responses((status = 200, body = TokenResponse), (status = 401, description = "Wrong email or password"),
        (status = 403, description = "The account is disabled"),
        (status = 429, description = "Too many failed attempts from this address, or sign-ins from it (`Retry-After`)"),
        (status = 503, description = "Too many sign-ins at once (`Retry-After`)")))]
pub(crate) async fn login(
    _: Public,
    State(accounts): State<Accounts>,
    ClientInfo(client): ClientInfo,
    ApiQuery(query): ApiQuery<SessionQuery>,
    ApiJson(body): ApiJson<LoginRequest>,
) -> Result<Response, ApiError> {
    let tokens = accounts.login(&body.email, &body.password, &client).await.map_err(auth_error)?;
    session_answer(StatusCode::OK, tokens.into(), query.session.unwrap_or_default())
}

/// Exchange a refresh token for a new access token and a new refresh token. Using a refresh
/// token again within seconds (two tabs refreshing at once) gets another new pair; later,
/// it ends that login on every device that shares it. No refresh renews a login past its
/// absolute lifetime (30 days from the login by default). A session kept in the
/// `tt_session` cookie sends `{}`: the cookie is used and renewed.
#[utoipa::path(post, path = "/refresh", tag = "auth", request_body = RefreshRequest, security(()),
    responses((status = 200, body = TokenResponse),
        (status = 401, description = "Unknown, expired or reused refresh token"),
        (status = 422, description = "No refresh token in the body and no session cookie")))]
pub(crate) async fn refresh(
    _: Public,
    State(accounts): State<Accounts>,
    ClientInfo(client): ClientInfo,
    headers: HeaderMap,
    ApiJson(body): ApiJson<RefreshRequest>,
) -> Result<Response, ApiError> {
    let Some((token, delivery)) = refresh_token_of(&body, &headers) else {
        return Err(ApiError::invalid_field(
            "missing_refresh_token",
            "refresh_token",
            "Send refresh_token, or the tt_session cookie of a web session",
        ));
    };
    let tokens = accounts.refresh(token, &client).await.map_err(auth_error)?;
    session_answer(StatusCode::OK, tokens.into(), delivery)
}

/// Log out this device: ends the login the refresh token (or the `tt_session` cookie)
/// belongs to, including its access tokens, and clears the cookie. Logging out twice is fine.
#[utoipa::path(post, path = "/logout", tag = "auth", request_body = RefreshRequest, security(()),
    responses((status = 204, description = "Logged out")))]
pub(crate) async fn logout(
    _: Public,
    State(accounts): State<Accounts>,
    ClientInfo(client): ClientInfo,
    headers: HeaderMap,
    ApiJson(body): ApiJson<RefreshRequest>,
) -> Result<Response, ApiError> {
    if let Some((token, _)) = refresh_token_of(&body, &headers) {
        accounts.logout(token, &client).await.map_err(auth_error)?;
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    if cookie(&headers, SESSION_COOKIE).is_some() {
        response.headers_mut().insert(header::SET_COOKIE, session_cookie("", 0)?);
    }
    Ok(response)
}

/// Log out every device of the signed-in user.
#[utoipa::path(post, path = "/logout-all", tag = "auth", security(("bearer" = ["profile:read"])),
    responses((status = 204, description = "Every session ended"), (status = 401, description = "Not signed in")))]
pub(crate) async fn logout_all(
    caller: Require<ProfileRead>,
    State(accounts): State<Accounts>,
    ClientInfo(client): ClientInfo,
) -> Result<StatusCode, ApiError> {
    accounts.logout_everywhere(&caller, &client).await.map_err(auth_error)?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct UserView {
    user_id: Uuid,
    email: String,
    full_name: String,
    phone: Option<String>,
    status: String,
    roles: Vec<String>,
    created_at: DateTime<Utc>,
}

impl From<auth::UserSummary> for UserView {
    fn from(u: auth::UserSummary) -> Self {
        let profile = u.profile;
        UserView {
            user_id: u.user_id,
            email: profile.email,
            full_name: profile.full_name,
            phone: profile.phone,
            status: u.status,
            roles: profile.roles,
            created_at: u.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct MeView {
    user_id: Uuid,
    email: String,
    full_name: String,
    phone: Option<String>,
    roles: Vec<String>,
    permissions: Vec<String>,
    /// Accommodations this user manages (asset managers).
    managed_accommodations: Vec<Uuid>,
}

/// The signed-in user: profile, roles, permissions and managed properties.
#[utoipa::path(get, path = "/me", tag = "auth", security(("bearer" = ["profile:read"])),
    responses((status = 200, body = MeView), (status = 401, description = "Not signed in")))]
pub(crate) async fn me(
    caller: Require<ProfileRead>,
    State(accounts): State<Accounts>,
) -> Result<Json<MeView>, ApiError> {
    let managed = accounts.assignments_of(caller.user_id).await?;
    let auth::Principal { user_id, profile, permissions, .. } = caller.principal;
    Ok(Json(MeView {
        user_id,
        email: profile.email,
        full_name: profile.full_name,
        phone: profile.phone,
        roles: profile.roles,
        permissions,
        managed_accommodations: managed,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ActivityView {
    action: String,
    outcome: String,
    client_addr: Option<String>,
    #[schema(value_type = Object)]
    details: serde_json::Value,
    at: DateTime<Utc>,
}

impl From<auth::ActivityRow> for ActivityView {
    fn from(r: auth::ActivityRow) -> Self {
        ActivityView {
            action: r.action,
            outcome: r.outcome,
            client_addr: r.client_addr,
            details: r.details,
            at: r.created_at,
        }
    }
}

/// The signed-in user's latest account activity (logins, refreshes, logouts, bookings).
#[utoipa::path(get, path = "/me/activity", tag = "auth", security(("bearer" = ["profile:read"])),
    responses((status = 200, body = [ActivityView]), (status = 401, description = "Not signed in")))]
pub(crate) async fn my_activity(
    caller: Require<ProfileRead>,
    State(accounts): State<Accounts>,
) -> Result<Json<Vec<ActivityView>>, ApiError> {
    let rows = accounts.activity_of(caller.user_id, 50).await?;
    Ok(Json(rows.into_iter().map(Into::into).collect()))
}

/// The public keys access tokens are signed with (JWKS), for any service that verifies
/// them. Keys rotated out stay listed until their grace period ends.
#[utoipa::path(get, path = "/jwks.json", tag = "auth", security(()),
    responses((status = 200, description = "A JWK Set of Ed25519 keys")))]
pub(crate) async fn jwks(_: Public, State(accounts): State<Accounts>) -> Response {
    let body = accounts.tokens().ring().jwks(Utc::now());
    ([(header::CACHE_CONTROL, "public, max-age=300")], Json(body)).into_response()
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct RoleView {
    code: String,
    description: String,
    permissions: Vec<String>,
}

impl From<auth::RoleRow> for RoleView {
    fn from(r: auth::RoleRow) -> Self {
        RoleView { code: r.code, description: r.description, permissions: r.permissions }
    }
}

/// The roles and the permissions each grants.
#[utoipa::path(get, path = "/roles", tag = "auth", security(("bearer" = ["users:read"])),
    responses((status = 200, body = [RoleView]), (status = 403, description = "Not an operator or admin")))]
pub(crate) async fn list_roles(
    _: Require<UsersRead>,
    State(accounts): State<Accounts>,
) -> Result<Json<Vec<RoleView>>, ApiError> {
    let roles = accounts.roles().await?;
    Ok(Json(roles.into_iter().map(Into::into).collect()))
}

/// The users list's tag (see `paging`), and its page size unless the query asks otherwise.
const USERS: &str = "users:email";
const USERS_PAGE: i64 = 50;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListUsersQuery {
    /// Page size, at most 100 (default 50).
    limit: Option<i64>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct UserPage {
    items: Vec<UserView>,
    next_cursor: Option<String>,
}

/// Every user, by email.
#[utoipa::path(get, path = "/users", tag = "auth", params(ListUsersQuery), security(("bearer" = ["users:read"])),
    responses((status = 200, body = UserPage), (status = 403, description = "Not an operator or admin")))]
pub(crate) async fn list_users(
    _: Require<UsersRead>,
    State(accounts): State<Accounts>,
    ApiQuery(query): ApiQuery<ListUsersQuery>,
) -> Result<Json<UserPage>, ApiError> {
    let size = PageSize::parse(query.limit, USERS_PAGE)?;
    let after: Option<String> = paging::after(USERS, query.cursor.as_deref())?;
    let rows = accounts.list_users(after.as_deref(), size.fetch()).await?;
    let Page { items, next_cursor } = Page::cut(rows, size, USERS, |u| u.profile.email.clone()).map(Into::into);
    Ok(Json(UserPage { items, next_cursor }))
}

fn user_not_found(user_id: Uuid) -> ApiError {
    ApiError::not_found("user_not_found", format!("No user {user_id}"))
}

/// One user.
#[utoipa::path(get, path = "/users/{user_id}", params(("user_id" = Uuid, Path, description = "The user's id")), tag = "auth", security(("bearer" = ["users:read"])),
    responses((status = 200, body = UserView), (status = 404, description = "No such user")))]
pub(crate) async fn get_user(
    _: Require<UsersRead>,
    State(accounts): State<Accounts>,
    ApiPath(user_id): ApiPath<Uuid>,
) -> Result<Json<UserView>, ApiError> {
    get_user_view(&accounts, user_id).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateUserRequest {
    /// `active` or `disabled`; disabling ends every session at once.
    #[schema(pattern = "^(active|disabled)$")]
    status: String,
}

/// Enable or disable a user.
#[utoipa::path(patch, path = "/users/{user_id}", params(("user_id" = Uuid, Path, description = "The user's id")), tag = "auth", request_body = UpdateUserRequest,
    security(("bearer" = ["users:manage"])),
    responses((status = 200, body = UserView), (status = 404, description = "No such user"), (status = 409, description = "Admins cannot disable themselves"),
        (status = 422, description = "Unknown status")))]
pub(crate) async fn update_user(
    caller: Require<UsersManage>,
    State(accounts): State<Accounts>,
    ClientInfo(client): ClientInfo,
    ApiPath(user_id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<UpdateUserRequest>,
) -> Result<Json<UserView>, ApiError> {
    if !matches!(body.status.as_str(), "active" | "disabled") {
        return Err(ApiError::invalid_field("invalid_status", "status", "status is `active` or `disabled`"));
    }
    if user_id == caller.user_id {
        return Err(ApiError::conflict("cannot_change_self", "Admins cannot disable themselves"));
    }
    if !accounts.set_status(user_id, &body.status).await? {
        return Err(user_not_found(user_id));
    }
    let details = json!({ "by": caller.user_id, "status": body.status });
    accounts.log(Some(user_id), "status_change", "success", &client, details).await;
    get_user_view(&accounts, user_id).await
}

/// Delete a user and everything of theirs in the auth context.
#[utoipa::path(delete, path = "/users/{user_id}", params(("user_id" = Uuid, Path, description = "The user's id")), tag = "auth", security(("bearer" = ["users:manage"])),
    responses((status = 204, description = "Deleted"), (status = 404, description = "No such user"),
        (status = 409, description = "Admins cannot delete themselves")))]
pub(crate) async fn delete_user(
    caller: Require<UsersManage>,
    State(accounts): State<Accounts>,
    ClientInfo(client): ClientInfo,
    ApiPath(user_id): ApiPath<Uuid>,
) -> Result<StatusCode, ApiError> {
    if user_id == caller.user_id {
        return Err(ApiError::conflict("cannot_change_self", "Admins cannot delete themselves"));
    }
    if !accounts.delete_user(user_id).await? {
        return Err(user_not_found(user_id));
    }
    let details = json!({ "deleted_user": user_id });
    accounts.log(Some(caller.user_id), "user_delete", "success", &client, details).await;
    Ok(StatusCode::NO_CONTENT)
}

async fn get_user_view(accounts: &Accounts, user_id: Uuid) -> Result<Json<UserView>, ApiError> {
    let user = accounts.find_user(user_id).await?.ok_or_else(|| user_not_found(user_id))?;
    Ok(Json(user.into()))
}

/// 404 unless the user exists.
async fn check_user(accounts: &Accounts, user_id: Uuid) -> Result<(), ApiError> {
    accounts.find_user(user_id).await?.map(drop).ok_or_else(|| user_not_found(user_id))
}

fn role_error(e: StoreError) -> ApiError {
    match e {
        StoreError::UnknownRole(role) => {
            ApiError::not_found("role_not_found", format!("No role {role}; roles are {}", auth::roles::ALL.join(", ")))
        }
        StoreError::Database(e) => e.into(),
        other => ApiError::Internal(other.into()),
    }
}

/// Grant a role.
#[utoipa::path(put, path = "/users/{user_id}/roles/{role}", params(("user_id" = Uuid, Path, description = "The user's id"), ("role" = String, Path, example = "operator")), tag = "auth", security(("bearer" = ["users:manage"])),
    responses((status = 200, body = UserView), (status = 404, description = "No such user or role")))]
pub(crate) async fn grant_role(
    caller: Require<UsersManage>,
    State(accounts): State<Accounts>,
    ClientInfo(client): ClientInfo,
    ApiPath((user_id, role)): ApiPath<(Uuid, String)>,
) -> Result<Json<UserView>, ApiError> {
    check_user(&accounts, user_id).await?;
    let changed = accounts.grant_role(user_id, &role, Some(caller.user_id)).await.map_err(role_error)?;
    if changed {
        let details = json!({ "by": caller.user_id, "role": role });
        accounts.log(Some(user_id), "role_grant", "success", &client, details).await;
    }
    get_user_view(&accounts, user_id).await
}

/// Revoke a role.
#[utoipa::path(delete, path = "/users/{user_id}/roles/{role}", params(("user_id" = Uuid, Path, description = "The user's id"), ("role" = String, Path, example = "operator")), tag = "auth", security(("bearer" = ["users:manage"])),
    responses((status = 200, body = UserView), (status = 404, description = "No such user or role"),
        (status = 409, description = "Admins cannot revoke their own admin role")))]
pub(crate) async fn revoke_role(
    caller: Require<UsersManage>,
    State(accounts): State<Accounts>,
    ClientInfo(client): ClientInfo,
    ApiPath((user_id, role)): ApiPath<(Uuid, String)>,
) -> Result<Json<UserView>, ApiError> {
    check_user(&accounts, user_id).await?;
    if user_id == caller.user_id && role == auth::roles::ADMIN {
        return Err(ApiError::conflict("cannot_change_self", "Admins cannot revoke their own admin role"));
    }
    if accounts.revoke_role(user_id, &role).await.map_err(role_error)? {
        let details = json!({ "by": caller.user_id, "role": role });
        accounts.log(Some(user_id), "role_revoke", "success", &client, details).await;
    }
    get_user_view(&accounts, user_id).await
}

async fn accommodation_id(catalog: &catalog::Catalog, code: &str) -> Result<Uuid, ApiError> {
    catalog
        .find_accommodation(code)
        .await?
        .map(|a| a.accommodation_id)
        .ok_or_else(|| ApiError::not_found("accommodation_not_found", format!("No accommodation {code}")))
}

/// Assign an accommodation to an asset manager.
#[utoipa::path(put, path = "/users/{user_id}/assignments/{accommodation}", params(("user_id" = Uuid, Path, description = "The user's id"), ("accommodation" = String, Path, description = "Accommodation code", example = "ujjayanta-heritage-hotel")), tag = "auth",
    security(("bearer" = ["users:manage"])),
    responses((status = 204, description = "Assigned"), (status = 404, description = "No such user or accommodation")))]
pub(crate) async fn assign(
    caller: Require<UsersManage>,
    State(accounts): State<Accounts>,
    State(catalog): State<catalog::Catalog>,
    ClientInfo(client): ClientInfo,
    ApiPath((user_id, accommodation)): ApiPath<(Uuid, String)>,
) -> Result<StatusCode, ApiError> {
    check_user(&accounts, user_id).await?;
    let accommodation_id = accommodation_id(&catalog, &accommodation).await?;
    if accounts.assign(user_id, accommodation_id, Some(caller.user_id)).await? {
        let details = json!({ "by": caller.user_id, "accommodation": accommodation });
        accounts.log(Some(user_id), "assignment_grant", "success", &client, details).await;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Take an accommodation away from an asset manager.
#[utoipa::path(delete, path = "/users/{user_id}/assignments/{accommodation}", params(("user_id" = Uuid, Path, description = "The user's id"), ("accommodation" = String, Path, description = "Accommodation code", example = "ujjayanta-heritage-hotel")), tag = "auth",
    security(("bearer" = ["users:manage"])),
    responses((status = 204, description = "Unassigned"), (status = 404, description = "No such user or accommodation")))]
pub(crate) async fn unassign(
    caller: Require<UsersManage>,
    State(accounts): State<Accounts>,
    State(catalog): State<catalog::Catalog>,
    ClientInfo(client): ClientInfo,
    ApiPath((user_id, accommodation)): ApiPath<(Uuid, String)>,
) -> Result<StatusCode, ApiError> {
    let accommodation_id = accommodation_id(&catalog, &accommodation).await?;
    if accounts.unassign(user_id, accommodation_id).await? {
        let details = json!({ "by": caller.user_id, "accommodation": accommodation });
        accounts.log(Some(user_id), "assignment_revoke", "success", &client, details).await;
    }
    Ok(StatusCode::NO_CONTENT)
}
