//! All SQL of the catalog context.

use chrono::NaiveDate;
use contracts::{
    Currency, StayDates,
    pricing::{QuoteError, StayQuote, quote_stay},
};
use sqlx::PgPool;
use uuid::Uuid;

/// A sellable room type of a published accommodation.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RoomOffer {
    pub accommodation_id: Uuid,
    pub accommodation_code: String,
    pub accommodation_name: String,
    pub destination_code: String,
    pub room_type: String,
    pub room_name: String,
    pub max_occupancy: i32,
    pub base_tariff_paise: i64,
    pub currency: String,
}

impl RoomOffer {
    /// Tariff per room for each night of the stay. Every night uses the base tariff today;
    /// seasonal tariffs will replace this without changing callers.
    pub fn nightly_tariffs(&self, dates: &StayDates) -> Vec<(NaiveDate, i64)> {
        dates.each_night().map(|night| (night, self.base_tariff_paise)).collect()
    }

    pub fn quote(&self, dates: &StayDates, rooms: u32) -> Result<StayQuote, QuoteError> {
        let currency = Currency::parse(&self.currency).unwrap_or(Currency::Inr);
        quote_stay(&self.nightly_tariffs(dates), rooms, currency)
    }
}

const OFFER_SELECT: &str = "
    SELECT a.accommodation_id, a.code AS accommodation_code, a.name AS accommodation_name,
           d.code AS destination_code, r.room_type, r.name AS room_name, r.max_occupancy,
           r.base_tariff_paise, r.currency
    FROM accommodations a
    JOIN destinations d USING (destination_id)
    JOIN accommodation_room_types r USING (accommodation_id)
    WHERE a.published";

/// The offer for one room type of a published accommodation, by public codes.
pub async fn find_offer(
    pool: &PgPool,
    accommodation_code: &str,
    room_type: &str,
) -> Result<Option<RoomOffer>, sqlx::Error> {
    sqlx::query_as(&format!("{OFFER_SELECT} AND a.code = $1 AND r.room_type = $2"))
        .bind(accommodation_code)
        .bind(room_type)
        .fetch_optional(pool)
        .await
}
