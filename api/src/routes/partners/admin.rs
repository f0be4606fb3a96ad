//! Partner administration (permission `partners:manage`): onboard and change partners,
//! issue, rotate and revoke their API keys, read and download their settlements, adjust,
//! approve and pay them.

use super::{
    AccessLogPage, AccessLogQuery, MAX_SETTLEMENTS, SettlementList, SettlementView, access_log_page, partner_error,
};
use crate::{
    access::{ClientInfo, PartnersManage, Require},
    error::ApiError,
    extract::{ApiJson, ApiPath, ApiQuery},
    money::MoneyDto,
    paging::{self, Page, PageSize},
};
use auth::Accounts;
use axum::{
    Json,
    extract::State,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use chrono::{DateTime, NaiveDate, Utc};
use contracts::settlement::settlement_schedule_id;
use partner::{
    CredentialRow, PartnerRow, Partners, SettlementRow,
    partners::{Changes, IssuedKey, Onboarding},
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::time::Duration;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct OnboardPartnerRequest {
    /// 3 to 40 lowercase letters, digits and dashes; fixed for good (it names the partner's
    /// settlement schedule and workflows).
    #[schema(example = "agartala-travels", pattern = "^[a-z][a-z0-9-]{1,38}[a-z0-9]$")]
    code: String,
    /// 1 to 120 characters, not only spaces.
    #[schema(example = "Agartala Travels Pvt Ltd", max_length = 120, format = "non-blank")]
    name: String,
    #[schema(example = "accounts@agartala-travels.in", format = Email, max_length = 254)]
    contact_email: String,
    /// Commission in basis points: 1250 is 12.5 %.
    #[schema(example = 1250, minimum = 0, maximum = 10000)]
    commission_bp: i64,
    /// `weekly` (default), `fortnightly` or `monthly`.
    #[schema(pattern = "^(weekly|fortnightly|monthly)$")]
    settlement_cycle: Option<String>,
    /// `active` (default), `suspended` or `closed`. Only active partners' keys are accepted.
    #[schema(pattern = "^(active|suspended|closed)$")]
    status: Option<String>,
    /// Requests a minute across all the partner's keys (default 600).
    #[schema(minimum = 1, maximum = 100000)]
    rate_limit_per_minute: Option<i64>,
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdatePartnerRequest {
    #[schema(max_length = 120, format = "non-blank")]
    name: Option<String>,
    #[schema(format = Email, max_length = 254)]
    contact_email: Option<String>,
    #[schema(minimum = 0, maximum = 10000)]
    commission_bp: Option<i64>,
    #[schema(pattern = "^(weekly|fortnightly|monthly)$")]
    settlement_cycle: Option<String>,
    #[schema(pattern = "^(active|suspended|closed)$")]
    status: Option<String>,
    #[schema(minimum = 1, maximum = 100000)]
    rate_limit_per_minute: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PartnerView {
    /// The value of the `BookingPartner` search attribute of the partner's bookings.
    partner_id: Uuid,
    code: String,
    name: String,
    contact_email: String,
    commission_bp: i32,
    settlement_cycle: String,
    status: String,
    rate_limit_per_minute: i32,
    /// The Temporal Schedule that settles this partner.
    #[schema(example = "settlement-agartala-travels")]
    settlement_schedule: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<PartnerRow> for PartnerView {
    fn from(p: PartnerRow) -> Self {
        PartnerView {
            partner_id: p.partner_id,
            settlement_schedule: settlement_schedule_id(&p.code),
            code: p.code,
            name: p.name,
            contact_email: p.contact_email,
            commission_bp: p.commission_bp,
            settlement_cycle: p.settlement_cycle,
            status: p.status.as_str().to_string(),
            rate_limit_per_minute: p.rate_limit_per_minute,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PartnerList {
    items: Vec<PartnerView>,
    next_cursor: Option<String>,
}

/// Onboard a partner. Its settlement schedule is created by the partner worker (within
/// `TT_SETTLEMENT_SCHEDULE_SYNC_SECS`) or at once by the `settlement-schedules` command.
#[utoipa::path(post, path = "", tag = "partners", request_body = OnboardPartnerRequest,
    security(("bearer" = ["partners:manage"])),
    responses((status = 201, body = PartnerView, links(("partner" = (operation_id = "get_partner", parameters(("partner" = "$response.body#/code")))))), (status = 401, description = "Not signed in"),
        (status = 403, description = "Not allowed to manage partners"),
        (status = 409, description = "The code is taken"), (status = 422, description = "An invalid field")))]
pub(crate) async fn onboard_partner(
    _: Require<PartnersManage>,
    State(partners): State<Partners>,
    ApiJson(body): ApiJson<OnboardPartnerRequest>,
) -> Result<Response, ApiError> {
    let onboarding = Onboarding {
        code: &body.code,
        name: &body.name,
        contact_email: &body.contact_email,
        commission_bp: body.commission_bp,
        settlement_cycle: body.settlement_cycle.as_deref(),
        status: body.status.as_deref(),
        rate_limit_per_minute: body.rate_limit_per_minute,
    };
    let created = partners.onboard(&onboarding).await.map_err(partner_error)?;
    let location = format!("/api/partners/{}", created.code);
    let mut response = (StatusCode::CREATED, Json(PartnerView::from(created))).into_response();
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    Ok(response)
}

/// The partner list's cursors: the code of a page's last partner.
const PARTNER_LIST: &str = "partners";

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListPartnersQuery {
    /// Page size, at most 100 (default 50).
    limit: Option<i64>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// Every partner, by code.
#[utoipa::path(get, path = "", tag = "partners", params(ListPartnersQuery),
    security(("bearer" = ["partners:manage"])),
    responses((status = 200, body = PartnerList), (status = 401, description = "Not signed in"),
        (status = 403, description = "Not allowed to manage partners")))]
pub(crate) async fn list_partners(
    _: Require<PartnersManage>,
    State(partners): State<Partners>,
    ApiQuery(query): ApiQuery<ListPartnersQuery>,
) -> Result<Json<PartnerList>, ApiError> {
    let size = PageSize::parse(query.limit, 50)?;
    let after: Option<String> = paging::after(PARTNER_LIST, query.cursor.as_deref())?;
    let rows = partners.list_partners(after.as_deref(), size.fetch()).await?;
    let page = Page::cut(rows, size, PARTNER_LIST, |p| p.code.clone()).map(PartnerView::from);
    Ok(Json(PartnerList { items: page.items, next_cursor: page.next_cursor }))
}

#[utoipa::path(get, path = "/{partner}", tag = "partners", security(("bearer" = ["partners:manage"])),
    params(("partner" = String, Path, description = "Partner code", example = "agartala-travels")),
    responses((status = 200, body = PartnerView), (status = 404, description = "No such partner")))]
pub(crate) async fn get_partner(
    _: Require<PartnersManage>,
    State(partners): State<Partners>,
    ApiPath(code): ApiPath<String>,
) -> Result<Json<PartnerView>, ApiError> {
    Ok(Json(partners.partner(&code).await.map_err(partner_error)?.into()))
}

/// Change a partner's name, contact, commission, settlement cycle, status or rate limit. A
/// suspended or closed partner's keys are refused from the next request; a changed cycle
/// moves its settlement schedule on the partner worker's next pass.
#[utoipa::path(patch, path = "/{partner}", tag = "partners", request_body = UpdatePartnerRequest,
    security(("bearer" = ["partners:manage"])),
    params(("partner" = String, Path, description = "Partner code")),
    responses((status = 200, body = PartnerView), (status = 404, description = "No such partner"),
        (status = 422, description = "An invalid field")))]
pub(crate) async fn update_partner(
    _: Require<PartnersManage>,
    State(partners): State<Partners>,
    ApiPath(code): ApiPath<String>,
    ApiJson(body): ApiJson<UpdatePartnerRequest>,
) -> Result<Json<PartnerView>, ApiError> {
    let changes = Changes {
        name: body.name.as_deref(),
        contact_email: body.contact_email.as_deref(),
        commission_bp: body.commission_bp,
        settlement_cycle: body.settlement_cycle.as_deref(),
        status: body.status.as_deref(),
        rate_limit_per_minute: body.rate_limit_per_minute,
    };
    Ok(Json(partners.update(&code, &changes).await.map_err(partner_error)?.into()))
}

#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct IssueKeyRequest {
    /// For people: where the key is used.
    #[schema(example = "booking engine, production")]
    label: Option<String>,
    /// When the key stops working (in the future); never, if absent.
    expires_at: Option<DateTime<Utc>>,
    /// This key's own limit a minute; the partner's limit applies to all its keys together.
    #[schema(minimum = 1, maximum = 100000)]
    rate_limit_per_minute: Option<i64>,
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RotateKeyRequest {
    /// How long the old key keeps working beside the new one (at most 30 days; 0 ends it now).
    #[schema(example = 86400, maximum = 2592000)]
    grace_period_secs: u64,
    /// When the new key stops working; never, if absent.
    expires_at: Option<DateTime<Utc>>,
}

/// A key as listed: never the key itself.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct KeyView {
    #[schema(example = "k7m2q9xw3a")]
    key_prefix: String,
    label: Option<String>,
    /// `active`, `revoked` or `expired`.
    status: String,
    rate_limit_per_minute: Option<i32>,
    expires_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
    last_used_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
}

