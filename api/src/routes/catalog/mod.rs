//! Catalog reads: what can be booked, searched, paged and quoted — stays here, destinations
//! and experiences in [`places`], tour packages in [`packages`]. Public and cacheable: every
//! list and detail answer carries an `ETag` and `Cache-Control` (see [`cacheable`]), and
//! `If-None-Match` gives 304.

pub(crate) mod entries;
pub(crate) mod manage;
pub(crate) mod packages;
pub(crate) mod places;

use crate::access::Public;
use crate::{
    error::ApiError,
    extract::ApiQuery,
    routes::MoneyDto,
    state::{AppState, CatalogDb, InventoryDb},
};
use axum::{
    Router,
    extract::{Path, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, put},
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use catalog::search::{AccommodationFilter, AccommodationSummary, Cursor, RoomType, SortOrder};
use chrono::{FixedOffset, NaiveDate, Utc};
use contracts::{StayDates, StayError};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/accommodations", get(list_accommodations).post(manage::create_accommodation))
        .route("/accommodations/{code}", get(get_accommodation).patch(manage::update_accommodation))
        .route("/accommodations/{code}/room-types/{room_type}", put(manage::put_room_type))
        .route("/quote", get(quote))
        .route("/destinations", get(places::list_destinations).post(entries::create_destination))
        .route("/destinations/{code}", get(places::get_destination).patch(manage::update_destination))
        .route("/experiences", get(places::list_experiences).post(entries::create_experience))
        .route("/packages", get(packages::list_packages).post(entries::create_package))
        .route("/packages/{code}/prices", put(entries::put_package_prices))
        .route("/packages/{code}", get(packages::get_package).patch(manage::update_package))
        .route("/experiences/{code}", axum::routing::patch(manage::update_experience))
        .route("/packages/{code}/quote", get(packages::quote_package))
}

