//! Partners: the admin API (onboarding, keys, settlement statements) under `/api/partners`,
//! and the versioned partner API under `/api/partners/v1`, where partners authenticate with
//! their API keys and every request passes the [`gate`] (key check, rate limits, access log).

pub(crate) mod admin;
pub(crate) mod gate;
pub(crate) mod v1;

use crate::{
    error::ApiError,
    paging::{self, Page, PageSize},
    routes::MoneyDto,
    state::AppState,
};
use chrono::{DateTime, NaiveDate, Utc};
use partner::{AccessLogFilter, AccessLogLine, PartnerError, Partners, SettlementRow};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

/// The admin API, served under `/api/partners`.
pub(crate) fn admin_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(admin::onboard_partner, admin::list_partners))
        .routes(routes!(admin::get_partner, admin::update_partner))
        .routes(routes!(admin::issue_key, admin::list_keys))
        .routes(routes!(admin::revoke_key))
        .routes(routes!(admin::rotate_key))
        .routes(routes!(admin::list_settlements))
        .routes(routes!(admin::settlement_statement))
        .routes(routes!(admin::adjust_settlement))
        .routes(routes!(admin::approve_settlement))
        .routes(routes!(admin::pay_settlement))
        .routes(routes!(admin::set_payout_account))
        .routes(routes!(admin::access_log))
}

/// The partner API, served under `/api/partners/v1` behind [`gate`].
pub(crate) fn v1_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(v1::availability))
        .routes(routes!(v1::quote))
        .routes(routes!(v1::create_booking, v1::list_bookings))
        .routes(routes!(v1::get_booking))
        .routes(routes!(v1::cancel_booking))
        .routes(routes!(v1::create_package_booking, v1::list_package_bookings))
        .routes(routes!(v1::get_package_booking))
        .routes(routes!(v1::settlements))
        .routes(routes!(v1::access_log))
}

/// The partner context's errors in the API's shape.
pub(crate) fn partner_error(e: PartnerError) -> ApiError {
    match e {
        PartnerError::Invalid { field, message } => ApiError::invalid_field("invalid_field", field, message),
        PartnerError::CodeTaken(_) => ApiError::conflict("partner_code_taken", e.to_string()),
        PartnerError::PartnerNotFound(_) => ApiError::not_found("partner_not_found", e.to_string()),
        PartnerError::KeyNotFound { .. } => ApiError::not_found("api_key_not_found", e.to_string()),
        PartnerError::KeyNotActive(_) => ApiError::conflict("api_key_not_active", e.to_string()),
        PartnerError::SettlementNotFound { .. } => ApiError::not_found("settlement_not_found", e.to_string()),
        PartnerError::SettlementStatus { needed: "approved", .. } => ApiError::conflict("not_approved", e.to_string()),
        PartnerError::SettlementStatus { .. } => ApiError::conflict("not_computed", e.to_string()),
        PartnerError::ApproverChangedIt => ApiError::forbidden("approver_changed_it", e.to_string()),
        PartnerError::Database(e) => e.into(),
    }
}

/// One settled period of a partner.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SettlementView {
    #[schema(value_type = String, format = Date, example = "2026-01-05")]
    pub period_start: NaiveDate,
    /// Exclusive, like a stay's check-out.
    #[schema(value_type = String, format = Date, example = "2026-01-12")]
    pub period_end: NaiveDate,
    /// Bookings confirmed in the period.
    pub bookings: i32,
    /// Refunds given in the period, on any of the partner's bookings.
    pub refunds: i32,
    /// 1250 is 12.5 %.
    pub commission_bp: i32,
    pub collected: MoneyDto,
    pub refunded: MoneyDto,
    /// Rate × (collected − refunded), rounded half up to the paisa; negative when refunds
    /// exceed the period's collections.
    pub commission: MoneyDto,
    /// TDS under section 194H: 2 % of the commission, rounded half up to the paisa.
    pub tds: MoneyDto,
    /// Commission − TDS + adjustment.
    pub payout: MoneyDto,
    /// `computed`, `approved` or `paid`.
    pub status: String,
    pub settled_at: DateTime<Utc>,
    /// An admin's correction of the payout (signed; zero when none), and why.
    pub adjustment: MoneyDto,
    pub adjustment_reason: Option<String>,
    pub approved_at: Option<DateTime<Utc>>,
    pub paid_at: Option<DateTime<Utc>>,
    /// The gateway's payout id that paid it, and the bank's transfer reference (UTR).
    pub payout_reference: Option<String>,
    pub payout_utr: Option<String>,
    /// Admins only: who adjusted and who approved it, payouts tried, and why the last one
    /// was turned back while it stays unpaid.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changed_by: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approved_by: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payout_attempts: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payout_failure: Option<String>,
}

