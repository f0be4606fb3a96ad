//! Bookings for travellers: start the booking saga, show where a booking stands, list the
//! caller's bookings, and cancel. Each handler parses, authorizes and calls one use case.

pub(crate) use crate::use_cases::booking::{
    BookingAccepted, BookingList, BookingState, BookingView, CreateBookingRequest, VersionDto,
};

use crate::{
    access::{BookingsCancel, BookingsCreate, BookingsRead, ClientInfo, Require, Verified},
    error::ApiError,
    extract::{ApiJson, ApiPath, ApiQuery},
    money::MoneyDto,
    paging::{self, Page, PageSize},
    state::AppState,
    use_cases::{
        booking::{self as use_case, BookingBody, BookingListItem, BookingOrder},
        cancellation::{CancellationOrder, start_cancellation},
    },
};
use axum::{
    Json,
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use booking::{BookingKind, ListPosition, RequestOwner};
use contracts::BookingRef;
use serde::{Deserialize, Serialize};
use std::time::Duration;
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};

mod inbox;
mod operations;
mod packages;
mod refunds;

pub(crate) use packages::{package_answer, package_list, read_package};

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_booking, list_my_bookings))
        .merge(packages::router())
        .merge(operations::router())
        .merge(refunds::router())
        .merge(inbox::router())
        .routes(routes!(get_booking))
        .routes(routes!(cancel_booking))
        .routes(routes!(cancellation_terms))
        .routes(routes!(booking_versions))
}

/// The list tag of the traveller's booking list cursors.
const MY_BOOKINGS: &str = "bookings:newest";

/// Start a booking: holds the rooms, records the booking, charges the card and confirms —
/// or gives everything back. Answers at once; poll the status URL for the outcome.
#[utoipa::path(post, path = "", tag = "bookings", request_body = CreateBookingRequest,
    security(("bearer" = ["bookings:create"])),
    params(("Idempotency-Key" = Option<String>, Header, pattern = "^[!-~]{1,200}$", description = "Repeat a request safely: the same key and body find the same booking")),
    responses(
        (status = 202, body = BookingAccepted, description = "The booking saga runs; poll `status_url`", links(("booking" = (operation_id = "get_booking", parameters(("booking_ref" = "$response.body#/booking_ref")))))),
        (status = 400, description = "Malformed JSON or header"),
        (status = 401, description = "Not signed in"),
        (status = 403, description = "The account may not book"),
        (status = 422, description = "Invalid booking request (dates, guests, traveller, unknown accommodation or room type, reused idempotency key)"),
        (status = 503, description = "Temporal or the database is unreachable"),
    ))]
pub(crate) async fn create_booking(
    caller: Verified<BookingsCreate>,
    ClientInfo(requester): ClientInfo,
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<ApiJson<CreateBookingRequest>, ApiError>,
) -> Result<Response, ApiError> {
    let started = start_for(&state, caller, requester, &headers, body, "booking_create").await?;
    Ok(accepted(&started.booking_ref, started.state, use_case::traveller_status_url))
}

/// Starts a signed-in traveller's booking (a stay or a package, as its body says),
/// confirming their login alongside, and logs a new one as `action` in their activity log
/// after the answer. Who may book is settled before what was sent is judged: a refused
/// caller gets 401 or 403, whatever its request.
pub(crate) async fn start_for<T>(
    state: &AppState,
    caller: Verified<BookingsCreate>,
    requester: auth::Client,
    headers: &HeaderMap,
    body: Result<ApiJson<T>, ApiError>,
    action: &'static str,
) -> Result<use_case::Started, ApiError>
where
    for<'a> &'a T: Into<BookingBody<'a>>,
{
    let (body, client_key) = match (body, idempotency_key(headers)) {
        (Ok(ApiJson(body)), Ok(client_key)) => (body, client_key),
        (Err(malformed), _) | (_, Err(malformed)) => {
            caller.confirm().await?;
            return Err(malformed);
        }
    };
    let user_id = caller.user_id();
    let order = BookingOrder { body: (&body).into(), client_key, owner: RequestOwner::User(user_id) };
    let confirm = async { caller.confirm().await.map(drop) };
    let started = use_case::start_booking(state, order, confirm).await?;
    if !started.repeated {
        let accounts = state.accounts.clone();
        let details = serde_json::json!({ "booking_ref": started.booking_ref.as_str() });
        state.background.spawn(async move {
            accounts.log(Some(user_id), action, "success", &requester, details).await;
        });
    }
    Ok(started)
}

