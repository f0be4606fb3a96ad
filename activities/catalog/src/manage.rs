//! Changing the catalog: operators create accommodations, destinations, experiences and
//! packages (with their seasonal prices and the stays they include); operators and the asset managers
//! assigned to a property change its details and room types and publish or withdraw it.
//! Invariants are the schema's (code shapes, kinds, occupancy and tariff ranges); this
//! module turns their violations into answers a person can act on.

use crate::{Catalog, IncludedStayRow, packages::stays_of_package};
use sqlx::{Postgres, Transaction};
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

/// What every new catalog entry has, whatever else its kind asks for: a public code, a name
/// and a summary.
#[derive(Debug, Clone, Copy)]
pub struct NewEntry<'a> {
    pub code: &'a str,
    pub name: &'a str,
    pub summary: &'a str,
}

#[derive(Debug, Clone)]
pub struct NewAccommodation<'a> {
    pub entry: NewEntry<'a>,
    /// The destination's code.
    pub destination: &'a str,
    pub kind: &'a str,
    pub address: &'a str,
}

/// Why a change to the catalog was refused.
#[derive(Debug, thiserror::Error)]
pub enum ManageError {
    #[error("the code `{0}` is taken")]
    CodeTaken(String),
    /// A code the change refers to names nothing; `field` is the input that named it.
    #[error("no {kind} `{code}`")]
    Unknown { kind: &'static str, field: &'static str, code: String },
    #[error("publish needs at least one room type")]
    NoRoomTypes,
    #[error("two seasons of the package overlap")]
    SeasonsOverlap,
    /// The stay at `index` of the list given to [`Catalog::put_package_stays`] is refused;
    /// none of the list is set.
    #[error("stay {index}: {problem}")]
    Stay { index: usize, problem: StayProblem },
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// `refusal` when `e` violates a constraint that `named` picks; any other error as it is.
fn refused_by(e: sqlx::Error, named: impl Fn(&str) -> bool, refusal: ManageError) -> ManageError {
    match &e {
        sqlx::Error::Database(db) if db.constraint().is_some_and(named) => refusal,
        _ => e.into(),
    }
}

/// A unique-code violation as [`ManageError::CodeTaken`]; any other error as it is.
fn code_taken(e: sqlx::Error, code: &str) -> ManageError {
    refused_by(e, |c| c.ends_with("_code_key"), ManageError::CodeTaken(code.to_string()))
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

/// A room type of an accommodation, by its code within the accommodation.
#[derive(Debug, Clone)]
pub struct NewRoomType<'a> {
    pub room_type: &'a str,
    pub name: &'a str,
    pub max_occupancy: i32,
    pub base_tariff_paise: i64,
}

/// The catalog entries besides accommodations that operators edit in place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry {
    Destination,
    Experience,
    Package,
}

impl Entry {
    /// What one entry is called, e.g. in the answer that there is none with a code.
    pub fn name(self) -> &'static str {
        match self {
            Entry::Destination => "destination",
            Entry::Experience => "experience",
            Entry::Package => "package",
        }
    }

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

/// Changes to an entry; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct EntryChanges<'a> {
    pub name: Option<&'a str>,
    pub summary: Option<&'a str>,
    pub published: Option<bool>,
}

/// A new destination, unpublished until an operator publishes it.
#[derive(Debug, Clone)]
pub struct NewDestination<'a> {
    pub entry: NewEntry<'a>,
    pub district: &'a str,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
}

/// The catalog rows a new entry lists by code.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Listed {
    Destinations,
    Experiences,
    Amenities,
}

impl Listed {
    /// (table, its id column, what one row is); the table's name is also the input field
    /// that lists the codes.
    fn names(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Listed::Destinations => ("destinations", "destination_id", "destination"),
            Listed::Experiences => ("experiences", "experience_id", "experience"),
            Listed::Amenities => ("amenities", "amenity_id", "amenity"),
        }
    }
}

/// Refuses the first of `codes` that names no row of `list`.
async fn check_known(tx: &mut sqlx::PgConnection, list: Listed, codes: &[&str]) -> Result<(), ManageError> {
    let (table, _, kind) = list.names();
    // The table comes from the closed `Listed` set, never from input.
    let known: Vec<String> = sqlx::query_scalar(&format!("SELECT code FROM {table} WHERE code = ANY($1)"))
        .bind(codes)
        .fetch_all(&mut *tx)
        .await?;
    match codes.iter().find(|code| !known.iter().any(|k| k == *code)) {
        Some(code) => Err(ManageError::Unknown { kind, field: table, code: code.to_string() }),
        None => Ok(()),
    }
}