/// The largest page a client may ask for.
const MAX_PAGE: i64 = 100;
const DEFAULT_PAGE: i64 = 20;

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
pub(crate) struct DestinationRef {
    #[schema(example = "agartala")]
    code: String,
    name: String,
    district: String,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct AccommodationDto {
    #[schema(example = "ujjayanta-heritage-hotel")]
    code: String,
    name: String,
    /// `hotel`, `homestay`, `resort`, `guest_house` or `eco_lodge`.
    kind: String,
    summary: String,
    destination: DestinationRef,
    /// The lowest nightly tariff, before GST.
    from_price: MoneyDto,
    room_types: Vec<RoomTypeDto>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct AccommodationList {
    items: Vec<AccommodationDto>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    next_cursor: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub(crate) struct SearchQuery {
    /// Destination code, e.g. `agartala`.
    destination: Option<String>,
    /// District, e.g. `West Tripura` (any case).
    district: Option<String>,
    /// `hotel`, `homestay`, `resort`, `guest_house` or `eco_lodge`.
    kind: Option<String>,
    /// Lowest nightly tariff at least this many paise.
    min_price: Option<i64>,
    /// A room type at or under this nightly tariff, in paise.
    max_price: Option<i64>,
    /// A room type sleeping this many guests.
    guests: Option<i32>,
    /// With `check_out`: only stays with a room type that has `rooms` rooms free on every
    /// night from this date (`YYYY-MM-DD`).
    check_in: Option<String>,
    /// The day of departure (exclusive), with `check_in`.
    check_out: Option<String>,
    /// Rooms wanted on every night of the dates, 1 to 9 (default 1).
    rooms: Option<i64>,
    /// `name` (default) or `price`.
    sort: Option<String>,
    /// Page size, 1 to 100 (default 20).
    limit: Option<i64>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// Search published accommodations, a page at a time.
#[utoipa::path(get, security(()), path = "/api/catalog/accommodations", tag = "catalog", params(SearchQuery),
    responses((status = 200, body = AccommodationList), (status = 304, description = "Not modified (If-None-Match)"),
              (status = 400, description = "Unreadable query or cursor"),
              (status = 422, description = "Invalid filter, dates, rooms, sort or limit; `details.field` names it")))]
pub(crate) async fn list_accommodations(
    _: Public,
    State(CatalogDb(pool)): State<CatalogDb>,
    State(InventoryDb(inventory)): State<InventoryDb>,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<SearchQuery>,
) -> Result<Response, ApiError> {
    let order = match q.sort.as_deref() {
        None | Some("name") => SortOrder::Name,
        Some("price") => SortOrder::Price,
        Some(other) => {
            return Err(ApiError::invalid_field(
                "invalid_sort",
                "sort",
                format!("Sort by `name` or `price`, not `{other}`"),
            ));
        }
    };
    let limit = page_limit(q.limit)?;
    if q.min_price.is_some_and(|p| p < 0) || q.max_price.is_some_and(|p| p < 0) {
        return Err(ApiError::invalid("invalid_price", "Prices are non-negative amounts in paise"));
    }
    if q.guests.is_some_and(|g| !(1..=12).contains(&g)) {
        return Err(ApiError::invalid_field("invalid_guests", "guests", "Ask for 1 to 12 guests"));
    }
    let after = q.cursor.as_deref().map(|c| decode_cursor(c, order)).transpose()?;
    // Availability belongs to the inventory context: it names the stays with rooms free, and
    // the catalog search keeps only those. No query joins the two schemas.
    let available_ids = match stay_filter(q.check_in.as_deref(), q.check_out.as_deref(), q.rooms)? {
        Some((dates, rooms)) => {
            Some(inventory::store::accommodations_with_rooms_free(&inventory, &dates, rooms).await?)
        }
        None => None,
    };
    let filter = AccommodationFilter {
        destination: q.destination,
        district: q.district,
        kind: q.kind,
        max_price_paise: q.max_price,
        min_price_paise: q.min_price,
        guests: q.guests,
        accommodation_ids: available_ids,
    };
    // One row more than asked tells whether another page follows.
    let page = catalog::search::search_accommodations(&pool, &filter, order, after.as_ref(), limit + 1).await?;
    let (page, more) = trim_page(page, limit);
    let next_cursor = if more { page.last().map(|last| encode_cursor(&last.cursor(order))) } else { None };
    let items = with_room_types(&pool, page).await?;
    cacheable(&headers, &AccommodationList { items, next_cursor })
}

/// One published accommodation with its room types.
#[utoipa::path(get, security(()), path = "/api/catalog/accommodations/{code}", tag = "catalog",
    params(("code" = String, Path, example = "ujjayanta-heritage-hotel")),
    responses((status = 200, body = AccommodationDto), (status = 404, description = "No such accommodation on sale")))]
