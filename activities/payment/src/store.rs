//! All SQL of the payment context.

use contracts::{BookingRef, Money};
use sqlx::{Connection, PgConnection, PgExecutor, PgPool, Postgres, pool::PoolConnection};
use std::time::Duration;
use uuid::Uuid;

/// Why a charge was refused, as stored in `payments.failure_code`.
pub const DECLINED_BY_BANK: &str = "card_declined";
pub const REJECTED_BY_GATEWAY: &str = "payment_rejected";

/// How a charge takes its money, as stored in `payments.method` (`payments_method_known`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::Type)]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum ChargeMethod {
    /// The charge step pays the order server to server and records the outcome itself.
    Card,
    /// The traveller pays on the gateway's page; its webhook wakes the waiting saga.
    Checkout,
}

/// Where a charge stands, as stored in `payments.status` (`payments_status_known`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::Type)]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum PaymentStatus {
    /// Recorded with its gateway order; no outcome yet.
    Created,
    /// Paid but not captured yet; no outcome yet.
    Authorized,
    Captured,
    /// Refused by the bank or the gateway (`failure_code` says which).
    Declined,
    /// Given up before anything was captured.
    Voided,
    /// Everything captured was given back.
    Refunded,
    /// Some of the capture was given back.
    PartiallyRefunded,
}

impl PaymentStatus {
    /// The stored value.
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentStatus::Created => "created",
            PaymentStatus::Authorized => "authorized",
            PaymentStatus::Captured => "captured",
            PaymentStatus::Declined => "declined",
            PaymentStatus::Voided => "voided",
            PaymentStatus::Refunded => "refunded",
            PaymentStatus::PartiallyRefunded => "partially_refunded",
        }
    }

    /// The charge has no outcome yet: it may still take money.
    pub fn is_open(self) -> bool {
        matches!(self, PaymentStatus::Created | PaymentStatus::Authorized)
    }

    /// The charge's compensation already ran: whatever it took was given back or let go.
    pub fn is_compensated(self) -> bool {
        matches!(self, PaymentStatus::Voided | PaymentStatus::Refunded | PaymentStatus::PartiallyRefunded)
    }

    /// The charge is over without a capture a booking could stand on.
    pub fn is_closed(self) -> bool {
        self == PaymentStatus::Declined || self.is_compensated()
    }
}

/// Serialises everything done to one charge (its attempts and its refund) across worker
/// replicas: a retried attempt that overlaps a slow earlier one (after a start-to-close
/// timeout) waits for it instead of paying the order a second time.
///
/// The lock is a session advisory lock on a pooled connection, and every write of the
/// activity goes through that connection and commits on its own (an order id must be
/// remembered even if the attempt dies right after). [`ChargeLock::release`] unlocks and
/// gives the connection back to the pool; a lock dropped without it (an error, an early
/// return) closes its connection instead, so the lock can never outlive the activity nor
/// travel through the pool to another one.
///
/// The wait is bounded by `wait`: an attempt that finds the lock still held then answers
/// `None` and gives its connection back, instead of sitting on a connection (and an
/// activity slot) behind an attempt stuck on a gateway call; its activity retries later.
pub async fn lock_charge(pool: &PgPool, key: &str, wait: Duration) -> Result<Option<ChargeLock>, sqlx::Error> {
    let mut conn = pool.acquire().await?;
    let lock_key = format!("payment.charge:{key}");
    let deadline = tokio::time::Instant::now() + wait;
    let mut pause = Duration::from_millis(20);
    loop {
        let locked: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock(hashtextextended($1, 0))")
            .bind(&lock_key)
            .fetch_one(&mut *conn)
            .await?;
        if locked {
            return Ok(Some(ChargeLock { conn: Some(conn), lock_key }));
        }
        let now = tokio::time::Instant::now();
        if now >= deadline {
            return Ok(None);
        }
        tokio::time::sleep(pause.min(deadline - now)).await;
        pause = (pause * 2).min(Duration::from_secs(1));
    }
}

/// How long an attempt waits for its charge's lock: longer than the gateway calls an
/// earlier attempt may still be making under it.
pub const CHARGE_LOCK_WAIT: Duration = Duration::from_secs(45);

/// A pooled connection holding one charge's advisory lock; see [`lock_charge`].
pub struct ChargeLock {
    /// `None` only once released.
    conn: Option<PoolConnection<Postgres>>,
    lock_key: String,
}