impl From<CredentialRow> for KeyView {
    fn from(c: CredentialRow) -> Self {
        let status = if c.revoked_at.is_some() {
            "revoked"
        } else if c.active {
            "active"
        } else {
            "expired"
        };
        KeyView {
            key_prefix: c.key_prefix,
            label: c.label,
            status: status.into(),
            rate_limit_per_minute: c.rate_limit_per_minute,
            expires_at: c.expires_at,
            revoked_at: c.revoked_at,
            last_used_at: c.last_used_at,
            created_at: c.created_at,
        }
    }
}

/// A new key. `key` is shown this once: only its hash is kept.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct IssuedKeyView {
    #[schema(example = "tt_live_k7m2q9xw3a_0123456789abcdefghijklmnopqrstuvwxyz0123")]
    key: String,
    #[serde(flatten)]
    details: KeyView,
}

impl From<IssuedKey> for IssuedKeyView {
    fn from(k: IssuedKey) -> Self {
        IssuedKeyView { key: k.key, details: k.credential.into() }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct RotatedKeyView {
    /// The replacement, shown this once.
    new_key: IssuedKeyView,
    /// The rotated key, now expiring at the end of its grace period.
    previous: KeyView,
}

/// A secret must not stay in a browser's or a proxy's cache.
fn no_store<T: Serialize>(status: StatusCode, body: T) -> Response {
    (status, [(header::CACHE_CONTROL, "no-store")], Json(body)).into_response()
}

/// Issue an API key for a partner. The answer is the only time the key is shown.
#[utoipa::path(post, path = "/{partner}/keys", tag = "partners", request_body = IssueKeyRequest,
    security(("bearer" = ["partners:manage"])),
    params(("partner" = String, Path, description = "Partner code")),
    responses((status = 201, body = IssuedKeyView, links(("keys" = (operation_id = "list_keys", parameters(("partner" = "$request.path.partner")))))), (status = 404, description = "No such partner"),
        (status = 422, description = "An expiry in the past or an invalid limit")))]
