//! Activity contracts: the name, input and output of every activity, declared once.
//!
//! Workflows call activities through these declarations, so workflow code never links
//! the database or HTTP crates that implement them; each context crate implements its
//! own with `#[activity(definition = ...)]`, which checks the types match at compile time.
//! Names are `<context>.<verb_noun>` and are pinned: renaming one strands workflows in flight.
#![allow(clippy::unused_async)]

use crate::{
    BookingRef, Money, StayDates,
    pricing::StayQuote,
    saga::{BookingRequestKey, LeadTraveller},
};
use serde::{Deserialize, Serialize};
use temporalio_common::ActivityError;
use temporalio_macros::activity_definitions;
use uuid::Uuid;

/// Type names of business failures: non-retryable, matched on by workflows.
pub mod failure_type {
    /// Not enough rooms on at least one night of the stay.
    pub const SOLD_OUT: &str = "SoldOut";
    /// The gateway refused the card.
    pub const CARD_DECLINED: &str = "CardDeclined";
    /// The gateway refused the payment request itself (for example an unusable card token).
    pub const PAYMENT_REJECTED: &str = "PaymentRejected";
    /// A hold that should exist does not (never placed, or released).
    pub const HOLD_NOT_FOUND: &str = "HoldNotFound";
    /// The gateway shows no capture for a checkout's order (a notice that did not hold up).
    pub const PAYMENT_NOT_FOUND: &str = "PaymentNotFound";
    /// The charge was already compensated (refunded or voided): it takes no more money.
    pub const CHARGE_CLOSED: &str = "ChargeClosed";
    /// Only a confirmed booking can be cancelled.
    pub const NOT_CANCELLABLE: &str = "NotCancellable";
    /// The booking's request is bound to another booking reference: a retry of the request
    /// started a second saga, and the other one is the booking.
    pub const DUPLICATE_REQUEST: &str = "DuplicateRequest";
    /// The booking has no record where one must exist.
    pub const BOOKING_NOT_FOUND: &str = "BookingNotFound";
    /// The payment is the capture a booking stands on: a cancellation gives it back.
    pub const PAYMENT_IN_USE: &str = "PaymentInUse";
    /// No booking opened the payment's order.
    pub const NO_BOOKING_FOR_ORDER: &str = "NoBookingForOrder";
    /// An operator took the refund over: it is owed, and no attempt may make it any more.
    pub const REFUND_HANDED_OVER: &str = "RefundHandedOver";
}

// ---------------------------------------------------------------- inventory

