//! The HTTP API. Settings from `TT_*` variables; see `ApiSettings`.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    platform::telemetry::init("api");
    let settings = api::ApiSettings::from_env()?;
    let listener = tokio::net::TcpListener::bind(settings.addr).await?;
    let state = api::AppState::connect(&settings).await?;
    tracing::info!(addr = %settings.addr, services = ?settings.services, "API listening; docs at /api/docs");
    api::run(state, &settings.services, listener, platform::shutdown::signal()).await?;
    Ok(())
}
