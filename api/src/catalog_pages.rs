//! Published catalog pages kept in memory under the catalog's version
//! ([`catalog::CatalogVersion`]): a page asked for again is served without a query and
//! without serializing it again, and its `ETag` names the version, so a revalidation of an
//! unchanged catalog costs neither. Any change to the catalog, made through any replica,
//! moves the version, every replica hears of it, and no page kept under the old version is
//! served again.
//!
//! A middleware on the catalog's routes, so the handlers stay as they are: it keeps the
//! 200 answers of `GET`s that depend on the catalog alone. A search by dates also depends
//! on rooms free, which change with every booking: it is answered afresh each time.

use axum::{
    body::{Body, Bytes},
    extract::{Request, State},
    http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use catalog::CatalogVersion;
use sha2::{Digest, Sha256};
use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

/// At most this many pages are kept; past it the memory starts again empty, as every
/// catalog change makes it anyway. A page is a few kilobytes.
const MAX_PAGES: usize = 2048;
/// A catalog page larger than this is answered but not kept.
const MAX_PAGE_BYTES: usize = 256 * 1024;
/// Query parameters that make an answer depend on more than the catalog.
const NOT_CATALOG_ALONE: [&str; 2] = ["check_in", "check_out"];

/// The pages this process keeps; shared by every request it serves.
#[derive(Clone, Default)]
pub struct CatalogPages {
    version: CatalogVersion,
    pages: Arc<Mutex<HashMap<String, Arc<Page>>>>,
}

struct Page {
    version: u64,
    etag: HeaderValue,
    body: Bytes,
}

impl CatalogPages {
    /// Pages kept while `version` is known (an unknown version keeps nothing).
    pub fn new(version: CatalogVersion) -> Self {
        CatalogPages { version, pages: Arc::default() }
    }

    fn find(&self, key: &str, version: u64) -> Option<Arc<Page>> {
        let pages = self.pages.lock().unwrap_or_else(|p| p.into_inner());
        pages.get(key).filter(|page| page.version == version).cloned()
    }

    fn forget_all(&self) {
        self.pages.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }

    fn keep(&self, key: String, page: Arc<Page>) {
        let mut pages = self.pages.lock().unwrap_or_else(|p| p.into_inner());
        if pages.len() >= MAX_PAGES {
            pages.clear();
        }
        pages.insert(key, page);
    }
}

/// Serves a kept page, or lets the handler answer and keeps its page.
pub(crate) async fn serve(State(pages): State<CatalogPages>, request: Request, next: Next) -> Response {
    let Some(key) = key_of(request.method(), request.uri()) else {
        let writes = request.method() != Method::GET && request.method() != Method::HEAD;
        let response = next.run(request).await;
        // A change made through this replica is seen by its next read without waiting for
        // the notification (the other replicas wait for it, a few milliseconds).
        if writes && response.status().is_success() {
            pages.forget_all();
        }
        return response;
    };
    // Read before the handler reads the catalog: the page is at least as new as this.
    let Some(version) = pages.version.current() else { return next.run(request).await };
    let if_none_match = request.headers().get(header::IF_NONE_MATCH).cloned();
    if let Some(page) = pages.find(&key, version) {
        return answer(if_none_match.as_ref(), &page);
    }
    let response = next.run(request).await;
    if response.status() != StatusCode::OK {
        return response;
    }
    let (parts, body) = response.into_parts();
    // The handler's answer is in memory already; reading it whole never fails for size.
    let Ok(body) = axum::body::to_bytes(body, usize::MAX).await else {
        return crate::error::ApiError::Internal(anyhow::anyhow!("a catalog answer's body failed")).into_response();
    };
    let content_type = parts.headers.get(header::CONTENT_TYPE).cloned();
    let Some(content_type) = content_type.filter(|_| body.len() <= MAX_PAGE_BYTES) else {
        // Answered as the handler wrote it, and not kept.
        return Response::from_parts(parts, Body::from(body));
    };
    let page = Arc::new(Page { version, etag: etag(version, &key), body });
    pages.keep(key, page.clone());
    let mut response = answer(if_none_match.as_ref(), &page);
    response.headers_mut().insert(header::CONTENT_TYPE, content_type);
    response
}

/// The key of a page that may be kept: a `GET` whose answer depends on the catalog alone,
/// by its path and query as the client wrote them.
fn key_of(method: &Method, uri: &Uri) -> Option<String> {
    if method != Method::GET {
        return None;
    }
    let query = uri.query().unwrap_or_default();
    let depends_on_more =
        query.split('&').filter_map(|pair| pair.split('=').next()).any(|name| NOT_CATALOG_ALONE.contains(&name));
    (!depends_on_more).then(|| uri.path_and_query().map_or_else(|| uri.path().to_string(), |pq| pq.to_string()))
}

/// The version and the page's key: a new version is a new tag for every page.
fn etag(version: u64, key: &str) -> HeaderValue {
    let digest = Sha256::digest(key.as_bytes());
    HeaderValue::from_str(&format!("\"c{version}-{}\"", hex::encode(&digest[..12])))
        .expect("a hex tag is a valid header value")
}

/// 200 with the page, or 304 when the client's `If-None-Match` names it; public and
/// cacheable for a minute either way, as the handlers answer.
fn answer(if_none_match: Option<&HeaderValue>, page: &Page) -> Response {
    let tag = page.etag.to_str().unwrap_or_default();
    let fresh = if_none_match
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == tag || t.trim() == "*"));
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        ([(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], page.body.clone()).into_response()
    };
    let headers: &mut HeaderMap = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=60"));
    headers.insert(header::ETAG, page.etag.clone());
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(uri: &str) -> Option<String> {
        key_of(&Method::GET, &uri.parse().unwrap())
    }

    #[test]
    fn only_gets_that_depend_on_the_catalog_alone_are_kept() {
        assert_eq!(
            key("/api/catalog/accommodations?destination=agartala").as_deref(),
            Some("/api/catalog/accommodations?destination=agartala")
        );
        assert_eq!(key("/api/catalog/accommodations?check_in=2027-01-01&check_out=2027-01-03"), None);
        assert_eq!(key("/api/catalog/accommodations?rooms=2&check_out=2027-01-03"), None);
        // A parameter that only contains the word is not one of them.
        assert!(key("/api/catalog/packages?sort=check_in_soon").is_some());
        assert_eq!(key_of(&Method::POST, &"/api/catalog/destinations".parse().unwrap()), None);
    }

    #[test]
    fn a_page_is_kept_under_its_version_only() {
        let pages = CatalogPages::new(CatalogVersion::fixed(3));
        let page = Arc::new(Page { version: 3, etag: etag(3, "/a"), body: Bytes::from_static(b"{}") });
        pages.keep("/a".into(), page);
        assert!(pages.find("/a", 3).is_some());
        assert!(pages.find("/a", 4).is_none(), "a page of an older version is not served");
        assert_ne!(etag(3, "/a"), etag(4, "/a"));
    }

    #[test]
    fn the_client_holding_the_page_gets_304() {
        let page = Page { version: 1, etag: etag(1, "/a"), body: Bytes::from_static(b"{}") };
        assert_eq!(answer(Some(&page.etag), &page).status(), StatusCode::NOT_MODIFIED);
        assert_eq!(answer(None, &page).status(), StatusCode::OK);
        assert_eq!(answer(Some(&HeaderValue::from_static("\"other\"")), &page).status(), StatusCode::OK);
    }
}