impl ChargeLock {
    /// Ends the charge's lock and returns the connection to the pool. Should the unlock
    /// fail or be interrupted, the lock is dropped instead, closing its connection.
    pub async fn release(mut self) -> Result<(), sqlx::Error> {
        let unlocked: bool = sqlx::query_scalar("SELECT pg_advisory_unlock(hashtextextended($1, 0))")
            .bind(self.lock_key.clone())
            .fetch_one(&mut *self)
            .await?;
        if unlocked {
            // Back to the pool, holding nothing.
            drop(self.conn.take());
        }
        Ok(())
    }
}

impl std::ops::Deref for ChargeLock {
    type Target = PgConnection;
    fn deref(&self) -> &PgConnection {
        self.conn.as_deref().expect("a charge lock is used only before its release")
    }
}

impl std::ops::DerefMut for ChargeLock {
    fn deref_mut(&mut self) -> &mut PgConnection {
        self.conn.as_deref_mut().expect("a charge lock is used only before its release")
    }
}

impl Drop for ChargeLock {
    fn drop(&mut self) {
        // Closing the session is what releases a lock nobody unlocked.
        if let Some(conn) = self.conn.take() {
            drop(conn.detach());
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PaymentRow {
    pub payment_id: Uuid,
    #[sqlx(try_from = "String")]
    pub booking_ref: BookingRef,
    pub idempotency_key: String,
    pub amount_paise: i64,
    pub currency: String,
    pub status: PaymentStatus,
    pub gateway_order_id: Option<String>,
    pub gateway_payment_id: Option<String>,
    pub captured_paise: i64,
    pub refunded_paise: i64,
    pub failure_code: Option<String>,
    pub failure_message: Option<String>,
    /// `None` for charges recorded before methods were.
    pub method: Option<ChargeMethod>,
}

impl PaymentRow {
    /// A card charge whose step has not recorded an outcome yet: that step (retried by its
    /// saga until it knows) reads the gateway's payment itself.
    pub fn card_charge_in_progress(&self) -> bool {
        self.method == Some(ChargeMethod::Card) && self.status.is_open()
    }

    /// The charge took its money: captured, and perhaps given back since, in part or whole,
    /// by a cancellation or a refund by hand (which decided how much).
    fn took_money(&self) -> bool {
        matches!(self.status, PaymentStatus::Captured | PaymentStatus::PartiallyRefunded | PaymentStatus::Refunded)
    }

    /// The charge stands on the gateway payment `gateway_payment_id`: it is that payment's
    /// capture. What is given back of it is the booking's cancellation's (or an operator's)
    /// business, never an automatic refund's: a capture's webhook arriving after a
    /// cancellation refunded half must not refund the other half.
    pub fn stands_on(&self, gateway_payment_id: &str) -> bool {
        self.took_money() && self.gateway_payment_id.as_deref() == Some(gateway_payment_id)
    }

    /// The charge stands on a capture other than `gateway_payment_id`: that payment is a
    /// second one on the same order (paid twice), which no booking will ever use.
    pub fn stands_on_another(&self, gateway_payment_id: &str) -> bool {
        self.took_money() && self.gateway_payment_id.as_deref().is_some_and(|own| own != gateway_payment_id)
    }
}

const COLUMNS: &str = "payment_id, booking_ref, idempotency_key, amount_paise, currency, status, gateway_order_id,
                       gateway_payment_id, captured_paise, refunded_paise, failure_code, failure_message, method";

/// Records a charge with its gateway order (or finds the row of its key, which wins).
pub async fn begin_charge(
    conn: &mut PgConnection,
    key: &str,
    booking_ref: &BookingRef,
    amount: Money,
    method: ChargeMethod,
    gateway_order_id: &str,
) -> Result<PaymentRow, sqlx::Error> {
    sqlx::query(
        "INSERT INTO payments (payment_id, booking_ref, idempotency_key, amount_paise, currency, method, gateway_order_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (idempotency_key) DO NOTHING",
    )
    .bind(Uuid::new_v4())
    .bind(booking_ref.as_str())
    .bind(key)
    .bind(amount.amount)
    .bind(amount.currency.code())
    .bind(method)
    .bind(gateway_order_id)
    .execute(&mut *conn)
    .await?;
    find_by_key(conn, key).await?.ok_or(sqlx::Error::RowNotFound)
}

pub async fn find_by_key(db: impl PgExecutor<'_>, key: &str) -> Result<Option<PaymentRow>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM payments WHERE idempotency_key = $1"))
        .bind(key)
        .fetch_optional(db)
        .await
}

pub async fn payments_of_booking(
    db: impl PgExecutor<'_>,
    booking_ref: &BookingRef,
) -> Result<Vec<PaymentRow>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM payments WHERE booking_ref = $1 ORDER BY created_at"))
        .bind(booking_ref.as_str())
        .fetch_all(db)
        .await
}

/// Remembers the gateway order before any payment is attempted on it, so a retry finds the
/// order and asks the gateway what happened instead of paying a second order.
pub async fn set_order(db: impl PgExecutor<'_>, payment_id: Uuid, order_id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE payments SET gateway_order_id = $2, updated_at = now() WHERE payment_id = $1 AND gateway_order_id IS NULL")
        .bind(payment_id)
        .bind(order_id)
        .execute(db)
        .await?;
    Ok(())
}

/// Records a refused charge; `kind` is [`DECLINED_BY_BANK`] or [`REJECTED_BY_GATEWAY`].
pub async fn mark_declined(
    db: impl PgExecutor<'_>,
    payment_id: Uuid,
    kind: &str,
    message: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE payments SET status = 'declined', failure_code = $2, failure_message = $3, updated_at = now()
         WHERE payment_id = $1 AND status IN ('created', 'authorized')",
    )
    .bind(payment_id)
    .bind(kind)
    .bind(message)
    .execute(db)
    .await?;
    Ok(())
}

/// A kind of money movement, as stored in `booking_payments.kind` (`booking_payments_kind_known`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::Type)]
#[sqlx(type_name = "text", rename_all = "snake_case")]
enum MovementKind {
    Capture,
    Refund,
}

/// Records a movement of `row`'s money, `gateway_ref` being the gateway's id of the capture
/// or refund, unless it is recorded already (by that id or by `key`); returns whether this
/// call wrote it.
async fn insert_movement(
    conn: &mut PgConnection,
    row: &PaymentRow,
    kind: MovementKind,
    amount: i64,
    gateway_ref: &str,
    key: &str,
) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query(
        "INSERT INTO booking_payments (booking_payment_id, booking_ref, payment_id, kind, amount_paise, currency, gateway_ref, idempotency_key)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
    )
    .bind(Uuid::new_v4())
    .bind(row.booking_ref.as_str())
    .bind(row.payment_id)
    .bind(kind)
    .bind(amount)
    .bind(&row.currency)
    .bind(gateway_ref)
    .bind(key)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// Records a capture once: the payment row and one `capture` movement. What the gateway
/// captured is the truth, whatever the row said before (a capture found by a refund after
/// a lost answer may land on a row marked declined or voided).
pub async fn mark_captured(
    conn: &mut PgConnection,
    row: &PaymentRow,
    gateway_payment_id: &str,
    amount: i64,
) -> Result<(), sqlx::Error> {
    let mut tx = conn.begin().await?;
    sqlx::query(
        "UPDATE payments SET status = 'captured', gateway_payment_id = $2, captured_paise = $3,
                            failure_code = NULL, failure_message = NULL, updated_at = now()
         WHERE payment_id = $1 AND captured_paise = 0",
    )
    .bind(row.payment_id)
    .bind(gateway_payment_id)
    .bind(amount)
    .execute(&mut *tx)
    .await?;
    let key = format!("{}/capture", row.idempotency_key);
    insert_movement(&mut tx, row, MovementKind::Capture, amount, gateway_payment_id, &key).await?;
    tx.commit().await
}

/// Records a capture on `row`'s order that is not the charge's own (a second payment of an
/// order already paid, which some gateways take) as a movement only: the row's totals stay
/// those of the charge the booking stands on, so its refunds can never exceed its capture.
pub async fn record_extra_capture(
    conn: &mut PgConnection,
    row: &PaymentRow,
    gateway_payment_id: &str,
    amount: i64,
) -> Result<(), sqlx::Error> {
    let key = format!("{}/capture/{gateway_payment_id}", row.idempotency_key);
    insert_movement(conn, row, MovementKind::Capture, amount, gateway_payment_id, &key).await?;
    Ok(())
}

/// Records the refund of an extra capture (see [`record_extra_capture`]) once, as a
/// movement only.
pub async fn record_extra_refund(
    conn: &mut PgConnection,
    row: &PaymentRow,
    gateway_refund_id: &str,
    amount: i64,
    key: &str,
) -> Result<(), sqlx::Error> {
    if insert_movement(conn, row, MovementKind::Refund, amount, gateway_refund_id, key).await? {
        count_refund(amount);
    }
    Ok(())
}

/// Counts a refund the gateway made, once: by the call that recorded it.
fn count_refund(amount: i64) {
    metrics::counter!("tt_refunds_total").increment(1);
    metrics::counter!("tt_refunded_paise_total").increment(amount.max(0) as u64);
}

/// Records a gateway refund once (by its gateway id) and adds it to the payment's total.
pub async fn record_refund(
    conn: &mut PgConnection,
    row: &PaymentRow,
    gateway_refund_id: &str,
    amount: i64,
    key: &str,
) -> Result<(), sqlx::Error> {
    let mut tx = conn.begin().await?;
    let inserted = add_refund(&mut tx, row, gateway_refund_id, amount, key).await?;
    tx.commit().await?;
    // Counted once per refund the gateway made, however many attempts record it.
    if inserted {
        count_refund(amount);
    }
    Ok(())
}

/// The movement of a refund and its share of the payment's total, once; whether it was new.
async fn add_refund(
    tx: &mut PgConnection,
    row: &PaymentRow,
    gateway_refund_id: &str,
    amount: i64,
    key: &str,
) -> Result<bool, sqlx::Error> {
    let inserted = insert_movement(&mut *tx, row, MovementKind::Refund, amount, gateway_refund_id, key).await?;
    if inserted {
        sqlx::query(
            "UPDATE payments SET refunded_paise = refunded_paise + $2,
                    status = CASE WHEN refunded_paise + $2 = captured_paise THEN 'refunded' ELSE 'partially_refunded' END,
                    updated_at = now()
             WHERE payment_id = $1",
        )
        .bind(row.payment_id)
        .bind(amount)
        .execute(&mut *tx)
        .await?;
    }
    Ok(inserted)
}

/// An authorisation that was never captured lapses at the gateway; record that we let it go.
pub async fn mark_voided(db: impl PgExecutor<'_>, payment_id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE payments SET status = 'voided', updated_at = now() WHERE payment_id = $1 AND status IN ('created', 'authorized')")
        .bind(payment_id)
        .execute(db)
        .await?;
    Ok(())
}

/// The charge a gateway order belongs to.
pub async fn find_by_order(db: impl PgExecutor<'_>, order_id: &str) -> Result<Option<PaymentRow>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM payments WHERE gateway_order_id = $1"))
        .bind(order_id)
        .fetch_optional(db)
        .await
}

/// What became of a webhook event, as stored in `webhook_events.outcome`
/// (`webhook_events_outcome_known`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::Type)]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum WebhookOutcome {
    /// Not applied yet: a crash or an outage came in between, and a redelivery applies it.
    Received,
    /// Woke the booking saga waiting for the payment.
    Signalled,
    /// No saga waits for the payment any more: its automatic refund started.
    RefundStarted,
    /// The booking already stands on this payment.
    Settled,
    /// An event that needs no action, or names no payment.
    Ignored,
    /// The payment's amount is not the order's; flagged for an operator.
    AmountMismatch,
    /// No charge has this gateway order; flagged for an operator.
    UnknownOrder,
    /// A card charge's step is paying the order and records the payment itself.
    ChargeInProgress,
}

