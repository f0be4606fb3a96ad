//! The catalog API alone (catalog reads need no Temporal) on a fresh database with the demo
//! data, and typed helpers to read it.

use crate::database::{CatalogApi, TestDatabase, spawn_catalog_api};
use crate::helpers::get_revalidated;
use serde_json::Value;
use std::collections::HashSet;

/// An error answer as a test expects it: status, error code and `details.field`.
pub type ExpectedError<'a> = (u16, &'a str, Option<&'a str>);

pub struct CatalogUnderTest {
    pub db: TestDatabase,
    api: CatalogApi,
    http: reqwest::Client,
}

impl CatalogUnderTest {
    /// A fresh database with the demo catalog and `rooms` rooms a night, and the catalog API.
    pub async fn start(rooms: i32) -> anyhow::Result<Self> {
        let db = TestDatabase::create(rooms).await?;
        let api = spawn_catalog_api(&db.url).await?;
        Ok(CatalogUnderTest { db, api, http: reqwest::Client::new() })
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        let response = self.http.get(format!("{}{path}", self.api.url)).send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or_else(|e| panic!("{path}: {status}, not JSON: {e}")))
    }

    /// A 200 answer and its `ETag`; asked again with it, the API answers 304 with no body.
    pub async fn get_revalidated(&self, path: &str) -> Value {
        get_revalidated(&self.http, &format!("{}{path}", self.api.url)).await
    }

    /// The error code and `details.field` of a 4xx answer.
    pub async fn error(&self, path: &str) -> (u16, String, Option<String>) {
        let (status, body) = self.get(path).await;
        let code = body["error"]["code"].as_str().unwrap_or_else(|| panic!("{path}: no error in {body}"));
        (status, code.to_string(), body["error"]["details"]["field"].as_str().map(str::to_string))
    }

    /// Asks every path of `cases` and checks its answer: the status, error code and
    /// `details.field` expected.
    pub async fn assert_errors<P: AsRef<str>>(&self, cases: impl IntoIterator<Item = (P, ExpectedError<'_>)>) {
        for (path, expected) in cases {
            let path = path.as_ref();
            let (status, code, field) = self.error(path).await;
            assert_eq!((status, code.as_str(), field.as_deref()), expected, "{path}");
        }
    }

    /// Every page of `list`, following `next_cursor`; also returns how many pages there were.
    /// Fails on an item seen twice.
    pub async fn all_pages(&self, list: &str, query: &str) -> (Vec<Value>, usize) {
        let (mut items, mut pages, mut seen) = (Vec::new(), 0, HashSet::new());
        let mut path = format!("/api/catalog/{list}?{query}");
        loop {
            let (status, page) = self.get(&path).await;
            assert_eq!(status, 200, "{path}: {page}");
            pages += 1;
            for item in page["items"].as_array().unwrap() {
                assert!(seen.insert(item["code"].as_str().unwrap().to_string()), "{path}: {item} twice");
                items.push(item.clone());
            }
            match page["next_cursor"].as_str() {
                Some(cursor) => path = format!("/api/catalog/{list}?{query}&cursor={cursor}"),
                None => return (items, pages),
            }
        }
    }

    pub async fn codes(&self, list: &str, query: &str) -> Vec<String> {
        codes(&self.all_pages(list, query).await.0)
    }

    /// Stops the API and drops its database.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        self.api.stop();
        self.db.drop_database().await
    }
}

/// The `code` of every item.
pub fn codes(items: &[Value]) -> Vec<String> {
    items.iter().map(|i| i["code"].as_str().unwrap().to_string()).collect()
}
