//! Partner context. Owns the `partner` schema; it is the only code that reads or writes it.
//!
//! Today this crate carries the context's schema (migrations); its behaviour arrives with
//! the issues that build on the walking skeleton.
//!
//! Architecture invariant: depends on `contracts` only, never on another context crate.

/// The schema this context owns; its pool's `search_path`.
pub const SCHEMA: &str = "partner";
/// This context's migrations, applied inside [`SCHEMA`].
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/partner");
