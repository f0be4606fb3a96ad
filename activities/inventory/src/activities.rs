//! The inventory context's activities, polled on the `inventory` task queue.

use crate::store::{self, ConfirmOutcome, HoldOutcome, SeatHoldOutcome};
use contracts::activities::{ExtendHolds, HoldPlaced, HoldRequest, SeatHoldRequest, definitions, failure_type};
use sqlx::PgPool;
use std::{sync::Arc, time::Duration};
use temporalio_common::error::ApplicationFailure;
use temporalio_macros::activities;
use temporalio_sdk::activities::{ActivityContext, ActivityError};

pub struct InventoryActivitiesImpl {
    pool: PgPool,
    /// How long a hold lasts before it stops counting (and a sweep may release it).
    hold_ttl: Duration,
}

impl InventoryActivitiesImpl {
    pub fn new(pool: PgPool, hold_ttl: Duration) -> Self {
        InventoryActivitiesImpl { pool, hold_ttl }
    }
}

#[activities]
impl InventoryActivitiesImpl {
    #[activity(definition = definitions::HoldRooms)]
    #[tracing::instrument(skip_all, fields(booking_ref = %request.booking_ref, hold_id = %request.hold_id))]
    pub async fn hold_rooms(
        self: Arc<Self>,
        _ctx: ActivityContext,
        request: HoldRequest,
    ) -> Result<HoldPlaced, ActivityError> {
        let expires_at = chrono::Utc::now() + self.hold_ttl;
        match store::hold_rooms(&self.pool, &request, expires_at).await? {
            HoldOutcome::Placed | HoldOutcome::AlreadyPlaced => {
                // An earlier attempt may have placed it: its expiry is the one on record.
                let expires_at = store::hold_expiry(&self.pool, &request.hold_id).await?.unwrap_or(expires_at);
                Ok(HoldPlaced { hold_id: request.hold_id, expires_at_ms: Some(expires_at.timestamp_millis()) })
            }
            HoldOutcome::Released => {
                Err(ApplicationFailure::builder(format!("hold {} was released already", request.hold_id))
                    .type_name(failure_type::HOLD_NOT_FOUND.to_string())
                    .non_retryable(true)
                    .build()
                    .into())
            }
            HoldOutcome::SoldOut { nights } => {
                let list: Vec<String> = nights.iter().map(|n| n.to_string()).collect();
                tracing::info!(nights = %list.join(","), "sold out");
                metrics::counter!("tt_holds_sold_out_total").increment(1);
                Err(ApplicationFailure::builder(format!("No {} rooms left for {}", request.room_type, list.join(", ")))
                    .type_name(failure_type::SOLD_OUT.to_string())
                    .non_retryable(true)
                    .build()
                    .into())
            }
        }
    }

    #[activity(definition = definitions::HoldSeats)]
    #[tracing::instrument(skip_all, fields(booking_ref = %request.booking_ref, hold_id = %request.hold_id))]
    pub async fn hold_seats(
        self: Arc<Self>,
        _ctx: ActivityContext,
        request: SeatHoldRequest,
    ) -> Result<HoldPlaced, ActivityError> {
        let expires_at = chrono::Utc::now() + self.hold_ttl;
        match store::hold_seats(&self.pool, &request, expires_at).await? {
            SeatHoldOutcome::Placed | SeatHoldOutcome::AlreadyPlaced => {
                // An earlier attempt may have placed it: its expiry is the one on record.
                let expires_at = store::hold_expiry(&self.pool, &request.hold_id).await?.unwrap_or(expires_at);
                Ok(HoldPlaced { hold_id: request.hold_id, expires_at_ms: Some(expires_at.timestamp_millis()) })
            }
            SeatHoldOutcome::Released => {
                Err(ApplicationFailure::builder(format!("hold {} was released already", request.hold_id))
                    .type_name(failure_type::HOLD_NOT_FOUND.to_string())
                    .non_retryable(true)
                    .build()
                    .into())
            }
            SeatHoldOutcome::SoldOut { seats_left } => {
                tracing::info!(departure = %request.departure, seats_left, "sold out");
                metrics::counter!("tt_holds_sold_out_total").increment(1);
                Err(ApplicationFailure::builder(format!(
                    "{} seats asked, {seats_left} left on the {} departure",
                    request.seats, request.departure
                ))
                .type_name(failure_type::SOLD_OUT.to_string())
                .non_retryable(true)
                .build()
                .into())
            }
        }
    }

    #[activity(definition = definitions::ReleaseHold)]
    #[tracing::instrument(skip_all, fields(hold_id = %hold_id))]
    pub async fn release_hold(self: Arc<Self>, _ctx: ActivityContext, hold_id: String) -> Result<(), ActivityError> {
        store::release_hold(&self.pool, &hold_id).await?;
        Ok(())
    }

    #[activity(definition = definitions::ReleaseExpiredHolds)]
    pub async fn release_expired_holds(
        self: Arc<Self>,
        _ctx: ActivityContext,
        limit: u32,
    ) -> Result<u32, ActivityError> {
        let released = store::release_expired_holds(&self.pool, i64::from(limit)).await?;
        Ok(u32::try_from(released).unwrap_or(u32::MAX))
    }

    #[activity(definition = definitions::UnbookHold)]
    #[tracing::instrument(skip_all, fields(hold_id = %hold_id))]
    pub async fn unbook_hold(self: Arc<Self>, _ctx: ActivityContext, hold_id: String) -> Result<(), ActivityError> {
        store::unbook_hold(&self.pool, &hold_id).await?;
        Ok(())
    }

    #[activity(definition = definitions::ExtendHolds)]
    #[tracing::instrument(skip_all, fields(holds = ?request.hold_ids))]
    pub async fn extend_holds(
        self: Arc<Self>,
        _ctx: ActivityContext,
        request: ExtendHolds,
    ) -> Result<(), ActivityError> {
        let until = chrono::DateTime::from_timestamp_millis(request.until_ms).ok_or_else(|| {
            ApplicationFailure::builder(format!("{} is no time", request.until_ms)).non_retryable(true).build()
        })?;
        let gone = store::extend_holds(&self.pool, &request.hold_ids, until).await?;
        if gone.is_empty() {
            return Ok(());
        }
        Err(ApplicationFailure::builder(format!("holds {gone:?} are not live"))
            .type_name(failure_type::HOLD_NOT_FOUND.to_string())
            .non_retryable(true)
            .build()
            .into())
    }

    #[activity(definition = definitions::ConfirmHold)]
    #[tracing::instrument(skip_all, fields(hold_id = %hold_id))]
    pub async fn confirm_hold(self: Arc<Self>, _ctx: ActivityContext, hold_id: String) -> Result<(), ActivityError> {
        match store::confirm_hold(&self.pool, &hold_id).await? {
            ConfirmOutcome::Confirmed | ConfirmOutcome::AlreadyConfirmed => Ok(()),
            ConfirmOutcome::NotHeld => Err(ApplicationFailure::builder(format!("hold {hold_id} is not live"))
                .type_name(failure_type::HOLD_NOT_FOUND.to_string())
                .non_retryable(true)
                .build()
                .into()),
        }
    }
}
