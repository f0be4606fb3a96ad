//! Tour packages: search with filters, three sort orders and keyset pagination; the
//! destinations, experiences, amenities and prices of a page, one query each for the whole
//! page; the seasons a quote is priced from; and the stays a package includes.
//!
//! A package is on sale while it is published and has a price for a departure today or
//! later. Its "from" price is the lowest such price, on that price's own basis (per person,
//! room or group).

use crate::{Catalog, places::PlaceOf};
use chrono::NaiveDate;
use contracts::{
    Currency, Money,
    pricing::{PackageRate, PricingBasis},
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// How a package search is sorted; as a query parameter, `name`, `price` or `nights`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PackageSort {
    /// By name, A to Z (the default).
    #[default]
    Name,
    /// By the "from" price, cheapest first.
    Price,
    /// By the number of nights, shortest first.
    Nights,
}

#[derive(Debug, Clone, Default)]
pub struct PackageFilter {
    /// Only packages visiting this destination (code).
    pub destination: Option<String>,
    /// Only packages with a "from" price at or above this, in paise.
    pub min_price_paise: Option<i64>,
    /// Only packages with a "from" price at or under this, in paise.
    pub max_price_paise: Option<i64>,
    /// Only packages offering every one of these amenities (codes, without repeats).
    pub amenities: Vec<String>,
    pub min_nights: Option<i32>,
    pub max_nights: Option<i32>,
    /// Only packages taking a group this large.
    pub guests: Option<i32>,
    /// Only these packages (another context's answer, such as those departing with seats
    /// free); `None`: any.
    pub only: Option<Vec<Uuid>>,
}

/// Where the previous page ended: the sort key of its last row, under the order it was
/// sorted by.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum PackageCursor {
    Name { name: String, code: String },
    Price { from_price_paise: i64, code: String },
    Nights { nights: i32, code: String },
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PackageSummary {
    pub package_id: Uuid,
    pub code: String,
    pub name: String,
    pub summary: String,
    pub nights: i32,
    pub max_group_size: i32,
    pub from_price_paise: i64,
    /// `per_person`, `per_room` or `per_group`: what the "from" price is for.
    pub from_price_basis: String,
    pub currency: String,
}

impl PackageSummary {
    pub fn cursor(&self, order: PackageSort) -> PackageCursor {
        let code = self.code.clone();
        match order {
            PackageSort::Name => PackageCursor::Name { name: self.name.clone(), code },
            PackageSort::Price => PackageCursor::Price { from_price_paise: self.from_price_paise, code },
            PackageSort::Nights => PackageCursor::Nights { nights: self.nights, code },
        }
    }
}

/// Published packages with their "from" price among the prices for departures on or after
/// `$1` (today). Callers add conditions, then [`SUMMARY_GROUP_BY`].
const SUMMARY_SELECT: &str = "
    SELECT p.package_id, p.code, p.name, p.summary, p.nights, p.max_group_size,
           min(pp.price_paise) AS from_price_paise,
           (array_agg(pp.pricing_basis ORDER BY pp.price_paise, pp.valid_from))[1] AS from_price_basis,
           min(pp.currency) AS currency
    FROM packages p
    JOIN package_pricing pp ON pp.package_id = p.package_id AND pp.valid_to >= $1
    WHERE p.published";
const SUMMARY_GROUP_BY: &str = "GROUP BY p.package_id";

// What a page of packages shows of each of them, read for every package in `$1` at once.
const DESTINATIONS_OF_PACKAGES: &str = "
    SELECT pd.package_id AS owner_id, d.code, d.name, d.district, pd.day_number
    FROM package_destinations pd JOIN destinations d USING (destination_id)
    WHERE pd.package_id = ANY($1) AND d.published
    ORDER BY pd.package_id, pd.day_number, d.name, d.code";
const EXPERIENCES_OF_PACKAGES: &str = "
    SELECT pe.package_id, pe.day_number, e.code, e.name, e.duration_minutes
    FROM package_experiences pe JOIN experiences e USING (experience_id)
    WHERE pe.package_id = ANY($1) AND e.published
    ORDER BY pe.package_id, pe.day_number, e.name, e.code";
