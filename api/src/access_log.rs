//! The access log: one line per answered request, at `info` for users' traffic and at
//! `debug` for probes and metrics scrapes, which arrive every few seconds from every
//! kubelet and Prometheus and would otherwise be most of the log and of its cost.

use axum::{http::Response, response::IntoResponse};
use std::time::Duration;
use tower_http::trace::{DefaultOnResponse, OnResponse};
use tracing::{Level, Span};

/// Marks an answer whose access log line is at `debug`.
#[derive(Clone, Copy)]
struct Quiet;

/// Marks a probe's or a scrape's answer as [`Quiet`].
pub(crate) async fn quiet(response: axum::response::Response) -> impl IntoResponse {
    let mut response = response;
    response.extensions_mut().insert(Quiet);
    response
}

/// The paths of probes and scrapes: their request spans are at `debug` too.
pub(crate) fn is_probe(path: &str) -> bool {
    matches!(path, "/healthz" | "/readyz" | "/metrics")
}

/// Writes the access log line at the level the answer calls for.
#[derive(Clone, Copy)]
pub(crate) struct AccessLog;

impl<B> OnResponse<B> for AccessLog {
    fn on_response(self, response: &Response<B>, latency: Duration, span: &Span) {
        let level = if response.extensions().get::<Quiet>().is_some() { Level::DEBUG } else { Level::INFO };
        DefaultOnResponse::new().level(level).on_response(response, latency, span);
    }
}
