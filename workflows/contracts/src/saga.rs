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

/// How the traveller pays: with a card token charged server to server, or (no token) on
/// the gateway's hosted checkout, confirmed by its webhook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentMethod {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card_token: Option<String>,
}

impl PaymentMethod {
    pub fn card(token: impl Into<String>) -> Self {
        PaymentMethod { card_token: Some(token.into()) }
    }

    pub fn checkout() -> Self {
        PaymentMethod { card_token: None }
    }
}

/// What the booking saga waits for on a checkout payment: the gateway says the order was
/// paid (delivered by its webhook through the API). The saga checks it with the gateway
/// before it counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentNotice {
    pub gateway_order_id: String,
    pub gateway_payment_id: String,
    /// Paise, as the event stated it.
    pub amount: i64,
}

/// What a checkout page needs, while the saga waits for the payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckoutState {
    pub gateway_order_id: String,
    pub amount: Money,
    /// Unix milliseconds after which the hold is released and the booking expires.
    pub expires_at_ms: i64,
}

/// An operator gives a traveller more time to pay on the checkout (the booking sagas'
/// `extend_payment_window` update): the window then ends `minutes` from now, unless it
/// already ends later, and the holds are kept as long.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentWindowExtension {
    pub minutes: u32,
    pub reason: String,
    /// `user:<id>`.
    pub requested_by: String,
}

/// An operator's repair of a saga's step that keeps failing: the `retry_step_now` and
/// `hand_refund_over` updates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepRepair {
    pub reason: String,
    /// `user:<id>`.
    pub requested_by: String,
}

/// The step a repair acted on, as the saga names it (`refund`, `release the hold`, ...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepRepaired {
    pub step: String,
}

/// The longest an operator extends a payment window by, in one go.
pub const MAX_PAYMENT_WINDOW_EXTENSION_MINUTES: u32 = 24 * 60;

/// The input of the automatic refund of one gateway payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AutoRefundInput {
    pub booking_ref: BookingRef,
    pub charge_idempotency_key: String,
    pub gateway_payment_id: String,
    /// Why: `expired`, `failed`, `cancelled`, `duplicate_payment`.
    pub reason: String,
}

impl AutoRefundInput {
    pub fn workflow_id(&self) -> String {
        format!("refund-{}", self.gateway_payment_id)
    }
}

/// An operator's refund of a paid booking (`ManualRefund`), already reserved by the payment
/// context under [`ManualRefundInput::refund_key`] when the workflow starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManualRefundInput {
    pub booking_ref: BookingRef,
    /// The operator's `Idempotency-Key`: the same key is the same refund.
    pub client_key: String,
    pub amount: Money,
    pub reason: String,
    /// `user:<id>`, for the audit trail.
    pub requested_by: String,
}

impl ManualRefundInput {
    /// `manual-refund-<ref>/<key>`: one workflow per booking and key.
    pub fn workflow_id(&self) -> String {
        manual_refund_workflow_id(&self.booking_ref, &self.client_key)
    }

    /// The key the refund is reserved, sent to the gateway and recorded under.
    pub fn refund_key(&self) -> String {
        format!("{}/refund", self.workflow_id())
    }

    /// The booking's charge, whose capture is refunded.
    pub fn charge_idempotency_key(&self) -> String {
        format!("{}/charge", self.booking_ref.workflow_id())
    }
}

pub fn manual_refund_workflow_id(booking_ref: &BookingRef, client_key: &str) -> String {
    format!("manual-refund-{booking_ref}/{client_key}")
}

/// An operator's resolution of a gateway event the webhook could not apply
/// (`WebhookResolution`, id `resolve-webhook-<event id>`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookResolutionInput {
    pub event_id: String,
    pub action: WebhookAction,
    pub reason: String,
    /// `user:<id>`.
    pub requested_by: String,
}

