//! Book a package departure: check the party and the departure against the catalog, quote
//! it, date every stay the package includes from the departure, start the package booking
//! saga (`booking-<ref>`, like a stay's), and read where the booking stands.

use super::{
    BookingState, QueryFailure, bounded_query,
    request::{PaymentDto, TravellerDto, validate_payment, validate_traveller},
    view::{CheckoutDto, FailureDto, MoneyOfBooking},
};
use crate::{error::ApiError, money::MoneyDto, state::AppState};
use booking::RequestOwner;
use catalog::{Catalog, packages::PackageSummary};
use chrono::{Days, NaiveDate};
use contracts::{
    BookingRef, StayDates,
    package::{IncludedStay, PackageBookingInput, PackageBookingProgress, PackageOrder},
    pricing::{PackageParty, PackageQuote, PackageQuoteError, quote_package},
    saga::{BookingRequestKey, LeadTraveller, PaymentMethod},
    temporal::task_queue,
};
use sagas::PackageBookingWorkflow;
use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};
use temporalio_client::{
    Client, WorkflowGetResultOptions, WorkflowIdConflictPolicy, WorkflowIdReusePolicy, WorkflowQueryOptions,
    WorkflowStartOptions,
};
use temporalio_common::search_attributes::SearchAttributes;
use utoipa::ToSchema;
use uuid::Uuid;

/// The most travellers of each kind one request names; the package's group size caps the
/// party further.
pub(crate) const MAX_TRAVELLERS: i64 = 50;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreatePackageBookingRequest {
    /// Public code of the package (see `GET /api/catalog/packages`).
    #[schema(example = "tripura-grand-circuit", format = "non-blank")]
    pub package: String,
    /// The departure, one the package has seats on (see `GET /api/inventory/departures`).
    #[schema(value_type = String, format = Date, example = "2027-01-15")]
    pub departure: NaiveDate,
    /// Adults, 1 to 50.
    #[schema(example = 2, minimum = 1, maximum = 50)]
    pub adults: u32,
    /// Children, 0 to 50 (default 0). Every traveller takes a seat.
    #[serde(default)]
    #[schema(example = 0, minimum = 0, maximum = 50)]
    pub children: u32,
    /// Rooms at each included stay, 1 to one per adult (default: one for every two adults,
    /// children sharing). A per-room price charges them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = 1, minimum = 1, maximum = 50)]
    pub rooms: Option<u32>,
    pub lead_traveller: TravellerDto,
    pub payment: PaymentDto,
}

/// The party of a package, checked against its group size.
pub(crate) fn package_party(
    adults: i64,
    children: i64,
    rooms: Option<i64>,
    max_group_size: i32,
) -> Result<PackageParty, ApiError> {
    if !(1..=MAX_TRAVELLERS).contains(&adults) {
        return Err(ApiError::invalid_field("invalid_adults", "adults", "A party has at least one adult"));
    }
    if !(0..=MAX_TRAVELLERS).contains(&children) {
        return Err(ApiError::invalid_field("invalid_children", "children", "Children are 0 or more"));
    }
    if adults + children > i64::from(max_group_size) {
        let field = if adults > i64::from(max_group_size) { "adults" } else { "children" };
        return Err(ApiError::invalid_field(
            "group_too_large",
            field,
            format!("This package takes at most {max_group_size} travellers"),
        ));
    }
    let rooms = rooms.unwrap_or((adults + 1) / 2);
    if !(1..=adults).contains(&rooms) {
        return Err(ApiError::invalid_field("invalid_rooms", "rooms", "Ask for 1 room to one room per adult"));
    }
    let count = |n: i64| u32::try_from(n).unwrap_or(0);
    Ok(PackageParty { adults: count(adults), children: count(children), rooms: count(rooms) })
}

