//! The axum HTTP API: one router per bounded context under `/api/<context>`, the same
//! error shape everywhere, health and readiness probes, and OpenAPI docs at `/api/docs`.
//!
//! Architecture invariants:
//! - Reads come from the owning context's store (through that context crate) or from a
//!   workflow query; writes inside one context go to its store; anything that spans
//!   contexts starts or signals a workflow. No SQL lives in this crate.
//! - Nothing here panics on input: every rejection becomes a 4xx `{"error": {..}}`.

mod docs;
pub mod error;
mod extract;
mod metrics;
mod routes;
mod settings;
mod state;

pub use settings::{ApiService, ApiSettings};
pub use state::AppState;

use axum::{Router, extract::DefaultBodyLimit, http::HeaderName, middleware, routing::get};
use std::{future::Future, time::Duration};
use tower_http::{
    catch_panic::CatchPanicLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    trace::{DefaultOnResponse, TraceLayer},
};

/// Request bodies larger than this are refused with 413: a booking is a few hundred bytes.
const BODY_LIMIT_BYTES: usize = 64 * 1024;
/// Longer than the longest `?wait=` a client may ask for.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The API as a router serving the routes of `services` (every deployment also answers the
/// probes, `/metrics` and the docs), for `run` and for tests.
pub fn app(state: AppState, services: &[ApiService]) -> Router {
    metrics::init();
    let request_id = HeaderName::from_static("x-request-id");
    let mut router = Router::new().merge(routes::health::router()).route("/metrics", get(metrics::render));
    for service in services {
        router = match service {
            ApiService::Bookings => router.nest("/api/bookings", routes::bookings::router()),
            ApiService::Catalog => router.nest("/api/catalog", routes::catalog::router()),
            ApiService::Inventory => router.nest("/api/inventory", routes::inventory::router()),
            // These contexts have no HTTP routes yet; their deployments serve probes and docs.
            ApiService::Auth | ApiService::Payments | ApiService::Partners => router,
        };
    }
    router
        .merge(docs::router())
        .fallback(routes::not_found)
        .method_not_allowed_fallback(routes::method_not_allowed)
        .with_state(state)
        .layer(middleware::from_fn(metrics::track))
        .layer(CatchPanicLayer::custom(error::panic_response))
        // Enforced by the body extractors, so an oversized body gets the API's 413 shape.
        .layer(DefaultBodyLimit::max(BODY_LIMIT_BYTES))
        .layer(middleware::from_fn(time_limit))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<_>| {
            let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("");
            tracing::info_span!("http", method = %req.method(), path = %req.uri().path(), request_id = %id, booking_ref = tracing::field::Empty)
        }).on_response(DefaultOnResponse::new().level(tracing::Level::INFO)))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
}

/// Answers a request that takes longer than [`REQUEST_TIMEOUT`] with the API's 503.
async fn time_limit(request: axum::extract::Request, next: middleware::Next) -> axum::response::Response {
    use axum::response::IntoResponse;
    match tokio::time::timeout(REQUEST_TIMEOUT, next.run(request)).await {
        Ok(response) => response,
        Err(_) => error::ApiError::unavailable("request_timeout", "The request took too long; try again shortly")
            .into_response(),
    }
}

/// Serves the API on `listener` until `shutdown` resolves, then drains open requests.
pub async fn run(
    state: AppState,
    services: &[ApiService],
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app(state, services)).with_graceful_shutdown(shutdown).await
}
