//! Payment context: the gateway adapter, every payment attempt, capture and refund, and
//! payouts to partners.
//!
//! Owns the `payment` schema (`payments`, `booking_payments`); it is the only code that
//! reads or writes it, and the only code that talks to the payment gateway.
//!
//! Architecture invariants:
//! - Depends on `contracts` only, never on another context crate.
//! - Money never moves twice: every gateway call that moves money is either keyed by an
//!   idempotency key derived from the workflow, or preceded by asking the gateway what
//!   already happened. A timeout is an unknown outcome, never a reason to pay again.
//! - The database refuses refunds beyond the capture (`payments_refunds_within_capture`).

pub mod activities;
mod facade;
pub mod gateway;
mod payouts;
pub mod store;

pub use activities::PaymentActivitiesImpl;
pub use facade::{Payments, RefundAsk, RefundRefused};
pub use gateway::{GatewayClient, GatewaySettings};
pub use payouts::PayoutActivitiesImpl;
pub use store::{
    ChargeMethod, InboxEvent, MoneyMovement, PaymentRow, PaymentStatus, RefundRequestRow, RefundRequestStatus,
    WebhookEvent, WebhookOutcome,
};

/// The schema this context owns; its pool's `search_path`.
pub const SCHEMA: &str = "payment";
/// This context's migrations, applied inside [`SCHEMA`].
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/payment");
