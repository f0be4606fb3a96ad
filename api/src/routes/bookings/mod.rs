//! Bookings: start the booking saga, and show where a booking stands.

mod request;
mod view;

pub(crate) use request::{CreateBookingRequest, PaymentDto, TravellerDto};
pub(crate) use view::{BookingAccepted, BookingView, FailureDto};

use crate::{
    access::{BookingsCancel, BookingsCreate, BookingsRead, ClientInfo, Require, Verified},
    error::ApiError,
    extract::{ApiJson, ApiQuery},
    state::{AppState, BookingDb, CatalogDb, Payments, Temporal},
};
use axum::{
    Json, Router,
    extract::{Path, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use booking::store::{IdempotentRequest, RequestOwner};
use chrono::{FixedOffset, Utc};
use contracts::{
    BookingRef,
    saga::{BookingProgress, BookingRequestKey, BookingSagaInput, StayRequest},
    temporal::task_queue,
};
use rand::Rng;
use sagas::BookingWorkflow;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::time::{Duration, Instant};
use temporalio_client::{
    Client, WorkflowGetResultOptions, WorkflowIdConflictPolicy, WorkflowIdReusePolicy, WorkflowQueryOptions,
    WorkflowStartOptions,
    errors::{WorkflowQueryError, WorkflowStartError},
};
use temporalio_common::search_attributes::SearchAttributes;
use utoipa::IntoParams;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/", post(create_booking).get(list_my_bookings))
        .route("/{booking_ref}", get(get_booking))
        .route("/{booking_ref}/cancel", post(cancel_booking))
        .route("/{booking_ref}/versions", get(booking_versions))
}

/// The longest `?wait=` honoured, in seconds.
pub(crate) const MAX_WAIT_SECS: u64 = 20;
/// Tripura keeps Indian Standard Time: "today" for check-in is today there.
const IST_OFFSET_SECS: i32 = 5 * 3600 + 30 * 60;

/// Start a booking: holds the rooms, records the booking, charges the card and confirms —
/// or gives everything back. Answers at once; poll the status URL for the outcome.
#[utoipa::path(post, path = "/api/bookings", tag = "bookings", request_body = CreateBookingRequest,
    security(("bearer" = ["bookings:create"])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Repeat a request safely: the same key and body find the same booking")),
    responses(
        (status = 202, body = BookingAccepted, description = "The booking saga runs; poll `status_url`"),
        (status = 400, description = "Malformed JSON or header"),
        (status = 401, description = "Not signed in"),
        (status = 403, description = "The account may not book"),
        (status = 422, description = "Invalid booking request (dates, guests, traveller, unknown accommodation or room type, reused idempotency key)"),
        (status = 503, description = "Temporal or the database is unreachable"),
    ))]