/// The codes of an itinerary, without their days.
fn codes_of<'a>(stops: &[(&'a str, i32)]) -> Vec<&'a str> {
    stops.iter().map(|(code, _)| *code).collect()
}

/// The tables that link an entry to the catalog rows it lists.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Link {
    ExperienceDestinations,
    PackageDestinations,
    PackageExperiences,
    PackageAmenities,
}

impl Link {
    /// (the link table, the entry's id column, what it lists).
    fn names(self) -> (&'static str, &'static str, Listed) {
        match self {
            Link::ExperienceDestinations => ("experience_destinations", "experience_id", Listed::Destinations),
            Link::PackageDestinations => ("package_destinations", "package_id", Listed::Destinations),
            Link::PackageExperiences => ("package_experiences", "package_id", Listed::Experiences),
            Link::PackageAmenities => ("package_amenities", "package_id", Listed::Amenities),
        }
    }

    /// Links entry `owner` to the rows `codes` name. A code that names nothing, and a link
    /// that is there already, are skipped: callers that must refuse them check first.
    pub(crate) async fn add(
        self,
        conn: &mut sqlx::PgConnection,
        owner: Uuid,
        codes: &[&str],
    ) -> Result<(), sqlx::Error> {
        let (table, owner_column, listed) = self.names();
        let (listed_table, id_column, _) = listed.names();
        // Tables and columns come from the closed `Link` set, never from input.
        sqlx::query(&format!(
            "INSERT INTO {table} ({owner_column}, {id_column})
             SELECT $1, {id_column} FROM {listed_table} WHERE code = ANY($2) ON CONFLICT DO NOTHING"
        ))
        .bind(owner)
        .bind(codes)
        .execute(conn)
        .await?;
        Ok(())
    }

    /// [`Link::add`] for an itinerary: each code with its day of the trip.
    pub(crate) async fn add_days(
        self,
        conn: &mut sqlx::PgConnection,
        owner: Uuid,
        stops: &[(&str, i32)],
    ) -> Result<(), sqlx::Error> {
        let (table, owner_column, listed) = self.names();
        let (listed_table, id_column, _) = listed.names();
        let (codes, days): (Vec<&str>, Vec<i32>) = stops.iter().copied().unzip();
        // Tables and columns come from the closed `Link` set, never from input.
        sqlx::query(&format!(
            "INSERT INTO {table} ({owner_column}, {id_column}, day_number)
             SELECT $1, l.{id_column}, t.day FROM unnest($2::text[], $3::int[]) AS t(code, day)
             JOIN {listed_table} l ON l.code = t.code
             ON CONFLICT DO NOTHING"
        ))
        .bind(owner)
        .bind(codes)
        .bind(days)
        .execute(conn)
        .await?;
        Ok(())
    }
}

/// A new experience at one or more destinations, unpublished.
#[derive(Debug, Clone)]
pub struct NewExperience<'a> {
    pub entry: NewEntry<'a>,
    pub duration_minutes: i32,
    pub price_paise: i64,
    pub destinations: Vec<&'a str>,
}

/// A new package: where it goes and what it does on which day, and what it includes.
/// Unpublished, and without prices until [`Catalog::put_package_prices`].
#[derive(Debug, Clone)]
pub struct NewPackage<'a> {
    pub entry: NewEntry<'a>,
    pub nights: i32,
    pub max_group_size: i32,
    /// (destination code, day)
    pub destinations: Vec<(&'a str, i32)>,
    /// (experience code, day)
    pub experiences: Vec<(&'a str, i32)>,
    pub amenities: Vec<&'a str>,
}

/// One season's price of a package.
#[derive(Debug, Clone)]
pub struct Season<'a> {
    /// `per_person`, `per_room` or `per_group`.
    pub basis: &'a str,
    pub valid_from: chrono::NaiveDate,
    pub valid_to: chrono::NaiveDate,
    pub price_paise: i64,
    /// Per-person seasons only; `None`: a child pays the adult price.
    pub child_price_paise: Option<i64>,
}

/// A stay a package includes, as its managers give it: rooms of `room_type` at
/// `accommodation` from the itinerary's night `first_night` (night 1 is the departure date's)
/// for `nights` nights.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewStay<'a> {
    pub first_night: u32,
    pub nights: u32,
    /// The accommodation's public code.
    pub accommodation: &'a str,
    pub room_type: &'a str,
}

