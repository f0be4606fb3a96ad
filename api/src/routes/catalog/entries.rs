//! Operators add destinations, experiences and packages, and set a package's seasonal prices.
//! New entries start unpublished; `PATCH` on the entry (see `manage`) publishes them.

use super::manage::{Editor, EntryDto, manage_error, new_entry};
use super::{PriceDto, PriceOrFreeDto};
use crate::{
    access::{CatalogCreate, Require},
    error::ApiError,
    extract::{ApiJson, ApiPath},
};
use axum::{Json, http::StatusCode};
use catalog::manage;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeSet;
use utoipa::ToSchema;

const BASES: [&str; 3] = ["per_person", "per_room", "per_group"];

fn check_range(field: &str, value: i64, range: std::ops::RangeInclusive<i64>) -> Result<(), ApiError> {
    if range.contains(&value) {
        return Ok(());
    }
    Err(ApiError::invalid_field(
        "invalid_field",
        field,
        format!("{field} is between {} and {}", range.start(), range.end()),
    ))
}

/// Codes listed at most once, at least `min` and at most 20 of them.
fn check_codes<'a>(field: &str, codes: impl Iterator<Item = &'a str>, min: usize) -> Result<(), ApiError> {
    let mut seen = BTreeSet::new();
    for code in codes {
        if !seen.insert(code) {
            return Err(ApiError::invalid_field("duplicate_code", field, format!("{code} is listed twice")));
        }
    }
    if seen.len() < min || seen.len() > 20 {
        return Err(ApiError::invalid_field("invalid_field", field, format!("{field} lists {min} to 20 codes")));
    }
    Ok(())
}

fn paise(field: &str, amount: i64, currency: &str, min: i64) -> Result<i64, ApiError> {
    if currency != "INR" || !(min..=100_000_000).contains(&amount) {
        return Err(ApiError::invalid_field(
            "invalid_price",
            field,
            format!("{field} is INR paise between {min} and 100000000 (₹10 lakh)"),
        ));
    }
    Ok(amount)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateDestinationRequest {
    /// Lower-case words joined by `-`, e.g. `dumboor-lake`: at most 60 characters.
    #[schema(example = "chabimura", pattern = "^[a-z0-9]+(-[a-z0-9]+)*$", max_length = 60)]
    code: String,
    /// 1 to 120 characters, not counting white space around them.
    #[schema(
        example = "Chabimura",
        pattern = r"^[\u0009-\u000D\u0020\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000\u0009-\u000D\u0020\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000](?:[^\u0000]{0,118}[^\u0000\u0009-\u000D\u0020\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000])?[\u0009-\u000D\u0020\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*$"
    )]
    name: String,
    /// One of Tripura's districts, e.g. `Gomati`: 1 to 60 characters, not counting white
    /// space around them.
    #[schema(
        example = "Gomati",
        pattern = r"^[\u0009-\u000D\u0020\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000\u0009-\u000D\u0020\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000](?:[^\u0000]{0,58}[^\u0000\u0009-\u000D\u0020\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000])?[\u0009-\u000D\u0020\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*$"
    )]
    district: String,
    /// At most 2000 characters, not counting white space around them.
    #[serde(default)]
    #[schema(
        pattern = r"^[\u0009-\u000D\u0020\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*(?:[^\u0000\u0009-\u000D\u0020\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000](?:[^\u0000]{0,1998}[^\u0000\u0009-\u000D\u0020\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000])?)?[\u0009-\u000D\u0020\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*$"
    )]
    summary: String,
    /// Degrees north, -90 to 90.
    #[schema(minimum = -90, maximum = 90)]
    latitude: Option<f64>,
    /// Degrees east, -180 to 180.
    #[schema(minimum = -180, maximum = 180)]
    longitude: Option<f64>,
}

/// Add a destination (operators). It starts unpublished.
#[utoipa::path(post, path = "/destinations", tag = "catalog-management", request_body = CreateDestinationRequest,
    security(("bearer" = ["catalog:manage_any"])),
    responses((status = 201, body = EntryDto, description = "Created unpublished: change and publish it with its PATCH", links(("update" = (operation_id = "update_destination", parameters(("code" = "$response.body#/code")))))), (status = 403, description = "Only operators add destinations"),
        (status = 409, description = "The code is taken"), (status = 422, description = "Invalid field")))]