const AMENITIES_OF_PACKAGES: &str = "
    SELECT pa.package_id, am.code, am.name
    FROM package_amenities pa JOIN amenities am USING (amenity_id)
    WHERE pa.package_id = ANY($1)
    ORDER BY pa.package_id, am.code";

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PackageExperience {
    pub package_id: Uuid,
    pub day_number: i32,
    pub code: String,
    pub name: String,
    pub duration_minutes: i32,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PackageAmenity {
    pub package_id: Uuid,
    pub code: String,
    pub name: String,
}

/// One priced season of a package (a `package_pricing` row).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PackagePrice {
    pub package_id: Uuid,
    pub pricing_basis: String,
    pub valid_from: NaiveDate,
    pub valid_to: NaiveDate,
    pub price_paise: i64,
    pub child_price_paise: Option<i64>,
    pub currency: String,
}

impl PackagePrice {
    /// The season as the pricing function takes it; `None` for a basis it does not know,
    /// which the table's CHECK keeps from happening.
    pub fn rate(&self) -> Option<PackageRate> {
        let currency = Currency::parse(&self.currency).unwrap_or(Currency::Inr);
        Some(PackageRate {
            basis: PricingBasis::parse(&self.pricing_basis)?,
            valid_from: self.valid_from,
            valid_to: self.valid_to,
            price: Money { amount: self.price_paise, currency },
            child_price: self.child_price_paise.map(|amount| Money { amount, currency }),
        })
    }
}

/// A stay a package includes (a `package_stays` row): rooms of one room type at one
/// accommodation over consecutive nights of the itinerary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncludedStayRow {
    /// The itinerary night it starts on, from 1: night 1 is the departure date's night, so
    /// the stay checks in on the departure date plus `first_night - 1` days.
    pub first_night: u32,
    /// 1 or more; the stay checks out `nights` days after it checks in, by the package's last
    /// night at the latest.
    pub nights: u32,
    pub accommodation_id: Uuid,
    /// The accommodation's public code.
    pub accommodation_code: String,
    /// The room type's code within the accommodation, e.g. `deluxe_double`.
    pub room_type: String,
}

/// A `package_stays` row as PostgreSQL has it (`integer` nights), before [`IncludedStayRow`].
#[derive(sqlx::FromRow)]
struct StayRecord {
    first_night: i32,
    nights: i32,
    accommodation_id: Uuid,
    accommodation_code: String,
    room_type: String,
}

impl TryFrom<StayRecord> for IncludedStayRow {
    type Error = sqlx::Error;

    /// The table's CHECKs keep both counts at 1 or more.
    fn try_from(r: StayRecord) -> Result<Self, sqlx::Error> {
        let count = |n: i32| u32::try_from(n).map_err(|e| sqlx::Error::Decode(Box::new(e)));
        Ok(IncludedStayRow {
            first_night: count(r.first_night)?,
            nights: count(r.nights)?,
            accommodation_id: r.accommodation_id,
            accommodation_code: r.accommodation_code,
            room_type: r.room_type,
        })
    }
}

/// The stays of one package (`$1`), in itinerary order; whether their accommodations are
/// published or not.
const STAYS_OF_PACKAGE: &str = "
    SELECT ps.first_night, ps.nights, ps.accommodation_id, a.code AS accommodation_code, ps.room_type
    FROM package_stays ps JOIN accommodations a USING (accommodation_id)
    WHERE ps.package_id = $1
    ORDER BY ps.first_night";

/// [`STAYS_OF_PACKAGE`] on `conn`: the pool, or the transaction that just set them.
pub(crate) async fn stays_of_package(
    conn: impl sqlx::PgExecutor<'_>,
    package_id: Uuid,
) -> Result<Vec<IncludedStayRow>, sqlx::Error> {
    let records: Vec<StayRecord> = sqlx::query_as(STAYS_OF_PACKAGE).bind(package_id).fetch_all(conn).await?;
    records.into_iter().map(IncludedStayRow::try_from).collect()
}

impl Catalog {
    /// The stays package `package_id` includes, in itinerary order (by `first_night`; no two
    /// cover the same night); empty for a package that includes none, or no package. A stay
    /// is listed whether its accommodation is on sale or not: the caller that sells it asks.
    pub async fn included_stays(&self, package_id: Uuid) -> Result<Vec<IncludedStayRow>, sqlx::Error> {
        stays_of_package(&self.pool, package_id).await
    }

