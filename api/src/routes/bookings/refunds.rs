//! Operators' refunds of paid bookings: full or partial, idempotent by key, never more than
//! what was captured less what was refunded; and every refund of a booking (cancellations'
//! too) with where it stands.

use super::idempotency_key;
use crate::{
    access::{BookingsRefund, ClientInfo, Require},
    error::ApiError,
    extract::{ApiJson, ApiPath},
    money::MoneyDto,
    state::AppState,
    use_cases::refund::{RefundOrder, start_refund},
};
use axum::{
    Json,
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use chrono::{DateTime, Utc};
use contracts::BookingRef;
use payment::{RefundRequestRow, RefundRequestStatus};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(refund_booking, booking_refunds))
}

/// The longest refund `Idempotency-Key`.
const MAX_REFUND_KEY_LEN: usize = 64;
/// The smallest refund the gateway makes: one rupee.
const MIN_REFUND_PAISE: i64 = 100;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RefundBookingRequest {
    /// What to refund, in paise (INR); omitted, everything still refundable.
    #[serde(default)]
    #[schema(minimum = 100)]
    amount: Option<MoneyDto>,
    /// Why, for the traveller's record and the audit trail (1 to 500 characters).
    #[schema(min_length = 1, max_length = 500, format = "non-blank")]
    reason: String,
}

/// One refund of a booking's capture.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct RefundDto {
    /// The key it is reserved and sent to the gateway under.
    refund_key: String,
    amount: MoneyDto,
    reason: String,
    /// `user:<id>` for an operator's refund, `saga:<workflow id>` for a cancellation's.
    requested_by: String,
    /// `requested` (reserved; the gateway has not refunded it yet), `refunded`, or `owed`
    /// (an operator took it over from a saga the gateway kept refusing: owed to the
    /// traveller, paid by hand, never asked of the gateway again).
    #[schema(example = "refunded")]
    status: String,
    /// The gateway's refund id, once refunded.
    gateway_refund_id: Option<String>,
    /// `user:<id>` of the operator who took an owed refund over, and why.
    handed_over_by: Option<String>,
    handed_over_reason: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    /// The workflow making it, and its page in the Temporal Web UI.
    workflow_id: String,
    ui_url: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct RefundList {
    items: Vec<RefundDto>,
    /// What the refunds handed over to operators owe the traveller, in all.
    owed: MoneyDto,
    /// Always null: a booking has few refunds, listed whole.
    next_cursor: Option<String>,
}

pub(crate) fn refund_dto(state: &AppState, row: RefundRequestRow) -> RefundDto {
    // `<workflow id>/refund`, for the cancellation's and the operator's workflows alike, and
    // `<workflow id>/charge/refund` for a compensation's refund handed over.
    let key = row.refund_key.strip_suffix("/refund").unwrap_or(&row.refund_key);
    let workflow_id = key.strip_suffix("/charge").unwrap_or(key).to_string();
    RefundDto {
        ui_url: state.temporal_ui.workflow_url(&workflow_id),
        workflow_id,
        amount: MoneyDto::new(row.amount_paise, "INR"),
        refund_key: row.refund_key,
        reason: row.reason,
        requested_by: row.requested_by,
        status: row.status.as_str().to_string(),
        gateway_refund_id: row.gateway_refund_id,
        handed_over_by: row.handed_over_by,
        handed_over_reason: row.handed_over_reason,
        created_at: row.created_at,
        updated_at: row.updated_at,
    }
}

fn refunds_url(booking_ref: &BookingRef) -> String {
    format!("/api/bookings/{booking_ref}/refunds")
}

/// Refund a confirmed (or cancelled) booking by hand, in full or in part, through the
/// `ManualRefund` workflow. The amount is reserved at once: more than what was captured less
/// what was refunded (or is being refunded) is a 422 naming what is left. The same
/// `Idempotency-Key` and body answer the same refund; the same key with another body is a
/// 422. Poll the list for the gateway's refund id.
#[utoipa::path(post, path = "/{booking_ref}/refunds", tag = "bookings", request_body = RefundBookingRequest,
    security(("bearer" = ["bookings:refund"])),
    params(("booking_ref" = String, Path, example = "TRP-7K3M9Q"),
        ("Idempotency-Key" = String, Header, pattern = "^[A-Za-z0-9_-]{1,64}$", description = "Required: the same key and body are the same refund")),
    responses((status = 202, body = RefundDto, description = "Reserved; the refund workflow runs"),
        (status = 401, description = "Not signed in"), (status = 403, description = "Not an operator"),
        (status = 404, description = "No booking recorded under this reference"),
        (status = 409, description = "Not paid, or nothing left to refund"),
        (status = 422, description = "Invalid amount or reason, more than refundable, or a key reused"),
        (status = 503, description = "Temporal or the charge busy; try again with the same key")))]
