//! Catalog management: operators create accommodations; operators and the asset managers
//! assigned to a property change its details and room types and publish or withdraw it.
//! Operators edit destinations, experiences and packages in place (`entries` creates them),
//! and set the stays a package includes.

use super::PriceDto;
use crate::{
    access::{CatalogCreate, CatalogManage, ClientInfo, Require},
    error::ApiError,
    extract::{ApiJson, ApiPath},
    state::AppState,
};
use auth::{Accounts, Principal};
use axum::{
    Json,
    extract::{FromRef, FromRequestParts},
    http::{StatusCode, request::Parts},
};
use catalog::{
    Catalog, IncludedStayRow,
    manage::{
        AccommodationChanges, Entry, EntryChanges, EntryState, ManageError, ManagedAccommodation, NewAccommodation,
        NewEntry, NewRoomType, NewStay, StayProblem,
    },
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

const KINDS: [&str; 5] = ["hotel", "homestay", "resort", "guest_house", "eco_lodge"];

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ManagedAccommodationDto {
    code: String,
    destination: String,
    name: String,
    kind: String,
    summary: String,
    address: String,
    /// On sale (listed, bookable) or not.
    published: bool,
    room_types: i64,
}

impl From<ManagedAccommodation> for ManagedAccommodationDto {
    fn from(a: ManagedAccommodation) -> Self {
        ManagedAccommodationDto {
            code: a.code,
            destination: a.destination,
            name: a.name,
            kind: a.kind,
            summary: a.summary,
            address: a.address,
            published: a.published,
            room_types: a.room_types,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateAccommodationRequest {
    /// Lower-case words joined by `-`, e.g. `jampui-hill-homestay`: at most 60 characters.
    #[schema(pattern = "^[a-z0-9]+(-[a-z0-9]+)*$", max_length = 60)]
    code: String,
    /// A destination's code (`GET /api/catalog/destinations`).
    destination: String,
    /// 1 to 120 characters, not counting white space around them.
    #[schema(
        pattern = r"^[\u0009-\u000D\u0020\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000\u0009-\u000D\u0020\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000](?:[^\u0000]{0,118}[^\u0000\u0009-\u000D\u0020\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000])?[\u0009-\u000D\u0020\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*$"
    )]
    name: String,
    /// `hotel`, `homestay`, `resort`, `guest_house` or `eco_lodge`.
    #[schema(pattern = "^(hotel|homestay|resort|guest_house|eco_lodge)$")]
    kind: String,
    /// At most 2000 characters, not counting white space around them.
    #[serde(default)]
    #[schema(
        pattern = r"^[\u0009-\u000D\u0020\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*(?:[^\u0000\u0009-\u000D\u0020\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000](?:[^\u0000]{0,1998}[^\u0000\u0009-\u000D\u0020\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000])?)?[\u0009-\u000D\u0020\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*$"
    )]
    summary: String,
    /// At most 300 characters, not counting white space around them.
    #[serde(default)]
    #[schema(
        pattern = r"^[\u0009-\u000D\u0020\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*(?:[^\u0000\u0009-\u000D\u0020\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000](?:[^\u0000]{0,298}[^\u0000\u0009-\u000D\u0020\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000])?)?[\u0009-\u000D\u0020\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*$"
    )]
    address: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateAccommodationRequest {
    /// 1 to 120 characters, not counting white space around them.
    #[schema(
        pattern = r"^[\u0009-\u000D\u0020\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000\u0009-\u000D\u0020\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000](?:[^\u0000]{0,118}[^\u0000\u0009-\u000D\u0020\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000])?[\u0009-\u000D\u0020\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*$"
    )]
    name: Option<String>,
    /// `hotel`, `homestay`, `resort`, `guest_house` or `eco_lodge`.
    #[schema(pattern = "^(hotel|homestay|resort|guest_house|eco_lodge)$")]
    kind: Option<String>,
    /// At most 2000 characters, not counting white space around them.
    #[schema(
        pattern = r"^[\u0009-\u000D\u0020\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*(?:[^\u0000\u0009-\u000D\u0020\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000](?:[^\u0000]{0,1998}[^\u0000\u0009-\u000D\u0020\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000])?)?[\u0009-\u000D\u0020\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*$"
    )]
    summary: Option<String>,
    /// At most 300 characters, not counting white space around them.
    #[schema(
        pattern = r"^[\u0009-\u000D\u0020\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*(?:[^\u0000\u0009-\u000D\u0020\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000](?:[^\u0000]{0,298}[^\u0000\u0009-\u000D\u0020\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000])?)?[\u0009-\u000D\u0020\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*$"
    )]
    address: Option<String>,
    /// `true` puts it on sale (it needs a room type first); `false` withdraws it.
    published: Option<bool>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RoomTypeRequest {
    /// 1 to 80 characters, not counting white space around them.
    #[schema(
        pattern = r"^[\u0009-\u000D\u0020\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000\u0009-\u000D\u0020\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000](?:[^\u0000]{0,78}[^\u0000\u0009-\u000D\u0020\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000])?[\u0009-\u000D\u0020\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*$"
    )]
    name: String,
    /// Guests per room, 1 to 12.
    #[schema(minimum = 1, maximum = 12)]
    max_occupancy: i32,
    /// The nightly tariff before GST, in paise.
    base_tariff: PriceDto,
}