/// The package's price for `party` departing on `start`, by the season that covers it; a
/// date without a price is a 422 naming `date_field`.
pub(crate) async fn quote_departure(
    catalog: &Catalog,
    package: &PackageSummary,
    start: NaiveDate,
    party: PackageParty,
    date_field: &'static str,
) -> Result<PackageQuote, ApiError> {
    let rates: Vec<_> =
        catalog.prices_of_packages(&[package.package_id], start).await?.iter().filter_map(|p| p.rate()).collect();
    quote_package(&rates, start, party).map_err(|e| match e {
        PackageQuoteError::NoRateOn { .. } => ApiError::invalid_field("no_price_for_date", date_field, e.to_string()),
        PackageQuoteError::NoAdults | PackageQuoteError::NoRooms | PackageQuoteError::Overflow => {
            ApiError::invalid("unquotable_package", e.to_string())
        }
        // The catalog's constraints keep these out of the table: a bug if seen.
        PackageQuoteError::AmbiguousRates { .. } | PackageQuoteError::BadPrice => ApiError::Internal(e.into()),
    })
}

/// The package `code` if it is on sale; 404 otherwise.
pub(crate) async fn package_on_sale(
    catalog: &Catalog,
    code: &str,
    today: NaiveDate,
) -> Result<PackageSummary, ApiError> {
    catalog
        .find_package(code, today)
        .await?
        .ok_or_else(|| ApiError::not_found("package_not_found", format!("No package {code} is on sale")))
}

/// A package request checked against the catalog and quoted.
pub(super) struct PreparedPackage {
    order: PackageOrder,
    lead_traveller: LeadTraveller,
    quote: PackageQuote,
    payment_method: PaymentMethod,
}

impl PreparedPackage {
    pub(super) fn saga_input(
        self,
        booking_ref: BookingRef,
        owner: RequestOwner,
        request: BookingRequestKey,
        payment_window: Duration,
    ) -> PackageBookingInput {
        let (user_id, partner_id) = owner.user_and_partner();
        PackageBookingInput {
            booking_ref,
            order: self.order,
            lead_traveller: self.lead_traveller,
            quote: self.quote,
            payment_method: self.payment_method,
            user_id,
            partner_id,
            payment_window_secs: Some(payment_window.as_secs()),
            request: Some(request),
        }
    }
}

pub(super) async fn prepare(
    catalog: &Catalog,
    inventory: &inventory::Inventory,
    body: &CreatePackageBookingRequest,
) -> Result<PreparedPackage, ApiError> {
    let today = contracts::india::today();
    let code = body.package.trim();
    if code.is_empty() {
        return Err(ApiError::invalid_field("missing_package", "package", "Name the package to book"));
    }
    if body.departure < today {
        return Err(ApiError::invalid_field(
            "departure_in_past",
            "departure",
            format!("departure {} is before today ({today})", body.departure),
        ));
    }
    if (body.departure - today).num_days() > contracts::stay::MAX_DAYS_AHEAD {
        return Err(ApiError::invalid_field(
            "departure_too_far_ahead",
            "departure",
            format!("A departure may be at most {} days ahead", contracts::stay::MAX_DAYS_AHEAD),
        ));
    }
    let lead_traveller = validate_traveller(&body.lead_traveller)?;
    let payment_method = validate_payment(&body.payment)?;
    let package = package_on_sale(catalog, code, today).await?;
    let party = package_party(
        i64::from(body.adults),
        i64::from(body.children),
        body.rooms.map(i64::from),
        package.max_group_size,
    )?;
    // The saga's seat hold is the guard against a race; this tells a traveller at once
    // about a date without a departure or without the seats.
    let departure = inventory.departures(package.package_id, body.departure, body.departure).await?.into_iter().next();
    let Some(departure) = departure.filter(|d| !d.stop_sell) else {
        return Err(ApiError::invalid_field(
            "departure_not_on_sale",
            "departure",
            format!("{} does not depart on {}; see GET /api/inventory/departures", package.code, body.departure),
        ));
    };
    let travellers = party.adults + party.children;
    if departure.seats_left() < i32::try_from(travellers).unwrap_or(i32::MAX) {
        return Err(ApiError::invalid_field(
            "not_enough_seats",
            "departure",
            format!("{} seats are left on {}, not {travellers}", departure.seats_left(), body.departure),
        ));
    }
    let quote = quote_departure(catalog, &package, body.departure, party, "departure").await?;
    let stays = included_stays(catalog, &package, body.departure, party).await?;
    let nights = u64::try_from(package.nights).unwrap_or(0);
    let returns = body.departure.checked_add_days(Days::new(nights)).unwrap_or(body.departure);
    Ok(PreparedPackage {
        order: PackageOrder {
            package_id: package.package_id,
            package_code: package.code,
            departure: body.departure,
            returns,
            party,
            stays,
        },
        lead_traveller,
        quote,
        payment_method,
    })
}

