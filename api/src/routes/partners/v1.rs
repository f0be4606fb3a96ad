//! The partner API, version 1: availability, quotes, bookings for the partner's customers
//! (through the same booking and cancellation sagas as every booking), and the partner's
//! settlements.
//! Authenticated by API key; a partner sees only its own bookings (anyone else's is 404).
//! Within `v1` the API only grows: fields and routes are added, never renamed or removed.

use super::{
    AccessLogPage, AccessLogQuery, MAX_SETTLEMENTS, SettlementList, SettlementView, access_log_page,
    admin::SettlementsQuery,
};
use crate::{
    access::PartnerKey,
    error::ApiError,
    extract::{ApiJson, ApiPath, ApiQuery},
    paging::{self, Page, PageSize},
    routes::{
        MoneyDto,
        bookings::{self, BookingAccepted, BookingList, BookingView, CreateBookingRequest},
    },
    state::AppState,
    use_cases::{
        booking::{
            self as use_case, BookingBody, BookingListItem, BookingOrder, CreatePackageBookingRequest,
            PackageBookingView,
        },
        cancellation::{CancellationOrder, start_cancellation},
    },
};
use axum::{Json, extract::State, http::HeaderMap, response::Response};
use booking::{BookingKind, ListPosition, RequestOwner};
use chrono::NaiveDate;
use contracts::{BookingRef, StayDates};
use serde::{Deserialize, Serialize};
use std::time::Duration;
use utoipa::{IntoParams, ToSchema};

/// The list tag of the partner's booking list cursors.
const PARTNER_BOOKINGS: &str = "partner-bookings:newest";

pub(crate) fn status_url(booking_ref: &str) -> String {
    format!("/api/partners/v1/bookings/{booking_ref}")
}

/// Where a partner follows one of its package bookings.
pub(crate) fn package_status_url(booking_ref: &str) -> String {
    format!("/api/partners/v1/bookings/packages/{booking_ref}")
}

/// The list tag of the partner's package booking list cursors.
const PARTNER_PACKAGE_BOOKINGS: &str = "partner-package-bookings:newest";

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct StayQuery {
    /// Accommodation code.
    #[param(example = "ujjayanta-heritage-hotel")]
    accommodation: String,
    /// One room type only; every room type of the accommodation if absent.
    room_type: Option<String>,
    #[param(value_type = String, format = Date)]
    check_in: NaiveDate,
    /// Exclusive: the morning the guests leave.
    #[param(value_type = String, format = Date)]
    check_out: NaiveDate,
    /// Rooms wanted, 1 to 9 (default 1).
    #[param(minimum = 1, maximum = 9)]
    rooms: Option<u32>,
}

impl StayQuery {
    fn validate(&self) -> Result<(StayDates, u32), ApiError> {
        validate_stay(self.check_in, self.check_out, self.rooms)
    }
}

/// A stay to price: one room type, named.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct QuoteQuery {
    /// Accommodation code.
    #[param(example = "ujjayanta-heritage-hotel")]
    accommodation: String,
    #[param(example = "deluxe_double")]
    room_type: String,
    #[param(value_type = String, format = Date)]
    check_in: NaiveDate,
    /// Exclusive: the morning the guests leave.
    #[param(value_type = String, format = Date)]
    check_out: NaiveDate,
    /// Rooms wanted, 1 to 9 (default 1).
    #[param(minimum = 1, maximum = 9)]
    rooms: Option<u32>,
}

fn validate_stay(check_in: NaiveDate, check_out: NaiveDate, rooms: Option<u32>) -> Result<(StayDates, u32), ApiError> {
    let dates = StayDates::parse(check_in, check_out, contracts::india::today())
        .map_err(|e| ApiError::invalid_field(e.code(), "check_in", e.to_string()))?;
    let rooms = rooms.unwrap_or(1);
    if !(1..=9).contains(&rooms) {
        return Err(ApiError::invalid_field("invalid_rooms", "rooms", "Ask for 1 to 9 rooms"));
    }
    Ok((dates, rooms))
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct RoomAvailability {
    #[schema(example = "deluxe_double")]
    room_type: String,
    name: String,
    max_occupancy: i32,
    /// Rooms free on every night of the stay.
    available_rooms: i32,
    /// Whether the rooms asked for are free on every night.
    bookable: bool,
    /// The price of the rooms asked for, GST included: what a booking charges.
    total: MoneyDto,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct AvailabilityView {
    accommodation: String,
    #[schema(value_type = String, format = Date)]
    check_in: NaiveDate,
    #[schema(value_type = String, format = Date)]
    check_out: NaiveDate,
    rooms: u32,
    room_types: Vec<RoomAvailability>,
}

/// Rooms free for a stay, per room type, with the price.
#[utoipa::path(get, operation_id = "partner_availability", path = "/availability", tag = "partner API", params(StayQuery),
    security(("partner_key" = []), ("partner_key_header" = [])),
    responses((status = 200, body = AvailabilityView), (status = 401, description = "No valid API key"),
        (status = 404, description = "Unknown accommodation or room type"), (status = 422, description = "Invalid stay"),
        (status = 429, description = "Rate limit exceeded (see `Retry-After`)")))]