pub(crate) async fn get_accommodation(
    _: Public,
    State(CatalogDb(pool)): State<CatalogDb>,
    headers: HeaderMap,
    Path(code): Path<String>,
) -> Result<Response, ApiError> {
    let found = catalog::search::find_accommodation(&pool, &code).await?;
    let Some(found) = found else {
        return Err(ApiError::not_found("accommodation_not_found", format!("No accommodation {code} is on sale")));
    };
    let mut items = with_room_types(&pool, vec![found]).await?;
    cacheable(&headers, &items.remove(0))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub(crate) struct QuoteQuery {
    accommodation: String,
    room_type: String,
    check_in: NaiveDate,
    check_out: NaiveDate,
    /// Defaults to 1.
    rooms: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct QuoteLineDto {
    #[schema(value_type = String, format = Date)]
    night: NaiveDate,
    rooms: u32,
    tariff: MoneyDto,
    base: MoneyDto,
    /// 500 is 5 %, 1800 is 18 % (GST slab of the nightly tariff).
    gst_rate_bp: i64,
    gst: MoneyDto,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct QuoteDto {
    accommodation: String,
    room_type: String,
    lines: Vec<QuoteLineDto>,
    base_total: MoneyDto,
    gst_total: MoneyDto,
    /// What the booking saga charges for this stay.
    total: MoneyDto,
}

/// The price of a stay, night by night, with GST by the Indian slabs — the same quote the
/// booking charges.
#[utoipa::path(get, security(()), path = "/api/catalog/quote", tag = "catalog", params(QuoteQuery),
    responses((status = 200, body = QuoteDto), (status = 422, description = "Invalid stay or unknown room type")))]
pub(crate) async fn quote(
    _: Public,
    State(CatalogDb(pool)): State<CatalogDb>,
    ApiQuery(q): ApiQuery<QuoteQuery>,
) -> Result<Response, ApiError> {
    let dates = StayDates::parse(q.check_in, q.check_out, today_in_india())
        .map_err(|e| ApiError::invalid_field(e.code(), stay_error_field(&e), e.to_string()))?;
    let rooms = q.rooms.unwrap_or(1);
    if !(1..=9).contains(&rooms) {
        return Err(ApiError::invalid_field("invalid_rooms", "rooms", "Quote 1 to 9 rooms"));
    }
    let offer = catalog::store::find_offer(&pool, &q.accommodation, &q.room_type).await?.ok_or_else(|| {
        ApiError::invalid_field(
            "unknown_room_type",
            "room_type",
            format!("No room type {} at {} is on sale", q.room_type, q.accommodation),
        )
    })?;
    let quote = offer.quote(&dates, rooms).map_err(|e| ApiError::invalid("unquotable_stay", e.to_string()))?;
    let dto = QuoteDto {
        accommodation: offer.accommodation_code,
        room_type: offer.room_type,
        lines: quote
            .lines
            .into_iter()
            .map(|l| QuoteLineDto {
                night: l.night,
                rooms: l.rooms,
                tariff: l.tariff.into(),
                base: l.base.into(),
                gst_rate_bp: l.gst_rate_bp,
                gst: l.gst.into(),
            })
            .collect(),
        base_total: quote.base_total.into(),
        gst_total: quote.gst_total.into(),
        total: quote.total.into(),
    };
    Ok(axum::Json(dto).into_response())
}

/// Attaches room types to a page of accommodations with one query.
async fn with_room_types(
    pool: &sqlx::PgPool,
    page: Vec<AccommodationSummary>,
) -> Result<Vec<AccommodationDto>, ApiError> {
    let ids: Vec<_> = page.iter().map(|a| a.accommodation_id).collect();
    let mut rooms: HashMap<Uuid, Vec<RoomType>> = HashMap::new();
    for room in catalog::search::room_types_of(pool, &ids).await? {
        rooms.entry(room.accommodation_id).or_default().push(room);
    }
    Ok(page
        .into_iter()
        .map(|a| AccommodationDto {
            from_price: MoneyDto::new(a.from_price_paise, &a.currency),
            room_types: rooms
                .remove(&a.accommodation_id)
                .unwrap_or_default()
                .into_iter()
                .map(|r| RoomTypeDto {
                    tariff: MoneyDto::new(r.base_tariff_paise, &r.currency),
                    room_type: r.room_type,
                    name: r.name,
                    max_occupancy: r.max_occupancy,
                })
                .collect(),
            destination: DestinationRef { code: a.destination_code, name: a.destination_name, district: a.district },
            code: a.code,
            name: a.name,
            kind: a.kind,
            summary: a.summary,
        })
        .collect())
}

fn encode_cursor(cursor: &Cursor) -> String {
    match cursor {
        Cursor::Name { name, code } => encode_parts(&["n", name, code]),
        Cursor::Price { from_price_paise, code } => encode_parts(&["p", &from_price_paise.to_string(), code]),
    }
}

fn decode_cursor(raw: &str, order: SortOrder) -> Result<Cursor, ApiError> {
    let parts = decode_parts(raw)?;
    let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
    match (order, parts.as_slice()) {
        (SortOrder::Name, ["n", name, code]) => {
            Ok(Cursor::Name { name: (*name).to_string(), code: (*code).to_string() })
        }
        (SortOrder::Price, ["p", price, code]) => Ok(Cursor::Price {
            from_price_paise: price.parse().map_err(|_| invalid_cursor())?,
            code: (*code).to_string(),
        }),
        _ => Err(invalid_cursor()),
    }
}

/// Cursors are opaque to clients: a tag naming the list and its sort order, then the sort
/// key of the last row, URL-safe base64. A cursor of another list or order is refused.
fn encode_parts(parts: &[&str]) -> String {
    URL_SAFE_NO_PAD.encode(parts.join("\u{1f}"))
}

fn decode_parts(raw: &str) -> Result<Vec<String>, ApiError> {
    let text =
        String::from_utf8(URL_SAFE_NO_PAD.decode(raw).map_err(|_| invalid_cursor())?).map_err(|_| invalid_cursor())?;
    Ok(text.split('\u{1f}').map(str::to_string).collect())
}

fn invalid_cursor() -> ApiError {
    ApiError::bad_request("invalid_cursor", "The cursor is not one this API gave out for this sort order")
}

/// The page size asked for, or the default; 422 outside 1 to [`MAX_PAGE`].
fn page_limit(limit: Option<i64>) -> Result<i64, ApiError> {
    let limit = limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::invalid_field("invalid_limit", "limit", format!("Ask for 1 to {MAX_PAGE} items")));
    }
    Ok(limit)
}

