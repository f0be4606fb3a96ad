//! Accommodation search: filters, two sort orders and keyset pagination, in two queries per
//! page whatever its size (the page, then the room types of the page).

use crate::Catalog;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// How a search is sorted; as a query parameter, `name` or `price`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SortOrder {
    /// By name, A to Z (the default).
    #[default]
    Name,
    /// By the lowest nightly tariff, cheapest first.
    Price,
}

#[derive(Debug, Clone, Default)]
pub struct AccommodationFilter {
    pub destination: Option<String>,
    pub district: Option<String>,
    pub kind: Option<String>,
    /// Only stays with a room type at or under this nightly tariff.
    pub max_price_paise: Option<i64>,
    /// Only stays whose cheapest room type is at or above this nightly tariff.
    pub min_price_paise: Option<i64>,
    /// Only stays with a room type that sleeps this many.
    pub guests: Option<i32>,
    /// Only these stays: those another context found, e.g. the ones with rooms free on some
    /// dates (inventory owns availability; the catalog never reads its tables).
    pub accommodation_ids: Option<Vec<Uuid>>,
}

/// Where the previous page ended: the sort key of its last row, under the order it was
/// sorted by.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Cursor {
    Name { name: String, code: String },
    Price { from_price_paise: i64, code: String },
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AccommodationSummary {
    pub accommodation_id: Uuid,
    pub code: String,
    pub name: String,
    pub kind: String,
    pub summary: String,
    pub destination_code: String,
    pub destination_name: String,
    pub district: String,
    /// The lowest nightly tariff of its room types.
    pub from_price_paise: i64,
    pub currency: String,
}

impl AccommodationSummary {
    pub fn cursor(&self, order: SortOrder) -> Cursor {
        match order {
            SortOrder::Name => Cursor::Name { name: self.name.clone(), code: self.code.clone() },
            SortOrder::Price => Cursor::Price { from_price_paise: self.from_price_paise, code: self.code.clone() },
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RoomType {
    pub accommodation_id: Uuid,
    pub room_type: String,
    pub name: String,
    pub max_occupancy: i32,
    pub base_tariff_paise: i64,
    pub currency: String,
}

/// An accommodation summary: published stays of published destinations, with the
/// cheapest tariff of their room types. Callers add conditions, then [`SUMMARY_GROUP_BY`].
const SUMMARY_SELECT: &str = "
    SELECT a.accommodation_id, a.code, a.name, a.kind, a.summary,
           d.code AS destination_code, d.name AS destination_name, d.district,
           min(r.base_tariff_paise) AS from_price_paise, min(r.currency) AS currency
    FROM accommodations a
    JOIN destinations d USING (destination_id)
    JOIN accommodation_room_types r USING (accommodation_id)
    WHERE a.published AND d.published";
const SUMMARY_GROUP_BY: &str = "GROUP BY a.accommodation_id, d.destination_id";

impl Catalog {
    /// One page of published accommodations matching `filter`, after `after`. A cursor of
    /// another sort order than `order` starts from the first page.
    pub async fn search_accommodations(
        &self,
        filter: &AccommodationFilter,
        order: SortOrder,
        after: Option<&Cursor>,
        limit: i64,
    ) -> Result<Vec<AccommodationSummary>, sqlx::Error> {
        let (after_text, after_price, after_code) = match (order, after) {
            (SortOrder::Name, Some(Cursor::Name { name, code })) => (Some(name.as_str()), None, Some(code.as_str())),
            (SortOrder::Price, Some(Cursor::Price { from_price_paise, code })) => {
                (None, Some(*from_price_paise), Some(code.as_str()))
            }
            _ => (None, None, None),
        };
        let (keyset, order_by) = match order {
            SortOrder::Name => ("($8::text IS NULL OR (a.name, a.code) > ($8, $10))", "a.name, a.code"),
            SortOrder::Price => (
                "($9::bigint IS NULL OR (min(r.base_tariff_paise), a.code) > ($9, $10))",
                "min(r.base_tariff_paise), a.code",
            ),
        };
        let sql = format!(
            "{SUMMARY_SELECT}
               AND ($1::text IS NULL OR d.code = $1)
               AND ($2::text IS NULL OR lower(d.district) = lower($2))
               AND ($3::text IS NULL OR a.kind = $3)
               AND ($11::uuid[] IS NULL OR a.accommodation_id = ANY($11))
             {SUMMARY_GROUP_BY}
             HAVING ($4::bigint IS NULL OR min(r.base_tariff_paise) <= $4)
                AND ($5::bigint IS NULL OR min(r.base_tariff_paise) >= $5)
                AND ($6::int IS NULL OR max(r.max_occupancy) >= $6)
                AND {keyset}
             ORDER BY {order_by}
             LIMIT $7"
        );
        sqlx::query_as(&sql)
            .bind(filter.destination.as_deref())
            .bind(filter.district.as_deref())
            .bind(filter.kind.as_deref())
            .bind(filter.max_price_paise)
            .bind(filter.min_price_paise)
            .bind(filter.guests)
            .bind(limit)
            .bind(after_text)
            .bind(after_price)
            .bind(after_code)
            .bind(filter.accommodation_ids.as_deref())
            .fetch_all(&self.pool)
            .await
    }

    /// One published accommodation by its public code.
    pub async fn find_accommodation(&self, code: &str) -> Result<Option<AccommodationSummary>, sqlx::Error> {
        sqlx::query_as(&format!("{SUMMARY_SELECT} AND a.code = $1 {SUMMARY_GROUP_BY}"))
            .bind(code)
            .fetch_optional(&self.pool)
            .await
    }

    /// The room types of several accommodations at once, cheapest first.
    pub async fn room_types_of(&self, accommodation_ids: &[Uuid]) -> Result<Vec<RoomType>, sqlx::Error> {
        self.rows_for_page(
            "SELECT accommodation_id, room_type, name, max_occupancy, base_tariff_paise, currency
             FROM accommodation_room_types WHERE accommodation_id = ANY($1)
             ORDER BY accommodation_id, base_tariff_paise, room_type",
            accommodation_ids,
        )
        .await
    }
}
