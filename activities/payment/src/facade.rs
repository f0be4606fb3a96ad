//! [`Payments`], the payment context's one door: payments, refunds and the gateway's webhooks.

use crate::store::{self, NewRefundRequest, PaymentRow, RefundRequestRow, WebhookEvent, WebhookOutcome};
use contracts::BookingRef;
use sqlx::PgPool;
use std::time::Duration;

/// An operator's refund to reserve on a booking's capture.
pub struct RefundAsk<'a> {
    /// The booking's charge (`booking-<ref>/charge`).
    pub charge_key: &'a str,
    /// The key the refund is reserved, sent and recorded under.
    pub refund_key: &'a str,
    /// Paise; `None` for everything still refundable.
    pub amount_paise: Option<i64>,
    pub reason: &'a str,
    /// `user:<id>`.
    pub requested_by: &'a str,
}

/// Why a refund could not be reserved.
#[derive(Debug, thiserror::Error)]
pub enum RefundRefused {
    #[error("the booking has no captured payment")]
    NothingCaptured,
    #[error("everything captured was refunded or is being refunded")]
    NothingLeft,
    #[error("at most {refundable} paise can still be refunded")]
    MoreThanRefundable { refundable: i64 },
    #[error("the key was used for another refund")]
    KeyReused { existing: Box<RefundRequestRow> },
    #[error("another payment step holds the charge; try again shortly")]
    Busy,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// How long reserving a refund waits for a charge another step is working on.
const RESERVE_LOCK_WAIT: Duration = Duration::from_secs(5);

/// The payment context: owns its pool; the API and the workers reach its tables only here.
#[derive(Clone)]
pub struct Payments {
    pool: PgPool,
}

impl Payments {
    pub fn new(pool: PgPool) -> Self {
        Payments { pool }
    }

    /// Whether the context's database answers (readiness probes).
    pub async fn is_reachable(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
    }

    /// What a booking has paid and had back, in paise: `(captured, refunded)`. The payment
    /// context's books are the truth about money, automatic refunds included.
    pub async fn money_of_booking(&self, booking_ref: &BookingRef) -> Result<(i64, i64), sqlx::Error> {
        store::money_of_booking(&self.pool, booking_ref).await
    }

    /// Records a gateway webhook event unless it is known; returns whether it still needs
    /// applying (a new event, or one received before whose application did not finish).
    pub async fn receive_webhook(&self, event: &WebhookEvent<'_>) -> Result<bool, sqlx::Error> {
        store::receive_webhook(&self.pool, event).await
    }

    /// Records what applying a webhook event came to, so that its redeliveries change nothing.
    pub async fn webhook_applied(
        &self,
        event_id: &str,
        outcome: WebhookOutcome,
        detail: &str,
    ) -> Result<(), sqlx::Error> {
        store::webhook_applied(&self.pool, event_id, outcome, detail).await
    }

    /// A booking's payment attempts with the gateway's ids, and each capture and refund.
    pub async fn ledger_of_booking(
        &self,
        booking_ref: &BookingRef,
    ) -> Result<(Vec<PaymentRow>, Vec<store::MoneyMovement>), sqlx::Error> {
        let payments = store::payments_of_booking(&self.pool, booking_ref).await?;
        let movements = store::movements_of_booking(&self.pool, booking_ref).await?;
        Ok((payments, movements))
    }

    /// The charge a gateway order belongs to.
    pub async fn find_by_order(&self, order_id: &str) -> Result<Option<PaymentRow>, sqlx::Error> {
        store::find_by_order(&self.pool, order_id).await
    }

    /// Reserves an operator's refund of a booking's capture under the charge's lock, so that
    /// no two refunds together exceed what was captured less what was refunded. The same key
    /// and ask find the same reservation (the second request of a retried call); the same
    /// key with another amount or reason is refused.
    pub async fn reserve_refund(&self, ask: &RefundAsk<'_>) -> Result<RefundRequestRow, RefundRefused> {
        let Some(mut db) = store::lock_charge(&self.pool, ask.charge_key, RESERVE_LOCK_WAIT).await? else {
            return Err(RefundRefused::Busy);
        };
        let reserved = self.reserve_locked(&mut db, ask).await;
        db.release().await?;
        reserved
    }

    async fn reserve_locked(
        &self,
        db: &mut sqlx::PgConnection,
        ask: &RefundAsk<'_>,
    ) -> Result<RefundRequestRow, RefundRefused> {
        if let Some(existing) = store::find_refund_request(&mut *db, ask.refund_key).await? {
            let same = existing.reason == ask.reason
                && existing.requested_by == ask.requested_by
                && ask.amount_paise.is_none_or(|amount| amount == existing.amount_paise);
            return if same { Ok(existing) } else { Err(RefundRefused::KeyReused { existing: Box::new(existing) }) };
        }
        let row = store::find_by_key(&mut *db, ask.charge_key)
            .await?
            .filter(|row| row.captured_paise > 0 && row.gateway_payment_id.is_some())
            .ok_or(RefundRefused::NothingCaptured)?;
        let refundable = store::refundable_paise(db, &row).await?;
        if refundable == 0 {
            return Err(RefundRefused::NothingLeft);
        }
        let amount = ask.amount_paise.unwrap_or(refundable);
        if amount > refundable {
            return Err(RefundRefused::MoreThanRefundable { refundable });
        }
        let new = NewRefundRequest {
            refund_key: ask.refund_key,
            payment: &row,
            amount_paise: amount,
            reason: ask.reason,
            requested_by: ask.requested_by,
        };
        Ok(store::insert_refund_request(db, &new, None).await?)
    }

    /// Every refund reserved on a booking (operators' and cancellations'), oldest first.
    pub async fn refunds_of_booking(&self, booking_ref: &BookingRef) -> Result<Vec<RefundRequestRow>, sqlx::Error> {
        store::refund_requests_of_booking(&self.pool, booking_ref).await
    }

    /// The operators' inbox of gateway events not applied, newest first, in pages.
    pub async fn inbox(
        &self,
        open: bool,
        after: Option<(chrono::DateTime<chrono::Utc>, String)>,
        limit: i64,
    ) -> Result<Vec<store::InboxEvent>, sqlx::Error> {
        store::inbox(&self.pool, open, after, limit).await
    }

    pub async fn inbox_event(&self, event_id: &str) -> Result<Option<store::InboxEvent>, sqlx::Error> {
        store::inbox_event(&self.pool, event_id).await
    }

    /// Claims an open inbox event for an operator's resolution; answers the event as it
    /// stands after (claimed by this call, or by an earlier one).
    pub async fn claim_resolution(
        &self,
        event_id: &str,
        resolution: &str,
        by: &str,
        reason: &str,
    ) -> Result<Option<store::InboxEvent>, sqlx::Error> {
        store::claim_resolution(&self.pool, event_id, resolution, by, reason).await?;
        store::inbox_event(&self.pool, event_id).await
    }

    /// Counts a webhook refused for its signature.
    pub async fn count_bad_signature(&self) -> Result<(), sqlx::Error> {
        store::count_bad_signature(&self.pool).await
    }

    /// Webhooks refused for their signature within the last `within`.
    pub async fn bad_signatures_within(&self, within: Duration) -> Result<i64, sqlx::Error> {
        store::bad_signatures_within(&self.pool, within).await
    }
}
