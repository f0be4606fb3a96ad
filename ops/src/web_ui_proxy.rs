//! The Temporal Web UI and the API's payload codec on one origin, for the local stack.
//!
//! The Web UI fetches its codec endpoint without credentials when the endpoint is on
//! another origin (unless each operator turns on a setting in their own browser), so a
//! codec that needs the operator's sign-in cookie would answer every decode with 401. Served
//! from the UI's own origin, the UI's ordinary fetch sends the cookie: `/api/codec` (the
//! codec and its sign-in page) goes to the API, every other path to the Web UI. In
//! Kubernetes the Ingress does the same on the Web UI's host (k8s/base/ingress.yaml).
//!
//! Requests and answers are streamed through unchanged but for the hop-by-hop headers; the
//! `Host` the browser sent is kept, and `X-Forwarded-For`, `-Host` and `-Proto` are added.

use axum::{
    Router,
    body::Body,
    extract::{ConnectInfo, Request, State},
    http::{HeaderMap, HeaderName, HeaderValue, StatusCode, Uri, Version, header, uri::Authority},
    response::{IntoResponse, Response},
};
use hyper_util::{
    client::legacy::{Client, connect::HttpConnector},
    rt::TokioExecutor,
};
use std::{future::Future, net::SocketAddr, sync::Arc, time::Duration};

/// The paths that go to the API: the codec (`/decode`, `/encode`) and its sign-in page.
pub const CODEC_PREFIX: &str = "/api/codec";

/// Where the proxy sends requests: both plain HTTP servers, named by `host:port`.
#[derive(Debug, Clone)]
pub struct Upstreams {
    /// The Temporal Web UI (the dev server's `--ui-port`).
    pub web_ui: Authority,
    /// The API that serves `/api/codec`.
    pub api: Authority,
}

impl Upstreams {
    /// `web_ui` and `api` as `host:port` or `http://host:port`: an `https` URL or one with a
    /// path is refused, since the proxy would not honour it.
    pub fn parse(web_ui: &str, api: &str) -> anyhow::Result<Self> {
        Ok(Self { web_ui: authority(web_ui)?, api: authority(api)? })
    }

    /// The upstream that serves `path`.
    pub fn for_path(&self, path: &str) -> &Authority {
        if is_codec_path(path) { &self.api } else { &self.web_ui }
    }
}

fn authority(upstream: &str) -> anyhow::Result<Authority> {
    let rest = upstream.strip_prefix("http://").unwrap_or(upstream);
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    if rest.contains("://") || rest.contains('/') {
        anyhow::bail!("`{upstream}`: give an upstream as host:port or http://host:port, without a path");
    }
    let authority: Authority = rest.parse().map_err(|e| anyhow::anyhow!("`{upstream}`: {e}"))?;
    if authority.port_u16().is_none() {
        anyhow::bail!("`{upstream}`: name the port");
    }
    Ok(authority)
}

/// Whether `path` is the codec's: `/api/codec` itself or below it, not `/api/codecs`.
pub fn is_codec_path(path: &str) -> bool {
    path.strip_prefix(CODEC_PREFIX).is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

#[derive(Clone)]
struct Proxy {
    upstreams: Arc<Upstreams>,
    client: Client<HttpConnector, Body>,
}

/// The proxy as a router; serve it with the peer's address (`ConnectInfo<SocketAddr>`).
pub fn router(upstreams: Upstreams) -> Router {
    let mut connector = HttpConnector::new();
    connector.set_connect_timeout(Some(Duration::from_secs(5)));
    connector.set_nodelay(true);
    let client = Client::builder(TokioExecutor::new()).build(connector);
    Router::new().fallback(forward).with_state(Proxy { upstreams: Arc::new(upstreams), client })
}

/// Serves the proxy on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    upstreams: Upstreams,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let service = router(upstreams).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, service).with_graceful_shutdown(shutdown).await
}