impl WebhookOutcome {
    /// The stored value, also the webhook's answer and its metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookOutcome::Received => "received",
            WebhookOutcome::Signalled => "signalled",
            WebhookOutcome::RefundStarted => "refund_started",
            WebhookOutcome::Settled => "settled",
            WebhookOutcome::Ignored => "ignored",
            WebhookOutcome::AmountMismatch => "amount_mismatch",
            WebhookOutcome::UnknownOrder => "unknown_order",
            WebhookOutcome::ChargeInProgress => "charge_in_progress",
        }
    }
}

/// A webhook event as first seen.
#[derive(Debug, Clone)]
pub struct WebhookEvent<'a> {
    pub event_id: &'a str,
    /// SHA-256 of the signed body: what the signature vouches for, unlike the id.
    pub body_sha256: &'a [u8],
    pub event: &'a str,
    pub gateway_order_id: Option<&'a str>,
    pub gateway_payment_id: Option<&'a str>,
    pub amount_paise: Option<i64>,
}

/// Records `event` unless it is known, by its id or by its body; returns whether it still
/// needs applying (a new event, or one received before whose application did not finish).
/// The same signed body under another id is a replay: known, nothing to apply.
pub async fn receive_webhook(pool: &PgPool, event: &WebhookEvent<'_>) -> Result<bool, sqlx::Error> {
    sqlx::query(
        "INSERT INTO webhook_events (event_id, event, gateway_order_id, gateway_payment_id, amount_paise, body_sha256)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
    )
    .bind(event.event_id)
    .bind(event.event)
    .bind(event.gateway_order_id)
    .bind(event.gateway_payment_id)
    .bind(event.amount_paise)
    .bind(event.body_sha256)
    .execute(pool)
    .await?;
    let outcome: Option<WebhookOutcome> =
        // A row from before digests were kept matches by its id alone.
        sqlx::query_scalar("SELECT outcome FROM webhook_events WHERE event_id = $1 AND (body_sha256 IS NULL OR body_sha256 = $2)")
            .bind(event.event_id)
            .bind(event.body_sha256)
            .fetch_optional(pool)
            .await?;
    Ok(outcome == Some(WebhookOutcome::Received))
}