pub(crate) async fn create_booking(
    caller: Verified<BookingsCreate>,
    ClientInfo(requester): ClientInfo,
    State(accounts): State<auth::Accounts>,
    State(CatalogDb(catalog)): State<CatalogDb>,
    State(BookingDb(bookings)): State<BookingDb>,
    State(payments): State<Payments>,
    State(temporal): State<Temporal>,
    headers: HeaderMap,
    body: Result<ApiJson<CreateBookingRequest>, ApiError>,
) -> Result<Response, ApiError> {
    // Who may book is settled before what was sent is judged: a refused caller gets 401 or
    // 403, whatever its request.
    let (body, client_key) = match (body, idempotency_key(&headers)) {
        (Ok(ApiJson(body)), Ok(client_key)) => (body, client_key),
        (Err(malformed), _) | (_, Err(malformed)) => {
            caller.confirm().await?;
            return Err(malformed);
        }
    };
    let request_hash = Sha256::digest(serde_json::to_vec(&body).map_err(|e| ApiError::Internal(e.into()))?).to_vec();
    // Keys are the client's own: the same key from another user is another request.
    let user_id = caller.user_id();
    let key = match &client_key {
        Some(k) => format!("client:{user_id}:{k}"),
        None => format!("server:{}", uuid::Uuid::new_v4()),
    };
    // The caller's login is confirmed while the request is checked and bound: independent
    // round trips, so they run at once. Nothing starts before both are done, and a request
    // whose caller is refused unbinds the key it had just bound.
    let request = RequestToBook { body: &body, key: &key, request_hash: &request_hash };
    let owner = RequestOwner::User(user_id);
    let (confirmed, admitted) = tokio::join!(caller.confirm(), admit(&catalog, &bookings, request, owner));
    if let Err(refused) = confirmed {
        if let Ok(Admitted::Bound { booking_ref, repeated: false, .. }) = &admitted {
            booking::store::forget_unstarted_request(&bookings, &key, booking_ref).await?;
        }
        return Err(refused);
    }
    let (prepared, booking_ref, repeated) = match admitted? {
        Admitted::Started(earlier) => {
            tracing::Span::current().record("booking_ref", tracing::field::display(&earlier));
            return Ok(accepted(temporal.client().await.ok().as_ref(), &earlier, true).await);
        }
        Admitted::Bound { prepared, booking_ref, repeated } => (prepared, booking_ref, repeated),
    };
    tracing::Span::current().record("booking_ref", tracing::field::display(&booking_ref));
    let input = prepared.saga_input(booking_ref.clone(), owner, key, &request_hash, payments.config.payment_window);
    // The key is bound before the start: if Temporal is away, the client's retry with the
    // same key starts the saga under the same reference.
    let client = temporal.client().await?;
    start_saga(&client, input).await?;
    tracing::info!(%booking_ref, "booking saga started");
    let details = serde_json::json!({ "booking_ref": booking_ref.as_str() });
    let log = async move {
        if !repeated {
            accounts.log(Some(user_id), "booking_create", "success", &requester, details).await;
        }
    };
    after_the_answer(bookings, booking_ref.clone(), log);
    Ok(accepted(Some(&client), &booking_ref, repeated).await)
}

/// Writes, once the request is answered, what the answer does not depend on: the mark that
/// the request's saga was started, and `also` (an activity log line) at the same time. Both
/// commit asynchronously and are best effort: a repeated request that misses the mark binds
/// again and attaches to the running saga, and booking lists show the booking once its saga
/// records it.
pub(crate) fn after_the_answer(
    bookings: sqlx::PgPool,
    booking_ref: BookingRef,
    also: impl Future<Output = ()> + Send + 'static,
) {
    let writes = async move {
        let (marked, ()) = tokio::join!(booking::store::mark_saga_started(&bookings, &booking_ref), also);
        if let Err(e) = marked {
            tracing::warn!(error = %e, "could not mark the booking request started");
        }
    };
    tokio::spawn(tracing::Instrument::in_current_span(writes));
}

/// A booking request as the API received it.
#[derive(Clone, Copy)]
pub(crate) struct RequestToBook<'a> {
    pub(crate) body: &'a CreateBookingRequest,
    /// Its idempotency key, scoped to the caller (or made by the server).
    pub(crate) key: &'a str,
    pub(crate) request_hash: &'a [u8],
}

/// What a booking request comes to before its saga starts.
pub(crate) enum Admitted {
    /// An earlier request with the same key and body started its saga: answer with it.
    Started(BookingRef),
    /// Checked, quoted and bound to a reference; `repeated` when an earlier request with the
    /// same key and body had bound it.
    Bound { prepared: PreparedBooking, booking_ref: BookingRef, repeated: bool },
}

