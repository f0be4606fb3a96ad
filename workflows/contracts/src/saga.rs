//! The booking saga's input, progress and outcome, shared by the workflow and the API.

use crate::{BookingRef, Money, StayDates, pricing::StayQuote};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// What a traveller asked for, already validated against the catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StayRequest {
    pub accommodation_id: Uuid,
    /// Public code of the accommodation, kept for people reading histories.
    pub accommodation_code: String,
    pub room_type: String,
    pub dates: StayDates,
    pub rooms: u32,
    pub guests: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeadTraveller {
    pub name: String,
    pub email: String,
    pub phone: String,
}

/// How the traveller pays. Today: a card token issued by the gateway's checkout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentMethod {
    pub card_token: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookingSagaInput {
    pub booking_ref: BookingRef,
    pub stay: StayRequest,
    pub lead_traveller: LeadTraveller,
    pub quote: StayQuote,
    pub payment_method: PaymentMethod,
    /// The signed-in user who booked (auth context id); absent in histories from before
    /// sign-in existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<uuid::Uuid>,
    /// The partner (partner context id) that booked for its customer through the partner API.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partner_id: Option<uuid::Uuid>,
}

/// Where a booking stands. The string forms are the `BookingStatus` search attribute values
/// and the API's `status` field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BookingStatus {
    /// The saga started; nothing is held yet.
    Pending,
    /// Rooms are held for this booking.
    Held,
    /// The booking record exists and the payment is being taken.
    AwaitingPayment,
    /// Paid, rooms booked, booking confirmed.
    Confirmed,
    /// A step failed or the saga was cancelled; compensations are running.
    Compensating,
    /// Ended without a booking; everything taken was given back.
    Failed,
}

impl BookingStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            BookingStatus::Pending => "pending",
            BookingStatus::Held => "held",
            BookingStatus::AwaitingPayment => "awaiting_payment",
            BookingStatus::Confirmed => "confirmed",
            BookingStatus::Compensating => "compensating",
            BookingStatus::Failed => "failed",
        }
    }

    pub fn is_final(self) -> bool {
        matches!(self, BookingStatus::Confirmed | BookingStatus::Failed)
    }

    /// The saga only ever moves forward, or from any unfinished state to compensation.
    pub fn can_move_to(self, next: BookingStatus) -> bool {
        use BookingStatus::*;
        matches!(
            (self, next),
            (Pending, Held)
                | (Held, AwaitingPayment)
                | (AwaitingPayment, Confirmed)
                | (Pending | Held | AwaitingPayment, Compensating)
                | (Compensating, Failed)
        )
    }
}

/// Why a booking failed, in the API's error vocabulary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailureReason {
    pub code: String,
    pub message: String,
}

/// The saga's answer to the `status` query, and its result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookingProgress {
    pub booking_ref: BookingRef,
    pub status: BookingStatus,
    pub stay: StayRequest,
    pub total: Money,
    /// What the gateway captured; `None` until a capture succeeded.
    pub amount_charged: Option<Money>,
    /// What was given back by compensation.
    pub amount_refunded: Option<Money>,
    pub failure: Option<FailureReason>,
}

#[cfg(test)]
mod tests {
    use super::BookingStatus::*;

    #[test]
    fn the_saga_moves_forward_or_into_compensation_only() {
        assert!(Pending.can_move_to(Held));
        assert!(Held.can_move_to(AwaitingPayment));
        assert!(AwaitingPayment.can_move_to(Confirmed));
        assert!(AwaitingPayment.can_move_to(Compensating));
        assert!(Compensating.can_move_to(Failed));
        assert!(!Confirmed.can_move_to(Compensating));
        assert!(!Failed.can_move_to(Held));
        assert!(!Pending.can_move_to(Confirmed));
        assert!(!Held.can_move_to(Failed));
    }

    #[test]
    fn status_strings_match_serde() {
        for s in [Pending, Held, AwaitingPayment, Confirmed, Compensating, Failed] {
            assert_eq!(serde_json::to_value(s).unwrap(), serde_json::Value::String(s.as_str().into()));
        }
        assert!(Confirmed.is_final() && Failed.is_final() && !Compensating.is_final());
    }
}
