//! Inventory: rooms left per night (public), and allotments and stop-sell for the people
//! who manage a property.

use crate::access::{ClientInfo, InventoryManage, Public, Require};
use crate::{
    error::ApiError,
    extract::{ApiJson, ApiQuery},
    state::AppState,
};
use axum::{Json, extract::State};
use chrono::NaiveDate;
use inventory::{AllotmentChange, Inventory, RoomNights};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(availability)).routes(routes!(change_allotments))
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
