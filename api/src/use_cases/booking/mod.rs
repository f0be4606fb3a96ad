//! Book a stay, and follow a booking: admit a request (check, quote, bind its idempotency
//! key to a booking reference), start its saga (`booking-<ref>`), and read where it stands,
//! waiting for its outcome if asked. Travellers and partners book through the same code.

mod package;
mod request;
mod view;

pub(crate) use package::{
    CreatePackageBookingRequest, PackageBookingView, PackageRead, package_on_sale, package_party, quote_departure,
    read_package_booking, status_url as package_status_url,
};
pub(crate) use request::CreateBookingRequest;
pub(crate) use view::{
    BookingAccepted, BookingList, BookingListItem, BookingState, BookingView, CheckoutDto, VersionDto,
    status_url as traveller_status_url,
};

use super::started_or_running;
use crate::{error::ApiError, state::AppState};
use booking::{BookingKind, IdempotentRequest, RequestOwner};
use contracts::{
    BookingRef,
    saga::{BookingProgress, BookingRequestKey, BookingSagaInput, StayRequest},
    temporal::task_queue,
};
use sagas::BookingWorkflow;
use sha2::{Digest, Sha256};
use std::time::{Duration, Instant};
use temporalio_client::{
    Client, WorkflowGetResultOptions, WorkflowIdConflictPolicy, WorkflowIdReusePolicy, WorkflowQueryOptions,
    WorkflowStartOptions, errors::WorkflowQueryError,
};
use temporalio_common::search_attributes::SearchAttributes;

/// The longest `?wait=` honoured, in seconds.
pub(crate) const MAX_WAIT_SECS: u64 = 20;
/// How long one question to a running saga may take before the record answers instead.
const QUERY_TIMEOUT: Duration = Duration::from_secs(5);

/// What a booking request asks for: a stay, or a package departure.
#[derive(Clone, Copy)]
pub(crate) enum BookingBody<'a> {
    Stay(&'a CreateBookingRequest),
    Package(&'a CreatePackageBookingRequest),
}

impl<'a> From<&'a CreateBookingRequest> for BookingBody<'a> {
    fn from(body: &'a CreateBookingRequest) -> Self {
        BookingBody::Stay(body)
    }
}

impl<'a> From<&'a CreatePackageBookingRequest> for BookingBody<'a> {
    fn from(body: &'a CreatePackageBookingRequest) -> Self {
        BookingBody::Package(body)
    }
}

impl BookingBody<'_> {
    fn kind(self) -> BookingKind {
        match self {
            BookingBody::Stay(_) => BookingKind::Stay,
            BookingBody::Package(_) => BookingKind::Package,
        }
    }

    /// SHA-256 of the request body: the same key with another body is another request.
    fn hash(self) -> Result<Vec<u8>, ApiError> {
        let json = match self {
            BookingBody::Stay(body) => serde_json::to_vec(body),
            BookingBody::Package(body) => serde_json::to_vec(body),
        };
        Ok(Sha256::digest(json.map_err(|e| ApiError::Internal(e.into()))?).to_vec())
    }
}

/// A booking request from someone allowed to book (the handler checked who).
pub(crate) struct BookingOrder<'a> {
    pub(crate) body: BookingBody<'a>,
    /// The client's `Idempotency-Key`, if it sent one.
    pub(crate) client_key: Option<String>,
    pub(crate) owner: RequestOwner,
}

impl BookingOrder<'_> {
    /// The key the request is bound under: a client's key is its own (the same key from
    /// another user or partner is another request); without one the server makes a key, so
    /// every reference is recorded and unique.
    fn scoped_key(&self) -> String {
        match (&self.client_key, self.owner) {
            (Some(k), RequestOwner::User(user_id)) => format!("client:{user_id}:{k}"),
            (Some(k), RequestOwner::Partner(partner_id)) => format!("partner:{partner_id}:{k}"),
            (None, _) => format!("server:{}", uuid::Uuid::new_v4()),
        }
    }
}

