//! One trace per booking: with traces exported, the API's request span, the saga and every
//! activity it runs share one trace id, exported over OTLP/HTTP (here to a stand-in
//! collector on a free port). One test in this binary: it owns the process's telemetry.

use axum::{Router, body::Bytes, extract::State, routing::post};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;
use serde_json::Value;
use std::{
    collections::BTreeSet,
    sync::{Arc, Mutex},
    time::Duration,
};
use tests::{TestPlatform, booking_body};

/// The trace id of a caller that sends `traceparent` with its booking request.
const CALLER_TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

/// (trace id, span name) of every span the collector received.
type Received = Arc<Mutex<Vec<(String, String)>>>;

async fn collect(State(received): State<Received>, body: Bytes) -> &'static str {
    if let Ok(request) = ExportTraceServiceRequest::decode(body) {
        let mut received = received.lock().unwrap();
        for resource in request.resource_spans {
            for scope in resource.scope_spans {
                for span in scope.spans {
                    let trace_id: String = span.trace_id.iter().map(|b| format!("{b:02x}")).collect();
                    received.push((trace_id, span.name));
                }
            }
        }
    }
    ""
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bookings_request_saga_and_activities_share_one_trace() {
    let received: Received = Arc::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let collector = Router::new().route("/v1/traces", post(collect)).with_state(received.clone());
    tokio::spawn(async move { axum::serve(listener, collector).await });
    let logs = std::env::var("TEST_LOG").is_ok_and(|v| v == "1");
    platform::telemetry::init_with_otlp("tests", Some(&endpoint), logs);
    assert!(platform::telemetry::exporting_traces());

    let platform = TestPlatform::spawn().await.unwrap();
    // The caller is traced already: the booking continues its trace.
    let response = platform
        .http
        .post(format!("{}/api/bookings", platform.api_url))
        .bearer_auth(&platform.traveller.access_token)
        .header("traceparent", format!("00-{CALLER_TRACE}-00f067aa0ba902b7-01"))
        .json(&booking_body(40, 1, 1, "tok_success"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    let booking_ref = response.json::<Value>().await.unwrap()["booking_ref"].as_str().unwrap().to_string();
    platform.wait_for_status(&booking_ref, &["confirmed"]).await.unwrap();

    // The activities' spans end before the saga's; wait until the last activity's is here.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let spans = loop {
        platform::telemetry::flush_traces();
        let spans = received.lock().unwrap().clone();
        if spans.iter().any(|(_, name)| name.contains("booking.confirm_booking")) {
            break spans;
        }
        assert!(tokio::time::Instant::now() < deadline, "no activity spans exported: {spans:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };

    let booking_post = spans
        .iter()
        .find(|(_, name)| name.contains("StartWorkflow:BookingSaga"))
        .unwrap_or_else(|| panic!("no workflow start span: {spans:?}"));
    let trace = &booking_post.0;
    assert_eq!(trace, CALLER_TRACE, "the request's traceparent is not the saga's trace");
    let in_trace: BTreeSet<&str> = spans.iter().filter(|(t, _)| t == trace).map(|(_, n)| n.as_str()).collect();
    assert!(in_trace.contains("http"), "the HTTP request's span is in the saga's trace: {in_trace:?}");
    for activity in ["inventory.hold_rooms", "booking.create_booking", "payment.charge", "booking.confirm_booking"] {
        assert!(
            in_trace.iter().any(|n| n.contains(activity)),
            "{activity} is not in the booking's trace: {in_trace:?}"
        );
    }
    // The activities' own spans, whose fields every log line inside them prints, are in it
    // too: the span that names the trace for the logs, and the activities' spans under it.
    for span in ["activity", "hold_rooms", "create_booking", "charge", "confirm_booking"] {
        // The SDK's activity macro names the implementation `__<activity>`.
        assert!(
            in_trace.iter().any(|n| n.trim_start_matches('_') == span),
            "the span {span} is not in the booking's trace: {in_trace:?}"
        );
    }
    platform.stop().await.unwrap();
}
