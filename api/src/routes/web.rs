//! The travellers' web pages: one HTML shell, a script and a style sheet, compiled into the
//! binary and served by the deployment that serves bookings. The script draws each page
//! from the public API (search, a stay, sign-in, booking, the booking's live state, my
//! bookings), so the pages hold no logic of their own that the API does not check.
//!
//! Why plain files and no build step: the pages are a thin client of an API that already
//! validates, prices and explains everything; a framework and a bundler would add a
//! toolchain to every build and nothing a traveller sees. The script is an ES module that
//! current browsers run as it is.
//!
//! Sessions: the access token lives only in the script's memory; the refresh token is the
//! `HttpOnly` `tt_session` cookie (`?session=cookie` on sign-in, see `routes::auth`), so a
//! script injected into the page could not carry a login away. A reload renews the access
//! token from the cookie.

use axum::{
    Router,
    extract::Path,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use sha2::{Digest, Sha256};
use std::sync::LazyLock;

const INDEX_HTML: &str = include_str!("../../web/index.html");
const APP_JS: &str = include_str!("../../web/app.js");
const APP_CSS: &str = include_str!("../../web/app.css");

/// The pages' policy: everything from this origin, nothing inline, no frames.
const PAGE_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     connect-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'; frame-ancestors 'none'";

/// The page addresses a traveller may load or bookmark: all get the same shell, whose
/// script draws the page the address names.
pub(crate) fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/", get(shell))
        .route("/sign-in", get(shell))
        .route("/sign-up", get(shell))
        .route("/stays/{code}", get(shell))
        .route("/bookings", get(shell))
        .route("/bookings/{booking_ref}", get(shell))
        .route("/assets/app.js", get(script))
        .route("/assets/app.css", get(style))
        .route("/static/destinations/{destination}/{file}", get(destination_picture))
}

/// One served file with its validator: the file is revalidated on every use (`no-cache`),
/// so a new release is seen at once, and answered 304 when unchanged.
struct Asset {
    body: &'static str,
    content_type: &'static str,
    etag: HeaderValue,
}

impl Asset {
    fn new(body: &'static str, content_type: &'static str) -> Self {
        let digest = Sha256::digest(body.as_bytes());
        let etag = format!("\"{}\"", hex::encode(&digest[..12]));
        Asset { body, content_type, etag: HeaderValue::from_str(&etag).expect("a hex ETag is a valid header") }
    }

    fn answer(&self, headers: &HeaderMap) -> Response {
        let fresh = headers.get(header::IF_NONE_MATCH).is_some_and(|v| v.as_bytes() == self.etag.as_bytes());
        let status = if fresh { StatusCode::NOT_MODIFIED } else { StatusCode::OK };
        let mut response = if fresh { status.into_response() } else { (status, self.body).into_response() };
        let out = response.headers_mut();
        out.insert(header::CONTENT_TYPE, HeaderValue::from_static(self.content_type));
        out.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        out.insert(header::ETAG, self.etag.clone());
        out.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(PAGE_CSP));
        response
    }
}

static SHELL: LazyLock<Asset> = LazyLock::new(|| Asset::new(INDEX_HTML, "text/html; charset=utf-8"));
static SCRIPT: LazyLock<Asset> = LazyLock::new(|| Asset::new(APP_JS, "text/javascript; charset=utf-8"));
static STYLE: LazyLock<Asset> = LazyLock::new(|| Asset::new(APP_CSS, "text/css; charset=utf-8"));

async fn shell(headers: HeaderMap) -> Response {
    SHELL.answer(&headers)
}

async fn script(headers: HeaderMap) -> Response {
    SCRIPT.answer(&headers)
}

async fn style(headers: HeaderMap) -> Response {
    STYLE.answer(&headers)
}

/// The demo catalog names pictures (`/static/destinations/<code>/<file>.jpg`) but ships no
/// photographs: each is drawn here as a landscape in the destination's own colours, so the
/// pages show something in their place. A real catalog's image URLs point at its own
/// image store and never reach this route.
async fn destination_picture(Path((destination, file)): Path<(String, String)>) -> Response {
    let valid = |s: &str| {
        !s.is_empty() && s.len() <= 100 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
    };
    if !valid(&destination) || !valid(&file) {
        return StatusCode::NOT_FOUND.into_response();
    }
    let svg = landscape(&format!("{destination}/{file}"));
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("image/svg+xml")),
            (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=86400")),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'"),
            ),
        ],
        svg,
    )
        .into_response()
}

/// A small landscape (sky, sun, two hills, water) whose colours and shapes follow from
/// `seed`, so each picture differs and stays the same on every load.
fn landscape(seed: &str) -> String {
    let d = Sha256::digest(seed.as_bytes());
    let hue = |i: usize| u32::from(d[i]) * 360 / 256;
    let at = |i: usize, lo: u32, span: u32| lo + u32::from(d[i]) * span / 256;
    let (sky, hill, far, water) = (hue(0), hue(1), hue(2), hue(3));
    let (sun_x, sun_y) = (at(4, 80, 440), at(5, 50, 70));
    let (ridge_a, ridge_b, ridge_c) = (at(6, 120, 80), at(7, 150, 90), at(8, 130, 70));
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 600 360" role="img">
<defs><linearGradient id="s" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="hsl({sky},55%,78%)"/><stop offset="1" stop-color="hsl({sky},45%,92%)"/></linearGradient></defs>
<rect width="600" height="360" fill="url(#s)"/>
<circle cx="{sun_x}" cy="{sun_y}" r="28" fill="hsl(45,95%,70%)"/>
<path d="M0 {ridge_a} Q150 {far_peak} 300 {ridge_b} T600 {ridge_c} V260 H0Z" fill="hsl({far},30%,55%)"/>
<path d="M0 230 Q120 170 260 215 T600 200 V270 H0Z" fill="hsl({hill},40%,35%)"/>
<rect y="260" width="600" height="100" fill="hsl({water},45%,45%)"/>
<path d="M40 300 H200 M260 320 H420 M470 295 H570" stroke="hsl({water},50%,75%)" stroke-width="4" stroke-linecap="round"/>
</svg>"##,
        far_peak = ridge_a.saturating_sub(60),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_picture_is_the_same_on_every_load_and_differs_between_pictures() {
        assert_eq!(landscape("agartala/a.jpg"), landscape("agartala/a.jpg"));
        assert_ne!(landscape("agartala/a.jpg"), landscape("agartala/b.jpg"));
        assert!(landscape("x").starts_with("<svg"));
    }

    #[test]
    fn an_unchanged_asset_answers_304_with_its_etag() {
        let asset = Asset::new("body", "text/plain");
        let mut headers = HeaderMap::new();
        assert_eq!(asset.answer(&headers).status(), StatusCode::OK);
        headers.insert(header::IF_NONE_MATCH, asset.etag.clone());
        let again = asset.answer(&headers);
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
        assert_eq!(again.headers()[header::ETAG], asset.etag);
    }

    #[test]
    fn the_shell_loads_only_its_own_script_and_style() {
        assert!(INDEX_HTML.contains(r#"src="/assets/app.js""#));
        assert!(INDEX_HTML.contains(r#"href="/assets/app.css""#));
        assert!(!INDEX_HTML.contains("<script>"), "no inline script: the policy forbids it");
        assert!(!INDEX_HTML.contains("style="), "no inline style: the policy forbids it");
    }
}