impl WebhookResolutionInput {
    pub fn workflow_id(&self) -> String {
        format!("resolve-webhook-{}", self.event_id)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WebhookAction {
    /// Give the payment back: nobody will use it.
    Refund,
    /// Keep it: record it on its booking's ledger, where the operator decides what it pays.
    Attach,
}

/// How a resolution ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookResolved {
    /// `refunded`, `attached` or `nothing_to_refund`.
    pub resolution: String,
    pub refunded: Money,
}

/// What a repair found a stopped booking saga had left, and what it did about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepairReport {
    pub booking_ref: BookingRef,
    /// The booking record's status when the repair began; `None` when none was written.
    pub found: Option<crate::activities::RecordedStatus>,
    pub outcome: RepairOutcome,
    /// What the repair gave back to the traveller now.
    pub refunded: Money,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RepairOutcome {
    /// The gateway had captured the booking's price and its rooms were still held: the
    /// booking was confirmed, as its saga would have done.
    Confirmed,
    /// Everything the saga took was given back: rooms released, money refunded, the record
    /// marked failed.
    Compensated,
    /// The booking had been cancelled: its cancellation, not a repair, decides its money.
    LeftCancelled,
}

impl RepairOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            RepairOutcome::Confirmed => "confirmed",
            RepairOutcome::Compensated => "compensated",
            RepairOutcome::LeftCancelled => "left_cancelled",
        }
    }
}

/// One repair sweep's count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RepairSweepReport {
    /// Stopped sagas with no finished or running repair.
    pub found: u32,
    /// Repairs started for them.
    pub started: u32,
}

/// The failure code a booking repaired by compensation carries.
pub const SAGA_STOPPED: &str = "saga_stopped";

/// How long a checkout may take when the request names no window.
pub const DEFAULT_PAYMENT_WINDOW_SECS: u64 = 900;

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
    /// Seconds a checkout payment may take before the booking expires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_window_secs: Option<u64>,
    /// The partner (partner context id) that booked for its customer through the partner API.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partner_id: Option<uuid::Uuid>,
    /// The API request the saga answers; absent in histories from before the saga recorded it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<BookingRequestKey>,
    /// Whether the saga records and confirms its booking as local activities of the worker
    /// that runs it. Starters set it, so the choice is in the start's input: the saga then
    /// needs no patch, whose marker and `TemporalChangeVersion` search attribute update cost
    /// the server a history event and a visibility write per booking. Absent in histories
    /// from before it existed, where the patch decides.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub local_booking_steps: bool,
}

/// The API request a booking answers: the idempotency key its reference is bound under
/// (scoped to the caller, or made by the server when the client sent none) and its body's
/// hash.
///
/// The API binds the key with an asynchronous commit, so a database crash can lose the
/// binding after the saga started. The saga therefore records it again, in the same
/// transaction as the booking: a lost binding is restored, and if a retry of the request
/// found none and started a second saga meanwhile, only the saga whose reference the key is
/// bound to records a booking and goes on to take payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookingRequestKey {
    pub idempotency_key: String,
    /// SHA-256 of the request body, in hex.
    pub request_hash: String,
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
    /// The checkout was not paid in time: the hold was released, any late payment refunded.
    Expired,
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
            BookingStatus::Expired => "expired",
        }
    }

    pub fn is_final(self) -> bool {
        matches!(self, BookingStatus::Confirmed | BookingStatus::Failed | BookingStatus::Expired)
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
                | (Compensating, Failed | Expired)
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
    /// The open checkout, while the saga waits for a checkout payment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkout: Option<CheckoutState>,
    /// A compensation's refund an operator took over (`hand_refund_over`), owed to the
    /// traveller instead of refunded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount_owed: Option<Money>,
}

impl BookingProgress {
    /// Where a booking stands the moment its request is accepted: nothing held, charged or
    /// failed yet.
    pub fn accepted(input: &BookingSagaInput) -> Self {
        BookingProgress {
            booking_ref: input.booking_ref.clone(),
            status: BookingStatus::Pending,
            stay: input.stay.clone(),
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
