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
    extract::{ApiPath, ApiQuery},
    paging::{self, Page, PageSize},
    routes::MoneyDto,
    state::AppState,
};
use axum::{
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use catalog::{
    Catalog,
    places::Place,
    search::{AccommodationFilter, AccommodationSummary, RoomType, SortOrder},
};
use chrono::NaiveDate;
use contracts::{StayDates, StayError, india};
use serde::{
    Deserialize, Serialize,
    de::{DeserializeOwned, IntoDeserializer, value},
};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_accommodations, manage::create_accommodation))
        .routes(routes!(get_accommodation, manage::update_accommodation))
        .routes(routes!(manage::put_room_type))
        .routes(routes!(quote))
        .routes(routes!(places::list_destinations, entries::create_destination))
        .routes(routes!(places::get_destination, manage::update_destination))
        .routes(routes!(places::list_experiences, entries::create_experience))
        .routes(routes!(packages::list_packages, entries::create_package))
        .routes(routes!(entries::put_package_prices))
        .routes(routes!(manage::put_package_stays))
        .routes(routes!(packages::get_package, manage::update_package))
        .routes(routes!(manage::update_experience))
        .routes(routes!(packages::quote_package))
}

/// A price the catalog sells at, as a request gives it: paise of Indian rupees, from ₹1
/// (100) to ₹10 lakh (100000000).
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PriceDto {
    /// Minor units: 1234500 is ₹12,345.00.
    #[schema(minimum = 100, maximum = 100000000, example = 472500)]
    pub(super) amount: i64,
    /// Only `INR`.
    #[schema(pattern = "^INR$", example = "INR")]
    pub(super) currency: String,
}