pub(crate) async fn availability(
    _: PartnerKey,
    State(catalog): State<catalog::Catalog>,
    State(inventory): State<inventory::Inventory>,
    ApiQuery(q): ApiQuery<StayQuery>,
) -> Result<Json<AvailabilityView>, ApiError> {
    let (dates, rooms) = q.validate()?;
    let not_found = || ApiError::not_found("accommodation_not_found", format!("No accommodation {}", q.accommodation));
    let found = catalog.find_accommodation(q.accommodation.trim()).await?.ok_or_else(not_found)?;
    let mut room_types = catalog.room_types_of(&[found.accommodation_id]).await?;
    if let Some(wanted) = &q.room_type {
        room_types.retain(|r| &r.room_type == wanted);
        if room_types.is_empty() {
            return Err(ApiError::not_found(
                "room_type_not_found",
                format!("No room type {wanted} at {}", q.accommodation),
            ));
        }
    }
    let mut out = Vec::with_capacity(room_types.len());
    for room in room_types {
        let nights =
            inventory.availability(found.accommodation_id, &room.room_type, dates.check_in, dates.check_out).await?;
        // A night without an allotment is not on sale.
        let available = if i64::try_from(nights.len()).unwrap_or_default() == dates.nights() {
            nights.iter().map(|n| n.available()).min().unwrap_or(0).max(0)
        } else {
            0
        };
        let Some(offer) = catalog.find_offer(&found.code, &room.room_type).await? else { continue };
        let quote = offer.quote(&dates, rooms).map_err(|e| ApiError::invalid("unquotable_stay", e.to_string()))?;
        out.push(RoomAvailability {
            bookable: i64::from(available) >= i64::from(rooms),
            available_rooms: available,
            total: quote.total.into(),
            room_type: room.room_type,
            name: room.name,
            max_occupancy: room.max_occupancy,
        });
    }
    Ok(Json(AvailabilityView {
        accommodation: found.code,
        check_in: dates.check_in,
        check_out: dates.check_out,
        rooms,
        room_types: out,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct QuoteNight {
    #[schema(value_type = String, format = Date)]
    night: NaiveDate,
    base: MoneyDto,
    /// 500 is 5 %, 1800 is 18 %.
    gst_rate_bp: i64,
    gst: MoneyDto,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct QuoteView {
    accommodation: String,
    room_type: String,
    rooms: u32,
    nights: Vec<QuoteNight>,
    base_total: MoneyDto,
    gst_total: MoneyDto,
    /// What a booking of this stay charges.
    total: MoneyDto,
}

/// The price of a stay for one room type, night by night with GST.
#[utoipa::path(get, operation_id = "partner_quote", path = "/quote", tag = "partner API", params(QuoteQuery),
    security(("partner_key" = []), ("partner_key_header" = [])),
    responses((status = 200, body = QuoteView), (status = 401, description = "No valid API key"),
        (status = 422, description = "Invalid stay or unknown room type"), (status = 429, description = "Rate limit exceeded")))]
pub(crate) async fn quote(
    _: PartnerKey,
    State(catalog): State<catalog::Catalog>,
    ApiQuery(q): ApiQuery<QuoteQuery>,
) -> Result<Json<QuoteView>, ApiError> {
    let (dates, rooms) = validate_stay(q.check_in, q.check_out, q.rooms)?;
    let room_type = q.room_type.as_str();
    let offer = catalog.find_offer(q.accommodation.trim(), room_type).await?.ok_or_else(|| {
        ApiError::invalid_field(
            "unknown_room_type",
            "room_type",
            format!("No room type {room_type} at {} is on sale", q.accommodation),
        )
    })?;
    let quote = offer.quote(&dates, rooms).map_err(|e| ApiError::invalid("unquotable_stay", e.to_string()))?;
    Ok(Json(QuoteView {
        accommodation: offer.accommodation_code,
        room_type: offer.room_type,
        rooms,
        nights: quote
            .lines
            .into_iter()
            .map(|l| QuoteNight { night: l.night, base: l.base.into(), gst_rate_bp: l.gst_rate_bp, gst: l.gst.into() })
            .collect(),
        base_total: quote.base_total.into(),
        gst_total: quote.gst_total.into(),
        total: quote.total.into(),
    }))
}

/// Book a stay for the partner's customer: the same booking saga as every booking (hold,
/// record, charge, confirm — or give everything back). Answers at once; poll `status_url`.
/// The `Idempotency-Key` is the partner's own: the same key and body find the same booking.
#[utoipa::path(post, operation_id = "partner_create_booking", path = "/bookings", tag = "partner API", request_body = CreateBookingRequest,
    security(("partner_key" = []), ("partner_key_header" = [])),
    params(("Idempotency-Key" = Option<String>, Header, pattern = "^[!-~]{1,200}$", description = "Repeat a request safely")),
    responses((status = 202, body = BookingAccepted, links(("booking" = (operation_id = "partner_get_booking", parameters(("booking_ref" = "$response.body#/booking_ref")))))), (status = 401, description = "No valid API key"),
        (status = 403, description = "The partner is suspended or closed"),
        (status = 422, description = "Invalid booking request, or the key reused with another body"),
        (status = 429, description = "Rate limit exceeded"), (status = 503, description = "Temporal or the database is unreachable")))]
pub(crate) async fn create_booking(
    caller: PartnerKey,
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<CreateBookingRequest>,
) -> Result<Response, ApiError> {
    let client_key = bookings::idempotency_key(&headers)?;
    let order =
        BookingOrder { body: BookingBody::Stay(&body), client_key, owner: RequestOwner::Partner(caller.partner_id) };
    // The key checked the partner already: there is no login to confirm alongside.
    let started = use_case::start_booking(&state, order, async { Ok(()) }).await?;
    if !started.repeated {
        tracing::info!(booking_ref = %started.booking_ref, partner = %caller.partner_code, "partner booking saga started");
    }
    Ok(bookings::accepted(&started.booking_ref, started.state, status_url))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct GetBookingQuery {
    /// Wait up to this many seconds (at most 20) for the booking to be confirmed or failed.
    wait: Option<u64>,
}

/// Where one of the partner's bookings stands (with the checkout page to send the customer
/// to, while a checkout payment is awaited). Another partner's booking, or a booking made
/// outside the partner API, is 404.
#[utoipa::path(get, operation_id = "partner_get_booking", path = "/bookings/{booking_ref}", tag = "partner API",
    security(("partner_key" = []), ("partner_key_header" = [])),
    params(("booking_ref" = String, Path, example = "TRP-7K3M9Q"), GetBookingQuery),
    responses((status = 200, body = BookingView, headers(("Retry-After" = Option<u64>,
            description = "Present when the saga could not be asked and this is the last state known for sure: ask again after this many seconds"))),
        (status = 401, description = "No valid API key"),
        (status = 404, description = "No such booking of this partner"), (status = 429, description = "Rate limit exceeded"),
        (status = 503, description = "Neither the saga nor the stored booking or request can be read")))]
