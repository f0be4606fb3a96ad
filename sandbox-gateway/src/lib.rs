//! A local stand-in for the payment gateway: the same Razorpay-shaped HTTP API the payment
//! context's adapter speaks (orders, card payments, capture, idempotent refunds), kept in
//! memory, for development and tests.
//!
//! Card tokens decide the outcome: `tok_decline`, `tok_declined` and
//! `tok_insufficient_funds` are declined by the "bank"; any other `tok_…` token is authorised.
//!
//! Architecture invariant: shares no code with the payment context, so the adapter is tested
//! against an independent implementation of the protocol.

mod api;
mod state;

pub use api::router;
pub use state::Sandbox;

use std::future::Future;
use tokio::net::TcpListener;

#[derive(Debug, Clone)]
pub struct SandboxSettings {
    pub key_id: String,
    pub key_secret: String,
}

impl Default for SandboxSettings {
    fn default() -> Self {
        SandboxSettings { key_id: DEFAULT_KEY_ID.into(), key_secret: DEFAULT_KEY_SECRET.into() }
    }
}

/// Development credentials, the same defaults the payment context uses.
pub const DEFAULT_KEY_ID: &str = "rzp_test_sandbox";
pub const DEFAULT_KEY_SECRET: &str = "sandbox_secret";

/// Serves the sandbox on `listener` until `shutdown` resolves.
pub async fn run(
    listener: TcpListener,
    settings: SandboxSettings,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(Sandbox::new(settings));
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await
}