/// Holds to keep until `until_ms` (Unix milliseconds): a checkout given more time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtendHolds {
    pub hold_ids: Vec<String>,
    pub until_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HoldRequest {
    /// Idempotency key of the hold: derived from the workflow id, never random.
    pub hold_id: String,
    pub booking_ref: BookingRef,
    pub accommodation_id: Uuid,
    pub room_type: String,
    pub dates: StayDates,
    pub rooms: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HoldPlaced {
    pub hold_id: String,
    /// When the hold stops counting, in Unix milliseconds: every later step of the saga
    /// must be done by then. Absent in histories recorded before it was returned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at_ms: Option<i64>,
}

pub struct InventoryActivities;

#[activity_definitions]
impl InventoryActivities {
    /// Holds every night of the stay or none. Fails `SoldOut` when a night lacks rooms.
    #[activity(name = "inventory.hold_rooms")]
    pub fn hold_rooms(request: HoldRequest) -> Result<HoldPlaced, ActivityError> {
        unimplemented!()
    }

    /// Gives held rooms back. A no-op for an unknown, released or already booked hold.
    #[activity(name = "inventory.release_hold")]
    pub fn release_hold(hold_id: String) -> Result<(), ActivityError> {
        unimplemented!()
    }

    /// Turns a hold into booked rooms. Fails `HoldNotFound` if there is no live hold.
    #[activity(name = "inventory.confirm_hold")]
    pub fn confirm_hold(hold_id: String) -> Result<(), ActivityError> {
        unimplemented!()
    }

    /// Releases up to `limit` holds past their expiry that nothing released (their saga
    /// ended without releasing, was terminated, or is stuck); returns how many.
    #[activity(name = "inventory.release_expired_holds")]
    pub fn release_expired_holds(limit: u32) -> Result<u32, ActivityError> {
        unimplemented!()
    }

    /// Moves the expiry of live holds (rooms or seats) to `until_ms` at the latest; a hold
    /// that already lasts longer, or is no longer held, is left as it is. Fails
    /// `HoldNotFound` when one of them is not held any more.
    #[activity(name = "inventory.extend_holds")]
    pub fn extend_holds(request: ExtendHolds) -> Result<(), ActivityError> {
        unimplemented!()
    }

    /// Gives back the rooms of a confirmed hold: the compensation of `confirm_hold`.
    /// A no-op for a hold that is not confirmed.
    #[activity(name = "inventory.unbook_hold")]
    pub fn unbook_hold(hold_id: String) -> Result<(), ActivityError> {
        unimplemented!()
    }

    /// Holds seats on a package departure, all or none. Fails `SoldOut` when the departure
    /// lacks them (or is not on sale). `release_hold`, `confirm_hold`, `unbook_hold` and the
    /// expiry sweep take seat holds as they take room holds.
    #[activity(name = "inventory.hold_seats")]
    pub fn hold_seats(request: SeatHoldRequest) -> Result<HoldPlaced, ActivityError> {
        unimplemented!()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeatHoldRequest {
    /// Idempotency key of the hold: derived from the workflow id, never random.
    pub hold_id: String,
    pub booking_ref: BookingRef,
    pub package_id: Uuid,
    pub departure: chrono::NaiveDate,
    pub seats: u32,
}

// ---------------------------------------------------------------- booking

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewBookingRecord {
    pub booking_ref: BookingRef,
    pub accommodation_id: Uuid,
    pub room_type: String,
    pub dates: StayDates,
    pub rooms: u32,
    pub guests: u32,
    pub lead_traveller: LeadTraveller,
    pub quote: StayQuote,
    pub hold_id: String,
    /// The signed-in user who booked; they may see and change the booking.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<Uuid>,
    /// The partner that booked for its customer; the booking is then of the partner channel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partner_id: Option<Uuid>,
    /// The API request the booking answers, recorded with it (see [`BookingRequestKey`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<BookingRequestKey>,
}

/// The record of a package booking: the booking, pending payment, with one item for the
/// party's seats and one per room-night of each included stay, under the holds that keep them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewPackageBookingRecord {
    pub booking_ref: BookingRef,
    pub order: crate::package::PackageOrder,
    pub lead_traveller: LeadTraveller,
    pub quote: crate::pricing::PackageQuote,
    pub seat_hold_id: String,
    /// One per `order.stays`, in the same order.
    pub stay_hold_ids: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partner_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<BookingRequestKey>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookingConfirmation {
    pub booking_ref: BookingRef,
    pub amount_charged: Money,
    /// The payment context's id of the capture.
    pub payment_id: Uuid,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookingFailure {
    pub booking_ref: BookingRef,
    pub code: String,
    pub message: String,
}

/// What the booking context is asked when a cancellation starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CancellationRequest {
    pub cancellation: crate::cancellation::CancellationInput,
    /// Today in Tripura (IST), from the workflow's clock: the policy counts days to check-in.
    pub today: chrono::NaiveDate,
}

/// The terms of a cancellation, fixed once when it starts (asking again returns them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CancellationTerms {
    pub policy: String,
    pub days_before_check_in: i64,
    pub refund_bp: u32,
    pub refund: Money,
    /// The hold the booking's rooms (or a package's seats) are booked under.
    pub hold_id: String,
    /// A package booking's other holds: the rooms of its included stays.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub other_holds: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CancellationCompletion {
    pub booking_ref: BookingRef,
    pub refunded: Money,
    /// A refund an operator took over, owed to the traveller.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owed: Option<Money>,
}

/// Where a booking's record stands, as a repair reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordedStatus {
    PendingPayment,
    Confirmed,
    Failed,
    Cancelled,
}

/// What the booking context has on record for a booking.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookingOnRecord {
    pub status: RecordedStatus,
    /// What the booking costs: what a repair expects the gateway to have captured.
    pub total: Money,
    /// Every hold the booking placed, in the order its saga placed them: a stay's rooms, or a
    /// package's seats and then each included stay's rooms. Empty in answers given before
    /// package bookings were repaired: the stay's one hold, `<saga id>/hold`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hold_ids: Vec<String>,
}

/// Which stopped booking sagas a repair sweep looks for: those closed within the window
/// without finishing (failed, terminated or timed out), at most `limit` of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoppedSagasRequest {
    pub closed_within_secs: u64,
    pub limit: u32,
}

/// A refund an operator issued, as the booking's audit trail keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundIssued {
    pub booking_ref: BookingRef,
    pub refund_key: String,
    pub amount: Money,
    pub reason: String,
    /// `user:<id>` of the operator.
    pub requested_by: String,
}

pub struct BookingActivities;

#[activity_definitions]
impl BookingActivities {
    /// Writes the booking record, pending payment. Idempotent by booking reference.
    #[activity(name = "booking.create_booking")]
    pub fn create_booking(record: NewBookingRecord) -> Result<(), ActivityError> {
        unimplemented!()
    }