/// Checks, quotes and binds a booking request, or finds the saga an earlier request with
/// the same key started. Checking and binding are independent round trips, so they run at
/// once. The same key and body get the first answer even if the request would no longer
/// validate (check-in passed, room type withdrawn). A request that fails validation
/// unbinds a key it had just bound, so the client may correct the request and send it
/// again under the same key.
pub(crate) async fn admit(
    catalog: &sqlx::PgPool,
    bookings: &sqlx::PgPool,
    request: RequestToBook<'_>,
    owner: RequestOwner,
) -> Result<Admitted, ApiError> {
    let bind = bind_booking_ref(bookings, request.key, request.request_hash, owner);
    match tokio::join!(prepare(catalog, request.body), bind) {
        (_, Ok(IdempotentRequest::Mismatch)) => Err(key_reused()),
        (_, Ok(IdempotentRequest::Repeat { booking_ref, saga_started: true })) => Ok(Admitted::Started(booking_ref)),
        (Ok(prepared), Ok(IdempotentRequest::New(booking_ref))) => {
            Ok(Admitted::Bound { prepared, booking_ref, repeated: false })
        }
        (Ok(prepared), Ok(IdempotentRequest::Repeat { booking_ref, .. })) => {
            Ok(Admitted::Bound { prepared, booking_ref, repeated: true })
        }
        (Err(invalid), Ok(IdempotentRequest::New(booking_ref))) => {
            booking::store::forget_unstarted_request(bookings, request.key, &booking_ref).await?;
            Err(invalid)
        }
        (_, Err(e)) | (Err(e), _) => Err(e),
    }
}

/// A booking request checked against the catalog and quoted.
pub(crate) struct PreparedBooking {
    pub(crate) stay: StayRequest,
    pub(crate) lead_traveller: contracts::saga::LeadTraveller,
    pub(crate) quote: contracts::pricing::StayQuote,
    pub(crate) payment_method: contracts::saga::PaymentMethod,
}

impl PreparedBooking {
    /// The saga's input for this request, bound to `booking_ref` under `key`: every saga
    /// starts from here, so each records its request again with the booking (see
    /// [`BookingRequestKey`]) and runs the booking's own steps locally without a patch.
    pub(crate) fn saga_input(
        self,
        booking_ref: BookingRef,
        owner: RequestOwner,
        key: String,
        request_hash: &[u8],
        payment_window: std::time::Duration,
    ) -> BookingSagaInput {
        let (user_id, partner_id) = owner.user_and_partner();
        BookingSagaInput {
            booking_ref,
            stay: self.stay,
            lead_traveller: self.lead_traveller,
            quote: self.quote,
            payment_method: self.payment_method,
            user_id,
            payment_window_secs: Some(payment_window.as_secs()),
            partner_id,
            request: Some(BookingRequestKey { idempotency_key: key, request_hash: hex::encode(request_hash) }),
            local_booking_steps: true,
        }
    }
}

async fn prepare(catalog: &sqlx::PgPool, body: &CreateBookingRequest) -> Result<PreparedBooking, ApiError> {
    let today = Utc::now().with_timezone(&FixedOffset::east_opt(IST_OFFSET_SECS).expect("valid offset")).date_naive();
    let valid = request::validate(body, today)?;
    let Some(offer) = catalog::store::find_offer(catalog, body.accommodation.trim(), body.room_type.trim()).await?
    else {
        return Err(unknown_offer(catalog, body).await?);
    };
    let capacity = u32::try_from(offer.max_occupancy).unwrap_or(0) * valid.rooms;
    if valid.guests > capacity {
        return Err(ApiError::invalid_field(
            "too_many_guests",
            "guests",
            format!("{} room(s) of type {} sleep at most {capacity} guests", valid.rooms, offer.room_type),
        ));
    }
    let quote =
        offer.quote(&valid.dates, valid.rooms).map_err(|e| ApiError::invalid("unquotable_stay", e.to_string()))?;
    Ok(PreparedBooking {
        stay: StayRequest {
            accommodation_id: offer.accommodation_id,
            accommodation_code: offer.accommodation_code,
            room_type: offer.room_type,
            dates: valid.dates,
            rooms: valid.rooms,
            guests: valid.guests,
        },
        lead_traveller: valid.lead_traveller,
        quote,
        payment_method: valid.payment_method,
    })
}