/// Records what applying the event came to.
pub async fn webhook_applied(
    pool: &PgPool,
    event_id: &str,
    outcome: WebhookOutcome,
    detail: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE webhook_events SET outcome = $2, detail = $3, updated_at = now() WHERE event_id = $1")
        .bind(event_id)
        .bind(outcome)
        .bind(detail)
        .execute(pool)
        .await?;
    Ok(())
}

/// The money of a booking as the payment context recorded it: captured and refunded paise.
pub async fn money_of_booking(pool: &PgPool, booking_ref: &BookingRef) -> Result<(i64, i64), sqlx::Error> {
    // The movements, not the charges' totals: they include extra captures and their refunds.
    sqlx::query_as(
        "SELECT COALESCE(sum(amount_paise) FILTER (WHERE kind = 'capture'), 0)::bigint,
                COALESCE(sum(amount_paise) FILTER (WHERE kind = 'refund'), 0)::bigint
         FROM booking_payments WHERE booking_ref = $1",
    )
    .bind(booking_ref.as_str())
    .fetch_one(pool)
    .await
}

/// Charges left `created` or `authorized`, with a gateway order, untouched for `stale_after`.
pub async fn stale_charges(
    pool: &PgPool,
    stale_after: std::time::Duration,
    limit: i64,
) -> Result<Vec<PaymentRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM payments
         WHERE status IN ('created', 'authorized') AND gateway_order_id IS NOT NULL AND updated_at < now() - $1
         ORDER BY updated_at LIMIT $2"
    ))
    .bind(stale_after)
    .bind(limit)
    .fetch_all(pool)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    const STATUSES: [PaymentStatus; 7] = [
        PaymentStatus::Created,
        PaymentStatus::Authorized,
        PaymentStatus::Captured,
        PaymentStatus::Declined,
        PaymentStatus::Voided,
        PaymentStatus::Refunded,
        PaymentStatus::PartiallyRefunded,
    ];
    const OUTCOMES: [WebhookOutcome; 8] = [
        WebhookOutcome::Received,
        WebhookOutcome::Signalled,
        WebhookOutcome::RefundStarted,
        WebhookOutcome::Settled,
        WebhookOutcome::Ignored,
        WebhookOutcome::AmountMismatch,
        WebhookOutcome::UnknownOrder,
        WebhookOutcome::ChargeInProgress,
    ];

    /// The values the latest definition of the CHECK constraint `name` allows.
    fn allowed_by(name: &str) -> BTreeSet<&'static str> {
        let migrations: &'static str = concat!(
            include_str!("../../../migrations/payment/0001_payment_schema.sql"),
            include_str!("../../../migrations/payment/0002_webhook_events.sql"),
            include_str!("../../../migrations/payment/0003_charge_methods.sql"),
        );
        let definition = &migrations[migrations.rfind(&format!("{name} CHECK")).expect("the constraint exists")..];
        let definition = &definition[..definition.find("))").expect("the constraint ends")];
        definition.split('\'').skip(1).step_by(2).collect()
    }

    #[test]
    fn every_stored_value_is_one_the_database_allows() {
        assert_eq!(BTreeSet::from(STATUSES.map(PaymentStatus::as_str)), allowed_by("payments_status_known"));
        assert_eq!(BTreeSet::from(OUTCOMES.map(WebhookOutcome::as_str)), allowed_by("webhook_events_outcome_known"));
        assert_eq!(BTreeSet::from(["card", "checkout"]), allowed_by("payments_method_known"));
        assert_eq!(BTreeSet::from(["capture", "refund"]), allowed_by("booking_payments_kind_known"));
    }

    /// Needs the PostgreSQL server of the end-to-end tests (`TT_TEST_DATABASE_URL`).
    #[tokio::test]
    async fn statuses_are_text_in_the_database() {
        let url = std::env::var("TT_TEST_DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
        let mut conn = PgConnection::connect(&url).await.expect("the test database server answers");
        for status in STATUSES {
            let stored: String = sqlx::query_scalar("SELECT $1").bind(status).fetch_one(&mut conn).await.unwrap();
            assert_eq!(stored, status.as_str());
            let read: PaymentStatus =
                sqlx::query_scalar("SELECT $1::text").bind(status.as_str()).fetch_one(&mut conn).await.unwrap();
            assert_eq!(read, status);
        }
        for outcome in OUTCOMES {
            let read: WebhookOutcome =
                sqlx::query_scalar("SELECT $1").bind(outcome).fetch_one(&mut conn).await.unwrap();
            assert_eq!(read, outcome);
        }
        for (method, name) in [(ChargeMethod::Card, "card"), (ChargeMethod::Checkout, "checkout")] {
            let stored: String = sqlx::query_scalar("SELECT $1").bind(method).fetch_one(&mut conn).await.unwrap();
            assert_eq!(stored, name);
        }
        for (kind, name) in [(MovementKind::Capture, "capture"), (MovementKind::Refund, "refund")] {
            let stored: String = sqlx::query_scalar("SELECT $1").bind(kind).fetch_one(&mut conn).await.unwrap();
            assert_eq!(stored, name);
        }
        for status in [RefundRequestStatus::Requested, RefundRequestStatus::Refunded] {
            let stored: String = sqlx::query_scalar("SELECT $1").bind(status).fetch_one(&mut conn).await.unwrap();
            assert_eq!(stored, status.as_str());
        }
        let unknown = sqlx::query_scalar::<_, PaymentStatus>("SELECT 'pending'::text").fetch_one(&mut conn).await;
        assert!(unknown.is_err(), "a value the enum does not know is an error, not a guess");
    }
}