/// A booking whose saga runs (or ran).
pub(crate) struct Started {
    pub(crate) booking_ref: BookingRef,
    /// Where it stands: `pending` for a new saga, how far it got for a repeated request.
    pub(crate) state: BookingState,
    /// An earlier request with the same key and body had made this booking.
    pub(crate) repeated: bool,
}

/// Admits `order` and starts its saga, or finds the saga an earlier request with the same
/// key and body started. `confirm_caller` (the caller's login, checked against the
/// database) runs alongside the admission: nothing starts before both are done, and a
/// request whose caller is refused unbinds the key it had just bound.
pub(crate) async fn start_booking(
    state: &AppState,
    order: BookingOrder<'_>,
    confirm_caller: impl Future<Output = Result<(), ApiError>>,
) -> Result<Started, ApiError> {
    let request_hash = order.body.hash()?;
    let key = order.scoped_key();
    let kind = order.body.kind();
    let (confirmed, admitted) = tokio::join!(confirm_caller, admit(state, &order, &key, &request_hash));
    if let Err(refused) = confirmed {
        if let Ok(Admitted::Bound { booking_ref, repeated: false, .. }) = &admitted {
            state.bookings.forget_unstarted_request(&key, booking_ref).await?;
        }
        return Err(refused);
    }
    let (prepared, booking_ref, repeated) = match admitted? {
        Admitted::Started(earlier) => {
            tracing::Span::current().record("booking_ref", tracing::field::display(&earlier));
            let state = match state.temporal.client().await {
                Ok(client) => progress_or_pending(&client, &earlier, kind).await,
                Err(_) => BookingState::Pending,
            };
            return Ok(Started { booking_ref: earlier, state, repeated: true });
        }
        Admitted::Bound { prepared, booking_ref, repeated } => (prepared, booking_ref, repeated),
    };
    tracing::Span::current().record("booking_ref", tracing::field::display(&booking_ref));
    let request = BookingRequestKey { idempotency_key: key, request_hash: hex::encode(&request_hash) };
    let window = state.payments_config.payment_window;
    // The key is bound before the start: if Temporal is away, the client's retry with the
    // same key starts the saga under the same reference.
    let client = state.temporal.client().await?;
    match *prepared {
        Prepared::Stay(prepared) => {
            let input = prepared.saga_input(booking_ref.clone(), order.owner, request, window);
            // What the request asked for is kept alongside the start, not after it: a status
            // read that cannot ask the saga then still finds the booking (see `live_or_stored`).
            let accepted = BookingProgress::accepted(&input);
            let (started, kept) = tokio::join!(start_saga(&client, input), state.bookings.record_accepted(&accepted));
            started?;
            if let Err(e) = kept {
                tracing::warn!(error = %e, "could not keep the accepted booking request");
            }
        }
        Prepared::Package(prepared) => {
            let input = prepared.saga_input(booking_ref.clone(), order.owner, request, window);
            package::start_saga(&client, input).await?;
        }
    }
    tracing::info!(%booking_ref, "booking saga started");
    // Best effort, after the answer: a repeated request that misses the mark binds again
    // and attaches to the running saga, and lists show the booking once its saga records it.
    let bookings = state.bookings.clone();
    let marked = booking_ref.clone();
    state.background.spawn(async move {
        if let Err(e) = bookings.mark_saga_started(&marked).await {
            tracing::warn!(error = %e, "could not mark the booking request started");
        }
    });
    let state = if repeated { progress_or_pending(&client, &booking_ref, kind).await } else { BookingState::Pending };
    Ok(Started { booking_ref, state, repeated })
}

/// What a booking request comes to before its saga starts.
enum Admitted {
    /// An earlier request with the same key and body started its saga: answer with it.
    Started(BookingRef),
    /// Checked, quoted and bound to a reference; `repeated` when an earlier request with the
    /// same key and body had bound it.
    Bound { prepared: Box<Prepared>, booking_ref: BookingRef, repeated: bool },
}

