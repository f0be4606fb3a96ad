//! Logging: readable lines with colours on a terminal, JSON lines otherwise (a file, a
//! container's log), without colour codes; `TT_LOG_FORMAT` (`json` or `text`) overrides
//! the choice. Verbosity from `RUST_LOG` (default `info`; the API logs probe and metrics
//! requests at `debug`).
//!
//! Traces: with `TT_OTLP_ENDPOINT` (an OTLP/HTTP collector, e.g. `http://127.0.0.1:4318`),
//! spans are exported there and the Temporal client carries their context through workflows
//! into activities, so a booking's HTTP request, saga and activities share one trace. Off
//! by default.

use opentelemetry::trace::{TraceContextExt, TracerProvider as _};
use opentelemetry_otlp::WithExportConfig;
use std::sync::atomic::{AtomicBool, Ordering};
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::{EnvFilter, fmt, prelude::*};

static EXPORTING_TRACES: AtomicBool = AtomicBool::new(false);
static PROVIDER: std::sync::OnceLock<opentelemetry_sdk::trace::SdkTracerProvider> = std::sync::OnceLock::new();

pub fn init(service: &str) {
    let endpoint = setting::<String>("OTLP_ENDPOINT");
    init_with_otlp(service, endpoint.as_deref(), true);
}

/// A telemetry setting, through [`crate::env::optional`] like every other (so `_FILE` works
/// too). [`init`] cannot fail, so a setting that cannot be read is reported on stderr and
/// left unset, as a collector that cannot be reached is.
fn setting<T: std::str::FromStr>(name: &str) -> Option<T>
where
    T::Err: std::fmt::Display,
{
    crate::env::optional(name).unwrap_or_else(|e| {
        eprintln!("{e}; ignored");
        None
    })
}

/// As [`init`], exporting traces to `otlp_endpoint` (tests give their own collector), and
/// printing log lines only with `logs`.
pub fn init_with_otlp(service: &str, otlp_endpoint: Option<&str>, logs: bool) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    use std::io::IsTerminal;
    let terminal = std::io::stdout().is_terminal();
    let json = match setting::<String>("LOG_FORMAT") {
        Some(format) => format.eq_ignore_ascii_case("json"),
        None => !terminal,
    };
    let otlp = otlp_endpoint
        .and_then(|e| otlp_tracer(service, e))
        .map(|tracer| tracing_opentelemetry::layer().with_tracer(tracer));
    let exporting = otlp.is_some();
    let registry = tracing_subscriber::registry().with(filter).with(otlp);
    let result = match (logs, json) {
        (false, _) => registry.try_init(),
        (true, true) => registry.with(fmt::layer().json().with_current_span(true)).try_init(),
        (true, false) => registry.with(fmt::layer().with_target(false).with_ansi(terminal)).try_init(),
    };
    // A second init (tests start several services in one process) keeps the first subscriber.
    if result.is_ok() {
        EXPORTING_TRACES.store(exporting, Ordering::Release);
        tracing::debug!(service, exporting_traces = exporting, "telemetry initialised");
    }
}

/// Whether this process exports traces (`TT_OTLP_ENDPOINT`), and so propagates them
/// through Temporal.
pub fn exporting_traces() -> bool {
    EXPORTING_TRACES.load(Ordering::Acquire)
}

/// The W3C trace id of a span, for log lines; `None` when traces are off.
pub fn trace_id(span: &tracing::Span) -> Option<String> {
    let context = span.context();
    let span_context = context.span().span_context().clone();
    span_context.is_valid().then(|| span_context.trace_id().to_string())
}

/// Makes `span` continue the trace of an incoming request's W3C `traceparent` (and
/// `tracestate`) headers, read through `header`, when this process exports traces; a
/// request without them starts a new trace.
pub fn continue_trace<'a>(span: &tracing::Span, header: impl Fn(&str) -> Option<&'a str>) {
    if !exporting_traces() {
        return;
    }
    let carrier = TraceHeaders(
        ["traceparent", "tracestate"].into_iter().filter_map(|name| Some((name, header(name)?))).collect(),
    );
    let parent = opentelemetry::global::get_text_map_propagator(|propagator| propagator.extract(&carrier));
    if parent.span().span_context().is_valid() {
        let _ = span.set_parent(parent);
    }
}

struct TraceHeaders<'a>(Vec<(&'static str, &'a str)>);

impl opentelemetry::propagation::Extractor for TraceHeaders<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().find(|(name, _)| name.eq_ignore_ascii_case(key)).map(|(_, value)| *value)
    }

    fn keys(&self) -> Vec<&str> {
        self.0.iter().map(|(name, _)| *name).collect()
    }
}

/// Sends the spans not exported yet (the exporter batches them every few seconds).
pub fn flush_traces() {
    if let Some(provider) = PROVIDER.get() {
        let _ = provider.force_flush();
    }
}

fn otlp_tracer(service: &str, endpoint: &str) -> Option<opentelemetry_sdk::trace::Tracer> {
    let url = format!("{}/v1/traces", endpoint.trim().trim_end_matches('/'));
    let exporter = match opentelemetry_otlp::SpanExporter::builder().with_http().with_endpoint(url).build() {
        Ok(exporter) => exporter,
        Err(e) => {
            eprintln!("TT_OTLP_ENDPOINT: cannot export traces: {e}");
            return None;
        }
    };
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        // Workflow spans get the same ids when a workflow replays.
        .with_id_generator(temporalio_sdk::opentelemetry::WorkflowIdGenerator::default())
        .with_resource(opentelemetry_sdk::Resource::builder().with_service_name(service.to_string()).build())
        .build();
    opentelemetry::global::set_text_map_propagator(opentelemetry_sdk::propagation::TraceContextPropagator::new());
    opentelemetry::global::set_tracer_provider(provider.clone());
    let _ = PROVIDER.set(provider.clone());
    Some(provider.tracer("tripura-tourism"))
}

/// Logs for tests: silent unless `TEST_LOG=1`.
pub fn init_for_tests() {
    if std::env::var("TEST_LOG").is_ok_and(|v| v == "1") {
        init("tests");
    }
}
