//! A demo catalog of real Tripura places, for development and tests: destinations with their
//! images, stays, amenities, experiences and packages priced by season. Every row has a
//! fixed id (a package's seasons one per season and year), so loading it twice changes
//! nothing. Images are paths under `/static/`; nothing here is downloaded.

mod offers;
mod places;

use crate::manage::Link;
use chrono::{Datelike, NaiveDate};
use contracts::pricing::PricingBasis;
use sqlx::{PgPool, Postgres, Transaction};
use uuid::Uuid;

pub use offers::{AMENITIES, EXPERIENCES, PACKAGES};
pub use places::{ACCOMMODATIONS, DESTINATIONS};

pub struct DemoDestination {
    pub id: Uuid,
    pub code: &'static str,
    pub name: &'static str,
    pub district: &'static str,
    pub summary: &'static str,
    /// Latitude and longitude.
    pub coordinates: Option<(f64, f64)>,
    /// File name under `/static/destinations/<code>/` and caption, the cover first.
    pub images: &'static [(&'static str, &'static str)],
}

pub struct DemoRoomType {
    pub room_type: &'static str,
    pub name: &'static str,
    pub max_occupancy: i32,
    pub base_tariff_paise: i64,
}

pub struct DemoAccommodation {
    pub id: Uuid,
    pub code: &'static str,
    pub destination: &'static str,
    pub name: &'static str,
    pub kind: &'static str,
    pub summary: &'static str,
    pub room_types: &'static [DemoRoomType],
}

pub struct DemoAmenity {
    pub id: Uuid,
    pub code: &'static str,
    pub name: &'static str,
}

pub struct DemoExperience {
    pub id: Uuid,
    pub code: &'static str,
    pub name: &'static str,
    pub summary: &'static str,
    pub duration_minutes: i32,
    pub price_paise: i64,
    pub published: bool,
    /// Destination codes.
    pub destinations: &'static [&'static str],
}

/// A priced season that comes back every year. Its days are `(year offset, month, day)`
/// from the October that opens a tourist year, so one season can run over New Year.
pub struct DemoSeason {
    pub from: (i32, u32, u32),
    pub to: (i32, u32, u32),
    pub basis: PricingBasis,
    pub price_paise: i64,
    pub child_price_paise: Option<i64>,
}

impl DemoSeason {
    /// The season's first and last departure days in the tourist year opening in October of
    /// `year`.
    pub fn dates(&self, year: i32) -> (NaiveDate, NaiveDate) {
        let day = |(offset, month, day): (i32, u32, u32)| {
            NaiveDate::from_ymd_opt(year + offset, month, day).expect("demo seasons name real days")
        };
        (day(self.from), day(self.to))
    }
}

/// A stay a demo package includes: `nights` nights from the itinerary's night
/// `first_night` in a room type of a demo accommodation.
pub struct DemoStay {
    pub first_night: i32,
    pub nights: i32,
    /// Accommodation code.
    pub accommodation: &'static str,
    pub room_type: &'static str,
}

pub struct DemoPackage {
    pub id: Uuid,
    pub code: &'static str,
    pub name: &'static str,
    pub summary: &'static str,
    pub nights: i32,
    pub max_group_size: i32,
    pub published: bool,
    /// Destination codes with the day of the trip they are visited.
    pub destinations: &'static [(&'static str, i32)],
    /// Experience codes with the day of the trip.
    pub experiences: &'static [(&'static str, i32)],
    /// Amenity codes.
    pub amenities: &'static [&'static str],
    pub seasons: &'static [DemoSeason],
    /// The stays it includes, in itinerary order.
    pub stays: &'static [DemoStay],
}

const fn id(n: u128) -> Uuid {
    Uuid::from_u128(0x7419_0000_0000_4000_8000_0000_0000_0000 | n)
}

/// The fixed id of a destination's image at `position`, above the destination's own bits.
fn image_id(destination: Uuid, position: u32) -> Uuid {
    Uuid::from_u128(destination.as_u128() | 0x1_0000_0000 | (u128::from(position) << 16))
}

/// The fixed id of a package's `season` in the tourist year opening in October of `year`.
/// Demo ids use the low twelve bits; the season and the year go above them.
fn season_id(package: Uuid, season: usize, year: i32) -> Uuid {
    let year = u128::from(year.unsigned_abs() & 0xffff);
    Uuid::from_u128(package.as_u128() | 0x2_0000_0000 | (year << 16) | ((season as u128 & 0xf) << 12))
}

