//! Catalog reads: what can be booked.

use crate::{error::ApiError, routes::MoneyDto, state::{AppState, CatalogDb}};
use axum::{
    Router,
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/accommodations", get(list_accommodations))
}

#[derive(Serialize, ToSchema)]
pub(crate) struct RoomTypeDto {
    #[schema(example = "deluxe_double")]
    room_type: String,
    name: String,
    max_occupancy: i32,
    /// Per room and night, before GST.
    tariff: MoneyDto,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct AccommodationDto {
    #[schema(example = "ujjayanta-heritage-hotel")]
    code: String,
    name: String,
    destination: String,
    room_types: Vec<RoomTypeDto>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct AccommodationList {
    items: Vec<AccommodationDto>,
    next_cursor: Option<String>,
}

/// Published accommodations and their room types.
#[utoipa::path(get, path = "/api/catalog/accommodations", tag = "catalog",
    responses((status = 200, body = AccommodationList), (status = 304, description = "Not modified (If-None-Match)")))]
pub(crate) async fn list_accommodations(State(CatalogDb(pool)): State<CatalogDb>, headers: HeaderMap) -> Result<Response, ApiError> {
    let mut items: Vec<AccommodationDto> = Vec::new();
    for offer in catalog::store::list_offers(&pool).await? {
        let room = RoomTypeDto {
            room_type: offer.room_type,
            name: offer.room_name,
            max_occupancy: offer.max_occupancy,
            tariff: MoneyDto::new(offer.base_tariff_paise, &offer.currency),
        };
        match items.last_mut() {
            Some(last) if last.code == offer.accommodation_code => last.room_types.push(room),
            _ => items.push(AccommodationDto {
                code: offer.accommodation_code,
                name: offer.accommodation_name,
                destination: offer.destination_code,
                room_types: vec![room],
            }),
        }
    }
    cacheable(&headers, &AccommodationList { items, next_cursor: None })
}

/// A public read with a strong ETag and a short cache lifetime; `If-None-Match` gives 304.
fn cacheable<T: Serialize>(headers: &HeaderMap, body: &T) -> Result<Response, ApiError> {
    let bytes = serde_json::to_vec(body).map_err(|e| ApiError::Internal(e.into()))?;
    let etag = format!("\"{}\"", hex_prefix(&Sha256::digest(&bytes)));
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let mut response = if matches {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        ([(header::CONTENT_TYPE, "application/json")], bytes).into_response()
    };
    let h = response.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=60"));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    Ok(response)
}

fn hex_prefix(digest: &[u8]) -> String {
    digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
}
