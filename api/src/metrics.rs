//! Prometheus metrics of the API: requests by route and status, latency, requests in flight.
//! Served at `GET /metrics` on the API's own port.

use axum::{
    extract::{MatchedPath, Request},
    http::header,
    middleware::Next,
    response::{IntoResponse, Response},
};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::{sync::OnceLock, time::Instant};

/// The process-wide recorder: `metrics` has one global recorder, so every API instance in a
/// process (tests start several) shares it.
fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets(&[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 25.0])
            .expect("static buckets are valid")
            .build_recorder();
        let handle = recorder.handle();
        // Shared with whatever else the process exports (the workers, in tests).
        platform::metrics::add_recorder(recorder);
        handle
    })
}

/// Makes sure the recorder exists before the first request is measured.
pub(crate) fn init() {
    handle();
}

/// The process's metrics for Prometheus.
#[utoipa::path(get, path = "/metrics", tag = "health", security(()),
    responses((status = 200, description = "Prometheus text exposition", content_type = "text/plain", body = String)))]
pub(crate) async fn render() -> Response {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], handle().render()).into_response()
}

/// Measures every request under its route template (never the raw path, which would make
/// one series per booking reference).
pub(crate) async fn track(request: Request, next: Next) -> Response {
    let route =
        request.extensions().get::<MatchedPath>().map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let method = request.method().to_string();
    let started = Instant::now();
    let _in_flight = InFlight::start();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    let labels = [("method", method), ("route", route), ("status", status)];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels).record(started.elapsed().as_secs_f64());
    response
}

/// Counts a request in `http_requests_in_flight` while it lives: dropped when the request
/// answers, and also when its client goes away and the request is abandoned mid-way.
struct InFlight;

impl InFlight {
    fn start() -> Self {
        metrics::gauge!("http_requests_in_flight").increment(1.0);
        InFlight
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        metrics::gauge!("http_requests_in_flight").decrement(1.0);
    }
}