/// The catalog's refusals in the API's shape.
pub(super) fn manage_error(e: ManageError) -> ApiError {
    match e {
        ManageError::CodeTaken(code) => ApiError::conflict("code_taken", format!("The code {code} is taken")),
        ManageError::Unknown { kind, field, code } => {
            let error = match kind {
                "destination" => "unknown_destination",
                "experience" => "unknown_experience",
                _ => "unknown_amenity",
            };
            ApiError::invalid_field(error, field, format!("No {kind} {code}"))
        }
        ManageError::NoRoomTypes => ApiError::Conflict {
            code: "no_room_types",
            message: "Add a room type before publishing: there is nothing to sell yet".into(),
        },
        ManageError::SeasonsOverlap => ApiError::invalid_field(
            "seasons_overlap",
            "seasons",
            "Two seasons overlap: each departure day must have exactly one price",
        ),
        ManageError::Stay { index, problem } => stay_error(index, &problem),
        ManageError::Database(e) => e.into(),
    }
}

/// A refused stay of `PUT /packages/{code}/stays` as a 422 naming the stay's field at fault.
fn stay_error(index: usize, problem: &StayProblem) -> ApiError {
    let (code, field) = match problem {
        StayProblem::UnknownAccommodation { .. } => ("unknown_accommodation", "accommodation"),
        StayProblem::UnknownRoomType { .. } => ("unknown_room_type", "room_type"),
        StayProblem::StartsOutside { .. } => ("stay_outside_package", "first_night"),
        StayProblem::EndsOutside { .. } => ("stay_outside_package", "nights"),
        StayProblem::Overlaps { .. } => ("stays_overlap", "first_night"),
    };
    let message = match problem {
        StayProblem::StartsOutside { package_nights: 0 } | StayProblem::EndsOutside { package_nights: 0 } => {
            "A day trip includes no stay".to_string()
        }
        StayProblem::StartsOutside { package_nights } | StayProblem::EndsOutside { package_nights } => {
            format!("Stay {index} is not within the package's nights 1 to {package_nights}")
        }
        StayProblem::Overlaps { earlier } => {
            format!("Stay {index} covers a night of stay {earlier}: one stay a night")
        }
        StayProblem::UnknownAccommodation { .. } | StayProblem::UnknownRoomType { .. } => {
            format!("Stay {index}: {problem}")
        }
    };
    ApiError::invalid_field(code, &format!("stays[{index}].{field}"), message)
}

/// A public code: lower-case words joined by `-`, as the schema's CHECKs want it.
fn check_code(code: &str) -> Result<(), ApiError> {
    let code_ok = !code.is_empty()
        && code.len() <= 60
        && code.split('-').all(|w| !w.is_empty() && w.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()));
    if !code_ok {
        return Err(ApiError::invalid_field("invalid_code", "code", "code is lower-case words joined by `-`"));
    }
    Ok(())
}