/// `202 Accepted` naming the booking and where it stands: a new saga is pending by
/// definition; a repeated request reports how far it got.
async fn accepted(client: Option<&Client>, booking_ref: &BookingRef, repeated: bool) -> Response {
    let status = match (repeated, client) {
        (true, Some(client)) => {
            query_progress(client, booking_ref).await.map(|p| p.status.as_str()).unwrap_or("pending")
        }
        _ => "pending",
    };
    let body = BookingAccepted {
        status_url: view::status_url(booking_ref.as_str()),
        booking_ref: booking_ref.to_string(),
        status: status.to_string(),
    };
    let mut response = (StatusCode::ACCEPTED, Json(&body)).into_response();
    if let Ok(location) = HeaderValue::from_str(&body.status_url) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

pub(crate) fn key_reused() -> ApiError {
    ApiError::invalid("idempotency_key_reused", "This Idempotency-Key was used for a different booking request")
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub(crate) struct GetBookingQuery {
    /// Wait up to this many seconds (at most 20) for the booking to be confirmed or failed.
    wait: Option<u64>,
}

/// Where a booking stands: its saga's live progress, or the stored record. Travellers see
/// their own bookings only (anyone else's is 404); operators see every booking.
#[utoipa::path(get, path = "/api/bookings/{booking_ref}", tag = "bookings",
    security(("bearer" = ["bookings:read_own", "bookings:read_any"])),
    params(("booking_ref" = String, Path, example = "TRP-7K3M9Q"), GetBookingQuery),
    responses((status = 200, body = BookingView), (status = 401, description = "Not signed in"),
        (status = 404, description = "No such booking, or not yours"), (status = 503, description = "Temporal is unreachable")))]
pub(crate) async fn get_booking(
    caller: Require<BookingsRead>,
    State(payments): State<Payments>,
    State(BookingDb(bookings)): State<BookingDb>,
    State(temporal): State<Temporal>,
    Path(raw_ref): Path<String>,
    ApiQuery(query): ApiQuery<GetBookingQuery>,
) -> Result<Json<BookingView>, ApiError> {
    let not_found = || ApiError::not_found("booking_not_found", format!("No booking {raw_ref}"));
    let booking_ref = BookingRef::parse(&raw_ref).map_err(|_| not_found())?;
    if !caller.can("bookings:read_any")
        && !booking::store::access_of(&bookings, &booking_ref, caller.user_id).await?.can_view
    {
        return Err(not_found());
    }
    tracing::Span::current().record("booking_ref", tracing::field::display(&booking_ref));
    let deadline = Instant::now() + Duration::from_secs(query.wait.unwrap_or(0).min(MAX_WAIT_SECS));
    let mut view = read_booking(&bookings, &temporal, &booking_ref, deadline).await?.ok_or_else(not_found)?;
    // The payment context's books are the truth about money, automatic refunds included.
    // A confirmed booking's saga has ended; its record knows when it was cancelled since.
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
    Ok(Json(view))
}

/// The booking's live progress from its saga, or its stored record while the saga cannot
/// answer; `None` when neither knows it.
pub(crate) async fn read_booking(
    bookings: &sqlx::PgPool,
    temporal: &Temporal,
    booking_ref: &BookingRef,
    deadline: Instant,
) -> Result<Option<BookingView>, ApiError> {
    let client = match temporal.client().await {
        Ok(client) => client,
        // The record answers while Temporal is away.
        Err(unavailable) => {
            let row = booking::store::find_booking(bookings, booking_ref).await?;
            return row.map(|r| Some(r.into())).ok_or(unavailable);
        }
    };
    loop {
        match query_progress(&client, booking_ref).await {
            Ok(progress) if progress.status.is_final() || Instant::now() >= deadline => {
                return Ok(Some(progress.into()));
            }
            Ok(_) => {
                // Wait for the saga's end with one long poll on its result, bounded by the
                // caller's wait, rather than asking the saga again and again.
                let saga = client.get_workflow_handle::<BookingWorkflow>(booking_ref.workflow_id());
                let ended = saga.get_result(WorkflowGetResultOptions::default());
                match tokio::time::timeout_at(deadline.into(), ended).await {
                    // The saga's result is its final progress: no need to ask again.
                    Ok(Ok(progress)) => return Ok(Some(progress.into())),
                    // Ended without a result (cancelled), or the poll failed: the query says.
                    Ok(Err(_)) => tokio::time::sleep(Duration::from_millis(200)).await,
                    // The caller's wait is over: the query below answers where it stands.
                    Err(_) => {}
                }
            }
            Err(QueryFailure::NotFound) => {
                return Ok(booking::store::find_booking(bookings, booking_ref).await?.map(Into::into));
            }
            Err(QueryFailure::Unavailable(e)) => {
                // The record answers while Temporal or the workers are away.
                tracing::warn!(error = %e, "booking query failed; answering from the store");
                let row = booking::store::find_booking(bookings, booking_ref).await?;
                return row.map(|r| Some(r.into())).ok_or_else(|| {
                    ApiError::unavailable(
                        "temporal_unavailable",
                        "The booking's progress cannot be read right now; try again shortly",
                    )
                });
            }
        }
    }
}