/// `202 Accepted` naming the booking, where it stands, and where to follow it.
pub(crate) fn accepted(booking_ref: &BookingRef, state: BookingState, status_url: fn(&str) -> String) -> Response {
    let body = BookingAccepted {
        status_url: status_url(booking_ref.as_str()),
        booking_ref: booking_ref.to_string(),
        status: state,
    };
    let mut response = (StatusCode::ACCEPTED, Json(&body)).into_response();
    if let Ok(location) = HeaderValue::from_str(&body.status_url) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct GetBookingQuery {
    /// Wait up to this many seconds (at most 20) for the booking to be confirmed or failed.
    wait: Option<u64>,
}

/// Where a booking stands: its saga's live progress, or the stored record. Travellers see
/// their own bookings only (anyone else's is 404); operators see every booking.
#[utoipa::path(get, path = "/{booking_ref}", tag = "bookings",
    security(("bearer" = ["bookings:read_own", "bookings:read_any"])),
    params(("booking_ref" = String, Path, example = "TRP-7K3M9Q"), GetBookingQuery),
    responses((status = 200, body = BookingView, headers(("Retry-After" = Option<u64>,
            description = "Present when the saga could not be asked and this is the last state known for sure: ask again after this many seconds"))),
        (status = 401, description = "Not signed in"),
        (status = 404, description = "No such booking, or not yours"),
        (status = 503, description = "Neither the saga nor the stored booking or request can be read")))]
pub(crate) async fn get_booking(
    caller: Require<BookingsRead>,
    State(state): State<AppState>,
    ApiPath(raw_ref): ApiPath<String>,
    ApiQuery(query): ApiQuery<GetBookingQuery>,
) -> Result<Response, ApiError> {
    let booking_ref = viewable_booking(&state, &caller, &raw_ref).await?;
    tracing::Span::current().record("booking_ref", tracing::field::display(&booking_ref));
    let wait = Duration::from_secs(query.wait.unwrap_or(0));
    let read = read_stay(&state, &booking_ref, wait, use_case::package_status_url).await?;
    Ok(booking_answer(read.ok_or_else(|| booking_not_found(&raw_ref))?))
}

/// A stay booking read. A package's reference, asked about only when no stay is found (so
/// a stay's read pays nothing for it), is a 404 naming where it is read (`package_url`).
pub(crate) async fn read_stay(
    state: &AppState,
    booking_ref: &BookingRef,
    wait: Duration,
    package_url: fn(&str) -> String,
) -> Result<Option<use_case::Read>, ApiError> {
    let read = use_case::read_booking(state, booking_ref, wait).await;
    if !matches!(read, Ok(Some(_))) && state.bookings.kind_of(booking_ref).await? == Some(BookingKind::Package) {
        return Err(package_elsewhere(booking_ref, package_url));
    }
    read
}

/// A package booking asked for where stays are read: 404, naming where it is.
pub(crate) fn package_elsewhere(booking_ref: &BookingRef, status_url: fn(&str) -> String) -> ApiError {
    ApiError::not_found(
        "booking_is_a_package",
        format!("{booking_ref} is a package booking: read it at {}", status_url(booking_ref.as_str())),
    )
}

/// How soon a client should ask again when the answer is only the last state known for sure.
const ASK_AGAIN_SECS: &str = "2";

/// A booking read as HTTP: its view, with `Retry-After` when the saga could not be asked.
pub(crate) fn booking_answer(read: use_case::Read) -> Response {
    let mut response = Json(read.view).into_response();
    if read.last_known {
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static(ASK_AGAIN_SECS));
    }
    response
}

fn booking_not_found(raw_ref: &str) -> ApiError {
    ApiError::not_found("booking_not_found", format!("No booking {raw_ref}"))
}

/// The booking `raw_ref` if the caller may see it: travellers see their own bookings (and
/// those shared with them) only, anyone else's is 404; operators see every booking.
async fn viewable_booking(state: &AppState, caller: &auth::Principal, raw_ref: &str) -> Result<BookingRef, ApiError> {
    let booking_ref = BookingRef::parse(raw_ref).map_err(|_| booking_not_found(raw_ref))?;
    if !caller.can("bookings:read_any") && !state.bookings.access_of(&booking_ref, caller.user_id).await?.can_view {
        return Err(booking_not_found(raw_ref));
    }
    Ok(booking_ref)
}

/// Every version of a booking: each change of its record, oldest first.
#[utoipa::path(get, path = "/{booking_ref}/versions", tag = "bookings",
    security(("bearer" = ["bookings:read_own", "bookings:read_any"])),
    params(("booking_ref" = String, Path, example = "TRP-7K3M9Q")),
    responses((status = 200, body = [VersionDto]), (status = 404, description = "No such booking, or not yours")))]
