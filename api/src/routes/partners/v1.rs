//! The partner API, version 1: availability, quotes, bookings for the partner's customers
//! (through the same booking and cancellation sagas as every booking), and the partner's
//! settlements.
//! Authenticated by API key; a partner sees only its own bookings (anyone else's is 404).
//! Within `v1` the API only grows: fields and routes are added, never renamed or removed.

use super::{MAX_SETTLEMENTS, SettlementList, SettlementView, admin::SettlementsQuery};
use crate::{
    access::PartnerKey,
    error::ApiError,
    extract::{ApiJson, ApiPath, ApiQuery},
    routes::{
        MoneyDto,
        bookings::{self, BookingAccepted, BookingView, CreateBookingRequest},
    },
    state::{AppState, BookingDb, CatalogDb, InventoryDb, Payments, Temporal},
};
use axum::{
    Json,
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use booking::store::RequestOwner;
use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use contracts::{BookingRef, StayDates, cancellation::CancellationInput, temporal::task_queue};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::time::{Duration, Instant};
use temporalio_client::{
    WorkflowIdConflictPolicy, WorkflowIdReusePolicy, WorkflowStartOptions, errors::WorkflowStartError,
};
use utoipa::{IntoParams, ToSchema};

const IST_OFFSET_SECS: i32 = 5 * 3600 + 30 * 60;

fn today_in_india() -> NaiveDate {
    Utc::now().with_timezone(&FixedOffset::east_opt(IST_OFFSET_SECS).expect("valid offset")).date_naive()
}

pub(crate) fn status_url(booking_ref: &str) -> String {
    format!("/api/partners/v1/bookings/{booking_ref}")
}

#[derive(Deserialize, IntoParams)]
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
    rooms: Option<u32>,
}

impl StayQuery {
    fn validate(&self) -> Result<(StayDates, u32), ApiError> {
        let dates = StayDates::parse(self.check_in, self.check_out, today_in_india())
            .map_err(|e| ApiError::invalid_field(e.code(), "check_in", e.to_string()))?;
        let rooms = self.rooms.unwrap_or(1);
        if !(1..=9).contains(&rooms) {
            return Err(ApiError::invalid_field("invalid_rooms", "rooms", "Ask for 1 to 9 rooms"));
        }
        Ok((dates, rooms))
    }
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
#[utoipa::path(get, path = "/api/partners/v1/availability", tag = "partner API", params(StayQuery),
    security(("partner_key" = []), ("partner_key_header" = [])),
    responses((status = 200, body = AvailabilityView), (status = 401, description = "No valid API key"),
        (status = 404, description = "Unknown accommodation or room type"), (status = 422, description = "Invalid stay"),
        (status = 429, description = "Rate limit exceeded (see `Retry-After`)")))]
pub(crate) async fn availability(
    _: PartnerKey,
    State(CatalogDb(catalog)): State<CatalogDb>,
    State(InventoryDb(inventory)): State<InventoryDb>,
    ApiQuery(q): ApiQuery<StayQuery>,
) -> Result<Json<AvailabilityView>, ApiError> {
    let (dates, rooms) = q.validate()?;
    let not_found = || ApiError::not_found("accommodation_not_found", format!("No accommodation {}", q.accommodation));
    let found = catalog::search::find_accommodation(&catalog, q.accommodation.trim()).await?.ok_or_else(not_found)?;
    let mut room_types = catalog::search::room_types_of(&catalog, &[found.accommodation_id]).await?;
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
        let nights = inventory::store::availability(
            &inventory,
            found.accommodation_id,
            &room.room_type,
            dates.check_in,
            dates.check_out,
        )
        .await?;
        // A night without an allotment is not on sale.
        let available = if i64::try_from(nights.len()).unwrap_or_default() == dates.nights() {
            nights.iter().map(|n| n.available()).min().unwrap_or(0).max(0)
        } else {
            0
        };
        let Some(offer) = catalog::store::find_offer(&catalog, &found.code, &room.room_type).await? else { continue };
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
#[utoipa::path(get, path = "/api/partners/v1/quote", tag = "partner API", params(StayQuery),
    security(("partner_key" = []), ("partner_key_header" = [])),
    responses((status = 200, body = QuoteView), (status = 401, description = "No valid API key"),
        (status = 422, description = "Invalid stay or unknown room type"), (status = 429, description = "Rate limit exceeded")))]