/// The package's included stays dated from `departure`, each with the party's rooms, which
/// must sleep the whole party.
async fn included_stays(
    catalog: &Catalog,
    package: &PackageSummary,
    departure: NaiveDate,
    party: PackageParty,
) -> Result<Vec<IncludedStay>, ApiError> {
    let mut stays = Vec::new();
    for stay in catalog.included_stays(package.package_id).await? {
        let check_in = departure.checked_add_days(Days::new(u64::from(stay.first_night.saturating_sub(1))));
        let check_out = check_in.and_then(|d| d.checked_add_days(Days::new(u64::from(stay.nights))));
        let (Some(check_in), Some(check_out)) = (check_in, check_out) else {
            return Err(ApiError::invalid_field("departure_too_far_ahead", "departure", "No such date"));
        };
        // A stay whose accommodation is withdrawn from sale cannot be booked: the package
        // is not for sale until operators mend it.
        let Some(offer) = catalog.find_offer(&stay.accommodation_code, &stay.room_type).await? else {
            return Err(ApiError::conflict(
                "included_stay_not_on_sale",
                format!(
                    "{} includes {} at {}, which is not on sale; the package cannot be booked now",
                    package.code, stay.room_type, stay.accommodation_code
                ),
            ));
        };
        let sleeps = u32::try_from(offer.max_occupancy).unwrap_or(0) * party.rooms;
        let travellers = party.adults + party.children;
        if sleeps < travellers {
            return Err(ApiError::invalid_field(
                "too_few_rooms",
                "rooms",
                format!(
                    "{} room(s) of type {} at {} sleep {sleeps}, not {travellers} travellers",
                    party.rooms, stay.room_type, stay.accommodation_code
                ),
            ));
        }
        stays.push(IncludedStay {
            accommodation_id: stay.accommodation_id,
            accommodation_code: stay.accommodation_code,
            room_type: stay.room_type,
            dates: StayDates { check_in, check_out },
            rooms: party.rooms,
        });
    }
    Ok(stays)
}

pub(super) async fn start_saga(client: &Client, input: PackageBookingInput) -> Result<(), ApiError> {
    // One workflow per booking reference, ever, as for stays.
    let options = WorkflowStartOptions::new(task_queue::BOOKING, input.booking_ref.workflow_id())
        .id_conflict_policy(WorkflowIdConflictPolicy::UseExisting)
        .id_reuse_policy(WorkflowIdReusePolicy::RejectDuplicate)
        .search_attributes(SearchAttributes::new(sagas::package_search_attributes(&input)))
        .build();
    let outcome = client
        .start_workflow(PackageBookingWorkflow::run, input, options)
        .await
        .map(|_| metrics::counter!("tt_package_bookings_started_total").increment(1));
    super::super::started_or_running(outcome, "Package bookings")
}

pub(super) async fn query_progress(
    client: &Client,
    booking_ref: &BookingRef,
) -> Result<PackageBookingProgress, QueryFailure> {
    let handle = client.get_workflow_handle::<PackageBookingWorkflow>(booking_ref.workflow_id());
    bounded_query(handle.query(PackageBookingWorkflow::status, (), WorkflowQueryOptions::default())).await
}