/// A new entry's code, name and summary, checked and trimmed alike for every kind of entry.
pub(super) fn new_entry<'a>(code: &'a str, name: &'a str, summary: &'a str) -> Result<NewEntry<'a>, ApiError> {
    check_code(code)?;
    check_text("name", name, 120)?;
    check_text("summary", summary, 2000)?;
    Ok(NewEntry { code, name: name.trim(), summary: summary.trim() })
}

/// A text of at most `max` characters once trimmed, and at least one for a `name`. The
/// request schemas state the same rule as a pattern (the tests' `text_pattern` spells it).
pub(super) fn check_text(field: &str, value: &str, max: usize) -> Result<(), ApiError> {
    let chars = value.trim().chars().count();
    if field == "name" && chars == 0 || chars > max {
        return Err(ApiError::invalid_field("invalid_field", field, format!("{field} must be 1 to {max} characters")));
    }
    Ok(())
}

fn check_kind(kind: &str) -> Result<(), ApiError> {
    if KINDS.contains(&kind) {
        Ok(())
    } else {
        Err(ApiError::invalid_field("invalid_kind", "kind", format!("kind is one of {}", KINDS.join(", "))))
    }
}

/// What every catalog change needs besides the caller and its input: the catalog, and the
/// activity log that records who changed what, from where.
pub(crate) struct Editor {
    pub(super) catalog: Catalog,
    accounts: Accounts,
    client: auth::Client,
}

impl<S: Send + Sync> FromRequestParts<S> for Editor
where
    AppState: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let ClientInfo(client) = ClientInfo::from_request_parts(parts, state).await?;
        let AppState { catalog, accounts, .. } = AppState::from_ref(state);
        Ok(Editor { catalog, accounts, client })
    }
}

impl Editor {
    /// Writes a change `caller` made to the activity log.
    pub(super) async fn record(&self, caller: &Principal, action: &str, details: Value) {
        self.accounts.log(Some(caller.user_id), action, "success", &self.client, details).await;
    }

    /// The accommodation `code`, if the caller may manage it: operators every one, asset
    /// managers the ones assigned to them (403 otherwise).
    async fn managed(&self, caller: &Principal, code: &str) -> Result<ManagedAccommodation, ApiError> {
        let found = self
            .catalog
            .find_managed(code)
            .await?
            .ok_or_else(|| ApiError::not_found("accommodation_not_found", format!("No accommodation {code}")))?;
        if !caller.can("catalog:manage_any")
            && !self.accounts.is_assigned(caller.user_id, found.accommodation_id).await?
        {
            return Err(ApiError::forbidden(
                "not_assigned",
                format!("You do not manage {code}; ask an admin to assign it"),
            ));
        }
        Ok(found)
    }
}

/// Create an accommodation (operators). It starts unpublished.
#[utoipa::path(post, path = "/accommodations", tag = "catalog-management", request_body = CreateAccommodationRequest,
    security(("bearer" = ["catalog:manage_any"])),
    responses((status = 201, body = ManagedAccommodationDto, description = "Created unpublished: change and publish it with its PATCH", links(("update" = (operation_id = "update_accommodation", parameters(("code" = "$response.body#/code")))))), (status = 403, description = "Only operators create accommodations"),
        (status = 409, description = "The code is taken"), (status = 422, description = "Invalid field")))]
pub(crate) async fn create_accommodation(
    caller: Require<CatalogCreate>,
    edit: Editor,
    ApiJson(body): ApiJson<CreateAccommodationRequest>,
) -> Result<(StatusCode, Json<ManagedAccommodationDto>), ApiError> {
    let entry = new_entry(&body.code, &body.name, &body.summary)?;
    check_text("address", &body.address, 300)?;
    check_kind(&body.kind)?;
    let new = NewAccommodation {
        entry,
        destination: body.destination.trim(),
        kind: &body.kind,
        address: body.address.trim(),
    };
    let created = edit.catalog.create_accommodation(&new).await.map_err(manage_error)?;
    edit.record(&caller, "accommodation_create", json!({ "accommodation": body.code })).await;
    Ok((StatusCode::CREATED, Json(created.into())))
}