    /// Writes a package booking's record and items, pending payment. Idempotent by booking
    /// reference.
    #[activity(name = "booking.create_package_booking")]
    pub fn create_package_booking(record: NewPackageBookingRecord) -> Result<(), ActivityError> {
        unimplemented!()
    }

    /// Marks the booking confirmed with what was charged.
    #[activity(name = "booking.confirm_booking")]
    pub fn confirm_booking(confirmation: BookingConfirmation) -> Result<(), ActivityError> {
        unimplemented!()
    }

    /// Marks the booking failed with the reason. A no-op if no record was ever written.
    #[activity(name = "booking.fail_booking")]
    pub fn fail_booking(failure: BookingFailure) -> Result<(), ActivityError> {
        unimplemented!()
    }

    /// Fixes a cancellation's terms by the booking's policy (or the operator's override,
    /// recorded with its reason). Fails `NotCancellable` unless the booking is confirmed.
    #[activity(name = "booking.begin_cancellation")]
    pub fn begin_cancellation(request: CancellationRequest) -> Result<CancellationTerms, ActivityError> {
        unimplemented!()
    }

    /// Marks the booking cancelled (a new version), with what was refunded.
    #[activity(name = "booking.complete_cancellation")]
    pub fn complete_cancellation(completion: CancellationCompletion) -> Result<(), ActivityError> {
        unimplemented!()
    }

    /// The booking's record, if one was written.
    #[activity(name = "booking.booking_on_record")]
    pub fn booking_on_record(booking_ref: BookingRef) -> Result<Option<BookingOnRecord>, ActivityError> {
        unimplemented!()
    }

    /// Writes the audit line of a refund an operator issued, once per refund key.
    #[activity(name = "booking.record_refund")]
    pub fn record_refund(refund: RefundIssued) -> Result<(), ActivityError> {
        unimplemented!()
    }

    /// The bookings whose saga stopped without finishing (failed, terminated, timed out)
    /// and that no repair has finished or is running for, by asking Temporal's visibility.
    #[activity(name = "booking.stopped_sagas")]
    pub fn stopped_sagas(request: StoppedSagasRequest) -> Result<Vec<BookingRef>, ActivityError> {
        unimplemented!()
    }
}

