//! All SQL of the inventory context.

use chrono::{DateTime, NaiveDate, Utc};
use contracts::{
    StayDates,
    activities::{HoldRequest, SeatHoldRequest},
};
use sqlx::{PgPool, Postgres, Transaction};
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HoldOutcome {
    /// The rooms are now held.
    Placed,
    /// This hold id was placed before (a retried activity); nothing changed.
    AlreadyPlaced,
    /// This hold id was placed and has been released since: it is spent, and is not placed
    /// again (a late retry must not take rooms nobody will release).
    Released,
    /// At least one night lacks rooms; nothing changed.
    SoldOut { nights: Vec<NaiveDate> },
}

/// What [`hold_seats`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SeatHoldOutcome {
    /// The seats are now held.
    Placed,
    /// This hold id was placed before (a retried activity); nothing changed.
    AlreadyPlaced,
    /// This hold id was placed and has been released since: it is spent, and is not placed
    /// again (a late retry must not take seats nobody will release).
    Released,
    /// The departure lacks the seats (or is on stop sell, or does not exist); nothing changed.
    /// `seats_left` is what it had free when asked.
    SoldOut { seats_left: i32 },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfirmOutcome {
    Confirmed,
    AlreadyConfirmed,
    /// No live hold with this id: never placed or released.
    NotHeld,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct NightAvailability {
    pub night: NaiveDate,
    pub allotment: i32,
    pub held: i32,
    pub booked: i32,
    pub stop_sell: bool,
}

impl NightAvailability {
    pub fn available(&self) -> i32 {
        if self.stop_sell { 0 } else { (self.allotment - self.held - self.booked).max(0) }
    }
}

/// One departure of a package, as operators and searches see it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Departure {
    pub departure_date: NaiveDate,
    pub seats_allotted: i32,
    /// Seats of live holds: holds past their expiry do not count, even before a sweep
    /// released them.
    pub seats_held: i32,
    pub seats_sold: i32,
    pub stop_sell: bool,
}

impl Departure {
    /// Seats a party may still hold: none on stop sell.
    pub fn seats_left(&self) -> i32 {
        if self.stop_sell { 0 } else { (self.seats_allotted - self.seats_held - self.seats_sold).max(0) }
    }
}

/// What an operator's change to a departure did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DepartureChange {
    /// The departure exists (created if it did not) with the new allotment.
    Applied { departure: Departure },
    /// Nothing changed: the departure already has more seats held and sold (`committed`)
    /// than the new allotment.
    BelowCommitments { committed: i32 },
}

/// Some nights of one room type of one accommodation, `[from, to)`: what a hold, a release
/// and an allotment change lock and count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoomNights<'a> {
    pub accommodation_id: Uuid,
    pub room_type: &'a str,
    /// The first night.
    pub from: NaiveDate,
    /// The day after the last night.
    pub to: NaiveDate,
}

impl<'a> RoomNights<'a> {
    /// The nights of a stay.
    pub fn of_stay(accommodation_id: Uuid, room_type: &'a str, dates: &StayDates) -> Self {
        RoomNights { accommodation_id, room_type, from: dates.check_in, to: dates.check_out }
    }
}

/// Holds `request.rooms` rooms on every night of the stay, or nothing. Expired holds on
/// these nights stop counting first: they are released before the rooms are counted — a
/// retry whose own hold expired in between finds it released, and is told so.
///
/// One round trip: the `hold_rooms` function (migration 0003) does the idempotency row, the
/// release of expired holds, the night locks, the count and the counters in one call, so
/// on a hot night the lock is held only while the database works, never across a round
/// trip to this process.
pub async fn hold_rooms(
    pool: &PgPool,
    request: &HoldRequest,
    expires_at: DateTime<Utc>,
) -> Result<HoldOutcome, sqlx::Error> {
    let (outcome, short): (String, Option<Vec<NaiveDate>>) =
        sqlx::query_as("SELECT outcome, short_nights FROM hold_rooms($1, $2, $3, $4, $5, $6, $7, $8)")
            .bind(&request.hold_id)
            .bind(request.booking_ref.as_str())
            .bind(request.accommodation_id)
            .bind(&request.room_type)
            .bind(request.dates.check_in)
            .bind(request.dates.check_out)
            .bind(i32::try_from(request.rooms).unwrap_or(i32::MAX))
            .bind(expires_at)
            .fetch_one(pool)
            .await?;
    match outcome.as_str() {
        "placed" => Ok(HoldOutcome::Placed),
        "already_placed" => Ok(HoldOutcome::AlreadyPlaced),
        "released" => Ok(HoldOutcome::Released),
        "short" => Ok(HoldOutcome::SoldOut { nights: short.unwrap_or_default() }),
        other => Err(sqlx::Error::Protocol(format!("hold_rooms answered an unknown outcome {other:?}"))),
    }
}

