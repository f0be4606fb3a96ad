//! The sandbox payment gateway: `TT_SANDBOX_ADDR` (default 127.0.0.1:8090),
//! `TT_SANDBOX_KEY_ID` and `TT_SANDBOX_KEY_SECRET` (development defaults);
//! `TT_GATEWAY_WEBHOOK_URL` (optional: without it no webhook is sent),
//! `TT_GATEWAY_WEBHOOK_SECRET` (development default) and `TT_GATEWAY_WEBHOOK_MAX_ATTEMPTS`
//! (default 5).

use anyhow::Context;
use platform::env;
use sandbox_gateway::{
    DEFAULT_KEY_ID, DEFAULT_KEY_SECRET, DEFAULT_WEBHOOK_MAX_ATTEMPTS, DEFAULT_WEBHOOK_SECRET, SandboxSettings,
};
use std::net::SocketAddr;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    platform::telemetry::init("sandbox-gateway");
    let addr: SocketAddr = env::var_or("SANDBOX_ADDR", SocketAddr::from(([127, 0, 0, 1], 8090)))?;
    let webhook_url: Option<String> = env::optional("GATEWAY_WEBHOOK_URL")?;
    // A mistyped URL would otherwise only show up as failed deliveries, one event at a time.
    if let Some(url) = &webhook_url {
        reqwest::Url::parse(url).with_context(|| format!("TT_GATEWAY_WEBHOOK_URL is not a URL: {url}"))?;
    }
    let settings = SandboxSettings {
        key_id: env::var_or("SANDBOX_KEY_ID", DEFAULT_KEY_ID.to_string())?,
        key_secret: env::var_or("SANDBOX_KEY_SECRET", DEFAULT_KEY_SECRET.to_string())?,
        webhook_url,
        webhook_secret: env::var_or("GATEWAY_WEBHOOK_SECRET", DEFAULT_WEBHOOK_SECRET.to_string())?,
        webhook_max_attempts: env::var_or("GATEWAY_WEBHOOK_MAX_ATTEMPTS", DEFAULT_WEBHOOK_MAX_ATTEMPTS)?,
        ..SandboxSettings::default()
    };
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!(%addr, webhook_url = ?settings.webhook_url, "sandbox payment gateway listening");
    sandbox_gateway::run(listener, settings, platform::shutdown::signal()).await?;
    Ok(())
}