/// What is wrong with one stay of a package's list.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StayProblem {
    #[error("no accommodation `{accommodation}`")]
    UnknownAccommodation { accommodation: String },
    #[error("`{accommodation}` has no room type `{room_type}`")]
    UnknownRoomType { accommodation: String, room_type: String },
    /// `first_night` is 0, or after the package's last night (a package of 0 nights, a day
    /// trip, includes no stay).
    #[error("it starts outside the package's {package_nights} nights")]
    StartsOutside { package_nights: u32 },
    /// `nights` is 0, or the stay runs past the package's last night.
    #[error("it runs past the package's {package_nights} nights")]
    EndsOutside { package_nights: u32 },
    /// It covers a night the stay at `earlier` (a lower index of the list) covers too.
    #[error("it covers a night of stay {earlier}")]
    Overlaps { earlier: usize },
}

/// Why `stay`, the `index`th of a list, cannot be one of the stays of a package of
/// `package_nights` nights, given the stays listed before it; `None` if it can. Only the
/// night arithmetic: which accommodations and room types exist is the caller's question.
fn misplaced(stays: &[NewStay<'_>], index: usize, package_nights: u32) -> Option<StayProblem> {
    let stay = stays[index];
    // In u64: the counts come from outside and may be anything a u32 holds.
    let (first, end) = (u64::from(stay.first_night), u64::from(stay.first_night) + u64::from(stay.nights));
    if first == 0 || first > u64::from(package_nights) {
        return Some(StayProblem::StartsOutside { package_nights });
    }
    if stay.nights == 0 || end - 1 > u64::from(package_nights) {
        return Some(StayProblem::EndsOutside { package_nights });
    }
    // Nights [first, end) against each earlier stay's, which passed these checks already.
    stays[..index]
        .iter()
        .position(|other| {
            let other_first = u64::from(other.first_night);
            first < other_first + u64::from(other.nights) && other_first < end
        })
        .map(|earlier| StayProblem::Overlaps { earlier })
}

impl Catalog {
    /// An accommodation as its managers see it, published or not, by its public code.
    pub async fn find_managed(&self, code: &str) -> Result<Option<ManagedAccommodation>, sqlx::Error> {
        sqlx::query_as(&format!("{MANAGED_SELECT} WHERE a.code = $1")).bind(code).fetch_optional(&self.pool).await
    }

    /// Creates an accommodation, unpublished: it goes on sale once it has room types and is
    /// published.
    pub async fn create_accommodation(&self, new: &NewAccommodation<'_>) -> Result<ManagedAccommodation, ManageError> {
        let mut tx = self.pool.begin().await?;
        let id = Uuid::new_v4();
        let inserted = sqlx::query(
            "INSERT INTO accommodations (accommodation_id, code, destination_id, name, kind, summary, address)
             SELECT $1, $2, destination_id, $4, $5, $6, $7 FROM destinations WHERE code = $3",
        )
        .bind(id)
        .bind(new.entry.code)
        .bind(new.destination)
        .bind(new.entry.name)
        .bind(new.kind)
        .bind(new.entry.summary)
        .bind(new.address)
        .execute(&mut *tx)
        .await
        .map_err(|e| code_taken(e, new.entry.code))?;
        if inserted.rows_affected() == 0 {
            let code = new.destination.to_string();
            return Err(ManageError::Unknown { kind: "destination", field: "destination", code });
        }
        committed(tx, id).await
    }

    /// Changes an accommodation's details or publishes or withdraws it; the accommodation as
    /// it is after the change.
    pub async fn update_accommodation(
        &self,
        accommodation_id: Uuid,
        changes: &AccommodationChanges<'_>,
    ) -> Result<ManagedAccommodation, ManageError> {
        let mut tx = self.pool.begin().await?;
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
        committed(tx, accommodation_id).await
    }

    /// Creates or replaces one room type of an accommodation; the accommodation as it is
    /// after the change.
    pub async fn put_room_type(
        &self,
        accommodation_id: Uuid,
        room_type: &NewRoomType<'_>,
    ) -> Result<ManagedAccommodation, ManageError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO accommodation_room_types (accommodation_id, room_type, name, max_occupancy, base_tariff_paise)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (accommodation_id, room_type) DO UPDATE SET name = EXCLUDED.name,
                 max_occupancy = EXCLUDED.max_occupancy, base_tariff_paise = EXCLUDED.base_tariff_paise,
                 updated_at = now()",
        )
        .bind(accommodation_id)
        .bind(room_type.room_type)
        .bind(room_type.name)
        .bind(room_type.max_occupancy)
        .bind(room_type.base_tariff_paise)
        .execute(&mut *tx)
        .await?;
        committed(tx, accommodation_id).await
    }

    /// Changes the name, summary or publication of a destination, experience or package;
    /// `None` when no entry has that code.
    pub async fn update_entry(
        &self,
        entry: Entry,
        code: &str,
        changes: &EntryChanges<'_>,
    ) -> Result<Option<EntryState>, ManageError> {
        // The table name comes from the closed `Entry` set, never from input.
        let updated = sqlx::query_as(&format!(
            "UPDATE {} SET name = COALESCE($2, name), summary = COALESCE($3, summary),
                    published = COALESCE($4, published), updated_at = now()
             WHERE code = $1 RETURNING code, name, summary, published",
            entry.table()
        ))
        .bind(code)
        .bind(changes.name)
        .bind(changes.summary)
        .bind(changes.published)
        .fetch_optional(&self.pool)
        .await?;
        Ok(updated)
    }

    /// Creates a destination, unpublished.
    pub async fn create_destination(&self, new: &NewDestination<'_>) -> Result<EntryState, ManageError> {
        sqlx::query_as(
            "INSERT INTO destinations (destination_id, code, name, district, summary, latitude, longitude)
             VALUES ($1, $2, $3, $4, $5, $6::float8, $7::float8) RETURNING code, name, summary, published",
        )
        .bind(Uuid::new_v4())
        .bind(new.entry.code)
        .bind(new.entry.name)
        .bind(new.district)
        .bind(new.entry.summary)
        .bind(new.latitude)
        .bind(new.longitude)
        .fetch_one(&self.pool)
        .await
        .map_err(|e| code_taken(e, new.entry.code))
    }

    /// Creates an experience at its destinations, unpublished; an unknown destination is
    /// refused and nothing is created.
    pub async fn create_experience(&self, new: &NewExperience<'_>) -> Result<EntryState, ManageError> {
        let mut tx = self.pool.begin().await?;
        check_known(&mut tx, Listed::Destinations, &new.destinations).await?;
        let id = Uuid::new_v4();
        let created: EntryState = sqlx::query_as(
            "INSERT INTO experiences (experience_id, code, name, summary, duration_minutes, price_paise)
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING code, name, summary, published",
        )
        .bind(id)
        .bind(new.entry.code)
        .bind(new.entry.name)
        .bind(new.entry.summary)
        .bind(new.duration_minutes)
        .bind(new.price_paise)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| code_taken(e, new.entry.code))?;
        Link::ExperienceDestinations.add(&mut tx, id, &new.destinations).await?;
        tx.commit().await?;
        Ok(created)
    }

    /// Creates a package with its itinerary and amenities, unpublished and without prices;
    /// an unknown destination, experience or amenity is refused and nothing is created.
    pub async fn create_package(&self, new: &NewPackage<'_>) -> Result<EntryState, ManageError> {
        let mut tx = self.pool.begin().await?;
        check_known(&mut tx, Listed::Destinations, &codes_of(&new.destinations)).await?;
        check_known(&mut tx, Listed::Experiences, &codes_of(&new.experiences)).await?;
        check_known(&mut tx, Listed::Amenities, &new.amenities).await?;
        let id = Uuid::new_v4();
        let created: EntryState = sqlx::query_as(
            "INSERT INTO packages (package_id, code, name, summary, nights, max_group_size)
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING code, name, summary, published",
        )
        .bind(id)
        .bind(new.entry.code)
        .bind(new.entry.name)
        .bind(new.entry.summary)
        .bind(new.nights)
        .bind(new.max_group_size)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| code_taken(e, new.entry.code))?;
        Link::PackageDestinations.add_days(&mut tx, id, &new.destinations).await?;
        Link::PackageExperiences.add_days(&mut tx, id, &new.experiences).await?;
        Link::PackageAmenities.add(&mut tx, id, &new.amenities).await?;
        tx.commit().await?;
        Ok(created)
    }

    /// Replaces every season of a package's price list at once; `false` when no package has
    /// that code. Overlapping seasons are refused by the schema and nothing changes.
    pub async fn put_package_prices(&self, code: &str, seasons: &[Season<'_>]) -> Result<bool, ManageError> {
        let mut tx = self.pool.begin().await?;
        let Some(package_id) =
            sqlx::query_scalar::<_, Uuid>("SELECT package_id FROM packages WHERE code = $1 FOR UPDATE")
                .bind(code)
                .fetch_optional(&mut *tx)
                .await?
        else {
            return Ok(false);
        };
        sqlx::query("DELETE FROM package_pricing WHERE package_id = $1").bind(package_id).execute(&mut *tx).await?;
        for season in seasons {
            sqlx::query(
                "INSERT INTO package_pricing
                     (package_pricing_id, package_id, pricing_basis, valid_from, valid_to, price_paise, child_price_paise)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(Uuid::new_v4())
            .bind(package_id)
            .bind(season.basis)
            .bind(season.valid_from)
            .bind(season.valid_to)
            .bind(season.price_paise)
            .bind(season.child_price_paise)
            .execute(&mut *tx)
            .await
            .map_err(|e| refused_by(e, |c| c == "package_pricing_no_overlap", ManageError::SeasonsOverlap))?;
        }
        sqlx::query("UPDATE packages SET updated_at = now() WHERE package_id = $1")
            .bind(package_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Replaces every stay package `code` includes at once, in one transaction: all of
    /// `stays` are set or none. The package's stays as they are then, in itinerary order;
    /// `None` when no package has that code. A stay is refused ([`ManageError::Stay`], the
    /// first at fault in list order) when its accommodation or room type does not exist,
    /// when it does not fit in the package's nights, or when it covers a night of a stay
    /// listed before it. Setting the stays a package already has changes nothing, so the
    /// catalog's version stays.
    pub async fn put_package_stays(
        &self,
        code: &str,
        stays: &[NewStay<'_>],
    ) -> Result<Option<Vec<IncludedStayRow>>, ManageError> {
        let mut tx = self.pool.begin().await?;
        // Locked: two changes of one package's stays are one after the other, and each sees
        // the nights it checks against as they stay until it commits.
        let Some((package_id, package_nights)) =
            sqlx::query_as::<_, (Uuid, i32)>("SELECT package_id, nights FROM packages WHERE code = $1 FOR UPDATE")
                .bind(code)
                .fetch_optional(&mut *tx)
                .await?
        else {
            return Ok(None);
        };
        let package_nights = u32::try_from(package_nights).unwrap_or(0);
        let accommodations: Vec<&str> = stays.iter().map(|s| s.accommodation).collect();
        // Every room type of every accommodation the list names (an accommodation without
        // any: one row with no room type).
        let known: Vec<(String, Uuid, Option<String>)> = sqlx::query_as(
            "SELECT a.code, a.accommodation_id, r.room_type
             FROM accommodations a LEFT JOIN accommodation_room_types r USING (accommodation_id)
             WHERE a.code = ANY($1)",
        )
        .bind(&accommodations)
        .fetch_all(&mut *tx)
        .await?;
        let mut wanted = Vec::with_capacity(stays.len());
        for (index, stay) in stays.iter().enumerate() {
            let refused = |problem| ManageError::Stay { index, problem };
            let Some((_, accommodation_id, _)) = known.iter().find(|(c, _, _)| c == stay.accommodation) else {
                let accommodation = stay.accommodation.to_string();
                return Err(refused(StayProblem::UnknownAccommodation { accommodation }));
            };
            if !known.iter().any(|(c, _, r)| c == stay.accommodation && r.as_deref() == Some(stay.room_type)) {
                let (accommodation, room_type) = (stay.accommodation.to_string(), stay.room_type.to_string());
                return Err(refused(StayProblem::UnknownRoomType { accommodation, room_type }));
            }
            if let Some(problem) = misplaced(stays, index, package_nights) {
                return Err(refused(problem));
            }
            // Within the package's nights, at most 30 (packages_nights_range): both fit an i32.
            let count = |n: u32| i32::try_from(n).unwrap_or(i32::MAX);
            wanted.push((count(stay.first_night), count(stay.nights), *accommodation_id, stay.room_type.to_string()));
        }
        wanted.sort();
        let current: Vec<(i32, i32, Uuid, String)> = sqlx::query_as(
            "SELECT first_night, nights, accommodation_id, room_type FROM package_stays
             WHERE package_id = $1 ORDER BY first_night",
        )
        .bind(package_id)
        .fetch_all(&mut *tx)
        .await?;
        if current != wanted {
            sqlx::query("DELETE FROM package_stays WHERE package_id = $1").bind(package_id).execute(&mut *tx).await?;
            let mut columns: (Vec<i32>, Vec<i32>, Vec<Uuid>, Vec<String>) = Default::default();
            for (first_night, nights, accommodation_id, room_type) in wanted {
                columns.0.push(first_night);
                columns.1.push(nights);
                columns.2.push(accommodation_id);
                columns.3.push(room_type);
            }
            // One statement for the whole list: one new catalog version.
            sqlx::query(
                "INSERT INTO package_stays (package_id, first_night, nights, accommodation_id, room_type)
                 SELECT $1, t.* FROM unnest($2::int[], $3::int[], $4::uuid[], $5::text[]) AS t",
            )
            .bind(package_id)
            .bind(&columns.0)
            .bind(&columns.1)
            .bind(&columns.2)
            .bind(&columns.3)
            .execute(&mut *tx)
            .await?;
            sqlx::query("UPDATE packages SET updated_at = now() WHERE package_id = $1")
                .bind(package_id)
                .execute(&mut *tx)
                .await?;
        }
        let set = stays_of_package(&mut *tx, package_id).await?;
        tx.commit().await?;
        Ok(Some(set))
    }
}

/// Commits the change `tx` made to the accommodation `id`, and answers with the accommodation
/// as the change left it.
async fn committed(mut tx: Transaction<'_, Postgres>, id: Uuid) -> Result<ManagedAccommodation, ManageError> {
    let changed =
        sqlx::query_as(&format!("{MANAGED_SELECT} WHERE a.accommodation_id = $1")).bind(id).fetch_one(&mut *tx).await?;
    tx.commit().await?;
    Ok(changed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stay(first_night: u32, nights: u32) -> NewStay<'static> {
        NewStay { first_night, nights, accommodation: "ujjayanta-heritage-hotel", room_type: "deluxe_double" }
    }

    /// The problem of each stay of `stays` in a package of `package_nights`, in list order.
    fn problems(stays: &[NewStay<'_>], package_nights: u32) -> Vec<Option<StayProblem>> {
        (0..stays.len()).map(|i| misplaced(stays, i, package_nights)).collect()
    }

    #[test]
    fn stays_fit_the_package_nights_from_night_one_to_its_last() {
        assert_eq!(problems(&[stay(1, 2), stay(3, 3)], 5), [None, None], "nights 1-2 and 3-5 of 5");
        assert_eq!(problems(&[stay(3, 3), stay(1, 2)], 5), [None, None], "in any order");
        let six = StayProblem::EndsOutside { package_nights: 5 };
        assert_eq!(problems(&[stay(4, 3)], 5), [Some(six.clone())], "nights 4-6 of 5");
        assert_eq!(problems(&[stay(2, 0)], 5), [Some(six)]);
        let starts = StayProblem::StartsOutside { package_nights: 5 };
        assert_eq!(problems(&[stay(0, 1), stay(6, 1)], 5), [Some(starts.clone()), Some(starts)]);
        assert_eq!(problems(&[stay(1, 1)], 0), [Some(StayProblem::StartsOutside { package_nights: 0 })], "day trip");
        let huge = misplaced(&[stay(2, u32::MAX)], 0, 30);
        assert_eq!(huge, Some(StayProblem::EndsOutside { package_nights: 30 }), "no overflow");
    }

    #[test]
    fn a_stay_covering_a_night_of_an_earlier_one_names_it() {
        let back_to_back = [stay(1, 2), stay(5, 2), stay(3, 2)];
        assert_eq!(problems(&back_to_back, 6), [None, None, None], "nights 1-2, 5-6 and 3-4");
        assert_eq!(misplaced(&[stay(1, 2), stay(5, 2), stay(4, 2)], 2, 6), Some(StayProblem::Overlaps { earlier: 1 }));
        assert_eq!(misplaced(&[stay(1, 3), stay(2, 1)], 1, 6), Some(StayProblem::Overlaps { earlier: 0 }), "inside");
        assert_eq!(misplaced(&[stay(2, 1), stay(1, 3)], 1, 6), Some(StayProblem::Overlaps { earlier: 0 }), "around");
        assert_eq!(misplaced(&[stay(2, 1), stay(2, 1)], 1, 6), Some(StayProblem::Overlaps { earlier: 0 }), "the same");
    }
}
