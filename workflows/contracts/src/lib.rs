//! The language every part of the platform shares: domain values that are valid by
//! construction, the names of task queues and search attributes, and the contracts
//! (names, inputs, outputs) of every activity and workflow.
//!
//! Architecture invariants:
//! - This crate performs no I/O and depends on no database, HTTP or worker-runtime crate.
//!   Workflows, context crates, workers and the API all depend on it; it depends on none
//!   of them.
//! - Payload types only ever grow: a field may be added (optional, with a serde default) but
//!   never renamed or removed, because workflows in flight still carry the old shape.

pub mod activities;
pub mod booking_ref;
pub mod cancellation;
pub mod email;
pub mod india;
pub mod money;
pub mod package;
pub mod pricing;
pub mod saga;
pub mod settlement;
pub mod stay;
pub mod temporal;

pub use booking_ref::BookingRef;
pub use email::EmailAddress;
pub use money::{Currency, Money};
pub use stay::{StayDates, StayError};

/// A date written as the tests write it, `2026-12-24`.
#[cfg(test)]
fn date(s: &str) -> chrono::NaiveDate {
    s.parse().unwrap()
}