/// Change an accommodation's details, or publish or withdraw it.
#[utoipa::path(patch, path = "/accommodations/{code}", params(("code" = String, Path)), tag = "catalog-management",
    request_body = UpdateAccommodationRequest, security(("bearer" = ["catalog:manage_any", "catalog:manage_assigned"])),
    responses((status = 200, body = ManagedAccommodationDto), (status = 403, description = "Not a manager of this property"),
        (status = 404, description = "No such accommodation"), (status = 409, description = "Publishing without room types"),
        (status = 422, description = "Invalid field")))]
pub(crate) async fn update_accommodation(
    caller: Require<CatalogManage>,
    edit: Editor,
    ApiPath(code): ApiPath<String>,
    ApiJson(body): ApiJson<UpdateAccommodationRequest>,
) -> Result<Json<ManagedAccommodationDto>, ApiError> {
    let found = edit.managed(&caller, &code).await?;
    if let Some(name) = &body.name {
        check_text("name", name, 120)?;
    }
    if let Some(kind) = &body.kind {
        check_kind(kind)?;
    }
    check_text("summary", body.summary.as_deref().unwrap_or_default(), 2000)?;
    check_text("address", body.address.as_deref().unwrap_or_default(), 300)?;
    let changes = AccommodationChanges {
        name: body.name.as_deref().map(str::trim),
        kind: body.kind.as_deref(),
        summary: body.summary.as_deref().map(str::trim),
        address: body.address.as_deref().map(str::trim),
        published: body.published,
    };
    let updated = edit.catalog.update_accommodation(found.accommodation_id, &changes).await.map_err(manage_error)?;
    edit.record(&caller, "accommodation_update", json!({ "accommodation": code, "published": body.published })).await;
    Ok(Json(updated.into()))
}

/// Add or replace a room type of an accommodation.
#[utoipa::path(put, path = "/accommodations/{code}/room-types/{room_type}", params(("code" = String, Path),
        ("room_type" = String, Path, example = "deluxe_double", pattern = "^[a-z0-9]+(_[a-z0-9]+)*$", max_length = 40,
            description = "Lower-case words joined by `_`, at most 40 characters")),
    tag = "catalog-management",
    request_body = RoomTypeRequest, security(("bearer" = ["catalog:manage_any", "catalog:manage_assigned"])),
    responses((status = 200, body = ManagedAccommodationDto), (status = 403, description = "Not a manager of this property"),
        (status = 404, description = "No such accommodation"), (status = 422, description = "Invalid room type")))]
pub(crate) async fn put_room_type(
    caller: Require<CatalogManage>,
    edit: Editor,
    ApiPath((code, room_type)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<RoomTypeRequest>,
) -> Result<Json<ManagedAccommodationDto>, ApiError> {
    let found = edit.managed(&caller, &code).await?;
    let room_type_ok = room_type.len() <= 40
        && room_type
            .split('_')
            .all(|w| !w.is_empty() && w.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()));
    if !room_type_ok {
        return Err(ApiError::invalid_field(
            "invalid_room_type",
            "room_type",
            "room_type is lower-case words joined by `_`",
        ));
    }
    check_text("name", &body.name, 80)?;
    if !(1..=12).contains(&body.max_occupancy) {
        return Err(ApiError::invalid_field("invalid_occupancy", "max_occupancy", "max_occupancy is 1 to 12"));
    }
    if body.base_tariff.currency != "INR" || !(100..=100_000_000).contains(&body.base_tariff.amount) {
        return Err(ApiError::invalid_field(
            "invalid_tariff",
            "base_tariff",
            "base_tariff is INR paise between 100 (₹1) and 100000000 (₹10 lakh)",
        ));
    }
    let new = NewRoomType {
        room_type: &room_type,
        name: body.name.trim(),
        max_occupancy: body.max_occupancy,
        base_tariff_paise: body.base_tariff.amount,
    };
    let updated = edit.catalog.put_room_type(found.accommodation_id, &new).await.map_err(manage_error)?;
    edit.record(&caller, "room_type_put", json!({ "accommodation": code, "room_type": room_type })).await;
    Ok(Json(updated.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateEntryRequest {
    /// 1 to 120 characters, not counting white space around them.
    #[schema(
        pattern = r"^[\u0009-\u000D\u0020\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000\u0009-\u000D\u0020\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000](?:[^\u0000]{0,118}[^\u0000\u0009-\u000D\u0020\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000])?[\u0009-\u000D\u0020\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*$"
    )]
    name: Option<String>,
    /// At most 2000 characters, not counting white space around them.
    #[schema(
        pattern = r"^[\u0009-\u000D\u0020\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*(?:[^\u0000\u0009-\u000D\u0020\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000](?:[^\u0000]{0,1998}[^\u0000\u0009-\u000D\u0020\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000])?)?[\u0009-\u000D\u0020\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*$"
    )]
    summary: Option<String>,
    /// `true` lists it publicly; `false` withdraws it.
    published: Option<bool>,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct EntryDto {
    code: String,
    name: String,
    summary: String,
    published: bool,
}

