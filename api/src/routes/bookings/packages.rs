//! Package bookings for travellers: start the package booking saga, show where one stands,
//! and list the caller's. They are cancelled, and their terms and versions read, at the
//! routes every booking shares (`/api/bookings/{booking_ref}/…`).

use super::{ListBookingsQuery, accepted, booking_not_found, list_position};
use crate::{
    access::{BookingsCreate, BookingsRead, ClientInfo, Require, Verified},
    error::ApiError,
    extract::{ApiJson, ApiPath, ApiQuery},
    paging::{self, Page, PageSize},
    state::AppState,
    use_cases::booking::{
        self as use_case, BookingAccepted, BookingList, BookingListItem, CreatePackageBookingRequest,
        PackageBookingView, PackageRead,
    },
};
use axum::{
    Json,
    extract::State,
    http::{HeaderMap, HeaderValue, header},
    response::{IntoResponse, Response},
};
use booking::{BookingKind, ListPosition, RequestOwner};
use contracts::BookingRef;
use std::time::Duration;
use utoipa_axum::{router::OpenApiRouter, routes};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_package_booking, list_my_package_bookings))
        .routes(routes!(get_package_booking))
}

/// The list tag of the traveller's package booking list cursors.
const MY_PACKAGE_BOOKINGS: &str = "package-bookings:newest";

/// Book a package departure: holds the party's seats and the rooms of every stay the package
/// includes, records the booking, charges once for the whole and confirms — or gives
/// everything back. Answers at once; poll the status URL for the outcome.
#[utoipa::path(post, path = "/packages", tag = "bookings", request_body = CreatePackageBookingRequest,
    security(("bearer" = ["bookings:create"])),
    params(("Idempotency-Key" = Option<String>, Header, pattern = "^[!-~]{1,200}$", description = "Repeat a request safely: the same key and body find the same booking")),
    responses(
        (status = 202, body = BookingAccepted, description = "The package booking saga runs; poll `status_url`", links(("booking" = (operation_id = "get_package_booking", parameters(("booking_ref" = "$response.body#/booking_ref")))))),
        (status = 401, description = "Not signed in"),
        (status = 403, description = "The account may not book"),
        (status = 404, description = "No such package on sale"),
        (status = 422, description = "Invalid request (departure, party, rooms, traveller, payment, no price for the departure, reused idempotency key)"),
        (status = 503, description = "Temporal or the database is unreachable"),
    ))]
pub(crate) async fn create_package_booking(
    caller: Verified<BookingsCreate>,
    ClientInfo(requester): ClientInfo,
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<ApiJson<CreatePackageBookingRequest>, ApiError>,
) -> Result<Response, ApiError> {
    let started = super::start_for(&state, caller, requester, &headers, body, "package_booking_create").await?;
    Ok(accepted(&started.booking_ref, started.state, use_case::package_status_url))
}

/// Where a package booking stands: its saga's live progress, or the stored record.
/// Travellers see their own bookings only (anyone else's is 404); operators see every one.
#[utoipa::path(get, path = "/packages/{booking_ref}", tag = "bookings",
    security(("bearer" = ["bookings:read_own", "bookings:read_any"])),
    params(("booking_ref" = String, Path, example = "TRP-7K3M9Q"), super::GetBookingQuery),
    responses((status = 200, body = PackageBookingView, headers(("Retry-After" = Option<u64>,
            description = "Present when the saga could not be asked and this is the stored record: ask again after this many seconds"))),
        (status = 401, description = "Not signed in"),
        (status = 404, description = "No such package booking, or not yours"),
        (status = 503, description = "Neither the saga nor the stored booking can be read")))]
pub(crate) async fn get_package_booking(
    caller: Require<BookingsRead>,
    State(state): State<AppState>,
    ApiPath(raw_ref): ApiPath<String>,
    ApiQuery(query): ApiQuery<super::GetBookingQuery>,
) -> Result<Response, ApiError> {
    let booking_ref = super::viewable_booking(&state, &caller, &raw_ref).await?;
    tracing::Span::current().record("booking_ref", tracing::field::display(&booking_ref));
    let read = read_package(&state, &booking_ref, query.wait).await?.ok_or_else(|| booking_not_found(&raw_ref))?;
    Ok(package_answer(read))
}

/// A package booking read, after checking `booking_ref` names one: a stay's reference is a
/// 404 naming where it is read.
pub(crate) async fn read_package(
    state: &AppState,
    booking_ref: &BookingRef,
    wait: Option<u64>,
) -> Result<Option<PackageRead>, ApiError> {
    match state.bookings.kind_of(booking_ref).await? {
        Some(BookingKind::Package) => {}
        Some(BookingKind::Stay) => return Err(package_elsewhere_stay(booking_ref)),
        None => return Ok(None),
    }
    let wait = Duration::from_secs(wait.unwrap_or(0));
    use_case::read_package_booking(state, booking_ref, wait).await
}

fn package_elsewhere_stay(booking_ref: &BookingRef) -> ApiError {
    ApiError::not_found(
        "booking_is_a_stay",
        format!("{booking_ref} is a stay booking: read it at {}", use_case::traveller_status_url(booking_ref.as_str())),
    )
}

/// A package booking read as HTTP, with `Retry-After` when the saga could not be asked.
pub(crate) fn package_answer(read: PackageRead) -> Response {
    let mut response = Json(read.view).into_response();
    if read.last_known {
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static(super::ASK_AGAIN_SECS));
    }
    response
}

/// The signed-in user's package bookings, newest first.
#[utoipa::path(get, path = "/packages", tag = "bookings", params(ListBookingsQuery),
    security(("bearer" = ["bookings:read_own", "bookings:read_any"])),
    responses((status = 200, body = BookingList), (status = 401, description = "Not signed in")))]
pub(crate) async fn list_my_package_bookings(
    caller: Require<BookingsRead>,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ListBookingsQuery>,
) -> Result<Json<BookingList>, ApiError> {
    let owner = RequestOwner::User(caller.user_id);
    Ok(Json(package_list(&state.bookings, owner, query, MY_PACKAGE_BOOKINGS, use_case::package_status_url).await?))
}

/// A page of an owner's package bookings, each pointing at `status_url`.
pub(crate) async fn package_list(
    bookings: &booking::Bookings,
    owner: RequestOwner,
    query: ListBookingsQuery,
    list_tag: &str,
    status_url: fn(&str) -> String,
) -> Result<BookingList, ApiError> {
    let size = PageSize::or_default(query.limit)?;
    let after: Option<ListPosition> = paging::after(list_tag, query.cursor.as_deref())?;
    let rows = bookings.requested_by(owner, BookingKind::Package, after, size.fetch()).await?;
    let page = Page::cut(rows, size, list_tag, list_position).map(|row| {
        let mut item = BookingListItem::from(row);
        item.status_url = status_url(&item.booking_ref);
        item
    });
    Ok(BookingList { items: page.items, next_cursor: page.next_cursor })
}