pub(crate) async fn issue_key(
    caller: Require<PartnersManage>,
    State(partners): State<Partners>,
    State(accounts): State<Accounts>,
    ClientInfo(client): ClientInfo,
    ApiPath(code): ApiPath<String>,
    ApiJson(body): ApiJson<IssueKeyRequest>,
) -> Result<Response, ApiError> {
    let issued = partners
        .issue_key(&code, body.label.as_deref(), body.expires_at, body.rate_limit_per_minute)
        .await
        .map_err(partner_error)?;
    tracing::info!(partner = %code, key_prefix = %issued.credential.key_prefix, by = %caller.user_id,
        client = ?client.addr, "partner API key issued");
    // Who gave whom a key, in the stored activity log (the prefix only: never the key).
    let details = json!({ "partner": code, "key_prefix": issued.credential.key_prefix,
        "expires_at": issued.credential.expires_at, "rate_limit_per_minute": body.rate_limit_per_minute });
    accounts.log(Some(caller.user_id), "partner_key_issue", "success", &client, details).await;
    Ok(no_store(StatusCode::CREATED, IssuedKeyView::from(issued)))
}

/// A partner's keys, newest first (prefixes and state only).
#[utoipa::path(get, path = "/{partner}/keys", tag = "partners", security(("bearer" = ["partners:manage"])),
    params(("partner" = String, Path, description = "Partner code")),
    responses((status = 200, body = Vec<KeyView>), (status = 404, description = "No such partner")))]
pub(crate) async fn list_keys(
    _: Require<PartnersManage>,
    State(partners): State<Partners>,
    ApiPath(code): ApiPath<String>,
) -> Result<Json<Vec<KeyView>>, ApiError> {
    Ok(Json(partners.keys(&code).await.map_err(partner_error)?.into_iter().map(Into::into).collect()))
}