pub(crate) async fn get_booking(
    caller: PartnerKey,
    State(state): State<AppState>,
    ApiPath(raw_ref): ApiPath<String>,
    ApiQuery(query): ApiQuery<GetBookingQuery>,
) -> Result<Response, ApiError> {
    let booking_ref = own_booking(&state.bookings, &caller, &raw_ref).await?;
    let wait = Duration::from_secs(query.wait.unwrap_or(0));
    let read = bookings::read_stay(&state, &booking_ref, wait, package_status_url).await?;
    let mut read = read.ok_or_else(|| not_found(&raw_ref))?;
    read.view.status_url = status_url(&read.view.booking_ref);
    Ok(bookings::booking_answer(read))
}

/// The booking `raw_ref` if this partner asked for it; 404 for anything else.
async fn own_booking(bookings: &booking::Bookings, caller: &PartnerKey, raw_ref: &str) -> Result<BookingRef, ApiError> {
    let Ok(booking_ref) = BookingRef::parse(raw_ref) else { return Err(not_found(raw_ref)) };
    let owner = bookings.partner_of(&booking_ref).await?;
    if owner == Some(Some(caller.partner_id)) { Ok(booking_ref) } else { Err(not_found(raw_ref)) }
}

fn not_found(raw_ref: &str) -> ApiError {
    ApiError::not_found("booking_not_found", format!("No booking {raw_ref}"))
}

