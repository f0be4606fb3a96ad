//! The Web UI proxy between a browser and two stand-in upstreams: the codec's paths reach
//! the API with the sign-in cookie, everything else the Web UI; answers come back whole,
//! with their cookies; an upstream that is down is a 502.

use axum::{
    Router,
    body::{Body, Bytes},
    extract::Request,
    http::{HeaderMap, header},
    response::{IntoResponse, Response},
};
use ops::web_ui_proxy::{self, Upstreams};
use serde_json::{Value, json};
use std::net::SocketAddr;

/// An upstream that answers every request with what it received, as JSON.
async fn echo_server(name: &'static str) -> SocketAddr {
    let app = Router::new().fallback(move |request: Request| async move {
        let (parts, body) = request.into_parts();
        let body = axum::body::to_bytes(body, usize::MAX).await.unwrap();
        if parts.uri.path() == "/big" {
            // Eight MiB in chunks, the size of a UI bundle and more.
            let chunks = (0..128u8).map(|i| Ok::<_, std::io::Error>(Bytes::from(vec![b'a' + i % 26; 64 * 1024])));
            return Response::new(Body::from_stream(futures::stream::iter(chunks)));
        }
        let header = |h: &HeaderMap, name: &str| h.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let seen = json!({
            "upstream": name,
            "method": parts.method.as_str(),
            "path": parts.uri.path(),
            "query": parts.uri.query(),
            "host": header(&parts.headers, "host"),
            "cookie": header(&parts.headers, "cookie"),
            "x_namespace": header(&parts.headers, "x-namespace"),
            "forwarded_for": header(&parts.headers, "x-forwarded-for"),
            "forwarded_host": header(&parts.headers, "x-forwarded-host"),
            "body": String::from_utf8_lossy(&body),
        });
        (
            [
                (header::SET_COOKIE, format!("from_{name}=1; Path=/; HttpOnly")),
                (header::CACHE_CONTROL, "no-store".into()),
            ],
            axum::Json(seen),
        )
            .into_response()
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

async fn proxy(web_ui: SocketAddr, api: SocketAddr) -> SocketAddr {
    let upstreams = Upstreams::parse(&web_ui.to_string(), &format!("http://{api}")).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(web_ui_proxy::serve(listener, upstreams, std::future::pending()));
    addr
}

#[tokio::test]
async fn the_codec_goes_to_the_api_and_the_rest_to_the_web_ui() {
    let (web_ui, api) = (echo_server("web_ui").await, echo_server("api").await);
    let at = proxy(web_ui, api).await;
    let client = reqwest::Client::new();

    let page: Value = client
        .get(format!("http://{at}/namespaces/default/workflows/booking-TRP-1/history?view=all"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(page["upstream"], "web_ui");
    assert_eq!(page["path"], "/namespaces/default/workflows/booking-TRP-1/history");
    assert_eq!(page["query"], "view=all");
    // The upstream sees the host the browser asked for, and who asked.
    assert_eq!(page["host"], at.to_string());
    assert_eq!(page["forwarded_host"], at.to_string());
    assert_eq!(page["forwarded_for"], "127.0.0.1");

    let answer = client
        .post(format!("http://{at}/api/codec/decode?preserveStorageRefs=true"))
        .header(header::COOKIE, "tt_codec=codec-token; _csrf=x")
        .header("X-Namespace", "default")
        .header(header::CONTENT_TYPE, "application/json")
        .body(r#"{"payloads":[]}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.headers()[header::SET_COOKIE], "from_api=1; Path=/; HttpOnly");
    let decode: Value = answer.json().await.unwrap();
    assert_eq!(decode["upstream"], "api");
    assert_eq!(decode["method"], "POST");
    assert_eq!(decode["path"], "/api/codec/decode");
    assert_eq!(decode["query"], "preserveStorageRefs=true");
    assert_eq!(decode["cookie"], "tt_codec=codec-token; _csrf=x");
    assert_eq!(decode["x_namespace"], "default");
    assert_eq!(decode["body"], r#"{"payloads":[]}"#);

    let sign_in: Value = client
        .post(format!("http://{at}/api/codec/sign-in"))
        .form(&[("email", "operator@demo.tripura.travel"), ("password", "pw")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(sign_in["upstream"], "api");
    assert_eq!(sign_in["body"], "email=operator%40demo.tripura.travel&password=pw");

    // Only the codec: the rest of the API is not served on the Web UI's origin.
    let other: Value = client.get(format!("http://{at}/api/codecs")).send().await.unwrap().json().await.unwrap();
    assert_eq!(other["upstream"], "web_ui");
    let other: Value = client.get(format!("http://{at}/api/bookings")).send().await.unwrap().json().await.unwrap();
    assert_eq!(other["upstream"], "web_ui");
}

#[tokio::test]
async fn a_large_answer_arrives_whole() {
    let (web_ui, api) = (echo_server("web_ui").await, echo_server("api").await);
    let at = proxy(web_ui, api).await;
    let body = reqwest::get(format!("http://{at}/big")).await.unwrap().bytes().await.unwrap();
    assert_eq!(body.len(), 128 * 64 * 1024);
    assert!(
        body.chunks(64 * 1024)
            .enumerate()
            .all(|(i, c)| c.iter().all(|b| usize::from(*b) == usize::from(b'a') + i % 26))
    );
}

#[tokio::test]
async fn an_upstream_that_is_down_is_a_bad_gateway() {
    let api = echo_server("api").await;
    // A port that was free a moment ago: nothing listens there.
    let down = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap();
    let at = proxy(down, api).await;
    let answer = reqwest::get(format!("http://{at}/")).await.unwrap();
    assert_eq!(answer.status(), 502);
    assert!(answer.text().await.unwrap().contains("the Temporal Web UI"));
    let codec = reqwest::Client::new().post(format!("http://{at}/api/codec/decode")).send().await.unwrap();
    assert_eq!(codec.status(), 200);
}