/// Holds `request.seats` seats on one departure of a package, or none. Expired seat holds
/// of the departure stop counting first, as [`hold_rooms`] does for nights — a retry whose
/// own hold expired in between finds it released, and is told so.
///
/// One round trip: the `hold_seats` function (migration 0004) does the idempotency row, the
/// release of expired holds, the count and the counter in one call, so on a popular
/// departure the lock is held only while the database works.
pub async fn hold_seats(
    pool: &PgPool,
    request: &SeatHoldRequest,
    expires_at: DateTime<Utc>,
) -> Result<SeatHoldOutcome, sqlx::Error> {
    let (outcome, seats_left): (String, Option<i32>) =
        sqlx::query_as("SELECT outcome, seats_left FROM hold_seats($1, $2, $3, $4, $5, $6)")
            .bind(&request.hold_id)
            .bind(request.booking_ref.as_str())
            .bind(request.package_id)
            .bind(request.departure)
            .bind(i32::try_from(request.seats).unwrap_or(i32::MAX))
            .bind(expires_at)
            .fetch_one(pool)
            .await?;
    match outcome.as_str() {
        "placed" => Ok(SeatHoldOutcome::Placed),
        "already_placed" => Ok(SeatHoldOutcome::AlreadyPlaced),
        "released" => Ok(SeatHoldOutcome::Released),
        "short" => Ok(SeatHoldOutcome::SoldOut { seats_left: seats_left.unwrap_or(0) }),
        other => Err(sqlx::Error::Protocol(format!("hold_seats answered an unknown outcome {other:?}"))),
    }
}

/// Gives a live hold's rooms (or seats) back. Returns whether anything was released.
pub async fn release_hold(pool: &PgPool, hold_id: &str) -> Result<bool, sqlx::Error> {
    let mut tx = pool.begin().await?;
    if let Some(hold) = take_live_hold(&mut tx, hold_id, "released").await? {
        // Same lock order as a hold (nights by date), so the two never deadlock.
        lock_nights(&mut tx, &hold.nights()).await?;
        move_counters(&mut tx, &hold.nights(), -hold.rooms, 0).await?;
    } else if let Some(hold) = take_seat_hold(&mut tx, hold_id, "held", "released").await? {
        // The hold row is locked, then the departure row: a seat hold's order.
        move_seats(&mut tx, &hold, -hold.seats, 0).await?;
    } else {
        return Ok(false);
    }
    tx.commit().await?;
    Ok(true)
}

/// Keeps live holds (of rooms or seats) until `until` at the latest, never shortening one;
/// answers the ids among them that are not held any more (released, confirmed, unknown).
pub async fn extend_holds(
    pool: &PgPool,
    hold_ids: &[String],
    until: DateTime<Utc>,
) -> Result<Vec<String>, sqlx::Error> {
    // Rooms and seats alike, in one statement: a hold id names one or the other.
    let live: Vec<String> = sqlx::query_scalar(
        "WITH rooms AS (
             UPDATE inventory_holds SET expires_at = GREATEST(expires_at, $2), updated_at = now()
             WHERE hold_id = ANY($1) AND status = 'held' RETURNING hold_id),
         seats AS (
             UPDATE seat_holds SET expires_at = GREATEST(expires_at, $2), updated_at = now()
             WHERE hold_id = ANY($1) AND status = 'held' RETURNING hold_id)
         SELECT hold_id FROM rooms UNION ALL SELECT hold_id FROM seats",
    )
    .bind(hold_ids)
    .bind(until)
    .fetch_all(pool)
    .await?;
    Ok(hold_ids.iter().filter(|id| !live.contains(id)).cloned().collect())
}

/// When the hold `hold_id` (of rooms or seats) stops counting, if it exists.
pub async fn hold_expiry(pool: &PgPool, hold_id: &str) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT COALESCE((SELECT expires_at FROM inventory_holds WHERE hold_id = $1),
                         (SELECT expires_at FROM seat_holds WHERE hold_id = $1))",
    )
    .bind(hold_id)
    .fetch_one(pool)
    .await
}