#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CancelRequest {
    /// Why, in the customer's words.
    #[serde(default)]
    reason: Option<String>,
}

/// Cancel one of the partner's confirmed bookings through the cancellation saga: the refund
/// follows the booking's cancellation policy, the rooms go back on sale. Asking again runs
/// no second cancellation. The refund reduces the partner's commission in the settlement of
/// the period it is made in.
#[utoipa::path(post, operation_id = "partner_cancel_booking", path = "/bookings/{booking_ref}/cancel", tag = "partner API",
    request_body = CancelRequest, security(("partner_key" = []), ("partner_key_header" = [])),
    params(("booking_ref" = String, Path, example = "TRP-7K3M9Q")),
    responses((status = 202, body = BookingAccepted, description = "The cancellation runs; poll `status_url`", links(("booking" = (operation_id = "partner_get_booking", parameters(("booking_ref" = "$response.body#/booking_ref")))))),
        (status = 401, description = "No valid API key"), (status = 404, description = "No such booking of this partner"),
        (status = 409, description = "The booking is not confirmed"), (status = 429, description = "Rate limit exceeded")))]
pub(crate) async fn cancel_booking(
    caller: PartnerKey,
    State(state): State<AppState>,
    ApiPath(raw_ref): ApiPath<String>,
    ApiJson(body): ApiJson<CancelRequest>,
) -> Result<Response, ApiError> {
    let booking_ref = own_booking(&state.bookings, &caller, &raw_ref).await?;
    let order = CancellationOrder {
        booking_ref: booking_ref.clone(),
        requested_by: format!("partner:{}", caller.partner_id),
        reason: body.reason.unwrap_or_else(|| "cancelled by the partner".into()),
        override_refund: None,
    };
    let state_now = start_cancellation(&state, order).await?;
    tracing::info!(%booking_ref, partner = %caller.partner_code, "partner cancellation started");
    let status_url = match state.bookings.kind_of(&booking_ref).await? {
        Some(BookingKind::Package) => package_status_url,
        _ => status_url,
    };
    Ok(bookings::accepted(&booking_ref, state_now, status_url))
}

/// Book a package departure for the partner's customer: the same package booking saga as
/// every package booking (seats, the rooms of the included stays, one charge — or
/// everything given back). Answers at once; poll `status_url`. Cancel it as any booking of
/// the partner's.
#[utoipa::path(post, operation_id = "partner_create_package_booking", path = "/bookings/packages", tag = "partner API",
    request_body = CreatePackageBookingRequest, security(("partner_key" = []), ("partner_key_header" = [])),
    params(("Idempotency-Key" = Option<String>, Header, pattern = "^[!-~]{1,200}$", description = "Repeat a request safely")),
    responses((status = 202, body = BookingAccepted, links(("booking" = (operation_id = "partner_get_package_booking", parameters(("booking_ref" = "$response.body#/booking_ref")))))),
        (status = 401, description = "No valid API key"), (status = 403, description = "The partner is suspended or closed"),
        (status = 404, description = "No such package on sale"),
        (status = 422, description = "Invalid request, or the key reused with another body"),
        (status = 429, description = "Rate limit exceeded"), (status = 503, description = "Temporal or the database is unreachable")))]
pub(crate) async fn create_package_booking(
    caller: PartnerKey,
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<CreatePackageBookingRequest>,
) -> Result<Response, ApiError> {
    let client_key = bookings::idempotency_key(&headers)?;
    let owner = RequestOwner::Partner(caller.partner_id);
    let order = BookingOrder { body: BookingBody::Package(&body), client_key, owner };
    let started = use_case::start_booking(&state, order, async { Ok(()) }).await?;
    if !started.repeated {
        tracing::info!(booking_ref = %started.booking_ref, partner = %caller.partner_code, "partner package booking saga started");
    }
    Ok(bookings::accepted(&started.booking_ref, started.state, package_status_url))
}

/// Where one of the partner's package bookings stands. Another partner's booking is 404.
#[utoipa::path(get, operation_id = "partner_get_package_booking", path = "/bookings/packages/{booking_ref}", tag = "partner API",
    security(("partner_key" = []), ("partner_key_header" = [])),
    params(("booking_ref" = String, Path, example = "TRP-7K3M9Q"), GetBookingQuery),
    responses((status = 200, body = PackageBookingView, headers(("Retry-After" = Option<u64>,
            description = "Present when the saga could not be asked and this is the stored record: ask again after this many seconds"))),
        (status = 401, description = "No valid API key"),
        (status = 404, description = "No such package booking of this partner"), (status = 429, description = "Rate limit exceeded"),
        (status = 503, description = "Neither the saga nor the stored booking can be read")))]
