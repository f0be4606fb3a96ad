//! Inventory context: room-nights per accommodation and room type, seats per departure of a
//! package, and holds on them.
//!
//! Owns the `inventory` schema (`accommodation_availability`, `inventory_holds`,
//! `package_availability`, `seat_holds`); it is the only code that reads or writes it.
//!
//! Architecture invariants:
//! - Depends on `contracts` only, never on another context crate.
//! - The database is the source of truth for counts: correctness under many API and worker
//!   replicas comes from row locks and the `accommodation_availability_no_overbooking` and
//!   `package_availability_no_overbooking` CHECKs, never from in-process locks.
//! - Every write is idempotent by its hold id.

pub mod activities;
mod facade;
pub mod store;

pub use activities::InventoryActivitiesImpl;
pub use facade::Inventory;
pub use store::{AllotmentChange, Departure, DepartureChange, NightAvailability, RoomNights};

/// The schema this context owns; its pool's `search_path`.
pub const SCHEMA: &str = "inventory";
/// This context's migrations, applied inside [`SCHEMA`].
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/inventory");
