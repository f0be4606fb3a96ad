//! All SQL of the booking context.

use crate::lifecycle::RecordStatus;
use chrono::{DateTime, NaiveDate, Utc};
use contracts::{
    BookingRef,
    activities::{BookingConfirmation, BookingFailure, NewBookingRecord, NewPackageBookingRecord},
    saga::{BookingProgress, BookingRequestKey, LeadTraveller},
};
use serde_json::json;
use sqlx::{PgPool, Postgres, Transaction};
use uuid::Uuid;

/// A booking as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct BookingRow {
    pub booking_id: Uuid,
    #[sqlx(try_from = "String")]
    pub booking_ref: BookingRef,
    pub status: RecordStatus,
    pub accommodation_id: Uuid,
    pub room_type: String,
    pub check_in: NaiveDate,
    pub check_out: NaiveDate,
    pub rooms: i32,
    pub guests: i32,
    pub total_amount_paise: i64,
    pub amount_charged_paise: Option<i64>,
    pub currency: String,
    pub payment_id: Option<Uuid>,
    pub failure_code: Option<String>,
    pub failure_message: Option<String>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// A cancellation has fixed its terms: the booking is being (or has been) cancelled.
    pub cancellation_started: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transition {
    /// The booking moved to the new status.
    Applied,
    /// It already had that status (a retried activity).
    AlreadyApplied,
    /// It is in another status the transition cannot start from.
    Conflict {
        current: RecordStatus,
    },
    NotFound,
}

/// What recording a booking did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recorded {
    /// The booking was written.
    New,
    /// It existed already (a retried step).
    AlreadyRecorded,
    /// Its request is bound to another booking reference: nothing was written.
    DuplicateOf(String),
}

/// What a booking sells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BookingKind {
    /// Rooms at one accommodation.
    Stay,
    /// Seats on a package departure, with the rooms of the stays it includes.
    Package,
}

impl BookingKind {
    pub fn as_str(self) -> &'static str {
        match self {
            BookingKind::Stay => "stay",
            BookingKind::Package => "package",
        }
    }
}

/// Writes a booking pending payment, with its lead traveller, contacts and nightly items,
/// and records the API request it answers again (see [`claim_request`]): a binding lost
/// to a database crash is restored; a request bound to another reference records nothing.
pub async fn create_booking(pool: &PgPool, record: &NewBookingRecord, actor: &str) -> Result<Recorded, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let owner = (record.user_id, record.partner_id);
    let request = record.request.as_ref();
    if let Some(duplicate) = rebind_request(&mut tx, request, &record.booking_ref, owner, BookingKind::Stay).await? {
        return Ok(duplicate);
    }
    let booking_id = Uuid::new_v4();
    let inserted = sqlx::query(
        "INSERT INTO bookings (booking_id, booking_ref, status, accommodation_id, room_type, check_in, check_out,
                               rooms, guests, hold_id, base_amount_paise, gst_amount_paise, total_amount_paise, currency,
                               user_id, partner_id, channel)
         VALUES ($1, $2, 'pending_payment', $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15,
                 CASE WHEN $15::uuid IS NULL THEN 'direct' ELSE 'partner' END)
         ON CONFLICT (booking_ref) DO NOTHING",
    )
    .bind(booking_id)
    .bind(record.booking_ref.as_str())
    .bind(record.accommodation_id)
    .bind(&record.room_type)
    .bind(record.dates.check_in)
    .bind(record.dates.check_out)
    .bind(i32::try_from(record.rooms).unwrap_or(i32::MAX))
    .bind(i32::try_from(record.guests).unwrap_or(i32::MAX))
    .bind(&record.hold_id)
    .bind(record.quote.base_total.amount)
    .bind(record.quote.gst_total.amount)
    .bind(record.quote.total.amount)
    .bind(record.quote.total.currency.code())
    .bind(record.user_id)
    .bind(record.partner_id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if inserted == 0 {
        return Ok(Recorded::AlreadyRecorded);
    }
    record_people(&mut tx, booking_id, &record.lead_traveller, record.user_id).await?;
    for line in &record.quote.lines {
        sqlx::query(
            "INSERT INTO booking_items (booking_item_id, booking_id, night, rooms, tariff_paise, base_paise, gst_rate_bp, gst_paise)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(Uuid::new_v4())
        .bind(booking_id)
        .bind(line.night)
        .bind(i32::try_from(line.rooms).unwrap_or(i32::MAX))
        .bind(line.tariff.amount)
        .bind(line.base.amount)
        .bind(i32::try_from(line.gst_rate_bp).unwrap_or(i32::MAX))
        .bind(line.gst.amount)
        .execute(&mut *tx)
        .await?;
    }
    let details = json!({ "hold_id": record.hold_id });
    record_version(&mut tx, booking_id, 1, RecordStatus::PendingPayment, actor, "created", details).await?;
    tx.commit().await?;
    Ok(Recorded::New)
}

/// Writes a package booking pending payment: the booking (kind `package`, under the
/// `package_standard` cancellation policy), its lead traveller and contacts, one item for the
/// party's seats carrying the package's price, and one per room-night of each included stay
/// under that stay's hold. Binds the API request as [`create_booking`] does.
pub async fn create_package_booking(
    pool: &PgPool,
    record: &NewPackageBookingRecord,
    actor: &str,
) -> Result<Recorded, sqlx::Error> {
    let order = &record.order;
    let mut tx = pool.begin().await?;
    let owner = (record.user_id, record.partner_id);
    let request = record.request.as_ref();
    if let Some(duplicate) = rebind_request(&mut tx, request, &record.booking_ref, owner, BookingKind::Package).await? {
        return Ok(duplicate);
    }
    let rooms = if order.stays.is_empty() { 0 } else { order.party.rooms };
    let booking_id = Uuid::new_v4();
    let inserted = sqlx::query(
        "INSERT INTO bookings (booking_id, booking_ref, status, kind, package_id, check_in, check_out,
                               rooms, guests, hold_id, base_amount_paise, gst_amount_paise, total_amount_paise, currency,
                               user_id, partner_id, channel, cancellation_policy_id)
         VALUES ($1, $2, 'pending_payment', 'package', $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14,
                 CASE WHEN $14::uuid IS NULL THEN 'direct' ELSE 'partner' END,
                 (SELECT cancellation_policy_id FROM cancellation_policies WHERE code = 'package_standard'))
         ON CONFLICT (booking_ref) DO NOTHING",
    )
    .bind(booking_id)
    .bind(record.booking_ref.as_str())
    .bind(order.package_id)
    .bind(order.departure)
    .bind(order.returns)
    .bind(i32::try_from(rooms).unwrap_or(i32::MAX))
    .bind(i32::try_from(order.seats()).unwrap_or(i32::MAX))
    .bind(&record.seat_hold_id)
    .bind(record.quote.base_total.amount)
    .bind(record.quote.gst_total.amount)
    .bind(record.quote.total.amount)
    .bind(record.quote.total.currency.code())
    .bind(record.user_id)
    .bind(record.partner_id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if inserted == 0 {
        return Ok(Recorded::AlreadyRecorded);
    }
    record_people(&mut tx, booking_id, &record.lead_traveller, record.user_id).await?;
    sqlx::query(
        "INSERT INTO booking_items (booking_item_id, booking_id, kind, night, seats, rooms, tariff_paise, base_paise,
                                    gst_rate_bp, gst_paise, hold_id)
         VALUES ($1, $2, 'package_seats', $3, $4, 0, 0, $5, $6, $7, $8)",
    )
    .bind(Uuid::new_v4())
    .bind(booking_id)
    .bind(order.departure)
    .bind(i32::try_from(order.seats()).unwrap_or(i32::MAX))
    .bind(record.quote.base_total.amount)
    .bind(i32::try_from(contracts::pricing::PACKAGE_GST_RATE_BP).unwrap_or(i32::MAX))
    .bind(record.quote.gst_total.amount)
    .bind(&record.seat_hold_id)
    .execute(&mut *tx)
    .await?;
    for (stay, hold_id) in order.stays.iter().zip(&record.stay_hold_ids) {
        for night in stay.dates.each_night() {
            sqlx::query(
                "INSERT INTO booking_items (booking_item_id, booking_id, kind, night, rooms, tariff_paise, base_paise,
                                            gst_rate_bp, gst_paise, accommodation_id, room_type, hold_id)
                 VALUES ($1, $2, 'room_night', $3, $4, 0, 0, 0, 0, $5, $6, $7)",
            )
            .bind(Uuid::new_v4())
            .bind(booking_id)
            .bind(night)
            .bind(i32::try_from(stay.rooms).unwrap_or(i32::MAX))
            .bind(stay.accommodation_id)
            .bind(&stay.room_type)
            .bind(hold_id)
            .execute(&mut *tx)
            .await?;
        }
    }
    let details = json!({ "seat_hold_id": record.seat_hold_id, "stay_hold_ids": record.stay_hold_ids,
                          "package": order.package_code, "departure": order.departure });
    record_version(&mut tx, booking_id, 1, RecordStatus::PendingPayment, actor, "created", details).await?;
    tx.commit().await?;
    Ok(Recorded::New)
}