/// Every version of a booking: each change of its record, oldest first.
#[utoipa::path(get, path = "/api/bookings/{booking_ref}/versions", tag = "bookings",
    security(("bearer" = ["bookings:read_own", "bookings:read_any"])),
    params(("booking_ref" = String, Path, example = "TRP-7K3M9Q")),
    responses((status = 200, body = [view::VersionDto]), (status = 404, description = "No such booking, or not yours")))]
pub(crate) async fn booking_versions(
    caller: Require<BookingsRead>,
    State(BookingDb(bookings)): State<BookingDb>,
    Path(raw_ref): Path<String>,
) -> Result<Json<Vec<view::VersionDto>>, ApiError> {
    let not_found = || ApiError::not_found("booking_not_found", format!("No booking {raw_ref}"));
    let booking_ref = BookingRef::parse(&raw_ref).map_err(|_| not_found())?;
    if !caller.can("bookings:read_any")
        && !booking::store::access_of(&bookings, &booking_ref, caller.user_id).await?.can_view
    {
        return Err(not_found());
    }
    let versions = booking::store::versions(&bookings, &booking_ref).await?;
    if versions.is_empty() {
        return Err(not_found());
    }
    Ok(Json(versions.into_iter().map(Into::into).collect()))
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
    refund_bp: Option<u32>,
    #[serde(default)]
    override_reason: Option<String>,
}

/// Cancel a confirmed booking: the refund follows its cancellation policy (days before
/// check-in), or an operator's override; the rooms go back on sale. Asking again (or ten
/// times at once) runs one cancellation and refunds once.
#[utoipa::path(post, path = "/api/bookings/{booking_ref}/cancel", tag = "bookings", request_body = CancelBookingRequest,
    security(("bearer" = ["bookings:cancel_own", "bookings:cancel_any"])),
    params(("booking_ref" = String, Path, example = "TRP-7K3M9Q")),
    responses((status = 202, body = BookingAccepted, description = "The cancellation runs; poll `status_url`"),
        (status = 403, description = "An override without `bookings:override`"),
        (status = 404, description = "No such booking, or not yours"),
        (status = 409, description = "The booking is not confirmed"), (status = 422, description = "Invalid override")))]
