//! Paging, the same for every list: `?limit=` (a validated page size) and `?cursor=` (an
//! opaque token the API gave out with the previous page), answered as
//! `{"items": [...], "next_cursor": ...}`.
//!
//! A cursor is `1.` followed by URL-safe base64 of JSON `[list, key]`: the version lets the
//! format change without misreading old cursors, and the list tag (which names the sort
//! order where a list has several) makes a cursor of another list or order a 400, never a
//! wrong page.

use crate::error::ApiError;
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde::{Serialize, de::DeserializeOwned};

/// The largest page any list serves.
pub(crate) const MAX_PAGE: i64 = 100;
/// The page size of a list that does not choose its own.
pub(crate) const DEFAULT_PAGE: i64 = 20;
const VERSION_PREFIX: &str = "1.";
/// What every cursor looks like: the version, then URL-safe base64 without padding.
pub(crate) const CURSOR_PATTERN: &str = "^1\\.[A-Za-z0-9_-]+$";

/// A page size from 1 to [`MAX_PAGE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PageSize(i64);

impl PageSize {
    /// The size asked for, or `default`; 422 naming `limit` outside 1 to [`MAX_PAGE`].
    pub(crate) fn parse(limit: Option<i64>, default: i64) -> Result<Self, ApiError> {
        let limit = limit.unwrap_or(default);
        if (1..=MAX_PAGE).contains(&limit) {
            Ok(PageSize(limit))
        } else {
            Err(ApiError::invalid_field("invalid_limit", "limit", format!("limit must be between 1 and {MAX_PAGE}")))
        }
    }

    /// The size asked for, or [`DEFAULT_PAGE`].
    pub(crate) fn or_default(limit: Option<i64>) -> Result<Self, ApiError> {
        Self::parse(limit, DEFAULT_PAGE)
    }

    pub(crate) fn get(self) -> i64 {
        self.0
    }

    /// How many rows to fetch: one more than the page, to tell whether another follows.
    pub(crate) fn fetch(self) -> i64 {
        self.0 + 1
    }
}

/// Encodes the sort key of a page's last row as a cursor of `list`.
pub(crate) fn encode_cursor<K: Serialize>(list: &str, key: &K) -> String {
    let json = serde_json::to_vec(&(list, key)).expect("a cursor key serializes");
    format!("{VERSION_PREFIX}{}", URL_SAFE_NO_PAD.encode(json))
}

/// Reads a cursor of `list`; 400 for anything else.
pub(crate) fn decode_cursor<K: DeserializeOwned>(list: &str, raw: &str) -> Result<K, ApiError> {
    let invalid = || ApiError::bad_request("invalid_cursor", "The cursor is not one this API gave out for this list");
    let encoded = raw.strip_prefix(VERSION_PREFIX).ok_or_else(invalid)?;
    let json = URL_SAFE_NO_PAD.decode(encoded).map_err(|_| invalid())?;
    let (tag, key): (String, K) = serde_json::from_slice(&json).map_err(|_| invalid())?;
    if tag == list { Ok(key) } else { Err(invalid()) }
}

/// Reads an optional `?cursor=` of `list`.
pub(crate) fn after<K: DeserializeOwned>(list: &str, raw: Option<&str>) -> Result<Option<K>, ApiError> {
    raw.map(|raw| decode_cursor(list, raw)).transpose()
}

/// One page of a list: at most the page size of rows, and the cursor of the next page.
#[derive(Debug)]
pub(crate) struct Page<T> {
    pub(crate) items: Vec<T>,
    pub(crate) next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Cuts `rows` (fetched with [`PageSize::fetch`]) to `size`; when a row was left over,
    /// the next cursor is `key` of the last row kept, as a cursor of `list`.
    pub(crate) fn cut<K: Serialize>(mut rows: Vec<T>, size: PageSize, list: &str, key: impl Fn(&T) -> K) -> Self {
        let size = usize::try_from(size.get()).unwrap_or(usize::MAX);
        let more = rows.len() > size;
        rows.truncate(size);
        let next_cursor = if more { rows.last().map(|last| encode_cursor(list, &key(last))) } else { None };
        Page { items: rows, next_cursor }
    }

    pub(crate) fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page { items: self.items.into_iter().map(f).collect(), next_cursor: self.next_cursor }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_size_is_1_to_100_with_a_default() {
        assert_eq!(PageSize::or_default(None).unwrap().get(), DEFAULT_PAGE);
        assert_eq!(PageSize::parse(None, 50).unwrap().get(), 50);
        assert_eq!(PageSize::or_default(Some(100)).unwrap().fetch(), 101);
        for bad in [0, -1, 101] {
            assert!(PageSize::or_default(Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_cursor_round_trips_only_in_its_own_list() {
        let key = ("2026-12-24T10:00:00Z".to_string(), "TRP-7K3M9Q".to_string());
        let raw = encode_cursor("bookings", &key);
        assert!(raw.starts_with("1."));
        assert_eq!(decode_cursor::<(String, String)>("bookings", &raw).unwrap(), key);
        assert!(decode_cursor::<(String, String)>("partner-bookings", &raw).is_err());
        assert!(decode_cursor::<(i64, String)>("bookings", &raw).is_err());
        assert!(decode_cursor::<(String, String)>("bookings", "not a cursor").is_err());
        assert!(decode_cursor::<(String, String)>("bookings", &raw[2..]).is_err());
    }

    #[test]
    fn a_cut_page_names_its_last_row_only_when_more_follow() {
        let size = PageSize::or_default(Some(2)).unwrap();
        let page = Page::cut(vec![1, 2, 3], size, "n", |n| *n);
        assert_eq!(page.items, vec![1, 2]);
        assert_eq!(decode_cursor::<i32>("n", page.next_cursor.as_deref().unwrap()).unwrap(), 2);
        let last = Page::cut(vec![1, 2], size, "n", |n| *n);
        assert_eq!(last.next_cursor, None);
    }
}
