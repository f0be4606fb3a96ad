//! Changing the catalog: operators create accommodations; operators and the asset managers
//! assigned to a property change its details and room types and publish or withdraw it.
//! Invariants are the schema's (code shapes, kinds, occupancy and tariff ranges); this
//! module turns their violations into answers a person can act on.

use sqlx::PgPool;
use uuid::Uuid;

/// An accommodation as its managers see it, published or not.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ManagedAccommodation {
    pub accommodation_id: Uuid,
    pub code: String,
    pub destination: String,
    pub name: String,
    pub kind: String,
    pub summary: String,
    pub address: String,
    pub published: bool,
    pub room_types: i64,
}

const MANAGED_SELECT: &str = "SELECT a.accommodation_id, a.code, d.code AS destination, a.name, a.kind, a.summary,
        a.address, a.published,
        (SELECT count(*) FROM accommodation_room_types r WHERE r.accommodation_id = a.accommodation_id) AS room_types
     FROM accommodations a JOIN destinations d USING (destination_id)";

pub async fn find_managed(pool: &PgPool, code: &str) -> Result<Option<ManagedAccommodation>, sqlx::Error> {
    sqlx::query_as(&format!("{MANAGED_SELECT} WHERE a.code = $1")).bind(code).fetch_optional(pool).await
}

#[derive(Debug, Clone)]
pub struct NewAccommodation<'a> {
    pub code: &'a str,
    pub destination: &'a str,
    pub name: &'a str,
    pub kind: &'a str,
    pub summary: &'a str,
    pub address: &'a str,
}

#[derive(Debug, thiserror::Error)]
pub enum ManageError {
    #[error("an accommodation with code `{0}` exists")]
    CodeTaken(String),
    #[error("no destination `{0}`")]
    UnknownDestination(String),
    #[error("publish needs at least one room type")]
    NoRoomTypes,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Creates an accommodation, unpublished: it goes on sale once it has room types and is
/// published.
pub async fn create_accommodation(pool: &PgPool, new: &NewAccommodation<'_>) -> Result<Uuid, ManageError> {
    let id = Uuid::new_v4();
    let inserted = sqlx::query(
        "INSERT INTO accommodations (accommodation_id, code, destination_id, name, kind, summary, address)
         SELECT $1, $2, destination_id, $4, $5, $6, $7 FROM destinations WHERE code = $3",
    )
    .bind(id)
    .bind(new.code)
    .bind(new.destination)
    .bind(new.name)
    .bind(new.kind)
    .bind(new.summary)
    .bind(new.address)
    .execute(pool)
    .await;
    match inserted {
        Ok(done) if done.rows_affected() == 0 => Err(ManageError::UnknownDestination(new.destination.to_string())),
        Ok(_) => Ok(id),
        Err(sqlx::Error::Database(e)) if e.constraint() == Some("accommodations_code_key") => {
            Err(ManageError::CodeTaken(new.code.to_string()))
        }
        Err(e) => Err(e.into()),
    }
}

/// Changes to an accommodation's details; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct AccommodationChanges<'a> {
    pub name: Option<&'a str>,
    pub kind: Option<&'a str>,
    pub summary: Option<&'a str>,
    pub address: Option<&'a str>,
    pub published: Option<bool>,
}

pub async fn update_accommodation(
    pool: &PgPool,
    accommodation_id: Uuid,
    changes: &AccommodationChanges<'_>,
) -> Result<(), ManageError> {
    let mut tx = pool.begin().await?;
    if changes.published == Some(true) {
        let room_types: i64 =
            sqlx::query_scalar("SELECT count(*) FROM accommodation_room_types WHERE accommodation_id = $1")
                .bind(accommodation_id)
                .fetch_one(&mut *tx)
                .await?;
        if room_types == 0 {
            return Err(ManageError::NoRoomTypes);
        }
    }
    sqlx::query(
        "UPDATE accommodations SET name = COALESCE($2, name), kind = COALESCE($3, kind),
                summary = COALESCE($4, summary), address = COALESCE($5, address),
                published = COALESCE($6, published), updated_at = now()
         WHERE accommodation_id = $1",
    )
    .bind(accommodation_id)
    .bind(changes.name)
    .bind(changes.kind)
    .bind(changes.summary)
    .bind(changes.address)
    .bind(changes.published)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Creates or replaces one room type of an accommodation.
pub async fn put_room_type(
    pool: &PgPool,
    accommodation_id: Uuid,
    room_type: &str,
    name: &str,
    max_occupancy: i32,
    base_tariff_paise: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO accommodation_room_types (accommodation_id, room_type, name, max_occupancy, base_tariff_paise)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (accommodation_id, room_type) DO UPDATE SET name = EXCLUDED.name,
             max_occupancy = EXCLUDED.max_occupancy, base_tariff_paise = EXCLUDED.base_tariff_paise, updated_at = now()",
    )
    .bind(accommodation_id)
    .bind(room_type)
    .bind(name)
    .bind(max_occupancy)
    .bind(base_tariff_paise)
    .execute(pool)
    .await?;
    Ok(())
}

/// The catalog entries besides accommodations that operators edit in place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry {
    Destination,
    Experience,
    Package,
}

impl Entry {
    fn table(self) -> &'static str {
        match self {
            Entry::Destination => "destinations",
            Entry::Experience => "experiences",
            Entry::Package => "packages",
        }
    }
}

/// An entry's editable face.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EntryState {
    pub code: String,
    pub name: String,
    pub summary: String,
    pub published: bool,
}

/// Changes the name, summary or publication of a destination, experience or package;
/// `None` when no entry has that code.
pub async fn update_entry(
    pool: &PgPool,
    entry: Entry,
    code: &str,
    name: Option<&str>,
    summary: Option<&str>,
    published: Option<bool>,
) -> Result<Option<EntryState>, sqlx::Error> {
    // The table name comes from the closed `Entry` set, never from input.
    sqlx::query_as(&format!(
        "UPDATE {} SET name = COALESCE($2, name), summary = COALESCE($3, summary),
                published = COALESCE($4, published), updated_at = now()
         WHERE code = $1 RETURNING code, name, summary, published",
        entry.table()
    ))
    .bind(code)
    .bind(name)
    .bind(summary)
    .bind(published)
    .fetch_optional(pool)
    .await
}
