//! [`Inventory`], the inventory context's one door: the API reads availability and changes
//! allotments only through it (holds are the saga's, through the inventory activities).

use crate::store::{self, AllotmentChange, NightAvailability, RoomNights};
use chrono::NaiveDate;
use contracts::StayDates;
use sqlx::PgPool;
use uuid::Uuid;

/// The inventory context: owns its pool; the API and the workers reach its tables only here.
#[derive(Clone)]
pub struct Inventory {
    pool: PgPool,
}

impl Inventory {
    pub fn new(pool: PgPool) -> Self {
        Inventory { pool }
    }

    /// Whether the context's database answers (readiness probes).
    pub async fn is_reachable(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
    }

    /// Rooms per night of one room type in `[from, to)`; nights without an allotment are
    /// not listed.
    pub async fn availability(
        &self,
        accommodation_id: Uuid,
        room_type: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<NightAvailability>, sqlx::Error> {
        store::availability(&self.pool, accommodation_id, room_type, from, to).await
    }

    /// Sets the allotment and/or the stop-sell flag of every one of `nights`, all or nothing;
    /// an allotment never drops below what is already held and booked.
    pub async fn change_allotments(
        &self,
        nights: &RoomNights<'_>,
        allotment: Option<i32>,
        stop_sell: Option<bool>,
    ) -> Result<AllotmentChange, sqlx::Error> {
        store::change_allotments(&self.pool, nights, allotment, stop_sell).await
    }

    /// The accommodations with `rooms` rooms of one type free on every night of `dates`.
    pub async fn accommodations_with_rooms_free(
        &self,
        dates: &StayDates,
        rooms: u32,
    ) -> Result<Vec<Uuid>, sqlx::Error> {
        store::accommodations_with_rooms_free(&self.pool, dates, rooms).await
    }
}