// ---------------------------------------------------------------- payment

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChargeRequest {
    pub booking_ref: BookingRef,
    /// Idempotency key of the charge: derived from the workflow id, never random.
    pub idempotency_key: String,
    pub amount: Money,
    pub card_token: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Charge {
    pub payment_id: Uuid,
    pub gateway_order_id: String,
    pub gateway_payment_id: String,
    pub captured: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundRequest {
    pub booking_ref: BookingRef,
    /// The charge's idempotency key: names the charge to undo, whether or not it finished.
    pub charge_idempotency_key: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundOutcome {
    /// What was returned to the traveller now; zero when nothing had been captured.
    pub refunded: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckoutRequest {
    pub booking_ref: BookingRef,
    /// The charge's idempotency key, as for [`ChargeRequest`].
    pub idempotency_key: String,
    pub amount: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckoutOpened {
    pub payment_id: Uuid,
    pub gateway_order_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettleRequest {
    pub booking_ref: BookingRef,
    pub idempotency_key: String,
    pub amount: Money,
}

/// Which payments the reconciliation looks at: those left `created` or `authorized` (an
/// outcome nobody recorded) for longer than any saga waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReconcileRequest {
    pub stale_after_secs: u64,
    pub limit: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ReconcileReport {
    pub checked: u32,
    /// Payments the gateway had captured for them, now refunded.
    pub refunded: u32,
    pub refunded_paise: i64,
    /// Payments with nothing captured, now closed.
    pub closed: u32,
}

/// A refund of a fixed amount of a booking's capture, under a key of the caller's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundAmountRequest {
    pub booking_ref: BookingRef,
    pub charge_idempotency_key: String,
    pub amount: Money,
    /// The same key always means the same refund.
    pub refund_key: String,
    pub reason: String,
}

/// A refund the gateway keeps refusing, taken over by an operator (`hand_refund_over`): its
/// amount is set aside as owed to the traveller, and the refund's own attempts stop.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundHandover {
    pub booking_ref: BookingRef,
    pub charge_idempotency_key: String,
    /// The key of the refund taken over: a fixed amount's, or `<charge key>/refund` for a
    /// compensation's refund of the whole charge.
    pub refund_key: String,
    /// What the refund was for; `None` for all that is left of the charge.
    pub amount: Option<Money>,
    pub reason: String,
    /// `user:<id>`.
    pub handed_over_by: String,
}

/// Where a refund taken over stands: made by the gateway after all, or owed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandoverOutcome {
    pub refunded: Money,
    pub owed: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundPaymentRequest {
    pub booking_ref: BookingRef,
    pub charge_idempotency_key: String,
    /// The one gateway payment to give back.
    pub gateway_payment_id: String,
    pub reason: String,
}

pub struct PaymentActivities;

#[activity_definitions]
impl PaymentActivities {
    /// Creates a gateway order for the amount, pays it with the card token and captures it.
    /// Safe to retry: an outcome left unknown by a timeout is resolved by asking the gateway.
    /// Fails `CardDeclined` when the gateway refuses the card.
    #[activity(name = "payment.charge")]
    pub fn charge(request: ChargeRequest) -> Result<Charge, ActivityError> {
        unimplemented!()
    }

    /// Refunds whatever the named charge captured (and voids what it only authorised).
    #[activity(name = "payment.refund_charge")]
    pub fn refund_charge(request: RefundRequest) -> Result<RefundOutcome, ActivityError> {
        unimplemented!()
    }

    /// Creates (once) the gateway order a traveller pays on the hosted checkout; payments
    /// made there are captured by the gateway.
    #[activity(name = "payment.open_checkout")]
    pub fn open_checkout(request: CheckoutRequest) -> Result<CheckoutOpened, ActivityError> {
        unimplemented!()
    }

    /// Asks the gateway whether the checkout's order was paid, and records the capture. A
    /// notice is never trusted on its own. Fails `PaymentNotFound` when the gateway shows no
    /// capture (the saga waits on), `PaymentRejected` for a payment of the wrong amount.
    #[activity(name = "payment.settle_checkout")]
    pub fn settle_checkout(request: SettleRequest) -> Result<Charge, ActivityError> {
        unimplemented!()
    }

    /// Refunds `amount` of the booking's capture, once per `refund_key`: at most what was
    /// captured less what was refunded or reserved by other refunds, unless a reservation
    /// under the key (an operator's refund) fixed it already. Retried until the gateway
    /// accepts it.
    #[activity(name = "payment.refund_amount")]
    pub fn refund_amount(request: RefundAmountRequest) -> Result<RefundOutcome, ActivityError> {
        unimplemented!()
    }

    /// Resolves payments whose outcome was never recorded by asking the gateway: what it
    /// captured is refunded (no booking stands on it), the rest is closed. Never charges.
    #[activity(name = "payment.reconcile_stale")]
    pub fn reconcile_stale(request: ReconcileRequest) -> Result<ReconcileReport, ActivityError> {
        unimplemented!()
    }

    /// An operator's resolution of a gateway event the webhook could not apply: refunds its
    /// payment (whatever the gateway captured and did not give back, once) or records it on
    /// its booking's ledger. Never refunds the capture a booking stands on (fails
    /// `PaymentInUse`); attaching needs a booking's order (fails `NoBookingForOrder`).
    #[activity(name = "payment.resolve_webhook")]
    pub fn resolve_webhook(
        request: crate::saga::WebhookResolutionInput,
    ) -> Result<crate::saga::WebhookResolved, ActivityError> {
        unimplemented!()
    }

    /// Refunds one gateway payment that no booking uses (paid late, or twice). Never
    /// refunds the capture a confirmed booking stands on.
    #[activity(name = "payment.refund_payment")]
    pub fn refund_payment(request: RefundPaymentRequest) -> Result<RefundOutcome, ActivityError> {
        unimplemented!()
    }

    /// Stops a refund for good and sets its amount aside as owed, under the charge's lock:
    /// an attempt still running finishes first, and every later attempt fails
    /// `RefundHandedOver` instead of asking the gateway. Answers what the gateway refunded
    /// after all instead, when it did.
    #[activity(name = "payment.hand_refund_over")]
    pub fn hand_refund_over(request: RefundHandover) -> Result<HandoverOutcome, ActivityError> {
        unimplemented!()
    }
}

/// The marker types of the declarations above, for `#[activity(definition = ...)]` in the
/// crates that implement them.
pub mod definitions {
    pub use super::booking_activities::{
        BeginCancellation, BookingOnRecord, CompleteCancellation, ConfirmBooking, CreateBooking, CreatePackageBooking,
        FailBooking, RecordRefund, StoppedSagas,
    };
    pub use super::inventory_activities::{
        ConfirmHold, ExtendHolds, HoldRooms, HoldSeats, ReleaseExpiredHolds, ReleaseHold, UnbookHold,
    };
    pub use super::payment_activities::{
        Charge, HandRefundOver, OpenCheckout, ReconcileStale, RefundAmount, RefundCharge, RefundPayment,
        ResolveWebhook, SettleCheckout,
    };
}