pub(crate) async fn refund_booking(
    caller: Require<BookingsRefund>,
    ClientInfo(requester): ClientInfo,
    State(state): State<AppState>,
    ApiPath(raw_ref): ApiPath<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<RefundBookingRequest>,
) -> Result<Response, ApiError> {
    let booking_ref = BookingRef::parse(&raw_ref)
        .map_err(|_| ApiError::not_found("booking_not_found", format!("No booking {raw_ref} is recorded")))?;
    tracing::Span::current().record("booking_ref", tracing::field::display(&booking_ref));
    let client_key = idempotency_key(&headers)?.ok_or_else(|| {
        ApiError::invalid_field(
            "idempotency_key_required",
            "Idempotency-Key",
            "A refund needs an Idempotency-Key header",
        )
    })?;
    // The key becomes part of the gateway's refund key, whose alphabet is this one: any
    // other character would be mapped, and two keys could become one refund.
    if client_key.len() > MAX_REFUND_KEY_LEN
        || !client_key.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(ApiError::invalid_field(
            "invalid_idempotency_key",
            "Idempotency-Key",
            format!("A refund's Idempotency-Key is 1 to {MAX_REFUND_KEY_LEN} letters, digits, '-' or '_'"),
        ));
    }
    let amount_paise = match body.amount {
        None => None,
        Some(money) if money.currency != "INR" => {
            return Err(ApiError::invalid_field("unsupported_currency", "amount.currency", "Refunds are in INR"));
        }
        Some(money) if money.amount < MIN_REFUND_PAISE => {
            return Err(ApiError::invalid_field(
                "amount_too_small",
                "amount.amount",
                format!("A refund is at least {MIN_REFUND_PAISE} paise"),
            ));
        }
        Some(money) => Some(money.amount),
    };
    let reason = super::operator_reason(&body.reason, "A refund")?;
    let reason = reason.as_str();
    let order = RefundOrder {
        booking_ref: booking_ref.clone(),
        client_key,
        amount_paise,
        reason: reason.to_string(),
        requested_by: format!("user:{}", caller.user_id),
    };
    let reserved = start_refund(&state, order).await?;
    let details = serde_json::json!({ "booking_ref": booking_ref.as_str(), "amount": reserved.amount_paise });
    state.accounts.log(Some(caller.user_id), "booking_refund", "success", &requester, details).await;
    let mut response = (StatusCode::ACCEPTED, Json(refund_dto(&state, reserved))).into_response();
    if let Ok(location) = HeaderValue::from_str(&refunds_url(&booking_ref)) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

/// Every refund of a booking, oldest first: operators' and cancellations', each with where
/// it stands and its workflow.
#[utoipa::path(get, path = "/{booking_ref}/refunds", tag = "bookings",
    security(("bearer" = ["bookings:read_any"])),
    params(("booking_ref" = String, Path, example = "TRP-7K3M9Q")),
    responses((status = 200, body = RefundList), (status = 401, description = "Not signed in"),
        (status = 403, description = "Not an operator"),
        (status = 404, description = "No booking recorded under this reference")))]
pub(crate) async fn booking_refunds(
    _: Require<crate::access::BookingsReadAny>,
    State(state): State<AppState>,
    ApiPath(raw_ref): ApiPath<String>,
) -> Result<Json<RefundList>, ApiError> {
    let not_found = || ApiError::not_found("booking_not_found", format!("No booking {raw_ref} is recorded"));
    let booking_ref = BookingRef::parse(&raw_ref).map_err(|_| not_found())?;
    if state.bookings.record_status(&booking_ref).await?.is_none() {
        return Err(not_found());
    }
    let rows = state.payments.refunds_of_booking(&booking_ref).await?;
    let owed = rows.iter().filter(|r| r.status == RefundRequestStatus::Owed).map(|r| r.amount_paise).sum();
    Ok(Json(RefundList {
        items: rows.into_iter().map(|row| refund_dto(&state, row)).collect(),
        owed: MoneyDto::new(owed, "INR"),
        next_cursor: None,
    }))
}
