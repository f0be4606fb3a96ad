//! [`Bookings`], the booking context's one door: the API reads booking records and binds
//! booking requests only through it; the saga writes records through the booking activities.

use crate::{
    lifecycle::RecordStatus,
    partner_channel,
    store::{
        self, BookingAccess, BookingKind, BookingListItem, BookingRow, BookingVersion, IdempotentRequest,
        PackageBookingRow, RequestOwner,
    },
};
use chrono::{DateTime, Utc};
use contracts::{BookingRef, saga::BookingProgress};
use sqlx::PgPool;
use uuid::Uuid;

/// Where a page of a booking list starts: after the `(requested_at, booking_ref)` of the
/// previous page's last line, newest first.
pub type ListPosition = (DateTime<Utc>, String);

/// The booking context: owns its pool; the API and the workers reach its tables only here.
#[derive(Clone)]
pub struct Bookings {
    pool: PgPool,
}

/// How many fresh references to try when a new one collides with an existing one: each
/// collision has a chance of about one in a billion.
const REFERENCE_ATTEMPTS: usize = 5;

impl Bookings {
    pub fn new(pool: PgPool) -> Self {
        Bookings { pool }
    }

    /// Whether the context's database answers (readiness probes).
    pub async fn is_reachable(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
    }

    /// The booking record, once the saga has written it.
    pub async fn find(&self, booking_ref: &BookingRef) -> Result<Option<BookingRow>, sqlx::Error> {
        store::find_booking(&self.pool, booking_ref).await
    }

    /// The record of a package booking, with its included stays, once the saga has written it.
    pub async fn find_package(&self, booking_ref: &BookingRef) -> Result<Option<PackageBookingRow>, sqlx::Error> {
        store::find_package_booking(&self.pool, booking_ref).await
    }

    /// What a booking reference sells; `None` for an unknown reference.
    pub async fn kind_of(&self, booking_ref: &BookingRef) -> Result<Option<BookingKind>, sqlx::Error> {
        store::kind_of(&self.pool, booking_ref).await
    }

    /// A booking's record status, whatever it sells; `None` before its saga records it.
    pub async fn record_status(&self, booking_ref: &BookingRef) -> Result<Option<RecordStatus>, sqlx::Error> {
        store::record_status(&self.pool, booking_ref).await
    }

    /// An audit line on the booking's record by an operator or partner acting on it; false
    /// when no record was written yet.
    pub async fn note(
        &self,
        booking_ref: &BookingRef,
        action: &str,
        actor: &str,
        details: serde_json::Value,
    ) -> Result<bool, sqlx::Error> {
        store::note(&self.pool, booking_ref, action, actor, details).await
    }

    /// Every booking `search` names, for operators, a page at a time.
    pub async fn search(
        &self,
        search: &store::BookingSearch,
        order: store::BookingSearchOrder,
        after: Option<&store::BookingSearchAfter>,
        limit: i64,
    ) -> Result<Vec<store::BookingLine>, sqlx::Error> {
        store::search_bookings(&self.pool, search, order, after, limit).await
    }

    /// One booking whole, for operators; `None` before its saga records it.
    pub async fn dossier(&self, booking_ref: &BookingRef) -> Result<Option<store::BookingDossier>, sqlx::Error> {
        store::booking_dossier(&self.pool, booking_ref).await
    }

    /// What `user_id` may do with a booking: its requester may see and change it; access
    /// policies may grant others either.
    pub async fn access_of(&self, booking_ref: &BookingRef, user_id: Uuid) -> Result<BookingAccess, sqlx::Error> {
        store::access_of(&self.pool, booking_ref, user_id).await
    }

    /// What cancelling the booking on `today` (India's date) would refund by its policy.
    pub async fn preview_cancellation(
        &self,
        booking_ref: &BookingRef,
        today: chrono::NaiveDate,
    ) -> Result<Option<store::CancellationPreview>, sqlx::Error> {
        store::preview_cancellation(&self.pool, booking_ref, today).await
    }

    /// Every version of a booking record, oldest first.
    pub async fn versions(&self, booking_ref: &BookingRef) -> Result<Vec<BookingVersion>, sqlx::Error> {
        store::versions(&self.pool, booking_ref).await
    }

    /// The bookings of one kind a user or a partner asked for, newest first.
    pub async fn requested_by(
        &self,
        owner: RequestOwner,
        kind: BookingKind,
        after: Option<ListPosition>,
        limit: i64,
    ) -> Result<Vec<BookingListItem>, sqlx::Error> {
        store::bookings_requested_by(&self.pool, owner, kind, after, limit).await
    }

    /// The partner that asked for a booking: `None` if no request made it, `Some(None)` for
    /// a booking of another channel.
    pub async fn partner_of(&self, booking_ref: &BookingRef) -> Result<Option<Option<Uuid>>, sqlx::Error> {
        partner_channel::booking_partner(&self.pool, booking_ref).await
    }

    /// Binds a fresh booking reference to the request under `key` (already scoped to its
    /// owner), or finds the reference an earlier request with the same key bound (or that
    /// it had another body, told by `request_hash`).
    pub async fn bind_request(
        &self,
        key: &str,
        request_hash: &[u8],
        owner: RequestOwner,
        kind: BookingKind,
    ) -> Result<IdempotentRequest, sqlx::Error> {
        let mut attempts = 0;
        loop {
            let candidate = BookingRef::from_random(rand::random());
            match store::claim_request(&self.pool, key, request_hash, &candidate, owner, kind).await {
                Err(sqlx::Error::Database(e))
                    if e.constraint() == Some("booking_requests_booking_ref_key")
                        && attempts + 1 < REFERENCE_ATTEMPTS =>
                {
                    attempts += 1;
                }
                bound => return bound,
            }
        }
    }

    /// Unbinds a key bound moments ago by a request that then failed validation, so the
    /// client may correct it and send it again under the same key.
    pub async fn forget_unstarted_request(&self, key: &str, booking_ref: &BookingRef) -> Result<(), sqlx::Error> {
        store::forget_unstarted_request(&self.pool, key, booking_ref).await
    }

    /// Records that the saga of a booking reference was started.
    pub async fn mark_saga_started(&self, booking_ref: &BookingRef) -> Result<(), sqlx::Error> {
        store::mark_saga_started(&self.pool, booking_ref).await
    }

    /// Keeps what an accepted request asked for, as its saga's first progress.
    pub async fn record_accepted(&self, progress: &BookingProgress) -> Result<(), sqlx::Error> {
        store::record_accepted(&self.pool, progress).await
    }

    /// What the accepted request of `booking_ref` asked for, as its saga's first progress:
    /// what the API answers while the saga cannot be asked and has recorded nothing yet.
    pub async fn accepted_request(&self, booking_ref: &BookingRef) -> Result<Option<BookingProgress>, sqlx::Error> {
        store::accepted_request(&self.pool, booking_ref).await
    }
}