pub(crate) async fn booking_versions(
    caller: Require<BookingsRead>,
    State(state): State<AppState>,
    ApiPath(raw_ref): ApiPath<String>,
) -> Result<Json<Vec<VersionDto>>, ApiError> {
    let booking_ref = viewable_booking(&state, &caller, &raw_ref).await?;
    let versions = state.bookings.versions(&booking_ref).await?;
    if versions.is_empty() {
        return Err(booking_not_found(&raw_ref));
    }
    Ok(Json(versions.into_iter().map(Into::into).collect()))
}

/// What cancelling a booking now would give back, by its cancellation policy.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct CancellationTermsView {
    #[schema(example = "TRP-7K3M9Q")]
    booking_ref: String,
    /// Only a confirmed booking can be cancelled.
    cancellable: bool,
    #[schema(example = "standard")]
    policy: String,
    /// Whole days from today (in India) to check-in.
    days_before_check_in: i64,
    /// The policy's refund rate for that many days: 10000 is all of it.
    refund_bp: u32,
    /// What was paid.
    charged: MoneyDto,
    /// What a cancellation now refunds.
    refund: MoneyDto,
}

/// What cancelling the booking today would refund by its policy, shown before the
/// traveller confirms; nothing is changed. The cancellation itself fixes the terms of the
/// day it starts.
#[utoipa::path(get, path = "/{booking_ref}/cancellation-terms", tag = "bookings",
    security(("bearer" = ["bookings:read_own", "bookings:read_any"])),
    params(("booking_ref" = String, Path, example = "TRP-7K3M9Q")),
    responses((status = 200, body = CancellationTermsView), (status = 401, description = "Not signed in"),
        (status = 404, description = "No such booking, or not yours, or not recorded yet")))]
pub(crate) async fn cancellation_terms(
    caller: Require<BookingsRead>,
    State(state): State<AppState>,
    ApiPath(raw_ref): ApiPath<String>,
) -> Result<Json<CancellationTermsView>, ApiError> {
    let booking_ref = viewable_booking(&state, &caller, &raw_ref).await?;
    let terms = state
        .bookings
        .preview_cancellation(&booking_ref, contracts::india::today())
        .await?
        .ok_or_else(|| booking_not_found(&raw_ref))?;
    Ok(Json(CancellationTermsView {
        booking_ref: booking_ref.to_string(),
        cancellable: terms.status == booking::RecordStatus::Confirmed,
        policy: terms.policy,
        days_before_check_in: terms.days_before_check_in,
        refund_bp: terms.refund_bp,
        charged: terms.charged.into(),
        refund: terms.refund.into(),
    }))
}

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CancelBookingRequest {
    /// Why, in the traveller's or operator's words.
    #[serde(default)]
    reason: Option<String>,
    /// Operators only (`bookings:override`): refund this many basis points of what was paid
    /// instead of the policy's rate. Needs `override_reason`.
    #[serde(default)]
    #[schema(maximum = 10000)]
    refund_bp: Option<u32>,
    #[serde(default)]
    override_reason: Option<String>,
}

/// Cancel a confirmed booking, a stay or a package: the refund follows its cancellation
/// policy (days before check-in or departure), or an operator's override; the rooms (and a
/// package's seats) go back on sale. Asking again (or ten times at once) runs one
/// cancellation and refunds once.
#[utoipa::path(post, path = "/{booking_ref}/cancel", tag = "bookings", request_body = CancelBookingRequest,
    security(("bearer" = ["bookings:cancel_own", "bookings:cancel_any"])),
    params(("booking_ref" = String, Path, example = "TRP-7K3M9Q")),
    responses((status = 202, body = BookingAccepted, description = "The cancellation runs; poll `status_url`", links(("booking" = (operation_id = "get_booking", parameters(("booking_ref" = "$response.body#/booking_ref")))))),
        (status = 403, description = "An override without `bookings:override`"),
        (status = 404, description = "No such booking, or not yours"),
        (status = 409, description = "The booking is not confirmed"), (status = 422, description = "Invalid override")))]