async fn forward(State(proxy): State<Proxy>, ConnectInfo(peer): ConnectInfo<SocketAddr>, request: Request) -> Response {
    let (mut parts, body) = request.into_parts();
    let upstream = proxy.upstreams.for_path(parts.uri.path()).clone();
    // The upstreams speak HTTP/1.1 whatever the browser spoke to the proxy; HTTP/2 names
    // the host in the URI, not in a Host header.
    let host = parts
        .headers
        .get(header::HOST)
        .cloned()
        .or_else(|| parts.uri.authority().and_then(|a| HeaderValue::from_str(a.as_str()).ok()));
    let path_and_query = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    parts.uri = match Uri::builder().scheme("http").authority(upstream.clone()).path_and_query(path_and_query).build() {
        Ok(uri) => uri,
        Err(_) => return (StatusCode::BAD_REQUEST, "bad request target").into_response(),
    };
    parts.version = Version::HTTP_11;
    remove_hop_by_hop(&mut parts.headers);
    add_forwarded(&mut parts.headers, peer, host.as_ref());
    if let Some(host) = host {
        parts.headers.insert(header::HOST, host);
    }
    match proxy.client.request(Request::from_parts(parts, body)).await {
        Ok(answer) => {
            let (mut parts, body) = answer.into_parts();
            remove_hop_by_hop(&mut parts.headers);
            Response::from_parts(parts, Body::new(body))
        }
        Err(e) => {
            let which = if upstream == proxy.upstreams.api { "the API" } else { "the Temporal Web UI" };
            tracing::warn!(upstream = %upstream, error = %e, "upstream did not answer");
            (StatusCode::BAD_GATEWAY, format!("{which} ({upstream}) did not answer: is it running?\n")).into_response()
        }
    }
}

/// Headers that describe one connection, not the message (RFC 9110, 7.6.1), and those the
/// `Connection` header names.
fn remove_hop_by_hop(headers: &mut HeaderMap) {
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|name| HeaderName::from_bytes(name.trim().as_bytes()).ok())
        .collect();
    for name in named {
        headers.remove(name);
    }
    for name in [
        header::CONNECTION,
        HeaderName::from_static("keep-alive"),
        HeaderName::from_static("proxy-connection"),
        header::PROXY_AUTHENTICATE,
        header::PROXY_AUTHORIZATION,
        header::TE,
        header::TRAILER,
        header::TRANSFER_ENCODING,
        header::UPGRADE,
    ] {
        headers.remove(name);
    }
}

fn add_forwarded(headers: &mut HeaderMap, peer: SocketAddr, host: Option<&HeaderValue>) {
    let forwarded_for = HeaderName::from_static("x-forwarded-for");
    let chain = match headers.get(&forwarded_for).and_then(|v| v.to_str().ok()) {
        Some(earlier) => format!("{earlier}, {}", peer.ip()),
        None => peer.ip().to_string(),
    };
    if let Ok(value) = HeaderValue::from_str(&chain) {
        headers.insert(forwarded_for, value);
    }
    if let Some(host) = host {
        headers.insert(HeaderName::from_static("x-forwarded-host"), host.clone());
    }
    headers.insert(HeaderName::from_static("x-forwarded-proto"), HeaderValue::from_static("http"));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_codec_goes_to_the_api() {
        let upstreams = Upstreams::parse("127.0.0.1:8234", "http://127.0.0.1:8080/").unwrap();
        for path in ["/api/codec", "/api/codec/decode", "/api/codec/sign-in"] {
            assert_eq!(upstreams.for_path(path).as_str(), "127.0.0.1:8080", "{path}");
        }
        for path in ["/", "/api/codecs", "/api/v1/settings", "/namespaces/default/workflows", "/api/bookings"] {
            assert_eq!(upstreams.for_path(path).as_str(), "127.0.0.1:8234", "{path}");
        }
    }

    #[test]
    fn upstreams_are_plain_http_host_and_port() {
        assert!(Upstreams::parse("https://127.0.0.1:8234", "127.0.0.1:8080").is_err());
        assert!(Upstreams::parse("127.0.0.1:8234", "http://127.0.0.1:8080/api").is_err());
        assert!(Upstreams::parse("127.0.0.1", "127.0.0.1:8080").is_err());
    }

    #[test]
    fn hop_by_hop_headers_are_dropped_and_the_client_is_named() {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONNECTION, HeaderValue::from_static("keep-alive, x-private"));
        headers.insert("x-private", HeaderValue::from_static("1"));
        headers.insert(header::TRANSFER_ENCODING, HeaderValue::from_static("chunked"));
        headers.insert(header::COOKIE, HeaderValue::from_static("tt_codec=t"));
        headers.insert("x-forwarded-for", HeaderValue::from_static("203.0.113.7"));
        remove_hop_by_hop(&mut headers);
        add_forwarded(
            &mut headers,
            "127.0.0.1:50000".parse().unwrap(),
            Some(&HeaderValue::from_static("127.0.0.1:8233")),
        );
        assert!(headers.get(header::CONNECTION).is_none());
        assert!(headers.get("x-private").is_none());
        assert!(headers.get(header::TRANSFER_ENCODING).is_none());
        assert_eq!(headers[header::COOKIE], "tt_codec=t");
        assert_eq!(headers["x-forwarded-for"], "203.0.113.7, 127.0.0.1");
        assert_eq!(headers["x-forwarded-host"], "127.0.0.1:8233");
    }
}