/// One movement of a booking's money: a capture or a refund, with the gateway's reference.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct MoneyMovement {
    pub kind: String,
    pub amount_paise: i64,
    pub currency: String,
    /// The gateway's payment id of a capture, its refund id of a refund.
    pub gateway_ref: String,
    pub payment_id: Uuid,
    pub at: chrono::DateTime<chrono::Utc>,
}

/// Every capture and refund of a booking, oldest first.
pub async fn movements_of_booking(
    db: impl PgExecutor<'_>,
    booking_ref: &BookingRef,
) -> Result<Vec<MoneyMovement>, sqlx::Error> {
    sqlx::query_as(
        "SELECT kind, amount_paise, currency, gateway_ref, payment_id, created_at AS at
         FROM booking_payments WHERE booking_ref = $1 ORDER BY created_at, booking_payment_id",
    )
    .bind(booking_ref.as_str())
    .fetch_all(db)
    .await
}

/// Where a reserved refund stands, as stored in `refund_requests.status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::Type)]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum RefundRequestStatus {
    /// Reserved: its amount is set aside; the gateway may or may not have refunded it yet.
    Requested,
    /// The gateway refunded it and the refund is on the books.
    Refunded,
    /// An operator took it over: owed to the traveller, its amount still set aside, and
    /// never asked of the gateway again.
    Owed,
}