pub(crate) async fn cancel_booking(
    caller: Require<BookingsCancel>,
    ClientInfo(requester): ClientInfo,
    State(state): State<AppState>,
    ApiPath(raw_ref): ApiPath<String>,
    ApiJson(body): ApiJson<CancelBookingRequest>,
) -> Result<Response, ApiError> {
    let booking_ref = BookingRef::parse(&raw_ref).map_err(|_| booking_not_found(&raw_ref))?;
    if !caller.can("bookings:cancel_any") {
        let access = state.bookings.access_of(&booking_ref, caller.user_id).await?;
        if !access.can_view {
            return Err(booking_not_found(&raw_ref));
        }
        if !access.can_change {
            return Err(ApiError::forbidden("not_allowed", "You may see this booking but not change it"));
        }
    }
    tracing::Span::current().record("booking_ref", tracing::field::display(&booking_ref));
    let override_refund = refund_override(&caller, &body)?;
    let order = CancellationOrder {
        booking_ref: booking_ref.clone(),
        requested_by: format!("user:{}", caller.user_id),
        reason: body.reason.unwrap_or_else(|| "cancelled by the traveller".into()),
        override_refund,
    };
    let state_now = start_cancellation(&state, order).await?;
    let details = serde_json::json!({ "booking_ref": booking_ref.as_str() });
    state.accounts.log(Some(caller.user_id), "booking_cancel", "success", &requester, details).await;
    let status_url = match state.bookings.kind_of(&booking_ref).await? {
        Some(BookingKind::Package) => use_case::package_status_url,
        _ => use_case::traveller_status_url,
    };
    Ok(accepted(&booking_ref, state_now, status_url))
}

/// An operator's refund in place of the policy's: `bookings:override` only, with a reason.
fn refund_override(
    caller: &Require<BookingsCancel>,
    body: &CancelBookingRequest,
) -> Result<Option<contracts::cancellation::RefundOverride>, ApiError> {
    match (body.refund_bp, body.override_reason.as_deref().map(str::trim)) {
        (None, None) => Ok(None),
        (Some(_), _) if !caller.can("bookings:override") => {
            Err(ApiError::forbidden("override_not_allowed", "Only operators may override the refund"))
        }
        (Some(bp), Some(reason)) if bp <= 10_000 && !reason.is_empty() => {
            Ok(Some(contracts::cancellation::RefundOverride {
                refund_bp: bp,
                reason: reason.to_string(),
                by: caller.user_id,
            }))
        }
        (Some(bp), _) if bp > 10_000 => {
            Err(ApiError::invalid_field("invalid_refund_bp", "refund_bp", "refund_bp is 0 to 10000"))
        }
        _ => Err(ApiError::invalid_field(
            "override_reason_required",
            "override_reason",
            "An override needs refund_bp and a reason",
        )),
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListBookingsQuery {
    /// Page size, at most 100 (default 20).
    pub(crate) limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub(crate) cursor: Option<String>,
}

/// The signed-in user's bookings, newest first.
#[utoipa::path(get, path = "", tag = "bookings", params(ListBookingsQuery),
    security(("bearer" = ["bookings:read_own", "bookings:read_any"])),
    responses((status = 200, body = BookingList), (status = 401, description = "Not signed in")))]
pub(crate) async fn list_my_bookings(
    caller: Require<BookingsRead>,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ListBookingsQuery>,
) -> Result<Json<BookingList>, ApiError> {
    let size = PageSize::or_default(query.limit)?;
    let after: Option<ListPosition> = paging::after(MY_BOOKINGS, query.cursor.as_deref())?;
    let rows =
        state.bookings.requested_by(RequestOwner::User(caller.user_id), BookingKind::Stay, after, size.fetch()).await?;
    let page = Page::cut(rows, size, MY_BOOKINGS, list_position).map(BookingListItem::from);
    Ok(Json(BookingList { items: page.items, next_cursor: page.next_cursor }))
}

/// Where the next page of a booking list starts.
pub(crate) fn list_position(row: &booking::BookingListItem) -> ListPosition {
    (row.requested_at, row.booking_ref.to_string())
}

/// The longest reason an operator gives for an action on a booking.
const MAX_OPERATOR_REASON_CHARS: usize = 500;

/// The reason an operator gives for `what` (`A refund`, …): trimmed, 1 to 500 characters,
/// else a 422 naming the field.
pub(crate) fn operator_reason(raw: &str, what: &str) -> Result<String, ApiError> {
    let reason = raw.trim();
    if reason.is_empty() || reason.chars().count() > MAX_OPERATOR_REASON_CHARS {
        return Err(ApiError::invalid_field(
            "invalid_reason",
            "reason",
            format!("{what} needs a reason of 1 to {MAX_OPERATOR_REASON_CHARS} characters"),
        ));
    }
    Ok(reason.to_string())
}

/// The longest client `Idempotency-Key` accepted.
const MAX_IDEMPOTENCY_KEY_LEN: usize = 200;

pub(crate) fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get("idempotency-key") else { return Ok(None) };
    let key = value.to_str().unwrap_or_default().trim();
    if key.is_empty() || key.len() > MAX_IDEMPOTENCY_KEY_LEN || !key.chars().all(|c| c.is_ascii_graphic()) {
        return Err(ApiError::bad_request(
            "invalid_idempotency_key",
            format!("Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY_LEN} visible ASCII characters"),
        ));
    }
    Ok(Some(key.to_string()))
}
