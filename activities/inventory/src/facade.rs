//! [`Inventory`], the inventory context's one door: the API reads availability and changes
//! allotments only through it (holds are the saga's, through the inventory activities).

use crate::store::{self, AllotmentChange, Departure, DepartureChange, NightAvailability, RoomNights};
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

    /// Sets the seats of one departure of a package, creating it (on sale) if need be; the
    /// allotment never drops below what is already held and sold.
    pub async fn set_departure(
        &self,
        package_id: Uuid,
        departure: NaiveDate,
        seats_allotted: i32,
    ) -> Result<DepartureChange, sqlx::Error> {
        store::set_departure(&self.pool, package_id, departure, seats_allotted).await
    }

    /// Takes one departure off sale or puts it back on sale; `false` when it does not exist.
    pub async fn set_departure_stop_sell(
        &self,
        package_id: Uuid,
        departure: NaiveDate,
        stop_sell: bool,
    ) -> Result<bool, sqlx::Error> {
        store::set_departure_stop_sell(&self.pool, package_id, departure, stop_sell).await
    }

    /// The departures of one package from `from` to `to`, both included, by date; dates
    /// without a departure are not listed.
    pub async fn departures(
        &self,
        package_id: Uuid,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<Departure>, sqlx::Error> {
        store::departures(&self.pool, package_id, from, to).await
    }

    /// The packages with a departure from `from` to `to` (both included) that has
    /// `min_seats` seats free.
    pub async fn packages_departing(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        min_seats: u32,
    ) -> Result<Vec<Uuid>, sqlx::Error> {
        store::packages_departing(&self.pool, from, to, min_seats).await
    }
}