impl RefundRequestStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RefundRequestStatus::Requested => "requested",
            RefundRequestStatus::Refunded => "refunded",
            RefundRequestStatus::Owed => "owed",
        }
    }
}

/// A refund of a fixed amount of one capture, reserved before the gateway is asked.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RefundRequestRow {
    pub refund_key: String,
    pub payment_id: Uuid,
    pub booking_ref: String,
    pub amount_paise: i64,
    pub reason: String,
    pub requested_by: String,
    pub status: RefundRequestStatus,
    pub gateway_refund_id: Option<String>,
    /// `user:<id>` of the operator who took an owed refund over.
    pub handed_over_by: Option<String>,
    pub handed_over_reason: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

const REFUND_REQUEST_COLUMNS: &str = "refund_key, payment_id, booking_ref, amount_paise, reason, requested_by, status,
                                      gateway_refund_id, handed_over_by, handed_over_reason, created_at, updated_at";

/// A refund to reserve: `amount_paise` of the capture of `payment`.
pub struct NewRefundRequest<'a> {
    pub refund_key: &'a str,
    pub payment: &'a PaymentRow,
    pub amount_paise: i64,
    pub reason: &'a str,
    pub requested_by: &'a str,
}

pub async fn find_refund_request(db: impl PgExecutor<'_>, key: &str) -> Result<Option<RefundRequestRow>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {REFUND_REQUEST_COLUMNS} FROM refund_requests WHERE refund_key = $1"))
        .bind(key)
        .fetch_optional(db)
        .await
}

/// What is left to refund of a capture: captured, less refunded, less what open requests
/// and refunds owed have set aside. Read under the charge's lock, which every refund of it takes.
pub async fn refundable_paise(conn: &mut PgConnection, payment: &PaymentRow) -> Result<i64, sqlx::Error> {
    let (captured, refunded, reserved): (i64, i64, i64) = sqlx::query_as(
        "SELECT p.captured_paise, p.refunded_paise,
                COALESCE((SELECT sum(r.amount_paise) FROM refund_requests r
                          WHERE r.payment_id = p.payment_id AND r.status IN ('requested', 'owed')), 0)::bigint
         FROM payments p WHERE p.payment_id = $1",
    )
    .bind(payment.payment_id)
    .fetch_one(&mut *conn)
    .await?;
    Ok((captured - refunded - reserved).max(0))
}

