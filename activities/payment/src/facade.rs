//! [`Payments`], the payment context's one door: payments, refunds and the gateway's webhooks.

use crate::store::{self, PaymentRow, WebhookEvent, WebhookOutcome};
use contracts::BookingRef;
use sqlx::PgPool;

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
}
