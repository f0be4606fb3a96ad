//! The operators' view of bookings: every booking, searched and paged, and one booking whole
//! (its items, people, money with the gateway's ids, versions, audit trail and its saga's
//! live state, with the Temporal UI link to it).

use crate::{
    access::{BookingsOverride, BookingsReadAny, ClientInfo, Require},
    error::ApiError,
    extract::{ApiJson, ApiPath, ApiQuery},
    money::MoneyDto,
    paging::{self, Page, PageSize},
    state::AppState,
    use_cases::{
        booking::{self as use_case, BookingState},
        step_repair::{Repair, RepairOrder},
    },
};
use axum::{Json, extract::State};
use booking::{BookingKind, BookingSearch, BookingSearchAfter, BookingSearchOrder, RecordStatus};
use chrono::{DateTime, NaiveDate, Utc};
use contracts::BookingRef;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(search_bookings))
        .routes(routes!(booking_dossier))
        .routes(routes!(force_cancel_booking))
        .routes(routes!(extend_payment_window))
        .routes(routes!(retry_step_now))
        .routes(routes!(hand_refund_over))
}

/// Characters of a booking reference (`TRP-` and six), the longest `reference` filter.
const REFERENCE_LEN: usize = 10;

/// The longest contacts a search is asked for: an e-mail address, a phone as recorded.
const MAX_EMAIL_LEN: usize = 254;
const MAX_PHONE_LEN: usize = 16;

/// The list tag of the operators' booking search cursors.
const ALL_BOOKINGS: &str = "bookings:all";

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct BookingSearchQuery {
    /// A booking reference, or its beginning (`TRP-7K`), in any case.
    #[param(max_length = 10)]
    reference: Option<String>,
    /// The record's status.
    #[param(pattern = "^(pending_payment|confirmed|failed|cancelled)$")]
    status: Option<String>,
    /// `stay` or `package`.
    #[param(pattern = "^(stay|package)$")]
    kind: Option<String>,
    /// Accommodation code: its stays, and the packages that include a stay there.
    property: Option<String>,
    /// Package code.
    package: Option<String>,
    /// Check-in (a package's departure) on or after this day.
    #[param(value_type = Option<String>, format = Date)]
    check_in_from: Option<NaiveDate>,
    /// Check-in (a package's departure) on or before this day.
    #[param(value_type = Option<String>, format = Date)]
    check_in_to: Option<NaiveDate>,
    /// Booked at or after this instant (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime)]
    created_from: Option<DateTime<Utc>>,
    /// Booked before this instant (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime)]
    created_to: Option<DateTime<Utc>>,
    /// A customer's e-mail address, in any case.
    #[param(max_length = 254)] // MAX_EMAIL_LEN
    email: Option<String>,
    /// A customer's phone as recorded: digits, optionally after a `+`.
    #[param(max_length = 16)] // MAX_PHONE_LEN
    phone: Option<String>,
    /// The partner's id (bookings made through the partner API).
    partner: Option<Uuid>,
    /// `newest` (default) or `check_in`.
    #[param(pattern = "^(newest|check_in)$")]
    sort: Option<String>,
    /// Page size, 1 to 100 (default 20).
    limit: Option<i64>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// One booking in the operators' list.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct BookingLineDto {
    #[schema(example = "TRP-7K3M9Q")]
    booking_ref: String,
    /// `stay` or `package`.
    kind: String,
    /// The record's status: `pending_payment`, `confirmed`, `failed` or `cancelled`.
    status: String,
    /// `direct` or `partner`.
    channel: String,
    accommodation_id: Option<Uuid>,
    room_type: Option<String>,
    package_id: Option<Uuid>,
    /// Check-in, or a package's departure.
    #[schema(value_type = String, format = Date)]
    check_in: NaiveDate,
    /// Check-out, or a package's return.
    #[schema(value_type = String, format = Date)]
    check_out: NaiveDate,
    rooms: i32,
    guests: i32,
    total: MoneyDto,
    amount_charged: Option<MoneyDto>,
    lead_traveller: Option<String>,
    user_id: Option<Uuid>,
    partner_id: Option<Uuid>,
    failure_code: Option<String>,
    created_at: DateTime<Utc>,
    /// This booking whole.
    dossier_url: String,
}

