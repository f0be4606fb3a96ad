//! The sandbox payment gateway: `TT_SANDBOX_ADDR` (default 127.0.0.1:8090),
//! `TT_SANDBOX_KEY_ID` and `TT_SANDBOX_KEY_SECRET` (development defaults).

use platform::env;
use sandbox_gateway::{DEFAULT_KEY_ID, DEFAULT_KEY_SECRET, SandboxSettings};
use std::net::SocketAddr;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    platform::telemetry::init("sandbox-gateway");
    let addr: SocketAddr = env::var_or("SANDBOX_ADDR", SocketAddr::from(([127, 0, 0, 1], 8090)))?;
    let settings = SandboxSettings {
        key_id: env::var_or("SANDBOX_KEY_ID", DEFAULT_KEY_ID.to_string())?,
        key_secret: env::var_or("SANDBOX_KEY_SECRET", DEFAULT_KEY_SECRET.to_string())?,
    };
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!(%addr, "sandbox payment gateway listening");
    sandbox_gateway::run(listener, settings, platform::shutdown::signal()).await?;
    Ok(())
}
