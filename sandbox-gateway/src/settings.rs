//! The sandbox's configuration: the merchant credentials it accepts and where, how and how
//! persistently it delivers webhooks. It depends on no other module, so the binary, the
//! state and the webhook dispatcher can all take it without taking each other.

use std::time::Duration;

#[derive(Clone)]
pub struct SandboxSettings {
    pub key_id: String,
    pub key_secret: String,
    /// Where webhooks go; without one, events are only recorded in the delivery log.
    pub webhook_url: Option<String>,
    pub webhook_secret: String,
    /// Attempts per delivery, the first included.
    pub webhook_max_attempts: u32,
    /// Wait before the first retry; each further retry waits twice as long.
    pub webhook_backoff: Duration,
}

impl Default for SandboxSettings {
    fn default() -> Self {
        SandboxSettings {
            key_id: DEFAULT_KEY_ID.into(),
            key_secret: DEFAULT_KEY_SECRET.into(),
            webhook_url: None,
            webhook_secret: DEFAULT_WEBHOOK_SECRET.into(),
            webhook_max_attempts: DEFAULT_WEBHOOK_MAX_ATTEMPTS,
            webhook_backoff: Duration::from_millis(500),
        }
    }
}

/// Secrets stay out of logs even when the settings are printed.
impl std::fmt::Debug for SandboxSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SandboxSettings")
            .field("key_id", &self.key_id)
            .field("key_secret", &"***")
            .field("webhook_url", &self.webhook_url)
            .field("webhook_secret", &"***")
            .field("webhook_max_attempts", &self.webhook_max_attempts)
            .field("webhook_backoff", &self.webhook_backoff)
            .finish()
    }
}

/// Development credentials, the same defaults the payment context uses.
pub const DEFAULT_KEY_ID: &str = "rzp_test_sandbox";
pub const DEFAULT_KEY_SECRET: &str = "sandbox_secret";
/// The development webhook secret; whatever receives the webhooks verifies with it.
pub const DEFAULT_WEBHOOK_SECRET: &str = "sandbox_webhook_secret";
pub const DEFAULT_WEBHOOK_MAX_ATTEMPTS: u32 = 5;