pub(crate) async fn create_destination(
    caller: Require<CatalogCreate>,
    edit: Editor,
    ApiJson(body): ApiJson<CreateDestinationRequest>,
) -> Result<(StatusCode, Json<EntryDto>), ApiError> {
    let entry = new_entry(&body.code, &body.name, &body.summary)?;
    let district = body.district.trim();
    if district.is_empty() || district.chars().count() > 60 {
        return Err(ApiError::invalid_field("invalid_field", "district", "district must be 1 to 60 characters"));
    }
    for (field, value, limit) in [("latitude", body.latitude, 90.0), ("longitude", body.longitude, 180.0)] {
        if value.is_some_and(|v| !(-limit..=limit).contains(&v)) {
            return Err(ApiError::invalid_field(
                "invalid_field",
                field,
                format!("{field} is between -{limit} and {limit}"),
            ));
        }
    }
    let new = manage::NewDestination { entry, district, latitude: body.latitude, longitude: body.longitude };
    let created = edit.catalog.create_destination(&new).await.map_err(manage_error)?;
    edit.record(&caller, "destination_create", json!({ "code": body.code })).await;
    Ok((StatusCode::CREATED, Json(created.into())))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateExperienceRequest {
    /// Lower-case words joined by `-`: at most 60 characters.
    #[schema(example = "dumboor-lake-boat-ride", pattern = "^[a-z0-9]+(-[a-z0-9]+)*$", max_length = 60)]
    code: String,
    /// 1 to 120 characters, not counting white space around them.
    #[schema(
        pattern = r"^[\u0009-\u000D\u0020\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000\u0009-\u000D\u0020\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000](?:[^\u0000]{0,118}[^\u0000\u0009-\u000D\u0020\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000])?[\u0009-\u000D\u0020\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*$"
    )]
    name: String,
    /// At most 2000 characters, not counting white space around them.
    #[serde(default)]
    #[schema(
        pattern = r"^[\u0009-\u000D\u0020\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*(?:[^\u0000\u0009-\u000D\u0020\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000](?:[^\u0000]{0,1998}[^\u0000\u0009-\u000D\u0020\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000])?)?[\u0009-\u000D\u0020\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*$"
    )]
    summary: String,
    /// 1 minute to 7 days.
    #[schema(minimum = 1, maximum = 10080)]
    duration_minutes: i64,
    /// Per person, in paise; 0 for a free experience.
    price: PriceOrFreeDto,
    /// The destinations' codes where it takes place (1 to 20, each once).
    #[schema(value_type = BTreeSet<String>, min_items = 1, max_items = 20)]
    destinations: Vec<String>,
}

/// Add an experience at one or more destinations (operators). It starts unpublished.
#[utoipa::path(post, path = "/experiences", tag = "catalog-management", request_body = CreateExperienceRequest,
    security(("bearer" = ["catalog:manage_any"])),
    responses((status = 201, body = EntryDto, description = "Created unpublished: change and publish it with its PATCH", links(("update" = (operation_id = "update_experience", parameters(("code" = "$response.body#/code")))))), (status = 403, description = "Only operators add experiences"),
        (status = 409, description = "The code is taken"), (status = 422, description = "Invalid field or unknown destination")))]
pub(crate) async fn create_experience(
    caller: Require<CatalogCreate>,
    edit: Editor,
    ApiJson(body): ApiJson<CreateExperienceRequest>,
) -> Result<(StatusCode, Json<EntryDto>), ApiError> {
    let entry = new_entry(&body.code, &body.name, &body.summary)?;
    check_range("duration_minutes", body.duration_minutes, 1..=7 * 24 * 60)?;
    let price_paise = paise("price", body.price.amount, &body.price.currency, 0)?;
    check_codes("destinations", body.destinations.iter().map(String::as_str), 1)?;
    let new = manage::NewExperience {
        entry,
        duration_minutes: body.duration_minutes as i32,
        price_paise,
        destinations: body.destinations.iter().map(String::as_str).collect(),
    };
    let created = edit.catalog.create_experience(&new).await.map_err(manage_error)?;
    edit.record(&caller, "experience_create", json!({ "code": body.code })).await;
    Ok((StatusCode::CREATED, Json(created.into())))
}