/// Rotate a key: a new key is issued now, and the old one keeps working for the grace
/// period, then expires.
#[utoipa::path(post, path = "/{partner}/keys/{key_prefix}/rotate", tag = "partners",
    request_body = RotateKeyRequest, security(("bearer" = ["partners:manage"])),
    params(("partner" = String, Path, description = "Partner code"), ("key_prefix" = String, Path)),
    responses((status = 201, body = RotatedKeyView), (status = 404, description = "No such partner or key"),
        (status = 409, description = "The key is revoked or expired already"),
        (status = 422, description = "Grace period over 30 days, or an expiry in the past")))]
pub(crate) async fn rotate_key(
    caller: Require<PartnersManage>,
    State(partners): State<Partners>,
    State(accounts): State<Accounts>,
    ClientInfo(client): ClientInfo,
    ApiPath((code, prefix)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<RotateKeyRequest>,
) -> Result<Response, ApiError> {
    let grace = Duration::from_secs(body.grace_period_secs);
    let (new_key, previous) =
        partners.rotate_key(&code, &prefix, grace, body.expires_at).await.map_err(partner_error)?;
    tracing::info!(partner = %code, old = %prefix, new = %new_key.credential.key_prefix, grace_secs = grace.as_secs(),
        by = %caller.user_id, "partner API key rotated");
    let details = json!({ "partner": code, "key_prefix": prefix, "new_key_prefix": new_key.credential.key_prefix,
        "grace_period_secs": grace.as_secs(), "old_key_expires_at": previous.expires_at });
    accounts.log(Some(caller.user_id), "partner_key_rotate", "success", &client, details).await;
    Ok(no_store(StatusCode::CREATED, RotatedKeyView { new_key: new_key.into(), previous: previous.into() }))
}

/// Revoke a key: refused from the next request on.
#[utoipa::path(delete, path = "/{partner}/keys/{key_prefix}", tag = "partners",
    security(("bearer" = ["partners:manage"])),
    params(("partner" = String, Path, description = "Partner code"), ("key_prefix" = String, Path)),
    responses((status = 200, body = KeyView), (status = 404, description = "No such partner or key")))]
pub(crate) async fn revoke_key(
    caller: Require<PartnersManage>,
    State(partners): State<Partners>,
    State(accounts): State<Accounts>,
    ClientInfo(client): ClientInfo,
    ApiPath((code, prefix)): ApiPath<(String, String)>,
) -> Result<Json<KeyView>, ApiError> {
    let revoked = partners.revoke_key(&code, &prefix).await.map_err(partner_error)?;
    tracing::info!(partner = %code, key_prefix = %prefix, by = %caller.user_id, "partner API key revoked");
    let details = json!({ "partner": code, "key_prefix": prefix });
    accounts.log(Some(caller.user_id), "partner_key_revoke", "success", &client, details).await;
    Ok(Json(revoked.into()))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct SettlementsQuery {
    /// Periods starting on or after this date.
    #[param(value_type = Option<String>, format = Date)]
    pub(crate) from: Option<NaiveDate>,
    /// Periods starting before this date.
    #[param(value_type = Option<String>, format = Date)]
    pub(crate) to: Option<NaiveDate>,
}

/// The partner `code` and its settlements within `query`, newest first.
async fn settlements_in(
    partners: &Partners,
    code: &str,
    query: &SettlementsQuery,
) -> Result<(PartnerRow, Vec<SettlementRow>), ApiError> {
    let partner = partners.partner(code).await.map_err(partner_error)?;
    let rows = partners.settlements_of(partner.partner_id, query.from, query.to, MAX_SETTLEMENTS).await?;
    Ok((partner, rows))
}

/// A partner's settlements, newest first.
#[utoipa::path(get, path = "/{partner}/settlements", tag = "partners",
    security(("bearer" = ["partners:manage"])),
    params(("partner" = String, Path, description = "Partner code"), SettlementsQuery),
    responses((status = 200, body = SettlementList), (status = 404, description = "No such partner")))]
pub(crate) async fn list_settlements(
    _: Require<PartnersManage>,
    State(partners): State<Partners>,
    ApiPath(code): ApiPath<String>,
    ApiQuery(query): ApiQuery<SettlementsQuery>,
) -> Result<Json<SettlementList>, ApiError> {
    let (_, rows) = settlements_in(&partners, &code, &query).await?;
    Ok(Json(SettlementList { items: rows.into_iter().map(SettlementView::for_admins).collect() }))
}