impl From<EntryState> for EntryDto {
    fn from(e: EntryState) -> Self {
        EntryDto { code: e.code, name: e.name, summary: e.summary, published: e.published }
    }
}

/// The one shape of an entry's update: checks, the change, a line in the activity log, and
/// the entry as it is now.
async fn update_entry(
    caller: &Principal,
    edit: &Editor,
    entry: Entry,
    code: &str,
    body: UpdateEntryRequest,
) -> Result<Json<EntryDto>, ApiError> {
    if let Some(name) = &body.name {
        check_text("name", name, 120)?;
    }
    check_text("summary", body.summary.as_deref().unwrap_or_default(), 2000)?;
    let changes = EntryChanges {
        name: body.name.as_deref().map(str::trim),
        summary: body.summary.as_deref().map(str::trim),
        published: body.published,
    };
    let updated = edit
        .catalog
        .update_entry(entry, code, &changes)
        .await
        .map_err(manage_error)?
        .ok_or_else(|| ApiError::not_found("not_found", format!("No {} {code}", entry.name())))?;
    let details = json!({ "entry": entry.name(), "code": code, "published": body.published });
    edit.record(caller, "catalog_entry_update", details).await;
    Ok(Json(updated.into()))
}

/// Rename, describe, publish or withdraw a destination (operators).
#[utoipa::path(patch, path = "/destinations/{code}", params(("code" = String, Path)), tag = "catalog-management", request_body = UpdateEntryRequest,
    security(("bearer" = ["catalog:manage_any"])),
    responses((status = 200, body = EntryDto), (status = 404, description = "No such destination")))]
pub(crate) async fn update_destination(
    caller: Require<CatalogCreate>,
    edit: Editor,
    ApiPath(code): ApiPath<String>,
    ApiJson(body): ApiJson<UpdateEntryRequest>,
) -> Result<Json<EntryDto>, ApiError> {
    update_entry(&caller, &edit, Entry::Destination, &code, body).await
}

/// Rename, describe, publish or withdraw an experience (operators).
#[utoipa::path(patch, path = "/experiences/{code}", params(("code" = String, Path)), tag = "catalog-management", request_body = UpdateEntryRequest,
    security(("bearer" = ["catalog:manage_any"])),
    responses((status = 200, body = EntryDto), (status = 404, description = "No such experience")))]
pub(crate) async fn update_experience(
    caller: Require<CatalogCreate>,
    edit: Editor,
    ApiPath(code): ApiPath<String>,
    ApiJson(body): ApiJson<UpdateEntryRequest>,
) -> Result<Json<EntryDto>, ApiError> {
    update_entry(&caller, &edit, Entry::Experience, &code, body).await
}