/// A request checked against the catalog and quoted, ready to start its saga.
enum Prepared {
    Stay(PreparedBooking),
    Package(package::PreparedPackage),
}

/// Checks, quotes and binds a booking request. Checking and binding are independent round
/// trips, so they run at once. The same key and body get the first answer even if the
/// request would no longer validate (check-in passed, room type withdrawn). A request that
/// fails validation unbinds a key it had just bound, so the client may correct the request
/// and send it again under the same key.
async fn admit(
    state: &AppState,
    order: &BookingOrder<'_>,
    key: &str,
    request_hash: &[u8],
) -> Result<Admitted, ApiError> {
    let bind = state.bookings.bind_request(key, request_hash, order.owner, order.body.kind());
    let prepare = async {
        Ok(match order.body {
            BookingBody::Stay(body) => Prepared::Stay(prepare(&state.catalog, body).await?),
            BookingBody::Package(body) => {
                Prepared::Package(package::prepare(&state.catalog, &state.inventory, body).await?)
            }
        })
    };
    match tokio::join!(prepare, bind) {
        (_, Ok(IdempotentRequest::Mismatch)) => Err(key_reused()),
        (_, Ok(IdempotentRequest::Repeat { booking_ref, saga_started: true })) => Ok(Admitted::Started(booking_ref)),
        (Ok(prepared), Ok(IdempotentRequest::New(booking_ref))) => {
            Ok(Admitted::Bound { prepared: Box::new(prepared), booking_ref, repeated: false })
        }
        (Ok(prepared), Ok(IdempotentRequest::Repeat { booking_ref, .. })) => {
            Ok(Admitted::Bound { prepared: Box::new(prepared), booking_ref, repeated: true })
        }
        (Err(invalid), Ok(IdempotentRequest::New(booking_ref))) => {
            state.bookings.forget_unstarted_request(key, &booking_ref).await?;
            Err(invalid)
        }
        (_, Err(e)) => Err(e.into()),
        (Err(e), _) => Err(e),
    }
}

fn key_reused() -> ApiError {
    ApiError::invalid("idempotency_key_reused", "This Idempotency-Key was used for a different booking request")
}

/// A booking request checked against the catalog and quoted.
struct PreparedBooking {
    stay: StayRequest,
    lead_traveller: contracts::saga::LeadTraveller,
    quote: contracts::pricing::StayQuote,
    payment_method: contracts::saga::PaymentMethod,
}

impl PreparedBooking {
    /// The saga's input for this request, bound to `booking_ref` under `key`: every saga
    /// starts from here, so each records its request again with the booking (see
    /// [`BookingRequestKey`]) and runs the booking's own steps locally without a patch.
    fn saga_input(
        self,
        booking_ref: BookingRef,
        owner: RequestOwner,
        request: BookingRequestKey,
        payment_window: Duration,
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
            request: Some(request),
            local_booking_steps: true,
        }
    }
}