/// A stay the package includes, as booked.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct BookedStayDto {
    pub accommodation_id: Uuid,
    /// The accommodation's public code, when known.
    pub accommodation: Option<String>,
    pub room_type: String,
    #[schema(value_type = String, format = Date)]
    pub check_in: NaiveDate,
    #[schema(value_type = String, format = Date)]
    pub check_out: NaiveDate,
    pub rooms: u32,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PackageBookingView {
    #[schema(example = "TRP-7K3M9Q")]
    pub booking_ref: String,
    pub status: BookingState,
    pub package_id: Uuid,
    /// The package's public code, when known.
    pub package: Option<String>,
    #[schema(value_type = String, format = Date)]
    pub departure: NaiveDate,
    /// The day the trip ends.
    #[schema(value_type = String, format = Date)]
    pub returns: NaiveDate,
    /// Seats taken on the departure: every traveller.
    pub seats: u32,
    /// Rooms at each included stay.
    pub rooms: u32,
    pub stays: Vec<BookedStayDto>,
    /// The package's price for the party, GST included.
    pub total: MoneyDto,
    pub amount_charged: Option<MoneyDto>,
    pub amount_refunded: Option<MoneyDto>,
    pub amount_due: MoneyDto,
    pub failure: Option<FailureDto>,
    pub checkout: Option<CheckoutDto>,
    pub status_url: String,
}

pub(crate) fn status_url(booking_ref: &str) -> String {
    format!("/api/bookings/packages/{booking_ref}")
}

impl From<PackageBookingProgress> for PackageBookingView {
    fn from(p: PackageBookingProgress) -> Self {
        let order = p.order;
        PackageBookingView {
            status_url: status_url(p.booking_ref.as_str()),
            booking_ref: p.booking_ref.to_string(),
            status: p.status.into(),
            package_id: order.package_id,
            package: Some(order.package_code),
            departure: order.departure,
            returns: order.returns,
            seats: order.party.adults + order.party.children,
            rooms: if order.stays.is_empty() { 0 } else { order.party.rooms },
            stays: order
                .stays
                .into_iter()
                .map(|s| BookedStayDto {
                    accommodation_id: s.accommodation_id,
                    accommodation: Some(s.accommodation_code),
                    room_type: s.room_type,
                    check_in: s.dates.check_in,
                    check_out: s.dates.check_out,
                    rooms: s.rooms,
                })
                .collect(),
            total: p.total.into(),
            amount_charged: p.amount_charged.map(Into::into),
            amount_refunded: p.amount_refunded.map(Into::into),
            amount_due: MoneyDto::new(0, p.total.currency.code()),
            failure: p.failure.map(Into::into),
            checkout: p.checkout.map(Into::into),
        }
    }
}

impl From<booking::PackageBookingRow> for PackageBookingView {
    fn from(row: booking::PackageBookingRow) -> Self {
        let count = |n: i32| u32::try_from(n).unwrap_or_default();
        PackageBookingView {
            status_url: status_url(row.booking_ref.as_str()),
            booking_ref: row.booking_ref.to_string(),
            status: row.status.into(),
            package_id: row.package_id,
            package: None,
            departure: row.departure,
            returns: row.returns,
            seats: count(row.seats),
            rooms: count(row.rooms),
            stays: row
                .stays
                .into_iter()
                .map(|s| BookedStayDto {
                    accommodation_id: s.accommodation_id,
                    accommodation: None,
                    room_type: s.room_type,
                    check_in: s.check_in,
                    check_out: s.check_out,
                    rooms: count(s.rooms),
                })
                .collect(),
            total: MoneyDto::new(row.total_amount_paise, &row.currency),
            amount_charged: row.amount_charged_paise.map(|a| MoneyDto::new(a, &row.currency)),
            amount_refunded: None,
            amount_due: MoneyDto::new(0, &row.currency),
            failure: row.failure_code.map(|code| FailureDto { code, message: row.failure_message.unwrap_or_default() }),
            checkout: None,
        }
    }
}

/// A package booking as read, and whether that is only its last state known for sure.
pub(crate) struct PackageRead {
    pub(crate) view: PackageBookingView,
    pub(crate) last_known: bool,
}