/// Records the API request a booking answers again, in the booking's transaction; answers
/// `Some` (write nothing) when the request is bound to another booking reference.
async fn rebind_request(
    tx: &mut Transaction<'_, Postgres>,
    request: Option<&BookingRequestKey>,
    booking_ref: &BookingRef,
    (user_id, partner_id): (Option<Uuid>, Option<Uuid>),
    kind: BookingKind,
) -> Result<Option<Recorded>, sqlx::Error> {
    let Some(request) = request else { return Ok(None) };
    let hash = hex::decode(&request.request_hash).map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
    sqlx::query(
        "INSERT INTO booking_requests (idempotency_key, request_hash, booking_ref, user_id, partner_id, kind,
                                       saga_started_at)
         VALUES ($1, $2, $3, $4, $5, $6, now()) ON CONFLICT DO NOTHING",
    )
    .bind(&request.idempotency_key)
    .bind(hash)
    .bind(booking_ref.as_str())
    .bind(user_id)
    .bind(partner_id)
    .bind(kind.as_str())
    .execute(&mut **tx)
    .await?;
    let bound: Option<String> =
        sqlx::query_scalar("SELECT booking_ref FROM booking_requests WHERE idempotency_key = $1")
            .bind(&request.idempotency_key)
            .fetch_optional(&mut **tx)
            .await?;
    Ok(match bound {
        Some(bound) if bound == booking_ref.as_str() => None,
        other => Some(Recorded::DuplicateOf(other.unwrap_or_default())),
    })
}

/// The lead traveller with their contacts, and the booker's right to see and change
/// (cancel) the booking.
async fn record_people(
    tx: &mut Transaction<'_, Postgres>,
    booking_id: Uuid,
    lead: &LeadTraveller,
    user_id: Option<Uuid>,
) -> Result<(), sqlx::Error> {
    let customer_id = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO booking_customers (booking_customer_id, booking_id, full_name, is_lead) VALUES ($1, $2, $3, true)",
    )
    .bind(customer_id)
    .bind(booking_id)
    .bind(&lead.name)
    .execute(&mut **tx)
    .await?;
    for (kind, value) in [("email", &lead.email), ("phone", &lead.phone)] {
        sqlx::query("INSERT INTO booking_customer_contacts (booking_customer_contact_id, booking_customer_id, kind, value) VALUES ($1, $2, $3, $4)")
            .bind(Uuid::new_v4())
            .bind(customer_id)
            .bind(kind)
            .bind(value)
            .execute(&mut **tx)
            .await?;
    }
    if let Some(user_id) = user_id {
        sqlx::query(
            "INSERT INTO booking_access_policies (booking_access_policy_id, booking_id, principal, can_view, can_change)
             VALUES ($1, $2, $3, true, true) ON CONFLICT (booking_id, principal) DO NOTHING",
        )
        .bind(Uuid::new_v4())
        .bind(booking_id)
        .bind(format!("user:{user_id}"))
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

pub async fn confirm_booking(
    pool: &PgPool,
    confirmation: &BookingConfirmation,
    actor: &str,
) -> Result<Transition, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let updated: Option<(Uuid, i32)> = sqlx::query_as(
        "UPDATE bookings SET status = 'confirmed', amount_charged_paise = $2, payment_id = $3,
                             version = version + 1, updated_at = now()
         WHERE booking_ref = $1 AND status = 'pending_payment'
         RETURNING booking_id, version",
    )
    .bind(confirmation.booking_ref.as_str())
    .bind(confirmation.amount_charged.amount)
    .bind(confirmation.payment_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((booking_id, version)) = updated else {
        return current_status(&mut tx, &confirmation.booking_ref, RecordStatus::Confirmed).await;
    };
    let details = json!({ "payment_id": confirmation.payment_id, "amount_charged": confirmation.amount_charged });
    record_version(&mut tx, booking_id, version, RecordStatus::Confirmed, actor, "confirmed", details).await?;
    tx.commit().await?;
    Ok(Transition::Applied)
}

pub async fn fail_booking(pool: &PgPool, failure: &BookingFailure, actor: &str) -> Result<Transition, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let updated: Option<(Uuid, i32)> = sqlx::query_as(
        "UPDATE bookings SET status = 'failed', failure_code = $2, failure_message = $3,
                             version = version + 1, updated_at = now()
         WHERE booking_ref = $1 AND status = 'pending_payment'
         RETURNING booking_id, version",
    )
    .bind(failure.booking_ref.as_str())
    .bind(&failure.code)
    .bind(&failure.message)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((booking_id, version)) = updated else {
        return current_status(&mut tx, &failure.booking_ref, RecordStatus::Failed).await;
    };
    let details = json!({ "code": failure.code, "message": failure.message });
    record_version(&mut tx, booking_id, version, RecordStatus::Failed, actor, "failed", details).await?;
    tx.commit().await?;
    Ok(Transition::Applied)
}