/// Turns a live hold into booked rooms (or sold seats).
pub async fn confirm_hold(pool: &PgPool, hold_id: &str) -> Result<ConfirmOutcome, sqlx::Error> {
    let mut tx = pool.begin().await?;
    if let Some(hold) = take_live_hold(&mut tx, hold_id, "confirmed").await? {
        lock_nights(&mut tx, &hold.nights()).await?;
        move_counters(&mut tx, &hold.nights(), -hold.rooms, hold.rooms).await?;
        tx.commit().await?;
        return Ok(ConfirmOutcome::Confirmed);
    }
    if let Some(hold) = take_seat_hold(&mut tx, hold_id, "held", "confirmed").await? {
        move_seats(&mut tx, &hold, -hold.seats, hold.seats).await?;
        tx.commit().await?;
        return Ok(ConfirmOutcome::Confirmed);
    }
    let status: Option<String> = sqlx::query_scalar(
        "SELECT COALESCE((SELECT status FROM inventory_holds WHERE hold_id = $1),
                         (SELECT status FROM seat_holds WHERE hold_id = $1))",
    )
    .bind(hold_id)
    .fetch_one(&mut *tx)
    .await?;
    Ok(match status.as_deref() {
        Some("confirmed") => ConfirmOutcome::AlreadyConfirmed,
        _ => ConfirmOutcome::NotHeld,
    })
}

/// Releases up to `limit` live holds past their expiry, rooms and seats alike, oldest
/// first; returns how many. Each is released in its own transaction (as `release_hold`
/// does), so a sweep never holds many nights' locks at once, and two sweeps never release
/// one hold twice.
pub async fn release_expired_holds(pool: &PgPool, limit: i64) -> Result<u64, sqlx::Error> {
    let expired: Vec<String> = sqlx::query_scalar(
        "SELECT hold_id FROM (
             (SELECT hold_id, expires_at FROM inventory_holds
              WHERE status = 'held' AND expires_at < now() ORDER BY expires_at LIMIT $1)
             UNION ALL
             (SELECT hold_id, expires_at FROM seat_holds
              WHERE status = 'held' AND expires_at < now() ORDER BY expires_at LIMIT $1)
         ) expired
         ORDER BY expires_at LIMIT $1",
    )
    .bind(limit)
    .fetch_all(pool)
    .await?;
    release_each(pool, expired).await
}

async fn release_each(pool: &PgPool, hold_ids: Vec<String>) -> Result<u64, sqlx::Error> {
    let mut released = 0;
    for hold_id in hold_ids {
        if release_hold(pool, &hold_id).await? {
            tracing::info!(%hold_id, "released an expired hold");
            released += 1;
        }
    }
    Ok(released)
}

/// Gives back the rooms (or seats) of a confirmed hold (the compensation of
/// [`confirm_hold`] when the booking cannot be confirmed after all, or a cancellation):
/// they are on sale again. Returns whether anything was given back.
pub async fn unbook_hold(pool: &PgPool, hold_id: &str) -> Result<bool, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let hold: Option<LiveHold> = sqlx::query_as(
        "UPDATE inventory_holds SET status = 'released', updated_at = now()
         WHERE hold_id = $1 AND status = 'confirmed'
         RETURNING accommodation_id, room_type, check_in, check_out, rooms",
    )
    .bind(hold_id)
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(hold) = hold {
        lock_nights(&mut tx, &hold.nights()).await?;
        move_counters(&mut tx, &hold.nights(), 0, -hold.rooms).await?;
    } else if let Some(hold) = take_seat_hold(&mut tx, hold_id, "confirmed", "released").await? {
        move_seats(&mut tx, &hold, 0, -hold.seats).await?;
    } else {
        return Ok(false);
    }
    tx.commit().await?;
    Ok(true)
}

