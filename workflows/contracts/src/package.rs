//! Package bookings: a departure's seats for the party plus the room-nights of every stay the
//! package includes, bought in one saga and paid once.

use crate::{
    BookingRef, Money, StayDates,
    pricing::{PackageParty, PackageQuote},
    saga::{BookingRequestKey, BookingStatus, CheckoutState, FailureReason, LeadTraveller, PaymentMethod},
};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A stay the package includes: rooms at one accommodation over consecutive nights of the
/// itinerary, dated from the departure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncludedStay {
    pub accommodation_id: Uuid,
    /// Public code of the accommodation, kept for people reading histories.
    pub accommodation_code: String,
    pub room_type: String,
    pub dates: StayDates,
    pub rooms: u32,
}

/// What a traveller or partner asked for, validated against the catalog and priced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageOrder {
    pub package_id: Uuid,
    /// Public code of the package, kept for people reading histories.
    pub package_code: String,
    pub departure: NaiveDate,
    /// The day after the last night of the trip (the departure itself for a day trip).
    pub returns: NaiveDate,
    pub party: PackageParty,
    /// In itinerary order.
    pub stays: Vec<IncludedStay>,
}

impl PackageOrder {
    /// Every traveller takes a seat: adults and children alike.
    pub fn seats(&self) -> u32 {
        self.party.adults + self.party.children
    }
}

/// The hold id of a package booking's seats, derived from its saga's workflow id.
pub fn seat_hold_id(workflow_id: &str) -> String {
    format!("{workflow_id}/seats")
}

/// The hold id of the `index`th included stay's rooms (from 0, in itinerary order).
pub fn stay_hold_id(workflow_id: &str, index: usize) -> String {
    format!("{workflow_id}/stay-{}", index + 1)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageBookingInput {
    pub booking_ref: BookingRef,
    pub order: PackageOrder,
    pub lead_traveller: LeadTraveller,
    pub quote: PackageQuote,
    pub payment_method: PaymentMethod,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partner_id: Option<Uuid>,
    /// Seconds a checkout payment may take before the booking expires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_window_secs: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<BookingRequestKey>,
}

/// A package booking saga's live progress: its `status` query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageBookingProgress {
    pub booking_ref: BookingRef,
    pub status: BookingStatus,
    pub order: PackageOrder,
    pub total: Money,
    pub amount_charged: Option<Money>,
    pub amount_refunded: Option<Money>,
    pub failure: Option<FailureReason>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkout: Option<CheckoutState>,
    /// A compensation's refund an operator took over, owed to the traveller.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount_owed: Option<Money>,
}

impl PackageBookingProgress {
    pub fn accepted(input: &PackageBookingInput) -> Self {
        PackageBookingProgress {
            booking_ref: input.booking_ref.clone(),
            status: BookingStatus::Pending,
            order: input.order.clone(),
            total: input.quote.total,
            amount_charged: None,
            amount_refunded: None,
            failure: None,
            checkout: None,
            amount_owed: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hold_ids_are_derived_from_the_saga_and_never_collide() {
        let wf = "booking-TRP-7K3M9Q";
        assert_eq!(seat_hold_id(wf), "booking-TRP-7K3M9Q/seats");
        assert_eq!(stay_hold_id(wf, 0), "booking-TRP-7K3M9Q/stay-1");
        assert_ne!(stay_hold_id(wf, 1), format!("{wf}/hold"));
    }
}
