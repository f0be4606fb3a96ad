//! Inventory: rooms left per night and package departures with seats (public), allotments
//! and stop-sell for the people who manage a property, and departures' seats for operators.

use crate::access::{ClientInfo, DeparturesManage, InventoryManage, Public, Require};
use crate::{
    error::ApiError,
    extract::{ApiJson, ApiQuery},
    state::AppState,
};
use axum::{Json, extract::State};
use chrono::NaiveDate;
use inventory::{AllotmentChange, DepartureChange, Inventory, RoomNights};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(availability))
        .routes(routes!(change_allotments))
        .routes(routes!(departures, set_departure))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct AvailabilityQuery {
    /// Accommodation code.
    accommodation: String,
    room_type: String,
    /// First night.
    from: NaiveDate,
    /// Day after the last night (exclusive).
    to: NaiveDate,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct NightDto {
    night: NaiveDate,
    allotment: i32,
    held: i32,
    booked: i32,
    /// Not on sale this night, whatever the allotment.
    stop_sell: bool,
    available: i32,
}

impl From<inventory::NightAvailability> for NightDto {
    fn from(n: inventory::NightAvailability) -> Self {
        NightDto {
            night: n.night,
            allotment: n.allotment,
            held: n.held,
            booked: n.booked,
            stop_sell: n.stop_sell,
            available: n.available(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub(crate) struct AvailabilityDto {
    accommodation: String,
    room_type: String,
    nights: Vec<NightDto>,
}

/// What anyone may know of a night: how many rooms can be booked. How many are held,
/// booked or allotted is the property's business (and a competitor's interest).
#[derive(Serialize, ToSchema)]
pub(crate) struct PublicNightDto {
    night: NaiveDate,
    /// Rooms that can be booked this night (0 when the night is not on sale).
    available: i32,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct PublicAvailabilityDto {
    accommodation: String,
    room_type: String,
    nights: Vec<PublicNightDto>,
}

/// Rooms that can be booked per night for one room type. Nights without an allotment are
/// not listed.
#[utoipa::path(get, security(()), path = "/availability", tag = "inventory", params(AvailabilityQuery),
    responses((status = 200, body = PublicAvailabilityDto), (status = 404, description = "Unknown accommodation or room type")))]
pub(crate) async fn availability(
    _: Public,
    State(catalog): State<catalog::Catalog>,
    State(inventory): State<inventory::Inventory>,
    ApiQuery(q): ApiQuery<AvailabilityQuery>,
) -> Result<Json<PublicAvailabilityDto>, ApiError> {
    if q.to <= q.from || (q.to - q.from).num_days() > 366 {
        return Err(ApiError::invalid("invalid_date_range", "`to` must be after `from`, at most 366 days later"));
    }
    let accommodation_id = offering(&catalog, &q.accommodation, &q.room_type).await?;
    let nights = RoomNights { accommodation_id, room_type: &q.room_type, from: q.from, to: q.to };
    let nights = nights_now(&inventory, &nights).await?;
    let nights = nights.into_iter().map(|n| PublicNightDto { night: n.night, available: n.available }).collect();
    Ok(Json(PublicAvailabilityDto { accommodation: q.accommodation, room_type: q.room_type, nights }))
}

/// The id of the accommodation `code` if it sells `room_type`; 404 naming both otherwise.
async fn offering(catalog: &catalog::Catalog, code: &str, room_type: &str) -> Result<Uuid, ApiError> {
    let offer = catalog.find_offer(code, room_type).await?;
    let not_offered = || ApiError::not_found("room_type_not_found", format!("No room type {room_type} at {code}"));
    offer.map(|o| o.accommodation_id).ok_or_else(not_offered)
}

/// Each of `nights` that has an allotment, as it stands now.
async fn nights_now(inventory: &Inventory, nights: &RoomNights<'_>) -> Result<Vec<NightDto>, ApiError> {
    let listed = inventory.availability(nights.accommodation_id, nights.room_type, nights.from, nights.to).await?;
    Ok(listed.into_iter().map(NightDto::from).collect())
}

/// The longest range one allotment change covers.
const MAX_ALLOTMENT_RANGE_DAYS: i64 = 366;
/// More rooms of one type than any property in Tripura has.
const MAX_ALLOTMENT: i32 = 10_000;

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AllotmentChangeRequest {
    #[schema(example = "ujjayanta-heritage-hotel")]
    accommodation: String,
    #[schema(example = "deluxe_double")]
    room_type: String,
    /// First night.
    from: NaiveDate,
    /// Day after the last night (exclusive).
    to: NaiveDate,
    /// Rooms on sale each night, 0 to 10000; never below what is already held and booked.
    #[schema(minimum = 0, maximum = 10000)]
    allotment: Option<i32>,
    /// `true` stops selling these nights (holds in place are kept); `false` resumes.
    stop_sell: Option<bool>,
}

/// Set the allotment and/or stop-sell of a room type for a range of nights, all nights or
/// none. Asset managers change only the properties assigned to them.
#[utoipa::path(put, path = "/allotments", tag = "inventory", request_body = AllotmentChangeRequest,
    security(("bearer" = ["inventory:manage_assigned", "inventory:manage_any"])),
    responses((status = 200, body = AvailabilityDto, description = "The nights after the change"),
        (status = 401, description = "Not signed in"), (status = 403, description = "Not a manager of this property"),
        (status = 404, description = "Unknown accommodation or room type"),
        (status = 409, description = "The allotment would fall below rooms already held and booked"),
        (status = 422, description = "Invalid range or allotment")))]
pub(crate) async fn change_allotments(
    caller: Require<InventoryManage>,
    ClientInfo(client): ClientInfo,
    State(accounts): State<auth::Accounts>,
    State(catalog): State<catalog::Catalog>,
    State(inventory): State<inventory::Inventory>,
    ApiJson(body): ApiJson<AllotmentChangeRequest>,
) -> Result<Json<AvailabilityDto>, ApiError> {
    if body.to <= body.from || (body.to - body.from).num_days() > MAX_ALLOTMENT_RANGE_DAYS {
        return Err(ApiError::invalid_field(
            "invalid_date_range",
            "to",
            format!("`to` must be after `from`, at most {MAX_ALLOTMENT_RANGE_DAYS} days later"),
        ));
    }
    if body.allotment.is_none() && body.stop_sell.is_none() {
        return Err(ApiError::invalid("nothing_to_change", "Give an allotment, a stop_sell flag, or both"));
    }
    if let Some(allotment) = body.allotment
        && !(0..=MAX_ALLOTMENT).contains(&allotment)
    {
        return Err(ApiError::invalid_field(
            "invalid_allotment",
            "allotment",
            format!("allotment must be between 0 and {MAX_ALLOTMENT}"),
        ));
    }
    let accommodation_id = offering(&catalog, &body.accommodation, &body.room_type).await?;
    if !caller.can("inventory:manage_any") && !accounts.is_assigned(caller.user_id, accommodation_id).await? {
        return Err(ApiError::forbidden(
            "not_assigned",
            format!("You do not manage {}; ask an admin to assign it to you", body.accommodation),
        ));
    }
    let nights = RoomNights { accommodation_id, room_type: &body.room_type, from: body.from, to: body.to };
    let change = inventory.change_allotments(&nights, body.allotment, body.stop_sell).await?;
    if let AllotmentChange::BelowCommitments { nights: short } = change {
        let listed: Vec<String> = short.iter().map(|(night, rooms)| format!("{night} ({rooms})")).collect();
        return Err(ApiError::Conflict {
            code: "allotment_below_commitments",
            message: format!(
                "Rooms are already held or booked beyond {} on {}; nothing was changed",
                body.allotment.unwrap_or_default(),
                listed.join(", ")
            ),
        });
    }
    let details = serde_json::json!({
        "accommodation": body.accommodation, "room_type": body.room_type, "from": body.from, "to": body.to,
        "allotment": body.allotment, "stop_sell": body.stop_sell,
    });
    accounts.log(Some(caller.user_id), "allotment_change", "success", &client, details).await;
    let nights = nights_now(&inventory, &nights).await?;
    Ok(Json(AvailabilityDto { accommodation: body.accommodation, room_type: body.room_type, nights }))
}

/// How far ahead one departures search looks.
const MAX_DEPARTURE_RANGE_DAYS: i64 = 366;
/// More seats than any coach or group tour in Tripura carries.
const MAX_SEATS: i32 = 500;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct DeparturesQuery {
    /// Package code.
    #[param(example = "tripura-grand-circuit")]
    package: String,
    /// First departure day (default today).
    from: Option<NaiveDate>,
    /// Last departure day, included (default 90 days after `from`; at most 366 days after).
    to: Option<NaiveDate>,
    /// Seats the party needs, 1 to 50 (default 1): only departures with that many free.
    #[param(minimum = 1, maximum = 50)]
    seats: Option<i32>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct DepartureDto {
    #[schema(value_type = String, format = Date)]
    departure: NaiveDate,
    seats_left: i32,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct DeparturesDto {
    package: String,
    /// The departures with seats for the party, by date.
    departures: Vec<DepartureDto>,
}

/// The departures of a package that have seats for a party, by date.
#[utoipa::path(get, security(()), path = "/departures", tag = "inventory", params(DeparturesQuery),
    responses((status = 200, body = DeparturesDto), (status = 404, description = "No such package on sale"),
        (status = 422, description = "Invalid range or seats")))]
pub(crate) async fn departures(
    _: Public,
    State(catalog): State<catalog::Catalog>,
    State(inventory): State<Inventory>,
    ApiQuery(q): ApiQuery<DeparturesQuery>,
) -> Result<Json<DeparturesDto>, ApiError> {
    let today = contracts::india::today();
    let from = q.from.unwrap_or(today).max(today);
    let to = q.to.unwrap_or(from + chrono::Duration::days(90));
    if to < from || (to - from).num_days() > MAX_DEPARTURE_RANGE_DAYS {
        return Err(ApiError::invalid_field(
            "invalid_date_range",
            "to",
            format!("`to` must be on or after `from` (and today), at most {MAX_DEPARTURE_RANGE_DAYS} days later"),
        ));
    }
    let seats = q.seats.unwrap_or(1);
    if !(1..=50).contains(&seats) {
        return Err(ApiError::invalid_field("invalid_seats", "seats", "Ask for 1 to 50 seats"));
    }
    let package = crate::use_cases::booking::package_on_sale(&catalog, q.package.trim(), today).await?;
    let listed = inventory.departures(package.package_id, from, to).await?;
    let departures = listed
        .into_iter()
        .filter(|d| d.seats_left() >= seats)
        .map(|d| DepartureDto { departure: d.departure_date, seats_left: d.seats_left() })
        .collect();
    Ok(Json(DeparturesDto { package: package.code, departures }))
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DepartureChangeRequest {
    #[schema(example = "tripura-grand-circuit")]
    package: String,
    /// The departure day, today or later.
    #[schema(value_type = String, format = Date)]
    departure: NaiveDate,
    /// Seats on sale, 0 to 500; never below what is already held and sold.
    #[schema(minimum = 0, maximum = 500)]
    seats: Option<i32>,
    /// `true` stops selling the departure (holds in place are kept); `false` resumes.
    stop_sell: Option<bool>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct DepartureStateDto {
    package: String,
    #[schema(value_type = String, format = Date)]
    departure: NaiveDate,
    seats_allotted: i32,
    seats_held: i32,
    seats_sold: i32,
    stop_sell: bool,
    seats_left: i32,
}

/// Open a package departure or change its seats and stop-sell (operators).
#[utoipa::path(put, path = "/departures", tag = "inventory", request_body = DepartureChangeRequest,
    security(("bearer" = ["inventory:manage_any"])),
    responses((status = 200, body = DepartureStateDto, description = "The departure after the change"),
        (status = 401, description = "Not signed in"), (status = 403, description = "Not an operator"),
        (status = 404, description = "No such package on sale, or stop-sell of a departure never opened"),
        (status = 409, description = "The seats would fall below those already held and sold"),
        (status = 422, description = "Invalid departure or seats")))]
pub(crate) async fn set_departure(
    caller: Require<DeparturesManage>,
    ClientInfo(client): ClientInfo,
    State(accounts): State<auth::Accounts>,
    State(catalog): State<catalog::Catalog>,
    State(inventory): State<Inventory>,
    ApiJson(body): ApiJson<DepartureChangeRequest>,
) -> Result<Json<DepartureStateDto>, ApiError> {
    let today = contracts::india::today();
    if body.departure < today {
        return Err(ApiError::invalid_field(
            "departure_in_past",
            "departure",
            format!("departure {} is before today ({today})", body.departure),
        ));
    }
    if body.seats.is_none() && body.stop_sell.is_none() {
        return Err(ApiError::invalid("nothing_to_change", "Give seats, a stop_sell flag, or both"));
    }
    if let Some(seats) = body.seats
        && !(0..=MAX_SEATS).contains(&seats)
    {
        return Err(ApiError::invalid_field("invalid_seats", "seats", format!("seats must be 0 to {MAX_SEATS}")));
    }
    let package = crate::use_cases::booking::package_on_sale(&catalog, body.package.trim(), today).await?;
    if let Some(seats) = body.seats
        && let DepartureChange::BelowCommitments { committed } =
            inventory.set_departure(package.package_id, body.departure, seats).await?
    {
        return Err(ApiError::Conflict {
            code: "seats_below_commitments",
            message: format!("{committed} seats are already held or sold on {}; nothing was changed", body.departure),
        });
    }
    if let Some(stop_sell) = body.stop_sell
        && !inventory.set_departure_stop_sell(package.package_id, body.departure, stop_sell).await?
    {
        return Err(ApiError::not_found(
            "departure_not_found",
            format!("{} has no departure on {}; give its seats first", package.code, body.departure),
        ));
    }
    let details = serde_json::json!({
        "package": package.code, "departure": body.departure, "seats": body.seats, "stop_sell": body.stop_sell,
    });
    accounts.log(Some(caller.user_id), "departure_change", "success", &client, details).await;
    let departure = inventory
        .departures(package.package_id, body.departure, body.departure)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("the departure just set is not listed")))?;
    Ok(Json(DepartureStateDto {
        package: package.code,
        departure: departure.departure_date,
        seats_allotted: departure.seats_allotted,
        seats_held: departure.seats_held,
        seats_sold: departure.seats_sold,
        stop_sell: departure.stop_sell,
        seats_left: departure.seats_left(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_allotment_is_the_one_checked() {
        let document = serde_json::to_value(crate::openapi_document()).unwrap();
        let allotment = &document["components"]["schemas"]["AllotmentChangeRequest"]["properties"]["allotment"];
        assert_eq!(allotment["minimum"], 0);
        assert_eq!(allotment["maximum"], MAX_ALLOTMENT);
    }
}