/// Rename, describe, publish or withdraw a package (operators).
#[utoipa::path(patch, path = "/packages/{code}", params(("code" = String, Path)), tag = "catalog-management", request_body = UpdateEntryRequest,
    security(("bearer" = ["catalog:manage_any"])),
    responses((status = 200, body = EntryDto), (status = 404, description = "No such package")))]
pub(crate) async fn update_package(
    caller: Require<CatalogCreate>,
    edit: Editor,
    ApiPath(code): ApiPath<String>,
    ApiJson(body): ApiJson<UpdateEntryRequest>,
) -> Result<Json<EntryDto>, ApiError> {
    update_entry(&caller, &edit, Entry::Package, &code, body).await
}

/// The most stays a package includes: one a night, of at most 30 nights (the
/// `packages_nights_range` CHECK).
const MAX_STAYS: usize = 30;

/// A stay a package includes: rooms of one room type at one accommodation, on consecutive
/// nights of the itinerary.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PackageStayDto {
    /// The itinerary night the stay starts on, from 1: night 1 is the departure date's, so
    /// the party checks in on the departure date plus `first_night - 1` days. At most the
    /// package's nights.
    #[schema(minimum = 1, maximum = 30, example = 1)]
    first_night: i64,
    /// Nights in a row, 1 or more, ending by the package's last night.
    #[schema(minimum = 1, maximum = 30, example = 2)]
    nights: i64,
    /// An accommodation's code (`GET /api/catalog/accommodations`).
    #[schema(example = "ujjayanta-heritage-hotel", pattern = "^[a-z0-9]+(-[a-z0-9]+)*$", max_length = 60)]
    accommodation: String,
    /// One of the accommodation's room types.
    #[schema(example = "deluxe_double", pattern = "^[a-z0-9]+(_[a-z0-9]+)*$", max_length = 40)]
    room_type: String,
}

impl From<IncludedStayRow> for PackageStayDto {
    fn from(s: IncludedStayRow) -> Self {
        PackageStayDto {
            first_night: i64::from(s.first_night),
            nights: i64::from(s.nights),
            accommodation: s.accommodation_code,
            room_type: s.room_type,
        }
    }
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PackageStaysRequest {
    /// Every stay the package includes, replacing those it had (0 to 30; no two cover the
    /// same night). In the answer, in itinerary order.
    #[schema(max_items = 30)]
    stays: Vec<PackageStayDto>,
}

/// Replace the stays a package includes at once (operators): all of them change or none. A
/// package booking holds the rooms of every one of them.
#[utoipa::path(put, path = "/packages/{code}/stays", params(("code" = String, Path)), tag = "catalog-management",
    request_body = PackageStaysRequest, security(("bearer" = ["catalog:manage_any"])),
    responses((status = 200, body = PackageStaysRequest, description = "The package's stays now, in itinerary order"),
        (status = 403, description = "Only operators change packages"), (status = 404, description = "No such package"),
        (status = 422, description = "Invalid stay, unknown accommodation or room type, a stay outside the package's \
            nights, or two stays on one night; `details.field` names it")))]
