//! The axum HTTP API: one router per bounded context under `/api/<context>`, the same
//! error shape everywhere, health and readiness probes, and OpenAPI docs at `/api/docs`.
//!
//! Architecture invariants:
//! - Reads come from the owning context's store (through that context crate) or from a
//!   workflow query; writes inside one context go to its store; anything that spans
//!   contexts starts or signals a workflow. No SQL lives in this crate.
//! - Nothing here panics on input: every rejection becomes a 4xx `{"error": {..}}`.
//! - Nothing a request needs lives only in this process: rate limits and idempotency keys
//!   are in PostgreSQL, so any number of replicas serve the same answers.

pub mod access;
mod access_log;
mod background;
mod catalog_pages;
mod docs;
pub mod error;
mod extract;
mod metrics;
mod money;
mod paging;
mod proxies;
mod routes;
mod settings;
mod state;
mod use_cases;

pub use docs::openapi_document;
pub use settings::{ApiService, ApiSettings, AuthConfig, PaymentsConfig};
pub use state::{AppState, contexts_of, database_contexts};

use axum::{Router, extract::DefaultBodyLimit, http::HeaderName, middleware};
use std::{future::Future, time::Duration};
use tower_http::{
    catch_panic::CatchPanicLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    trace::TraceLayer,
};

/// Request bodies larger than this are refused with 413: a booking is a few hundred bytes.
const BODY_LIMIT_BYTES: usize = 64 * 1024;
/// How long shutdown waits for the writes requests left behind.
const SHUTDOWN_WRITES_LIMIT: Duration = Duration::from_secs(5);
/// Longer than the longest `?wait=` a client may ask for.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The API as a router serving the routes of `services` (every deployment also answers the
/// probes, `/metrics` and the docs), for `run` and for tests.
pub fn app(state: AppState, services: &[ApiService]) -> Router {
    metrics::init();
    let request_id = HeaderName::from_static("x-request-id");
    let (probes, _) = probe_routes().split_for_parts();
    let mut router = Router::new().merge(probes).layer(middleware::map_response(access_log::quiet));
    for service in services {
        for (prefix, part) in routes::parts_of(*service) {
            let (mut part, _) = part.split_for_parts();
            if prefix == routes::PARTNER_API_PREFIX {
                // Inside `access::enforce`: the gate's key check is the routes' access rule.
                part = part.route_layer(middleware::from_fn_with_state(state.clone(), routes::partners::gate::gate));
            }
            part = part.route_layer(middleware::from_fn(access::enforce));
            if *service == ApiService::Catalog {
                // Published pages are served from memory while the catalog has not changed.
                part = part.layer(middleware::from_fn_with_state(state.catalog_pages.clone(), catalog_pages::serve));
            }
            router = router.nest(prefix, part);
        }
        if *service == ApiService::Bookings {
            router = router.merge(routes::web::router());
        }
    }
    let cors = cors_layer(&state.cors_origins);
    router
        .merge(docs::router())
        .fallback(routes::not_found)
        .method_not_allowed_fallback(routes::method_not_allowed)
        .with_state(state)
        .layer(CatchPanicLayer::custom(error::panic_response))
        // Enforced by the body extractors, so an oversized body gets the API's 413 shape.
        .layer(DefaultBodyLimit::max(BODY_LIMIT_BYTES))
        .layer(middleware::from_fn(time_limit))
        // Outside the time limit and the panic handler, so a timed-out or panicking request
        // is counted with the status it answered; still a `Router::layer`, so it sees the
        // matched route.
        .layer(middleware::from_fn(metrics::track))
        .layer(middleware::from_fn(security_headers))
        .layer(tower::util::option_layer(cors))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<_>| {
            let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("");
            let span = if access_log::is_probe(req.uri().path()) {
                tracing::debug_span!("http", method = %req.method(), path = %req.uri().path(), request_id = %id, booking_ref = tracing::field::Empty, trace_id = tracing::field::Empty)
            } else {
                tracing::info_span!("http", method = %req.method(), path = %req.uri().path(), request_id = %id, booking_ref = tracing::field::Empty, trace_id = tracing::field::Empty)
            };
            // A caller that is itself traced (a gateway, a partner's system) keeps its trace.
            platform::telemetry::continue_trace(&span, |name| req.headers().get(name).and_then(|v| v.to_str().ok()));
            // With traces exported, every log line of the request names its trace.
            if let Some(trace_id) = platform::telemetry::trace_id(&span) {
                span.record("trace_id", trace_id);
            }
            span
        }).on_response(access_log::AccessLog))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
}

/// The probes and `/metrics`, which every deployment serves. Probes and scrapes come every
/// few seconds from every kubelet and Prometheus: their access log lines are at debug, so
/// the log at info is the traffic of users.
fn probe_routes() -> utoipa_axum::router::OpenApiRouter<AppState> {
    routes::health::router().routes(utoipa_axum::routes!(metrics::render))
}

/// Headers that keep browsers from misusing the API's answers. The docs page runs the
/// bundled Swagger UI, which needs its own scripts and styles; the web pages set their own
/// policy (`routes::web`).
async fn security_headers(request: axum::extract::Request, next: middleware::Next) -> axum::response::Response {
    use axum::http::{HeaderValue, header};
    let docs = request.uri().path().starts_with("/api/docs");
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000; includeSubDomains"));
    let csp = if docs {
        "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'"
    } else {
        "default-src 'none'; frame-ancestors 'none'"
    };
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(csp));
    }
    response
}

/// Cross-origin calls only from the configured origins; none configured, none allowed.
/// Credentials (cookies) only on the codec routes, whose cookie the Web UI sends: no other
/// route reads credentials a browser sends by itself, and none invites them.
fn cors_layer(origins: &[String]) -> Option<tower_http::cors::CorsLayer> {
    use axum::http::{HeaderName, HeaderValue, Method, header};
    use tower_http::cors::{AllowCredentials, AllowOrigin, CorsLayer};
    let origins: Vec<HeaderValue> = origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()).collect();
    if origins.is_empty() {
        return None;
    }
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins))
            // The Web UI sends the codec cookie (routes::codec) with its codec requests.
            .allow_credentials(AllowCredentials::predicate(|_, request| request.uri.path().starts_with("/api/codec/")))
            .allow_methods([Method::GET, Method::POST, Method::PUT, Method::PATCH, Method::DELETE])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                header::IF_NONE_MATCH,
                HeaderName::from_static("idempotency-key"),
                // The Temporal Web UI names the namespace on its codec requests.
                HeaderName::from_static("x-namespace"),
            ])
            .expose_headers([
                header::ETAG,
                header::LOCATION,
                header::RETRY_AFTER,
                HeaderName::from_static("x-request-id"),
            ])
            .max_age(Duration::from_secs(600)),
    )
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
    let partner_log = state.partner_log.drain();
    let background = state.background.clone();
    // The peer address feeds the login throttle and the activity log (see `access`).
    let service = app(state, services).into_make_service_with_connect_info::<std::net::SocketAddr>();
    let served = axum::serve(listener, service).with_graceful_shutdown(shutdown).await;
    // Every request has answered: finish the writes they left behind, and write what the
    // partner access log still holds.
    tokio::join!(background.drain(SHUTDOWN_WRITES_LIMIT), partner_log.wait(SHUTDOWN_WRITES_LIMIT));
    served
}
