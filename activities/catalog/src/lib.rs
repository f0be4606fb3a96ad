//! Catalog context: destinations, accommodations and their room types, experiences,
//! packages and pricing — what Tripura Tourism sells.
//!
//! Owns the `catalog` schema; it is the only code that reads or writes it.
//!
//! Architecture invariants:
//! - Depends on `contracts` only, never on another context crate.
//! - Quotes are computed by `contracts::pricing::quote_stay`, the same function whose result
//!   the booking saga charges.

pub mod search;
pub mod seed;
pub mod store;

/// The schema this context owns; its pool's `search_path`.
pub const SCHEMA: &str = "catalog";
/// This context's migrations, applied inside [`SCHEMA`].
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/catalog");