/// Loads the demo catalog. Package prices cover the tourist years (October to September)
/// around `today`: from the one before it to the one after, so there is always a next season
/// to sell and a last one to look back on.
pub async fn load_demo_catalog(pool: &PgPool, today: NaiveDate) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    load_places(&mut tx).await?;
    load_offers(&mut tx, today).await?;
    tx.commit().await
}

async fn load_places(tx: &mut Transaction<'_, Postgres>) -> Result<(), sqlx::Error> {
    for d in DESTINATIONS {
        sqlx::query(
            "INSERT INTO destinations (destination_id, code, name, district, summary, latitude, longitude, published)
             VALUES ($1, $2, $3, $4, $5, $6::float8::numeric(9, 6), $7::float8::numeric(9, 6), true)
             ON CONFLICT (code) DO NOTHING",
        )
        .bind(d.id)
        .bind(d.code)
        .bind(d.name)
        .bind(d.district)
        .bind(d.summary)
        .bind(d.coordinates.map(|c| c.0))
        .bind(d.coordinates.map(|c| c.1))
        .execute(&mut **tx)
        .await?;
        for (position, (file, caption)) in (0u32..).zip(d.images) {
            sqlx::query(
                "INSERT INTO destination_images (destination_image_id, destination_id, url, caption, position)
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
            )
            .bind(image_id(d.id, position))
            .bind(d.id)
            .bind(format!("/static/destinations/{}/{file}", d.code))
            .bind(caption)
            .bind(i32::try_from(position).unwrap_or(i32::MAX))
            .execute(&mut **tx)
            .await?;
        }
    }
    for a in ACCOMMODATIONS {
        sqlx::query(
            "INSERT INTO accommodations (accommodation_id, code, destination_id, name, kind, summary, published)
             SELECT $1, $2, destination_id, $4, $5, $6, true FROM destinations WHERE code = $3
             ON CONFLICT (code) DO NOTHING",
        )
        .bind(a.id)
        .bind(a.code)
        .bind(a.destination)
        .bind(a.name)
        .bind(a.kind)
        .bind(a.summary)
        .execute(&mut **tx)
        .await?;
        for r in a.room_types {
            sqlx::query(
                "INSERT INTO accommodation_room_types (accommodation_id, room_type, name, max_occupancy, base_tariff_paise)
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (accommodation_id, room_type) DO NOTHING",
            )
            .bind(a.id)
            .bind(r.room_type)
            .bind(r.name)
            .bind(r.max_occupancy)
            .bind(r.base_tariff_paise)
            .execute(&mut **tx)
            .await?;
        }
    }
    Ok(())
}

async fn load_offers(tx: &mut Transaction<'_, Postgres>, today: NaiveDate) -> Result<(), sqlx::Error> {
    for a in AMENITIES {
        sqlx::query("INSERT INTO amenities (amenity_id, code, name) VALUES ($1, $2, $3) ON CONFLICT (code) DO NOTHING")
            .bind(a.id)
            .bind(a.code)
            .bind(a.name)
            .execute(&mut **tx)
            .await?;
    }
    for e in EXPERIENCES {
        sqlx::query(
            "INSERT INTO experiences (experience_id, code, name, summary, duration_minutes, price_paise, published)
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (code) DO NOTHING",
        )
        .bind(e.id)
        .bind(e.code)
        .bind(e.name)
        .bind(e.summary)
        .bind(e.duration_minutes)
        .bind(e.price_paise)
        .bind(e.published)
        .execute(&mut **tx)
        .await?;
        Link::ExperienceDestinations.add(tx, e.id, e.destinations).await?;
    }
    // The tourist year that today falls in opened in October of this year.
    let current = if today.month() >= 10 { today.year() } else { today.year() - 1 };
    for p in PACKAGES {
        load_package(tx, p, current - 1..=current + 1).await?;
    }
    Ok(())
}

