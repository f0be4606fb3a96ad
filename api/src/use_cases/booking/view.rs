//! The booking as the API shows it, from the saga's live progress or from the store.

use crate::money::MoneyDto;
use booking::RecordStatus;
use chrono::{DateTime, NaiveDate, Utc};
use contracts::saga::{BookingProgress, BookingStatus};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// Where a booking stands, as travellers and partners see it: the saga's states while it
/// runs, then the record's (`cancelling` while a cancellation saga runs, `cancelled` after).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum BookingState {
    Pending,
    Held,
    AwaitingPayment,
    Confirmed,
    Compensating,
    Failed,
    Expired,
    Cancelling,
    Cancelled,
}

impl BookingState {
    /// The booking has ended one way or another (a cancellation may still follow).
    pub(crate) fn is_settled(self) -> bool {
        matches!(self, BookingState::Confirmed | BookingState::Failed | BookingState::Expired | BookingState::Cancelled)
    }

    /// Nothing has been paid for the booking yet, and nothing has gone wrong.
    fn is_unpaid(self) -> bool {
        matches!(self, BookingState::Pending | BookingState::Held | BookingState::AwaitingPayment)
    }
}

impl From<BookingStatus> for BookingState {
    fn from(status: BookingStatus) -> Self {
        match status {
            BookingStatus::Pending => BookingState::Pending,
            BookingStatus::Held => BookingState::Held,
            BookingStatus::AwaitingPayment => BookingState::AwaitingPayment,
            BookingStatus::Confirmed => BookingState::Confirmed,
            BookingStatus::Compensating => BookingState::Compensating,
            BookingStatus::Failed => BookingState::Failed,
            BookingStatus::Expired => BookingState::Expired,
        }
    }
}

