//! Partners: the admin API (onboarding, keys, settlement statements) under `/api/partners`,
//! and the versioned partner API under `/api/partners/v1`, where partners authenticate with
//! their API keys and every request passes the [`gate`] (key check, rate limits, access log).

pub(crate) mod admin;
pub(crate) mod gate;
pub(crate) mod v1;

use crate::{error::ApiError, routes::MoneyDto, state::AppState};
use chrono::{DateTime, NaiveDate, Utc};
use partner::{PartnerError, SettlementRow};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

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
}

/// The partner API, served under `/api/partners/v1` behind [`gate`].
pub(crate) fn v1_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(v1::availability))
        .routes(routes!(v1::quote))
        .routes(routes!(v1::create_booking, v1::list_bookings))
        .routes(routes!(v1::get_booking))
        .routes(routes!(v1::cancel_booking))
        .routes(routes!(v1::settlements))
}

/// The partner context's errors in the API's shape.
pub(crate) fn partner_error(e: PartnerError) -> ApiError {
    match e {
        PartnerError::Invalid { field, message } => ApiError::invalid_field("invalid_field", field, message),
        PartnerError::CodeTaken(_) => ApiError::conflict("partner_code_taken", e.to_string()),
        PartnerError::PartnerNotFound(_) => ApiError::not_found("partner_not_found", e.to_string()),
        PartnerError::KeyNotFound { .. } => ApiError::not_found("api_key_not_found", e.to_string()),
        PartnerError::KeyNotActive(_) => ApiError::conflict("api_key_not_active", e.to_string()),
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
    /// Commission − TDS.
    pub payout: MoneyDto,
    /// `computed`, `approved` or `paid`.
    pub status: String,
    pub settled_at: DateTime<Utc>,
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
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SettlementList {
    pub items: Vec<SettlementView>,
}

/// The longest list of settlements one request returns (about two years of weeks).
pub(crate) const MAX_SETTLEMENTS: i64 = 120;