async fn prepare(catalog: &catalog::Catalog, body: &CreateBookingRequest) -> Result<PreparedBooking, ApiError> {
    let valid = request::validate(body, contracts::india::today())?;
    let Some(offer) = catalog.find_offer(body.accommodation.trim(), body.room_type.trim()).await? else {
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

/// Tells an unknown accommodation from an unknown room type of a known one.
async fn unknown_offer(catalog: &catalog::Catalog, body: &CreateBookingRequest) -> Result<ApiError, ApiError> {
    let accommodation = body.accommodation.trim();
    let Some(found) = catalog.find_accommodation(accommodation).await? else {
        return Ok(ApiError::invalid_field(
            "unknown_accommodation",
            "accommodation",
            format!("No accommodation {accommodation} is on sale"),
        ));
    };
    let rooms: Vec<String> =
        catalog.room_types_of(&[found.accommodation_id]).await?.into_iter().map(|r| r.room_type).collect();
    Ok(ApiError::invalid_field(
        "unknown_room_type",
        "room_type",
        format!("{accommodation} has no room type {}; it has {}", body.room_type.trim(), rooms.join(", ")),
    ))
}

async fn start_saga(client: &Client, input: BookingSagaInput) -> Result<(), ApiError> {
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
    let outcome = start.await.map(|_| metrics::counter!("tt_bookings_started_total").increment(1));
    started_or_running(outcome, "Bookings")
}

/// Where a booking stands: its saga's live progress, or while the saga cannot answer, its
/// stored record or the request it was started from; `None` when none knows it. Waits up
/// to `wait` (at most [`MAX_WAIT_SECS`]) for the saga to reach its outcome. The record knows a cancellation
/// after the saga ended, and the payment context's books are the truth about money.
pub(crate) async fn read_booking(
    state: &AppState,
    booking_ref: &BookingRef,
    wait: Duration,
) -> Result<Option<Read>, ApiError> {
    let deadline = Instant::now() + wait.min(Duration::from_secs(MAX_WAIT_SECS));
    let Some(Read { mut view, last_known }) = live_or_stored(state, booking_ref, deadline).await? else {
        return Ok(None);
    };
    // A confirmed booking's saga has ended; its record knows when a cancellation started
    // (its terms are fixed) and when it was cancelled.
    if view.status == BookingState::Confirmed
        && let Some(row) = state.bookings.find(booking_ref).await?
    {
        if row.status == booking::RecordStatus::Cancelled {
            view.status = BookingState::Cancelled;
        } else if row.cancellation_started {
            view.status = BookingState::Cancelling;
        }
    }
    let (captured, refunded) = state.payments.money_of_booking(booking_ref).await?;
    view.set_money(captured, refunded);
    if let Some(checkout) = view.checkout.as_mut() {
        checkout.pay_url = format!("{}{}", state.payments_config.checkout_url, checkout.gateway_order_id);
    }
    Ok(Some(Read { view, last_known }))
}

/// A booking as read, and whether that is only its last state known for sure: the saga
/// could not be asked, so the client should ask again soon.
pub(crate) struct Read {
    pub(crate) view: BookingView,
    pub(crate) last_known: bool,
}

impl Read {
    fn live(view: BookingView) -> Self {
        Read { view, last_known: false }
    }
}

async fn live_or_stored(
    state: &AppState,
    booking_ref: &BookingRef,
    deadline: Instant,
) -> Result<Option<Read>, ApiError> {
    let stored = || async { Ok::<_, ApiError>(state.bookings.find(booking_ref).await?.map(BookingView::from)) };
    // While the saga cannot be asked: its record, or else the request it was started from.
    // Either is the last state known for sure, marked so the client asks again soon.
    let last_known = |unavailable: ApiError| async move {
        let view = match stored().await? {
            Some(view) => view,
            None => match state.bookings.accepted_request(booking_ref).await? {
                Some(accepted) => accepted.into(),
                None => return Err(unavailable),
            },
        };
        Ok(Some(Read { view, last_known: true }))
    };
    let client = match state.temporal.client().await {
        Ok(client) => client,
        Err(unavailable) => return last_known(unavailable).await,
    };
    // Set once the saga has ended without a result: its last state is then all the query
    // will ever say. `Some(true)` when it stopped part-way (terminated, failed, timed out).
    let mut ended: Option<bool> = None;
    loop {
        match query_progress(&client, booking_ref).await {
            Ok(progress) if progress.status.is_final() => return Ok(Some(Read::live(progress.into()))),
            Ok(progress) => {
                if let Some(stopped) = ended {
                    // A saga that stopped part-way is repaired after it ended: once the
                    // repair has settled the record, the record says how the booking ended;
                    // one that never wrote a record will never be a booking.
                    return Ok(Some(Read::live(match stored().await? {
                        Some(view) if view.status.is_settled() => view,
                        None if stopped => BookingView::stopped(progress),
                        _ => progress.into(),
                    })));
                }
                if Instant::now() >= deadline {
                    return Ok(Some(Read::live(progress.into())));
                }
                // Wait for the saga's end with one long poll on its result, bounded by the
                // caller's wait, rather than asking the saga again and again.
                let saga = client.get_workflow_handle::<BookingWorkflow>(booking_ref.workflow_id());
                let result = saga.get_result(WorkflowGetResultOptions::default());
                match tokio::time::timeout_at(deadline.into(), result).await {
                    // The saga's result is its final progress: no need to ask again.
                    Ok(Ok(progress)) => return Ok(Some(Read::live(progress.into()))),
                    // Ended without a result (cancelled, terminated), or the poll failed:
                    // the query says where it stands, once more.
                    Ok(Err(e)) => {
                        use temporalio_client::errors::WorkflowGetResultError as Ended;
                        ended = Some(matches!(e, Ended::Failed(_) | Ended::Terminated { .. } | Ended::TimedOut));
                    }
                    // The caller's wait is over: the query below answers where it stands.
                    Err(_) => {}
                }
            }
            Err(QueryFailure::NotFound) => return Ok(stored().await?.map(Read::live)),
            Err(QueryFailure::Unavailable(e)) => {
                tracing::warn!(error = %e, "booking query failed; answering with the last known state");
                return last_known(ApiError::unavailable(
                    "temporal_unavailable",
                    "The booking's progress cannot be read right now; try again shortly",
                ))
                .await;
            }
        }
    }
}

enum QueryFailure {
    NotFound,
    Unavailable(WorkflowQueryError),
}

async fn query_progress(client: &Client, booking_ref: &BookingRef) -> Result<BookingProgress, QueryFailure> {
    let handle = client.get_workflow_handle::<BookingWorkflow>(booking_ref.workflow_id());
    bounded_query(handle.query(BookingWorkflow::status, (), WorkflowQueryOptions::default())).await
}

/// One question to a running saga, given up after [`QUERY_TIMEOUT`].
async fn bounded_query<T>(query: impl Future<Output = Result<T, WorkflowQueryError>>) -> Result<T, QueryFailure> {
    match tokio::time::timeout(QUERY_TIMEOUT, query).await {
        Ok(Ok(progress)) => Ok(progress),
        Ok(Err(WorkflowQueryError::NotFound(_))) => Err(QueryFailure::NotFound),
        Ok(Err(e)) => Err(QueryFailure::Unavailable(e)),
        Err(_) => Err(QueryFailure::Unavailable(WorkflowQueryError::Other("query timed out".into()))),
    }
}

/// Where a booking's saga (a stay's or a package's) stands now; `None` when it cannot be
/// asked.
pub(crate) async fn live_status(state: &AppState, booking_ref: &BookingRef) -> Option<BookingState> {
    let kind = state.bookings.kind_of(booking_ref).await.ok()??;
    let client = state.temporal.client().await.ok()?;
    match kind {
        BookingKind::Stay => query_progress(&client, booking_ref).await.ok().map(|p| p.status.into()),
        BookingKind::Package => package::query_progress(&client, booking_ref).await.ok().map(|p| p.status.into()),
    }
}

/// How far a saga got, or `pending` when it cannot say yet.
async fn progress_or_pending(client: &Client, booking_ref: &BookingRef, kind: BookingKind) -> BookingState {
    match kind {
        BookingKind::Stay => {
            query_progress(client, booking_ref).await.map_or(BookingState::Pending, |p| p.status.into())
        }
        BookingKind::Package => {
            package::query_progress(client, booking_ref).await.map_or(BookingState::Pending, |p| p.status.into())
        }
    }
}