pub(crate) async fn cancel_booking(
    caller: Require<BookingsCancel>,
    ClientInfo(requester): ClientInfo,
    State(accounts): State<auth::Accounts>,
    State(BookingDb(bookings)): State<BookingDb>,
    State(temporal): State<Temporal>,
    Path(raw_ref): Path<String>,
    ApiJson(body): ApiJson<CancelBookingRequest>,
) -> Result<Response, ApiError> {
    let not_found = || ApiError::not_found("booking_not_found", format!("No booking {raw_ref}"));
    let booking_ref = BookingRef::parse(&raw_ref).map_err(|_| not_found())?;
    if !caller.can("bookings:cancel_any") {
        let access = booking::store::access_of(&bookings, &booking_ref, caller.user_id).await?;
        if !access.can_view {
            return Err(not_found());
        }
        if !access.can_change {
            return Err(ApiError::forbidden("not_allowed", "You may see this booking but not change it"));
        }
    }
    tracing::Span::current().record("booking_ref", tracing::field::display(&booking_ref));
    let override_refund = match (body.refund_bp, body.override_reason.as_deref().map(str::trim)) {
        (None, None) => None,
        (Some(_), _) if !caller.can("bookings:override") => {
            return Err(ApiError::forbidden("override_not_allowed", "Only operators may override the refund"));
        }
        (Some(bp), Some(reason)) if bp <= 10_000 && !reason.is_empty() => {
            Some(contracts::cancellation::RefundOverride {
                refund_bp: bp,
                reason: reason.to_string(),
                by: caller.user_id,
            })
        }
        (Some(bp), _) if bp > 10_000 => {
            return Err(ApiError::invalid_field("invalid_refund_bp", "refund_bp", "refund_bp is 0 to 10000"));
        }
        _ => {
            return Err(ApiError::invalid_field(
                "override_reason_required",
                "override_reason",
                "An override needs refund_bp and a reason",
            ));
        }
    };
    let row = booking::store::find_booking(&bookings, &booking_ref).await?.ok_or_else(not_found)?;
    if !matches!(row.status.as_str(), "confirmed" | "cancelled") {
        return Err(ApiError::conflict(
            "not_cancellable",
            format!("Booking {booking_ref} is {}; only a confirmed booking can be cancelled", row.status),
        ));
    }
    let input = contracts::cancellation::CancellationInput {
        booking_ref: booking_ref.clone(),
        requested_by: format!("user:{}", caller.user_id),
        reason: body.reason.unwrap_or_else(|| "cancelled by the traveller".into()).chars().take(500).collect(),
        override_refund,
    };
    let client = temporal.client().await?;
    // One cancellation per booking, ever: repeats attach to it or find it done.
    let options = WorkflowStartOptions::new(task_queue::BOOKING, input.workflow_id())
        .id_conflict_policy(WorkflowIdConflictPolicy::UseExisting)
        .id_reuse_policy(WorkflowIdReusePolicy::RejectDuplicate)
        .build();
    match client.start_workflow(sagas::CancellationWorkflow::run, input, options).await {
        Ok(_) | Err(WorkflowStartError::AlreadyStarted { .. }) => {}
        Err(WorkflowStartError::Rpc(status)) if is_unavailable(&status) => {
            return Err(ApiError::unavailable("temporal_unavailable", "Cancellations cannot be started right now"));
        }
        Err(e) => return Err(ApiError::Internal(e.into())),
    }
    let details = serde_json::json!({ "booking_ref": booking_ref.as_str() });
    accounts.log(Some(caller.user_id), "booking_cancel", "success", &requester, details).await;
    let body = BookingAccepted {
        status_url: view::status_url(booking_ref.as_str()),
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

/// The signed-in user's bookings, newest first.
#[utoipa::path(get, path = "/api/bookings", tag = "bookings", params(ListBookingsQuery),
    security(("bearer" = ["bookings:read_own", "bookings:read_any"])),
    responses((status = 200, body = view::BookingList), (status = 401, description = "Not signed in")))]
pub(crate) async fn list_my_bookings(
    caller: Require<BookingsRead>,
    State(BookingDb(bookings)): State<BookingDb>,
    ApiQuery(query): ApiQuery<ListBookingsQuery>,
) -> Result<Json<view::BookingList>, ApiError> {
    let limit = query.limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::invalid_field("invalid_limit", "limit", "limit must be between 1 and 100"));
    }
    let before = query.cursor.as_deref().map(view::decode_list_cursor).transpose()?;
    let mut rows = booking::store::bookings_of(&bookings, caller.user_id, before, limit + 1).await?;
    let page = usize::try_from(limit).unwrap_or(20);
    let next_cursor = (rows.len() > page).then(|| {
        rows.truncate(page);
        rows.last().map(view::encode_list_cursor)
    });
    Ok(Json(view::BookingList {
        items: rows.into_iter().map(Into::into).collect(),
        next_cursor: next_cursor.flatten(),
    }))
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