/// A place or an activity on a day of a package's itinerary.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ItineraryStop {
    code: String,
    /// 1 to nights + 1.
    #[schema(minimum = 1, maximum = 31)]
    day: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreatePackageRequest {
    /// Lower-case words joined by `-`: at most 60 characters.
    #[schema(example = "unakoti-and-jampui-3n", pattern = "^[a-z0-9]+(-[a-z0-9]+)*$", max_length = 60)]
    code: String,
    /// 1 to 120 characters, not counting white space around them.
    #[schema(
        pattern = r"^[\u0009-\u000D\u0020\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000\u0009-\u000D\u0020\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000](?:[^\u0000]{0,118}[^\u0000\u0009-\u000D\u0020\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000])?[\u0009-\u000D\u0020\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*$"
    )]
    name: String,
    /// At most 2000 characters, not counting white space around them.
    #[serde(default)]
    #[schema(
        pattern = r"^[\u0009-\u000D\u0020\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*(?:[^\u0000\u0009-\u000D\u0020\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000](?:[^\u0000]{0,1998}[^\u0000\u0009-\u000D\u0020\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000])?)?[\u0009-\u000D\u0020\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*$"
    )]
    summary: String,
    /// 0 (a day trip) to 30.
    #[schema(minimum = 0, maximum = 30)]
    nights: i64,
    /// The largest party sold on one booking, 1 to 100 (default 10).
    #[serde(default = "default_group_size")]
    #[schema(minimum = 1, maximum = 100)]
    max_group_size: i64,
    /// Destinations visited (1 to 20, each destination once), each on a day.
    #[schema(min_items = 1, max_items = 20)]
    destinations: Vec<ItineraryStop>,
    /// Experiences included (up to 20, each experience once), each on a day.
    #[serde(default)]
    #[schema(max_items = 20)]
    experiences: Vec<ItineraryStop>,
    /// Amenities' codes (up to 20, each once), e.g. `meals`, `guide`.
    #[serde(default)]
    #[schema(value_type = BTreeSet<String>, max_items = 20)]
    amenities: Vec<String>,
}

fn default_group_size() -> i64 {
    10
}

/// Add a package (operators). It starts unpublished and without prices: set its seasons with
/// `PUT /api/catalog/packages/{code}/prices`.
#[utoipa::path(post, path = "/packages", tag = "catalog-management", request_body = CreatePackageRequest,
    security(("bearer" = ["catalog:manage_any"])),
    responses((status = 201, body = EntryDto, description = "Created unpublished: change and publish it with its PATCH", links(("update" = (operation_id = "update_package", parameters(("code" = "$response.body#/code")))))), (status = 403, description = "Only operators add packages"),
        (status = 409, description = "The code is taken"),
        (status = 422, description = "Invalid field, day outside the package, or unknown destination, experience or amenity")))]
pub(crate) async fn create_package(
    caller: Require<CatalogCreate>,
    edit: Editor,
    ApiJson(body): ApiJson<CreatePackageRequest>,
) -> Result<(StatusCode, Json<EntryDto>), ApiError> {
    let entry = new_entry(&body.code, &body.name, &body.summary)?;
    check_range("nights", body.nights, 0..=30)?;
    check_range("max_group_size", body.max_group_size, 1..=100)?;
    check_codes("destinations", body.destinations.iter().map(|s| s.code.as_str()), 1)?;
    check_codes("experiences", body.experiences.iter().map(|s| s.code.as_str()), 0)?;
    check_codes("amenities", body.amenities.iter().map(String::as_str), 0)?;
    for (field, stops) in [("destinations", &body.destinations), ("experiences", &body.experiences)] {
        for stop in stops {
            check_range(&format!("{field}[{}].day", stop.code), stop.day, 1..=body.nights + 1)?;
        }
    }
    fn stops(v: &[ItineraryStop]) -> Vec<(&str, i32)> {
        v.iter().map(|s| (s.code.as_str(), s.day as i32)).collect()
    }
    let new = manage::NewPackage {
        entry,
        nights: body.nights as i32,
        max_group_size: body.max_group_size as i32,
        destinations: stops(&body.destinations),
        experiences: stops(&body.experiences),
        amenities: body.amenities.iter().map(String::as_str).collect(),
    };
    let created = edit.catalog.create_package(&new).await.map_err(manage_error)?;
    edit.record(&caller, "package_create", json!({ "code": body.code })).await;
    Ok((StatusCode::CREATED, Json(created.into())))
}