pub(crate) async fn quote(
    _: PartnerKey,
    State(CatalogDb(catalog)): State<CatalogDb>,
    ApiQuery(q): ApiQuery<StayQuery>,
) -> Result<Json<QuoteView>, ApiError> {
    let (dates, rooms) = q.validate()?;
    let Some(room_type) = q.room_type.as_deref() else {
        return Err(ApiError::invalid_field("missing_room_type", "room_type", "Name the room type to quote"));
    };
    let offer = catalog::store::find_offer(&catalog, q.accommodation.trim(), room_type).await?.ok_or_else(|| {
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
#[utoipa::path(post, path = "/api/partners/v1/bookings", tag = "partner API", request_body = CreateBookingRequest,
    security(("partner_key" = []), ("partner_key_header" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Repeat a request safely")),
    responses((status = 202, body = BookingAccepted), (status = 401, description = "No valid API key"),
        (status = 403, description = "The partner is suspended or closed"),
        (status = 422, description = "Invalid booking request, or the key reused with another body"),
        (status = 429, description = "Rate limit exceeded"), (status = 503, description = "Temporal or the database is unreachable")))]
pub(crate) async fn create_booking(
    caller: PartnerKey,
    State(CatalogDb(catalog)): State<CatalogDb>,
    State(BookingDb(bookings)): State<BookingDb>,
    State(payments): State<Payments>,
    State(temporal): State<Temporal>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<CreateBookingRequest>,
) -> Result<Response, ApiError> {
    let client_key = bookings::idempotency_key(&headers)?;
    let request_hash = Sha256::digest(serde_json::to_vec(&body).map_err(|e| ApiError::Internal(e.into()))?).to_vec();
    // Keys belong to the partner: the same key from another partner is another request.
    let key = match &client_key {
        Some(k) => format!("partner:{}:{k}", caller.partner_id),
        None => format!("server:{}", uuid::Uuid::new_v4()),
    };
    let request = bookings::RequestToBook { body: &body, key: &key, request_hash: &request_hash };
    let owner = RequestOwner::Partner(caller.partner_id);
    let (prepared, booking_ref, repeated) = match bookings::admit(&catalog, &bookings, request, owner).await? {
        bookings::Admitted::Started(earlier) => return Ok(accepted(&temporal, &earlier, true).await),
        bookings::Admitted::Bound { prepared, booking_ref, repeated } => (prepared, booking_ref, repeated),
    };
    tracing::Span::current().record("booking_ref", tracing::field::display(&booking_ref));
    let input = prepared.saga_input(booking_ref.clone(), owner, key, &request_hash, payments.config.payment_window);
    let client = temporal.client().await?;
    bookings::start_saga(&client, input).await?;
    tracing::info!(%booking_ref, partner = %caller.partner_code, "partner booking saga started");
    bookings::after_the_answer(bookings, booking_ref.clone(), async {});
    Ok(accepted(&temporal, &booking_ref, repeated).await)
}

async fn accepted(temporal: &Temporal, booking_ref: &BookingRef, repeated: bool) -> Response {
    let status = match (repeated, temporal.client().await.ok()) {
        (true, Some(client)) => {
            bookings::query_progress(&client, booking_ref).await.map(|p| p.status.as_str()).unwrap_or("pending")
        }
        _ => "pending",
    };
    let body = BookingAccepted {
        status_url: status_url(booking_ref.as_str()),
        booking_ref: booking_ref.to_string(),
        status: status.to_string(),
    };
    let mut response = (StatusCode::ACCEPTED, Json(&body)).into_response();
    if let Ok(location) = HeaderValue::from_str(&body.status_url) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub(crate) struct GetBookingQuery {
    /// Wait up to this many seconds (at most 20) for the booking to be confirmed or failed.
    wait: Option<u64>,
}

/// Where one of the partner's bookings stands (with the checkout page to send the customer
/// to, while a checkout payment is awaited). Another partner's booking, or a booking made
/// outside the partner API, is 404.
#[utoipa::path(get, path = "/api/partners/v1/bookings/{booking_ref}", tag = "partner API",
    security(("partner_key" = []), ("partner_key_header" = [])),
    params(("booking_ref" = String, Path, example = "TRP-7K3M9Q"), GetBookingQuery),
    responses((status = 200, body = BookingView), (status = 401, description = "No valid API key"),
        (status = 404, description = "No such booking of this partner"), (status = 429, description = "Rate limit exceeded")))]
pub(crate) async fn get_booking(
    caller: PartnerKey,
    State(payments): State<Payments>,
    State(BookingDb(bookings)): State<BookingDb>,
    State(temporal): State<Temporal>,
    ApiPath(raw_ref): ApiPath<String>,
    ApiQuery(query): ApiQuery<GetBookingQuery>,
) -> Result<Json<BookingView>, ApiError> {
    let not_found = || ApiError::not_found("booking_not_found", format!("No booking {raw_ref}"));
    let booking_ref = own_booking(&bookings, &caller, &raw_ref).await?.ok_or_else(not_found)?;
    let deadline = Instant::now() + Duration::from_secs(query.wait.unwrap_or(0).min(bookings::MAX_WAIT_SECS));
    let mut view = bookings::read_booking(&bookings, &temporal, &booking_ref, deadline).await?.ok_or_else(not_found)?;
    // As for travellers: the record knows a cancellation after the saga ended, and the
    // payment context's books are the truth about money.
    if view.status == "confirmed"
        && let Some(row) = booking::store::find_booking(&bookings, &booking_ref).await?
        && row.status == "cancelled"
    {
        view.status = row.status;
    }
    let (captured, refunded) = payment::store::money_of_booking(&payments.db, &booking_ref).await?;
    view.set_money(captured, refunded);
    if let Some(checkout) = view.checkout.as_mut() {
        checkout.pay_url = format!("{}{}", payments.config.checkout_url, checkout.gateway_order_id);
    }
    view.status_url = status_url(&view.booking_ref);
    Ok(Json(view))
}

/// The booking `raw_ref` if this partner asked for it; `None` for anything else.
async fn own_booking(
    bookings: &sqlx::PgPool,
    caller: &PartnerKey,
    raw_ref: &str,
) -> Result<Option<BookingRef>, ApiError> {
    let Ok(booking_ref) = BookingRef::parse(raw_ref) else { return Ok(None) };
    let owner = booking::partner_channel::booking_partner(bookings, &booking_ref).await?;
    Ok((owner == Some(Some(caller.partner_id))).then_some(booking_ref))
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
#[utoipa::path(post, path = "/api/partners/v1/bookings/{booking_ref}/cancel", tag = "partner API",
    request_body = CancelRequest, security(("partner_key" = []), ("partner_key_header" = [])),
    params(("booking_ref" = String, Path, example = "TRP-7K3M9Q")),
    responses((status = 202, body = BookingAccepted, description = "The cancellation runs; poll `status_url`"),
        (status = 401, description = "No valid API key"), (status = 404, description = "No such booking of this partner"),
        (status = 409, description = "The booking is not confirmed"), (status = 429, description = "Rate limit exceeded")))]
pub(crate) async fn cancel_booking(
    caller: PartnerKey,
    State(BookingDb(bookings)): State<BookingDb>,
    State(temporal): State<Temporal>,
    ApiPath(raw_ref): ApiPath<String>,
    ApiJson(body): ApiJson<CancelRequest>,
) -> Result<Response, ApiError> {
    let not_found = || ApiError::not_found("booking_not_found", format!("No booking {raw_ref}"));
    let booking_ref = own_booking(&bookings, &caller, &raw_ref).await?.ok_or_else(not_found)?;
    let row = booking::store::find_booking(&bookings, &booking_ref).await?.ok_or_else(not_found)?;
    if !matches!(row.status.as_str(), "confirmed" | "cancelled") {
        return Err(ApiError::conflict(
            "not_cancellable",
            format!("Booking {booking_ref} is {}; only a confirmed booking can be cancelled", row.status),
        ));
    }
    let input = CancellationInput {
        booking_ref: booking_ref.clone(),
        requested_by: format!("partner:{}", caller.partner_id),
        reason: body.reason.unwrap_or_else(|| "cancelled by the partner".into()).chars().take(500).collect(),
        override_refund: None,
    };
    let client = temporal.client().await?;
    // One cancellation per booking, ever: repeats attach to it or find it done.
    let options = WorkflowStartOptions::new(task_queue::BOOKING, input.workflow_id())
        .id_conflict_policy(WorkflowIdConflictPolicy::UseExisting)
        .id_reuse_policy(WorkflowIdReusePolicy::RejectDuplicate)
        .build();
    match client.start_workflow(sagas::CancellationWorkflow::run, input, options).await {
        Ok(_) | Err(WorkflowStartError::AlreadyStarted { .. }) => {}
        Err(WorkflowStartError::Rpc(status)) if bookings::is_unavailable(&status) => {
            return Err(ApiError::unavailable("temporal_unavailable", "Cancellations cannot be started right now"));
        }
        Err(e) => return Err(ApiError::Internal(e.into())),
    }
    tracing::info!(%booking_ref, partner = %caller.partner_code, "partner cancellation started");
    let body = BookingAccepted {
        status_url: status_url(booking_ref.as_str()),
        booking_ref: booking_ref.to_string(),
        status: if row.status == "cancelled" { "cancelled".into() } else { "cancelling".into() },
    };
    Ok((StatusCode::ACCEPTED, Json(body)).into_response())
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListBookingsQuery {
    /// Page size, at most 100 (default 20).
    limit: Option<i64>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PartnerBookingItem {
    #[schema(example = "TRP-7K3M9Q")]
    booking_ref: String,
    /// The stored status (`pending_payment`, `confirmed`, `failed`, `cancelled`), or
    /// `pending` while the booking saga has not recorded it yet.
    status: String,
    #[schema(value_type = Option<String>, format = Date)]
    check_in: Option<NaiveDate>,
    #[schema(value_type = Option<String>, format = Date)]
    check_out: Option<NaiveDate>,
    total: Option<MoneyDto>,
    requested_at: DateTime<Utc>,
    status_url: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PartnerBookingList {
    items: Vec<PartnerBookingItem>,
    next_cursor: Option<String>,
}

fn encode_cursor(at: DateTime<Utc>, booking_ref: &str) -> String {
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
    URL_SAFE_NO_PAD.encode(format!("{}|{booking_ref}", at.to_rfc3339()))
}

fn decode_cursor(cursor: &str) -> Result<(DateTime<Utc>, String), ApiError> {
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
    let invalid = || ApiError::bad_request("invalid_cursor", "The cursor is not one this API gave out");
    let raw = URL_SAFE_NO_PAD.decode(cursor).ok().and_then(|b| String::from_utf8(b).ok()).ok_or_else(invalid)?;
    let (at, booking_ref) = raw.split_once('|').ok_or_else(invalid)?;
    let at = DateTime::parse_from_rfc3339(at).map_err(|_| invalid())?.with_timezone(&Utc);
    Ok((at, booking_ref.to_string()))
}

/// The partner's bookings, newest first.
#[utoipa::path(get, path = "/api/partners/v1/bookings", tag = "partner API", params(ListBookingsQuery),
    security(("partner_key" = []), ("partner_key_header" = [])),
    responses((status = 200, body = PartnerBookingList), (status = 401, description = "No valid API key"),
        (status = 429, description = "Rate limit exceeded")))]
pub(crate) async fn list_bookings(
    caller: PartnerKey,
    State(BookingDb(bookings)): State<BookingDb>,
    ApiQuery(query): ApiQuery<ListBookingsQuery>,
) -> Result<Json<PartnerBookingList>, ApiError> {
    let limit = query.limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::invalid_field("invalid_limit", "limit", "limit must be between 1 and 100"));
    }
    let before = query.cursor.as_deref().map(decode_cursor).transpose()?;
    let mut rows =
        booking::partner_channel::bookings_of_partner(&bookings, caller.partner_id, before, limit + 1).await?;
    let page = usize::try_from(limit).unwrap_or(20);
    let next_cursor = (rows.len() > page).then(|| {
        rows.truncate(page);
        rows.last().map(|r| encode_cursor(r.requested_at, &r.booking_ref))
    });
    let items = rows
        .into_iter()
        .map(|r| PartnerBookingItem {
            status_url: status_url(&r.booking_ref),
            status: r.status.unwrap_or_else(|| "pending".into()),
            check_in: r.check_in,
            check_out: r.check_out,
            total: r.total_amount_paise.map(|a| MoneyDto::new(a, r.currency.as_deref().unwrap_or("INR"))),
            requested_at: r.requested_at,
            booking_ref: r.booking_ref,
        })
        .collect();
    Ok(Json(PartnerBookingList { items, next_cursor: next_cursor.flatten() }))
}

/// The partner's settlement statements, newest first.
#[utoipa::path(get, path = "/api/partners/v1/settlements", tag = "partner API", params(SettlementsQuery),
    security(("partner_key" = []), ("partner_key_header" = [])),
    responses((status = 200, body = SettlementList), (status = 401, description = "No valid API key"),
        (status = 429, description = "Rate limit exceeded")))]
pub(crate) async fn settlements(
    caller: PartnerKey,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<SettlementsQuery>,
) -> Result<Json<SettlementList>, ApiError> {
    let rows =
        partner::store::settlements_of(state.partners.pool(), caller.partner_id, query.from, query.to, MAX_SETTLEMENTS)
            .await?;
    Ok(Json(SettlementList { items: rows.into_iter().map(SettlementView::from).collect() }))
}
