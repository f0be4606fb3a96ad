//! Process plumbing every binary shares: typed settings from the environment, telemetry,
//! shutdown signals, database pools per context and the Temporal client.
//!
//! Architecture invariant: no domain knowledge lives here; context crates do not depend on
//! this crate (only binaries and their libraries do).

pub mod db;
pub mod env;
pub mod environment;
pub mod metrics;
pub mod payload_codec;
pub mod shutdown;
pub mod telemetry;
pub mod temporal;

pub use env::{EnvError, Secret};
pub use environment::Environment;