/// One season of a package's price list. Validity is inclusive at both ends.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SeasonDto {
    /// `per_person`, `per_room` or `per_group`.
    #[schema(pattern = "^(per_person|per_room|per_group)$")]
    basis: String,
    /// The first departure day of the season.
    #[schema(example = "2026-10-01")]
    valid_from: NaiveDate,
    /// The last departure day of the season, on or after `valid_from`.
    #[schema(example = "2027-03-31")]
    valid_to: NaiveDate,
    /// Before GST.
    price: PriceDto,
    /// Per-person seasons only, at most the adult price; absent: a child pays the adult price.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    child_price: Option<PriceOrFreeDto>,
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PackagePricesRequest {
    /// Every season, replacing the package's price list (1 to 50; no two overlap).
    #[schema(min_items = 1, max_items = 50)]
    seasons: Vec<SeasonDto>,
}

/// Replace a package's seasonal prices at once (operators): all of them change or none.
#[utoipa::path(put, path = "/packages/{code}/prices", params(("code" = String, Path)), tag = "catalog-management", request_body = PackagePricesRequest,
    security(("bearer" = ["catalog:manage_any"])),
    responses((status = 200, body = PackagePricesRequest, description = "The package's price list now"),
        (status = 403, description = "Only operators price packages"), (status = 404, description = "No such package"),
        (status = 422, description = "Invalid season, or two seasons overlap")))]
pub(crate) async fn put_package_prices(
    caller: Require<CatalogCreate>,
    edit: Editor,
    ApiPath(code): ApiPath<String>,
    ApiJson(body): ApiJson<PackagePricesRequest>,
) -> Result<Json<PackagePricesRequest>, ApiError> {
    if body.seasons.is_empty() || body.seasons.len() > 50 {
        return Err(ApiError::invalid_field("invalid_field", "seasons", "seasons lists 1 to 50 seasons"));
    }
    let mut seasons = Vec::with_capacity(body.seasons.len());
    for (i, season) in body.seasons.iter().enumerate() {
        let field = |name: &str| format!("seasons[{i}].{name}");
        if !BASES.contains(&season.basis.as_str()) {
            return Err(ApiError::invalid_field(
                "invalid_basis",
                &field("basis"),
                format!("basis is one of {}", BASES.join(", ")),
            ));
        }
        if season.valid_to < season.valid_from {
            return Err(ApiError::invalid_field(
                "invalid_dates",
                &field("valid_to"),
                "valid_to is on or after valid_from",
            ));
        }
        let price_paise = paise(&field("price"), season.price.amount, &season.price.currency, 100)?;
        let child_price_paise = match &season.child_price {
            None => None,
            Some(_) if season.basis != "per_person" => {
                return Err(ApiError::invalid_field(
                    "invalid_child_price",
                    &field("child_price"),
                    "only a per-person season has a child price",
                ));
            }
            Some(child) => {
                let child = paise(&field("child_price"), child.amount, &child.currency, 0)?;
                if child > price_paise {
                    return Err(ApiError::invalid_field(
                        "invalid_child_price",
                        &field("child_price"),
                        "a child's price is at most the adult price",
                    ));
                }
                Some(child)
            }
        };
        seasons.push(manage::Season {
            basis: &season.basis,
            valid_from: season.valid_from,
            valid_to: season.valid_to,
            price_paise,
            child_price_paise,
        });
    }
    if !edit.catalog.put_package_prices(&code, &seasons).await.map_err(manage_error)? {
        return Err(ApiError::not_found("package_not_found", format!("No package {code}")));
    }
    edit.record(&caller, "package_prices_put", json!({ "code": code })).await;
    Ok(Json(body))
}