impl SettlementView {
    /// With what only admins see.
    pub(crate) fn for_admins(r: SettlementRow) -> Self {
        let (changed_by, approved_by, attempts, failure) =
            (r.changed_by, r.approved_by, r.payout_attempts, r.payout_failure.clone());
        SettlementView {
            changed_by,
            approved_by,
            payout_attempts: Some(attempts),
            payout_failure: failure,
            ..SettlementView::from(r)
        }
    }
}

impl From<SettlementRow> for SettlementView {
    fn from(r: SettlementRow) -> Self {
        let money = |a| MoneyDto::new(a, &r.currency);
        SettlementView {
            period_start: r.period_start,
            period_end: r.period_end,
            bookings: r.bookings_count,
            refunds: r.refunds_count,
            commission_bp: r.commission_bp,
            collected: money(r.collected_paise),
            refunded: money(r.refunded_paise),
            commission: money(r.commission_paise),
            tds: money(r.tds_paise),
            payout: money(r.payout_paise),
            status: r.status.as_str().into(),
            settled_at: r.created_at,
            adjustment: money(r.adjustment_paise),
            adjustment_reason: r.adjustment_reason,
            approved_at: r.approved_at,
            paid_at: r.paid_at,
            payout_reference: r.payout_id,
            payout_utr: r.payout_utr,
            changed_by: None,
            approved_by: None,
            payout_attempts: None,
            payout_failure: None,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SettlementList {
    pub items: Vec<SettlementView>,
}

/// The longest list of settlements one request returns (about two years of weeks).
pub(crate) const MAX_SETTLEMENTS: i64 = 120;

/// Which lines of a partner's access log to read, newest first, and the page.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct AccessLogQuery {
    /// From this time on.
    from: Option<DateTime<Utc>>,
    /// Before this time.
    to: Option<DateTime<Utc>>,
    /// One route, as its template: `/api/partners/v1/bookings/{booking_ref}`.
    #[param(example = "/api/partners/v1/bookings")]
    route: Option<String>,
    /// One status code.
    #[param(minimum = 100, maximum = 599, example = 429)]
    status: Option<i32>,
    /// Page size, at most 100 (default 50).
    limit: Option<i64>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// One request to the partner API.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct AccessLogLineView {
    pub at: DateTime<Utc>,
    /// The key the request came with; absent when it named none that exists.
    #[schema(example = "k7m2q9xw3a")]
    pub key_prefix: Option<String>,
    #[schema(example = "POST")]
    pub method: String,
    #[schema(example = "/api/partners/v1/bookings")]
    pub route: String,
    #[schema(example = 202)]
    pub status: i32,
    pub latency_ms: i32,
}

impl From<AccessLogLine> for AccessLogLineView {
    fn from(line: AccessLogLine) -> Self {
        AccessLogLineView {
            at: line.created_at,
            key_prefix: line.key_prefix,
            method: line.method,
            route: line.route,
            status: line.status,
            latency_ms: line.latency_ms,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct AccessLogPage {
    pub items: Vec<AccessLogLineView>,
    /// Pass as `cursor` for the next page; absent on the last.
    pub next_cursor: Option<String>,
}

const ACCESS_LOG_LIST: &str = "partner-access-log";

/// A page of the access log of `partner_id`, for its admins and for the partner itself.
pub(crate) async fn access_log_page(
    partners: &Partners,
    partner_id: Uuid,
    query: &AccessLogQuery,
) -> Result<AccessLogPage, ApiError> {
    if let (Some(from), Some(to)) = (query.from, query.to)
        && to <= from
    {
        return Err(ApiError::invalid_field("invalid_date_range", "to", "`to` is after `from`"));
    }
    if query.status.is_some_and(|status| !(100..=599).contains(&status)) {
        return Err(ApiError::invalid_field("invalid_status", "status", "A status code is 100 to 599"));
    }
    let size = PageSize::parse(query.limit, 50)?;
    let after: Option<(DateTime<Utc>, i64)> = paging::after(ACCESS_LOG_LIST, query.cursor.as_deref())?;
    let filter = AccessLogFilter { from: query.from, to: query.to, route: query.route.clone(), status: query.status };
    let rows = partners.access_log_of(partner_id, &filter, after, size.fetch()).await?;
    let page = Page::cut(rows, size, ACCESS_LOG_LIST, |line| (line.created_at, line.api_access_log_id));
    Ok(AccessLogPage { items: page.items.into_iter().map(Into::into).collect(), next_cursor: page.next_cursor })
}
