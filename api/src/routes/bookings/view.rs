//! The booking as the API shows it, from the saga's live progress or from the store.

use crate::routes::MoneyDto;
use chrono::NaiveDate;
use contracts::saga::BookingProgress;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct BookingAccepted {
    #[schema(example = "TRP-7K3M9Q")]
    pub booking_ref: String,
    /// `pending`, `held`, `awaiting_payment`, `confirmed`, `compensating` or `failed`.
    #[schema(example = "pending")]
    pub status: String,
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
    /// `pending`, `held`, `awaiting_payment`, `confirmed`, `compensating`, `failed` or
    /// `cancelled`.
    pub status: String,
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
    /// What was given back by compensation.
    pub amount_refunded: Option<MoneyDto>,
    /// Why the booking failed.
    pub failure: Option<FailureDto>,
    pub status_url: String,
}

pub(crate) fn status_url(booking_ref: &str) -> String {
    format!("/api/bookings/{booking_ref}")
}

impl From<BookingProgress> for BookingView {
    fn from(p: BookingProgress) -> Self {
        BookingView {
            status_url: status_url(p.booking_ref.as_str()),
            booking_ref: p.booking_ref.to_string(),
            status: p.status.as_str().to_string(),
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
            failure: p.failure.map(|f| FailureDto { code: f.code, message: f.message }),
        }
    }
}

impl From<booking::store::BookingRow> for BookingView {
    fn from(row: booking::store::BookingRow) -> Self {
        let status = match row.status.as_str() {
            "pending_payment" => "awaiting_payment",
            other => other,
        };
        BookingView {
            status_url: status_url(&row.booking_ref),
            status: status.to_string(),
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
            failure: row.failure_code.map(|code| FailureDto { code, message: row.failure_message.unwrap_or_default() }),
            booking_ref: row.booking_ref,
        }
    }
}