/// Availability of one room type over `[from, to)`, one row per night that has an allotment.
/// Holds past their expiry do not count in `held`, even before anything released them.
pub async fn availability(
    pool: &PgPool,
    accommodation_id: Uuid,
    room_type: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<NightAvailability>, sqlx::Error> {
    sqlx::query_as(
        "SELECT a.night, a.allotment, a.held - COALESCE(x.rooms, 0) AS held, a.booked, a.stop_sell
         FROM accommodation_availability a
         LEFT JOIN LATERAL (
             SELECT sum(h.rooms)::int AS rooms FROM inventory_holds h
             WHERE h.status = 'held' AND h.expires_at < now()
               AND h.accommodation_id = a.accommodation_id AND h.room_type = a.room_type
               AND h.check_in <= a.night AND h.check_out > a.night
         ) x ON true
         WHERE a.accommodation_id = $1 AND a.room_type = $2 AND a.night >= $3 AND a.night < $4
         ORDER BY a.night",
    )
    .bind(accommodation_id)
    .bind(room_type)
    .bind(from)
    .bind(to)
    .fetch_all(pool)
    .await
}

/// The accommodations with a room type that has at least `rooms` rooms free on every night
/// of `dates`, in one query. Free is allotment − held − booked, as [`availability`] counts
/// it: holds past their expiry do not count, a stop-sell night has nothing free, and a night
/// without an allotment row has nothing to sell.
pub async fn accommodations_with_rooms_free(
    pool: &PgPool,
    dates: &StayDates,
    rooms: u32,
) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar(
        "WITH expired AS (
             SELECT accommodation_id, room_type, check_in, check_out, rooms FROM inventory_holds
             WHERE status = 'held' AND expires_at < now() AND check_in < $2 AND check_out > $1
         )
         SELECT DISTINCT a.accommodation_id
         FROM accommodation_availability a
         WHERE a.night >= $1 AND a.night < $2 AND NOT a.stop_sell
           AND a.allotment - a.held - a.booked + COALESCE((
                   SELECT sum(e.rooms) FROM expired e
                   WHERE e.accommodation_id = a.accommodation_id AND e.room_type = a.room_type
                     AND e.check_in <= a.night AND e.check_out > a.night), 0) >= $3
         GROUP BY a.accommodation_id, a.room_type
         HAVING count(*) = $4",
    )
    .bind(dates.check_in)
    .bind(dates.check_out)
    .bind(i32::try_from(rooms).unwrap_or(i32::MAX))
    .bind(dates.nights())
    .fetch_all(pool)
    .await
}

/// Sets the allotment of every night in `[from, to)`. Fails with the
/// `accommodation_availability_no_overbooking` constraint if a night already has more
/// rooms held and booked than the new allotment.
pub async fn set_allotment(
    pool: &PgPool,
    accommodation_id: Uuid,
    room_type: &str,
    from: NaiveDate,
    to: NaiveDate,
    allotment: i32,
) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(
        "INSERT INTO accommodation_availability (accommodation_id, room_type, night, allotment)
         SELECT $1, $2, d::date, $5 FROM generate_series($3::date, $4::date - 1, interval '1 day') AS d
         ON CONFLICT (accommodation_id, room_type, night)
         DO UPDATE SET allotment = EXCLUDED.allotment, updated_at = now()",
    )
    .bind(accommodation_id)
    .bind(room_type)
    .bind(from)
    .bind(to)
    .bind(allotment)
    .execute(pool)
    .await?
    .rows_affected())
}

/// What an asset manager's change to a range of nights did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AllotmentChange {
    /// Every night in the range now has the new allotment and/or stop-sell flag.
    Applied { nights: u64 },
    /// Nothing changed: these nights already have more rooms held and booked than the new
    /// allotment (night, rooms held + booked).
    BelowCommitments { nights: Vec<(NaiveDate, i32)> },
}

/// Sets the allotment and/or the stop-sell flag of every one of `nights`, all or nothing. An
/// allotment never drops below what is already held and booked on a night.
pub async fn change_allotments(
    pool: &PgPool,
    nights: &RoomNights<'_>,
    allotment: Option<i32>,
    stop_sell: Option<bool>,
) -> Result<AllotmentChange, sqlx::Error> {
    let mut tx = pool.begin().await?;
    // Lock the existing nights in date order (as holds do), so no hold slips in between
    // the check and the update, and concurrent changes queue instead of deadlocking.
    let committed: Vec<(NaiveDate, i32)> =
        lock_nights(&mut tx, nights).await?.into_iter().map(|n| (n.night, n.held + n.booked)).collect();
    if let Some(allotment) = allotment {
        let short: Vec<(NaiveDate, i32)> = committed.into_iter().filter(|(_, rooms)| *rooms > allotment).collect();
        if !short.is_empty() {
            return Ok(AllotmentChange::BelowCommitments { nights: short });
        }
    }
    let changed = sqlx::query(
        "INSERT INTO accommodation_availability AS a (accommodation_id, room_type, night, allotment, stop_sell)
         SELECT $1, $2, d::date, COALESCE($5, 0), COALESCE($6, false)
         FROM generate_series($3::date, $4::date - 1, interval '1 day') AS d
         ON CONFLICT (accommodation_id, room_type, night) DO UPDATE SET
             allotment = COALESCE($5, a.allotment), stop_sell = COALESCE($6, a.stop_sell), updated_at = now()",
    )
    .bind(nights.accommodation_id)
    .bind(nights.room_type)
    .bind(nights.from)
    .bind(nights.to)
    .bind(allotment)
    .bind(stop_sell)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    tx.commit().await?;
    Ok(AllotmentChange::Applied { nights: changed })
}