pub async fn find_booking(pool: &PgPool, booking_ref: &BookingRef) -> Result<Option<BookingRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT b.booking_id, booking_ref, status, accommodation_id, room_type, check_in, check_out, rooms, guests,
                total_amount_paise, amount_charged_paise, currency, payment_id, failure_code, failure_message,
                version, b.created_at, updated_at,
                EXISTS (SELECT 1 FROM booking_cancellations c WHERE c.booking_id = b.booking_id) AS cancellation_started
         FROM bookings b WHERE booking_ref = $1 AND kind = 'stay'",
    )
    .bind(booking_ref.as_str())
    .fetch_optional(pool)
    .await
}

/// A package booking as the API shows it: the trip's dates, the party's seats and rooms, and
/// the stays it includes.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PackageBookingRow {
    pub booking_id: Uuid,
    #[sqlx(try_from = "String")]
    pub booking_ref: BookingRef,
    pub status: RecordStatus,
    pub package_id: Uuid,
    pub departure: NaiveDate,
    pub returns: NaiveDate,
    pub seats: i32,
    pub rooms: i32,
    pub total_amount_paise: i64,
    pub amount_charged_paise: Option<i64>,
    pub currency: String,
    pub failure_code: Option<String>,
    pub failure_message: Option<String>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub cancellation_started: bool,
    #[sqlx(skip)]
    pub stays: Vec<RecordedStay>,
}

/// An included stay of a package booking, from its room-night items.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RecordedStay {
    pub accommodation_id: Uuid,
    pub room_type: String,
    pub check_in: NaiveDate,
    pub check_out: NaiveDate,
    pub rooms: i32,
}

pub async fn find_package_booking(
    pool: &PgPool,
    booking_ref: &BookingRef,
) -> Result<Option<PackageBookingRow>, sqlx::Error> {
    let row: Option<PackageBookingRow> = sqlx::query_as(
        "SELECT b.booking_id, booking_ref, status, package_id, check_in AS departure, check_out AS returns,
                guests AS seats, rooms, total_amount_paise, amount_charged_paise, currency, failure_code,
                failure_message, version, b.created_at, updated_at,
                EXISTS (SELECT 1 FROM booking_cancellations c WHERE c.booking_id = b.booking_id) AS cancellation_started
         FROM bookings b WHERE booking_ref = $1 AND kind = 'package'",
    )
    .bind(booking_ref.as_str())
    .fetch_optional(pool)
    .await?;
    let Some(mut row) = row else { return Ok(None) };
    row.stays = sqlx::query_as(
        "SELECT accommodation_id, room_type, min(night) AS check_in, max(night) + 1 AS check_out, max(rooms) AS rooms
         FROM booking_items WHERE booking_id = $1 AND kind = 'room_night'
         GROUP BY hold_id, accommodation_id, room_type ORDER BY min(night)",
    )
    .bind(row.booking_id)
    .fetch_all(pool)
    .await?;
    Ok(Some(row))
}

/// What a booking reference sells, from its request (or its record, for a booking made
/// without one); `None` for an unknown reference.
pub async fn kind_of(pool: &PgPool, booking_ref: &BookingRef) -> Result<Option<BookingKind>, sqlx::Error> {
    let kind: Option<String> = sqlx::query_scalar(
        "SELECT kind FROM booking_requests WHERE booking_ref = $1
         UNION ALL SELECT kind FROM bookings WHERE booking_ref = $1 LIMIT 1",
    )
    .bind(booking_ref.as_str())
    .fetch_optional(pool)
    .await?;
    Ok(kind.map(|k| if k == "package" { BookingKind::Package } else { BookingKind::Stay }))
}

/// A booking's record status, whatever it sells; `None` before its saga records it.
pub async fn record_status(pool: &PgPool, booking_ref: &BookingRef) -> Result<Option<RecordStatus>, sqlx::Error> {
    sqlx::query_scalar("SELECT status FROM bookings WHERE booking_ref = $1")
        .bind(booking_ref.as_str())
        .fetch_optional(pool)
        .await
}

/// The statuses a booking went through, oldest first.
pub async fn version_statuses(pool: &PgPool, booking_ref: &BookingRef) -> Result<Vec<RecordStatus>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT v.status FROM booking_versions v JOIN bookings b USING (booking_id)
         WHERE b.booking_ref = $1 ORDER BY v.version",
    )
    .bind(booking_ref.as_str())
    .fetch_all(pool)
    .await
}

/// The booking reference bound to a client's idempotency key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdempotentRequest {
    /// First use of the key: `candidate` is now bound to it.
    New(BookingRef),
    /// The key was used before with the same request: the booking it made, and whether its
    /// saga was started.
    Repeat { booking_ref: BookingRef, saga_started: bool },
    /// The key was used before with a different request.
    Mismatch,
}

/// An earlier request bound to an idempotency key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EarlierRequest {
    pub request_hash: Vec<u8>,
    pub booking_ref: BookingRef,
    /// The saga was started for it (and must never be started again).
    pub saga_started: bool,
    /// The user who made the request, when signed in.
    pub user_id: Option<Uuid>,
}

pub async fn find_request(pool: &PgPool, key: &str) -> Result<Option<EarlierRequest>, sqlx::Error> {
    let row: Option<(Vec<u8>, String, bool, Option<Uuid>)> = sqlx::query_as(
        "SELECT request_hash, booking_ref, saga_started_at IS NOT NULL, user_id
         FROM booking_requests WHERE idempotency_key = $1",
    )
    .bind(key)
    .fetch_optional(pool)
    .await?;
    row.map(|(request_hash, booking_ref, saga_started, user_id)| {
        let booking_ref = BookingRef::parse(&booking_ref).map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
        Ok(EarlierRequest { request_hash, booking_ref, saga_started, user_id })
    })
    .transpose()
}