/// A page is fetched with one row more than `limit`: drops it, and tells whether it was
/// there (another page follows).
fn trim_page<T>(mut page: Vec<T>, limit: i64) -> (Vec<T>, bool) {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let more = page.len() > limit;
    page.truncate(limit);
    (page, more)
}

/// Today where the travellers go: quotes and prices follow the calendar in India.
fn today_in_india() -> NaiveDate {
    Utc::now().with_timezone(&FixedOffset::east_opt(5 * 3600 + 30 * 60).expect("valid offset")).date_naive()
}

/// A date from the query string; 422 naming `field` when it is not a calendar date.
fn parse_date(field: &'static str, raw: &str) -> Result<NaiveDate, ApiError> {
    raw.parse().map_err(|_| {
        ApiError::invalid_field("invalid_date", field, format!("`{field}` must be a date like 2026-12-24, not `{raw}`"))
    })
}

/// The query field a stay error is about.
fn stay_error_field(error: &StayError) -> &'static str {
    match error {
        StayError::CheckInInPast { .. } | StayError::TooFarAhead => "check_in",
        StayError::CheckOutNotAfterCheckIn | StayError::TooLong => "check_out",
    }
}

/// The dated filter of a search: both dates or neither; `rooms` only with dates.
fn stay_filter(
    check_in: Option<&str>,
    check_out: Option<&str>,
    rooms: Option<i64>,
) -> Result<Option<(StayDates, u32)>, ApiError> {
    let (check_in, check_out) = match (check_in, check_out) {
        (Some(check_in), Some(check_out)) => (parse_date("check_in", check_in)?, parse_date("check_out", check_out)?),
        (None, None) if rooms.is_none() => return Ok(None),
        (Some(_), None) => {
            return Err(ApiError::invalid_field("missing_check_out", "check_out", "Give check_out with check_in"));
        }
        _ => return Err(ApiError::invalid_field("missing_check_in", "check_in", "Give check_in and check_out")),
    };
    let dates = StayDates::parse(check_in, check_out, today_in_india())
        .map_err(|e| ApiError::invalid_field(e.code(), stay_error_field(&e), e.to_string()))?;
    let rooms = rooms.unwrap_or(1);
    if !(1..=9).contains(&rooms) {
        return Err(ApiError::invalid_field("invalid_rooms", "rooms", "Ask for 1 to 9 rooms"));
    }
    Ok(Some((dates, u32::try_from(rooms).unwrap_or(1))))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips_only_under_its_own_sort_order() {
        let name = Cursor::Name { name: "Vanghmun Orange Homestay".into(), code: "vanghmun-orange-homestay".into() };
        assert_eq!(decode_cursor(&encode_cursor(&name), SortOrder::Name).unwrap(), name);
        assert!(decode_cursor(&encode_cursor(&name), SortOrder::Price).is_err());
        let price = Cursor::Price { from_price_paise: 220_000, code: "x".into() };
        assert_eq!(decode_cursor(&encode_cursor(&price), SortOrder::Price).unwrap(), price);
        assert!(decode_cursor("not base64!", SortOrder::Name).is_err());
    }
}
