//! Tour packages: search, detail (with the stays a package includes), and a quote for a
//! party on a departure day.

use super::{DestinationRef, by_owner, cacheable, parse_date, sort_order};
use crate::access::Public;
use crate::{
    error::ApiError,
    extract::{ApiPath, ApiQuery},
    paging::{self, Page, PageSize},
    routes::MoneyDto,
    use_cases::booking::{package_on_sale, package_party, quote_departure},
};
use axum::{extract::State, http::HeaderMap, response::Response};
use catalog::{
    Catalog, IncludedStayRow,
    packages::{PackageAmenity, PackageFilter, PackageSort, PackageSummary},
    places::PlaceOf,
};
use chrono::{Days, NaiveDate};
use contracts::india;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// The most nights a package runs (the `packages_nights_range` CHECK).
const MAX_NIGHTS: i32 = 30;
/// The largest party a search or a quote is asked for.
const MAX_GUESTS: i64 = 50;

/// A destination of a package's itinerary, on its day.
#[derive(Serialize, ToSchema)]
pub(crate) struct StopDto {
    /// Day of the trip, from 1.
    day: i32,
    #[serde(flatten)]
    destination: DestinationRef,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct AmenityDto {
    #[schema(example = "boat-ride")]
    code: String,
    name: String,
}

impl From<PackageAmenity> for AmenityDto {
    fn from(a: PackageAmenity) -> Self {
        AmenityDto { code: a.code, name: a.name }
    }
}

#[derive(Serialize, ToSchema)]
pub(crate) struct PackageDto {
    #[schema(example = "tripura-grand-circuit")]
    code: String,
    name: String,
    summary: String,
    /// 0 for a day trip.
    nights: i32,
    /// The largest party it takes.
    max_group_size: i32,
    /// The lowest price for a departure today or later, before GST.
    from_price: MoneyDto,
    /// What `from_price` is for: `per_person`, `per_room` or `per_group`.
    #[schema(example = "per_person")]
    from_price_basis: String,
    /// In the order of the trip.
    destinations: Vec<StopDto>,
    amenities: Vec<AmenityDto>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct PackageList {
    items: Vec<PackageDto>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    next_cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct PackageExperienceDto {
    day: i32,
    #[schema(example = "neermahal-boat-ride")]
    code: String,
    name: String,
    duration_minutes: i32,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct SeasonPriceDto {
    /// `per_person`, `per_room` or `per_group`.
    basis: String,
    /// First departure day this price applies to.
    #[schema(value_type = String, format = Date)]
    valid_from: NaiveDate,
    /// Last departure day this price applies to (inclusive).
    #[schema(value_type = String, format = Date)]
    valid_to: NaiveDate,
    /// Per person, room or group, before GST.
    price: MoneyDto,
    /// Per child on a per-person price; `null` when a child pays `price`.
    child_price: Option<MoneyDto>,
}

/// A stay the package includes: where the party sleeps, on which nights of the trip.
#[derive(Serialize, ToSchema)]
pub(crate) struct IncludedStayDto {
    /// The night of the trip it starts on, from 1: night 1 is the departure date's.
    #[schema(minimum = 1, maximum = 30)]
    first_night: u32,
    /// Nights in a row.
    #[schema(minimum = 1, maximum = 30)]
    nights: u32,
    /// The accommodation's code.
    #[schema(example = "ujjayanta-heritage-hotel")]
    accommodation: String,
    #[schema(example = "deluxe_double")]
    room_type: String,
}

impl From<IncludedStayRow> for IncludedStayDto {
    fn from(s: IncludedStayRow) -> Self {
        IncludedStayDto {
            first_night: s.first_night,
            nights: s.nights,
            accommodation: s.accommodation_code,
            room_type: s.room_type,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub(crate) struct PackageDetail {
    #[serde(flatten)]
    package: PackageDto,
    experiences: Vec<PackageExperienceDto>,
    /// The stays the package includes, in the order of the trip; nights without one are the
    /// traveller's own arrangements.
    included_stays: Vec<IncludedStayDto>,
    /// Prices for departures today or later, season by season.
    prices: Vec<SeasonPriceDto>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct PackageQuery {
    /// Destination code: only packages visiting it.
    destination: Option<String>,
    /// A "from" price at least this many paise.
    #[param(minimum = 0)]
    min_price: Option<i64>,
    /// A "from" price at most this many paise.
    #[param(minimum = 0)]
    max_price: Option<i64>,
    /// Comma-separated amenity codes, e.g. `boat-ride,all-meals`: packages offering all of them.
    amenities: Option<String>,
    /// At least this many nights (0 to 30).
    #[param(minimum = 0, maximum = 30)]
    min_nights: Option<i32>,
    /// At most this many nights (0 to 30).
    #[param(minimum = 0, maximum = 30)]
    max_nights: Option<i32>,
    /// Packages taking a group this large (1 to 50).
    #[param(minimum = 1, maximum = 50)]
    guests: Option<i64>,
    /// Only packages departing on or after this day with seats free (see `seats`).
    #[param(value_type = Option<String>, format = Date)]
    departs_from: Option<NaiveDate>,
    /// Only packages departing on or before this day with seats free (see `seats`); at most
    /// 366 days after `departs_from`.
    #[param(value_type = Option<String>, format = Date)]
    departs_to: Option<NaiveDate>,
    /// Only packages with a departure that has this many seats free (1 to 50), between
    /// `departs_from` (default today) and `departs_to` (default 90 days later).
    #[param(minimum = 1, maximum = 50)]
    seats: Option<i64>,
    /// `name` (default), `price` or `nights`.
    #[param(pattern = "^(name|price|nights)$")]
    sort: Option<String>,
    /// Page size, 1 to 100 (default 20).
    limit: Option<i64>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// Search packages on sale, a page at a time.
#[utoipa::path(get, security(()), path = "/packages", tag = "catalog", params(PackageQuery),
    responses((status = 200, body = PackageList), (status = 304, description = "Not modified (If-None-Match)"),
              (status = 400, description = "Unreadable query or cursor"),
              (status = 422, description = "Invalid filter, sort or limit; `details.field` names it")))]
pub(crate) async fn list_packages(
    _: Public,
    State(catalog): State<Catalog>,
    State(inventory): State<inventory::Inventory>,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<PackageQuery>,
) -> Result<Response, ApiError> {
    let order: PackageSort = sort_order(q.sort.as_deref(), "`name`, `price` or `nights`")?;
    let size = PageSize::or_default(q.limit)?;
    for (field, price) in [("min_price", q.min_price), ("max_price", q.max_price)] {
        if price.is_some_and(|p| p < 0) {
            return Err(ApiError::invalid_field("invalid_price", field, "Prices are non-negative amounts in paise"));
        }
    }
    for (field, nights) in [("min_nights", q.min_nights), ("max_nights", q.max_nights)] {
        if nights.is_some_and(|n| !(0..=MAX_NIGHTS).contains(&n)) {
            return Err(ApiError::invalid_field("invalid_nights", field, format!("Ask for 0 to {MAX_NIGHTS} nights")));
        }
    }
    if q.guests.is_some_and(|g| !(1..=MAX_GUESTS).contains(&g)) {
        return Err(ApiError::invalid_field("invalid_guests", "guests", format!("Ask for 1 to {MAX_GUESTS} guests")));
    }
    let only = departing(&inventory, &q).await?;
    let mut amenities: Vec<String> =
        q.amenities.iter().flat_map(|a| a.split(',')).map(|a| a.trim().to_string()).filter(|a| !a.is_empty()).collect();
    amenities.sort();
    amenities.dedup();
    let list = packages_list(order);
    let after = paging::after(list, q.cursor.as_deref())?;
    let filter = PackageFilter {
        destination: q.destination,
        min_price_paise: q.min_price,
        max_price_paise: q.max_price,
        amenities,
        min_nights: q.min_nights,
        max_nights: q.max_nights,
        guests: q.guests.and_then(|g| i32::try_from(g).ok()),
        only,
    };
    let rows = catalog.search_packages(&filter, india::today(), order, after.as_ref(), size.fetch()).await?;
    let Page { items, next_cursor } = Page::cut(rows, size, list, |p| p.cursor(order));
    let items = with_stops_and_amenities(&catalog, items).await?;
    cacheable(&headers, &PackageList { items, next_cursor })
}

/// The packages departing in the query's range with its seats free, when it asks for
/// departures at all; `None` when it does not.
async fn departing(inventory: &inventory::Inventory, q: &PackageQuery) -> Result<Option<Vec<Uuid>>, ApiError> {
    if q.departs_from.is_none() && q.departs_to.is_none() && q.seats.is_none() {
        return Ok(None);
    }
    let today = india::today();
    let from = q.departs_from.unwrap_or(today).max(today);
    let to = q.departs_to.unwrap_or(from + chrono::Duration::days(90));
    if to < from || (to - from).num_days() > 366 {
        return Err(ApiError::invalid_field(
            "invalid_date_range",
            "departs_to",
            "`departs_to` must be on or after `departs_from` (and today), at most 366 days later",
        ));
    }
    let seats = q.seats.unwrap_or(1);
    if !(1..=MAX_GUESTS).contains(&seats) {
        return Err(ApiError::invalid_field("invalid_seats", "seats", format!("Ask for 1 to {MAX_GUESTS} seats")));
    }
    Ok(Some(inventory.packages_departing(from, to, u32::try_from(seats).unwrap_or(1)).await?))
}

/// One package on sale, with its destinations and experiences day by day, its amenities, the
/// stays it includes night by night, and its prices season by season.
#[utoipa::path(get, security(()), path = "/packages/{code}", tag = "catalog",
    params(("code" = String, Path, example = "tripura-grand-circuit")),
    responses((status = 200, body = PackageDetail), (status = 304, description = "Not modified (If-None-Match)"),
              (status = 404, description = "No such package on sale")))]
pub(crate) async fn get_package(
    _: Public,
    State(catalog): State<Catalog>,
    headers: HeaderMap,
    ApiPath(code): ApiPath<String>,
) -> Result<Response, ApiError> {
    let today = india::today();
    let summary = package_on_sale(&catalog, &code, today).await?;
    let ids = [summary.package_id];
    let experiences = catalog
        .experiences_of_packages(&ids)
        .await?
        .into_iter()
        .map(|e| PackageExperienceDto {
            day: e.day_number,
            code: e.code,
            name: e.name,
            duration_minutes: e.duration_minutes,
        })
        .collect();
    let prices = catalog
        .prices_of_packages(&ids, today)
        .await?
        .into_iter()
        .map(|p| SeasonPriceDto {
            price: MoneyDto::new(p.price_paise, &p.currency),
            child_price: p.child_price_paise.map(|c| MoneyDto::new(c, &p.currency)),
            basis: p.pricing_basis,
            valid_from: p.valid_from,
            valid_to: p.valid_to,
        })
        .collect();
    let included_stays =
        catalog.included_stays(summary.package_id).await?.into_iter().map(IncludedStayDto::from).collect();
    let package = with_stops_and_amenities(&catalog, vec![summary]).await?.remove(0);
    cacheable(&headers, &PackageDetail { package, experiences, included_stays, prices })
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct PackageQuoteQuery {
    /// Departure day, `YYYY-MM-DD`, today or later: it alone picks the season's price.
    #[param(value_type = String, format = Date)]
    start: String,
    /// Adults, 1 to 50 (default 1).
    #[param(minimum = 1, maximum = 50)]
    adults: Option<i64>,
    /// Children, 0 to 50 (default 0). The party is at most the package's group size.
    #[param(minimum = 0, maximum = 50)]
    children: Option<i64>,
    /// Rooms, for a package priced per room: 1 to the number of adults (default: one room
    /// for every two adults, children sharing).
    #[param(minimum = 1, maximum = 50)]
    rooms: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct PackageQuoteLineDto {
    /// `adult`, `child`, `room` or `group`.
    #[schema(example = "adult")]
    kind: String,
    quantity: u32,
    unit_price: MoneyDto,
    /// `unit_price × quantity`.
    base: MoneyDto,
    /// 500 is 5 %: GST on tour operator services, without input tax credit.
    gst_rate_bp: i64,
    gst: MoneyDto,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct PackageQuoteDto {
    package: String,
    #[schema(value_type = String, format = Date)]
    start: NaiveDate,
    /// The day the trip ends: `start` plus the package's nights.
    #[schema(value_type = String, format = Date)]
    end: NaiveDate,
    adults: u32,
    children: u32,
    /// Rooms charged; `null` unless the price is per room.
    rooms: Option<u32>,
    /// The season whose price applies.
    season: SeasonPriceDto,
    lines: Vec<PackageQuoteLineDto>,
    base_total: MoneyDto,
    gst_total: MoneyDto,
    total: MoneyDto,
}

/// The price of a package for a party departing on `start`, line by line with 5 % GST.
#[utoipa::path(get, security(()), path = "/packages/{code}/quote", tag = "catalog",
    params(("code" = String, Path, example = "agartala-heritage-weekend"), PackageQuoteQuery),
    responses((status = 200, body = PackageQuoteDto), (status = 304, description = "Not modified (If-None-Match)"),
              (status = 404, description = "No such package on sale"),
              (status = 422, description = "Invalid date or party, or no price for that departure; `details.field` names it")))]
pub(crate) async fn quote_package(
    _: Public,
    State(catalog): State<Catalog>,
    headers: HeaderMap,
    ApiPath(code): ApiPath<String>,
    ApiQuery(q): ApiQuery<PackageQuoteQuery>,
) -> Result<Response, ApiError> {
    let today = india::today();
    let start = parse_date("start", &q.start)?;
    if start < today {
        return Err(ApiError::invalid_field(
            "start_in_past",
            "start",
            format!("start {start} is before today ({today})"),
        ));
    }
    let summary = package_on_sale(&catalog, &code, today).await?;
    let party = package_party(q.adults.unwrap_or(1), q.children.unwrap_or(0), q.rooms, summary.max_group_size)?;
    let quote = quote_departure(&catalog, &summary, start, party, "start").await?;
    let per_room = quote.rate.basis == contracts::pricing::PricingBasis::PerRoom;
    let rate = &quote.rate;
    let dto = PackageQuoteDto {
        package: summary.code,
        start,
        end: start.checked_add_days(Days::new(u64::try_from(summary.nights).unwrap_or(0))).unwrap_or(start),
        adults: party.adults,
        children: party.children,
        rooms: per_room.then_some(party.rooms),
        season: SeasonPriceDto {
            basis: rate.basis.code().to_string(),
            valid_from: rate.valid_from,
            valid_to: rate.valid_to,
            price: rate.price.into(),
            child_price: rate.child_price.map(Into::into),
        },
        lines: quote
            .lines
            .into_iter()
            .map(|l| PackageQuoteLineDto {
                kind: l.kind.code().to_string(),
                quantity: l.quantity,
                unit_price: l.unit_price.into(),
                base: l.base.into(),
                gst_rate_bp: l.gst_rate_bp,
                gst: l.gst.into(),
            })
            .collect(),
        base_total: quote.base_total.into(),
        gst_total: quote.gst_total.into(),
        total: quote.total.into(),
    };
    cacheable(&headers, &dto)
}

/// Attaches destinations and amenities to a page of packages: one query each for the page.
async fn with_stops_and_amenities(catalog: &Catalog, page: Vec<PackageSummary>) -> Result<Vec<PackageDto>, ApiError> {
    let ids: Vec<Uuid> = page.iter().map(|p| p.package_id).collect();
    let stop = |s: PlaceOf| StopDto { day: s.day_number, destination: s.place.into() };
    let mut stops = by_owner(catalog.destinations_of_packages(&ids).await?, |s| s.owner_id, stop);
    let mut amenities = by_owner(catalog.amenities_of_packages(&ids).await?, |a| a.package_id, AmenityDto::from);
    Ok(page
        .into_iter()
        .map(|p| PackageDto {
            from_price: MoneyDto::new(p.from_price_paise, &p.currency),
            destinations: stops.remove(&p.package_id).unwrap_or_default(),
            amenities: amenities.remove(&p.package_id).unwrap_or_default(),
            code: p.code,
            name: p.name,
            summary: p.summary,
            nights: p.nights,
            max_group_size: p.max_group_size,
            from_price_basis: p.from_price_basis,
        })
        .collect())
}

/// The list tag of the package search sorted by `order`: a cursor of one order is refused
/// under another.
fn packages_list(order: PackageSort) -> &'static str {
    match order {
        PackageSort::Name => "packages:name",
        PackageSort::Price => "packages:price",
        PackageSort::Nights => "packages:nights",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use catalog::packages::PackageCursor;

    #[test]
    fn a_package_cursor_round_trips_only_under_its_own_sort_order() {
        let cursors = [
            (
                PackageSort::Name,
                PackageCursor::Name { name: "Dumboor Lake Retreat".into(), code: "dumboor-lake-retreat".into() },
            ),
            (PackageSort::Price, PackageCursor::Price { from_price_paise: 560_000, code: "x".into() }),
            (PackageSort::Nights, PackageCursor::Nights { nights: 2, code: "y".into() }),
        ];
        for (order, cursor) in &cursors {
            let raw = paging::encode_cursor(packages_list(*order), cursor);
            assert_eq!(paging::after(packages_list(*order), Some(&raw)).unwrap().as_ref(), Some(cursor));
            for (other, _) in cursors.iter().filter(|(o, _)| o != order) {
                assert!(paging::after::<PackageCursor>(packages_list(*other), Some(&raw)).is_err());
            }
        }
        let lots = paging::encode_cursor(packages_list(PackageSort::Nights), &("lots", "y"));
        assert!(paging::after::<PackageCursor>(packages_list(PackageSort::Nights), Some(&lots)).is_err());
    }

    #[test]
    fn packages_sort_by_name_price_or_nights() {
        assert_eq!(sort_order::<PackageSort>(None, "").unwrap(), PackageSort::Name);
        assert_eq!(sort_order::<PackageSort>(Some("nights"), "").unwrap(), PackageSort::Nights);
        assert!(sort_order::<PackageSort>(Some("stars"), "").is_err());
    }

    #[test]
    fn the_documented_bounds_are_the_ones_checked() {
        let document = serde_json::to_value(crate::openapi_document()).unwrap();
        let bound = |path: &str, name: &str, end: &str| {
            let parameters = document["paths"][path]["get"]["parameters"].as_array().unwrap();
            let parameter = parameters.iter().find(|p| p["name"] == name).unwrap();
            parameter["schema"][end].as_i64().unwrap()
        };
        let search = "/api/catalog/packages";
        assert_eq!(bound(search, "min_nights", "maximum"), i64::from(MAX_NIGHTS));
        assert_eq!(bound(search, "max_nights", "maximum"), i64::from(MAX_NIGHTS));
        assert_eq!(bound(search, "guests", "maximum"), MAX_GUESTS);
        for name in ["adults", "children", "rooms"] {
            assert_eq!(bound("/api/catalog/packages/{code}/quote", name, "maximum"), MAX_GUESTS, "{name}");
        }
    }
}