/// A price that may be nothing, as a request gives it: paise of Indian rupees, from ₹0
/// (free) to ₹10 lakh (100000000).
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PriceOrFreeDto {
    /// Minor units: 1234500 is ₹12,345.00.
    #[schema(minimum = 0, maximum = 100000000, example = 472500)]
    pub(super) amount: i64,
    /// Only `INR`.
    #[schema(pattern = "^INR$", example = "INR")]
    pub(super) currency: String,
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

impl From<RoomType> for RoomTypeDto {
    fn from(r: RoomType) -> Self {
        RoomTypeDto {
            tariff: MoneyDto::new(r.base_tariff_paise, &r.currency),
            room_type: r.room_type,
            name: r.name,
            max_occupancy: r.max_occupancy,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub(crate) struct DestinationRef {
    #[schema(example = "agartala")]
    code: String,
    name: String,
    district: String,
}

impl From<Place> for DestinationRef {
    fn from(p: Place) -> Self {
        DestinationRef { code: p.code, name: p.name, district: p.district }
    }
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
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct SearchQuery {
    /// Destination code, e.g. `agartala`.
    destination: Option<String>,
    /// District, e.g. `West Tripura` (any case).
    district: Option<String>,
    /// `hotel`, `homestay`, `resort`, `guest_house` or `eco_lodge`.
    kind: Option<String>,
    /// Lowest nightly tariff at least this many paise.
    #[param(minimum = 0)]
    min_price: Option<i64>,
    /// A room type at or under this nightly tariff, in paise.
    #[param(minimum = 0)]
    max_price: Option<i64>,
    /// A room type sleeping this many guests (1 to 12).
    #[param(minimum = 1, maximum = 12)]
    guests: Option<i32>,
    /// With `check_out`: only stays with a room type that has `rooms` rooms free on every
    /// night from this date (`YYYY-MM-DD`), today or later and at most 500 days ahead.
    #[param(value_type = Option<String>, format = Date)]
    check_in: Option<String>,
    /// The day of departure (exclusive), with `check_in`: at most 30 nights after it.
    #[param(value_type = Option<String>, format = Date)]
    check_out: Option<String>,
    /// Rooms wanted on every night of the dates, 1 to 9 (default 1); only with the dates.
    #[param(minimum = 1, maximum = 9)]
    rooms: Option<i64>,
    /// `name` (default) or `price`.
    #[param(pattern = "^(name|price)$")]
    sort: Option<String>,
    /// Page size, 1 to 100 (default 20).
    limit: Option<i64>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// Search published accommodations, a page at a time.
#[utoipa::path(get, security(()), path = "/accommodations", tag = "catalog", params(SearchQuery),
    responses((status = 200, body = AccommodationList), (status = 304, description = "Not modified (If-None-Match)"),
              (status = 400, description = "Unreadable query or cursor"),
              (status = 422, description = "Invalid filter, dates, rooms, sort or limit; `details.field` names it")))]
pub(crate) async fn list_accommodations(
    _: Public,
    State(catalog): State<Catalog>,
    State(inventory): State<inventory::Inventory>,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<SearchQuery>,
) -> Result<Response, ApiError> {
    let order: SortOrder = sort_order(q.sort.as_deref(), "`name` or `price`")?;
    let size = PageSize::or_default(q.limit)?;
    if q.min_price.is_some_and(|p| p < 0) || q.max_price.is_some_and(|p| p < 0) {
        return Err(ApiError::invalid("invalid_price", "Prices are non-negative amounts in paise"));
    }
    if q.guests.is_some_and(|g| !(1..=12).contains(&g)) {
        return Err(ApiError::invalid_field("invalid_guests", "guests", "Ask for 1 to 12 guests"));
    }
    let list = accommodations_list(order);
    let after = paging::after(list, q.cursor.as_deref())?;
    // Availability belongs to the inventory context: it names the stays with rooms free, and
    // the catalog search keeps only those. No query joins the two schemas.
    let available_ids = match stay_filter(q.check_in.as_deref(), q.check_out.as_deref(), q.rooms)? {
        Some((dates, rooms)) => Some(inventory.accommodations_with_rooms_free(&dates, rooms).await?),
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
    let rows = catalog.search_accommodations(&filter, order, after.as_ref(), size.fetch()).await?;
    let Page { items, next_cursor } = Page::cut(rows, size, list, |a| a.cursor(order));
    let items = with_room_types(&catalog, items).await?;
    cacheable(&headers, &AccommodationList { items, next_cursor })
}

/// One published accommodation with its room types.
#[utoipa::path(get, security(()), path = "/accommodations/{code}", tag = "catalog",
    params(("code" = String, Path, example = "ujjayanta-heritage-hotel")),
    responses((status = 200, body = AccommodationDto), (status = 404, description = "No such accommodation on sale")))]
pub(crate) async fn get_accommodation(
    _: Public,
    State(catalog): State<Catalog>,
    headers: HeaderMap,
    ApiPath(code): ApiPath<String>,
) -> Result<Response, ApiError> {
    let Some(found) = catalog.find_accommodation(&code).await? else {
        return Err(ApiError::not_found("accommodation_not_found", format!("No accommodation {code} is on sale")));
    };
    let mut items = with_room_types(&catalog, vec![found]).await?;
    cacheable(&headers, &items.remove(0))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct QuoteQuery {
    accommodation: String,
    room_type: String,
    /// The first night, today or later and at most 500 days ahead.
    check_in: NaiveDate,
    /// The day of departure (exclusive): 1 to 30 nights after `check_in`.
    check_out: NaiveDate,
    /// 1 to 9 (default 1).
    #[param(minimum = 1, maximum = 9)]
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
#[utoipa::path(get, security(()), path = "/quote", tag = "catalog", params(QuoteQuery),
    responses((status = 200, body = QuoteDto), (status = 422, description = "Invalid stay or unknown room type")))]
pub(crate) async fn quote(
    _: Public,
    State(catalog): State<Catalog>,
    ApiQuery(q): ApiQuery<QuoteQuery>,
) -> Result<Response, ApiError> {
    let dates = stay_dates(q.check_in, q.check_out)?;
    let rooms = q.rooms.unwrap_or(1);
    if !(1..=9).contains(&rooms) {
        return Err(ApiError::invalid_field("invalid_rooms", "rooms", "Quote 1 to 9 rooms"));
    }
    let offer = catalog.find_offer(&q.accommodation, &q.room_type).await?.ok_or_else(|| {
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
    catalog: &Catalog,
    page: Vec<AccommodationSummary>,
) -> Result<Vec<AccommodationDto>, ApiError> {
    let ids: Vec<_> = page.iter().map(|a| a.accommodation_id).collect();
    let mut rooms = by_owner(catalog.room_types_of(&ids).await?, |r| r.accommodation_id, RoomTypeDto::from);
    Ok(page
        .into_iter()
        .map(|a| AccommodationDto {
            from_price: MoneyDto::new(a.from_price_paise, &a.currency),
            room_types: rooms.remove(&a.accommodation_id).unwrap_or_default(),
            destination: DestinationRef { code: a.destination_code, name: a.destination_name, district: a.district },
            code: a.code,
            name: a.name,
            kind: a.kind,
            summary: a.summary,
        })
        .collect())
}

/// What a page needs from a related table, by the page row each belongs to (`owner`), in
/// the order fetched, each as the answer shows it (`dto`).
fn by_owner<T, U>(rows: Vec<T>, owner: impl Fn(&T) -> Uuid, dto: impl Fn(T) -> U) -> HashMap<Uuid, Vec<U>> {
    let mut by_owner: HashMap<Uuid, Vec<U>> = HashMap::new();
    for row in rows {
        by_owner.entry(owner(&row)).or_default().push(dto(row));
    }
    by_owner
}

/// The list tag of the accommodation search sorted by `order`: a cursor of one order is
/// refused under another.
fn accommodations_list(order: SortOrder) -> &'static str {
    match order {
        SortOrder::Name => "accommodations:name",
        SortOrder::Price => "accommodations:price",
    }
}

/// A list's `sort` parameter as its sort order (the default when absent); 422 naming `sort`
/// for an order the list does not have, `choices` saying which it has.
fn sort_order<T: DeserializeOwned + Default>(raw: Option<&str>, choices: &str) -> Result<T, ApiError> {
    let Some(raw) = raw else { return Ok(T::default()) };
    T::deserialize(raw.into_deserializer()).map_err(|_: value::Error| {
        ApiError::invalid_field("invalid_sort", "sort", format!("Sort by {choices}, not `{raw}`"))
    })
}

/// A date from the query string; 422 naming `field` when it is not a calendar date.
fn parse_date(field: &'static str, raw: &str) -> Result<NaiveDate, ApiError> {
    raw.parse().map_err(|_| {
        ApiError::invalid_field("invalid_date", field, format!("`{field}` must be a date like 2026-12-24, not `{raw}`"))
    })
}

/// A stay from today in India on; 422 naming the date at fault.
fn stay_dates(check_in: NaiveDate, check_out: NaiveDate) -> Result<StayDates, ApiError> {
    StayDates::parse(check_in, check_out, india::today())
        .map_err(|e| ApiError::invalid_field(e.code(), stay_error_field(&e), e.to_string()))
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
    let dates = stay_dates(check_in, check_out)?;
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
    use catalog::search::Cursor;

    #[test]
    fn a_cursor_round_trips_only_under_its_own_sort_order() {
        let name = Cursor::Name { name: "Vanghmun Orange Homestay".into(), code: "vanghmun-orange-homestay".into() };
        let raw = paging::encode_cursor(accommodations_list(SortOrder::Name), &name);
        assert_eq!(paging::after(accommodations_list(SortOrder::Name), Some(&raw)).unwrap(), Some(name));
        assert!(paging::after::<Cursor>(accommodations_list(SortOrder::Price), Some(&raw)).is_err());
        let price = Cursor::Price { from_price_paise: 220_000, code: "x".into() };
        let raw = paging::encode_cursor(accommodations_list(SortOrder::Price), &price);
        assert_eq!(paging::after(accommodations_list(SortOrder::Price), Some(&raw)).unwrap(), Some(price));
        assert!(paging::after::<Cursor>(accommodations_list(SortOrder::Name), Some("not base64!")).is_err());
    }

    #[test]
    fn a_sort_order_is_one_the_list_has() {
        assert_eq!(sort_order::<SortOrder>(None, "").unwrap(), SortOrder::Name);
        assert_eq!(sort_order::<SortOrder>(Some("price"), "").unwrap(), SortOrder::Price);
        match sort_order::<SortOrder>(Some("stars"), "`name` or `price`") {
            Err(ApiError::Invalid { code: "invalid_sort", message, .. }) => assert!(message.contains("`stars`")),
            other => panic!("{other:?}"),
        }
    }
}