/// Binds a fresh booking reference to the request under `key`, or finds the one an earlier
/// request with the same key made (or that it had another body). Requests without a client
/// key get a server-made key, so every reference is recorded and unique.
async fn bind_booking_ref(
    pool: &sqlx::PgPool,
    key: &str,
    request_hash: &[u8],
    owner: RequestOwner,
) -> Result<IdempotentRequest, ApiError> {
    // A fresh reference can collide with an existing one (one in a billion); try another.
    for _ in 0..5 {
        let candidate = BookingRef::from_random(rand::thread_rng().r#gen());
        match booking::store::claim_request(pool, key, request_hash, &candidate, owner).await {
            Ok(bound) => return Ok(bound),
            Err(sqlx::Error::Database(e)) if e.constraint() == Some("booking_requests_booking_ref_key") => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::Internal(anyhow::anyhow!("could not allocate a unique booking reference")))
}

pub(crate) async fn start_saga(client: &Client, input: BookingSagaInput) -> Result<(), ApiError> {
    // One workflow per booking reference, ever: a repeated start (same idempotency key)
    // attaches to the running saga or is refused after it closed; both mean "already started".
    let options = WorkflowStartOptions::new(task_queue::BOOKING, input.booking_ref.workflow_id())
        .id_conflict_policy(WorkflowIdConflictPolicy::UseExisting)
        .id_reuse_policy(WorkflowIdReusePolicy::RejectDuplicate)
        // Set with the start, they cost no separate visibility write.
        .search_attributes(SearchAttributes::new(sagas::initial_search_attributes(&input)))
        .build();
    // The saga continues the request's trace (when traces are exported): the client's
    // tracing plugin reads the OpenTelemetry context of the request's span.
    let trace = tracing_opentelemetry::OpenTelemetrySpanExt::context(&tracing::Span::current());
    let start = opentelemetry::trace::FutureExt::with_context(
        client.start_workflow(BookingWorkflow::run, input, options),
        trace,
    );
    match start.await {
        Ok(_) => {
            metrics::counter!("tt_bookings_started_total").increment(1);
            Ok(())
        }
        Err(WorkflowStartError::AlreadyStarted { .. }) => Ok(()),
        Err(WorkflowStartError::Rpc(status)) if is_unavailable(&status) => Err(ApiError::unavailable(
            "temporal_unavailable",
            "Bookings cannot be started right now; try again shortly",
        )),
        Err(e) => Err(ApiError::Internal(e.into())),
    }
}

pub(crate) enum QueryFailure {
    NotFound,
    Unavailable(WorkflowQueryError),
}

pub(crate) async fn query_progress(client: &Client, booking_ref: &BookingRef) -> Result<BookingProgress, QueryFailure> {
    let handle = client.get_workflow_handle::<BookingWorkflow>(booking_ref.workflow_id());
    match tokio::time::timeout(
        Duration::from_secs(5),
        handle.query(BookingWorkflow::status, (), WorkflowQueryOptions::default()),
    )
    .await
    {
        Ok(Ok(progress)) => Ok(progress),
        Ok(Err(WorkflowQueryError::NotFound(_))) => Err(QueryFailure::NotFound),
        Ok(Err(e)) => Err(QueryFailure::Unavailable(e)),
        Err(_) => Err(QueryFailure::Unavailable(WorkflowQueryError::Other("query timed out".into()))),
    }
}

pub(crate) fn is_unavailable(status: &temporalio_client::tonic::Status) -> bool {
    use temporalio_client::tonic::Code;
    matches!(status.code(), Code::Unavailable | Code::DeadlineExceeded | Code::ResourceExhausted)
}

/// Tells an unknown accommodation from an unknown room type of a known one.
async fn unknown_offer(catalog: &sqlx::PgPool, body: &CreateBookingRequest) -> Result<ApiError, ApiError> {
    let accommodation = body.accommodation.trim();
    let Some(found) = catalog::search::find_accommodation(catalog, accommodation).await? else {
        return Ok(ApiError::invalid_field(
            "unknown_accommodation",
            "accommodation",
            format!("No accommodation {accommodation} is on sale"),
        ));
    };
    let rooms: Vec<String> = catalog::search::room_types_of(catalog, &[found.accommodation_id])
        .await?
        .into_iter()
        .map(|r| r.room_type)
        .collect();
    Ok(ApiError::invalid_field(
        "unknown_room_type",
        "room_type",
        format!("{accommodation} has no room type {}; it has {}", body.room_type.trim(), rooms.join(", ")),
    ))
}