/// Sets the seats of one departure of a package, creating it (on sale) if it does not
/// exist. The allotment never drops below what is already held and sold: that is answered
/// [`DepartureChange::BelowCommitments`], and nothing changes. A negative allotment is
/// below any commitment, and fails the table's CHECKs on a departure with none. Whether the
/// date is in the past is the caller's business.
pub async fn set_departure(
    pool: &PgPool,
    package_id: Uuid,
    departure: NaiveDate,
    seats_allotted: i32,
) -> Result<DepartureChange, sqlx::Error> {
    let mut tx = pool.begin().await?;
    // Lock the departure (if it exists) so no hold slips in between the check and the
    // update; holds take this row last, so this never deadlocks with them.
    let committed: Option<i32> = sqlx::query_scalar(
        "SELECT seats_held + seats_sold FROM package_availability
         WHERE package_id = $1 AND departure_date = $2 FOR UPDATE",
    )
    .bind(package_id)
    .bind(departure)
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(committed) = committed.filter(|committed| *committed > seats_allotted) {
        return Ok(DepartureChange::BelowCommitments { committed });
    }
    let departure: Departure = sqlx::query_as(
        "INSERT INTO package_availability (package_id, departure_date, seats_allotted)
         VALUES ($1, $2, $3)
         ON CONFLICT (package_id, departure_date) DO UPDATE SET
             seats_allotted = EXCLUDED.seats_allotted, updated_at = now()
         RETURNING departure_date, seats_allotted, seats_held, seats_sold, stop_sell",
    )
    .bind(package_id)
    .bind(departure)
    .bind(seats_allotted)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(DepartureChange::Applied { departure })
}

/// Takes one departure off sale (`true`) or puts it back on sale (`false`): held and sold
/// seats stay as they are, no new hold is placed while it is off sale. Returns whether the
/// departure exists.
pub async fn set_departure_stop_sell(
    pool: &PgPool,
    package_id: Uuid,
    departure: NaiveDate,
    stop_sell: bool,
) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query(
        "UPDATE package_availability SET stop_sell = $3, updated_at = now()
         WHERE package_id = $1 AND departure_date = $2",
    )
    .bind(package_id)
    .bind(departure)
    .bind(stop_sell)
    .execute(pool)
    .await?
    .rows_affected()
        > 0)
}

/// The departures of one package from `from` to `to`, both included, by date. Holds past
/// their expiry do not count in `seats_held`, even before anything released them (as
/// [`availability`] counts rooms).
pub async fn departures(
    pool: &PgPool,
    package_id: Uuid,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<Departure>, sqlx::Error> {
    sqlx::query_as(
        "SELECT a.departure_date, a.seats_allotted, a.seats_held - COALESCE(x.seats, 0) AS seats_held,
                a.seats_sold, a.stop_sell
         FROM package_availability a
         LEFT JOIN LATERAL (
             SELECT sum(h.seats)::int AS seats FROM seat_holds h
             WHERE h.status = 'held' AND h.expires_at < now()
               AND h.package_id = a.package_id AND h.departure_date = a.departure_date
         ) x ON true
         WHERE a.package_id = $1 AND a.departure_date >= $2 AND a.departure_date <= $3
         ORDER BY a.departure_date",
    )
    .bind(package_id)
    .bind(from)
    .bind(to)
    .fetch_all(pool)
    .await
}

/// The packages with at least one departure from `from` to `to` (both included) that has
/// `min_seats` seats free, in one query, by id. Free is as [`Departure::seats_left`] counts
/// it: holds past their expiry do not count, and a departure on stop sell has nothing free.
pub async fn packages_departing(
    pool: &PgPool,
    from: NaiveDate,
    to: NaiveDate,
    min_seats: u32,
) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar(
        "WITH expired AS (
             SELECT package_id, departure_date, sum(seats) AS seats FROM seat_holds
             WHERE status = 'held' AND expires_at < now() AND departure_date >= $1 AND departure_date <= $2
             GROUP BY package_id, departure_date
         )
         SELECT DISTINCT a.package_id
         FROM package_availability a
         LEFT JOIN expired e ON e.package_id = a.package_id AND e.departure_date = a.departure_date
         WHERE a.departure_date >= $1 AND a.departure_date <= $2 AND NOT a.stop_sell
           AND a.seats_allotted - a.seats_held - a.seats_sold + COALESCE(e.seats, 0) >= $3
         ORDER BY a.package_id",
    )
    .bind(from)
    .bind(to)
    .bind(i32::try_from(min_seats).unwrap_or(i32::MAX))
    .fetch_all(pool)
    .await
}

