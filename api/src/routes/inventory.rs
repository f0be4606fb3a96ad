//! Inventory reads: rooms left per night.

use crate::{
    error::ApiError,
    extract::ApiQuery,
    state::{AppState, CatalogDb, InventoryDb},
};
use axum::{Json, Router, extract::State, routing::get};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/availability", get(availability))
}

#[derive(Deserialize, IntoParams)]
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
    available: i32,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct AvailabilityDto {
    accommodation: String,
    room_type: String,
    nights: Vec<NightDto>,
}

/// Rooms per night for one room type. Nights without an allotment are not listed.
#[utoipa::path(get, path = "/api/inventory/availability", tag = "inventory", params(AvailabilityQuery),
    responses((status = 200, body = AvailabilityDto), (status = 404, description = "Unknown accommodation or room type")))]
pub(crate) async fn availability(
    State(CatalogDb(catalog)): State<CatalogDb>,
    State(InventoryDb(inventory)): State<InventoryDb>,
    ApiQuery(q): ApiQuery<AvailabilityQuery>,
) -> Result<Json<AvailabilityDto>, ApiError> {
    if q.to <= q.from || (q.to - q.from).num_days() > 366 {
        return Err(ApiError::invalid("invalid_date_range", "`to` must be after `from`, at most 366 days later"));
    }
    let offer = catalog::store::find_offer(&catalog, &q.accommodation, &q.room_type).await?.ok_or_else(|| {
        ApiError::not_found("room_type_not_found", format!("No room type {} at {}", q.room_type, q.accommodation))
    })?;
    let nights = inventory::store::availability(&inventory, offer.accommodation_id, &q.room_type, q.from, q.to)
        .await?
        .into_iter()
        .map(|n| NightDto {
            night: n.night,
            allotment: n.allotment,
            held: n.held,
            booked: n.booked,
            available: n.available(),
        })
        .collect();
    Ok(Json(AvailabilityDto { accommodation: q.accommodation, room_type: q.room_type, nights }))
}