async fn load_package(
    tx: &mut Transaction<'_, Postgres>,
    p: &DemoPackage,
    years: std::ops::RangeInclusive<i32>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO packages (package_id, code, name, summary, nights, max_group_size, published)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (code) DO NOTHING",
    )
    .bind(p.id)
    .bind(p.code)
    .bind(p.name)
    .bind(p.summary)
    .bind(p.nights)
    .bind(p.max_group_size)
    .bind(p.published)
    .execute(&mut **tx)
    .await?;
    Link::PackageDestinations.add_days(tx, p.id, p.destinations).await?;
    Link::PackageExperiences.add_days(tx, p.id, p.experiences).await?;
    Link::PackageAmenities.add(tx, p.id, p.amenities).await?;
    for stay in p.stays {
        // DO NOTHING without a target also skips a stay overlapping one already there: stays
        // an operator changed since are left as they are.
        sqlx::query(
            "INSERT INTO package_stays (package_id, first_night, nights, accommodation_id, room_type)
             SELECT $1, $2, $3, accommodation_id, $5 FROM accommodations WHERE code = $4
             ON CONFLICT DO NOTHING",
        )
        .bind(p.id)
        .bind(stay.first_night)
        .bind(stay.nights)
        .bind(stay.accommodation)
        .bind(stay.room_type)
        .execute(&mut **tx)
        .await?;
    }
    for year in years {
        for (n, s) in p.seasons.iter().enumerate() {
            let (valid_from, valid_to) = s.dates(year);
            // DO NOTHING without a target also skips a season overlapping one already there.
            sqlx::query(
                "INSERT INTO package_pricing
                     (package_pricing_id, package_id, pricing_basis, valid_from, valid_to, price_paise, child_price_paise)
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
            )
            .bind(season_id(p.id, n, year))
            .bind(p.id)
            .bind(s.basis.code())
            .bind(valid_from)
            .bind(valid_to)
            .bind(s.price_paise)
            .bind(s.child_price_paise)
            .execute(&mut **tx)
            .await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_code_a_demo_row_names_exists_and_every_id_is_distinct() {
        let destinations: HashSet<_> = DESTINATIONS.iter().map(|d| d.code).collect();
        let experiences: HashSet<_> = EXPERIENCES.iter().map(|e| e.code).collect();
        let amenities: HashSet<_> = AMENITIES.iter().map(|a| a.code).collect();
        for e in EXPERIENCES {
            assert!(e.destinations.iter().all(|d| destinations.contains(d)), "{}", e.code);
        }
        for a in ACCOMMODATIONS {
            assert!(destinations.contains(a.destination), "{}", a.code);
        }
        for p in PACKAGES {
            assert!(p.destinations.iter().all(|(d, _)| destinations.contains(d)), "{}", p.code);
            assert!(p.experiences.iter().all(|(e, _)| experiences.contains(e)), "{}", p.code);
            assert!(p.amenities.iter().all(|a| amenities.contains(a)), "{}", p.code);
            for stay in p.stays {
                let at = ACCOMMODATIONS.iter().find(|a| a.code == stay.accommodation);
                let at = at.unwrap_or_else(|| panic!("{}: no accommodation {}", p.code, stay.accommodation));
                assert!(at.room_types.iter().any(|r| r.room_type == stay.room_type), "{}: {}", p.code, stay.room_type);
            }
        }
        let mut ids = HashSet::new();
        for d in DESTINATIONS {
            assert!(ids.insert(d.id));
            assert!((0..d.images.len() as u32).all(|n| ids.insert(image_id(d.id, n))));
        }
        for p in PACKAGES {
            assert!(ids.insert(p.id));
            for year in 2025..2030 {
                assert!((0..p.seasons.len()).all(|n| ids.insert(season_id(p.id, n, year))), "{}", p.code);
            }
        }
        let other = ACCOMMODATIONS.iter().map(|a| a.id).chain(AMENITIES.iter().map(|a| a.id));
        assert!(other.chain(EXPERIENCES.iter().map(|e| e.id)).all(|id| ids.insert(id)));
    }

    /// What `put_package_stays` checks of the stays an operator sets, the demo's keep too.
    #[test]
    fn the_stays_of_a_package_fit_its_nights_in_order_without_overlap() {
        for p in PACKAGES {
            assert!(p.stays.iter().all(|s| s.first_night >= 1 && s.nights >= 1), "{}", p.code);
            assert!(p.stays.iter().all(|s| s.first_night + s.nights - 1 <= p.nights), "{}", p.code);
            assert!(p.stays.windows(2).all(|w| w[0].first_night + w[0].nights <= w[1].first_night), "{}", p.code);
        }
        let circuit = PACKAGES.iter().find(|p| p.code == "tripura-grand-circuit").unwrap();
        assert_eq!(circuit.stays.len(), 2);
    }

    #[test]
    fn the_seasons_of_a_package_never_overlap_and_end_after_they_start() {
        for p in PACKAGES {
            let mut days: Vec<_> = (2025..2028).flat_map(|y| p.seasons.iter().map(move |s| s.dates(y))).collect();
            days.sort();
            assert!(days.iter().all(|(from, to)| from <= to), "{}", p.code);
            assert!(days.windows(2).all(|w| w[0].1 < w[1].0), "{}: {days:?}", p.code);
        }
    }
}
