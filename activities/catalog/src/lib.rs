//! Catalog context: destinations, accommodations and their room types, experiences,
//! packages and pricing — what Tripura Tourism sells.
//!
//! Owns the `catalog` schema; it is the only code that reads or writes it.
//!
//! Architecture invariants:
//! - Depends on `contracts` only, never on another context crate.
//! - Quotes are computed by `contracts::pricing` (`quote_stay`, `quote_package`), the same
//!   functions whose results the booking saga charges.
//! - A read of a page costs a fixed number of queries whatever the page size: related rows
//!   (room types, images, destinations, amenities, prices) come for the whole page at once.

pub mod changes;
mod facade;
pub mod manage;
pub mod packages;
pub mod places;
pub mod search;
pub mod seed;
pub mod store;

pub use changes::CatalogVersion;
pub use facade::Catalog;
pub use packages::IncludedStayRow;

/// The schema this context owns; its pool's `search_path`.
pub const SCHEMA: &str = "catalog";
/// This context's migrations, applied inside [`SCHEMA`].
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/catalog");