/// Where a package booking stands: its saga's live progress (waiting up to `wait` for its
/// outcome), else its record; the record knows a cancellation, and the payment context's
/// books are the truth about money. `None` when neither knows it.
pub(crate) async fn read_package_booking(
    state: &AppState,
    booking_ref: &BookingRef,
    wait: Duration,
) -> Result<Option<PackageRead>, ApiError> {
    let deadline = Instant::now() + wait.min(Duration::from_secs(super::MAX_WAIT_SECS));
    let live = match state.temporal.client().await {
        Ok(client) => live_progress(&client, booking_ref, deadline).await,
        Err(e) => {
            Err(QueryFailure::Unavailable(temporalio_client::errors::WorkflowQueryError::Other(e.to_string().into())))
        }
    };
    // The record is read only where it knows more than the saga: after confirmation (a
    // cancellation), or when the saga cannot answer.
    let (mut view, last_known) = match live {
        Ok(progress) => {
            let mut view = PackageBookingView::from(progress);
            if view.status == BookingState::Confirmed
                && let Some(row) = state.bookings.find_package(booking_ref).await?
            {
                if row.status == booking::RecordStatus::Cancelled {
                    view.status = BookingState::Cancelled;
                } else if row.cancellation_started {
                    view.status = BookingState::Cancelling;
                }
            }
            (view, false)
        }
        Err(failure) => match (failure, state.bookings.find_package(booking_ref).await?) {
            (QueryFailure::NotFound, Some(row)) => (PackageBookingView::from(row), false),
            (QueryFailure::NotFound, None) => return Ok(None),
            (QueryFailure::Unavailable(e), Some(row)) => {
                tracing::warn!(error = %e, "package booking query failed; answering with the record");
                (PackageBookingView::from(row), true)
            }
            (QueryFailure::Unavailable(_), None) => {
                return Err(ApiError::unavailable(
                    "temporal_unavailable",
                    "The booking's progress cannot be read right now; try again shortly",
                ));
            }
        },
    };
    let (captured, refunded) = state.payments.money_of_booking(booking_ref).await?;
    let money = MoneyOfBooking {
        status: view.status,
        total: &view.total,
        amount_charged: &mut view.amount_charged,
        amount_refunded: &mut view.amount_refunded,
        amount_due: &mut view.amount_due,
    };
    money.set(captured, refunded);
    if let Some(checkout) = view.checkout.as_mut() {
        checkout.pay_url = format!("{}{}", state.payments_config.checkout_url, checkout.gateway_order_id);
    }
    Ok(Some(PackageRead { view, last_known }))
}

/// The saga's progress, after waiting until `deadline` for its outcome if it is still running.
async fn live_progress(
    client: &Client,
    booking_ref: &BookingRef,
    deadline: Instant,
) -> Result<PackageBookingProgress, QueryFailure> {
    let progress = query_progress(client, booking_ref).await?;
    if progress.status.is_final() || Instant::now() >= deadline {
        return Ok(progress);
    }
    let saga = client.get_workflow_handle::<PackageBookingWorkflow>(booking_ref.workflow_id());
    let result = saga.get_result(WorkflowGetResultOptions::default());
    match tokio::time::timeout_at(deadline.into(), result).await {
        Ok(Ok(progress)) => Ok(progress),
        // Ended without a result, or the caller's wait is over: ask where it stands.
        _ => query_progress(client, booking_ref).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_party_fits_the_group_and_rooms_default_to_twin_sharing() {
        assert_eq!(package_party(3, 1, None, 6).unwrap(), PackageParty { adults: 3, children: 1, rooms: 2 });
        assert_eq!(package_party(1, 0, None, 6).unwrap(), PackageParty { adults: 1, children: 0, rooms: 1 });
        let code = |r: Result<PackageParty, ApiError>| match r {
            Err(ApiError::Invalid { code, .. }) => code,
            other => panic!("{other:?}"),
        };
        assert_eq!(code(package_party(5, 2, None, 6)), "group_too_large");
        assert_eq!(code(package_party(0, 0, None, 6)), "invalid_adults");
        assert_eq!(code(package_party(2, -1, None, 6)), "invalid_children");
        assert_eq!(code(package_party(2, 0, Some(3), 6)), "invalid_rooms");
    }
}