impl From<booking::BookingLine> for BookingLineDto {
    fn from(b: booking::BookingLine) -> Self {
        BookingLineDto {
            dossier_url: format!("/api/bookings/{}/dossier", b.booking_ref),
            booking_ref: b.booking_ref.to_string(),
            kind: b.kind,
            status: b.status.as_str().to_string(),
            channel: b.channel,
            accommodation_id: b.accommodation_id,
            room_type: b.room_type,
            package_id: b.package_id,
            check_in: b.check_in,
            check_out: b.check_out,
            rooms: b.rooms,
            guests: b.guests,
            total: MoneyDto::new(b.total_amount_paise, &b.currency),
            amount_charged: b.amount_charged_paise.map(|a| MoneyDto::new(a, &b.currency)),
            lead_traveller: b.lead_traveller,
            user_id: b.user_id,
            partner_id: b.partner_id,
            failure_code: b.failure_code,
            created_at: b.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct BookingLines {
    items: Vec<BookingLineDto>,
    next_cursor: Option<String>,
}

/// Every booking, stays and packages, filtered, sorted and a page at a time (operators).
#[utoipa::path(get, path = "/search", tag = "bookings", params(BookingSearchQuery),
    security(("bearer" = ["bookings:read_any"])),
    responses((status = 200, body = BookingLines), (status = 401, description = "Not signed in"),
        (status = 403, description = "Not an operator"),
        (status = 422, description = "An invalid filter, sort or cursor, or an unknown property or package; `details.field` names it")))]
pub(crate) async fn search_bookings(
    _: Require<BookingsReadAny>,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<BookingSearchQuery>,
) -> Result<Json<BookingLines>, ApiError> {
    let size = PageSize::or_default(q.limit)?;
    let order = match q.sort.as_deref() {
        None | Some("newest") => BookingSearchOrder::Newest,
        Some("check_in") => BookingSearchOrder::CheckIn,
        Some(_) => return Err(ApiError::invalid_field("invalid_sort", "sort", "Sort by `newest` or `check_in`")),
    };
    let search = search_of(&state, q).await?;
    let after: Option<BookingSearchAfter> = paging::after(ALL_BOOKINGS, search.1.as_deref())?;
    let rows = state.bookings.search(&search.0, order, after.as_ref(), size.fetch()).await?;
    let page = Page::cut(rows, size, ALL_BOOKINGS, |b| b.position(order)).map(BookingLineDto::from);
    Ok(Json(BookingLines { items: page.items, next_cursor: page.next_cursor }))
}

/// The query's filters in the booking context's terms (codes resolved to ids), and its cursor.
async fn search_of(state: &AppState, q: BookingSearchQuery) -> Result<(BookingSearch, Option<String>), ApiError> {
    let status = q
        .status
        .as_deref()
        .map(|s| {
            RecordStatus::ALL.into_iter().find(|r| r.as_str() == s).ok_or_else(|| {
                ApiError::invalid_field("invalid_status", "status", "pending_payment, confirmed, failed or cancelled")
            })
        })
        .transpose()?;
    let kind = match q.kind.as_deref() {
        None => None,
        Some("stay") => Some(BookingKind::Stay),
        Some("package") => Some(BookingKind::Package),
        Some(_) => return Err(ApiError::invalid_field("invalid_kind", "kind", "`stay` or `package`")),
    };
    let accommodation_id = match q.property.as_deref().map(str::trim) {
        None => None,
        Some(code) => {
            Some(state.catalog.find_accommodation(code).await?.map(|a| a.accommodation_id).ok_or_else(|| {
                ApiError::invalid_field("unknown_accommodation", "property", format!("No accommodation {code}"))
            })?)
        }
    };
    let package_id =
        match q.package.as_deref().map(str::trim) {
            None => None,
            Some(code) => Some(
                state.catalog.find_package(code, contracts::india::today()).await?.map(|p| p.package_id).ok_or_else(
                    || ApiError::invalid_field("unknown_package", "package", format!("No package {code}")),
                )?,
            ),
        };
    if let (Some(from), Some(to)) = (q.check_in_from, q.check_in_to)
        && to < from
    {
        return Err(ApiError::invalid_field(
            "invalid_date_range",
            "check_in_to",
            "check_in_to is before check_in_from",
        ));
    }
    if let (Some(from), Some(to)) = (q.created_from, q.created_to)
        && to < from
    {
        return Err(ApiError::invalid_field("invalid_date_range", "created_to", "created_to is before created_from"));
    }
    let reference = q.reference.map(|r| r.trim().to_uppercase());
    if reference.as_ref().is_some_and(|r| r.chars().count() > REFERENCE_LEN) {
        return Err(ApiError::invalid_field(
            "invalid_reference",
            "reference",
            format!("A booking reference has {} characters", REFERENCE_LEN),
        ));
    }
    for (field, value, longest) in [("email", &q.email, MAX_EMAIL_LEN), ("phone", &q.phone, MAX_PHONE_LEN)] {
        if value.as_ref().is_some_and(|v| v.chars().count() > longest) {
            return Err(ApiError::invalid_field(
                "invalid_contact",
                field,
                format!("{field} is at most {longest} characters"),
            ));
        }
    }
    let search = BookingSearch {
        reference,
        status,
        kind,
        accommodation_id,
        package_id,
        check_in_from: q.check_in_from,
        check_in_to: q.check_in_to,
        created_from: q.created_from,
        created_to: q.created_to,
        email: q.email.map(|e| e.trim().to_string()),
        phone: q.phone.map(|p| p.chars().filter(|c| !matches!(c, ' ' | '-' | '(' | ')')).collect()),
        partner_id: q.partner,
    };
    Ok((search, q.cursor))
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ItemDto {
    /// `room_night` or `package_seats`.
    kind: String,
    #[schema(value_type = String, format = Date)]
    night: NaiveDate,
    seats: Option<i32>,
    rooms: i32,
    accommodation_id: Option<Uuid>,
    room_type: Option<String>,
    tariff: MoneyDto,
    base: MoneyDto,
    gst_rate_bp: i32,
    gst: MoneyDto,
    hold_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CustomerDto {
    name: String,
    is_lead: bool,
    email: Option<String>,
    phone: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PaymentRecordDto {
    payment_id: Uuid,
    /// `card` or `checkout`.
    method: Option<String>,
    status: String,
    amount: MoneyDto,
    captured: MoneyDto,
    refunded: MoneyDto,
    gateway_order_id: Option<String>,
    gateway_payment_id: Option<String>,
    failure_code: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct MovementDto {
    /// `capture` or `refund`.
    kind: String,
    amount: MoneyDto,
    /// The gateway's payment id of a capture, its refund id of a refund.
    gateway_ref: String,
    payment_id: Uuid,
    at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct AuditDto {
    at: DateTime<Utc>,
    action: String,
    /// `system:<workflow id>` for saga steps, `user:<id>` or `partner:<id>` for people.
    actor: String,
    #[schema(value_type = Object)]
    details: serde_json::Value,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CancellationDto {
    requested_by: String,
    reason: String,
    policy: String,
    days_before_check_in: i32,
    refund_bp: i32,
    refund: MoneyDto,
    overridden: bool,
    refunded: Option<MoneyDto>,
    completed_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SagaDto {
    workflow_id: String,
    /// Where the booking saga stands (`confirmed` for a booking cancelled since: the
    /// cancellation is its own workflow, `cancel-<ref>`, shown under `cancellation`); absent
    /// when it cannot be asked (Temporal away, or its history gone after retention).
    status: Option<BookingState>,
    /// The saga in the Temporal Web UI.
    ui_url: String,
}

/// One booking whole, for operators.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct BookingDossierDto {
    booking: BookingLineDto,
    items: Vec<ItemDto>,
    customers: Vec<CustomerDto>,
    payments: Vec<PaymentRecordDto>,
    /// Every capture and refund, oldest first.
    movements: Vec<MovementDto>,
    /// Every refund reserved on its capture (operators' and cancellations'), with its state.
    refunds: Vec<super::refunds::RefundDto>,
    versions: Vec<use_case::VersionDto>,
    audit: Vec<AuditDto>,
    cancellation: Option<CancellationDto>,
    saga: SagaDto,
}

/// One booking whole (operators): items, customers and contacts, payments with the
/// gateway's ids, captures and refunds, versions, the audit trail, cancellation terms, and
/// the saga's live state with its Temporal UI link.
#[utoipa::path(get, path = "/{booking_ref}/dossier", tag = "bookings",
    security(("bearer" = ["bookings:read_any"])),
    params(("booking_ref" = String, Path, example = "TRP-7K3M9Q")),
    responses((status = 200, body = BookingDossierDto), (status = 401, description = "Not signed in"),
        (status = 403, description = "Not an operator"),
        (status = 404, description = "No booking recorded under this reference")))]
pub(crate) async fn booking_dossier(
    _: Require<BookingsReadAny>,
    State(state): State<AppState>,
    ApiPath(raw_ref): ApiPath<String>,
) -> Result<Json<BookingDossierDto>, ApiError> {
    let not_found = || ApiError::not_found("booking_not_found", format!("No booking {raw_ref} is recorded"));
    let booking_ref = BookingRef::parse(&raw_ref).map_err(|_| not_found())?;
    tracing::Span::current().record("booking_ref", tracing::field::display(&booking_ref));
    let (dossier, ledger, refunds, live) = tokio::join!(
        state.bookings.dossier(&booking_ref),
        state.payments.ledger_of_booking(&booking_ref),
        state.payments.refunds_of_booking(&booking_ref),
        use_case::live_status(&state, &booking_ref),
    );
    let dossier = dossier?.ok_or_else(not_found)?;
    let (payments, movements) = ledger?;
    let refunds = refunds?.into_iter().map(|row| super::refunds::refund_dto(&state, row)).collect();
    let currency = dossier.booking.currency.clone();
    let money = |paise: i64| MoneyDto::new(paise, &currency);
    let workflow_id = booking_ref.workflow_id();
    Ok(Json(BookingDossierDto {
        items: dossier
            .items
            .into_iter()
            .map(|i| ItemDto {
                kind: i.kind,
                night: i.night,
                seats: i.seats,
                rooms: i.rooms,
                accommodation_id: i.accommodation_id,
                room_type: i.room_type,
                tariff: money(i.tariff_paise),
                base: money(i.base_paise),
                gst_rate_bp: i.gst_rate_bp,
                gst: money(i.gst_paise),
                hold_id: i.hold_id,
            })
            .collect(),
        customers: dossier
            .customers
            .into_iter()
            .map(|c| CustomerDto { name: c.full_name, is_lead: c.is_lead, email: c.email, phone: c.phone })
            .collect(),
        payments: payments
            .into_iter()
            .map(|p| PaymentRecordDto {
                payment_id: p.payment_id,
                method: p.method.map(|m| charge_method(m).to_string()),
                status: p.status.as_str().to_string(),
                amount: MoneyDto::new(p.amount_paise, &p.currency),
                captured: MoneyDto::new(p.captured_paise, &p.currency),
                refunded: MoneyDto::new(p.refunded_paise, &p.currency),
                gateway_order_id: p.gateway_order_id,
                gateway_payment_id: p.gateway_payment_id,
                failure_code: p.failure_code,
            })
            .collect(),
        refunds,
        movements: movements
            .into_iter()
            .map(|m| MovementDto {
                amount: MoneyDto::new(m.amount_paise, &m.currency),
                kind: m.kind,
                gateway_ref: m.gateway_ref,
                payment_id: m.payment_id,
                at: m.at,
            })
            .collect(),
        versions: dossier.versions.into_iter().map(Into::into).collect(),
        audit: dossier
            .audit
            .into_iter()
            .map(|a| AuditDto { at: a.at, action: a.action, actor: a.actor, details: a.details })
            .collect(),
        cancellation: dossier.cancellation.map(|c| CancellationDto {
            requested_by: c.requested_by,
            reason: c.reason,
            policy: c.policy_code,
            days_before_check_in: c.days_before_check_in,
            refund_bp: c.refund_bp,
            refund: money(c.refund_paise),
            overridden: c.overridden,
            refunded: c.refunded_paise.map(money),
            completed_at: c.completed_at,
        }),
        saga: SagaDto { ui_url: state.temporal_ui.workflow_url(&workflow_id), workflow_id, status: live },
        booking: dossier.booking.into(),
    }))
}

fn charge_method(method: payment::ChargeMethod) -> &'static str {
    match method {
        payment::ChargeMethod::Card => "card",
        payment::ChargeMethod::Checkout => "checkout",
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ForceCancelRequest {
    /// Why, for the audit trail (1 to 500 characters).
    #[schema(min_length = 1, max_length = 500, format = "non-blank")]
    reason: String,
}

/// Give up a booking stuck before confirmation (operators): its saga is asked to cancel and
/// undoes what it did, in reverse — anything captured refunded, the record `failed`
/// (`cancelled`), the rooms released. The request is written to the booking's audit trail.
/// Asking twice cancels once. A confirmed booking is cancelled by its policy instead.
#[utoipa::path(post, path = "/{booking_ref}/force-cancel", tag = "bookings", request_body = ForceCancelRequest,
    security(("bearer" = ["bookings:override"])),
    params(("booking_ref" = String, Path, example = "TRP-7K3M9Q")),
    responses((status = 202, body = use_case::BookingAccepted, description = "The saga compensates; poll `status_url`"),
        (status = 401, description = "Not signed in"), (status = 403, description = "Not an operator"),
        (status = 404, description = "No saga of this booking is running"),
        (status = 409, description = "Confirmed (cancel it by its policy) or failed already"),
        (status = 422, description = "No reason"), (status = 503, description = "Temporal is unreachable")))]
pub(crate) async fn force_cancel_booking(
    caller: Require<BookingsOverride>,
    ClientInfo(requester): ClientInfo,
    State(state): State<AppState>,
    ApiPath(raw_ref): ApiPath<String>,
    ApiJson(body): ApiJson<ForceCancelRequest>,
) -> Result<axum::response::Response, ApiError> {
    let booking_ref = BookingRef::parse(&raw_ref)
        .map_err(|_| ApiError::not_found("no_saga_in_flight", format!("No booking saga of {raw_ref} is running")))?;
    tracing::Span::current().record("booking_ref", tracing::field::display(&booking_ref));
    let reason = super::operator_reason(&body.reason, "A force-cancel")?;
    let reason = reason.as_str();
    let order = crate::use_cases::force_cancel::ForceCancel {
        booking_ref: booking_ref.clone(),
        reason: reason.to_string(),
        requested_by: format!("user:{}", caller.user_id),
    };
    crate::use_cases::force_cancel::force_cancel(&state, order).await?;
    let details = serde_json::json!({ "booking_ref": booking_ref.as_str(), "reason": reason });
    state.accounts.log(Some(caller.user_id), "booking_force_cancel", "success", &requester, details).await;
    let status_url = match state.bookings.kind_of(&booking_ref).await? {
        Some(BookingKind::Package) => use_case::package_status_url,
        _ => use_case::traveller_status_url,
    };
    Ok(super::accepted(&booking_ref, BookingState::Compensating, status_url))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExtendWindowRequest {
    /// The checkout then closes this many minutes from now (unless it already closes later).
    #[schema(minimum = 1, maximum = 1440, example = 60)]
    minutes: u32,
    /// Why, for the audit trail (1 to 500 characters).
    #[schema(min_length = 1, max_length = 500, format = "non-blank")]
    reason: String,
}

/// Give a traveller more time to pay on the checkout (operators): the booking saga's
/// `extend_payment_window` update keeps the rooms (or seats) held as long and waits on; the
/// traveller pays on the same page. A saga not waiting on its checkout refuses it (409)
/// before anything is recorded. The same `Idempotency-Key` is the same extension.
#[utoipa::path(post, path = "/{booking_ref}/payment-window", tag = "bookings", request_body = ExtendWindowRequest,
    security(("bearer" = ["bookings:override"])),
    params(("booking_ref" = String, Path, example = "TRP-7K3M9Q"),
        ("Idempotency-Key" = Option<String>, Header, pattern = "^[!-~]{1,200}$", description = "The same key is the same extension")),
    responses((status = 200, body = use_case::CheckoutDto, description = "The checkout with its new end"),
        (status = 401, description = "Not signed in"), (status = 403, description = "Not an operator"),
        (status = 404, description = "No saga of this booking is running"),
        (status = 409, description = "The saga is not waiting on its checkout"),
        (status = 422, description = "Minutes or reason out of bounds"), (status = 503, description = "Temporal is unreachable")))]
pub(crate) async fn extend_payment_window(
    caller: Require<BookingsOverride>,
    State(state): State<AppState>,
    ApiPath(raw_ref): ApiPath<String>,
    headers: axum::http::HeaderMap,
    ApiJson(body): ApiJson<ExtendWindowRequest>,
) -> Result<Json<use_case::CheckoutDto>, ApiError> {
    let booking_ref = BookingRef::parse(&raw_ref)
        .map_err(|_| ApiError::not_found("no_saga_in_flight", format!("No booking saga of {raw_ref} is running")))?;
    tracing::Span::current().record("booking_ref", tracing::field::display(&booking_ref));
    let max = contracts::saga::MAX_PAYMENT_WINDOW_EXTENSION_MINUTES;
    if !(1..=max).contains(&body.minutes) {
        return Err(ApiError::invalid_field("invalid_minutes", "minutes", format!("minutes is 1 to {max}")));
    }
    let reason = super::operator_reason(&body.reason, "An extension")?;
    let reason = reason.as_str();
    let order = crate::use_cases::payment_window::WindowOrder {
        booking_ref,
        extension: contracts::saga::PaymentWindowExtension {
            minutes: body.minutes,
            reason: reason.to_string(),
            requested_by: format!("user:{}", caller.user_id),
        },
        key: super::idempotency_key(&headers)?,
    };
    Ok(Json(crate::use_cases::payment_window::extend_payment_window(&state, order).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct StepRepairRequest {
    /// Why, for the audit trail (1 to 500 characters).
    #[schema(min_length = 1, max_length = 500, format = "non-blank")]
    reason: String,
}

/// The saga and step a repair acted on.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct StepRepairDto {
    /// `booking-<ref>` while the booking saga gives back, `cancel-<ref>` for a cancellation.
    workflow_id: String,
    /// The step, as the saga names it (`refund`, `release the hold`, ...).
    step: String,
    /// The saga in the Temporal Web UI.
    ui_url: String,
}

/// Try a failing give-back step again now (operators): while a booking saga compensates, or
/// a cancellation runs, a step that keeps failing (a refund the gateway refuses, a release
/// the database refused) is retried with a backoff of up to half a minute. This cancels the
/// waiting attempt and schedules the step at once. A saga with no such step refuses it (409)
/// before anything is recorded. The same `Idempotency-Key` is the same retry.
#[utoipa::path(post, path = "/{booking_ref}/retry-step", tag = "bookings", request_body = StepRepairRequest,
    security(("bearer" = ["bookings:override"])),
    params(("booking_ref" = String, Path, example = "TRP-7K3M9Q"),
        ("Idempotency-Key" = Option<String>, Header, pattern = "^[!-~]{1,200}$", description = "The same key is the same retry")),
    responses((status = 200, body = StepRepairDto, description = "The step is being tried again"),
        (status = 401, description = "Not signed in"), (status = 403, description = "Not an operator"),
        (status = 404, description = "No such booking"),
        (status = 409, description = "No give-back step of this booking is being retried"),
        (status = 422, description = "No reason"), (status = 503, description = "Temporal is unreachable")))]
pub(crate) async fn retry_step_now(
    caller: Require<BookingsOverride>,
    State(state): State<AppState>,
    ApiPath(raw_ref): ApiPath<String>,
    headers: axum::http::HeaderMap,
    ApiJson(body): ApiJson<StepRepairRequest>,
) -> Result<Json<StepRepairDto>, ApiError> {
    repair_step(&state, caller.user_id, &raw_ref, &headers, body, Repair::RetryNow).await
}

/// Stop retrying a refund and hand it to manual handling (operators): a refund the gateway
/// keeps refusing, in a booking saga's compensation or a cancellation, is no longer asked of
/// the gateway; its amount is kept aside as owed to the traveller (`status: owed` in
/// `GET /api/bookings/{booking_ref}/refunds` and the dossier) and the saga finishes without
/// it. Refunded after all (an answer the gateway lost), it is recorded as refunded instead. A
/// saga with no refund running refuses it (409). The same `Idempotency-Key` is the same
/// hand-over.
#[utoipa::path(post, path = "/{booking_ref}/hand-refund-over", tag = "bookings", request_body = StepRepairRequest,
    security(("bearer" = ["bookings:override"])),
    params(("booking_ref" = String, Path, example = "TRP-7K3M9Q"),
        ("Idempotency-Key" = Option<String>, Header, pattern = "^[!-~]{1,200}$", description = "The same key is the same hand-over")),
    responses((status = 200, body = StepRepairDto, description = "The refund is handed over; the saga finishes without it"),
        (status = 401, description = "Not signed in"), (status = 403, description = "Not an operator"),
        (status = 404, description = "No such booking"),
        (status = 409, description = "No refund of this booking is being retried"),
        (status = 422, description = "No reason"), (status = 503, description = "Temporal is unreachable")))]
pub(crate) async fn hand_refund_over(
    caller: Require<BookingsOverride>,
    State(state): State<AppState>,
    ApiPath(raw_ref): ApiPath<String>,
    headers: axum::http::HeaderMap,
    ApiJson(body): ApiJson<StepRepairRequest>,
) -> Result<Json<StepRepairDto>, ApiError> {
    repair_step(&state, caller.user_id, &raw_ref, &headers, body, Repair::HandRefundOver).await
}

async fn repair_step(
    state: &AppState,
    user_id: Uuid,
    raw_ref: &str,
    headers: &axum::http::HeaderMap,
    body: StepRepairRequest,
    repair: Repair,
) -> Result<Json<StepRepairDto>, ApiError> {
    let unknown = || ApiError::not_found("booking_not_found", format!("No booking {raw_ref}"));
    let booking_ref = BookingRef::parse(raw_ref).map_err(|_| unknown())?;
    tracing::Span::current().record("booking_ref", tracing::field::display(&booking_ref));
    let reason = super::operator_reason(&body.reason, "A repair")?;
    let key = super::idempotency_key(headers)?;
    if state.bookings.kind_of(&booking_ref).await?.is_none()
        && state.bookings.accepted_request(&booking_ref).await?.is_none()
    {
        return Err(unknown());
    }
    let order = RepairOrder {
        booking_ref,
        repair,
        request: contracts::saga::StepRepair { reason, requested_by: format!("user:{user_id}") },
        key,
    };
    let repaired = crate::use_cases::step_repair::repair_step(state, order).await?;
    Ok(Json(StepRepairDto {
        ui_url: state.temporal_ui.workflow_url(&repaired.workflow_id),
        workflow_id: repaired.workflow_id,
        step: repaired.step,
    }))
}