/// Download a partner's settlement statement as CSV: one line per settled period, oldest
/// first, amounts in rupees.
#[utoipa::path(get, path = "/{partner}/settlements/statement.csv", tag = "partners",
    security(("bearer" = ["partners:manage"])),
    params(("partner" = String, Path, description = "Partner code"), SettlementsQuery),
    responses((status = 200, content_type = "text/csv", body = String), (status = 404, description = "No such partner")))]
pub(crate) async fn settlement_statement(
    _: Require<PartnersManage>,
    State(partners): State<Partners>,
    ApiPath(code): ApiPath<String>,
    ApiQuery(query): ApiQuery<SettlementsQuery>,
) -> Result<Response, ApiError> {
    let (partner, mut rows) = settlements_in(&partners, &code, &query).await?;
    rows.reverse();
    let body = partner::statement::csv(&partner.code, &rows);
    let disposition = format!("attachment; filename=\"settlements-{}.csv\"", partner.code);
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        body,
    )
        .into_response())
}

/// A partner's use of the partner API: its access log, newest first, by time range, route
/// and status code.
#[utoipa::path(get, path = "/{partner}/access-log", tag = "partners",
    security(("bearer" = ["partners:manage"])),
    params(("partner" = String, Path, description = "Partner code"), AccessLogQuery),
    responses((status = 200, body = AccessLogPage), (status = 404, description = "No such partner")))]
pub(crate) async fn access_log(
    _: Require<PartnersManage>,
    State(partners): State<Partners>,
    ApiPath(code): ApiPath<String>,
    ApiQuery(query): ApiQuery<AccessLogQuery>,
) -> Result<Json<AccessLogPage>, ApiError> {
    let partner = partners.partner(&code).await.map_err(partner_error)?;
    Ok(Json(access_log_page(&partners, partner.partner_id, &query).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PayoutAccountRequest {
    /// The account holder's name, 4 to 120 characters.
    #[schema(example = "Agartala Travels Pvt Ltd", min_length = 4, max_length = 120, format = "non-blank")]
    name: String,
    #[schema(example = "SBIN0001234", pattern = "^[A-Z]{4}0[A-Z0-9]{6}$")]
    ifsc: String,
    #[schema(example = "30218476510", pattern = "^[A-Za-z0-9]{5,35}$")]
    account_number: String,
}

/// A partner's bank account as shown back: the number's last four characters only.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PayoutAccountView {
    name: String,
    ifsc: String,
    #[schema(example = "•••• 6510")]
    account_number: String,
}

/// Set the bank account a partner's settlements are paid to (replacing any earlier one).
#[utoipa::path(put, path = "/{partner}/payout-account", tag = "partners", request_body = PayoutAccountRequest,
    security(("bearer" = ["partners:manage"])),
    params(("partner" = String, Path, description = "Partner code")),
    responses((status = 200, body = PayoutAccountView), (status = 404, description = "No such partner"),
        (status = 422, description = "An invalid name, IFSC or account number")))]