pub(crate) async fn put_package_stays(
    caller: Require<CatalogCreate>,
    edit: Editor,
    ApiPath(code): ApiPath<String>,
    ApiJson(body): ApiJson<PackageStaysRequest>,
) -> Result<Json<PackageStaysRequest>, ApiError> {
    if body.stays.len() > MAX_STAYS {
        return Err(ApiError::invalid_field("invalid_field", "stays", format!("stays lists 0 to {MAX_STAYS} stays")));
    }
    let mut stays = Vec::with_capacity(body.stays.len());
    for (i, stay) in body.stays.iter().enumerate() {
        let count = |field: &str, value: i64| {
            u32::try_from(value).ok().filter(|n| (1..=30).contains(n)).ok_or_else(|| {
                ApiError::invalid_field("invalid_field", &format!("stays[{i}].{field}"), format!("{field} is 1 to 30"))
            })
        };
        stays.push(NewStay {
            first_night: count("first_night", stay.first_night)?,
            nights: count("nights", stay.nights)?,
            accommodation: stay.accommodation.trim(),
            room_type: stay.room_type.trim(),
        });
    }
    let set = edit
        .catalog
        .put_package_stays(&code, &stays)
        .await
        .map_err(manage_error)?
        .ok_or_else(|| ApiError::not_found("package_not_found", format!("No package {code}")))?;
    edit.record(&caller, "package_stays_put", json!({ "code": code, "stays": set.len() })).await;
    Ok(Json(PackageStaysRequest { stays: set.into_iter().map(Into::into).collect() }))
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    /// What `str::trim` takes off both ends (Unicode White_Space), as the patterns of the
    /// catalog's texts spell it: single characters and ranges.
    const WHITE_SPACE: [(char, char); 11] = [
        ('\u{9}', '\u{d}'),
        ('\u{20}', '\u{20}'),
        ('\u{85}', '\u{85}'),
        ('\u{a0}', '\u{a0}'),
        ('\u{1680}', '\u{1680}'),
        ('\u{2000}', '\u{200a}'),
        ('\u{2028}', '\u{2028}'),
        ('\u{2029}', '\u{2029}'),
        ('\u{202f}', '\u{202f}'),
        ('\u{205f}', '\u{205f}'),
        ('\u{3000}', '\u{3000}'),
    ];

    /// The pattern of a text [`super::check_text`] takes: `min` (0 or 1) to `max` characters
    /// once trimmed, and no NUL (which no request may carry). A run of white space, then the
    /// text from its first to its last other character, then white space; `\uXXXX` escapes
    /// and explicit classes read the same in ECMAScript and in Python's `re`.
    fn text_pattern(min: usize, max: usize) -> String {
        let class: String = WHITE_SPACE
            .iter()
            .map(|&(from, to)| {
                let (from, to) = (u32::from(from), u32::from(to));
                if from == to { format!("\\u{from:04X}") } else { format!("\\u{from:04X}-\\u{to:04X}") }
            })
            .collect();
        let (space, other) = (format!("[{class}]"), format!("[^\\u0000{class}]"));
        let text = format!("{other}(?:[^\\u0000]{{0,{}}}{other})?", max - 2);
        let text = if min == 0 { format!("(?:{text})?") } else { text };
        format!("^{space}*{text}{space}*$")
    }

    #[test]
    fn the_white_space_of_the_patterns_is_what_trim_removes() {
        let listed = |c: char| WHITE_SPACE.iter().any(|&(from, to)| (from..=to).contains(&c));
        let differ: Vec<char> = (char::MIN..=char::MAX).filter(|&c| c.is_whitespace() != listed(c)).collect();
        assert!(differ.is_empty(), "{differ:?}");
    }

    #[test]
    fn the_documented_texts_are_the_lengths_check_text_takes() {
        let document = serde_json::to_value(crate::openapi_document()).unwrap();
        let texts = [
            ("CreateAccommodationRequest", "name", 1, 120),
            ("CreateAccommodationRequest", "summary", 0, 2000),
            ("CreateAccommodationRequest", "address", 0, 300),
            ("UpdateAccommodationRequest", "name", 1, 120),
            ("UpdateAccommodationRequest", "summary", 0, 2000),
            ("UpdateAccommodationRequest", "address", 0, 300),
            ("RoomTypeRequest", "name", 1, 80),
            ("UpdateEntryRequest", "name", 1, 120),
            ("UpdateEntryRequest", "summary", 0, 2000),
            ("CreateDestinationRequest", "name", 1, 120),
            ("CreateDestinationRequest", "district", 1, 60),
            ("CreateDestinationRequest", "summary", 0, 2000),
            ("CreateExperienceRequest", "name", 1, 120),
            ("CreateExperienceRequest", "summary", 0, 2000),
            ("CreatePackageRequest", "name", 1, 120),
            ("CreatePackageRequest", "summary", 0, 2000),
        ];
        for (schema, field, min, max) in texts {
            let documented = &document["components"]["schemas"][schema]["properties"][field]["pattern"];
            assert_eq!(documented, &Value::from(text_pattern(min, max)), "{schema}.{field}: {min} to {max} characters");
        }
    }
}