/// Reserves a refund (the caller holds the charge's lock and checked what is refundable):
/// requested, or, with `owed`, set aside as owed from the start.
pub async fn insert_refund_request(
    conn: &mut PgConnection,
    request: &NewRefundRequest<'_>,
    owed: Option<&Handover<'_>>,
) -> Result<RefundRequestRow, sqlx::Error> {
    let status = if owed.is_some() { RefundRequestStatus::Owed } else { RefundRequestStatus::Requested };
    sqlx::query_as(&format!(
        "INSERT INTO refund_requests (refund_key, payment_id, booking_ref, amount_paise, reason, requested_by, status,
                                      handed_over_by, handed_over_reason)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING {REFUND_REQUEST_COLUMNS}"
    ))
    .bind(request.refund_key)
    .bind(request.payment.payment_id)
    .bind(request.payment.booking_ref.as_str())
    .bind(request.amount_paise)
    .bind(request.reason)
    .bind(request.requested_by)
    .bind(status.as_str())
    .bind(owed.map(|h| h.by))
    .bind(owed.map(|h| h.reason))
    .fetch_one(conn)
    .await
}

/// Records the gateway's refund of a reserved request, and closes the request, in one
/// commit: what is refundable never counts it twice nor loses it.
pub async fn record_requested_refund(
    conn: &mut PgConnection,
    row: &PaymentRow,
    request: &RefundRequestRow,
    gateway_refund_id: &str,
    amount: i64,
    movement_key: &str,
) -> Result<(), sqlx::Error> {
    let mut tx = conn.begin().await?;
    let inserted = add_refund(&mut tx, row, gateway_refund_id, amount, movement_key).await?;
    sqlx::query(
        "UPDATE refund_requests SET status = 'refunded', gateway_refund_id = $2, updated_at = now()
         WHERE refund_key = $1 AND status = 'requested'",
    )
    .bind(&request.refund_key)
    .bind(gateway_refund_id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    if inserted {
        count_refund(amount);
    }
    Ok(())
}

/// Who takes a refund over, and why.
pub struct Handover<'a> {
    pub by: &'a str,
    pub reason: &'a str,
}

/// Marks a refund in flight as owed (the caller holds the charge's lock).
pub async fn mark_refund_owed(conn: &mut PgConnection, key: &str, handover: &Handover<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE refund_requests SET status = 'owed', handed_over_by = $2, handed_over_reason = $3, updated_at = now()
         WHERE refund_key = $1 AND status = 'requested'",
    )
    .bind(key)
    .bind(handover.by)
    .bind(handover.reason)
    .execute(conn)
    .await?;
    Ok(())
}

/// Every reserved refund of a booking, oldest first.
pub async fn refund_requests_of_booking(
    db: impl PgExecutor<'_>,
    booking_ref: &BookingRef,
) -> Result<Vec<RefundRequestRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {REFUND_REQUEST_COLUMNS} FROM refund_requests WHERE booking_ref = $1 ORDER BY created_at, refund_key"
    ))
    .bind(booking_ref.as_str())
    .fetch_all(db)
    .await
}

// ---------------------------------------------------------------- webhook inbox

/// A gateway event waiting for an operator, or resolved by one.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct InboxEvent {
    pub event_id: String,
    pub event: String,
    pub gateway_order_id: Option<String>,
    pub gateway_payment_id: Option<String>,
    pub amount_paise: Option<i64>,
    pub outcome: WebhookOutcome,
    pub detail: Option<String>,
    pub received_at: chrono::DateTime<chrono::Utc>,
    /// The booking whose order it names, when one does.
    pub booking_ref: Option<String>,
    pub resolution: Option<String>,
    pub resolved_by: Option<String>,
    pub resolution_reason: Option<String>,
    pub resolved_at: Option<chrono::DateTime<chrono::Utc>>,
    pub resolution_refund: Option<String>,
}

/// How long an event may stay `received` (its application interrupted, its redelivery due)
/// or `charge_in_progress` (a card step recording it) before an operator should look.
pub const INBOX_GRACE: Duration = Duration::from_secs(15 * 60);

const INBOX_COLUMNS: &str = "e.event_id, e.event, e.gateway_order_id, e.gateway_payment_id, e.amount_paise, e.outcome,
     e.detail, e.received_at, p.booking_ref, e.resolution, e.resolved_by, e.resolution_reason, e.resolved_at,
     e.resolution_refund";

