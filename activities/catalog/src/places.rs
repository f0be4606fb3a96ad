//! Destinations with their images, and experiences with the destinations they happen at. A
//! page is one query, and whatever it needs from related tables one more query for the whole
//! page (`= ANY($1)`), never one per row.

use crate::Catalog;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Where the previous page of a list sorted by name ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NameCursor {
    pub name: String,
    pub code: String,
}

/// A destination as a list names it: its public code, its name and its district.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Place {
    pub code: String,
    pub name: String,
    pub district: String,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Destination {
    pub destination_id: Uuid,
    #[sqlx(flatten)]
    pub place: Place,
    pub summary: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    /// The first of its images.
    pub cover_image_url: Option<String>,
}

impl Destination {
    pub fn cursor(&self) -> NameCursor {
        NameCursor { name: self.place.name.clone(), code: self.place.code.clone() }
    }
}

/// A published destination with its cover image; callers add conditions.
const DESTINATION_SELECT: &str = "
    SELECT d.destination_id, d.code, d.name, d.district, d.summary,
           d.latitude::float8 AS latitude, d.longitude::float8 AS longitude, cover.url AS cover_image_url
    FROM destinations d
    LEFT JOIN LATERAL (
        SELECT i.url FROM destination_images i WHERE i.destination_id = d.destination_id ORDER BY i.position LIMIT 1
    ) cover ON true
    WHERE d.published";

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DestinationImage {
    pub destination_id: Uuid,
    pub url: String,
    pub caption: String,
    pub position: i32,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Experience {
    pub experience_id: Uuid,
    pub code: String,
    pub name: String,
    pub summary: String,
    pub duration_minutes: i32,
    pub price_paise: i64,
    pub currency: String,
}

impl Experience {
    pub fn cursor(&self) -> NameCursor {
        NameCursor { name: self.name.clone(), code: self.code.clone() }
    }
}

/// A published destination something (an experience, a package) goes to.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PlaceOf {
    /// The experience or package.
    pub owner_id: Uuid,
    #[sqlx(flatten)]
    pub place: Place,
    /// The day of the trip, for a package; 1 for an experience.
    pub day_number: i32,
}

impl Catalog {
    /// One page of published destinations, by name, optionally in one district (any case).
    pub async fn list_destinations(
        &self,
        district: Option<&str>,
        after: Option<&NameCursor>,
        limit: i64,
    ) -> Result<Vec<Destination>, sqlx::Error> {
        sqlx::query_as(&format!(
            "{DESTINATION_SELECT}
               AND ($1::text IS NULL OR lower(d.district) = lower($1))
               AND ($2::text IS NULL OR (d.name, d.code) > ($2, $3))
             ORDER BY d.name, d.code
             LIMIT $4"
        ))
        .bind(district)
        .bind(after.map(|c| c.name.as_str()))
        .bind(after.map(|c| c.code.as_str()))
        .bind(limit)
        .fetch_all(&self.pool)
        .await
    }

    /// One published destination by its public code.
    pub async fn find_destination(&self, code: &str) -> Result<Option<Destination>, sqlx::Error> {
        sqlx::query_as(&format!("{DESTINATION_SELECT} AND d.code = $1")).bind(code).fetch_optional(&self.pool).await
    }

    /// The images of several destinations at once, each destination's in position order.
    pub async fn images_of(&self, destination_ids: &[Uuid]) -> Result<Vec<DestinationImage>, sqlx::Error> {
        self.rows_for_page(
            "SELECT destination_id, url, caption, position FROM destination_images
             WHERE destination_id = ANY($1) ORDER BY destination_id, position",
            destination_ids,
        )
        .await
    }

    /// One page of published experiences, by name, optionally only those at one destination.
    pub async fn list_experiences(
        &self,
        destination: Option<&str>,
        after: Option<&NameCursor>,
        limit: i64,
    ) -> Result<Vec<Experience>, sqlx::Error> {
        sqlx::query_as(
            "SELECT e.experience_id, e.code, e.name, e.summary, e.duration_minutes, e.price_paise, e.currency
             FROM experiences e
             WHERE e.published
               AND ($1::text IS NULL OR EXISTS (
                    SELECT 1 FROM experience_destinations ed JOIN destinations d USING (destination_id)
                    WHERE ed.experience_id = e.experience_id AND d.code = $1 AND d.published))
               AND ($2::text IS NULL OR (e.name, e.code) > ($2, $3))
             ORDER BY e.name, e.code
             LIMIT $4",
        )
        .bind(destination)
        .bind(after.map(|c| c.name.as_str()))
        .bind(after.map(|c| c.code.as_str()))
        .bind(limit)
        .fetch_all(&self.pool)
        .await
    }

    /// The published destinations of several experiences at once, by name.
    pub async fn destinations_of_experiences(&self, experience_ids: &[Uuid]) -> Result<Vec<PlaceOf>, sqlx::Error> {
        self.rows_for_page(
            "SELECT ed.experience_id AS owner_id, d.code, d.name, d.district, 1 AS day_number
             FROM experience_destinations ed JOIN destinations d USING (destination_id)
             WHERE ed.experience_id = ANY($1) AND d.published
             ORDER BY ed.experience_id, d.name, d.code",
            experience_ids,
        )
        .await
    }
}