pub(crate) async fn get_package_booking(
    caller: PartnerKey,
    State(state): State<AppState>,
    ApiPath(raw_ref): ApiPath<String>,
    ApiQuery(query): ApiQuery<GetBookingQuery>,
) -> Result<Response, ApiError> {
    let booking_ref = own_booking(&state.bookings, &caller, &raw_ref).await?;
    let mut read =
        bookings::read_package(&state, &booking_ref, query.wait).await?.ok_or_else(|| not_found(&raw_ref))?;
    read.view.status_url = package_status_url(&read.view.booking_ref);
    Ok(bookings::package_answer(read))
}

/// The partner's package bookings, newest first.
#[utoipa::path(get, operation_id = "partner_list_package_bookings", path = "/bookings/packages", tag = "partner API", params(ListBookingsQuery),
    security(("partner_key" = []), ("partner_key_header" = [])),
    responses((status = 200, body = BookingList), (status = 401, description = "No valid API key"),
        (status = 429, description = "Rate limit exceeded")))]
pub(crate) async fn list_package_bookings(
    caller: PartnerKey,
    State(records): State<booking::Bookings>,
    ApiQuery(query): ApiQuery<ListBookingsQuery>,
) -> Result<Json<BookingList>, ApiError> {
    let owner = RequestOwner::Partner(caller.partner_id);
    let query = bookings::ListBookingsQuery { limit: query.limit, cursor: query.cursor };
    Ok(Json(bookings::package_list(&records, owner, query, PARTNER_PACKAGE_BOOKINGS, package_status_url).await?))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListBookingsQuery {
    /// Page size, at most 100 (default 20).
    limit: Option<i64>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// The partner's bookings, newest first.
#[utoipa::path(get, operation_id = "partner_list_bookings", path = "/bookings", tag = "partner API", params(ListBookingsQuery),
    security(("partner_key" = []), ("partner_key_header" = [])),
    responses((status = 200, body = BookingList), (status = 401, description = "No valid API key"),
        (status = 429, description = "Rate limit exceeded")))]
pub(crate) async fn list_bookings(
    caller: PartnerKey,
    State(records): State<booking::Bookings>,
    ApiQuery(query): ApiQuery<ListBookingsQuery>,
) -> Result<Json<BookingList>, ApiError> {
    let size = PageSize::or_default(query.limit)?;
    let after: Option<ListPosition> = paging::after(PARTNER_BOOKINGS, query.cursor.as_deref())?;
    let rows =
        records.requested_by(RequestOwner::Partner(caller.partner_id), BookingKind::Stay, after, size.fetch()).await?;
    let page = Page::cut(rows, size, PARTNER_BOOKINGS, bookings::list_position).map(|row| {
        let mut item = BookingListItem::from(row);
        item.status_url = status_url(&item.booking_ref);
        item
    });
    Ok(Json(BookingList { items: page.items, next_cursor: page.next_cursor }))
}

/// The partner's settlement statements, newest first.
#[utoipa::path(get, operation_id = "partner_settlements", path = "/settlements", tag = "partner API", params(SettlementsQuery),
    security(("partner_key" = []), ("partner_key_header" = [])),
    responses((status = 200, body = SettlementList), (status = 401, description = "No valid API key"),
        (status = 429, description = "Rate limit exceeded")))]
pub(crate) async fn settlements(
    caller: PartnerKey,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<SettlementsQuery>,
) -> Result<Json<SettlementList>, ApiError> {
    let rows = state.partners.settlements_of(caller.partner_id, query.from, query.to, MAX_SETTLEMENTS).await?;
    Ok(Json(SettlementList { items: rows.into_iter().map(SettlementView::from).collect() }))
}

/// The partner's own use of this API: its access log, newest first, by time range, route
/// and status code. Requests refused before any key of the partner was known are not in it.
#[utoipa::path(get, operation_id = "partner_access_log", path = "/access-log", tag = "partner API", params(AccessLogQuery),
    security(("partner_key" = []), ("partner_key_header" = [])),
    responses((status = 200, body = AccessLogPage), (status = 401, description = "No valid API key"),
        (status = 429, description = "Rate limit exceeded")))]
pub(crate) async fn access_log(
    caller: PartnerKey,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<AccessLogQuery>,
) -> Result<Json<AccessLogPage>, ApiError> {
    Ok(Json(access_log_page(&state.partners, caller.partner_id, &query).await?))
}
