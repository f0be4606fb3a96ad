//! The Temporal Web UI and the API's payload codec on one origin, for the local stack (see
//! `ops::web_ui_proxy`): operators open the UI here, sign in at `/api/codec/sign-in` on the
//! same origin, and the UI opens sealed payloads with no setting in their browser.
//!
//!   web-ui-proxy LISTEN WEB_UI API
//!
//! e.g. `web-ui-proxy 127.0.0.1:8233 127.0.0.1:8234 127.0.0.1:8080` (what `make up` runs):
//! `/api/codec` and below go to the API, everything else to the Web UI. Development only;
//! in Kubernetes the Ingress routes `/api/codec` on the Web UI's host.

use ops::web_ui_proxy::{self, Upstreams};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    platform::telemetry::init("web-ui-proxy");
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [listen, web_ui, api] = args.as_slice() else {
        anyhow::bail!("usage: web-ui-proxy LISTEN WEB_UI API   (e.g. 127.0.0.1:8233 127.0.0.1:8234 127.0.0.1:8080)");
    };
    let upstreams = Upstreams::parse(web_ui, api)?;
    let listener = tokio::net::TcpListener::bind(listen.as_str())
        .await
        .map_err(|e| anyhow::anyhow!("listening on {listen}: {e}"))?;
    tracing::info!(listen = %listener.local_addr()?, web_ui = %upstreams.web_ui, api = %upstreams.api, "serving the Web UI with the codec");
    web_ui_proxy::serve(listener, upstreams, platform::shutdown::signal()).await?;
    Ok(())
}