pub(crate) async fn set_payout_account(
    caller: Require<PartnersManage>,
    State(partners): State<Partners>,
    State(accounts): State<Accounts>,
    ClientInfo(client): ClientInfo,
    ApiPath(code): ApiPath<String>,
    ApiJson(body): ApiJson<PayoutAccountRequest>,
) -> Result<Json<PayoutAccountView>, ApiError> {
    let account = partner::PayoutAccountRow {
        payout_account_name: body.name,
        payout_ifsc: body.ifsc,
        payout_account_number: body.account_number,
    };
    partners.set_payout_account(&code, &account).await.map_err(partner_error)?;
    let details = json!({ "partner": code, "ifsc": account.payout_ifsc });
    accounts.log(Some(caller.user_id), "partner_payout_account_set", "success", &client, details).await;
    let last4: String =
        account.payout_account_number.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect();
    Ok(Json(PayoutAccountView {
        name: account.payout_account_name,
        ifsc: account.payout_ifsc,
        account_number: format!("•••• {last4}"),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AdjustSettlementRequest {
    /// Added to commission − TDS (negative to take off), replacing any earlier adjustment.
    adjustment: MoneyDto,
    /// Why, 1 to 500 characters.
    #[schema(min_length = 1, max_length = 500, format = "non-blank")]
    reason: String,
}

/// Correct a computed settlement's payout, with a reason. The admin who adjusts it cannot
/// approve it.
#[utoipa::path(post, path = "/{partner}/settlements/{period_start}/adjust", tag = "partners",
    request_body = AdjustSettlementRequest, security(("bearer" = ["partners:manage"])),
    params(("partner" = String, Path, description = "Partner code"),
        ("period_start" = String, Path, format = Date, description = "The settlement's first day")),
    responses((status = 200, body = SettlementView), (status = 404, description = "No such partner or settlement"),
        (status = 409, description = "Approved or paid already"),
        (status = 422, description = "An invalid amount or reason, or a negative payout")))]
pub(crate) async fn adjust_settlement(
    caller: Require<PartnersManage>,
    State(partners): State<Partners>,
    ApiPath((code, period_start)): ApiPath<(String, NaiveDate)>,
    ApiJson(body): ApiJson<AdjustSettlementRequest>,
) -> Result<Json<SettlementView>, ApiError> {
    if body.adjustment.currency != "INR" {
        return Err(ApiError::invalid_field("unsupported_currency", "adjustment.currency", "Settlements are in INR"));
    }
    let row = partners
        .adjust_settlement(&code, period_start, body.adjustment.amount, &body.reason, caller.user_id)
        .await
        .map_err(partner_error)?;
    tracing::info!(partner = %code, %period_start, adjustment = body.adjustment.amount, by = %caller.user_id, "settlement adjusted");
    Ok(Json(SettlementView::for_admins(row)))
}

/// Approve a computed settlement for payment. Four eyes: an admin who adjusted it gets 403.
#[utoipa::path(post, path = "/{partner}/settlements/{period_start}/approve", tag = "partners",
    security(("bearer" = ["partners:manage"])),
    params(("partner" = String, Path, description = "Partner code"),
        ("period_start" = String, Path, format = Date, description = "The settlement's first day")),
    responses((status = 200, body = SettlementView), (status = 403, description = "The approver adjusted it"),
        (status = 404, description = "No such partner or settlement"),
        (status = 409, description = "Approved or paid already")))]
pub(crate) async fn approve_settlement(
    caller: Require<PartnersManage>,
    State(partners): State<Partners>,
    State(accounts): State<Accounts>,
    ClientInfo(client): ClientInfo,
    ApiPath((code, period_start)): ApiPath<(String, NaiveDate)>,
) -> Result<Json<SettlementView>, ApiError> {
    let row = partners.approve_settlement(&code, period_start, caller.user_id).await.map_err(partner_error)?;
    let details = json!({ "partner": code, "period_start": period_start, "payout": row.payout_paise });
    accounts.log(Some(caller.user_id), "settlement_approve", "success", &client, details).await;
    Ok(Json(SettlementView::for_admins(row)))
}

/// Pay an approved settlement to the partner's bank account through the gateway's payouts
/// (the `SettlementPayout` workflow, `payout-<partner>-<period start>`). Asking again while
/// it runs, or once paid, changes nothing; after a payout the bank turned back every time,
/// asking again tries anew.
#[utoipa::path(post, path = "/{partner}/settlements/{period_start}/pay", tag = "partners",
    security(("bearer" = ["partners:manage"])),
    params(("partner" = String, Path, description = "Partner code"),
        ("period_start" = String, Path, format = Date, description = "The settlement's first day")),
    responses((status = 202, body = SettlementView, description = "The payout runs; read the settlements for `paid`"),
        (status = 404, description = "No such partner or settlement"),
        (status = 409, description = "Not approved, or no bank account on record"),
        (status = 422, description = "Nothing to pay"),
        (status = 503, description = "Temporal is unreachable; try again")))]
pub(crate) async fn pay_settlement(
    caller: Require<PartnersManage>,
    State(state): State<crate::state::AppState>,
    ClientInfo(client): ClientInfo,
    ApiPath((code, period_start)): ApiPath<(String, NaiveDate)>,
) -> Result<Response, ApiError> {
    let (partner, row) = state.partners.settlement(&code, period_start).await.map_err(partner_error)?;
    partner::partners::payable(&row).map_err(partner_error)?;
    if row.status == partner::SettlementStatus::Approved
        && state.partners.payout_account(partner.partner_id).await?.is_none()
    {
        return Err(ApiError::conflict("no_payout_account", format!("Partner {code} has no bank account on record")));
    }
    crate::use_cases::payout::start_payout(&state, &partner.code, &row).await?;
    let details = json!({ "partner": code, "period_start": period_start, "payout": row.payout_paise });
    state.accounts.log(Some(caller.user_id), "settlement_pay", "success", &client, details).await;
    Ok((StatusCode::ACCEPTED, Json(SettlementView::for_admins(row))).into_response())
}
