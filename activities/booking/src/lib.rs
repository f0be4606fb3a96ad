//! Booking context: the booking record and its lifecycle, versions and audit trail, the
//! clients' idempotency keys, and the partner channel's requests, refunds and sales totals.
//!
//! Owns the `booking` schema; it is the only code that reads or writes it.
//!
//! Architecture invariants:
//! - Depends on `contracts` only, never on another context crate.
//! - A booking's status only moves along the saga's transitions; each change writes a new
//!   row in `booking_versions` and one in `booking_audit_logs` in the same transaction.
//! - Every write is idempotent by booking reference.

pub mod activities;
mod facade;
pub mod lifecycle;
pub mod partner_channel;
mod stopped_sagas;
pub mod store;

pub use activities::BookingActivitiesImpl;
pub use facade::{Bookings, ListPosition};
pub use lifecycle::RecordStatus;
pub use partner_channel::PartnerSalesActivitiesImpl;
pub use stopped_sagas::StoppedSagasActivitiesImpl;
pub use store::{
    AuditLine, BookingAccess, BookingDossier, BookingKind, BookingLine, BookingListItem, BookingRow, BookingSearch,
    BookingSearchAfter, BookingSearchOrder, BookingVersion, CancellationLine, CancellationPreview, CustomerLine,
    IdempotentRequest, ItemLine, PackageBookingRow, RecordedStay, RequestOwner,
};

/// The schema this context owns; its pool's `search_path`.
pub const SCHEMA: &str = "booking";
/// This context's migrations, applied inside [`SCHEMA`].
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/booking");
