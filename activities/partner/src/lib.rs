//! Partner context: B2B partners, their API keys, the rate limits and access log of the
//! partner API, and partner settlements. Owns the `partner` schema; it is the only code
//! that reads or writes it.
//!
//! - API keys: `tt_live_<prefix>_<secret>`, shown once, stored as a SHA-256 hash beside
//!   the visible prefix ([`keys`]); rotation keeps the old key working for a grace period,
//!   revocation is effective on the next request ([`partners`]).
//! - Rate limits: per key and per partner, counted in PostgreSQL so that every API replica
//!   shares one window ([`rate_limit`], [`store::count_hits`]).
//! - Access log: written in batches off the request path, dropping when full ([`access_log`]);
//!   requests without a valid key are limited per client address before they reach it
//!   ([`unauthenticated`]).
//! - Settlements: the activities the settlement workflows run on the `partner` queue
//!   ([`activities`]) and the CSV statement ([`statement`]).
//!
//! Architecture invariant: depends on `contracts` only, never on another context crate. The
//! bookings a settlement counts come from the booking context through an activity.

pub mod access_log;
pub mod activities;
pub mod keys;
pub mod partners;
pub mod rate_limit;
pub mod statement;
pub mod store;
pub mod unauthenticated;

pub use access_log::{AccessLog, AccessLogDrain};
pub use activities::PartnerActivitiesImpl;
pub use partners::{KeyRejection, PartnerCaller, PartnerError, Partners, RateLimited};
pub use store::{
    AccessLogEntry, AccessLogFilter, AccessLogLine, CredentialRow, KeyIdentity, PartnerRow, PartnerStatus,
    PayoutAccountRow, SettlementRow, SettlementStatus,
};
pub use unauthenticated::UnauthenticatedBudget;

/// The schema this context owns; its pool's `search_path`.
pub const SCHEMA: &str = "partner";
/// This context's migrations, applied inside [`SCHEMA`].
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/partner");