/// Who made a booking request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestOwner {
    /// A signed-in user.
    User(Uuid),
    /// A partner, through the partner API.
    Partner(Uuid),
}

impl RequestOwner {
    /// The owner as the booking's `user_id` and `partner_id`: one of them, never both.
    pub fn user_and_partner(self) -> (Option<Uuid>, Option<Uuid>) {
        match self {
            RequestOwner::User(id) => (Some(id), None),
            RequestOwner::Partner(id) => (None, Some(id)),
        }
    }
}

/// Binds `key` (already scoped to its owner) to `candidate` unless the key is already bound.
/// `request_hash` identifies the request body, so the same key with another body is
/// recognised.
///
/// A new binding commits asynchronously: the request does not wait for the disk before it
/// starts the saga. If PostgreSQL itself crashes within a fraction of a second and loses
/// it, the saga records it again with the booking (`create_booking`), before any payment.
pub async fn claim_request(
    pool: &PgPool,
    key: &str,
    request_hash: &[u8],
    candidate: &BookingRef,
    owner: RequestOwner,
    kind: BookingKind,
) -> Result<IdempotentRequest, sqlx::Error> {
    let (user_id, partner_id) = owner.user_and_partner();
    let inserted = sqlx::query(
        "WITH asynchronous AS (SELECT set_config('synchronous_commit', 'off', true))
         INSERT INTO booking_requests (idempotency_key, request_hash, booking_ref, user_id, partner_id, kind)
         SELECT $1, $2, $3, $4, $5, $6 FROM asynchronous
         ON CONFLICT (idempotency_key) DO NOTHING",
    )
    .bind(key)
    .bind(request_hash)
    .bind(candidate.as_str())
    .bind(user_id)
    .bind(partner_id)
    .bind(kind.as_str())
    .execute(pool)
    .await?
    .rows_affected();
    if inserted == 1 {
        return Ok(IdempotentRequest::New(candidate.clone()));
    }
    let earlier = find_request(pool, key).await?.ok_or(sqlx::Error::RowNotFound)?;
    Ok(if earlier.request_hash == request_hash {
        IdempotentRequest::Repeat { booking_ref: earlier.booking_ref, saga_started: earlier.saga_started }
    } else {
        IdempotentRequest::Mismatch
    })
}

/// What `user_id` may do with the booking `booking_ref`: the user who asked for it may see
/// and change it, and `booking_access_policies` may grant others either.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BookingAccess {
    pub can_view: bool,
    pub can_change: bool,
}

pub async fn access_of(pool: &PgPool, booking_ref: &BookingRef, user_id: Uuid) -> Result<BookingAccess, sqlx::Error> {
    let row: Option<(bool, bool)> = sqlx::query_as(
        "SELECT bool_or(can_view), bool_or(can_change) FROM (
             SELECT true AS can_view, true AS can_change FROM booking_requests
             WHERE booking_ref = $1 AND user_id = $2
             UNION ALL
             SELECT p.can_view, p.can_change FROM booking_access_policies p JOIN bookings b USING (booking_id)
             WHERE b.booking_ref = $1 AND p.principal = 'user:' || $2::text
         ) grants HAVING count(*) > 0",
    )
    .bind(booking_ref.as_str())
    .bind(user_id)
    .fetch_optional(pool)
    .await?;
    Ok(row.map_or_else(BookingAccess::default, |(can_view, can_change)| BookingAccess { can_view, can_change }))
}

/// One version of a booking: its status from then on, and when.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BookingVersion {
    pub version: i32,
    pub status: RecordStatus,
    pub created_at: DateTime<Utc>,
}

pub async fn versions(pool: &PgPool, booking_ref: &BookingRef) -> Result<Vec<BookingVersion>, sqlx::Error> {
    sqlx::query_as(
        "SELECT v.version, v.status, v.created_at FROM booking_versions v JOIN bookings b USING (booking_id)
         WHERE b.booking_ref = $1 ORDER BY v.version",
    )
    .bind(booking_ref.as_str())
    .fetch_all(pool)
    .await
}

/// One line of a user's booking list.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BookingListItem {
    #[sqlx(try_from = "String")]
    pub booking_ref: BookingRef,
    /// The stored status; `None` while the saga has not written the booking yet.
    pub status: Option<RecordStatus>,
    pub check_in: Option<NaiveDate>,
    pub check_out: Option<NaiveDate>,
    pub total_amount_paise: Option<i64>,
    pub currency: Option<String>,
    pub requested_at: DateTime<Utc>,
}

/// The bookings `owner` asked for (a user's or a partner's), newest first, before the
/// `(requested_at, booking_ref)` of the previous page's last line.
pub async fn bookings_requested_by(
    pool: &PgPool,
    owner: RequestOwner,
    kind: BookingKind,
    before: Option<(DateTime<Utc>, String)>,
    limit: i64,
) -> Result<Vec<BookingListItem>, sqlx::Error> {
    // One statement per owner column, so each uses that column's index.
    let (column, owner_id) = match owner {
        RequestOwner::User(id) => ("user_id", id),
        RequestOwner::Partner(id) => ("partner_id", id),
    };
    let (before_at, before_ref) = before.unzip();
    sqlx::query_as(&format!(
        "SELECT r.booking_ref, b.status, b.check_in, b.check_out, b.total_amount_paise, b.currency,
                r.created_at AS requested_at
         FROM booking_requests r LEFT JOIN bookings b USING (booking_ref)
         WHERE r.{column} = $1 AND r.kind = $5 AND (r.saga_started_at IS NOT NULL OR b.booking_id IS NOT NULL)
           AND ($2::timestamptz IS NULL OR (r.created_at, r.booking_ref) < ($2, $3))
         ORDER BY r.created_at DESC, r.booking_ref DESC LIMIT $4"
    ))
    .bind(owner_id)
    .bind(before_at)
    .bind(before_ref)
    .bind(limit)
    .bind(kind.as_str())
    .fetch_all(pool)
    .await
}

/// Unbinds a key bound moments ago by a request that then failed validation, so that the
/// client may correct the request and send it again under the same key. A started saga's
/// request is never unbound.
pub async fn forget_unstarted_request(pool: &PgPool, key: &str, booking_ref: &BookingRef) -> Result<(), sqlx::Error> {
    sqlx::query(
        "DELETE FROM booking_requests WHERE idempotency_key = $1 AND booking_ref = $2 AND saga_started_at IS NULL",
    )
    .bind(key)
    .bind(booking_ref.as_str())
    .execute(pool)
    .await?;
    Ok(())
}

