//! Destinations with their images, and experiences with the destinations they happen at.

use super::{DestinationRef, by_owner, cacheable};
use crate::access::Public;
use crate::{
    error::ApiError,
    extract::{ApiPath, ApiQuery},
    paging::{self, Page, PageSize},
    routes::MoneyDto,
};
use axum::{extract::State, http::HeaderMap, response::Response};
use catalog::{
    Catalog,
    places::{Destination, Experience},
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// The list tags of the two lists here: a cursor of one is refused by the other.
const DESTINATIONS: &str = "destinations:name";
const EXPERIENCES: &str = "experiences:name";

#[derive(Serialize, ToSchema)]
pub(crate) struct DestinationDto {
    #[serde(flatten)]
    place: DestinationRef,
    summary: String,
    /// Degrees north, where known.
    latitude: Option<f64>,
    /// Degrees east, where known.
    longitude: Option<f64>,
    /// URL of the first image.
    #[schema(example = "/static/destinations/ujjayanta-palace/palace-facade.jpg")]
    cover_image: Option<String>,
}

impl From<Destination> for DestinationDto {
    fn from(d: Destination) -> Self {
        DestinationDto {
            place: d.place.into(),
            summary: d.summary,
            latitude: d.latitude,
            longitude: d.longitude,
            cover_image: d.cover_image_url,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub(crate) struct DestinationList {
    items: Vec<DestinationDto>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    next_cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct ImageDto {
    url: String,
    caption: String,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct DestinationDetail {
    #[serde(flatten)]
    destination: DestinationDto,
    /// In display order, the cover first.
    images: Vec<ImageDto>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct DestinationQuery {
    /// District, e.g. `Gomati` (any case).
    district: Option<String>,
    /// Page size, 1 to 100 (default 20).
    limit: Option<i64>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// Published destinations by name, a page at a time.
#[utoipa::path(get, security(()), path = "/destinations", tag = "catalog", params(DestinationQuery),
    responses((status = 200, body = DestinationList), (status = 304, description = "Not modified (If-None-Match)"),
              (status = 400, description = "Unreadable query or cursor"), (status = 422, description = "Invalid limit")))]
pub(crate) async fn list_destinations(
    _: Public,
    State(catalog): State<Catalog>,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<DestinationQuery>,
) -> Result<Response, ApiError> {
    let size = PageSize::or_default(q.limit)?;
    let after = paging::after(DESTINATIONS, q.cursor.as_deref())?;
    let rows = catalog.list_destinations(q.district.as_deref(), after.as_ref(), size.fetch()).await?;
    let Page { items, next_cursor } = Page::cut(rows, size, DESTINATIONS, Destination::cursor).map(Into::into);
    cacheable(&headers, &DestinationList { items, next_cursor })
}

/// One published destination with its images.
#[utoipa::path(get, security(()), path = "/destinations/{code}", tag = "catalog",
    params(("code" = String, Path, example = "ujjayanta-palace")),
    responses((status = 200, body = DestinationDetail), (status = 304, description = "Not modified (If-None-Match)"),
              (status = 404, description = "No such destination published")))]
pub(crate) async fn get_destination(
    _: Public,
    State(catalog): State<Catalog>,
    headers: HeaderMap,
    ApiPath(code): ApiPath<String>,
) -> Result<Response, ApiError> {
    let Some(destination) = catalog.find_destination(&code).await? else {
        return Err(ApiError::not_found("destination_not_found", format!("No destination {code} is published")));
    };
    let images = catalog
        .images_of(&[destination.destination_id])
        .await?
        .into_iter()
        .map(|i| ImageDto { url: i.url, caption: i.caption })
        .collect();
    cacheable(&headers, &DestinationDetail { destination: destination.into(), images })
}

#[derive(Serialize, ToSchema)]
pub(crate) struct ExperienceDto {
    #[schema(example = "neermahal-boat-ride")]
    code: String,
    name: String,
    summary: String,
    duration_minutes: i32,
    /// Per person, before GST.
    price: MoneyDto,
    /// Where it happens, by name.
    destinations: Vec<DestinationRef>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct ExperienceList {
    items: Vec<ExperienceDto>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    next_cursor: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExperienceQuery {
    /// Destination code: only experiences there.
    destination: Option<String>,
    /// Page size, 1 to 100 (default 20).
    limit: Option<i64>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// Published experiences by name, a page at a time, each with its destinations.
#[utoipa::path(get, security(()), path = "/experiences", tag = "catalog", params(ExperienceQuery),
    responses((status = 200, body = ExperienceList), (status = 304, description = "Not modified (If-None-Match)"),
              (status = 400, description = "Unreadable query or cursor"), (status = 422, description = "Invalid limit")))]
pub(crate) async fn list_experiences(
    _: Public,
    State(catalog): State<Catalog>,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<ExperienceQuery>,
) -> Result<Response, ApiError> {
    let size = PageSize::or_default(q.limit)?;
    let after = paging::after(EXPERIENCES, q.cursor.as_deref())?;
    let rows = catalog.list_experiences(q.destination.as_deref(), after.as_ref(), size.fetch()).await?;
    let Page { items, next_cursor } = Page::cut(rows, size, EXPERIENCES, Experience::cursor);
    let ids: Vec<Uuid> = items.iter().map(|e| e.experience_id).collect();
    let mut places = by_owner(catalog.destinations_of_experiences(&ids).await?, |p| p.owner_id, |p| p.place.into());
    let items = items
        .into_iter()
        .map(|e| ExperienceDto {
            price: MoneyDto::new(e.price_paise, &e.currency),
            destinations: places.remove(&e.experience_id).unwrap_or_default(),
            code: e.code,
            name: e.name,
            summary: e.summary,
            duration_minutes: e.duration_minutes,
        })
        .collect();
    cacheable(&headers, &ExperienceList { items, next_cursor })
}

#[cfg(test)]
mod tests {
    use super::*;
    use catalog::places::NameCursor;

    #[test]
    fn a_destination_cursor_is_refused_by_the_experiences() {
        let cursor = NameCursor { name: "Neermahal".into(), code: "neermahal".into() };
        let raw = paging::encode_cursor(DESTINATIONS, &cursor);
        assert_eq!(paging::after(DESTINATIONS, Some(&raw)).unwrap(), Some(cursor));
        assert!(paging::after::<NameCursor>(EXPERIENCES, Some(&raw)).is_err());
    }
}
