//! Bookings of the partner channel: the partner API's requests and ownership checks, and the
//! sales totals partner settlements read (activity `booking.total_partner_sales` on the
//! `booking` queue). All their SQL is here.

use contracts::{
    BookingRef, Money,
    settlement::{PartnerSales, PartnerSalesRequest, definitions},
};
use sqlx::PgPool;
use std::sync::Arc;
use temporalio_macros::activities;
use temporalio_sdk::activities::{ActivityContext, ActivityError};
use uuid::Uuid;

/// The partner that asked for `booking_ref`: `None` if no request made it, `Some(None)` for
/// a booking of another channel.
pub async fn booking_partner(pool: &PgPool, booking_ref: &BookingRef) -> Result<Option<Option<Uuid>>, sqlx::Error> {
    sqlx::query_scalar("SELECT partner_id FROM booking_requests WHERE booking_ref = $1")
        .bind(booking_ref.as_str())
        .fetch_optional(pool)
        .await
}

/// What a partner sold in a period: bookings whose confirmation falls in it, with what was
/// captured for them, and the refunds of cancellations completed in it, whichever period
/// their booking was confirmed in.
pub async fn partner_sales(pool: &PgPool, request: &PartnerSalesRequest) -> Result<PartnerSales, sqlx::Error> {
    let from = contracts::india::start_of_day(request.period.start);
    let to = contracts::india::start_of_day(request.period.end);
    let (bookings, collected): (i64, i64) = sqlx::query_as(
        "SELECT count(*), coalesce(sum(b.amount_charged_paise), 0)::bigint
         FROM bookings b JOIN booking_versions v ON v.booking_id = b.booking_id AND v.status = 'confirmed'
         WHERE b.partner_id = $1 AND v.created_at >= $2 AND v.created_at < $3",
    )
    .bind(request.partner_id)
    .bind(from)
    .bind(to)
    .fetch_one(pool)
    .await?;
    let (refunds, refunded): (i64, i64) = sqlx::query_as(
        "SELECT count(*), coalesce(sum(c.refunded_paise), 0)::bigint
         FROM booking_cancellations c JOIN bookings b USING (booking_id)
         WHERE b.partner_id = $1 AND c.refunded_paise > 0 AND c.completed_at >= $2 AND c.completed_at < $3",
    )
    .bind(request.partner_id)
    .bind(from)
    .bind(to)
    .fetch_one(pool)
    .await?;
    Ok(PartnerSales {
        bookings: u32::try_from(bookings).unwrap_or(u32::MAX),
        collected: Money::inr(collected),
        refunds: u32::try_from(refunds).unwrap_or(u32::MAX),
        refunded: Money::inr(refunded),
    })
}

/// The booking context's activities for partner settlements, on the `booking` queue.
pub struct PartnerSalesActivitiesImpl {
    pool: PgPool,
}

impl PartnerSalesActivitiesImpl {
    pub fn new(pool: PgPool) -> Self {
        PartnerSalesActivitiesImpl { pool }
    }
}

#[activities]
impl PartnerSalesActivitiesImpl {
    /// A read: safe to run any number of times. Once the period has ended it gives the same
    /// answer every time, since confirmations and cancellations are dated when they happen.
    #[activity(definition = definitions::TotalPartnerSales)]
    #[tracing::instrument(skip_all, fields(partner_id = %request.partner_id, period_start = %request.period.start))]
    pub async fn total_partner_sales(
        self: Arc<Self>,
        _ctx: ActivityContext,
        request: PartnerSalesRequest,
    ) -> Result<PartnerSales, ActivityError> {
        Ok(partner_sales(&self.pool, &request).await?)
    }
}