/// Records that the saga of a booking reference was started.
///
/// The mark commits asynchronously, so the request does not wait for the disk: losing it
/// (PostgreSQL itself crashing within a fraction of a second) loses nothing that matters.
/// A retry of the request then starts the saga again, which attaches to the running one
/// (one workflow per reference), and booking lists also show every request whose booking
/// the saga recorded.
pub async fn mark_saga_started(pool: &PgPool, booking_ref: &BookingRef) -> Result<(), sqlx::Error> {
    sqlx::query(
        "WITH asynchronous AS (SELECT set_config('synchronous_commit', 'off', true))
         UPDATE booking_requests SET saga_started_at = now()
         FROM asynchronous WHERE booking_ref = $1 AND saga_started_at IS NULL",
    )
    .bind(booking_ref.as_str())
    .execute(pool)
    .await?;
    Ok(())
}

/// Keeps what an accepted request asked for, as its saga's first progress (`pending`), for
/// [`accepted_request`]. Committed asynchronously like [`mark_saga_started`]: the saga
/// records the booking itself moments later, so a lost write costs only this fallback.
pub async fn record_accepted(pool: &PgPool, progress: &BookingProgress) -> Result<(), sqlx::Error> {
    sqlx::query(
        "WITH asynchronous AS (SELECT set_config('synchronous_commit', 'off', true))
         UPDATE booking_requests SET accepted = $2 FROM asynchronous WHERE booking_ref = $1",
    )
    .bind(progress.booking_ref.as_str())
    .bind(sqlx::types::Json(progress))
    .execute(pool)
    .await?;
    Ok(())
}

/// What the accepted request of `booking_ref` asked for, as its saga's first progress;
/// `None` when no request with that reference was accepted (or its record was lost).
pub async fn accepted_request(pool: &PgPool, booking_ref: &BookingRef) -> Result<Option<BookingProgress>, sqlx::Error> {
    let accepted: Option<sqlx::types::Json<BookingProgress>> =
        sqlx::query_scalar("SELECT accepted FROM booking_requests WHERE booking_ref = $1 AND accepted IS NOT NULL")
            .bind(booking_ref.as_str())
            .fetch_optional(pool)
            .await?;
    Ok(accepted.map(|json| json.0))
}

async fn current_status(
    tx: &mut Transaction<'_, Postgres>,
    booking_ref: &BookingRef,
    wanted: RecordStatus,
) -> Result<Transition, sqlx::Error> {
    let status: Option<RecordStatus> = sqlx::query_scalar("SELECT status FROM bookings WHERE booking_ref = $1")
        .bind(booking_ref.as_str())
        .fetch_optional(&mut **tx)
        .await?;
    Ok(match status {
        None => Transition::NotFound,
        Some(s) if s == wanted => Transition::AlreadyApplied,
        Some(current) => Transition::Conflict { current },
    })
}

async fn record_version(
    tx: &mut Transaction<'_, Postgres>,
    booking_id: Uuid,
    version: i32,
    status: RecordStatus,
    actor: &str,
    action: &str,
    details: serde_json::Value,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO booking_versions (booking_id, version, status, snapshot)
         SELECT booking_id, $2, $3, to_jsonb(b) FROM bookings b WHERE booking_id = $1",
    )
    .bind(booking_id)
    .bind(version)
    .bind(status)
    .execute(&mut **tx)
    .await?;
    audit(tx, booking_id, actor, action, details).await
}

/// One audit line without a new version (a request that does not change the status yet).
async fn audit(
    tx: &mut Transaction<'_, Postgres>,
    booking_id: Uuid,
    actor: &str,
    action: &str,
    details: serde_json::Value,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO booking_audit_logs (booking_id, action, actor, details) VALUES ($1, $2, $3, $4)")
        .bind(booking_id)
        .bind(action)
        .bind(actor)
        .bind(details)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// How a cancellation request was met.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BeginCancellation {
    Terms(contracts::activities::CancellationTerms),
    NotCancellable { status: RecordStatus },
    NotFound,
}

/// A booking with the cancellation policy that applies to it (its own, else `standard`).
const CANCELLABLE_BOOKING: &str = "SELECT b.booking_id, b.status, b.check_in, b.hold_id, b.base_amount_paise,
            b.gst_amount_paise, b.amount_charged_paise, b.currency, p.code AS policy_code, p.tiers, p.refund_gst
     FROM bookings b
     LEFT JOIN cancellation_policies p
            ON p.cancellation_policy_id = COALESCE(b.cancellation_policy_id,
                 (SELECT cancellation_policy_id FROM cancellation_policies WHERE code = 'standard'))
     WHERE b.booking_ref = $1";

#[derive(sqlx::FromRow)]
struct CancellableBooking {
    booking_id: Uuid,
    status: RecordStatus,
    check_in: NaiveDate,
    hold_id: String,
    base_amount_paise: i64,
    gst_amount_paise: i64,
    amount_charged_paise: Option<i64>,
    currency: String,
    policy_code: Option<String>,
    tiers: Option<serde_json::Value>,
    refund_gst: Option<bool>,
}

impl CancellableBooking {
    fn policy(&self) -> Result<contracts::cancellation::CancellationPolicy, sqlx::Error> {
        use contracts::cancellation::{CancellationPolicy, CancellationTier};
        let tiers: Vec<CancellationTier> = self
            .tiers
            .clone()
            .map(serde_json::from_value)
            .transpose()
            .map_err(|e| sqlx::Error::Decode(Box::new(e)))?
            .unwrap_or_default();
        Ok(CancellationPolicy {
            code: self.policy_code.clone().unwrap_or_else(|| "none".into()),
            tiers,
            refund_gst: self.refund_gst.unwrap_or(true),
        })
    }

    /// `refund_bp` of what was charged, by the policy's rule for GST.
    fn refund(
        &self,
        policy: &contracts::cancellation::CancellationPolicy,
        refund_bp: u32,
        currency: contracts::Currency,
    ) -> contracts::Money {
        let charged = contracts::Money { amount: self.amount_charged_paise.unwrap_or(0), currency };
        contracts::cancellation::cancellation_refund(
            charged,
            self.base_amount_paise,
            self.gst_amount_paise,
            refund_bp,
            policy.refund_gst,
        )
    }
}

/// What cancelling a booking on `today` would refund by its policy; nothing is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CancellationPreview {
    /// The booking's record status: only a confirmed booking can be cancelled.
    pub status: RecordStatus,
    pub policy: String,
    pub days_before_check_in: i64,
    pub refund_bp: u32,
    pub charged: contracts::Money,
    pub refund: contracts::Money,
}