#[derive(sqlx::FromRow)]
struct LiveHold {
    accommodation_id: Uuid,
    room_type: String,
    check_in: NaiveDate,
    check_out: NaiveDate,
    rooms: i32,
}

impl LiveHold {
    fn nights(&self) -> RoomNights<'_> {
        RoomNights {
            accommodation_id: self.accommodation_id,
            room_type: &self.room_type,
            from: self.check_in,
            to: self.check_out,
        }
    }
}

/// The departure and seats of a seat hold.
#[derive(sqlx::FromRow)]
struct SeatHold {
    package_id: Uuid,
    departure_date: NaiveDate,
    seats: i32,
}

/// Moves a seat hold from `from` into `next`, returning it if it was in `from`.
async fn take_seat_hold(
    tx: &mut Transaction<'_, Postgres>,
    hold_id: &str,
    from: &str,
    next: &str,
) -> Result<Option<SeatHold>, sqlx::Error> {
    sqlx::query_as(
        "UPDATE seat_holds SET status = $3, updated_at = now()
         WHERE hold_id = $1 AND status = $2
         RETURNING package_id, departure_date, seats",
    )
    .bind(hold_id)
    .bind(from)
    .bind(next)
    .fetch_optional(&mut **tx)
    .await
}

/// Moves seats into or out of `seats_held` and `seats_sold` of a hold's departure. One row:
/// the update is its lock.
async fn move_seats(
    tx: &mut Transaction<'_, Postgres>,
    hold: &SeatHold,
    held_delta: i32,
    sold_delta: i32,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE package_availability
         SET seats_held = seats_held + $3, seats_sold = seats_sold + $4, updated_at = now()
         WHERE package_id = $1 AND departure_date = $2",
    )
    .bind(hold.package_id)
    .bind(hold.departure_date)
    .bind(held_delta)
    .bind(sold_delta)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Moves a hold out of `held` into `next`, returning it if it was live.
async fn take_live_hold(
    tx: &mut Transaction<'_, Postgres>,
    hold_id: &str,
    next: &str,
) -> Result<Option<LiveHold>, sqlx::Error> {
    sqlx::query_as(
        "UPDATE inventory_holds SET status = $2, updated_at = now()
         WHERE hold_id = $1 AND status = 'held'
         RETURNING accommodation_id, room_type, check_in, check_out, rooms",
    )
    .bind(hold_id)
    .bind(next)
    .fetch_optional(&mut **tx)
    .await
}

/// Locks the nights in date order, so concurrent holds over overlapping stays queue up
/// instead of deadlocking.
async fn lock_nights(
    tx: &mut Transaction<'_, Postgres>,
    nights: &RoomNights<'_>,
) -> Result<Vec<NightAvailability>, sqlx::Error> {
    sqlx::query_as(
        "SELECT night, allotment, held, booked, stop_sell FROM accommodation_availability
         WHERE accommodation_id = $1 AND room_type = $2 AND night >= $3 AND night < $4
         ORDER BY night FOR UPDATE",
    )
    .bind(nights.accommodation_id)
    .bind(nights.room_type)
    .bind(nights.from)
    .bind(nights.to)
    .fetch_all(&mut **tx)
    .await
}

/// Moves rooms into or out of `held` and `booked` on every one of `nights`.
async fn move_counters(
    tx: &mut Transaction<'_, Postgres>,
    nights: &RoomNights<'_>,
    held_delta: i32,
    booked_delta: i32,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE accommodation_availability
         SET held = held + $5, booked = booked + $6, updated_at = now()
         WHERE accommodation_id = $1 AND room_type = $2 AND night >= $3 AND night < $4",
    )
    .bind(nights.accommodation_id)
    .bind(nights.room_type)
    .bind(nights.from)
    .bind(nights.to)
    .bind(held_delta)
    .bind(booked_delta)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