    /// One page of packages on sale on `today` matching `filter`, after `after`. A cursor of
    /// another sort order than `order` starts from the first page.
    pub async fn search_packages(
        &self,
        filter: &PackageFilter,
        today: NaiveDate,
        order: PackageSort,
        after: Option<&PackageCursor>,
        limit: i64,
    ) -> Result<Vec<PackageSummary>, sqlx::Error> {
        let (after_name, after_number, after_code) = match (order, after) {
            (PackageSort::Name, Some(PackageCursor::Name { name, code })) => {
                (Some(name.as_str()), None, Some(code.as_str()))
            }
            (PackageSort::Price, Some(PackageCursor::Price { from_price_paise, code })) => {
                (None, Some(*from_price_paise), Some(code.as_str()))
            }
            (PackageSort::Nights, Some(PackageCursor::Nights { nights, code })) => {
                (None, Some(i64::from(*nights)), Some(code.as_str()))
            }
            _ => (None, None, None),
        };
        let (keyset, order_by) = match order {
            PackageSort::Name => ("($10::text IS NULL OR (p.name, p.code) > ($10, $12))", "p.name, p.code"),
            PackageSort::Price => {
                ("($11::bigint IS NULL OR (min(pp.price_paise), p.code) > ($11, $12))", "min(pp.price_paise), p.code")
            }
            PackageSort::Nights => {
                ("($11::bigint IS NULL OR (p.nights, p.code) > ($11::int, $12))", "p.nights, p.code")
            }
        };
        let amenities = (!filter.amenities.is_empty()).then_some(filter.amenities.as_slice());
        let sql = format!(
            "{SUMMARY_SELECT}
               AND ($2::text IS NULL OR EXISTS (
                    SELECT 1 FROM package_destinations pd JOIN destinations d USING (destination_id)
                    WHERE pd.package_id = p.package_id AND d.code = $2 AND d.published))
               AND ($3::text[] IS NULL OR (
                    SELECT count(*) FROM package_amenities pa JOIN amenities am USING (amenity_id)
                    WHERE pa.package_id = p.package_id AND am.code = ANY($3)) = cardinality($3))
               AND ($4::int IS NULL OR p.nights >= $4)
               AND ($5::int IS NULL OR p.nights <= $5)
               AND ($6::int IS NULL OR p.max_group_size >= $6)
               AND ($13::uuid[] IS NULL OR p.package_id = ANY($13))
             {SUMMARY_GROUP_BY}
             HAVING ($7::bigint IS NULL OR min(pp.price_paise) >= $7)
                AND ($8::bigint IS NULL OR min(pp.price_paise) <= $8)
                AND {keyset}
             ORDER BY {order_by}
             LIMIT $9"
        );
        sqlx::query_as(&sql)
            .bind(today)
            .bind(filter.destination.as_deref())
            .bind(amenities)
            .bind(filter.min_nights)
            .bind(filter.max_nights)
            .bind(filter.guests)
            .bind(filter.min_price_paise)
            .bind(filter.max_price_paise)
            .bind(limit)
            .bind(after_name)
            .bind(after_number)
            .bind(after_code)
            .bind(filter.only.as_deref())
            .fetch_all(&self.pool)
            .await
    }

    /// One package on sale on `today`, by its public code.
    pub async fn find_package(&self, code: &str, today: NaiveDate) -> Result<Option<PackageSummary>, sqlx::Error> {
        sqlx::query_as(&format!("{SUMMARY_SELECT} AND p.code = $2 {SUMMARY_GROUP_BY}"))
            .bind(today)
            .bind(code)
            .fetch_optional(&self.pool)
            .await
    }

    /// The published destinations of several packages at once, in the order of the trip.
    pub async fn destinations_of_packages(&self, package_ids: &[Uuid]) -> Result<Vec<PlaceOf>, sqlx::Error> {
        self.rows_for_page(DESTINATIONS_OF_PACKAGES, package_ids).await
    }

    /// The published experiences of several packages at once, in the order of the trip.
    pub async fn experiences_of_packages(&self, package_ids: &[Uuid]) -> Result<Vec<PackageExperience>, sqlx::Error> {
        self.rows_for_page(EXPERIENCES_OF_PACKAGES, package_ids).await
    }

    /// The amenities of several packages at once, by code.
    pub async fn amenities_of_packages(&self, package_ids: &[Uuid]) -> Result<Vec<PackageAmenity>, sqlx::Error> {
        self.rows_for_page(AMENITIES_OF_PACKAGES, package_ids).await
    }

    /// The prices of several packages for departures on or after `from`, season by season.
    pub async fn prices_of_packages(
        &self,
        package_ids: &[Uuid],
        from: NaiveDate,
    ) -> Result<Vec<PackagePrice>, sqlx::Error> {
        sqlx::query_as(
            "SELECT package_id, pricing_basis, valid_from, valid_to, price_paise, child_price_paise, currency
             FROM package_pricing
             WHERE package_id = ANY($1) AND valid_to >= $2
             ORDER BY package_id, valid_from",
        )
        .bind(package_ids)
        .bind(from)
        .fetch_all(&self.pool)
        .await
    }
}