/// The terms [`begin_cancellation`] would fix for a traveller's cancellation today, without
/// fixing them; `None` for an unknown booking.
pub async fn preview_cancellation(
    pool: &PgPool,
    booking_ref: &BookingRef,
    today: NaiveDate,
) -> Result<Option<CancellationPreview>, sqlx::Error> {
    use contracts::{Currency, Money};
    let booking: Option<CancellableBooking> =
        sqlx::query_as(CANCELLABLE_BOOKING).bind(booking_ref.as_str()).fetch_optional(pool).await?;
    let Some(booking) = booking else { return Ok(None) };
    let currency = Currency::parse(&booking.currency).unwrap_or(Currency::Inr);
    let policy = booking.policy()?;
    let days = (booking.check_in - today).num_days();
    let refund_bp = policy.refund_bp(days);
    Ok(Some(CancellationPreview {
        status: booking.status,
        refund: booking.refund(&policy, refund_bp, currency),
        charged: Money { amount: booking.amount_charged_paise.unwrap_or(0), currency },
        policy: policy.code,
        days_before_check_in: days,
        refund_bp,
    }))
}

/// Fixes the terms of cancelling `request`'s booking, once: a repeated request finds the
/// terms already fixed. An override replaces the policy's rate and is recorded.
pub async fn begin_cancellation(
    pool: &PgPool,
    request: &contracts::activities::CancellationRequest,
    actor: &str,
) -> Result<BeginCancellation, sqlx::Error> {
    use contracts::{Currency, Money, activities::CancellationTerms};
    let c = &request.cancellation;
    let mut tx = pool.begin().await?;
    let booking: Option<CancellableBooking> = sqlx::query_as(&format!("{CANCELLABLE_BOOKING} FOR UPDATE OF b"))
        .bind(c.booking_ref.as_str())
        .fetch_optional(&mut *tx)
        .await?;
    let Some(booking) = booking else { return Ok(BeginCancellation::NotFound) };
    let currency = Currency::parse(&booking.currency).unwrap_or(Currency::Inr);
    let fixed: Option<(String, i32, i32, i64)> = sqlx::query_as(
        "SELECT policy_code, days_before_check_in, refund_bp, refund_paise FROM booking_cancellations WHERE booking_id = $1",
    )
    .bind(booking.booking_id)
    .fetch_optional(&mut *tx)
    .await?;
    let other_holds = included_stay_holds(&mut tx, booking.booking_id).await?;
    if let Some((policy, days, bp, refund)) = fixed {
        return Ok(BeginCancellation::Terms(CancellationTerms {
            policy,
            days_before_check_in: i64::from(days),
            refund_bp: u32::try_from(bp).unwrap_or(0),
            refund: Money { amount: refund, currency },
            hold_id: booking.hold_id,
            other_holds,
        }));
    }
    if booking.status != RecordStatus::Confirmed {
        return Ok(BeginCancellation::NotCancellable { status: booking.status });
    }
    let policy = booking.policy()?;
    let days = (booking.check_in - request.today).num_days();
    let refund_bp = c.override_refund.as_ref().map_or_else(|| policy.refund_bp(days), |o| o.refund_bp.min(10_000));
    let refund = booking.refund(&policy, refund_bp, currency);
    sqlx::query(
        "INSERT INTO booking_cancellations (booking_id, requested_by, reason, policy_code, days_before_check_in,
                                            refund_bp, refund_paise, overridden)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(booking.booking_id)
    .bind(&c.requested_by)
    .bind(&c.reason)
    .bind(&policy.code)
    .bind(i32::try_from(days).unwrap_or(i32::MAX))
    .bind(i32::try_from(refund_bp).unwrap_or(0))
    .bind(refund.amount)
    .bind(c.override_refund.is_some())
    .execute(&mut *tx)
    .await?;
    if let Some(o) = &c.override_refund {
        sqlx::query(
            "INSERT INTO booking_overrides (booking_override_id, booking_id, kind, value, reason, created_by)
             VALUES ($1, $2, 'cancellation_refund', $3, $4, $5)",
        )
        .bind(Uuid::new_v4())
        .bind(booking.booking_id)
        .bind(json!({ "refund_bp": o.refund_bp, "policy_refund_bp": policy.refund_bp(days) }))
        .bind(&o.reason)
        .bind(o.by)
        .execute(&mut *tx)
        .await?;
    }
    audit(
        &mut tx,
        booking.booking_id,
        actor,
        "cancellation_requested",
        json!({ "by": c.requested_by, "reason": c.reason, "refund_bp": refund_bp, "refund_paise": refund.amount,
                "days_before_check_in": days, "policy": policy.code, "overridden": c.override_refund.is_some() }),
    )
    .await?;
    tx.commit().await?;
    Ok(BeginCancellation::Terms(CancellationTerms {
        policy: policy.code,
        days_before_check_in: days,
        refund_bp,
        refund,
        hold_id: booking.hold_id,
        other_holds,
    }))
}

/// What a repair of a stopped saga reads of a booking of either kind.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RecordForRepair {
    pub status: RecordStatus,
    pub total_amount_paise: i64,
    pub currency: String,
    /// The booking's hold, then (for a package) its included stays' holds in itinerary order.
    pub hold_ids: Vec<String>,
}

pub async fn record_for_repair(
    pool: &PgPool,
    booking_ref: &BookingRef,
) -> Result<Option<RecordForRepair>, sqlx::Error> {
    sqlx::query_as(
        "SELECT b.status, b.total_amount_paise, b.currency,
                array_prepend(b.hold_id, ARRAY(
                    SELECT i.hold_id FROM booking_items i
                    WHERE i.booking_id = b.booking_id AND i.kind = 'room_night' AND i.hold_id IS NOT NULL
                      AND i.hold_id <> b.hold_id
                    GROUP BY i.hold_id ORDER BY min(i.night))) AS hold_ids
         FROM bookings b WHERE b.booking_ref = $1",
    )
    .bind(booking_ref.as_str())
    .fetch_optional(pool)
    .await
}

/// The holds of a package booking's included stays, in itinerary order; none for a stay.
async fn included_stay_holds(tx: &mut Transaction<'_, Postgres>, booking_id: Uuid) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT hold_id FROM booking_items
         WHERE booking_id = $1 AND kind = 'room_night' AND hold_id IS NOT NULL
         GROUP BY hold_id ORDER BY min(night)",
    )
    .bind(booking_id)
    .fetch_all(&mut **tx)
    .await
}