/// What makes an event the inbox's: refused (a wrong amount, an order no booking opened),
/// or left unapplied past the grace period (its application interrupted, or a card step's
/// payment that step never recorded).
const IN_INBOX: &str = "(e.outcome IN ('amount_mismatch', 'unknown_order')
     OR (e.outcome IN ('received', 'charge_in_progress') AND e.received_at < now() - make_interval(secs => $1)
         AND NOT EXISTS (SELECT 1 FROM payments q WHERE q.gateway_payment_id = e.gateway_payment_id
                         AND q.status IN ('captured', 'partially_refunded', 'refunded'))))";

/// Up to `limit` inbox events, newest first, after `(received_at, event_id)`: `open` ones
/// (not resolved yet) or resolved ones.
pub async fn inbox(
    pool: &PgPool,
    open: bool,
    after: Option<(chrono::DateTime<chrono::Utc>, String)>,
    limit: i64,
) -> Result<Vec<InboxEvent>, sqlx::Error> {
    let (after_at, after_id) = after.map_or((None, None), |(at, id)| (Some(at), Some(id)));
    sqlx::query_as(&format!(
        "SELECT {INBOX_COLUMNS} FROM webhook_events e LEFT JOIN payments p ON p.gateway_order_id = e.gateway_order_id
         WHERE {IN_INBOX} AND (e.resolution IS NULL) = $2
           AND ($3::timestamptz IS NULL OR (e.received_at, e.event_id) < ($3, $4))
         ORDER BY e.received_at DESC, e.event_id DESC LIMIT $5"
    ))
    .bind(INBOX_GRACE.as_secs_f64())
    .bind(open)
    .bind(after_at)
    .bind(after_id)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// One inbox event, open or resolved; `None` for an event that is not the inbox's.
pub async fn inbox_event(pool: &PgPool, event_id: &str) -> Result<Option<InboxEvent>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {INBOX_COLUMNS} FROM webhook_events e LEFT JOIN payments p ON p.gateway_order_id = e.gateway_order_id
         WHERE {IN_INBOX} AND e.event_id = $2"
    ))
    .bind(INBOX_GRACE.as_secs_f64())
    .bind(event_id)
    .fetch_optional(pool)
    .await
}

/// Claims an open event for `resolution` (`refunding` or `attaching`); an event claimed
/// before is returned as it stands, so the caller can tell a repeat from a conflict.
pub async fn claim_resolution(
    pool: &PgPool,
    event_id: &str,
    resolution: &str,
    by: &str,
    reason: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE webhook_events SET resolution = $2, resolved_by = $3, resolution_reason = $4, resolved_at = now(),
             updated_at = now()
         WHERE event_id = $1 AND resolution IS NULL",
    )
    .bind(event_id)
    .bind(resolution)
    .bind(by)
    .bind(reason)
    .execute(pool)
    .await?;
    Ok(())
}

/// Records how a resolution ended (`refunded` with the gateway's refund, `attached`,
/// `nothing_to_refund`), for the event and for every other open event about the same
/// payment (the gateway tells of one payment several times: authorised, captured, paid).
pub async fn finish_resolution(
    db: impl PgExecutor<'_>,
    event_id: &str,
    resolution: &str,
    refund_id: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "WITH done AS (
             UPDATE webhook_events SET resolution = $2, resolution_refund = COALESCE($3, resolution_refund),
                 resolved_at = now(), updated_at = now()
             WHERE event_id = $1 AND resolution IS NOT NULL
             RETURNING gateway_payment_id, resolved_by, resolution_reason)
         UPDATE webhook_events e SET resolution = $2, resolution_refund = $3, resolved_by = done.resolved_by,
             resolution_reason = 'with ' || $1 || ': ' || done.resolution_reason, resolved_at = now(), updated_at = now()
         FROM done
         WHERE e.gateway_payment_id = done.gateway_payment_id AND e.event_id <> $1 AND e.resolution IS NULL
           AND e.outcome IN ('amount_mismatch', 'unknown_order', 'charge_in_progress', 'received')",
    )
    .bind(event_id)
    .bind(resolution)
    .bind(refund_id)
    .execute(db)
    .await?;
    Ok(())
}

/// Counts a webhook whose signature did not verify, in its hour.
pub async fn count_bad_signature(pool: &PgPool) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO webhook_signature_failures (hour, failures) VALUES (date_trunc('hour', now()), 1)
         ON CONFLICT (hour) DO UPDATE SET failures = webhook_signature_failures.failures + 1",
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Webhooks refused for their signature in the hours that began within `within`.
pub async fn bad_signatures_within(pool: &PgPool, within: Duration) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT COALESCE(sum(failures), 0)::bigint FROM webhook_signature_failures
         WHERE hour >= date_trunc('hour', now() - make_interval(secs => $1))",
    )
    .bind(within.as_secs_f64())
    .fetch_one(pool)
    .await
}