impl From<RecordStatus> for BookingState {
    fn from(status: RecordStatus) -> Self {
        match status {
            // The record waits for its payment as the saga does.
            RecordStatus::PendingPayment => BookingState::AwaitingPayment,
            RecordStatus::Confirmed => BookingState::Confirmed,
            RecordStatus::Failed => BookingState::Failed,
            RecordStatus::Cancelled => BookingState::Cancelled,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct BookingAccepted {
    #[schema(example = "TRP-7K3M9Q")]
    pub booking_ref: String,
    #[schema(example = "pending")]
    pub status: BookingState,
    #[schema(example = "/api/bookings/TRP-7K3M9Q")]
    pub status_url: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct FailureDto {
    #[schema(example = "card_declined")]
    pub code: String,
    pub message: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct BookingView {
    pub booking_ref: String,
    pub status: BookingState,
    pub accommodation_id: Uuid,
    /// The accommodation's public code, when known.
    pub accommodation: Option<String>,
    pub room_type: String,
    #[schema(value_type = String, format = Date)]
    pub check_in: NaiveDate,
    #[schema(value_type = String, format = Date)]
    pub check_out: NaiveDate,
    pub rooms: u32,
    pub guests: u32,
    /// The quoted price including GST.
    pub total: MoneyDto,
    /// What was captured; absent until the payment succeeded.
    pub amount_charged: Option<MoneyDto>,
    /// What was given back (compensation, cancellation or an automatic refund).
    pub amount_refunded: Option<MoneyDto>,
    /// What the traveller still has to pay: the total until it is paid, then nothing.
    pub amount_due: MoneyDto,
    /// Why the booking failed.
    pub failure: Option<FailureDto>,
    /// While a checkout payment is awaited: where and until when to pay.
    pub checkout: Option<CheckoutDto>,
    pub status_url: String,
}

/// One version of a booking record.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct VersionDto {
    pub version: i32,
    /// The record's status from this version on (`pending_payment`, `confirmed`, `failed`,
    /// `cancelled`).
    pub status: String,
    pub at: DateTime<Utc>,
}

impl From<booking::BookingVersion> for VersionDto {
    fn from(v: booking::BookingVersion) -> Self {
        VersionDto { version: v.version, status: v.status.as_str().to_string(), at: v.created_at }
    }
}

/// What a checkout page needs.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CheckoutDto {
    pub gateway_order_id: String,
    pub amount: MoneyDto,
    /// The gateway's hosted page for this order.
    pub pay_url: String,
    /// After this the rooms are released and the booking expires.
    pub expires_at: DateTime<Utc>,
}

impl From<contracts::saga::FailureReason> for FailureDto {
    fn from(f: contracts::saga::FailureReason) -> Self {
        FailureDto { code: f.code, message: f.message }
    }
}

impl From<contracts::saga::CheckoutState> for CheckoutDto {
    /// The checkout as the saga knows it; the page to pay on is added by the read.
    fn from(c: contracts::saga::CheckoutState) -> Self {
        CheckoutDto {
            gateway_order_id: c.gateway_order_id,
            amount: c.amount.into(),
            pay_url: String::new(),
            expires_at: DateTime::from_timestamp_millis(c.expires_at_ms).unwrap_or_default(),
        }
    }
}

impl BookingView {
    /// Shows the money as the payment context recorded it (captures and every refund,
    /// automatic ones included), where it knows more than the saga.
    pub(crate) fn set_money(&mut self, captured: i64, refunded: i64) {
        let money = MoneyOfBooking {
            status: self.status,
            total: &self.total,
            amount_charged: &mut self.amount_charged,
            amount_refunded: &mut self.amount_refunded,
            amount_due: &mut self.amount_due,
        };
        money.set(captured, refunded);
    }
}

/// A booking view's money, shown as the payment context recorded it.
pub(crate) struct MoneyOfBooking<'a> {
    pub status: BookingState,
    pub total: &'a MoneyDto,
    pub amount_charged: &'a mut Option<MoneyDto>,
    pub amount_refunded: &'a mut Option<MoneyDto>,
    pub amount_due: &'a mut MoneyDto,
}

impl MoneyOfBooking<'_> {
    pub(crate) fn set(self, captured: i64, refunded: i64) {
        let currency = self.total.currency.clone();
        let unpaid = self.status.is_unpaid();
        *self.amount_due = MoneyDto::new(if unpaid && captured == 0 { self.total.amount } else { 0 }, &currency);
        // The gateway's movements include a payment made twice (and its refund), which the
        // saga's own figure does not: the larger figure is the true one.
        let charged = self.amount_charged.as_ref().map_or(0, |m| m.amount);
        if captured > charged && self.status != BookingState::AwaitingPayment {
            *self.amount_charged = Some(MoneyDto::new(captured, &currency));
        }
        if refunded > self.amount_refunded.as_ref().map_or(0, |m| m.amount) {
            *self.amount_refunded = Some(MoneyDto::new(refunded, &currency));
        }
    }
}

impl BookingView {
    /// A booking whose saga stopped before it wrote the booking's record: it will never be
    /// a booking, and its repair gives back whatever the saga held.
    pub(crate) fn stopped(progress: BookingProgress) -> Self {
        let mut view = BookingView::from(progress);
        view.status = BookingState::Failed;
        view.checkout = None;
        view.failure = Some(FailureDto {
            code: contracts::saga::SAGA_STOPPED.to_string(),
            message: "The booking could not be completed; anything paid is refunded".to_string(),
        });
        view
    }
}

pub(crate) fn status_url(booking_ref: &str) -> String {
    format!("/api/bookings/{booking_ref}")
}

impl From<BookingProgress> for BookingView {
    fn from(p: BookingProgress) -> Self {
        BookingView {
            status_url: status_url(p.booking_ref.as_str()),
            booking_ref: p.booking_ref.to_string(),
            status: p.status.into(),
            accommodation_id: p.stay.accommodation_id,
            accommodation: Some(p.stay.accommodation_code),
            room_type: p.stay.room_type,
            check_in: p.stay.dates.check_in,
            check_out: p.stay.dates.check_out,
            rooms: p.stay.rooms,
            guests: p.stay.guests,
            total: p.total.into(),
            amount_charged: p.amount_charged.map(Into::into),
            amount_refunded: p.amount_refunded.map(Into::into),
            amount_due: MoneyDto::new(0, p.total.currency.code()),
            failure: p.failure.map(Into::into),
            checkout: p.checkout.map(Into::into),
        }
    }
}

impl From<booking::BookingRow> for BookingView {
    fn from(row: booking::BookingRow) -> Self {
        BookingView {
            status_url: status_url(row.booking_ref.as_str()),
            status: row.status.into(),
            accommodation_id: row.accommodation_id,
            accommodation: None,
            room_type: row.room_type,
            check_in: row.check_in,
            check_out: row.check_out,
            rooms: u32::try_from(row.rooms).unwrap_or_default(),
            guests: u32::try_from(row.guests).unwrap_or_default(),
            total: MoneyDto::new(row.total_amount_paise, &row.currency),
            amount_charged: row.amount_charged_paise.map(|a| MoneyDto::new(a, &row.currency)),
            amount_refunded: None,
            amount_due: MoneyDto::new(0, &row.currency),
            failure: row.failure_code.map(|code| FailureDto { code, message: row.failure_message.unwrap_or_default() }),
            checkout: None,
            booking_ref: row.booking_ref.to_string(),
        }
    }
}

/// One line of the signed-in user's booking list.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct BookingListItem {
    #[schema(example = "TRP-7K3M9Q")]
    pub booking_ref: String,
    /// The stored status (`pending_payment`, `confirmed`, `failed`, `cancelled`), or
    /// `pending` while the booking saga has not recorded it yet.
    pub status: String,
    #[schema(value_type = Option<String>, format = Date)]
    pub check_in: Option<NaiveDate>,
    #[schema(value_type = Option<String>, format = Date)]
    pub check_out: Option<NaiveDate>,
    pub total: Option<MoneyDto>,
    pub requested_at: DateTime<Utc>,
    pub status_url: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct BookingList {
    pub items: Vec<BookingListItem>,
    pub next_cursor: Option<String>,
}

impl From<booking::BookingListItem> for BookingListItem {
    fn from(row: booking::BookingListItem) -> Self {
        BookingListItem {
            status_url: status_url(row.booking_ref.as_str()),
            // A request whose saga has not recorded the booking yet is `pending`.
            status: row.status.map_or("pending", RecordStatus::as_str).to_string(),
            check_in: row.check_in,
            check_out: row.check_out,
            total: row.total_amount_paise.map(|a| MoneyDto::new(a, row.currency.as_deref().unwrap_or("INR"))),
            requested_at: row.requested_at,
            booking_ref: row.booking_ref.to_string(),
        }
    }
}