/// One audit line on a booking's record, by someone acting on it from outside its saga;
/// false when no record was written (yet).
pub async fn note(
    pool: &PgPool,
    booking_ref: &BookingRef,
    action: &str,
    actor: &str,
    details: serde_json::Value,
) -> Result<bool, sqlx::Error> {
    let written = sqlx::query(
        "INSERT INTO booking_audit_logs (booking_id, action, actor, details)
         SELECT booking_id, $2, $3, $4 FROM bookings WHERE booking_ref = $1",
    )
    .bind(booking_ref.as_str())
    .bind(action)
    .bind(actor)
    .bind(details)
    .execute(pool)
    .await?;
    Ok(written.rows_affected() > 0)
}

/// The audit line of a refund an operator issued, once per refund key; false when the
/// booking has no record.
pub async fn record_refund(pool: &PgPool, refund: &contracts::activities::RefundIssued) -> Result<bool, sqlx::Error> {
    let written = sqlx::query(
        "INSERT INTO booking_audit_logs (booking_id, action, actor, details)
         SELECT booking_id, 'refund_issued', $2, $3 FROM bookings WHERE booking_ref = $1
         ON CONFLICT ((details ->> 'refund_key')) WHERE action = 'refund_issued' DO NOTHING",
    )
    .bind(refund.booking_ref.as_str())
    .bind(&refund.requested_by)
    .bind(json!({
        "refund_key": refund.refund_key,
        "amount": refund.amount,
        "reason": refund.reason,
    }))
    .execute(pool)
    .await?;
    if written.rows_affected() > 0 {
        return Ok(true);
    }
    let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM bookings WHERE booking_ref = $1)")
        .bind(refund.booking_ref.as_str())
        .fetch_one(pool)
        .await?;
    Ok(exists)
}

/// Marks the booking cancelled (a new version) and records what was refunded.
pub async fn complete_cancellation(
    pool: &PgPool,
    completion: &contracts::activities::CancellationCompletion,
    actor: &str,
) -> Result<Transition, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let updated: Option<(Uuid, i32)> = sqlx::query_as(
        "UPDATE bookings SET status = 'cancelled', version = version + 1, updated_at = now()
         WHERE booking_ref = $1 AND status = 'confirmed'
         RETURNING booking_id, version",
    )
    .bind(completion.booking_ref.as_str())
    .fetch_optional(&mut *tx)
    .await?;
    let Some((booking_id, version)) = updated else {
        return current_status(&mut tx, &completion.booking_ref, RecordStatus::Cancelled).await;
    };
    sqlx::query(
        "UPDATE booking_cancellations SET refunded_paise = $2, completed_at = now(), updated_at = now()
         WHERE booking_id = $1",
    )
    .bind(booking_id)
    .bind(completion.refunded.amount)
    .execute(&mut *tx)
    .await?;
    let details = json!({ "refunded": completion.refunded });
    record_version(&mut tx, booking_id, version, RecordStatus::Cancelled, actor, "cancelled", details).await?;
    tx.commit().await?;
    Ok(Transition::Applied)
}

/// What operators search every booking by; each filter given narrows the list.
#[derive(Debug, Clone, Default)]
pub struct BookingSearch {
    /// A booking reference, or its beginning (`TRP-7K`).
    pub reference: Option<String>,
    pub status: Option<RecordStatus>,
    pub kind: Option<BookingKind>,
    /// A stay's accommodation, or a package booking that includes a stay there.
    pub accommodation_id: Option<Uuid>,
    pub package_id: Option<Uuid>,
    /// Check-in (a package's departure) on or after, and on or before.
    pub check_in_from: Option<NaiveDate>,
    pub check_in_to: Option<NaiveDate>,
    /// Booked at or after, and before.
    pub created_from: Option<DateTime<Utc>>,
    pub created_to: Option<DateTime<Utc>>,
    /// A customer's e-mail (any case) or phone, exactly as recorded.
    pub email: Option<String>,
    pub phone: Option<String>,
    pub partner_id: Option<Uuid>,
}

/// The order of an operator's booking list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BookingSearchOrder {
    /// Newest first (the default).
    #[default]
    Newest,
    /// By check-in (departure), soonest first.
    CheckIn,
}

/// One booking in an operator's list.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct BookingLine {
    #[sqlx(try_from = "String")]
    pub booking_ref: BookingRef,
    pub kind: String,
    pub status: RecordStatus,
    pub channel: String,
    pub accommodation_id: Option<Uuid>,
    pub room_type: Option<String>,
    pub package_id: Option<Uuid>,
    pub check_in: NaiveDate,
    pub check_out: NaiveDate,
    pub rooms: i32,
    pub guests: i32,
    pub total_amount_paise: i64,
    pub amount_charged_paise: Option<i64>,
    pub currency: String,
    pub user_id: Option<Uuid>,
    pub partner_id: Option<Uuid>,
    pub lead_traveller: Option<String>,
    pub failure_code: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// Where the previous page of an operator's list ended: its last line's sort key and
/// reference.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum BookingSearchAfter {
    Newest { created_at: DateTime<Utc>, booking_ref: String },
    CheckIn { check_in: NaiveDate, booking_ref: String },
}

impl BookingLine {
    pub fn position(&self, order: BookingSearchOrder) -> BookingSearchAfter {
        let booking_ref = self.booking_ref.to_string();
        match order {
            BookingSearchOrder::Newest => BookingSearchAfter::Newest { created_at: self.created_at, booking_ref },
            BookingSearchOrder::CheckIn => BookingSearchAfter::CheckIn { check_in: self.check_in, booking_ref },
        }
    }
}

const BOOKING_LINE: &str = "SELECT b.booking_ref, b.kind, b.status, b.channel, b.accommodation_id, b.room_type,
            b.package_id, b.check_in, b.check_out, b.rooms, b.guests, b.total_amount_paise,
            b.amount_charged_paise, b.currency, b.user_id, b.partner_id,
            (SELECT c.full_name FROM booking_customers c WHERE c.booking_id = b.booking_id AND c.is_lead) AS lead_traveller,
            b.failure_code, b.created_at
     FROM bookings b";

