//! Auth context: accounts, passwords, sessions, access tokens, roles and permissions, and
//! the user activity log. Owns the `auth` schema; it is the only code that reads or writes it.
//!
//! - Passwords: Argon2id PHC strings ([`password`]).
//! - Access tokens: EdDSA JWTs with a `kid`, verified against a key ring that rotates
//!   ([`keys`], [`tokens`]); the public keys are published as JWKS.
//! - Refresh tokens: opaque, stored as SHA-256 hashes, rotated on every use; reuse after a
//!   short grace ends the whole login, and no login is renewed past its absolute lifetime
//!   ([`accounts`]).
//! - Sign-in: throttled per (e-mail, client address) pair in the database, rate-limited per
//!   client and bounded in concurrent Argon2 work in process ([`limits`]).
//!
//! Architecture invariant: depends on `contracts` only, never on another context crate.

pub mod accounts;
pub mod keys;
pub mod limits;
pub mod password;
pub mod store;
pub mod tokens;

pub use accounts::{Accounts, AuthError, Client, Principal, SessionSettings, ThrottlePolicy, VerifiedToken};
pub use store::{ActivityRow, Profile, RoleRow, StoreError, UserSummary};

/// The schema this context owns; its pool's `search_path`.
pub const SCHEMA: &str = "auth";
/// This context's migrations, applied inside [`SCHEMA`].
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/auth");

/// The roles seeded by the migrations.
pub mod roles {
    pub const TRAVELLER: &str = "traveller";
    pub const ASSET_MANAGER: &str = "asset_manager";
    pub const OPERATOR: &str = "operator";
    pub const ADMIN: &str = "admin";
    pub const ALL: [&str; 4] = [TRAVELLER, ASSET_MANAGER, OPERATOR, ADMIN];
}