/// Every booking `search` names, a page at a time in `order`, after `after`.
pub async fn search_bookings(
    pool: &PgPool,
    search: &BookingSearch,
    order: BookingSearchOrder,
    after: Option<&BookingSearchAfter>,
    limit: i64,
) -> Result<Vec<BookingLine>, sqlx::Error> {
    let (after_at, after_day, after_ref) = match after {
        Some(BookingSearchAfter::Newest { created_at, booking_ref }) => (Some(*created_at), None, Some(booking_ref)),
        Some(BookingSearchAfter::CheckIn { check_in, booking_ref }) => (None, Some(*check_in), Some(booking_ref)),
        None => (None, None, None),
    };
    let (keyset, order_by) = match order {
        BookingSearchOrder::Newest => (
            "($14::timestamptz IS NULL OR (b.created_at, b.booking_ref) < ($14, $16))",
            "b.created_at DESC, b.booking_ref DESC",
        ),
        BookingSearchOrder::CheckIn => {
            ("($15::date IS NULL OR (b.check_in, b.booking_ref) > ($15, $16))", "b.check_in, b.booking_ref")
        }
    };
    let sql = format!(
        "{BOOKING_LINE}
         WHERE ($1::text IS NULL OR b.booking_ref LIKE $1 || '%')
           AND ($2::text IS NULL OR b.status = $2)
           AND ($3::text IS NULL OR b.kind = $3)
           AND ($4::uuid IS NULL OR b.accommodation_id = $4 OR EXISTS (
                SELECT 1 FROM booking_items i WHERE i.booking_id = b.booking_id AND i.accommodation_id = $4))
           AND ($5::uuid IS NULL OR b.package_id = $5)
           AND ($6::date IS NULL OR b.check_in >= $6)
           AND ($7::date IS NULL OR b.check_in <= $7)
           AND ($8::timestamptz IS NULL OR b.created_at >= $8)
           AND ($9::timestamptz IS NULL OR b.created_at < $9)
           AND ($10::text IS NULL OR EXISTS (
                SELECT 1 FROM booking_customers c JOIN booking_customer_contacts k USING (booking_customer_id)
                WHERE c.booking_id = b.booking_id AND k.kind = 'email' AND lower(k.value) = lower($10)))
           AND ($11::text IS NULL OR EXISTS (
                SELECT 1 FROM booking_customers c JOIN booking_customer_contacts k USING (booking_customer_id)
                WHERE c.booking_id = b.booking_id AND k.kind = 'phone' AND k.value = $11))
           AND ($12::uuid IS NULL OR b.partner_id = $12)
           AND {keyset}
         ORDER BY {order_by}
         LIMIT $13"
    );
    sqlx::query_as(&sql)
        .bind(search.reference.as_deref())
        .bind(search.status.map(RecordStatus::as_str))
        .bind(search.kind.map(BookingKind::as_str))
        .bind(search.accommodation_id)
        .bind(search.package_id)
        .bind(search.check_in_from)
        .bind(search.check_in_to)
        .bind(search.created_from)
        .bind(search.created_to)
        .bind(search.email.as_deref())
        .bind(search.phone.as_deref())
        .bind(search.partner_id)
        .bind(limit)
        .bind(after_at)
        .bind(after_day)
        .bind(after_ref)
        .fetch_all(pool)
        .await
}

/// One booking whole, as operators read it: the record, its items, customers and contacts,
/// versions, audit trail and cancellation terms.
#[derive(Debug, Clone)]
pub struct BookingDossier {
    pub booking: BookingLine,
    pub items: Vec<ItemLine>,
    pub customers: Vec<CustomerLine>,
    pub versions: Vec<BookingVersion>,
    pub audit: Vec<AuditLine>,
    pub cancellation: Option<CancellationLine>,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ItemLine {
    pub kind: String,
    pub night: NaiveDate,
    pub seats: Option<i32>,
    pub rooms: i32,
    pub accommodation_id: Option<Uuid>,
    pub room_type: Option<String>,
    pub tariff_paise: i64,
    pub base_paise: i64,
    pub gst_rate_bp: i32,
    pub gst_paise: i64,
    pub hold_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CustomerLine {
    pub full_name: String,
    pub is_lead: bool,
    pub email: Option<String>,
    pub phone: Option<String>,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct AuditLine {
    pub at: DateTime<Utc>,
    pub action: String,
    pub actor: String,
    pub details: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CancellationLine {
    pub requested_by: String,
    pub reason: String,
    pub policy_code: String,
    pub days_before_check_in: i32,
    pub refund_bp: i32,
    pub refund_paise: i64,
    pub overridden: bool,
    pub refunded_paise: Option<i64>,
    pub completed_at: Option<DateTime<Utc>>,
}

/// The booking `booking_ref` whole; `None` before its saga records it.
pub async fn booking_dossier(pool: &PgPool, booking_ref: &BookingRef) -> Result<Option<BookingDossier>, sqlx::Error> {
    let booking: Option<BookingLine> = sqlx::query_as(&format!("{BOOKING_LINE} WHERE b.booking_ref = $1"))
        .bind(booking_ref.as_str())
        .fetch_optional(pool)
        .await?;
    let Some(booking) = booking else { return Ok(None) };
    // Each part by the booking's reference: the lookup of its id is an index probe per part.
    let items = sqlx::query_as(
        "SELECT kind, night, seats, rooms, accommodation_id, room_type, tariff_paise, base_paise, gst_rate_bp,
                gst_paise, hold_id
         FROM booking_items WHERE booking_id = (SELECT booking_id FROM bookings WHERE booking_ref = $1)
         ORDER BY kind, night",
    );
    let customers = sqlx::query_as(
        "SELECT c.full_name, c.is_lead,
                (SELECT value FROM booking_customer_contacts k
                 WHERE k.booking_customer_id = c.booking_customer_id AND k.kind = 'email') AS email,
                (SELECT value FROM booking_customer_contacts k
                 WHERE k.booking_customer_id = c.booking_customer_id AND k.kind = 'phone') AS phone
         FROM booking_customers c WHERE c.booking_id = (SELECT booking_id FROM bookings WHERE booking_ref = $1)
         ORDER BY c.is_lead DESC, c.created_at",
    );
    let audit = sqlx::query_as(
        "SELECT created_at AS at, action, actor, details FROM booking_audit_logs
         WHERE booking_id = (SELECT booking_id FROM bookings WHERE booking_ref = $1)
         ORDER BY created_at, booking_audit_log_id",
    );
    let cancellation = sqlx::query_as(
        "SELECT requested_by, reason, policy_code, days_before_check_in, refund_bp, refund_paise, overridden,
                refunded_paise, completed_at
         FROM booking_cancellations WHERE booking_id = (SELECT booking_id FROM bookings WHERE booking_ref = $1)",
    );
    let reference = booking_ref.as_str();
    Ok(Some(BookingDossier {
        booking,
        items: items.bind(reference).fetch_all(pool).await?,
        customers: customers.bind(reference).fetch_all(pool).await?,
        versions: versions(pool, booking_ref).await?,
        audit: audit.bind(reference).fetch_all(pool).await?,
        cancellation: cancellation.bind(reference).fetch_optional(pool).await?,
    }))
}
